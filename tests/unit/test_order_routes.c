/*
 * The work orders' HTTP API over real HTTP on loopback, with the real
 * access check (apps/auth: sessions, roles, CSRF), a real database, a fake
 * clock and a fake printer: every route for every role (anonymous 401,
 * technicians read but never act, supervisors alone sign off), a whole
 * order life from dispatch to close, an illegal transition answered 409
 * with the service's reason in both languages, bad bodies and parameters
 * 400, attachments (type by content, size cap, download headers), the
 * printer's failures as 503 with nothing marked printed, and the citizen's
 * contact masked in the list and the detail.
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
#include "orders/calstore.h"
#include "orders/orders.h"
#include "test_http.h"
#include "test_app.h"
#include "test_util.h"

#define T0     1699840800000LL /* Monday 2023-11-13 10:00 in UTC+8 */
#define DAY_MS 86400000LL
#define ITER   1000
#define PIN    "246810"
#define PHONE  "13812345678"

struct fixture {
	struct test_data d; /* data directory, store (d.db), clock (d.clk) */
	struct hal_printer *printer;
	struct calstore *cal;
	struct deadline_rules rules;
	struct orders *o;
	struct auth *auth;
	struct kiosk k;
	struct fw_config cfg;
	struct test_sess staff, supv, tech;
	struct test_resp r;
};

enum who { ANON, STAFF, SUPV, TECH };

static const struct auth_actor setup_actor = { "sv00", "supervisor" };
/* The fakes keep a few printers for the whole run: one for every test. */
static struct hal_printer printer;

static struct test_sess *sess_of(struct fixture *f, enum who w)
{
	return w == STAFF ? &f->staff : w == SUPV ? &f->supv : w == TECH ? &f->tech : NULL;
}

/* One request with the session's cookie and CSRF token; body as given (may be binary). */
static void http(struct fixture *f, const char *method, const char *path, enum who w,
		 const char *ctype, const void *body, size_t len)
{
	test_http_as(kiosk_port(&f->k), sess_of(f, w), method, path, ctype, body, len, &f->r);
}

static void req(struct fixture *f, const char *method, const char *path, enum who w,
		const char *json)
{
	http(f, method, path, w, "application/json", json, json ? strlen(json) : 0);
}

static const char *str(const cJSON *o, const char *key)
{
	const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));

	if (v == NULL) {
		fail_msg("no string \"%s\" in %s", key, cJSON_PrintUnformatted(o));
	}
	return v;
}

static double num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	assert_true(cJSON_IsNumber(v));
	return v->valuedouble;
}

/* The number `key` of the 200 answer to a call without a body. */
static double num_at(struct fixture *f, const char *method, const char *path, enum who w,
		     const char *key)
{
	cJSON *j;
	double v;

	req(f, method, path, w, NULL);
	j = test_http_json(&f->r, 200);
	v = num(j, key);
	cJSON_Delete(j);
	return v;
}

static bool has_action(const cJSON *order, const char *name)
{
	const cJSON *a;

	cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(order, "actions"))
	{
		if (cJSON_IsString(a) && strcmp(a->valuestring, name) == 0) {
			return true;
		}
	}
	return false;
}

