/*
 * The sync protocol's endpoints, city side (docs/sync-protocol.md):
 * GET /api/v1/time, POST /api/v1/events (a batch stored in one
 * transaction, answered with the highest contiguous seq only after the
 * commit) and GET /api/v1/items (what the city sent down, by cursor).
 *
 * Every request of a device passes the version check (X-Hotline-Protocol)
 * and is recorded in devices (first and last seen).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mbedtls/sha256.h>

#include "citysim.h"

struct cs_api cs_api;

void cs_error_reply(struct cs_reply *rp, int status, const char *code, const char *msg,
		    const char *msg_zh)
{
	cJSON *err;

	cJSON_Delete(rp->json);
	rp->status = status;
	rp->json = cJSON_CreateObject();
	err = cJSON_AddObjectToObject(rp->json, "error");
	cJSON_AddStringToObject(err, "code", code);
	cJSON_AddStringToObject(err, "message", msg);
	cJSON_AddStringToObject(err, "message_zh", msg_zh);
}

static void storage_error(struct cs_reply *rp, int ret)
{
	if (ret == -EBUSY) {
		cs_error_reply(rp, 503, "busy", "the city's store is busy, try again shortly",
			       "市平台存储繁忙，请稍后重试");
	} else {
		cs_error_reply(rp, 500, "storage", "the city could not store the data",
			       "市平台存储数据失败");
	}
}

/* ---- GET /api/v1/time ---------------------------------------------------- */

static void route_time(const struct cs_request *rq, struct cs_reply *rp)
{
	rp->status = 200;
	rp->json = cJSON_CreateObject();
	cJSON_AddNumberToObject(rp->json, "now_ms", (double)cs_now_ms());
}

/* ---- POST /api/v1/events ------------------------------------------------- */

static bool type_ok(const char *s)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++) {
		char c = s[n];

		if (n >= CS_TYPE_MAX ||
		    !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_')) {
			return false;
		}
	}
	return n > 0;
}

static bool int_ok(const cJSON *v, double lo)
{
	return cJSON_IsNumber(v) && isfinite(v->valuedouble) && v->valuedouble >= lo &&
	       v->valuedouble <= 9007199254740991.0 && v->valuedouble == floor(v->valuedouble);
}

static bool body_hash_ok(const struct cs_request *rq)
{
	unsigned char sum[32];
	char hex[65];

	if (rq->body_sha256 == NULL || strlen(rq->body_sha256) != 64) {
		return false;
	}
	if (mbedtls_sha256_ret((const unsigned char *)rq->body, rq->body_len, sum, 0) != 0) {
		return false;
	}
	for (int i = 0; i < 32; i++) {
		snprintf(hex + 2 * i, 3, "%02x", sum[i]);
	}
	return strcasecmp(hex, rq->body_sha256) == 0;
}

static bool reject_type(const char *type)
{
	for (int i = 0; i < cs_api.n_reject_types; i++) {
		if (strcmp(cs_api.reject_types[i], type) == 0) {
			return true;
		}
	}
	return false;
}

/*
 * A stats.summary's covers (docs/sync-protocol.md, "Backlog policy"): at
 * most CS_COVER_RANGES [first, last] ranges, ascending and apart, the
 * first starting at the summary's own seq, at most CS_COVER_SEQS seqs.
 */
#define CS_COVER_RANGES 256
#define CS_COVER_SEQS	100000

static bool covers_ok(const cJSON *covers, double seq)
{
	const cJSON *r;
	double prev = seq - 1, total = 0;
	int n = 0;

	if (!cJSON_IsArray(covers) || cJSON_GetArraySize(covers) > CS_COVER_RANGES) {
		return false;
	}
	cJSON_ArrayForEach(r, covers)
	{
		const cJSON *a = cJSON_GetArrayItem(r, 0);
		const cJSON *b = cJSON_GetArrayItem(r, 1);

		if (!cJSON_IsArray(r) || cJSON_GetArraySize(r) != 2 || !int_ok(a, 1) ||
		    !int_ok(b, 1) || a->valuedouble <= prev || b->valuedouble < a->valuedouble ||
		    (n == 0 && a->valuedouble != seq)) {
			return false;
		}
		total += b->valuedouble - a->valuedouble + 1;
		prev = b->valuedouble;
		n++;
	}
	return n > 0 && total <= CS_COVER_SEQS;
}

static int step_done(sqlite3_stmt *st);

