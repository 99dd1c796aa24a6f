/*
 * What a citizen can do with a lookup code (docs/requests.md): see the
 * state and public timeline of a walk-in request, a work order or a queue
 * ticket; rate (好差评) a served ticket, an answered request or a replied
 * order, once each; and what staff do for a citizen who comes about an
 * existing matter: queue them to the window handling it.
 *
 * The one rule: a lookup code is a bearer token anyone may type, so what
 * it shows is the public view only: states, times and the office's steps,
 * never a name, a phone, the content or an answer (any of which may hold
 * personal data). Orders and tickets are asked through their own services
 * (orders_public_lookup, queue_ticket_find) with no lock of ours held.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw/log.h"
#include "fw/outbox.h"
#include "fw/rng.h"
#include "fw/store.h"
#include "orders/orders.h"
#include "queue/queue.h"
#include "requests_internal.h"

/* A queue ticket number of today: a capital letter and 1-3 digits. */
static bool ticket_number_shape(const char *s)
{
	size_t n = s != NULL ? strnlen(s, 5) : 0;

	if (n < 2 || n > 4 || s[0] < 'A' || s[0] > 'Z') {
		return false;
	}
	for (size_t i = 1; i < n; i++) {
		if (s[i] < '0' || s[i] > '9') {
			return false;
		}
	}
	return true;
}

/* Whether a target was rated. @retval 1 yes, 0 no, <0 storage (lock held) */
static int rated(struct requests *r, const char *kind, const char *ref)
{
	sqlite3_stmt *st;
	int rc, ret = store_prepare(
			r->db, "SELECT 1 FROM ratings WHERE target_kind = ?1 AND target_ref = ?2",
			&st);

	if (ret < 0) {
		return ret;
	}
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ref, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	ret = rc == SQLITE_ROW	  ? 1
	      : rc == SQLITE_DONE ? 0
				  : store_err(r->db, rc, "reading ratings");
	sqlite3_finalize(st);
	return ret;
}

static int rated_locked(struct requests *r, const char *kind, const char *ref)
{
	int ret;

	pthread_mutex_lock(&r->lock);
	ret = rated(r, kind, ref);
	pthread_mutex_unlock(&r->lock);
	return ret;
}

static void step(cJSON *tl, int64_t at, const char *name, const char *zh, const char *en)
{
	cJSON *e = cJSON_CreateObject();

	if (e == NULL || at <= 0) {
		cJSON_Delete(e);
		return;
	}
	cJSON_AddNumberToObject(e, "at_ms", (double)at);
	cJSON_AddStringToObject(e, "step", name);
	cJSON_AddStringToObject(e, "zh", zh);
	cJSON_AddStringToObject(e, "en", en);
	cJSON_AddItemToArray(tl, e);
}

static const struct {
	const char *action, *zh, *en;
} steps[] = {
	{ "filed", "已受理，由本受理点负责办理", "Received; this office is handling it" },
	{ "answered", "已当场答复，办结", "Answered on the spot; closed" },
	{ "forwarded", "已转报市12345热线", "Forwarded to the city 12345 hotline" },
	{ "handed_over", "市12345热线已接收，由市热线办理",
	  "The city 12345 hotline took it over and handles it now" },
};

/* The public view of a request (lock held). */
static int request_public(struct requests *r, const struct request *q, cJSON **out)
{
	cJSON *o = cJSON_CreateObject(), *tl;
	sqlite3_stmt *st;
	int rc, ret, done;

	if (o == NULL) {
		return -ENOMEM;
	}
	cJSON_AddStringToObject(o, "kind", "request");
	cJSON_AddStringToObject(o, "kind_zh", "来访诉求");
	cJSON_AddStringToObject(o, "kind_en", "Walk-in request");
	cJSON_AddStringToObject(o, "number", q->number);
	requests_add_names(o, q);
	cJSON_AddStringToObject(o, "office", q->owner_office);
	cJSON_AddNumberToObject(o, "filed_ms", (double)q->filed_ms);
	tl = cJSON_AddArrayToObject(o, "timeline");
	ret = store_prepare(r->db,
			    "SELECT at_ms, action FROM walkin_request_history WHERE request_id = "
			    "?1 ORDER BY id",
			    &st);
	if (ret == 0) {
		sqlite3_bind_int64(st, 1, q->id);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			const char *a = (const char *)sqlite3_column_text(st, 1);

			for (size_t i = 0; a != NULL && i < sizeof(steps) / sizeof(steps[0]); i++) {
				if (strcmp(a, steps[i].action) == 0) {
					step(tl, sqlite3_column_int64(st, 0), a, steps[i].zh,
					     steps[i].en);
				}
			}
		}
		ret = rc == SQLITE_DONE ? 0 : store_err(r->db, rc, "reading a timeline");
		sqlite3_finalize(st);
	}
	done = ret == 0 ? rated(r, "request", q->number) : ret;
	if (done < 0) {
		cJSON_Delete(o);
		return done;
	}
	cJSON_AddBoolToObject(o, "rated", done == 1);
	cJSON_AddBoolToObject(o, "can_rate", done == 0 && q->state == REQ_ANSWERED);
	*out = o;
	return 0;
}

