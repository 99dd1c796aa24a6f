/*
 * The ticket queue's HTTP API (docs/queue.md): public routes for the
 * touchscreen and the hall display, window routes for staff, configuration
 * and statistics for supervisors. Handlers only translate: JSON in, one
 * queue_*() call, JSON or an error in the kiosk shape out. Every error a
 * citizen can meet says in plain Chinese and English what to do.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "kiosk/kiosk.h"
#include "queue_internal.h"

#define API   "/api/v1/queue"
#define STAFF (KIOSK_ROLE_STAFF | KIOSK_ROLE_SUPERVISOR)

static struct queue_actor actor_of(const struct kiosk_request *req)
{
	struct queue_actor a = { .user_id = req->user_id != NULL ? req->user_id : "citizen",
				 .role = kiosk_role_name(req->user_role) };

	return a;
}

static cJSON *ticket_json(const struct queue_ticket *t)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL) {
		return NULL;
	}
	cJSON_AddStringToObject(o, "number", t->number);
	cJSON_AddStringToObject(o, "day", t->day);
	cJSON_AddNumberToObject(o, "service_id", t->service_id);
	cJSON_AddStringToObject(o, "service_zh", t->service_zh);
	cJSON_AddStringToObject(o, "service_en", t->service_en);
	cJSON_AddBoolToObject(o, "priority", t->priority);
	cJSON_AddBoolToObject(o, "printed", t->printed);
	cJSON_AddStringToObject(o, "state", t->state);
	cJSON_AddNumberToObject(o, "ahead", t->ahead);
	cJSON_AddNumberToObject(o, "issued_ms", (double)t->issued_ms);
	cJSON_AddNumberToObject(o, "called_ms", (double)t->called_ms);
	cJSON_AddNumberToObject(o, "started_ms", (double)t->started_ms);
	cJSON_AddNumberToObject(o, "finished_ms", (double)t->finished_ms);
	cJSON_AddNumberToObject(o, "window_no", t->window_no);
	cJSON_AddNumberToObject(o, "recall_count", t->recall_count);
	cJSON_AddStringToObject(o, "lookup_code", t->lookup_code);
	cJSON_AddStringToObject(o, "note", t->note);
	return o;
}

static int reply_ticket(struct kiosk_request *req, unsigned status, const struct queue_ticket *t)
{
	cJSON *o = cJSON_CreateObject();

	if (o != NULL) {
		cJSON_AddItemToObject(o, "ticket", ticket_json(t));
	}
	return kiosk_reply_obj(req, status, o);
}

static int reply_storage(struct kiosk_request *req, int err)
{
	if (err == -EBUSY) {
		return kiosk_reply_error(req, 503, "busy",
					 "The queue is busy for a moment. Please try again.",
					 "排队系统正忙，请稍后重试。");
	}
	return kiosk_reply_error(req, 500, "storage_error",
				 "The queue could not save this. Try again; if it keeps failing, "
				 "call the technician.",
				 "排队系统无法保存。请重试；如持续失败，请联系技术人员。");
}

static int reply_printer(struct kiosk_request *req, int perr)
{
	switch (perr) {
	case -ENOSPC:
		return kiosk_reply_error(
			req, 503, "printer_paper_out",
			"The ticket printer is out of paper, so no number was taken. Please tell a "
			"staff member, or choose to show your number on the screen.",
			"取号机缺纸，未为您取号。请告知工作人员，或选择在屏幕上显示号码。");
	case -EBUSY:
		return kiosk_reply_error(
			req, 503, "printer_cover_open",
			"The ticket printer's cover is open, so no number was taken. Please tell a "
			"staff member, or choose to show your number on the screen.",
			"取号机的纸仓盖未关好，未为您取号。请告知工作人员，或选择在屏幕上显示号码"
			"。");
	case -ENODEV:
		return kiosk_reply_error(
			req, 503, "printer_offline",
			"The ticket printer is not responding, so no number was taken. Please tell "
			"a staff member, or choose to show your number on the screen.",
			"取号机无响应，未为您取号。请告知工作人员，或选择在屏幕上显示号码。");
	default:
		return kiosk_reply_error(
			req, 503, "printer_error",
			"The ticket printer has a fault, so no number was taken. Please try again, "
			"tell a staff member, or choose to show your number on the screen.",
			"取号机故障，未为您取号。请重试、告知工作人员，或选择在屏幕上显示号码。");
	}
}

/* ---- public ---- */

