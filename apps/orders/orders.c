/*
 * The work-order service's core: names of the enumerations, start-up,
 * storage of one order, and the county's transitions (sign for, assign,
 * draft, sign off, return and extension requests, notices, repeat links,
 * attachments, printed mark).
 *
 * The one decision a reader needs: every transition is the same shape —
 * lock, BEGIN IMMEDIATE, load the row, check the caller and the state with
 * check_action() (the same table orders_allowed_actions() answers the UI
 * from, so the screen never offers what the service refuses), change the
 * row, then orders_write_step() writes the row, the outbox event, the
 * history row (wall and monotonic time), the audit entry and, when the wall
 * clock jumped, a clock-correction record, and COMMIT. Nothing of a refused
 * or failed call stays.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/sha256.h>

#include "fw/audit.h"
#include "fw/backlog.h"
#include "fw/fsutil.h"
#include "fw/log.h"
#include "fw/outbox.h"
#include "fw/pii.h"
#include "fw/rng.h"
#include "fw/store.h"
#include "fw/text.h"
#include "orders_internal.h"

/* ---- names ---- */

static const char *const state_names[ORDER_STATE_N] = {
	"pending", "received",	     "handling", "drafted",  "replied",
	"closed",  "return_pending", "returned", "recalled",
};
static const char *const state_zh[ORDER_STATE_N] = {
	"待签收", "已签收", "办理中", "待审核", "已答复", "办结", "退回申请中", "已退回", "已撤回",
};
static const char *const state_en_words[ORDER_STATE_N] = {
	"waiting to be signed for",
	"signed for",
	"being handled",
	"waiting for sign-off",
	"replied",
	"closed",
	"waiting for the city's return decision",
	"returned",
	"recalled by the city",
};
static const char *const channel_names[ORDER_CH_N] = {
	"phone", "web", "wechat", "app", "sms", "letter", "fax", "walk_in",
};
static const char *const channel_zh[ORDER_CH_N] = {
	"电话", "网站", "微信", "APP", "短信", "信件", "传真", "来访",
};
static const char *const field_names[ORDER_FIELD_N] = {
	"economy", "market", "social", "public_service", "environment",
};
static const char *const field_zh[ORDER_FIELD_N] = {
	"经济调节", "市场监管", "社会管理", "公共服务", "生态环境保护",
};
static const char *const ext_names[] = { "none", "pending", "approved", "rejected" };
static const char *const visit_names[] = { "none", "satisfied", "lawful", "unsatisfied" };
static const char *const action_names[ORDER_ACT_N] = {
	"sign",
	"assign",
	"draft_reply",
	"reject_draft",
	"sign_off",
	"request_return",
	"request_extension",
	"ack_notice",
	"link_repeat",
	"add_attachment",
	"print",
	"ack_conflict",
};
static const char *const action_zh[ORDER_ACT_N] = {
	"签收",	    "交办",	"拟写答复",	"退回草稿", "审核签发", "申请退回",
	"申请延期", "确认督办", "关联重复诉求", "上传附件", "打印",	"确认冲突",
};
static const char *const action_en[ORDER_ACT_N] = {
	"signed for",
	"assigned",
	"given a draft reply",
	"have its draft sent back",
	"signed off",
	"returned",
	"given an extension request",
	"have a notice acknowledged",
	"linked",
	"given an attachment",
	"printed",
	"have a conflict acknowledged",
};

static int parse_name(const char *const *names, int n, const char *s)
{
	if (s == NULL) {
		return -EINVAL;
	}
	for (int i = 0; i < n; i++) {
		if (strcmp(names[i], s) == 0) {
			return i;
		}
	}
	return -EINVAL;
}

const char *order_state_name(enum order_state s)
{
	return (unsigned)s < ORDER_STATE_N ? state_names[s] : "unknown";
}

const char *order_state_zh(enum order_state s)
{
	return (unsigned)s < ORDER_STATE_N ? state_zh[s] : "未知";
}

int order_state_parse(const char *s)
{
	return parse_name(state_names, ORDER_STATE_N, s);
}

const char *order_channel_name(enum order_channel c)
{
	return (unsigned)c < ORDER_CH_N ? channel_names[c] : "unknown";
}

const char *order_channel_zh(enum order_channel c)
{
	return (unsigned)c < ORDER_CH_N ? channel_zh[c] : "未知";
}

int order_channel_parse(const char *s)
{
	return parse_name(channel_names, ORDER_CH_N, s);
}

const char *order_field_name(enum order_field f)
{
	return (unsigned)f < ORDER_FIELD_N ? field_names[f] : "unknown";
}

const char *order_field_zh(enum order_field f)
{
	return (unsigned)f < ORDER_FIELD_N ? field_zh[f] : "未知";
}

int order_field_parse(const char *s)
{
	return parse_name(field_names, ORDER_FIELD_N, s);
}

const char *order_ext_state_name(enum order_ext_state e)
{
	return (unsigned)e < 4 ? ext_names[e] : "unknown";
}

const char *order_visit_name(enum order_visit v)
{
	return (unsigned)v < 4 ? visit_names[v] : "unknown";
}

const char *order_action_name(enum order_action a)
{
	return (unsigned)a < ORDER_ACT_N ? action_names[a] : "unknown";
}

bool order_state_open(enum order_state s)
{
	return s == ORDER_PENDING || s == ORDER_RECEIVED || s == ORDER_HANDLING ||
	       s == ORDER_DRAFTED || s == ORDER_RETURN_PENDING;
}

/* ---- small helpers ---- */

void orders_set_err(struct orders_err *err, const char *en, const char *zh)
{
	if (err != NULL) {
		snprintf(err->en, sizeof(err->en), "%s", en);
		snprintf(err->zh, sizeof(err->zh), "%s", zh);
	}
}

bool orders_text_ok(const char *s, size_t cap, bool required, bool multiline)
{
	return text_ok(s, cap, 0, required, multiline);
}

bool orders_code_ok(const char *s, size_t cap)
{
	size_t n;

	if (s == NULL) {
		return false;
	}
	n = strnlen(s, cap);
	if (n == 0 || n >= cap) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-')) {
			return false;
		}
	}
	return true;
}

bool orders_is_supervisor(const struct orders_actor *who)
{
	return who != NULL && who->role != NULL && strcmp(who->role, "supervisor") == 0;
}

int orders_actor_ok(const struct orders_actor *who, struct orders_err *err)
{
	if (who == NULL || who->user_id == NULL || who->role == NULL ||
	    !orders_text_ok(who->user_id, ORDER_USER_MAX, true, false)) {
		orders_set_err(err, "who acts is not known; log in again",
			       "无法确认操作人，请重新登录");
		return -EPERM;
	}
	if (strcmp(who->role, "staff") != 0 && strcmp(who->role, "supervisor") != 0) {
		orders_set_err(err, "only staff and supervisors handle work orders",
			       "只有工作人员和主管可以办理工单");
		return -EPERM;
	}
	return 0;
}

int64_t orders_now(struct orders *o)
{
	return hal_clock_wall_ms(o->clock);
}

static struct workcal empty_cal; /* weekdays only: when no calendar store is given */
static pthread_once_t empty_once = PTHREAD_ONCE_INIT;

static void empty_init(void)
{
	workcal_init(&empty_cal);
}

const struct workcal *orders_cal_get(struct orders *o)
{
	if (o->cal != NULL) {
		return calstore_acquire(o->cal);
	}
	pthread_once(&empty_once, empty_init);
	return &empty_cal;
}

void orders_cal_put(struct orders *o)
{
	if (o->cal != NULL) {
		calstore_release(o->cal);
	}
}

void orders_bounds(struct orders *o, struct orders_bounds *b)
{
	const struct workcal *c = orders_cal_get(o);
	workcal_day_t today;

	b->now = orders_now(o);
	today = workcal_day_of_ms(b->now, o->utc_offset_min);
	b->end_today = workcal_end_of_day_ms(today, o->utc_offset_min);
	b->soon_end = workcal_end_of_day_ms(workcal_add_working(c, today, o->due_soon_days),
					    o->utc_offset_min);
	orders_cal_put(o);
}

int64_t orders_running_deadline(const struct order *ord)
{
	switch (ord->state) {
	case ORDER_PENDING:
		return ord->sign_due_ms;
	case ORDER_RECEIVED:
	case ORDER_HANDLING:
	case ORDER_DRAFTED:
	case ORDER_RETURN_PENDING:
		return ord->pause_from_ms != 0 ? 0 : ord->due_ms;
	default:
		return 0;
	}
}