static const struct {
	const char *state, *zh, *en;
} ticket_states[] = {
	{ "printing", "正在出票", "Being printed" },
	{ "waiting", "等候叫号", "Waiting to be called" },
	{ "called", "已叫号，请到窗口", "Called: please go to the window" },
	{ "serving", "正在办理", "Being served" },
	{ "done", "已办结", "Served" },
	{ "no_show", "叫号未到", "Called but not present" },
	{ "held", "暂缓办理", "On hold" },
	{ "void", "未出票，作废", "Not issued (void)" },
	{ "expired", "已过期", "Expired" },
};

static int ticket_public(struct requests *r, const struct queue_ticket *t, bool today, cJSON **out)
{
	cJSON *o = cJSON_CreateObject(), *tl;
	const char *zh = t->state, *en = t->state;
	int done;

	if (o == NULL) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < sizeof(ticket_states) / sizeof(ticket_states[0]); i++) {
		if (strcmp(t->state, ticket_states[i].state) == 0) {
			zh = ticket_states[i].zh;
			en = ticket_states[i].en;
		}
	}
	cJSON_AddStringToObject(o, "kind", "ticket");
	cJSON_AddStringToObject(o, "kind_zh", "排队号");
	cJSON_AddStringToObject(o, "kind_en", "Queue ticket");
	cJSON_AddStringToObject(o, "number", t->number);
	cJSON_AddStringToObject(o, "day", t->day);
	cJSON_AddStringToObject(o, "service_zh", t->service_zh);
	cJSON_AddStringToObject(o, "service_en", t->service_en);
	cJSON_AddStringToObject(o, "state", t->state);
	cJSON_AddStringToObject(o, "state_zh", zh);
	cJSON_AddStringToObject(o, "state_en", en);
	cJSON_AddNumberToObject(o, "window_no", t->window_no);
	tl = cJSON_AddArrayToObject(o, "timeline");
	step(tl, t->issued_ms, "issued", "已取号", "Ticket taken");
	step(tl, t->called_ms, "called", "已叫号", "Called");
	step(tl, t->started_ms, "started", "开始办理", "Service started");
	step(tl, t->finished_ms, "finished", strcmp(t->state, "done") == 0 ? "办理完毕" : "结束",
	     strcmp(t->state, "done") == 0 ? "Served" : "Ended");
	done = rated_locked(r, "ticket", t->lookup_code);
	if (done < 0) {
		cJSON_Delete(o);
		return done;
	}
	cJSON_AddBoolToObject(o, "rated", done == 1);
	cJSON_AddBoolToObject(o, "can_rate", done == 0 && today && strcmp(t->state, "done") == 0);
	*out = o;
	return 0;
}

/* An order's state by the number its public view names. @retval state, -ENOENT, <0 */
static int order_state_of(struct requests *r, const cJSON *pub, char number[ORDER_NO_MAX])
{
	const char *no = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(pub, "number"));
	struct order *ord;
	int ret;

	if (no == NULL || strnlen(no, ORDER_NO_MAX) >= ORDER_NO_MAX) {
		return -ENOENT;
	}
	ord = malloc(sizeof(*ord));
	if (ord == NULL) {
		return -ENOMEM;
	}
	ret = orders_find(r->orders, no, ord);
	if (ret == 0) {
		ret = (int)ord->state;
		snprintf(number, ORDER_NO_MAX, "%s", ord->number);
	}
	free(ord);
	return ret;
}

