/*
 * The work orders' HTTP API (docs/local-api.md, "Work orders"): the list
 * with its filters, the staff home, the supervisor's figures, one order
 * with the actions its caller may take, each transition as
 * POST /api/v1/orders/{id}/{action}, slips, attachments, and the
 * department and classification code tables.
 *
 * Handlers only translate: query or JSON in, one orders_*() call, JSON or
 * an error in the kiosk shape out. The one design decision: every refusal
 * of the service reaches the person in its own words (struct orders_err),
 * with a status that tells a program what happened: 409
 * "illegal_transition" for a state that does not allow the action, 400 for
 * bad input, 403 for a role, 404 for an unknown order, 503 "printer_*" when
 * the slip printer failed (nothing is marked printed; the screen offers a
 * retry). Every action answers the order as GET /api/v1/orders/{id} shows
 * it to the caller, so a screen redraws from one answer.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "kiosk/kiosk.h"
#include "orders/orders.h"

#define API "/api/v1/orders"
/* Who works on orders; technicians may read them (and the tables) only. */
#define WORK	      (KIOSK_ROLE_STAFF | KIOSK_ROLE_SUPERVISOR)
#define READ	      (WORK | KIOSK_ROLE_TECHNICIAN)
#define SUPV	      KIOSK_ROLE_SUPERVISOR
#define TABLE	      (KIOSK_ROLE_SUPERVISOR | KIOSK_ROLE_TECHNICIAN)

#define ID_DIGITS_MAX 18
#define FILE_NAME_MAX 128

static struct orders_actor actor_of(const struct kiosk_request *req)
{
	struct orders_actor a = { .user_id = req->user_id != NULL ? req->user_id : "citizen",
				  .role = kiosk_role_name(req->user_role) };

	return a;
}

/* The service's own words when it gave some, else ours. */
static int reply_err(struct kiosk_request *req, unsigned status, const char *code,
		     const struct orders_err *err, const char *en, const char *zh)
{
	if (err != NULL && err->en[0] != '\0' && err->zh[0] != '\0') {
		return kiosk_reply_error(req, status, code, err->en, err->zh);
	}
	return kiosk_reply_error(req, status, code, en, zh);
}

static int reply_storage(struct kiosk_request *req, int ret)
{
	if (ret == -ENOMEM) {
		return ret;
	}
	if (ret == -EBUSY || ret == -EAGAIN) {
		return kiosk_reply_error(req, 503, "busy",
					 "The work orders are busy for a moment. Please try again.",
					 "工单系统正忙，请稍后重试。");
	}
	if (ret == -ENOSPC) {
		return kiosk_reply_error(req, 507, "storage_full",
					 "The appliance's storage is full, so nothing was saved. "
					 "Call the technician.",
					 "设备存储空间已满，未能保存。请联系技术人员。");
	}
	return kiosk_reply_error(req, 500, "storage_error",
				 "The work orders could not be saved or read. Try again; if it "
				 "keeps failing, call the technician.",
				 "工单数据无法保存或读取。请重试；如持续失败，请联系技术人员。");
}

/* The slip printer's failure in plain words: what happened and what to do. */
static void printer_words(int perr, const char **code, const char **en, const char **zh)
{
	switch (perr) {
	case -ENOSPC:
		*code = "printer_paper_out";
		*en = "The printer is out of paper, so the slip was not printed. Load a new paper "
		      "roll, then press Retry.";
		*zh = "打印机缺纸，工单未打印。请装入新纸卷后点“重试”。";
		break;
	case -EBUSY:
		*code = "printer_cover_open";
		*en = "The printer's cover is open, so the slip was not printed. Close the cover, "
		      "then press Retry.";
		*zh = "打印机纸仓盖未关好，工单未打印。请关好后点“重试”。";
		break;
	case -ENODEV:
		*code = "printer_offline";
		*en = "The printer is not responding, so the slip was not printed. Check that it "
		      "is switched on and connected, then press Retry.";
		*zh = "打印机无响应，工单未打印。请检查电源和连线后点“重试”。";
		break;
	case -ETIMEDOUT:
		*code = "printer_timeout";
		*en = "The printer stopped in the middle of the slip, so it is not counted as "
		      "printed. Check the paper, then press Retry.";
		*zh = "打印机中途停止，本次不计为已打印。请检查纸张后点“重试”。";
		break;
	default:
		*code = "printer_error";
		*en = "The printer reports a fault, so the slip was not printed. Clear any paper "
		      "jam, then press Retry; if it keeps failing, call the technician.";
		*zh = "打印机故障，工单未打印。请清除卡纸后点“重试”；如持续失败，请联系技术人员。";
		break;
	}
}

