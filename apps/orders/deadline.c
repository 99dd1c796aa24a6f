/*
 * Handling deadlines of work orders (docs/working-days.md): the names of
 * categories, urgencies and complexities, the two built-in rule tables, the
 * rules file, and the arithmetic of due days, pauses and flags over a
 * working-day calendar. Pure, like workcal.c.
 *
 * A rule table is searched top to bottom and the first matching row wins,
 * so a table reads like the regulation it copies ("urgent: 1 day; else by
 * category"); the parser insists on a final catch-all row and refuses rows
 * that could never apply, so every order finds exactly the row a reader of
 * the file would expect.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "orders/workcal.h"

/* ---- names ---- */

static const char *const cat_names[ORDER_CAT_N] = { "consult", "help", "complaint", "report",
						    "suggestion" };
static const char *const cat_zh[ORDER_CAT_N] = { "咨询", "求助", "投诉", "举报", "意见建议" };
static const char *const urg_names[ORDER_URG_N] = { "normal", "urgent" };
static const char *const urg_zh[ORDER_URG_N] = { "一般", "应急" };
static const char *const cpx_names[ORDER_CPX_N] = { "simple", "complex", "difficult" };
static const char *const cpx_zh[ORDER_CPX_N] = { "一般", "较复杂", "疑难" };

static const char *name_of(const char *const *names, int n, int v)
{
	return v >= 0 && v < n ? names[v] : "unknown";
}

static int parse_of(const char *const *names, int n, const char *s)
{
	for (int i = 0; s != NULL && i < n; i++) {
		if (strcmp(s, names[i]) == 0) {
			return i;
		}
	}
	return -EINVAL;
}

const char *order_category_name(enum order_category c)
{
	return name_of(cat_names, ORDER_CAT_N, (int)c);
}

const char *order_category_zh(enum order_category c)
{
	return name_of(cat_zh, ORDER_CAT_N, (int)c);
}

int order_category_parse(const char *s)
{
	return parse_of(cat_names, ORDER_CAT_N, s);
}

const char *order_urgency_name(enum order_urgency u)
{
	return name_of(urg_names, ORDER_URG_N, (int)u);
}

const char *order_urgency_zh(enum order_urgency u)
{
	return name_of(urg_zh, ORDER_URG_N, (int)u);
}

int order_urgency_parse(const char *s)
{
	return parse_of(urg_names, ORDER_URG_N, s);
}

const char *order_complexity_name(enum order_complexity x)
{
	return name_of(cpx_names, ORDER_CPX_N, (int)x);
}

const char *order_complexity_zh(enum order_complexity x)
{
	return name_of(cpx_zh, ORDER_CPX_N, (int)x);
}

int order_complexity_parse(const char *s)
{
	return parse_of(cpx_names, ORDER_CPX_N, s);
}

/* ---- the built-in tables ---- */

#define ANY DEADLINE_ANY

/* DOMAIN: immediate / urgent 1 / complex 3 / difficult 7; extension to 15. */
static const struct deadline_rule national[] = {
	{ ANY, ORDER_URG_URGENT, ANY, 1, 15, false, true },
	{ ANY, ANY, ORDER_CPX_SIMPLE, 0, 15, false, true },
	{ ANY, ANY, ORDER_CPX_COMPLEX, 3, 15, false, true },
	{ ANY, ANY, ORDER_CPX_DIFFICULT, 7, 15, false, true },
	{ ANY, ANY, ANY, 7, 15, false, true },
};

/* Guangdong style: by category; urgent 1; extension to 30. */
static const struct deadline_rule guangdong[] = {
	{ ANY, ORDER_URG_URGENT, ANY, 1, 30, false, true },
	{ ORDER_CAT_CONSULT, ANY, ANY, 2, 30, false, true },
	{ ORDER_CAT_HELP, ANY, ANY, 10, 30, false, true },
	{ ORDER_CAT_SUGGESTION, ANY, ANY, 10, 30, false, true },
	{ ORDER_CAT_COMPLAINT, ANY, ANY, 15, 30, false, true },
	{ ORDER_CAT_REPORT, ANY, ANY, 15, 30, false, true },
	{ ANY, ANY, ANY, 15, 30, false, true },
};

