/*
 * The queue's configuration: services, windows, opening hours and the
 * rules (recall limit, fairness run, rollover time, keep overnight, pause).
 * It lives in the database (written with defaults at first start, from the
 * [queue] keys of the configuration file), is cached in struct queue, and
 * is replaced whole by a supervisor through PUT /api/v1/queue/config.
 *
 * Windows name their services by prefix letter, so a new service and the
 * windows that serve it can be sent in one document before it has an id.
 * Services and windows left out are retired (active = 0), never deleted:
 * tickets and statistics still refer to them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fw/audit.h"
#include "fw/log.h"
#include "fw/outbox.h"
#include "fw/store.h"
#include "queue_internal.h"

static const char *const wday_keys[7] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };

void queue_config_default(struct queue_config *c, const struct queue_params *p)
{
	memset(c, 0, sizeof(*c));
	c->nservices = 2;
	c->services[0] = (struct queue_service_cfg){
		.name_zh = "综合咨询",
		.name_en = "General enquiries",
		.prefix = 'A',
		.num_min = 1,
		.num_max = 999,
		.priority_lane = true,
		.ndocs = 1,
		.documents_zh = { "身份证" },
		.documents_en = { "ID card" },
	};
	c->services[1] = (struct queue_service_cfg){
		.name_zh = "投诉受理",
		.name_en = "Complaints",
		.prefix = 'B',
		.num_min = 1,
		.num_max = 999,
		.priority_lane = true,
		.ndocs = 2,
		.documents_zh = { "身份证", "相关材料" },
		.documents_en = { "ID card", "Related documents" },
	};
	c->nwindows = 3;
	for (int i = 0; i < 3; i++) {
		c->windows[i].no = i + 1;
		snprintf(c->windows[i].name_zh, sizeof(c->windows[i].name_zh), "%d号窗口", i + 1);
		snprintf(c->windows[i].name_en, sizeof(c->windows[i].name_en), "Window %d", i + 1);
	}
	snprintf(c->windows[0].services, sizeof(c->windows[0].services), "AB");
	snprintf(c->windows[1].services, sizeof(c->windows[1].services), "AB");
	snprintf(c->windows[2].services, sizeof(c->windows[2].services), "BA");
	for (int d = 0; d < 7; d++) {
		bool weekday = d >= 1 && d <= 5;

		c->open_min[d] = weekday ? 9 * 60 : -1;
		c->close_min[d] = weekday ? 17 * 60 : -1;
	}
	c->recall_max = p != NULL ? p->recall_max : 3;
	c->priority_run = p != NULL ? p->priority_run : 3;
	c->rollover_min = p != NULL ? p->rollover_min : 240;
	c->keep_overnight = p != NULL && p->keep_overnight;
}

/* ---- validation ---- */

static int bad(char en[160], char zh[160], const char *m_en, const char *m_zh)
{
	snprintf(en, 160, "%s", m_en);
	snprintf(zh, 160, "%s", m_zh);
	return -EINVAL;
}

