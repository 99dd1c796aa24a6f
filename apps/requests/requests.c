/*
 * Walk-in requests: filing (with the repeat rule and the receipt), the
 * staff's actions, the first-contact owner and the hand-over to the city
 * (docs/requests.md). Every change is one SQLite transaction holding the
 * row, its history, the audit entry and the outbox event.
 *
 * The key decision: the request exists before the paper. Filing commits
 * first (row, contact, history, audit, "request.filed"), and the receipt is
 * printed afterwards with no lock held; a failed print leaves the request
 * filed and unprinted, so the screen shows the lookup code instead and
 * staff can print it again. The opposite order (print, then store) could
 * hand a citizen a receipt for a request that was never stored.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw/audit.h"
#include "fw/log.h"
#include "fw/outbox.h"
#include "fw/rng.h"
#include "fw/store.h"
#include "fw/text.h"
#include "orders/workcal.h"
#include "requests_internal.h"

#define DAY_MS (24LL * 60 * 60 * 1000)

#define REQUEST_COLS                                                                             \
	"SELECT r.id, r.number, r.lookup_code, r.day, r.channel, r.category, r.field, r.state, " \
	"r.content, r.location, r.contact_id, r.hide_identity, r.owner_office, r.owner_user, "   \
	"r.filed_by, r.filed_ms, r.closed_ms, r.forwarded_ms, r.handed_over_ms, r.printed, "     \
	"r.answer, r.closed_by, r.city_ref, r.repeat_of, p.number, r.similarity "                \
	"FROM walkin_requests r LEFT JOIN walkin_requests p ON p.id = r.repeat_of "

/* Characters of a lookup code: no 0/O, 1/I/L, which people confuse (as the queue's). */

/* ---- names ---- */

static const char *const field_names[REQ_FIELD_N] = { "economy", "market", "social",
						      "public_service", "environment" };
static const char *const field_zh[REQ_FIELD_N] = { "经济调节", "市场监管", "社会管理", "公共服务",
						   "生态环境保护" };
static const char *const field_en[REQ_FIELD_N] = { "Economic regulation", "Market supervision",
						   "Social management", "Public services",
						   "Environmental protection" };
static const char *const category_en[ORDER_CAT_N] = { "Consultation", "Help request", "Complaint",
						      "Report", "Suggestion" };
static const char *const state_names[REQ_STATE_N] = { "open", "answered", "forwarded",
						      "handed_over" };
static const char *const state_zh[REQ_STATE_N] = { "受理中", "已当场答复", "已转报市热线",
						   "已移交市热线办理" };
static const char *const state_en[REQ_STATE_N] = { "Being handled at this office",
						   "Answered on the spot",
						   "Forwarded to the city hotline",
						   "Handed over to the city hotline" };
static const char *const grade_zh[6] = { NULL,	     "非常不满意", "不满意",
					 "基本满意", "满意",	   "非常满意" };
static const char *const grade_en[6] = { NULL,		 "Very dissatisfied",
					 "Dissatisfied", "Fairly satisfied",
					 "Satisfied",	 "Very satisfied" };

/* An entry of a name table, "?" outside it. */
static const char *name_at(const char *const names[], int n, int i)
{
	return i >= 0 && i < n ? names[i] : "?";
}

/* The index of s in a name table. @retval >=0, -EINVAL not one of them */
static int name_find(const char *const names[], int n, const char *s)
{
	for (int i = 0; s != NULL && i < n; i++) {
		if (strcmp(s, names[i]) == 0) {
			return i;
		}
	}
	return -EINVAL;
}

const char *request_field_name(int f)
{
	return name_at(field_names, REQ_FIELD_N, f);
}

const char *request_field_zh(int f)
{
	return name_at(field_zh, REQ_FIELD_N, f);
}

const char *request_field_en(int f)
{
	return name_at(field_en, REQ_FIELD_N, f);
}

int request_field_parse(const char *s)
{
	return name_find(field_names, REQ_FIELD_N, s);
}

const char *request_category_en(int c)
{
	return name_at(category_en, ORDER_CAT_N, c);
}

const char *request_state_name(int s)
{
	return name_at(state_names, REQ_STATE_N, s);
}

const char *request_state_zh(int s)
{
	return name_at(state_zh, REQ_STATE_N, s);
}

const char *request_state_en(int s)
{
	return name_at(state_en, REQ_STATE_N, s);
}

int request_state_parse(const char *s)
{
	return name_find(state_names, REQ_STATE_N, s);
}

const char *rating_grade_zh(int grade)
{
	return grade >= 1 && grade <= 5 ? grade_zh[grade] : NULL;
}

const char *rating_grade_en(int grade)
{
	return grade >= 1 && grade <= 5 ? grade_en[grade] : NULL;
}

/* ---- small helpers ---- */

void requests_set_err(struct requests_err *err, const char *en, const char *zh)
{
	if (err != NULL) {
		snprintf(err->en, sizeof(err->en), "%s", en);
		snprintf(err->zh, sizeof(err->zh), "%s", zh);
	}
}

bool requests_text_ok(const char *s, size_t max, bool multiline)
{
	return s != NULL && text_ok(s, max + 1, 0, false, multiline);
}

/* Whether s holds something other than whitespace. */
static bool has_text(const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		if (*s != ' ' && *s != '\n' && *s != '\t' && *s != '\r') {
			return true;
		}
	}
	return false;
}