static int64_t due_key_of(const struct order *ord)
{
	int64_t d = orders_running_deadline(ord);

	return d > 0 ? d : ORDERS_DUE_NONE_BASE - ord->dispatch_ms;
}

void orders_compute_flags(struct orders *o, const struct orders_bounds *b, struct order *ord)
{
	int64_t d = orders_running_deadline(ord);

	(void)o;
	ord->overdue = ord->due_today = ord->due_soon = false;
	ord->due_flag = DEADLINE_OK;
	if (d <= 0) {
		return;
	}
	if (d < b->now) {
		ord->overdue = true;
		ord->due_flag = DEADLINE_OVERDUE;
	} else if (d <= b->end_today) {
		ord->due_today = true;
		ord->due_flag = DEADLINE_DUE_TODAY;
	} else if (d <= b->soon_end) {
		ord->due_soon = true;
		ord->due_flag = DEADLINE_DUE_SOON;
	}
}

int64_t orders_rule_due(struct orders *o, const struct order *ord, int64_t from_ms)
{
	const struct deadline_rule *r =
		deadline_rule_for(&o->rules, ord->category, ord->urgency, ord->complexity);
	const struct workcal *c = orders_cal_get(o);
	int64_t due = deadline_due_ms(c, from_ms, r != NULL ? r->days : 0, o->rules.count_from,
				      o->utc_offset_min);

	orders_cal_put(o);
	return due;
}

int64_t orders_sign_due(struct orders *o, int64_t dispatch_ms)
{
	const struct workcal *c = orders_cal_get(o);
	int64_t due = deadline_due_ms(c, dispatch_ms, o->rules.sign_for_days, o->rules.count_from,
				      o->utc_offset_min);

	orders_cal_put(o);
	return due;
}

/* ---- one order in storage ---- */

const char orders_cols[] =
	"SELECT o.id, o.number, o.channel, o.category, o.field, o.code, o.title, o.content, "
	"o.location, o.urgency, o.complexity, o.contact_id, o.hide_identity, o.state, "
	"o.dispatch_ms, o.received_ms, o.sign_due_ms, o.due_ms, o.city_due, o.replied_ms, "
	"o.closed_ms, o.ext_state, o.ext_due_ms, o.ext_reason, o.ext_basis, o.return_reason, "
	"o.return_basis, o.pause_from_ms, o.city_reason, o.lead_dept, o.handler, o.reply, "
	"o.drafted_by, o.signed_by, o.visit, o.lookup_code, o.printed, o.printed_ms, "
	"o.repeat_of, o.redo_count, o.version, o.updated_ms, o.urged, o.conflicts, "
	"(o.last_seq > 0 AND EXISTS (SELECT 1 FROM outbox b WHERE b.seq = o.last_seq AND "
	"b.acked_ms IS NULL)) ";

void orders_read_row(sqlite3_stmt *st, struct order *ord)
{
	int i = 0;

	memset(ord, 0, sizeof(*ord));
	ord->id = sqlite3_column_int64(st, i++);
	store_col_text(st, i++, ord->number, sizeof(ord->number));
	ord->channel = (enum order_channel)sqlite3_column_int(st, i++);
	ord->category = (enum order_category)sqlite3_column_int(st, i++);
	ord->field = (enum order_field)sqlite3_column_int(st, i++);
	store_col_text(st, i++, ord->code, sizeof(ord->code));
	store_col_text(st, i++, ord->title, sizeof(ord->title));
	store_col_text(st, i++, ord->content, sizeof(ord->content));
	store_col_text(st, i++, ord->location, sizeof(ord->location));
	ord->urgency = (enum order_urgency)sqlite3_column_int(st, i++);
	ord->complexity = (enum order_complexity)sqlite3_column_int(st, i++);
	ord->contact_id = sqlite3_column_int64(st, i++);
	ord->hide_identity = sqlite3_column_int(st, i++) != 0;
	ord->state = (enum order_state)sqlite3_column_int(st, i++);
	ord->dispatch_ms = sqlite3_column_int64(st, i++);
	ord->received_ms = sqlite3_column_int64(st, i++);
	ord->sign_due_ms = sqlite3_column_int64(st, i++);
	ord->due_ms = sqlite3_column_int64(st, i++);
	ord->city_due = sqlite3_column_int(st, i++) != 0;
	ord->replied_ms = sqlite3_column_int64(st, i++);
	ord->closed_ms = sqlite3_column_int64(st, i++);
	ord->ext_state = (enum order_ext_state)sqlite3_column_int(st, i++);
	ord->ext_due_ms = sqlite3_column_int64(st, i++);
	store_col_text(st, i++, ord->ext_reason, sizeof(ord->ext_reason));
	store_col_text(st, i++, ord->ext_basis, sizeof(ord->ext_basis));
	store_col_text(st, i++, ord->return_reason, sizeof(ord->return_reason));
	store_col_text(st, i++, ord->return_basis, sizeof(ord->return_basis));
	ord->pause_from_ms = sqlite3_column_int64(st, i++);
	store_col_text(st, i++, ord->city_reason, sizeof(ord->city_reason));
	store_col_text(st, i++, ord->lead_dept, sizeof(ord->lead_dept));
	store_col_text(st, i++, ord->handler, sizeof(ord->handler));
	store_col_text(st, i++, ord->reply, sizeof(ord->reply));
	store_col_text(st, i++, ord->drafted_by, sizeof(ord->drafted_by));
	store_col_text(st, i++, ord->signed_by, sizeof(ord->signed_by));
	ord->visit = (enum order_visit)sqlite3_column_int(st, i++);
	store_col_text(st, i++, ord->lookup_code, sizeof(ord->lookup_code));
	ord->printed = sqlite3_column_int(st, i++) != 0;
	ord->printed_ms = sqlite3_column_int64(st, i++);
	store_col_text(st, i++, ord->repeat_of, sizeof(ord->repeat_of));
	ord->redo_count = sqlite3_column_int(st, i++);
	ord->version = sqlite3_column_int64(st, i++);
	ord->updated_ms = sqlite3_column_int64(st, i++);
	ord->urged = sqlite3_column_int(st, i++);
	ord->conflicts = sqlite3_column_int(st, i++);
	ord->sync_pending = sqlite3_column_int(st, i++) != 0;
}

static int load_where(sqlite3 *db, const char *where, int64_t id, const char *number,
		      struct order *ord)
{
	char sql[2048];
	sqlite3_stmt *st;
	int rc, ret;

	snprintf(sql, sizeof(sql), "%s FROM orders o %s", orders_cols, where);
	ret = store_prepare(db, sql, &st);
	if (ret < 0) {
		return ret;
	}
	if (number != NULL) {
		sqlite3_bind_text(st, 1, number, -1, SQLITE_TRANSIENT);
	} else {
		sqlite3_bind_int64(st, 1, id);
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		orders_read_row(st, ord);
		ret = 0;
	} else if (rc == SQLITE_DONE) {
		ret = -ENOENT;
	} else {
		ret = store_err(db, rc, "reading an order");
	}
	sqlite3_finalize(st);
	if (ret == 0) {
		ret = orders_load_co(db, ord);
	}
	return ret;
}

int orders_load(sqlite3 *db, int64_t id, struct order *ord)
{
	return load_where(db, "WHERE o.id = ?1", id, NULL, ord);
}

int orders_load_number(sqlite3 *db, const char *number, struct order *ord)
{
	return load_where(db, "WHERE o.number = ?1", 0, number, ord);
}

