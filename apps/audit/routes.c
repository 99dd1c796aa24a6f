/*
 * The audit log's HTTP API: list with filters and keyset paging, CSV
 * export, chain verification. Supervisor only (the route table's roles; the
 * auth app's authorize hook enforces them before a handler runs).
 *
 * Handlers run on libmicrohttpd's connection threads. Each request opens its
 * own SQLite connection with store_open() and closes it before returning
 * (about half a millisecond): no connection is shared between threads, no
 * lock is needed, and a slow export never holds up a list on another
 * thread (WAL readers do not block each other or the writer).
 *
 * Every query parameter is checked before any SQL runs; an empty value
 * means "no filter" (what an HTML form sends for an empty field). The CSV
 * neutralises cells a spreadsheet would take for a formula, and is built in
 * memory up to AUDIT_EXPORT_MAX_BYTES. An export is audited after it was
 * read and before it is sent; if the entry cannot be written the export is
 * refused, so no unaudited export ever leaves the appliance.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "audit/audit_routes.h"
#include "fw/audit.h"
#include "fw/log.h"
#include "fw/store.h"

#define MOD "audit"

/* Largest ms value accepted (year 2255); keeps every value exact in JSON. */
#define MS_MAX 9000000000000LL

static struct {
	char data_dir[PATH_MAX];
} ctx;

struct filter {
	const char *actor;   /* NULL: any */
	const char *action;  /* prefix; NULL: any */
	const char *outcome; /* NULL: any */
	int64_t from_ms;     /* wall_ms >= from_ms; -1: none */
	int64_t to_ms;	     /* wall_ms <= to_ms; -1: none */
	int64_t before_id;   /* id < before_id; INT64_MAX: none */
	int limit;
};

/* ---- parameters ---- */

/* Answer 400 for one parameter. @retval 1 replied, -ENOMEM */
static int bad_param(struct kiosk_request *req, const char *name, const char *en_rule,
		     const char *zh_rule)
{
	char en[200], zh[200];

	snprintf(en, sizeof(en), "The parameter '%s' %s.", name, en_rule);
	snprintf(zh, sizeof(zh), "参数 %s %s。", name, zh_rule);
	return kiosk_reply_error(req, 400, "bad_parameter", en, zh) < 0 ? -ENOMEM : 1;
}

static const char *query(struct kiosk_request *req, const char *name)
{
	const char *v = kiosk_req_query(req, name);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

/* Decimal digits only, within [min, max]. */
static bool parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
	int64_t v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 16) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9') {
			return false;
		}
		v = v * 10 + (s[i] - '0');
	}
	if (v < min || v > max) {
		return false;
	}
	*out = v;
	return true;
}

/*
 * Fill f from the query. @retval 0 ok; 1 a 400 reply was made; <0 the
 * reply itself failed.
 */
static int parse_filter(struct kiosk_request *req, struct filter *f, bool paged)
{
	const char *v;
	int64_t n;

	*f = (struct filter){
		.from_ms = -1, .to_ms = -1, .before_id = INT64_MAX, .limit = AUDIT_LIST_DEFAULT
	};
	f->actor = query(req, "actor");
	if (f->actor != NULL && !audit_text_valid(f->actor)) {
		return bad_param(req, "actor", "must be a user id of at most 256 bytes",
				 "须为不超过 256 字节的用户编号");
	}
	f->action = query(req, "action");
	if (f->action != NULL && !audit_word_valid(f->action)) {
		return bad_param(
			req, "action",
			"must be an action or its beginning, such as auth. (a-z 0-9 . _ -)",
			"须为操作名或其开头，例如 auth.（仅限 a-z 0-9 . _ -）");
	}
	f->outcome = query(req, "outcome");
	if (f->outcome != NULL && !audit_word_valid(f->outcome)) {
		return bad_param(req, "outcome", "must be an outcome such as ok or denied",
				 "须为结果，例如 ok 或 denied");
	}
	v = query(req, "from_ms");
	if (v != NULL && !parse_int(v, 0, MS_MAX, &f->from_ms)) {
		return bad_param(req, "from_ms", "must be a time in milliseconds since 1970",
				 "须为自 1970 年起的毫秒数");
	}
	v = query(req, "to_ms");
	if (v != NULL && !parse_int(v, 0, MS_MAX, &f->to_ms)) {
		return bad_param(req, "to_ms", "must be a time in milliseconds since 1970",
				 "须为自 1970 年起的毫秒数");
	}
	if (f->from_ms >= 0 && f->to_ms >= 0 && f->to_ms < f->from_ms) {
		return bad_param(req, "to_ms", "must not be earlier than from_ms",
				 "不得早于 from_ms");
	}
	v = query(req, "before_id");
	if (v != NULL && !parse_int(v, 1, INT64_MAX / 2, &f->before_id)) {
		return bad_param(req, "before_id", "must be an entry id (a positive whole number)",
				 "须为记录编号（正整数）");
	}
	v = query(req, "limit");
	if (v != NULL && !paged) {
		return bad_param(req, "limit", "is not used by the export (it has no limit)",
				 "不适用于导出（导出不限条数）");
	}
	if (v != NULL) {
		if (!parse_int(v, 1, AUDIT_LIST_MAX, &n)) {
			return bad_param(req, "limit", "must be a whole number from 1 to 200",
					 "须为 1 至 200 的整数");
		}
		f->limit = (int)n;
	}
	return 0;
}

