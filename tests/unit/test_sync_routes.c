/*
 * The sync routes (apps/sync/routes.c) behind the real access check:
 * with sync off the status says why in both languages and still counts the
 * backlog, and a kick is refused; with the real worker and the real citysim
 * on loopback the status shows the backlog draining, the last successful
 * sync, and, with the city gone, the last error in plain words; the parked
 * and conflict lists page and filter; a supervisor resolves a conflict once,
 * with a note, and the audit log records it; roles are enforced.
 *
 * Arguments: the gen-test-pki script, then the citysim command.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "auth/auth.h"
#include "fw/backlog.h"
#include "fw/outbox.h"
#include "fw/store.h"
#include "kiosk/kiosk.h"
#include "sync/routes.h"
#include "sync/sync.h"
#include "test_app.h"
#include "test_city.h"
#include "test_transport.h"
#include "test_util.h"

#define ITER	  1000
#define PIN	  "246810"
#define CITY_HOST "city.hotline.test"

enum who { ANON = 0, STAFF, SUPV, TECH, NWHO };

static struct test_city_env env;
static uint16_t city_port;
static struct httpc_transport kernel_transport = { .ops = &test_kernel_ops, .priv = &city_port };

struct fx {
	struct test_data d;
	struct auth *auth;
	struct kiosk k;
	struct fw_config cfg;
	struct test_sess sess[NWHO];
	struct test_resp resp;
	struct sync_routes *routes;
	/* the live worker (test_live only) */
	mbedtls_x509_crt ca, cert;
	mbedtls_pk_context key;
	struct test_city city;
	bool city_up;
	char city_data[PATH_MAX + 16];
	struct sync *sync;
};

static const struct auth_actor boss = { "sv00", "supervisor" };

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void login(struct fx *f, enum who w, const char *id, unsigned role)
{
	test_user_add(&f->d, ITER, &boss, id, "测试", role, PIN);
	test_session_open(f->auth, id, PIN, &f->sess[w]);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct auth_params ap;

	assert_non_null(f);
	/* Real time: the city's certificate is judged by the device clock. */
	test_data_open(&f->d, "test_sync_routes", now_ms(), false);
	ap = (struct auth_params){ .data_dir = f->d.dir,
				   .clock = &f->d.clk.clock,
				   .iterations = ITER,
				   .idle_timeout_s = 3600,
				   .session_max_s = 7200 };
	assert_int_equal(auth_create(&ap, &f->auth), 0);
	assert_int_equal(backlog_init(&(struct backlog_params){ .data_dir = f->d.dir,
								.low_free_mb = 2,
								.critical_free_mb = 1,
								.stats_quota = 1000 }),
			 0);
	login(f, STAFF, "st01", KIOSK_ROLE_STAFF);
	login(f, SUPV, "sv01", KIOSK_ROLE_SUPERVISOR);
	login(f, TECH, "te01", KIOSK_ROLE_TECHNICIAN);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	kiosk_stop(&f->k);
	sync_routes_destroy(f->routes);
	sync_destroy(f->sync);
	if (f->city_up) {
		test_city_stop(&f->city);
	}
	if (f->key.pk_info != NULL || f->ca.version != 0) {
		test_city_tls_free(&f->ca, &f->cert, &f->key);
	}
	auth_destroy(f->auth);
	backlog_shutdown();
	test_data_close(&f->d);
	free(f);
	return 0;
}

static const char *uplink_up(void *arg)
{
	(void)arg;
	return "up";
}

/* Routes over f->sync (NULL: off, not configured), served behind the access check. */
static void serve(struct fx *f)
{
	struct sync_routes_params rp = {
		.data_dir = f->d.dir,
		.clock = &f->d.clk.clock,
		.sync = f->sync,
		.city_ip = 0x0a000202u,
		.city_port = 8443,
		.city_host = CITY_HOST,
		.uplink_state = uplink_up,
	};

	if (f->sync == NULL) {
		rp.off_code = "not_configured";
		rp.off_en = "No city platform is configured.";
		rp.off_zh = "尚未配置市平台。";
	}
	assert_int_equal(sync_routes_create(&rp, &f->routes), 0);
	test_kiosk_init(&f->k, &f->cfg);
	assert_int_equal(sync_routes_register(&f->k, f->routes), 0);
	test_kiosk_start(&f->k, &f->cfg, f->auth);
}