int orders_load_co(sqlite3 *db, struct order *ord)
{
	sqlite3_stmt *st;
	int ret, rc;

	ord->nco = 0;
	ret = store_prepare(
		db, "SELECT dept FROM order_departments WHERE order_id = ?1 ORDER BY dept", &st);
	if (ret < 0) {
		return ret;
	}
	sqlite3_bind_int64(st, 1, ord->id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && ord->nco < ORDER_MAX_CO) {
		store_col_text(st, 0, ord->co_depts[ord->nco], ORDER_DEPT_MAX);
		ord->nco++;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : store_err(db, rc, "reading co-handlers");
}

int orders_save_co(sqlite3 *db, const struct order *ord)
{
	sqlite3_stmt *st;
	int ret;

	ret = store_prepare(db, "DELETE FROM order_departments WHERE order_id = ?1", &st);
	if (ret < 0) {
		return ret;
	}
	sqlite3_bind_int64(st, 1, ord->id);
	ret = store_step_done(db, st, "clearing co-handlers");
	for (int i = 0; ret == 0 && i < ord->nco; i++) {
		ret = store_prepare(
			db, "INSERT INTO order_departments (order_id, dept) VALUES (?1, ?2)", &st);
		if (ret < 0) {
			break;
		}
		sqlite3_bind_int64(st, 1, ord->id);
		sqlite3_bind_text(st, 2, ord->co_depts[i], -1, SQLITE_TRANSIENT);
		ret = store_step_done(db, st, "storing a co-handler");
	}
	return ret;
}

/* Bind every stored column of the row, ?1 .. ?41 (see the statements below). */
static void bind_row(sqlite3_stmt *st, const struct order *ord)
{
	int i = 1;

	sqlite3_bind_text(st, i++, ord->number, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, i++, ord->channel);
	sqlite3_bind_int(st, i++, ord->category);
	sqlite3_bind_int(st, i++, ord->field);
	sqlite3_bind_text(st, i++, ord->code, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, i++, ord->title, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, i++, ord->content, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, i++, ord->location, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, i++, ord->urgency);
	sqlite3_bind_int(st, i++, ord->complexity);
	if (ord->contact_id > 0) {
		sqlite3_bind_int64(st, i++, ord->contact_id);
	} else {
		sqlite3_bind_null(st, i++);
	}
	sqlite3_bind_int(st, i++, ord->hide_identity);
	sqlite3_bind_int(st, i++, ord->state);
	sqlite3_bind_int64(st, i++, ord->dispatch_ms);
	sqlite3_bind_int64(st, i++, ord->received_ms);
	sqlite3_bind_int64(st, i++, ord->sign_due_ms);
	sqlite3_bind_int64(st, i++, ord->due_ms);
	sqlite3_bind_int(st, i++, ord->city_due);
	sqlite3_bind_int64(st, i++, ord->replied_ms);
	sqlite3_bind_int64(st, i++, ord->closed_ms);
	sqlite3_bind_int(st, i++, ord->ext_state);
	sqlite3_bind_int64(st, i++, ord->ext_due_ms);
	sqlite3_bind_text(st, i++, ord->ext_reason, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, i++, ord->ext_basis, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, i++, ord->return_reason, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, i++, ord->return_basis, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, i++, ord->pause_from_ms);
	sqlite3_bind_text(st, i++, ord->city_reason, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, i++, ord->lead_dept, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, i++, ord->handler, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, i++, ord->reply, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, i++, ord->drafted_by, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, i++, ord->signed_by, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, i++, ord->visit);
	sqlite3_bind_text(st, i++, ord->lookup_code, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, i++, ord->printed);
	sqlite3_bind_int64(st, i++, ord->printed_ms);
	sqlite3_bind_text(st, i++, ord->repeat_of, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, i++, ord->redo_count);
	sqlite3_bind_int64(st, i++, ord->updated_ms);
	sqlite3_bind_int64(st, i++, due_key_of(ord));
	sqlite3_bind_int(st, i++, ord->urged);
	sqlite3_bind_int(st, i++, ord->conflicts);
}

#define ROW_COLUMNS                                                                               \
	"number, channel, category, field, code, title, content, location, urgency, complexity, " \
	"contact_id, hide_identity, state, dispatch_ms, received_ms, sign_due_ms, due_ms, "       \
	"city_due, replied_ms, closed_ms, ext_state, ext_due_ms, ext_reason, ext_basis, "         \
	"return_reason, return_basis, pause_from_ms, city_reason, lead_dept, handler, reply, "    \
	"drafted_by, signed_by, visit, lookup_code, printed, printed_ms, repeat_of, redo_count, " \
	"updated_ms, due_key, urged, conflicts"

int orders_insert(struct orders *o, sqlite3 *db, struct order *ord)
{
	sqlite3_stmt *st;
	int ret = -EEXIST;

	ord->updated_ms = orders_now(o);
	for (int tries = 0; tries < 4 && ret == -EEXIST; tries++) {
		ret = rng_code(ord->lookup_code, ORDER_LOOKUP_LEN);
		if (ret < 0) {
			return ret;
		}
		ret = store_prepare(
			db,
			"INSERT INTO orders (" ROW_COLUMNS
			") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
			"?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, "
			"?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34, ?35, ?36, ?37, ?38, ?39, "
			"?40, ?41, ?42, ?43)",
			&st);
		if (ret < 0) {
			return ret;
		}
		bind_row(st, ord);
		ret = store_step_done(db, st, "storing a new order");
		if (ret == -EEXIST) {
			/* the number is checked by the caller; a clash is the lookup code */
			sqlite3_stmt *chk;

			if (store_prepare(db, "SELECT 1 FROM orders WHERE number = ?1", &chk) ==
			    0) {
				sqlite3_bind_text(chk, 1, ord->number, -1, SQLITE_TRANSIENT);
				if (sqlite3_step(chk) == SQLITE_ROW) {
					sqlite3_finalize(chk);
					return -EEXIST;
				}
				sqlite3_finalize(chk);
			}
		}
	}
	if (ret == 0) {
		ord->id = sqlite3_last_insert_rowid(db);
		ord->version = 1;
		ret = orders_save_co(db, ord);
	}
	return ret;
}

static int save_row(struct orders *o, sqlite3 *db, struct order *ord, int64_t seq)
{
	sqlite3_stmt *st;
	int ret;

	ord->updated_ms = orders_now(o);
	ret = store_prepare(
		db,
		"UPDATE orders SET (" ROW_COLUMNS
		") = (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
		"?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, "
		"?30, ?31, ?32, ?33, ?34, ?35, ?36, ?37, ?38, ?39, ?40, ?41, ?42, ?43), "
		"version = version + 1, last_seq = CASE WHEN ?44 > 0 THEN ?44 ELSE "
		"last_seq END WHERE id = ?45",
		&st);
	if (ret < 0) {
		return ret;
	}
	bind_row(st, ord);
	sqlite3_bind_int64(st, 44, seq);
	sqlite3_bind_int64(st, 45, ord->id);
	ret = store_step_done(db, st, "storing an order");
	if (ret == 0) {
		ord->version++;
	}
	return ret;
}

int orders_clock_check(struct orders *o, sqlite3 *db, const char *seen_by)
{
	int64_t wall = hal_clock_wall_ms(o->clock);
	int64_t mono = hal_clock_mono_ms(o->clock);
	int64_t off = wall - mono;
	int64_t shift;
	sqlite3_stmt *st;
	char detail[256];
	int ret;

	if (!o->have_offset) {
		o->have_offset = true;
		o->last_offset_ms = off;
		return 0;
	}
	shift = off - o->last_offset_ms;
	if (shift <= ORDERS_CLOCK_JUMP_MS && shift >= -ORDERS_CLOCK_JUMP_MS) {
		return 0;
	}
	ret = store_prepare(db,
			    "INSERT INTO clock_corrections (at_ms, mono_ms, old_offset_ms, "
			    "new_offset_ms, shift_ms, seen_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
			    &st);
	if (ret < 0) {
		return ret;
	}
	sqlite3_bind_int64(st, 1, wall);
	sqlite3_bind_int64(st, 2, mono);
	sqlite3_bind_int64(st, 3, o->last_offset_ms);
	sqlite3_bind_int64(st, 4, off);
	sqlite3_bind_int64(st, 5, shift);
	sqlite3_bind_text(st, 6, seen_by != NULL ? seen_by : "", -1, SQLITE_TRANSIENT);
	ret = store_step_done(db, st, "recording a clock correction");
	if (ret < 0) {
		return ret;
	}
	snprintf(detail, sizeof(detail),
		 "{\"old_offset_ms\":%" PRId64 ",\"new_offset_ms\":%" PRId64
		 ",\"shift_ms\":%" PRId64 ",\"mono_ms\":%" PRId64 "}",
		 o->last_offset_ms, off, shift, mono);
	ret = audit_append(db, &(struct audit_entry){ .actor = "system",
						      .role = "system",
						      .action = "clock.correction",
						      .target = "",
						      .outcome = "ok",
						      .detail = detail });
	if (ret < 0) {
		return ret;
	}
	log_warn(MOD, "the wall clock moved by %" PRId64 " s against the monotonic clock; recorded",
		 shift / 1000);
	o->last_offset_ms = off;
	return 0;
}

int orders_add_conflict(struct orders *o, sqlite3 *db, struct order *ord, const char *item_id,
			const char *kind, const char *detail)
{
	sqlite3_stmt *st;
	int ret;

	ret = store_prepare(db,
			    "INSERT INTO order_conflicts (order_id, item_id, kind, detail, at_ms) "
			    "VALUES (?1, ?2, ?3, ?4, ?5)",
			    &st);
	if (ret < 0) {
		return ret;
	}
	sqlite3_bind_int64(st, 1, ord->id);
	sqlite3_bind_text(st, 2, item_id != NULL ? item_id : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, kind, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, detail, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, orders_now(o));
	ret = store_step_done(db, st, "recording a conflict");
	if (ret == 0) {
		ord->conflicts++;
	}
	return ret;
}

static const char *audit_role(const struct orders_actor *who)
{
	if (who->role != NULL &&
	    (strcmp(who->role, "staff") == 0 || strcmp(who->role, "supervisor") == 0 ||
	     strcmp(who->role, "technician") == 0 || strcmp(who->role, "citizen") == 0)) {
		return who->role;
	}
	return "system";
}

int orders_write_step(struct orders *o, sqlite3 *db, struct order *ord, const struct orders_step *s)
{
	cJSON *payload = s->payload;
	int64_t seq = 0;
	sqlite3_stmt *st;
	char *json = NULL;
	int ret = 0;

	if (s->event != NULL) {
		if (payload == NULL) {
			payload = cJSON_CreateObject();
		}
		if (payload == NULL) {
			return -ENOMEM;
		}
		cJSON_AddStringToObject(payload, "number", ord->number);
		cJSON_AddStringToObject(payload, "state", order_state_name(ord->state));
		cJSON_AddStringToObject(payload, "from_state", order_state_name(s->from));
		cJSON_AddNumberToObject(payload, "at_ms", (double)orders_now(o));
		cJSON_AddStringToObject(payload, "by", s->who->user_id);
		json = cJSON_PrintUnformatted(payload);
		cJSON_Delete(payload);
		payload = NULL;
		if (json == NULL) {
			return -ENOMEM;
		}
		ret = outbox_append(db, s->event, json, &seq);
		cJSON_free(json);
		if (ret < 0) {
			return ret;
		}
	} else {
		cJSON_Delete(payload);
	}
	ret = save_row(o, db, ord, seq);
	if (ret < 0) {
		return ret;
	}
	ret = store_prepare(
		db,
		"INSERT INTO order_history (order_id, at_ms, mono_ms, actor, role, action, "
		"from_state, to_state, public, note, outbox_seq) VALUES (?1, ?2, ?3, ?4, "
		"?5, ?6, ?7, ?8, ?9, ?10, ?11)",
		&st);
	if (ret < 0) {
		return ret;
	}
	sqlite3_bind_int64(st, 1, ord->id);
	sqlite3_bind_int64(st, 2, hal_clock_wall_ms(o->clock));
	sqlite3_bind_int64(st, 3, hal_clock_mono_ms(o->clock));
	sqlite3_bind_text(st, 4, s->who->user_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, s->who->role, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, s->action, -1, SQLITE_STATIC);
	if ((int)s->from < 0) {
		sqlite3_bind_null(st, 7);
	} else {
		sqlite3_bind_int(st, 7, s->from);
	}
	sqlite3_bind_int(st, 8, ord->state);
	sqlite3_bind_int(st, 9, s->is_public);
	sqlite3_bind_text(st, 10, s->note != NULL ? s->note : "", -1, SQLITE_TRANSIENT);
	if (seq > 0) {
		sqlite3_bind_int64(st, 11, seq);
	} else {
		sqlite3_bind_null(st, 11);
	}
	ret = store_step_done(db, st, "storing an order's history");
	if (ret < 0) {
		return ret;
	}
	ret = audit_append(db, &(struct audit_entry){ .actor = s->who->user_id,
						      .role = audit_role(s->who),
						      .action = s->action,
						      .target = ord->number,
						      .outcome = "ok",
						      .detail = s->audit_detail });
	if (ret < 0) {
		return ret;
	}
	return orders_clock_check(o, db, s->who->user_id);
}

/* ---- the rules of who may do what, when ---- */

static bool rule_allows_extension(struct orders *o, const struct order *ord)
{
	const struct deadline_rule *r =
		deadline_rule_for(&o->rules, ord->category, ord->urgency, ord->complexity);

	return r != NULL && r->extension_max > 0;
}

/*
 * Whether who may take act on ord now. Fills err (-EPERM role, -EPROTO
 * state). The one table both the transitions and the UI's list of actions
 * use.
 */
static int check_action(struct orders *o, const struct order *ord, const struct orders_actor *who,
			enum order_action act, int64_t now, struct orders_err *err)
{
	enum order_state s = ord->state;
	bool ok;

	if (orders_actor_ok(who, err) < 0) {
		return -EPERM;
	}
	if ((act == ORDER_ACT_SIGN_OFF || act == ORDER_ACT_REJECT_DRAFT ||
	     act == ORDER_ACT_ACK_NOTICE || act == ORDER_ACT_ACK_CONFLICT) &&
	    !orders_is_supervisor(who)) {
		orders_set_err(err, "only a supervisor (head of unit) may do this",
			       "只有主管（单位负责人）可以执行此操作");
		return -EPERM;
	}
	switch (act) {
	case ORDER_ACT_SIGN:
		ok = s == ORDER_PENDING;
		if (!ok && (s == ORDER_RECEIVED || s == ORDER_HANDLING || s == ORDER_DRAFTED ||
			    s == ORDER_REPLIED || s == ORDER_CLOSED || s == ORDER_RETURN_PENDING)) {
			orders_set_err(err, "this order is already signed for", "该工单已签收");
			return -EPROTO;
		}
		break;
	case ORDER_ACT_ASSIGN:
	case ORDER_ACT_REQUEST_RETURN:
		ok = s == ORDER_RECEIVED || s == ORDER_HANDLING;
		break;
	case ORDER_ACT_DRAFT_REPLY:
		ok = s == ORDER_HANDLING || s == ORDER_DRAFTED;
		break;
	case ORDER_ACT_REJECT_DRAFT:
	case ORDER_ACT_SIGN_OFF:
		ok = s == ORDER_DRAFTED;
		break;
	case ORDER_ACT_REQUEST_EXTENSION:
		ok = s == ORDER_RECEIVED || s == ORDER_HANDLING || s == ORDER_DRAFTED;
		if (ok && ord->ext_state == ORDER_EXT_PENDING) {
			orders_set_err(err, "an extension request is already waiting for the city",
				       "已有延期申请等待市级审核");
			return -EPROTO;
		}
		if (ok && ord->due_ms > 0 && now > ord->due_ms) {
			orders_set_err(
				err,
				"the deadline has passed; an extension must be asked before it",
				"办理时限已过，延期须在时限届满前申请");
			return -EPROTO;
		}
		if (ok && !rule_allows_extension(o, ord)) {
			orders_set_err(err, "the deadline rules allow no extension for this order",
				       "按时限规则，该工单不能申请延期");
			return -EPROTO;
		}
		break;
	case ORDER_ACT_ACK_NOTICE:
		ok = ord->urged > 0;
		if (!ok) {
			orders_set_err(err, "this order has no urging notice to acknowledge",
				       "该工单没有待确认的督办单");
			return -EPROTO;
		}
		break;
	case ORDER_ACT_ACK_CONFLICT:
		ok = ord->conflicts > 0;
		if (!ok) {
			orders_set_err(err, "this order has no conflict to acknowledge",
				       "该工单没有待确认的冲突");
			return -EPROTO;
		}
		break;
	case ORDER_ACT_LINK_REPEAT:
		ok = s != ORDER_RETURNED && s != ORDER_RECALLED;
		break;
	case ORDER_ACT_ADD_ATTACHMENT:
		ok = order_state_open(s) || s == ORDER_REPLIED;
		break;
	case ORDER_ACT_PRINT:
		ok = true;
		break;
	default:
		orders_set_err(err, "unknown action", "未知操作");
		return -EINVAL;
	}
	if (!ok) {
		char en[ORDER_REASON_MAX], zh[ORDER_REASON_MAX];

		snprintf(en, sizeof(en), "the order is %s; it cannot be %s now", state_en_words[s],
			 action_en[act]);
		snprintf(zh, sizeof(zh), "该工单当前为「%s」，不能%s", state_zh[s], action_zh[act]);
		orders_set_err(err, en, zh);
		return -EPROTO;
	}
	return 0;
}

/* ---- the transaction skeleton ---- */

struct tx {
	struct orders *o;
	struct order *ord;
	enum order_state from;
	int64_t now;
};

/* Lock, begin, load the order and check the action. On error nothing is held. */
static int tx_begin(struct orders *o, const struct orders_actor *who, int64_t id,
		    enum order_action act, struct tx *t, struct orders_err *err)
{
	int ret;

	if (o == NULL) {
		return -EINVAL;
	}
	ret = orders_actor_ok(who, err);
	if (ret < 0) {
		return ret;
	}
	t->o = o;
	t->ord = malloc(sizeof(*t->ord));
	if (t->ord == NULL) {
		return -ENOMEM;
	}
	pthread_mutex_lock(&o->lock);
	ret = store_begin(o->db);
	if (ret < 0) {
		goto out_unlock;
	}
	ret = orders_load(o->db, id, t->ord);
	if (ret == -ENOENT) {
		orders_set_err(err, "no such work order", "没有这张工单");
	}
	if (ret < 0) {
		goto out_rollback;
	}
	t->from = t->ord->state;
	t->now = orders_now(o);
	ret = check_action(o, t->ord, who, act, t->now, err);
	if (ret < 0) {
		goto out_rollback;
	}
	return 0;

out_rollback:
	store_rollback(o->db);
out_unlock:
	pthread_mutex_unlock(&o->lock);
	free(t->ord);
	t->ord = NULL;
	return ret;
}

/* Commit when ret is 0, else roll back; unlock, free. @retval the result */
static int tx_end(struct tx *t, int ret, struct orders_err *err)
{
	if (ret == 0) {
		ret = store_commit(t->o->db);
	} else {
		store_rollback(t->o->db);
	}
	pthread_mutex_unlock(&t->o->lock);
	if (ret < 0 && ret != -EPROTO && ret != -EPERM && ret != -EINVAL && ret != -ENOENT &&
	    ret != -EFBIG) {
		orders_set_err(err, "the change could not be stored; try again",
			       "保存失败，请重试");
	}
	free(t->ord);
	t->ord = NULL;
	return ret;
}

static int bad_input(struct orders_err *err, const char *en, const char *zh)
{
	orders_set_err(err, en, zh);
	return -EINVAL;
}

/* ---- transitions ---- */

int orders_sign(struct orders *o, const struct orders_actor *who, int64_t id,
		struct orders_err *err)
{
	struct tx t;
	cJSON *p;
	int ret = tx_begin(o, who, id, ORDER_ACT_SIGN, &t, err);

	if (ret < 0) {
		return ret;
	}
	t.ord->state = ORDER_RECEIVED;
	t.ord->received_ms = t.now;
	if (!t.ord->city_due || t.ord->due_ms <= 0) {
		t.ord->city_due = false;
		t.ord->due_ms = orders_rule_due(o, t.ord, t.now);
	}
	p = cJSON_CreateObject();
	cJSON_AddNumberToObject(p, "received_ms", (double)t.ord->received_ms);
	cJSON_AddNumberToObject(p, "due_ms", (double)t.ord->due_ms);
	ret = orders_write_step(o, o->db, t.ord,
				&(struct orders_step){ .who = who,
						       .action = "order.sign",
						       .from = t.from,
						       .is_public = true,
						       .event = "order.received",
						       .payload = p });
	return tx_end(&t, ret, err);
}

bool orders_dept_active(sqlite3 *db, const char *code)
{
	sqlite3_stmt *st;
	bool found = false;

	if (store_prepare(db, "SELECT 1 FROM departments WHERE code = ?1 AND active = 1", &st) <
	    0) {
		return false;
	}
	sqlite3_bind_text(st, 1, code, -1, SQLITE_TRANSIENT);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

int orders_assign(struct orders *o, const struct orders_actor *who, int64_t id,
		  const struct order_assign *a, struct orders_err *err)
{
	struct tx t;
	cJSON *p, *co;
	int ret;

	if (a == NULL || !orders_code_ok(a->lead_dept, ORDER_DEPT_MAX)) {
		return bad_input(err, "choose the lead department (主办)", "请选择主办单位");
	}
	if (a->nco < 0 || a->nco > ORDER_MAX_CO) {
		return bad_input(err, "too many co-handling departments (at most 8)",
				 "协办单位过多（最多8个）");
	}
	for (int i = 0; i < a->nco; i++) {
		if (!orders_code_ok(a->co_depts[i], ORDER_DEPT_MAX)) {
			return bad_input(err, "a co-handling department is not valid",
					 "协办单位无效");
		}
		if (strcmp(a->co_depts[i], a->lead_dept) == 0) {
			return bad_input(err, "the lead department cannot also be a co-handler",
					 "主办单位不能同时为协办单位");
		}
		for (int j = 0; j < i; j++) {
			if (strcmp(a->co_depts[i], a->co_depts[j]) == 0) {
				return bad_input(err, "a co-handling department is listed twice",
						 "协办单位重复");
			}
		}
	}
	if (a->complexity < -1 || a->complexity >= ORDER_CPX_N) {
		return bad_input(err, "the complexity is not valid", "复杂程度无效");
	}
	if (a->handler != NULL && a->handler[0] != '\0' &&
	    !orders_text_ok(a->handler, ORDER_USER_MAX, true, false)) {
		return bad_input(err, "the handler is not valid", "承办人无效");
	}
	if (!orders_text_ok(a->note, ORDER_TEXT_MAX, false, true)) {
		return bad_input(err, "the note is too long or holds invalid characters",
				 "备注过长或含有无效字符");
	}
	ret = tx_begin(o, who, id, ORDER_ACT_ASSIGN, &t, err);
	if (ret < 0) {
		return ret;
	}
	if (!orders_dept_active(o->db, a->lead_dept)) {
		ret = bad_input(err, "the lead department is not in the department list",
				"主办单位不在单位列表中");
		return tx_end(&t, ret, err);
	}
	for (int i = 0; i < a->nco; i++) {
		if (!orders_dept_active(o->db, a->co_depts[i])) {
			ret = bad_input(err,
					"a co-handling department is not in the department list",
					"协办单位不在单位列表中");
			return tx_end(&t, ret, err);
		}
	}
	t.ord->state = ORDER_HANDLING;
	snprintf(t.ord->lead_dept, sizeof(t.ord->lead_dept), "%s", a->lead_dept);
	t.ord->nco = a->nco;
	for (int i = 0; i < a->nco; i++) {
		snprintf(t.ord->co_depts[i], ORDER_DEPT_MAX, "%s", a->co_depts[i]);
	}
	snprintf(t.ord->handler, sizeof(t.ord->handler), "%s",
		 a->handler != NULL && a->handler[0] != '\0' ? a->handler : who->user_id);
	if (a->complexity >= 0 && (enum order_complexity)a->complexity != t.ord->complexity) {
		t.ord->complexity = (enum order_complexity)a->complexity;
		if (!t.ord->city_due && t.ord->ext_state != ORDER_EXT_APPROVED) {
			t.ord->due_ms = orders_rule_due(o, t.ord, t.ord->received_ms);
		}
	}
	ret = orders_save_co(o->db, t.ord);
	if (ret < 0) {
		return tx_end(&t, ret, err);
	}
	p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "lead_dept", t.ord->lead_dept);
	co = cJSON_AddArrayToObject(p, "co_depts");
	for (int i = 0; i < t.ord->nco; i++) {
		cJSON_AddItemToArray(co, cJSON_CreateString(t.ord->co_depts[i]));
	}
	cJSON_AddStringToObject(p, "handler", t.ord->handler);
	cJSON_AddStringToObject(p, "complexity", order_complexity_name(t.ord->complexity));
	cJSON_AddNumberToObject(p, "due_ms", (double)t.ord->due_ms);
	ret = orders_write_step(o, o->db, t.ord,
				&(struct orders_step){ .who = who,
						       .action = "order.assign",
						       .from = t.from,
						       .is_public = t.from != ORDER_HANDLING,
						       .note = a->note,
						       .event = "order.assigned",
						       .payload = p });
	return tx_end(&t, ret, err);
}

int orders_draft_reply(struct orders *o, const struct orders_actor *who, int64_t id,
		       const char *reply, struct orders_err *err)
{
	struct tx t;
	cJSON *p;
	int ret;

	if (!orders_text_ok(reply, ORDER_TEXT_MAX, true, true)) {
		return bad_input(err, "write the reply (at most 4095 bytes, no control characters)",
				 "请填写答复内容（不超过4095字节，不含控制字符）");
	}
	ret = tx_begin(o, who, id, ORDER_ACT_DRAFT_REPLY, &t, err);
	if (ret < 0) {
		return ret;
	}
	t.ord->state = ORDER_DRAFTED;
	snprintf(t.ord->reply, sizeof(t.ord->reply), "%s", reply);
	snprintf(t.ord->drafted_by, sizeof(t.ord->drafted_by), "%s", who->user_id);
	p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "drafted_by", who->user_id);
	ret = orders_write_step(o, o->db, t.ord,
				&(struct orders_step){ .who = who,
						       .action = "order.draft_reply",
						       .from = t.from,
						       .event = "order.drafted",
						       .payload = p });
	return tx_end(&t, ret, err);
}

