/*
 * The walk-in requests' HTTP API over real HTTP on loopback, behind the
 * real access check (auth_authorize, sessions from auth_login): every
 * route with every role (anonymous, staff, supervisor, technician), then
 * each route's answers: filing at the touchscreen and at the window, the
 * receipt printer failing, the not-accepted kinds, the staff list, detail,
 * contact views, answer, forward and reprint, the public lookup without
 * personal data, ratings and their summary, queueing a citizen to a
 * window, and bad bodies and parameters answered 400 in the kiosk error
 * shape with both languages.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "auth/auth.h"
#include "fake_clock.h"
#include "fake_printer.h"
#include "fw/audit.h"
#include "fw/config.h"
#include "fw/outbox.h"
#include "fw/pii.h"
#include "fw/rng.h"
#include "fw/store.h"
#include "kiosk/kiosk.h"
#include "queue/queue.h"
#include "requests/requests.h"
#include "test_http.h"
#include "test_app.h"
#include "test_walkin.h"
#include "test_util.h"

#define T0   1699840800000LL /* Monday 2023-11-13 10:00 in UTC+8 */
#define ITER 1000
#define PIN  "246810"
#define FILING                                                                           \
	"{\"category\":\"complaint\",\"field\":\"social\",\"content\":\"路灯坏了\"," \
	"\"location\":\"幸福小区\",\"name\":\"张三丰\",\"phone\":\"13812345678\"}"

enum who { ANON = 0, STAFF, SUPV, TECH, NWHO };

struct fixture {
	struct test_data d; /* data directory, store (d.db), clock (d.clk) */
	struct hal_printer printer;
	struct queue *q;
	struct requests *r;
	struct auth *auth;
	struct kiosk k;
	struct fw_config cfg;
	struct test_sess s[NWHO]; /* s[ANON] stays empty */
	struct test_resp resp;
};

static const struct auth_actor boss = { "sv00", "supervisor" };

static void login(struct fixture *f, enum who w, const char *id, unsigned role)
{
	test_user_add(&f->d, ITER, &boss, id, "测试", role, PIN);
	test_session_open(f->auth, id, PIN, &f->s[w]);
}

/* The fakes come from a small static pool: one printer serves every test. */
static struct hal_printer the_printer;

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct auth_params ap;

	assert_non_null(f);
	test_data_open(&f->d, "test_request_routes", T0, true);
	fake_printer_init(&the_printer);
	f->printer = the_printer;
	test_walkin_open(&f->d, &f->printer, &f->q, &f->r);
	ap = (struct auth_params){ .data_dir = f->d.dir,
				   .clock = &f->d.clk.clock,
				   .iterations = ITER,
				   .idle_timeout_s = 3600,
				   .session_max_s = 7200 };
	assert_int_equal(auth_create(&ap, &f->auth), 0);
	login(f, STAFF, "st01", KIOSK_ROLE_STAFF);
	login(f, SUPV, "sv01", KIOSK_ROLE_SUPERVISOR);
	login(f, TECH, "te01", KIOSK_ROLE_TECHNICIAN);

	test_kiosk_init(&f->k, &f->cfg);
	assert_int_equal(requests_routes_register(&f->k, f->r), 0);
	test_kiosk_start(&f->k, &f->cfg, f->auth);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	kiosk_stop(&f->k);
	auth_destroy(f->auth);
	test_walkin_close(f->q, f->r);
	test_data_close(&f->d);
	free(f);
	return 0;
}

/* A call as w (ANON: no session), the CSRF token on state-changing methods. */
static void call(struct fixture *f, enum who w, const char *method, const char *path,
		 const char *body)
{
	test_http_as(kiosk_port(&f->k), w != ANON ? &f->s[w] : NULL, method, path,
		     "application/json", body, body != NULL ? strlen(body) : 0, &f->resp);
}

