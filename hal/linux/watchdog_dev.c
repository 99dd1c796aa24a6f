/*
 * Hardware watchdog through the Linux watchdog device. The decision that
 * matters: opening the device arms it, so every failure after the open
 * ends with a magic close ('V' then close) — otherwise a refused timeout
 * would leave an armed watchdog nobody kicks and the board would reset.
 * A device that does not take WDIOC_SETTIMEOUT (ENOTTY: a FIFO in tests,
 * or a driver with a fixed timeout) is used with its own timeout.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/watchdog.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "fw/log.h"
#include "hal_linux/watchdog_dev.h"

#define MOD "watchdog"

static const struct hal_watchdog_ops linux_watchdog_ops;

static struct linux_watchdog *to_lw(struct hal_watchdog *w)
{
	if (w == NULL || w->ops != &linux_watchdog_ops) {
		return NULL;
	}
	return w->priv;
}

static int write_byte(int fd, char c)
{
	ssize_t n;

	do {
		n = write(fd, &c, 1);
	} while (n < 0 && errno == EINTR);
	return n == 1 ? 0 : -EIO;
}

static void magic_close(struct linux_watchdog *lw)
{
	if (write_byte(lw->fd, 'V') != 0) {
		log_warn(MOD, "%s: magic close failed (%s); the board may reset", lw->path,
			 strerror(errno));
	}
	close(lw->fd);
	lw->fd = -1;
}

static int dev_start(struct hal_watchdog *w, int timeout_s)
{
	struct linux_watchdog *lw = to_lw(w);
	int t = timeout_s;
	int ret;

	if (lw == NULL || timeout_s < 1 || timeout_s > HAL_WATCHDOG_TIMEOUT_MAX_S) {
		return -EINVAL;
	}
	if (lw->fd < 0) {
		/* Non-blocking: a FIFO without a reader fails instead of hanging. */
		lw->fd = open(lw->path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
		if (lw->fd < 0) {
			ret = errno == ENOENT || errno == ENODEV || errno == ENXIO ? -ENODEV : -EIO;
			log_err(MOD, "cannot open %s: %s%s", lw->path, strerror(errno),
				errno == EBUSY ? " (another program holds the watchdog)" : "");
			return ret;
		}
	}
	if (ioctl(lw->fd, WDIOC_SETTIMEOUT, &t) == 0) {
		log_info(MOD, "%s armed, timeout %d s (asked %d s)", lw->path, t, timeout_s);
	} else if (errno == ENOTTY || errno == ENOSYS) {
		/* ENOSYS: an emulator (qemu-user) that does not pass this ioctl on. */
		log_info(MOD, "%s armed; it does not take a timeout, so its own applies", lw->path);
	} else {
		log_err(MOD, "%s refused a timeout of %d s: %s", lw->path, timeout_s,
			strerror(errno));
		magic_close(lw);
		return -EIO;
	}
	if (write_byte(lw->fd, LINUX_WATCHDOG_KEEPALIVE) != 0) {
		log_err(MOD, "%s refused the first keep-alive: %s", lw->path, strerror(errno));
		magic_close(lw);
		return -EIO;
	}
	return 0;
}

static int dev_kick(struct hal_watchdog *w)
{
	struct linux_watchdog *lw = to_lw(w);

	if (lw == NULL) {
		return -EINVAL;
	}
	if (lw->fd < 0) {
		return -EBADF;
	}
	if (write_byte(lw->fd, LINUX_WATCHDOG_KEEPALIVE) != 0) {
		log_err(MOD, "%s refused a keep-alive: %s; the board will reset", lw->path,
			strerror(errno));
		return -EIO;
	}
	return 0;
}

static void dev_stop(struct hal_watchdog *w)
{
	struct linux_watchdog *lw = to_lw(w);

	if (lw == NULL || lw->fd < 0) {
		return;
	}
	magic_close(lw);
	log_info(MOD, "%s disarmed (magic close; a nowayout kernel keeps it running)", lw->path);
}

static const struct hal_watchdog_ops linux_watchdog_ops = {
	.start = dev_start,
	.kick = dev_kick,
	.stop = dev_stop,
};

int linux_watchdog_init(struct linux_watchdog *lw, const char *path)
{
	if (lw == NULL || path == NULL || path[0] == '\0' || strlen(path) >= sizeof(lw->path)) {
		return -EINVAL;
	}
	memset(lw, 0, sizeof(*lw));
	snprintf(lw->path, sizeof(lw->path), "%s", path);
	lw->fd = -1;
	lw->dev.ops = &linux_watchdog_ops;
	lw->dev.priv = lw;
	return 0;
}
