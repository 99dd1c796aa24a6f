/*
 * Validation of serial port settings, shared by every serial driver so a
 * setting the sim board accepts is one the real board accepts too. Baud
 * rates are the standard termios rates in the documented range; anything
 * else is refused rather than rounded.
 */
#include <errno.h>
#include <stddef.h>

#include "hal/serial.h"

static const int std_bauds[] = { 1200,	2400,	4800,	9600,	19200, 38400,
				 57600, 115200, 230400, 460800, 921600 };

int hal_serial_cfg_check(const struct hal_serial_cfg *cfg)
{
	bool baud_ok = false;

	if (cfg == NULL) {
		return -EINVAL;
	}
	for (size_t i = 0; i < sizeof(std_bauds) / sizeof(std_bauds[0]); i++) {
		if (cfg->baud == std_bauds[i]) {
			baud_ok = true;
		}
	}
	if (!baud_ok) {
		return -EINVAL;
	}
	if (cfg->parity != 'N' && cfg->parity != 'E' && cfg->parity != 'O') {
		return -EINVAL;
	}
	if (cfg->data_bits != 7 && cfg->data_bits != 8) {
		return -EINVAL;
	}
	if (cfg->stop_bits != 1 && cfg->stop_bits != 2) {
		return -EINVAL;
	}
	return 0;
}