static void login(struct fixture *f, const char *user, struct test_sess *s)
{
	test_http_login(kiosk_port(&f->k), user, PIN, s, &f->r);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct auth_params ap = { 0 };
	struct orders_params op = { 0 };

	assert_non_null(f);
	test_data_open(&f->d, "test_order_routes", T0, true);
	fake_printer_init(&printer);
	f->printer = &printer;
	assert_int_equal(calstore_open(f->d.dir, &f->d.clk.clock, &f->cal), 0);
	deadline_preset(CONFIG_DEADLINES_NATIONAL, CONFIG_COUNT_NEXT_DAY, 1, &f->rules);
	op = (struct orders_params){ .data_dir = f->d.dir,
				     .clock = &f->d.clk.clock,
				     .printer = f->printer,
				     .cal = f->cal,
				     .rules = &f->rules,
				     .utc_offset_min = 480,
				     .due_soon_days = 2,
				     .attachment_max_kb = 16,
				     .office_name = "测试县转办中心" };
	assert_int_equal(orders_create(&op, &f->o), 0);

	ap = (struct auth_params){ .data_dir = f->d.dir,
				   .clock = &f->d.clk.clock,
				   .iterations = ITER };
	assert_int_equal(auth_create(&ap, &f->auth), 0);
	test_user_add(&f->d, ITER, &setup_actor, "st01", "李四", KIOSK_ROLE_STAFF, PIN);
	test_user_add(&f->d, ITER, &setup_actor, "sv01", "王五", KIOSK_ROLE_SUPERVISOR, PIN);
	test_user_add(&f->d, ITER, &setup_actor, "te01", "赵六", KIOSK_ROLE_TECHNICIAN, PIN);

	test_kiosk_init(&f->k, &f->cfg);
	f->cfg.http_body_max = 64 * 1024;
	assert_int_equal(auth_routes_register(&f->k, f->auth), 0);
	assert_int_equal(orders_routes_register(&f->k, f->o), 0);
	test_kiosk_start(&f->k, &f->cfg, f->auth);
	login(f, "st01", &f->staff);
	login(f, "sv01", &f->supv);
	login(f, "te01", &f->tech);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	kiosk_stop(&f->k);
	auth_destroy(f->auth);
	orders_destroy(f->o);
	calstore_close(f->cal);
	test_data_close(&f->d);
	free(f);
	return 0;
}

/* ---- orders from the city ---- */

/* Apply one city item given as JSON text; returns the service's answer. */
static int city(struct fixture *f, const char *item_json)
{
	struct orders_err err = { { 0 }, { 0 } };
	cJSON *item = cJSON_Parse(item_json);
	int ret;

	assert_non_null(item);
	ret = orders_apply_city(f->o, NULL, item, &err);
	cJSON_Delete(item);
	if (ret < 0) {
		print_message("city item refused (%d): %s / %s\n", ret, err.en, err.zh);
	}
	return ret;
}

/* Dispatch an order numbered `number` (dispatched now) and return its local id. */
static int64_t dispatch(struct fixture *f, const char *number, const char *category)
{
	char item[2048];
	struct order *ord = malloc(sizeof(*ord));
	int64_t id;

	assert_non_null(ord);
	snprintf(item, sizeof(item),
		 "{\"type\":\"order.dispatch\",\"item_id\":\"d-%s\",\"number\":\"%s\","
		 "\"channel\":\"phone\",\"category\":\"%s\",\"field\":\"social\","
		 "\"title\":\"小区路灯不亮\",\"content\":\"幸福路12号小区路灯坏了三天。\","
		 "\"location\":\"幸福路12号\",\"urgency\":\"normal\",\"complexity\":\"complex\","
		 "\"dispatch_ms\":%lld,"
		 "\"contact\":{\"name\":\"张三丰\",\"phone\":\"" PHONE "\"}}",
		 number, number, category, (long long)hal_clock_wall_ms(&f->d.clk.clock));
	assert_int_equal(city(f, item), 0);
	assert_int_equal(orders_find(f->o, number, ord), 0);
	id = ord->id;
	free(ord);
	return id;
}

static void order_path(char *out, size_t cap, int64_t id, const char *verb)
{
	snprintf(out, cap, "/api/v1/orders/%lld%s%s", (long long)id, verb[0] ? "/" : "", verb);
}

/* POST an action; expects 200 and returns the order's new state. */
static void act_ok(struct fixture *f, enum who w, int64_t id, const char *verb, const char *body,
		   const char *want_state)
{
	char path[128];
	cJSON *j;

	order_path(path, sizeof(path), id, verb);
	req(f, "POST", path, w, body);
	if (f->r.status != 200) {
		fail_msg("POST %s: %d %s", path, f->r.status, f->r.body);
	}
	j = test_http_json(&f->r, 200);
	assert_string_equal(str(j, "state"), want_state);
	cJSON_Delete(j);
}

static void act_err(struct fixture *f, enum who w, int64_t id, const char *verb, const char *body,
		    int status, const char *code)
{
	char path[128];

	order_path(path, sizeof(path), id, verb);
	req(f, "POST", path, w, body);
	test_http_assert_error(&f->r, status, code);
}

/* ---- tests ---- */

