/*
 * The calendar store against a real database and a fake clock: an import
 * persists across a reopen, a bad import or a bad day leaves the stored
 * year and memory intact, set_day, the audit rows each change writes,
 * seeding from a directory and from the built-in years, a change by
 * another process picked up by calstore_refresh, the admin command, and
 * the HTTP routes over real HTTP with every role (a small authorize hook
 * stands in for the staff accounts: it takes the caller from a test
 * header), every bad body answered 400 in both languages.
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

#include "fake_clock.h"
#include "fw/admin.h"
#include "fw/config.h"
#include "fw/rng.h"
#include "fw/store.h"
#include "kiosk/kiosk.h"
#include "orders/calstore.h"
#include "test_http.h"
#include "test_app.h"
#include "test_util.h"

#define OFF 480

struct fixture {
	struct test_data d; /* data directory, store (d.db), clock (d.clk) */
	struct calstore *cs;
	struct kiosk k;
	struct fw_config cfg;
	struct test_resp r;
	char en[WORKCAL_ERR_MAX], zh[WORKCAL_ERR_MAX];
};

static const struct calstore_actor sup = { "zhang01", "supervisor" };

static workcal_day_t D(const char *s)
{
	workcal_day_t d = 0;

	assert_int_equal(workcal_parse_date(s, &d), 0);
	return d;
}

/* 10:00 local on date, as UTC ms. */
static int64_t morning(const char *date)
{
	return (int64_t)D(date) * 86400000LL + 10 * 3600000LL - OFF * 60000LL;
}

static char *year_text(int year, size_t *len)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%d.json", HE_CALENDAR_DIR, year);
	return test_file_read(path, len);
}

/*
 * The caller from "X-Test-User: ID ROLE" (no header: nobody logged in),
 * checked against the route's roles as the auth app's hook does.
 */
