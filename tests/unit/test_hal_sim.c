/*
 * Tests of the sim board's drivers (printer to files, software watchdog,
 * serial on a pseudo-terminal, indicators in memory) and of the code all
 * boards share (system clock, printer state names). The watchdog tests
 * wait on real time, bounded to a few hundred milliseconds, through the
 * millisecond back-door; everything else is immediate.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

/* Format a path into a char array, failing the test if it does not fit. */
#define PATHF(buf, ...) assert_true((size_t)snprintf(buf, sizeof(buf), __VA_ARGS__) < sizeof(buf))

#include "fake_printer.h"
#include "hal/clock.h"
#include "hal/printer.h"
#include "hal/serial.h"
#include "hal_common/fd_io.h"
#include "hal_sim/indicator_mem.h"
#include "hal_sim/printer_file.h"
#include "hal_sim/serial_pty.h"
#include "hal_sim/watchdog_soft.h"

/* ---- temporary directories -------------------------------------------- */

static char tmp_root[PATH_MAX];

static void make_tmp(char *dir, size_t size)
{
	const char *base = getenv("HE_TEST_TMP");

	if (base == NULL) {
		base = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : ".";
	}
	if (mkdir(base, 0700) != 0) {
		assert_int_equal(errno, EEXIST);
	}
	assert_true((size_t)snprintf(dir, size, "%s/hal-sim-XXXXXX", base) < size);
	assert_non_null(mkdtemp(dir));
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void rm_tree(const char *dir)
{
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static int setup_tmp(void **state)
{
	make_tmp(tmp_root, sizeof(tmp_root));
	return 0;
}

static int teardown_tmp(void **state)
{
	rm_tree(tmp_root);
	return 0;
}

/* Entries of dir whose names start with prefix. */
static int count_files(const char *dir, const char *prefix)
{
	struct dirent *de;
	int n = 0;
	DIR *d = opendir(dir);

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0) {
			n++;
		}
	}
	closedir(d);
	return n;
}

static size_t read_file(const char *path, uint8_t *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, size);
	close(fd);
	assert_true(n >= 0);
	return (size_t)n;
}

/* ---- common: clock and names ------------------------------------------ */

static void test_system_clock(void **state)
{
	int64_t wall = hal_clock_wall_ms(&hal_clock_system);
	int64_t m1 = hal_clock_mono_ms(&hal_clock_system);
	int64_t m2 = hal_clock_mono_ms(&hal_clock_system);

	assert_true(llabs(wall - (int64_t)time(NULL) * 1000) < 5000);
	assert_true(m1 > 0);
	assert_true(m2 >= m1);
}

static void test_printer_state_names(void **state)
{
	const char *names[HAL_PRINTER_ERROR + 1];

	for (int i = 0; i <= HAL_PRINTER_ERROR; i++) {
		names[i] = hal_printer_state_name((enum hal_printer_state)i);
		assert_string_not_equal(names[i], "unknown");
		for (int j = 0; j < i; j++) {
			assert_string_not_equal(names[i], names[j]);
		}
	}
	assert_string_equal(hal_printer_state_name(HAL_PRINTER_PAPER_OUT), "paper-out");
	assert_string_equal(hal_printer_state_name((enum hal_printer_state)99), "unknown");
	assert_string_equal(hal_printer_state_name((enum hal_printer_state) - 1), "unknown");
}

/* ---- sim printer ------------------------------------------------------- */

static const uint8_t job1[] = { 0x1b, '@', 'A', '0', '0', '1', '\n', 0x00, 0xff, 0x1d, 'V', 0 };

