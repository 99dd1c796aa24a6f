/*
 * The working-day calendar over HTTP (docs/working-days.md, "Routes"):
 * reading a year and the calendar's status for every logged-in role,
 * importing a year and setting a day for supervisors. Handlers only
 * translate between JSON and calstore_*(); every error a person can meet
 * says in English and Chinese what to do.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "calstore_internal.h"
#include "kiosk/kiosk.h"

#define API	  "/api/v1/calendar"
#define LOGGED_IN (KIOSK_ROLE_STAFF | KIOSK_ROLE_SUPERVISOR | KIOSK_ROLE_TECHNICIAN)

static struct calstore_actor actor_of(const struct kiosk_request *req)
{
	struct calstore_actor a = { req->user_id != NULL ? req->user_id : "unknown",
				    kiosk_role_name(req->user_role) };

	/* Every calendar route needs a login; without one (tests of the routes alone) "staff". */
	if (strcmp(a.role, "citizen") == 0) {
		a.role = "staff";
	}
	return a;
}

static int reply_storage(struct kiosk_request *req, int err, const char *en, const char *zh)
{
	if (err == -EBUSY) {
		return kiosk_reply_error(req, 503, "busy", en, zh);
	}
	if (err == -ENOSPC) {
		return kiosk_reply_error(req, 507, "no_space", en, zh);
	}
	return kiosk_reply_error(req, 500, "storage_error", en, zh);
}

static int this_year(struct calstore *cs)
{
	int y, m, d;

	workcal_day_to_ymd(workcal_day_of_ms(calstore_now_ms(cs), calstore_utc_offset(cs)), &y, &m,
			   &d);
	return y;
}

/* The warning of a year without data, as {"year", "message", "message_zh"}. */
static cJSON *no_data_warning(int year)
{
	cJSON *w = cJSON_CreateObject();
	char en[192], zh[192];

	snprintf(en, sizeof(en),
		 "no calendar for %d: weekends only are treated as days off; import the "
		 "year's calendar",
		 year);
	snprintf(zh, sizeof(zh), "%d 年没有工作日历：目前仅将周末视为休息日；请导入该年的日历",
		 year);
	cJSON_AddNumberToObject(w, "year", year);
	cJSON_AddStringToObject(w, "message", en);
	cJSON_AddStringToObject(w, "message_zh", zh);
	return w;
}

static const char *kind_name(int kind)
{
	return kind == WORKCAL_HOLIDAY ? "holiday" : kind == WORKCAL_WORKDAY ? "workday" : "none";
}

/* {"year", "has_data", "source", "updated_ms", "updated_by", "days", "warning"} */
static cJSON *year_json(struct calstore *cs, int year)
{
	const struct workcal *c;
	struct calstore_year_info info;
	workcal_day_t first = workcal_day_from_ymd(year, 1, 1);
	workcal_day_t last = workcal_day_from_ymd(year, 12, 31);
	cJSON *o = cJSON_CreateObject(), *a;
	bool has;

	if (o == NULL) {
		return NULL;
	}
	cJSON_AddNumberToObject(o, "year", year);
	a = cJSON_AddArrayToObject(o, "days");
	c = calstore_acquire(cs);
	has = workcal_has_year(c, year);
	for (int i = 0; a != NULL && i < c->nentries; i++) {
		const struct workcal_entry *e = &c->entries[i];
		cJSON *x;
		char date[11];

		if (e->day < first || e->day > last) {
			continue;
		}
		x = cJSON_CreateObject();
		cJSON_AddItemToArray(a, x);
		workcal_format_date(e->day, date);
		cJSON_AddStringToObject(x, "date", date);
		cJSON_AddStringToObject(x, "kind", kind_name(e->kind));
		cJSON_AddStringToObject(x, "name", e->name);
	}
	calstore_release(cs);
	cJSON_AddBoolToObject(o, "has_data", has);
	if (has && calstore_year_info(cs, year, &info) == 0) {
		cJSON_AddStringToObject(o, "source", info.source);
		cJSON_AddNumberToObject(o, "updated_ms", (double)info.updated_ms);
		cJSON_AddStringToObject(o, "updated_by", info.updated_by);
	}
	if (has) {
		cJSON_AddNullToObject(o, "warning");
	} else {
		cJSON_AddItemToObject(o, "warning", no_data_warning(year));
	}
	return o;
}

