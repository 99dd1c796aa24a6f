/*
 * ESC/POS receipt printer on Linux, over a hal_serial or a device path.
 * The key decision: the printer's own real-time status (DLE EOT n) is
 * asked before every job and again after it, and a printer that does not
 * answer is OFFLINE — so print() returns 0 only when the printer took the
 * whole job and still reports no fault, and a ticket is never counted as
 * issued on a printer that silently lost it. Stale bytes (an earlier late
 * answer, automatic status back) are drained before each request so an
 * answer is never matched to the wrong question.
 *
 * Status bytes (ESC/POS): bits 1 and 4 are always 1, bits 0 and 7 always 0.
 * n=1: bit 3 off-line. n=2: bit 2 cover open, bit 5 stopped at paper end,
 * bit 6 error. n=4: bits 2-3 paper near end, bits 5-6 paper end.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "fw/log.h"
#include "hal_common/fd_io.h"
#include "hal_linux/printer_dev.h"

#define MOD		   "printer"

#define DLE		   0x10
#define EOT		   0x04
#define ST_FIXED_MASK	   0x93
#define ST_FIXED_BITS	   0x12
#define ST1_OFFLINE	   0x08
#define ST2_COVER_OPEN	   0x04
#define ST2_PAPER_END_STOP 0x20
#define ST2_ERROR	   0x40
#define ST4_NEAR_END	   0x0c
#define ST4_PAPER_END	   0x60

#define CHUNK		   4096

static const struct hal_printer_ops linux_printer_ops;

static struct linux_printer *to_lp(struct hal_printer *p)
{
	if (p == NULL || p->ops != &linux_printer_ops) {
		return NULL;
	}
	return p->priv;
}

/* Log a failure to reach the printer once, not at every status poll. */
static void note_open_err(struct linux_printer *lp, const char *where, int err)
{
	if (err != lp->open_err) {
		log_warn(MOD, "cannot open printer %s: %s; check that it is plugged in and on",
			 where, strerror(-err));
		lp->open_err = err;
	}
}

/* Open the way to the printer. @retval fd (0 for a serial port), -ENODEV, -EIO */
static int link_open(struct linux_printer *lp)
{
	struct termios tio;
	int ret;
	int fd;

	if (lp->serial != NULL) {
		if (!lp->serial_open) {
			ret = hal_serial_open(lp->serial, &lp->cfg);
			if (ret != 0) {
				note_open_err(lp, hal_serial_path(lp->serial), ret);
				return ret == -ENOENT ? -ENODEV : -EIO;
			}
			lp->serial_open = true;
		}
		lp->open_err = 0;
		return 0;
	}
	fd = open(lp->path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		note_open_err(lp, lp->path, ret);
		if (ret == -ENOENT || ret == -ENODEV || ret == -ENXIO || ret == -EBUSY) {
			return -ENODEV;
		}
		return -EIO;
	}
	lp->open_err = 0;
	if (tcgetattr(fd, &tio) == 0) {
		cfmakeraw(&tio);
		tcsetattr(fd, TCSANOW, &tio);
	}
	return fd;
}

/* After an error on the serial port, reopen it next time (adapter replugged). */
static void link_close(struct linux_printer *lp, int fd, bool failed)
{
	if (lp->serial == NULL) {
		close(fd);
		return;
	}
	if (failed && lp->serial_open) {
		hal_serial_close(lp->serial);
		lp->serial_open = false;
	}
}

static int link_write(struct linux_printer *lp, int fd, const void *buf, size_t len, int tmo)
{
	if (lp->serial != NULL) {
		return hal_serial_write(lp->serial, buf, len, tmo);
	}
	return fdio_write(fd, buf, len, tmo);
}

static int link_read(struct linux_printer *lp, int fd, void *buf, size_t len, int tmo)
{
	if (lp->serial != NULL) {
		return hal_serial_read(lp->serial, buf, len, tmo);
	}
	return fdio_read(fd, buf, len, tmo);
}

static void link_drain(struct linux_printer *lp, int fd)
{
	uint8_t junk[64];

	if (lp->serial == NULL) {
		fdio_drain(fd);
		return;
	}
	for (int i = 0; i < 64; i++) {
		if (hal_serial_read(lp->serial, junk, sizeof(junk), 0) <= 0) {
			break;
		}
	}
}