int requests_public_lookup(struct requests *r, const char *code_in, cJSON **out)
{
	char code[REQ_LOOKUP_LEN + 1];
	struct request *q;
	int ret = rng_code_parse(code_in, REQ_LOOKUP_LEN, code);

	if (ret < 0) {
		return ret;
	}
	q = malloc(sizeof(*q));
	if (q == NULL) {
		return -ENOMEM;
	}
	pthread_mutex_lock(&r->lock);
	ret = requests_load(r, NULL, "WHERE r.lookup_code = ?1", code, q);
	if (ret == 0) {
		ret = request_public(r, q, out);
	}
	pthread_mutex_unlock(&r->lock);
	free(q);
	if (ret != -ENOENT) {
		return ret;
	}
	if (r->orders != NULL) {
		cJSON *o = NULL;

		ret = orders_public_lookup(r->orders, code, &o);
		if (ret == 0) {
			char number[ORDER_NO_MAX];
			int st = order_state_of(r, o, number);
			int done = st >= 0 ? rated_locked(r, "order", number) : 0;

			cJSON_DeleteItemFromObjectCaseSensitive(o, "kind");
			cJSON_AddStringToObject(o, "kind", "order");
			cJSON_AddStringToObject(o, "kind_zh", "工单");
			cJSON_AddStringToObject(o, "kind_en", "Work order");
			cJSON_DeleteItemFromObjectCaseSensitive(o, "rated");
			cJSON_DeleteItemFromObjectCaseSensitive(o, "can_rate");
			cJSON_AddBoolToObject(o, "rated", done == 1);
			cJSON_AddBoolToObject(o, "can_rate",
					      done == 0 &&
						      (st == ORDER_REPLIED || st == ORDER_CLOSED));
			*out = o;
			return 0;
		}
		if (ret != -ENOENT) {
			return ret;
		}
	}
	if (r->queue != NULL) {
		struct queue_ticket t, tt;

		ret = queue_ticket_find(r->queue, code, false, &t);
		if (ret == 0) {
			bool today = queue_ticket_find(r->queue, code, true, &tt) == 0;

			return ticket_public(r, &t, today, out);
		}
		if (ret != -ENOENT) {
			return ret;
		}
	}
	return -ENOENT;
}

/* ---- ratings ---- */

struct target {
	const char *kind;
	char ref[40];
	char number[ORDER_NO_MAX];
	char day[11];
	int window_no, service_id;
};

static int not_ratable(struct requests_err *err, const char *en, const char *zh)
{
	requests_set_err(err, en, zh);
	return -EPROTO;
}

static int find_ticket(struct requests *r, const char *key, struct target *t,
		       struct requests_err *err)
{
	struct queue_ticket qt, today;
	int ret;

	if (r->queue == NULL) {
		return -ENOENT;
	}
	ret = queue_ticket_find(r->queue, key, false, &qt);
	if (ret < 0) {
		return ret == -EINVAL ? -ENOENT : ret;
	}
	if (strcmp(qt.state, "done") != 0) {
		return not_ratable(err,
				   "This ticket has not been served yet; rate it after service.",
				   "该号尚未办理完毕，请在办理后评价。");
	}
	if (queue_ticket_find(r->queue, key, true, &today) != 0) {
		return not_ratable(err, "A ticket can be rated only on the day it was served.",
				   "排队号只能在办理当天评价。");
	}
	t->kind = "ticket";
	snprintf(t->ref, sizeof(t->ref), "%s", qt.lookup_code);
	snprintf(t->number, sizeof(t->number), "%s", qt.number);
	snprintf(t->day, sizeof(t->day), "%s", qt.day);
	t->window_no = qt.window_no;
	t->service_id = qt.service_id;
	return 0;
}

static int find_request(struct requests *r, const char *code, struct target *t,
			struct requests_err *err)
{
	struct request *q = malloc(sizeof(*q));
	int ret;

