/*
 * Indicators on Linux LED class devices: <base>/<name>/brightness and
 * trigger, with the "timer" trigger and delay_on/delay_off for blinking.
 * The base is /sys/class/leds on a board; tests give a directory with the
 * same layout. A buzzer wired as a gpio-led is driven the same way.
 */
#ifndef HAL_LINUX_LEDS_SYSFS_H
#define HAL_LINUX_LEDS_SYSFS_H

#include <limits.h>

#include "hal/indicator.h"

#define LINUX_LEDS_NAME_MAX 64
/* Blink timings (ms on, ms off). */
#define LINUX_LEDS_SLOW_MS 500
#define LINUX_LEDS_FAST_MS 100

struct linux_leds {
	struct hal_indicator dev; /* hand &dev to the firmware */
	/* private */
	char base[PATH_MAX];
	char names[HAL_IND_COUNT][LINUX_LEDS_NAME_MAX]; /* "" when not fitted */
};

/*
 * Map each indicator role to an LED name under base_dir ("status:green");
 * names[id] NULL or "" means the board has no such output (set() returns
 * -ENODEV). Nothing is touched until set().
 * @retval 0, -EINVAL base_dir or a name unusable (empty, too long, has '/',
 *         "." or "..")
 */
int linux_leds_init(struct linux_leds *ll, const char *base_dir,
		    const char *const names[HAL_IND_COUNT]);

#endif /* HAL_LINUX_LEDS_SYSFS_H */
