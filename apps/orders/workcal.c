/*
 * The working-day calendar (docs/working-days.md): civil dates as day
 * numbers, a calendar of listed days (holidays, and weekend days declared
 * working days, 调休) for the years it has data for, and the year file in
 * JSON. Pure: no storage, clock or locks; callers own the struct workcal.
 *
 * The one design decision: the listed days are kept in one array sorted by
 * day, so a lookup is a binary search and a count of working days over a
 * span is arithmetic on weekdays corrected by the listed days inside it,
 * never a walk over every day. A year is replaced as a whole, after the
 * whole of its new data has been checked, so a bad file never leaves half
 * a year behind.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "orders/workcal.h"

#define MS_PER_DAY 86400000LL

/* The largest year file accepted (a full year of listed days is ~40 KB). */
#define YEAR_FILE_MAX (256 * 1024)

/* ---- dates ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
	return a >= 0 ? a / b : -((-a + b - 1) / b);
}

workcal_day_t workcal_day_from_ymd(int y, int m, int d)
{
	/* Days from civil (Howard Hinnant's algorithm). */
	int64_t yy = (int64_t)y - (m <= 2);
	int64_t era = floor_div(yy, 400);
	int64_t yoe = yy - era * 400;
	int64_t mp = m > 2 ? m - 3 : m + 9;
	int64_t doy = (153 * mp + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return (workcal_day_t)(era * 146097 + doe - 719468);
}

void workcal_day_to_ymd(workcal_day_t day, int *y, int *m, int *d)
{
	int64_t z = (int64_t)day + 719468;
	int64_t era = floor_div(z, 146097);
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t mm = mp < 10 ? mp + 3 : mp - 9;

	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)mm;
	*y = (int)(yoe + era * 400 + (mm <= 2));
}

int workcal_weekday(workcal_day_t day)
{
	/* 1970-01-01 was a Thursday. */
	return (int)(((int64_t)day % 7 + 11) % 7);
}

static bool leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int y, int m)
{
	static const int n[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && leap(y) ? 29 : n[m - 1];
}

/* n decimal digits at s. @retval the value, -1 when one is not a digit */
static int digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9') {
			return -1;
		}
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int workcal_parse_date(const char *s, workcal_day_t *out)
{
	int y, m, d;

	if (s == NULL || strnlen(s, 11) != 10 || s[4] != '-' || s[7] != '-') {
		return -EINVAL;
	}
	y = digits(s, 4);
	m = digits(s + 5, 2);
	d = digits(s + 8, 2);
	if (y < WORKCAL_MIN_YEAR || y > WORKCAL_MAX_YEAR || m < 1 || m > 12 || d < 1 ||
	    d > month_days(y, m)) {
		return -EINVAL;
	}
	*out = workcal_day_from_ymd(y, m, d);
	return 0;
}

void workcal_format_date(workcal_day_t day, char out[11])
{
	int y, m, d;
	char buf[40];

	workcal_day_to_ymd(day, &y, &m, &d);
	snprintf(buf, sizeof(buf), "%04d-%02d-%02d", y, m, d);
	memcpy(out, buf, 10);
	out[10] = '\0';
}

workcal_day_t workcal_day_of_ms(int64_t wall_ms, int utc_offset_min)
{
	return (workcal_day_t)floor_div(wall_ms + (int64_t)utc_offset_min * 60000, MS_PER_DAY);
}

void workcal_format_time(int64_t wall_ms, int utc_offset_min, char out[17])
{
	workcal_day_t day = workcal_day_of_ms(wall_ms, utc_offset_min);
	int64_t in_day = wall_ms + (int64_t)utc_offset_min * 60000 - (int64_t)day * MS_PER_DAY;
	char buf[40];

	workcal_format_date(day, out);
	snprintf(buf, sizeof(buf), " %02d:%02d", (int)(in_day / 3600000),
		 (int)(in_day / 60000 % 60));
	memcpy(out + 10, buf, 6);
	out[16] = '\0';
}

int64_t workcal_end_of_day_ms(workcal_day_t day, int utc_offset_min)
{
	return ((int64_t)day + 1) * MS_PER_DAY - (int64_t)utc_offset_min * 60000 - 1;
}

static int year_of(workcal_day_t day)
{
	int y, m, d;

	workcal_day_to_ymd(day, &y, &m, &d);
	return y;
}

static bool weekend(workcal_day_t day)
{
	int w = workcal_weekday(day);

	return w == 0 || w == 6;
}

/* ---- checks shared by workcal_set_year and workcal_parse_year ---- */