/* 503 in the error shape; a batch adds how far it got ("printed", "failed"). */
static int reply_printer(struct kiosk_request *req, int perr, int printed, int failed)
{
	const char *code, *en, *zh;
	cJSON *o = cJSON_CreateObject();
	cJSON *e = cJSON_AddObjectToObject(o, "error");

	printer_words(perr, &code, &en, &zh);
	if (e == NULL) {
		cJSON_Delete(o);
		return -ENOMEM;
	}
	cJSON_AddStringToObject(e, "code", code);
	cJSON_AddStringToObject(e, "message", en);
	cJSON_AddStringToObject(e, "message_zh", zh);
	if (printed >= 0) {
		cJSON_AddNumberToObject(o, "printed", printed);
		cJSON_AddNumberToObject(o, "failed", failed);
	}
	return kiosk_reply_obj(req, 503, o);
}

/* A refusal of the service, by its errno. */
static int reply_refusal(struct kiosk_request *req, int ret, const struct orders_err *err)
{
	switch (ret) {
	case -EPROTO:
		return reply_err(req, 409, "illegal_transition", err,
				 "The order's state does not allow this. Refresh the screen.",
				 "工单当前状态不允许此操作，请刷新页面。");
	case -EINVAL:
		return reply_err(req, 400, "bad_request", err,
				 "Some of what was sent is not valid. Check the form.",
				 "提交的内容有误，请检查后重试。");
	case -EPERM:
	case -EACCES:
		return reply_err(req, 403, "forbidden", err,
				 "Your role may not do this. Ask a supervisor.",
				 "您的角色无权进行此操作，请联系主管。");
	case -ENOENT:
		return reply_err(req, 404, "order_not_found", err,
				 "There is no such work order on this appliance.",
				 "本设备上没有这张工单。");
	case -EEXIST:
		return reply_err(req, 409, "conflict", err, "This was already done.",
				 "此操作已完成。");
	case -ENOSPC:
		return reply_err(req, 507, "storage_full", err,
				 "The appliance's storage is full, so nothing was saved. "
				 "Call the technician.",
				 "设备存储空间已满，未能保存。请联系技术人员。");
	default:
		return reply_storage(req, ret);
	}
}

static int reply_bad(struct kiosk_request *req, const char *en, const char *zh)
{
	return kiosk_reply_error(req, 400, "bad_request", en, zh);
}

static int reply_bad_param(struct kiosk_request *req, const char *name, const char *en_what,
			   const char *zh_what)
{
	char en[200], zh[200];

	snprintf(en, sizeof(en), "The parameter '%s' must be %s.", name, en_what);
	snprintf(zh, sizeof(zh), "参数 %s 须为%s。", name, zh_what);
	return kiosk_reply_error(req, 400, "bad_parameter", en, zh);
}

/* A decimal in [min, max] with nothing after it. */
static bool parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
	int64_t v = 0;
	int n = 0;

	if (s == NULL || *s == '\0') {
		return false;
	}
	for (; *s >= '0' && *s <= '9'; s++) {
		if (++n > ID_DIGITS_MAX) {
			return false;
		}
		v = v * 10 + (*s - '0');
	}
	if (*s != '\0' || v < min || v > max) {
		return false;
	}
	*out = v;
	return true;
}

/* ---- the list, the home screen, the figures ---- */