static int get_services(struct kiosk_request *req, void *arg)
{
	struct queue *q = arg;
	struct queue_open_state os;
	struct queue_snapshot *s = malloc(sizeof(*s));
	struct queue_config *c = malloc(sizeof(*c));
	cJSON *o = NULL, *a;
	int ret = s != NULL && c != NULL ? 0 : -ENOMEM;

	if (ret == 0) {
		ret = queue_open_state(q, &os);
	}
	if (ret == 0) {
		ret = queue_snapshot(q, s);
	}
	if (ret == 0) {
		ret = queue_config_get(q, c);
	}
	if (ret == 0) {
		o = cJSON_CreateObject();
		ret = o != NULL ? 0 : -ENOMEM;
	}
	if (ret < 0) {
		goto out;
	}
	cJSON_AddBoolToObject(o, "open", os.open);
	cJSON_AddBoolToObject(o, "paused", os.paused);
	cJSON_AddNumberToObject(o, "next_open_ms", (double)os.next_open_ms);
	a = cJSON_AddArrayToObject(o, "services");
	for (int i = 0; a != NULL && i < s->nservices; i++) {
		cJSON *e = cJSON_CreateObject(), *dz, *de;
		char p[2] = { s->services[i].prefix, '\0' };

		cJSON_AddItemToArray(a, e);
		cJSON_AddNumberToObject(e, "id", s->services[i].id);
		cJSON_AddStringToObject(e, "name_zh", s->services[i].name_zh);
		cJSON_AddStringToObject(e, "name_en", s->services[i].name_en);
		cJSON_AddStringToObject(e, "prefix", p);
		cJSON_AddBoolToObject(e, "priority_lane", s->services[i].priority_lane);
		dz = cJSON_AddArrayToObject(e, "documents_zh");
		de = cJSON_AddArrayToObject(e, "documents_en");
		for (int k = 0; k < c->nservices; k++) {
			if (c->services[k].id != s->services[i].id) {
				continue;
			}
			for (int d = 0; d < c->services[k].ndocs; d++) {
				cJSON_AddItemToArray(
					dz, cJSON_CreateString(c->services[k].documents_zh[d]));
				cJSON_AddItemToArray(
					de, cJSON_CreateString(c->services[k].documents_en[d]));
			}
		}
		cJSON_AddNumberToObject(e, "waiting", s->services[i].waiting);
		cJSON_AddNumberToObject(e, "est_wait_min", s->services[i].est_wait_min);
	}
	ret = kiosk_reply_obj(req, 200, o);
	o = NULL;
out:
	cJSON_Delete(o);
	free(s);
	free(c);
	return ret;
}

static int issue(struct kiosk_request *req, struct queue *q, bool print)
{
	struct queue_actor who = actor_of(req);
	struct queue_ticket t;
	cJSON *body = kiosk_req_json(req);
	const cJSON *sid = cJSON_GetObjectItemCaseSensitive(body, "service_id");
	const cJSON *prio = cJSON_GetObjectItemCaseSensitive(body, "priority");
	struct queue_open_state os;
	int perr = 0, ret;

	if (!cJSON_IsNumber(sid) || (prio != NULL && !cJSON_IsBool(prio))) {
		cJSON_Delete(body);
		return kiosk_reply_error(
			req, 400, "bad_request",
			"Send {\"service_id\": N, \"priority\": true or false}.",
			"请发送 {\"service_id\": 编号, \"priority\": true 或 false}。");
	}
	ret = queue_issue(q, &who, (int)sid->valuedouble, cJSON_IsTrue(prio), print, &t, &perr);
	cJSON_Delete(body);
	switch (ret) {
	case 0:
		return reply_ticket(req, 201, &t);
	case -ECANCELED:
		return reply_printer(req, perr);
	case -ENOENT:
		return kiosk_reply_error(req, 404, "service_not_found",
					 "This service is not offered. Please choose another.",
					 "没有此项业务，请选择其他业务。");
	case -EINVAL:
		return kiosk_reply_error(
			req, 400, "no_priority_lane",
			"This service has no priority lane. Take a regular number.",
			"此项业务不设绿色通道，请取普通号。");
	case -EAGAIN:
		queue_open_state(q, &os);
		if (os.paused) {
			return kiosk_reply_error(req, 409, "queue_paused",
						 "Ticket issuing is paused. Please ask a staff "
						 "member.",
						 "取号已暂停，请咨询工作人员。");
		}
		return kiosk_reply_error(req, 409, "queue_closed",
					 "The office is closed now. Please come back during "
					 "opening hours.",
					 "现在不在办公时间，请在办公时间内再来。");
	case -ERANGE:
		return kiosk_reply_error(req, 503, "queue_full",
					 "Every number of this service is in use. Please ask a "
					 "staff member.",
					 "此项业务的号码已全部占用，请咨询工作人员。");
	default:
		return reply_storage(req, ret);
	}
}