int queue_config_validate(const struct queue_config *c, char en[160], char zh[160])
{
	char m_en[160], m_zh[160];

	if (c->nservices < 1 || c->nservices > QUEUE_MAX_SERVICES) {
		return bad(en, zh, "Configure from 1 to 32 services.", "业务数量须为 1 至 32 个。");
	}
	if (c->nwindows < 1 || c->nwindows > QUEUE_MAX_WINDOWS) {
		return bad(en, zh, "Configure from 1 to 32 windows.", "窗口数量须为 1 至 32 个。");
	}
	for (int i = 0; i < c->nservices; i++) {
		const struct queue_service_cfg *s = &c->services[i];
		bool served = false;

		if (!queue_text_ok(s->name_zh, 63) || !queue_text_ok(s->name_en, 63)) {
			return bad(en, zh,
				   "Each service needs a Chinese and an English name of at most 63 "
				   "bytes.",
				   "每项业务须有中文和英文名称，各不超过 63 字节。");
		}
		if (s->prefix < 'A' || s->prefix > 'Z') {
			return bad(en, zh, "A service's prefix must be one letter from A to Z.",
				   "业务的号码前缀须为 A 至 Z 中的一个字母。");
		}
		for (int j = 0; j < i; j++) {
			if (c->services[j].prefix == s->prefix) {
				snprintf(
					m_en, sizeof(m_en),
					"Two services use the prefix %c; give each its own letter.",
					s->prefix);
				snprintf(m_zh, sizeof(m_zh),
					 "两项业务使用了相同前缀 %c，请各用一个字母。", s->prefix);
				return bad(en, zh, m_en, m_zh);
			}
		}
		if (s->num_min < 1 || s->num_max > QUEUE_NUMBER_MAX || s->num_min > s->num_max) {
			return bad(
				en, zh,
				"A service's number range must lie within 1 to 999, the first not "
				"above the last.",
				"业务的号码范围须在 1 至 999 之内，且起始号不大于结束号。");
		}
		if (s->ndocs < 0 || s->ndocs > QUEUE_MAX_DOCS) {
			return bad(en, zh, "List at most 8 required documents per service.",
				   "每项业务最多列出 8 项所需材料。");
		}
		for (int d = 0; d < s->ndocs; d++) {
			if (!queue_text_ok(s->documents_zh[d], 95) ||
			    !queue_text_ok(s->documents_en[d], 95)) {
				return bad(en, zh,
					   "Each required document needs a Chinese and an English "
					   "name of at most 95 bytes.",
					   "每项所需材料须有中文和英文名称，各不超过 95 字节。");
			}
		}
		for (int w = 0; w < c->nwindows; w++) {
			served = served || strchr(c->windows[w].services, s->prefix) != NULL;
		}
		if (!served) {
			snprintf(m_en, sizeof(m_en),
				 "No window serves the service with prefix %c; add it to a window.",
				 s->prefix);
			snprintf(m_zh, sizeof(m_zh),
				 "没有窗口办理前缀为 %c 的业务，请将其加入某个窗口。", s->prefix);
			return bad(en, zh, m_en, m_zh);
		}
	}
	for (int i = 0; i < c->nwindows; i++) {
		const struct queue_window_cfg *w = &c->windows[i];
		size_t n = strnlen(w->services, sizeof(w->services));

		if (w->no < 1 || w->no > 99) {
			return bad(en, zh, "Window numbers must be from 1 to 99.",
				   "窗口号须为 1 至 99。");
		}
		for (int j = 0; j < i; j++) {
			if (c->windows[j].no == w->no) {
				return bad(en, zh, "Two windows have the same number.",
					   "有两个窗口的窗口号相同。");
			}
		}
		if (!queue_text_ok(w->name_zh, 31) || !queue_text_ok(w->name_en, 31)) {
			return bad(en, zh,
				   "Each window needs a Chinese and an English name of at most 31 "
				   "bytes.",
				   "每个窗口须有中文和英文名称，各不超过 31 字节。");
		}
		if (n < 1 || n > QUEUE_MAX_SERVICES) {
			return bad(en, zh, "Each window must serve at least one service.",
				   "每个窗口须至少办理一项业务。");
		}
		for (size_t k = 0; k < n; k++) {
			bool known = false;

			for (int s = 0; s < c->nservices; s++) {
				known = known || c->services[s].prefix == w->services[k];
			}
			if (!known || memchr(w->services, w->services[k], k) != NULL) {
				return bad(
					en, zh,
					"A window lists a service that is not configured, or one "
					"twice.",
					"某窗口列出了未配置的业务，或重复列出同一业务。");
			}
		}
	}
	for (int d = 0; d < 7; d++) {
		if (c->open_min[d] < 0) {
			continue;
		}
		if (c->open_min[d] >= c->close_min[d] || c->close_min[d] > 24 * 60) {
			return bad(en, zh,
				   "Opening hours must open before they close, within the day.",
				   "营业时间的开始须早于结束，且在当天之内。");
		}
	}
	if (c->recall_max < 0 || c->recall_max > 10) {
		return bad(en, zh, "recall_max must be from 0 to 10.",
			   "重呼次数上限 recall_max 须为 0 至 10。");
	}
	if (c->priority_run < 1 || c->priority_run > 20) {
		return bad(en, zh, "priority_run must be from 1 to 20.",
			   "连续优先叫号数 priority_run 须为 1 至 20。");
	}
	if (c->rollover_min < 0 || c->rollover_min >= 24 * 60) {
		return bad(en, zh, "rollover must be a time from 00:00 to 23:59.",
			   "换日时间 rollover 须为 00:00 至 23:59 之间的时间。");
	}
	return 0;
}

