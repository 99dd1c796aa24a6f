/*
 * Hardware watchdog through the Linux watchdog device (/dev/watchdog).
 * Opening the device arms it; every kick writes LINUX_WATCHDOG_KEEPALIVE;
 * stop() writes 'V' and closes (magic close), which disarms it unless the
 * kernel was built with CONFIG_WATCHDOG_NOWAYOUT.
 */
#ifndef HAL_LINUX_WATCHDOG_DEV_H
#define HAL_LINUX_WATCHDOG_DEV_H

#include <limits.h>

#include "hal/watchdog.h"

/* The byte written as a keep-alive (anything but the magic 'V'). */
#define LINUX_WATCHDOG_KEEPALIVE 'k'

struct linux_watchdog {
	struct hal_watchdog dev; /* hand &dev to the firmware */
	/* private */
	int fd;
	char path[PATH_MAX];
};

/*
 * Set up the watchdog at path; nothing is opened (armed) until start().
 * A device without WDIOC_SETTIMEOUT (a FIFO in tests) is accepted with a
 * log line and keeps its own timeout.
 * @retval 0, -EINVAL path NULL, empty or too long
 */
int linux_watchdog_init(struct linux_watchdog *lw, const char *path);

#endif /* HAL_LINUX_WATCHDOG_DEV_H */