int64_t requests_now(struct requests *r)
{
	return hal_clock_wall_ms(r->clock);
}

void requests_today(struct requests *r, char day[11])
{
	requests_local_day(requests_now(r), r->utc_offset_min, day);
}

static void read_request(sqlite3_stmt *st, struct request *q)
{
	memset(q, 0, sizeof(*q));
	q->id = sqlite3_column_int64(st, 0);
	store_col_text(st, 1, q->number, sizeof(q->number));
	store_col_text(st, 2, q->lookup_code, sizeof(q->lookup_code));
	store_col_text(st, 3, q->day, sizeof(q->day));
	store_col_text(st, 4, q->channel, sizeof(q->channel));
	q->category = sqlite3_column_int(st, 5);
	q->field = sqlite3_column_int(st, 6);
	q->state = request_state_parse((const char *)sqlite3_column_text(st, 7));
	store_col_text(st, 8, q->content, sizeof(q->content));
	store_col_text(st, 9, q->location, sizeof(q->location));
	q->contact_id = store_col_ms(st, 10);
	q->hide_identity = sqlite3_column_int(st, 11) != 0;
	store_col_text(st, 12, q->owner_office, sizeof(q->owner_office));
	store_col_text(st, 13, q->owner_user, sizeof(q->owner_user));
	store_col_text(st, 14, q->filed_by, sizeof(q->filed_by));
	q->filed_ms = store_col_ms(st, 15);
	q->closed_ms = store_col_ms(st, 16);
	q->forwarded_ms = store_col_ms(st, 17);
	q->handed_over_ms = store_col_ms(st, 18);
	q->printed = sqlite3_column_int(st, 19) != 0;
	store_col_text(st, 20, q->answer, sizeof(q->answer));
	store_col_text(st, 21, q->closed_by, sizeof(q->closed_by));
	store_col_text(st, 22, q->city_ref, sizeof(q->city_ref));
	q->repeat_of = store_col_ms(st, 23);
	store_col_text(st, 24, q->repeat_of_number, sizeof(q->repeat_of_number));
	q->similarity =
		sqlite3_column_type(st, 25) == SQLITE_NULL ? 0.0 : sqlite3_column_double(st, 25);
}

/* One request by a WHERE clause with one text bind, on db (NULL: r->db).
 * @retval 0, -ENOENT, <0 storage */
int requests_load(struct requests *r, sqlite3 *db, const char *where, const char *arg,
		  struct request *q)
{
	char sql[1024];
	sqlite3_stmt *st;
	int rc, ret;

	snprintf(sql, sizeof(sql), "%s%s", REQUEST_COLS, where);
	ret = store_prepare(db != NULL ? db : r->db, sql, &st);
	if (ret < 0) {
		return ret;
	}
	sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		read_request(st, q);
		ret = 0;
	} else if (rc == SQLITE_DONE) {
		ret = -ENOENT;
	} else {
		ret = store_err(db != NULL ? db : r->db, rc, "reading a request");
	}
	sqlite3_finalize(st);
	return ret;
}

static int load_number(struct requests *r, const char *number, struct request *q)
{
	if (number == NULL || strnlen(number, REQ_NUMBER_MAX) >= REQ_NUMBER_MAX) {
		return -ENOENT;
	}
	return requests_load(r, NULL, "WHERE r.number = ?1", number, q);
}

int requests_audit(sqlite3 *db, const struct requests_actor *who, const char *action,
		   const char *target, const char *detail)
{
	struct audit_entry e = {
		.actor = who != NULL && who->user_id != NULL ? who->user_id : "citizen",
		.role = who != NULL && who->role != NULL ? who->role : "citizen",
		.action = action,
		.target = target != NULL ? target : "",
		.outcome = "ok",
		.detail = detail,
	};

	return audit_append(db, &e);
}

static int history(struct requests *r, sqlite3 *db, int64_t id, const char *action, int state,
		   const char *actor, const char *note)
{
	sqlite3_stmt *st;
	int ret = store_prepare(db != NULL ? db : r->db,
				"INSERT INTO walkin_request_history (request_id, at_ms, action, "
				"state, actor, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
				&st);

	if (ret < 0) {
		return ret;
	}
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, requests_now(r));
	sqlite3_bind_text(st, 3, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, request_state_name(state), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, actor, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, note != NULL ? note : "", -1, SQLITE_TRANSIENT);
	return store_step_done(db != NULL ? db : r->db, st, "writing a request's history");
}

