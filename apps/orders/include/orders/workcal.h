/*
 * The working-day calendar and the handling deadlines of work orders
 * (docs/working-days.md). Pure: no storage, no clock, no locks. The
 * orders app keeps the calendar in SQLite and hands snapshots to these
 * functions.
 *
 * A day is a civil date in the office's local time, held as a day number
 * (days since 1970-01-01). A day is a working day when it is Monday to
 * Friday, unless the calendar lists it as a holiday; and a Saturday or
 * Sunday the calendar lists as a working day (调休) is one. For a year the
 * calendar holds no data for, the weekday rule alone applies (the screens
 * warn; workcal_has_year).
 *
 * A period of n working days ends at the end (24:00 local) of its n-th
 * working day. The first counted day is the working day after the day of
 * receipt (CONFIG_COUNT_NEXT_DAY) or the day of receipt itself when it is a
 * working day (CONFIG_COUNT_RECEIPT_DAY, "含本数"). n = 0 means "immediate":
 * the end of the day of receipt when it is a working day, else the end of
 * the next working day.
 */
#ifndef ORDERS_WORKCAL_H
#define ORDERS_WORKCAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fw/config.h"

#define WORKCAL_NAME_MAX  48   /* bytes of a day's name ("国庆节"), NUL included */
#define WORKCAL_MAX_DAYS  2048 /* listed days held at once (about 30 a year) */
#define WORKCAL_MAX_YEARS 64
#define WORKCAL_MIN_YEAR  2000
#define WORKCAL_MAX_YEAR  2099
#define WORKCAL_ERR_MAX	  160

/* Days since 1970-01-01 (negative before). */
typedef int32_t workcal_day_t;

enum workcal_kind {
	WORKCAL_HOLIDAY = 1, /* a day off, whatever its weekday */
	WORKCAL_WORKDAY = 2, /* a Saturday or Sunday declared a working day (调休) */
};

struct workcal_entry {
	workcal_day_t day;
	enum workcal_kind kind;
	char name[WORKCAL_NAME_MAX]; /* may be "" */
};

/* A calendar: the years it has data for and their listed days. About 120 KB:
 * allocate it, do not put it on a stack. */
struct workcal {
	int nyears;
	int years[WORKCAL_MAX_YEARS]; /* ascending */
	int nentries;
	struct workcal_entry entries[WORKCAL_MAX_DAYS]; /* ascending by day, unique */
};

/* ---- dates ---- */

workcal_day_t workcal_day_from_ymd(int y, int m, int d); /* no range check */
void workcal_day_to_ymd(workcal_day_t day, int *y, int *m, int *d);
int workcal_weekday(workcal_day_t day); /* 0 Sunday .. 6 Saturday */

/* Strict "YYYY-MM-DD" of a real date in WORKCAL_MIN_YEAR..WORKCAL_MAX_YEAR.
 * @retval 0, -EINVAL */
int workcal_parse_date(const char *s, workcal_day_t *out);
void workcal_format_date(workcal_day_t day, char out[11]);

/* The local day of a wall time (UTC ms), local = UTC + utc_offset_min. */
workcal_day_t workcal_day_of_ms(int64_t wall_ms, int utc_offset_min);
/* The last millisecond of a local day, as UTC ms. */
int64_t workcal_end_of_day_ms(workcal_day_t day, int utc_offset_min);
/* A wall time (UTC ms) as local "YYYY-MM-DD HH:MM" (16 characters and a NUL),
 * as printed on receipts and slips. */
void workcal_format_time(int64_t wall_ms, int utc_offset_min, char out[17]);

/* ---- the calendar ---- */

/* An empty calendar: weekdays only, no year has data. */
void workcal_init(struct workcal *c);

/*
 * Replace the data of one year with n entries (n may be 0: a year with no
 * holidays is still a year with data). Checked as a whole, c unchanged on
 * error: every day inside the year, no day twice, a WORKCAL_WORKDAY only
 * on a Saturday or Sunday (a weekday already is one), names UTF-8 without
 * control characters. err_en/err_zh name the first bad day.
 * @retval 0, -EINVAL (err says why), -ENOSPC WORKCAL_MAX_DAYS/YEARS reached
 */
int workcal_set_year(struct workcal *c, int year, const struct workcal_entry *e, int n,
		     char err_en[WORKCAL_ERR_MAX], char err_zh[WORKCAL_ERR_MAX]);

/* Forget a year's data (back to the weekday rule). @retval 0, -ENOENT */
int workcal_clear_year(struct workcal *c, int year);

bool workcal_has_year(const struct workcal *c, int year);
bool workcal_is_working(const struct workcal *c, workcal_day_t day);
/* The listed entry of a day, NULL when the day is not listed. */
const struct workcal_entry *workcal_lookup(const struct workcal *c, workcal_day_t day);

/* The k-th working day after day (k >= 1); k = 0 gives day itself. */
workcal_day_t workcal_add_working(const struct workcal *c, workcal_day_t day, int k);
/* Working days in (a, b]; 0 when b <= a. */
int workcal_working_between(const struct workcal *c, workcal_day_t a, workcal_day_t b);

/*
 * A year's file (docs/working-days.md, "The year file"):
 *   {"year": 2026, "days": [
 *     {"date": "2026-10-01", "kind": "holiday", "name": "国庆节"},
 *     {"date": "2026-09-27", "kind": "workday", "name": "国庆节调休"}]}
 * Parsed and checked as workcal_set_year does; unknown keys refused.
 * @retval 0 *year and out[0..*n) filled; -EINVAL (err says why), -E2BIG
 *         more than max days
 */
