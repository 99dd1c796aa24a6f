/*
 * Fake printer: jobs are appended to one byte arena per instance. A job
 * that would overflow the arena or the job table fails with -EIO (and
 * says so on stderr), so a test that prints more than it meant to fails
 * loudly rather than silently losing jobs.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_printer.h"

struct fake_prn {
	pthread_mutex_t lock;
	enum hal_printer_state state;
	int fail_next;
	unsigned jobs;
	size_t off[FAKE_PRINTER_JOBS_MAX];
	size_t len[FAKE_PRINTER_JOBS_MAX];
	size_t used;
	uint8_t bytes[FAKE_PRINTER_BYTES_MAX];
};

static struct fake_prn fake_prns[2];
static unsigned fake_used;

static const struct hal_printer_ops fake_ops;

static struct fake_prn *prn(struct hal_printer *p)
{
	if (p->ops != &fake_ops) {
		abort();
	}
	return p->priv;
}

static int fake_status(struct hal_printer *p, enum hal_printer_state *state)
{
	struct fake_prn *fp = prn(p);

	pthread_mutex_lock(&fp->lock);
	*state = fp->state;
	pthread_mutex_unlock(&fp->lock);
	return 0;
}

static int fake_print(struct hal_printer *p, const uint8_t *job, size_t len)
{
	static const int state_err[] = {
		[HAL_PRINTER_READY] = 0,	   [HAL_PRINTER_PAPER_LOW] = 0,
		[HAL_PRINTER_PAPER_OUT] = -ENOSPC, [HAL_PRINTER_COVER_OPEN] = -EBUSY,
		[HAL_PRINTER_OFFLINE] = -ENODEV,   [HAL_PRINTER_ERROR] = -EIO,
	};
	struct fake_prn *fp = prn(p);
	int ret;

	if (job == NULL || len == 0 || len > HAL_PRINTER_JOB_MAX) {
		return -EINVAL;
	}
	pthread_mutex_lock(&fp->lock);
	ret = state_err[fp->state];
	if (ret == 0 && fp->fail_next != 0) {
		ret = fp->fail_next;
		fp->fail_next = 0;
	}
	if (ret == 0) {
		if (fp->jobs == FAKE_PRINTER_JOBS_MAX || len > FAKE_PRINTER_BYTES_MAX - fp->used) {
			fprintf(stderr, "fake_printer: full (%u jobs, %zu bytes); job refused\n",
				fp->jobs, fp->used);
			ret = -EIO;
		} else {
			memcpy(fp->bytes + fp->used, job, len);
			fp->off[fp->jobs] = fp->used;
			fp->len[fp->jobs] = len;
			fp->used += len;
			fp->jobs++;
		}
	}
	pthread_mutex_unlock(&fp->lock);
	return ret;
}

static const struct hal_printer_ops fake_ops = {
	.status = fake_status,
	.print = fake_print,
};

void fake_printer_init(struct hal_printer *p)
{
	struct fake_prn *fp;

	if (p->ops != &fake_ops) {
		if (fake_used == sizeof(fake_prns) / sizeof(fake_prns[0])) {
			abort();
		}
		fp = &fake_prns[fake_used++];
		pthread_mutex_init(&fp->lock, NULL);
		p->priv = fp;
		p->ops = &fake_ops;
	}
	fp = p->priv;
	pthread_mutex_lock(&fp->lock);
	fp->state = HAL_PRINTER_READY;
	fp->fail_next = 0;
	fp->jobs = 0;
	fp->used = 0;
	pthread_mutex_unlock(&fp->lock);
}

void fake_printer_set_state(struct hal_printer *p, enum hal_printer_state state)
{
	struct fake_prn *fp = prn(p);

	if ((unsigned)state > HAL_PRINTER_ERROR) {
		abort();
	}
	pthread_mutex_lock(&fp->lock);
	fp->state = state;
	pthread_mutex_unlock(&fp->lock);
}

void fake_printer_fail_next(struct hal_printer *p, int err)
{
	struct fake_prn *fp = prn(p);

	pthread_mutex_lock(&fp->lock);
	fp->fail_next = err;
	pthread_mutex_unlock(&fp->lock);
}

unsigned fake_printer_job_count(struct hal_printer *p)
{
	struct fake_prn *fp = prn(p);
	unsigned n;

	pthread_mutex_lock(&fp->lock);
	n = fp->jobs;
	pthread_mutex_unlock(&fp->lock);
	return n;
}

const uint8_t *fake_printer_job(struct hal_printer *p, unsigned i, size_t *len)
{
	struct fake_prn *fp = prn(p);
	const uint8_t *job = NULL;

	pthread_mutex_lock(&fp->lock);
	if (i < fp->jobs) {
		job = fp->bytes + fp->off[i];
		if (len != NULL) {
			*len = fp->len[i];
		}
	}
	pthread_mutex_unlock(&fp->lock);
	return job;
}

void fake_printer_clear(struct hal_printer *p)
{
	struct fake_prn *fp = prn(p);

	pthread_mutex_lock(&fp->lock);
	fp->jobs = 0;
	fp->used = 0;
	pthread_mutex_unlock(&fp->lock);
}
