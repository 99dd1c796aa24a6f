/*
 * Sim receipt printer: each job is written to its own file in the spool
 * directory so a technician or a test can inspect the exact ESC/POS bytes.
 * The key decision is atomicity: a job goes to a hidden temporary name, is
 * fsync'ed, renamed to job-<seq>-<time>.escpos and the directory fsync'ed,
 * so after a crash or power cut a job file is whole or absent, and
 * print() returns 0 only once the job is durable — the same promise a real
 * printer's "on paper" gives the queue.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fw/log.h"
#include "hal/clock.h"
#include "hal_sim/printer_file.h"

#define MOD "sim-printer"
/* Room left in a path for "/job-<seq>-<YYYYmmddTHHMMSSZ>.escpos". */
#define NAME_ROOM 64

static const struct hal_printer_ops sim_printer_ops;

static struct sim_printer *to_sp(struct hal_printer *p)
{
	if (p == NULL || p->ops != &sim_printer_ops) {
		return NULL;
	}
	return p->priv;
}

static int sim_status(struct hal_printer *p, enum hal_printer_state *state)
{
	struct sim_printer *sp = to_sp(p);

	if (sp == NULL || state == NULL) {
		return -EINVAL;
	}
	pthread_mutex_lock(&sp->lock);
	*state = sp->state;
	pthread_mutex_unlock(&sp->lock);
	return 0;
}

static int write_all(int fd, const uint8_t *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0) {
		return -errno;
	}
	if (fsync(fd) != 0) {
		ret = -errno;
	}
	close(fd);
	return ret;
}

/* Write the job durably under its final name. Called with the lock held. */
static int spool_job(struct sim_printer *sp, unsigned seq, const uint8_t *job, size_t len)
{
	char tmp[PATH_MAX];
	char final[PATH_MAX];
	char stamp[32];
	struct tm tm;
	time_t now = (time_t)(hal_clock_wall_ms(&hal_clock_system) / 1000);
	int ret = -EIO;
	int err;
	int fd;
	int n;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	n = snprintf(tmp, sizeof(tmp), "%s/.job-%06u.tmp", sp->spool_dir, seq);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		return -EIO;
	}
	n = snprintf(final, sizeof(final), "%s/job-%06u-%s.escpos", sp->spool_dir, seq, stamp);
	if (n < 0 || (size_t)n >= sizeof(final)) {
		return -EIO;
	}

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		log_err(MOD, "cannot create %s: %s; check the spool directory", tmp,
			strerror(errno));
		return -EIO;
	}
	err = write_all(fd, job, len);
	if (err == 0 && fsync(fd) != 0) {
		err = -errno;
	}
	if (close(fd) != 0 && err == 0) {
		err = -errno;
	}
	if (err != 0) {
		log_err(MOD,
			"cannot write job %u to %s: %s; check free space in the spool directory",
			seq, tmp, strerror(-err));
		goto out_unlink_tmp;
	}
	if (rename(tmp, final) != 0) {
		log_err(MOD, "cannot rename %s to %s: %s", tmp, final, strerror(errno));
		goto out_unlink_tmp;
	}
	err = fsync_dir(sp->spool_dir);
	if (err != 0) {
		log_err(MOD, "cannot sync spool directory %s: %s", sp->spool_dir, strerror(-err));
		unlink(final);
		return -EIO;
	}
	snprintf(sp->last_job, sizeof(sp->last_job), "%s", final);
	return 0;

out_unlink_tmp:
	unlink(tmp);
	return ret;
}

static int sim_print(struct hal_printer *p, const uint8_t *job, size_t len)
{
	struct sim_printer *sp = to_sp(p);
	int ret;

	if (sp == NULL || job == NULL || len == 0 || len > HAL_PRINTER_JOB_MAX) {
		return -EINVAL;
	}
	pthread_mutex_lock(&sp->lock);
	ret = hal_printer_state_errno(sp->state);
	if (ret != 0) {
		log_warn(MOD, "job of %zu bytes refused: printer is %s", len,
			 hal_printer_state_name(sp->state));
		goto out_unlock;
	}
	ret = spool_job(sp, sp->seq + 1, job, len);
	if (ret == 0) {
		sp->seq++;
		log_info(MOD, "job %u printed (%zu bytes) to %s", sp->seq, len, sp->last_job);
	}
out_unlock:
	pthread_mutex_unlock(&sp->lock);
	return ret;
}