/* Which role may call which route: the table the routes were declared with. */
static void test_roles(void **state)
{
	struct fixture *f = *state;
	int64_t id = dispatch(f, "SZ20231113001", "complaint");
	char detail[64], act[64], att[80];
	static const struct {
		const char *method;
		const char *path; /* "%" stands for the order's id path */
		int anon, staff, supv, tech;
	} table[] = {
		{ "GET", "/api/v1/orders", 401, 200, 200, 200 },
		{ "GET", "/api/v1/orders/home", 401, 200, 200, 200 },
		{ "GET", "/api/v1/orders/dashboard", 401, 403, 200, 403 },
		{ "GET", "/api/v1/orders/departments", 401, 200, 200, 200 },
		{ "GET", "/api/v1/orders/codes", 401, 200, 200, 200 },
		{ "GET", "/api/v1/orders/clock-corrections", 401, 403, 200, 200 },
		{ "GET", "%detail", 401, 200, 200, 200 },
		{ "POST", "%act", 401, 0, 0, 403 }, /* staff, supervisors: the service answers */
		{ "POST", "/api/v1/orders/print-new", 401, 200, 200, 403 },
		{ "GET", "%att", 401, 404, 404, 403 },
	};

	order_path(detail, sizeof(detail), id, "");
	order_path(act, sizeof(act), id, "link-repeat");
	order_path(att, sizeof(att), id, "attachments/99");
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		const char *path = table[i].path;
		const int want[4] = { table[i].anon, table[i].staff, table[i].supv, table[i].tech };

		if (strcmp(path, "%detail") == 0) {
			path = detail;
		} else if (strcmp(path, "%act") == 0) {
			path = act;
		} else if (strcmp(path, "%att") == 0) {
			path = att;
		}
		for (int w = ANON; w <= TECH; w++) {
			int expect = want[w];

			/* Linking to an unknown order: staff and supervisors reach the
			 * service (400/404 from it), the others are stopped before. */
			if (path == act && (w == STAFF || w == SUPV)) {
				req(f, table[i].method, path, (enum who)w, "{\"number\":\"NOPE\"}");
				if (f->r.status == 401 || f->r.status == 403) {
					fail_msg("%s %s as %d: %d", table[i].method, path, w,
						 f->r.status);
				}
				continue;
			}
			req(f, table[i].method, path, (enum who)w, NULL);
			if (f->r.status != expect) {
				fail_msg("%s %s as role %d: want %d, got %d %s", table[i].method,
					 path, w, expect, f->r.status, f->r.body);
			}
		}
	}
	/* Tables: supervisors (and technicians) replace them, staff may not. */
	req(f, "PUT", "/api/v1/orders/departments", STAFF, "[]");
	test_http_assert_error(&f->r, 403, "forbidden");
	req(f, "PUT", "/api/v1/orders/departments", ANON, "[]");
	test_http_assert_status(&f->r, 401);
	req(f, "PUT", "/api/v1/orders/departments", SUPV,
	    "[{\"code\":\"ZJJ\",\"name_zh\":\"住建局\",\"name_en\":\"Housing\",\"active\":true}]");
	test_http_assert_status(&f->r, 200);
	assert_non_null(strstr(f->r.body, "\"ZJJ\""));
	/* Technicians maintain the tables too (they read orders but never act). */
	req(f, "PUT", "/api/v1/orders/departments", TECH,
	    "[{\"code\":\"ZJJ\",\"name_zh\":\"住建局\",\"name_en\":\"Housing\",\"active\":true},"
	    "{\"code\":\"SWJ\",\"name_zh\":\"水务局\",\"name_en\":\"Water\",\"active\":true}]");
	test_http_assert_status(&f->r, 200);
	assert_non_null(strstr(f->r.body, "\"SWJ\""));
	req(f, "PUT", "/api/v1/orders/departments", SUPV, "{not json");
	test_http_assert_error(&f->r, 400, "invalid_departments");
	req(f, "PUT", "/api/v1/orders/codes", SUPV,
	    "[{\"code\":\"01\",\"name\":\"城乡建设\",\"parent\":\"\"},"
	    "{\"code\":\"0101\",\"name\":\"路灯\",\"parent\":\"01\"}]");
	test_http_assert_status(&f->r, 200);
	assert_non_null(strstr(f->r.body, "\"0101\""));
	req(f, "PUT", "/api/v1/orders/codes", SUPV,
	    "[{\"code\":\"02\",\"name\":\"x\",\"parent\":\"99\"}]");
	test_http_assert_error(&f->r, 400, "invalid_codes");

	/* A technician reads the order but is offered no action and may not act. */
	req(f, "GET", detail, TECH, NULL);
	{
		cJSON *j = test_http_json(&f->r, 200);

		assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "actions")),
				 0);
		cJSON_Delete(j);
	}
	act_err(f, TECH, id, "sign", NULL, 403, "forbidden");
	/* Without the CSRF token a staff member's action is refused too. */
	{
		struct test_sess keep = f->staff;

		f->staff.csrf[0] = 'x';
		f->staff.csrf[1] = '\0';
		act_err(f, STAFF, id, "sign", NULL, 403, "csrf");
		f->staff = keep;
	}
}