/* The outbox event of a request (the matter, never the contact). */
static int outbox_request(struct requests *r, sqlite3 *db, const char *type,
			  const struct request *q, const char *extra_key, const char *extra)
{
	cJSON *o = cJSON_CreateObject();
	char *json;
	int ret;

	if (o == NULL) {
		return -ENOMEM;
	}
	cJSON_AddStringToObject(o, "number", q->number);
	cJSON_AddStringToObject(o, "channel", q->channel);
	cJSON_AddStringToObject(o, "category", order_category_name(q->category));
	cJSON_AddStringToObject(o, "field", request_field_name(q->field));
	cJSON_AddStringToObject(o, "state", request_state_name(q->state));
	cJSON_AddStringToObject(o, "owner_office", q->owner_office);
	cJSON_AddStringToObject(o, "owner_user", q->owner_user);
	cJSON_AddNumberToObject(o, "filed_ms", (double)q->filed_ms);
	if (strcmp(type, "request.answered") != 0) {
		cJSON_AddStringToObject(o, "content", q->content);
		cJSON_AddStringToObject(o, "location", q->location);
		cJSON_AddBoolToObject(o, "hide_identity", q->hide_identity);
		/* The sync worker reads the contact from citizen_contact by this id. */
		cJSON_AddNumberToObject(o, "contact_id", (double)q->contact_id);
	}
	if (q->repeat_of != 0) {
		cJSON_AddStringToObject(o, "repeat_of", q->repeat_of_number);
		cJSON_AddNumberToObject(o, "similarity", q->similarity);
	}
	if (extra_key != NULL) {
		cJSON_AddStringToObject(o, extra_key, extra);
	}
	cJSON_AddNumberToObject(o, "at_ms", (double)requests_now(r));
	json = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (json == NULL) {
		return -ENOMEM;
	}
	ret = outbox_append(db != NULL ? db : r->db, type, json, NULL);
	free(json);
	return ret;
}

/* ---- lifecycle ---- */

int requests_create(const struct requests_params *p, struct requests **out)
{
	struct requests *r;
	int ret;

	if (p == NULL || p->data_dir == NULL || out == NULL || p->repeat_window_days < 0 ||
	    p->repeat_window_days > 365) {
		return -EINVAL;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		return -ENOMEM;
	}
	pthread_mutex_init(&r->lock, NULL);
	pthread_mutex_init(&r->print_lock, NULL);
	r->clock = p->clock != NULL ? p->clock : &hal_clock_system;
	r->printer = p->printer;
	r->orders = p->orders;
	r->queue = p->queue;
	r->utc_offset_min = p->utc_offset_min;
	r->repeat_window_days = p->repeat_window_days;
	snprintf(r->office_name, sizeof(r->office_name), "%s",
		 p->office_name != NULL && p->office_name[0] != '\0' ? p->office_name
								     : "12345受理点");
	ret = store_open(p->data_dir, &r->db);
	if (ret < 0) {
		log_err(MOD, "walk-in requests could not open the database: %s", strerror(-ret));
		pthread_mutex_destroy(&r->lock);
		pthread_mutex_destroy(&r->print_lock);
		free(r);
		return ret;
	}
	*out = r;
	return 0;
}

void requests_destroy(struct requests *r)
{
	if (r == NULL) {
		return;
	}
	store_close(r->db);
	pthread_mutex_destroy(&r->lock);
	pthread_mutex_destroy(&r->print_lock);
	free(r);
}

/* ---- filing ---- */

/* Check what a person typed; err names the field. */
static int validate(const struct request_input *in, struct requests_err *err)
{
	char m[PII_ADDRESS_MAX];
	const struct request_refusal *no = requests_refusal_find(in->kind);

	if (no != NULL) {
		char en[200], zh[200];

		snprintf(en, sizeof(en), "The 12345 hotline cannot accept this (%s). %s.",
			 no->name_en, no->where_en);
		snprintf(zh, sizeof(zh), "此类事项（%s）不属于12345热线受理范围。%s。", no->name_zh,
			 no->where_zh);
		requests_set_err(err, en, zh);
		return -EPERM;
	}
	if (in->category < 0 || in->category >= ORDER_CAT_N) {
		requests_set_err(err,
				 "Choose the kind of request: consultation, help request, "
				 "complaint, report or suggestion.",
				 "请选择诉求类别：咨询、求助、投诉、举报或意见建议。");
		return -EINVAL;
	}
	if (in->field < 0 || in->field >= REQ_FIELD_N) {
		requests_set_err(
			err,
			"Choose the field: economic regulation, market supervision, "
			"social management, public services or environmental protection.",
			"请选择诉求领域：经济调节、市场监管、社会管理、公共服务或生态环境保护。");
		return -EINVAL;
	}
	if (!has_text(in->content) || !requests_text_ok(in->content, REQ_CONTENT_MAX, true)) {
		requests_set_err(err,
				 "Describe the matter (\"content\", at most 2000 bytes, about 600 "
				 "Chinese characters).",
				 "请填写诉求内容（content，不超过 2000 字节，约 600 个汉字）。");
		return -EINVAL;
	}
	if (in->location != NULL && !requests_text_ok(in->location, REQ_LOCATION_MAX, false)) {
		requests_set_err(err, "The location is too long (at most 200 bytes) or not text.",
				 "地点过长（不超过 200 字节）或含有无效字符。");
		return -EINVAL;
	}
	if (in->name != NULL && in->name[0] != '\0' && pii_mask_name(in->name, m, sizeof(m)) < 0) {
		requests_set_err(err, "The name is not valid (at most 95 bytes of text).",
				 "姓名无效（不超过 95 字节的文字）。");
		return -EINVAL;
	}
	if (in->phone != NULL && in->phone[0] != '\0' &&
	    pii_mask_phone(in->phone, m, sizeof(m)) < 0) {
		requests_set_err(err,
				 "The phone number is not valid: digits, spaces and '-' only, "
				 "e.g. 13812345678 or 0571-88881234.",
				 "电话号码无效：只能包含数字、空格和“-”，例如 13812345678 或 "
				 "0571-88881234。");
		return -EINVAL;
	}
	return 0;
}

