/*
 * Serial port: the RS-485 bus to the window display boards and serial
 * receipt printers. Reads and writes take a timeout so no caller can hang
 * on a silent device.
 */
#ifndef HAL_SERIAL_H
#define HAL_SERIAL_H

#include <stdbool.h>
#include <stddef.h>

struct hal_serial;

struct hal_serial_cfg {
	int baud;      /* 1200..921600 */
	char parity;   /* 'N', 'E' or 'O' */
	int data_bits; /* 7 or 8 */
	int stop_bits; /* 1 or 2 */
	bool rs485;    /* drive RTS for the transceiver direction */
};

/*
 * Timeouts are in milliseconds, 0 (do not wait) up to ten minutes; a
 * negative or longer timeout, or a zero length, is -EINVAL.
 */
struct hal_serial_ops {
	/*
	 * @retval 0 open (opening an open port re-applies the settings)
	 * @retval -ENOENT no such port, -EINVAL bad settings, -EIO
	 */
	int (*open)(struct hal_serial *s, const struct hal_serial_cfg *cfg);
	/*
	 * Write the whole buffer unless the timeout runs out first.
	 * @retval len all written; >0 and <len: the time ran out part-way
	 * @retval -ETIMEDOUT nothing taken in time, -EIO, -EBADF when not open
	 */
	int (*write)(struct hal_serial *s, const void *buf, size_t len, int timeout_ms);
	/* @retval >0 bytes read, -ETIMEDOUT when nothing arrived, -EIO, -EBADF */
	int (*read)(struct hal_serial *s, void *buf, size_t len, int timeout_ms);
	/* Safe to call when not open. */
	void (*close)(struct hal_serial *s);
	/* The device path (libmodbus opens RTU ports by path). */
	const char *(*path)(struct hal_serial *s);
};

struct hal_serial {
	const struct hal_serial_ops *ops;
	void *priv;
};

static inline int hal_serial_open(struct hal_serial *s, const struct hal_serial_cfg *cfg)
{
	return s->ops->open(s, cfg);
}

static inline int hal_serial_write(struct hal_serial *s, const void *buf, size_t len,
				   int timeout_ms)
{
	return s->ops->write(s, buf, len, timeout_ms);
}

static inline int hal_serial_read(struct hal_serial *s, void *buf, size_t len, int timeout_ms)
{
	return s->ops->read(s, buf, len, timeout_ms);
}

static inline void hal_serial_close(struct hal_serial *s)
{
	s->ops->close(s);
}

static inline const char *hal_serial_path(struct hal_serial *s)
{
	return s->ops->path(s);
}

/*
 * Check settings against what every serial driver supports: the standard
 * rates 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800
 * and 921600 baud, parity N/E/O, 7 or 8 data bits, 1 or 2 stop bits.
 * @retval 0 valid, -EINVAL otherwise (also for NULL)
 */
int hal_serial_cfg_check(const struct hal_serial_cfg *cfg);

#endif /* HAL_SERIAL_H */