static int post_ticket(struct kiosk_request *req, void *arg)
{
	return issue(req, arg, true);
}

static int post_show_on_screen(struct kiosk_request *req, void *arg)
{
	return issue(req, arg, false);
}

cJSON *queue_snapshot_json(const struct queue_snapshot *s)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *wins = cJSON_AddArrayToObject(o, "windows");
	cJSON *calls = cJSON_AddArrayToObject(o, "last_calls");
	cJSON *svcs = cJSON_AddArrayToObject(o, "services");

	if (o == NULL || wins == NULL || calls == NULL || svcs == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	for (int i = 0; i < s->nwindows && i < QUEUE_MAX_WINDOWS; i++) {
		cJSON *e = cJSON_CreateObject();

		cJSON_AddItemToArray(wins, e);
		cJSON_AddNumberToObject(e, "no", s->windows[i].no);
		cJSON_AddStringToObject(e, "name_zh", s->windows[i].name_zh);
		cJSON_AddStringToObject(e, "name_en", s->windows[i].name_en);
		cJSON_AddStringToObject(e, "state", queue_window_state_name(s->windows[i].state));
		cJSON_AddStringToObject(e, "current", s->windows[i].current);
	}
	for (int i = 0; i < s->ncalls && i < QUEUE_LAST_CALLS; i++) {
		cJSON *e = cJSON_CreateObject();

		cJSON_AddItemToArray(calls, e);
		cJSON_AddStringToObject(e, "number", s->calls[i].number);
		cJSON_AddNumberToObject(e, "window_no", s->calls[i].window_no);
		cJSON_AddNumberToObject(e, "at_ms", (double)s->calls[i].at_ms);
	}
	for (int i = 0; i < s->nservices && i < QUEUE_MAX_SERVICES; i++) {
		cJSON *e = cJSON_CreateObject();
		char p[2] = { s->services[i].prefix, '\0' };

		cJSON_AddItemToArray(svcs, e);
		cJSON_AddNumberToObject(e, "id", s->services[i].id);
		cJSON_AddStringToObject(e, "name_zh", s->services[i].name_zh);
		cJSON_AddStringToObject(e, "name_en", s->services[i].name_en);
		cJSON_AddStringToObject(e, "prefix", p);
		cJSON_AddNumberToObject(e, "waiting", s->services[i].waiting);
		cJSON_AddNumberToObject(e, "est_wait_min", s->services[i].est_wait_min);
	}
	return o;
}

static int get_snapshot(struct kiosk_request *req, void *arg)
{
	struct queue_snapshot *s = malloc(sizeof(*s));
	cJSON *o;
	int ret = s != NULL ? queue_snapshot(arg, s) : -ENOMEM;

	if (ret < 0) {
		free(s);
		return ret;
	}
	o = queue_snapshot_json(s);
	free(s);
	return kiosk_reply_obj(req, 200, o);
}

/* ---- windows ---- */

/* "<no>" or "<no>/<verb>" after the prefix. @retval window number or -1 */
static int parse_window_path(const char *rest, const char **verb)
{
	int no = 0, digits = 0;

	while (*rest >= '0' && *rest <= '9' && digits < 3) {
		no = no * 10 + (*rest++ - '0');
		digits++;
	}
	if (digits == 0 || (*rest != '\0' && *rest != '/')) {
		return -1;
	}
	*verb = *rest == '/' ? rest + 1 : "";
	return no;
}