/* Record the seqs a stored stats.summary stands for (validated by covers_ok). */
static int store_covers(sqlite3_stmt *ins, int64_t seq, const cJSON *payload)
{
	const cJSON *r;
	int ret = 0;

	sqlite3_bind_int64(ins, 4, seq);
	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(payload, "covers"))
	{
		int64_t a = (int64_t)cJSON_GetArrayItem(r, 0)->valuedouble;
		int64_t b = (int64_t)cJSON_GetArrayItem(r, 1)->valuedouble;

		for (int64_t k = a; k <= b && ret == 0; k++) {
			if (k == seq) {
				continue;
			}
			sqlite3_bind_int64(ins, 3, k);
			ret = step_done(ins);
		}
	}
	return ret;
}

/* Why an event is refused (NULL: it is acceptable). */
static const char *event_problem(const cJSON *ev, char *en, size_t en_cap, char *zh, size_t zh_cap)
{
	static const char *const keys[] = { "event_id", "type", "at_ms", "payload" };
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(ev, "event_id");
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(ev, "type");
	const cJSON *at = cJSON_GetObjectItemCaseSensitive(ev, "at_ms");
	const cJSON *payload = cJSON_GetObjectItemCaseSensitive(ev, "payload");
	const char *bad = NULL;

	if (!cJSON_IsString(id) || !cs_code_ok(id->valuestring, CS_ID_MAX)) {
		bad = keys[0];
	} else if (!cJSON_IsString(type) || !type_ok(type->valuestring)) {
		bad = keys[1];
	} else if (!int_ok(at, 0)) {
		bad = keys[2];
	} else if (!cJSON_IsObject(payload)) {
		bad = keys[3];
	}
	if (bad != NULL) {
		snprintf(en, en_cap, "the event's field \"%s\" is missing or not valid", bad);
		snprintf(zh, zh_cap, "事件字段“%s”缺失或无效", bad);
		return "bad_field";
	}
	if (strcmp(type->valuestring, "stats.summary") == 0 &&
	    !covers_ok(cJSON_GetObjectItemCaseSensitive(payload, "covers"),
		       cJSON_GetObjectItemCaseSensitive(ev, "seq")->valuedouble)) {
		snprintf(en, en_cap,
			 "the summary's \"covers\" is not a list of ascending seq "
			 "ranges from its own seq");
		snprintf(zh, zh_cap, "汇总事件的“covers”不是从其自身seq起的升序区间列表");
		return "bad_field";
	}
	if (reject_type(type->valuestring)) {
		snprintf(en, en_cap, "the city does not accept events of type \"%.64s\"",
			 type->valuestring);
		snprintf(zh, zh_cap, "市平台不接受类型为“%.64s”的事件", type->valuestring);
		return "bad_field";
	}
	return NULL;
}

static int step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc == SQLITE_DONE) {
		return 0;
	}
	return rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? -EBUSY : -EIO;
}

static void add_rejected(cJSON *arr, int64_t seq, const char *code, const char *en, const char *zh)
{
	cJSON *r = cJSON_CreateObject();

	cJSON_AddNumberToObject(r, "seq", (double)seq);
	cJSON_AddStringToObject(r, "code", code);
	cJSON_AddStringToObject(r, "message", en);
	cJSON_AddStringToObject(r, "message_zh", zh);
	cJSON_AddItemToArray(arr, r);
}

enum {
	Q_EVENT,
	Q_REJECTED,
	Q_INS_EVENT,
	Q_INS_REJECTED,
	Q_PROGRESS,
	Q_NEXT,
	Q_SET_PROGRESS,
	Q_INS_COVERED,
	Q_N
};