static void test_printer_writes_job_file(void **state)
{
	struct sim_printer sp;
	enum hal_printer_state st;
	char path[PATH_MAX];
	uint8_t buf[64];
	const char *name;

	assert_int_equal(sim_printer_init(&sp, tmp_root), 0);
	assert_int_equal(sim_printer_last_job(&sp.dev, path, sizeof(path)), -ENOENT);
	assert_int_equal(hal_printer_status(&sp.dev, &st), 0);
	assert_int_equal(st, HAL_PRINTER_READY);

	assert_int_equal(hal_printer_print(&sp.dev, job1, sizeof(job1)), 0);
	assert_int_equal(sim_printer_last_job(&sp.dev, path, sizeof(path)), 0);
	name = strrchr(path, '/') + 1;
	/* job-000001-YYYYmmddTHHMMSSZ.escpos */
	assert_int_equal(strncmp(name, "job-000001-", 11), 0);
	assert_int_equal(strlen(name), strlen("job-000001-20250101T000000Z.escpos"));
	assert_string_equal(name + strlen(name) - 7, ".escpos");
	assert_int_equal(read_file(path, buf, sizeof(buf)), sizeof(job1));
	assert_memory_equal(buf, job1, sizeof(job1));

	assert_int_equal(hal_printer_print(&sp.dev, job1, 3), 0);
	assert_int_equal(count_files(tmp_root, "job-"), 2);
	assert_int_equal(count_files(tmp_root, "job-000002-"), 1);
	assert_int_equal(count_files(tmp_root, ".job-"), 0);
	assert_int_equal(sim_printer_last_job(&sp.dev, path, 8), -ENAMETOOLONG);
	sim_printer_deinit(&sp);
}

static void test_printer_refuses_when_faulted(void **state)
{
	static const struct {
		enum hal_printer_state st;
		int err;
	} cases[] = {
		{ HAL_PRINTER_PAPER_OUT, -ENOSPC },
		{ HAL_PRINTER_COVER_OPEN, -EBUSY },
		{ HAL_PRINTER_OFFLINE, -ENODEV },
		{ HAL_PRINTER_ERROR, -EIO },
	};
	struct sim_printer sp;
	enum hal_printer_state st;

	assert_int_equal(sim_printer_init(&sp, tmp_root), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(sim_printer_set_state(&sp.dev, cases[i].st), 0);
		assert_int_equal(hal_printer_status(&sp.dev, &st), 0);
		assert_int_equal(st, cases[i].st);
		assert_int_equal(hal_printer_print(&sp.dev, job1, sizeof(job1)), cases[i].err);
		assert_int_equal(count_files(tmp_root, "job-"), 0);
		assert_int_equal(count_files(tmp_root, ".job-"), 0);
	}
	/* Paper low still prints; back to ready prints as job 1 (no gaps). */
	assert_int_equal(sim_printer_set_state(&sp.dev, HAL_PRINTER_PAPER_LOW), 0);
	assert_int_equal(hal_printer_print(&sp.dev, job1, sizeof(job1)), 0);
	assert_int_equal(count_files(tmp_root, "job-000001-"), 1);
	assert_int_equal(sim_printer_set_state(&sp.dev, HAL_PRINTER_READY), 0);
	assert_int_equal(hal_printer_print(&sp.dev, job1, sizeof(job1)), 0);
	assert_int_equal(count_files(tmp_root, "job-000002-"), 1);
	sim_printer_deinit(&sp);
}

static void test_printer_numbering_survives_restart(void **state)
{
	struct sim_printer sp;
	char stale[PATH_MAX];
	int fd;

	assert_int_equal(sim_printer_init(&sp, tmp_root), 0);
	assert_int_equal(hal_printer_print(&sp.dev, job1, sizeof(job1)), 0);
	assert_int_equal(hal_printer_print(&sp.dev, job1, sizeof(job1)), 0);
	sim_printer_deinit(&sp);

	/* A crash in the middle of a job leaves its temporary file behind. */
	PATHF(stale, "%s/.job-000003.tmp", tmp_root);
	fd = open(stale, O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "half", 4), 4);
	close(fd);

	assert_int_equal(sim_printer_init(&sp, tmp_root), 0);
	assert_int_equal(count_files(tmp_root, ".job-"), 0);
	assert_int_equal(hal_printer_print(&sp.dev, job1, sizeof(job1)), 0);
	assert_int_equal(count_files(tmp_root, "job-000003-"), 1);
	assert_int_equal(count_files(tmp_root, "job-"), 3);
	sim_printer_deinit(&sp);
}