/*
 * Ask DLE EOT n and read one status byte, waiting at most tmo ms for each
 * of sending the request and receiving the answer.
 * @retval 0 and *st, -ETIMEDOUT no answer, -EPROTO not a status byte, -EIO
 */
static int query(struct linux_printer *lp, int fd, uint8_t n, uint8_t *st, int tmo)
{
	const uint8_t req[3] = { DLE, EOT, n };
	int ret;

	link_drain(lp, fd);
	ret = link_write(lp, fd, req, sizeof(req), tmo);
	if (ret >= 0 && ret < (int)sizeof(req)) {
		return -ETIMEDOUT;
	}
	if (ret < 0) {
		return ret == -ETIMEDOUT ? ret : -EIO;
	}
	ret = link_read(lp, fd, st, 1, tmo);
	if (ret < 0) {
		return ret == -ETIMEDOUT ? ret : -EIO;
	}
	if ((*st & ST_FIXED_MASK) != ST_FIXED_BITS) {
		log_warn(MOD, "status %u answered with 0x%02x, which is not an ESC/POS status byte",
			 n, *st);
		return -EPROTO;
	}
	return 0;
}

/*
 * Read the printer's state; first_tmo is the wait for the first answer
 * (longer after a job, while the port is still sending it).
 * @retval 0 and *state (OFFLINE when it did not answer), -EIO garbled or failed
 */
static int read_state(struct linux_printer *lp, int fd, int first_tmo,
		      enum hal_printer_state *state)
{
	uint8_t st;
	int ret;

	ret = query(lp, fd, 1, &st, first_tmo);
	if (ret == 0 && (st & ST1_OFFLINE)) {
		ret = query(lp, fd, 2, &st, lp->status_timeout_ms);
		if (ret == 0) {
			if (st & ST2_COVER_OPEN) {
				*state = HAL_PRINTER_COVER_OPEN;
			} else if (st & ST2_PAPER_END_STOP) {
				*state = HAL_PRINTER_PAPER_OUT;
			} else if (st & ST2_ERROR) {
				*state = HAL_PRINTER_ERROR;
			} else {
				*state = HAL_PRINTER_OFFLINE;
			}
		}
	} else if (ret == 0) {
		ret = query(lp, fd, 4, &st, lp->status_timeout_ms);
		if (ret == 0) {
			if (st & ST4_PAPER_END) {
				*state = HAL_PRINTER_PAPER_OUT;
			} else if (st & ST4_NEAR_END) {
				*state = HAL_PRINTER_PAPER_LOW;
			} else {
				*state = HAL_PRINTER_READY;
			}
		}
	}
	if (ret == -ETIMEDOUT) {
		*state = HAL_PRINTER_OFFLINE;
		return 0;
	}
	return ret == 0 ? 0 : -EIO;
}

static int dev_status(struct hal_printer *p, enum hal_printer_state *state)
{
	struct linux_printer *lp = to_lp(p);
	int ret;
	int fd;

	if (lp == NULL || state == NULL) {
		return -EINVAL;
	}
	pthread_mutex_lock(&lp->lock);
	fd = link_open(lp);
	if (fd == -ENODEV) {
		*state = HAL_PRINTER_OFFLINE;
		ret = 0;
		goto out_unlock;
	}
	if (fd < 0) {
		ret = fd;
		goto out_unlock;
	}
	ret = read_state(lp, fd, lp->status_timeout_ms, state);
	link_close(lp, fd, ret != 0);
out_unlock:
	pthread_mutex_unlock(&lp->lock);
	return ret;
}

/* Time for the port to send len bytes at the configured rate (11 bits a byte). */
static int send_time_ms(const struct linux_printer *lp, size_t len)
{
	int64_t ms;

	if (lp->serial == NULL) {
		return 0;
	}
	ms = (int64_t)len * 11 * 1000 / lp->cfg.baud;
	return ms > FDIO_TIMEOUT_MAX_MS / 2 ? FDIO_TIMEOUT_MAX_MS / 2 : (int)ms;
}