static int get_list(struct kiosk_request *req, void *arg)
{
	struct orders_filter f;
	const char *v;
	int64_t page = 1, limit = 50;
	cJSON *out = NULL;
	int ret;

	orders_filter_init(&f);
	f.state = -1;
	f.category = -1;
	v = kiosk_req_query(req, "state");
	if (v != NULL && v[0] != '\0' && (f.state = order_state_parse(v)) < 0) {
		return reply_bad_param(req, "state",
				       "one of pending, received, handling, drafted, replied, "
				       "closed, return_pending, returned, recalled",
				       " pending、received、handling、drafted、replied、closed、"
				       "return_pending、returned、recalled 之一");
	}
	v = kiosk_req_query(req, "flag");
	if (v != NULL && v[0] != '\0') {
		ret = orders_flag_parse(v);
		if (ret < 0) {
			return reply_bad_param(req, "flag",
					       "one of due_today, overdue, due_soon, urged, "
					       "unprinted, sync_pending, conflict, open, any",
					       " due_today、overdue、due_soon、urged、unprinted、"
					       "sync_pending、conflict、open、any 之一");
		}
		f.flag = (enum orders_flag_filter)ret;
	}
	v = kiosk_req_query(req, "category");
	if (v != NULL && v[0] != '\0' && (f.category = order_category_parse(v)) < 0) {
		return reply_bad_param(req, "category",
				       "one of consult, help, complaint, report, suggestion",
				       " consult、help、complaint、report、suggestion 之一");
	}
	v = kiosk_req_query(req, "dept");
	if (v != NULL && strlen(v) >= sizeof(f.lead_dept)) {
		return reply_bad_param(req, "dept", "a department code", "部门代码");
	}
	snprintf(f.lead_dept, sizeof(f.lead_dept), "%s", v != NULL ? v : "");
	v = kiosk_req_query(req, "handler");
	if (v != NULL && strlen(v) >= sizeof(f.handler)) {
		return reply_bad_param(req, "handler", "a user id", "用户编号");
	}
	snprintf(f.handler, sizeof(f.handler), "%s", v != NULL ? v : "");
	v = kiosk_req_query(req, "q");
	if (v != NULL && strlen(v) >= sizeof(f.q)) {
		return reply_bad_param(req, "q", "a search text of at most 127 bytes",
				       "不超过 127 字节的搜索文字");
	}
	snprintf(f.q, sizeof(f.q), "%s", v != NULL ? v : "");
	v = kiosk_req_query(req, "sort");
	if (v != NULL && v[0] != '\0') {
		if (strcmp(v, "due") == 0) {
			f.sort = ORDERS_SORT_DUE;
		} else if (strcmp(v, "newest") == 0) {
			f.sort = ORDERS_SORT_DISPATCH_DESC;
		} else {
			return reply_bad_param(req, "sort", "due or newest", " due 或 newest");
		}
	}
	v = kiosk_req_query(req, "limit");
	if (v != NULL && !parse_int(v, 1, ORDER_LIST_MAX, &limit)) {
		return reply_bad_param(req, "limit", "a number from 1 to 200",
				       " 1 到 200 之间的数");
	}
	v = kiosk_req_query(req, "page");
	if (v != NULL && !parse_int(v, 1, 1000000, &page)) {
		return reply_bad_param(req, "page", "a number from 1", "从 1 开始的数");
	}
	f.limit = (int)limit;
	f.offset = (int)((page - 1) * limit);
	ret = orders_list(arg, &f, &out);
	if (ret == -EINVAL) {
		return reply_bad_param(req, "q", "a valid search", "有效的搜索条件");
	}
	if (ret < 0) {
		return reply_storage(req, ret);
	}
	cJSON_AddNumberToObject(out, "page", (double)page);
	return kiosk_reply_obj(req, 200, out);
}

static int get_home(struct kiosk_request *req, void *arg)
{
	struct orders_actor who = actor_of(req);
	cJSON *out = NULL;
	int ret = orders_home(arg, &who, &out);

	return ret < 0 ? reply_storage(req, ret) : kiosk_reply_obj(req, 200, out);
}

