/*
 * Tests of the Linux drivers without hardware or root. The termios serial
 * port runs on a real pseudo-terminal pair (a pty slave is a tty, so
 * termios and the RS-485 ioctl are really exercised); the watchdog writes
 * into a FIFO the test reads; the printer talks to a small ESC/POS printer
 * played by a thread on the pty master (and, for fault paths, by a RAM
 * serial port); the LEDs use a directory laid out like /sys/class/leds.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

/* Format a path into a char array, failing the test if it does not fit. */
#define PATHF(buf, ...) assert_true((size_t)snprintf(buf, sizeof(buf), __VA_ARGS__) < sizeof(buf))

#include "fake_serial.h"
#include "hal_common/fd_io.h"
#include "hal_linux/leds_sysfs.h"
#include "hal_linux/printer_dev.h"
#include "hal_linux/serial_termios.h"
#include "hal_linux/watchdog_dev.h"

/* ---- temporary directory ----------------------------------------------- */

static char tmp_root[PATH_MAX];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int setup_tmp(void **state)
{
	const char *base = getenv("HE_TEST_TMP");

	if (base == NULL) {
		base = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : ".";
	}
	if (mkdir(base, 0700) != 0 && errno != EEXIST) {
		return -1;
	}
	PATHF(tmp_root, "%s/hal-linux-XXXXXX", base);
	return mkdtemp(tmp_root) != NULL ? 0 : -1;
}

