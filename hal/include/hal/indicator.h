/*
 * Indicator outputs: status LEDs and the buzzer. Apps name them by role;
 * a board without one of them makes that call a no-op returning -ENODEV.
 */
#ifndef HAL_INDICATOR_H
#define HAL_INDICATOR_H

enum hal_indicator_id {
	HAL_IND_STATUS = 0, /* power / firmware health */
	HAL_IND_UPLINK,	    /* link to the city platform */
	HAL_IND_ALERT,	    /* needs a person: urging notice, printer fault */
	HAL_IND_BUZZER,
	HAL_IND_COUNT,
};

enum hal_indicator_mode {
	HAL_IND_OFF = 0,
	HAL_IND_ON,
	HAL_IND_BLINK_SLOW,
	HAL_IND_BLINK_FAST,
};

struct hal_indicator;

struct hal_indicator_ops {
	/* @retval 0 set, -ENODEV the board has no such output, -EINVAL bad mode, -EIO */
	int (*set)(struct hal_indicator *ind, enum hal_indicator_id id,
		   enum hal_indicator_mode mode);
};

struct hal_indicator {
	const struct hal_indicator_ops *ops;
	void *priv;
};

static inline int hal_indicator_set(struct hal_indicator *ind, enum hal_indicator_id id,
				    enum hal_indicator_mode mode)
{
	return ind->ops->set(ind, id, mode);
}

#endif /* HAL_INDICATOR_H */