static cJSON *get(struct fx *f, enum who w, const char *path, int status)
{
	test_http_as(kiosk_port(&f->k), &f->sess[w], "GET", path, NULL, NULL, 0, &f->resp);
	return test_http_json(&f->resp, status);
}

static void post(struct fx *f, enum who w, const char *path, const char *body)
{
	test_http_as(kiosk_port(&f->k), &f->sess[w], "POST", path, "application/json", body,
		     body != NULL ? strlen(body) : 0, &f->resp);
}

static int64_t num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	assert_true(cJSON_IsNumber(v));
	return (int64_t)v->valuedouble;
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	assert_true(cJSON_IsString(v));
	return v->valuestring;
}

static void append_events(struct fx *f, int n)
{
	assert_int_equal(store_begin(f->d.db), 0);
	for (int i = 0; i < n; i++) {
		char payload[64];

		snprintf(payload, sizeof(payload), "{\"n\": %d}", i);
		assert_int_equal(outbox_append(f->d.db, "test.event", payload, NULL), 0);
	}
	assert_int_equal(store_commit(f->d.db), 0);
}

/* ---- tests --------------------------------------------------------------- */

static void test_off(void **state)
{
	struct fx *f = *state;
	const cJSON *why;
	cJSON *o;

	append_events(f, 3);
	f->d.clk.wall_ms += 90000;
	serve(f);

	/* Citizens see nothing of it; every staff role sees the status. */
	test_http_as(kiosk_port(&f->k), NULL, "GET", "/api/v1/sync/status", NULL, NULL, 0,
		     &f->resp);
	assert_int_equal(f->resp.status, 401);
	for (enum who w = STAFF; w < NWHO; w++) {
		cJSON_Delete(get(f, w, "/api/v1/sync/status", 200));
	}
	o = get(f, STAFF, "/api/v1/sync/status", 200);
	assert_false(cJSON_IsTrue(cJSON_GetObjectItem(o, "configured")));
	assert_string_equal(str(o, "state"), "off");
	why = cJSON_GetObjectItem(o, "off_reason");
	assert_string_equal(str(why, "code"), "not_configured");
	assert_string_equal(str(why, "message_zh"), "尚未配置市平台。");
	/* The backlog still counts while sync is off. */
	assert_int_equal(num(o, "waiting"), 3);
	assert_true(num(o, "oldest_age_ms") >= 90000);
	assert_string_equal(str(cJSON_GetObjectItem(o, "city"), "address"), "10.0.2.2");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "last_ok_ms")));
	/* The storage level and the backlog by class come with it. */
	assert_string_equal(str(cJSON_GetObjectItem(o, "storage"), "level"), "ok");
	assert_int_equal(num(cJSON_GetObjectItem(o, "storage"), "waiting_essential"), 3);
	cJSON_Delete(o);

	/* A kick says sync is off; staff may not kick at all. */
	post(f, TECH, "/api/v1/sync/kick", NULL);
	test_http_assert_error(&f->resp, 409, "sync_off");
	post(f, STAFF, "/api/v1/sync/kick", NULL);
	assert_int_equal(f->resp.status, 403);
}

static void add_conflict(struct fx *f, const char *item_id, const char *item)
{
	char sql[1024];

	snprintf(sql, sizeof(sql),
		 "INSERT INTO sync_conflicts (cursor, item_id, type, code, reason, reason_zh, "
		 "item, at_ms) VALUES ('1', '%s', 'order.recall', 'conflict', "
		 "'The order was replied to here before the city recalled it.', "
		 "'本机已答复后市平台撤回了该工单。', '%s', 1000)",
		 item_id, item);
	test_sql_exec(f->d.db, sql);
}