static int test_authorize(struct kiosk_request *req, void *arg)
{
	static __thread char id[64];
	const char *h = kiosk_req_header(req, "X-Test-User");
	char role[16] = "";

	(void)arg;
	if (req->route->roles == KIOSK_ROLE_PUBLIC) {
		return 0;
	}
	if (h == NULL || sscanf(h, "%63s %15s", id, role) != 2) {
		return -EACCES;
	}
	req->user_id = id;
	req->user_role = strcmp(role, "supervisor") == 0   ? KIOSK_ROLE_SUPERVISOR
			 : strcmp(role, "technician") == 0 ? KIOSK_ROLE_TECHNICIAN
							   : KIOSK_ROLE_STAFF;
	return (req->route->roles & req->user_role) != 0 ? 0 : -EPERM;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct kiosk_params kp = { 0 };

	assert_non_null(f);
	/* Monday 2026-11-02: from 1 November the next year's calendar is due. */
	test_data_open(&f->d, "test_calstore", morning("2026-11-02"), false);
	assert_int_equal(calstore_open(f->d.dir, &f->d.clk.clock, &f->cs), 0);
	calstore_set_utc_offset(f->cs, OFF);
	config_defaults(&f->cfg);
	f->cfg.http_port = 0;
	kiosk_init(&f->k);
	assert_int_equal(calstore_routes_register(&f->k, f->cs), 0);
	kp.cfg = &f->cfg;
	kp.authorize = test_authorize;
	assert_int_equal(kiosk_start(&f->k, &kp), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	kiosk_stop(&f->k);
	calstore_close(f->cs);
	test_data_close(&f->d);
	free(f);
	return 0;
}

static int import_year(struct fixture *f, int year)
{
	size_t len;
	char *text = year_text(year, &len);
	int rc = calstore_import(f->cs, &sup, "file", text, len, f->en, f->zh);

	free(text);
	return rc;
}

static int64_t audit_count(struct fixture *f, const char *action)
{
	return test_sql_count(f->d.db, "audit", "action", action);
}

/* ---- the store ---- */

static void test_import_persists_across_reopen(void **state)
{
	struct fixture *f = *state;
	const struct workcal *c;
	uint64_t v = calstore_version(f->cs);
	struct calstore_year_info info;
	char detail[512];

	c = calstore_acquire(f->cs);
	assert_int_equal(c->nyears, 0);
	calstore_release(f->cs);
	assert_int_equal(calstore_year_info(f->cs, 2026, &info), -ENOENT);

	assert_int_equal(import_year(f, 2026), 0);
	assert_true(calstore_version(f->cs) > v);
	assert_int_equal(
		test_sql_int(f->d.db, "SELECT count(*) FROM work_calendar WHERE year = 2026"), 39);
	assert_int_equal(calstore_year_info(f->cs, 2026, &info), 0);
	assert_string_equal(info.source, "file");
	assert_string_equal(info.updated_by, "zhang01");
	assert_int_equal(info.updated_ms, morning("2026-11-02"));
	/* One audit row, naming the year, with counts and no personal data. */
	assert_int_equal(audit_count(f, "calendar.import"), 1);
	test_sql_text(f->d.db,
		      "SELECT actor || ' ' || role || ' ' || target || ' ' || outcome FROM audit "
		      "WHERE action = 'calendar.import'",
		      detail, sizeof(detail));
	assert_string_equal(detail, "zhang01 supervisor 2026 ok");
	test_sql_text(f->d.db, "SELECT detail FROM audit WHERE action = 'calendar.import'", detail,
		      sizeof(detail));
	assert_string_equal(detail,
			    "{\"year\":2026,\"source\":\"file\",\"holidays\":33,\"workdays\":6}");

	calstore_close(f->cs);
	assert_int_equal(calstore_open(f->d.dir, &f->d.clk.clock, &f->cs), 0);
	c = calstore_acquire(f->cs);
	assert_true(workcal_has_year(c, 2026));
	assert_false(workcal_has_year(c, 2025));
	assert_int_equal(c->nentries, 39);
	assert_true(workcal_is_working(c, D("2026-10-10")));
	assert_false(workcal_is_working(c, D("2026-10-01")));
	assert_string_equal(workcal_lookup(c, D("2026-10-01"))->name, "国庆节");
	calstore_release(f->cs);

	/* A second import of the year replaces it, not adds to it. */
	assert_int_equal(import_year(f, 2026), 0);
	assert_int_equal(test_sql_int(f->d.db, "SELECT count(*) FROM work_calendar"), 39);
	assert_int_equal(audit_count(f, "calendar.import"), 2);
}

static void test_bad_import_leaves_year_intact(void **state)
{
	static const char bad[] =
		"{\"year\": 2026, \"days\": [{\"date\": \"2026-10-01\", \"kind\": \"holiday\"},"
		" {\"date\": \"2026-10-12\", \"kind\": \"workday\", \"name\": \"调休\"}]}";
	struct fixture *f = *state;
	struct workcal *before = malloc(sizeof(*before));
	const struct workcal *c;
	uint64_t v;

	assert_non_null(before);
	assert_int_equal(import_year(f, 2026), 0);
	c = calstore_acquire(f->cs);
	memcpy(before, c, sizeof(*c));
	calstore_release(f->cs);
	v = calstore_version(f->cs);

	assert_int_equal(calstore_import(f->cs, &sup, "screen", bad, strlen(bad), f->en, f->zh),
			 -EINVAL);
	assert_non_null(strstr(f->en, "2026-10-12 is a Monday"));
	assert_non_null(strstr(f->zh, "星期一"));
	assert_int_equal(calstore_import(f->cs, &sup, "screen", "{", 1, f->en, f->zh), -EINVAL);
	assert_int_equal(calstore_import(f->cs, &sup, "gossip", bad, strlen(bad), f->en, f->zh),
			 -EINVAL);
	assert_int_equal(test_sql_int(f->d.db, "SELECT count(*) FROM work_calendar"), 39);
	assert_int_equal(test_sql_int(f->d.db, "SELECT count(*) FROM work_calendar WHERE day = "
					       "'2026-10-01' AND name = '国庆节'"),
			 1);
	assert_int_equal(audit_count(f, "calendar.import"), 1);
	assert_int_equal(calstore_version(f->cs), v);
	c = calstore_acquire(f->cs);
	assert_memory_equal(c, before, sizeof(*c));
	calstore_release(f->cs);
	free(before);
}

static void test_set_day(void **state)
{
	struct fixture *f = *state;
	const struct workcal *c;
	char detail[512];

	assert_int_equal(import_year(f, 2026), 0);
	/* A new holiday on a Thursday. */
	assert_int_equal(calstore_set_day(f->cs, &sup, D("2026-12-31"), WORKCAL_HOLIDAY, "除夕调整",
					  f->en, f->zh),
			 0);
	c = calstore_acquire(f->cs);
	assert_false(workcal_is_working(c, D("2026-12-31")));
	calstore_release(f->cs);
	assert_int_equal(audit_count(f, "calendar.set_day"), 1);
	test_sql_text(f->d.db,
		      "SELECT target || ' ' || detail FROM audit WHERE action = 'calendar.set_day'",
		      detail, sizeof(detail));
	assert_string_equal(detail, "2026-12-31 {\"date\":\"2026-12-31\",\"kind\":\"holiday\","
				    "\"name\":\"除夕调整\"}");
	test_sql_text(f->d.db, "SELECT source FROM work_calendar_years WHERE year = 2026", detail,
		      sizeof(detail));
	assert_string_equal(detail, "screen");

	/* Unlisting 国庆 day one makes that Thursday a working day again. */
	assert_int_equal(calstore_set_day(f->cs, &sup, D("2026-10-01"), 0, NULL, f->en, f->zh), 0);
	c = calstore_acquire(f->cs);
	assert_true(workcal_is_working(c, D("2026-10-01")));
	assert_null(workcal_lookup(c, D("2026-10-01")));
	calstore_release(f->cs);
	assert_int_equal(test_sql_int(f->d.db, "SELECT count(*) FROM work_calendar"), 39);

	/* Refused: a Monday declared a working day; a name too long; a bad kind. */
	assert_int_equal(
		calstore_set_day(f->cs, &sup, D("2026-10-12"), WORKCAL_WORKDAY, "x", f->en, f->zh),
		-EINVAL);
	assert_non_null(strstr(f->en, "Monday"));
	assert_int_equal(calstore_set_day(f->cs, &sup, D("2026-10-17"), WORKCAL_WORKDAY,
					  "0123456789012345678901234567890123456789012345678",
					  f->en, f->zh),
			 -EINVAL);
	assert_int_equal(calstore_set_day(f->cs, &sup, D("2026-10-17"), 7, "x", f->en, f->zh),
			 -EINVAL);
	assert_int_equal(calstore_set_day(f->cs, &sup, D("2026-10-17"), WORKCAL_HOLIDAY, "a\tb",
					  f->en, f->zh),
			 -EINVAL);
	assert_int_equal(audit_count(f, "calendar.set_day"), 2);

	/* A year without data: unlisting changes nothing, setting gives it data. */
	assert_int_equal(calstore_set_day(f->cs, &sup, D("2027-01-04"), 0, "", f->en, f->zh), 0);
	c = calstore_acquire(f->cs);
	assert_false(workcal_has_year(c, 2027));
	calstore_release(f->cs);
	assert_int_equal(audit_count(f, "calendar.set_day"), 2);
	assert_int_equal(calstore_set_day(f->cs, &sup, D("2027-01-02"), WORKCAL_WORKDAY, "调休",
					  f->en, f->zh),
			 0);
	c = calstore_acquire(f->cs);
	assert_true(workcal_has_year(c, 2027));
	assert_true(workcal_is_working(c, D("2027-01-02")));
	calstore_release(f->cs);
}

static void test_seed(void **state)
{
	struct fixture *f = *state;
	const struct workcal *c;

	assert_int_equal(calstore_seed_if_empty(f->cs, "/nonexistent-calendar-dir"), -ENOENT);
	assert_int_equal(calstore_seed_if_empty(f->cs, HE_CALENDAR_DIR), 2);
	assert_int_equal(calstore_seed_if_empty(f->cs, HE_CALENDAR_DIR), 0); /* not empty now */
	assert_int_equal(calstore_seed_builtin(f->cs), 0);
	c = calstore_acquire(f->cs);
	assert_int_equal(c->nyears, 2);
	calstore_release(f->cs);
	assert_int_equal(test_sql_int(f->d.db, "SELECT count(*) FROM audit WHERE action = "
					       "'calendar.import' AND actor = 'system'"),
			 2);
}

static void test_seed_builtin(void **state)
{
	struct fixture *f = *state;
	const struct workcal *c;

	assert_int_equal(calstore_seed_builtin(f->cs), 2);
	c = calstore_acquire(f->cs);
	assert_true(workcal_has_year(c, 2025));
	assert_true(workcal_has_year(c, 2026));
	assert_true(workcal_is_working(c, D("2025-09-28")));
	calstore_release(f->cs);
	assert_int_equal(calstore_seed_builtin(f->cs), 0);
	assert_int_equal(test_sql_int(f->d.db, "SELECT count(*) FROM work_calendar_years WHERE "
					       "source = 'file' AND updated_by = 'system'"),
			 2);
}

static void test_refresh_sees_another_process(void **state)
{
	struct fixture *f = *state;
	struct calstore *other;
	const struct workcal *c;
	size_t len;
	char *text = year_text(2025, &len);

	assert_int_equal(calstore_refresh(f->cs), 0);
	assert_int_equal(calstore_open(f->d.dir, &f->d.clk.clock, &other), 0);
	assert_int_equal(calstore_import(other, &sup, "file", text, len, f->en, f->zh), 0);
	calstore_close(other);
	free(text);
	c = calstore_acquire(f->cs);
	assert_false(workcal_has_year(c, 2025));
	calstore_release(f->cs);
	assert_int_equal(calstore_refresh(f->cs), 1);
	c = calstore_acquire(f->cs);
	assert_true(workcal_has_year(c, 2025));
	calstore_release(f->cs);
	assert_int_equal(calstore_refresh(f->cs), 0);
}

/* ---- the admin command ---- */

static int run_cmd(struct fixture *f, int argc, char **argv, char **out, char **err)
{
	size_t no, ne;
	FILE *o = open_memstream(out, &no), *e = open_memstream(err, &ne);
	struct admin_ctx ctx = {
		.data_dir = f->d.dir, .db = f->d.db, .clock = &f->d.clk.clock, .out = o, .err = e
	};
	int rc = calstore_cmd_import(&ctx, argc, argv);

	fclose(o);
	fclose(e);
	return rc;
}

static void test_admin_command(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX + 32], bad[PATH_MAX + 32];
	char *argv[3] = { "calendar-import", path, NULL };
	char *out = NULL, *err = NULL;

	snprintf(path, sizeof(path), "%s/2025.json", HE_CALENDAR_DIR);
	assert_int_equal(run_cmd(f, 2, argv, &out, &err), 0);
	assert_non_null(strstr(out, "the calendar now has data for 2025."));
	free(out);
	free(err);
	assert_int_equal(test_sql_int(f->d.db, "SELECT count(*) FROM audit WHERE action = "
					       "'calendar.import' AND actor = 'technician-cli' AND "
					       "role = 'technician'"),
			 1);

	snprintf(bad, sizeof(bad), "%s/bad.json", f->d.dir);
	test_file_write(bad, "{\"year\": 2025, \"days\": 3}",
			strlen("{\"year\": 2025, \"days\": 3}"));
	argv[1] = bad;
	assert_int_equal(run_cmd(f, 2, argv, &out, &err), 1);
	assert_non_null(strstr(err, "was not imported: \"days\" must be a list"));
	assert_non_null(strstr(err, "未导入"));
	free(out);
	free(err);

	snprintf(bad, sizeof(bad), "%s/missing.json", f->d.dir);
	assert_int_equal(run_cmd(f, 2, argv, &out, &err), 1);
	assert_non_null(strstr(err, "could not be read"));
	free(out);
	free(err);

	assert_int_equal(run_cmd(f, 1, argv, &out, &err), 2);
	assert_non_null(strstr(err, "Usage"));
	free(out);
	free(err);
	assert_int_equal(audit_count(f, "calendar.import"), 1);
}