int orders_reject_draft(struct orders *o, const struct orders_actor *who, int64_t id,
			const char *comment, struct orders_err *err)
{
	struct tx t;
	cJSON *p;
	int ret;

	if (!orders_text_ok(comment, ORDER_TEXT_MAX, true, true)) {
		return bad_input(err, "say what must change in the draft",
				 "请说明草稿需要修改之处");
	}
	ret = tx_begin(o, who, id, ORDER_ACT_REJECT_DRAFT, &t, err);
	if (ret < 0) {
		return ret;
	}
	t.ord->state = ORDER_HANDLING;
	p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "comment", comment);
	ret = orders_write_step(o, o->db, t.ord,
				&(struct orders_step){ .who = who,
						       .action = "order.reject_draft",
						       .from = t.from,
						       .note = comment,
						       .event = "order.draft_rejected",
						       .payload = p });
	return tx_end(&t, ret, err);
}

int orders_sign_off(struct orders *o, const struct orders_actor *who, int64_t id,
		    struct orders_err *err)
{
	struct tx t;
	cJSON *p;
	int ret = tx_begin(o, who, id, ORDER_ACT_SIGN_OFF, &t, err);

	if (ret < 0) {
		return ret;
	}
	t.ord->state = ORDER_REPLIED;
	t.ord->replied_ms = t.now;
	snprintf(t.ord->signed_by, sizeof(t.ord->signed_by), "%s", who->user_id);
	p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "reply", t.ord->reply);
	cJSON_AddStringToObject(p, "drafted_by", t.ord->drafted_by);
	cJSON_AddStringToObject(p, "signed_by", who->user_id);
	cJSON_AddNumberToObject(p, "replied_ms", (double)t.now);
	cJSON_AddNumberToObject(p, "due_ms", (double)t.ord->due_ms);
	cJSON_AddBoolToObject(p, "on_time", t.ord->due_ms <= 0 || t.now <= t.ord->due_ms);
	ret = orders_write_step(o, o->db, t.ord,
				&(struct orders_step){ .who = who,
						       .action = "order.sign_off",
						       .from = t.from,
						       .is_public = true,
						       .event = "order.replied",
						       .payload = p });
	return tx_end(&t, ret, err);
}

