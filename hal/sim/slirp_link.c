/*
 * Sim uplink wire on libslirp. Slirp is not thread-safe, so one thread owns
 * it: the slirp thread polls slirp's host sockets, runs slirp's timers, and
 * is the only caller of slirp_input(). lwIP (any thread holding its core
 * lock) hands outgoing frames to a bounded queue and wakes the thread
 * through an eventfd; frames slirp emits are delivered to the rx callback
 * from the slirp thread. The test controls are atomics read by that thread
 * at each frame, so they work from any thread without locks. Delay is a
 * due time per queued frame; a cut bumps a generation counter so frames in
 * flight when the wire was cut are lost like the rest.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <libslirp.h>

#include "fw/log.h"
#include "hal_sim/wire.h"

#define MOD	     "sim-wire"
#define MAX_POLLFDS  256
#define MAX_TIMERS   4
#define IDLE_POLL_MS 1000

struct frame {
	int64_t due_ns;
	uint32_t gen; /* cut generation when queued */
	uint16_t len;
	uint8_t data[HAL_LINK_FRAME_MAX];
};

struct ring {
	unsigned int head; /* next to take */
	unsigned int count;
	struct frame f[SIM_WIRE_QUEUE_LEN];
};

struct wire_timer {
	bool used;
	bool armed;
	int64_t expire_ms;
	SlirpTimerId id;
	void *cb_opaque;
};

struct wire {
	/* Controls and counters: any thread. */
	atomic_bool cut;
	atomic_uint cut_gen;
	atomic_uint drop_pm;
	atomic_uint delay_ms;
	atomic_uint_fast64_t n_to_host;
	atomic_uint_fast64_t n_to_app;
	atomic_uint_fast64_t n_dropped;

	/* Start/stop (caller's thread). */
	atomic_bool running;
	pthread_t thread;
	int wake_fd;

	/* Appliance to host: lwIP produces, the slirp thread consumes. */
	pthread_mutex_t tx_lock;
	struct ring tx;

	/* Slirp thread only. */
	Slirp *slirp;
	hal_link_rx_fn rx;
	void *rx_ctx;
	atomic_bool stopping;
	struct ring rxq; /* host to appliance, held for the delay */
	struct pollfd fds[MAX_POLLFDS];
	unsigned int nfds;
	struct wire_timer timers[MAX_TIMERS];
	uint64_t rng;
};

static const struct hal_link_ops wire_ops;
static const uint8_t appliance_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static struct wire *to_wire(struct hal_link *l)
{
	if (l == NULL || l->ops != &wire_ops || l->priv == NULL) {
		return NULL;
	}
	return l->priv;
}

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void wake(struct wire *w)
{
	uint64_t one = 1;

	/* A full counter already means "wake up"; nothing else can fail here. */
	if (write(w->wake_fd, &one, sizeof(one)) < 0) {
		return;
	}
}

/* xorshift64*: the drop decisions, slirp thread only. */
static bool drop_now(struct wire *w)
{
	unsigned int pm = atomic_load(&w->drop_pm);

	if (pm == 0) {
		return false;
	}
	w->rng ^= w->rng >> 12;
	w->rng ^= w->rng << 25;
	w->rng ^= w->rng >> 27;
	return (w->rng * 0x2545f4914f6cdd1dull >> 33) % 1000 < pm;
}

static void count_drop(struct wire *w)
{
	atomic_fetch_add(&w->n_dropped, 1);
}

static struct frame *ring_push(struct ring *r, const uint8_t *data, size_t len, int64_t delay_ns,
			       uint32_t gen)
{
	struct frame *f;
	int64_t due = mono_ns() + delay_ns;

	if (r->count == SIM_WIRE_QUEUE_LEN) {
		return NULL;
	}
	if (r->count > 0) {
		struct frame *last = &r->f[(r->head + r->count - 1) % SIM_WIRE_QUEUE_LEN];

		/* Keep frames in order when the delay is lowered. */
		if (due < last->due_ns) {
			due = last->due_ns;
		}
	}
	f = &r->f[(r->head + r->count) % SIM_WIRE_QUEUE_LEN];
	f->due_ns = due;
	f->gen = gen;
	f->len = (uint16_t)len;
	memcpy(f->data, data, len);
	r->count++;
	return f;
}

/* The oldest frame if it is due, else NULL (and *next_ns its due time). */
static struct frame *ring_due(struct ring *r, int64_t now, int64_t *next_ns)
{
	struct frame *f;

	if (r->count == 0) {
		return NULL;
	}
	f = &r->f[r->head];
	if (f->due_ns > now) {
		if (*next_ns < 0 || f->due_ns < *next_ns) {
			*next_ns = f->due_ns;
		}
		return NULL;
	}
	return f;
}

