/*
 * The HTTP API of walk-in requests, progress lookup and ratings
 * (docs/requests.md, "Routes"). Handlers only translate: JSON in, one
 * requests_*() call, JSON or an error in the kiosk shape out. Citizens use
 * the public routes (the not-accepted list, filing at the touchscreen,
 * lookup, rating); staff and supervisors the rest; supervisors the rating
 * figures. Every error says in Chinese and English what to do.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "kiosk/kiosk.h"
#include "orders/workcal.h"
#include "queue/queue.h"
#include "requests_internal.h"

#define API   "/api/v1/requests"
#define STAFF (KIOSK_ROLE_STAFF | KIOSK_ROLE_SUPERVISOR)

static struct requests_actor actor_of(const struct kiosk_request *req)
{
	struct requests_actor a = { .user_id = req->user_id,
				    .role = kiosk_role_name(req->user_role) };

	/* No session, or a role this app does not know: a citizen, nobody named. */
	if (strcmp(a.role, "citizen") == 0) {
		a.user_id = NULL;
	}
	return a;
}

static int reply_storage(struct kiosk_request *req, int err)
{
	if (err == -EBUSY) {
		return kiosk_reply_error(req, 503, "busy", "The system is busy. Please try again.",
					 "系统正忙，请稍后重试。");
	}
	if (err == -ENOKEY) {
		return kiosk_reply_error(
			req, 503, "personal_data_locked",
			"Personal data cannot be read or stored on this device now (its key is "
			"locked). Please call the technician.",
			"本机暂时无法读取或保存个人信息（密钥未解锁），请联系技术人员。");
	}
	return kiosk_reply_error(req, 500, "storage_error",
				 "This could not be saved. Try again; if it keeps failing, call "
				 "the technician.",
				 "无法保存。请重试；如持续失败，请联系技术人员。");
}

static int reply_err(struct kiosk_request *req, unsigned status, const char *code,
		     const struct requests_err *e)
{
	return kiosk_reply_error(req, status, code, e->en, e->zh);
}

/* The printer's error as the "print_error" member (the request is filed anyway). */
static cJSON *print_error_json(int perr)
{
	const char *code, *en, *zh;
	cJSON *o;

	switch (perr) {
	case -ENOSPC:
		code = "printer_paper_out";
		en = "The receipt printer is out of paper.";
		zh = "回执打印机缺纸。";
		break;
	case -EBUSY:
		code = "printer_cover_open";
		en = "The receipt printer's cover is open.";
		zh = "回执打印机纸仓盖未关好。";
		break;
	case -ENODEV:
		code = "printer_offline";
		en = "The receipt printer is not responding.";
		zh = "回执打印机无响应。";
		break;
	default:
		code = "printer_error";
		en = "The receipt printer has a fault.";
		zh = "回执打印机故障。";
		break;
	}
	o = cJSON_CreateObject();
	if (o != NULL) {
		char m[200];

		cJSON_AddStringToObject(o, "code", code);
		snprintf(m, sizeof(m),
			 "%s Your request is filed: note the lookup code on the screen; staff can "
			 "print the receipt again.",
			 en);
		cJSON_AddStringToObject(o, "message", m);
		snprintf(m, sizeof(m),
			 "%s您的诉求已受理：请记下屏幕上的查询码，工作人员可为您补打回执。", zh);
		cJSON_AddStringToObject(o, "message_zh", m);
	}
	return o;
}

static int reply_printer(struct kiosk_request *req, int perr)
{
	cJSON *e = print_error_json(perr);
	int ret;

	if (e == NULL) {
		return -ENOMEM;
	}
	ret = kiosk_reply_error(req, 503, cJSON_GetStringValue(cJSON_GetObjectItem(e, "code")),
				cJSON_GetStringValue(cJSON_GetObjectItem(e, "message")),
				cJSON_GetStringValue(cJSON_GetObjectItem(e, "message_zh")));
	cJSON_Delete(e);
	return ret;
}