/* ---- database ---- */

static int open_db(struct kiosk_request *req, sqlite3 **db)
{
	int ret = store_open(ctx.data_dir, db);

	if (ret < 0) {
		kiosk_reply_error(req, 503, "storage_unavailable",
				  "The database cannot be opened right now. Try again; if it "
				  "keeps failing, call the technician.",
				  "暂时无法打开数据库。请重试；如持续失败，请联系技术人员。");
	}
	return ret;
}

static int select_rows(sqlite3 *db, const struct filter *f, bool newest_first, sqlite3_stmt **st)
{
	static const char where[] =
		"SELECT id, wall_ms, mono_ms, actor, role, action, target, outcome, detail, hash "
		"FROM audit WHERE id < ?6"
		" AND (?1 IS NULL OR actor = ?1)"
		" AND (?2 IS NULL OR substr(action, 1, length(?2)) = ?2)"
		" AND (?3 IS NULL OR outcome = ?3)"
		" AND (?4 IS NULL OR wall_ms >= ?4)"
		" AND (?5 IS NULL OR wall_ms <= ?5)";
	char sql[sizeof(where) + 64];
	int rc;

	snprintf(sql, sizeof(sql), "%s ORDER BY id %s LIMIT ?7", where,
		 newest_first ? "DESC" : "ASC");
	rc = sqlite3_prepare_v2(db, sql, -1, st, NULL);
	if (rc == SQLITE_OK && f->actor != NULL) {
		rc = sqlite3_bind_text(*st, 1, f->actor, -1, SQLITE_STATIC);
	}
	if (rc == SQLITE_OK && f->action != NULL) {
		rc = sqlite3_bind_text(*st, 2, f->action, -1, SQLITE_STATIC);
	}
	if (rc == SQLITE_OK && f->outcome != NULL) {
		rc = sqlite3_bind_text(*st, 3, f->outcome, -1, SQLITE_STATIC);
	}
	if (rc == SQLITE_OK && f->from_ms >= 0) {
		rc = sqlite3_bind_int64(*st, 4, f->from_ms);
	}
	if (rc == SQLITE_OK && f->to_ms >= 0) {
		rc = sqlite3_bind_int64(*st, 5, f->to_ms);
	}
	if (rc == SQLITE_OK) {
		rc = sqlite3_bind_int64(*st, 6, f->before_id);
	}
	if (rc == SQLITE_OK) {
		/* One more than a page, to know whether another page follows. */
		rc = sqlite3_bind_int64(*st, 7, newest_first ? f->limit + 1 : -1);
	}
	return store_err(db, rc, "querying the audit log");
}

static const char *col(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);

	return s != NULL ? s : "";
}

/* ---- GET /api/v1/audit ---- */

