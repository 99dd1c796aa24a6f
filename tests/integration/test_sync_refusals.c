/*
 * The sync worker (apps/sync/sync.c) refused, through a proxy, and told to
 * wait, over the real uplink stack: its HTTPS client over lwIP on the sim
 * slirp wire (hal/net) to tools/citysim on host loopback (10.0.2.2, name
 * city.hotline.test), the device identity under DATA_DIR/keys.
 *
 * Refusals: a city certificate that is expired, for another name, or from
 * an untrusted CA (the worker backs off and retries: the city may fix it);
 * a device certificate the city does not accept: signed by another CA (TLS
 * refusal), revoked at the city (403 device_revoked) or unknown to a city
 * that serves enrolled devices only (401 device_unknown): the worker halts
 * until kicked. Each time citysim's own store holds nothing from the
 * device, and the status carries the code and plain words in English and
 * Chinese. Interop: the worker through nginx (OpenSSL) terminating TLS with
 * client-certificate verification in front of citysim; every event is
 * stored once. Retry-After: the response parser's reading of it, and the
 * worker staying away as long as a busy city (503) asks.
 *
 * Arguments: the gen-test-pki script, then the citysim command (an
 * emulator first in the cross build).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "fw/outbox.h"
#include "fw/store.h"
#include "hal_sim/wire.h"
#include "sync/httpc.h"
#include "sync/sync.h"
#include "test_app.h"
#include "test_city.h"
#include "test_nginx.h"
#include "test_util.h"
#include "test_wire.h"

#define CITY_HOST "city.hotline.test"
#define DEVICE	  "sim-0001"
#define EVENTS	  50

/* The worker's words for a city's 401/403 refusal of the device. */
#define CITY_REFUSED_EN "the city does not accept this device's certificate"
#define CITY_REFUSED_ZH "市平台不接受本设备的证书"

static struct test_city_env env;
static struct hal_link wire;

/* ---- fixture ------------------------------------------------------------- */