static void ring_pop(struct ring *r)
{
	r->head = (r->head + 1) % SIM_WIRE_QUEUE_LEN;
	r->count--;
}

/* ---- slirp callbacks (all on the slirp thread) ---- */

static void deliver_to_app(struct wire *w, const uint8_t *data, size_t len)
{
	atomic_fetch_add(&w->n_to_app, 1);
	w->rx(w->rx_ctx, data, len);
}

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
	struct wire *w = opaque;
	unsigned int delay = atomic_load(&w->delay_ms);

	if (len > HAL_LINK_FRAME_MAX || atomic_load(&w->cut) || drop_now(w)) {
		count_drop(w);
		return (ssize_t)len;
	}
	if (delay == 0 && w->rxq.count == 0) {
		deliver_to_app(w, buf, len);
	} else if (ring_push(&w->rxq, buf, len, (int64_t)delay * 1000000,
			     atomic_load(&w->cut_gen)) == NULL) {
		count_drop(w);
	}
	return (ssize_t)len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
	log_warn(MOD, "slirp: %s", msg);
}

static int64_t cb_clock_get_ns(void *opaque)
{
	return mono_ns();
}

static void *cb_timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
	struct wire *w = opaque;

	for (int i = 0; i < MAX_TIMERS; i++) {
		if (!w->timers[i].used) {
			w->timers[i] = (struct wire_timer){ .used = true,
							    .id = id,
							    .cb_opaque = cb_opaque };
			return &w->timers[i];
		}
	}
	log_err(MOD, "slirp asked for more than %d timers", MAX_TIMERS);
	return NULL;
}

static void cb_timer_free(void *timer, void *opaque)
{
	struct wire_timer *t = timer;

	if (t != NULL) {
		t->used = false;
		t->armed = false;
	}
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	struct wire_timer *t = timer;

	if (t != NULL) {
		t->expire_ms = expire_ms;
		t->armed = true;
	}
}

static void cb_register_poll_fd(int fd, void *opaque)
{
	/* The poll set is rebuilt from slirp_pollfds_fill() on every turn. */
}

static void cb_unregister_poll_fd(int fd, void *opaque)
{
}

static void cb_notify(void *opaque)
{
	wake(opaque);
}

static const SlirpCb slirp_cbs = {
	.send_packet = cb_send_packet,
	.guest_error = cb_guest_error,
	.clock_get_ns = cb_clock_get_ns,
	.timer_free = cb_timer_free,
	.timer_mod = cb_timer_mod,
	.register_poll_fd = cb_register_poll_fd,
	.unregister_poll_fd = cb_unregister_poll_fd,
	.notify = cb_notify,
	.timer_new_opaque = cb_timer_new_opaque,
};

static int cb_add_poll(int fd, int events, void *opaque)
{
	struct wire *w = opaque;
	short ev = 0;

	if (w->nfds == MAX_POLLFDS) {
		return -1; /* slirp then skips this socket for one turn */
	}
	ev |= (events & SLIRP_POLL_IN) ? POLLIN : 0;
	ev |= (events & SLIRP_POLL_OUT) ? POLLOUT : 0;
	ev |= (events & SLIRP_POLL_PRI) ? POLLPRI : 0;
	w->fds[w->nfds] = (struct pollfd){ .fd = fd, .events = ev };
	return (int)w->nfds++;
}

static int cb_get_revents(int idx, void *opaque)
{
	struct wire *w = opaque;
	short rev;
	int out = 0;

	if (idx < 1 || (unsigned int)idx >= w->nfds) {
		return 0;
	}
	rev = w->fds[idx].revents;
	out |= (rev & POLLIN) ? SLIRP_POLL_IN : 0;
	out |= (rev & POLLOUT) ? SLIRP_POLL_OUT : 0;
	out |= (rev & POLLPRI) ? SLIRP_POLL_PRI : 0;
	out |= (rev & POLLERR) ? SLIRP_POLL_ERR : 0;
	out |= (rev & POLLHUP) ? SLIRP_POLL_HUP : 0;
	return out;
}

/* ---- the slirp thread ---- */

static void run_timers(struct wire *w, int64_t now_ms, int64_t *next_ms)
{
	for (int i = 0; i < MAX_TIMERS; i++) {
		struct wire_timer *t = &w->timers[i];

		if (!t->used || !t->armed) {
			continue;
		}
		if (t->expire_ms <= now_ms) {
			t->armed = false;
			slirp_handle_timer(w->slirp, t->id, t->cb_opaque);
		} else if (*next_ms < 0 || t->expire_ms < *next_ms) {
			*next_ms = t->expire_ms;
		}
	}
}