/* A member that must be a string when present. */
static bool opt_string(const cJSON *o, const char *key, const char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	*out = NULL;
	if (v == NULL || cJSON_IsNull(v)) {
		return true;
	}
	if (!cJSON_IsString(v)) {
		return false;
	}
	*out = v->valuestring;
	return true;
}

/* The contact of a request in a view, as JSON members. */
static void add_contact(struct requests *r, const struct requests_actor *who, const char *number,
			enum pii_view view, cJSON *o)
{
	struct pii_contact c;
	cJSON *j;
	int ret = requests_contact(r, who, number, view, &c);

	if (ret == -ENODATA) {
		cJSON_AddNullToObject(o, "contact");
		return;
	}
	j = cJSON_AddObjectToObject(o, "contact");
	if (j == NULL) {
		pii_contact_clear(&c);
		return;
	}
	cJSON_AddStringToObject(j, "view", view == PII_VIEW_FULL ? "full" : "masked");
	if (ret < 0) {
		cJSON_AddBoolToObject(j, "unavailable", true);
		return;
	}
	cJSON_AddStringToObject(j, "name", c.name);
	cJSON_AddStringToObject(j, "phone", c.phone);
	cJSON_AddBoolToObject(j, "anonymous", c.hide_identity);
	pii_contact_clear(&c);
}

/* ---- the not-accepted list, filing ---- */

static int get_not_accepted(struct kiosk_request *req, void *arg)
{
	(void)arg;
	return kiosk_reply_obj(req, 200, requests_refusals_json());
}

static int file(struct kiosk_request *req, struct requests *r, bool staff)
{
	struct requests_actor who = actor_of(req);
	struct request_input in = { 0 };
	struct requests_err err = { { 0 }, { 0 } };
	struct request *q;
	cJSON *body, *o;
	const cJSON *hide;
	const char *cat = NULL, *field = NULL;
	int perr = 0, ret;

	body = kiosk_req_object(req, &ret);
	if (body == NULL) {
		return ret;
	}
	hide = cJSON_GetObjectItemCaseSensitive(body, "hide_identity");
	if (!opt_string(body, "kind", &in.kind) || !opt_string(body, "category", &cat) ||
	    !opt_string(body, "field", &field) || !opt_string(body, "content", &in.content) ||
	    !opt_string(body, "location", &in.location) || !opt_string(body, "name", &in.name) ||
	    !opt_string(body, "phone", &in.phone) || (hide != NULL && !cJSON_IsBool(hide))) {
		cJSON_Delete(body);
		return kiosk_reply_error(
			req, 400, "bad_request",
			"Send {\"category\", \"field\", \"content\", \"location\", \"name\", "
			"\"phone\"} as strings and \"hide_identity\" as true or false.",
			"请以字符串发送 category、field、content、location、name、phone，"
			"hide_identity 为 true 或 false。");
	}
	in.category = order_category_parse(cat != NULL ? cat : "");
	in.field = request_field_parse(field);
	in.hide_identity = cJSON_IsTrue(hide);
	q = malloc(sizeof(*q));
	if (q == NULL) {
		cJSON_Delete(body);
		return -ENOMEM;
	}
	ret = requests_file(r, staff ? &who : NULL, &in, q, &perr, &err);
	cJSON_Delete(body);
	if (ret == -EINVAL) {
		free(q);
		return reply_err(req, 400, "bad_request", &err);
	}
	if (ret == -EPERM) {
		free(q);
		return reply_err(req, 422, "not_accepted", &err);
	}
	if (ret < 0) {
		free(q);
		return reply_storage(req, ret);
	}
	o = cJSON_CreateObject();
	if (o != NULL) {
		cJSON_AddItemToObject(o, "request", requests_to_json(q));
		cJSON_AddBoolToObject(o, "printed", q->printed);
		if (perr != 0) {
			cJSON_AddItemToObject(o, "print_error", print_error_json(perr));
		} else {
			cJSON_AddNullToObject(o, "print_error");
		}
		add_contact(r, NULL, q->number, PII_VIEW_MASKED, o);
	}
	free(q);
	return kiosk_reply_obj(req, 201, o);
}

static int post_request(struct kiosk_request *req, void *arg)
{
	return file(req, arg, false);
}