	if (q == NULL) {
		return -ENOMEM;
	}
	pthread_mutex_lock(&r->lock);
	ret = requests_load(r, NULL, "WHERE r.lookup_code = ?1", code, q);
	pthread_mutex_unlock(&r->lock);
	if (ret == 0 && q->state != REQ_ANSWERED) {
		ret = not_ratable(err,
				  "This request can be rated once it has been answered. The city "
				  "hotline asks for your rating on requests it handles.",
				  "诉求答复后才能评价。由市热线办理的诉求，由市热线回访评价。");
	}
	if (ret == 0) {
		t->kind = "request";
		snprintf(t->ref, sizeof(t->ref), "%s", q->number);
		snprintf(t->number, sizeof(t->number), "%s", q->number);
		snprintf(t->day, sizeof(t->day), "%s", q->day);
	}
	free(q);
	return ret;
}

static int find_order(struct requests *r, const char *code, struct target *t,
		      struct requests_err *err)
{
	cJSON *o = NULL;
	int ret, st;

	if (r->orders == NULL) {
		return -ENOENT;
	}
	ret = orders_public_lookup(r->orders, code, &o);
	if (ret < 0) {
		return ret;
	}
	st = order_state_of(r, o, t->number);
	cJSON_Delete(o);
	if (st < 0) {
		return st;
	}
	if (st != ORDER_REPLIED && st != ORDER_CLOSED) {
		return not_ratable(err, "This order can be rated once it has been replied to.",
				   "工单答复后才能评价。");
	}
	t->kind = "order";
	snprintf(t->ref, sizeof(t->ref), "%s", t->number);
	return 0;
}

static int store_rating(struct requests *r, const struct target *t, const struct rating_input *in,
			struct rating *out)
{
	struct requests_actor citizen = { NULL, "citizen" };
	const char *comment = in->comment != NULL ? in->comment : "";
	char day[11], target[64];
	sqlite3_stmt *st;
	cJSON *o = NULL;
	char *json = NULL;
	int ret;

	pthread_mutex_lock(&r->lock);
	ret = store_begin(r->db);
	if (ret < 0) {
		goto out;
	}
	memset(out, 0, sizeof(*out));
	out->rated_ms = requests_now(r);
	requests_local_day(out->rated_ms, r->utc_offset_min, day);
	ret = rated(r, t->kind, t->ref);
	if (ret != 0) {
		ret = ret > 0 ? -EEXIST : ret; /* once per target (the unique key says so too) */
		goto out;
	}
	ret = store_prepare(r->db,
			    "INSERT INTO ratings (target_kind, target_ref, grade, comment, day, "
			    "rated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
			    &st);
	if (ret < 0) {
		goto out;
	}
	sqlite3_bind_text(st, 1, t->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, t->ref, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 3, in->grade);
	sqlite3_bind_text(st, 4, comment, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, day, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 6, out->rated_ms);
	ret = sqlite3_step(st);
	sqlite3_finalize(st);
	if (ret != SQLITE_DONE) {
		/* A second rating of the same target is -EEXIST: the unique key. */
		ret = store_err(r->db, ret, "storing a rating");
		goto out;
	}
	out->id = sqlite3_last_insert_rowid(r->db);
	snprintf(out->target, sizeof(out->target), "%s", t->kind);
	snprintf(out->ref, sizeof(out->ref), "%s", t->ref);
	out->grade = in->grade;
	/* Tickets are named by day and number upward: their lookup code stays here. */
	snprintf(target, sizeof(target), "%s %s%s%s", t->kind, t->day[0] ? t->day : "",
		 t->day[0] ? " " : "", t->number);
	ret = requests_audit(r->db, &citizen, "rating.submit", target, NULL);
	if (ret < 0) {
		goto out;
	}
	o = cJSON_CreateObject();
	if (o != NULL) {
		cJSON_AddStringToObject(o, "target", t->kind);
		cJSON_AddStringToObject(o, "number", t->number);
		if (strcmp(t->kind, "ticket") == 0) {
			cJSON_AddStringToObject(o, "day", t->day);
			cJSON_AddNumberToObject(o, "window_no", t->window_no);
			cJSON_AddNumberToObject(o, "service_id", t->service_id);
		}
		cJSON_AddNumberToObject(o, "grade", in->grade);
		cJSON_AddStringToObject(o, "grade_zh", rating_grade_zh(in->grade));
		cJSON_AddStringToObject(o, "comment", comment);
		cJSON_AddStringToObject(o, "office", r->office_name);
		cJSON_AddNumberToObject(o, "rated_ms", (double)out->rated_ms);
		json = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
	}
	ret = json != NULL ? outbox_append(r->db, "rating.submitted", json, NULL) : -ENOMEM;
	free(json);
out:
	return requests_tx_end(r, ret);
}

