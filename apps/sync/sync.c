/*
 * The sync worker (sync.h): one thread, one SQLite connection, one HTTPS
 * client. A round is: GET /api/v1/time (the probe), upload every waiting
 * outbox event in batches, pull every page of items. The protocol is
 * docs/sync-protocol.md; what the worker stores and how it backs off is its
 * "Appliance side" section.
 *
 * Durability: an upload's answer is recorded (parked rejections and the
 * acknowledgement) in one transaction; a page of items is applied and its
 * cursor stored in one transaction, each item inside a savepoint so a
 * refused item leaves nothing behind but its conflict row. Calendar years
 * cannot be imported inside that transaction (calstore keeps its own
 * connection and memory), so the page transaction queues them in
 * sync_pending_apply and they are imported right after the commit; a queued
 * year survives a power cut and is imported on the next round.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <mbedtls/oid.h>
#include <mbedtls/sha256.h>

#include "fw/backlog.h"
#include "fw/identity.h"
#include "fw/log.h"
#include "fw/outbox.h"
#include "fw/rng.h"
#include "fw/store.h"
#include "orders/calstore.h"
#include "orders/orders.h"
#include "requests/requests.h"
#include "sync/sync.h"
#include "sync_items.h"

#define MOD		 "sync"

#define META_CURSOR	 "sync_cursor"
#define META_LAST_OK	 "sync_last_ok_ms"
#define META_IMPORT_MARK "sync_import_mark"
#define PAGES_MAX	 10000 /* pages per round, a bound against a city that loops */

enum { ROUND_OK = 0, ROUND_FAIL = -1, ROUND_HALT = -2 };

struct batch_event {
	int64_t seq;
	char event_id[40];
	char type[OUTBOX_TYPE_MAX];
};

struct sync {
	struct sync_params p;
	char *data_dir;
	char *host;
	char *device_cfg;
	struct hal_clock *clock;

	/* worker-only state (valid while running) */
	sqlite3 *db;
	struct httpc http;
	bool http_ready;
	struct identity_tls id;
	bool id_loaded;
	char device[SYNC_DEVICE_MAX];
	char epoch[40];
	char cursor[SYNC_CURSOR_MAX];
	struct batch_event *batch;
	bool clock_logged;
	int64_t clock_logged_offset;
	int64_t retry_after_ms; /* the city's Retry-After on 429/503 this round (0: none) */

	pthread_t thread;
	pthread_mutex_t lock; /* everything below, and st */
	pthread_cond_t cond;
	bool running;
	bool stopping;
	bool kicked;
	struct sync_status st;

	pthread_mutex_t db_lock; /* status_db */
	sqlite3 *status_db;
};

const char *sync_state_name(enum sync_state s)
{
	switch (s) {
	case SYNC_STOPPED:
		return "stopped";
	case SYNC_STARTING:
		return "starting";
	case SYNC_IDLE:
		return "idle";
	case SYNC_BUSY:
		return "busy";
	case SYNC_BACKOFF:
		return "backoff";
	case SYNC_HALTED:
		return "halted";
	}
	return "unknown";
}

/* ---- small helpers ------------------------------------------------------- */

static int64_t wall_ms(struct sync *s)
{
	return hal_clock_wall_ms(s->clock);
}

static int64_t mono_ms(struct sync *s)
{
	return hal_clock_mono_ms(s->clock);
}

static bool utf8_ok(const unsigned char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = p[i];
		size_t need;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
		} else {
			return false;
		}
		if (n - i <= need) {
			return false;
		}
		for (size_t k = 1; k <= need; k++) {
			if ((p[i + k] & 0xc0) != 0x80) {
				return false;
			}
		}
		i += need + 1;
	}
	return true;
}

/* Copy a text from the city for people: valid UTF-8, no controls, cut at a
 * character boundary. Falls back to dflt when src is unusable. */
static void text_copy(char *dst, size_t cap, const char *src, const char *dflt)
{
	size_t n;

	if (src == NULL || src[0] == '\0' || !utf8_ok((const unsigned char *)src, strlen(src))) {
		src = dflt;
	}
	n = strlen(src);
	if (n > cap - 1) {
		n = cap - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80) {
			n--;
		}
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[i] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
	}
	dst[n] = '\0';
}

/* A code from the city: [a-z0-9_], else "city_error". */
static void code_copy(char *dst, size_t cap, const char *src)
{
	size_t n = 0;

	if (src != NULL) {
		for (; src[n] != '\0' && n < cap - 1; n++) {
			char c = src[n];

			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
				n = 0;
				break;
			}
		}
		if (src[n] != '\0') {
			n = 0;
		}
	}
	if (n == 0) {
		snprintf(dst, cap, "%s", "city_error");
		return;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static bool cursor_valid(const char *c)
{
	size_t n = strlen(c);

	if (n == 0 || n >= SYNC_CURSOR_MAX) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (c[i] <= 0x20 || c[i] >= 0x7f) {
			return false;
		}
	}
	return true;
}

/* A growing text buffer; on allocation failure it stays failed. */
struct sbuf {
	char *p;
	size_t len;
	size_t cap;
	bool oom;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom) {
		return;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *np;

		while (cap < b->len + n + 1) {
			cap *= 2;
		}
		np = realloc(b->p, cap);
		if (np == NULL) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_str(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

/* A JSON string literal. */
static void sb_json(struct sbuf *b, const char *s)
{
	sb_add(b, "\"", 1);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			sb_add(b, esc, 2);
		} else if (c < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			sb_add(b, esc, 6);
		} else {
			sb_add(b, (const char *)&c, 1);
		}
	}
	sb_add(b, "\"", 1);
}

static void sb_int(struct sbuf *b, int64_t v)
{
	char num[24];

	snprintf(num, sizeof(num), "%" PRId64, v);
	sb_str(b, num);
}

/* ---- status -------------------------------------------------------------- */

static void set_error(struct sync *s, int err, int http_status, const char *code, const char *en,
		      const char *zh)
{
	pthread_mutex_lock(&s->lock);
	s->st.last_errno = err;
	s->st.last_http_status = http_status;
	snprintf(s->st.last_code, sizeof(s->st.last_code), "%s", code);
	text_copy(s->st.last_error_en, sizeof(s->st.last_error_en), en, "sync failed");
	text_copy(s->st.last_error_zh, sizeof(s->st.last_error_zh), zh, "同步失败");
	pthread_mutex_unlock(&s->lock);
	log_warn(MOD, "sync with the city failed: %s (%s, HTTP status %d)", en, code, http_status);
}

static void clear_error(struct sync *s)
{
	pthread_mutex_lock(&s->lock);
	s->st.last_errno = 0;
	s->st.last_http_status = 0;
	s->st.last_code[0] = '\0';
	s->st.last_error_en[0] = '\0';
	s->st.last_error_zh[0] = '\0';
	pthread_mutex_unlock(&s->lock);
}