void deadline_preset(enum config_deadline_preset p, enum config_count_from from, int sign_for_days,
		     struct deadline_rules *out)
{
	const struct deadline_rule *t = p == CONFIG_DEADLINES_GUANGDONG ? guangdong : national;
	size_t n = p == CONFIG_DEADLINES_GUANGDONG ? sizeof(guangdong) / sizeof(guangdong[0])
						   : sizeof(national) / sizeof(national[0]);

	memset(out, 0, sizeof(*out));
	memcpy(out->rules, t, n * sizeof(t[0]));
	out->nrules = (int)n;
	out->count_from = from;
	out->sign_for_days = sign_for_days;
}

/* ---- the rules file ---- */

#define TOKEN_MAX 24

struct line_err {
	char *en;
	char *zh;
	int line;
};

static int line_fail(const struct line_err *le, const char *en, const char *zh)
{
	if (le->en != NULL) {
		snprintf(le->en, WORKCAL_ERR_MAX, "Deadline rules, line %d: %s", le->line, en);
	}
	if (le->zh != NULL) {
		snprintf(le->zh, WORKCAL_ERR_MAX, "期限规则第 %d 行：%s", le->line, zh);
	}
	return -EINVAL;
}

/* Split a line (len bytes, no newline, comment removed) into up to max
 * tokens of at most TOKEN_MAX - 1 bytes. @retval the count, -E2BIG, -EINVAL */
static int tokenize(const char *s, size_t len, char tok[][TOKEN_MAX], int max)
{
	int n = 0;
	size_t i = 0;

	while (i < len) {
		size_t start;

		while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r')) {
			i++;
		}
		if (i == len) {
			break;
		}
		start = i;
		while (i < len && s[i] != ' ' && s[i] != '\t' && s[i] != '\r') {
			i++;
		}
		if (n == max) {
			return -E2BIG;
		}
		if (i - start >= TOKEN_MAX) {
			return -EINVAL;
		}
		memcpy(tok[n], s + start, i - start);
		tok[n][i - start] = '\0';
		n++;
	}
	return n;
}

/* "*" or a name. @retval the value, DEADLINE_ANY, or -EINVAL (never -1 == ANY clash:
 * -EINVAL is -22) */
static int parse_field(const char *t, int (*parse)(const char *))
{
	return strcmp(t, "*") == 0 ? DEADLINE_ANY : parse(t);
}

/* 0..DEADLINE_MAX_DAYS written in at most two digits. @retval value, -1 */
static int parse_days(const char *t)
{
	int v = 0;

	if (t[0] == '\0' || strlen(t) > 2) {
		return -1;
	}
	for (; *t != '\0'; t++) {
		if (*t < '0' || *t > '9') {
			return -1;
		}
		v = v * 10 + (*t - '0');
	}
	return v <= DEADLINE_MAX_DAYS ? v : -1;
}