static int post_window_request(struct kiosk_request *req, void *arg)
{
	return file(req, arg, true);
}

/* ---- staff ---- */

static bool flag(const char *v)
{
	return v != NULL && (strcmp(v, "1") == 0 || strcmp(v, "true") == 0);
}

static int get_list(struct kiosk_request *req, void *arg)
{
	struct request_filter f = { .state = -1 };
	const char *state = kiosk_req_query(req, "state");
	const char *limit = kiosk_req_query(req, "limit");
	cJSON *a = NULL, *o;
	int ret;

	if (state != NULL && state[0] != '\0') {
		f.state = request_state_parse(state);
		if (f.state < 0) {
			return kiosk_reply_error(
				req, 400, "bad_parameter",
				"The parameter 'state' must be open, answered, forwarded or "
				"handed_over.",
				"参数 state 须为 open、answered、forwarded 或 handed_over。");
		}
	}
	if (limit != NULL && limit[0] != '\0') {
		char *end;
		long n = strtol(limit, &end, 10);

		if (*end != '\0' || n < 1 || n > REQ_LIST_MAX) {
			return kiosk_reply_error(req, 400, "bad_parameter",
						 "The parameter 'limit' must be 1 to 200.",
						 "参数 limit 须为 1 到 200。");
		}
		f.limit = (int)n;
	}
	f.today = flag(kiosk_req_query(req, "today"));
	f.repeat = flag(kiosk_req_query(req, "repeat"));
	ret = requests_list(arg, &f, &a);
	if (ret < 0) {
		return reply_storage(req, ret);
	}
	o = cJSON_CreateObject();
	if (o == NULL) {
		cJSON_Delete(a);
		return -ENOMEM;
	}
	cJSON_AddItemToObject(o, "requests", a);
	return kiosk_reply_obj(req, 200, o);
}

static int reply_not_found(struct kiosk_request *req)
{
	return kiosk_reply_error(req, 404, "not_found", "There is no request with this number.",
				 "没有这个编号的诉求。");
}

static int detail_reply(struct kiosk_request *req, struct requests *r, const char *number,
			enum pii_view view, unsigned status)
{
	struct requests_actor who = actor_of(req);
	struct request *q = malloc(sizeof(*q));
	cJSON *o, *h = NULL;
	int ret = q != NULL ? requests_get(r, number, q) : -ENOMEM;

	if (ret == 0) {
		ret = requests_history_json(r, number, &h);
	}
	if (ret < 0) {
		free(q);
		return ret == -ENOENT	? reply_not_found(req)
		       : ret == -ENOMEM ? ret
					: reply_storage(req, ret);
	}
	o = cJSON_CreateObject();
	if (o != NULL) {
		cJSON_AddItemToObject(o, "request", requests_to_json(q));
		cJSON_AddItemToObject(o, "history", h);
		h = NULL;
		add_contact(r, &who, number, view, o);
	}
	cJSON_Delete(h);
	free(q);
	return kiosk_reply_obj(req, status, o);
}

static int get_detail(struct kiosk_request *req, void *arg)
{
	const char *c = kiosk_req_query(req, "contact");

	if (strchr(req->rest, '/') != NULL || req->rest[0] == '\0') {
		return reply_not_found(req);
	}
	if (c != NULL && strcmp(c, "full") != 0 && strcmp(c, "masked") != 0) {
		return kiosk_reply_error(req, 400, "bad_parameter",
					 "The parameter 'contact' must be masked or full.",
					 "参数 contact 须为 masked 或 full。");
	}
	return detail_reply(req, arg, req->rest,
			    c != NULL && strcmp(c, "full") == 0 ? PII_VIEW_FULL : PII_VIEW_MASKED,
			    200);
}