static void test_printer_bad_arguments(void **state)
{
	struct sim_printer sp;
	struct hal_printer other = { 0 };
	char missing[PATH_MAX];
	char longpath[PATH_MAX + 8];

	PATHF(missing, "%s/nope", tmp_root);
	assert_int_equal(sim_printer_init(&sp, missing), -ENOENT);
	assert_int_equal(sim_printer_init(&sp, NULL), -EINVAL);
	assert_int_equal(sim_printer_init(&sp, ""), -EINVAL);
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	assert_int_equal(sim_printer_init(&sp, longpath), -EINVAL);

	assert_int_equal(sim_printer_init(&sp, tmp_root), 0);
	assert_int_equal(hal_printer_print(&sp.dev, job1, 0), -EINVAL);
	assert_int_equal(hal_printer_print(&sp.dev, NULL, 4), -EINVAL);
	/* Refused on length alone: nothing is read from the buffer. */
	assert_int_equal(hal_printer_print(&sp.dev, job1, HAL_PRINTER_JOB_MAX + 1), -EINVAL);
	assert_int_equal(sim_printer_set_state(&sp.dev, (enum hal_printer_state)42), -EINVAL);
	fake_printer_init(&other);
	assert_int_equal(sim_printer_set_state(&other, HAL_PRINTER_OFFLINE), -EINVAL);
	assert_int_equal(sim_printer_set_state(NULL, HAL_PRINTER_OFFLINE), -EINVAL);
	assert_int_equal(count_files(tmp_root, "job-"), 0);
	sim_printer_deinit(&sp);
}

static void test_printer_spool_gone(void **state)
{
	struct sim_printer sp;
	char dir[PATH_MAX];

	PATHF(dir, "%s/spool", tmp_root);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(sim_printer_init(&sp, dir), 0);
	assert_int_equal(rmdir(dir), 0);
	assert_int_equal(hal_printer_print(&sp.dev, job1, sizeof(job1)), -EIO);
	/* Back again: the failed job did not use up a number. */
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(hal_printer_print(&sp.dev, job1, sizeof(job1)), 0);
	assert_int_equal(count_files(dir, "job-000001-"), 1);
	sim_printer_deinit(&sp);
}

/* ---- sim watchdog ------------------------------------------------------ */

struct expiry {
	sem_t sem;
	int64_t at_ms;
	int count;
};

static void on_expire(void *ctx)
{
	struct expiry *e = ctx;

	e->at_ms = fdio_now_ms();
	e->count++;
	sem_post(&e->sem);
}