/* ---- routes ---- */

static void call(struct fixture *f, const char *method, const char *path, const char *user,
		 const char *body)
{
	char *raw = malloc(strlen(body) + 1024);
	char who[96] = "";

	assert_non_null(raw);
	if (user != NULL) {
		snprintf(who, sizeof(who), "X-Test-User: %s\r\n", user);
	}
	sprintf(raw,
		"%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%sContent-Type: application/json\r\n"
		"Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
		method, path, who, strlen(body), body);
	test_http_request(kiosk_port(&f->k), raw, &f->r);
	free(raw);
}

static const char *str(const cJSON *o, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static void test_routes_roles(void **state)
{
	static const struct {
		const char *method, *path, *body;
		int anon, staff, tech, super;
	} t[] = {
		{ "GET", "/api/v1/calendar?year=2026", "", 401, 200, 200, 200 },
		{ "GET", "/api/v1/calendar/status", "", 401, 200, 200, 200 },
		{ "PUT", "/api/v1/calendar/years/2026", "@2026", 401, 403, 403, 200 },
		{ "PUT", "/api/v1/calendar/days/2026-12-31",
		  "{\"kind\":\"holiday\",\"name\":\"x\"}", 401, 403, 403, 200 },
	};
	static const char *const users[4] = { NULL, "li02 staff", "wang03 technician",
					      "zhang01 supervisor" };
	struct fixture *f = *state;
	size_t len;
	char *y2026 = year_text(2026, &len);

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const int want[4] = { t[i].anon, t[i].staff, t[i].tech, t[i].super };
		const char *body = strcmp(t[i].body, "@2026") == 0 ? y2026 : t[i].body;

		for (int u = 0; u < 4; u++) {
			call(f, t[i].method, t[i].path, users[u], body);
			if (f->r.status != want[u]) {
				fail_msg("%s %s as %s: %d, want %d: %s", t[i].method, t[i].path,
					 users[u] != NULL ? users[u] : "nobody", f->r.status,
					 want[u], f->r.body);
			}
			if (want[u] == 401) {
				test_http_assert_error(&f->r, 401, "login_required");
			} else if (want[u] == 403) {
				test_http_assert_error(&f->r, 403, "forbidden");
			}
		}
	}
	free(y2026);
	/* Only the supervisor's two changes were made and audited. */
	assert_int_equal(audit_count(f, "calendar.import"), 1);
	assert_int_equal(audit_count(f, "calendar.set_day"), 1);
	assert_int_equal(test_sql_int(f->d.db, "SELECT count(*) FROM audit WHERE actor = "
					       "'zhang01' AND role = 'supervisor'"),
			 2);
}