static int get_dashboard(struct kiosk_request *req, void *arg)
{
	const char *from = kiosk_req_query(req, "from");
	const char *to = kiosk_req_query(req, "to");
	int64_t from_ms = 0, to_ms = INT64_MAX;
	cJSON *out = NULL;
	int ret;

	if (from != NULL && !parse_int(from, 0, INT64_MAX, &from_ms)) {
		return reply_bad_param(req, "from", "a time in milliseconds since 1970",
				       "自 1970 年起的毫秒数");
	}
	if (to != NULL && !parse_int(to, 0, INT64_MAX, &to_ms)) {
		return reply_bad_param(req, "to", "a time in milliseconds since 1970",
				       "自 1970 年起的毫秒数");
	}
	if (to_ms <= from_ms) {
		return reply_bad_param(req, "to", "later than 'from'", "晚于 from 的时间");
	}
	ret = orders_dashboard(arg, from_ms, to_ms, &out);
	if (ret == -EINVAL) {
		return reply_bad_param(req, "to", "later than 'from'", "晚于 from 的时间");
	}
	return ret < 0 ? reply_storage(req, ret) : kiosk_reply_obj(req, 200, out);
}

static int reply_wrapped(struct kiosk_request *req, int ret, const char *key, cJSON *arr)
{
	cJSON *o;

	if (ret < 0) {
		return reply_storage(req, ret);
	}
	o = cJSON_CreateObject();
	if (o == NULL) {
		cJSON_Delete(arr);
		return -ENOMEM;
	}
	cJSON_AddItemToObject(o, key, arr);
	return kiosk_reply_obj(req, 200, o);
}

static int get_clock(struct kiosk_request *req, void *arg)
{
	const char *v = kiosk_req_query(req, "limit");
	int64_t limit = 100;
	cJSON *out = NULL;
	int ret;

	if (v != NULL && !parse_int(v, 1, 500, &limit)) {
		return reply_bad_param(req, "limit", "a number from 1 to 500",
				       " 1 到 500 之间的数");
	}
	ret = orders_clock_corrections_json(arg, (int)limit, &out);
	return reply_wrapped(req, ret, "corrections", out);
}

/* ---- tables ---- */

static int get_departments(struct kiosk_request *req, void *arg)
{
	cJSON *arr = NULL;
	int ret = orders_departments_json(arg, &arr);

	return reply_wrapped(req, ret, "departments", arr);
}

static int put_departments(struct kiosk_request *req, void *arg)
{
	struct orders_actor who = actor_of(req);
	struct orders_err err = { { 0 }, { 0 } };
	int ret = orders_departments_import(arg, &who, req->body, req->body_len, &err);

	if (ret == -EINVAL) {
		return reply_err(req, 400, "invalid_departments", &err,
				 "The department list is not valid.", "部门列表有误。");
	}
	return ret < 0 ? reply_refusal(req, ret, &err) : get_departments(req, arg);
}

static int get_codes(struct kiosk_request *req, void *arg)
{
	cJSON *arr = NULL;
	int ret = orders_codes_json(arg, &arr);

	return reply_wrapped(req, ret, "codes", arr);
}

static int put_codes(struct kiosk_request *req, void *arg)
{
	struct orders_actor who = actor_of(req);
	struct orders_err err = { { 0 }, { 0 } };
	int ret = orders_codes_import(arg, &who, req->body, req->body_len, &err);

	if (ret == -EINVAL) {
		return reply_err(req, 400, "invalid_codes", &err,
				 "The classification code table is not valid.", "分类代码表有误。");
	}
	return ret < 0 ? reply_refusal(req, ret, &err) : get_codes(req, arg);
}

/* ---- one order ---- */

/*
 * What follows "/api/v1/orders/": "{id}", "{id}/{verb}" or
 * "{id}/attachments/{att}". @retval the id, or -1 when it is not a number
 */
