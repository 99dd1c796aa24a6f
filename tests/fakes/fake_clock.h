/* A clock that moves only when the test moves it. */
#ifndef FAKES_FAKE_CLOCK_H
#define FAKES_FAKE_CLOCK_H

#include <stdint.h>

#include "hal/clock.h"

struct fake_clock {
	struct hal_clock clock; /* hand &fc.clock to the code under test */
	int64_t wall_ms;
	int64_t mono_ms;
};

/* Start both clocks at the given values. */
void fake_clock_init(struct fake_clock *fc, int64_t wall_ms, int64_t mono_ms);
/* Move both clocks of a fake clock forward. */
void fake_clock_advance(struct hal_clock *c, int64_t ms);
/* Set the wall clock alone (a correction); monotonic is unaffected. */
void fake_clock_set_wall(struct hal_clock *c, int64_t wall_ms);

#endif /* FAKES_FAKE_CLOCK_H */