/* A transport or TLS failure of httpc. Device refusals halt. */
static int fail_http(struct sync *s, int rc)
{
	enum httpc_reason r = httpc_last_reason(&s->http);

	if (r == HTTPC_OK) {
		r = HTTPC_R_INVALID;
	}
	set_error(s, rc, 0, httpc_reason_name(r), httpc_reason_en(r), httpc_reason_zh(r));
	log_dbg(MOD, "detail: %s", httpc_last_detail(&s->http));
	return r == HTTPC_R_DEVICE_REFUSED ? ROUND_HALT : ROUND_FAIL;
}

static int fail_storage(struct sync *s, int rc)
{
	set_error(s, rc, 0, "storage", "the device's storage failed", "设备存储出错");
	return ROUND_FAIL;
}

static int fail_bad_answer(struct sync *s, int http_status, const char *what)
{
	log_err(MOD, "the city's answer is malformed: %s", what);
	set_error(s, -EBADMSG, http_status, httpc_reason_name(HTTPC_R_BAD_RESPONSE),
		  httpc_reason_en(HTTPC_R_BAD_RESPONSE), httpc_reason_zh(HTTPC_R_BAD_RESPONSE));
	return ROUND_FAIL;
}

/*
 * Judge a non-200 answer: set the status from the city's error body or our
 * own words for the status code.
 * @retval ROUND_HALT for 401/403/426, else ROUND_FAIL
 */
static int fail_status(struct sync *s, const struct httpc_response *resp)
{
	int status = resp->status;
	const char *code = "city_error";
	const char *en = "the city platform refused the request";
	const char *zh = "市平台拒绝了请求";
	int ret = ROUND_FAIL;
	int err = -EIO;
	char ccode[SYNC_CODE_MAX];
	cJSON *j = NULL;
	const cJSON *e;

	if (status == 401 || status == 403) {
		code = "device_refused";
		en = "the city does not accept this device's certificate";
		zh = "市平台不接受本设备的证书";
		ret = ROUND_HALT;
		err = -EACCES;
	} else if (status == 426) {
		code = "protocol_version";
		en = "the city platform needs a newer firmware";
		zh = "市平台要求更新的设备固件";
		ret = ROUND_HALT;
		err = -EPROTONOSUPPORT;
	} else if (status == 413) {
		code = "too_large";
		en = "the city refused a batch of one event as too large";
		zh = "市平台认为单条事件过大而拒收";
		err = -EFBIG;
	} else if (status == 429 || status == 503) {
		code = "busy";
		en = "the city platform is busy";
		zh = "市平台繁忙";
		err = -EBUSY;
		if (resp->retry_after_s > 0) {
			s->retry_after_ms = (int64_t)resp->retry_after_s * 1000;
		}
	} else if (status >= 500) {
		code = "city_failed";
		en = "the city platform had an internal error";
		zh = "市平台内部错误";
	} else if (status == 400) {
		code = "bad_request";
		en = "the city refused the request as malformed";
		zh = "市平台认为请求格式有误";
		err = -EINVAL;
	}
	if (resp->body_len > 0) {
		j = cJSON_ParseWithLength(resp->body, resp->body_len);
	}
	e = cJSON_GetObjectItemCaseSensitive(j, "error");
	if (cJSON_IsObject(e)) {
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "code");
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
		const cJSON *mz = cJSON_GetObjectItemCaseSensitive(e, "message_zh");

		if (cJSON_IsString(c)) {
			code_copy(ccode, sizeof(ccode), c->valuestring);
			log_warn(MOD, "the city answered HTTP %d %s", status, ccode);
		}
		/* The city's words are shown only for errors we do not word
		 * ourselves: a refused device or version is ours to explain. */
		if (ret != ROUND_HALT && cJSON_IsString(m) && cJSON_IsString(mz) &&
		    utf8_ok((const unsigned char *)m->valuestring, strlen(m->valuestring)) &&
		    utf8_ok((const unsigned char *)mz->valuestring, strlen(mz->valuestring)) &&
		    m->valuestring[0] != '\0' && mz->valuestring[0] != '\0') {
			en = m->valuestring;
			zh = mz->valuestring;
		}
		if (cJSON_IsString(c) && ret != ROUND_HALT) {
			code = ccode;
		}
		/* A halt keeps the city's code when it is one of the protocol's
		 * device refusals; a mismatch is a configuration error, not a
		 * refused certificate, and is worded so. */
		if (cJSON_IsString(c) && (status == 401 || status == 403)) {
			if (strcmp(ccode, "device_mismatch") == 0) {
				en = "the device id does not match its certificate";
				zh = "设备编号与其证书不符";
				code = ccode;
			} else if (strcmp(ccode, "device_unknown") == 0 ||
				   strcmp(ccode, "device_revoked") == 0) {
				code = ccode;
			}
		}
	}
	set_error(s, err, status, code, en, zh);
	cJSON_Delete(j);
	return ret;
}

/* ---- requests ------------------------------------------------------------ */

static int request(struct sync *s, const char *method, const char *path, const char *body,
		   size_t body_len, struct httpc_response *resp)
{
	char hash_hex[65] = "";
	struct httpc_header hdr[2] = { { "X-Hotline-Protocol", "1" },
				       { "X-Body-SHA256", hash_hex } };
	struct httpc_request rq = {
		.method = method,
		.path = path,
		.headers = hdr,
		.n_headers = 1,
		.body = body,
		.body_len = body_len,
	};

	if (body != NULL) {
		unsigned char h[32];

		mbedtls_sha256_ret((const unsigned char *)body, body_len, h, 0);
		for (int i = 0; i < 32; i++) {
			snprintf(hash_hex + 2 * i, 3, "%02x", h[i]);
		}
		rq.n_headers = 2;
	}
	return httpc_request(&s->http, &rq, resp);
}

/* ---- time ---------------------------------------------------------------- */

static int probe_time(struct sync *s)
{
	struct httpc_response resp;
	int64_t m0 = mono_ms(s);
	int64_t m1;
	int64_t wall;
	int64_t offset;
	cJSON *j;
	const cJSON *now;
	int rc;

	rc = request(s, "GET", "/api/v1/time", NULL, 0, &resp);
	if (rc < 0) {
		return fail_http(s, rc);
	}
	if (resp.status != 200) {
		return fail_status(s, &resp);
	}
	m1 = mono_ms(s);
	wall = wall_ms(s);
	j = cJSON_ParseWithLength(resp.body, resp.body_len);
	now = cJSON_GetObjectItemCaseSensitive(j, "now_ms");
	if (!cJSON_IsNumber(now) || now->valuedouble < 0 || now->valuedouble > 4102444800000.0) {
		cJSON_Delete(j);
		return fail_bad_answer(s, resp.status, "GET /api/v1/time without a usable now_ms");
	}
	/* The city read its clock about half the round trip before we did. */
	offset = (int64_t)now->valuedouble + (m1 - m0) / 2 - wall;
	cJSON_Delete(j);

	pthread_mutex_lock(&s->lock);
	s->st.city_clock_known = true;
	s->st.city_offset_ms = offset;
	s->st.city_checked_ms = wall;
	pthread_mutex_unlock(&s->lock);

	if ((offset > SYNC_CLOCK_WARN_MS || offset < -SYNC_CLOCK_WARN_MS) &&
	    (!s->clock_logged || llabs(offset - s->clock_logged_offset) > 60000)) {
		sqlite3_stmt *st = NULL;

		log_warn(MOD,
			 "the device clock differs from the city's by %+" PRId64
			 " ms (over 2 minutes); recorded as deadline evidence",
			 offset);
		if (store_prepare(s->db,
				  "INSERT INTO sync_clock (city_ms, wall_ms, mono_ms, offset_ms, "
				  "rtt_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
				  &st) == 0) {
			sqlite3_bind_int64(st, 1, wall + offset);
			sqlite3_bind_int64(st, 2, wall);
			sqlite3_bind_int64(st, 3, m1);
			sqlite3_bind_int64(st, 4, offset);
			sqlite3_bind_int64(st, 5, m1 - m0);
			if (store_step_done(s->db, st, "recording the city's clock") == 0) {
				s->clock_logged = true;
				s->clock_logged_offset = offset;
			}
		}
	}
	return ROUND_OK;
}

