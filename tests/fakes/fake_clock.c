/* Fake clock: time is a pair of numbers the test sets and advances. */
#include "fake_clock.h"

static int64_t fake_wall(struct hal_clock *c)
{
	return ((struct fake_clock *)c->priv)->wall_ms;
}

static int64_t fake_mono(struct hal_clock *c)
{
	return ((struct fake_clock *)c->priv)->mono_ms;
}

static const struct hal_clock_ops fake_ops = {
	.wall_ms = fake_wall,
	.mono_ms = fake_mono,
};

void fake_clock_init(struct fake_clock *fc, int64_t wall_ms, int64_t mono_ms)
{
	fc->clock.ops = &fake_ops;
	fc->clock.priv = fc;
	fc->wall_ms = wall_ms;
	fc->mono_ms = mono_ms;
}

void fake_clock_advance(struct hal_clock *c, int64_t ms)
{
	struct fake_clock *fc = c->priv;

	fc->wall_ms += ms;
	fc->mono_ms += ms;
}

void fake_clock_set_wall(struct hal_clock *c, int64_t wall_ms)
{
	((struct fake_clock *)c->priv)->wall_ms = wall_ms;
}