static int post_action(struct kiosk_request *req, void *arg)
{
	struct requests *r = arg;
	struct requests_actor who = actor_of(req);
	struct requests_err err = { { 0 }, { 0 } };
	char number[REQ_NUMBER_MAX];
	const char *slash = strchr(req->rest, '/'), *verb, *text = NULL;
	size_t n = slash != NULL ? (size_t)(slash - req->rest) : 0;
	struct request *q;
	cJSON *body;
	int ret;

	if (slash == NULL || n == 0 || n >= sizeof(number)) {
		return kiosk_reply_error(req, 404, "not_found",
					 "Use POST /api/v1/requests/NUMBER/answer, /forward or "
					 "/reprint.",
					 "请使用 POST /api/v1/requests/编号/answer、/forward 或 "
					 "/reprint。");
	}
	memcpy(number, req->rest, n);
	number[n] = '\0';
	verb = slash + 1;
	if (strcmp(verb, "reprint") == 0) {
		int perr = 0;

		ret = requests_reprint(r, &who, number, &perr);
		if (ret == -ECANCELED) {
			return reply_printer(req, perr);
		}
		if (ret == -ENOENT) {
			return reply_not_found(req);
		}
		return ret < 0 ? reply_storage(req, ret)
			       : detail_reply(req, r, number, PII_VIEW_MASKED, 200);
	}
	if (strcmp(verb, "answer") != 0 && strcmp(verb, "forward") != 0) {
		return kiosk_reply_error(req, 404, "not_found",
					 "Unknown action: use answer, forward or reprint.",
					 "未知操作：请使用 answer、forward 或 reprint。");
	}
	body = kiosk_req_json(req);
	if (!cJSON_IsObject(body) || !opt_string(body, verb[0] == 'a' ? "answer" : "note", &text)) {
		cJSON_Delete(body);
		return kiosk_reply_error(
			req, 400, "bad_request",
			verb[0] == 'a' ? "Send {\"answer\": \"the answer given\"}."
				       : "Send {\"note\": \"optional note\"} (or {}).",
			verb[0] == 'a' ? "请发送 {\"answer\": \"答复内容\"}。"
				       : "请发送 {\"note\": \"备注（可选）\"}（或 {}）。");
	}
	q = malloc(sizeof(*q));
	if (q == NULL) {
		cJSON_Delete(body);
		return -ENOMEM;
	}
	ret = verb[0] == 'a' ? requests_answer(r, &who, number, text, q, &err)
			     : requests_forward(r, &who, number, text, q, &err);
	cJSON_Delete(body);
	free(q);
	switch (ret) {
	case 0:
		return detail_reply(req, r, number, PII_VIEW_MASKED, 200);
	case -ENOENT:
		return reply_not_found(req);
	case -EINVAL:
		return reply_err(req, 400, "bad_request", &err);
	case -EPROTO:
		return reply_err(req, 409, "wrong_state", &err);
	default:
		return reply_storage(req, ret);
	}
}