/* ---- upload -------------------------------------------------------------- */

/*
 * Build the body of the next batch: the first waiting events in seq order,
 * at most limit events and batch_bytes bytes (at least one event).
 * @retval events in the batch (0: none waiting), <0 storage or -ENOMEM
 */
static int batch_build(struct sync *s, int limit, struct sbuf *b)
{
	sqlite3_stmt *st = NULL;
	size_t cap = s->p.batch_bytes;
	int n = 0;
	int rc;

	rc = store_prepare(s->db,
			   "SELECT seq, event_id, type, payload, created_ms FROM outbox "
			   "WHERE acked_ms IS NULL ORDER BY seq LIMIT ?1",
			   &st);
	if (rc < 0) {
		return rc;
	}
	sqlite3_bind_int(st, 1, limit);
	sb_str(b, "{\"device\":");
	sb_json(b, s->device);
	sb_str(b, ",\"db_epoch\":");
	sb_json(b, s->epoch);
	sb_str(b, ",\"events\":[");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(st, 0);
		const char *eid = (const char *)sqlite3_column_text(st, 1);
		const char *type = (const char *)sqlite3_column_text(st, 2);
		const char *payload = (const char *)sqlite3_column_text(st, 3);
		int plen = sqlite3_column_bytes(st, 3);
		size_t mark = b->len;

		if (eid == NULL || type == NULL || payload == NULL) {
			rc = SQLITE_CORRUPT;
			break;
		}
		if (n > 0) {
			sb_str(b, ",");
		}
		sb_str(b, "{\"seq\":");
		sb_int(b, seq);
		sb_str(b, ",\"event_id\":");
		sb_json(b, eid);
		sb_str(b, ",\"type\":");
		sb_json(b, type);
		sb_str(b, ",\"at_ms\":");
		sb_int(b, sqlite3_column_int64(st, 4));
		sb_str(b, ",\"payload\":");
		sb_add(b, payload, (size_t)plen);
		sb_str(b, "}");
		if (n > 0 && b->len + 2 > cap) {
			b->len = mark; /* this one goes in the next batch */
			b->p[b->len] = '\0';
			rc = SQLITE_DONE;
			break;
		}
		s->batch[n].seq = seq;
		snprintf(s->batch[n].event_id, sizeof(s->batch[n].event_id), "%s", eid);
		snprintf(s->batch[n].type, sizeof(s->batch[n].type), "%s", type);
		n++;
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		rc = store_err(s->db, rc, "reading waiting events");
		sqlite3_finalize(st);
		return rc;
	}
	sqlite3_finalize(st);
	sb_str(b, "]}");
	if (b->oom) {
		return -ENOMEM;
	}
	return n;
}

static const struct batch_event *batch_find(const struct sync *s, int n, int64_t seq)
{
	for (int i = 0; i < n; i++) {
		if (s->batch[i].seq == seq) {
			return &s->batch[i];
		}
	}
	return NULL;
}

static int park(struct sync *s, const struct batch_event *ev, const cJSON *r)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(r, "code");
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(r, "message");
	const cJSON *mz = cJSON_GetObjectItemCaseSensitive(r, "message_zh");
	char code[SYNC_CODE_MAX];
	char en[SYNC_TEXT_MAX];
	char zh[SYNC_TEXT_MAX];
	sqlite3_stmt *st = NULL;
	int rc;

	code_copy(code, sizeof(code), cJSON_IsString(c) ? c->valuestring : NULL);
	text_copy(en, sizeof(en), cJSON_IsString(m) ? m->valuestring : NULL,
		  "the city rejected this event");
	text_copy(zh, sizeof(zh), cJSON_IsString(mz) ? mz->valuestring : NULL, "市平台拒收此事件");
	rc = store_prepare(s->db,
			   "INSERT OR IGNORE INTO sync_parked (seq, event_id, type, code, message, "
			   "message_zh, parked_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
			   &st);
	if (rc < 0) {
		return rc;
	}
	sqlite3_bind_int64(st, 1, ev->seq);
	sqlite3_bind_text(st, 2, ev->event_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ev->type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, code, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, en, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, zh, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, wall_ms(s));
	log_warn(MOD, "the city rejected event seq %" PRId64 " (%s): %s; parked", ev->seq, ev->type,
		 code);
	return store_step_done(s->db, st, "parking a rejected event");
}

/* Record a 200 answer to a batch of n events. */
static int batch_answer(struct sync *s, int n, const struct httpc_response *resp)
{
	cJSON *j = cJSON_ParseWithLength(resp->body, resp->body_len);
	const cJSON *up = cJSON_GetObjectItemCaseSensitive(j, "acked_upto");
	const cJSON *rej = cJSON_GetObjectItemCaseSensitive(j, "rejected");
	const cJSON *r;
	int64_t upto;
	int rc;

	if (!cJSON_IsNumber(up) || up->valuedouble < 0 || up->valuedouble > 9e15 ||
	    up->valuedouble != (double)(int64_t)up->valuedouble ||
	    (rej != NULL && !cJSON_IsArray(rej) && !cJSON_IsNull(rej))) {
		cJSON_Delete(j);
		return fail_bad_answer(s, resp->status,
				       "events answer without a usable acked_upto");
	}
	upto = (int64_t)up->valuedouble;
	/* Seqs a stats.summary stands for may be acknowledged beyond the batch. */
	if (upto > outbox_reach(s->db, s->batch[n - 1].seq)) {
		cJSON_Delete(j);
		return fail_bad_answer(s, resp->status,
				       "acked_upto beyond the last event of the batch");
	}
	if (upto < s->batch[0].seq) {
		cJSON_Delete(j);
		set_error(s, -EIO, resp->status, "not_stored",
			  "the city did not store the events sent", "市平台未保存已发送的事件");
		return ROUND_FAIL;
	}
	if (!cJSON_IsArray(rej)) {
		rej = NULL;
	}
	rc = store_begin(s->db);
	cJSON_ArrayForEach(r, rej)
	{
		const cJSON *sq = cJSON_GetObjectItemCaseSensitive(r, "seq");
		const struct batch_event *ev;

		if (rc < 0) {
			break;
		}
		if (!cJSON_IsNumber(sq)) {
			continue;
		}
		ev = batch_find(s, n, (int64_t)sq->valuedouble);
		if (ev == NULL || ev->seq > upto) {
			continue; /* not ours, or not settled yet: it comes again */
		}
		rc = park(s, ev, r);
	}
	if (rc == 0) {
		rc = outbox_ack(s->db, upto);
	}
	if (rc >= 0) {
		rc = store_commit(s->db);
	} else {
		store_rollback(s->db);
	}
	cJSON_Delete(j);
	if (rc == -ERANGE) {
		set_error(s, rc, resp->status, "epoch_mismatch",
			  "the city acknowledged events this database never wrote",
			  "市平台确认了本数据库从未写入的事件");
		return ROUND_FAIL;
	}
	if (rc < 0) {
		return fail_storage(s, rc);
	}
	pthread_mutex_lock(&s->lock);
	s->st.acked_upto = upto;
	s->st.batches++;
	s->st.events_sent += (uint64_t)n;
	pthread_mutex_unlock(&s->lock);
	return ROUND_OK;
}

