/*
 * Serial port on a Linux tty (/dev/ttyS*, /dev/ttyUSB*, /dev/ttyAMA*),
 * configured raw with termios; RS-485 direction control through the
 * kernel's TIOCSRS485 where the UART driver has it.
 */
#ifndef HAL_LINUX_SERIAL_TERMIOS_H
#define HAL_LINUX_SERIAL_TERMIOS_H

#include <limits.h>

#include "hal/serial.h"

struct linux_serial {
	struct hal_serial dev; /* hand &dev to the firmware */
	/* private */
	int fd;
	char path[PATH_MAX];
};

/*
 * Set up a port on the tty at path; nothing is opened until open().
 * @retval 0, -EINVAL path NULL, empty or too long
 */
int linux_serial_init(struct linux_serial *ls, const char *path);

/* Close the port if open. */
void linux_serial_deinit(struct linux_serial *ls);

#endif /* HAL_LINUX_SERIAL_TERMIOS_H */