static void test_routes_read(void **state)
{
	struct fixture *f = *state;
	cJSON *j, *w, *days;

	/* No calendar at all: 2026 (this year) and 2027 (from November) warned. */
	call(f, "GET", "/api/v1/calendar/status", "li02 staff", "");
	j = test_http_json(&f->r, 200);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "years")), 0);
	assert_string_equal(str(j, "today"), "2026-11-02");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "working_today")));
	w = cJSON_GetObjectItemCaseSensitive(j, "warnings");
	assert_int_equal(cJSON_GetArraySize(w), 2);
	assert_string_equal(str(cJSON_GetArrayItem(w, 0), "message"),
			    "no calendar for 2026: weekends only are treated as days off; import "
			    "the year's calendar");
	assert_non_null(strstr(str(cJSON_GetArrayItem(w, 1), "message_zh"), "2027 年没有工作日历"));
	cJSON_Delete(j);

	assert_int_equal(import_year(f, 2026), 0);
	call(f, "GET", "/api/v1/calendar/status", "wang03 technician", "");
	j = test_http_json(&f->r, 200);
	assert_int_equal(
		cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "years"), 0)->valueint,
		2026);
	w = cJSON_GetObjectItemCaseSensitive(j, "warnings");
	assert_int_equal(cJSON_GetArraySize(w), 1);
	assert_int_equal(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(w, 0), "year")->valueint, 2027);
	cJSON_Delete(j);

	/* Before November only the current year matters. */
	fake_clock_set_wall(&f->d.clk.clock, morning("2026-10-31"));
	call(f, "GET", "/api/v1/calendar/status", "li02 staff", "");
	j = test_http_json(&f->r, 200);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "warnings")), 0);
	assert_false(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "working_today")));
	cJSON_Delete(j);

	/* The year: its listed days, source, no warning. */
	call(f, "GET", "/api/v1/calendar?year=2026", "li02 staff", "");
	j = test_http_json(&f->r, 200);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "has_data")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "warning")));
	assert_string_equal(str(j, "source"), "file");
	days = cJSON_GetObjectItemCaseSensitive(j, "days");
	assert_int_equal(cJSON_GetArraySize(days), 39);
	assert_string_equal(str(cJSON_GetArrayItem(days, 0), "date"), "2026-01-01");
	assert_string_equal(str(cJSON_GetArrayItem(days, 3), "kind"), "workday");
	cJSON_Delete(j);

	/* Without ?year: this year. A year without data: empty, with the warning. */
	call(f, "GET", "/api/v1/calendar", "li02 staff", "");
	j = test_http_json(&f->r, 200);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(j, "year")->valueint, 2026);
	cJSON_Delete(j);
	call(f, "GET", "/api/v1/calendar?year=2027", "li02 staff", "");
	j = test_http_json(&f->r, 200);
	assert_false(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "has_data")));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "days")), 0);
	assert_non_null(strstr(str(cJSON_GetObjectItemCaseSensitive(j, "warning"), "message"),
			       "no calendar for 2027"));
	cJSON_Delete(j);

	call(f, "GET", "/api/v1/calendar?year=20x6", "li02 staff", "");
	test_http_assert_error(&f->r, 400, "bad_parameter");
	call(f, "GET", "/api/v1/calendar?year=1999", "li02 staff", "");
	test_http_assert_error(&f->r, 400, "bad_parameter");
}