static const struct deadline_rule *rule_of(struct orders *o, const struct order *ord)
{
	return deadline_rule_for(&o->rules, ord->category, ord->urgency, ord->complexity);
}

int orders_request_return(struct orders *o, const struct orders_actor *who, int64_t id,
			  const char *reason, const char *basis, struct orders_err *err)
{
	const struct deadline_rule *r;
	struct tx t;
	cJSON *p;
	int ret;

	if (!orders_text_ok(reason, ORDER_TEXT_MAX, true, true)) {
		return bad_input(err, "give the reason for the return", "请填写退回理由");
	}
	if (!orders_text_ok(basis, ORDER_TEXT_MAX, true, true)) {
		return bad_input(err, "give the legal basis for the return (政策/法规依据)",
				 "请填写退回的政策法规依据");
	}
	ret = tx_begin(o, who, id, ORDER_ACT_REQUEST_RETURN, &t, err);
	if (ret < 0) {
		return ret;
	}
	t.ord->state = ORDER_RETURN_PENDING;
	snprintf(t.ord->return_reason, sizeof(t.ord->return_reason), "%s", reason);
	snprintf(t.ord->return_basis, sizeof(t.ord->return_basis), "%s", basis);
	r = rule_of(o, t.ord);
	if (r != NULL && r->pause_return && t.ord->pause_from_ms == 0) {
		t.ord->pause_from_ms = t.now;
	}
	p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "reason", reason);
	cJSON_AddStringToObject(p, "basis", basis);
	ret = orders_write_step(o, o->db, t.ord,
				&(struct orders_step){ .who = who,
						       .action = "order.request_return",
						       .from = t.from,
						       .is_public = true,
						       .note = reason,
						       .event = "order.return_requested",
						       .payload = p });
	return tx_end(&t, ret, err);
}

