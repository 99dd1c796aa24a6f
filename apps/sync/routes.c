/*
 * The sync routes (docs/local-api.md, "Sync with the city"). The status
 * joins the worker's snapshot (sync_status) with what the screens need to
 * say it in plain words; the lists and the conflict resolution read and
 * write the database through the routes' own connection, behind a mutex
 * (HTTP threads call in at any time).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "fw/audit.h"
#include "fw/backlog.h"
#include "fw/store.h"
#include "fw/text.h"
#include "kiosk/kiosk.h"
#include "sync/routes.h"
#include "sync/sync.h"

#define API	       "/api/v1/sync"
#define ALL	       (KIOSK_ROLE_STAFF | KIOSK_ROLE_SUPERVISOR | KIOSK_ROLE_TECHNICIAN)
#define TECH	       (KIOSK_ROLE_SUPERVISOR | KIOSK_ROLE_TECHNICIAN)
#define SUPV	       KIOSK_ROLE_SUPERVISOR
#define LIST_DEFAULT   50
#define LIST_MAX       200
#define NOTE_CHARS_MAX 500
#define TEXT_MAX       256

struct sync_routes {
	struct sync_routes_params p;
	char *data_dir;
	char *off_code;
	char *off_en;
	char *off_zh;
	char *city_host;
	pthread_mutex_t lock; /* db */
	sqlite3 *db;
};

static int64_t now_ms(struct sync_routes *r)
{
	return hal_clock_wall_ms(r->p.clock);
}

static int reply_storage(struct kiosk_request *req, int ret)
{
	if (ret == -ENOMEM) {
		return ret;
	}
	if (ret == -EBUSY || ret == -EAGAIN) {
		return kiosk_reply_error(req, 503, "busy",
					 "The appliance is busy for a moment. Please try again.",
					 "设备正忙，请稍后重试。");
	}
	return kiosk_reply_error(req, 500, "storage_error",
				 "The sync records could not be read or saved. Try again; if it "
				 "keeps failing, call the technician.",
				 "同步记录无法读取或保存。请重试；如持续失败，请联系技术人员。");
}

/* A non-negative integer query argument within [lo, hi], or def when absent. */
static int query_int(struct kiosk_request *req, const char *key, int64_t lo, int64_t hi,
		     int64_t def, int64_t *out)
{
	const char *v = kiosk_req_query(req, key);
	char *end;
	long long n;

	if (v == NULL || v[0] == '\0') {
		*out = def;
		return 0;
	}
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno != 0 || *end != '\0' || v[0] == '-' || v[0] == '+' || n < lo || n > hi) {
		return -EINVAL;
	}
	*out = n;
	return 0;
}

static int reply_bad_query(struct kiosk_request *req, const char *key)
{
	char en[TEXT_MAX];
	char zh[TEXT_MAX];

	snprintf(en, sizeof(en), "The query argument \"%.32s\" is not a valid number.", key);
	snprintf(zh, sizeof(zh), "查询参数“%.32s”不是有效的数字。", key);
	return kiosk_reply_error(req, 400, "bad_query", en, zh);
}

static void add_ms_or_null(cJSON *o, const char *key, int64_t ms)
{
	if (ms > 0) {
		cJSON_AddNumberToObject(o, key, (double)ms);
	} else {
		cJSON_AddNullToObject(o, key);
	}
}

/* ---- GET /api/v1/sync/status --------------------------------------------- */

/* The storage level and the backlog by class, as the health shows them. */
static void add_storage(struct sync_routes *r, cJSON *o)
{
	pthread_mutex_lock(&r->lock);
	backlog_health_json(r->db, cJSON_AddObjectToObject(o, "storage"));
	pthread_mutex_unlock(&r->lock);
}