/* Move due frames along both directions; returns the next due time or -1. */
static int64_t move_frames(struct wire *w)
{
	uint8_t buf[HAL_LINK_FRAME_MAX];
	int64_t next = -1;
	struct frame *f;
	size_t len;
	bool lost;

	for (;;) {
		pthread_mutex_lock(&w->tx_lock);
		f = ring_due(&w->tx, mono_ns(), &next);
		if (f == NULL) {
			pthread_mutex_unlock(&w->tx_lock);
			break;
		}
		len = f->len;
		memcpy(buf, f->data, len);
		lost = f->gen != atomic_load(&w->cut_gen);
		ring_pop(&w->tx);
		pthread_mutex_unlock(&w->tx_lock);

		if (lost || atomic_load(&w->cut) || drop_now(w)) {
			count_drop(w);
			continue;
		}
		atomic_fetch_add(&w->n_to_host, 1);
		slirp_input(w->slirp, buf, (int)len);
	}
	while ((f = ring_due(&w->rxq, mono_ns(), &next)) != NULL) {
		if (f->gen != atomic_load(&w->cut_gen) || atomic_load(&w->cut)) {
			count_drop(w);
		} else {
			deliver_to_app(w, f->data, f->len);
		}
		ring_pop(&w->rxq);
	}
	return next;
}

static void *wire_thread(void *arg)
{
	struct wire *w = arg;
	int64_t next_ns;
	int64_t next_ms;
	int64_t now;
	uint32_t timeout;
	uint64_t cnt;
	int n;

	while (!atomic_load(&w->stopping)) {
		next_ns = move_frames(w);
		now = mono_ns();
		next_ms = -1;
		run_timers(w, now / 1000000, &next_ms);

		timeout = IDLE_POLL_MS;
		if (next_ns >= 0) {
			int64_t ms = (next_ns - now + 999999) / 1000000;

			timeout = ms < (int64_t)timeout ? (uint32_t)(ms > 0 ? ms : 0) : timeout;
		}
		if (next_ms >= 0) {
			int64_t ms = next_ms - now / 1000000;

			timeout = ms < (int64_t)timeout ? (uint32_t)(ms > 0 ? ms : 0) : timeout;
		}
		w->fds[0] = (struct pollfd){ .fd = w->wake_fd, .events = POLLIN };
		w->nfds = 1;
		slirp_pollfds_fill(w->slirp, &timeout, cb_add_poll, w);
		n = poll(w->fds, w->nfds, (int)timeout);
		if (n < 0 && errno != EINTR) {
			log_err(MOD, "poll failed: %s", strerror(errno));
		}
		if (n > 0 && (w->fds[0].revents & POLLIN)) {
			if (read(w->wake_fd, &cnt, sizeof(cnt)) < 0) {
				/* EAGAIN: someone else drained it; nothing to do. */
			}
		}
		slirp_pollfds_poll(w->slirp, n < 0, cb_get_revents, w);
	}
	return NULL;
}

/* ---- hal_link ops ---- */