static const char *str(const cJSON *o, const char *path)
{
	char buf[128], *save = NULL;
	const cJSON *x = o;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, ".", &save); k != NULL; k = strtok_r(NULL, ".", &save)) {
		x = cJSON_GetObjectItemCaseSensitive(x, k);
	}
	assert_non_null(cJSON_GetStringValue(x));
	return cJSON_GetStringValue(x);
}

/* File one request at the touchscreen; its lookup code and number into out. */
static void file_one(struct fixture *f, char code[16], char number[32])
{
	cJSON *j;

	call(f, ANON, "POST", "/api/v1/requests", FILING);
	j = test_http_json(&f->resp, 201);
	snprintf(code, 16, "%s", str(j, "request.lookup_code"));
	snprintf(number, 32, "%s", str(j, "request.number"));
	cJSON_Delete(j);
}

/* ---- every route with every role ---- */

/* in with '@' replaced by number and '#' by code. */
static void subst(const char *in, const char *number, const char *code, char *out, size_t cap)
{
	size_t n = 0;

	for (; *in != '\0'; in++) {
		const char *put = *in == '@' ? number : *in == '#' ? code : NULL;
		int k = put != NULL ? snprintf(out + n, cap - n, "%s", put)
				    : snprintf(out + n, cap - n, "%c", *in);

		assert_true(k > 0 && (size_t)k < cap - n);
		n += (size_t)k;
	}
	out[n] = '\0';
}

static void test_roles(void **state)
{
	struct fixture *f = *state;
	char code[16], number[32], path[128];
	const unsigned PUBLIC = 0, STAFFS = 1 << STAFF | 1 << SUPV, SUPVS = 1 << SUPV;
	struct {
		const char *method, *path, *body;
		unsigned allowed; /* PUBLIC: everyone */
	} routes[] = {
		{ "GET", "/api/v1/requests/not-accepted", NULL, PUBLIC },
		{ "POST", "/api/v1/requests", FILING, PUBLIC },
		{ "POST", "/api/v1/requests/window", FILING, STAFFS },
		{ "GET", "/api/v1/requests", NULL, STAFFS },
		{ "GET", "/api/v1/requests/@", NULL, STAFFS },
		{ "GET", "/api/v1/requests/@?contact=full", NULL, STAFFS },
		{ "POST", "/api/v1/requests/@/reprint", "{}", STAFFS },
		{ "POST", "/api/v1/requests/@/answer", "{\"answer\":\"x\"}", STAFFS },
		{ "POST", "/api/v1/requests/@/forward", "{}", STAFFS },
		{ "POST", "/api/v1/requests/queue-to-window", "{\"code\":\"#\",\"window_no\":1}",
		  STAFFS },
		{ "GET", "/api/v1/lookup/#", NULL, PUBLIC },
		{ "POST", "/api/v1/ratings", "{\"code\":\"#\",\"grade\":5}", PUBLIC },
		{ "GET", "/api/v1/ratings/summary", NULL, SUPVS },
	};

	file_one(f, code, number);
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		char body[256];
		const char *b = NULL;

		subst(routes[i].path, number, code, path, sizeof(path));
		if (routes[i].body != NULL) {
			subst(routes[i].body, number, code, body, sizeof(body));
			b = body;
		}
		for (int w = ANON; w < NWHO; w++) {
			bool ok = routes[i].allowed == PUBLIC || (routes[i].allowed & (1u << w));

			call(f, (enum who)w, routes[i].method, path, b);
			if (ok && (f->resp.status == 401 || f->resp.status == 403 ||
				   f->resp.status >= 500)) {
				fail_msg("%s %s as %d: %d %s", routes[i].method, path, w,
					 f->resp.status, f->resp.body);
			}
			if (!ok) {
				int want = w == ANON ? 401 : 403;

				if (f->resp.status != want) {
					fail_msg("%s %s as %d: want %d, got %d", routes[i].method,
						 path, w, want, f->resp.status);
				}
				test_http_assert_error(&f->resp, want,
						       w == ANON ? "login_required" : "forbidden");
			}
		}
	}
	/* The staff's filings record who filed them. */
	assert_int_equal(test_sql_int(f->d.db, "SELECT count(*) FROM walkin_requests WHERE "
					       "channel = 'window' AND owner_user IN ('st01', "
					       "'sv01')"),
			 2);
	assert_int_equal(test_sql_int(f->d.db,
				      "SELECT count(*) FROM audit WHERE action = "
				      "'request.contact_view' AND actor IN ('st01', 'sv01')"),
			 2);
}

