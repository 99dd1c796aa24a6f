/*
 * ESC/POS receipt printer on Linux, reached either through a hal_serial
 * (a serial printer on a tty) or through a device path opened for each job
 * (a USB printer, /dev/usb/lp0). Status comes from the printer itself with
 * the real-time request DLE EOT n (0x10 0x04 n): n=1 printer status, n=2
 * off-line cause, n=4 paper roll sensor. A printer that does not answer in
 * time is OFFLINE, so a unidirectional printer never prints: only printers
 * that answer DLE EOT are supported.
 */
#ifndef HAL_LINUX_PRINTER_DEV_H
#define HAL_LINUX_PRINTER_DEV_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>

#include "hal/printer.h"
#include "hal/serial.h"

/* Defaults: wait for one status byte; wait for the printer to take 4 KiB. */
#define LINUX_PRINTER_STATUS_TIMEOUT_MS 500
#define LINUX_PRINTER_WRITE_TIMEOUT_MS	10000

struct linux_printer {
	struct hal_printer dev; /* hand &dev to the firmware */
	/* private */
	pthread_mutex_t lock;
	struct hal_serial *serial; /* NULL: use path */
	struct hal_serial_cfg cfg;
	bool serial_open;
	char path[PATH_MAX];
	int status_timeout_ms;
	int write_timeout_ms;
	int open_err; /* last failure to open, logged once until it changes */
};

/*
 * A printer on a serial port. The port is opened with cfg on first use and
 * reopened after an I/O error (a USB-serial adapter unplugged and back).
 * @retval 0, -EINVAL serial NULL or cfg invalid
 */
int linux_printer_init_serial(struct linux_printer *lp, struct hal_serial *serial,
			      const struct hal_serial_cfg *cfg);

/*
 * A printer on a character device opened read-write for each job and each
 * status request (so unplugging and replugging needs nothing). A tty given
 * here is put in raw mode at its current speed.
 * @retval 0, -EINVAL path NULL, empty or too long
 */
int linux_printer_init_path(struct linux_printer *lp, const char *path);

/* Close the serial port if this printer opened it. */
void linux_printer_deinit(struct linux_printer *lp);

/*
 * Change the timeouts: status_ms for each status byte (1..60000), write_ms
 * for the printer to take each 4 KiB of a job (1..600000).
 * @retval 0, -EINVAL
 */
int linux_printer_set_timeouts(struct linux_printer *lp, int status_ms, int write_ms);

#endif /* HAL_LINUX_PRINTER_DEV_H */