/*
 * batch_build in one transaction with recording what is sent: the backlog
 * policy never rewrites a seq the city may hold (outbox_mark_sent).
 */
static int batch_build_sent(struct sync *s, int limit, struct sbuf *b)
{
	int n = store_begin(s->db);

	if (n == 0) {
		n = batch_build(s, limit, b);
	}
	if (n > 0) {
		int rc = outbox_mark_sent(s->db, s->batch[n - 1].seq);

		n = rc < 0 ? rc : n;
	}
	if (n >= 0) {
		int rc = store_commit(s->db);

		n = rc < 0 ? rc : n;
	} else {
		store_rollback(s->db);
	}
	return n;
}

static int upload(struct sync *s)
{
	(void)backlog_enforce(s->db); /* logged there; sending goes on regardless */
	for (;;) {
		struct sbuf b = { 0 };
		struct httpc_response resp;
		int limit;
		int n;
		int rc;

		pthread_mutex_lock(&s->lock);
		limit = s->st.batch_limit;
		if (s->stopping) {
			pthread_mutex_unlock(&s->lock);
			return ROUND_OK;
		}
		pthread_mutex_unlock(&s->lock);
		n = batch_build_sent(s, limit, &b);
		if (n <= 0) {
			free(b.p);
			return n == 0 ? ROUND_OK : fail_storage(s, n);
		}
		rc = request(s, "POST", "/api/v1/events", b.p, b.len, &resp);
		free(b.p);
		if (rc < 0) {
			return fail_http(s, rc);
		}
		if (resp.status == 413 && n > 1) {
			pthread_mutex_lock(&s->lock);
			s->st.batch_limit = n / 2;
			pthread_mutex_unlock(&s->lock);
			log_warn(MOD, "the city found a batch of %d events too large; now %d", n,
				 n / 2);
			continue;
		}
		if (resp.status != 200) {
			return fail_status(s, &resp);
		}
		rc = batch_answer(s, n, &resp);
		if (rc != ROUND_OK) {
			return rc;
		}
	}
}

/* ---- download ------------------------------------------------------------ */

static int conflict_add(struct sync *s, const char *cursor, const cJSON *item, const char *code,
			const char *en, const char *zh)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "item_id");
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(item, "type");
	char *text = cJSON_PrintUnformatted(item);
	char ten[SYNC_TEXT_MAX];
	char tzh[SYNC_TEXT_MAX];
	char tid[72];
	char ttype[72];
	sqlite3_stmt *st = NULL;
	int rc;

	if (text == NULL) {
		return -ENOMEM;
	}
	text_copy(ten, sizeof(ten), en, "the item could not be applied");
	text_copy(tzh, sizeof(tzh), zh, "条目无法应用");
	text_copy(tid, sizeof(tid), cJSON_IsString(id) ? id->valuestring : NULL, "-");
	text_copy(ttype, sizeof(ttype), cJSON_IsString(type) ? type->valuestring : NULL, "-");
	rc = store_prepare(s->db,
			   "INSERT INTO sync_conflicts (cursor, item_id, type, code, reason, "
			   "reason_zh, item, at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
			   &st);
	if (rc < 0) {
		free(text);
		return rc;
	}
	sqlite3_bind_text(st, 1, cursor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, tid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ttype, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, code, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, ten, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, tzh, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, text, -1, free);
	sqlite3_bind_int64(st, 8, wall_ms(s));
	log_warn(MOD, "city item %s (%s) kept for staff: %s (%s)", tid, ttype, code, ten);
	return store_step_done(s->db, st, "recording a conflict");
}

static bool has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

/* A copy of item without the protocol's own keys (the applying services
 * refuse keys they do not know). */
static cJSON *item_body(const cJSON *item, bool drop_type)
{
	cJSON *c = cJSON_Duplicate(item, 1);

	if (c != NULL) {
		cJSON_DeleteItemFromObjectCaseSensitive(c, "cursor");
		if (drop_type) {
			cJSON_DeleteItemFromObjectCaseSensitive(c, "type");
			cJSON_DeleteItemFromObjectCaseSensitive(c, "item_id");
		}
	}
	return c;
}

static int queue_apply(struct sync *s, const char *cursor, const cJSON *item)
{
	char *text = cJSON_PrintUnformatted(item);
	sqlite3_stmt *st = NULL;
	int rc;

	if (text == NULL) {
		return -ENOMEM;
	}
	rc = store_prepare(
		s->db, "INSERT INTO sync_pending_apply (cursor, item, at_ms) VALUES (?1, ?2, ?3)",
		&st);
	if (rc < 0) {
		free(text);
		return rc;
	}
	sqlite3_bind_text(st, 1, cursor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, text, -1, free);
	sqlite3_bind_int64(st, 3, wall_ms(s));
	return store_step_done(s->db, st, "queueing an item applied after the page");
}

/*
 * Apply one item inside the page's transaction, in a savepoint.
 * @retval 0 applied (or already), 1 recorded as a conflict, <0 storage
 *         (the page must be rolled back)
 */
