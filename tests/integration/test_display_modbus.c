/*
 * The display worker against real Modbus TCP peers on loopback: an in-test
 * libmodbus server that records every register write (so a call's exact
 * registers are checked), a board that accepts the connection and never
 * answers, a port where nothing listens, one that answers garbage, and the
 * tools/displaysim program (its command is given on our command line).
 *
 * What matters most: the queue's listener returns at once even while a
 * board times out, the healthy board is still written, and the dead ones
 * show "failing" with a growing backoff.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <modbus/modbus.h>

#include "display/display.h"

#define NBOARDS	   4
#define TIMEOUT_MS 300
#define BACKOFF_MS 2000

/* The displaysim command: its path, after the emulator in the arm64 build. */
static char **displaysim_cmd;
static int displaysim_argc;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * NBOARDS consecutive free loopback ports base+1..base+NBOARDS, bound (not
 * listening) into fds so nobody takes them; 0 when none were found.
 */
static int reserve_ports(int fds[NBOARDS])
{
	for (int base = 20000 + (getpid() % 2000) * 10; base < 60000; base += 97) {
		int n = 0;

		for (; n < NBOARDS; n++) {
			struct sockaddr_in sa = { .sin_family = AF_INET,
						  .sin_port = htons((uint16_t)(base + 1 + n)),
						  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
			int one = 1;

			fds[n] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
			setsockopt(fds[n], SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			if (bind(fds[n], (struct sockaddr *)&sa, sizeof(sa)) != 0) {
				close(fds[n]);
				break;
			}
		}
		if (n == NBOARDS) {
			return base;
		}
		while (n-- > 0) {
			close(fds[n]);
		}
	}
	return 0;
}

/* ---- an in-test board ---- */

enum peer_kind { PEER_GOOD, PEER_SILENT, PEER_GARBAGE };

struct peer {
	enum peer_kind kind;
	int listen_fd;
	pthread_t thread;
	volatile int stop;
	pthread_mutex_t lock;
	int nwrites;
	uint16_t last[DISPLAY_NREGS];
	int last_unit;
};

static void *peer_main(void *arg)
{
	struct peer *p = arg;
	modbus_t *ctx = modbus_new_tcp("127.0.0.1", 502);
	modbus_mapping_t *map = modbus_mapping_new(0, 0, 16, 0);
	uint8_t q[MODBUS_TCP_MAX_ADU_LENGTH];
	int fd = -1;

	assert_non_null(ctx);
	assert_non_null(map);
	while (!p->stop) {
		struct pollfd pf = { .fd = fd >= 0 ? fd : p->listen_fd, .events = POLLIN };
		int len;

		if (poll(&pf, 1, 50) <= 0) {
			continue;
		}
		if (fd < 0) {
			fd = accept(p->listen_fd, NULL, NULL);
			continue;
		}
		if (p->kind == PEER_GARBAGE) {
			char junk[64];

			if (read(fd, junk, sizeof(junk)) <= 0) {
				close(fd);
				fd = -1;
				continue;
			}
			/* A well-framed MBAP header around nonsense. */
			(void)!write(fd, "\x00\x01\x00\x00\x00\x03\x07\x99\x42", 9);
			continue;
		}
		modbus_set_socket(ctx, fd);
		len = modbus_receive(ctx, q);
		if (len < 0) {
			close(fd);
			fd = -1;
			continue;
		}
		if (len == 0) {
			continue;
		}
		modbus_reply(ctx, q, len, map);
		if (q[modbus_get_header_length(ctx)] == MODBUS_FC_WRITE_MULTIPLE_REGISTERS) {
			pthread_mutex_lock(&p->lock);
			memcpy(p->last, map->tab_registers, sizeof(p->last));
			p->last_unit = q[modbus_get_header_length(ctx) - 1];
			p->nwrites++;
			pthread_mutex_unlock(&p->lock);
		}
	}
	if (fd >= 0) {
		close(fd);
	}
	modbus_mapping_free(map);
	modbus_free(ctx);
	return NULL;
}

/* Start a peer on an already bound socket. SILENT only listens: connect works, nothing answers. */
static void peer_start(struct peer *p, enum peer_kind kind, int bound_fd)
{
	memset(p, 0, sizeof(*p));
	p->kind = kind;
	p->listen_fd = bound_fd;
	pthread_mutex_init(&p->lock, NULL);
	assert_int_equal(listen(bound_fd, 4), 0);
	if (kind != PEER_SILENT) {
		assert_int_equal(pthread_create(&p->thread, NULL, peer_main, p), 0);
	}
}

static void peer_stop(struct peer *p)
{
	p->stop = 1;
	if (p->kind != PEER_SILENT) {
		pthread_join(p->thread, NULL);
	}
	close(p->listen_fd);
	pthread_mutex_destroy(&p->lock);
}

/* Wait (bounded) until p has seen more than `after` writes; returns the count. */
static int peer_wait(struct peer *p, int after, int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;
	int n;

	for (;;) {
		pthread_mutex_lock(&p->lock);
		n = p->nwrites;
		pthread_mutex_unlock(&p->lock);
		if (n > after || now_ms() > end) {
			return n;
		}
		usleep(5000);
	}
}

static struct queue_event call_event(enum queue_event_kind kind, const char *number, int window)
{
	struct queue_event ev = { .kind = kind, .window_no = window, .at_ms = 1700000000000 };

	snprintf(ev.number, sizeof(ev.number), "%s", number);
	return ev;
}

static void params_tcp(struct display_params *dp, int base)
{
	*dp = (struct display_params){
		.mode = CONFIG_DISPLAY_TCP,
		.tcp_ip = INADDR_LOOPBACK,
		.tcp_port_base = base,
		.timeout_ms = TIMEOUT_MS,
		.brightness = 80,
		.backoff_min_ms = BACKOFF_MS,
		.backoff_max_ms = 3 * BACKOFF_MS,
	};
}

/* A call, a recall and a start reach the board as exactly these registers. */
static void test_call_registers(void **state)
{
	int fds[NBOARDS], base = reserve_ports(fds);
	struct peer good;
	struct display_params dp;
	struct display *d = NULL;
	struct queue_event ev;
	struct display_board_info bi;
	const uint16_t want_call[DISPLAY_NREGS] = { 1, 'A', 12, DISPLAY_CALLING, 80, 1 };
	const uint16_t want_recall[DISPLAY_NREGS] = { 1, 'A', 12, DISPLAY_CALLING, 80, 2 };
	const uint16_t want_serving[DISPLAY_NREGS] = { 1, 'A', 12, DISPLAY_SERVING, 80, 2 };
	const uint16_t want_idle[DISPLAY_NREGS] = { 1, 0, 0, DISPLAY_IDLE, 80, 2 };
	int n;

	assert_true(base > 0);
	peer_start(&good, PEER_GOOD, fds[0]);
	params_tcp(&dp, base);
	assert_int_equal(display_start(&dp, &d), 0);

	ev = call_event(QEV_CALLED, "A012", 1);
	display_on_event(&ev, d);
	n = peer_wait(&good, 0, 3000);
	assert_int_equal(n, 1);
	assert_memory_equal(good.last, want_call, sizeof(want_call));
	assert_int_equal(good.last_unit, 1);

	ev = call_event(QEV_RECALLED, "A012", 1);
	display_on_event(&ev, d);
	n = peer_wait(&good, n, 3000);
	assert_int_equal(n, 2);
	assert_memory_equal(good.last, want_recall, sizeof(want_recall));

	ev = call_event(QEV_STARTED, "A012", 1);
	display_on_event(&ev, d);
	n = peer_wait(&good, n, 3000);
	assert_memory_equal(good.last, want_serving, sizeof(want_serving));

	ev = call_event(QEV_FINISHED, "A012", 1);
	display_on_event(&ev, d);
	n = peer_wait(&good, n, 3000);
	assert_memory_equal(good.last, want_idle, sizeof(want_idle));
	assert_int_equal(display_wait_idle(d, 3000), 0);

	assert_int_equal(display_board_info(d, 1, &bi), 0);
	assert_true(bi.ok);
	assert_int_equal(bi.failures, 0);
	assert_true(bi.last_write_ms > 0);
	assert_string_equal(bi.shown.number, "");

	display_stop(d);
	peer_stop(&good);
	for (int i = 1; i < NBOARDS; i++) {
		close(fds[i]);
	}
}

/*
 * Window 1 answers; 2 accepts and never answers; 3 has nothing listening;
 * 4 answers garbage. The listener never waits, window 1 is written while 2
 * times out, and 2..4 are failing with a backoff that grows.
 */
static void test_dead_boards(void **state)
{
	int fds[NBOARDS], base = reserve_ports(fds);
	struct peer good, silent, garbage;
	struct display_params dp;
	struct display *d = NULL;
	struct display_board_info bi;
	struct queue_event ev;
	int64_t t0, worst = 0;
	int n;

	assert_true(base > 0);
	peer_start(&good, PEER_GOOD, fds[0]);
	peer_start(&silent, PEER_SILENT, fds[1]);
	close(fds[2]); /* window 3: connection refused */
	peer_start(&garbage, PEER_GARBAGE, fds[3]);
	params_tcp(&dp, base);
	assert_int_equal(display_start(&dp, &d), 0);

	/* The dead boards first: the worker is stuck in window 2's timeout... */
	ev = call_event(QEV_CALLED, "B003", 2);
	display_on_event(&ev, d);
	usleep(50 * 1000);
	/* ...and the listener still returns at once, every time. */
	for (int i = 0; i < 200; i++) {
		ev = call_event(i % 2 ? QEV_RECALLED : QEV_CALLED, "C004", 3);
		t0 = now_ms();
		display_on_event(&ev, d);
		if (now_ms() - t0 > worst) {
			worst = now_ms() - t0;
		}
	}
	ev = call_event(QEV_CALLED, "D005", 4);
	display_on_event(&ev, d);
	printf("listener: slowest of 200 calls while a board timed out: %lld ms\n",
	       (long long)worst);
	assert_true(worst < 5);

	/* Let the first round of attempts finish: each dead board failed once. */
	assert_int_equal(display_wait_idle(d, 5000), 0);
	for (int w = 2; w <= 4; w++) {
		assert_int_equal(display_board_info(d, w, &bi), 0);
		assert_false(bi.ok);
		assert_int_equal(bi.failures, 1);
		assert_int_equal(bi.backoff_ms, BACKOFF_MS);
		assert_true(bi.failing_since_ms > 0);
		assert_true(bi.next_try_ms > 0);
		printf("window %d: %s\n", w, bi.last_error);
	}
	assert_int_equal(display_board_info(d, 2, &bi), 0);
	assert_non_null(strstr(bi.last_error, "no answer"));
	assert_int_equal(display_board_info(d, 3, &bi), 0);
	assert_non_null(strstr(bi.last_error, "cannot reach"));
	assert_int_equal(display_board_info(d, 4, &bi), 0);
	assert_non_null(strstr(bi.last_error, "garbled"));
	/* The recalls to window 3 coalesced: the latest state is what waits. */

	/* While they back off, a call to the healthy board is written at once. */
	ev = call_event(QEV_CALLED, "A001", 1);
	t0 = now_ms();
	display_on_event(&ev, d);
	n = peer_wait(&good, 0, 3000);
	assert_int_equal(n, 1);
	printf("healthy board written %lld ms after the call (dead boards backing off)\n",
	       (long long)(now_ms() - t0));
	assert_true(now_ms() - t0 < TIMEOUT_MS);
	assert_int_equal(good.last[DISPLAY_REG_NUMBER], 1);

	/* After the backoff each dead board is tried again and waits twice as long. */
	usleep((BACKOFF_MS + 3 * TIMEOUT_MS + 300) * 1000);
	assert_int_equal(display_board_info(d, 2, &bi), 0);
	assert_int_equal(bi.failures, 2);
	assert_int_equal(bi.backoff_ms, 2 * BACKOFF_MS);

	display_stop(d);
	peer_stop(&good);
	peer_stop(&silent);
	peer_stop(&garbage);
}

/* The real tools/displaysim prints the write it receives. */
static void test_displaysim(void **state)
{
	int fds[NBOARDS], base = reserve_ports(fds);
	int out[2];
	pid_t pid;
	char port_arg[16], buf[4096];
	size_t len = 0;
	struct display_params dp;
	struct display *d = NULL;
	struct queue_event ev;
	int64_t end;

	assert_true(base > 0);
	for (int i = 0; i < NBOARDS; i++) {
		close(fds[i]);
	}
	snprintf(port_arg, sizeof(port_arg), "%d", base);
	assert_int_equal(pipe(out), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(out[1], 1);
		close(out[0]);
		char *args[16];
		int n = 0;

		for (int i = 0; i < displaysim_argc && n < 10; i++) {
			args[n++] = displaysim_cmd[i];
		}
		args[n++] = "--port-base";
		args[n++] = port_arg;
		args[n++] = "--windows";
		args[n++] = "2";
		args[n] = NULL;
		execvp(args[0], args);
		_exit(127);
	}
	close(out[1]);
	params_tcp(&dp, base);
	assert_int_equal(display_start(&dp, &d), 0);
	ev = call_event(QEV_CALLED, "B007", 2);
	/* displaysim may not be listening yet: the board's backoff retries it. */
	display_on_event(&ev, d);

	end = now_ms() + 10000;
	buf[0] = '\0';
	while (strstr(buf, "window 2: B007 calling (brightness 80, call 1)") == NULL &&
	       now_ms() < end && len < sizeof(buf) - 1) {
		struct pollfd pf = { .fd = out[0], .events = POLLIN };
		ssize_t r;

		if (poll(&pf, 1, 200) <= 0) {
			continue;
		}
		r = read(out[0], buf + len, sizeof(buf) - 1 - len);
		if (r <= 0) {
			break;
		}
		len += (size_t)r;
		buf[len] = '\0';
	}
	printf("%s", buf);
	assert_non_null(strstr(buf, "window 2: B007 calling (brightness 80, call 1)"));
	display_stop(d);
	kill(pid, SIGTERM);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	close(out[0]);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_call_registers),
		cmocka_unit_test(test_dead_boards),
		cmocka_unit_test(test_displaysim),
	};

	if (argc < 2) {
		fprintf(stderr, "usage: %s DISPLAYSIM-COMMAND...\n", argv[0]);
		return 2;
	}
	displaysim_cmd = argv + 1;
	displaysim_argc = argc - 1;
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
