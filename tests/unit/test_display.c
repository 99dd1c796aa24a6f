/*
 * The display module without a bus: announcement texts, the register
 * encoding, the libmodbus error translation, and the server-sent event
 * stream the hall display reads (kiosk_reply_stream / kiosk_stream_publish
 * over a real socket with bounded reads): the first bytes on connect, an
 * event after a publish, heartbeats, the client limit and a clean stop.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <modbus/modbus.h>

#include "display/display.h"
#include "test_http.h"

static struct queue_event ev_call(enum queue_event_kind kind, const char *number, int window)
{
	struct queue_event ev = { .kind = kind, .window_no = window };

	snprintf(ev.number, sizeof(ev.number), "%s", number);
	return ev;
}

static void test_announcement(void **state)
{
	struct queue_event ev = ev_call(QEV_CALLED, "A012", 3);
	char buf[128];

	assert_int_equal(display_announcement(&ev, "zh", buf, sizeof(buf)),
			 (int)strlen("请 A012 号到 3 号窗口办理"));
	assert_string_equal(buf, "请 A012 号到 3 号窗口办理");
	assert_int_equal(display_announcement(&ev, "en", buf, sizeof(buf)),
			 (int)strlen("Number A012, please go to window 3"));
	assert_string_equal(buf, "Number A012, please go to window 3");

	ev = ev_call(QEV_RECALLED, "B007", 12);
	assert_true(display_announcement(&ev, "zh", buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "请 B007 号到 12 号窗口办理");

	/* Only calls are announced; a window and a number are needed. */
	ev = ev_call(QEV_FINISHED, "A012", 3);
	assert_int_equal(display_announcement(&ev, "zh", buf, sizeof(buf)), -EINVAL);
	ev = ev_call(QEV_CALLED, "", 3);
	assert_int_equal(display_announcement(&ev, "zh", buf, sizeof(buf)), -EINVAL);
	ev = ev_call(QEV_CALLED, "A012", 0);
	assert_int_equal(display_announcement(&ev, "en", buf, sizeof(buf)), -EINVAL);
	ev = ev_call(QEV_CALLED, "A012", 3);
	assert_int_equal(display_announcement(&ev, "fr", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(display_announcement(&ev, "en", buf, 10), -ENOBUFS);
	assert_string_equal(buf, "");
}

static void test_encode(void **state)
{
	struct display_board_state st = {
		.window_no = 3,
		.number = "A012",
		.state = DISPLAY_CALLING,
		.brightness = 80,
		.calls = 7,
	};
	uint16_t regs[DISPLAY_NREGS];
	const uint16_t want[DISPLAY_NREGS] = { 3, 0x41, 12, 1, 80, 7 };

	assert_int_equal(display_encode(&st, regs), 0);
	assert_memory_equal(regs, want, sizeof(want));

	st.number[0] = '\0';
	st.state = DISPLAY_CLOSED;
	assert_int_equal(display_encode(&st, regs), 0);
	assert_int_equal(regs[DISPLAY_REG_PREFIX], 0);
	assert_int_equal(regs[DISPLAY_REG_NUMBER], 0);
	assert_int_equal(regs[DISPLAY_REG_STATE], 4);

	snprintf(st.number, sizeof(st.number), "Z999");
	assert_int_equal(display_encode(&st, regs), 0);
	assert_int_equal(regs[DISPLAY_REG_PREFIX], 'Z');
	assert_int_equal(regs[DISPLAY_REG_NUMBER], 999);

	/* Out of range: refused, never sent. */
	snprintf(st.number, sizeof(st.number), "a012");
	assert_int_equal(display_encode(&st, regs), -EINVAL);
	snprintf(st.number, sizeof(st.number), "A01x");
	assert_int_equal(display_encode(&st, regs), -EINVAL);
	snprintf(st.number, sizeof(st.number), "A");
	assert_int_equal(display_encode(&st, regs), -EINVAL);
	snprintf(st.number, sizeof(st.number), "A012");
	st.brightness = 101;
	assert_int_equal(display_encode(&st, regs), -EINVAL);
	st.brightness = 50;
	st.window_no = 0;
	assert_int_equal(display_encode(&st, regs), -EINVAL);
	st.window_no = DISPLAY_MAX_BOARDS + 1;
	assert_int_equal(display_encode(&st, regs), -EINVAL);
	st.window_no = 1;
	st.state = (enum display_state)5;
	assert_int_equal(display_encode(&st, regs), -EINVAL);
}

static void test_modbus_errno(void **state)
{
	assert_int_equal(display_modbus_errno(ETIMEDOUT), -ETIMEDOUT);
	assert_int_equal(display_modbus_errno(ECONNREFUSED), -ECONNREFUSED);
	assert_int_equal(display_modbus_errno(EMBXILADD), -EREMOTEIO);
	assert_int_equal(display_modbus_errno(EMBXSBUSY), -EREMOTEIO);
	assert_int_equal(display_modbus_errno(EMBBADCRC), -EBADMSG);
	assert_int_equal(display_modbus_errno(EMBBADDATA), -EBADMSG);
	assert_int_equal(display_modbus_errno(EMBBADSLAVE), -EBADMSG);
	assert_int_equal(display_modbus_errno(0), -EIO);
	assert_int_equal(display_modbus_errno(EMBBADSLAVE + 1), -EIO);
}

/* ---- the stream ---- */

struct stream_fixture {
	struct fw_config cfg;
	struct kiosk k;
	struct display *d;
};

static int stream_setup(void **state)
{
	struct stream_fixture *f = calloc(1, sizeof(*f));
	struct display_params dp = { .mode = CONFIG_DISPLAY_OFF };
	struct kiosk_params kp;

	assert_non_null(f);
	config_defaults(&f->cfg);
	f->cfg.http_port = 0;
	kiosk_init(&f->k);
	dp.kiosk = &f->k;
	assert_int_equal(display_start(&dp, &f->d), 0);
	assert_int_equal(display_routes_register(&f->k, f->d), 0);
	kp = (struct kiosk_params){ .cfg = &f->cfg, .stream_heartbeat_ms = 200 };
	assert_int_equal(kiosk_start(&f->k, &kp), 0);
	*state = f;
	return 0;
}

static int stream_teardown(void **state)
{
	struct stream_fixture *f = *state;

	kiosk_stop(&f->k);
	display_stop(f->d);
	free(f);
	return 0;
}

/* Read into buf (appending, NUL-terminated) until `want` appears or timeout_ms; 0 on EOF. */
static int read_until(int fd, char *buf, size_t cap, size_t *len, const char *want, int timeout_ms)
{
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (strstr(buf, want) == NULL) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;
		long el;

		clock_gettime(CLOCK_MONOTONIC, &t1);
		el = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
		if (el >= timeout_ms || *len + 1 >= cap) {
			return -ETIMEDOUT;
		}
		if (poll(&p, 1, (int)(timeout_ms - el)) <= 0) {
			continue;
		}
		n = recv(fd, buf + *len, cap - 1 - *len, 0);
		if (n <= 0) {
			return 0;
		}
		*len += (size_t)n;
		buf[*len] = '\0';
	}
	return 1;
}