static int64_t parse_order_path(const char *rest, char *verb, size_t cap, int64_t *att)
{
	char idbuf[ID_DIGITS_MAX + 1];
	const char *slash = strchr(rest, '/');
	size_t n = slash != NULL ? (size_t)(slash - rest) : strlen(rest);
	int64_t id;

	verb[0] = '\0';
	*att = 0;
	if (n == 0 || n >= sizeof(idbuf)) {
		return -1;
	}
	memcpy(idbuf, rest, n);
	idbuf[n] = '\0';
	if (!parse_int(idbuf, 1, INT64_MAX, &id)) {
		return -1;
	}
	if (slash == NULL) {
		return id;
	}
	rest = slash + 1;
	slash = strchr(rest, '/');
	n = slash != NULL ? (size_t)(slash - rest) : strlen(rest);
	if (n == 0 || n >= cap) {
		return -1;
	}
	memcpy(verb, rest, n);
	verb[n] = '\0';
	if (slash != NULL) {
		if (strcmp(verb, "attachments") != 0 || !parse_int(slash + 1, 1, INT64_MAX, att)) {
			return -1;
		}
	}
	return id;
}

static int reply_no_route(struct kiosk_request *req)
{
	return kiosk_reply_error(req, 404, "not_found",
				 "No such work-order route. See the API description for the "
				 "orders' paths and actions.",
				 "没有这个工单接口，请查看接口说明中的路径和操作。");
}

static int reply_order(struct kiosk_request *req, struct orders *o, int64_t id, unsigned status,
		       bool reveal)
{
	struct orders_actor who = actor_of(req);
	cJSON *out = NULL;
	int ret = orders_get_json(o, &who, id, reveal, &out);

	if (ret < 0) {
		return reply_refusal(req, ret, NULL);
	}
	return kiosk_reply_obj(req, status, out);
}

static const char *ext_of(const char *mime)
{
	if (strcmp(mime, "image/jpeg") == 0) {
		return "jpg";
	}
	if (strcmp(mime, "image/png") == 0) {
		return "png";
	}
	if (strcmp(mime, "application/pdf") == 0) {
		return "pdf";
	}
	return "bin";
}

static int get_attachment(struct kiosk_request *req, struct orders *o, int64_t id, int64_t att)
{
	char mime[ORDER_MIME_MAX], disp[96];
	void *data = NULL;
	size_t len = 0;
	int ret;

	if (req->user_role == KIOSK_ROLE_TECHNICIAN) {
		/* Scans of paper replies carry citizens' names: not for maintenance. */
		return kiosk_reply_error(req, 403, "forbidden",
					 "Attachments are for staff and supervisors only.",
					 "附件仅限工作人员和主管查看。");
	}
	ret = orders_get_attachment(o, id, att, &data, &len, mime);
	if (ret == -ENOENT) {
		return kiosk_reply_error(req, 404, "attachment_not_found",
					 "This order has no such attachment.",
					 "该工单没有这个附件。");
	}
	if (ret < 0) {
		return reply_storage(req, ret);
	}
	ret = kiosk_reply(req, 200, mime, data, len);
	free(data);
	if (ret == 0) {
		snprintf(disp, sizeof(disp),
			 "attachment; filename=\"order-%" PRId64 "-%" PRId64 ".%s\"", id, att,
			 ext_of(mime));
		ret = kiosk_reply_header(req, "Content-Disposition", disp);
	}
	return ret;
}

static int get_order(struct kiosk_request *req, void *arg)
{
	char verb[16];
	int64_t att, id = parse_order_path(req->rest, verb, sizeof(verb), &att);

	if (id < 0) {
		return reply_no_route(req);
	}
	if (verb[0] == '\0') {
		return reply_order(req, arg, id, 200, false);
	}
	if (att > 0) {
		return get_attachment(req, arg, id, att);
	}
	return reply_no_route(req);
}

/* The lower-cased media type of the request, without parameters. */
static void content_type(const struct kiosk_request *req, char *out, size_t cap)
{
	const char *v = kiosk_req_header(req, "Content-Type");
	size_t n = 0;

	out[0] = '\0';
	if (v == NULL) {
		return;
	}
	while (*v == ' ') {
		v++;
	}
	for (; *v != '\0' && *v != ';' && *v != ' ' && n + 1 < cap; v++) {
		out[n++] = (char)(*v >= 'A' && *v <= 'Z' ? *v - 'A' + 'a' : *v);
	}
	out[n] = '\0';
}

