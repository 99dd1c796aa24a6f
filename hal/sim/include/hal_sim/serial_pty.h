/*
 * Sim serial port on a pseudo-terminal pair. The firmware's side is the
 * pty master; the device side (the slave, /dev/pts/N) is the far end of
 * the wire: a simulated display board, a simulated printer or a
 * libmodbus RTU peer opens sim_serial_peer_path() like a real port. The
 * pair is made at init so the peer path is known before the firmware
 * opens its side, and stays the same until deinit.
 */
#ifndef HAL_SIM_SERIAL_PTY_H
#define HAL_SIM_SERIAL_PTY_H

#include <stdbool.h>

#include "hal/serial.h"

struct sim_serial {
	struct hal_serial dev; /* hand &dev to the firmware */
	/* private */
	int master_fd;
	int hold_fd; /* our own descriptor on the slave: no hang-up when a peer closes */
	bool open;
	char peer_path[64];
};

/*
 * Make the pty pair; the slave is put in raw mode (no echo, no line
 * editing) so bytes cross unchanged.
 * @retval 0, -EIO the system refused a pseudo-terminal (the log says why)
 */
int sim_serial_init(struct sim_serial *ss);

/* Close both sides; the peer path disappears. */
void sim_serial_deinit(struct sim_serial *ss);

/*
 * The path a peer opens to talk to the firmware (also what path() returns).
 * NULL when s is not a sim serial port.
 */
const char *sim_serial_peer_path(struct hal_serial *s);

#endif /* HAL_SIM_SERIAL_PTY_H */