struct fx {
	struct test_data d;
	char city_dir[PATH_MAX + 16];
	struct test_city city;
	bool city_up;
	struct sync *s;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void append_events(sqlite3 *db, int n)
{
	assert_int_equal(store_begin(db), 0);
	for (int i = 0; i < n; i++) {
		char payload[256];

		snprintf(payload, sizeof(payload),
			 "{\"number\":\"GD2026%06d\",\"n\":%d,\"office\":\"测试县12345转办中心\","
			 "\"text\":\"路灯不亮，请尽快处理。\"}",
			 i, i);
		assert_int_equal(outbox_append(db, i % 2 ? "order.received" : "request.filed",
					       payload, NULL),
				 0);
	}
	assert_int_equal(store_commit(db), 0);
}

static void fx_open(struct fx *f, const char *name, const char *device)
{
	memset(f, 0, sizeof(*f));
	test_data_open(&f->d, name, now_ms(), false);
	/* DATA_DIR/keys with the device certificate PKI/DEVICE.crt and its key */
	assert_int_equal(test_city_keys_install(&env, f->d.dir, device), 0);
	append_events(f->d.db, EVENTS);
	snprintf(f->city_dir, sizeof(f->city_dir), "%s/city", f->d.dir);
}

static void fx_close(struct fx *f)
{
	sync_destroy(f->s);
	if (f->city_up) {
		assert_int_equal(test_city_stop(&f->city), 0);
	}
	test_data_close(&f->d);
}

static void worker_start(struct fx *f, uint16_t port, int backoff_min_ms, int backoff_max_ms)
{
	struct sync_params sp = {
		.data_dir = f->d.dir,
		.city_ip = SIM_WIRE_GATEWAY_IP,
		.city_port = port,
		.city_host = CITY_HOST,
		.backoff_min_ms = backoff_min_ms,
		.backoff_max_ms = backoff_max_ms,
		.idle_poll_ms = 500,
		.request_timeout_ms = 10000,
	};

	assert_int_equal(sync_create(&sp, &f->s), 0);
	assert_int_equal(sync_start(f->s), 0);
}

typedef bool (*until_fn)(const struct sync_status *st);

static bool wait_status(struct sync *s, int secs, until_fn fn, struct sync_status *st)
{
	int64_t end = test_mono_us() + (int64_t)secs * 1000000;

	do {
		assert_int_equal(sync_status(s, st), 0);
		if (fn(st)) {
			return true;
		}
		usleep(10 * 1000);
	} while (test_mono_us() < end);
	return false;
}

static bool halted(const struct sync_status *st)
{
	return st->state == SYNC_HALTED;
}

static bool failed_twice(const struct sync_status *st)
{
	return st->state == SYNC_BACKOFF && st->failures_in_row >= 2;
}

static bool busy_backoff(const struct sync_status *st)
{
	return st->state == SYNC_BACKOFF && strcmp(st->last_code, "busy") == 0;
}

static bool drained(const struct sync_status *st)
{
	return st->waiting == 0 && st->state == SYNC_IDLE;
}

/* citysim's store, read-only beside it (WAL: it is not blocked). */
static sqlite3 *city_db(const struct fx *f)
{
	char p[PATH_MAX + 64];
	sqlite3 *db = NULL;

	snprintf(p, sizeof(p), "file:%s/citysim.db?mode=ro", f->city_dir);
	assert_int_equal(sqlite3_open_v2(p, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL),
			 SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	return db;
}

/* Nothing of the device reached citysim's store. */
static void assert_city_has_nothing(const struct fx *f)
{
	sqlite3 *db = city_db(f);

	assert_int_equal(test_sql_int(db, "SELECT count(*) FROM events"), 0);
	assert_int_equal(test_sql_int(db, "SELECT count(*) FROM rejected"), 0);
	assert_int_equal(test_sql_int(db, "SELECT count(*) FROM progress"), 0);
	sqlite3_close(db);
}

/* Every outbox event once at the city, byte for byte. */
static void assert_city_has_all(const struct fx *f, int n)
{
	char sql[PATH_MAX + 160];
	sqlite3 *db = city_db(f);

	snprintf(sql, sizeof(sql), "ATTACH 'file:%s/" STORE_FILE "?mode=ro' AS dev", f->d.dir);
	test_sql_exec(db, sql);
	assert_int_equal(
		test_sql_int(db, "SELECT count(*) FROM main.events WHERE device = '" DEVICE "'"),
		n);
	assert_int_equal(test_sql_int(db, "SELECT count(DISTINCT seq) FROM main.events"), n);
	assert_int_equal(test_sql_int(db, "SELECT count(*) FROM main.events e JOIN dev.outbox o "
					  "ON o.seq = e.seq WHERE e.event_id = o.event_id AND "
					  "e.type = o.type AND "
					  "CAST(e.payload AS BLOB) = CAST(o.payload AS BLOB)"),
			 n);
	assert_int_equal(test_sql_int(db, "SELECT acked_upto FROM main.progress"), n);
	sqlite3_close(db);
}

static int log_count(const char *path, const char *what)
{
	size_t len = 0;
	char *text = test_file_read(path, &len);
	int n = 0;

	for (const char *p = text; (p = strstr(p, what)) != NULL; p += strlen(what)) {
		n++;
	}
	free(text);
	return n;
}

/* `citysim COMMAND --data DIR ARGS...` (NULL-ended). @return its exit code */
static int city_cmd(const struct fx *f, const char *cmd, ...)
{
	char *args[40];
	int n = 0;
	int status;
	va_list ap;
	pid_t pid;

	for (int i = 0; i < env.cmd_argc && n < 8; i++) {
		args[n++] = env.cmd[i];
	}
	args[n++] = (char *)cmd;
	args[n++] = "--data";
	args[n++] = (char *)f->city_dir;
	va_start(ap, cmd);
	for (const char *a = va_arg(ap, const char *); a != NULL && n < 39;
	     a = va_arg(ap, const char *)) {
		args[n++] = (char *)a;
	}
	va_end(ap);
	args[n] = NULL;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		execv(args[0], args);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* ---- refusals of the city's certificate ---------------------------------- */

/*
 * citysim with a certificate the device must refuse: the worker never
 * sends a request, says why, and keeps retrying with backoff (the city may
 * replace its certificate; nothing of the device's is at stake).
 */
static void city_cert_refused(const char *cert, enum httpc_reason reason)
{
	struct fx f;
	struct sync_status st;

	fx_open(&f, "sync_refusal", "device");
	assert_int_equal(test_city_start(&f.city, &env, cert, "--data", f.city_dir, NULL), 0);
	f.city_up = true;
	worker_start(&f, f.city.port, 50, 400);
	assert_true(wait_status(f.s, 30, failed_twice, &st));
	assert_string_equal(st.last_code, httpc_reason_name(reason));
	assert_int_equal(st.last_errno, httpc_reason_errno(reason));
	assert_int_equal(st.last_http_status, 0);
	assert_string_equal(st.last_error_en, httpc_reason_en(reason));
	assert_string_equal(st.last_error_zh, httpc_reason_zh(reason));
	assert_true((unsigned char)st.last_error_zh[0] >= 0x80);
	assert_int_equal(st.waiting, EVENTS);
	assert_int_equal(st.acked_upto, 0);
	assert_int_equal(st.batches, 0);
	print_message("%s: \"%s\" / \"%s\" (%s), state %s after %u failures\n", cert,
		      st.last_error_en, st.last_error_zh, st.last_code, sync_state_name(st.state),
		      st.failures_in_row);
	sync_stop(f.s);
	assert_int_equal(log_count(f.city.log, "cn=" DEVICE " GET"), 0);
	assert_int_equal(log_count(f.city.log, "cn=" DEVICE " POST"), 0);
	assert_city_has_nothing(&f);
	fx_close(&f);
}

static void test_city_cert_expired(void **state)
{
	city_cert_refused("city-expired", HTTPC_R_CERT_EXPIRED);
}

static void test_city_cert_wrong_name(void **state)
{
	city_cert_refused("city-wronghost", HTTPC_R_CERT_WRONG_NAME);
}

static void test_city_cert_untrusted(void **state)
{
	city_cert_refused("city-untrusted", HTTPC_R_CERT_UNTRUSTED);
}

/* ---- refusals of the device ---------------------------------------------- */

/* Halted means no more requests: the count of the city's log lines stays. */
static void assert_stays_halted(struct fx *f, const char *line)
{
	struct sync_status st;
	int before = log_count(f->city.log, line);
	uint64_t rounds;

	assert_int_equal(sync_status(f->s, &st), 0);
	rounds = st.rounds;
	usleep(1500 * 1000);
	assert_int_equal(sync_status(f->s, &st), 0);
	assert_int_equal(st.state, SYNC_HALTED);
	assert_int_equal(st.rounds, rounds);
	assert_int_equal(log_count(f->city.log, line), before);
}

static void assert_device_refused(const struct sync_status *st, const char *code, int http,
				  const char *en, const char *zh)
{
	assert_int_equal(st->state, SYNC_HALTED);
	assert_string_equal(st->last_code, code);
	assert_int_equal(st->last_errno, -EACCES);
	assert_int_equal(st->last_http_status, http);
	assert_string_equal(st->last_error_en, en);
	assert_string_equal(st->last_error_zh, zh);
	assert_int_equal(st->waiting, EVENTS);
	assert_int_equal(st->acked_upto, 0);
	print_message("device refused (%s, HTTP %d): \"%s\" / \"%s\", state %s\n", code, http,
		      st->last_error_en, st->last_error_zh, sync_state_name(st->state));
}

static void test_device_untrusted(void **state)
{
	struct fx f;
	struct sync_status st;

	fx_open(&f, "sync_refusal", "device-untrusted");
	assert_int_equal(test_city_start(&f.city, &env, "city", "--data", f.city_dir, NULL), 0);
	f.city_up = true;
	worker_start(&f, f.city.port, 50, 400);
	assert_true(wait_status(f.s, 30, halted, &st));
	assert_device_refused(&st, httpc_reason_name(HTTPC_R_DEVICE_REFUSED), 0,
			      httpc_reason_en(HTTPC_R_DEVICE_REFUSED),
			      httpc_reason_zh(HTTPC_R_DEVICE_REFUSED));
	assert_stays_halted(&f, "handshake refused");
	assert_true(log_count(f.city.log, "handshake refused") >= 1);
	/* A kick (the technician asks) tries once more, and halts again. */
	sync_kick(f.s);
	usleep(200 * 1000);
	assert_true(wait_status(f.s, 30, halted, &st));
	assert_int_equal(st.kicks, 1);
	sync_stop(f.s);
	assert_int_equal(log_count(f.city.log, "cn=" DEVICE), 0);
	assert_city_has_nothing(&f);
	fx_close(&f);
}

/*
 * The city refuses the device by its list (revoked, or unknown to a city
 * that serves enrolled devices only): halted with the city's code and our
 * words, nothing stored; enrolled again and kicked, the backlog drains.
 */
static void city_list_refused(bool revoke)
{
	struct fx f;
	struct sync_status st;

	fx_open(&f, "sync_refusal", "device");
	if (revoke) {
		assert_int_equal(city_cmd(&f, "enroll", "--device", DEVICE, NULL), 0);
		assert_int_equal(
			city_cmd(&f, "revoke", "--device", DEVICE, "--reason", "key lost", NULL),
			0);
		assert_int_equal(test_city_start(&f.city, &env, "city", "--data", f.city_dir, NULL),
				 0);
	} else {
		assert_int_equal(test_city_start(&f.city, &env, "city", "--data", f.city_dir,
						 "--enrolled-only", NULL),
				 0);
	}
	f.city_up = true;
	worker_start(&f, f.city.port, 50, 400);
	assert_true(wait_status(f.s, 30, halted, &st));
	if (revoke) {
		assert_device_refused(&st, "device_revoked", 403, CITY_REFUSED_EN, CITY_REFUSED_ZH);
		assert_int_equal(log_count(f.city.log, "cn=" DEVICE " GET /api/v1/time 403"), 1);
	} else {
		assert_device_refused(&st, "device_unknown", 401, CITY_REFUSED_EN, CITY_REFUSED_ZH);
		assert_int_equal(log_count(f.city.log, "cn=" DEVICE " GET /api/v1/time 401"), 1);
	}
	assert_stays_halted(&f, "cn=" DEVICE " GET");
	assert_int_equal(log_count(f.city.log, "cn=" DEVICE " POST"), 0);
	assert_city_has_nothing(&f);

	/* Enrolled (again): the technician's kick resumes, and all arrives once. */
	assert_int_equal(city_cmd(&f, "enroll", "--device", DEVICE, NULL), 0);
	sync_kick(f.s);
	assert_true(wait_status(f.s, 30, drained, &st));
	assert_int_equal(st.last_code[0], '\0');
	sync_stop(f.s);
	assert_city_has_all(&f, EVENTS);
	fx_close(&f);
}

static void test_device_revoked(void **state)
{
	city_list_refused(true);
}

static void test_device_unknown(void **state)
{
	city_list_refused(false);
}

/* A body naming another device than the certificate: a configuration
 * error, halted with its own words (not "certificate refused"). */
static void test_device_mismatch(void **state)
{
	struct sync_params sp = { 0 };
	struct sync_status st;
	struct fx f;

	fx_open(&f, "sync_refusal", "device");
	assert_int_equal(test_city_start(&f.city, &env, "city", "--data", f.city_dir, NULL), 0);
	f.city_up = true;
	sp.data_dir = f.d.dir;
	sp.city_ip = SIM_WIRE_GATEWAY_IP;
	sp.city_port = f.city.port;
	sp.city_host = CITY_HOST;
	sp.device_id = "sim-0002";
	sp.backoff_min_ms = 50;
	sp.backoff_max_ms = 400;
	assert_int_equal(sync_create(&sp, &f.s), 0);
	assert_int_equal(sync_start(f.s), 0);
	assert_true(wait_status(f.s, 30, halted, &st));
	assert_string_equal(st.last_code, "device_mismatch");
	assert_int_equal(st.last_http_status, 403);
	assert_string_equal(st.last_error_en, "the device id does not match its certificate");
	assert_string_equal(st.last_error_zh, "设备编号与其证书不符");
	print_message("device id mismatch (HTTP 403): \"%s\" / \"%s\", state %s\n",
		      st.last_error_en, st.last_error_zh, sync_state_name(st.state));
	sync_stop(f.s);
	assert_city_has_nothing(&f);
	fx_close(&f);
}

/* ---- nginx (OpenSSL) in front of citysim --------------------------------- */

/*
 * nginx terminates the device's TLS (OpenSSL, client certificate required
 * and checked against the city CA) and forwards to citysim over TLS,
 * presenting the device's certificate there and checking citysim's.
 */
static void test_nginx_interop(void **state)
{
	const char *bin = test_nginx_bin();
	char dir[PATH_MAX + 16];
	char access_log[PATH_MAX + 48];
	static char text[96 * 1024]; /* room for every path at its longest */
	struct sync_status st;
	struct fx f;
	uint16_t port;
	int64_t t0;
	pid_t pid;

	if (bin == NULL) {
		print_message("nginx is not installed: interop not tested\n");
		skip();
	}
	fx_open(&f, "sync_nginx", "device");
	append_events(f.d.db, 250); /* 300 in all: two batches at least */
	assert_int_equal(test_city_start(&f.city, &env, "city", "--data", f.city_dir, NULL), 0);
	f.city_up = true;
	snprintf(dir, sizeof(dir), "%s/nginx", f.d.dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(access_log, sizeof(access_log), "%s/access.log", dir);
	port = test_free_port();
	snprintf(text, sizeof(text),
		 " upstream city { server 127.0.0.1:%u; keepalive 4; }\n"
		 " server {\n  listen 127.0.0.1:%u ssl;\n  server_name " CITY_HOST ";\n"
		 "  ssl_certificate %s/city.crt;\n  ssl_certificate_key %s/city.key;\n"
		 "  ssl_client_certificate %s/ca.crt;\n  ssl_verify_client on;\n"
		 "  ssl_protocols TLSv1.2 TLSv1.3;\n  ssl_session_cache shared:he:1m;\n"
		 "  keepalive_timeout 30s;\n  client_max_body_size 1m;\n"
		 "  location / {\n   proxy_pass https://city;\n   proxy_http_version 1.1;\n"
		 "   proxy_set_header Connection \"\";\n"
		 "   proxy_set_header X-Client-DN $ssl_client_s_dn;\n"
		 "   proxy_ssl_certificate %s/device.crt;\n"
		 "   proxy_ssl_certificate_key %s/device.key;\n"
		 "   proxy_ssl_trusted_certificate %s/ca.crt;\n   proxy_ssl_verify on;\n"
		 "   proxy_ssl_name " CITY_HOST ";\n   proxy_ssl_server_name on;\n"
		 "   proxy_ssl_session_reuse on;\n  }\n }\n",
		 (unsigned int)f.city.port, (unsigned int)port, env.pki, env.pki, env.pki, env.pki,
		 env.pki, env.pki);
	pid = test_nginx_start(bin, dir, port, access_log, text);

	t0 = test_mono_us();
	worker_start(&f, port, 50, 400);
	if (!wait_status(f.s, 60, drained, &st)) {
		test_nginx_stop(pid);
		fail_msg("not drained through nginx: %s (%s), HTTP %d", st.last_code,
			 st.last_error_en, st.last_http_status);
	}
	sync_stop(f.s);
	test_nginx_stop(pid);
	assert_int_equal(st.acked_upto, EVENTS + 250);
	assert_int_equal(st.last_code[0], '\0');
	assert_true(st.batches >= 2);
	/* Through nginx: it logged the uploads; citysim saw the device's
	 * certificate on nginx's connections. */
	assert_int_equal(log_count(access_log, "\"POST /api/v1/events HTTP/1.1\" 200"),
			 (int)st.batches);
	assert_true(log_count(f.city.log, "cn=" DEVICE " POST /api/v1/events 200") >=
		    (int)st.batches);
	print_message("nginx interop: %d events in %llu batches through nginx (OpenSSL) to "
		      "citysim in %lld ms\n",
		      EVENTS + 250, (unsigned long long)st.batches,
		      (long long)((test_mono_us() - t0) / 1000));
	assert_city_has_all(&f, EVENTS + 250);
	fx_close(&f);
}

/* ---- Retry-After --------------------------------------------------------- */

/* The response with header line hdr (may be "") through the parser in
 * pieces of step bytes; @return its retry_after_s. */
static int parse_retry_after(const char *hdr, size_t step)
{
	static char body[64];
	char resp[512];
	struct httpc_parser p;
	size_t len;

	len = (size_t)snprintf(resp, sizeof(resp),
			       "HTTP/1.1 503 Service Unavailable\r\n%sContent-Length: 2\r\n"
			       "\r\n{}",
			       hdr);
	httpc_parser_init(&p, body, sizeof(body) - 1);
	for (size_t off = 0; off < len; off += step) {
		assert_int_equal(
			httpc_parser_feed(&p, resp + off, len - off < step ? len - off : step), 0);
	}
	assert_true(p.complete);
	assert_int_equal(p.status, 503);
	return p.retry_after_s;
}

static void test_retry_after_parser(void **state)
{
	static const struct {
		const char *hdr;
		int want;
	} cases[] = {
		{ "", -1 },
		{ "Retry-After: 120\r\n", 120 },
		{ "retry-after:7\r\n", 7 },
		{ "RETRY-AFTER: \t 0 \t\r\n", 0 },
		{ "Retry-After: 3600\r\n", 3600 },
		{ "Retry-After: 3601\r\n", 3600 },
		{ "Retry-After: 99999999999999999999999999999999\r\n", 3600 },
		{ "Retry-After: Fri, 31 Dec 1999 23:59:59 GMT\r\n", -1 },
		{ "Retry-After: 12abc\r\n", -1 },
		{ "Retry-After: -5\r\n", -1 },
		{ "Retry-After: 1 2\r\n", -1 },
		{ "Retry-After: +5\r\n", -1 },
		{ "Retry-After:\r\n", -1 },
		{ "Retry-After: 5\r\nRetry-After: 6\r\n", -1 },
		{ "Retry-Afterx: 5\r\n", -1 },
		{ "X-Retry-After: 5\r\n", -1 },
		{ "Retry-After: 30\r\nX-Other: 1\r\n", 30 },
	};
	static const size_t steps[] = { 1, 2, 3, 5, 7, 512 };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
			size_t step = steps[k];
			int got = parse_retry_after(cases[i].hdr, step);

			if (got != cases[i].want) {
				fail_msg("\"%s\" in pieces of %zu: %d, want %d", cases[i].hdr, step,
					 got, cases[i].want);
			}
		}
	}

	/* An interim 100 with Retry-After does not carry over to the answer. */
	{
		static const char two[] = "HTTP/1.1 100 Continue\r\nRetry-After: 9\r\n\r\n"
					  "HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n";
		static char body[16];
		struct httpc_parser p;

		httpc_parser_init(&p, body, sizeof(body) - 1);
		assert_int_equal(httpc_parser_feed(&p, two, sizeof(two) - 1), 0);
		assert_true(p.complete);
		assert_int_equal(p.status, 503);
		assert_int_equal(p.retry_after_s, -1);
	}
}

/* A busy city answers 503 with Retry-After: the worker stays away that
 * long, not the much shorter backoff it would draw, then drains. */
static void test_retry_after_worker(void **state)
{
	struct fx f;
	struct sync_status st;
	int64_t t0, busy_ms, drained_ms;

	fx_open(&f, "sync_busy", "device");
	assert_int_equal(test_city_start(&f.city, &env, "city", "--data", f.city_dir, "--busy-for",
					 "2", "--retry-after", "2", NULL),
			 0);
	f.city_up = true;
	t0 = test_mono_us();
	worker_start(&f, f.city.port, 50, 200);
	assert_true(wait_status(f.s, 30, busy_backoff, &st));
	busy_ms = (test_mono_us() - t0) / 1000;
	assert_int_equal(st.last_http_status, 503);
	assert_int_equal(st.last_errno, -EBUSY);
	assert_string_equal(st.last_error_en, "the city platform is busy; try again later");
	assert_string_equal(st.last_error_zh, "市平台繁忙，请稍后再试");
	assert_true(st.backoff_ms <= 200);
	assert_int_equal(st.retry_in_ms, 2000);
	assert_true(wait_status(f.s, 30, drained, &st));
	drained_ms = (test_mono_us() - t0) / 1000;
	/* Two busy answers, each honoured for 2 s. */
	assert_int_equal(log_count(f.city.log, " 503 "), 2);
	assert_true(drained_ms - busy_ms >= 3900);
	assert_true(drained_ms < 15000);
	print_message("Retry-After: 2 busy answers (Retry-After: 2) honoured; drained %lld ms "
		      "after the start (the backoff alone would be <= 200 ms each)\n",
		      (long long)drained_ms);
	sync_stop(f.s);
	assert_city_has_all(&f, EVENTS);
	assert_int_equal(test_city_stop(&f.city), 0);
	f.city_up = false;
	sync_destroy(f.s);
	f.s = NULL;

	/* A day asked for is taken as the hour cap; a kick still retries now. */
	assert_int_equal(test_city_start(&f.city, &env, "city", "--data", f.city_dir, "--busy-for",
					 "1", "--retry-after", "86400", NULL),
			 0);
	f.city_up = true;
	append_events(f.d.db, 10);
	worker_start(&f, f.city.port, 50, 200);
	assert_true(wait_status(f.s, 30, busy_backoff, &st));
	assert_int_equal(st.retry_in_ms, (int64_t)HTTPC_RETRY_AFTER_MAX_S * 1000);
	sync_kick(f.s);
	assert_true(wait_status(f.s, 30, drained, &st));
	sync_stop(f.s);
	assert_city_has_all(&f, EVENTS + 10);
	fx_close(&f);
}

/* ---- main ---------------------------------------------------------------- */

static int group_setup(void **state)
{
	return test_wire_up(&wire, 0x4ef05);
}

static int group_teardown(void **state)
{
	test_wire_down(&wire);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_city_cert_expired),
		cmocka_unit_test(test_city_cert_wrong_name),
		cmocka_unit_test(test_city_cert_untrusted),
		cmocka_unit_test(test_device_untrusted),
		cmocka_unit_test(test_device_revoked),
		cmocka_unit_test(test_device_unknown),
		cmocka_unit_test(test_device_mismatch),
		cmocka_unit_test(test_nginx_interop),
		cmocka_unit_test(test_retry_after_parser),
		cmocka_unit_test(test_retry_after_worker),
	};
	int fails;

	fails = test_city_env_init(&env, argc, argv, "sync_refusals");
	if (fails != 0) {
		return fails;
	}
	signal(SIGPIPE, SIG_IGN);
	fails = cmocka_run_group_tests(tests, group_setup, group_teardown);
	if (fails == 0) {
		test_rmtree(env.tmp);
	}
	return fails ? 1 : 0;
}
