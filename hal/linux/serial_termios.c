/*
 * Serial port on a Linux tty with termios. The port is opened
 * non-blocking and put in raw mode (no echo, no line editing, no flow
 * control, VMIN=VTIME=0); every read and write waits with poll() under a
 * deadline, so timeouts are exact and a silent or unplugged device never
 * hangs a caller. RS-485 uses the kernel's TIOCSRS485 (RTS high while
 * sending); a driver without it is accepted with a warning, since many
 * USB adapters switch direction in hardware.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/serial.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "fw/log.h"
#include "hal_common/fd_io.h"
#include "hal_linux/serial_termios.h"

#define MOD "serial"

static const struct {
	int baud;
	speed_t code;
} bauds[] = {
	{ 1200, B1200 },     { 2400, B2400 },	  { 4800, B4800 },     { 9600, B9600 },
	{ 19200, B19200 },   { 38400, B38400 },	  { 57600, B57600 },   { 115200, B115200 },
	{ 230400, B230400 }, { 460800, B460800 }, { 921600, B921600 },
};

static const struct hal_serial_ops linux_serial_ops;

static struct linux_serial *to_ls(struct hal_serial *s)
{
	if (s == NULL || s->ops != &linux_serial_ops) {
		return NULL;
	}
	return s->priv;
}

static int set_rs485(struct linux_serial *ls, bool on)
{
	struct serial_rs485 rs;

	memset(&rs, 0, sizeof(rs));
	if (on) {
		rs.flags = SER_RS485_ENABLED | SER_RS485_RTS_ON_SEND;
	}
	if (ioctl(ls->fd, TIOCSRS485, &rs) == 0) {
		return 0;
	}
	/* ENOSYS: an emulator (qemu-user) that does not pass this ioctl on. */
	if (errno == ENOTTY || errno == ENOSYS) {
		if (on) {
			log_warn(MOD,
				 "%s has no kernel RS-485 support; assuming the adapter switches "
				 "the bus direction itself",
				 ls->path);
		}
		return 0;
	}
	log_err(MOD, "%s refused RS-485 mode: %s", ls->path, strerror(errno));
	return -EIO;
}

static int configure(struct linux_serial *ls, const struct hal_serial_cfg *cfg, speed_t speed)
{
	struct termios tio;

	if (tcgetattr(ls->fd, &tio) != 0) {
		log_err(MOD, "%s is not a serial port (%s); check the device map", ls->path,
			strerror(errno));
		return -EIO;
	}
	cfmakeraw(&tio);
	tio.c_cflag &= ~(tcflag_t)(CSIZE | PARENB | PARODD | CSTOPB | CRTSCTS);
	tio.c_cflag |= CLOCAL | CREAD | (cfg->data_bits == 7 ? CS7 : CS8);
	if (cfg->parity != 'N') {
		tio.c_cflag |= PARENB | (cfg->parity == 'O' ? PARODD : 0);
	}
	if (cfg->stop_bits == 2) {
		tio.c_cflag |= CSTOPB;
	}
	tio.c_cc[VMIN] = 0;
	tio.c_cc[VTIME] = 0;
	if (cfsetispeed(&tio, speed) != 0 || cfsetospeed(&tio, speed) != 0 ||
	    tcsetattr(ls->fd, TCSANOW, &tio) != 0) {
		log_err(MOD, "%s refused %d baud %d%c%d: %s", ls->path, cfg->baud, cfg->data_bits,
			cfg->parity, cfg->stop_bits, strerror(errno));
		return -EIO;
	}
	tcflush(ls->fd, TCIOFLUSH);
	return set_rs485(ls, cfg->rs485);
}

static int tty_open(struct hal_serial *s, const struct hal_serial_cfg *cfg)
{
	struct linux_serial *ls = to_ls(s);
	speed_t speed = B0;
	bool fresh = false;
	int ret;

	if (ls == NULL || hal_serial_cfg_check(cfg) != 0) {
		return -EINVAL;
	}
	for (size_t i = 0; i < sizeof(bauds) / sizeof(bauds[0]); i++) {
		if (bauds[i].baud == cfg->baud) {
			speed = bauds[i].code;
		}
	}
	if (speed == B0) {
		return -EINVAL;
	}
	if (ls->fd < 0) {
		ls->fd = open(ls->path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
		if (ls->fd < 0) {
			ret = errno == ENOENT || errno == ENODEV || errno == ENXIO ? -ENOENT : -EIO;
			log_err(MOD, "cannot open %s: %s%s", ls->path, strerror(errno),
				errno == EACCES ? " (is the firmware user in group dialout?)" : "");
			return ret;
		}
		fresh = true;
		/* One owner per bus: a second opener gets EBUSY (root is exempt). */
		ioctl(ls->fd, TIOCEXCL);
	}
	ret = configure(ls, cfg, speed);
	if (ret != 0) {
		if (fresh) {
			close(ls->fd);
			ls->fd = -1;
		}
		return ret;
	}
	log_dbg(MOD, "%s open at %d %d%c%d%s", ls->path, cfg->baud, cfg->data_bits, cfg->parity,
		cfg->stop_bits, cfg->rs485 ? " rs485" : "");
	return 0;
}

static int tty_write(struct hal_serial *s, const void *buf, size_t len, int timeout_ms)
{
	struct linux_serial *ls = to_ls(s);

	if (ls == NULL || buf == NULL) {
		return -EINVAL;
	}
	if (ls->fd < 0) {
		return -EBADF;
	}
	return fdio_write(ls->fd, buf, len, timeout_ms);
}

static int tty_read(struct hal_serial *s, void *buf, size_t len, int timeout_ms)
{
	struct linux_serial *ls = to_ls(s);

	if (ls == NULL || buf == NULL) {
		return -EINVAL;
	}
	if (ls->fd < 0) {
		return -EBADF;
	}
	return fdio_read(ls->fd, buf, len, timeout_ms);
}

static void tty_close(struct hal_serial *s)
{
	struct linux_serial *ls = to_ls(s);

	if (ls == NULL || ls->fd < 0) {
		return;
	}
	close(ls->fd);
	ls->fd = -1;
}

static const char *tty_path(struct hal_serial *s)
{
	struct linux_serial *ls = to_ls(s);

	return ls != NULL ? ls->path : NULL;
}

static const struct hal_serial_ops linux_serial_ops = {
	.open = tty_open,
	.write = tty_write,
	.read = tty_read,
	.close = tty_close,
	.path = tty_path,
};

int linux_serial_init(struct linux_serial *ls, const char *path)
{
	if (ls == NULL || path == NULL || path[0] == '\0' || strlen(path) >= sizeof(ls->path)) {
		return -EINVAL;
	}
	memset(ls, 0, sizeof(*ls));
	snprintf(ls->path, sizeof(ls->path), "%s", path);
	ls->fd = -1;
	ls->dev.ops = &linux_serial_ops;
	ls->dev.priv = ls;
	return 0;
}

void linux_serial_deinit(struct linux_serial *ls)
{
	if (ls == NULL || ls->dev.ops != &linux_serial_ops) {
		return;
	}
	tty_close(&ls->dev);
	ls->dev.ops = NULL;
}