static void set_err(char en[WORKCAL_ERR_MAX], char zh[WORKCAL_ERR_MAX], const char *e,
		    const char *z)
{
	if (en != NULL) {
		snprintf(en, WORKCAL_ERR_MAX, "%s", e);
	}
	if (zh != NULL) {
		snprintf(zh, WORKCAL_ERR_MAX, "%s", z);
	}
}

/* Whether s (at most max bytes before its NUL) is UTF-8 with no control
 * characters (C0, DEL, C1), no overlong forms and no surrogates. */
static bool name_ok(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strnlen(s, max);

	if (len == max) {
		return false;
	}
	for (size_t i = 0; i < len;) {
		unsigned c = p[i];
		unsigned cp, need;

		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f) {
				return false;
			}
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1, cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2, cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3, cp = c & 0x07;
		} else {
			return false;
		}
		if (i + need >= len) {
			return false;
		}
		for (unsigned k = 1; k <= need; k++) {
			if ((p[i + k] & 0xc0) != 0x80) {
				return false;
			}
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f)) {
			return false;
		}
		i += need + 1;
	}
	return true;
}

static const char *const weekday_en[7] = { "Sunday",   "Monday", "Tuesday", "Wednesday",
					   "Thursday", "Friday", "Saturday" };
static const char *const weekday_zh[7] = { "星期日", "星期一", "星期二", "星期三",
					   "星期四", "星期五", "星期六" };

/* One entry of `year`. @retval 0, -EINVAL (err names the day) */
static int check_entry(int year, const struct workcal_entry *e, char en[WORKCAL_ERR_MAX],
		       char zh[WORKCAL_ERR_MAX])
{
	char date[11], be[WORKCAL_ERR_MAX], bz[WORKCAL_ERR_MAX];
	int w = workcal_weekday(e->day);

	workcal_format_date(e->day, date);
	if (year_of(e->day) != year) {
		snprintf(be, sizeof(be), "%s is not in %d: a year's data lists only its own days.",
			 date, year);
		snprintf(bz, sizeof(bz), "%s 不在 %d 年内：每年的数据只能列出本年的日期。", date,
			 year);
	} else if (e->kind != WORKCAL_HOLIDAY && e->kind != WORKCAL_WORKDAY) {
		snprintf(be, sizeof(be), "%s: the kind must be holiday or workday.", date);
		snprintf(bz, sizeof(bz), "%s：类型须为 holiday（节假日）或 workday（调休上班）。",
			 date);
	} else if (e->kind == WORKCAL_WORKDAY && !weekend(e->day)) {
		snprintf(be, sizeof(be),
			 "%s is a %s, already a working day: only a Saturday or Sunday can be "
			 "declared a working day.",
			 date, weekday_en[w]);
		snprintf(bz, sizeof(bz), "%s 是%s，本来就是工作日：只有周六或周日才能调休上班。",
			 date, weekday_zh[w]);
	} else if (!name_ok(e->name, sizeof(e->name))) {
		snprintf(be, sizeof(be),
			 "%s: the name must be text of at most %d bytes without control "
			 "characters.",
			 date, WORKCAL_NAME_MAX - 1);
		snprintf(bz, sizeof(bz), "%s：名称须为不超过 %d 字节且不含控制字符的文字。", date,
			 WORKCAL_NAME_MAX - 1);
	} else {
		return 0;
	}
	set_err(en, zh, be, bz);
	return -EINVAL;
}

/*
 * A year's entries as a whole: each checked, none twice. The index of each
 * day of the year in e goes to idx (-1 when not listed).
 * @retval 0, -EINVAL (err says why)
 */
static int check_year(int year, const struct workcal_entry *e, int n, int16_t idx[366],
		      char en[WORKCAL_ERR_MAX], char zh[WORKCAL_ERR_MAX])
{
	workcal_day_t jan1 = workcal_day_from_ymd(year, 1, 1);
	char be[WORKCAL_ERR_MAX], bz[WORKCAL_ERR_MAX];

	if (year < WORKCAL_MIN_YEAR || year > WORKCAL_MAX_YEAR) {
		snprintf(be, sizeof(be), "The year must be between %d and %d.", WORKCAL_MIN_YEAR,
			 WORKCAL_MAX_YEAR);
		snprintf(bz, sizeof(bz), "年份须在 %d 至 %d 之间。", WORKCAL_MIN_YEAR,
			 WORKCAL_MAX_YEAR);
		set_err(en, zh, be, bz);
		return -EINVAL;
	}
	if (n < 0 || n > 366) {
		set_err(en, zh, "A year cannot list more days than it has.",
			"一年列出的日期不能多于全年天数。");
		return -EINVAL;
	}
	for (int i = 0; i < 366; i++) {
		idx[i] = -1;
	}
	for (int i = 0; i < n; i++) {
		int rc = check_entry(year, &e[i], en, zh);
		char date[11];

		if (rc < 0) {
			return rc;
		}
		if (idx[e[i].day - jan1] >= 0) {
			workcal_format_date(e[i].day, date);
			snprintf(be, sizeof(be), "%s is listed twice.", date);
			snprintf(bz, sizeof(bz), "%s 重复列出。", date);
			set_err(en, zh, be, bz);
			return -EINVAL;
		}
		idx[e[i].day - jan1] = (int16_t)i;
	}
	return 0;
}

