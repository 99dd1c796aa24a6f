/*
 * The host simulation board. Every device is real code on the host: the
 * uplink is a slirp wire (user-mode NAT; its gateway 10.0.2.2 reaches the
 * host's loopback, so a city platform on 127.0.0.1 is reachable without
 * root), the printer writes each job to a file in the spool directory, the
 * RS-485 bus is a pseudo-terminal a simulated display board can open, the
 * watchdog is a thread, and the LEDs are numbers in memory.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "board/board.h"
#include "board_config.h"
#include "fw/exitcodes.h"
#include "fw/log.h"
#include "hal_sim/indicator_mem.h"
#include "hal_sim/printer_file.h"
#include "hal_sim/serial_pty.h"
#include "hal_sim/watchdog_soft.h"
#include "hal_sim/wire.h"

#define MOD "board-sim"

static struct sim_printer printer;
static struct sim_watchdog watchdog;
static struct sim_serial display_bus;
static struct sim_indicator indicators;
static struct hal_link uplink;

/* Which devices are up, so a failed start undoes exactly what it did. */
enum { UP_PRINTER = 1, UP_WATCHDOG = 2, UP_SERIAL = 4, UP_WIRE = 8 };
static unsigned up;

static int make_dir(const char *path)
{
	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		int rc = -errno;

		log_err(MOD, "cannot create %s: %s", path, strerror(errno));
		return rc;
	}
	return 0;
}

static int sub_dir(char *out, const char *base, const char *name)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", base, name);

	if (n < 0 || n >= PATH_MAX) {
		return -ENAMETOOLONG;
	}
	return make_dir(out);
}

static void on_watchdog_expiry(void *ctx)
{
	log_err(MOD, "watchdog expired: the main loop stopped responding; "
		     "a real board would reset now");
	_exit(EXIT_WATCHDOG);
}

static void sim_deinit(struct hal_devices *devs)
{
	if (up & UP_WIRE) {
		sim_wire_destroy(&uplink);
	}
	if (up & UP_WATCHDOG) {
		sim_watchdog_deinit(&watchdog);
	}
	if (up & UP_SERIAL) {
		sim_serial_deinit(&display_bus);
	}
	if (up & UP_PRINTER) {
		sim_printer_deinit(&printer);
	}
	up = 0;
}

static int sim_init(const struct board_params *p, struct hal_devices *devs)
{
	const char *data = p->data_dir ? p->data_dir : SIM_DATA_DIR_DEFAULT;
	struct hal_paths *paths = &devs->paths;
	int rc;

	memset(devs, 0, sizeof(*devs));
	devs->info.name = "sim";
	devs->info.model = "host simulation board";
#if defined(__aarch64__)
	devs->info.arch = "arm64";
#elif defined(__x86_64__)
	devs->info.arch = "x86_64";
#else
	devs->info.arch = "unknown";
#endif
	snprintf(devs->info.serial, sizeof(devs->info.serial), "SIM-%ld", gethostid() & 0xffffffL);

	if (strlen(data) >= sizeof(paths->data_dir)) {
		return -ENAMETOOLONG;
	}
	rc = make_dir(data);
	if (rc < 0) {
		return rc;
	}
	if (!realpath(data, paths->data_dir)) {
		return -errno;
	}
	rc = sub_dir(paths->slot_dir, paths->data_dir, "slots");
	if (rc == 0) {
		rc = sub_dir(paths->spool_dir, paths->data_dir, "spool");
	}
	if (rc == 0) {
		rc = sub_dir(paths->usb_dir, paths->data_dir, "usb");
	}
	if (rc < 0) {
		return rc;
	}

	devs->clock = &hal_clock_system;

	rc = sim_printer_init(&printer, paths->spool_dir);
	if (rc < 0) {
		goto fail;
	}
	up |= UP_PRINTER;
	devs->printer = &printer.dev;

	rc = sim_watchdog_init(&watchdog);
	if (rc < 0) {
		goto fail;
	}
	up |= UP_WATCHDOG;
	sim_watchdog_set_action(&watchdog.dev, on_watchdog_expiry, NULL);
	devs->watchdog = &watchdog.dev;

	rc = sim_serial_init(&display_bus);
	if (rc < 0) {
		goto fail;
	}
	up |= UP_SERIAL;
	devs->display_bus = &display_bus.dev;
	log_info(MOD, "display bus (RS-485) on %s", sim_serial_peer_path(&display_bus.dev));

	sim_indicator_init(&indicators);
	devs->indicators = &indicators.dev;

	rc = sim_wire_create(&uplink);
	if (rc < 0) {
		goto fail;
	}
	up |= UP_WIRE;
	devs->uplink = &uplink;
	devs->uplink_addr = (struct hal_uplink_addr){
		.ip = SIM_WIRE_APPLIANCE_IP,
		.netmask = SIM_WIRE_NETMASK,
		.gateway = SIM_WIRE_GATEWAY_IP,
	};
	return 0;

fail:
	sim_deinit(devs);
	return rc;
}

const struct board board_sim = {
	.name = "sim",
	.description = "host simulation: slirp uplink, printer to files, pty display bus",
	.use_syslog = false,
	.default_data_dir = SIM_DATA_DIR_DEFAULT,
	.init = sim_init,
	.deinit = sim_deinit,
};