static int wire_start(struct hal_link *l, hal_link_rx_fn rx, void *ctx)
{
	struct wire *w = to_wire(l);
	SlirpConfig cfg = {
		.version = 4,
		.in_enabled = true,
		.vnetwork.s_addr = htonl(SIM_WIRE_APPLIANCE_IP & SIM_WIRE_NETMASK),
		.vnetmask.s_addr = htonl(SIM_WIRE_NETMASK),
		.vhost.s_addr = htonl(SIM_WIRE_GATEWAY_IP),
		.vdhcp_start.s_addr = htonl(SIM_WIRE_APPLIANCE_IP),
		.vnameserver.s_addr = htonl((SIM_WIRE_APPLIANCE_IP & SIM_WIRE_NETMASK) | 3),
		.if_mtu = HAL_LINK_MTU,
		.if_mru = HAL_LINK_MTU,
		.disable_dns = true,
		.disable_dhcp = true,
	};
	sigset_t all;
	sigset_t old;
	int ret;

	if (w == NULL || rx == NULL) {
		return -EINVAL;
	}
	if (atomic_load(&w->running)) {
		return -EALREADY;
	}
	w->rx = rx;
	w->rx_ctx = ctx;
	pthread_mutex_lock(&w->tx_lock);
	w->tx.count = 0;
	pthread_mutex_unlock(&w->tx_lock);
	w->rxq.count = 0;
	memset(w->timers, 0, sizeof(w->timers));
	atomic_store(&w->stopping, false);
	w->slirp = slirp_new(&cfg, &slirp_cbs, w);
	if (w->slirp == NULL) {
		log_err(MOD, "slirp did not start");
		return -EIO;
	}
	/* The thread takes no signals: they belong to the main loop. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	ret = pthread_create(&w->thread, NULL, wire_thread, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret != 0) {
		slirp_cleanup(w->slirp);
		w->slirp = NULL;
		return -ret;
	}
	atomic_store(&w->running, true);
	return 0;
}

static int wire_send(struct hal_link *l, const uint8_t *frame, size_t len)
{
	struct wire *w = to_wire(l);
	struct frame *f;
	bool was_empty;

	if (w == NULL || frame == NULL) {
		return -EINVAL;
	}
	if (len > HAL_LINK_FRAME_MAX) {
		return -EMSGSIZE;
	}
	if (!atomic_load(&w->running) || atomic_load(&w->cut)) {
		count_drop(w);
		return 0;
	}
	pthread_mutex_lock(&w->tx_lock);
	was_empty = w->tx.count == 0;
	f = ring_push(&w->tx, frame, len, (int64_t)atomic_load(&w->delay_ms) * 1000000,
		      atomic_load(&w->cut_gen));
	pthread_mutex_unlock(&w->tx_lock);
	if (f == NULL) {
		count_drop(w);
	} else if (was_empty) {
		wake(w);
	}
	return 0;
}

static bool wire_is_up(struct hal_link *l)
{
	struct wire *w = to_wire(l);

	return w != NULL && atomic_load(&w->running) && !atomic_load(&w->cut);
}

static void wire_mac(struct hal_link *l, uint8_t mac[6])
{
	memcpy(mac, appliance_mac, sizeof(appliance_mac));
}

static void wire_stop(struct hal_link *l)
{
	struct wire *w = to_wire(l);

	if (w == NULL || !atomic_load(&w->running)) {
		return;
	}
	atomic_store(&w->running, false);
	atomic_store(&w->stopping, true);
	wake(w);
	pthread_join(w->thread, NULL);
	slirp_cleanup(w->slirp);
	w->slirp = NULL;
	pthread_mutex_lock(&w->tx_lock);
	w->tx.count = 0;
	pthread_mutex_unlock(&w->tx_lock);
}

static const struct hal_link_ops wire_ops = {
	.start = wire_start,
	.send = wire_send,
	.is_up = wire_is_up,
	.mac = wire_mac,
	.stop = wire_stop,
};

/* ---- construction and test controls ---- */

int sim_wire_create(struct hal_link *out)
{
	struct wire *w;

	if (out == NULL) {
		return -EINVAL;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		return -ENOMEM;
	}
	w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->wake_fd < 0) {
		free(w);
		return -ENOMEM;
	}
	pthread_mutex_init(&w->tx_lock, NULL);
	w->rng = 0x9e3779b97f4a7c15ull; /* fixed: a run's drop pattern repeats */
	out->ops = &wire_ops;
	out->priv = w;
	return 0;
}

void sim_wire_destroy(struct hal_link *l)
{
	struct wire *w = to_wire(l);

	if (w == NULL) {
		return;
	}
	wire_stop(l);
	close(w->wake_fd);
	pthread_mutex_destroy(&w->tx_lock);
	free(w);
	l->ops = NULL;
	l->priv = NULL;
}

int sim_wire_set_cut(struct hal_link *l, bool cut)
{
	struct wire *w = to_wire(l);

	if (w == NULL) {
		return -EINVAL;
	}
	if (cut) {
		atomic_fetch_add(&w->cut_gen, 1);
	}
	if (atomic_exchange(&w->cut, cut) != cut) {
		log_info(MOD, "wire %s", cut ? "cut" : "restored");
	}
	return 0;
}

int sim_wire_set_drop(struct hal_link *l, unsigned int per_mille)
{
	struct wire *w = to_wire(l);

	if (w == NULL || per_mille > SIM_WIRE_DROP_MAX) {
		return -EINVAL;
	}
	atomic_store(&w->drop_pm, per_mille);
	return 0;
}

int sim_wire_set_delay(struct hal_link *l, unsigned int delay_ms)
{
	struct wire *w = to_wire(l);

	if (w == NULL || delay_ms > SIM_WIRE_DELAY_MAX_MS) {
		return -EINVAL;
	}
	atomic_store(&w->delay_ms, delay_ms);
	return 0;
}

int sim_wire_get_stats(struct hal_link *l, struct sim_wire_stats *st)
{
	struct wire *w = to_wire(l);

	if (w == NULL || st == NULL) {
		return -EINVAL;
	}
	st->to_host = atomic_load(&w->n_to_host);
	st->to_appliance = atomic_load(&w->n_to_app);
	st->dropped = atomic_load(&w->n_dropped);
	return 0;
}