static int sem_wait_ms(sem_t *sem, int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	while (sem_timedwait(sem, &ts) != 0) {
		if (errno != EINTR) {
			return -errno;
		}
	}
	return 0;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

static void test_watchdog_expires_without_kick(void **state)
{
	struct sim_watchdog sw;
	struct expiry e = { 0 };
	int64_t t0;

	assert_int_equal(sem_init(&e.sem, 0, 0), 0);
	assert_int_equal(sim_watchdog_init(&sw), 0);
	assert_int_equal(sim_watchdog_set_action(&sw.dev, on_expire, &e), 0);
	t0 = fdio_now_ms();
	assert_int_equal(sim_watchdog_start_ms(&sw.dev, 50), 0);
	assert_int_equal(sem_wait_ms(&e.sem, 2000), 0);
	assert_true(e.at_ms - t0 >= 50);
	assert_true(e.at_ms - t0 < 1000);
	/* Fired once and disarmed itself; a kick now is refused. */
	assert_int_equal(hal_watchdog_kick(&sw.dev), -EBADF);
	assert_int_equal(sem_wait_ms(&e.sem, 100), -ETIMEDOUT);
	assert_int_equal(e.count, 1);

	/* Re-armed, it watches again. */
	assert_int_equal(sim_watchdog_start_ms(&sw.dev, 20), 0);
	assert_int_equal(sem_wait_ms(&e.sem, 2000), 0);
	assert_int_equal(e.count, 2);
	sim_watchdog_deinit(&sw);
	sem_destroy(&e.sem);
}

static void test_watchdog_kicks_keep_it_quiet(void **state)
{
	struct sim_watchdog sw;
	struct expiry e = { 0 };

	assert_int_equal(sem_init(&e.sem, 0, 0), 0);
	assert_int_equal(sim_watchdog_init(&sw), 0);
	assert_int_equal(sim_watchdog_set_action(&sw.dev, on_expire, &e), 0);
	assert_int_equal(sim_watchdog_start_ms(&sw.dev, 100), 0);
	/* 300 ms of kicks every 20 ms: three timeouts' worth, none missed. */
	for (int i = 0; i < 15; i++) {
		sleep_ms(20);
		assert_int_equal(hal_watchdog_kick(&sw.dev), 0);
	}
	assert_int_equal(e.count, 0);
	/* Stopped, it stays quiet past its timeout. */
	hal_watchdog_stop(&sw.dev);
	assert_int_equal(sem_wait_ms(&e.sem, 200), -ETIMEDOUT);
	assert_int_equal(e.count, 0);
	assert_int_equal(hal_watchdog_kick(&sw.dev), -EBADF);
	sim_watchdog_deinit(&sw);
	sem_destroy(&e.sem);
}

static void test_watchdog_default_ends_process(void **state)
{
	int status = 0;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		struct sim_watchdog sw;

		if (sim_watchdog_init(&sw) != 0 || sim_watchdog_start_ms(&sw.dev, 20) != 0) {
			_exit(90);
		}
		sleep_ms(2000);
		_exit(91); /* the watchdog did not fire */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), SIM_WATCHDOG_EXIT_CODE);
}

static void test_watchdog_bad_arguments(void **state)
{
	struct sim_watchdog sw;

	assert_int_equal(sim_watchdog_init(&sw), 0);
	assert_int_equal(hal_watchdog_kick(&sw.dev), -EBADF);
	hal_watchdog_stop(&sw.dev); /* not started: harmless */
	assert_int_equal(hal_watchdog_start(&sw.dev, 0), -EINVAL);
	assert_int_equal(hal_watchdog_start(&sw.dev, HAL_WATCHDOG_TIMEOUT_MAX_S + 1), -EINVAL);
	assert_int_equal(sim_watchdog_start_ms(&sw.dev, 0), -EINVAL);
	assert_int_equal(sim_watchdog_start_ms(&sw.dev, -5), -EINVAL);
	/* Seconds-long arming, kicked and stopped without waiting. */
	assert_int_equal(hal_watchdog_start(&sw.dev, 1), 0);
	assert_int_equal(hal_watchdog_kick(&sw.dev), 0);
	hal_watchdog_stop(&sw.dev);
	assert_int_equal(sim_watchdog_set_action(NULL, NULL, NULL), -EINVAL);
	sim_watchdog_deinit(&sw);
}

/* ---- sim serial -------------------------------------------------------- */

static const struct hal_serial_cfg cfg_9600 = {
	.baud = 9600, .parity = 'N', .data_bits = 8, .stop_bits = 1
};

/* Read exactly len bytes from fd within 2 s. */
static void peer_read_all(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;
	int n;

	while (got < len) {
		n = fdio_read(fd, buf + got, len - got, 2000);
		assert_true(n > 0);
		got += (size_t)n;
	}
}

static void serial_read_all(struct hal_serial *s, uint8_t *buf, size_t len)
{
	size_t got = 0;
	int n;

	while (got < len) {
		n = hal_serial_read(s, buf + got, len - got, 2000);
		assert_true(n > 0);
		got += (size_t)n;
	}
}