/* A year written as exactly four digits in range. @retval the year, -1 */
static int parse_year(const char *s)
{
	workcal_day_t d;
	char date[16];

	if (s == NULL || strlen(s) != 4) {
		return -1;
	}
	snprintf(date, sizeof(date), "%s-01-01", s);
	return workcal_parse_date(date, &d) == 0 ? atoi(s) : -1;
}

static int bad_year(struct kiosk_request *req)
{
	return kiosk_reply_error(req, 400, "bad_parameter",
				 "The year must be written as four digits from 2000 to 2099.",
				 "年份须为 2000 至 2099 之间的四位数字。");
}

static int get_year(struct kiosk_request *req, void *arg)
{
	struct calstore *cs = arg;
	const char *q = kiosk_req_query(req, "year");
	int year = q != NULL ? parse_year(q) : this_year(cs);

	if (year < 0) {
		return bad_year(req);
	}
	calstore_refresh(cs);
	return kiosk_reply_obj(req, 200, year_json(cs, year));
}

/*
 * {"years": [2025, 2026], "today": "2026-11-02", "working_today": true,
 *  "version": 7, "warnings": [{"year", "message", "message_zh"}]}
 * Cheap: no SQL unless another process changed the tables.
 */
static int get_status(struct kiosk_request *req, void *arg)
{
	struct calstore *cs = arg;
	int off = calstore_utc_offset(cs), y, m, d;
	workcal_day_t today = workcal_day_of_ms(calstore_now_ms(cs), off);
	const struct workcal *c;
	cJSON *o = cJSON_CreateObject(), *years, *warn;
	char date[11];

	if (o == NULL) {
		return -ENOMEM;
	}
	calstore_refresh(cs);
	workcal_day_to_ymd(today, &y, &m, &d);
	workcal_format_date(today, date);
	years = cJSON_AddArrayToObject(o, "years");
	warn = cJSON_CreateArray();
	c = calstore_acquire(cs);
	for (int i = 0; years != NULL && i < c->nyears; i++) {
		cJSON_AddItemToArray(years, cJSON_CreateNumber(c->years[i]));
	}
	cJSON_AddStringToObject(o, "today", date);
	cJSON_AddBoolToObject(o, "working_today", workcal_is_working(c, today));
	if (!workcal_has_year(c, y)) {
		cJSON_AddItemToArray(warn, no_data_warning(y));
	}
	/* From 1 November the next year's calendar is due (published in autumn). */
	if (m >= 11 && !workcal_has_year(c, y + 1)) {
		cJSON_AddItemToArray(warn, no_data_warning(y + 1));
	}
	calstore_release(cs);
	cJSON_AddNumberToObject(o, "version", (double)calstore_version(cs));
	cJSON_AddItemToObject(o, "warnings", warn);
	return kiosk_reply_obj(req, 200, o);
}

static int put_year(struct kiosk_request *req, void *arg)
{
	struct calstore *cs = arg;
	struct calstore_actor who = actor_of(req);
	struct workcal_entry *e = malloc(366 * sizeof(*e));
	char en[WORKCAL_ERR_MAX], zh[WORKCAL_ERR_MAX], ben[WORKCAL_ERR_MAX + 64],
		bzh[WORKCAL_ERR_MAX + 64];
	int year = parse_year(req->rest), body_year = 0, n = 0, ret;

	if (e == NULL) {
		return -ENOMEM;
	}
	if (year < 0) {
		free(e);
		return bad_year(req);
	}
	ret = workcal_parse_year(req->body, req->body_len, &body_year, e, 366, &n, en, zh);
	free(e);
	if (ret < 0) {
		snprintf(ben, sizeof(ben), "The calendar file was not imported: %s", en);
		snprintf(bzh, sizeof(bzh), "日历文件未导入：%s", zh);
		return kiosk_reply_error(req, 400, "invalid_calendar", ben, bzh);
	}
	if (body_year != year) {
		snprintf(
			ben, sizeof(ben),
			"The file is the calendar of %d, not of %d. Choose the right file or year.",
			body_year, year);
		snprintf(bzh, sizeof(bzh),
			 "该文件是 %d 年的日历，不是 %d 年的。请选择正确的文件或年份。", body_year,
			 year);
		return kiosk_reply_error(req, 400, "year_mismatch", ben, bzh);
	}
	ret = calstore_import(cs, &who, "screen", req->body, req->body_len, en, zh);
	if (ret == -EINVAL) {
		snprintf(ben, sizeof(ben), "The calendar file was not imported: %s", en);
		snprintf(bzh, sizeof(bzh), "日历文件未导入：%s", zh);
		return kiosk_reply_error(req, 400, "invalid_calendar", ben, bzh);
	}
	if (ret < 0) {
		return reply_storage(req, ret, en, zh);
	}
	return kiosk_reply_obj(req, 200, year_json(cs, year));
}

