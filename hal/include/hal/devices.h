/*
 * The devices of a board by role. The board fills this at start; apps and
 * firmware services receive it and never learn which board they run on.
 * A member is NULL when the board has no such device.
 */
#ifndef HAL_DEVICES_H
#define HAL_DEVICES_H

#include <stdint.h>

#include "hal/board_info.h"
#include "hal/clock.h"
#include "hal/indicator.h"
#include "hal/link.h"
#include "hal/paths.h"
#include "hal/printer.h"
#include "hal/serial.h"
#include "hal/watchdog.h"

/* Static IPv4 settings of the uplink (the city is addressed by IP). */
struct hal_uplink_addr {
	uint32_t ip; /* host byte order */
	uint32_t netmask;
	uint32_t gateway;
};

struct hal_devices {
	struct hal_board_info info;
	struct hal_paths paths;
	struct hal_clock *clock;
	struct hal_watchdog *watchdog;
	struct hal_link *uplink;
	struct hal_uplink_addr uplink_addr; /* the board's default */
	struct hal_printer *printer;
	struct hal_serial *display_bus; /* RS-485 to the window boards */
	struct hal_indicator *indicators;
};

#endif /* HAL_DEVICES_H */