/* ---- filing ---- */

static void test_file(void **state)
{
	struct fixture *f = *state;
	cJSON *j, *m;

	call(f, ANON, "GET", "/api/v1/requests/not-accepted", NULL);
	j = test_http_json(&f->resp, 200);
	m = cJSON_GetObjectItem(j, "matters");
	assert_int_equal(cJSON_GetArraySize(m), 9);
	assert_string_equal(str(cJSON_GetArrayItem(m, 0), "kind"), "litigation");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "emergencies")), 4);
	cJSON_Delete(j);

	call(f, ANON, "POST", "/api/v1/requests", FILING);
	j = test_http_json(&f->resp, 201);
	assert_string_equal(str(j, "request.number"), "WR20231113-0001");
	assert_string_equal(str(j, "request.channel"), "kiosk");
	assert_string_equal(str(j, "request.state"), "open");
	assert_string_equal(str(j, "contact.phone"), "138****5678");
	assert_string_equal(str(j, "contact.name"), "张**");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "printed")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "print_error")));
	assert_null(strstr(f->resp.body, "13812345678"));
	assert_null(strstr(f->resp.body, "张三丰"));
	cJSON_Delete(j);
	assert_int_equal(fake_printer_job_count(&f->printer), 1);

	/* Printer out of paper: filed all the same, and the screen is told why. */
	fake_printer_set_state(&f->printer, HAL_PRINTER_PAPER_OUT);
	call(f, ANON, "POST", "/api/v1/requests", FILING);
	j = test_http_json(&f->resp, 201);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "printed")));
	assert_string_equal(str(j, "print_error.code"), "printer_paper_out");
	assert_non_null(strstr(str(j, "print_error.message_zh"), "查询码"));
	assert_non_null(strstr(str(j, "print_error.message"), "lookup code"));
	assert_int_equal(strlen(str(j, "request.lookup_code")), 8);
	cJSON_Delete(j);
	fake_printer_set_state(&f->printer, HAL_PRINTER_READY);

	/* Hidden identity: the answer shows it anonymous. */
	call(f, ANON, "POST", "/api/v1/requests",
	     "{\"category\":\"report\",\"field\":\"market\",\"content\":\"无证经营\","
	     "\"phone\":\"13812345678\",\"hide_identity\":true}");
	j = test_http_json(&f->resp, 201);
	assert_true(
		cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "contact"), "anonymous")));
	assert_null(strstr(f->resp.body, "5678"));
	cJSON_Delete(j);

	/* Not accepted: 422 with where to go. */
	call(f, ANON, "POST", "/api/v1/requests",
	     "{\"kind\":\"arbitration\",\"category\":\"help\",\"field\":\"social\","
	     "\"content\":\"拖欠工资\"}");
	test_http_assert_error(&f->resp, 422, "not_accepted");
	assert_non_null(strstr(f->resp.body, "劳动人事争议仲裁委员会"));
	assert_int_equal(test_sql_int(f->d.db, "SELECT count(*) FROM walkin_requests"), 3);
}