static const struct hal_printer_ops sim_printer_ops = {
	.status = sim_status,
	.print = sim_print,
};

/* Highest job number in the spool dir; removes leftover temporary files. */
static int scan_spool(const char *dir, unsigned *max_seq)
{
	struct dirent *de;
	unsigned long seq;
	char *end;
	DIR *d;

	d = opendir(dir);
	if (d == NULL) {
		return errno == ENOENT || errno == ENOTDIR ? -ENOENT : -EIO;
	}
	*max_seq = 0;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, ".job-", 5) == 0) {
			/* A job interrupted by a crash: it was never acknowledged. */
			if (unlinkat(dirfd(d), de->d_name, 0) == 0) {
				log_warn(MOD, "removed unfinished job file %s/%s", dir, de->d_name);
			}
			continue;
		}
		if (strncmp(de->d_name, "job-", 4) != 0) {
			continue;
		}
		errno = 0;
		seq = strtoul(de->d_name + 4, &end, 10);
		if (errno == 0 && *end == '-' && seq > *max_seq && seq < UINT32_MAX) {
			*max_seq = (unsigned)seq;
		}
	}
	closedir(d);
	return 0;
}

int sim_printer_init(struct sim_printer *sp, const char *spool_dir)
{
	int ret;

	if (sp == NULL || spool_dir == NULL || spool_dir[0] == '\0' ||
	    strlen(spool_dir) >= sizeof(sp->spool_dir) - NAME_ROOM) {
		return -EINVAL;
	}
	memset(sp, 0, sizeof(*sp));
	snprintf(sp->spool_dir, sizeof(sp->spool_dir), "%s", spool_dir);
	ret = scan_spool(sp->spool_dir, &sp->seq);
	if (ret != 0) {
		log_err(MOD, "cannot use spool directory %s: %s", spool_dir, strerror(-ret));
		return ret;
	}
	pthread_mutex_init(&sp->lock, NULL);
	sp->state = HAL_PRINTER_READY;
	sp->dev.ops = &sim_printer_ops;
	sp->dev.priv = sp;
	log_dbg(MOD, "spooling to %s, next job %u", spool_dir, sp->seq + 1);
	return 0;
}

void sim_printer_deinit(struct sim_printer *sp)
{
	if (sp == NULL || sp->dev.ops != &sim_printer_ops) {
		return;
	}
	pthread_mutex_destroy(&sp->lock);
	sp->dev.ops = NULL;
}

int sim_printer_set_state(struct hal_printer *p, enum hal_printer_state state)
{
	struct sim_printer *sp = to_sp(p);

	if (sp == NULL || (unsigned)state > HAL_PRINTER_ERROR) {
		return -EINVAL;
	}
	pthread_mutex_lock(&sp->lock);
	if (sp->state != state) {
		log_info(MOD, "state %s -> %s (sim control)", hal_printer_state_name(sp->state),
			 hal_printer_state_name(state));
	}
	sp->state = state;
	pthread_mutex_unlock(&sp->lock);
	return 0;
}

int sim_printer_last_job(struct hal_printer *p, char *path, size_t size)
{
	struct sim_printer *sp = to_sp(p);
	int ret = 0;

	if (sp == NULL || path == NULL || size == 0) {
		return -EINVAL;
	}
	pthread_mutex_lock(&sp->lock);
	if (sp->last_job[0] == '\0') {
		ret = -ENOENT;
	} else if ((size_t)snprintf(path, size, "%s", sp->last_job) >= size) {
		ret = -ENAMETOOLONG;
	}
	pthread_mutex_unlock(&sp->lock);
	return ret;
}