static int post_attachment(struct kiosk_request *req, struct orders *o, int64_t id)
{
	struct orders_actor who = actor_of(req);
	struct orders_err err = { { 0 }, { 0 } };
	const char *name = kiosk_req_query(req, "name");
	char mime[ORDER_MIME_MAX], loc[96];
	int64_t att = 0;
	int ret;

	content_type(req, mime, sizeof(mime));
	if (strcmp(mime, "image/jpeg") != 0 && strcmp(mime, "image/png") != 0 &&
	    strcmp(mime, "application/pdf") != 0) {
		return kiosk_reply_error(
			req, 415, "unsupported_type",
			"Attach a photo (JPEG or PNG) or a PDF scan; other files "
			"are not accepted.",
			"请上传照片（JPEG 或 PNG）或 PDF 扫描件，不接受其他文件。");
	}
	if (req->body_len == 0) {
		return reply_bad(req, "The file is empty. Choose the photo or scan again.",
				 "文件是空的，请重新选择照片或扫描件。");
	}
	if (name == NULL || name[0] == '\0') {
		name = mime[0] == 'a' ? "scan.pdf" : "photo";
	}
	if (strlen(name) > FILE_NAME_MAX) {
		return reply_bad(req, "The file name is too long (at most 128 bytes).",
				 "文件名过长（最多 128 字节）。");
	}
	ret = orders_add_attachment(o, &who, id, name, mime, req->body, req->body_len, &att, &err);
	if (ret == -EFBIG) {
		return reply_err(req, 413, "attachment_too_large", &err,
				 "The file is larger than attachments may be. Scan it at a lower "
				 "resolution or split it.",
				 "文件超过附件大小上限。请降低扫描分辨率或分成几份。");
	}
	if (ret == -EINVAL) {
		return reply_err(req, 400, "bad_attachment", &err,
				 "The file's content is not the photo or PDF its type says.",
				 "文件内容与其类型不符，不是照片或 PDF。");
	}
	if (ret < 0) {
		return reply_refusal(req, ret, &err);
	}
	ret = reply_order(req, o, id, 201, false);
	if (ret == 0) {
		snprintf(loc, sizeof(loc), API "/%" PRId64 "/attachments/%" PRId64, id, att);
		ret = kiosk_reply_header(req, "Location", loc);
	}
	return ret;
}

/* A string member: absent is NULL (ok), present must be a string. */
static bool opt_str(const cJSON *body, const char *key, const char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, key);

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

static bool opt_id(const cJSON *body, const char *key, int64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, key);

	if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 9e15 ||
	    v->valuedouble != (double)(int64_t)v->valuedouble) {
		return false;
	}
	*out = (int64_t)v->valuedouble;
	return true;
}

/* A member of the wrong type or missing: -EINVAL with err saying which and how. */
static int bad_field(struct orders_err *err, const char *field, const char *en_what,
		     const char *zh_what)
{
	snprintf(err->en, sizeof(err->en), "Send \"%s\" as %s.", field, en_what);
	snprintf(err->zh, sizeof(err->zh), "请以%s发送 \"%s\"。", zh_what, field);
	return -EINVAL;
}

#define TEXT_EN "text"
#define TEXT_ZH "文字"

static int do_assign(struct orders *o, const struct orders_actor *who, int64_t id, const cJSON *b,
		     struct orders_err *err)
{
	struct order_assign a = { .complexity = -1 };
	const cJSON *co = cJSON_GetObjectItemCaseSensitive(b, "co_depts");
	const cJSON *e;
	const char *cpx;