static int reply_window_error(struct kiosk_request *req, int err, bool calling)
{
	switch (err) {
	case -ENOENT:
		return kiosk_reply_error(req, 404, "not_found",
					 "No such window or ticket. Check the number.",
					 "没有此窗口或号码，请核对。");
	case -EPERM:
		return kiosk_reply_error(req, 409, "window_not_open",
					 "This window is not open. Open it first.",
					 "此窗口未开放，请先开启窗口。");
	case -EALREADY:
		return kiosk_reply_error(
			req, 409, "ticket_in_progress",
			"This window still has a called ticket. Finish it, mark it "
			"no-show, hold or transfer it first.",
			"此窗口还有已叫的号。请先办结、标记未到、挂起或转移。");
	case -ENODATA:
		if (calling) {
			return kiosk_reply_error(req, 404, "queue_empty",
						 "Nobody is waiting for this window.",
						 "此窗口暂无人排队。");
		}
		return kiosk_reply_error(
			req, 409, "no_current_ticket",
			"This window has no called ticket. Call the next one first.",
			"此窗口没有已叫的号，请先叫号。");
	case -EPROTO:
		return kiosk_reply_error(
			req, 409, "wrong_state",
			"The ticket is not in a state that allows this. Refresh the "
			"screen.",
			"该号码当前状态不允许此操作，请刷新页面。");
	case -EDQUOT:
		return kiosk_reply_error(req, 409, "recall_limit",
					 "This ticket was recalled the most times allowed. Mark it "
					 "as no-show.",
					 "该号码已达最多重呼次数，请标记为未到。");
	case -EINVAL:
		return kiosk_reply_error(
			req, 400, "bad_request",
			"Send {\"to_service_id\": N} or {\"to_window_no\": N} "
			"(one of them) and a \"note\" of at most 255 bytes.",
			"请发送 {\"to_service_id\": 编号} 或 {\"to_window_no\": 编号}"
			"（二选一）及不超过 255 字节的 \"note\"。");
	default:
		return reply_storage(req, err);
	}
}

static int window_info_reply(struct kiosk_request *req, struct queue *q, int no)
{
	struct queue_window_info *w = malloc(sizeof(*w));
	cJSON *o, *a;
	int ret = w != NULL ? queue_window_info(q, no, w) : -ENOMEM;

	if (ret < 0) {
		free(w);
		return ret == -ENOMEM ? ret : reply_window_error(req, ret, false);
	}
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "no", w->no);
	cJSON_AddStringToObject(o, "name_zh", w->name_zh);
	cJSON_AddStringToObject(o, "name_en", w->name_en);
	cJSON_AddStringToObject(o, "state", queue_window_state_name(w->state));
	if (w->has_current) {
		cJSON_AddItemToObject(o, "current", ticket_json(&w->current));
	} else {
		cJSON_AddNullToObject(o, "current");
	}
	a = cJSON_AddArrayToObject(o, "held");
	for (int i = 0; a != NULL && i < w->nheld; i++) {
		cJSON_AddItemToArray(a, ticket_json(&w->held[i]));
	}
	a = cJSON_AddArrayToObject(o, "services");
	for (int i = 0; a != NULL && i < w->nservices; i++) {
		cJSON *e = cJSON_CreateObject();
		char p[2] = { w->services[i].prefix, '\0' };

		cJSON_AddItemToArray(a, e);
		cJSON_AddNumberToObject(e, "id", w->services[i].id);
		cJSON_AddStringToObject(e, "name_zh", w->services[i].name_zh);
		cJSON_AddStringToObject(e, "name_en", w->services[i].name_en);
		cJSON_AddStringToObject(e, "prefix", p);
		cJSON_AddNumberToObject(e, "waiting", w->services[i].waiting);
	}
	free(w);
	return kiosk_reply_obj(req, 200, o);
}

static int get_window(struct kiosk_request *req, void *arg)
{
	const char *verb;
	int no = parse_window_path(req->rest, &verb);

	if (no < 0 || verb[0] != '\0') {
		return reply_window_error(req, -ENOENT, false);
	}
	return window_info_reply(req, arg, no);
}