static cJSON *status_json(struct sync_routes *r, int *ret)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *city;
	struct sync_status st;
	char ip[INET_ADDRSTRLEN] = "";

	*ret = 0;
	if (o == NULL) {
		*ret = -ENOMEM;
		return NULL;
	}
	cJSON_AddBoolToObject(o, "configured", r->p.sync != NULL);
	cJSON_AddStringToObject(o, "uplink",
				r->p.uplink_state != NULL ? r->p.uplink_state(r->p.uplink_arg)
							  : "off");
	city = cJSON_AddObjectToObject(o, "city");
	if (r->p.city_ip != 0) {
		struct in_addr a = { .s_addr = htonl(r->p.city_ip) };

		inet_ntop(AF_INET, &a, ip, sizeof(ip));
	}
	cJSON_AddStringToObject(city, "host", r->city_host);
	cJSON_AddStringToObject(city, "address", ip);
	cJSON_AddNumberToObject(city, "port", r->p.city_port);

	if (r->p.sync == NULL) {
		cJSON *why = cJSON_AddObjectToObject(o, "off_reason");
		int64_t waiting = 0;
		int64_t oldest = 0;
		sqlite3_stmt *st_q = NULL;

		cJSON_AddStringToObject(o, "state", "off");
		cJSON_AddStringToObject(why, "code", r->off_code);
		cJSON_AddStringToObject(why, "message", r->off_en);
		cJSON_AddStringToObject(why, "message_zh", r->off_zh);
		/* The backlog still grows while sync is off: show it. */
		pthread_mutex_lock(&r->lock);
		*ret = store_prepare(r->db,
				     "SELECT count(*), min(created_ms) FROM outbox "
				     "WHERE acked_ms IS NULL",
				     &st_q);
		if (*ret == 0 && sqlite3_step(st_q) == SQLITE_ROW) {
			waiting = sqlite3_column_int64(st_q, 0);
			oldest = store_col_ms(st_q, 1);
		}
		sqlite3_finalize(st_q);
		pthread_mutex_unlock(&r->lock);
		cJSON_AddNumberToObject(o, "waiting", (double)waiting);
		add_ms_or_null(o, "oldest_ms", oldest);
		cJSON_AddNumberToObject(
			o, "oldest_age_ms",
			oldest > 0 && now_ms(r) > oldest ? (double)(now_ms(r) - oldest) : 0);
		cJSON_AddNullToObject(o, "last_ok_ms");
		cJSON_AddNullToObject(o, "last_error");
		add_storage(r, o);
		return o;
	}

	*ret = sync_status(r->p.sync, &st);
	cJSON_AddStringToObject(o, "state", sync_state_name(st.state));
	cJSON_AddNumberToObject(o, "waiting", (double)st.waiting);
	add_ms_or_null(o, "oldest_ms", st.oldest_ms);
	cJSON_AddNumberToObject(o, "oldest_age_ms", (double)st.oldest_age_ms);
	add_ms_or_null(o, "last_ok_ms", st.last_ok_ms);
	cJSON_AddNumberToObject(o, "parked", (double)st.parked);
	cJSON_AddNumberToObject(o, "conflicts", (double)st.conflicts);
	cJSON_AddNumberToObject(o, "retry_in_ms",
				st.state == SYNC_BACKOFF ? (double)st.retry_in_ms : 0);
	if (st.last_code[0] != '\0') {
		cJSON *e = cJSON_AddObjectToObject(o, "last_error");

		cJSON_AddStringToObject(e, "code", st.last_code);
		cJSON_AddNumberToObject(e, "http_status", st.last_http_status);
		cJSON_AddStringToObject(e, "message", st.last_error_en);
		cJSON_AddStringToObject(e, "message_zh", st.last_error_zh);
	} else {
		cJSON_AddNullToObject(o, "last_error");
	}
	{
		cJSON *c = cJSON_AddObjectToObject(o, "clock");

		cJSON_AddBoolToObject(c, "known", st.city_clock_known);
		cJSON_AddNumberToObject(c, "offset_ms", (double)st.city_offset_ms);
		add_ms_or_null(c, "checked_ms", st.city_checked_ms);
	}
	{
		cJSON *n = cJSON_AddObjectToObject(o, "counters");

		cJSON_AddNumberToObject(n, "rounds", (double)st.rounds);
		cJSON_AddNumberToObject(n, "failures", (double)st.failures);
		cJSON_AddNumberToObject(n, "batches", (double)st.batches);
		cJSON_AddNumberToObject(n, "events_sent", (double)st.events_sent);
		cJSON_AddNumberToObject(n, "items_applied", (double)st.items_applied);
		cJSON_AddNumberToObject(n, "items_conflict", (double)st.items_conflict);
	}
	add_storage(r, o);
	return o;
}

static int get_status(struct kiosk_request *req, void *arg)
{
	int ret;
	cJSON *o = status_json(arg, &ret);

	if (o == NULL) {
		return ret;
	}
	if (ret < 0 && ret != -ENOMEM) {
		/* The counts could not be read: say so rather than show zeros. */
		cJSON_Delete(o);
		return reply_storage(req, ret);
	}
	return kiosk_reply_obj(req, 200, o);
}