	if (!opt_str(b, "lead_dept", &a.lead_dept) || a.lead_dept == NULL) {
		return bad_field(err, "lead_dept", "a department code", "部门代码");
	}
	if (co != NULL && !cJSON_IsNull(co)) {
		if (!cJSON_IsArray(co) || cJSON_GetArraySize(co) > ORDER_MAX_CO) {
			return bad_field(err, "co_depts", "a list of at most 8 department codes",
					 "不超过 8 个部门代码的列表");
		}
		cJSON_ArrayForEach(e, co)
		{
			if (!cJSON_IsString(e)) {
				return bad_field(err, "co_depts",
						 "a list of at most 8 department codes",
						 "不超过 8 个部门代码的列表");
			}
			a.co_depts[a.nco++] = e->valuestring;
		}
	}
	if (!opt_str(b, "handler", &a.handler)) {
		return bad_field(err, "handler", "a user id", "用户编号");
	}
	if (!opt_str(b, "note", &a.note)) {
		return bad_field(err, "note", TEXT_EN, TEXT_ZH);
	}
	if (!opt_str(b, "complexity", &cpx) ||
	    (cpx != NULL && cpx[0] != '\0' && (a.complexity = order_complexity_parse(cpx)) < 0)) {
		return bad_field(err, "complexity", "simple, complex or difficult",
				 " simple、complex 或 difficult");
	}
	return orders_assign(o, who, id, &a, err);
}

static int do_action(struct kiosk_request *req, struct orders *o, int64_t id, const char *verb,
		     const cJSON *b, struct orders_err *err)
{
	struct orders_actor who = actor_of(req);
	const char *s1 = NULL, *s2 = NULL, *s3 = NULL;
	int64_t n = 0;

	if (strcmp(verb, "sign") == 0) {
		return orders_sign(o, &who, id, err);
	}
	if (strcmp(verb, "assign") == 0) {
		return do_assign(o, &who, id, b, err);
	}
	if (strcmp(verb, "draft-reply") == 0) {
		if (!opt_str(b, "reply", &s1) || s1 == NULL) {
			return bad_field(err, "reply", "the reply's text", "答复文字");
		}
		return orders_draft_reply(o, &who, id, s1, err);
	}
	if (strcmp(verb, "reject-draft") == 0) {
		if (!opt_str(b, "comment", &s1) || s1 == NULL) {
			return bad_field(err, "comment", "the reason for sending it back",
					 "退回修改的理由");
		}
		return orders_reject_draft(o, &who, id, s1, err);
	}
	if (strcmp(verb, "sign-off") == 0) {
		return orders_sign_off(o, &who, id, err);
	}
	if (strcmp(verb, "request-return") == 0) {
		if (!opt_str(b, "reason", &s1) || s1 == NULL) {
			return bad_field(err, "reason", TEXT_EN, TEXT_ZH);
		}
		if (!opt_str(b, "basis", &s2) || s2 == NULL) {
			return bad_field(err, "basis", "the legal basis as text", "法律依据文字");
		}
		return orders_request_return(o, &who, id, s1, s2, err);
	}
	if (strcmp(verb, "request-extension") == 0) {
		if (!opt_str(b, "new_due_date", &s1) || s1 == NULL) {
			return bad_field(err, "new_due_date", "a date YYYY-MM-DD",
					 " YYYY-MM-DD 格式的日期");
		}
		if (!opt_str(b, "reason", &s2) || s2 == NULL) {
			return bad_field(err, "reason", TEXT_EN, TEXT_ZH);
		}
		if (!opt_str(b, "basis", &s3) || s3 == NULL) {
			return bad_field(err, "basis", TEXT_EN, TEXT_ZH);
		}
		return orders_request_extension(o, &who, id, s1, s2, s3, err);
	}
	if (strcmp(verb, "ack-notice") == 0) {
		if (!opt_id(b, "notice_id", &n)) {
			return bad_field(err, "notice_id", "the notice's id (a number)",
					 "督办单编号（数字）");
		}
		return orders_ack_notice(o, &who, id, n, err);
	}
	if (strcmp(verb, "ack-conflict") == 0) {
		if (!opt_id(b, "conflict_id", &n)) {
			return bad_field(err, "conflict_id", "the conflict's id (a number)",
					 "冲突记录编号（数字）");
		}
		return orders_ack_conflict(o, &who, id, n, err);
	}
	if (strcmp(verb, "link-repeat") == 0) {
		if (!opt_str(b, "number", &s1) || s1 == NULL) {
			return bad_field(err, "number", "the earlier order's number",
					 "先前工单的编号");
		}
		if (!opt_str(b, "note", &s2)) {
			return bad_field(err, "note", TEXT_EN, TEXT_ZH);
		}
		return orders_link_repeat(o, &who, id, s1, s2, err);
	}
	return 1; /* not an action */
}