static const char *const sql[Q_N] = {
	[Q_EVENT] = "SELECT event_id FROM events WHERE device=?1 AND db_epoch=?2 AND seq=?3",
	[Q_REJECTED] = "SELECT code, message, message_zh FROM rejected "
		       "WHERE device=?1 AND db_epoch=?2 AND seq=?3",
	[Q_INS_EVENT] = "INSERT INTO events(device, db_epoch, seq, event_id, type, at_ms, payload,"
			" received_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[Q_INS_REJECTED] = "INSERT INTO rejected(device, db_epoch, seq, event_id, type, code,"
			   " message, message_zh, received_ms) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)",
	[Q_PROGRESS] = "SELECT acked_upto FROM progress WHERE device=?1 AND db_epoch=?2",
	[Q_NEXT] = "SELECT seq FROM events WHERE device=?1 AND db_epoch=?2 AND seq>?3 UNION "
		   "SELECT seq FROM rejected WHERE device=?1 AND db_epoch=?2 AND seq>?3 UNION "
		   "SELECT seq FROM covered WHERE device=?1 AND db_epoch=?2 AND seq>?3 "
		   "ORDER BY 1",
	[Q_SET_PROGRESS] = "INSERT INTO progress(device, db_epoch, acked_upto, updated_ms) "
			   "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(device, db_epoch) DO UPDATE SET "
			   "acked_upto = excluded.acked_upto, updated_ms = excluded.updated_ms",
	[Q_INS_COVERED] = "INSERT OR IGNORE INTO covered(device, db_epoch, seq, by_seq) "
			  "VALUES (?1, ?2, ?3, ?4)",
};

/* Store a validated batch; the caller holds the lock and the transaction. */
static int store_batch(sqlite3_stmt **q, const char *device, const char *epoch, const cJSON *events,
		       int64_t now, int64_t *acked, cJSON *rejected)
{
	const cJSON *ev;
	int64_t first = -1;
	int ret = 0;
	int rc;

	for (int i = 0; i < Q_N; i++) {
		sqlite3_bind_text(q[i], 1, device, -1, SQLITE_STATIC);
		sqlite3_bind_text(q[i], 2, epoch, -1, SQLITE_STATIC);
	}
	cJSON_ArrayForEach(ev, events)
	{
		int64_t seq = (int64_t)cJSON_GetObjectItemCaseSensitive(ev, "seq")->valuedouble;
		char en[200], zh[200];
		const char *code;

		if (first < 0) {
			first = seq;
		}
		sqlite3_bind_int64(q[Q_EVENT], 3, seq);
		rc = sqlite3_step(q[Q_EVENT]);
		sqlite3_reset(q[Q_EVENT]);
		if (rc == SQLITE_ROW) {
			continue; /* stored before: acknowledged again */
		}
		if (rc != SQLITE_DONE) {
			return -EIO;
		}
		sqlite3_bind_int64(q[Q_REJECTED], 3, seq);
		rc = sqlite3_step(q[Q_REJECTED]);
		if (rc == SQLITE_ROW) {
			add_rejected(rejected, seq,
				     (const char *)sqlite3_column_text(q[Q_REJECTED], 0),
				     (const char *)sqlite3_column_text(q[Q_REJECTED], 1),
				     (const char *)sqlite3_column_text(q[Q_REJECTED], 2));
		}
		sqlite3_reset(q[Q_REJECTED]);
		if (rc == SQLITE_ROW) {
			continue; /* rejected before: the same answer */
		}
		if (rc != SQLITE_DONE) {
			return -EIO;
		}
		code = event_problem(ev, en, sizeof(en), zh, sizeof(zh));
		if (code != NULL) {
			const cJSON *id = cJSON_GetObjectItemCaseSensitive(ev, "event_id");
			const cJSON *type = cJSON_GetObjectItemCaseSensitive(ev, "type");
			sqlite3_stmt *st = q[Q_INS_REJECTED];

			sqlite3_bind_int64(st, 3, seq);
			if (cJSON_IsString(id)) {
				sqlite3_bind_text(st, 4, id->valuestring, -1, SQLITE_STATIC);
			} else {
				sqlite3_bind_null(st, 4);
			}
			if (cJSON_IsString(type)) {
				sqlite3_bind_text(st, 5, type->valuestring, -1, SQLITE_STATIC);
			} else {
				sqlite3_bind_null(st, 5);
			}
			sqlite3_bind_text(st, 6, code, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 7, en, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 8, zh, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 9, now);
			if ((ret = step_done(st)) != 0) {
				return ret;
			}
			/* A rejected summary still accounts for the seqs it stands
			 * for (they were rejected with it), or the device's
			 * contiguity would stop at them for good. */
			if (cJSON_IsString(type) &&
			    strcmp(type->valuestring, "stats.summary") == 0 &&
			    cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(ev, "payload")) &&
			    covers_ok(cJSON_GetObjectItemCaseSensitive(
					      cJSON_GetObjectItemCaseSensitive(ev, "payload"),
					      "covers"),
				      (double)seq)) {
				ret = store_covers(q[Q_INS_COVERED], seq,
						   cJSON_GetObjectItemCaseSensitive(ev, "payload"));
				if (ret != 0) {
					return ret;
				}
			}
			add_rejected(rejected, seq, code, en, zh);
		} else {
			sqlite3_stmt *st = q[Q_INS_EVENT];
			char *payload = cJSON_PrintUnformatted(
				cJSON_GetObjectItemCaseSensitive(ev, "payload"));

			if (payload == NULL) {
				return -ENOMEM;
			}
			sqlite3_bind_int64(st, 3, seq);
			sqlite3_bind_text(
				st, 4,
				cJSON_GetObjectItemCaseSensitive(ev, "event_id")->valuestring, -1,
				SQLITE_STATIC);
			sqlite3_bind_text(st, 5,
					  cJSON_GetObjectItemCaseSensitive(ev, "type")->valuestring,
					  -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 6,
					   (int64_t)cJSON_GetObjectItemCaseSensitive(ev, "at_ms")
						   ->valuedouble);
			sqlite3_bind_text(st, 7, payload, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(st, 8, now);
			ret = step_done(st);
			free(payload);
			if (ret == 0 &&
			    strcmp(cJSON_GetObjectItemCaseSensitive(ev, "type")->valuestring,
				   "stats.summary") == 0) {
				ret = store_covers(q[Q_INS_COVERED], seq,
						   cJSON_GetObjectItemCaseSensitive(ev, "payload"));
			}
			if (ret != 0) {
				return ret;
			}
		}
	}

	/* The highest contiguous seq: from the stored progress, or from just
	 * before the first seq the city ever got for this epoch. */
	rc = sqlite3_step(q[Q_PROGRESS]);
	if (rc == SQLITE_ROW) {
		*acked = sqlite3_column_int64(q[Q_PROGRESS], 0);
	} else if (rc == SQLITE_DONE) {
		*acked = first > 0 ? first - 1 : 0;
	} else {
		sqlite3_reset(q[Q_PROGRESS]);
		return -EIO;
	}
	sqlite3_reset(q[Q_PROGRESS]);
	if (rc == SQLITE_DONE && first < 0) {
		return 0; /* nothing known of this epoch, nothing sent */
	}
	sqlite3_bind_int64(q[Q_NEXT], 3, *acked);
	while ((rc = sqlite3_step(q[Q_NEXT])) == SQLITE_ROW) {
		if (sqlite3_column_int64(q[Q_NEXT], 0) != *acked + 1) {
			break;
		}
		(*acked)++;
	}
	sqlite3_reset(q[Q_NEXT]);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		return -EIO;
	}
	sqlite3_bind_int64(q[Q_SET_PROGRESS], 3, *acked);
	sqlite3_bind_int64(q[Q_SET_PROGRESS], 4, now);
	return step_done(q[Q_SET_PROGRESS]);
}