static int open_stream(struct kiosk *k)
{
	int fd = test_http_connect(kiosk_port(k));
	const char *req = "GET /api/v1/queue/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			  "Accept: text/event-stream\r\n\r\n";

	test_http_send(fd, req, strlen(req));
	return fd;
}

static void wait_clients(struct kiosk *k, unsigned n)
{
	for (int i = 0; i < 400 && kiosk_stream_count(k, "queue") != n; i++) {
		usleep(5000);
	}
	assert_int_equal(kiosk_stream_count(k, "queue"), n);
}

static void test_stream_publish(void **state)
{
	struct stream_fixture *f = *state;
	char buf[8192] = "";
	size_t len = 0;
	int fd = open_stream(&f->k);

	assert_int_equal(read_until(fd, buf, sizeof(buf), &len, ": connected\n\n", 3000), 1);
	assert_non_null(strstr(buf, "HTTP/1.1 200"));
	assert_non_null(strstr(buf, "text/event-stream"));
	assert_non_null(strstr(buf, "retry: 3000\n"));
	wait_clients(&f->k, 1);

	assert_int_equal(kiosk_stream_publish(&f->k, "queue", "snapshot", "{\"windows\":[]}"), 1);
	assert_int_equal(read_until(fd, buf, sizeof(buf), &len,
				    "event: snapshot\ndata: {\"windows\":[]}\n\n", 3000),
			 1);
	/* Another channel does not reach it; a multi-line payload is split into data lines. */
	assert_int_equal(kiosk_stream_publish(&f->k, "orders", "x", "{}"), 0);
	assert_int_equal(kiosk_stream_publish(&f->k, "queue", "queue", "a\nb"), 1);
	assert_int_equal(
		read_until(fd, buf, sizeof(buf), &len, "event: queue\ndata: a\ndata: b\n\n", 3000),
		1);
	assert_null(strstr(buf, "event: x"));
	assert_int_equal(kiosk_stream_publish(&f->k, "queue", "bad\nname", "{}"), -EINVAL);

	/* Idle: a heartbeat comment (200 ms in this test, 15 s by default). */
	assert_int_equal(read_until(fd, buf, sizeof(buf), &len, ": heartbeat\n\n", 3000), 1);
	close(fd);
}

static void test_stream_limit_and_stop(void **state)
{
	struct stream_fixture *f = *state;
	int fds[KIOSK_MAX_STREAMS];
	struct test_resp *r = malloc(sizeof(*r));
	char buf[4096];
	size_t len;

	assert_non_null(r);
	for (int i = 0; i < KIOSK_MAX_STREAMS; i++) {
		fds[i] = open_stream(&f->k);
	}
	wait_clients(&f->k, KIOSK_MAX_STREAMS);
	test_http_call(kiosk_port(&f->k), "GET", "/api/v1/queue/stream", r);
	test_http_assert_error(r, 503, "too_many_displays");

	/* Closed clients are noticed at the next heartbeat and their slots freed. */
	for (int i = 0; i < KIOSK_MAX_STREAMS; i++) {
		close(fds[i]);
	}
	wait_clients(&f->k, 0);

	/* kiosk_stop ends a live stream promptly (the connection thread is joined). */
	fds[0] = open_stream(&f->k);
	buf[0] = '\0';
	len = 0;
	assert_int_equal(read_until(fds[0], buf, sizeof(buf), &len, ": connected\n\n", 3000), 1);
	kiosk_stop(&f->k);
	assert_int_equal(kiosk_stream_count(&f->k, NULL), 0);
	assert_int_equal(read_until(fds[0], buf, sizeof(buf), &len, "never", 3000), 0);
	close(fds[0]);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_announcement),
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_modbus_errno),
		cmocka_unit_test_setup_teardown(test_stream_publish, stream_setup, stream_teardown),
		cmocka_unit_test_setup_teardown(test_stream_limit_and_stop, stream_setup,
						stream_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