/* ---- POST /api/v1/sync/kick ---------------------------------------------- */

static int post_kick(struct kiosk_request *req, void *arg)
{
	struct sync_routes *r = arg;
	cJSON *o;

	if (r->p.sync == NULL) {
		char en[TEXT_MAX + 64];
		char zh[TEXT_MAX + 64];

		snprintf(en, sizeof(en), "Sync with the city is off: %s", r->off_en);
		snprintf(zh, sizeof(zh), "与市平台的同步未运行：%s", r->off_zh);
		return kiosk_reply_error(req, 409, "sync_off", en, zh);
	}
	sync_kick(r->p.sync);
	o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "kicked", true);
	return kiosk_reply_obj(req, 202, o);
}

/* ---- lists ---------------------------------------------------------------- */

static int count_rows(sqlite3 *db, const char *sql, int64_t *n)
{
	sqlite3_stmt *st = NULL;
	int rc = store_prepare(db, sql, &st);

	if (rc < 0) {
		return rc;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*n = sqlite3_column_int64(st, 0);
		rc = 0;
	} else {
		rc = store_err(db, rc, "counting sync records");
	}
	sqlite3_finalize(st);
	return rc;
}

static void add_text_col(cJSON *o, const char *key, sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	cJSON_AddStringToObject(o, key, t != NULL ? (const char *)t : "");
}

typedef void (*row_fn)(cJSON *row, sqlite3_stmt *st);

/*
 * Answer a list newest first: limit and before from the query, the total
 * from count_sql, the rows from select_sql (?1 before, ?2 limit, ?3 open)
 * each made by fn.
 */
static int reply_list(struct kiosk_request *req, struct sync_routes *r, const char *count_sql,
		      const char *select_sql, int64_t open, row_fn fn, const char *what)
{
	int64_t limit;
	int64_t before;
	int64_t total = 0;
	sqlite3_stmt *st = NULL;
	cJSON *o;
	cJSON *rows;
	int rc;

	if (query_int(req, "limit", 1, LIST_MAX, LIST_DEFAULT, &limit) < 0) {
		return reply_bad_query(req, "limit");
	}
	if (query_int(req, "before", 1, INT64_MAX, INT64_MAX, &before) < 0) {
		return reply_bad_query(req, "before");
	}
	o = cJSON_CreateObject();
	rows = cJSON_AddArrayToObject(o, "rows");
	if (rows == NULL) {
		cJSON_Delete(o);
		return -ENOMEM;
	}
	pthread_mutex_lock(&r->lock);
	rc = count_rows(r->db, count_sql, &total);
	if (rc == 0) {
		rc = store_prepare(r->db, select_sql, &st);
	}
	if (rc == 0) {
		sqlite3_bind_int64(st, 1, before);
		sqlite3_bind_int64(st, 2, limit);
		if (sqlite3_bind_parameter_count(st) >= 3) {
			sqlite3_bind_int64(st, 3, open);
		}
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			cJSON *row = cJSON_CreateObject();

			fn(row, st);
			cJSON_AddItemToArray(rows, row);
		}
		rc = store_err(r->db, rc, what);
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&r->lock);
	if (rc < 0) {
		cJSON_Delete(o);
		return reply_storage(req, rc);
	}
	cJSON_AddNumberToObject(o, "total", (double)total);
	return kiosk_reply_obj(req, 200, o);
}

static void parked_row(cJSON *row, sqlite3_stmt *st)
{
	cJSON_AddNumberToObject(row, "seq", (double)sqlite3_column_int64(st, 0));
	add_text_col(row, "event_id", st, 1);
	add_text_col(row, "type", st, 2);
	add_text_col(row, "code", st, 3);
	add_text_col(row, "message", st, 4);
	add_text_col(row, "message_zh", st, 5);
	cJSON_AddNumberToObject(row, "parked_ms", (double)store_col_ms(st, 6));
}

static int get_parked(struct kiosk_request *req, void *arg)
{
	return reply_list(req, arg, "SELECT count(*) FROM sync_parked",
			  "SELECT seq, event_id, type, code, message, message_zh, parked_ms "
			  "FROM sync_parked WHERE seq < ?1 ORDER BY seq DESC LIMIT ?2",
			  0, parked_row, "reading parked events");
}