static int64_t outbox_count(struct fixture *f, const char *type)
{
	return test_sql_count(f->d.db, "outbox", "type", type);
}

/* Dispatch → sign → assign → draft → sign-off → visit → closed, all over HTTP. */
static void test_order_life(void **state)
{
	struct fixture *f = *state;
	int64_t id = dispatch(f, "SZ20231113002", "help");
	char path[128], item[256];
	cJSON *j, *e;

	/* The staff home shows it to sign for. */
	req(f, "GET", "/api/v1/orders/home", STAFF, NULL);
	j = test_http_json(&f->r, 200);
	assert_int_equal(num(cJSON_GetObjectItemCaseSensitive(j, "counts"), "pending"), 1);
	e = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "pending"), 0);
	assert_string_equal(str(e, "number"), "SZ20231113002");
	cJSON_Delete(j);

	order_path(path, sizeof(path), id, "");
	req(f, "GET", path, STAFF, NULL);
	j = test_http_json(&f->r, 200);
	assert_string_equal(str(j, "state"), "pending");
	assert_true(has_action(j, "sign"));
	assert_false(has_action(j, "sign_off"));
	cJSON_Delete(j);

	act_ok(f, STAFF, id, "sign", NULL, "received");
	/* Signing twice is not a state change the order allows: 409 with the reason. */
	act_err(f, STAFF, id, "sign", NULL, 409, "illegal_transition");
	j = test_http_json(&f->r, 409);
	e = cJSON_GetObjectItemCaseSensitive(j, "error");
	assert_true(strlen(str(e, "message")) > 10);
	assert_true(strlen(str(e, "message_zh")) > 6);
	cJSON_Delete(j);

	/* Departments come with the service's defaults; take the first. */
	req(f, "GET", "/api/v1/orders/departments", STAFF, NULL);
	j = test_http_json(&f->r, 200);
	e = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "departments"), 0);
	assert_non_null(e);
	snprintf(item, sizeof(item), "{\"lead_dept\":\"%s\",\"note\":\"请住建局办理\"}",
		 str(e, "code"));
	cJSON_Delete(j);
	act_ok(f, STAFF, id, "assign", item, "handling");
	act_ok(f, STAFF, id, "draft-reply", "{\"reply\":\"已修复路灯，感谢反映。\"}", "drafted");
	/* Staff may not sign off: the supervisor's. */
	act_err(f, STAFF, id, "sign-off", NULL, 403, "forbidden");
	act_ok(f, SUPV, id, "sign-off", NULL, "replied");

	/* Offline: the events wait to be sent, and the order says so. */
	req(f, "GET", path, STAFF, NULL);
	j = test_http_json(&f->r, 200);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "sync_pending")));
	assert_true(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "history")) >= 5);
	cJSON_Delete(j);
	assert_int_equal(outbox_count(f, "order.received"), 1);
	assert_int_equal(outbox_count(f, "order.replied"), 1);
	req(f, "GET", "/api/v1/orders?flag=sync_pending", STAFF, NULL);
	j = test_http_json(&f->r, 200);
	assert_true(num(j, "total") >= 1);
	cJSON_Delete(j);

	/* The city's return visit: satisfied closes it. */
	snprintf(item, sizeof(item),
		 "{\"type\":\"order.visit_result\",\"item_id\":\"v-1\",\"number\":"
		 "\"SZ20231113002\",\"result\":\"satisfied\"}");
	assert_int_equal(city(f, item), 0);
	req(f, "GET", path, SUPV, NULL);
	j = test_http_json(&f->r, 200);
	assert_string_equal(str(j, "state"), "closed");
	assert_false(has_action(j, "draft_reply"));
	cJSON_Delete(j);
	act_err(f, STAFF, id, "draft-reply", "{\"reply\":\"x\"}", 409, "illegal_transition");

	/* The list filters by state; the dashboard counts it. */
	req(f, "GET", "/api/v1/orders?state=closed", STAFF, NULL);
	j = test_http_json(&f->r, 200);
	assert_int_equal(num(j, "total"), 1);
	assert_string_equal(
		str(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "rows"), 0), "number"),
		"SZ20231113002");
	cJSON_Delete(j);
	assert_int_equal(num_at(f, "GET", "/api/v1/orders/dashboard", SUPV, "total"), 1);
}