static void test_bad_bodies(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *body, *code;
	} bad[] = {
		{ "", "bad_json" },
		{ "[1]", "bad_json" },
		{ "{not json", "bad_json" },
		{ "{\"category\":1,\"field\":\"social\",\"content\":\"x\"}", "bad_request" },
		{ "{\"category\":\"complaint\",\"field\":\"social\",\"content\":\"x\","
		  "\"hide_identity\":\"yes\"}",
		  "bad_request" },
		{ "{\"category\":\"other\",\"field\":\"social\",\"content\":\"x\"}",
		  "bad_request" },
		{ "{\"category\":\"complaint\",\"field\":\"sky\",\"content\":\"x\"}",
		  "bad_request" },
		{ "{\"category\":\"complaint\",\"field\":\"social\"}", "bad_request" },
		{ "{\"category\":\"complaint\",\"field\":\"social\",\"content\":\"x\","
		  "\"phone\":\"call me\"}",
		  "bad_request" },
	};
	char code[16], number[32], path[96];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		call(f, ANON, "POST", "/api/v1/requests", bad[i].body);
		test_http_assert_error(&f->resp, 400, bad[i].code);
		call(f, STAFF, "POST", "/api/v1/requests/window", bad[i].body);
		test_http_assert_error(&f->resp, 400, bad[i].code);
	}
	assert_int_equal(test_sql_int(f->d.db, "SELECT count(*) FROM walkin_requests"), 0);
	assert_int_equal(test_sql_int(f->d.db, "SELECT count(*) FROM citizen_contact"), 0);

	file_one(f, code, number);
	snprintf(path, sizeof(path), "/api/v1/requests/%s/answer", number);
	call(f, STAFF, "POST", path, "{}");
	test_http_assert_error(&f->resp, 400, "bad_request");
	call(f, STAFF, "POST", path, "{\"answer\":7}");
	test_http_assert_error(&f->resp, 400, "bad_request");
	call(f, STAFF, "POST", path, "nope");
	test_http_assert_error(&f->resp, 400, "bad_request");
	snprintf(path, sizeof(path), "/api/v1/requests/%s/forward", number);
	call(f, STAFF, "POST", path, "{\"note\":[]}");
	test_http_assert_error(&f->resp, 400, "bad_request");
	call(f, STAFF, "GET", "/api/v1/requests?state=closed", NULL);
	test_http_assert_error(&f->resp, 400, "bad_parameter");
	call(f, STAFF, "GET", "/api/v1/requests?limit=0", NULL);
	test_http_assert_error(&f->resp, 400, "bad_parameter");
	call(f, STAFF, "GET", "/api/v1/requests?limit=9x", NULL);
	test_http_assert_error(&f->resp, 400, "bad_parameter");
	snprintf(path, sizeof(path), "/api/v1/requests/%s?contact=all", number);
	call(f, STAFF, "GET", path, NULL);
	test_http_assert_error(&f->resp, 400, "bad_parameter");
	call(f, ANON, "POST", "/api/v1/ratings", "{\"grade\":5}");
	test_http_assert_error(&f->resp, 400, "bad_request");
	call(f, ANON, "POST", "/api/v1/ratings", "{\"code\":\"ABCDEFGH\",\"grade\":4.5}");
	test_http_assert_error(&f->resp, 400, "bad_request");
	call(f, ANON, "POST", "/api/v1/ratings", "{\"code\":\"ABCDEFGH\",\"grade\":9}");
	test_http_assert_error(&f->resp, 400, "bad_request");
	call(f, ANON, "POST", "/api/v1/ratings", "{\"code\":\"AB\",\"grade\":3}");
	test_http_assert_error(&f->resp, 400, "bad_request");
	call(f, SUPV, "GET", "/api/v1/ratings/summary?from=2023-02-30x", NULL);
	test_http_assert_error(&f->resp, 400, "bad_parameter");
	call(f, SUPV, "GET", "/api/v1/ratings/summary?from=2023-12-01&to=2023-11-01", NULL);
	test_http_assert_error(&f->resp, 400, "bad_parameter");
	call(f, STAFF, "POST", "/api/v1/requests/queue-to-window", "{\"code\":\"x\"}");
	test_http_assert_error(&f->resp, 400, "bad_request");
	call(f, STAFF, "POST", "/api/v1/requests/queue-to-window",
	     "{\"code\":\"ABCDEFGH\",\"window_no\":0}");
	test_http_assert_error(&f->resp, 400, "bad_request");
	call(f, ANON, "GET", "/api/v1/lookup/abc", NULL);
	test_http_assert_error(&f->resp, 400, "bad_code");
	call(f, ANON, "GET", "/api/v1/lookup/", NULL);
	test_http_assert_error(&f->resp, 400, "bad_code");
}