static int apply_item(struct sync *s, const char *cursor, const cJSON *item)
{
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(item, "type");
	struct orders_err oe;
	const char *code = NULL;
	const char *en = NULL;
	const char *zh = NULL;
	int rc;

	memset(&oe, 0, sizeof(oe));
	rc = store_exec(s->db, "SAVEPOINT sync_item");
	if (rc < 0) {
		return rc;
	}
	if (!cJSON_IsString(type)) {
		rc = -EINVAL;
		snprintf(oe.en, sizeof(oe.en), "the item has no type");
		snprintf(oe.zh, sizeof(oe.zh), "条目缺少类型");
	} else if (has_prefix(type->valuestring, "order.")) {
		if (s->p.orders == NULL) {
			code = "not_handled";
		} else {
			cJSON *body = item_body(item, false);

			rc = body == NULL ? -ENOMEM
					  : orders_apply_city(s->p.orders, s->db, body, &oe);
			cJSON_Delete(body);
		}
	} else if (strcmp(type->valuestring, "calendar.year") == 0) {
		if (s->p.cal == NULL) {
			code = "not_handled";
		} else {
			rc = queue_apply(s, cursor, item);
		}
	} else if (strcmp(type->valuestring, "codes.update") == 0 ||
		   strcmp(type->valuestring, "departments.update") == 0) {
		/* Tables of the orders service, imported on its own connection
		 * after the commit, like calendar years. */
		if (s->p.orders == NULL) {
			code = "not_handled";
		} else {
			rc = queue_apply(s, cursor, item);
		}
	} else if (strcmp(type->valuestring, "request.handed_over") == 0) {
		const cJSON *num = cJSON_GetObjectItemCaseSensitive(item, "number");
		const cJSON *ref = cJSON_GetObjectItemCaseSensitive(item, "city_ref");

		if (s->p.requests == NULL) {
			code = "not_handled";
		} else if (!cJSON_IsString(num) || (ref != NULL && !cJSON_IsString(ref))) {
			rc = -EINVAL;
			snprintf(oe.en, sizeof(oe.en), "the item lacks the request's number");
			snprintf(oe.zh, sizeof(oe.zh), "条目缺少诉求编号");
		} else {
			rc = requests_mark_handed_over(s->p.requests, s->db, num->valuestring,
						       ref ? ref->valuestring : NULL);
			if (rc == -EPROTO) {
				snprintf(oe.en, sizeof(oe.en),
					 "the request was not forwarded to the city");
				snprintf(oe.zh, sizeof(oe.zh), "该诉求未转交市平台");
			}
		}
	} else {
		code = "unknown_type";
	}
	if (code != NULL) {
		rc = -EINVAL;
		en = strcmp(code, "not_handled") == 0
			     ? "this kind of item is not handled on this device"
			     : "the device does not know this kind of item";
		zh = strcmp(code, "not_handled") == 0 ? "本设备未处理此类条目"
						      : "设备不认识此类条目";
	}
	if (rc >= 0) {
		rc = store_exec(s->db, "RELEASE sync_item");
		return rc < 0 ? rc : 0;
	}
	if (rc != -EINVAL && rc != -EPROTO && rc != -ENOENT) {
		return rc; /* storage: the whole page goes back */
	}
	if (code == NULL) {
		code = rc == -EINVAL ? "invalid" : rc == -EPROTO ? "conflict" : "unknown_target";
		if (rc == -ENOENT && oe.en[0] == '\0') {
			snprintf(oe.en, sizeof(oe.en),
				 "the order or request is not on this device");
			snprintf(oe.zh, sizeof(oe.zh), "本设备无此工单或诉求");
		}
		en = oe.en;
		zh = oe.zh;
	}
	rc = store_exec(s->db, "ROLLBACK TO sync_item");
	if (rc == 0) {
		rc = store_exec(s->db, "RELEASE sync_item");
	}
	if (rc == 0) {
		rc = conflict_add(s, cursor, item, code, en, zh);
	}
	return rc < 0 ? rc : 1;
}

/*
 * Import one queued item on the service's own connection: a calendar year
 * (its "calendar" object is the year file; an item that is itself the file
 * is taken as it is), or the orders' code table or department list (the
 * item's "codes" / "departments" array). A refusal of the content fills
 * en/zh (the item becomes a conflict).
 * @retval 0 imported or refused (en set), <0 a storage error: retried later
 */
static int import_pending(struct sync *s, const cJSON *item, char *en, char *zh, size_t cap)
{
	static const struct calstore_actor city_cal = { "city", "city" };
	static const struct orders_actor city = { "city", "city" };
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(item, "type");
	bool cal = cJSON_IsString(type) && strcmp(type->valuestring, "calendar.year") == 0;
	bool codes = cJSON_IsString(type) && strcmp(type->valuestring, "codes.update") == 0;
	const cJSON *part;
	cJSON *body;
	char *text;
	int rc;

	if (cal) {
		part = cJSON_GetObjectItemCaseSensitive(item, "calendar");
		body = cJSON_IsObject(part) ? cJSON_Duplicate(part, 1) : item_body(item, true);
	} else {
		part = cJSON_GetObjectItemCaseSensitive(item, codes ? "codes" : "departments");
		body = cJSON_IsArray(part) ? cJSON_Duplicate(part, 1) : cJSON_CreateNull();
	}
	text = body != NULL ? cJSON_PrintUnformatted(body) : NULL;
	cJSON_Delete(body);
	if (text == NULL) {
		return -ENOMEM;
	}
	if (cal) {
		char cen[WORKCAL_ERR_MAX] = "";
		char czh[WORKCAL_ERR_MAX] = "";

		rc = s->p.cal == NULL ? -ENOENT
				      : calstore_import(s->p.cal, &city_cal, "city", text,
							strlen(text), cen, czh);
		if (rc == -EINVAL || rc == -ENOENT) {
			snprintf(en, cap, "%s", cen[0] ? cen : "the calendar year was refused");
			snprintf(zh, cap, "%s", czh[0] ? czh : "日历年份未被接受");
			rc = 0;
		}
	} else {
		struct orders_err oe;

		memset(&oe, 0, sizeof(oe));
		rc = s->p.orders == NULL ? -ENOENT
		     : codes ? orders_codes_import(s->p.orders, &city, text, strlen(text), &oe)
			     : orders_departments_import(s->p.orders, &city, text, strlen(text),
							 &oe);
		if (rc == -EINVAL || rc == -ENOENT || rc == -EPERM) {
			snprintf(en, cap, "%s", oe.en[0] ? oe.en : "the table was refused");
			snprintf(zh, cap, "%s", oe.zh[0] ? oe.zh : "该表未被接受");
			rc = 0;
		}
	}
	free(text);
	return rc;
}

/* The audit action of a queued item's import. */
static const char *pending_action(const cJSON *item)
{
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(item, "type");

	if (cJSON_IsString(type) && strcmp(type->valuestring, "codes.update") == 0) {
		return "order.codes";
	}
	if (cJSON_IsString(type) && strcmp(type->valuestring, "departments.update") == 0) {
		return "order.departments";
	}
	return "calendar.import";
}

/*
 * Whether queued item id was already imported before a power cut: the
 * import commits on the service's connection, its queue row goes in the
 * worker's next transaction, and a cut in between must not import it
 * twice (a second audit entry, or a stale table over a later staff edit).
 * So before importing, meta sync_import_mark records "ID AUDIT_MAX"; a
 * mark for this id with a successful audit entry of the city after
 * AUDIT_MAX means it was done. The mark goes with the queue row.
 * @retval 1 done before, 0 not (the mark is set), <0 storage
 */