static void conflict_row(cJSON *row, sqlite3_stmt *st)
{
	const char *item = (const char *)sqlite3_column_text(st, 6);
	cJSON *parsed = item != NULL ? cJSON_Parse(item) : NULL;

	cJSON_AddNumberToObject(row, "id", (double)sqlite3_column_int64(st, 0));
	add_text_col(row, "item_id", st, 1);
	add_text_col(row, "type", st, 2);
	add_text_col(row, "code", st, 3);
	add_text_col(row, "reason", st, 4);
	add_text_col(row, "reason_zh", st, 5);
	/* Stored as the city sent it; one that is not JSON shows as text. */
	if (parsed != NULL) {
		cJSON_AddItemToObject(row, "item", parsed);
	} else {
		add_text_col(row, "item", st, 6);
	}
	cJSON_AddNumberToObject(row, "at_ms", (double)store_col_ms(st, 7));
	add_ms_or_null(row, "resolved_ms", store_col_ms(st, 8));
	if (sqlite3_column_type(st, 9) == SQLITE_NULL) {
		cJSON_AddNullToObject(row, "resolved_by");
	} else {
		add_text_col(row, "resolved_by", st, 9);
	}
}

static int get_conflicts(struct kiosk_request *req, void *arg)
{
	int64_t open;

	if (query_int(req, "open", 0, 1, 0, &open) < 0) {
		return reply_bad_query(req, "open");
	}
	return reply_list(req, arg,
			  open ? "SELECT count(*) FROM sync_conflicts WHERE resolved_ms IS NULL"
			       : "SELECT count(*) FROM sync_conflicts",
			  "SELECT id, item_id, type, code, reason, reason_zh, item, at_ms, "
			  "resolved_ms, resolved_by FROM sync_conflicts "
			  "WHERE id < ?1 AND (?3 = 0 OR resolved_ms IS NULL) "
			  "ORDER BY id DESC LIMIT ?2",
			  open, conflict_row, "reading sync conflicts");
}

/* ---- POST /api/v1/sync/conflicts/{id}/resolve ----------------------------- */

/* "{id}/resolve" -> id; 0 when the path is not that. */
static int64_t conflict_id(const char *rest)
{
	char *end;
	long long id;

	if (rest == NULL || rest[0] < '1' || rest[0] > '9') {
		return 0;
	}
	errno = 0;
	id = strtoll(rest, &end, 10);
	if (errno != 0 || strcmp(end, "/resolve") != 0) {
		return 0;
	}
	return id;
}

/*
 * Mark one conflict resolved, with who and the note in the audit log.
 * @retval 0, -ENOENT no such conflict, -EALREADY resolved before, storage errors
 */
static int resolve(struct sync_routes *r, int64_t id, const struct kiosk_request *req,
		   const char *note)
{
	sqlite3_stmt *st = NULL;
	char target[32];
	char *detail;
	cJSON *d = cJSON_CreateObject();
	int rc;

	cJSON_AddNumberToObject(d, "conflict", (double)id);
	cJSON_AddStringToObject(d, "note", note);
	detail = cJSON_PrintUnformatted(d);
	cJSON_Delete(d);
	if (detail == NULL) {
		return -ENOMEM;
	}
	snprintf(target, sizeof(target), "conflict-%" PRId64, id);

	pthread_mutex_lock(&r->lock);
	rc = store_begin(r->db);
	if (rc == 0) {
		rc = store_prepare(r->db, "SELECT resolved_ms FROM sync_conflicts WHERE id = ?1",
				   &st);
	}
	if (rc == 0) {
		sqlite3_bind_int64(st, 1, id);
		rc = sqlite3_step(st);
		rc = rc == SQLITE_ROW ? (sqlite3_column_type(st, 0) == SQLITE_NULL ? 0 : -EALREADY)
		     : rc == SQLITE_DONE ? -ENOENT
					 : store_err(r->db, rc, "reading a sync conflict");
		sqlite3_finalize(st);
	}
	if (rc == 0) {
		rc = store_prepare(r->db,
				   "UPDATE sync_conflicts SET resolved_ms = ?2, resolved_by = ?3 "
				   "WHERE id = ?1",
				   &st);
	}
	if (rc == 0) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, now_ms(r));
		sqlite3_bind_text(st, 3, req->user_id, -1, SQLITE_TRANSIENT);
		rc = store_step_done(r->db, st, "resolving a sync conflict");
	}
	if (rc == 0) {
		struct audit_entry e = {
			.actor = req->user_id,
			.role = kiosk_role_name(req->user_role),
			.action = "sync.conflict_resolved",
			.target = target,
			.outcome = "ok",
			.detail = detail,
		};

		rc = audit_append(r->db, &e);
	}
	if (rc == 0) {
		rc = store_commit(r->db);
	} else {
		store_rollback(r->db);
	}
	pthread_mutex_unlock(&r->lock);
	free(detail);
	return rc;
}

