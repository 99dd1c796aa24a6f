/*
 * Sim serial port on a pseudo-terminal pair. The firmware talks on the
 * master; a peer (a simulated display board or printer) opens the slave
 * path. The key decision: this driver keeps a descriptor of its own open on
 * the slave, so the pair never "hangs up" when a peer closes or has not
 * opened yet — without it the master reports POLLHUP and EIO, and a read
 * would fail instead of timing out like a real, silent serial line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "fw/log.h"
#include "hal_common/fd_io.h"
#include "hal_sim/serial_pty.h"

#define MOD "sim-serial"

static const struct hal_serial_ops sim_serial_ops;

static struct sim_serial *to_ss(struct hal_serial *s)
{
	if (s == NULL || s->ops != &sim_serial_ops) {
		return NULL;
	}
	return s->priv;
}

static int pty_open(struct hal_serial *s, const struct hal_serial_cfg *cfg)
{
	struct sim_serial *ss = to_ss(s);

	if (ss == NULL || hal_serial_cfg_check(cfg) != 0) {
		return -EINVAL;
	}
	/* A fresh open starts with an empty line, as after opening a real port. */
	tcflush(ss->hold_fd, TCIOFLUSH);
	fdio_drain(ss->master_fd);
	ss->open = true;
	log_dbg(MOD, "%s open at %d %d%c%d%s (a pty ignores line settings)", ss->peer_path,
		cfg->baud, cfg->data_bits, cfg->parity, cfg->stop_bits, cfg->rs485 ? " rs485" : "");
	return 0;
}

static int pty_write(struct hal_serial *s, const void *buf, size_t len, int timeout_ms)
{
	struct sim_serial *ss = to_ss(s);

	if (ss == NULL || buf == NULL) {
		return -EINVAL;
	}
	if (!ss->open) {
		return -EBADF;
	}
	return fdio_write(ss->master_fd, buf, len, timeout_ms);
}

static int pty_read(struct hal_serial *s, void *buf, size_t len, int timeout_ms)
{
	struct sim_serial *ss = to_ss(s);

	if (ss == NULL || buf == NULL) {
		return -EINVAL;
	}
	if (!ss->open) {
		return -EBADF;
	}
	return fdio_read(ss->master_fd, buf, len, timeout_ms);
}

static void pty_close(struct hal_serial *s)
{
	struct sim_serial *ss = to_ss(s);

	if (ss != NULL) {
		ss->open = false;
	}
}

static const char *pty_path(struct hal_serial *s)
{
	return sim_serial_peer_path(s);
}

static const struct hal_serial_ops sim_serial_ops = {
	.open = pty_open,
	.write = pty_write,
	.read = pty_read,
	.close = pty_close,
	.path = pty_path,
};

int sim_serial_init(struct sim_serial *ss)
{
	struct termios tio;
	int ret = -EIO;

	if (ss == NULL) {
		return -EINVAL;
	}
	memset(ss, 0, sizeof(*ss));
	ss->hold_fd = -1;
	ss->master_fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (ss->master_fd < 0) {
		log_err(MOD, "cannot create a pseudo-terminal: %s (is /dev/pts mounted?)",
			strerror(errno));
		return -EIO;
	}
	if (grantpt(ss->master_fd) != 0 || unlockpt(ss->master_fd) != 0 ||
	    ptsname_r(ss->master_fd, ss->peer_path, sizeof(ss->peer_path)) != 0) {
		log_err(MOD, "cannot set up the pseudo-terminal: %s", strerror(errno));
		goto out_master;
	}
	if (fcntl(ss->master_fd, F_SETFL, O_NONBLOCK) != 0) {
		goto out_master;
	}
	ss->hold_fd = open(ss->peer_path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (ss->hold_fd < 0) {
		log_err(MOD, "cannot open %s: %s", ss->peer_path, strerror(errno));
		goto out_master;
	}
	if (tcgetattr(ss->hold_fd, &tio) != 0) {
		goto out_hold;
	}
	cfmakeraw(&tio);
	if (tcsetattr(ss->hold_fd, TCSANOW, &tio) != 0) {
		goto out_hold;
	}
	ss->dev.ops = &sim_serial_ops;
	ss->dev.priv = ss;
	log_dbg(MOD, "pseudo-terminal ready, peer path %s", ss->peer_path);
	return 0;

out_hold:
	log_err(MOD, "cannot put %s in raw mode: %s", ss->peer_path, strerror(errno));
	close(ss->hold_fd);
	ss->hold_fd = -1;
out_master:
	close(ss->master_fd);
	ss->master_fd = -1;
	return ret;
}

void sim_serial_deinit(struct sim_serial *ss)
{
	if (ss == NULL || ss->dev.ops != &sim_serial_ops) {
		return;
	}
	close(ss->hold_fd);
	close(ss->master_fd);
	ss->hold_fd = -1;
	ss->master_fd = -1;
	ss->open = false;
	ss->dev.ops = NULL;
}

const char *sim_serial_peer_path(struct hal_serial *s)
{
	struct sim_serial *ss = to_ss(s);

	return ss != NULL ? ss->peer_path : NULL;
}
