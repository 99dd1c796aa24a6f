/*
 * Sim indicators: the LEDs and the buzzer as values in memory, which tests
 * and the technician's sim page read back. Every change is logged at debug.
 */
#ifndef HAL_SIM_INDICATOR_MEM_H
#define HAL_SIM_INDICATOR_MEM_H

#include "hal/indicator.h"

struct sim_indicator {
	struct hal_indicator dev; /* hand &dev to the firmware */
	/* private */
	_Atomic int modes[HAL_IND_COUNT];
};

/* Set up with every output OFF. */
void sim_indicator_init(struct sim_indicator *si);

/*
 * Back-door: the mode an output was last set to.
 * @retval 0 and *mode filled, -EINVAL not a sim indicator or id out of range
 */
int sim_indicator_get(struct hal_indicator *ind, enum hal_indicator_id id,
		      enum hal_indicator_mode *mode);

#endif /* HAL_SIM_INDICATOR_MEM_H */