int orders_request_extension(struct orders *o, const struct orders_actor *who, int64_t id,
			     const char *new_due_date, const char *reason, const char *basis,
			     struct orders_err *err)
{
	const struct deadline_rule *r;
	const struct workcal *c;
	workcal_day_t day, cur_day, max_day;
	struct tx t;
	cJSON *p;
	char date[11];
	int ret;

	if (new_due_date == NULL || workcal_parse_date(new_due_date, &day) < 0) {
		return bad_input(err, "give the new due day as YYYY-MM-DD",
				 "请按YYYY-MM-DD填写申请的新时限");
	}
	if (!orders_text_ok(reason, ORDER_TEXT_MAX, true, true)) {
		return bad_input(err, "give the reason for the extension", "请填写延期理由");
	}
	if (!orders_text_ok(basis, ORDER_TEXT_MAX, true, true)) {
		return bad_input(err, "give the basis for the extension", "请填写延期依据");
	}
	ret = tx_begin(o, who, id, ORDER_ACT_REQUEST_EXTENSION, &t, err);
	if (ret < 0) {
		return ret;
	}
	r = rule_of(o, t.ord);
	cur_day = workcal_day_of_ms(t.ord->due_ms, o->utc_offset_min);
	c = orders_cal_get(o);
	max_day = deadline_due_day(c, workcal_day_of_ms(t.ord->received_ms, o->utc_offset_min),
				   r != NULL ? r->extension_max : 0, o->rules.count_from);
	orders_cal_put(o);
	if (day <= cur_day) {
		ret = bad_input(err, "the new due day must be after the current one",
				"申请的新时限须晚于当前时限");
		return tx_end(&t, ret, err);
	}
	if (day > max_day) {
		char en[ORDER_REASON_MAX], zh[ORDER_REASON_MAX];

		workcal_format_date(max_day, date);
		snprintf(en, sizeof(en), "the rules allow an extension up to %s at most", date);
		snprintf(zh, sizeof(zh), "按规定最多只能延期至%s", date);
		orders_set_err(err, en, zh);
		return tx_end(&t, -EINVAL, err);
	}
	t.ord->ext_state = ORDER_EXT_PENDING;
	t.ord->ext_due_ms = workcal_end_of_day_ms(day, o->utc_offset_min);
	snprintf(t.ord->ext_reason, sizeof(t.ord->ext_reason), "%s", reason);
	snprintf(t.ord->ext_basis, sizeof(t.ord->ext_basis), "%s", basis);
	if (r != NULL && r->pause_extension && t.ord->pause_from_ms == 0) {
		t.ord->pause_from_ms = t.now;
	}
	workcal_format_date(day, date);
	p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "due_date", date);
	cJSON_AddNumberToObject(p, "due_ms", (double)t.ord->ext_due_ms);
	cJSON_AddStringToObject(p, "reason", reason);
	cJSON_AddStringToObject(p, "basis", basis);
	ret = orders_write_step(o, o->db, t.ord,
				&(struct orders_step){ .who = who,
						       .action = "order.request_extension",
						       .from = t.from,
						       .note = reason,
						       .event = "order.extension_requested",
						       .payload = p });
	return tx_end(&t, ret, err);
}

static int ack_row(struct orders *o, const char *table, int64_t order_id, int64_t row_id,
		   const char *user, int *changed)
{
	char sql[256];
	sqlite3_stmt *st;
	int ret;

	snprintf(sql, sizeof(sql),
		 "UPDATE %s SET acked_ms = ?1, acked_by = ?2 WHERE id = ?3 AND order_id = ?4 "
		 "AND acked_ms = 0",
		 table);
	ret = store_prepare(o->db, sql, &st);
	if (ret < 0) {
		return ret;
	}
	sqlite3_bind_int64(st, 1, orders_now(o));
	sqlite3_bind_text(st, 2, user, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, row_id);
	sqlite3_bind_int64(st, 4, order_id);
	ret = store_step_done(o->db, st, "acknowledging");
	*changed = sqlite3_changes(o->db);
	return ret;
}