static void test_bad_input(void **state)
{
	struct fixture *f = *state;
	int64_t id = dispatch(f, "SZ20231113003", "consult");
	char path[128];
	static const char *const bad_params[] = {
		"/api/v1/orders?state=lost",	   "/api/v1/orders?flag=red",
		"/api/v1/orders?category=x",	   "/api/v1/orders?limit=0",
		"/api/v1/orders?limit=201",	   "/api/v1/orders?page=0",
		"/api/v1/orders?page=a",	   "/api/v1/orders?sort=up",
		"/api/v1/orders/dashboard?from=x",
	};

	for (size_t i = 0; i < sizeof(bad_params) / sizeof(bad_params[0]); i++) {
		enum who w = strstr(bad_params[i], "dashboard") ? SUPV : STAFF;

		req(f, "GET", bad_params[i], w, NULL);
		test_http_assert_error(&f->r, 400, "bad_parameter");
	}
	req(f, "GET", "/api/v1/orders/dashboard?from=2000&to=1000", SUPV, NULL);
	test_http_assert_error(&f->r, 400, "bad_parameter");

	act_ok(f, STAFF, id, "sign", "", "received");
	act_err(f, STAFF, id, "assign", "{not json", 400, "bad_json");
	act_err(f, STAFF, id, "assign", "[1]", 400, "bad_json");
	act_err(f, STAFF, id, "assign", "{}", 400, "bad_request");
	act_err(f, STAFF, id, "assign", "{\"lead_dept\":7}", 400, "bad_request");
	act_err(f, STAFF, id, "assign", "{\"lead_dept\":\"NO-SUCH\"}", 400, "bad_request");
	act_err(f, STAFF, id, "assign", "{\"lead_dept\":\"x\",\"co_depts\":\"y\"}", 400,
		"bad_request");
	act_err(f, STAFF, id, "assign", "{\"lead_dept\":\"x\",\"complexity\":\"hard\"}", 400,
		"bad_request");
	act_err(f, STAFF, id, "request-return", "{\"reason\":\"不属本县\"}", 400, "bad_request");
	act_err(f, STAFF, id, "request-return", "{\"reason\":\"不属本县\",\"basis\":\"\"}", 400,
		"bad_request");
	act_err(f, STAFF, id, "request-extension",
		"{\"new_due_date\":\"tomorrow\",\"reason\":"
		"\"a\",\"basis\":\"b\"}",
		400, "bad_request");
	act_err(f, SUPV, id, "ack-notice", "{\"notice_id\":\"1\"}", 400, "bad_request");
	act_err(f, STAFF, id, "link-repeat", "{}", 400, "bad_request");
	act_err(f, STAFF, id, "fly", "{}", 404, "not_found");
	/* The order is untouched by all of it. */
	order_path(path, sizeof(path), id, "");
	req(f, "GET", path, STAFF, NULL);
	{
		cJSON *j = test_http_json(&f->r, 200);

		assert_string_equal(str(j, "state"), "received");
		cJSON_Delete(j);
	}
	req(f, "GET", "/api/v1/orders/abc", STAFF, NULL);
	test_http_assert_error(&f->r, 404, "not_found");
	req(f, "GET", "/api/v1/orders/99999", STAFF, NULL);
	test_http_assert_error(&f->r, 404, "order_not_found");
	act_err(f, STAFF, 99999, "sign", NULL, 404, "order_not_found");
	req(f, "GET", "/api/v1/orders/1/attachments/x", STAFF, NULL);
	test_http_assert_error(&f->r, 404, "not_found");
}