/* ---- staff ---- */

static void test_staff_actions(void **state)
{
	struct fixture *f = *state;
	char code[16], number[32], path[96];
	cJSON *j;

	file_one(f, code, number);
	call(f, STAFF, "GET", "/api/v1/requests?today=1&state=open", NULL);
	j = test_http_json(&f->resp, 200);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "requests")), 1);
	assert_null(strstr(f->resp.body, "5678"));
	cJSON_Delete(j);

	snprintf(path, sizeof(path), "/api/v1/requests/%s", number);
	call(f, STAFF, "GET", path, NULL);
	j = test_http_json(&f->resp, 200);
	assert_string_equal(str(j, "contact.phone"), "138****5678");
	assert_string_equal(str(j, "contact.view"), "masked");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "history")), 1);
	cJSON_Delete(j);
	snprintf(path, sizeof(path), "/api/v1/requests/%s?contact=full", number);
	call(f, STAFF, "GET", path, NULL);
	j = test_http_json(&f->resp, 200);
	assert_string_equal(str(j, "contact.phone"), "13812345678");
	assert_string_equal(str(j, "contact.name"), "张三丰");
	cJSON_Delete(j);
	assert_int_equal(test_sql_int(f->d.db, "SELECT count(*) FROM audit WHERE action = "
					       "'request.contact_view' AND actor = 'st01'"),
			 1);
	call(f, STAFF, "GET", "/api/v1/requests/WR20990101-0001", NULL);
	test_http_assert_error(&f->resp, 404, "not_found");

	snprintf(path, sizeof(path), "/api/v1/requests/%s/answer", number);
	call(f, STAFF, "POST", path, "{\"answer\":\"已联系路灯所，今晚修复。\"}");
	j = test_http_json(&f->resp, 200);
	assert_string_equal(str(j, "request.state"), "answered");
	assert_string_equal(str(j, "request.closed_by"), "st01");
	cJSON_Delete(j);
	call(f, STAFF, "POST", path, "{\"answer\":\"again\"}");
	test_http_assert_error(&f->resp, 409, "wrong_state");
	snprintf(path, sizeof(path), "/api/v1/requests/%s/forward", number);
	call(f, SUPV, "POST", path, "{}");
	test_http_assert_error(&f->resp, 409, "wrong_state");
	call(f, STAFF, "POST", "/api/v1/requests/WR20990101-0001/forward", "{}");
	test_http_assert_error(&f->resp, 404, "not_found");
	snprintf(path, sizeof(path), "/api/v1/requests/%s/close", number);
	call(f, STAFF, "POST", path, "{}");
	test_http_assert_error(&f->resp, 404, "not_found");

	file_one(f, code, number);
	snprintf(path, sizeof(path), "/api/v1/requests/%s/forward", number);
	call(f, SUPV, "POST", path, "{\"note\":\"转市住建\"}");
	j = test_http_json(&f->resp, 200);
	assert_string_equal(str(j, "request.state"), "forwarded");
	cJSON_Delete(j);

	fake_printer_set_state(&f->printer, HAL_PRINTER_OFFLINE);
	snprintf(path, sizeof(path), "/api/v1/requests/%s/reprint", number);
	call(f, STAFF, "POST", path, NULL);
	test_http_assert_error(&f->resp, 503, "printer_offline");
	fake_printer_set_state(&f->printer, HAL_PRINTER_READY);
	call(f, STAFF, "POST", path, NULL);
	j = test_http_json(&f->resp, 200);
	assert_true(
		cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "request"), "printed")));
	cJSON_Delete(j);

	/* Queue the citizen to window 2 by the request's code. */
	snprintf(path, sizeof(path), "{\"code\":\"%s\",\"window_no\":2}", code);
	call(f, STAFF, "POST", "/api/v1/requests/queue-to-window", path);
	j = test_http_json(&f->resp, 201);
	assert_int_equal(
		cJSON_GetObjectItem(cJSON_GetObjectItem(j, "ticket"), "target_window")->valueint,
		2);
	cJSON_Delete(j);
	call(f, STAFF, "POST", "/api/v1/requests/queue-to-window",
	     "{\"code\":\"ZZZZZZZZ\",\"window_no\":2}");
	test_http_assert_error(&f->resp, 404, "not_found");
}