int orders_ack_notice(struct orders *o, const struct orders_actor *who, int64_t id,
		      int64_t notice_id, struct orders_err *err)
{
	struct tx t;
	cJSON *p;
	int changed = 0;
	int ret = tx_begin(o, who, id, ORDER_ACT_ACK_NOTICE, &t, err);

	if (ret < 0) {
		return ret;
	}
	ret = ack_row(o, "order_notices", id, notice_id, who->user_id, &changed);
	if (ret == 0 && changed == 0) {
		orders_set_err(err, "no such unacknowledged notice on this order",
			       "该工单没有这张待确认的督办单");
		ret = -ENOENT;
	}
	if (ret < 0) {
		return tx_end(&t, ret, err);
	}
	t.ord->urged--;
	p = cJSON_CreateObject();
	cJSON_AddNumberToObject(p, "notice_id", (double)notice_id);
	ret = orders_write_step(o, o->db, t.ord,
				&(struct orders_step){ .who = who,
						       .action = "order.ack_notice",
						       .from = t.from,
						       .event = "order.notice_acked",
						       .payload = p });
	return tx_end(&t, ret, err);
}

int orders_ack_conflict(struct orders *o, const struct orders_actor *who, int64_t id,
			int64_t conflict_id, struct orders_err *err)
{
	struct tx t;
	int changed = 0;
	int ret = tx_begin(o, who, id, ORDER_ACT_ACK_CONFLICT, &t, err);

	if (ret < 0) {
		return ret;
	}
	ret = ack_row(o, "order_conflicts", id, conflict_id, who->user_id, &changed);
	if (ret == 0 && changed == 0) {
		orders_set_err(err, "no such open conflict on this order",
			       "该工单没有这条待确认的冲突");
		ret = -ENOENT;
	}
	if (ret < 0) {
		return tx_end(&t, ret, err);
	}
	t.ord->conflicts--;
	ret = orders_write_step(o, o->db, t.ord,
				&(struct orders_step){ .who = who,
						       .action = "order.ack_conflict",
						       .from = t.from });
	return tx_end(&t, ret, err);
}

static bool number_ok(const char *s)
{
	return orders_code_ok(s, ORDER_NO_MAX);
}

int orders_link_repeat(struct orders *o, const struct orders_actor *who, int64_t id,
		       const char *earlier_number, const char *note, struct orders_err *err)
{
	struct order *earlier;
	sqlite3_stmt *st;
	struct tx t;
	cJSON *p;
	int ret;

	if (!number_ok(earlier_number)) {
		return bad_input(err, "give the earlier order's number", "请填写此前工单的编号");
	}
	if (!orders_text_ok(note, ORDER_TEXT_MAX, false, true)) {
		return bad_input(err, "the note is too long or holds invalid characters",
				 "备注过长或含有无效字符");
	}
	ret = tx_begin(o, who, id, ORDER_ACT_LINK_REPEAT, &t, err);
	if (ret < 0) {
		return ret;
	}
	if (strcmp(earlier_number, t.ord->number) == 0) {
		ret = bad_input(err, "an order cannot repeat itself", "工单不能关联自身");
		return tx_end(&t, ret, err);
	}
	earlier = malloc(sizeof(*earlier));
	if (earlier == NULL) {
		return tx_end(&t, -ENOMEM, err);
	}
	ret = orders_load_number(o->db, earlier_number, earlier);
	free(earlier);
	if (ret == -ENOENT) {
		ret = bad_input(err, "no order with that number is on this device",
				"本机没有该编号的工单");
	}
	if (ret < 0) {
		return tx_end(&t, ret, err);
	}
	ret = store_prepare(
		o->db,
		"INSERT INTO order_links (order_id, other_number, kind, note, at_ms, by_user) "
		"VALUES (?1, ?2, 'repeat', ?3, ?4, ?5)",
		&st);
	if (ret == 0) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_text(st, 2, earlier_number, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 3, note != NULL ? note : "", -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 4, t.now);
		sqlite3_bind_text(st, 5, who->user_id, -1, SQLITE_TRANSIENT);
		ret = store_step_done(o->db, st, "storing a repeat link");
	}
	if (ret == -EEXIST) {
		orders_set_err(err, "the orders are already linked", "两张工单已关联");
		ret = -EPROTO;
	}
	if (ret < 0) {
		return tx_end(&t, ret, err);
	}
	if (t.ord->repeat_of[0] == '\0') {
		snprintf(t.ord->repeat_of, sizeof(t.ord->repeat_of), "%s", earlier_number);
	}
	p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "repeat_of", earlier_number);
	ret = orders_write_step(o, o->db, t.ord,
				&(struct orders_step){ .who = who,
						       .action = "order.link_repeat",
						       .from = t.from,
						       .note = note,
						       .event = "order.repeat_linked",
						       .payload = p });
	return tx_end(&t, ret, err);
}

int orders_mark_printed(struct orders *o, const struct orders_actor *who, int64_t id,
			struct orders_err *err)
{
	struct tx t;
	int ret = tx_begin(o, who, id, ORDER_ACT_PRINT, &t, err);

	if (ret < 0) {
		return ret;
	}
	t.ord->printed = true;
	t.ord->printed_ms = t.now;
	ret = orders_write_step(
		o, o->db, t.ord,
		&(struct orders_step){ .who = who, .action = "order.print", .from = t.from });
	return tx_end(&t, ret, err);
}

/* ---- attachments ---- */

static const char *magic_type(const uint8_t *d, size_t len)
{
	static const uint8_t png[8] = { 0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a };

	if (len >= 3 && d[0] == 0xff && d[1] == 0xd8 && d[2] == 0xff) {
		return "image/jpeg";
	}
	if (len >= 8 && memcmp(d, png, 8) == 0) {
		return "image/png";
	}
	if (len >= 5 && memcmp(d, "%PDF-", 5) == 0) {
		return "application/pdf";
	}
	return NULL;
}

static void sha256_hex(const void *data, size_t len, char out[65])
{
	uint8_t h[32];

	mbedtls_sha256_ret(data, len, h, 0);
	for (int i = 0; i < 32; i++) {
		snprintf(out + 2 * i, 3, "%02x", h[i]);
	}
}

static int attach_path(struct orders *o, const char *hex, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s/attachments/%s", o->data_dir, hex != NULL ? hex : "");

	return n > 0 && (size_t)n < cap ? 0 : -ENAMETOOLONG;
}

static int count_sha(sqlite3 *db, const char *hex)
{
	sqlite3_stmt *st;
	int n = -EIO;

	if (store_prepare(db, "SELECT count(*) FROM order_attachments WHERE sha256 = ?1", &st) <
	    0) {
		return -EIO;
	}
	sqlite3_bind_text(st, 1, hex, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		n = sqlite3_column_int(st, 0);
	}
	sqlite3_finalize(st);
	return n;
}