static int teardown_tmp(void **state)
{
	nftw(tmp_root, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* ---- pseudo-terminal pair ------------------------------------------------ */

struct pty {
	int master;
	char slave[64];
};

static void pty_make(struct pty *p)
{
	p->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	assert_true(p->master >= 0);
	assert_int_equal(grantpt(p->master), 0);
	assert_int_equal(unlockpt(p->master), 0);
	assert_int_equal(ptsname_r(p->master, p->slave, sizeof(p->slave)), 0);
	assert_int_equal(fcntl(p->master, F_SETFL, O_NONBLOCK), 0);
}

static void master_read_all(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;
	int n;

	while (got < len) {
		n = fdio_read(fd, buf + got, len - got, 2000);
		assert_true(n > 0);
		got += (size_t)n;
	}
}

/* ---- termios serial ---------------------------------------------------------- */

/*
 * A pty applies speed, stop bits and the raw flags but forces CS8 and no
 * parity, so what the driver asked for is captured at the libc boundary
 * (linked with -Wl,--wrap=tcsetattr) and the rest is read back from the pty.
 */
int __real_tcsetattr(int fd, int act, const struct termios *tio);
int __wrap_tcsetattr(int fd, int act, const struct termios *tio);

static struct termios asked_tio;

int __wrap_tcsetattr(int fd, int act, const struct termios *tio)
{
	asked_tio = *tio;
	return __real_tcsetattr(fd, act, tio);
}

static const struct hal_serial_cfg cfg_115200_8e1 = {
	.baud = 115200, .parity = 'E', .data_bits = 8, .stop_bits = 1
};

static void test_serial_on_pty(void **state)
{
	static const uint8_t from_dev[] = { 0x01, 0x03, 0x00, 0x10, 0x00, 0x02, 0xc5, 0xce,
					    '\r', '\n', 0x11, 0x13, 0x7f, 0x00, 0xff };
	struct linux_serial ls;
	struct termios tio;
	uint8_t out[1000];
	uint8_t in[1000];
	struct pty p;
	size_t got = 0;
	int n;

	pty_make(&p);
	assert_int_equal(linux_serial_init(&ls, p.slave), 0);
	assert_string_equal(hal_serial_path(&ls.dev), p.slave);
	assert_int_equal(hal_serial_open(&ls.dev, &cfg_115200_8e1), 0);

	assert_int_equal(asked_tio.c_cflag & CSIZE, CS8);
	assert_true(asked_tio.c_cflag & PARENB);
	assert_false(asked_tio.c_cflag & PARODD);
	assert_false(asked_tio.c_cflag & CRTSCTS);
	assert_true(asked_tio.c_cflag & CLOCAL);
	/* The master's termios calls act on the slave: check what was applied. */
	assert_int_equal(tcgetattr(p.master, &tio), 0);
	assert_int_equal(cfgetospeed(&tio), B115200);
	assert_int_equal(cfgetispeed(&tio), B115200);
	assert_false(tio.c_cflag & CSTOPB);
	assert_false(tio.c_lflag & (ICANON | ECHO | ISIG));
	assert_false(tio.c_iflag & (IXON | ICRNL));
	assert_false(tio.c_oflag & OPOST);

	/* Device to driver: bytes arrive unchanged. */
	assert_int_equal(fdio_write(p.master, from_dev, sizeof(from_dev), 1000), sizeof(from_dev));
	while (got < sizeof(from_dev)) {
		n = hal_serial_read(&ls.dev, in + got, sizeof(in) - got, 2000);
		assert_true(n > 0);
		got += (size_t)n;
	}
	assert_int_equal(got, sizeof(from_dev));
	assert_memory_equal(in, from_dev, sizeof(from_dev));

	/* Driver to device. */
	for (size_t i = 0; i < sizeof(out); i++) {
		out[i] = (uint8_t)(i * 13 + 1);
	}
	assert_int_equal(hal_serial_write(&ls.dev, out, sizeof(out), 2000), sizeof(out));
	master_read_all(p.master, in, sizeof(out));
	assert_memory_equal(in, out, sizeof(out));
	/* No echo of what the device sent. */
	assert_int_equal(fdio_read(p.master, in, sizeof(in), 0), -ETIMEDOUT);

	hal_serial_close(&ls.dev);
	linux_serial_deinit(&ls);
	close(p.master);
}

static void test_serial_settings(void **state)
{
	struct hal_serial_cfg cfg = cfg_115200_8e1;
	struct linux_serial ls;
	struct termios tio;
	uint8_t buf[4];
	struct pty p;
	int64_t t0;

	pty_make(&p);
	assert_int_equal(linux_serial_init(&ls, p.slave), 0);
	assert_int_equal(hal_serial_read(&ls.dev, buf, sizeof(buf), 0), -EBADF);

	static const int bad_bauds[] = { 0, -9600, 1234, 9601, 2000000, 110 };
	for (size_t i = 0; i < sizeof(bad_bauds) / sizeof(bad_bauds[0]); i++) {
		cfg.baud = bad_bauds[i];
		assert_int_equal(hal_serial_open(&ls.dev, &cfg), -EINVAL);
	}
	cfg = cfg_115200_8e1;
	cfg.parity = 'M';
	assert_int_equal(hal_serial_open(&ls.dev, &cfg), -EINVAL);
	cfg = cfg_115200_8e1;
	cfg.data_bits = 9;
	assert_int_equal(hal_serial_open(&ls.dev, &cfg), -EINVAL);
	cfg = cfg_115200_8e1;
	cfg.stop_bits = 0;
	assert_int_equal(hal_serial_open(&ls.dev, &cfg), -EINVAL);
	/* Refused settings did not leave the port open. */
	assert_int_equal(hal_serial_read(&ls.dev, buf, sizeof(buf), 0), -EBADF);

	/* 7O2 at 9600 with RS-485: a pty has no TIOCSRS485, which is tolerated. */
	cfg = (struct hal_serial_cfg){
		.baud = 9600, .parity = 'O', .data_bits = 7, .stop_bits = 2, .rs485 = true
	};
	assert_int_equal(hal_serial_open(&ls.dev, &cfg), 0);
	assert_int_equal(asked_tio.c_cflag & CSIZE, CS7);
	assert_true(asked_tio.c_cflag & PARENB);
	assert_true(asked_tio.c_cflag & PARODD);
	assert_int_equal(tcgetattr(p.master, &tio), 0);
	assert_int_equal(cfgetospeed(&tio), B9600);
	assert_true(tio.c_cflag & CSTOPB);
	/* Opening again re-applies new settings on the same port. */
	assert_int_equal(hal_serial_open(&ls.dev, &cfg_115200_8e1), 0);
	assert_int_equal(asked_tio.c_cflag & CSIZE, CS8);
	assert_false(asked_tio.c_cflag & PARODD);
	assert_int_equal(tcgetattr(p.master, &tio), 0);
	assert_int_equal(cfgetospeed(&tio), B115200);
	assert_false(tio.c_cflag & CSTOPB);

	t0 = fdio_now_ms();
	assert_int_equal(hal_serial_read(&ls.dev, buf, sizeof(buf), 30), -ETIMEDOUT);
	assert_true(fdio_now_ms() - t0 >= 30 && fdio_now_ms() - t0 < 1000);
	assert_int_equal(hal_serial_write(&ls.dev, buf, 0, 10), -EINVAL);
	assert_int_equal(hal_serial_read(&ls.dev, buf, sizeof(buf), FDIO_TIMEOUT_MAX_MS + 1),
			 -EINVAL);
	hal_serial_close(&ls.dev);
	hal_serial_close(&ls.dev);
	linux_serial_deinit(&ls);
	close(p.master);
}

static void test_serial_missing_and_not_a_tty(void **state)
{
	struct linux_serial ls;
	char path[PATH_MAX];
	int fd;

	PATHF(path, "%s/ttyNONE", tmp_root);
	assert_int_equal(linux_serial_init(&ls, path), 0);
	assert_int_equal(hal_serial_open(&ls.dev, &cfg_115200_8e1), -ENOENT);

	fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(hal_serial_open(&ls.dev, &cfg_115200_8e1), -EIO);
	assert_int_equal(hal_serial_write(&ls.dev, "x", 1, 0), -EBADF);
	linux_serial_deinit(&ls);

	assert_int_equal(linux_serial_init(&ls, ""), -EINVAL);
	assert_int_equal(linux_serial_init(&ls, NULL), -EINVAL);
}

/* ---- watchdog on a FIFO ------------------------------------------------------ */

static void test_watchdog_on_fifo(void **state)
{
	struct linux_watchdog lw;
	char path[PATH_MAX];
	char buf[16];
	int rd;

	PATHF(path, "%s/watchdog", tmp_root);
	assert_int_equal(linux_watchdog_init(&lw, path), 0);
	/* No device at all. */
	assert_int_equal(hal_watchdog_start(&lw.dev, 10), -ENODEV);
	assert_int_equal(mkfifo(path, 0600), 0);
	/* A device nobody reads (FIFO without a reader) is absent, not a hang. */
	assert_int_equal(hal_watchdog_start(&lw.dev, 10), -ENODEV);

	rd = open(path, O_RDONLY | O_NONBLOCK);
	assert_true(rd >= 0);
	assert_int_equal(hal_watchdog_kick(&lw.dev), -EBADF);
	assert_int_equal(hal_watchdog_start(&lw.dev, 0), -EINVAL);
	assert_int_equal(hal_watchdog_start(&lw.dev, HAL_WATCHDOG_TIMEOUT_MAX_S + 1), -EINVAL);
	/* A FIFO has no WDIOC_SETTIMEOUT (ENOTTY): accepted. Start kicks once. */
	assert_int_equal(hal_watchdog_start(&lw.dev, 10), 0);
	assert_int_equal(hal_watchdog_kick(&lw.dev), 0);
	assert_int_equal(hal_watchdog_kick(&lw.dev), 0);
	/* Re-arming with another timeout keeps the device open and kicks. */
	assert_int_equal(hal_watchdog_start(&lw.dev, 30), 0);
	hal_watchdog_stop(&lw.dev);
	assert_int_equal(read(rd, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "kkkkV", 5);
	/* Closed after the magic 'V': the reader sees end of file. */
	assert_int_equal(read(rd, buf, sizeof(buf)), 0);
	assert_int_equal(hal_watchdog_kick(&lw.dev), -EBADF);
	hal_watchdog_stop(&lw.dev);
	close(rd);
	assert_int_equal(linux_watchdog_init(&lw, ""), -EINVAL);
}

/* ---- ESC/POS printer played on a pty master ---------------------------------- */

struct escpos_sim {
	int master;
	pthread_t thread;
	atomic_bool quit;
	pthread_mutex_t lock;
	uint8_t answer[5]; /* status byte for DLE EOT 1..4 */
	bool silent;
	unsigned queries;
	unsigned reply_failures; /* checked by the test thread: no cmocka asserts here */
	uint8_t rx[64 * 1024];	 /* job bytes received (status requests removed) */
	size_t rx_len;
};

static void escpos_take(struct escpos_sim *es, uint8_t b, int *st)
{
	uint8_t reply;

	if (*st == 2) {
		*st = 0;
		pthread_mutex_lock(&es->lock);
		es->queries++;
		reply = b >= 1 && b <= 4 ? es->answer[b] : 0;
		bool silent = es->silent || reply == 0;
		pthread_mutex_unlock(&es->lock);
		if (!silent && fdio_write(es->master, &reply, 1, 1000) != 1) {
			pthread_mutex_lock(&es->lock);
			es->reply_failures++;
			pthread_mutex_unlock(&es->lock);
		}
		return;
	}
	if (*st == 1) {
		if (b == 0x04) {
			*st = 2;
			return;
		}
		*st = 0;
		pthread_mutex_lock(&es->lock);
		es->rx[es->rx_len++] = 0x10;
		pthread_mutex_unlock(&es->lock);
	}
	if (b == 0x10) {
		*st = 1;
		return;
	}
	pthread_mutex_lock(&es->lock);
	if (es->rx_len < sizeof(es->rx)) {
		es->rx[es->rx_len++] = b;
	}
	pthread_mutex_unlock(&es->lock);
}

static void *escpos_run(void *arg)
{
	struct escpos_sim *es = arg;
	struct timespec nap = { .tv_nsec = 2000000L };
	uint8_t buf[512];
	int st = 0;
	int n;

	while (!atomic_load(&es->quit)) {
		n = fdio_read(es->master, buf, sizeof(buf), 10);
		if (n == -EIO) {
			/* Nobody has the slave open right now (path mode between jobs). */
			nanosleep(&nap, NULL);
			continue;
		}
		for (int i = 0; i < n; i++) {
			escpos_take(es, buf[i], &st);
		}
	}
	return NULL;
}

static void escpos_start(struct escpos_sim *es, struct pty *p)
{
	memset(es, 0, sizeof(*es));
	es->master = p->master;
	pthread_mutex_init(&es->lock, NULL);
	es->answer[1] = 0x12; /* online */
	es->answer[2] = 0x12; /* no off-line cause */
	es->answer[3] = 0x12;
	es->answer[4] = 0x12; /* paper present */
	assert_int_equal(pthread_create(&es->thread, NULL, escpos_run, es), 0);
}

static void escpos_stop(struct escpos_sim *es)
{
	atomic_store(&es->quit, true);
	pthread_join(es->thread, NULL);
	assert_int_equal(es->reply_failures, 0);
	assert_true(es->queries > 0);
	pthread_mutex_destroy(&es->lock);
}

static void escpos_set(struct escpos_sim *es, uint8_t st1, uint8_t st2, uint8_t st4, bool silent)
{
	pthread_mutex_lock(&es->lock);
	es->answer[1] = st1;
	es->answer[2] = st2;
	es->answer[4] = st4;
	es->silent = silent;
	pthread_mutex_unlock(&es->lock);
}

static size_t escpos_rx(struct escpos_sim *es, uint8_t *out, size_t size)
{
	size_t n;

	pthread_mutex_lock(&es->lock);
	n = es->rx_len < size ? es->rx_len : size;
	memcpy(out, es->rx, n);
	es->rx_len = 0;
	pthread_mutex_unlock(&es->lock);
	return n;
}

/* A 10 KiB ticket-like job without DLE (0x10), which a printer would parse. */
static uint8_t job[10 * 1024];

static void make_job(void)
{
	static const uint8_t head[] = {
		0x1b, '@', 0x1b, 'a', 1, 0x1d, '!', 0x11, 'A', '0', '4', '2'
	};

	for (size_t i = 0; i < sizeof(job); i++) {
		job[i] = (uint8_t)(i * 31 + 7);
		if (job[i] == 0x10) {
			job[i] = 0x20;
		}
	}
	memcpy(job, head, sizeof(head));
	job[sizeof(job) - 3] = 0x1d;
	job[sizeof(job) - 2] = 'V';
	job[sizeof(job) - 1] = 0;
}

/* Status cases shared by the serial and path tests. */
static void check_printer_states(struct hal_printer *prn, struct escpos_sim *es)
{
	static const struct {
		uint8_t st1, st2, st4;
		enum hal_printer_state state;
		int err;
	} cases[] = {
		{ 0x12, 0x12, 0x12, HAL_PRINTER_READY, 0 },
		{ 0x16, 0x12, 0x12, HAL_PRINTER_READY, 0 },	      /* drawer pin high */
		{ 0x12, 0x12, 0x1e, HAL_PRINTER_PAPER_LOW, 0 },	      /* near end */
		{ 0x12, 0x12, 0x72, HAL_PRINTER_PAPER_OUT, -ENOSPC }, /* roll end */
		/* Either bit of a two-bit sensor field is enough (printers differ). */
		{ 0x12, 0x12, 0x1a, HAL_PRINTER_PAPER_LOW, 0 },
		{ 0x12, 0x12, 0x52, HAL_PRINTER_PAPER_OUT, -ENOSPC },
		{ 0x1a, 0x16, 0x12, HAL_PRINTER_COVER_OPEN, -EBUSY },
		{ 0x1a, 0x32, 0x72, HAL_PRINTER_PAPER_OUT, -ENOSPC }, /* stopped at end */
		{ 0x1a, 0x52, 0x12, HAL_PRINTER_ERROR, -EIO },
		{ 0x1a, 0x12, 0x12, HAL_PRINTER_OFFLINE, -ENODEV },
	};
	enum hal_printer_state state;
	static uint8_t got[sizeof(job) + 16];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		escpos_set(es, cases[i].st1, cases[i].st2, cases[i].st4, false);
		assert_int_equal(hal_printer_status(prn, &state), 0);
		assert_int_equal(state, cases[i].state);
		assert_int_equal(hal_printer_print(prn, job, sizeof(job)), cases[i].err);
		if (cases[i].err == 0) {
			assert_int_equal(escpos_rx(es, got, sizeof(got)), sizeof(job));
			assert_memory_equal(got, job, sizeof(job));
		} else {
			/* Refused before sending: the printer received nothing. */
			assert_int_equal(escpos_rx(es, got, sizeof(got)), 0);
		}
	}

	/* A printer that does not answer is offline, after the status timeout. */
	escpos_set(es, 0x12, 0x12, 0x12, true);
	int64_t t0 = fdio_now_ms();
	assert_int_equal(hal_printer_status(prn, &state), 0);
	assert_int_equal(state, HAL_PRINTER_OFFLINE);
	assert_true(fdio_now_ms() - t0 < 1000);
	assert_int_equal(hal_printer_print(prn, job, sizeof(job)), -ENODEV);
	assert_int_equal(escpos_rx(es, got, sizeof(got)), 0);

	/* Something that is not an ESC/POS status byte cannot be read as one. */
	escpos_set(es, 0xff, 0x12, 0x12, false);
	assert_int_equal(hal_printer_status(prn, &state), -EIO);
	assert_int_equal(hal_printer_print(prn, job, sizeof(job)), -EIO);
	assert_int_equal(escpos_rx(es, got, sizeof(got)), 0);

	/* Back to ready, it prints again. */
	escpos_set(es, 0x12, 0x12, 0x12, false);
	assert_int_equal(hal_printer_print(prn, job, sizeof(job)), 0);
	assert_int_equal(escpos_rx(es, got, sizeof(got)), sizeof(job));
	assert_memory_equal(got, job, sizeof(job));
}

static void test_printer_on_serial_pty(void **state)
{
	static const struct hal_serial_cfg cfg = {
		.baud = 115200, .parity = 'N', .data_bits = 8, .stop_bits = 1
	};
	static struct escpos_sim es;
	struct linux_printer lp;
	struct linux_serial ls;
	struct pty p;

	make_job();
	pty_make(&p);
	escpos_start(&es, &p);
	assert_int_equal(linux_serial_init(&ls, p.slave), 0);
	assert_int_equal(linux_printer_init_serial(&lp, &ls.dev, &cfg), 0);
	assert_int_equal(linux_printer_set_timeouts(&lp, 100, 2000), 0);
	check_printer_states(&lp.dev, &es);
	assert_int_equal(hal_printer_print(&lp.dev, job, 0), -EINVAL);
	assert_int_equal(hal_printer_print(&lp.dev, job, HAL_PRINTER_JOB_MAX + 1), -EINVAL);
	linux_printer_deinit(&lp);
	linux_serial_deinit(&ls);
	escpos_stop(&es);
	close(p.master);
}

static void test_printer_on_device_path(void **state)
{
	static struct escpos_sim es;
	struct linux_printer lp;
	enum hal_printer_state st;
	char missing[PATH_MAX];
	struct pty p;

	make_job();
	pty_make(&p);
	escpos_start(&es, &p);
	assert_int_equal(linux_printer_init_path(&lp, p.slave), 0);
	assert_int_equal(linux_printer_set_timeouts(&lp, 100, 2000), 0);
	check_printer_states(&lp.dev, &es);
	linux_printer_deinit(&lp);
	escpos_stop(&es);
	close(p.master);

	/* Unplugged: the device node is gone. */
	PATHF(missing, "%s/lp0", tmp_root);
	assert_int_equal(linux_printer_init_path(&lp, missing), 0);
	assert_int_equal(hal_printer_status(&lp.dev, &st), 0);
	assert_int_equal(st, HAL_PRINTER_OFFLINE);
	assert_int_equal(hal_printer_print(&lp.dev, job, sizeof(job)), -ENODEV);
	assert_int_equal(linux_printer_set_timeouts(&lp, 0, 10), -EINVAL);
	assert_int_equal(linux_printer_set_timeouts(&lp, 10, 0), -EINVAL);
	linux_printer_deinit(&lp);
	assert_int_equal(linux_printer_init_path(&lp, ""), -EINVAL);
}

/* ---- printer fault paths on a RAM serial port ----------------------------------- */

/* Answers DLE EOT n from a script: one status triple per status round. */
struct script {
	uint8_t st[8][5];
	unsigned rounds;
	unsigned round;
	unsigned asked;
};

static void answer(struct hal_serial *s, const uint8_t *data, size_t len, void *ctx)
{
	struct script *sc = ctx;
	uint8_t b;

	if (len != 3 || data[0] != 0x10 || data[1] != 0x04 || data[2] < 1 || data[2] > 4) {
		return;
	}
	/* n=1 opens a new round; the later rounds repeat the last one. */
	if (data[2] == 1 && sc->asked++ > 0 && sc->round + 1 < sc->rounds) {
		sc->round++;
	}
	b = sc->st[sc->round][data[2]];
	assert_int_equal(fake_serial_push_rx(s, &b, 1), 0);
}

static void test_printer_faults_on_fake_serial(void **state)
{
	static const struct hal_serial_cfg cfg = {
		.baud = 9600, .parity = 'N', .data_bits = 8, .stop_bits = 1
	};
	static uint8_t got[sizeof(job) + 64];
	struct linux_printer lp;
	struct hal_serial s = { 0 };
	struct script sc;
	size_t n;

	make_job();
	fake_serial_init(&s);
	assert_int_equal(linux_printer_init_serial(&lp, &s, &cfg), 0);
	assert_int_equal(linux_printer_set_timeouts(&lp, 50, 1000), 0);

	/* Paper runs out while the job prints: sent, but not counted as printed. */
	memset(&sc, 0, sizeof(sc));
	sc.rounds = 2;
	sc.st[0][1] = 0x12;
	sc.st[0][4] = 0x12;
	sc.st[1][1] = 0x1a;
	sc.st[1][2] = 0x32;
	fake_serial_set_write_hook(&s, answer, &sc);
	assert_int_equal(hal_printer_print(&lp.dev, job, sizeof(job)), -ENOSPC);
	n = fake_serial_take_tx(&s, got, sizeof(got));
	/* DLE EOT 1, DLE EOT 4, the job, DLE EOT 1, DLE EOT 2. */
	assert_int_equal(n, 6 + sizeof(job) + 6);
	assert_memory_equal(got, "\x10\x04\x01\x10\x04\x04", 6);
	assert_memory_equal(got + 6, job, sizeof(job));
	assert_memory_equal(got + 6 + sizeof(job), "\x10\x04\x01\x10\x04\x02", 6);

	/* The printer stops taking data part-way. */
	memset(&sc, 0, sizeof(sc));
	sc.rounds = 1;
	sc.st[0][1] = 0x12;
	sc.st[0][4] = 0x12;
	fake_serial_set_tx_limit(&s, 6 + 5000);
	assert_int_equal(hal_printer_print(&lp.dev, job, sizeof(job)), -ETIMEDOUT);
	/* ...and the port is reopened for the next job. */
	assert_false(fake_serial_is_open(&s));
	fake_serial_set_tx_limit(&s, FAKE_SERIAL_TX_MAX);
	fake_serial_take_tx(&s, got, sizeof(got));
	assert_int_equal(hal_printer_print(&lp.dev, job, sizeof(job)), 0);
	assert_int_equal(fake_serial_open_count(&s), 2);
	assert_int_equal(fake_serial_take_tx(&s, got, sizeof(got)), 6 + sizeof(job) + 6);

	/* A write error on the port is an I/O error, and the port is reopened. */
	fake_serial_fail_write(&s, 3, -EIO);
	assert_int_equal(hal_printer_print(&lp.dev, job, sizeof(job)), -EIO);
	assert_false(fake_serial_is_open(&s));

	/* A port that cannot be opened: -ENOENT is an absent printer. */
	fake_serial_fail_open(&s, -ENOENT);
	assert_int_equal(hal_printer_print(&lp.dev, job, sizeof(job)), -ENODEV);
	fake_serial_fail_open(&s, -EIO);
	assert_int_equal(hal_printer_print(&lp.dev, job, sizeof(job)), -EIO);
	fake_serial_take_tx(&s, got, sizeof(got));
	assert_int_equal(hal_printer_print(&lp.dev, job, sizeof(job)), 0);

	/* Stale bytes (a late answer) are drained, not taken as the answer. */
	assert_int_equal(fake_serial_push_rx(&s, "\x7e", 1), 0);
	sc.st[0][4] = 0x72;
	assert_int_equal(hal_printer_print(&lp.dev, job, sizeof(job)), -ENOSPC);
	linux_printer_deinit(&lp);
	assert_false(fake_serial_is_open(&s));

	struct hal_serial_cfg bad = cfg;

	bad.baud = 1000;
	assert_int_equal(linux_printer_init_serial(&lp, &s, &bad), -EINVAL);
	assert_int_equal(linux_printer_init_serial(&lp, NULL, &cfg), -EINVAL);
}

/* ---- sysfs LEDs -------------------------------------------------------------- */

static void make_led(const char *name, const char *max)
{
	static const char *const attrs[] = { "brightness", "trigger", "delay_on", "delay_off" };
	char path[PATH_MAX];
	int fd;

	PATHF(path, "%s/%s", tmp_root, name);
	assert_int_equal(mkdir(path, 0700), 0);
	for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		PATHF(path, "%s/%s/%s", tmp_root, name, attrs[i]);
		fd = open(path, O_WRONLY | O_CREAT, 0600);
		assert_true(fd >= 0);
		close(fd);
	}
	if (max != NULL) {
		PATHF(path, "%s/%s/max_brightness", tmp_root, name);
		fd = open(path, O_WRONLY | O_CREAT, 0600);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, max, strlen(max)), (ssize_t)strlen(max));
		close(fd);
	}
}