static void test_routes_changes(void **state)
{
	static const char sup_h[] = "zhang01 supervisor";
	struct fixture *f = *state;
	size_t len;
	char *y2025 = year_text(2025, &len);
	cJSON *j;

	/* A year's file under the wrong year: refused, nothing stored. */
	call(f, "PUT", "/api/v1/calendar/years/2026", sup_h, y2025);
	test_http_assert_error(&f->r, 400, "year_mismatch");
	assert_non_null(strstr(f->r.body, "calendar of 2025, not of 2026"));
	call(f, "PUT", "/api/v1/calendar/years/26", sup_h, y2025);
	test_http_assert_error(&f->r, 400, "bad_parameter");
	call(f, "PUT", "/api/v1/calendar/years/2025", sup_h, "not json");
	test_http_assert_error(&f->r, 400, "invalid_calendar");
	call(f, "PUT", "/api/v1/calendar/years/2025", sup_h,
	     "{\"year\": 2025, \"days\": [{\"date\": \"2025-10-09\", \"kind\": \"workday\"}]}");
	test_http_assert_error(&f->r, 400, "invalid_calendar");
	assert_non_null(strstr(f->r.body, "2025-10-09 is a Thursday"));
	assert_int_equal(test_sql_int(f->d.db, "SELECT count(*) FROM work_calendar_years"), 0);

	call(f, "PUT", "/api/v1/calendar/years/2025", sup_h, y2025);
	j = test_http_json(&f->r, 200);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "days")), 33);
	assert_string_equal(str(j, "source"), "screen");
	cJSON_Delete(j);
	free(y2025);

	/* Days. */
	call(f, "PUT", "/api/v1/calendar/days/2025-10-12", sup_h,
	     "{\"kind\":\"workday\",\"name\":\"补班\"}");
	j = test_http_json(&f->r, 200);
	assert_string_equal(str(j, "kind"), "workday");
	assert_string_equal(str(j, "name"), "补班");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "working")));
	cJSON_Delete(j);
	call(f, "PUT", "/api/v1/calendar/days/2025-10-12", sup_h, "{\"kind\":\"none\"}");
	j = test_http_json(&f->r, 200);
	assert_string_equal(str(j, "kind"), "none");
	assert_false(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "working")));
	cJSON_Delete(j);

	call(f, "PUT", "/api/v1/calendar/days/2025-10-13", sup_h, "{\"kind\":\"workday\"}");
	test_http_assert_error(&f->r, 400, "invalid_day");
	assert_non_null(strstr(f->r.body, "Monday"));
	call(f, "PUT", "/api/v1/calendar/days/2025-02-29", sup_h, "{\"kind\":\"holiday\"}");
	test_http_assert_error(&f->r, 400, "bad_parameter");
	call(f, "PUT", "/api/v1/calendar/days/2025-10-13", sup_h, "{\"kind\":\"off\"}");
	test_http_assert_error(&f->r, 400, "bad_request");
	call(f, "PUT", "/api/v1/calendar/days/2025-10-13", sup_h, "{\"kind\":\"holiday\",\"x\":1}");
	test_http_assert_error(&f->r, 400, "bad_request");
	call(f, "PUT", "/api/v1/calendar/days/2025-10-13", sup_h,
	     "{\"kind\":\"holiday\",\"name\":7}");
	test_http_assert_error(&f->r, 400, "bad_request");
	call(f, "PUT", "/api/v1/calendar/days/2025-10-13", sup_h, "[]");
	test_http_assert_error(&f->r, 400, "bad_request");
	call(f, "PUT", "/api/v1/calendar/days/2025-10-13", sup_h, "");
	test_http_assert_error(&f->r, 400, "bad_request");
	assert_int_equal(audit_count(f, "calendar.set_day"), 2);
	assert_int_equal(audit_count(f, "calendar.import"), 1);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_import_persists_across_reopen),
		T(test_bad_import_leaves_year_intact),
		T(test_set_day),
		T(test_seed),
		T(test_seed_builtin),
		T(test_refresh_sees_another_process),
		T(test_admin_command),
		T(test_routes_roles),
		T(test_routes_read),
		T(test_routes_changes),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
