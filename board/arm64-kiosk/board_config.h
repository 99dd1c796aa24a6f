/*
 * Device map of the arm64 kiosk board (a Cortex-A board running Debian).
 * Change these for a board whose devices are named differently, or make a
 * new board folder (README "Adding a board").
 */
#ifndef BOARD_ARM64_KIOSK_BOARD_CONFIG_H
#define BOARD_ARM64_KIOSK_BOARD_CONFIG_H

#define KIOSK_DATA_DIR_DEFAULT "/var/lib/hotline-edge"
#define KIOSK_USB_DIR	       "/media/hotline-usb"
/* The uplink NIC: no kernel IP address on it; lwIP owns it. */
#define KIOSK_UPLINK_IFNAME "eth1"
#define KIOSK_WATCHDOG_DEV  "/dev/watchdog"
/* ESC/POS receipt printer on USB (usblp). */
#define KIOSK_PRINTER_DEV "/dev/usb/lp0"
/* RS-485 transceiver to the window display boards. */
#define KIOSK_DISPLAY_BUS_DEV "/dev/ttyS1"
#define KIOSK_LEDS_DIR	      "/sys/class/leds"
#define KIOSK_LED_STATUS      "hotline:green:status"
#define KIOSK_LED_UPLINK      "hotline:green:uplink"
#define KIOSK_LED_ALERT	      "hotline:red:alert"
#define KIOSK_BUZZER	      "hotline:buzzer"
/* Where the board's serial number is read from (device tree, then machine-id). */
#define KIOSK_SERIAL_FILE     "/proc/device-tree/serial-number"
#define KIOSK_MACHINE_ID_FILE "/etc/machine-id"

#endif /* BOARD_ARM64_KIOSK_BOARD_CONFIG_H */