static int bad_day_body(struct kiosk_request *req)
{
	return kiosk_reply_error(
		req, 400, "bad_request",
		"Send {\"kind\": \"holiday\", \"workday\" or \"none\", \"name\": \"...\"}.",
		"请发送 {\"kind\": \"holiday\"（节假日）、\"workday\"（调休上班）或 "
		"\"none\"（不列出）, "
		"\"name\": \"名称\"}。");
}

/* The body of PUT .../days/DATE. @retval 0 (*kind, *name set), -EINVAL */
static int parse_day_body(const cJSON *b, int *kind, const char **name)
{
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(b, "kind");
	const cJSON *nm = cJSON_GetObjectItemCaseSensitive(b, "name");
	const char *ks = cJSON_GetStringValue(k);

	if (!cJSON_IsObject(b) || ks == NULL || (nm != NULL && !cJSON_IsString(nm))) {
		return -EINVAL;
	}
	for (const cJSON *it = b->child; it != NULL; it = it->next) {
		if (strcmp(it->string, "kind") != 0 && strcmp(it->string, "name") != 0) {
			return -EINVAL;
		}
	}
	*kind = strcmp(ks, "holiday") == 0   ? WORKCAL_HOLIDAY
		: strcmp(ks, "workday") == 0 ? WORKCAL_WORKDAY
		: strcmp(ks, "none") == 0    ? 0
					     : -1;
	*name = nm != NULL ? nm->valuestring : "";
	return *kind < 0 ? -EINVAL : 0;
}

static int put_day(struct kiosk_request *req, void *arg)
{
	struct calstore *cs = arg;
	struct calstore_actor who = actor_of(req);
	char en[WORKCAL_ERR_MAX], zh[WORKCAL_ERR_MAX], date[11];
	char ben[WORKCAL_ERR_MAX + 32], bzh[WORKCAL_ERR_MAX + 32];
	workcal_day_t day;
	const struct workcal *c;
	const struct workcal_entry *e;
	const char *name = "";
	cJSON *b, *o;
	int kind = 0, ret;

	if (workcal_parse_date(req->rest, &day) < 0) {
		return kiosk_reply_error(
			req, 400, "bad_parameter",
			"The date must be a real date YYYY-MM-DD from 2000 to 2099.",
			"日期须为 2000 至 2099 年间的真实日期 YYYY-MM-DD。");
	}
	b = kiosk_req_json(req);
	ret = parse_day_body(b, &kind, &name);
	if (ret < 0) {
		cJSON_Delete(b);
		return bad_day_body(req);
	}
	ret = calstore_set_day(cs, &who, day, kind, name, en, zh);
	cJSON_Delete(b);
	if (ret == -EINVAL) {
		snprintf(ben, sizeof(ben), "The day was not set: %s", en);
		snprintf(bzh, sizeof(bzh), "日期未设置：%s", zh);
		return kiosk_reply_error(req, 400, "invalid_day", ben, bzh);
	}
	if (ret < 0) {
		return reply_storage(req, ret, en, zh);
	}
	o = cJSON_CreateObject();
	workcal_format_date(day, date);
	cJSON_AddStringToObject(o, "date", date);
	c = calstore_acquire(cs);
	e = workcal_lookup(c, day);
	cJSON_AddStringToObject(o, "kind", kind_name(e != NULL ? (int)e->kind : 0));
	cJSON_AddStringToObject(o, "name", e != NULL ? e->name : "");
	cJSON_AddBoolToObject(o, "working", workcal_is_working(c, day));
	calstore_release(cs);
	return kiosk_reply_obj(req, 200, o);
}

int calstore_routes_register(struct kiosk *k, struct calstore *cs)
{
	const struct kiosk_route routes[] = {
		{ "GET", API, false, LOGGED_IN, get_year, cs },
		{ "GET", API "/status", false, LOGGED_IN, get_status, cs },
		{ "PUT", API "/years/", true, KIOSK_ROLE_SUPERVISOR, put_year, cs },
		{ "PUT", API "/days/", true, KIOSK_ROLE_SUPERVISOR, put_day, cs },
	};

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		int ret = kiosk_route_add(k, &routes[i]);

		if (ret < 0) {
			return ret;
		}
	}
	return 0;
}
