/*
 * The sync worker (apps/sync/sync.c) against the real tools/citysim over
 * kernel loopback with the PKI of scripts/gen-test-pki: outbox events
 * drain in batches and the city holds each once, also across a restart of
 * the worker; with the city down the status says why in plain words and
 * the retries back off; sync_kick drains the backlog once the city is
 * back; items the city sends are applied to the orders service and the
 * calendar, a malformed or unknown item is kept in sync_conflicts and the
 * cursor still advances; events the city rejects are parked.
 *
 * Arguments: the gen-test-pki script, then the citysim command.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fw/outbox.h"
#include "fw/store.h"
#include "orders/calstore.h"
#include "orders/orders.h"
#include "sync/sync.h"
#include "test_app.h"
#include "test_city.h"
#include "test_proc.h"
#include "test_transport.h"
#include "test_util.h"

#define CITY_HOST "city.hotline.test"
#define LOOPBACK  0x7f000001u
#define DEVICE	  "sim-0001"

static struct test_city_env env;

/* The kernel-socket transport connects to city_port (the test moves it when
 * citysim restarts on another port). */
static uint16_t city_port;
static struct httpc_transport kernel_transport = { .ops = &test_kernel_ops, .priv = &city_port };

/* ---- fixture ------------------------------------------------------------- */