static void check_attr(const char *name, const char *attr, const char *want)
{
	char path[PATH_MAX];
	char buf[32];
	ssize_t n;
	int fd;

	PATHF(path, "%s/%s/%s", tmp_root, name, attr);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

static void test_leds_sysfs(void **state)
{
	const char *names[HAL_IND_COUNT] = {
		[HAL_IND_STATUS] = "status:green",
		[HAL_IND_UPLINK] = NULL,
		[HAL_IND_ALERT] = "alert:red",
		[HAL_IND_BUZZER] = "beeper",
	};
	struct linux_leds ll;
	struct stat st;
	char path[PATH_MAX];

	make_led("status:green", "255\n");
	make_led("alert:red", NULL);
	assert_int_equal(linux_leds_init(&ll, tmp_root, names), 0);

	assert_int_equal(hal_indicator_set(&ll.dev, HAL_IND_STATUS, HAL_IND_ON), 0);
	check_attr("status:green", "trigger", "none");
	check_attr("status:green", "brightness", "255");
	assert_int_equal(hal_indicator_set(&ll.dev, HAL_IND_ALERT, HAL_IND_ON), 0);
	check_attr("alert:red", "brightness", "1");

	assert_int_equal(hal_indicator_set(&ll.dev, HAL_IND_STATUS, HAL_IND_BLINK_SLOW), 0);
	check_attr("status:green", "trigger", "timer");
	check_attr("status:green", "delay_on", "500");
	check_attr("status:green", "delay_off", "500");
	assert_int_equal(hal_indicator_set(&ll.dev, HAL_IND_ALERT, HAL_IND_BLINK_FAST), 0);
	check_attr("alert:red", "trigger", "timer");
	check_attr("alert:red", "delay_on", "100");
	check_attr("alert:red", "delay_off", "100");

	assert_int_equal(hal_indicator_set(&ll.dev, HAL_IND_STATUS, HAL_IND_OFF), 0);
	check_attr("status:green", "trigger", "none");
	check_attr("status:green", "brightness", "0");

	/* Unmapped, and mapped but absent: -ENODEV, and no file is created. */
	assert_int_equal(hal_indicator_set(&ll.dev, HAL_IND_UPLINK, HAL_IND_ON), -ENODEV);
	assert_int_equal(hal_indicator_set(&ll.dev, HAL_IND_BUZZER, HAL_IND_ON), -ENODEV);
	PATHF(path, "%s/beeper", tmp_root);
	assert_int_equal(stat(path, &st), -1);
	/* The LED is there but its trigger attribute is not: nothing is created. */
	PATHF(path, "%s/uplink", tmp_root);
	assert_int_equal(mkdir(path, 0700), 0);
	names[HAL_IND_UPLINK] = "uplink";
	assert_int_equal(linux_leds_init(&ll, tmp_root, names), 0);
	assert_int_equal(hal_indicator_set(&ll.dev, HAL_IND_UPLINK, HAL_IND_BLINK_FAST), -ENODEV);
	PATHF(path, "%s/uplink/trigger", tmp_root);
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(hal_indicator_set(&ll.dev, HAL_IND_COUNT, HAL_IND_ON), -ENODEV);
	assert_int_equal(hal_indicator_set(&ll.dev, HAL_IND_STATUS, (enum hal_indicator_mode)9),
			 -EINVAL);
}

static void test_leds_bad_names(void **state)
{
	const char *names[HAL_IND_COUNT] = { "ok" };
	struct linux_leds ll;
	char longname[LINUX_LEDS_NAME_MAX + 1];

	names[1] = "../etc";
	assert_int_equal(linux_leds_init(&ll, tmp_root, names), -EINVAL);
	names[1] = "..";
	assert_int_equal(linux_leds_init(&ll, tmp_root, names), -EINVAL);
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	names[1] = longname;
	assert_int_equal(linux_leds_init(&ll, tmp_root, names), -EINVAL);
	names[1] = "";
	assert_int_equal(linux_leds_init(&ll, tmp_root, names), 0);
	assert_int_equal(hal_indicator_set(&ll.dev, 1, HAL_IND_ON), -ENODEV);
	assert_int_equal(linux_leds_init(&ll, "", names), -EINVAL);
	assert_int_equal(linux_leds_init(&ll, tmp_root, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_serial_on_pty),
		cmocka_unit_test(test_serial_settings),
		cmocka_unit_test_setup_teardown(test_serial_missing_and_not_a_tty, setup_tmp,
						teardown_tmp),
		cmocka_unit_test_setup_teardown(test_watchdog_on_fifo, setup_tmp, teardown_tmp),
		cmocka_unit_test(test_printer_on_serial_pty),
		cmocka_unit_test_setup_teardown(test_printer_on_device_path, setup_tmp,
						teardown_tmp),
		cmocka_unit_test(test_printer_faults_on_fake_serial),
		cmocka_unit_test_setup_teardown(test_leds_sysfs, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_leds_bad_names, setup_tmp, teardown_tmp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