static void route_events(const struct cs_request *rq, struct cs_reply *rp)
{
	struct cs_store *s = cs_api.store;
	sqlite3_stmt *q[Q_N] = { 0 };
	const cJSON *device, *epoch, *events, *ev;
	cJSON *body, *rejected;
	int64_t prev = 0, acked = 0;
	int n = 0;
	int ret = 0;

	if (rq->body_len > CS_BATCH_BYTES) {
		cs_error_reply(rp, 413, "too_large", "the batch is larger than 256 KiB",
			       "批次超过256 KiB");
		return;
	}
	if (!body_hash_ok(rq)) {
		cs_error_reply(rp, 400, "body_hash",
			       "X-Body-SHA256 is missing or does not match the body",
			       "X-Body-SHA256缺失或与请求体不符");
		return;
	}
	body = cJSON_ParseWithLength(rq->body, rq->body_len);
	if (!cJSON_IsObject(body)) {
		cs_error_reply(rp, 400, "bad_request", "the body is not a JSON object",
			       "请求体不是JSON对象");
		goto out;
	}
	device = cJSON_GetObjectItemCaseSensitive(body, "device");
	epoch = cJSON_GetObjectItemCaseSensitive(body, "db_epoch");
	events = cJSON_GetObjectItemCaseSensitive(body, "events");
	if (!cJSON_IsString(device)) {
		cs_error_reply(rp, 400, "bad_request", "the batch names no device",
			       "批次未注明设备");
		goto out;
	}
	if (strcmp(device->valuestring, rq->cn) != 0) {
		cs_error_reply(rp, 403, "device_mismatch",
			       "the batch names another device than the certificate",
			       "批次注明的设备与证书不符");
		goto out;
	}
	if (!cJSON_IsString(epoch) || !cs_code_ok(epoch->valuestring, CS_ID_MAX)) {
		cs_error_reply(rp, 400, "bad_request", "db_epoch is missing or not valid",
			       "db_epoch缺失或无效");
		goto out;
	}
	if (!cJSON_IsArray(events)) {
		cs_error_reply(rp, 400, "bad_request", "events is missing or not a list",
			       "events缺失或不是列表");
		goto out;
	}
	if (cJSON_GetArraySize(events) > CS_BATCH_EVENTS) {
		cs_error_reply(rp, 413, "too_large", "the batch holds more than 200 events",
			       "批次超过200个事件");
		goto out;
	}
	cJSON_ArrayForEach(ev, events)
	{
		const cJSON *seq = cJSON_GetObjectItemCaseSensitive(ev, "seq");

		if (!cJSON_IsObject(ev) || !int_ok(seq, 1) || (int64_t)seq->valuedouble <= prev) {
			char en[160], zh[160];

			snprintf(en, sizeof(en),
				 "event %d: seq must be a positive integer, ascending in the batch",
				 n + 1);
			snprintf(zh, sizeof(zh), "第%d个事件：seq须为正整数且在批次内递增", n + 1);
			cs_error_reply(rp, 400, "bad_request", en, zh);
			goto out;
		}
		prev = (int64_t)seq->valuedouble;
		n++;
	}

	rejected = cJSON_CreateArray();
	pthread_mutex_lock(&s->lock);
	for (int i = 0; i < Q_N && ret == 0; i++) {
		if (sqlite3_prepare_v2(s->db, sql[i], -1, &q[i], NULL) != SQLITE_OK) {
			fprintf(stderr, "citysim: store: %s\n", sqlite3_errmsg(s->db));
			ret = -EIO;
		}
	}
	if (ret == 0) {
		ret = cs_store_begin(s);
	}
	if (ret == 0) {
		int64_t now = cs_now_ms();

		ret = store_batch(q, device->valuestring, epoch->valuestring, events, now, &acked,
				  rejected);
		if (ret == 0) {
			ret = cs_store_seen(s, device->valuestring, now);
		}
		if (ret == 0) {
			ret = cs_store_commit(s); /* answer only what is durable */
		} else {
			cs_store_rollback(s);
		}
	}
	for (int i = 0; i < Q_N; i++) {
		sqlite3_finalize(q[i]);
	}
	pthread_mutex_unlock(&s->lock);
	if (ret != 0) {
		cJSON_Delete(rejected);
		storage_error(rp, ret);
		goto out;
	}
	rp->status = 200;
	rp->json = cJSON_CreateObject();
	cJSON_AddNumberToObject(rp->json, "acked_upto", (double)acked);
	cJSON_AddItemToObject(rp->json, "rejected", rejected);
out:
	cJSON_Delete(body);
}