static int post_resolve(struct kiosk_request *req, void *arg)
{
	struct sync_routes *r = arg;
	int64_t id = conflict_id(req->rest);
	const cJSON *note;
	cJSON *body;
	cJSON *o;
	int ret;

	if (id <= 0 || req->user_id == NULL) {
		return -ENOENT;
	}
	body = kiosk_req_object(req, &ret);
	if (body == NULL) {
		return ret;
	}
	note = cJSON_GetObjectItemCaseSensitive(body, "note");
	if (!cJSON_IsString(note) ||
	    !text_ok(note->valuestring, NOTE_CHARS_MAX * 4 + 1, NOTE_CHARS_MAX, true, true)) {
		cJSON_Delete(body);
		return kiosk_reply_error(
			req, 400, "bad_note",
			"Say in a note (1 to 500 characters) what was done about "
			"this item.",
			"请填写处理说明（1至500个字符），说明对这条记录做了什么。");
	}
	ret = resolve(r, id, req, note->valuestring);
	cJSON_Delete(body);
	if (ret == -ENOENT) {
		return kiosk_reply_error(req, 404, "not_found", "There is no such conflict.",
					 "没有这条冲突记录。");
	}
	if (ret == -EALREADY) {
		return kiosk_reply_error(req, 409, "already_resolved",
					 "This conflict has already been resolved.",
					 "这条冲突记录已经处理过了。");
	}
	if (ret < 0) {
		return reply_storage(req, ret);
	}
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", (double)id);
	cJSON_AddBoolToObject(o, "resolved", true);
	return kiosk_reply_obj(req, 200, o);
}

/* ---- life cycle ------------------------------------------------------------ */

static char *dup_or_empty(const char *s)
{
	return strdup(s != NULL ? s : "");
}

int sync_routes_create(const struct sync_routes_params *p, struct sync_routes **out)
{
	struct sync_routes *r;
	int rc;

	if (p == NULL || out == NULL || p->data_dir == NULL) {
		return -EINVAL;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		return -ENOMEM;
	}
	r->p = *p;
	r->data_dir = strdup(p->data_dir);
	r->off_code = dup_or_empty(p->off_code);
	r->off_en = dup_or_empty(p->off_en);
	r->off_zh = dup_or_empty(p->off_zh);
	r->city_host = dup_or_empty(p->city_host);
	pthread_mutex_init(&r->lock, NULL);
	if (r->data_dir == NULL || r->off_code == NULL || r->off_en == NULL || r->off_zh == NULL ||
	    r->city_host == NULL) {
		sync_routes_destroy(r);
		return -ENOMEM;
	}
	rc = store_open(r->data_dir, &r->db);
	if (rc < 0) {
		sync_routes_destroy(r);
		return rc;
	}
	*out = r;
	return 0;
}

void sync_routes_destroy(struct sync_routes *r)
{
	if (r == NULL) {
		return;
	}
	store_close(r->db);
	pthread_mutex_destroy(&r->lock);
	free(r->data_dir);
	free(r->off_code);
	free(r->off_en);
	free(r->off_zh);
	free(r->city_host);
	free(r);
}

int sync_routes_register(struct kiosk *k, struct sync_routes *r)
{
	const struct kiosk_route routes[] = {
		{ "GET", API "/status", false, ALL, get_status, r },
		{ "POST", API "/kick", false, TECH, post_kick, r },
		{ "GET", API "/parked", false, TECH, get_parked, r },
		{ "GET", API "/conflicts", false, ALL, get_conflicts, r },
		{ "POST", API "/conflicts/", true, SUPV, post_resolve, r },
	};

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		int ret = kiosk_route_add(k, &routes[i]);

		if (ret < 0) {
			return ret;
		}
	}
	return 0;
}