static int list_entries(struct kiosk_request *req, void *arg)
{
	struct filter f;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	cJSON *out = NULL, *entries;
	int64_t last_id = 0;
	int n = 0, rc, ret;

	ret = parse_filter(req, &f, true);
	if (ret != 0) {
		return ret < 0 ? ret : 0;
	}
	ret = open_db(req, &db);
	if (ret < 0) {
		return 0;
	}
	ret = select_rows(db, &f, true, &st);
	out = cJSON_CreateObject();
	entries = cJSON_AddArrayToObject(out, "entries");
	if (ret < 0 || entries == NULL) {
		ret = ret < 0 ? ret : -ENOMEM;
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < f.limit) {
		cJSON *e = cJSON_CreateObject();

		if (e == NULL || !cJSON_AddItemToArray(entries, e)) {
			cJSON_Delete(e);
			ret = -ENOMEM;
			goto out;
		}
		last_id = sqlite3_column_int64(st, 0);
		cJSON_AddNumberToObject(e, "id", (double)last_id);
		cJSON_AddNumberToObject(e, "wall_ms", (double)sqlite3_column_int64(st, 1));
		cJSON_AddStringToObject(e, "actor", col(st, 3));
		cJSON_AddStringToObject(e, "role", col(st, 4));
		cJSON_AddStringToObject(e, "action", col(st, 5));
		cJSON_AddStringToObject(e, "target", col(st, 6));
		cJSON_AddStringToObject(e, "outcome", col(st, 7));
		if (sqlite3_column_type(st, 8) == SQLITE_NULL) {
			cJSON_AddNullToObject(e, "detail");
		} else {
			cJSON_AddStringToObject(e, "detail", col(st, 8));
		}
		n++;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		ret = store_err(db, rc, "reading the audit log");
		goto out;
	}
	if (rc == SQLITE_ROW) {
		cJSON_AddNumberToObject(out, "next_before_id", (double)last_id);
	} else {
		cJSON_AddNullToObject(out, "next_before_id");
	}
	ret = kiosk_reply_json(req, 200, out);
out:
	sqlite3_finalize(st);
	store_close(db);
	cJSON_Delete(out);
	return ret;
}

/* ---- GET /api/v1/audit/export ---- */

struct buf {
	char *p;
	size_t len, cap;
	bool too_big;
};

static bool put(struct buf *b, const char *s, size_t n)
{
	if (b->too_big || b->len + n > AUDIT_EXPORT_MAX_BYTES) {
		b->too_big = true;
		return false;
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 64 * 1024;
		char *p;

		while (cap < b->len + n) {
			cap *= 2;
		}
		p = realloc(b->p, cap);
		if (p == NULL) {
			return false;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	return true;
}

/*
 * One CSV cell (RFC 4180): quoted when it holds a comma, a quote, CR or LF,
 * quotes doubled. A cell a spreadsheet would run as a formula (starting
 * with = + - @, tab or CR) gets a leading apostrophe and quotes, so it is
 * shown as text.
 */
static bool cell(struct buf *b, const char *s, bool last)
{
	size_t n = strlen(s);
	bool formula = n > 0 && strchr("=+-@\t\r", s[0]) != NULL;
	bool quote = formula || strpbrk(s, ",\"\r\n") != NULL;
	bool ok = true;

	if (quote) {
		ok = put(b, "\"", 1);
	}
	if (ok && formula) {
		ok = put(b, "'", 1);
	}
	for (const char *q; ok && quote && (q = strchr(s, '"')) != NULL; s = q + 1) {
		ok = put(b, s, (size_t)(q - s + 1)) && put(b, "\"", 1);
	}
	if (ok) {
		ok = put(b, s, strlen(s));
	}
	if (ok && quote) {
		ok = put(b, "\"", 1);
	}
	return ok && put(b, last ? "\r\n" : ",", last ? 2 : 1);
}

/* Local time, ISO 8601 with the offset: 2024-05-01T09:30:00.250+08:00. */
static void iso_time(int64_t ms, char *out, size_t cap)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	long off;
	size_t n;

	if (localtime_r(&t, &tm) == NULL) {
		snprintf(out, cap, "%" PRId64, ms);
		return;
	}
	n = strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm);
	off = tm.tm_gmtoff / 60;
	snprintf(out + n, cap - n, ".%03d%c%02ld:%02ld", (int)(ms % 1000), off < 0 ? '-' : '+',
		 labs(off) / 60, labs(off) % 60);
}

