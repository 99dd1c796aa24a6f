/*
 * Sim software watchdog: a thread that, once armed, expects a kick within
 * the timeout. When none comes it logs an error naming what happened and
 * ends the process with SIM_WATCHDOG_EXIT_CODE through _exit() — no
 * clean-up, like a board reset. Back-doors let a test observe the expiry
 * instead of dying and use millisecond timeouts.
 */
#ifndef HAL_SIM_WATCHDOG_SOFT_H
#define HAL_SIM_WATCHDOG_SOFT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "hal/watchdog.h"

/* Exit status of a process the sim watchdog ended ("reset"): EXIT_WATCHDOG. */
#define SIM_WATCHDOG_EXIT_CODE 4

/* Called from the watchdog thread on expiry, instead of ending the process. */
typedef void (*sim_watchdog_expire_fn)(void *ctx);

struct sim_watchdog {
	struct hal_watchdog dev; /* hand &dev to the firmware */
	/* private */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	bool thread_up;
	bool quit;
	bool armed;
	int64_t timeout_ms;
	int64_t deadline_ms; /* CLOCK_MONOTONIC */
	sim_watchdog_expire_fn on_expire;
	void *ctx;
};

/*
 * Set up a disarmed watchdog; the thread starts with the first start().
 * @retval 0, -ENOMEM (condition variable could not be made)
 */
int sim_watchdog_init(struct sim_watchdog *sw);

/* Disarm, join the thread and release. */
void sim_watchdog_deinit(struct sim_watchdog *sw);

/*
 * Back-door: on expiry call fn(ctx) from the watchdog thread instead of
 * ending the process; the watchdog is disarmed first, so fn runs once per
 * arming. fn must not call stop() or deinit(). NULL restores the reset.
 * @retval 0, -EINVAL w is not a sim watchdog
 */
int sim_watchdog_set_action(struct hal_watchdog *w, sim_watchdog_expire_fn fn, void *ctx);

/*
 * Back-door: arm with a timeout in milliseconds (1..3600000) so tests can
 * expire it quickly. Same as start() otherwise.
 * @retval 0, -EINVAL, -EIO the thread could not be started
 */
int sim_watchdog_start_ms(struct hal_watchdog *w, int timeout_ms);

#endif /* HAL_SIM_WATCHDOG_SOFT_H */