/* One row's tokens into r. @retval 0, -EINVAL (le filled) */
static int parse_row(char tok[][TOKEN_MAX], int n, struct deadline_rule *r,
		     const struct line_err *le)
{
	char en[WORKCAL_ERR_MAX], zh[WORKCAL_ERR_MAX];

	if (n < 5) {
		return line_fail(le,
				 "a row is: category urgency complexity days extension_max "
				 "[pause_extension] [pause_return].",
				 "每行格式：类别 紧急程度 复杂程度 天数 最长延期天数 "
				 "[pause_extension] [pause_return]。");
	}
	memset(r, 0, sizeof(*r));
	r->category = parse_field(tok[0], order_category_parse);
	r->urgency = parse_field(tok[1], order_urgency_parse);
	r->complexity = parse_field(tok[2], order_complexity_parse);
	r->days = parse_days(tok[3]);
	r->extension_max = parse_days(tok[4]);
	if (r->category == -EINVAL) {
		snprintf(en, sizeof(en),
			 "unknown category \"%.32s\" (consult, help, complaint, report, suggestion "
			 "or *).",
			 tok[0]);
		snprintf(
			zh, sizeof(zh),
			"未知类别 \"%.32s\"（consult、help、complaint、report、suggestion 或 *）。",
			tok[0]);
		return line_fail(le, en, zh);
	}
	if (r->urgency == -EINVAL) {
		snprintf(en, sizeof(en), "unknown urgency \"%.32s\" (normal, urgent or *).",
			 tok[1]);
		snprintf(zh, sizeof(zh), "未知紧急程度 \"%.32s\"（normal、urgent 或 *）。", tok[1]);
		return line_fail(le, en, zh);
	}
	if (r->complexity == -EINVAL) {
		snprintf(en, sizeof(en),
			 "unknown complexity \"%.32s\" (simple, complex, difficult or *).", tok[2]);
		snprintf(zh, sizeof(zh),
			 "未知复杂程度 \"%.32s\"（simple、complex、difficult 或 *）。", tok[2]);
		return line_fail(le, en, zh);
	}
	if (r->days < 0 || r->extension_max < 0) {
		snprintf(en, sizeof(en), "days and extension_max must be whole numbers 0 to %d.",
			 DEADLINE_MAX_DAYS);
		snprintf(zh, sizeof(zh), "天数和最长延期天数须为 0 至 %d 的整数。",
			 DEADLINE_MAX_DAYS);
		return line_fail(le, en, zh);
	}
	if (r->extension_max != 0 && r->extension_max <= r->days) {
		return line_fail(le, "extension_max must be 0 (no extension) or longer than days.",
				 "最长延期天数须为 0（不可延期）或大于办理天数。");
	}
	for (int i = 5; i < n; i++) {
		bool *flag = strcmp(tok[i], "pause_extension") == 0 ? &r->pause_extension
			     : strcmp(tok[i], "pause_return") == 0  ? &r->pause_return
								    : NULL;

		if (flag == NULL || *flag) {
			snprintf(
				en, sizeof(en),
				"\"%.32s\": only pause_extension and pause_return may follow, once "
				"each.",
				tok[i]);
			snprintf(zh, sizeof(zh),
				 "\"%.32s\"：其后只能跟 pause_extension 和 pause_return，各一次。",
				 tok[i]);
			return line_fail(le, en, zh);
		}
		*flag = true;
	}
	return 0;
}

static bool covers(int general, int specific)
{
	return general == DEADLINE_ANY || general == specific;
}

/* Whether row a matches every order row b matches (b can never apply after a). */
static bool shadows(const struct deadline_rule *a, const struct deadline_rule *b)
{
	return covers(a->category, b->category) && covers(a->urgency, b->urgency) &&
	       covers(a->complexity, b->complexity);
}

static bool catch_all(const struct deadline_rule *r)
{
	return r->category == DEADLINE_ANY && r->urgency == DEADLINE_ANY &&
	       r->complexity == DEADLINE_ANY;
}

/* Check and add a parsed row to t. @retval 0, -EINVAL */
static int add_row(struct deadline_rules *t, const struct deadline_rule *r, const int *lines,
		   const struct line_err *le)
{
	char en[WORKCAL_ERR_MAX], zh[WORKCAL_ERR_MAX];

	for (int i = 0; i < t->nrules; i++) {
		if (shadows(&t->rules[i], r)) {
			snprintf(en, sizeof(en),
				 "this row can never apply: line %d before it already matches "
				 "every order it would.",
				 lines[i]);
			snprintf(zh, sizeof(zh),
				 "此行永远不会生效：第 %d 行已涵盖它匹配的全部工单。", lines[i]);
			return line_fail(le, en, zh);
		}
	}
	if (t->nrules == DEADLINE_MAX_RULES) {
		snprintf(en, sizeof(en), "more than %d rows.", DEADLINE_MAX_RULES);
		snprintf(zh, sizeof(zh), "超过 %d 行。", DEADLINE_MAX_RULES);
		return line_fail(le, en, zh);
	}
	t->rules[t->nrules++] = *r;
	return 0;
}