/* For the file name: 20240501T0930 (local time). */
static void file_time(int64_t ms, char *out, size_t cap)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL || strftime(out, cap, "%Y%m%dT%H%M", &tm) == 0) {
		snprintf(out, cap, "%" PRId64, ms);
	}
}

static bool csv_row(struct buf *b, sqlite3_stmt *st)
{
	char num[32], when[48], hex[2 * AUDIT_HASH_LEN + 1];
	bool ok;

	snprintf(num, sizeof(num), "%" PRId64, (int64_t)sqlite3_column_int64(st, 0));
	ok = cell(b, num, false);
	iso_time(sqlite3_column_int64(st, 1), when, sizeof(when));
	ok = ok && cell(b, when, false);
	snprintf(num, sizeof(num), "%" PRId64, (int64_t)sqlite3_column_int64(st, 1));
	ok = ok && cell(b, num, false);
	snprintf(num, sizeof(num), "%" PRId64, (int64_t)sqlite3_column_int64(st, 2));
	ok = ok && cell(b, num, false);
	for (int i = 3; i <= 8 && ok; i++) {
		ok = cell(b, col(st, i), false);
	}
	if (sqlite3_column_bytes(st, 9) == AUDIT_HASH_LEN) {
		audit_hex(sqlite3_column_blob(st, 9), hex);
	} else {
		hex[0] = '\0';
	}
	return ok && cell(b, hex, true);
}

/* The audit entry of an export: who, how many rows, which filters. */
static int audit_export(sqlite3 *db, struct kiosk_request *req, const struct filter *f,
			int64_t rows, int64_t last_id)
{
	const char *actor = req->user_id != NULL ? req->user_id : "citizen";
	cJSON *d = cJSON_CreateObject();
	struct audit_entry e = {
		.actor = actor,
		.role = kiosk_role_name(req->user_role),
		.action = "audit.export",
		.target = "",
		.outcome = "ok",
	};
	char *detail = NULL;
	int ret = -ENOMEM;

	cJSON_AddNumberToObject(d, "rows", (double)rows);
	cJSON_AddNumberToObject(d, "last_id", (double)last_id);
	if (f->actor != NULL) {
		cJSON_AddStringToObject(d, "actor", f->actor);
	}
	if (f->action != NULL) {
		cJSON_AddStringToObject(d, "action", f->action);
	}
	if (f->outcome != NULL) {
		cJSON_AddStringToObject(d, "outcome", f->outcome);
	}
	if (f->from_ms >= 0) {
		cJSON_AddNumberToObject(d, "from_ms", (double)f->from_ms);
	}
	if (f->to_ms >= 0) {
		cJSON_AddNumberToObject(d, "to_ms", (double)f->to_ms);
	}
	if (f->before_id != INT64_MAX) {
		cJSON_AddNumberToObject(d, "before_id", (double)f->before_id);
	}
	detail = d != NULL ? cJSON_PrintUnformatted(d) : NULL;
	if (detail != NULL) {
		e.detail = detail;
		ret = audit_append(db, &e);
	}
	cJSON_free(detail);
	cJSON_Delete(d);
	return ret;
}