int requests_rate(struct requests *r, const struct rating_input *in, struct rating *out,
		  struct requests_err *err)
{
	struct target t;
	char code[REQ_LOOKUP_LEN + 1];
	const char *kind = in != NULL ? in->target : NULL;
	int ret;

	if (in == NULL || out == NULL) {
		return -EINVAL;
	}
	if (in->grade < 1 || in->grade > 5) {
		requests_set_err(
			err, "Choose a grade from 5 (very satisfied) to 1 (very dissatisfied).",
			"请选择评价：5 非常满意、4 满意、3 基本满意、2 不满意、1 非常不满意。");
		return -EINVAL;
	}
	if (in->comment != NULL && !requests_text_ok(in->comment, RATING_COMMENT_MAX, true)) {
		requests_set_err(err, "The comment is too long (at most 300 bytes) or not text.",
				 "评价意见过长（不超过 300 字节）或含有无效字符。");
		return -EINVAL;
	}
	if (kind != NULL && strcmp(kind, "ticket") != 0 && strcmp(kind, "request") != 0 &&
	    strcmp(kind, "order") != 0) {
		requests_set_err(err, "\"target\" must be \"ticket\", \"request\" or \"order\".",
				 "target 须为 ticket、request 或 order。");
		return -EINVAL;
	}
	memset(&t, 0, sizeof(t));
	if (ticket_number_shape(in->code) && (kind == NULL || strcmp(kind, "ticket") == 0)) {
		ret = find_ticket(r, in->code, &t, err);
	} else if (rng_code_parse(in->code, REQ_LOOKUP_LEN, code) < 0) {
		requests_set_err(err,
				 "Enter the 8-character lookup code from your receipt or ticket "
				 "(or a ticket number such as A012).",
				 "请输入回执或号票上的 8 位查询码（或 A012 这样的排队号）。");
		return -EINVAL;
	} else {
		ret = -ENOENT;
		if (kind == NULL || strcmp(kind, "request") == 0) {
			ret = find_request(r, code, &t, err);
		}
		if (ret == -ENOENT && (kind == NULL || strcmp(kind, "order") == 0)) {
			ret = find_order(r, code, &t, err);
		}
		if (ret == -ENOENT && (kind == NULL || strcmp(kind, "ticket") == 0)) {
			ret = find_ticket(r, code, &t, err);
		}
	}
	if (ret < 0) {
		return ret;
	}
	return store_rating(r, &t, in, out);
}

static bool date_ok(const char *s)
{
	if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-') {
		return false;
	}
	for (int i = 0; i < 10; i++) {
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) {
			return false;
		}
	}
	return strncmp(s + 5, "01", 2) >= 0 && strncmp(s + 5, "12", 2) <= 0 &&
	       strncmp(s + 8, "01", 2) >= 0 && strncmp(s + 8, "31", 2) <= 0;
}

int requests_rating_summary(struct requests *r, const char *from, const char *to,
			    struct rating_summary *out)
{
	static const char *const kinds[3] = { "ticket", "request", "order" };
	sqlite3_stmt *st;
	int rc, ret;