/* ---- JSON ---- */

static int parse_hhmm(const char *s)
{
	if (s == NULL || strlen(s) != 5 || s[2] != ':') {
		return -1;
	}
	for (int i = 0; i < 5; i++) {
		if (i != 2 && (s[i] < '0' || s[i] > '9')) {
			return -1;
		}
	}
	int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');

	if (m > 59 || h > 24 || (h == 24 && m != 0)) {
		return -1;
	}
	return h * 60 + m;
}

static bool get_str(const cJSON *o, const char *key, char *out, size_t cap)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));

	if (s == NULL || strlen(s) >= cap) {
		return false;
	}
	memcpy(out, s, strlen(s) + 1);
	return true;
}

static bool get_int(const cJSON *o, const char *key, int *out, bool optional)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (v == NULL && optional) {
		return true;
	}
	if (!cJSON_IsNumber(v) || v->valuedouble != (double)(int)v->valuedouble) {
		return false;
	}
	*out = (int)v->valuedouble;
	return true;
}

static bool get_bool(const cJSON *o, const char *key, bool *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (v == NULL) {
		return true;
	}
	if (!cJSON_IsBool(v)) {
		return false;
	}
	*out = cJSON_IsTrue(v);
	return true;
}

static bool get_docs(const cJSON *o, const char *key, char docs[QUEUE_MAX_DOCS][96], int *n)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key), *e;
	int i = 0;

	if (a == NULL) {
		*n = 0;
		return true;
	}
	if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) > QUEUE_MAX_DOCS) {
		return false;
	}
	cJSON_ArrayForEach(e, a)
	{
		const char *s = cJSON_GetStringValue(e);

		if (s == NULL || strlen(s) >= 96) {
			return false;
		}
		snprintf(docs[i++], 96, "%s", s);
	}
	*n = i;
	return true;
}

static int parse_service(const cJSON *o, struct queue_service_cfg *s, char en[160], char zh[160])
{
	char prefix[4];
	int nzh = 0, nen = 0;

	memset(s, 0, sizeof(*s));
	s->num_min = 1;
	s->num_max = QUEUE_NUMBER_MAX;
	if (!cJSON_IsObject(o) || !get_int(o, "id", &s->id, true) ||
	    !get_str(o, "name_zh", s->name_zh, sizeof(s->name_zh)) ||
	    !get_str(o, "name_en", s->name_en, sizeof(s->name_en)) ||
	    !get_str(o, "prefix", prefix, sizeof(prefix)) || strlen(prefix) != 1 ||
	    !get_int(o, "num_min", &s->num_min, true) ||
	    !get_int(o, "num_max", &s->num_max, true) ||
	    !get_bool(o, "priority_lane", &s->priority_lane) ||
	    !get_docs(o, "documents_zh", s->documents_zh, &nzh) ||
	    !get_docs(o, "documents_en", s->documents_en, &nen)) {
		return bad(en, zh,
			   "Each service needs name_zh, name_en (text), prefix (one letter); "
			   "num_min, num_max, priority_lane and documents_zh/_en are optional.",
			   "每项业务须有 name_zh、name_en（文字）和 prefix（一个字母）；num_min、"
			   "num_max、priority_lane、documents_zh/_en 可选。");
	}
	if (nzh != nen) {
		return bad(en, zh, "documents_zh and documents_en must list the same documents.",
			   "中英文材料清单 documents_zh 与 documents_en 须列出相同的材料。");
	}
	s->prefix = prefix[0];
	s->ndocs = nzh;
	return 0;
}

static int parse_window(const cJSON *o, struct queue_window_cfg *w, char en[160], char zh[160])
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "services"), *e;
	size_t n = 0;

	memset(w, 0, sizeof(*w));
	if (!cJSON_IsObject(o) || !get_int(o, "no", &w->no, false) ||
	    !get_str(o, "name_zh", w->name_zh, sizeof(w->name_zh)) ||
	    !get_str(o, "name_en", w->name_en, sizeof(w->name_en)) || !cJSON_IsArray(a) ||
	    cJSON_GetArraySize(a) > QUEUE_MAX_SERVICES) {
		return bad(en, zh,
			   "Each window needs no, name_zh, name_en (at most 31 bytes) and services "
			   "(the prefixes it serves, preferred first).",
			   "每个窗口须有 no、name_zh、name_en（不超过 31 字节）和 services"
			   "（所办业务的前缀，优先的在前）。");
	}
	cJSON_ArrayForEach(e, a)
	{
		const char *s = cJSON_GetStringValue(e);

		if (s == NULL || strlen(s) != 1) {
			return bad(en, zh, "A window's services are prefix letters such as \"A\".",
				   "窗口的 services 为业务前缀字母，例如 \"A\"。");
		}
		w->services[n++] = s[0];
	}
	w->services[n] = '\0';
	return 0;
}