static int send_job(struct linux_printer *lp, int fd, const uint8_t *job, size_t len)
{
	size_t done = 0;
	size_t n;
	int ret;

	while (done < len) {
		n = len - done < CHUNK ? len - done : CHUNK;
		ret = link_write(lp, fd, job + done, n, lp->write_timeout_ms);
		if (ret > 0) {
			done += (size_t)ret;
		}
		if (ret == (int)n) {
			continue;
		}
		if (ret >= 0 || ret == -ETIMEDOUT) {
			log_err(MOD, "printer stopped taking data after %zu of %zu bytes", done,
				len);
			return -ETIMEDOUT;
		}
		log_err(MOD, "writing the job failed after %zu of %zu bytes: %d", done, len, ret);
		return -EIO;
	}
	return 0;
}

static int dev_print(struct hal_printer *p, const uint8_t *job, size_t len)
{
	struct linux_printer *lp = to_lp(p);
	enum hal_printer_state state;
	int ret;
	int fd;

	if (lp == NULL || job == NULL || len == 0 || len > HAL_PRINTER_JOB_MAX) {
		return -EINVAL;
	}
	pthread_mutex_lock(&lp->lock);
	fd = link_open(lp);
	if (fd < 0) {
		ret = fd;
		goto out_unlock;
	}
	ret = read_state(lp, fd, lp->status_timeout_ms, &state);
	if (ret == 0) {
		ret = hal_printer_state_errno(state);
		if (ret != 0) {
			log_warn(MOD, "job of %zu bytes not sent: printer is %s", len,
				 hal_printer_state_name(state));
		}
	}
	if (ret == 0) {
		ret = send_job(lp, fd, job, len);
	}
	if (ret == 0) {
		ret = read_state(lp, fd, lp->status_timeout_ms + send_time_ms(lp, len), &state);
		if (ret == 0) {
			ret = hal_printer_state_errno(state);
			if (ret != 0) {
				log_warn(MOD, "job of %zu bytes sent but the printer is now %s",
					 len, hal_printer_state_name(state));
			}
		}
	}
	link_close(lp, fd, ret == -EIO || ret == -ETIMEDOUT);
	if (ret == 0) {
		log_dbg(MOD, "job of %zu bytes printed", len);
	}
out_unlock:
	pthread_mutex_unlock(&lp->lock);
	return ret;
}

static const struct hal_printer_ops linux_printer_ops = {
	.status = dev_status,
	.print = dev_print,
};

static void init_common(struct linux_printer *lp)
{
	pthread_mutex_init(&lp->lock, NULL);
	lp->status_timeout_ms = LINUX_PRINTER_STATUS_TIMEOUT_MS;
	lp->write_timeout_ms = LINUX_PRINTER_WRITE_TIMEOUT_MS;
	lp->dev.ops = &linux_printer_ops;
	lp->dev.priv = lp;
}

int linux_printer_init_serial(struct linux_printer *lp, struct hal_serial *serial,
			      const struct hal_serial_cfg *cfg)
{
	if (lp == NULL || serial == NULL || hal_serial_cfg_check(cfg) != 0) {
		return -EINVAL;
	}
	memset(lp, 0, sizeof(*lp));
	lp->serial = serial;
	lp->cfg = *cfg;
	init_common(lp);
	return 0;
}

int linux_printer_init_path(struct linux_printer *lp, const char *path)
{
	if (lp == NULL || path == NULL || path[0] == '\0' || strlen(path) >= sizeof(lp->path)) {
		return -EINVAL;
	}
	memset(lp, 0, sizeof(*lp));
	snprintf(lp->path, sizeof(lp->path), "%s", path);
	init_common(lp);
	return 0;
}

void linux_printer_deinit(struct linux_printer *lp)
{
	if (lp == NULL || lp->dev.ops != &linux_printer_ops) {
		return;
	}
	if (lp->serial_open) {
		hal_serial_close(lp->serial);
		lp->serial_open = false;
	}
	pthread_mutex_destroy(&lp->lock);
	lp->dev.ops = NULL;
}

int linux_printer_set_timeouts(struct linux_printer *lp, int status_ms, int write_ms)
{
	if (lp == NULL || lp->dev.ops != &linux_printer_ops || status_ms < 1 || status_ms > 60000 ||
	    write_ms < 1 || write_ms > FDIO_TIMEOUT_MAX_MS) {
		return -EINVAL;
	}
	pthread_mutex_lock(&lp->lock);
	lp->status_timeout_ms = status_ms;
	lp->write_timeout_ms = write_ms;
	pthread_mutex_unlock(&lp->lock);
	return 0;
}
