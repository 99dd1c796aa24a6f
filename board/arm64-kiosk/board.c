/*
 * The arm64 kiosk board: a Cortex-A Linux board with a USB receipt printer,
 * an RS-485 bus, a hardware watchdog, sysfs LEDs and a second Ethernet port
 * for the uplink that the kernel carries frames on but has no address on.
 * The device map is in board_config.h. Devices are only described here;
 * each is opened when first used, so a missing printer or bus is reported
 * by the feature that needs it and does not stop the appliance.
 *
 * The uplink has no default address: it must come from the [uplink]
 * section of the configuration (the county's extranet plan assigns it).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "board/board.h"
#include "board_config.h"
#include "fw/log.h"
#include "hal_linux/leds_sysfs.h"
#include "hal_linux/packet_link.h"
#include "hal_linux/printer_dev.h"
#include "hal_linux/serial_termios.h"
#include "hal_linux/watchdog_dev.h"

#define MOD "board-arm64"

static struct linux_watchdog watchdog;
static struct linux_printer printer;
static struct linux_serial display_bus;
static struct linux_leds leds;
static struct hal_link uplink;

enum { UP_PRINTER = 1, UP_SERIAL = 2, UP_LINK = 4 };
static unsigned up;

static int path_join(char *out, const char *a, const char *b)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", a, b);

	return (n < 0 || n >= PATH_MAX) ? -ENAMETOOLONG : 0;
}

static int ensure_dir(const char *path)
{
	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		int rc = -errno;

		log_err(MOD, "cannot create %s: %s; is the data partition mounted and writable?",
			path, strerror(errno));
		return rc;
	}
	return 0;
}

/* First line of a small text file, printable characters only. */
static bool read_id(const char *path, char *out, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;
	int c;

	if (!f) {
		return false;
	}
	while (n + 1 < len && (c = fgetc(f)) != EOF && c != '\n' && c != '\0') {
		if (c > 0x20 && c < 0x7f) {
			out[n++] = (char)c;
		}
	}
	out[n] = '\0';
	fclose(f);
	return n > 0;
}

static void kiosk_deinit(struct hal_devices *devs)
{
	if (up & UP_LINK) {
		packet_link_destroy(&uplink);
	}
	if (up & UP_PRINTER) {
		linux_printer_deinit(&printer);
	}
	if (up & UP_SERIAL) {
		linux_serial_deinit(&display_bus);
	}
	up = 0;
}

static int kiosk_init(const struct board_params *p, struct hal_devices *devs)
{
	static const char *const led_names[HAL_IND_COUNT] = {
		[HAL_IND_STATUS] = KIOSK_LED_STATUS,
		[HAL_IND_UPLINK] = KIOSK_LED_UPLINK,
		[HAL_IND_ALERT] = KIOSK_LED_ALERT,
		[HAL_IND_BUZZER] = KIOSK_BUZZER,
	};
	const char *data = p->data_dir ? p->data_dir : KIOSK_DATA_DIR_DEFAULT;
	struct hal_paths *paths = &devs->paths;
	int rc;

	memset(devs, 0, sizeof(*devs));
	devs->info.name = "arm64-kiosk";
	devs->info.model = "arm64 kiosk board";
	devs->info.arch = "arm64";
	if (!read_id(KIOSK_SERIAL_FILE, devs->info.serial, sizeof(devs->info.serial)) &&
	    !read_id(KIOSK_MACHINE_ID_FILE, devs->info.serial, sizeof(devs->info.serial))) {
		snprintf(devs->info.serial, sizeof(devs->info.serial), "unknown");
	}

	rc = ensure_dir(data);
	if (rc < 0) {
		return rc;
	}
	if (!realpath(data, paths->data_dir)) {
		return -errno;
	}
	rc = path_join(paths->slot_dir, paths->data_dir, "slots");
	if (rc == 0) {
		rc = path_join(paths->spool_dir, paths->data_dir, "spool");
	}
	if (rc == 0) {
		rc = ensure_dir(paths->slot_dir);
	}
	if (rc == 0) {
		rc = ensure_dir(paths->spool_dir);
	}
	if (rc < 0) {
		return rc;
	}
	snprintf(paths->usb_dir, sizeof(paths->usb_dir), "%s", KIOSK_USB_DIR);

	devs->clock = &hal_clock_system;

	rc = linux_watchdog_init(&watchdog, KIOSK_WATCHDOG_DEV);
	if (rc < 0) {
		goto fail;
	}
	devs->watchdog = &watchdog.dev;

	rc = linux_printer_init_path(&printer, KIOSK_PRINTER_DEV);
	if (rc < 0) {
		goto fail;
	}
	up |= UP_PRINTER;
	devs->printer = &printer.dev;

	rc = linux_serial_init(&display_bus, KIOSK_DISPLAY_BUS_DEV);
	if (rc < 0) {
		goto fail;
	}
	up |= UP_SERIAL;
	devs->display_bus = &display_bus.dev;

	rc = linux_leds_init(&leds, KIOSK_LEDS_DIR, led_names);
	if (rc < 0) {
		goto fail;
	}
	devs->indicators = &leds.dev;

	rc = packet_link_create(&uplink, KIOSK_UPLINK_IFNAME);
	if (rc < 0) {
		goto fail;
	}
	up |= UP_LINK;
	devs->uplink = &uplink;
	/* No default address: devs->uplink_addr stays zero until configured. */
	return 0;

fail:
	log_err(MOD, "board set-up failed: %s", strerror(-rc));
	kiosk_deinit(devs);
	return rc;
}

const struct board board_arm64_kiosk = {
	.name = "arm64-kiosk",
	.description = "arm64 kiosk: USB printer, RS-485 display bus, AF_PACKET uplink "
		       "on " KIOSK_UPLINK_IFNAME,
	.use_syslog = true,
	.default_data_dir = KIOSK_DATA_DIR_DEFAULT,
	.init = kiosk_init,
	.deinit = kiosk_deinit,
};