static bool is_printer_err(int ret, const struct orders_err *err)
{
	/* -EBUSY and -EIO are also storage errors; the service explains printer ones. */
	return (ret == -ENOSPC || ret == -EBUSY || ret == -ENODEV || ret == -EIO ||
		ret == -ETIMEDOUT) &&
	       err->en[0] != '\0';
}

static int post_order(struct kiosk_request *req, void *arg)
{
	struct orders *o = arg;
	struct orders_err err = { { 0 }, { 0 } };
	char verb[24];
	int64_t att, id = parse_order_path(req->rest, verb, sizeof(verb), &att);
	cJSON *b = NULL;
	int ret;

	if (id < 0 || verb[0] == '\0' || att > 0) {
		return reply_no_route(req);
	}
	if (strcmp(verb, "attachments") == 0) {
		return post_attachment(req, o, id);
	}
	if (strcmp(verb, "print") == 0) {
		struct orders_actor who = actor_of(req);

		ret = orders_print_slip(o, &who, id, &err);
		if (ret < 0) {
			return is_printer_err(ret, &err) ? reply_printer(req, ret, -1, 0)
							 : reply_refusal(req, ret, &err);
		}
		return reply_order(req, o, id, 200, false);
	}
	if (strcmp(verb, "reveal-contact") == 0) {
		return reply_order(req, o, id, 200, true);
	}
	if (req->body_len > 0) {
		b = kiosk_req_object(req, &ret);
		if (b == NULL) {
			return ret;
		}
	}
	ret = do_action(req, o, id, verb, b, &err);
	cJSON_Delete(b);
	if (ret == 1) {
		return reply_no_route(req);
	}
	if (ret < 0) {
		return reply_refusal(req, ret, &err);
	}
	return reply_order(req, o, id, 200, false);
}

static int post_print_new(struct kiosk_request *req, void *arg)
{
	struct orders_actor who = actor_of(req);
	struct orders_err err = { { 0 }, { 0 } };
	int printed = 0, failed = 0;
	int ret = orders_print_new(arg, &who, &printed, &failed, &err);
	cJSON *o;

	if (ret < 0 && is_printer_err(ret, &err)) {
		return reply_printer(req, ret, printed, failed);
	}
	if (ret < 0) {
		return reply_refusal(req, ret, &err);
	}
	o = cJSON_CreateObject();
	if (o != NULL) {
		cJSON_AddNumberToObject(o, "printed", printed);
		cJSON_AddNumberToObject(o, "failed", failed);
	}
	return kiosk_reply_obj(req, 200, o);
}

int orders_routes_register(struct kiosk *k, struct orders *o)
{
	const struct kiosk_route routes[] = {
		{ "GET", API, false, READ, get_list, o },
		{ "GET", API "/home", false, READ, get_home, o },
		{ "GET", API "/dashboard", false, SUPV, get_dashboard, o },
		{ "GET", API "/clock-corrections", false, TABLE, get_clock, o },
		{ "GET", API "/departments", false, READ, get_departments, o },
		{ "PUT", API "/departments", false, TABLE, put_departments, o },
		{ "GET", API "/codes", false, READ, get_codes, o },
		{ "PUT", API "/codes", false, TABLE, put_codes, o },
		{ "POST", API "/print-new", false, WORK, post_print_new, o },
		{ "GET", API "/", true, READ, get_order, o },
		{ "POST", API "/", true, WORK, post_order, o },
	};

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		int ret = kiosk_route_add(k, &routes[i]);

		if (ret < 0) {
			return ret;
		}
	}
	return 0;
}