static int pending_done_before(struct sync *s, int64_t id, const char *action)
{
	char v[STORE_META_VALUE_MAX];
	long long mid = 0, aid = 0;
	sqlite3_stmt *st = NULL;
	int rc;

	if (store_meta_get(s->db, META_IMPORT_MARK, v, sizeof(v)) > 0 &&
	    sscanf(v, "%lld %lld", &mid, &aid) == 2 && mid == id) {
		rc = store_prepare(s->db,
				   "SELECT EXISTS (SELECT 1 FROM audit WHERE id > ?1 AND actor = "
				   "'city' AND action = ?2 AND outcome = 'ok')",
				   &st);
		if (rc < 0) {
			return rc;
		}
		sqlite3_bind_int64(st, 1, aid);
		sqlite3_bind_text(st, 2, action, -1, SQLITE_STATIC);
		rc = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -EIO;
		sqlite3_finalize(st);
		if (rc != 0) {
			return rc;
		}
	}
	rc = store_prepare(s->db, "SELECT coalesce(max(id), 0) FROM audit", &st);
	if (rc < 0) {
		return rc;
	}
	aid = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_finalize(st);
	if (aid < 0) {
		return -EIO;
	}
	snprintf(v, sizeof(v), "%lld %lld", (long long)id, aid);
	return store_meta_set(s->db, META_IMPORT_MARK, v);
}

/* Import the items queued by committed pages, oldest first. */
static void apply_pending(struct sync *s)
{
	for (;;) {
		sqlite3_stmt *st = NULL;
		int64_t id;
		char cursor[SYNC_CURSOR_MAX];
		char *text;
		cJSON *item;
		char en[WORKCAL_ERR_MAX] = "";
		char zh[WORKCAL_ERR_MAX] = "";
		int rc;

		if (store_prepare(
			    s->db,
			    "SELECT id, cursor, item FROM sync_pending_apply ORDER BY id LIMIT 1",
			    &st) < 0) {
			return;
		}
		if (sqlite3_step(st) != SQLITE_ROW) {
			sqlite3_finalize(st);
			return;
		}
		id = sqlite3_column_int64(st, 0);
		store_col_text(st, 1, cursor, sizeof(cursor));
		text = strdup((const char *)sqlite3_column_text(st, 2));
		sqlite3_finalize(st);
		item = text ? cJSON_Parse(text) : NULL;
		free(text);
		if (item == NULL) {
			return;
		}
		rc = pending_done_before(s, id, pending_action(item));
		if (rc == 0) {
			rc = import_pending(s, item, en, zh, sizeof(en));
		} else if (rc == 1) {
			log_info(MOD, "a queued item from the city was imported before a restart; "
				      "not importing it again");
			rc = 0;
		}
		if (rc < 0) {
			log_warn(MOD,
				 "importing an item from the city failed (%s); retried next round",
				 strerror(-rc));
			cJSON_Delete(item);
			return;
		}
		rc = store_begin(s->db);
		if (rc == 0 && en[0] != '\0') {
			rc = conflict_add(s, cursor, item, "invalid", en, zh);
		}
		if (rc == 0) {
			char sql[160];

			snprintf(sql, sizeof(sql),
				 "DELETE FROM sync_pending_apply WHERE id = %" PRId64
				 "; DELETE FROM meta WHERE key = '" META_IMPORT_MARK "'",
				 id);
			rc = store_exec(s->db, sql);
		}
		if (rc == 0) {
			rc = store_commit(s->db);
		} else {
			store_rollback(s->db);
		}
		cJSON_Delete(item);
		if (rc < 0) {
			return;
		}
	}
}

static void url_encode(char *out, size_t cap, const char *in)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *in != '\0' && o + 4 < cap; in++) {
		unsigned char c = (unsigned char)*in;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
}

int sync_page_parse(const char *body, size_t len, cJSON **page, const char **last, bool *more,
		    const char **why)
{
	cJSON *j = cJSON_ParseWithLength(body, len);
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(j, "items");
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "more");
	const cJSON *it;

	*page = NULL;
	*last = NULL;
	*more = false;
	if (!cJSON_IsArray(items) || (m != NULL && !cJSON_IsBool(m))) {
		cJSON_Delete(j);
		*why = "items page without an items array";
		return -EBADMSG;
	}
	/* Every item must carry a cursor before anything is applied. */
	cJSON_ArrayForEach(it, items)
	{
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(it, "cursor");

		if (!cJSON_IsObject(it) || !cJSON_IsString(c) || !cursor_valid(c->valuestring)) {
			cJSON_Delete(j);
			*last = NULL;
			*why = "an item without a usable cursor";
			return -EBADMSG;
		}
		*last = c->valuestring;
	}
	*page = j;
	*more = cJSON_IsTrue(m);
	return 0;
}

int sync_page_apply(struct sync *s, sqlite3 *db, const cJSON *page, const char *last,
		    uint64_t *applied, uint64_t *conflicts)
{
	sqlite3 *own = s->db;
	const cJSON *it;
	int rc;

	*applied = 0;
	*conflicts = 0;
	s->db = db;
	rc = store_begin(s->db);
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(page, "items"))
	{
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(it, "cursor");

		if (rc < 0) {
			break;
		}
		rc = apply_item(s, c->valuestring, it);
		if (rc == 0) {
			(*applied)++;
		} else if (rc == 1) {
			(*conflicts)++;
			rc = 0;
		}
	}
	if (rc == 0) {
		rc = store_meta_set(s->db, META_CURSOR, last);
	}
	if (rc == 0) {
		rc = store_commit(s->db);
	} else {
		store_rollback(s->db);
	}
	if (rc == 0) {
		apply_pending(s);
	}
	s->db = own;
	return rc;
}

static int download(struct sync *s)
{
	for (int page = 0; page < PAGES_MAX; page++) {
		char enc[SYNC_CURSOR_MAX * 3 + 1];
		char path[SYNC_CURSOR_MAX * 3 + 64];
		struct httpc_response resp;
		cJSON *j;
		const char *last = NULL;
		const char *why = NULL;
		uint64_t applied = 0;
		uint64_t conflicts = 0;
		bool more;
		bool again;
		int rc;

		pthread_mutex_lock(&s->lock);
		again = !s->stopping;
		pthread_mutex_unlock(&s->lock);
		if (!again) {
			return ROUND_OK;
		}
		url_encode(enc, sizeof(enc), s->cursor);
		snprintf(path, sizeof(path), "/api/v1/items?after=%s&limit=%d", enc,
			 s->p.page_items);
		rc = request(s, "GET", path, NULL, 0, &resp);
		if (rc < 0) {
			return fail_http(s, rc);
		}
		if (resp.status != 200) {
			return fail_status(s, &resp);
		}
		if (sync_page_parse(resp.body, resp.body_len, &j, &last, &more, &why) < 0) {
			return fail_bad_answer(s, resp.status, why);
		}
		if (last == NULL) {
			cJSON_Delete(j);
			return ROUND_OK;
		}
		rc = sync_page_apply(s, s->db, j, last, &applied, &conflicts);
		if (rc < 0) {
			cJSON_Delete(j);
			log_err(MOD,
				"a page of city items was not applied (%s); nothing of it kept",
				strerror(-rc));
			return fail_storage(s, rc);
		}
		snprintf(s->cursor, sizeof(s->cursor), "%s", last);
		cJSON_Delete(j);
		pthread_mutex_lock(&s->lock);
		s->st.items_applied += applied;
		s->st.items_conflict += conflicts;
		pthread_mutex_unlock(&s->lock);
		if (!more) {
			return ROUND_OK;
		}
	}
	return ROUND_OK;
}

/* ---- the worker ---------------------------------------------------------- */