int workcal_parse_year(const char *json, size_t len, int *year, struct workcal_entry *out, int max,
		       int *n, char err_en[WORKCAL_ERR_MAX], char err_zh[WORKCAL_ERR_MAX]);

/* The year's data in the same shape (caller frees), NULL when out of memory. */
char *workcal_year_to_json(const struct workcal *c, int year);

/* ---- deadlines ---- */

enum order_category {
	ORDER_CAT_CONSULT = 0, /* 咨询 */
	ORDER_CAT_HELP,	       /* 求助 */
	ORDER_CAT_COMPLAINT,   /* 投诉 */
	ORDER_CAT_REPORT,      /* 举报 */
	ORDER_CAT_SUGGESTION,  /* 意见建议 */
	ORDER_CAT_N
};

enum order_urgency {
	ORDER_URG_NORMAL = 0,
	ORDER_URG_URGENT, /* 应急类 */
	ORDER_URG_N
};

enum order_complexity {
	ORDER_CPX_SIMPLE = 0, /* 一般: a general policy question */
	ORDER_CPX_COMPLEX,    /* 较复杂 */
	ORDER_CPX_DIFFICULT,  /* 疑难, or several departments */
	ORDER_CPX_N
};

/* Wire and config names: "consult", "help", "complaint", "report",
 * "suggestion"; "normal", "urgent"; "simple", "complex", "difficult".
 * The parse functions return the value or -EINVAL. */
const char *order_category_name(enum order_category c);
const char *order_category_zh(enum order_category c);
int order_category_parse(const char *s);
const char *order_urgency_name(enum order_urgency u);
const char *order_urgency_zh(enum order_urgency u); /* "一般", "应急" */
int order_urgency_parse(const char *s);
const char *order_complexity_name(enum order_complexity x);
const char *order_complexity_zh(enum order_complexity x); /* "一般", "较复杂", "疑难" */
int order_complexity_parse(const char *s);

#define DEADLINE_ANY	   (-1)
#define DEADLINE_MAX_RULES 32
#define DEADLINE_MAX_DAYS  60

/* One row of the table: the first row that matches an order applies. */
struct deadline_rule {
	int category;	      /* enum order_category or DEADLINE_ANY */
	int urgency;	      /* enum order_urgency or DEADLINE_ANY */
	int complexity;	      /* enum order_complexity or DEADLINE_ANY */
	int days;	      /* working days to handle; 0 immediate */
	int extension_max;    /* longest period an extension may reach, working days; 0 none */
	bool pause_extension; /* the handling clock stops while an extension request waits */
	bool pause_return;    /* ... while a return request waits */
};

struct deadline_rules {
	int nrules;
	struct deadline_rule rules[DEADLINE_MAX_RULES]; /* the last row should be all ANY */
	enum config_count_from count_from;
	int sign_for_days; /* working days from dispatch to sign for (签收) */
};

/*
 * The built-in tables (docs/working-days.md, "Deadline rules"):
 * - national: urgent 1; simple 0 (immediate); complex 3; difficult 7;
 *   extension to at most 15; the clock pauses while a return request waits.
 * - guangdong: 咨询 2, 求助 10, 意见建议 10, 投诉 15, 举报 15; urgent 1;
 *   extension to at most 30; same pauses.
 */
void deadline_preset(enum config_deadline_preset p, enum config_count_from from, int sign_for_days,
		     struct deadline_rules *out);

/*
 * A rules file (docs/working-days.md, "The rules file"): one row per line,
 *   category urgency complexity days extension_max [pause_extension] [pause_return]
 * with "*" for any, '#' comments; the table must end with a catch-all row.
 * count_from and sign_for_days are kept from *out.
 * @retval 0, -EINVAL (err names the line and what is wrong)
 */
int deadline_rules_parse(const char *text, size_t len, struct deadline_rules *out,
			 char err_en[WORKCAL_ERR_MAX], char err_zh[WORKCAL_ERR_MAX]);

/* The row for an order; never NULL for a table that ends with a catch-all
 * (deadline_rules_parse and the presets guarantee one). */
const struct deadline_rule *deadline_rule_for(const struct deadline_rules *r, int category,
					      int urgency, int complexity);

/* The last day of a period of n working days starting with the day of
 * receipt (see the counting convention at the top). */
workcal_day_t deadline_due_day(const struct workcal *c, workcal_day_t received, int n,
			       enum config_count_from from);

/* The same as a wall time: the last millisecond of that day. */
int64_t deadline_due_ms(const struct workcal *c, int64_t received_ms, int n,
			enum config_count_from from, int utc_offset_min);

/* A due time pushed back by the working days of a pause [from_ms, to_ms):
 * the working days in (day of from, day of to]. */
int64_t deadline_after_pause(const struct workcal *c, int64_t due_ms, int64_t from_ms,
			     int64_t to_ms, int utc_offset_min);

enum deadline_flag {
	DEADLINE_OK = 0,
	DEADLINE_DUE_SOON,  /* due within the next due_soon_days working days */
	DEADLINE_DUE_TODAY, /* due before the end of today */
	DEADLINE_OVERDUE,   /* now is past due */
};

enum deadline_flag deadline_flag_of(const struct workcal *c, int64_t due_ms, int64_t now_ms,
				    int due_soon_days, int utc_offset_min);
const char *deadline_flag_name(enum deadline_flag f); /* "ok" "due_soon" "due_today" "overdue" */

#endif /* ORDERS_WORKCAL_H */
