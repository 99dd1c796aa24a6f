/*
 * Sim software watchdog. One thread sleeps on a condition variable until
 * the deadline (CLOCK_MONOTONIC, so a wall-clock change neither fires nor
 * delays it); a kick only moves the deadline, and the thread re-checks it
 * when it wakes. On expiry it does what a hardware watchdog does to a
 * board — ends everything at once with _exit(SIM_WATCHDOG_EXIT_CODE), no
 * atexit handlers, no flushing — unless a test installed an action.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fw/exitcodes.h"
#include "fw/log.h"
#include "hal_common/fd_io.h"
#include "hal_sim/watchdog_soft.h"

#define MOD "sim-watchdog"

_Static_assert(SIM_WATCHDOG_EXIT_CODE == EXIT_WATCHDOG,
	       "the sim reset must use the documented exit code");

static const struct hal_watchdog_ops sim_watchdog_ops;

static struct sim_watchdog *to_sw(struct hal_watchdog *w)
{
	if (w == NULL || w->ops != &sim_watchdog_ops) {
		return NULL;
	}
	return w->priv;
}

static void *watch(void *arg)
{
	struct sim_watchdog *sw = arg;
	sim_watchdog_expire_fn fn;
	struct timespec ts;
	int64_t timeout;
	void *ctx;

	pthread_mutex_lock(&sw->lock);
	while (!sw->quit) {
		if (!sw->armed) {
			pthread_cond_wait(&sw->cond, &sw->lock);
			continue;
		}
		if (fdio_now_ms() < sw->deadline_ms) {
			ts.tv_sec = (time_t)(sw->deadline_ms / 1000);
			ts.tv_nsec = (long)(sw->deadline_ms % 1000) * 1000000L;
			pthread_cond_timedwait(&sw->cond, &sw->lock, &ts);
			continue;
		}
		sw->armed = false;
		fn = sw->on_expire;
		ctx = sw->ctx;
		timeout = sw->timeout_ms;
		pthread_mutex_unlock(&sw->lock);
		if (fn == NULL) {
			log_err(MOD,
				"watchdog expired: the firmware did not kick it for %lld ms (main "
				"loop "
				"hung); resetting: the process ends with exit code %d",
				(long long)timeout, SIM_WATCHDOG_EXIT_CODE);
			_exit(SIM_WATCHDOG_EXIT_CODE);
		}
		log_err(MOD,
			"watchdog expired: not kicked for %lld ms (test action instead of reset)",
			(long long)timeout);
		fn(ctx);
		pthread_mutex_lock(&sw->lock);
	}
	pthread_mutex_unlock(&sw->lock);
	return NULL;
}

static int arm(struct sim_watchdog *sw, int64_t timeout_ms)
{
	int ret = 0;
	int err;

	pthread_mutex_lock(&sw->lock);
	if (!sw->thread_up) {
		sw->quit = false;
		err = pthread_create(&sw->thread, NULL, watch, sw);
		if (err != 0) {
			log_err(MOD, "cannot start the watchdog thread: %s", strerror(err));
			ret = -EIO;
			goto out_unlock;
		}
		sw->thread_up = true;
	}
	sw->timeout_ms = timeout_ms;
	sw->deadline_ms = fdio_now_ms() + timeout_ms;
	sw->armed = true;
	pthread_cond_signal(&sw->cond);
	log_info(MOD, "armed, timeout %lld ms", (long long)timeout_ms);
out_unlock:
	pthread_mutex_unlock(&sw->lock);
	return ret;
}

static int sim_start(struct hal_watchdog *w, int timeout_s)
{
	struct sim_watchdog *sw = to_sw(w);

	if (sw == NULL || timeout_s < 1 || timeout_s > HAL_WATCHDOG_TIMEOUT_MAX_S) {
		return -EINVAL;
	}
	return arm(sw, (int64_t)timeout_s * 1000);
}

static int sim_kick(struct hal_watchdog *w)
{
	struct sim_watchdog *sw = to_sw(w);
	int ret = 0;

	if (sw == NULL) {
		return -EINVAL;
	}
	pthread_mutex_lock(&sw->lock);
	if (sw->armed) {
		sw->deadline_ms = fdio_now_ms() + sw->timeout_ms;
	} else {
		ret = -EBADF;
	}
	pthread_mutex_unlock(&sw->lock);
	return ret;
}

static void sim_stop(struct hal_watchdog *w)
{
	struct sim_watchdog *sw = to_sw(w);
	bool join;

	if (sw == NULL) {
		return;
	}
	pthread_mutex_lock(&sw->lock);
	if (sw->armed) {
		log_info(MOD, "disarmed");
	}
	sw->armed = false;
	/* From the expiry action itself only disarm: a thread cannot join itself. */
	join = sw->thread_up && !pthread_equal(sw->thread, pthread_self());
	if (join) {
		sw->quit = true;
		pthread_cond_signal(&sw->cond);
	}
	pthread_mutex_unlock(&sw->lock);
	if (join) {
		pthread_join(sw->thread, NULL);
		pthread_mutex_lock(&sw->lock);
		sw->thread_up = false;
		sw->quit = false;
		pthread_mutex_unlock(&sw->lock);
	}
}

static const struct hal_watchdog_ops sim_watchdog_ops = {
	.start = sim_start,
	.kick = sim_kick,
	.stop = sim_stop,
};

int sim_watchdog_init(struct sim_watchdog *sw)
{
	pthread_condattr_t attr;
	int ret = -ENOMEM;

	if (sw == NULL) {
		return -EINVAL;
	}
	memset(sw, 0, sizeof(*sw));
	if (pthread_condattr_init(&attr) != 0) {
		return -ENOMEM;
	}
	if (pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&sw->cond, &attr) != 0) {
		goto out_attr;
	}
	pthread_mutex_init(&sw->lock, NULL);
	sw->dev.ops = &sim_watchdog_ops;
	sw->dev.priv = sw;
	ret = 0;
out_attr:
	pthread_condattr_destroy(&attr);
	return ret;
}

void sim_watchdog_deinit(struct sim_watchdog *sw)
{
	if (sw == NULL || sw->dev.ops != &sim_watchdog_ops) {
		return;
	}
	sim_stop(&sw->dev);
	pthread_cond_destroy(&sw->cond);
	pthread_mutex_destroy(&sw->lock);
	sw->dev.ops = NULL;
}

int sim_watchdog_set_action(struct hal_watchdog *w, sim_watchdog_expire_fn fn, void *ctx)
{
	struct sim_watchdog *sw = to_sw(w);

	if (sw == NULL) {
		return -EINVAL;
	}
	pthread_mutex_lock(&sw->lock);
	sw->on_expire = fn;
	sw->ctx = ctx;
	pthread_mutex_unlock(&sw->lock);
	return 0;
}

int sim_watchdog_start_ms(struct hal_watchdog *w, int timeout_ms)
{
	struct sim_watchdog *sw = to_sw(w);

	if (sw == NULL || timeout_ms < 1 || timeout_ms > HAL_WATCHDOG_TIMEOUT_MAX_S * 1000) {
		return -EINVAL;
	}
	return arm(sw, timeout_ms);
}