static int post_window(struct kiosk_request *req, void *arg)
{
	static const struct {
		const char *verb;
		enum queue_action action;
	} acts[] = {
		{ "recall", QUEUE_RECALL }, { "no-show", QUEUE_NO_SHOW },
		{ "start", QUEUE_START },   { "finish", QUEUE_FINISH },
		{ "hold", QUEUE_HOLD },	    { "resume", QUEUE_RESUME },
	};
	struct queue *q = arg;
	struct queue_actor who = actor_of(req);
	struct queue_ticket t;
	const char *verb;
	int no = parse_window_path(req->rest, &verb), ret;

	if (no < 0) {
		return reply_window_error(req, -ENOENT, false);
	}
	if (!strcmp(verb, "open") || !strcmp(verb, "pause") || !strcmp(verb, "close")) {
		ret = queue_window_set(q, &who, no,
				       verb[0] == 'o'	? QUEUE_WIN_OPEN
				       : verb[0] == 'p' ? QUEUE_WIN_PAUSED
							: QUEUE_WIN_CLOSED);
		return ret < 0 ? reply_window_error(req, ret, false)
			       : window_info_reply(req, q, no);
	}
	if (!strcmp(verb, "call-next")) {
		ret = queue_call_next(q, &who, no, &t);
		return ret < 0 ? reply_window_error(req, ret, true) : reply_ticket(req, 200, &t);
	}
	if (!strcmp(verb, "transfer")) {
		cJSON *b = kiosk_req_json(req);
		const cJSON *ts = cJSON_GetObjectItemCaseSensitive(b, "to_service_id");
		const cJSON *tw = cJSON_GetObjectItemCaseSensitive(b, "to_window_no");
		const char *note =
			cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(b, "note"));

		ret = (ts != NULL && !cJSON_IsNumber(ts)) || (tw != NULL && !cJSON_IsNumber(tw))
			      ? -EINVAL
			      : queue_transfer(q, &who, no, ts != NULL ? (int)ts->valuedouble : 0,
					       tw != NULL ? (int)tw->valuedouble : 0,
					       note != NULL ? note : "", &t);
		cJSON_Delete(b);
		return ret < 0 ? reply_window_error(req, ret, false) : reply_ticket(req, 200, &t);
	}
	for (size_t i = 0; i < sizeof(acts) / sizeof(acts[0]); i++) {
		if (strcmp(verb, acts[i].verb) != 0) {
			continue;
		}
		cJSON *b = kiosk_req_json(req);
		const char *number =
			cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(b, "number"));

		if (acts[i].action == QUEUE_RESUME && number == NULL) {
			cJSON_Delete(b);
			return kiosk_reply_error(req, 400, "bad_request",
						 "Send the held ticket's number: {\"number\": "
						 "\"A012\"}.",
						 "请发送挂起的号码：{\"number\": \"A012\"}。");
		}
		ret = queue_act(q, &who, no, acts[i].action, number, &t);
		cJSON_Delete(b);
		return ret < 0 ? reply_window_error(req, ret, false) : reply_ticket(req, 200, &t);
	}
	return kiosk_reply_error(
		req, 404, "not_found",
		"No such window action. Use open, pause, close, call-next, recall, "
		"no-show, start, finish, hold, resume or transfer.",
		"没有此窗口操作。可用：open、pause、close、call-next、recall、no-show、"
		"start、finish、hold、resume、transfer。");
}

static int post_reprint(struct kiosk_request *req, void *arg)
{
	struct queue_actor who = actor_of(req);
	struct queue_ticket t;
	char number[8];
	const char *slash = strchr(req->rest, '/');
	size_t n = slash != NULL ? (size_t)(slash - req->rest) : 0;
	int perr = 0, ret;

	if (slash == NULL || strcmp(slash, "/reprint") != 0 || n == 0 || n >= sizeof(number)) {
		return kiosk_reply_error(req, 404, "not_found",
					 "Use POST /api/v1/queue/tickets/NUMBER/reprint.",
					 "请使用 POST /api/v1/queue/tickets/号码/reprint。");
	}
	memcpy(number, req->rest, n);
	number[n] = '\0';
	ret = queue_reprint(arg, &who, number, &t, &perr);
	if (ret == -ECANCELED) {
		return reply_printer(req, perr);
	}
	if (ret == -ENOENT) {
		return kiosk_reply_error(req, 404, "ticket_not_found",
					 "No ticket with this number is in today's queue.",
					 "今天的队列中没有此号码。");
	}
	return ret < 0 ? reply_storage(req, ret) : reply_ticket(req, 200, &t);
}

/* ---- supervisor ---- */

static int get_config(struct kiosk_request *req, void *arg)
{
	struct queue_config *c = malloc(sizeof(*c));
	char *json = NULL;
	int ret = c != NULL ? queue_config_get(arg, c) : -ENOMEM;

	if (ret == 0) {
		json = queue_config_to_json(c);
		ret = json != NULL ? kiosk_reply(req, 200, "application/json; charset=utf-8", json,
						 strlen(json))
				   : -ENOMEM;
	}
	free(json);
	free(c);
	return ret;
}