/* ---- the calendar ---- */

void workcal_init(struct workcal *c)
{
	c->nyears = 0;
	c->nentries = 0;
}

/* The index of the first entry on or after day. */
static int lower_bound(const struct workcal *c, workcal_day_t day)
{
	int lo = 0, hi = c->nentries;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;

		if (c->entries[mid].day < day) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return lo;
}

static int year_index(const struct workcal *c, int year)
{
	for (int i = 0; i < c->nyears; i++) {
		if (c->years[i] == year) {
			return i;
		}
	}
	return -1;
}

bool workcal_has_year(const struct workcal *c, int year)
{
	return year_index(c, year) >= 0;
}

/* Remove the entries of [first, last] from the array. @retval how many */
static int remove_span(struct workcal *c, workcal_day_t first, workcal_day_t last)
{
	int a = lower_bound(c, first), b = lower_bound(c, last + 1);

	memmove(&c->entries[a], &c->entries[b], (size_t)(c->nentries - b) * sizeof(c->entries[0]));
	c->nentries -= b - a;
	return b - a;
}

static void add_year(struct workcal *c, int year)
{
	int i = c->nyears;

	while (i > 0 && c->years[i - 1] > year) {
		c->years[i] = c->years[i - 1];
		i--;
	}
	c->years[i] = year;
	c->nyears++;
}

int workcal_set_year(struct workcal *c, int year, const struct workcal_entry *e, int n,
		     char err_en[WORKCAL_ERR_MAX], char err_zh[WORKCAL_ERR_MAX])
{
	int16_t idx[366];
	workcal_day_t jan1, dec31;
	int old = 0, at, k = 0, rc;

	rc = check_year(year, e, n, idx, err_en, err_zh);
	if (rc < 0) {
		return rc;
	}
	jan1 = workcal_day_from_ymd(year, 1, 1);
	dec31 = workcal_day_from_ymd(year, 12, 31);
	old = lower_bound(c, dec31 + 1) - lower_bound(c, jan1);
	if ((!workcal_has_year(c, year) && c->nyears >= WORKCAL_MAX_YEARS) ||
	    c->nentries - old + n > WORKCAL_MAX_DAYS) {
		set_err(err_en, err_zh,
			"The calendar is full: remove the data of years long past first.",
			"日历已满：请先删除早已过去年份的数据。");
		return -ENOSPC;
	}
	remove_span(c, jan1, dec31);
	at = lower_bound(c, jan1);
	memmove(&c->entries[at + n], &c->entries[at],
		(size_t)(c->nentries - at) * sizeof(c->entries[0]));
	for (int d = 0; d <= dec31 - jan1; d++) {
		if (idx[d] >= 0) {
			c->entries[at + k++] = e[idx[d]];
		}
	}
	c->nentries += n;
	if (!workcal_has_year(c, year)) {
		add_year(c, year);
	}
	return 0;
}

int workcal_clear_year(struct workcal *c, int year)
{
	int i = year_index(c, year);

	if (i < 0) {
		return -ENOENT;
	}
	remove_span(c, workcal_day_from_ymd(year, 1, 1), workcal_day_from_ymd(year, 12, 31));
	memmove(&c->years[i], &c->years[i + 1], (size_t)(c->nyears - i - 1) * sizeof(int));
	c->nyears--;
	return 0;
}

const struct workcal_entry *workcal_lookup(const struct workcal *c, workcal_day_t day)
{
	int i = lower_bound(c, day);

	return i < c->nentries && c->entries[i].day == day ? &c->entries[i] : NULL;
}

bool workcal_is_working(const struct workcal *c, workcal_day_t day)
{
	const struct workcal_entry *e = workcal_lookup(c, day);

	if (e != NULL) {
		return e->kind == WORKCAL_WORKDAY;
	}
	return !weekend(day);
}