static void test_attachments(void **state)
{
	struct fixture *f = *state;
	int64_t id = dispatch(f, "SZ20231113004", "complaint");
	static const uint8_t png_magic[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	uint8_t *png = calloc(1, 20 * 1024);
	char path[128], loc[128], v[128];
	cJSON *j;

	assert_non_null(png);
	memcpy(png, png_magic, sizeof(png_magic));
	act_ok(f, STAFF, id, "sign", NULL, "received");
	order_path(path, sizeof(path), id, "attachments?name=reply.png");

	/* A program renamed .png is refused by its content. */
	http(f, "POST", path, STAFF, "image/png", "MZ\x90\x00\x03\x00\x00\x00", 8);
	test_http_assert_error(&f->r, 400, "bad_attachment");
	/* Types other than photos and PDFs are refused by their type. */
	http(f, "POST", path, STAFF, "application/x-msdownload", "MZ\x90\x00", 4);
	test_http_assert_error(&f->r, 415, "unsupported_type");
	http(f, "POST", path, STAFF, "image/png", "", 0);
	test_http_assert_error(&f->r, 400, "bad_request");
	/* Larger than attachment_max_kb (16). */
	http(f, "POST", path, STAFF, "image/png", png, 20 * 1024);
	test_http_assert_error(&f->r, 413, "attachment_too_large");
	/* A technician may not add one. */
	http(f, "POST", path, TECH, "image/png", png, 1024);
	test_http_assert_status(&f->r, 403);

	http(f, "POST", path, STAFF, "image/png; charset=binary", png, 1024);
	j = test_http_json(&f->r, 201);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "attachments")), 1);
	assert_string_equal(
		str(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "attachments"), 0),
		    "name"),
		"reply.png");
	cJSON_Delete(j);
	assert_non_null(test_http_header(&f->r, "Location", loc, sizeof(loc)));
	assert_non_null(strstr(loc, "/attachments/"));

	req(f, "GET", loc, STAFF, NULL);
	test_http_assert_status(&f->r, 200);
	test_http_assert_header(&f->r, "Content-Type", "image/png");
	test_http_assert_header(&f->r, "X-Content-Type-Options", "nosniff");
	assert_non_null(test_http_header(&f->r, "Content-Disposition", v, sizeof(v)));
	assert_memory_equal(v, "attachment; filename=\"order-", 28);
	assert_int_equal(f->r.body_len, 1024);
	assert_memory_equal(f->r.body, png, 1024);
	req(f, "GET", loc, TECH, NULL);
	test_http_assert_error(&f->r, 403, "forbidden");
	free(png);
}

static void test_contact_masked(void **state)
{
	struct fixture *f = *state;
	int64_t id = dispatch(f, "SZ20231113005", "report");
	char path[128];
	cJSON *j, *c;

	req(f, "GET", "/api/v1/orders", STAFF, NULL);
	test_http_assert_status(&f->r, 200);
	assert_null(strstr(f->r.body, PHONE));
	assert_null(strstr(f->r.body, "张三丰"));
	req(f, "GET", "/api/v1/orders/home", STAFF, NULL);
	assert_null(strstr(f->r.body, PHONE));

	order_path(path, sizeof(path), id, "");
	req(f, "GET", path, STAFF, NULL);
	assert_null(strstr(f->r.body, PHONE));
	j = test_http_json(&f->r, 200);
	c = cJSON_GetObjectItemCaseSensitive(j, "contact");
	assert_string_equal(str(c, "view"), "masked");
	assert_non_null(strstr(str(c, "phone"), "*"));
	assert_true(has_action(j, "sign"));
	cJSON_Delete(j);

	/* The full contact on purpose, and the audit log records who looked. */
	order_path(path, sizeof(path), id, "reveal-contact");
	req(f, "POST", path, STAFF, NULL);
	j = test_http_json(&f->r, 200);
	c = cJSON_GetObjectItemCaseSensitive(j, "contact");
	assert_string_equal(str(c, "phone"), PHONE);
	cJSON_Delete(j);
	assert_int_equal(test_sql_int(f->d.db, "SELECT count(*) FROM audit WHERE action = "
					       "'order.contact_view' AND actor = 'st01'"),
			 1);
	req(f, "POST", path, TECH, NULL);
	test_http_assert_status(&f->r, 403);
}