int queue_config_from_json(const char *json, struct queue_config *c, char en[160], char zh[160])
{
	cJSON *root = cJSON_Parse(json), *e;
	const cJSON *a, *h;
	char roll[8];
	int ret = 0;

	memset(c, 0, sizeof(*c));
	if (!cJSON_IsObject(root)) {
		ret = bad(en, zh, "The configuration must be a JSON object.",
			  "配置须为 JSON 对象。");
		goto out;
	}
	a = cJSON_GetObjectItemCaseSensitive(root, "services");
	if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) > QUEUE_MAX_SERVICES) {
		ret = bad(en, zh, "services must be a list of 1 to 32 services.",
			  "业务列表 services 须为 1 至 32 项业务。");
		goto out;
	}
	cJSON_ArrayForEach(e, a)
	{
		ret = parse_service(e, &c->services[c->nservices++], en, zh);
		if (ret < 0) {
			goto out;
		}
	}
	a = cJSON_GetObjectItemCaseSensitive(root, "windows");
	if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) > QUEUE_MAX_WINDOWS) {
		ret = bad(en, zh, "windows must be a list of 1 to 32 windows.",
			  "窗口列表 windows 须为 1 至 32 个窗口。");
		goto out;
	}
	cJSON_ArrayForEach(e, a)
	{
		ret = parse_window(e, &c->windows[c->nwindows++], en, zh);
		if (ret < 0) {
			goto out;
		}
	}
	h = cJSON_GetObjectItemCaseSensitive(root, "hours");
	if (!cJSON_IsObject(h)) {
		ret = bad(en, zh,
			  "hours must give each weekday (sun … sat) {\"open\":\"09:00\","
			  "\"close\":\"17:00\"} or null when closed.",
			  "营业时间 hours 须为每个星期几（sun … sat）给出 "
			  "{\"open\":\"09:00\",\"close\":"
			  "\"17:00\"}，休息日为 null。");
		goto out;
	}
	for (int d = 0; d < 7; d++) {
		const cJSON *day = cJSON_GetObjectItemCaseSensitive(h, wday_keys[d]);

		c->open_min[d] = c->close_min[d] = -1;
		if (day == NULL || cJSON_IsNull(day)) {
			continue;
		}
		c->open_min[d] = parse_hhmm(
			cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(day, "open")));
		c->close_min[d] = parse_hhmm(
			cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(day, "close")));
		if (c->open_min[d] < 0 || c->close_min[d] < 0) {
			ret = bad(en, zh, "Opening hours are times HH:MM such as 09:00.",
				  "营业时间须为 HH:MM 格式，例如 09:00。");
			goto out;
		}
	}
	c->recall_max = 3;
	c->priority_run = 3;
	c->rollover_min = 240;
	if (!get_int(root, "recall_max", &c->recall_max, true) ||
	    !get_int(root, "priority_run", &c->priority_run, true) ||
	    !get_bool(root, "keep_overnight", &c->keep_overnight) ||
	    !get_bool(root, "paused", &c->paused)) {
		ret = bad(
			en, zh,
			"recall_max and priority_run are whole numbers; keep_overnight and paused "
			"are true or false.",
			"重呼上限 recall_max 与 priority_run 须为整数；keep_overnight 与 paused "
			"须为 true 或 "
			"false。");
		goto out;
	}
	if (cJSON_GetObjectItemCaseSensitive(root, "rollover") != NULL) {
		if (!get_str(root, "rollover", roll, sizeof(roll)) ||
		    (c->rollover_min = parse_hhmm(roll)) < 0 || c->rollover_min >= 24 * 60) {
			ret = bad(en, zh, "rollover must be a time HH:MM such as 04:00.",
				  "换日时间 rollover 须为 HH:MM 格式，例如 04:00。");
			goto out;
		}
	}
	ret = queue_config_validate(c, en, zh);