static int put_config(struct kiosk_request *req, void *arg)
{
	struct queue_actor who = actor_of(req);
	struct queue_config *c = malloc(sizeof(*c));
	char en[160], zh[160];
	int ret;

	if (c == NULL) {
		return -ENOMEM;
	}
	ret = queue_config_from_json(req->body, c, en, zh);
	if (ret == 0) {
		ret = queue_config_set(arg, &who, c, en, zh);
	}
	free(c);
	if (ret == -EINVAL) {
		return kiosk_reply_error(req, 400, "invalid_config", en, zh);
	}
	if (ret < 0) {
		return reply_storage(req, ret);
	}
	return get_config(req, arg);
}

static cJSON *stat_rows(const struct queue_stat_row *r, int n, const char *key)
{
	cJSON *a = cJSON_CreateArray();

	for (int i = 0; a != NULL && i < n; i++) {
		cJSON *e = cJSON_CreateObject();

		cJSON_AddItemToArray(a, e);
		cJSON_AddNumberToObject(e, key, r[i].key);
		cJSON_AddStringToObject(e, "name_zh", r[i].name_zh);
		cJSON_AddStringToObject(e, "name_en", r[i].name_en);
		cJSON_AddNumberToObject(e, "count", r[i].count);
		cJSON_AddNumberToObject(e, "served", r[i].served);
		cJSON_AddNumberToObject(e, "no_show", r[i].no_show);
		cJSON_AddNumberToObject(e, "wait_median_s", r[i].wait_median_s);
		cJSON_AddNumberToObject(e, "wait_p90_s", r[i].wait_p90_s);
		cJSON_AddNumberToObject(e, "service_median_s", r[i].service_median_s);
		cJSON_AddNumberToObject(e, "service_p90_s", r[i].service_p90_s);
		cJSON_AddNumberToObject(e, "no_show_rate", r[i].no_show_rate);
	}
	return a;
}

static int get_stats(struct kiosk_request *req, void *arg)
{
	struct queue *q = arg;
	struct queue_stats *s = malloc(sizeof(*s));
	const char *day = kiosk_req_query(req, "day");
	char today[11];
	cJSON *o;
	int ret;

	if (s == NULL) {
		return -ENOMEM;
	}
	if (day == NULL || day[0] == '\0') {
		pthread_mutex_lock(&q->lock);
		queue_today(q, today);
		pthread_mutex_unlock(&q->lock);
		day = today;
	}
	ret = queue_stats(q, day, s);
	if (ret == -EINVAL) {
		free(s);
		return kiosk_reply_error(req, 400, "bad_parameter",
					 "The parameter 'day' must be a date YYYY-MM-DD.",
					 "参数 day 须为 YYYY-MM-DD 格式的日期。");
	}
	if (ret < 0) {
		free(s);
		return reply_storage(req, ret);
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "day", s->day);
	cJSON_AddItemToObject(o, "services", stat_rows(s->services, s->nservices, "service_id"));
	cJSON_AddItemToObject(o, "windows", stat_rows(s->windows, s->nwindows, "window_no"));
	free(s);
	return kiosk_reply_obj(req, 200, o);
}

int queue_routes_register(struct kiosk *k, struct queue *q)
{
	const struct kiosk_route routes[] = {
		{ "GET", API "/services", false, KIOSK_ROLE_PUBLIC, get_services, q },
		{ "POST", API "/tickets", false, KIOSK_ROLE_PUBLIC, post_ticket, q },
		{ "POST", API "/tickets/show-on-screen", false, KIOSK_ROLE_PUBLIC,
		  post_show_on_screen, q },
		{ "GET", API "/snapshot", false, KIOSK_ROLE_PUBLIC, get_snapshot, q },
		{ "POST", API "/tickets/", true, STAFF, post_reprint, q },
		{ "GET", API "/windows/", true, STAFF, get_window, q },
		{ "POST", API "/windows/", true, STAFF, post_window, q },
		{ "GET", API "/config", false, KIOSK_ROLE_SUPERVISOR, get_config, q },
		{ "PUT", API "/config", false, KIOSK_ROLE_SUPERVISOR, put_config, q },
		{ "GET", API "/stats", false, KIOSK_ROLE_SUPERVISOR, get_stats, q },
	};

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		int ret = kiosk_route_add(k, &routes[i]);

		if (ret < 0) {
			return ret;
		}
	}
	return 0;
}