/* The next number of the day: WR20231113-0001. */
static int next_number(struct requests *r, const char *day, char out[REQ_NUMBER_MAX])
{
	sqlite3_stmt *st;
	int rc, ret = store_prepare(r->db,
				    "INSERT INTO request_counters (day, seq) VALUES (?1, 1) ON "
				    "CONFLICT (day) DO UPDATE SET seq = seq + 1 RETURNING seq",
				    &st);

	if (ret < 0) {
		return ret;
	}
	sqlite3_bind_text(st, 1, day, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(st, 0);

		snprintf(out, REQ_NUMBER_MAX, "WR%.4s%.2s%.2s-%04" PRId64, day, day + 5, day + 8,
			 seq % 100000);
		ret = 0;
	} else {
		ret = store_err(r->db, rc, "numbering a request");
	}
	sqlite3_finalize(st);
	return ret;
}

/* The most similar earlier request of the same contact within the window. */
static int find_repeat(struct requests *r, const uint8_t tag[PII_TAG_BYTES], const char *content,
		       int64_t now, int64_t *id, double *score)
{
	sqlite3_stmt *st;
	int rc, ret = store_prepare(
			r->db,
			"SELECT id, content FROM walkin_requests WHERE contact_tag = ?1 "
			"AND filed_ms >= ?2 ORDER BY filed_ms DESC LIMIT 100",
			&st);

	*id = 0;
	*score = 0.0;
	if (ret < 0) {
		return ret;
	}
	sqlite3_bind_blob(st, 1, tag, PII_TAG_BYTES, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now - (int64_t)r->repeat_window_days * DAY_MS);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *c = (const char *)sqlite3_column_text(st, 1);
		double s =
			requests_similarity(content, strlen(content), c, c != NULL ? strlen(c) : 0);

		if (s >= REQ_SIMILAR_THRESHOLD && s > *score) {
			*score = s;
			*id = sqlite3_column_int64(st, 0);
		}
	}
	ret = rc == SQLITE_DONE ? 0 : store_err(r->db, rc, "looking for repeats");
	sqlite3_finalize(st);
	return ret;
}

static int insert_request(struct requests *r, const struct request *q, const uint8_t *tag)
{
	sqlite3_stmt *st;
	int ret = store_prepare(
		r->db,
		"INSERT INTO walkin_requests (number, lookup_code, day, channel, category, field, "
		"content, location, contact_id, contact_tag, hide_identity, state, owner_office, "
		"owner_user, filed_by, filed_ms, repeat_of, similarity) VALUES (?1, ?2, ?3, ?4, "
		"?5, ?6, ?7, ?8, ?9, ?10, ?11, 'open', ?12, ?13, ?14, ?15, ?16, ?17)",
		&st);

	if (ret < 0) {
		return ret;
	}
	sqlite3_bind_text(st, 1, q->number, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, q->lookup_code, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, q->day, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, q->channel, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, q->category);
	sqlite3_bind_int(st, 6, q->field);
	sqlite3_bind_text(st, 7, q->content, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, q->location, -1, SQLITE_STATIC);
	if (q->contact_id > 0) {
		sqlite3_bind_int64(st, 9, q->contact_id);
	}
	if (tag != NULL) {
		sqlite3_bind_blob(st, 10, tag, PII_TAG_BYTES, SQLITE_STATIC);
	}
	sqlite3_bind_int(st, 11, q->hide_identity);
	sqlite3_bind_text(st, 12, q->owner_office, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 13, q->owner_user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 14, q->filed_by, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 15, q->filed_ms);
	if (q->repeat_of > 0) {
		sqlite3_bind_int64(st, 16, q->repeat_of);
		sqlite3_bind_double(st, 17, q->similarity);
	}
	return store_step_done(r->db, st, "storing a request");
}

/* The receipt of a request: masked phone (or name), anonymous when hidden. */
static int print_receipt(struct requests *r, const struct request *q)
{
	struct pii_contact c;
	struct request_receipt rc = {
		.office_name = q->owner_office,
		.number = q->number,
		.category_zh = order_category_zh(q->category),
		.category_en = request_category_en(q->category),
		.field_zh = request_field_zh(q->field),
		.filed_ms = q->filed_ms,
		.utc_offset_min = r->utc_offset_min,
		.lookup_code = q->lookup_code,
		.anonymous = q->hide_identity,
	};
	char who[PII_NAME_MAX + PII_PHONE_MAX];
	int ret;

	who[0] = '\0';
	memset(&c, 0, sizeof(c));
	if (q->contact_id > 0 && !q->hide_identity) {
		pthread_mutex_lock(&r->lock);
		ret = pii_contact_get(r->db, q->contact_id, PII_VIEW_MASKED, &c);
		pthread_mutex_unlock(&r->lock);
		if (ret == 0 || ret == -EBADMSG) {
			snprintf(who, sizeof(who), "%s%s%s", c.name,
				 c.name[0] && c.phone[0] ? " " : "", c.phone);
		}
		pii_contact_clear(&c);
	}
	rc.contact = who;
	pthread_mutex_lock(&r->print_lock);
	ret = requests_receipt_print(r->printer, &rc);
	pthread_mutex_unlock(&r->print_lock);
	return ret;
}