static int round_run(struct sync *s)
{
	int rc;

	s->retry_after_ms = 0;
	rc = probe_time(s);

	if (rc == ROUND_OK) {
		rc = upload(s);
	}
	if (rc == ROUND_OK) {
		rc = download(s);
	}
	if (rc == ROUND_OK) {
		char v[24];
		int64_t now = wall_ms(s);

		apply_pending(s); /* years left by an earlier run */
		snprintf(v, sizeof(v), "%" PRId64, now);
		store_meta_set(s->db, META_LAST_OK, v);
		clear_error(s);
		pthread_mutex_lock(&s->lock);
		s->st.last_ok_ms = now;
		pthread_mutex_unlock(&s->lock);
	}
	return rc;
}

static int64_t draw_delay(int64_t ceiling)
{
	uint64_t r = 0;

	if (ceiling <= 0 || rng_bytes(&r, sizeof(r)) < 0) {
		return ceiling;
	}
	return (int64_t)(r % (uint64_t)(ceiling + 1));
}

static void wait_until(struct sync *s, int64_t delay_ms, bool forever)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += delay_ms / 1000;
	ts.tv_nsec += (delay_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	while (!s->stopping && !s->kicked) {
		int rc = forever ? pthread_cond_wait(&s->cond, &s->lock)
				 : pthread_cond_timedwait(&s->cond, &s->lock, &ts);

		if (rc == ETIMEDOUT) {
			break;
		}
	}
}

/* Whether an outbox event waits to be sent (worker's connection). */
static bool outbox_waiting(struct sync *s)
{
	sqlite3_stmt *st = NULL;
	bool yes = false;

	if (store_prepare(s->db, "SELECT EXISTS (SELECT 1 FROM outbox WHERE acked_ms IS NULL)",
			  &st) == 0) {
		yes = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) != 0;
		sqlite3_finalize(st);
	}
	return yes;
}

/*
 * Idle after a good round: the next round comes after idle_poll_ms (to pull
 * what the city sent), at a kick, or as soon as the office writes a new
 * event, which is looked for every SYNC_OUTBOX_CHECK_MS. Called and
 * returns with s->lock held.
 */
static void wait_idle(struct sync *s)
{
	int64_t left = s->p.idle_poll_ms;

	while (left > 0 && !s->stopping && !s->kicked) {
		int64_t slice = left < SYNC_OUTBOX_CHECK_MS ? left : SYNC_OUTBOX_CHECK_MS;
		bool work;

		wait_until(s, slice, false);
		left -= slice;
		if (s->stopping || s->kicked) {
			break;
		}
		pthread_mutex_unlock(&s->lock);
		work = outbox_waiting(s);
		pthread_mutex_lock(&s->lock);
		if (work) {
			break;
		}
	}
}

static void *worker(void *arg)
{
	struct sync *s = arg;

	pthread_mutex_lock(&s->lock);
	while (!s->stopping) {
		int rc;

		s->kicked = false;
		s->st.state = SYNC_BUSY;
		s->st.rounds++;
		pthread_mutex_unlock(&s->lock);
		rc = round_run(s);
		pthread_mutex_lock(&s->lock);
		if (rc == ROUND_OK) {
			s->st.failures_in_row = 0;
			s->st.backoff_ms = 0;
			s->st.retry_in_ms = 0;
			s->st.state = SYNC_IDLE;
			wait_idle(s);
		} else if (rc == ROUND_HALT) {
			s->st.failures++;
			s->st.failures_in_row++;
			s->st.state = SYNC_HALTED;
			httpc_close(&s->http);
			log_err(MOD, "sync halted: %s; waiting for the technician",
				s->st.last_error_en);
			wait_until(s, 0, true);
		} else {
			int64_t ceiling = s->p.backoff_min_ms;

			s->st.failures++;
			s->st.failures_in_row++;
			for (uint32_t i = 1;
			     i < s->st.failures_in_row && ceiling < s->p.backoff_max_ms; i++) {
				ceiling *= 2;
			}
			if (ceiling > s->p.backoff_max_ms) {
				ceiling = s->p.backoff_max_ms;
			}
			s->st.backoff_ms = ceiling;
			s->st.retry_in_ms = draw_delay(ceiling);
			/* A busy city said how long to stay away: at least that. */
			if (s->retry_after_ms > s->st.retry_in_ms) {
				s->st.retry_in_ms = s->retry_after_ms;
			}
			s->st.state = SYNC_BACKOFF;
			httpc_close(&s->http);
			wait_until(s, s->st.retry_in_ms, false);
		}
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* The subject CN of the device certificate. */
static int cert_cn(const mbedtls_x509_crt *crt, char *out, size_t cap)
{
	for (const mbedtls_x509_name *n = &crt->subject; n != NULL; n = n->next) {
		if (n->oid.p != NULL && MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) == 0) {
			if (n->val.len == 0 || n->val.len >= cap) {
				return -EINVAL;
			}
			memcpy(out, n->val.p, n->val.len);
			out[n->val.len] = '\0';
			return 0;
		}
	}
	return -EINVAL;
}

/* ---- public -------------------------------------------------------------- */

int sync_create(const struct sync_params *p, struct sync **out)
{
	struct sync *s;
	pthread_condattr_t ca;

	if (p == NULL || out == NULL || p->data_dir == NULL || p->city_host == NULL ||
	    p->city_ip == 0 || p->city_port == 0 ||
	    !((p->ca == NULL && p->cert == NULL && p->key == NULL) ||
	      (p->ca != NULL && p->cert != NULL && p->key != NULL)) ||
	    p->batch_events < 0 || p->batch_events > SYNC_BATCH_EVENTS_MAX ||
	    (p->batch_bytes != 0 &&
	     (p->batch_bytes < 4096 || p->batch_bytes > SYNC_BATCH_BYTES_MAX)) ||
	    p->page_items < 0 || p->page_items > 500 || p->backoff_min_ms < 0 ||
	    p->backoff_max_ms < 0 || p->idle_poll_ms < 0 || p->request_timeout_ms < 0) {
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		return -ENOMEM;
	}
	s->p = *p;
	s->data_dir = strdup(p->data_dir);
	s->host = strdup(p->city_host);
	s->device_cfg = strdup(p->device_id ? p->device_id : "");
	s->batch = calloc(SYNC_BATCH_EVENTS_MAX, sizeof(*s->batch));
	if (s->data_dir == NULL || s->host == NULL || s->device_cfg == NULL || s->batch == NULL) {
		sync_destroy(s);
		return -ENOMEM;
	}
	s->clock = p->clock ? p->clock : &hal_clock_system;
	s->p.transport = p->transport ? p->transport : &httpc_transport_net;
	s->p.batch_events = p->batch_events ? p->batch_events : SYNC_BATCH_EVENTS_MAX;
	s->p.batch_bytes = p->batch_bytes ? p->batch_bytes : SYNC_BATCH_BYTES_MAX;
	s->p.page_items = p->page_items ? p->page_items : SYNC_PAGE_ITEMS;
	s->p.backoff_min_ms = p->backoff_min_ms ? p->backoff_min_ms : SYNC_BACKOFF_MIN_MS;
	s->p.backoff_max_ms = p->backoff_max_ms ? p->backoff_max_ms : SYNC_BACKOFF_MAX_MS;
	if (s->p.backoff_max_ms < s->p.backoff_min_ms) {
		s->p.backoff_max_ms = s->p.backoff_min_ms;
	}
	s->p.idle_poll_ms = p->idle_poll_ms ? p->idle_poll_ms : SYNC_IDLE_POLL_MS;
	s->st.batch_limit = s->p.batch_events;
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->db_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cond, &ca);
	pthread_condattr_destroy(&ca);
	*out = s;
	return 0;
}