static void test_lists_and_resolve(void **state)
{
	struct fx *f = *state;
	const cJSON *rows;
	cJSON *o;
	int64_t first_id;

	for (int i = 1; i <= 5; i++) {
		char sql[512];

		snprintf(sql, sizeof(sql),
			 "INSERT INTO sync_parked (seq, event_id, type, code, message, message_zh, "
			 "parked_ms) VALUES (%d, 'e%d', 'rating.given', 'bad_field', "
			 "'grade is out of range', '评价等级超出范围', %d)",
			 i * 10, i, i * 1000);
		test_sql_exec(f->d.db, sql);
	}
	add_conflict(f, "c-1", "{\"type\": \"order.recall\", \"number\": \"GD1\"}");
	add_conflict(f, "c-2", "not json at all");
	add_conflict(f, "c-3", "{\"type\": \"order.recall\", \"number\": \"GD3\"}");
	serve(f);

	/* Parked events: technicians and supervisors, newest first, paged. */
	cJSON_Delete(get(f, STAFF, "/api/v1/sync/parked", 403));
	o = get(f, TECH, "/api/v1/sync/parked?limit=2", 200);
	assert_int_equal(num(o, "total"), 5);
	rows = cJSON_GetObjectItem(o, "rows");
	assert_int_equal(cJSON_GetArraySize(rows), 2);
	assert_int_equal(num(cJSON_GetArrayItem(rows, 0), "seq"), 50);
	assert_string_equal(str(cJSON_GetArrayItem(rows, 0), "message_zh"), "评价等级超出范围");
	cJSON_Delete(o);
	o = get(f, SUPV, "/api/v1/sync/parked?limit=2&before=30", 200);
	rows = cJSON_GetObjectItem(o, "rows");
	assert_int_equal(cJSON_GetArraySize(rows), 2);
	assert_int_equal(num(cJSON_GetArrayItem(rows, 0), "seq"), 20);
	assert_int_equal(num(cJSON_GetArrayItem(rows, 1), "seq"), 10);
	cJSON_Delete(o);
	for (int i = 0; i < 4; i++) {
		static const char *const bad[] = { "limit=0", "limit=201", "limit=abc",
						   "before=-1" };
		char path[64];

		snprintf(path, sizeof(path), "/api/v1/sync/parked?%s", bad[i]);
		test_http_as(kiosk_port(&f->k), &f->sess[TECH], "GET", path, NULL, NULL, 0,
			     &f->resp);
		test_http_assert_error(&f->resp, 400, "bad_query");
	}

	/* Conflicts: every staff role reads them; the item comes back as JSON. */
	o = get(f, STAFF, "/api/v1/sync/conflicts", 200);
	assert_int_equal(num(o, "total"), 3);
	rows = cJSON_GetObjectItem(o, "rows");
	assert_string_equal(str(cJSON_GetArrayItem(rows, 0), "item_id"), "c-3");
	assert_string_equal(str(cJSON_GetObjectItem(cJSON_GetArrayItem(rows, 0), "item"), "number"),
			    "GD3");
	/* One the city sent that is not JSON shows as its text. */
	assert_string_equal(str(cJSON_GetArrayItem(rows, 1), "item"), "not json at all");
	first_id = num(cJSON_GetArrayItem(rows, 2), "id");
	cJSON_Delete(o);

	/* Only a supervisor resolves, with a real note, once. */
	{
		char path[96];

		snprintf(path, sizeof(path), "/api/v1/sync/conflicts/%lld/resolve",
			 (long long)first_id);
		post(f, STAFF, path, "{\"note\": \"已电话确认\"}");
		assert_int_equal(f->resp.status, 403);
		post(f, SUPV, path, "{\"note\": \"   \"}");
		test_http_assert_error(&f->resp, 400, "bad_note");
		post(f, SUPV, path, "{\"note\": \"a\\u0001b\"}");
		test_http_assert_error(&f->resp, 400, "bad_note");
		post(f, SUPV, path, "{}");
		test_http_assert_error(&f->resp, 400, "bad_note");
		post(f, SUPV, path, "not json");
		test_http_assert_error(&f->resp, 400, "bad_json");
		/* Nothing of the refusals was written. */
		assert_int_equal(test_sql_int(f->d.db, "SELECT count(*) FROM sync_conflicts "
						       "WHERE resolved_ms IS NOT NULL"),
				 0);
		post(f, SUPV, path, "{\"note\": \"已电话确认，县里按市平台撤回处理\"}");
		test_http_assert_status(&f->resp, 200);
		post(f, SUPV, path, "{\"note\": \"再次处理\"}");
		test_http_assert_error(&f->resp, 409, "already_resolved");
		post(f, SUPV, "/api/v1/sync/conflicts/999/resolve", "{\"note\": \"x\"}");
		test_http_assert_error(&f->resp, 404, "not_found");
		post(f, SUPV, "/api/v1/sync/conflicts/1/undo", "{\"note\": \"x\"}");
		assert_int_equal(f->resp.status, 404);
	}
	assert_int_equal(test_sql_int(f->d.db, "SELECT count(*) FROM sync_conflicts "
					       "WHERE resolved_by = 'sv01'"),
			 1);
	assert_int_equal(test_sql_int(f->d.db, "SELECT count(*) FROM audit WHERE action = "
					       "'sync.conflict_resolved' AND actor = 'sv01' "
					       "AND target = 'conflict-1' AND outcome = 'ok'"),
			 1);
	o = get(f, STAFF, "/api/v1/sync/conflicts?open=1", 200);
	assert_int_equal(num(o, "total"), 2);
	rows = cJSON_GetObjectItem(o, "rows");
	assert_int_equal(cJSON_GetArraySize(rows), 2);
	for (int i = 0; i < 2; i++) {
		assert_true(cJSON_IsNull(
			cJSON_GetObjectItem(cJSON_GetArrayItem(rows, i), "resolved_ms")));
	}
	cJSON_Delete(o);
}