static int export_csv(struct kiosk_request *req, void *arg)
{
	static const char head[] = "\xef\xbb\xbf" /* BOM: Excel then reads UTF-8 */
				   "id,time,wall_ms,mono_ms,actor,role,action,target,outcome,"
				   "detail,hash\r\n";
	struct buf b = { 0 };
	struct filter f;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t rows = 0, first_ms = -1, last_id = 0;
	char from[24], to[24], disp[96];
	int rc, ret;

	ret = parse_filter(req, &f, false);
	if (ret != 0) {
		return ret < 0 ? ret : 0;
	}
	ret = open_db(req, &db);
	if (ret < 0) {
		return 0;
	}
	ret = select_rows(db, &f, false, &st);
	if (ret < 0) {
		goto out;
	}
	rc = put(&b, head, sizeof(head) - 1) ? sqlite3_step(st) : SQLITE_NOMEM;
	for (; rc == SQLITE_ROW; rc = sqlite3_step(st)) {
		if (!csv_row(&b, st)) {
			rc = SQLITE_NOMEM;
			break;
		}
		if (first_ms < 0) {
			first_ms = sqlite3_column_int64(st, 1);
		}
		last_id = sqlite3_column_int64(st, 0);
		rows++;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (b.too_big) {
		ret = kiosk_reply_error(
			req, 400, "export_too_large",
			"The export would be larger than 16 MiB. Choose a shorter "
			"time range (from/to) and export in parts.",
			"导出内容超过 16 MiB。请缩短时间范围（起止时间）分批导出。");
		goto out;
	}
	if (rc != SQLITE_DONE) {
		ret = rc == SQLITE_NOMEM ? -ENOMEM : store_err(db, rc, "exporting the audit log");
		goto out;
	}
	/* HEAD sends no rows, so only a GET is an export to record. */
	if (strcmp(req->method, "GET") == 0) {
		ret = audit_export(db, req, &f, rows, last_id);
		if (ret < 0) {
			log_err(MOD, "an audit export was refused: it could not be recorded (%s)",
				strerror(-ret));
			goto out;
		}
	}
	file_time(f.from_ms >= 0  ? f.from_ms
		  : first_ms >= 0 ? first_ms
				  : time(NULL) * 1000LL,
		  from, sizeof(from));
	file_time(f.to_ms >= 0 ? f.to_ms : time(NULL) * 1000LL, to, sizeof(to));
	snprintf(disp, sizeof(disp), "attachment; filename=\"audit-%s-%s.csv\"", from, to);
	ret = kiosk_reply(req, 200, "text/csv; charset=utf-8", b.p, b.len);
	if (ret == 0) {
		ret = kiosk_reply_header(req, "Content-Disposition", disp);
	}
out:
	sqlite3_finalize(st);
	store_close(db);
	free(b.p);
	return ret;
}

/* ---- GET /api/v1/audit/verify ---- */

static int verify(struct kiosk_request *req, void *arg)
{
	struct audit_verify_result r;
	char hex[2 * AUDIT_HASH_LEN + 1];
	sqlite3 *db = NULL;
	cJSON *out;
	int ret;

	ret = open_db(req, &db);
	if (ret < 0) {
		return 0;
	}
	ret = audit_verify(db, &r);
	store_close(db);
	if (ret < 0) {
		return ret;
	}
	out = cJSON_CreateObject();
	if (out == NULL) {
		return -ENOMEM;
	}
	audit_hex(r.head_hash, hex);
	cJSON_AddBoolToObject(out, "intact", ret == 0);
	cJSON_AddNumberToObject(out, "entries", (double)r.entries);
	if (ret == 0) {
		cJSON_AddNullToObject(out, "first_bad");
	} else {
		cJSON_AddNumberToObject(out, "first_bad", (double)r.first_bad);
	}
	cJSON_AddStringToObject(out, "reason", r.reason);
	cJSON_AddStringToObject(out, "reason_zh", r.reason_zh);
	cJSON_AddNumberToObject(out, "head_id", (double)r.head_id);
	cJSON_AddStringToObject(out, "head_hash", hex);
	return kiosk_reply_obj(req, 200, out);
}

int audit_routes_register(struct kiosk *k, const char *data_dir)
{
	static const struct kiosk_route routes[] = {
		{ "GET", "/api/v1/audit", false, KIOSK_ROLE_SUPERVISOR, list_entries, NULL },
		{ "GET", "/api/v1/audit/export", false, KIOSK_ROLE_SUPERVISOR, export_csv, NULL },
		{ "GET", "/api/v1/audit/verify", false, KIOSK_ROLE_SUPERVISOR, verify, NULL },
	};
	int ret;

	if (k == NULL || data_dir == NULL) {
		return -EINVAL;
	}
	if ((size_t)snprintf(ctx.data_dir, sizeof(ctx.data_dir), "%s", data_dir) >=
	    sizeof(ctx.data_dir)) {
		return -ENAMETOOLONG;
	}
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		ret = kiosk_route_add(k, &routes[i]);
		if (ret < 0) {
			return ret;
		}
	}
	return 0;
}