static void test_printing(void **state)
{
	struct fixture *f = *state;
	int64_t id = dispatch(f, "SZ20231113006", "suggestion");
	char path[128];
	cJSON *j;

	fake_printer_set_state(f->printer, HAL_PRINTER_PAPER_OUT);
	act_err(f, STAFF, id, "print", NULL, 503, "printer_paper_out");
	fake_printer_set_state(f->printer, HAL_PRINTER_COVER_OPEN);
	act_err(f, STAFF, id, "print", NULL, 503, "printer_cover_open");
	fake_printer_set_state(f->printer, HAL_PRINTER_OFFLINE);
	req(f, "POST", "/api/v1/orders/print-new", STAFF, NULL);
	test_http_assert_error(&f->r, 503, "printer_offline");
	assert_int_equal(fake_printer_job_count(f->printer), 0);
	order_path(path, sizeof(path), id, "");
	req(f, "GET", path, STAFF, NULL);
	j = test_http_json(&f->r, 200);
	assert_false(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "printed")));
	cJSON_Delete(j);

	/* Retry once the printer is back: printed, and marked so. */
	fake_printer_set_state(f->printer, HAL_PRINTER_READY);
	order_path(path, sizeof(path), id, "print");
	req(f, "POST", path, STAFF, NULL);
	j = test_http_json(&f->r, 200);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "printed")));
	cJSON_Delete(j);
	assert_int_equal(fake_printer_job_count(f->printer), 1);

	dispatch(f, "SZ20231113007", "help");
	dispatch(f, "SZ20231113008", "help");
	assert_int_equal(num_at(f, "POST", "/api/v1/orders/print-new", SUPV, "printed"), 2);
	assert_int_equal(fake_printer_job_count(f->printer), 3);
	assert_int_equal(num_at(f, "POST", "/api/v1/orders/print-new", STAFF, "printed"), 0);
}

/* Deadline flags follow the appliance's clock; urging notices wait for a supervisor. */
static void test_flags_and_notices(void **state)
{
	struct fixture *f = *state;
	int64_t id = dispatch(f, "SZ20231113009", "help");
	char item[512], path[128];
	cJSON *j, *n;

	act_ok(f, STAFF, id, "sign", NULL, "received");
	assert_int_equal(num_at(f, "GET", "/api/v1/orders?flag=overdue", STAFF, "total"), 0);
	fake_clock_advance(&f->d.clk.clock, 30 * DAY_MS);
	/* A month later the sessions have ended: log in again. */
	login(f, "st01", &f->staff);
	login(f, "sv01", &f->supv);
	req(f, "GET", "/api/v1/orders?flag=overdue", STAFF, NULL);
	j = test_http_json(&f->r, 200);
	assert_int_equal(num(j, "total"), 1);
	assert_string_equal(
		str(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "rows"), 0), "due_flag"),
		"overdue");
	cJSON_Delete(j);

	snprintf(item, sizeof(item),
		 "{\"type\":\"order.notice\",\"item_id\":\"n-1\",\"number\":\"SZ20231113009\","
		 "\"kind\":\"urge\",\"text\":\"请加快办理\"}");
	assert_int_equal(city(f, item), 0);
	req(f, "GET", "/api/v1/orders/home", STAFF, NULL);
	j = test_http_json(&f->r, 200);
	assert_int_equal(num(cJSON_GetObjectItemCaseSensitive(j, "counts"), "urged"), 1);
	cJSON_Delete(j);
	order_path(path, sizeof(path), id, "");
	req(f, "GET", path, STAFF, NULL);
	j = test_http_json(&f->r, 200);
	assert_false(has_action(j, "ack_notice"));
	cJSON_Delete(j);
	req(f, "GET", path, SUPV, NULL);
	j = test_http_json(&f->r, 200);
	assert_true(has_action(j, "ack_notice"));
	n = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "notices"), 0);
	snprintf(item, sizeof(item), "{\"notice_id\":%lld}", (long long)num(n, "id"));
	cJSON_Delete(j);
	act_err(f, STAFF, id, "ack-notice", item, 403, "forbidden");
	act_ok(f, SUPV, id, "ack-notice", item, "received");
	req(f, "GET", "/api/v1/orders/home", STAFF, NULL);
	j = test_http_json(&f->r, 200);
	assert_int_equal(num(cJSON_GetObjectItemCaseSensitive(j, "counts"), "urged"), 0);
	cJSON_Delete(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_order_life, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attachments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_contact_masked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_printing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flags_and_notices, setup, teardown),
	};

	return cmocka_run_group_tests_name("order_routes", tests, NULL, NULL);
}
