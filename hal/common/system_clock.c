/*
 * The operating system's clocks behind struct hal_clock. Wall time is
 * CLOCK_REALTIME (what a person reads and the city compares); monotonic
 * time is CLOCK_MONOTONIC, so timeouts survive clock corrections. Both are
 * read fresh on every call: there is no state, hence one static instance.
 */
#include <time.h>

#include "hal/clock.h"

static int64_t ts_ms(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts) != 0) {
		/* Cannot fail for these clock ids on Linux; fail visibly, not randomly. */
		return 0;
	}
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t system_wall_ms(struct hal_clock *c)
{
	return ts_ms(CLOCK_REALTIME);
}

static int64_t system_mono_ms(struct hal_clock *c)
{
	return ts_ms(CLOCK_MONOTONIC);
}

static const struct hal_clock_ops system_ops = {
	.wall_ms = system_wall_ms,
	.mono_ms = system_mono_ms,
};

struct hal_clock hal_clock_system = {
	.ops = &system_ops,
	.priv = NULL,
};