int deadline_rules_parse(const char *text, size_t len, struct deadline_rules *out,
			 char err_en[WORKCAL_ERR_MAX], char err_zh[WORKCAL_ERR_MAX])
{
	struct deadline_rules t;
	struct line_err le = { err_en, err_zh, 0 };
	int lines[DEADLINE_MAX_RULES] = { 0 };
	size_t pos = 0;

	memset(&t, 0, sizeof(t));
	if (text == NULL || memchr(text, '\0', len) != NULL) {
		le.line = 1;
		return line_fail(&le, "the file is not text.", "文件不是文本。");
	}
	while (pos < len) {
		const char *line = text + pos, *nl = memchr(line, '\n', len - pos);
		size_t n = nl != NULL ? (size_t)(nl - line) : len - pos;
		const char *hash = memchr(line, '#', n);
		char tok[8][TOKEN_MAX];
		struct deadline_rule r;
		int ntok;

		pos += n + (nl != NULL);
		le.line++;
		ntok = tokenize(line, hash != NULL ? (size_t)(hash - line) : n, tok, 8);
		if (ntok < 0) {
			return line_fail(&le, "too many or too long words.", "词过多或过长。");
		}
		if (ntok == 0) {
			continue;
		}
		if (parse_row(tok, ntok, &r, &le) < 0 || add_row(&t, &r, lines, &le) < 0) {
			return -EINVAL;
		}
		lines[t.nrules - 1] = le.line;
	}
	if (t.nrules == 0 || !catch_all(&t.rules[t.nrules - 1])) {
		le.line = le.line > 0 ? le.line : 1;
		return line_fail(
			&le,
			"the table must end with a catch-all row \"* * * DAYS "
			"EXTENSION_MAX\", so every order has a deadline.",
			"表格须以兜底行 \"* * * 天数 最长延期天数\" 结尾，使每张工单都有期限。");
	}
	t.count_from = out->count_from;
	t.sign_for_days = out->sign_for_days;
	*out = t;
	return 0;
}

const struct deadline_rule *deadline_rule_for(const struct deadline_rules *r, int category,
					      int urgency, int complexity)
{
	for (int i = 0; i < r->nrules; i++) {
		const struct deadline_rule *x = &r->rules[i];

		if (covers(x->category, category) && covers(x->urgency, urgency) &&
		    covers(x->complexity, complexity)) {
			return x;
		}
	}
	return NULL;
}

/* ---- deadlines ---- */

workcal_day_t deadline_due_day(const struct workcal *c, workcal_day_t received, int n,
			       enum config_count_from from)
{
	bool working = workcal_is_working(c, received);

	if (n <= 0) {
		return working ? received : workcal_add_working(c, received, 1);
	}
	if (from == CONFIG_COUNT_RECEIPT_DAY && working) {
		return workcal_add_working(c, received, n - 1);
	}
	return workcal_add_working(c, received, n);
}

int64_t deadline_due_ms(const struct workcal *c, int64_t received_ms, int n,
			enum config_count_from from, int utc_offset_min)
{
	workcal_day_t day = workcal_day_of_ms(received_ms, utc_offset_min);

	return workcal_end_of_day_ms(deadline_due_day(c, day, n, from), utc_offset_min);
}

int64_t deadline_after_pause(const struct workcal *c, int64_t due_ms, int64_t from_ms,
			     int64_t to_ms, int utc_offset_min)
{
	workcal_day_t a = workcal_day_of_ms(from_ms, utc_offset_min);
	workcal_day_t b = workcal_day_of_ms(to_ms, utc_offset_min);
	workcal_day_t due = workcal_day_of_ms(due_ms, utc_offset_min);
	int k;

	if (to_ms <= from_ms) {
		return due_ms;
	}
	k = workcal_working_between(c, a, b);
	/* Keep the time of day: a due time at 24:00 stays at 24:00. */
	return due_ms + ((int64_t)workcal_add_working(c, due, k) - due) * 86400000LL;
}

enum deadline_flag deadline_flag_of(const struct workcal *c, int64_t due_ms, int64_t now_ms,
				    int due_soon_days, int utc_offset_min)
{
	workcal_day_t today = workcal_day_of_ms(now_ms, utc_offset_min);
	workcal_day_t due = workcal_day_of_ms(due_ms, utc_offset_min);

	if (now_ms > due_ms) {
		return DEADLINE_OVERDUE;
	}
	if (due <= today) {
		return DEADLINE_DUE_TODAY;
	}
	if (due_soon_days > 0 && due <= workcal_add_working(c, today, due_soon_days)) {
		return DEADLINE_DUE_SOON;
	}
	return DEADLINE_OK;
}

const char *deadline_flag_name(enum deadline_flag f)
{
	switch (f) {
	case DEADLINE_DUE_SOON:
		return "due_soon";
	case DEADLINE_DUE_TODAY:
		return "due_today";
	case DEADLINE_OVERDUE:
		return "overdue";
	default:
		return "ok";
	}
}