workcal_day_t workcal_add_working(const struct workcal *c, workcal_day_t day, int k)
{
	while (k > 0) {
		day++;
		if (workcal_is_working(c, day)) {
			k--;
		}
	}
	return day;
}

/* Monday-to-Friday days in (a, b], b >= a. */
static int64_t weekdays_between(workcal_day_t a, workcal_day_t b)
{
	int64_t n = (int64_t)b - a, full = n / 7, count = full * 5;

	for (workcal_day_t d = (workcal_day_t)(a + full * 7 + 1); d <= b; d++) {
		count += !weekend(d);
	}
	return count;
}

int workcal_working_between(const struct workcal *c, workcal_day_t a, workcal_day_t b)
{
	int64_t n;

	if (b <= a) {
		return 0;
	}
	n = weekdays_between(a, b);
	/* Correct by the listed days inside: a holiday on a weekday takes one
	 * away, a declared working weekend day adds one. */
	for (int i = lower_bound(c, a + 1); i < c->nentries && c->entries[i].day <= b; i++) {
		bool wk = weekend(c->entries[i].day);

		if (c->entries[i].kind == WORKCAL_HOLIDAY && !wk) {
			n--;
		} else if (c->entries[i].kind == WORKCAL_WORKDAY && wk) {
			n++;
		}
	}
	return (int)n;
}

/* ---- the year file ---- */

static const char *kind_name(enum workcal_kind k)
{
	return k == WORKCAL_HOLIDAY ? "holiday" : "workday";
}

/* Whether every key of obj is one of keys (NULL-ended) and none repeats. */
static bool keys_ok(const cJSON *obj, const char *const *keys, char en[WORKCAL_ERR_MAX],
		    char zh[WORKCAL_ERR_MAX], const char *where)
{
	char be[WORKCAL_ERR_MAX], bz[WORKCAL_ERR_MAX];

	for (const cJSON *it = obj->child; it != NULL; it = it->next) {
		bool known = false;

		for (int i = 0; keys[i] != NULL; i++) {
			known = known || strcmp(it->string, keys[i]) == 0;
		}
		for (const cJSON *p = obj->child; known && p != it; p = p->next) {
			if (strcmp(p->string, it->string) == 0) {
				known = false;
			}
		}
		if (!known) {
			snprintf(be, sizeof(be), "%s: the key \"%.40s\" is unknown or repeated.",
				 where, it->string);
			snprintf(bz, sizeof(bz), "%s：键 \"%.40s\" 未知或重复。", where,
				 it->string);
			set_err(en, zh, be, bz);
			return false;
		}
	}
	return true;
}

/* Day i of the "days" array into out. @retval 0, -EINVAL */
static int parse_day(const cJSON *it, int i, int year, struct workcal_entry *out,
		     char en[WORKCAL_ERR_MAX], char zh[WORKCAL_ERR_MAX])
{
	static const char *const keys[] = { "date", "kind", "name", NULL };
	const char *date, *kind, *name;
	const cJSON *nm;
	char where[32], be[WORKCAL_ERR_MAX], bz[WORKCAL_ERR_MAX];

	snprintf(where, sizeof(where), "days[%d]", i);
	if (!cJSON_IsObject(it)) {
		snprintf(be, sizeof(be), "%s must be an object {\"date\", \"kind\", \"name\"}.",
			 where);
		snprintf(bz, sizeof(bz), "%s 须为对象 {\"date\", \"kind\", \"name\"}。", where);
		goto bad;
	}
	if (!keys_ok(it, keys, en, zh, where)) {
		return -EINVAL;
	}
	date = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "date"));
	kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "kind"));
	nm = cJSON_GetObjectItemCaseSensitive(it, "name");
	name = nm != NULL ? cJSON_GetStringValue(nm) : "";
	memset(out, 0, sizeof(*out));
	if (date == NULL || workcal_parse_date(date, &out->day) < 0) {
		snprintf(be, sizeof(be), "%s: \"date\" must be a real date YYYY-MM-DD in %d.",
			 where, year);
		snprintf(bz, sizeof(bz), "%s：\"date\" 须为 %d 年内的真实日期 YYYY-MM-DD。", where,
			 year);
		goto bad;
	}
	if (kind == NULL || (strcmp(kind, "holiday") != 0 && strcmp(kind, "workday") != 0)) {
		snprintf(be, sizeof(be), "%s (%s): \"kind\" must be \"holiday\" or \"workday\".",
			 where, date);
		snprintf(bz, sizeof(bz), "%s（%s）：\"kind\" 须为 \"holiday\" 或 \"workday\"。",
			 where, date);
		goto bad;
	}
	if (name == NULL || strlen(name) >= sizeof(out->name)) {
		snprintf(be, sizeof(be), "%s (%s): \"name\" must be text of at most %d bytes.",
			 where, date, WORKCAL_NAME_MAX - 1);
		snprintf(bz, sizeof(bz), "%s（%s）：\"name\" 须为不超过 %d 字节的文字。", where,
			 date, WORKCAL_NAME_MAX - 1);
		goto bad;
	}
	out->kind = kind[0] == 'h' ? WORKCAL_HOLIDAY : WORKCAL_WORKDAY;
	memcpy(out->name, name, strlen(name) + 1);
	return 0;