static void worker_free(struct sync *s)
{
	if (s->http_ready) {
		httpc_free(&s->http);
		s->http_ready = false;
	}
	if (s->id_loaded) {
		identity_tls_free(&s->id);
		s->id_loaded = false;
	}
	store_close(s->db);
	s->db = NULL;
}

int sync_start(struct sync *s)
{
	struct httpc_config hc;
	int rc;

	pthread_mutex_lock(&s->lock);
	if (s->running) {
		pthread_mutex_unlock(&s->lock);
		return -EALREADY;
	}
	pthread_mutex_unlock(&s->lock);

	rc = store_open(s->data_dir, &s->db);
	if (rc < 0) {
		return rc;
	}
	memset(&hc, 0, sizeof(hc));
	if (s->p.ca == NULL) {
		rc = identity_tls_load(s->data_dir, &s->id);
		s->id_loaded = true;
		if (rc < 0) {
			log_err(MOD, "cannot sync: the device identity could not be loaded (%s)",
				strerror(-rc));
			worker_free(s);
			return rc;
		}
		hc.ca = &s->id.ca;
		hc.cert = &s->id.cert;
		hc.key = &s->id.key;
	} else {
		hc.ca = s->p.ca;
		hc.cert = s->p.cert;
		hc.key = s->p.key;
	}
	if (s->device_cfg[0] != '\0') {
		snprintf(s->device, sizeof(s->device), "%s", s->device_cfg);
	} else if (cert_cn(hc.cert, s->device, sizeof(s->device)) < 0) {
		log_err(MOD, "cannot sync: the device certificate names no device (subject CN)");
		worker_free(s);
		return -EINVAL;
	}
	rc = store_meta_get(s->db, "db_epoch", s->epoch, sizeof(s->epoch));
	if (rc >= 0) {
		rc = store_meta_get(s->db, META_CURSOR, s->cursor, sizeof(s->cursor));
		if (rc == -ENOENT) {
			s->cursor[0] = '\0';
			rc = 0;
		}
	}
	if (rc < 0) {
		worker_free(s);
		return rc == -ENOENT ? -EIO : rc;
	}
	hc.ip = s->p.city_ip;
	hc.port = s->p.city_port;
	hc.host = s->host;
	hc.transport = s->p.transport;
	hc.clock = s->clock;
	hc.request_timeout_ms = s->p.request_timeout_ms;
	hc.body_max = SYNC_PAGE_BODY_MAX;
	rc = httpc_init(&s->http, &hc);
	if (rc < 0) {
		worker_free(s);
		return rc;
	}
	s->http_ready = true;
	s->clock_logged = false;

	pthread_mutex_lock(&s->lock);
	s->stopping = false;
	s->kicked = false;
	s->st.state = SYNC_STARTING;
	s->running = true;
	if (pthread_create(&s->thread, NULL, worker, s) != 0) {
		s->running = false;
		s->st.state = SYNC_STOPPED;
		pthread_mutex_unlock(&s->lock);
		worker_free(s);
		return -EAGAIN;
	}
	pthread_mutex_unlock(&s->lock);
	log_info(MOD, "sync worker started for device %s, city %s:%u", s->device, s->host,
		 (unsigned)s->p.city_port);
	return 0;
}

void sync_stop(struct sync *s)
{
	if (s == NULL) {
		return;
	}
	pthread_mutex_lock(&s->lock);
	if (!s->running) {
		pthread_mutex_unlock(&s->lock);
		return;
	}
	s->stopping = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	worker_free(s);
	pthread_mutex_lock(&s->lock);
	s->running = false;
	s->st.state = SYNC_STOPPED;
	pthread_mutex_unlock(&s->lock);
}

void sync_kick(struct sync *s)
{
	if (s == NULL) {
		return;
	}
	pthread_mutex_lock(&s->lock);
	s->kicked = true;
	s->st.kicks++;
	s->st.failures_in_row = 0;
	s->st.backoff_ms = 0;
	s->st.retry_in_ms = 0;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

void sync_destroy(struct sync *s)
{
	if (s == NULL) {
		return;
	}
	sync_stop(s);
	store_close(s->status_db);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->db_lock);
	pthread_cond_destroy(&s->cond);
	free(s->batch);
	free(s->data_dir);
	free(s->host);
	free(s->device_cfg);
	free(s);
}

static int status_counts(struct sync *s, struct sync_status *o)
{
	sqlite3_stmt *st = NULL;
	char v[STORE_META_VALUE_MAX];
	int rc;

	if (s->status_db == NULL) {
		rc = store_open(s->data_dir, &s->status_db);
		if (rc < 0) {
			return rc;
		}
	}
	rc = store_prepare(s->status_db,
			   "SELECT (SELECT count(*) FROM outbox WHERE acked_ms IS NULL),"
			   " (SELECT min(created_ms) FROM outbox WHERE acked_ms IS NULL),"
			   " (SELECT count(*) FROM sync_parked),"
			   " (SELECT count(*) FROM sync_conflicts WHERE resolved_ms IS NULL)",
			   &st);
	if (rc < 0) {
		return rc;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		o->waiting = sqlite3_column_int64(st, 0);
		o->oldest_ms = store_col_ms(st, 1);
		o->parked = sqlite3_column_int64(st, 2);
		o->conflicts = sqlite3_column_int64(st, 3);
		rc = 0;
	} else {
		rc = store_err(s->status_db, rc, "reading the sync status");
	}
	sqlite3_finalize(st);
	if (rc < 0) {
		return rc;
	}
	if (o->oldest_ms > 0) {
		o->oldest_age_ms = wall_ms(s) - o->oldest_ms;
		if (o->oldest_age_ms < 0) {
			o->oldest_age_ms = 0;
		}
	}
	rc = store_meta_get(s->status_db, META_CURSOR, o->cursor, sizeof(o->cursor));
	if (rc == -ENOENT) {
		o->cursor[0] = '\0';
	} else if (rc < 0) {
		return rc;
	}
	if (o->last_ok_ms == 0 && store_meta_get(s->status_db, META_LAST_OK, v, sizeof(v)) > 0) {
		o->last_ok_ms = strtoll(v, NULL, 10);
	}
	return 0;
}

int sync_status(struct sync *s, struct sync_status *out)
{
	int rc;

	if (s == NULL || out == NULL) {
		return -EINVAL;
	}
	pthread_mutex_lock(&s->lock);
	*out = s->st;
	pthread_mutex_unlock(&s->lock);
	pthread_mutex_lock(&s->db_lock);
	rc = status_counts(s, out);
	pthread_mutex_unlock(&s->db_lock);
	return rc;
}