/* ---- lookup and ratings ---- */

static void test_lookup_and_ratings(void **state)
{
	struct fixture *f = *state;
	char code[16], number[32], path[96], body[160], lower[16];
	cJSON *j;

	file_one(f, code, number);
	snprintf(lower, sizeof(lower), "%s", code);
	for (char *c = lower; *c; c++) {
		*c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
	}
	snprintf(path, sizeof(path), "/api/v1/lookup/%s", lower);
	call(f, ANON, "GET", path, NULL);
	j = test_http_json(&f->resp, 200);
	assert_string_equal(str(j, "kind"), "request");
	assert_string_equal(str(j, "state_zh"), "受理中");
	assert_string_equal(str(j, "state_en"), "Being handled at this office");
	assert_null(strstr(f->resp.body, "13812345678"));
	assert_null(strstr(f->resp.body, "5678"));
	assert_null(strstr(f->resp.body, "张"));
	assert_null(strstr(f->resp.body, "路灯"));
	cJSON_Delete(j);
	call(f, ANON, "GET", "/api/v1/lookup/ZZZZZZZZ", NULL);
	test_http_assert_error(&f->resp, 404, "unknown_code");

	snprintf(body, sizeof(body), "{\"code\":\"%s\",\"grade\":4}", code);
	call(f, ANON, "POST", "/api/v1/ratings", body);
	test_http_assert_error(&f->resp, 409, "not_ratable");
	snprintf(path, sizeof(path), "/api/v1/requests/%s/answer", number);
	call(f, STAFF, "POST", path, "{\"answer\":\"已解答\"}");
	test_http_assert_status(&f->resp, 200);
	snprintf(body, sizeof(body), "{\"code\":\"%s\",\"grade\":4,\"comment\":\"满意\"}", lower);
	call(f, ANON, "POST", "/api/v1/ratings", body);
	j = test_http_json(&f->resp, 201);
	assert_string_equal(str(j, "rating.grade_zh"), "满意");
	assert_string_equal(str(j, "rating.target"), "request");
	cJSON_Delete(j);
	call(f, ANON, "POST", "/api/v1/ratings", body);
	test_http_assert_error(&f->resp, 409, "already_rated");
	call(f, ANON, "POST", "/api/v1/ratings", "{\"code\":\"ZZZZZZZZ\",\"grade\":2}");
	test_http_assert_error(&f->resp, 404, "unknown_code");

	call(f, SUPV, "GET", "/api/v1/ratings/summary?from=2023-11-13&to=2023-11-13", NULL);
	j = test_http_json(&f->resp, 200);
	assert_int_equal(cJSON_GetObjectItem(j, "total")->valueint, 1);
	assert_true(cJSON_GetObjectItem(j, "satisfaction")->valuedouble == 1.0);
	assert_int_equal(cJSON_GetObjectItem(
				 cJSON_GetArrayItem(cJSON_GetObjectItem(j, "grades"), 1), "count")
				 ->valueint,
			 1);
	assert_int_equal(
		cJSON_GetObjectItem(cJSON_GetObjectItem(j, "by_target"), "request")->valueint, 1);
	cJSON_Delete(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_bodies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_staff_actions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookup_and_ratings, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