static void test_serial_round_trip(void **state)
{
	static const uint8_t to_fw[] = { 'h', 'i', '\r', '\n', 0x00, 0x03, 0x7f, 0xff, 0x11, 0x13 };
	struct sim_serial ss;
	uint8_t out[300];
	uint8_t in[300];
	int peer;

	assert_int_equal(sim_serial_init(&ss), 0);
	assert_string_equal(hal_serial_path(&ss.dev), sim_serial_peer_path(&ss.dev));
	assert_int_equal(strncmp(sim_serial_peer_path(&ss.dev), "/dev/pts/", 9), 0);
	assert_int_equal(hal_serial_open(&ss.dev, &cfg_9600), 0);

	peer = open(sim_serial_peer_path(&ss.dev), O_RDWR | O_NOCTTY | O_NONBLOCK);
	assert_true(peer >= 0);
	/* Peer to firmware: bytes cross unchanged (no CR/LF mapping, no XON/XOFF). */
	assert_int_equal(fdio_write(peer, to_fw, sizeof(to_fw), 1000), sizeof(to_fw));
	serial_read_all(&ss.dev, in, sizeof(to_fw));
	assert_memory_equal(in, to_fw, sizeof(to_fw));
	/* Firmware to peer, all 256 byte values and more. */
	for (size_t i = 0; i < sizeof(out); i++) {
		out[i] = (uint8_t)(i * 7);
	}
	assert_int_equal(hal_serial_write(&ss.dev, out, sizeof(out), 1000), sizeof(out));
	peer_read_all(peer, in, sizeof(out));
	assert_memory_equal(in, out, sizeof(out));
	/* Nothing echoed back to the firmware. */
	assert_int_equal(hal_serial_read(&ss.dev, in, sizeof(in), 0), -ETIMEDOUT);

	/* A peer that goes away is silence, not an error. */
	close(peer);
	assert_int_equal(hal_serial_read(&ss.dev, in, sizeof(in), 10), -ETIMEDOUT);
	peer = open(sim_serial_peer_path(&ss.dev), O_RDWR | O_NOCTTY | O_NONBLOCK);
	assert_true(peer >= 0);
	assert_int_equal(fdio_write(peer, "x", 1, 1000), 1);
	serial_read_all(&ss.dev, in, 1);
	assert_int_equal(in[0], 'x');
	close(peer);
	hal_serial_close(&ss.dev);
	sim_serial_deinit(&ss);
}

static void test_serial_timeouts_and_states(void **state)
{
	struct hal_serial_cfg bad = cfg_9600;
	struct sim_serial ss;
	uint8_t buf[8];
	int64_t t0;
	int peer;

	assert_int_equal(sim_serial_init(&ss), 0);
	assert_int_equal(hal_serial_read(&ss.dev, buf, sizeof(buf), 0), -EBADF);
	assert_int_equal(hal_serial_write(&ss.dev, "x", 1, 0), -EBADF);
	bad.baud = 1234;
	assert_int_equal(hal_serial_open(&ss.dev, &bad), -EINVAL);
	bad = cfg_9600;
	bad.parity = 'X';
	assert_int_equal(hal_serial_open(&ss.dev, &bad), -EINVAL);
	assert_int_equal(hal_serial_open(&ss.dev, NULL), -EINVAL);

	/* Bytes sent before the firmware opened its side are gone after open. */
	peer = open(sim_serial_peer_path(&ss.dev), O_RDWR | O_NOCTTY | O_NONBLOCK);
	assert_true(peer >= 0);
	assert_int_equal(fdio_write(peer, "stale", 5, 1000), 5);
	sleep_ms(10);
	assert_int_equal(hal_serial_open(&ss.dev, &cfg_9600), 0);
	t0 = fdio_now_ms();
	assert_int_equal(hal_serial_read(&ss.dev, buf, sizeof(buf), 30), -ETIMEDOUT);
	assert_true(fdio_now_ms() - t0 >= 30);
	assert_true(fdio_now_ms() - t0 < 1000);
	assert_int_equal(hal_serial_read(&ss.dev, buf, 0, 10), -EINVAL);
	assert_int_equal(hal_serial_read(&ss.dev, buf, sizeof(buf), -1), -EINVAL);

	hal_serial_close(&ss.dev);
	assert_int_equal(hal_serial_read(&ss.dev, buf, sizeof(buf), 0), -EBADF);
	hal_serial_close(&ss.dev);
	close(peer);
	sim_serial_deinit(&ss);
	assert_null(sim_serial_peer_path(&ss.dev));
}