/* ---- GET /api/v1/items --------------------------------------------------- */

/* The value of key in a query string (no decoding: values are digits). */
static bool query_get(const char *query, const char *key, char *out, size_t cap)
{
	size_t klen = strlen(key);

	for (const char *p = query; p != NULL && *p != '\0';) {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);

		if (len > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
			size_t vlen = len - klen - 1;

			if (vlen >= cap) {
				vlen = cap - 1;
			}
			memcpy(out, p + klen + 1, vlen);
			out[vlen] = '\0';
			return true;
		}
		if (len == klen && strncmp(p, key, klen) == 0) {
			out[0] = '\0';
			return true;
		}
		p = amp ? amp + 1 : NULL;
	}
	return false;
}

static bool digits(const char *s, size_t max, int64_t *out)
{
	size_t n = strlen(s);

	if (n == 0 || n > max || strspn(s, "0123456789") != n) {
		return false;
	}
	*out = strtoll(s, NULL, 10);
	return true;
}

static void route_items(const struct cs_request *rq, struct cs_reply *rp)
{
	struct cs_store *s = cs_api.store;
	sqlite3_stmt *st = NULL;
	char v[32];
	int64_t after = 0, limit = CS_ITEMS_DEFAULT;
	size_t bytes = 0;
	int count = 0;
	bool more = false;
	cJSON *items;
	int rc;

	if (query_get(rq->query, "after", v, sizeof(v)) && v[0] != '\0' && !digits(v, 18, &after)) {
		cs_error_reply(rp, 400, "bad_request", "after must be a cursor from this city",
			       "after须为本平台给出的游标");
		return;
	}
	if (query_get(rq->query, "limit", v, sizeof(v)) && (!digits(v, 9, &limit) || limit < 1)) {
		cs_error_reply(rp, 400, "bad_request", "limit must be a number from 1 to 200",
			       "limit须为1至200的数字");
		return;
	}
	if (limit > CS_ITEMS_MAX) {
		limit = CS_ITEMS_MAX;
	}
	items = cJSON_CreateArray();
	pthread_mutex_lock(&s->lock);
	rc = sqlite3_prepare_v2(s->db,
				"SELECT cursor, json FROM items WHERE cursor > ?1 AND "
				"(device = ?2 OR device = '*') ORDER BY cursor LIMIT ?3",
				-1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, after);
		sqlite3_bind_text(st, 2, rq->cn, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, limit + 1);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			const char *json = (const char *)sqlite3_column_text(st, 1);
			size_t len = (size_t)sqlite3_column_bytes(st, 1);
			cJSON *it;
			char cur[24];

			if (count == limit || (count > 0 && bytes + len > CS_ITEMS_PAGE_BYTES)) {
				more = true;
				break;
			}
			it = cJSON_Parse(json);
			if (it == NULL) {
				rc = SQLITE_CORRUPT;
				break;
			}
			snprintf(cur, sizeof(cur), "%lld", (long long)sqlite3_column_int64(st, 0));
			cJSON_AddStringToObject(it, "cursor", cur);
			cJSON_AddItemToArray(items, it);
			bytes += len + 32;
			count++;
		}
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		cJSON_Delete(items);
		storage_error(rp, rc == SQLITE_BUSY ? -EBUSY : -EIO);
		return;
	}
	rp->status = 200;
	rp->json = cJSON_CreateObject();
	cJSON_AddItemToObject(rp->json, "items", items);
	cJSON_AddBoolToObject(rp->json, "more", more);
}

