/* Fake serial port: RAM buffers with a write hook and injected faults. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fake_serial.h"

struct fake_port {
	bool open;
	unsigned opens;
	uint8_t rx[FAKE_SERIAL_RX_MAX];
	size_t rx_len;
	uint8_t tx[FAKE_SERIAL_TX_MAX];
	size_t tx_len;
	size_t tx_limit;
	fake_serial_write_fn hook;
	void *hook_ctx;
	int open_err;
	unsigned write_nth;
	int write_err;
};

static struct fake_port fake_ports[4];
static unsigned fake_used;

static const struct hal_serial_ops fake_ops;

static struct fake_port *port(struct hal_serial *s)
{
	if (s->ops != &fake_ops) {
		abort();
	}
	return s->priv;
}

static int fake_open(struct hal_serial *s, const struct hal_serial_cfg *cfg)
{
	struct fake_port *fp = port(s);
	int err = fp->open_err;

	if (err != 0) {
		fp->open_err = 0;
		return err;
	}
	if (hal_serial_cfg_check(cfg) != 0) {
		return -EINVAL;
	}
	fp->open = true;
	fp->opens++;
	return 0;
}

static int fake_write(struct hal_serial *s, const void *buf, size_t len, int timeout_ms)
{
	struct fake_port *fp = port(s);
	size_t room;

	if (buf == NULL || len == 0 || timeout_ms < 0) {
		return -EINVAL;
	}
	if (!fp->open) {
		return -EBADF;
	}
	if (fp->write_nth != 0 && --fp->write_nth == 0) {
		return fp->write_err;
	}
	room = FAKE_SERIAL_TX_MAX - fp->tx_len;
	if (room > fp->tx_limit) {
		room = fp->tx_limit;
	}
	if (len > room) {
		len = room;
	}
	if (len == 0) {
		return -ETIMEDOUT;
	}
	memcpy(fp->tx + fp->tx_len, buf, len);
	fp->tx_len += len;
	fp->tx_limit -= len;
	if (fp->hook != NULL) {
		fp->hook(s, fp->tx + fp->tx_len - len, len, fp->hook_ctx);
	}
	return (int)len;
}

static int fake_read(struct hal_serial *s, void *buf, size_t len, int timeout_ms)
{
	struct fake_port *fp = port(s);

	if (buf == NULL || len == 0 || timeout_ms < 0) {
		return -EINVAL;
	}
	if (!fp->open) {
		return -EBADF;
	}
	if (fp->rx_len == 0) {
		return -ETIMEDOUT;
	}
	if (len > fp->rx_len) {
		len = fp->rx_len;
	}
	memcpy(buf, fp->rx, len);
	memmove(fp->rx, fp->rx + len, fp->rx_len - len);
	fp->rx_len -= len;
	return (int)len;
}

static void fake_close(struct hal_serial *s)
{
	port(s)->open = false;
}

static const char *fake_path(struct hal_serial *s)
{
	return "fake-serial";
}

static const struct hal_serial_ops fake_ops = {
	.open = fake_open,
	.write = fake_write,
	.read = fake_read,
	.close = fake_close,
	.path = fake_path,
};

void fake_serial_init(struct hal_serial *s)
{
	if (s->ops != &fake_ops) {
		if (fake_used == sizeof(fake_ports) / sizeof(fake_ports[0])) {
			abort();
		}
		s->priv = &fake_ports[fake_used++];
		s->ops = &fake_ops;
	}
	memset(s->priv, 0, sizeof(struct fake_port));
	port(s)->tx_limit = FAKE_SERIAL_TX_MAX;
}

int fake_serial_push_rx(struct hal_serial *s, const void *data, size_t len)
{
	struct fake_port *fp = port(s);

	if (len > FAKE_SERIAL_RX_MAX - fp->rx_len) {
		return -ENOSPC;
	}
	memcpy(fp->rx + fp->rx_len, data, len);
	fp->rx_len += len;
	return 0;
}

size_t fake_serial_take_tx(struct hal_serial *s, void *buf, size_t size)
{
	struct fake_port *fp = port(s);
	size_t n = fp->tx_len < size ? fp->tx_len : size;

	memcpy(buf, fp->tx, n);
	memmove(fp->tx, fp->tx + n, fp->tx_len - n);
	fp->tx_len -= n;
	return n;
}

size_t fake_serial_tx_len(struct hal_serial *s)
{
	return port(s)->tx_len;
}

void fake_serial_set_write_hook(struct hal_serial *s, fake_serial_write_fn fn, void *ctx)
{
	port(s)->hook = fn;
	port(s)->hook_ctx = ctx;
}

void fake_serial_fail_open(struct hal_serial *s, int err)
{
	port(s)->open_err = err;
}

void fake_serial_fail_write(struct hal_serial *s, unsigned nth, int err)
{
	port(s)->write_nth = nth;
	port(s)->write_err = err;
}

void fake_serial_set_tx_limit(struct hal_serial *s, size_t limit)
{
	port(s)->tx_limit = limit;
}

bool fake_serial_is_open(struct hal_serial *s)
{
	return port(s)->open;
}

unsigned fake_serial_open_count(struct hal_serial *s)
{
	return port(s)->opens;
}