/* ---- sim indicators ---------------------------------------------------- */

static void test_indicators(void **state)
{
	struct sim_indicator si;
	enum hal_indicator_mode mode;

	sim_indicator_init(&si);
	for (int id = 0; id < HAL_IND_COUNT; id++) {
		assert_int_equal(sim_indicator_get(&si.dev, (enum hal_indicator_id)id, &mode), 0);
		assert_int_equal(mode, HAL_IND_OFF);
	}
	assert_int_equal(hal_indicator_set(&si.dev, HAL_IND_ALERT, HAL_IND_BLINK_FAST), 0);
	assert_int_equal(hal_indicator_set(&si.dev, HAL_IND_UPLINK, HAL_IND_ON), 0);
	assert_int_equal(hal_indicator_set(&si.dev, HAL_IND_BUZZER, HAL_IND_BLINK_SLOW), 0);
	assert_int_equal(sim_indicator_get(&si.dev, HAL_IND_ALERT, &mode), 0);
	assert_int_equal(mode, HAL_IND_BLINK_FAST);
	assert_int_equal(sim_indicator_get(&si.dev, HAL_IND_UPLINK, &mode), 0);
	assert_int_equal(mode, HAL_IND_ON);
	assert_int_equal(sim_indicator_get(&si.dev, HAL_IND_BUZZER, &mode), 0);
	assert_int_equal(mode, HAL_IND_BLINK_SLOW);
	assert_int_equal(sim_indicator_get(&si.dev, HAL_IND_STATUS, &mode), 0);
	assert_int_equal(mode, HAL_IND_OFF);
	assert_int_equal(hal_indicator_set(&si.dev, HAL_IND_ALERT, HAL_IND_OFF), 0);
	assert_int_equal(sim_indicator_get(&si.dev, HAL_IND_ALERT, &mode), 0);
	assert_int_equal(mode, HAL_IND_OFF);

	assert_int_equal(hal_indicator_set(&si.dev, HAL_IND_COUNT, HAL_IND_ON), -ENODEV);
	assert_int_equal(hal_indicator_set(&si.dev, HAL_IND_STATUS, (enum hal_indicator_mode)7),
			 -EINVAL);
	assert_int_equal(sim_indicator_get(&si.dev, HAL_IND_COUNT, &mode), -EINVAL);
	assert_int_equal(sim_indicator_get(NULL, HAL_IND_STATUS, &mode), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_system_clock),
		cmocka_unit_test(test_printer_state_names),
		cmocka_unit_test_setup_teardown(test_printer_writes_job_file, setup_tmp,
						teardown_tmp),
		cmocka_unit_test_setup_teardown(test_printer_refuses_when_faulted, setup_tmp,
						teardown_tmp),
		cmocka_unit_test_setup_teardown(test_printer_numbering_survives_restart, setup_tmp,
						teardown_tmp),
		cmocka_unit_test_setup_teardown(test_printer_bad_arguments, setup_tmp,
						teardown_tmp),
		cmocka_unit_test_setup_teardown(test_printer_spool_gone, setup_tmp, teardown_tmp),
		cmocka_unit_test(test_watchdog_expires_without_kick),
		cmocka_unit_test(test_watchdog_kicks_keep_it_quiet),
		cmocka_unit_test(test_watchdog_default_ends_process),
		cmocka_unit_test(test_watchdog_bad_arguments),
		cmocka_unit_test(test_serial_round_trip),
		cmocka_unit_test(test_serial_timeouts_and_states),
		cmocka_unit_test(test_indicators),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