/* ---- routing ------------------------------------------------------------- */

typedef void (*route_fn)(const struct cs_request *rq, struct cs_reply *rp);

static const struct route {
	const char *method;
	const char *path;
	route_fn fn;
	bool needs_version; /* X-Hotline-Protocol required (the probe may omit it) */
} routes[] = {
	{ "GET", "/api/v1/time", route_time, false },
	{ "POST", "/api/v1/events", route_events, true },
	{ "GET", "/api/v1/items", route_items, true },
};

static void version_reply(struct cs_reply *rp)
{
	cJSON *err, *sup;

	cs_error_reply(rp, 426, "protocol_version",
		       "the city speaks sync protocol version 1 only; the device needs a newer "
		       "firmware",
		       "市平台仅支持同步协议第1版，设备需要更新固件");
	err = cJSON_GetObjectItemCaseSensitive(rp->json, "error");
	sup = cJSON_AddArrayToObject(err, "supported");
	cJSON_AddItemToArray(sup, cJSON_CreateNumber(1));
}

void cs_api_dispatch(const struct cs_request *rq, struct cs_reply *rp)
{
	bool path_known = false;

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct route *r = &routes[i];

		if (strcmp(r->path, rq->path) != 0) {
			continue;
		}
		path_known = true;
		if (strcmp(r->method, rq->method) != 0) {
			continue;
		}
		if (rq->protocol != NULL && strcmp(rq->protocol, "1") != 0) {
			version_reply(rp);
			return;
		}
		if (rq->protocol == NULL && r->needs_version) {
			cs_error_reply(rp, 400, "bad_request",
				       "the header X-Hotline-Protocol is missing",
				       "缺少X-Hotline-Protocol请求头");
			return;
		}
		if (cs_api.store != NULL) {
			pthread_mutex_lock(&cs_api.store->lock);
			cs_store_seen(cs_api.store, rq->cn, cs_now_ms());
			pthread_mutex_unlock(&cs_api.store->lock);
		}
		r->fn(rq, rp);
		return;
	}
	if (path_known) {
		cs_error_reply(rp, 405, "method_not_allowed",
			       "this endpoint does not take that method", "该接口不支持此方法");
	} else {
		cs_error_reply(rp, 404, "not_found", "no such endpoint", "没有这个接口");
	}
}