/* Poll the status route until want(state, waiting) holds, up to secs. */
static cJSON *wait_status(struct fx *f, const char *state, int64_t waiting, int secs)
{
	int64_t end = test_mono_us() + (int64_t)secs * 1000000;

	for (;;) {
		cJSON *o = get(f, STAFF, "/api/v1/sync/status", 200);

		if (strcmp(str(o, "state"), state) == 0 &&
		    (waiting < 0 || num(o, "waiting") == waiting)) {
			return o;
		}
		if (test_mono_us() > end) {
			char *text = cJSON_Print(o);

			fail_msg("status never became %s/%lld: %s", state, (long long)waiting,
				 text);
		}
		cJSON_Delete(o);
		usleep(20 * 1000);
	}
}

static void test_live(void **state)
{
	struct fx *f = *state;
	const cJSON *e;
	cJSON *o;
	struct sync_params sp = {
		.data_dir = f->d.dir,
		.clock = &f->d.clk.clock,
		.city_ip = 0x7f000001u,
		.city_port = 8443,
		.city_host = CITY_HOST,
		.ca = &f->ca,
		.cert = &f->cert,
		.key = &f->key,
		.transport = &kernel_transport,
		.backoff_min_ms = 50,
		.backoff_max_ms = 200,
		.idle_poll_ms = 100,
		.request_timeout_ms = 20000,
	};

	test_city_tls_load(&env, &f->ca, &f->cert, &f->key);
	snprintf(f->city_data, sizeof(f->city_data), "%s/city", f->d.dir);
	assert_int_equal(test_city_start(&f->city, &env, "city", "--data", f->city_data, NULL), 0);
	city_port = f->city.port;
	f->city_up = true;

	append_events(f, 40);
	assert_int_equal(sync_create(&sp, &f->sync), 0);
	serve(f);
	o = get(f, STAFF, "/api/v1/sync/status", 200);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(o, "configured")));
	assert_string_equal(str(o, "state"), "stopped");
	assert_int_equal(num(o, "waiting"), 40);
	cJSON_Delete(o);

	assert_int_equal(sync_start(f->sync), 0);
	o = wait_status(f, "idle", 0, 30);
	assert_true(num(o, "last_ok_ms") > 0);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "last_error")));
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "clock"), "known")));
	assert_true(num(cJSON_GetObjectItem(o, "counters"), "events_sent") >= 40);
	cJSON_Delete(o);

	/* The city goes away: new work waits, and the error is in plain words. */
	assert_int_equal(test_city_stop(&f->city), 0);
	f->city_up = false;
	append_events(f, 2);
	post(f, TECH, "/api/v1/sync/kick", NULL);
	test_http_assert_status(&f->resp, 202);
	o = wait_status(f, "backoff", 2, 30);
	e = cJSON_GetObjectItem(o, "last_error");
	assert_true(cJSON_IsObject(e));
	assert_true(strlen(str(e, "message")) > 10);
	assert_true(strlen(str(e, "message_zh")) > 6);
	assert_true(num(o, "oldest_ms") > 0);
	cJSON_Delete(o);

	/* Back again: a kick drains it. */
	assert_int_equal(test_city_start(&f->city, &env, "city", "--data", f->city_data, NULL), 0);
	city_port = f->city.port;
	f->city_up = true;
	post(f, SUPV, "/api/v1/sync/kick", NULL);
	test_http_assert_status(&f->resp, 202);
	o = wait_status(f, "idle", 0, 30);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "last_error")));
	cJSON_Delete(o);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lists_and_resolve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_live, setup, teardown),
	};

	if (test_city_env_init(&env, argc, argv, "test_sync_routes") != 0) {
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
