/*
 * Tickets through real printer drivers: the sim printer (hal/sim), whose
 * job file must hold exactly the rendered bytes, with the GB18030 text and
 * the native QR command in it, and no file at all when the printer is out
 * of paper, open or offline; and the Linux ESC/POS driver on a
 * pseudo-terminal, with a small printer played on the master side that
 * answers the DLE EOT status requests and keeps what it is sent.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hal_common/fd_io.h"
#include "hal_linux/printer_dev.h"
#include "hal_sim/printer_file.h"
#include "print/ticket.h"
#include "test_util.h"

static const struct print_ticket sample = {
	.office_name = "城关镇12345便民服务大厅",
	.service_zh = "社保医保",
	.service_en = "Social insurance",
	.number = "B105",
	.ahead = 12,
	.issued_ms = 1795310077000LL, /* 2026-11-22 09:14 in China */
	.lookup_code = "M3X9TQ",
	.priority = true,
};

/* GB18030 of "社保医保" and "前面还有 12 人", and the QR store command. */
static const uint8_t gb_service[] = { 0xc9, 0xe7, 0xb1, 0xa3, 0xd2, 0xbd, 0xb1, 0xa3 };
static const uint8_t gb_ahead[] = { 0xc7, 0xb0, 0xc3, 0xe6, 0xbb, 0xb9, 0xd3,
				    0xd0, ' ',	'1',  '2',  ' ',  0xc8, 0xcb };
static const uint8_t qr_store[] = {
	0x1d, '(', 'k', 9, 0, 49, 80, 48, 'M', '3', 'X', '9', 'T', 'Q'
};

static char dir[PATH_MAX];

static int setup_dir(void **state)
{
	return test_tmpdir(dir, sizeof(dir), "test_print_sim");
}

static int teardown_dir(void **state)
{
	return test_rmtree(dir);
}

static unsigned count_jobs(const char *path)
{
	struct dirent *de;
	unsigned n = 0;
	DIR *d = opendir(path);

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		n += de->d_name[0] != '.';
	}
	closedir(d);
	return n;
}

static void check_ticket_bytes(const uint8_t *job, size_t len)
{
	uint8_t want[PRINT_TICKET_MAX];
	int n = print_ticket_render(&sample, want, sizeof(want));

	assert_true(n > 0);
	assert_int_equal(len, (size_t)n);
	assert_memory_equal(job, want, len);
	assert_non_null(memmem(job, len, gb_service, sizeof(gb_service)));
	assert_non_null(memmem(job, len, gb_ahead, sizeof(gb_ahead)));
	assert_non_null(memmem(job, len, qr_store, sizeof(qr_store)));
	/* Never a real-time status request inside a job. */
	assert_null(memmem(job, len, "\x10\x04", 2));
}

static void test_sim_printer(void **state)
{
	static const struct {
		enum hal_printer_state state;
		int err;
	} faults[] = {
		{ HAL_PRINTER_PAPER_OUT, -ENOSPC },
		{ HAL_PRINTER_COVER_OPEN, -EBUSY },
		{ HAL_PRINTER_OFFLINE, -ENODEV },
		{ HAL_PRINTER_ERROR, -EIO },
	};
	struct sim_printer sp;
	char path[PATH_MAX];
	uint8_t *job;
	size_t len;

	assert_int_equal(sim_printer_init(&sp, dir), 0);
	assert_int_equal(print_ticket(&sp.dev, &sample), 0);
	assert_int_equal(count_jobs(dir), 1);
	assert_int_equal(sim_printer_last_job(&sp.dev, path, sizeof(path)), 0);
	job = test_file_read(path, &len);
	check_ticket_bytes(job, len);
	free(job);

	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
		assert_int_equal(sim_printer_set_state(&sp.dev, faults[i].state), 0);
		assert_int_equal(print_ticket(&sp.dev, &sample), faults[i].err);
		assert_int_equal(count_jobs(dir), 1);
	}
	assert_int_equal(sim_printer_set_state(&sp.dev, HAL_PRINTER_PAPER_LOW), 0);
	assert_int_equal(print_ticket(&sp.dev, &sample), 0);
	assert_int_equal(count_jobs(dir), 2);
	sim_printer_deinit(&sp);
}

/* ---- a printer on a pty master ----------------------------------------------- */

struct pty_printer {
	int master;
	char slave[64];
	pthread_t thread;
	atomic_bool quit;
	pthread_mutex_t lock;
	uint8_t answer[5]; /* reply to DLE EOT 1..4 */
	bool silent;
	uint8_t rx[16 * 1024];
	size_t rx_len;
	bool overflow;
};

static void pp_keep(struct pty_printer *pp, uint8_t b)
{
	pthread_mutex_lock(&pp->lock);
	if (pp->rx_len < sizeof(pp->rx)) {
		pp->rx[pp->rx_len++] = b;
	} else {
		pp->overflow = true;
	}
	pthread_mutex_unlock(&pp->lock);
}