static int post_queue_to_window(struct kiosk_request *req, void *arg)
{
	struct requests_actor who = actor_of(req);
	struct queue_ticket t;
	cJSON *body = kiosk_req_json(req), *o;
	const cJSON *w = cJSON_GetObjectItemCaseSensitive(body, "window_no");
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(body, "service_id");
	const char *code = NULL;
	int perr = 0, ret;

	if (!cJSON_IsObject(body) || !opt_string(body, "code", &code) || code == NULL ||
	    !cJSON_IsNumber(w) || w->valuedouble < 1 || w->valuedouble > 99 ||
	    (s != NULL && (!cJSON_IsNumber(s) || s->valuedouble < 0 || s->valuedouble > 1e6))) {
		cJSON_Delete(body);
		return kiosk_reply_error(
			req, 400, "bad_request",
			"Send {\"code\": lookup code or order number, \"window_no\": 1-99, "
			"\"service_id\": optional}.",
			"请发送 {\"code\": 查询码或工单编号, \"window_no\": 1-99, "
			"\"service_id\": 可选}。");
	}
	ret = requests_queue_to_window(arg, &who, code, (int)w->valuedouble,
				       s != NULL ? (int)s->valuedouble : 0, &t, &perr);
	cJSON_Delete(body);
	switch (ret) {
	case 0:
		break;
	case -ENOENT:
		return kiosk_reply_error(req, 404, "not_found",
					 "No request or order has this code or number, or there is "
					 "no such window or service.",
					 "没有此查询码或编号的诉求或工单，或没有此窗口或业务。");
	case -EINVAL:
		return kiosk_reply_error(req, 400, "bad_request",
					 "The code or number is not valid.", "查询码或编号无效。");
	case -EAGAIN:
		return kiosk_reply_error(req, 409, "queue_closed",
					 "The queue is closed or paused now: no ticket was issued.",
					 "现在不在取号时间或取号已暂停，未能取号。");
	case -ECANCELED:
		return kiosk_reply_error(req, 503, "printer_error",
					 "The ticket could not be printed, so no number was taken. "
					 "Check the printer and try again.",
					 "号票未能打印，未取号。请检查打印机后重试。");
	case -ENODEV:
		return kiosk_reply_error(req, 503, "unavailable",
					 "The ticket queue is not running.", "排队叫号未运行。");
	default:
		return reply_storage(req, ret);
	}
	o = cJSON_CreateObject();
	if (o != NULL) {
		cJSON *j = cJSON_AddObjectToObject(o, "ticket");

		cJSON_AddStringToObject(j, "number", t.number);
		cJSON_AddStringToObject(j, "lookup_code", t.lookup_code);
		cJSON_AddNumberToObject(j, "target_window", t.target_window);
		cJSON_AddNumberToObject(j, "service_id", t.service_id);
		cJSON_AddStringToObject(j, "service_zh", t.service_zh);
		cJSON_AddStringToObject(j, "service_en", t.service_en);
		cJSON_AddNumberToObject(j, "ahead", t.ahead);
		cJSON_AddStringToObject(j, "state", t.state);
	}
	return kiosk_reply_obj(req, 201, o);
}

/* ---- lookup and ratings ---- */

static int get_lookup(struct kiosk_request *req, void *arg)
{
	cJSON *o = NULL;
	int ret = requests_public_lookup(arg, req->rest, &o);

	switch (ret) {
	case 0:
		return kiosk_reply_obj(req, 200, o);
	case -EINVAL:
		return kiosk_reply_error(req, 400, "bad_code",
					 "A lookup code has 8 letters and digits, as printed on "
					 "your receipt or ticket. Please check it.",
					 "查询码为回执或号票上印的 8 位字母和数字，请核对。");
	case -ENOENT:
		return kiosk_reply_error(
			req, 404, "unknown_code",
			"We could not find this code. Check it against your receipt; if it is "
			"right, please ask at a service window.",
			"没有查到这个查询码。请与回执核对；如无误，请到服务窗口咨询。");
	default:
		return ret == -ENOMEM ? ret : reply_storage(req, ret);
	}
}

static int post_rating(struct kiosk_request *req, void *arg)
{
	struct rating_input in = { 0 };
	struct requests_err err = { { 0 }, { 0 } };
	struct rating out;
	cJSON *body = kiosk_req_json(req), *o;
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(body, "grade");
	int ret;

	if (!cJSON_IsObject(body) || !opt_string(body, "target", &in.target) ||
	    !opt_string(body, "code", &in.code) || !opt_string(body, "comment", &in.comment) ||
	    in.code == NULL || !cJSON_IsNumber(g) || g->valuedouble != (int)g->valuedouble) {
		cJSON_Delete(body);
		return kiosk_reply_error(
			req, 400, "bad_request",
			"Send {\"code\": \"the lookup code\", \"grade\": 1-5, \"comment\": "
			"optional}.",
			"请发送 {\"code\": \"查询码\", \"grade\": 1-5, \"comment\": 可选}。");
	}
	in.grade = (int)g->valuedouble;
	ret = requests_rate(arg, &in, &out, &err);
	cJSON_Delete(body);
	switch (ret) {
	case 0:
		break;
	case -EINVAL:
		return reply_err(req, 400, "bad_request", &err);
	case -EPROTO:
		return reply_err(req, 409, "not_ratable", &err);
	case -EEXIST:
		return kiosk_reply_error(req, 409, "already_rated",
					 "Thank you: this has already been rated.",
					 "谢谢，此项服务已经评价过了。");
	case -ENOENT:
		return kiosk_reply_error(
			req, 404, "unknown_code",
			"We could not find what this code belongs to. Please check "
			"it against your receipt or ticket.",
			"没有查到这个查询码对应的服务，请与回执或号票核对。");
	default:
		return reply_storage(req, ret);
	}
	o = cJSON_CreateObject();
	if (o != NULL) {
		cJSON *j = cJSON_AddObjectToObject(o, "rating");

		cJSON_AddStringToObject(j, "target", out.target);
		cJSON_AddNumberToObject(j, "grade", out.grade);
		cJSON_AddStringToObject(j, "grade_zh", rating_grade_zh(out.grade));
		cJSON_AddStringToObject(j, "grade_en", rating_grade_en(out.grade));
		cJSON_AddNumberToObject(j, "rated_ms", (double)out.rated_ms);
	}
	return kiosk_reply_obj(req, 201, o);
}

