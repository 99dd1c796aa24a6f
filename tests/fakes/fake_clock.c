/* Fake clock: time is a pair of numbers the test sets and advances. */
#include <stdlib.h>

#include "fake_clock.h"

struct fake_time {
	int64_t wall;
	int64_t mono;
};

static struct fake_time fake_times[8];
static unsigned fake_used;

static int64_t fake_wall(struct hal_clock *c)
{
	return ((struct fake_time *)c->priv)->wall;
}

static int64_t fake_mono(struct hal_clock *c)
{
	return ((struct fake_time *)c->priv)->mono;
}

static const struct hal_clock_ops fake_ops = {
	.wall_ms = fake_wall,
	.mono_ms = fake_mono,
};

void fake_clock_init(struct hal_clock *c, int64_t wall_ms, int64_t mono_ms)
{
	struct fake_time *t;

	if (c->ops != &fake_ops) {
		if (fake_used == sizeof(fake_times) / sizeof(fake_times[0])) {
			abort();
		}
		c->priv = &fake_times[fake_used++];
		c->ops = &fake_ops;
	}
	t = c->priv;
	t->wall = wall_ms;
	t->mono = mono_ms;
}

void fake_clock_advance(struct hal_clock *c, int64_t ms)
{
	struct fake_time *t = c->priv;

	t->wall += ms;
	t->mono += ms;
}

void fake_clock_set_wall(struct hal_clock *c, int64_t wall_ms)
{
	((struct fake_time *)c->priv)->wall = wall_ms;
}