bad:
	set_err(en, zh, be, bz);
	return -EINVAL;
}

int workcal_parse_year(const char *json, size_t len, int *year, struct workcal_entry *out, int max,
		       int *n, char err_en[WORKCAL_ERR_MAX], char err_zh[WORKCAL_ERR_MAX])
{
	static const char *const keys[] = { "year", "days", NULL };
	cJSON *root = NULL;
	const cJSON *y, *days, *it;
	int16_t idx[366];
	int ret = -EINVAL, count, i = 0;

	set_err(err_en, err_zh, "", "");
	if (len > YEAR_FILE_MAX) {
		set_err(err_en, err_zh, "The file is too large to be a year's calendar.",
			"文件过大，不是一年的日历。");
		return -E2BIG;
	}
	root = json != NULL ? cJSON_ParseWithLength(json, len) : NULL;
	if (!cJSON_IsObject(root)) {
		set_err(err_en, err_zh,
			"The file is not a calendar: expected JSON {\"year\": 2026, \"days\": "
			"[...]}.",
			"文件不是日历：应为 JSON {\"year\": 2026, \"days\": [...]}。");
		goto out;
	}
	if (!keys_ok(root, keys, err_en, err_zh, "calendar")) {
		goto out;
	}
	y = cJSON_GetObjectItemCaseSensitive(root, "year");
	days = cJSON_GetObjectItemCaseSensitive(root, "days");
	if (!cJSON_IsNumber(y) || !(y->valuedouble >= WORKCAL_MIN_YEAR) ||
	    y->valuedouble > WORKCAL_MAX_YEAR || y->valuedouble != (double)(int)y->valuedouble) {
		set_err(err_en, err_zh, "\"year\" must be a whole number from 2000 to 2099.",
			"\"year\" 须为 2000 至 2099 之间的整数。");
		goto out;
	}
	if (!cJSON_IsArray(days)) {
		set_err(err_en, err_zh, "\"days\" must be a list of days.",
			"\"days\" 须为日期列表。");
		goto out;
	}
	count = cJSON_GetArraySize(days);
	if (count > max || count > 366) {
		set_err(err_en, err_zh, "The file lists more days than a year can have.",
			"文件列出的日期多于一年的天数。");
		ret = -E2BIG;
		goto out;
	}
	*year = (int)y->valuedouble;
	cJSON_ArrayForEach(it, days)
	{
		if (parse_day(it, i, *year, &out[i], err_en, err_zh) < 0) {
			goto out;
		}
		i++;
	}
	if (check_year(*year, out, count, idx, err_en, err_zh) < 0) {
		goto out;
	}
	*n = count;
	ret = 0;
out:
	cJSON_Delete(root);
	return ret;
}

char *workcal_year_to_json(const struct workcal *c, int year)
{
	cJSON *o = cJSON_CreateObject(), *a;
	workcal_day_t last = workcal_day_from_ymd(year, 12, 31);
	char *s = NULL;

	if (o == NULL) {
		return NULL;
	}
	cJSON_AddNumberToObject(o, "year", year);
	a = cJSON_AddArrayToObject(o, "days");
	for (int i = lower_bound(c, workcal_day_from_ymd(year, 1, 1));
	     a != NULL && i < c->nentries && c->entries[i].day <= last; i++) {
		cJSON *e = cJSON_CreateObject();
		char date[11];

		if (e == NULL || !cJSON_AddItemToArray(a, e)) {
			cJSON_Delete(e);
			a = NULL;
			break;
		}
		workcal_format_date(c->entries[i].day, date);
		if (cJSON_AddStringToObject(e, "date", date) == NULL ||
		    cJSON_AddStringToObject(e, "kind", kind_name(c->entries[i].kind)) == NULL ||
		    cJSON_AddStringToObject(e, "name", c->entries[i].name) == NULL) {
			a = NULL;
		}
	}
	if (a != NULL) {
		s = cJSON_Print(o);
	}
	cJSON_Delete(o);
	return s;
}
