/*
 * Clock: wall time (for records a person reads and the city compares) and
 * monotonic time (for timeouts and timers, immune to clock corrections).
 * Tests use a fake whose time only moves when the test moves it.
 */
#ifndef HAL_CLOCK_H
#define HAL_CLOCK_H

#include <stdint.h>

struct hal_clock;

struct hal_clock_ops {
	/* Milliseconds since the Unix epoch. */
	int64_t (*wall_ms)(struct hal_clock *c);
	/* Milliseconds since an arbitrary start; never goes backwards. */
	int64_t (*mono_ms)(struct hal_clock *c);
};

struct hal_clock {
	const struct hal_clock_ops *ops;
	void *priv;
};

static inline int64_t hal_clock_wall_ms(struct hal_clock *c)
{
	return c->ops->wall_ms(c);
}

static inline int64_t hal_clock_mono_ms(struct hal_clock *c)
{
	return c->ops->mono_ms(c);
}

/* The operating system's clocks (CLOCK_REALTIME, CLOCK_MONOTONIC). */
extern struct hal_clock hal_clock_system;

#endif /* HAL_CLOCK_H */