	memset(out, 0, sizeof(*out));
	if ((from != NULL && from[0] != '\0' && !date_ok(from)) ||
	    (to != NULL && to[0] != '\0' && !date_ok(to))) {
		return -EINVAL;
	}
	snprintf(out->from, sizeof(out->from), "%s",
		 from != NULL && from[0] != '\0' ? from : "2000-01-01");
	pthread_mutex_lock(&r->lock);
	if (to != NULL && to[0] != '\0') {
		snprintf(out->to, sizeof(out->to), "%s", to);
	} else {
		requests_today(r, out->to);
	}
	if (strcmp(out->from, out->to) > 0) {
		pthread_mutex_unlock(&r->lock);
		return -EINVAL;
	}
	ret = store_prepare(r->db,
			    "SELECT grade, target_kind, count(*) FROM ratings WHERE day BETWEEN "
			    "?1 AND ?2 GROUP BY grade, target_kind",
			    &st);
	if (ret == 0) {
		sqlite3_bind_text(st, 1, out->from, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, out->to, -1, SQLITE_TRANSIENT);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			int g = sqlite3_column_int(st, 0), n = sqlite3_column_int(st, 2);
			const char *k = (const char *)sqlite3_column_text(st, 1);

			if (g < 1 || g > 5) {
				continue;
			}
			out->count[g] += n;
			out->total += n;
			for (int i = 0; k != NULL && i < 3; i++) {
				if (strcmp(k, kinds[i]) == 0) {
					out->by_target[i] += n;
				}
			}
		}
		ret = rc == SQLITE_DONE ? 0 : store_err(r->db, rc, "summing ratings");
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&r->lock);
	if (out->total > 0) {
		out->satisfaction =
			(double)(out->count[5] + out->count[4] + out->count[3]) / out->total;
		out->very_satisfied = (double)(out->count[5] + out->count[4]) / out->total;
	}
	return ret;
}

/* ---- a citizen about an existing matter ---- */

int requests_queue_to_window(struct requests *r, const struct requests_actor *who, const char *key,
			     int window_no, int service_id, struct queue_ticket *ticket,
			     int *print_err)
{
	struct queue_actor qa = { who != NULL ? who->user_id : NULL,
				  who != NULL ? who->role : NULL };
	char code[REQ_LOOKUP_LEN + 1], note[QUEUE_NOTE_MAX] = "", matter[ORDER_NO_MAX + 8] = "";
	char detail[96];
	struct request *q;
	int ret = -ENOENT;

	if (print_err != NULL) {
		*print_err = 0;
	}
	if (r->queue == NULL) {
		return -ENODEV;
	}
	if (key == NULL || key[0] == '\0' || strnlen(key, ORDER_NO_MAX) >= ORDER_NO_MAX ||
	    !requests_text_ok(key, ORDER_NO_MAX - 1, false) || window_no <= 0) {
		return -EINVAL;
	}
	q = malloc(sizeof(*q));
	if (q == NULL) {
		return -ENOMEM;
	}
	pthread_mutex_lock(&r->lock);
	if (rng_code_parse(key, REQ_LOOKUP_LEN, code) == 0) {
		ret = requests_load(r, NULL, "WHERE r.lookup_code = ?1", code, q);
	}
	if (ret == -ENOENT) {
		ret = requests_load(r, NULL, "WHERE r.number = ?1", key, q);
	}
	pthread_mutex_unlock(&r->lock);
	if (ret == 0) {
		snprintf(matter, sizeof(matter), "%s", q->number);
		snprintf(note, sizeof(note), "来访：诉求 %s", q->number);
	}
	free(q);
	if (ret == -ENOENT && r->orders != NULL) {
		struct order *ord = malloc(sizeof(*ord));
		cJSON *pub = NULL;

		if (ord == NULL) {
			return -ENOMEM;
		}
		ret = orders_find(r->orders, key, ord);
		if (ret == -ENOENT && rng_code_parse(key, REQ_LOOKUP_LEN, code) == 0 &&
		    orders_public_lookup(r->orders, code, &pub) == 0) {
			const char *no = cJSON_GetStringValue(
				cJSON_GetObjectItemCaseSensitive(pub, "number"));

			ret = no != NULL ? orders_find(r->orders, no, ord) : -ENOENT;
			cJSON_Delete(pub);
		}
		if (ret == 0) {
			snprintf(matter, sizeof(matter), "%s", ord->number);
			snprintf(note, sizeof(note), "来访：工单 %s", ord->number);
		}
		free(ord);
	}
	if (ret < 0) {
		return ret;
	}
	ret = queue_issue_to_window(r->queue, &qa, service_id, window_no, note, true, ticket,
				    print_err);
	if (ret < 0) {
		return ret;
	}
	snprintf(detail, sizeof(detail), "{\"window_no\":%d,\"ticket\":\"%s\"}", window_no,
		 ticket->number);
	pthread_mutex_lock(&r->lock);
	ret = requests_audit(r->db, who, "request.queue_to_window", matter, detail);
	pthread_mutex_unlock(&r->lock);
	return ret;
}