struct fx {
	struct test_data d;
	struct calstore *cal;
	struct deadline_rules rules;
	struct hal_printer printer;
	struct orders *o;
	mbedtls_x509_crt ca, cert;
	mbedtls_pk_context key;
	struct test_city city;
	bool city_up;
	char city_data[PATH_MAX + 16];
	struct sync_params sp;
	struct sync *s;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void city_start(struct fx *f, const char *reject_type)
{
	if (reject_type != NULL) {
		assert_int_equal(test_city_start(&f->city, &env, "city", "--data", f->city_data,
						 "--reject-type", reject_type, NULL),
				 0);
	} else {
		assert_int_equal(
			test_city_start(&f->city, &env, "city", "--data", f->city_data, NULL), 0);
	}
	city_port = f->city.port;
	f->city_up = true;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	/* Real time: the city's certificate is judged by the device clock. */
	test_data_open(&f->d, "test_sync", now_ms(), true);
	assert_int_equal(calstore_open(f->d.dir, &f->d.clk.clock, &f->cal), 0);
	assert_true(calstore_seed_builtin(f->cal) >= 0);
	deadline_preset(CONFIG_DEADLINES_NATIONAL, CONFIG_COUNT_NEXT_DAY, 1, &f->rules);
	f->printer = (struct hal_printer){ 0 };
	{
		struct orders_params op = {
			.data_dir = f->d.dir,
			.clock = &f->d.clk.clock,
			.printer = NULL,
			.cal = f->cal,
			.rules = &f->rules,
			.utc_offset_min = 480,
			.due_soon_days = 2,
			.attachment_max_kb = 64,
			.office_name = "测试县12345转办中心",
		};

		assert_int_equal(orders_create(&op, &f->o), 0);
	}
	test_city_tls_load(&env, &f->ca, &f->cert, &f->key);
	snprintf(f->city_data, sizeof(f->city_data), "%s/city", f->d.dir);
	f->sp = (struct sync_params){
		.data_dir = f->d.dir,
		.clock = &f->d.clk.clock,
		.city_ip = LOOPBACK,
		.city_port = 8443, /* the transport uses city_port */
		.city_host = CITY_HOST,
		.ca = &f->ca,
		.cert = &f->cert,
		.key = &f->key,
		.transport = &kernel_transport,
		.orders = f->o,
		.cal = f->cal,
		.backoff_min_ms = 20,
		.backoff_max_ms = 160,
		.idle_poll_ms = 100,
		.request_timeout_ms = 20000,
	};
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	sync_destroy(f->s);
	if (f->city_up) {
		test_city_stop(&f->city);
	}
	orders_destroy(f->o);
	calstore_close(f->cal);
	test_city_tls_free(&f->ca, &f->cert, &f->key);
	test_data_close(&f->d);
	free(f);
	return 0;
}

/* n events in transactions of up to 50, as services write them. */
static void append_events(struct fx *f, int n, const char *type)
{
	for (int done = 0; done < n;) {
		assert_int_equal(store_begin(f->d.db), 0);
		for (int k = 0; k < 50 && done < n; k++, done++) {
			char payload[96];

			snprintf(payload, sizeof(payload), "{\"n\": %d, \"text\": \"事件\"}", done);
			assert_int_equal(outbox_append(f->d.db, type, payload, NULL), 0);
		}
		assert_int_equal(store_commit(f->d.db), 0);
	}
}

typedef bool (*until_fn)(const struct sync_status *st, void *arg);

/* Poll the status until fn holds (up to secs seconds); the last status in st. */
static bool wait_for(struct fx *f, until_fn fn, void *arg, int secs, struct sync_status *st)
{
	int64_t end = test_mono_us() + (int64_t)secs * 1000000;

	do {
		assert_int_equal(sync_status(f->s, st), 0);
		if (fn(st, arg)) {
			return true;
		}
		usleep(10 * 1000);
	} while (test_mono_us() < end);
	return false;
}

static bool drained(const struct sync_status *st, void *arg)
{
	(void)arg;
	return st->waiting == 0 && st->state == SYNC_IDLE;
}

static bool acked_at_least(const struct sync_status *st, void *arg)
{
	return st->acked_upto >= *(int64_t *)arg;
}

static bool failed_times(const struct sync_status *st, void *arg)
{
	return st->failures_in_row >= *(uint32_t *)arg && st->state == SYNC_BACKOFF;
}

static bool cursor_is(const struct sync_status *st, void *arg)
{
	return strcmp(st->cursor, (const char *)arg) == 0 && st->state == SYNC_IDLE;
}

/* citysim's own store, read beside it (WAL: readers do not block it). */
static sqlite3 *city_db(struct fx *f)
{
	char p[PATH_MAX + 48];
	sqlite3 *db = NULL;

	snprintf(p, sizeof(p), "%s/citysim.db", f->city_data);
	assert_int_equal(sqlite3_open_v2(p, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	return db;
}

/* How many times the city logged a request line (" POST /api/v1/events 200"). */
static int log_count(struct fx *f, const char *what)
{
	size_t len = 0;
	char *text = test_file_read(f->city.log, &len);
	int n = 0;

	for (const char *p = text; (p = strstr(p, what)) != NULL; p += strlen(what)) {
		n++;
	}
	free(text);
	return n;
}

/* ---- tests --------------------------------------------------------------- */

static void test_drain_once_across_restart(void **state)
{
	struct fx *f = *state;
	struct sync_status st;
	int64_t third = 150;
	char local[64], city[64];
	sqlite3 *cdb;

	city_start(f, NULL);
	append_events(f, 500, "test.event");
	f->sp.batch_events = 20;
	assert_int_equal(sync_create(&f->sp, &f->s), 0);
	assert_int_equal(sync_status(f->s, &st), 0);
	assert_int_equal(st.state, SYNC_STOPPED);
	assert_int_equal(st.waiting, 500);
	assert_true(st.oldest_ms > 0);

	assert_int_equal(sync_start(f->s), 0);
	assert_int_equal(sync_start(f->s), -EALREADY);
	assert_true(wait_for(f, acked_at_least, &third, 60, &st));
	sync_stop(f->s); /* mid-way */
	assert_int_equal(sync_status(f->s, &st), 0);
	assert_int_equal(st.state, SYNC_STOPPED);
	assert_true(st.waiting > 0 && st.waiting < 500);
	assert_int_equal(st.waiting, 500 - st.acked_upto);
	assert_int_equal(outbox_pending(f->d.db), st.waiting);

	append_events(f, 10, "test.event"); /* written while the worker is down */
	assert_int_equal(sync_start(f->s), 0);
	assert_true(wait_for(f, drained, NULL, 60, &st));
	assert_int_equal(st.acked_upto, 510);
	assert_int_equal(st.last_code[0], '\0');
	assert_true(st.last_ok_ms > 0);
	assert_true(st.batches >= 510 / 20);
	/* Nothing was sent twice: every event went in exactly one answered batch. */
	assert_int_equal(st.events_sent, 510);
	assert_int_equal(log_count(f, " POST /api/v1/events 200"), (int)st.batches);
	assert_int_equal(outbox_pending(f->d.db), 0);

	/* The city holds each event once, in seq order, with its event id. */
	cdb = city_db(f);
	assert_int_equal(test_sql_int(cdb, "SELECT count(*) FROM events WHERE device = 'sim-0001'"),
			 510);
	assert_int_equal(test_sql_int(cdb, "SELECT count(DISTINCT seq) FROM events"), 510);
	assert_int_equal(test_sql_int(cdb, "SELECT min(seq) FROM events"), 1);
	assert_int_equal(test_sql_int(cdb, "SELECT max(seq) FROM events"), 510);
	test_sql_text(f->d.db, "SELECT event_id FROM outbox WHERE seq = 377", local, sizeof(local));
	test_sql_text(cdb, "SELECT event_id FROM events WHERE seq = 377", city, sizeof(city));
	assert_string_equal(local, city);
	test_sql_text(f->d.db, "SELECT value FROM meta WHERE key = 'db_epoch'", local,
		      sizeof(local));
	test_sql_text(cdb, "SELECT db_epoch FROM events WHERE seq = 1", city, sizeof(city));
	assert_string_equal(local, city);
	sqlite3_close(cdb);
	/* the city's clock was probed */
	assert_true(st.city_clock_known);
	assert_true(st.city_offset_ms > -SYNC_CLOCK_WARN_MS &&
		    st.city_offset_ms < SYNC_CLOCK_WARN_MS);
}

static void test_backoff_then_kick_drains(void **state)
{
	struct fx *f = *state;
	struct sync_status st;
	uint32_t five = 5;

	/* A port where nothing listens: the city is down. */
	city_port = test_free_port();
	append_events(f, 40, "test.event");
	assert_int_equal(sync_create(&f->sp, &f->s), 0);
	assert_int_equal(sync_start(f->s), 0);
	assert_true(wait_for(f, failed_times, &five, 30, &st));
	assert_int_equal(st.waiting, 40);
	assert_string_equal(st.last_code, "refused");
	assert_string_equal(st.last_error_en, httpc_reason_en(HTTPC_R_REFUSED));
	assert_string_equal(st.last_error_zh, httpc_reason_zh(HTTPC_R_REFUSED));
	assert_int_equal(st.last_errno, -ECONNREFUSED);
	assert_int_equal(st.last_ok_ms, 0);
	/* The ceiling doubles from 20 ms per failure up to the 160 ms cap, and
	 * the delay drawn is within it. */
	{
		int64_t want = 20;

		for (uint32_t i = 1; i < st.failures_in_row && want < 160; i++) {
			want *= 2;
		}
		assert_int_equal(st.backoff_ms, want > 160 ? 160 : want);
		assert_true(st.retry_in_ms >= 0 && st.retry_in_ms <= st.backoff_ms);
	}
	assert_true(st.failures >= 5);
	assert_int_equal(st.batches, 0);

	/* The city comes back; the uplink event kicks the worker. */
	city_start(f, NULL);
	sync_kick(f->s);
	assert_true(wait_for(f, drained, NULL, 30, &st));
	assert_int_equal(st.failures_in_row, 0);
	assert_int_equal(st.backoff_ms, 0);
	assert_true(st.kicks >= 1);
	assert_int_equal(st.acked_upto, 40);
	assert_int_equal(st.last_code[0], '\0');
	assert_int_equal(st.last_error_en[0], '\0');
	assert_true(st.last_ok_ms > 0);
}

/* Insert an item into citysim's store, as its dispatch command does. */
static void city_item(sqlite3 *cdb, const char *item_id, const char *type, const char *json)
{
	sqlite3_stmt *st = NULL;

	assert_int_equal(sqlite3_prepare_v2(cdb,
					    "INSERT INTO items (item_id, device, type, json, "
					    "created_ms) VALUES (?1, 'sim-0001', ?2, ?3, 0)",
					    -1, &st, NULL),
			 SQLITE_OK);
	sqlite3_bind_text(st, 1, item_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, json, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

static void dispatch_json(char *out, size_t cap, const char *item_id, const char *number,
			  const char *title)
{
	snprintf(out, cap,
		 "{\"type\": \"order.dispatch\", \"item_id\": \"%s\", \"number\": \"%s\","
		 " \"channel\": \"phone\", \"category\": \"complaint\", \"field\": "
		 "\"public_service\", %s%s%s \"content\": \"小区门口的路灯坏了一个星期。\","
		 " \"dispatch_ms\": %lld}",
		 item_id, number, title ? "\"title\": \"" : "", title ? title : "",
		 title ? "\"," : "", (long long)(now_ms() - 3600 * 1000));
}

static void test_items_applied_conflicts_kept(void **state)
{
	struct fx *f = *state;
	struct sync_status st;
	struct order *o = calloc(1, sizeof(*o));
	struct calstore_year_info yi;
	char json[1024];
	char last[32];
	sqlite3 *cdb;

	assert_non_null(o);
	city_start(f, NULL);
	cdb = city_db(f);
	dispatch_json(json, sizeof(json), "d-sync-1", "GD2099000001", "路灯坏了");
	city_item(cdb, "d-sync-1", "order.dispatch", json);
	/* malformed: no title */
	dispatch_json(json, sizeof(json), "d-sync-2", "GD2099000002", NULL);
	city_item(cdb, "d-sync-2", "order.dispatch", json);
	city_item(cdb, "kb-1", "kb.update", "{\"type\": \"kb.update\", \"item_id\": \"kb-1\"}");
	city_item(cdb, "cal-2031", "calendar.year",
		  "{\"type\": \"calendar.year\", \"item_id\": \"cal-2031\", \"year\": 2031,"
		  " \"calendar\": {\"year\": 2031, \"days\": [{\"date\": \"2031-01-01\","
		  " \"kind\": \"holiday\", \"name\": \"元旦\"}]}}");
	dispatch_json(json, sizeof(json), "d-sync-3", "GD2099000003", "井盖缺失");
	city_item(cdb, "d-sync-3", "order.dispatch", json);
	test_sql_text(cdb, "SELECT max(cursor) FROM items", last, sizeof(last));

	f->sp.page_items = 2; /* three pages */
	assert_int_equal(sync_create(&f->sp, &f->s), 0);
	assert_int_equal(sync_start(f->s), 0);
	assert_true(wait_for(f, cursor_is, last, 30, &st));
	assert_int_equal(st.items_applied, 3);
	assert_int_equal(st.items_conflict, 2);
	assert_int_equal(st.conflicts, 2);

	assert_int_equal(orders_find(f->o, "GD2099000001", o), 0);
	assert_string_equal(o->title, "路灯坏了");
	assert_int_equal(orders_find(f->o, "GD2099000003", o), 0);
	assert_int_equal(orders_find(f->o, "GD2099000002", o), -ENOENT);
	assert_int_equal(test_sql_int(f->d.db, "SELECT count(*) FROM sync_conflicts WHERE "
					       "item_id = 'd-sync-2' AND code = 'invalid'"),
			 1);
	assert_int_equal(test_sql_int(f->d.db, "SELECT count(*) FROM sync_conflicts WHERE "
					       "item_id = 'kb-1' AND code = 'unknown_type'"),
			 1);
	assert_int_equal(test_sql_int(f->d.db, "SELECT length(reason) > 0 AND length(reason_zh) > 0"
					       " FROM sync_conflicts WHERE item_id = 'd-sync-2'"),
			 1);
	/* the calendar year went in after its page's commit */
	assert_int_equal(calstore_year_info(f->cal, 2031, &yi), 0);
	assert_string_equal(yi.source, "city");
	assert_int_equal(test_sql_int(f->d.db, "SELECT count(*) FROM sync_pending_apply"), 0);

	/* Restarted, the worker resumes after the stored cursor: nothing twice. */
	sync_stop(f->s);
	dispatch_json(json, sizeof(json), "d-sync-4", "GD2099000004", "路面塌陷");
	city_item(cdb, "d-sync-4", "order.dispatch", json);
	test_sql_text(cdb, "SELECT max(cursor) FROM items", last, sizeof(last));
	assert_int_equal(sync_start(f->s), 0);
	assert_true(wait_for(f, cursor_is, last, 30, &st));
	assert_int_equal(st.items_applied, 4);
	assert_int_equal(st.items_conflict, 2);
	assert_int_equal(orders_find(f->o, "GD2099000004", o), 0);
	sqlite3_close(cdb);
	free(o);
}

/* Run citysim's CLI on the fixture's store; @return its exit code. */
static int city_cli(struct fx *f, const char *cmd, const char *kind, const char *file)
{
	const char *args[] = { cmd, "--kind", kind, "--file", file, "--data", f->city_data, NULL };
	struct test_proc p;

	return test_proc_run(&p, env.cmd, env.cmd_argc, args, "", 20000);
}

/* The city's code table and department list, pushed with `citysim table`,
 * replace the device's after the page; a bad table becomes a conflict and
 * the tables stay as they were. */
static void test_tables_from_city(void **state)
{
	struct fx *f = *state;
	struct sync_status st;
	char codes[PATH_MAX + 32], depts[PATH_MAX + 32], bad[PATH_MAX + 32], last[32];
	sqlite3 *cdb;

	snprintf(codes, sizeof(codes), "%s/codes.json", f->d.dir);
	snprintf(depts, sizeof(depts), "%s/depts.json", f->d.dir);
	snprintf(bad, sizeof(bad), "%s/bad.json", f->d.dir);
	test_file_write(codes,
			"[{\"code\": \"01\", \"name\": \"城乡建设\", \"parent\": \"\"},"
			" {\"code\": \"0101\", \"name\": \"路灯照明\", \"parent\": \"01\"}]",
			strlen("[{\"code\": \"01\", \"name\": \"城乡建设\", \"parent\": \"\"},"
			       " {\"code\": \"0101\", \"name\": \"路灯照明\", \"parent\": "
			       "\"01\"}]"));
	{
		const char *d = "[{\"code\": \"zjj\", \"name_zh\": \"县住建局\", \"name_en\": "
				"\"Housing Bureau\", \"active\": true}]";

		test_file_write(depts, d, strlen(d));
	}
	{
		/* a parent that does not exist */
		const char *b = "[{\"code\": \"02\", \"name\": \"x\", \"parent\": \"99\"}]";

		test_file_write(bad, b, strlen(b));
	}
	city_start(f, NULL);
	assert_int_equal(city_cli(f, "table", "codes", codes), 0);
	assert_int_equal(city_cli(f, "table", "departments", depts), 0);
	assert_int_equal(city_cli(f, "table", "codes", bad), 0);
	/* the CLI refuses what is not a table at all */
	assert_int_equal(city_cli(f, "table", "kb", codes), 1);
	cdb = city_db(f);
	test_sql_text(cdb, "SELECT max(cursor) FROM items", last, sizeof(last));
	sqlite3_close(cdb);

	assert_int_equal(sync_create(&f->sp, &f->s), 0);
	assert_int_equal(sync_start(f->s), 0);
	assert_true(wait_for(f, cursor_is, last, 30, &st));
	assert_int_equal(test_sql_int(f->d.db, "SELECT count(*) FROM sync_pending_apply"), 0);
	/* the good code table is the device's (the bad one changed nothing) */
	assert_int_equal(test_sql_int(f->d.db, "SELECT count(*) FROM order_codes"), 2);
	assert_int_equal(test_sql_int(f->d.db, "SELECT count(*) FROM order_codes WHERE code = "
					       "'0101' AND parent = '01'"),
			 1);
	assert_int_equal(test_sql_int(f->d.db, "SELECT count(*) FROM departments WHERE "
					       "code = 'zjj' AND active = 1"),
			 1);
	assert_int_equal(test_sql_int(f->d.db, "SELECT count(*) FROM sync_conflicts WHERE "
					       "type = 'codes.update' AND code = 'invalid' AND "
					       "length(reason_zh) > 0"),
			 1);
	/* audited as the city's change */
	assert_int_equal(test_sql_int(f->d.db, "SELECT count(*) FROM audit WHERE action IN "
					       "('order.codes', 'order.departments') AND actor = "
					       "'city' AND outcome = 'ok'"),
			 2);
}

static void test_rejected_events_parked(void **state)
{
	struct fx *f = *state;
	struct sync_status st;

	city_start(f, "test.bad");
	append_events(f, 5, "test.event");
	append_events(f, 3, "test.bad");
	append_events(f, 5, "test.event");
	assert_int_equal(sync_create(&f->sp, &f->s), 0);
	assert_int_equal(sync_start(f->s), 0);
	assert_true(wait_for(f, drained, NULL, 30, &st));
	assert_int_equal(st.acked_upto, 13);
	assert_int_equal(st.parked, 3);
	assert_int_equal(test_sql_int(f->d.db,
				      "SELECT count(*) FROM sync_parked WHERE seq BETWEEN "
				      "6 AND 8 AND type = 'test.bad' AND length(code) > 0"),
			 3);
}

static void test_params_checked(void **state)
{
	struct fx *f = *state;
	struct sync_params p = f->sp;
	struct sync *s = NULL;

	p.city_host = NULL;
	assert_int_equal(sync_create(&p, &s), -EINVAL);
	p = f->sp;
	p.key = NULL; /* a partial identity */
	assert_int_equal(sync_create(&p, &s), -EINVAL);
	p = f->sp;
	p.batch_events = SYNC_BATCH_EVENTS_MAX + 1;
	assert_int_equal(sync_create(&p, &s), -EINVAL);
	p = f->sp;
	p.batch_bytes = SYNC_BATCH_BYTES_MAX + 1;
	assert_int_equal(sync_create(&p, &s), -EINVAL);
	assert_null(s);
	assert_string_equal(sync_state_name(SYNC_HALTED), "halted");
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_params_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drain_once_across_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backoff_then_kick_drains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_items_applied_conflicts_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tables_from_city, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rejected_events_parked, setup, teardown),
	};
	int rc = test_city_env_init(&env, argc, argv, "test_sync");

	if (rc != 0) {
		return rc;
	}
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	test_rmtree(env.tmp);
	return rc;
}