out:
	cJSON_Delete(root);
	return ret;
}

char *queue_config_to_json(const struct queue_config *c)
{
	cJSON *root = cJSON_CreateObject(), *a, *h;
	char *out = NULL;
	char t[8];

	if (root == NULL) {
		return NULL;
	}
	a = cJSON_AddArrayToObject(root, "services");
	for (int i = 0; a != NULL && i < c->nservices; i++) {
		const struct queue_service_cfg *s = &c->services[i];
		cJSON *o = cJSON_CreateObject(), *dz, *de;
		char p[2] = { s->prefix, '\0' };

		cJSON_AddItemToArray(a, o);
		cJSON_AddNumberToObject(o, "id", s->id);
		cJSON_AddStringToObject(o, "name_zh", s->name_zh);
		cJSON_AddStringToObject(o, "name_en", s->name_en);
		cJSON_AddStringToObject(o, "prefix", p);
		cJSON_AddNumberToObject(o, "num_min", s->num_min);
		cJSON_AddNumberToObject(o, "num_max", s->num_max);
		cJSON_AddBoolToObject(o, "priority_lane", s->priority_lane);
		dz = cJSON_AddArrayToObject(o, "documents_zh");
		de = cJSON_AddArrayToObject(o, "documents_en");
		for (int d = 0; d < s->ndocs; d++) {
			cJSON_AddItemToArray(dz, cJSON_CreateString(s->documents_zh[d]));
			cJSON_AddItemToArray(de, cJSON_CreateString(s->documents_en[d]));
		}
	}
	a = cJSON_AddArrayToObject(root, "windows");
	for (int i = 0; a != NULL && i < c->nwindows; i++) {
		const struct queue_window_cfg *w = &c->windows[i];
		cJSON *o = cJSON_CreateObject(), *sv;

		cJSON_AddItemToArray(a, o);
		cJSON_AddNumberToObject(o, "no", w->no);
		cJSON_AddStringToObject(o, "name_zh", w->name_zh);
		cJSON_AddStringToObject(o, "name_en", w->name_en);
		sv = cJSON_AddArrayToObject(o, "services");
		for (const char *p = w->services; *p != '\0'; p++) {
			char s[2] = { *p, '\0' };

			cJSON_AddItemToArray(sv, cJSON_CreateString(s));
		}
	}
	h = cJSON_AddObjectToObject(root, "hours");
	for (int d = 0; h != NULL && d < 7; d++) {
		if (c->open_min[d] < 0) {
			cJSON_AddNullToObject(h, wday_keys[d]);
			continue;
		}
		cJSON *o = cJSON_AddObjectToObject(h, wday_keys[d]);

		snprintf(t, sizeof(t), "%02d:%02d", c->open_min[d] / 60 % 100, c->open_min[d] % 60);
		cJSON_AddStringToObject(o, "open", t);
		snprintf(t, sizeof(t), "%02d:%02d", c->close_min[d] / 60 % 100,
			 c->close_min[d] % 60);
		cJSON_AddStringToObject(o, "close", t);
	}
	cJSON_AddNumberToObject(root, "recall_max", c->recall_max);
	cJSON_AddNumberToObject(root, "priority_run", c->priority_run);
	snprintf(t, sizeof(t), "%02d:%02d", c->rollover_min / 60 % 100, c->rollover_min % 60);
	cJSON_AddStringToObject(root, "rollover", t);
	cJSON_AddBoolToObject(root, "keep_overnight", c->keep_overnight);
	cJSON_AddBoolToObject(root, "paused", c->paused);
	out = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return out;
}

/* ---- storage ---- */

static void hours_text(const struct queue_config *c, char *buf, size_t cap)
{
	size_t used = 0;

	for (int d = 0; d < 7; d++) {
		used += (size_t)snprintf(buf + used, cap - used, "%s%d,%d", d ? ";" : "",
					 c->open_min[d], c->close_min[d]);
	}
}

static void hours_parse(struct queue_config *c, const char *s)
{
	for (int d = 0; d < 7; d++) {
		c->open_min[d] = c->close_min[d] = -1;
	}
	for (int d = 0; s != NULL && d < 7; d++) {
		int o, cl;

		if (sscanf(s, "%d,%d", &o, &cl) == 2) {
			c->open_min[d] = o;
			c->close_min[d] = cl;
		}
		s = strchr(s, ';');
		if (s != NULL) {
			s++;
		}
	}
}