static int mark_printed(struct requests *r, int64_t id)
{
	sqlite3_stmt *st;
	int ret;

	pthread_mutex_lock(&r->lock);
	ret = store_prepare(r->db, "UPDATE walkin_requests SET printed = 1 WHERE id = ?1", &st);
	if (ret == 0) {
		sqlite3_bind_int64(st, 1, id);
		ret = store_step_done(r->db, st, "marking a receipt printed");
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

int requests_file(struct requests *r, const struct requests_actor *who,
		  const struct request_input *in, struct request *out, int *print_err,
		  struct requests_err *err)
{
	uint8_t tag[PII_TAG_BYTES];
	bool has_phone, has_name, staff;
	struct pii_contact plain;
	char detail[160];
	int ret, prc;

	if (print_err != NULL) {
		*print_err = 0;
	}
	if (r == NULL || in == NULL || out == NULL) {
		return -EINVAL;
	}
	ret = validate(in, err);
	if (ret < 0) {
		return ret;
	}
	has_phone = in->phone != NULL && in->phone[0] != '\0';
	has_name = in->name != NULL && in->name[0] != '\0';
	if ((has_phone || has_name) && !pii_ready()) {
		requests_set_err(
			err,
			"Personal data cannot be stored on this device now (its key is "
			"locked). Leave out the name and phone, or ask the technician.",
			"本机暂时无法保存个人信息（密钥未解锁）。可不填姓名和电话，或联系技术人员"
			"。");
		return -ENOKEY;
	}
	if (has_phone) {
		ret = pii_contact_tag(in->phone, tag);
		if (ret < 0) {
			return ret;
		}
	}
	staff = who != NULL && who->user_id != NULL;

	memset(out, 0, sizeof(*out));
	snprintf(out->channel, sizeof(out->channel), "%s", staff ? "window" : "kiosk");
	out->category = in->category;
	out->field = in->field;
	out->state = REQ_OPEN;
	snprintf(out->content, sizeof(out->content), "%s", in->content);
	snprintf(out->location, sizeof(out->location), "%s",
		 in->location != NULL ? in->location : "");
	out->hide_identity = in->hide_identity;
	snprintf(out->owner_office, sizeof(out->owner_office), "%s", r->office_name);
	snprintf(out->owner_user, sizeof(out->owner_user), "%s", staff ? who->user_id : "kiosk");
	snprintf(out->filed_by, sizeof(out->filed_by), "%s", staff ? who->user_id : "citizen");

	pthread_mutex_lock(&r->lock);
	out->filed_ms = requests_now(r);
	requests_local_day(out->filed_ms, r->utc_offset_min, out->day);
	ret = store_begin(r->db);
	if (ret < 0) {
		goto out_unlock;
	}
	ret = next_number(r, out->day, out->number);
	if (ret == 0 && has_phone && r->repeat_window_days > 0) {
		ret = find_repeat(r, tag, in->content, out->filed_ms, &out->repeat_of,
				  &out->similarity);
	}
	if (ret == 0 && (has_phone || has_name)) {
		memset(&plain, 0, sizeof(plain));
		snprintf(plain.name, sizeof(plain.name), "%s", has_name ? in->name : "");
		snprintf(plain.phone, sizeof(plain.phone), "%s", has_phone ? in->phone : "");
		ret = pii_contact_create(r->db, &plain, in->hide_identity, &out->contact_id);
		pii_contact_clear(&plain);
	}
	for (int tries = 0; ret == 0; tries++) {
		ret = rng_code(out->lookup_code, REQ_LOOKUP_LEN);
		if (ret == 0) {
			ret = insert_request(r, out, has_phone ? tag : NULL);
		}
		if (ret != -EEXIST || tries >= 4) {
			break; /* -EEXIST: the lookup code is taken; draw another */
		}
		ret = 0;
	}
	if (ret == 0) {
		/* Read back as stored (with the earlier request's number when a repeat). */
		char number[REQ_NUMBER_MAX];

		snprintf(number, sizeof(number), "%s", out->number);
		ret = load_number(r, number, out);
	}
	if (ret == 0) {
		ret = history(r, NULL, out->id, "filed", REQ_OPEN, out->filed_by, NULL);
	}
	if (ret == 0) {
		snprintf(detail, sizeof(detail), "{\"channel\":\"%s\",\"repeat_of\":\"%s\"}",
			 out->channel, out->repeat_of_number);
		ret = requests_audit(r->db, who, "request.file", out->number, detail);
	}
	if (ret == 0) {
		ret = outbox_request(r, NULL, "request.filed", out, NULL, NULL);
	}
	if (ret < 0) {
		store_rollback(r->db);
		goto out_unlock;
	}
	ret = store_commit(r->db);
out_unlock:
	pthread_mutex_unlock(&r->lock);
	if (has_phone) {
		memset(tag, 0, sizeof(tag));
	}
	if (ret < 0) {
		if (ret != -ENOKEY) {
			log_err(MOD, "a request could not be filed: %s", strerror(-ret));
		}
		return ret;
	}

	prc = print_receipt(r, out);
	if (prc == 0) {
		out->printed = mark_printed(r, out->id) == 0;
	} else if (print_err != NULL) {
		*print_err = prc > 0 ? -EIO : prc;
	}
	return 0;
}

int requests_reprint(struct requests *r, const struct requests_actor *who, const char *number,
		     int *print_err)
{
	struct request *q = malloc(sizeof(*q));
	int ret, prc;

	if (print_err != NULL) {
		*print_err = 0;
	}
	if (q == NULL) {
		return -ENOMEM;
	}
	pthread_mutex_lock(&r->lock);
	ret = load_number(r, number, q);
	pthread_mutex_unlock(&r->lock);
	if (ret < 0) {
		free(q);
		return ret;
	}
	prc = print_receipt(r, q);
	if (prc == 0) {
		mark_printed(r, q->id);
	}
	pthread_mutex_lock(&r->lock);
	ret = requests_audit(r->db, who, "request.reprint", q->number,
			     prc == 0 ? "{\"printed\":true}" : "{\"printed\":false}");
	pthread_mutex_unlock(&r->lock);
	free(q);
	if (prc != 0) {
		if (print_err != NULL) {
			*print_err = prc > 0 ? -EIO : prc;
		}
		return -ECANCELED;
	}
	return ret;
}

/* ---- staff actions ---- */

static int refuse_state(const struct request *q, struct requests_err *err)
{
	char en[200], zh[200];

	snprintf(en, sizeof(en), "Request %s is no longer open here: it is %s.", q->number,
		 request_state_en(q->state));
	snprintf(zh, sizeof(zh), "诉求 %s 已不在本受理点办理中：%s。", q->number,
		 request_state_zh(q->state));
	requests_set_err(err, en, zh);
	return -EPROTO;
}

int requests_tx_end(struct requests *r, int ret)
{
	if (ret < 0) {
		store_rollback(r->db);
	} else {
		ret = store_commit(r->db);
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

int requests_answer(struct requests *r, const struct requests_actor *who, const char *number,
		    const char *answer, struct request *out, struct requests_err *err)
{
	const char *by = who != NULL && who->user_id != NULL ? who->user_id : "citizen";
	sqlite3_stmt *st;
	int ret;

	if (!has_text(answer) || !requests_text_ok(answer, REQ_ANSWER_MAX, true)) {
		requests_set_err(err,
				 "Write the answer given to the citizen (\"answer\", at most 2000 "
				 "bytes).",
				 "请填写给市民的答复内容（answer，不超过 2000 字节）。");
		return -EINVAL;
	}
	pthread_mutex_lock(&r->lock);
	ret = store_begin(r->db);
	if (ret < 0) {
		goto out;
	}
	ret = load_number(r, number, out);
	if (ret == 0 && out->state != REQ_OPEN) {
		ret = refuse_state(out, err);
	}
	if (ret == 0) {
		ret = store_prepare(r->db,
				    "UPDATE walkin_requests SET state = 'answered', answer = ?2, "
				    "closed_by = ?3, closed_ms = ?4 WHERE id = ?1",
				    &st);
	}
	if (ret < 0) {
		goto out;
	}
	sqlite3_bind_int64(st, 1, out->id);
	sqlite3_bind_text(st, 2, answer, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, by, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, requests_now(r));
	ret = store_step_done(r->db, st, "answering a request");
	if (ret == 0) {
		ret = load_number(r, number, out);
	}
	if (ret == 0 && out->contact_id > 0) {
		ret = pii_contact_mark_closed(r->db, out->contact_id);
	}
	if (ret == 0) {
		ret = history(r, NULL, out->id, "answered", REQ_ANSWERED, by, NULL);
	}
	if (ret == 0) {
		ret = requests_audit(r->db, who, "request.answer", out->number, NULL);
	}
	if (ret == 0) {
		ret = outbox_request(r, NULL, "request.answered", out, "answer", out->answer);
	}
out:
	return requests_tx_end(r, ret);
}

int requests_forward(struct requests *r, const struct requests_actor *who, const char *number,
		     const char *note, struct request *out, struct requests_err *err)
{
	const char *by = who != NULL && who->user_id != NULL ? who->user_id : "citizen";
	sqlite3_stmt *st;
	int ret;

	if (note != NULL && !requests_text_ok(note, REQ_NOTE_MAX, true)) {
		requests_set_err(err, "The note is too long (at most 500 bytes) or not text.",
				 "备注过长（不超过 500 字节）或含有无效字符。");
		return -EINVAL;
	}
	pthread_mutex_lock(&r->lock);
	ret = store_begin(r->db);
	if (ret < 0) {
		goto out;
	}
	ret = load_number(r, number, out);
	if (ret == 0 && out->state != REQ_OPEN) {
		ret = refuse_state(out, err);
	}
	if (ret == 0) {
		ret = store_prepare(
			r->db,
			"UPDATE walkin_requests SET state = 'forwarded', forwarded_ms = "
			"?2 WHERE id = ?1",
			&st);
	}
	if (ret < 0) {
		goto out;
	}
	sqlite3_bind_int64(st, 1, out->id);
	sqlite3_bind_int64(st, 2, requests_now(r));
	ret = store_step_done(r->db, st, "forwarding a request");
	if (ret == 0) {
		ret = load_number(r, number, out);
	}
	if (ret == 0) {
		/* The note is for the office: it stays on the device. */
		ret = history(r, NULL, out->id, "forwarded", REQ_FORWARDED, by, note);
	}
	if (ret == 0) {
		ret = requests_audit(r->db, who, "request.forward", out->number, NULL);
	}
	if (ret == 0) {
		ret = outbox_request(r, NULL, "request.forwarded", out, NULL, NULL);
	}
out:
	return requests_tx_end(r, ret);
}

static int hand_over(struct requests *r, sqlite3 *db, const char *number, const char *city_ref)
{
	struct request *q = malloc(sizeof(*q));
	sqlite3_stmt *st;
	struct requests_actor city = { "city", "system" };
	int ret;

	if (q == NULL) {
		return -ENOMEM;
	}
	ret = number != NULL && strnlen(number, REQ_NUMBER_MAX) < REQ_NUMBER_MAX
		      ? requests_load(r, db, "WHERE r.number = ?1", number, q)
		      : -ENOENT;
	if (ret == 0 && q->state == REQ_HANDED_OVER) {
		ret = 1;
	} else if (ret == 0 && q->state != REQ_FORWARDED) {
		ret = -EPROTO;
	}
	if (ret == 0) {
		ret = store_prepare(db != NULL ? db : r->db,
				    "UPDATE walkin_requests SET state = 'handed_over', "
				    "handed_over_ms = ?2, city_ref = ?3 WHERE id = ?1",
				    &st);
	}
	if (ret == 0) {
		sqlite3_bind_int64(st, 1, q->id);
		sqlite3_bind_int64(st, 2, requests_now(r));
		sqlite3_bind_text(st, 3, city_ref != NULL ? city_ref : "", -1, SQLITE_TRANSIENT);
		ret = store_step_done(db, st, "handing a request over");
	}
	if (ret == 0 && q->contact_id > 0) {
		ret = pii_contact_mark_closed(db, q->contact_id);
		if (ret == 0) {
			ret = pii_contact_mark_acked(db, q->contact_id);
		}
	}
	if (ret == 0) {
		ret = history(r, db, q->id, "handed_over", REQ_HANDED_OVER, "city", NULL);
	}
	if (ret == 0) {
		ret = requests_audit(db, &city, "request.handed_over", q->number, NULL);
	}
	free(q);
	return ret;
}

int requests_mark_handed_over(struct requests *r, sqlite3 *db, const char *number,
			      const char *city_ref)
{
	int ret;

	if (r == NULL || (city_ref != NULL && !requests_text_ok(city_ref, 63, false))) {
		return -EINVAL;
	}
	if (db != NULL) {
		return hand_over(r, db, number, city_ref);
	}
	pthread_mutex_lock(&r->lock);
	ret = store_begin(r->db);
	if (ret == 0) {
		ret = hand_over(r, r->db, number, city_ref);
		if (ret < 0) {
			store_rollback(r->db);
		} else {
			int c = store_commit(r->db);

			ret = c < 0 ? c : ret;
		}
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

/* ---- reading ---- */

int requests_get(struct requests *r, const char *number, struct request *out)
{
	int ret;

	pthread_mutex_lock(&r->lock);
	ret = load_number(r, number, out);
	pthread_mutex_unlock(&r->lock);
	return ret;
}

int requests_contact(struct requests *r, const struct requests_actor *who, const char *number,
		     enum pii_view view, struct pii_contact *out)
{
	struct request *q = malloc(sizeof(*q));
	int ret;

	memset(out, 0, sizeof(*out));
	if (q == NULL) {
		return -ENOMEM;
	}
	if (view != PII_VIEW_MASKED && view != PII_VIEW_FULL) {
		free(q);
		return -EINVAL;
	}
	pthread_mutex_lock(&r->lock);
	ret = load_number(r, number, q);
	if (ret == 0 && q->contact_id == 0) {
		ret = -ENODATA;
	}
	if (ret == 0) {
		ret = pii_contact_get(r->db, q->contact_id, view, out);
		if (ret == -EBADMSG) {
			ret = 0; /* the readable fields are filled; out->unreadable says which */
		}
	}
	if (ret == 0 && view == PII_VIEW_FULL) {
		ret = requests_audit(r->db, who, "request.contact_view", q->number,
				     "{\"view\":\"full\"}");
		if (ret < 0) {
			pii_contact_clear(out);
		}
	}
	pthread_mutex_unlock(&r->lock);
	free(q);
	return ret;
}

void requests_add_names(cJSON *o, const struct request *q)
{
	cJSON_AddStringToObject(o, "category", order_category_name(q->category));
	cJSON_AddStringToObject(o, "category_zh", order_category_zh(q->category));
	cJSON_AddStringToObject(o, "category_en", request_category_en(q->category));
	cJSON_AddStringToObject(o, "field", request_field_name(q->field));
	cJSON_AddStringToObject(o, "field_zh", request_field_zh(q->field));
	cJSON_AddStringToObject(o, "field_en", request_field_en(q->field));
	cJSON_AddStringToObject(o, "state", request_state_name(q->state));
	cJSON_AddStringToObject(o, "state_zh", request_state_zh(q->state));
	cJSON_AddStringToObject(o, "state_en", request_state_en(q->state));
}

cJSON *requests_to_json(const struct request *q)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL) {
		return NULL;
	}
	cJSON_AddStringToObject(o, "number", q->number);
	cJSON_AddStringToObject(o, "lookup_code", q->lookup_code);
	cJSON_AddStringToObject(o, "day", q->day);
	cJSON_AddStringToObject(o, "channel", q->channel);
	requests_add_names(o, q);
	cJSON_AddStringToObject(o, "content", q->content);
	cJSON_AddStringToObject(o, "location", q->location);
	cJSON_AddBoolToObject(o, "has_contact", q->contact_id > 0);
	cJSON_AddBoolToObject(o, "hide_identity", q->hide_identity);
	cJSON_AddStringToObject(o, "owner", q->state == REQ_HANDED_OVER ? "city" : "office");
	cJSON_AddStringToObject(o, "owner_office", q->owner_office);
	cJSON_AddStringToObject(o, "owner_user", q->owner_user);
	cJSON_AddStringToObject(o, "filed_by", q->filed_by);
	cJSON_AddNumberToObject(o, "filed_ms", (double)q->filed_ms);
	cJSON_AddNumberToObject(o, "closed_ms", (double)q->closed_ms);
	cJSON_AddNumberToObject(o, "forwarded_ms", (double)q->forwarded_ms);
	cJSON_AddNumberToObject(o, "handed_over_ms", (double)q->handed_over_ms);
	cJSON_AddBoolToObject(o, "printed", q->printed);
	cJSON_AddStringToObject(o, "answer", q->answer);
	cJSON_AddStringToObject(o, "closed_by", q->closed_by);
	cJSON_AddStringToObject(o, "city_ref", q->city_ref);
	if (q->repeat_of != 0) {
		cJSON_AddStringToObject(o, "repeat_of", q->repeat_of_number);
		cJSON_AddNumberToObject(o, "similarity", q->similarity);
	} else {
		cJSON_AddNullToObject(o, "repeat_of");
	}
	return o;
}

int requests_list(struct requests *r, const struct request_filter *f, cJSON **out)
{
	char sql[1536], day[11];
	struct request *q = malloc(sizeof(*q));
	sqlite3_stmt *st;
	cJSON *a = cJSON_CreateArray();
	int limit = f != NULL && f->limit > 0 ? f->limit : 50, rc, ret;

	if (q == NULL || a == NULL) {
		free(q);
		cJSON_Delete(a);
		return -ENOMEM;
	}
	if (limit > REQ_LIST_MAX) {
		limit = REQ_LIST_MAX;
	}
	snprintf(sql, sizeof(sql),
		 "%sWHERE (?1 < 0 OR r.state = ?2) AND (?3 = '' OR r.day = ?3) AND (?4 = 0 OR "
		 "r.repeat_of IS NOT NULL) ORDER BY r.filed_ms DESC, r.id DESC LIMIT %d",
		 REQUEST_COLS, limit);
	pthread_mutex_lock(&r->lock);
	requests_today(r, day);
	ret = store_prepare(r->db, sql, &st);
	if (ret == 0) {
		int state = f != NULL ? f->state : -1;

		sqlite3_bind_int(st, 1, state);
		sqlite3_bind_text(st, 2, request_state_name(state), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, f != NULL && f->today ? day : "", -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 4, f != NULL && f->repeat);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			cJSON *e;

			read_request(st, q);
			e = requests_to_json(q);
			if (e == NULL) {
				rc = SQLITE_NOMEM;
				break;
			}
			cJSON_AddItemToArray(a, e);
		}
		ret = rc == SQLITE_DONE ? 0 : store_err(r->db, rc, "listing requests");
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&r->lock);
	free(q);
	if (ret < 0) {
		cJSON_Delete(a);
		return ret;
	}
	*out = a;
	return 0;
}

int requests_history_json(struct requests *r, const char *number, cJSON **out)
{
	struct request *q = malloc(sizeof(*q));
	sqlite3_stmt *st;
	cJSON *a = cJSON_CreateArray();
	int rc, ret;

	if (q == NULL || a == NULL) {
		free(q);
		cJSON_Delete(a);
		return -ENOMEM;
	}
	pthread_mutex_lock(&r->lock);
	ret = load_number(r, number, q);
	if (ret == 0) {
		ret = store_prepare(r->db,
				    "SELECT at_ms, action, state, actor, note FROM "
				    "walkin_request_history WHERE request_id = ?1 ORDER BY id",
				    &st);
	}
	if (ret == 0) {
		sqlite3_bind_int64(st, 1, q->id);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			cJSON *e = cJSON_CreateObject();
			char buf[REQ_NOTE_MAX + 1];

			if (e == NULL) {
				rc = SQLITE_NOMEM;
				break;
			}
			cJSON_AddItemToArray(a, e);
			cJSON_AddNumberToObject(e, "at_ms", (double)sqlite3_column_int64(st, 0));
			store_col_text(st, 1, buf, sizeof(buf));
			cJSON_AddStringToObject(e, "action", buf);
			store_col_text(st, 2, buf, sizeof(buf));
			cJSON_AddStringToObject(e, "state", buf);
			store_col_text(st, 3, buf, sizeof(buf));
			cJSON_AddStringToObject(e, "actor", buf);
			store_col_text(st, 4, buf, sizeof(buf));
			cJSON_AddStringToObject(e, "note", buf);
		}
		ret = rc == SQLITE_DONE ? 0 : store_err(r->db, rc, "reading a history");
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&r->lock);
	free(q);
	if (ret < 0) {
		cJSON_Delete(a);
		return ret;
	}
	*out = a;
	return 0;
}