int orders_add_attachment(struct orders *o, const struct orders_actor *who, int64_t id,
			  const char *name, const char *mime, const void *data, size_t len,
			  int64_t *att_id, struct orders_err *err)
{
	char hex[65], path[1200];
	const char *found;
	sqlite3_stmt *st;
	bool wrote = false;
	struct tx t;
	cJSON *p;
	int ret;

	if (!orders_text_ok(name, 129, true, false) || strchr(name, '/') != NULL) {
		return bad_input(err, "give the file a name (at most 128 bytes, no '/')",
				 "请填写文件名（不超过128字节，不含“/”）");
	}
	if (mime == NULL || (strcmp(mime, "image/jpeg") != 0 && strcmp(mime, "image/png") != 0 &&
			     strcmp(mime, "application/pdf") != 0)) {
		return bad_input(err, "only JPEG, PNG and PDF files can be attached",
				 "只能上传JPEG、PNG或PDF文件");
	}
	if (data == NULL || len == 0) {
		return bad_input(err, "the file is empty", "文件为空");
	}
	if (len > (size_t)o->attachment_max_kb * 1024) {
		char en[ORDER_REASON_MAX], zh[ORDER_REASON_MAX];

		snprintf(en, sizeof(en),
			 "the file is larger than %d KB; scan it at a lower resolution",
			 o->attachment_max_kb);
		snprintf(zh, sizeof(zh), "文件超过%d KB，请降低扫描分辨率后重试",
			 o->attachment_max_kb);
		orders_set_err(err, en, zh);
		return -EFBIG;
	}
	found = magic_type(data, len);
	if (found == NULL || strcmp(found, mime) != 0) {
		return bad_input(err, "the file's content does not match its type",
				 "文件内容与声明的类型不符");
	}
	if (backlog_refuses_extra()) {
		orders_set_err(err, BACKLOG_REFUSED_EN, BACKLOG_REFUSED_ZH);
		return -ENOSPC; /* storage critical: room is kept for essential records */
	}
	sha256_hex(data, len, hex);
	ret = tx_begin(o, who, id, ORDER_ACT_ADD_ATTACHMENT, &t, err);
	if (ret < 0) {
		return ret;
	}
	ret = attach_path(o, hex, path, sizeof(path));
	if (ret == 0) {
		char dir[1100];

		snprintf(dir, sizeof(dir), "%s/attachments", o->data_dir);
		if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
			ret = -errno;
		}
	}
	if (ret == 0) {
		/* Durable on disk before the row that names it commits; the same
		 * content stored twice is one file. */
		ret = fs_write_atomic(path, data, len, 0600, FS_NOREPLACE);
		if (ret == 0) {
			wrote = true;
		} else if (ret == -EEXIST) {
			ret = 0;
		}
	}
	if (ret < 0) {
		log_err(MOD, "cannot store an attachment of order %s: %s", t.ord->number,
			strerror(-ret));
		orders_set_err(err, "the file could not be stored; check the storage space",
			       "文件无法保存，请检查存储空间");
		tx_end(&t, ret, NULL);
		return ret;
	}
	ret = store_prepare(
		o->db,
		"INSERT INTO order_attachments (order_id, name, mime, size, sha256, at_ms, "
		"by_user) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
		&st);
	if (ret == 0) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 3, mime, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)len);
		sqlite3_bind_text(st, 5, hex, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 6, t.now);
		sqlite3_bind_text(st, 7, who->user_id, -1, SQLITE_TRANSIENT);
		ret = store_step_done(o->db, st, "storing an attachment");
	}
	if (ret == 0 && att_id != NULL) {
		*att_id = sqlite3_last_insert_rowid(o->db);
	}
	if (ret == 0) {
		p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "name", name);
		cJSON_AddStringToObject(p, "mime", mime);
		cJSON_AddNumberToObject(p, "size", (double)len);
		cJSON_AddStringToObject(p, "sha256", hex);
		ret = orders_write_step(o, o->db, t.ord,
					&(struct orders_step){ .who = who,
							       .action = "order.add_attachment",
							       .from = t.from,
							       .note = name,
							       .event = "order.attachment_added",
							       .payload = p });
	}
	if (ret < 0) {
		store_rollback(o->db);
		if (wrote && count_sha(o->db, hex) == 0) {
			unlink(path);
		}
	}
	return tx_end(&t, ret, err);
}

int orders_get_attachment(struct orders *o, int64_t id, int64_t att_id, void **data, size_t *len,
			  char mime[ORDER_MIME_MAX])
{
	char hex[65], got[65], path[1200];
	sqlite3_stmt *st;
	int64_t size = -1;
	FILE *f;
	void *buf;
	int ret;

	*data = NULL;
	*len = 0;
	pthread_mutex_lock(&o->lock);
	ret = store_prepare(o->db,
			    "SELECT mime, size, sha256 FROM order_attachments WHERE id = ?1 AND "
			    "order_id = ?2",
			    &st);
	if (ret == 0) {
		sqlite3_bind_int64(st, 1, att_id);
		sqlite3_bind_int64(st, 2, id);
		if (sqlite3_step(st) == SQLITE_ROW) {
			store_col_text(st, 0, mime, ORDER_MIME_MAX);
			size = sqlite3_column_int64(st, 1);
			store_col_text(st, 2, hex, sizeof(hex));
		} else {
			ret = -ENOENT;
		}
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&o->lock);
	if (ret < 0) {
		return ret;
	}
	if (size <= 0 || attach_path(o, hex, path, sizeof(path)) < 0) {
		return -EIO;
	}
	buf = malloc((size_t)size);
	if (buf == NULL) {
		return -ENOMEM;
	}
	f = fopen(path, "rb");
	if (f == NULL) {
		free(buf);
		log_err(MOD, "attachment %s of order %" PRId64 " is missing from the disk", hex,
			id);
		return -ENOENT;
	}
	if (fread(buf, 1, (size_t)size, f) != (size_t)size || fgetc(f) != EOF) {
		ret = -EIO;
	}
	fclose(f);
	if (ret == 0) {
		sha256_hex(buf, (size_t)size, got);
		if (strcmp(got, hex) != 0) {
			log_err(MOD, "attachment %s of order %" PRId64 " was altered on disk", hex,
				id);
			ret = -EIO;
		}
	}
	if (ret < 0) {
		free(buf);
		return ret;
	}
	*data = buf;
	*len = (size_t)size;
	return 0;
}

/* Remove files under DATA_DIR/attachments that no row names (left by a
 * crash between the file and the commit), and temporary files. */
static void attachments_sweep(struct orders *o)
{
	char dir[1100], path[1400];
	struct dirent *de;
	DIR *d;
	int removed = 0;

	snprintf(dir, sizeof(dir), "%s/attachments", o->data_dir);
	d = opendir(dir);
	if (d == NULL) {
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) {
			continue;
		}
		if (strlen(de->d_name) == 64 && count_sha(o->db, de->d_name) != 0) {
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path) == 0) {
			removed++;
		}
	}
	closedir(d);
	if (removed > 0) {
		log_info(MOD, "removed %d attachment file(s) no order refers to", removed);
	}
}

/* ---- allowed actions ---- */

int orders_allowed_actions(struct orders *o, const struct orders_actor *who, int64_t id,
			   unsigned *mask)
{
	struct order *ord = malloc(sizeof(*ord));
	int64_t now = orders_now(o);
	int ret;

	*mask = 0;
	if (ord == NULL) {
		return -ENOMEM;
	}
	pthread_mutex_lock(&o->lock);
	ret = orders_load(o->db, id, ord);
	pthread_mutex_unlock(&o->lock);
	if (ret == 0) {
		for (int a = 0; a < ORDER_ACT_N; a++) {
			struct orders_err e;

			if (check_action(o, ord, who, (enum order_action)a, now, &e) == 0) {
				*mask |= 1u << a;
			}
		}
	}
	free(ord);
	return ret;
}

/* ---- start and stop ---- */

int orders_create(const struct orders_params *p, struct orders **out)
{
	struct orders *o;
	int ret;

	if (p == NULL || p->data_dir == NULL || p->rules == NULL || out == NULL ||
	    p->rules->nrules <= 0 || p->due_soon_days < 0 || p->due_soon_days > 30 ||
	    p->attachment_max_kb <= 0 || p->utc_offset_min < -14 * 60 ||
	    p->utc_offset_min > 14 * 60) {
		return -EINVAL;
	}
	o = calloc(1, sizeof(*o));
	if (o == NULL) {
		return -ENOMEM;
	}
	pthread_mutex_init(&o->lock, NULL);
	pthread_mutex_init(&o->print_lock, NULL);
	o->clock = p->clock != NULL ? p->clock : &hal_clock_system;
	o->printer = p->printer;
	o->cal = p->cal;
	o->rules = *p->rules;
	o->utc_offset_min = p->utc_offset_min;
	o->due_soon_days = p->due_soon_days;
	o->attachment_max_kb = p->attachment_max_kb;
	o->paper_columns = p->paper_columns > 0 ? p->paper_columns : 32;
	snprintf(o->data_dir, sizeof(o->data_dir), "%s", p->data_dir);
	snprintf(o->office_name, sizeof(o->office_name), "%s",
		 p->office_name != NULL ? p->office_name : "");
	ret = store_open(p->data_dir, &o->db);
	if (ret < 0) {
		goto out_free;
	}
	ret = orders_seed_defaults(o);
	if (ret < 0) {
		goto out_close;
	}
	attachments_sweep(o);
	o->have_offset = true;
	o->last_offset_ms = hal_clock_wall_ms(o->clock) - hal_clock_mono_ms(o->clock);
	*out = o;
	return 0;

out_close:
	store_close(o->db);
out_free:
	pthread_mutex_destroy(&o->lock);
	pthread_mutex_destroy(&o->print_lock);
	free(o);
	return ret;
}

void orders_destroy(struct orders *o)
{
	if (o == NULL) {
		return;
	}
	store_close(o->db);
	pthread_mutex_destroy(&o->lock);
	pthread_mutex_destroy(&o->print_lock);
	free(o);
}