static char *docs_json(const char docs[QUEUE_MAX_DOCS][96], int n)
{
	cJSON *a = cJSON_CreateArray();
	char *out;

	for (int i = 0; a != NULL && i < n; i++) {
		cJSON_AddItemToArray(a, cJSON_CreateString(docs[i]));
	}
	out = a != NULL ? cJSON_PrintUnformatted(a) : NULL;
	cJSON_Delete(a);
	return out;
}

static void docs_parse(const char *json, char docs[QUEUE_MAX_DOCS][96], int *n)
{
	cJSON *a = cJSON_Parse(json != NULL ? json : "[]"), *e;

	*n = 0;
	cJSON_ArrayForEach(e, a)
	{
		const char *s = cJSON_GetStringValue(e);

		if (s != NULL && *n < QUEUE_MAX_DOCS) {
			snprintf(docs[(*n)++], 96, "%s", s);
		}
	}
	cJSON_Delete(a);
}

/* Write c into the tables (inside a transaction). */
static int save(struct queue *q, const struct queue_config *c, const char *day)
{
	char hours[160];
	sqlite3_stmt *st;
	int ret;

	hours_text(c, hours, sizeof(hours));
	ret = store_prepare(
		q->db,
		"INSERT INTO queue_settings (id, recall_max, priority_run, rollover_min, "
		"keep_overnight, paused, hours, day) VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7) "
		"ON CONFLICT (id) DO UPDATE SET recall_max = ?1, priority_run = ?2, "
		"rollover_min = ?3, keep_overnight = ?4, paused = ?5, hours = ?6",
		&st);
	if (ret < 0) {
		return ret;
	}
	sqlite3_bind_int(st, 1, c->recall_max);
	sqlite3_bind_int(st, 2, c->priority_run);
	sqlite3_bind_int(st, 3, c->rollover_min);
	sqlite3_bind_int(st, 4, c->keep_overnight);
	sqlite3_bind_int(st, 5, c->paused);
	sqlite3_bind_text(st, 6, hours, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 7, day, -1, SQLITE_TRANSIENT);
	ret = store_step_done(q->db, st, "queue settings");
	if (ret == 0) {
		ret = store_exec(q->db, "UPDATE queue_services SET active = 0;"
					"UPDATE queue_windows SET active = 0;"
					"DELETE FROM queue_window_services;");
	}
	for (int i = 0; ret == 0 && i < c->nservices; i++) {
		const struct queue_service_cfg *s = &c->services[i];
		char p[2] = { s->prefix, '\0' };
		char *dz = docs_json(s->documents_zh, s->ndocs);
		char *de = docs_json(s->documents_en, s->ndocs);

		int id = s->id;

		ret = dz != NULL && de != NULL ? 0 : -ENOMEM;
		/* Without an id, a service keeps the id of the one with its prefix. */
		if (ret == 0 && id <= 0) {
			ret = store_prepare(
				q->db,
				"SELECT id FROM queue_services WHERE prefix = ?1 ORDER BY "
				"active DESC, id DESC LIMIT 1",
				&st);
			if (ret == 0) {
				sqlite3_bind_text(st, 1, p, -1, SQLITE_TRANSIENT);
				if (sqlite3_step(st) == SQLITE_ROW) {
					id = sqlite3_column_int(st, 0);
				}
				sqlite3_finalize(st);
			}
		}
		if (ret == 0) {
			ret = store_prepare(
				q->db,
				"INSERT INTO queue_services (id, name_zh, name_en, prefix, "
				"num_min, num_max, priority_lane, documents_zh, documents_en, "
				"position, active) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
				"?10, 1) ON CONFLICT (id) DO UPDATE SET name_zh = ?2, "
				"name_en = ?3, prefix = ?4, num_min = ?5, num_max = ?6, "
				"priority_lane = ?7, documents_zh = ?8, documents_en = ?9, "
				"position = ?10, active = 1",
				&st);
		}
		if (ret == 0) {
			if (id > 0) {
				sqlite3_bind_int(st, 1, id);
			}
			sqlite3_bind_text(st, 2, s->name_zh, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(st, 3, s->name_en, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(st, 4, p, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int(st, 5, s->num_min);
			sqlite3_bind_int(st, 6, s->num_max);
			sqlite3_bind_int(st, 7, s->priority_lane);
			sqlite3_bind_text(st, 8, dz, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(st, 9, de, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int(st, 10, i);
			ret = store_step_done(q->db, st, "queue settings");
		}
		free(dz);
		free(de);
	}
	for (int i = 0; ret == 0 && i < c->nwindows; i++) {
		const struct queue_window_cfg *w = &c->windows[i];

		ret = store_prepare(
			q->db,
			"INSERT INTO queue_windows (no, name_zh, name_en, active) VALUES (?1, "
			"?2, ?3, 1) ON CONFLICT (no) DO UPDATE SET name_zh = ?2, name_en = ?3, "
			"active = 1",
			&st);
		if (ret < 0) {
			break;
		}
		sqlite3_bind_int(st, 1, w->no);
		sqlite3_bind_text(st, 2, w->name_zh, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 3, w->name_en, -1, SQLITE_TRANSIENT);
		ret = store_step_done(q->db, st, "queue settings");
		for (int k = 0; ret == 0 && w->services[k] != '\0'; k++) {
			char p[2] = { w->services[k], '\0' };

			ret = store_prepare(
				q->db,
				"INSERT INTO queue_window_services (window_no, service_id, "
				"rank) SELECT ?1, id, ?3 FROM queue_services WHERE prefix = ?2 "
				"AND active = 1",
				&st);
			if (ret == 0) {
				sqlite3_bind_int(st, 1, w->no);
				sqlite3_bind_text(st, 2, p, -1, SQLITE_TRANSIENT);
				sqlite3_bind_int(st, 3, k);
				ret = store_step_done(q->db, st, "queue settings");
			}
		}
	}
	/* A retired window closes. */
	if (ret == 0) {
		ret = store_exec(q->db,
				 "UPDATE queue_windows SET state = 'closed' WHERE active = 0");
	}
	return ret;
}

int queue_config_seed(struct queue *q, const struct queue_params *p)
{
	struct queue_config c;
	sqlite3_stmt *st;
	char day[11];
	int ret, n = -1;

	ret = store_prepare(q->db, "SELECT count(*) FROM queue_settings", &st);
	if (ret < 0) {
		return ret;
	}
	if (sqlite3_step(st) == SQLITE_ROW) {
		n = sqlite3_column_int(st, 0);
	}
	sqlite3_finalize(st);
	if (n != 0) {
		return n < 0 ? -EIO : 0;
	}
	queue_config_default(&c, p);
	queue_day_of(queue_now(q), q->utc_offset_min, c.rollover_min, day);
	ret = store_begin(q->db);
	if (ret < 0) {
		return ret;
	}
	ret = save(q, &c, day);
	if (ret == 0) {
		ret = store_commit(q->db);
	} else {
		store_rollback(q->db);
	}
	if (ret == 0) {
		log_info(MOD, "the ticket queue was set up with two services and three windows; a "
			      "supervisor can change them in the queue settings");
	}
	return ret;
}

int queue_config_load(struct queue *q)
{
	struct queue_config *c = &q->cfg;
	sqlite3_stmt *st;
	int ret, rc;

	memset(c, 0, sizeof(*c));
	ret = store_prepare(
		q->db,
		"SELECT recall_max, priority_run, rollover_min, keep_overnight, paused, "
		"hours, day FROM queue_settings WHERE id = 1",
		&st);
	if (ret < 0) {
		return ret;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		c->recall_max = sqlite3_column_int(st, 0);
		c->priority_run = sqlite3_column_int(st, 1);
		c->rollover_min = sqlite3_column_int(st, 2);
		c->keep_overnight = sqlite3_column_int(st, 3) != 0;
		c->paused = sqlite3_column_int(st, 4) != 0;
		hours_parse(c, (const char *)sqlite3_column_text(st, 5));
		snprintf(q->day, sizeof(q->day), "%s", (const char *)sqlite3_column_text(st, 6));
	} else {
		ret = rc == SQLITE_DONE ? -ENOENT : store_err(q->db, rc, "reading queue settings");
	}
	sqlite3_finalize(st);
	if (ret < 0) {
		return ret;
	}
	ret = store_prepare(
		q->db,
		"SELECT id, name_zh, name_en, prefix, num_min, num_max, priority_lane, "
		"documents_zh, documents_en FROM queue_services WHERE active = 1 ORDER BY "
		"position, id",
		&st);
	if (ret < 0) {
		return ret;
	}
	while (c->nservices < QUEUE_MAX_SERVICES && sqlite3_step(st) == SQLITE_ROW) {
		struct queue_service_cfg *s = &c->services[c->nservices++];
		int nen = 0;

		s->id = sqlite3_column_int(st, 0);
		snprintf(s->name_zh, sizeof(s->name_zh), "%s", sqlite3_column_text(st, 1));
		snprintf(s->name_en, sizeof(s->name_en), "%s", sqlite3_column_text(st, 2));
		s->prefix = (char)sqlite3_column_text(st, 3)[0];
		s->num_min = sqlite3_column_int(st, 4);
		s->num_max = sqlite3_column_int(st, 5);
		s->priority_lane = sqlite3_column_int(st, 6) != 0;
		docs_parse((const char *)sqlite3_column_text(st, 7), s->documents_zh, &s->ndocs);
		docs_parse((const char *)sqlite3_column_text(st, 8), s->documents_en, &nen);
		if (nen < s->ndocs) {
			s->ndocs = nen;
		}
	}
	sqlite3_finalize(st);
	ret = store_prepare(
		q->db,
		"SELECT w.no, w.name_zh, w.name_en, (SELECT group_concat(prefix, '') FROM "
		"(SELECT s.prefix FROM queue_window_services ws JOIN queue_services s ON "
		"s.id = ws.service_id WHERE ws.window_no = w.no AND s.active = 1 ORDER BY "
		"ws.rank)) FROM queue_windows w WHERE w.active = 1 ORDER BY w.no",
		&st);
	if (ret < 0) {
		return ret;
	}
	while (c->nwindows < QUEUE_MAX_WINDOWS && sqlite3_step(st) == SQLITE_ROW) {
		struct queue_window_cfg *w = &c->windows[c->nwindows++];
		const unsigned char *sv = sqlite3_column_text(st, 3);

		w->no = sqlite3_column_int(st, 0);
		snprintf(w->name_zh, sizeof(w->name_zh), "%s", sqlite3_column_text(st, 1));
		snprintf(w->name_en, sizeof(w->name_en), "%s", sqlite3_column_text(st, 2));
		snprintf(w->services, sizeof(w->services), "%s",
			 sv != NULL ? (const char *)sv : "");
	}
	sqlite3_finalize(st);
	return 0;
}

int queue_config_get(struct queue *q, struct queue_config *out)
{
	pthread_mutex_lock(&q->lock);
	*out = q->cfg;
	pthread_mutex_unlock(&q->lock);
	return 0;
}

int queue_config_set(struct queue *q, const struct queue_actor *who, const struct queue_config *c,
		     char en[160], char zh[160])
{
	struct audit_entry e = {
		.actor = who != NULL && who->user_id != NULL ? who->user_id : "system",
		.role = who != NULL && who->role != NULL ? who->role : "system",
		.action = "queue.config",
		.target = "",
		.outcome = "ok",
	};
	char detail[96];
	int ret = queue_config_validate(c, en, zh);

	if (ret < 0) {
		return ret;
	}
	snprintf(detail, sizeof(detail), "{\"services\":%d,\"windows\":%d,\"paused\":%s}",
		 c->nservices, c->nwindows, c->paused ? "true" : "false");
	e.detail = detail;
	pthread_mutex_lock(&q->lock);
	ret = store_begin(q->db);
	if (ret < 0) {
		goto out_unlock;
	}
	ret = save(q, c, q->day);
	if (ret == 0) {
		ret = audit_append(q->db, &e);
	}
	if (ret == 0) {
		ret = store_commit(q->db);
	} else {
		store_rollback(q->db);
	}
	/* Reload either way: the cache must match what is stored. */
	if (queue_config_load(q) < 0 && ret == 0) {
		ret = -EIO;
	}
	if (ret == -EEXIST) {
		ret = bad(en, zh, "Two services use the same prefix.", "两项业务使用了相同前缀。");
	}
out_unlock:
	pthread_mutex_unlock(&q->lock);
	return ret;
}