static int get_summary(struct kiosk_request *req, void *arg)
{
	struct rating_summary s;
	cJSON *o, *a, *bt;
	int ret = requests_rating_summary(arg, kiosk_req_query(req, "from"),
					  kiosk_req_query(req, "to"), &s);

	if (ret == -EINVAL) {
		return kiosk_reply_error(
			req, 400, "bad_parameter",
			"The parameters 'from' and 'to' must be dates YYYY-MM-DD, "
			"from not after to.",
			"参数 from 和 to 须为 YYYY-MM-DD 格式的日期，且 from 不晚于 to。");
	}
	if (ret < 0) {
		return reply_storage(req, ret);
	}
	o = cJSON_CreateObject();
	if (o == NULL) {
		return -ENOMEM;
	}
	cJSON_AddStringToObject(o, "from", s.from);
	cJSON_AddStringToObject(o, "to", s.to);
	cJSON_AddNumberToObject(o, "total", s.total);
	cJSON_AddNumberToObject(o, "satisfaction", s.satisfaction);
	cJSON_AddNumberToObject(o, "very_satisfied", s.very_satisfied);
	a = cJSON_AddArrayToObject(o, "grades");
	for (int g = 5; a != NULL && g >= 1; g--) {
		cJSON *e = cJSON_CreateObject();

		cJSON_AddItemToArray(a, e);
		cJSON_AddNumberToObject(e, "grade", g);
		cJSON_AddStringToObject(e, "zh", rating_grade_zh(g));
		cJSON_AddStringToObject(e, "en", rating_grade_en(g));
		cJSON_AddNumberToObject(e, "count", s.count[g]);
	}
	bt = cJSON_AddObjectToObject(o, "by_target");
	cJSON_AddNumberToObject(bt, "ticket", s.by_target[0]);
	cJSON_AddNumberToObject(bt, "request", s.by_target[1]);
	cJSON_AddNumberToObject(bt, "order", s.by_target[2]);
	return kiosk_reply_obj(req, 200, o);
}

int requests_routes_register(struct kiosk *k, struct requests *r)
{
	const struct kiosk_route routes[] = {
		{ "GET", API "/not-accepted", false, KIOSK_ROLE_PUBLIC, get_not_accepted, r },
		{ "POST", API, false, KIOSK_ROLE_PUBLIC, post_request, r },
		{ "POST", API "/window", false, STAFF, post_window_request, r },
		{ "GET", API, false, STAFF, get_list, r },
		{ "GET", API "/", true, STAFF, get_detail, r },
		{ "POST", API "/", true, STAFF, post_action, r },
		{ "POST", API "/queue-to-window", false, STAFF, post_queue_to_window, r },
		{ "GET", "/api/v1/lookup/", true, KIOSK_ROLE_PUBLIC, get_lookup, r },
		{ "POST", "/api/v1/ratings", false, KIOSK_ROLE_PUBLIC, post_rating, r },
		{ "GET", "/api/v1/ratings/summary", false, KIOSK_ROLE_SUPERVISOR, get_summary, r },
	};

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		int ret = kiosk_route_add(k, &routes[i]);

		if (ret < 0) {
			return ret;
		}
	}
	return 0;
}