/* st: 0 data, 1 after DLE, 2 after DLE EOT (the next byte is n). */
static void pp_take(struct pty_printer *pp, uint8_t b, int *st)
{
	uint8_t reply;
	bool silent;

	if (*st == 2) {
		*st = 0;
		pthread_mutex_lock(&pp->lock);
		reply = b >= 1 && b <= 4 ? pp->answer[b] : 0;
		silent = pp->silent;
		pthread_mutex_unlock(&pp->lock);
		if (!silent) {
			fdio_write(pp->master, &reply, 1, 1000);
		}
		return;
	}
	if (*st == 1) {
		*st = 0;
		if (b == 0x04) {
			*st = 2;
			return;
		}
		pp_keep(pp, 0x10);
	}
	if (b == 0x10) {
		*st = 1;
		return;
	}
	pp_keep(pp, b);
}

static void *pp_run(void *arg)
{
	struct pty_printer *pp = arg;
	struct timespec nap = { .tv_nsec = 2000000L };
	uint8_t buf[512];
	int st = 0;
	int n;

	while (!atomic_load(&pp->quit)) {
		n = fdio_read(pp->master, buf, sizeof(buf), 10);
		if (n == -EIO) {
			/* The driver has the slave closed between jobs. */
			nanosleep(&nap, NULL);
			continue;
		}
		for (int i = 0; i < n; i++) {
			pp_take(pp, buf[i], &st);
		}
	}
	return NULL;
}

static void pp_set(struct pty_printer *pp, uint8_t st1, uint8_t st2, uint8_t st4, bool silent)
{
	pthread_mutex_lock(&pp->lock);
	pp->answer[1] = st1;
	pp->answer[2] = st2;
	pp->answer[3] = 0x12;
	pp->answer[4] = st4;
	pp->silent = silent;
	pthread_mutex_unlock(&pp->lock);
}

static size_t pp_take_rx(struct pty_printer *pp, uint8_t *out, size_t cap)
{
	size_t n;

	pthread_mutex_lock(&pp->lock);
	assert_false(pp->overflow);
	n = pp->rx_len < cap ? pp->rx_len : cap;
	memcpy(out, pp->rx, n);
	pp->rx_len = 0;
	pthread_mutex_unlock(&pp->lock);
	return n;
}

static void test_linux_printer_on_pty(void **state)
{
	/* Status bytes as in the hal_linux test: ready, paper out, cover open. */
	static const struct {
		uint8_t st1, st2, st4;
		bool silent;
		int err;
	} faults[] = {
		{ 0x12, 0x12, 0x72, false, -ENOSPC },
		{ 0x1a, 0x16, 0x12, false, -EBUSY },
		{ 0x1a, 0x52, 0x12, false, -EIO },
		{ 0x12, 0x12, 0x12, true, -ENODEV },
	};
	static struct pty_printer pp;
	static uint8_t got[16 * 1024];
	struct linux_printer lp;

	memset(&pp, 0, sizeof(pp));
	pp.master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	assert_true(pp.master >= 0);
	assert_int_equal(grantpt(pp.master), 0);
	assert_int_equal(unlockpt(pp.master), 0);
	assert_int_equal(ptsname_r(pp.master, pp.slave, sizeof(pp.slave)), 0);
	assert_int_equal(fcntl(pp.master, F_SETFL, O_NONBLOCK), 0);
	pthread_mutex_init(&pp.lock, NULL);
	pp_set(&pp, 0x12, 0x12, 0x12, false);
	assert_int_equal(pthread_create(&pp.thread, NULL, pp_run, &pp), 0);

	assert_int_equal(linux_printer_init_path(&lp, pp.slave), 0);
	assert_int_equal(linux_printer_set_timeouts(&lp, 100, 2000), 0);

	assert_int_equal(print_ticket(&lp.dev, &sample), 0);
	check_ticket_bytes(got, pp_take_rx(&pp, got, sizeof(got)));

	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
		pp_set(&pp, faults[i].st1, faults[i].st2, faults[i].st4, faults[i].silent);
		assert_int_equal(print_ticket(&lp.dev, &sample), faults[i].err);
		assert_int_equal(pp_take_rx(&pp, got, sizeof(got)), 0);
	}
	pp_set(&pp, 0x12, 0x12, 0x12, false);
	assert_int_equal(print_ticket(&lp.dev, &sample), 0);
	check_ticket_bytes(got, pp_take_rx(&pp, got, sizeof(got)));

	linux_printer_deinit(&lp);
	atomic_store(&pp.quit, true);
	pthread_join(pp.thread, NULL);
	pthread_mutex_destroy(&pp.lock);
	close(pp.master);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sim_printer, setup_dir, teardown_dir),
		cmocka_unit_test(test_linux_printer_on_pty),
	};

	setenv("TZ", "CST-8", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
