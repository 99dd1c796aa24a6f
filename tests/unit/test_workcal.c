/*
 * The working-day calendar and deadline arithmetic (apps/orders/workcal.c,
 * deadline.c), table-driven: dates and their parsing, weekends, holidays
 * and 调休 working weekend days, the whole 2025 and 2026 calendars as
 * shipped in data/calendar/ checked day by day against an independent
 * table, both counting conventions (hand-counted examples), year
 * boundaries and years without data, immediate handling, extensions,
 * pauses, the due-soon / due-today / overdue flags around local midnight,
 * the year file parser and the rules file parser with their errors, and
 * both built-in rule tables.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "orders/workcal.h"
#include "test_util.h"

#define OFF    480 /* China Standard Time */
#define HOUR   3600000LL
#define MS_DAY 86400000LL

static const enum config_count_from NEXT = CONFIG_COUNT_NEXT_DAY;
static const enum config_count_from SAME = CONFIG_COUNT_RECEIPT_DAY;

/* A date that must parse (asserts). */
static workcal_day_t D(const char *s)
{
	workcal_day_t d = 0;

	if (workcal_parse_date(s, &d) != 0) {
		fail_msg("bad date in the test: %s", s);
	}
	return d;
}

static void assert_day(workcal_day_t got, const char *want)
{
	char s[11];

	workcal_format_date(got, s);
	if (strcmp(s, want) != 0) {
		fail_msg("got %s, want %s", s, want);
	}
}

/* Local wall time as UTC ms: the day at hh:mm:ss.mmm in UTC+8. */
static int64_t at(const char *date, int hh, int mm, int ss, int msec)
{
	return (int64_t)D(date) * MS_DAY + hh * HOUR + mm * 60000LL + ss * 1000LL + msec -
	       OFF * 60000LL;
}

static struct workcal *cal_new(void)
{
	struct workcal *c = malloc(sizeof(*c));

	assert_non_null(c);
	workcal_init(c);
	return c;
}

/* Load data/calendar/YEAR.json from the source tree into c (asserts). */
static void load_year_file(struct workcal *c, int year)
{
	char path[512], en[WORKCAL_ERR_MAX], zh[WORKCAL_ERR_MAX];
	struct workcal_entry *e = calloc(400, sizeof(*e));
	size_t len;
	char *text;
	int y = 0, n = 0, rc;

	assert_non_null(e);
	snprintf(path, sizeof(path), "%s/%d.json", HE_CALENDAR_DIR, year);
	text = test_file_read(path, &len);
	rc = workcal_parse_year(text, len, &y, e, 400, &n, en, zh);
	if (rc != 0) {
		fail_msg("%s: %s", path, en);
	}
	assert_int_equal(y, year);
	assert_int_equal(workcal_set_year(c, y, e, n, en, zh), 0);
	free(text);
	free(e);
}

/* The shipped calendars of 2025 and 2026. */
static struct workcal *cal_2025_2026(void)
{
	struct workcal *c = cal_new();

	load_year_file(c, 2025);
	load_year_file(c, 2026);
	return c;
}

/* ---- dates ---- */

static void test_dates_round_trip(void **state)
{
	(void)state;
	/* Every day 1900..2199 converts both ways; weekdays step by one. */
	workcal_day_t first = workcal_day_from_ymd(1900, 1, 1);
	workcal_day_t last = workcal_day_from_ymd(2199, 12, 31);

	for (workcal_day_t d = first; d <= last; d++) {
		int y, m, dd;

		workcal_day_to_ymd(d, &y, &m, &dd);
		assert_int_equal(workcal_day_from_ymd(y, m, dd), d);
		assert_int_equal(workcal_weekday(d + 1), (workcal_weekday(d) + 1) % 7);
	}
	assert_int_equal(workcal_day_from_ymd(1970, 1, 1), 0);
	assert_int_equal(workcal_day_from_ymd(1969, 12, 31), -1);
	assert_int_equal(workcal_weekday(0), 4);	       /* Thursday */
	assert_int_equal(workcal_weekday(-1), 3);	       /* Wednesday */
	assert_int_equal(workcal_weekday(D("2025-09-26")), 5); /* Friday */
	assert_int_equal(workcal_weekday(D("2026-10-10")), 6); /* Saturday */
	assert_int_equal(workcal_weekday(D("2026-01-04")), 0); /* Sunday */
	assert_int_equal(workcal_day_from_ymd(2000, 3, 1) - workcal_day_from_ymd(2000, 2, 28), 2);
	assert_int_equal(workcal_day_from_ymd(2100, 3, 1) - workcal_day_from_ymd(2100, 2, 28), 1);
}

static void test_parse_date(void **state)
{
	static const char *const bad[] = {
		"2025-02-29",  "2025-13-01",  "2025-00-10", "2025-01-00",     "2025-04-31",
		"2025-1-1",    "2025-01-1",   "25-01-01",   "2025/01/01",     "2025-01-01x",
		"2025-01-01 ", " 2025-01-01", "",	    "1999-12-31",     "2100-01-01",
		"2025-0a-01",  "+025-01-01",  "2025--1-01", "２０２５-01-01",
	};
	workcal_day_t d = 12345;
	char s[11];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (workcal_parse_date(bad[i], &d) != -EINVAL) {
			fail_msg("accepted \"%s\"", bad[i]);
		}
		assert_int_equal(d, 12345); /* untouched */
	}
	assert_int_equal(workcal_parse_date(NULL, &d), -EINVAL);
	assert_int_equal(workcal_parse_date("2024-02-29", &d), 0);
	workcal_format_date(d, s);
	assert_string_equal(s, "2024-02-29");
	assert_int_equal(workcal_parse_date("2000-01-01", &d), 0);
	assert_int_equal(workcal_parse_date("2099-12-31", &d), 0);
	workcal_format_date(d, s);
	assert_string_equal(s, "2099-12-31");
}

/* Receipts and slips print local minutes; before 1970 and across midnight too. */
static void test_format_time(void **state)
{
	char s[17];

	(void)state;
	workcal_format_time(at("2025-10-13", 9, 5, 59, 999), OFF, s);
	assert_string_equal(s, "2025-10-13 09:05");
	workcal_format_time(at("2025-10-13", 0, 0, 0, 0), OFF, s);
	assert_string_equal(s, "2025-10-13 00:00");
	workcal_format_time(at("2025-10-13", 0, 0, 0, 0) - 1, OFF, s);
	assert_string_equal(s, "2025-10-12 23:59");
	workcal_format_time(at("2024-02-29", 23, 59, 0, 0), OFF, s);
	assert_string_equal(s, "2024-02-29 23:59");
	workcal_format_time(0, 0, s);
	assert_string_equal(s, "1970-01-01 00:00");
	workcal_format_time(-60000, 0, s);
	assert_string_equal(s, "1969-12-31 23:59");
	workcal_format_time(0, -300, s); /* UTC-5 */
	assert_string_equal(s, "1969-12-31 19:00");
}

static void test_day_of_ms_and_end_of_day(void **state)
{
	(void)state;
	/* 2025-10-13 00:00 in UTC+8 is 2025-10-12 16:00 UTC. */
	assert_day(workcal_day_of_ms(at("2025-10-13", 0, 0, 0, 0), OFF), "2025-10-13");
	assert_day(workcal_day_of_ms(at("2025-10-13", 0, 0, 0, 0) - 1, OFF), "2025-10-12");
	assert_day(workcal_day_of_ms(at("2025-10-13", 23, 59, 59, 999), OFF), "2025-10-13");
	assert_int_equal(workcal_end_of_day_ms(D("2025-10-13"), OFF),
			 at("2025-10-13", 23, 59, 59, 999));
	/* Before 1970 too (floor, not truncation). */
	assert_int_equal(workcal_day_of_ms(-1, 0), -1);
	assert_int_equal(workcal_day_of_ms(-MS_DAY, 0), -1);
	assert_int_equal(workcal_day_of_ms(-MS_DAY - 1, 0), -2);
}

/* ---- the calendar ---- */

static void test_weekends_without_data(void **state)
{
	struct workcal *c = cal_new();

	(void)state;
	assert_false(workcal_has_year(c, 2027));
	/* 2027-01-01 is a Friday: with no data it is a working day. */
	assert_true(workcal_is_working(c, D("2027-01-01")));
	assert_false(workcal_is_working(c, D("2027-01-02")));
	assert_false(workcal_is_working(c, D("2027-01-03")));
	assert_true(workcal_is_working(c, D("2027-01-04")));
	assert_null(workcal_lookup(c, D("2027-01-01")));
	assert_day(workcal_add_working(c, D("2027-01-01"), 1), "2027-01-04");
	assert_day(workcal_add_working(c, D("2027-01-01"), 0), "2027-01-01");
	assert_day(workcal_add_working(c, D("2027-01-01"), 5), "2027-01-08");
	assert_int_equal(workcal_working_between(c, D("2027-01-01"), D("2027-01-08")), 5);
	assert_int_equal(workcal_working_between(c, D("2027-01-08"), D("2027-01-01")), 0);
	assert_int_equal(workcal_working_between(c, D("2027-01-01"), D("2027-01-01")), 0);
	/* 2027 has 261 weekdays. */
	assert_int_equal(workcal_working_between(c, D("2026-12-31"), D("2027-12-31")), 261);
	free(c);
}

/* The 2025 and 2026 notices, written independently of the data files. */
struct span {
	const char *from, *to;
	const char *name;
};

static const struct span holidays[] = {
	{ "2025-01-01", "2025-01-01", "元旦" },	  { "2025-01-28", "2025-02-04", "春节" },
	{ "2025-04-04", "2025-04-06", "清明节" }, { "2025-05-01", "2025-05-05", "劳动节" },
	{ "2025-05-31", "2025-06-02", "端午节" }, { "2025-10-01", "2025-10-08", "国庆节、中秋节" },
	{ "2026-01-01", "2026-01-03", "元旦" },	  { "2026-02-15", "2026-02-23", "春节" },
	{ "2026-04-04", "2026-04-06", "清明节" }, { "2026-05-01", "2026-05-05", "劳动节" },
	{ "2026-06-19", "2026-06-21", "端午节" }, { "2026-09-25", "2026-09-27", "中秋节" },
	{ "2026-10-01", "2026-10-07", "国庆节" },
};

static const char *const workdays[] = {
	"2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11", "2026-01-04",
	"2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10",
};

static int expected_kind(workcal_day_t d)
{
	for (size_t i = 0; i < sizeof(holidays) / sizeof(holidays[0]); i++) {
		if (d >= D(holidays[i].from) && d <= D(holidays[i].to)) {
			return WORKCAL_HOLIDAY;
		}
	}
	for (size_t i = 0; i < sizeof(workdays) / sizeof(workdays[0]); i++) {
		if (d == D(workdays[i])) {
			return WORKCAL_WORKDAY;
		}
	}
	return 0;
}

static void test_shipped_calendars_day_by_day(void **state)
{
	struct workcal *c = cal_2025_2026();
	int listed = 0;

	(void)state;
	assert_true(workcal_has_year(c, 2025));
	assert_true(workcal_has_year(c, 2026));
	for (workcal_day_t d = D("2025-01-01"); d <= D("2026-12-31"); d++) {
		int want = expected_kind(d), w = workcal_weekday(d);
		const struct workcal_entry *e = workcal_lookup(c, d);
		bool working = want == WORKCAL_WORKDAY || (want == 0 && w != 0 && w != 6);
		char s[11];

		workcal_format_date(d, s);
		if ((e != NULL ? (int)e->kind : 0) != want || workcal_is_working(c, d) != working) {
			fail_msg("%s: listed %d, want %d", s, e != NULL ? (int)e->kind : 0, want);
		}
		if (want == WORKCAL_WORKDAY) {
			assert_true(w == 0 || w == 6);
			assert_non_null(strstr(e->name, "调休"));
		}
		listed += e != NULL;
	}
	assert_int_equal(listed, 33 + 39);
	/* Hand-counted: 261 weekdays - 18 weekday holidays + 5 working weekend
	 * days in 2025; 261 - 19 + 6 in 2026. */
	assert_int_equal(workcal_working_between(c, D("2024-12-31"), D("2025-12-31")), 248);
	assert_int_equal(workcal_working_between(c, D("2025-12-31"), D("2026-12-31")), 248);
	assert_string_equal(workcal_lookup(c, D("2026-10-01"))->name, "国庆节");
	assert_string_equal(workcal_lookup(c, D("2025-10-06"))->name, "国庆节、中秋节");
	free(c);
}

/* working_between and add_working agree with a day-by-day count. */
static void test_counting_agrees_with_brute_force(void **state)
{
	struct workcal *c = cal_2025_2026();

	(void)state;
	for (workcal_day_t a = D("2024-12-20"); a <= D("2027-01-10"); a += 3) {
		int n = 0;

		for (workcal_day_t b = a; b <= a + 60; b++) {
			if (b > a && workcal_is_working(c, b)) {
				n++;
			}
			assert_int_equal(workcal_working_between(c, a, b), n);
		}
		for (int k = 0; k <= 20; k++) {
			workcal_day_t e = workcal_add_working(c, a, k);

			assert_int_equal(workcal_working_between(c, a, e), k);
			assert_true(k == 0 || workcal_is_working(c, e));
		}
	}
	free(c);
}

struct due_case {
	const char *received;
	int n;
	enum config_count_from from;
	const char *due;
};

static void run_due_cases(const struct workcal *c, const struct due_case *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char s[11];

		workcal_format_date(deadline_due_day(c, D(t[i].received), t[i].n, t[i].from), s);
		if (strcmp(s, t[i].due) != 0) {
			fail_msg("received %s, %d days, %s: due %s, want %s", t[i].received, t[i].n,
				 t[i].from == NEXT ? "next day" : "receipt day", s, t[i].due);
		}
	}
}

static void test_due_days_hand_counted(void **state)
{
	/*
	 * 2025-09-26 (Fri), 7 working days. Next day: Sun 28 (调休) 1, Mon 29
	 * 2, Tue 30 3, [1-8 Oct off], Thu 9 4, Fri 10 5, Sat 11 (调休) 6,
	 * Mon 13 7. Receipt day: Fri 26 is day 1, so Sat 11 Oct is day 7.
	 */
	static const struct due_case t[] = {
		{ "2025-09-26", 7, CONFIG_COUNT_NEXT_DAY, "2025-10-13" },
		{ "2025-09-26", 7, CONFIG_COUNT_RECEIPT_DAY, "2025-10-11" },
		{ "2025-09-26", 1, CONFIG_COUNT_NEXT_DAY, "2025-09-28" },
		{ "2025-09-26", 1, CONFIG_COUNT_RECEIPT_DAY, "2025-09-26" },
		{ "2025-09-26", 3, CONFIG_COUNT_NEXT_DAY, "2025-09-30" },
		/* Received on a holiday: both conventions start after it. */
		{ "2025-10-03", 1, CONFIG_COUNT_NEXT_DAY, "2025-10-09" },
		{ "2025-10-03", 1, CONFIG_COUNT_RECEIPT_DAY, "2025-10-09" },
		{ "2025-10-03", 3, CONFIG_COUNT_RECEIPT_DAY, "2025-10-11" },
		/* Received on a 调休 Sunday: a working day, counted with 含本数. */
		{ "2025-09-28", 1, CONFIG_COUNT_RECEIPT_DAY, "2025-09-28" },
		{ "2025-09-28", 1, CONFIG_COUNT_NEXT_DAY, "2025-09-29" },
		/* An ordinary weekend: Sat 2025-03-15. */
		{ "2025-03-15", 1, CONFIG_COUNT_NEXT_DAY, "2025-03-17" },
		{ "2025-03-15", 1, CONFIG_COUNT_RECEIPT_DAY, "2025-03-17" },
		{ "2025-03-14", 3, CONFIG_COUNT_NEXT_DAY, "2025-03-19" },
		{ "2025-03-14", 3, CONFIG_COUNT_RECEIPT_DAY, "2025-03-18" },
		/* Spring festival 2026: Sat 14 Feb and Sat 28 Feb are working days. */
		{ "2026-02-13", 1, CONFIG_COUNT_NEXT_DAY, "2026-02-14" },
		{ "2026-02-13", 3, CONFIG_COUNT_NEXT_DAY, "2026-02-25" },
		{ "2026-02-13", 7, CONFIG_COUNT_NEXT_DAY, "2026-03-02" },
		{ "2026-02-13", 7, CONFIG_COUNT_RECEIPT_DAY, "2026-02-28" },
		/* Mid-autumn and national day 2026. */
		{ "2026-09-18", 3, CONFIG_COUNT_NEXT_DAY, "2026-09-22" },
		{ "2026-09-24", 1, CONFIG_COUNT_NEXT_DAY, "2026-09-28" },
		{ "2026-09-30", 1, CONFIG_COUNT_NEXT_DAY, "2026-10-08" },
		{ "2026-09-30", 3, CONFIG_COUNT_NEXT_DAY, "2026-10-10" },
		/* 劳动节 2025: Sun 27 Apr works, 1-5 May off. */
		{ "2025-04-25", 2, CONFIG_COUNT_NEXT_DAY, "2025-04-28" },
		{ "2025-04-30", 1, CONFIG_COUNT_NEXT_DAY, "2025-05-06" },
		/* Year boundary: 2026 starts with 1-3 Jan off and Sun 4 Jan working. */
		{ "2025-12-30", 3, CONFIG_COUNT_NEXT_DAY, "2026-01-05" },
		{ "2025-12-30", 3, CONFIG_COUNT_RECEIPT_DAY, "2026-01-04" },
		{ "2025-12-31", 1, CONFIG_COUNT_NEXT_DAY, "2026-01-04" },
		{ "2025-12-31", 7, CONFIG_COUNT_NEXT_DAY, "2026-01-12" },
		{ "2025-12-31", 15, CONFIG_COUNT_NEXT_DAY, "2026-01-22" },
		/* Into 2027, which has no data: weekdays only (1 Jan 2027 a Friday). */
		{ "2026-12-31", 1, CONFIG_COUNT_NEXT_DAY, "2027-01-01" },
		{ "2026-12-31", 2, CONFIG_COUNT_NEXT_DAY, "2027-01-04" },
	};
	struct workcal *c = cal_2025_2026();

	(void)state;
	run_due_cases(c, t, sizeof(t) / sizeof(t[0]));
	free(c);
}

static void test_year_boundary_without_next_year(void **state)
{
	/* Only 2025 known: 1 Jan 2026 (a Thursday) counts as a working day. */
	static const struct due_case t[] = {
		{ "2025-12-31", 1, CONFIG_COUNT_NEXT_DAY, "2026-01-01" },
		{ "2025-12-30", 3, CONFIG_COUNT_NEXT_DAY, "2026-01-02" },
		{ "2025-12-30", 3, CONFIG_COUNT_RECEIPT_DAY, "2026-01-01" },
	};
	struct workcal *c = cal_new();

	(void)state;
	load_year_file(c, 2025);
	assert_false(workcal_has_year(c, 2026));
	run_due_cases(c, t, sizeof(t) / sizeof(t[0]));
	free(c);
}

static void test_immediate(void **state)
{
	static const struct due_case t[] = {
		/* a working day: that same day, whatever the convention */
		{ "2025-09-26", 0, CONFIG_COUNT_NEXT_DAY, "2025-09-26" },
		{ "2025-09-26", 0, CONFIG_COUNT_RECEIPT_DAY, "2025-09-26" },
		{ "2025-09-28", 0, CONFIG_COUNT_NEXT_DAY, "2025-09-28" },
		/* a day off: the end of the next working day */
		{ "2025-09-27", 0, CONFIG_COUNT_NEXT_DAY, "2025-09-28" },
		{ "2025-10-01", 0, CONFIG_COUNT_NEXT_DAY, "2025-10-09" },
		{ "2025-10-01", 0, CONFIG_COUNT_RECEIPT_DAY, "2025-10-09" },
		{ "2026-10-04", 0, CONFIG_COUNT_NEXT_DAY, "2026-10-08" },
	};
	struct workcal *c = cal_2025_2026();

	(void)state;
	run_due_cases(c, t, sizeof(t) / sizeof(t[0]));
	/* As wall times: received 2025-09-26 16:30 local, due 23:59:59.999. */
	assert_int_equal(deadline_due_ms(c, at("2025-09-26", 16, 30, 0, 0), 0, NEXT, OFF),
			 at("2025-09-26", 23, 59, 59, 999));
	/* Received 00:30 local on the 27th is still 16:30 UTC on the 26th: the
	 * local day decides. */
	assert_int_equal(deadline_due_ms(c, at("2025-09-27", 0, 30, 0, 0), 0, NEXT, OFF),
			 at("2025-09-28", 23, 59, 59, 999));
	free(c);
}

static void test_extensions(void **state)
{
	struct workcal *c = cal_2025_2026();
	struct deadline_rules r;
	const struct deadline_rule *x;

	(void)state;
	deadline_preset(CONFIG_DEADLINES_NATIONAL, NEXT, 1, &r);
	x = deadline_rule_for(&r, ORDER_CAT_HELP, ORDER_URG_NORMAL, ORDER_CPX_DIFFICULT);
	assert_int_equal(x->days, 7);
	assert_int_equal(x->extension_max, 15);
	/* The longest extension reaches 15 working days from receipt: from
	 * 2025-09-26 day 7 is 13 Oct, then 14..17 Oct and 20..23 Oct. */
	assert_day(deadline_due_day(c, D("2025-09-26"), x->extension_max, NEXT), "2025-10-23");
	assert_day(deadline_due_day(c, D("2025-09-26"), x->extension_max, SAME), "2025-10-22");
	deadline_preset(CONFIG_DEADLINES_GUANGDONG, NEXT, 1, &r);
	x = deadline_rule_for(&r, ORDER_CAT_COMPLAINT, ORDER_URG_NORMAL, ORDER_CPX_SIMPLE);
	assert_int_equal(x->days, 15);
	assert_int_equal(x->extension_max, 30);
	/* 30 working days from 2026-09-18: 20 Sep (调休) 1 .. 30 Sep 8,
	 * [1-7 Oct off], 8 Oct 9, 9 Oct 10, 10 Oct (调休) 11, then 19 weekdays
	 * 12 Oct .. 5 Nov. */
	assert_day(deadline_due_day(c, D("2026-09-18"), x->extension_max, NEXT), "2026-11-05");
	free(c);
}

static void test_pauses(void **state)
{
	struct workcal *c = cal_2025_2026();
	int64_t due = deadline_due_ms(c, at("2025-09-26", 9, 0, 0, 0), 7, NEXT, OFF);

	(void)state;
	assert_int_equal(due, at("2025-10-13", 23, 59, 59, 999));
	/* Paused 29 Sep 10:00 to 9 Oct 09:00: working days in (29 Sep, 9 Oct]
	 * are 30 Sep and 9 Oct, so the due day moves two working days. */
	assert_int_equal(deadline_after_pause(c, due, at("2025-09-29", 10, 0, 0, 0),
					      at("2025-10-09", 9, 0, 0, 0), OFF),
			 at("2025-10-15", 23, 59, 59, 999));
	/* Within one day: nothing. */
	assert_int_equal(deadline_after_pause(c, due, at("2025-09-29", 10, 0, 0, 0),
					      at("2025-09-29", 17, 0, 0, 0), OFF),
			 due);
	/* Reversed or empty: nothing. */
	assert_int_equal(deadline_after_pause(c, due, at("2025-09-30", 10, 0, 0, 0),
					      at("2025-09-29", 17, 0, 0, 0), OFF),
			 due);
	/* Over the holiday only (30 Sep evening to 8 Oct): (30 Sep, 8 Oct] has
	 * no working day. */
	assert_int_equal(deadline_after_pause(c, due, at("2025-09-30", 18, 0, 0, 0),
					      at("2025-10-08", 12, 0, 0, 0), OFF),
			 due);
	/* Friday to Monday: one working day (the Monday). */
	assert_int_equal(deadline_after_pause(c, due, at("2025-10-17", 10, 0, 0, 0),
					      at("2025-10-20", 10, 0, 0, 0), OFF),
			 at("2025-10-14", 23, 59, 59, 999));
	free(c);
}

static void test_flags_around_midnight(void **state)
{
	struct workcal *c = cal_2025_2026();
	int64_t due = at("2025-10-13", 23, 59, 59, 999);

	(void)state;
	assert_int_equal(deadline_flag_of(c, due, due, 2, OFF), DEADLINE_DUE_TODAY);
	assert_int_equal(deadline_flag_of(c, due, due + 1, 2, OFF), DEADLINE_OVERDUE);
	assert_int_equal(deadline_flag_of(c, due, at("2025-10-13", 0, 0, 0, 0), 0, OFF),
			 DEADLINE_DUE_TODAY);
	/* One millisecond before local midnight it is due tomorrow. */
	assert_int_equal(deadline_flag_of(c, due, at("2025-10-12", 23, 59, 59, 999), 1, OFF),
			 DEADLINE_DUE_SOON);
	assert_int_equal(deadline_flag_of(c, due, at("2025-10-12", 23, 59, 59, 999), 0, OFF),
			 DEADLINE_OK);
	/* 07:00 on the 13th in UTC+8 is 23:00 on the 12th in UTC: the offset
	 * decides which day "today" is. */
	assert_int_equal(deadline_flag_of(c, due, at("2025-10-13", 7, 0, 0, 0), 0, OFF),
			 DEADLINE_DUE_TODAY);
	assert_int_equal(deadline_flag_of(c, due, at("2025-10-13", 7, 0, 0, 0), 0, 0), DEADLINE_OK);
	/* Due soon counts working days: on 30 Sep a due day of 9 Oct is the
	 * next working day; 10 Oct is the second. */
	assert_int_equal(deadline_flag_of(c, at("2025-10-09", 23, 59, 59, 999),
					  at("2025-09-30", 9, 0, 0, 0), 1, OFF),
			 DEADLINE_DUE_SOON);
	assert_int_equal(deadline_flag_of(c, at("2025-10-10", 23, 59, 59, 999),
					  at("2025-09-30", 9, 0, 0, 0), 1, OFF),
			 DEADLINE_OK);
	assert_int_equal(deadline_flag_of(c, at("2025-10-10", 23, 59, 59, 999),
					  at("2025-09-30", 9, 0, 0, 0), 2, OFF),
			 DEADLINE_DUE_SOON);
	assert_int_equal(deadline_flag_of(c, due, at("2026-01-01", 0, 0, 0, 0), 2, OFF),
			 DEADLINE_OVERDUE);
	assert_string_equal(deadline_flag_name(DEADLINE_OK), "ok");
	assert_string_equal(deadline_flag_name(DEADLINE_DUE_SOON), "due_soon");
	assert_string_equal(deadline_flag_name(DEADLINE_DUE_TODAY), "due_today");
	assert_string_equal(deadline_flag_name(DEADLINE_OVERDUE), "overdue");
	free(c);
}

/* ---- changing the calendar ---- */

static struct workcal_entry E(const char *date, int kind, const char *name) {
	struct workcal_entry e;

	memset(&e, 0, sizeof(e));
	e.day = D(date);
	e.kind = (enum workcal_kind)kind;
	snprintf(e.name, sizeof(e.name), "%s", name);
	return e;
}

static void
test_set_year_rejections_leave_calendar(void **state)
{
	struct workcal *c = cal_2025_2026(), *before = malloc(sizeof(*before));
	char en[WORKCAL_ERR_MAX], zh[WORKCAL_ERR_MAX];
	struct workcal_entry e[3];

	(void)state;
	assert_non_null(before);
	memcpy(before, c, sizeof(*c));

	e[0] = E("2026-10-01", WORKCAL_HOLIDAY, "国庆节");
	e[1] = E("2026-10-01", WORKCAL_HOLIDAY, "国庆节");
	assert_int_equal(workcal_set_year(c, 2026, e, 2, en, zh), -EINVAL);
	assert_string_equal(en, "2026-10-01 is listed twice.");
	assert_string_equal(zh, "2026-10-01 重复列出。");
	assert_memory_equal(c, before, sizeof(*c));

	e[1] = E("2026-10-12", WORKCAL_WORKDAY, "调休"); /* a Monday */
	assert_int_equal(workcal_set_year(c, 2026, e, 2, en, zh), -EINVAL);
	assert_non_null(strstr(en, "2026-10-12 is a Monday"));
	assert_non_null(strstr(zh, "星期一"));
	assert_memory_equal(c, before, sizeof(*c));

	e[1] = E("2027-01-01", WORKCAL_HOLIDAY, "元旦");
	assert_int_equal(workcal_set_year(c, 2026, e, 2, en, zh), -EINVAL);
	assert_non_null(strstr(en, "2027-01-01 is not in 2026"));
	assert_memory_equal(c, before, sizeof(*c));

	e[1] = E("2026-10-02", WORKCAL_HOLIDAY, "");
	memcpy(e[1].name, "\xe5\x9b\xbd\xff", 5); /* bad UTF-8 */
	assert_int_equal(workcal_set_year(c, 2026, e, 2, en, zh), -EINVAL);
	assert_non_null(strstr(en, "2026-10-02: the name"));
	memcpy(e[1].name, "a\nb", 4); /* a control character */
	assert_int_equal(workcal_set_year(c, 2026, e, 2, en, zh), -EINVAL);
	memcpy(e[1].name, "\xc0\xaf", 3); /* overlong '/' */
	assert_int_equal(workcal_set_year(c, 2026, e, 2, en, zh), -EINVAL);
	memcpy(e[1].name, "\xed\xa0\x80", 4); /* a surrogate */
	assert_int_equal(workcal_set_year(c, 2026, e, 2, en, zh), -EINVAL);
	memset(e[1].name, 'x', sizeof(e[1].name)); /* no NUL */
	assert_int_equal(workcal_set_year(c, 2026, e, 2, en, zh), -EINVAL);
	e[1] = E("2026-10-02", 3, "x"); /* no such kind */
	assert_int_equal(workcal_set_year(c, 2026, e, 2, en, zh), -EINVAL);
	assert_int_equal(workcal_set_year(c, 1999, e, 0, en, zh), -EINVAL);
	assert_int_equal(workcal_set_year(c, 2100, e, 0, en, zh), -EINVAL);
	assert_int_equal(workcal_set_year(c, 2026, e, -1, en, zh), -EINVAL);
	assert_memory_equal(c, before, sizeof(*c));

	/* A good change replaces the year as a whole; other years untouched. */
	e[1] = E("2026-10-02", WORKCAL_HOLIDAY, "国庆节");
	assert_int_equal(workcal_set_year(c, 2026, e, 2, en, zh), 0);
	assert_int_equal(c->nentries, 33 + 2);
	assert_true(workcal_is_working(c, D("2026-10-10")) == false); /* Saturday again */
	assert_false(workcal_is_working(c, D("2025-10-01")));
	/* A year with no listed days is still a year with data. */
	assert_int_equal(workcal_set_year(c, 2027, e, 0, en, zh), 0);
	assert_true(workcal_has_year(c, 2027));
	assert_int_equal(c->nyears, 3);
	assert_int_equal(c->years[2], 2027);
	assert_int_equal(workcal_clear_year(c, 2026), 0);
	assert_false(workcal_has_year(c, 2026));
	assert_int_equal(c->nentries, 33);
	assert_true(workcal_is_working(c, D("2026-10-02"))); /* Friday, no data */
	assert_int_equal(workcal_clear_year(c, 2026), -ENOENT);
	free(before);
	free(c);
}

static void test_set_year_unsorted_and_capacity(void **state)
{
	struct workcal *c = cal_new();
	struct workcal_entry *e = calloc(366, sizeof(*e));
	char en[WORKCAL_ERR_MAX], zh[WORKCAL_ERR_MAX];

	(void)state;
	assert_non_null(e);
	/* Entries in any order end up sorted. */
	e[0] = E("2026-10-03", WORKCAL_HOLIDAY, "c");
	e[1] = E("2026-01-01", WORKCAL_HOLIDAY, "a");
	e[2] = E("2026-05-01", WORKCAL_HOLIDAY, "b");
	assert_int_equal(workcal_set_year(c, 2026, e, 3, en, zh), 0);
	assert_day(c->entries[0].day, "2026-01-01");
	assert_day(c->entries[2].day, "2026-10-03");
	/* Every day of a year a holiday: 366 entries is allowed, 2048 in all. */
	for (int y = 2000; y < 2005; y++) {
		int n = 0;

		for (workcal_day_t d = workcal_day_from_ymd(y, 1, 1);
		     d <= workcal_day_from_ymd(y, 12, 31); d++) {
			e[n] = (struct workcal_entry){ .day = d, .kind = WORKCAL_HOLIDAY };
			n++;
		}
		assert_int_equal(workcal_set_year(c, y, e, n, en, zh), 0);
	}
	assert_int_equal(c->nentries, 3 + 366 + 365 * 3 + 366);
	{
		int n = 0;

		for (workcal_day_t d = workcal_day_from_ymd(2010, 1, 1);
		     d <= workcal_day_from_ymd(2010, 12, 31); d++) {
			e[n++] = (struct workcal_entry){ .day = d, .kind = WORKCAL_HOLIDAY };
		}
		assert_int_equal(workcal_set_year(c, 2010, e, n, en, zh), -ENOSPC);
		assert_false(workcal_has_year(c, 2010));
	}
	/* All-holiday years still end: the next working day is in 2005. */
	assert_day(workcal_add_working(c, workcal_day_from_ymd(2004, 1, 1), 1), "2005-01-03");
	free(e);
	free(c);
	/* 64 years at most. */
	c = cal_new();
	for (int y = 2000; y < 2000 + WORKCAL_MAX_YEARS; y++) {
		assert_int_equal(workcal_set_year(c, y, NULL, 0, en, zh), 0);
	}
	assert_int_equal(workcal_set_year(c, 2000 + WORKCAL_MAX_YEARS, NULL, 0, en, zh), -ENOSPC);
	assert_int_equal(workcal_set_year(c, 2000, NULL, 0, en, zh), 0); /* replacing is fine */
	free(c);
}

/* ---- the year file ---- */

static int parse(const char *json, int max, int *n, char *en, char *zh)
{
	struct workcal_entry *e = calloc(400, sizeof(*e));
	int year = 0, rc;

	assert_non_null(e);
	rc = workcal_parse_year(json, strlen(json), &year, e, max, n, en, zh);
	free(e);
	return rc;
}

static void test_year_file_errors(void **state)
{
	static const struct {
		const char *json;
		const char *en; /* part of the message */
	} bad[] = {
		{ "", "not a calendar" },
		{ "[]", "not a calendar" },
		{ "{\"year\": 2026, \"days\": [", "not a calendar" },
		{ "{\"year\": 2026, \"days\": [], \"extra\": 1}", "\"extra\" is unknown" },
		{ "{\"year\": 2026, \"year\": 2026, \"days\": []}",
		  "\"year\" is unknown or repeated" },
		{ "{\"year\": \"2026\", \"days\": []}", "\"year\" must be" },
		{ "{\"year\": 2026.5, \"days\": []}", "\"year\" must be" },
		{ "{\"year\": 1e300, \"days\": []}", "\"year\" must be" },
		{ "{\"year\": -2026, \"days\": []}", "\"year\" must be" },
		{ "{\"year\": 1999, \"days\": []}", "\"year\" must be" },
		{ "{\"days\": []}", "\"year\" must be" },
		{ "{\"year\": 2026}", "\"days\" must be" },
		{ "{\"year\": 2026, \"days\": {}}", "\"days\" must be" },
		{ "{\"year\": 2026, \"days\": [1]}", "days[0] must be an object" },
		{ "{\"year\": 2026, \"days\": [{\"date\": 20261001, \"kind\": \"holiday\"}]}",
		  "days[0]: \"date\"" },
		{ "{\"year\": 2026, \"days\": [{\"date\": \"2026-02-30\", \"kind\": \"holiday\"}]}",
		  "days[0]: \"date\"" },
		{ "{\"year\": 2026, \"days\": [{\"date\": \"2026-10-01\", \"kind\": \"off\"}]}",
		  "days[0] (2026-10-01): \"kind\"" },
		{ "{\"year\": 2026, \"days\": [{\"date\": \"2026-10-01\"}]}", "\"kind\"" },
		{ "{\"year\": 2026, \"days\": [{\"date\": \"2026-10-01\", \"kind\": \"holiday\", "
		  "\"name\": 5}]}",
		  "\"name\" must be" },
		{ "{\"year\": 2026, \"days\": [{\"date\": \"2026-10-01\", \"kind\": \"holiday\", "
		  "\"name\": \"0123456789012345678901234567890123456789012345678\"}]}",
		  "\"name\" must be" },
		{ "{\"year\": 2026, \"days\": [{\"date\": \"2026-10-01\", \"kind\": \"holiday\", "
		  "\"note\": \"x\"}]}",
		  "days[0]: the key \"note\"" },
		{ "{\"year\": 2026, \"days\": [{\"date\": \"2025-10-01\", \"kind\": \"holiday\"}]}",
		  "2025-10-01 is not in 2026" },
		{ "{\"year\": 2026, \"days\": [{\"date\": \"2026-10-01\", \"kind\": \"holiday\"}, "
		  "{\"date\": \"2026-10-01\", \"kind\": \"holiday\"}]}",
		  "2026-10-01 is listed twice" },
		{ "{\"year\": 2026, \"days\": [{\"date\": \"2026-10-09\", \"kind\": \"workday\"}]}",
		  "2026-10-09 is a Friday" },
		{ "{\"year\": 2026, \"days\": [{\"date\": \"2026-10-01\", \"kind\": \"holiday\", "
		  "\"name\": \"a\\u0007b\"}]}",
		  "the name must be text" },
	};
	char en[WORKCAL_ERR_MAX], zh[WORKCAL_ERR_MAX];
	int n = -1;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *want = bad[i].en;

		if (parse(bad[i].json, 400, &n, en, zh) != -EINVAL) {
			fail_msg("accepted %s", bad[i].json);
		}
		if (strstr(en, want) == NULL || zh[0] == '\0') {
			fail_msg("%s: message \"%s\", want \"%s\"", bad[i].json, en, want);
		}
		assert_int_equal(n, -1); /* untouched */
	}
	assert_int_equal(workcal_parse_year(NULL, 0, &n, NULL, 0, &n, en, zh), -EINVAL);
}

static void test_year_file_sizes(void **state)
{
	char en[WORKCAL_ERR_MAX], zh[WORKCAL_ERR_MAX];
	size_t cap = 400 * 64 + 64, len;
	char *big = malloc(300 * 1024);
	int n = 0;

	(void)state;
	assert_non_null(big);
	/* 367 days: more than a year can have. */
	len = (size_t)snprintf(big, cap, "{\"year\": 2026, \"days\": [");
	for (int i = 0; i < 367; i++) {
		len += (size_t)snprintf(big + len, cap - len, "%s{\"date\": \"2026-01-01\"}",
					i ? "," : "");
	}
	snprintf(big + len, cap - len, "]}");
	assert_int_equal(parse(big, 400, &n, en, zh), -E2BIG);
	assert_non_null(strstr(en, "more days"));
	/* More than the caller's room. */
	assert_int_equal(parse("{\"year\": 2026, \"days\": [{\"date\": \"2026-10-01\", \"kind\": "
			       "\"holiday\"}, {\"date\": \"2026-10-02\", \"kind\": \"holiday\"}]}",
			       1, &n, en, zh),
			 -E2BIG);
	/* A file too large to be a calendar at all. */
	memset(big, ' ', 300 * 1024);
	memcpy(big, "{\"year\": 2026, \"days\": []}", 26);
	assert_int_equal(workcal_parse_year(big, 300 * 1024, &n, NULL, 0, &n, en, zh), -E2BIG);
	free(big);
}

static void test_year_file_round_trip(void **state)
{
	struct workcal *c = cal_2025_2026(), *d = cal_new();
	struct workcal_entry *e = calloc(400, sizeof(*e));
	char en[WORKCAL_ERR_MAX], zh[WORKCAL_ERR_MAX];
	char *json = workcal_year_to_json(c, 2026);
	int year = 0, n = 0;

	(void)state;
	assert_non_null(json);
	assert_non_null(e);
	assert_int_equal(workcal_parse_year(json, strlen(json), &year, e, 400, &n, en, zh), 0);
	assert_int_equal(year, 2026);
	assert_int_equal(n, 39);
	assert_int_equal(workcal_set_year(d, year, e, n, en, zh), 0);
	assert_memory_equal(d->entries, &c->entries[33], (size_t)n * sizeof(e[0]));
	free(json);
	/* A year with no data: an empty list. */
	json = workcal_year_to_json(c, 2027);
	assert_int_equal(workcal_parse_year(json, strlen(json), &year, e, 400, &n, en, zh), 0);
	assert_int_equal(n, 0);
	free(json);
	free(e);
	free(d);
	free(c);
}

/* ---- rules ---- */

static void test_presets(void **state)
{
	static const struct {
		enum config_deadline_preset p;
		int cat, urg, cpx, days, ext;
	} t[] = {
		{ CONFIG_DEADLINES_NATIONAL, ORDER_CAT_CONSULT, ORDER_URG_NORMAL, ORDER_CPX_SIMPLE,
		  0, 15 },
		{ CONFIG_DEADLINES_NATIONAL, ORDER_CAT_CONSULT, ORDER_URG_URGENT, ORDER_CPX_SIMPLE,
		  1, 15 },
		{ CONFIG_DEADLINES_NATIONAL, ORDER_CAT_COMPLAINT, ORDER_URG_URGENT,
		  ORDER_CPX_DIFFICULT, 1, 15 },
		{ CONFIG_DEADLINES_NATIONAL, ORDER_CAT_HELP, ORDER_URG_NORMAL, ORDER_CPX_COMPLEX, 3,
		  15 },
		{ CONFIG_DEADLINES_NATIONAL, ORDER_CAT_REPORT, ORDER_URG_NORMAL,
		  ORDER_CPX_DIFFICULT, 7, 15 },
		{ CONFIG_DEADLINES_NATIONAL, ORDER_CAT_REPORT, ORDER_URG_NORMAL, 99, 7, 15 },
		{ CONFIG_DEADLINES_GUANGDONG, ORDER_CAT_CONSULT, ORDER_URG_NORMAL,
		  ORDER_CPX_DIFFICULT, 2, 30 },
		{ CONFIG_DEADLINES_GUANGDONG, ORDER_CAT_HELP, ORDER_URG_NORMAL, ORDER_CPX_SIMPLE,
		  10, 30 },
		{ CONFIG_DEADLINES_GUANGDONG, ORDER_CAT_SUGGESTION, ORDER_URG_NORMAL,
		  ORDER_CPX_SIMPLE, 10, 30 },
		{ CONFIG_DEADLINES_GUANGDONG, ORDER_CAT_COMPLAINT, ORDER_URG_NORMAL,
		  ORDER_CPX_SIMPLE, 15, 30 },
		{ CONFIG_DEADLINES_GUANGDONG, ORDER_CAT_REPORT, ORDER_URG_NORMAL, ORDER_CPX_COMPLEX,
		  15, 30 },
		{ CONFIG_DEADLINES_GUANGDONG, ORDER_CAT_REPORT, ORDER_URG_URGENT, ORDER_CPX_COMPLEX,
		  1, 30 },
		{ CONFIG_DEADLINES_GUANGDONG, 99, ORDER_URG_NORMAL, ORDER_CPX_COMPLEX, 15, 30 },
	};
	struct deadline_rules r;

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const struct deadline_rule *x;

		deadline_preset(t[i].p, SAME, 2, &r);
		x = deadline_rule_for(&r, t[i].cat, t[i].urg, t[i].cpx);
		assert_non_null(x);
		if (x->days != t[i].days || x->extension_max != t[i].ext) {
			fail_msg("case %zu: %d days ext %d, want %d ext %d", i, x->days,
				 x->extension_max, t[i].days, t[i].ext);
		}
		assert_true(x->pause_return);
		assert_false(x->pause_extension);
		assert_int_equal(r.count_from, SAME);
		assert_int_equal(r.sign_for_days, 2);
		assert_int_equal(r.rules[r.nrules - 1].category, DEADLINE_ANY);
		assert_int_equal(r.rules[r.nrules - 1].urgency, DEADLINE_ANY);
		assert_int_equal(r.rules[r.nrules - 1].complexity, DEADLINE_ANY);
	}
	deadline_preset(CONFIG_DEADLINES_NATIONAL, NEXT, 1, &r);
	assert_int_equal(r.nrules, 5);
	deadline_preset(CONFIG_DEADLINES_GUANGDONG, NEXT, 1, &r);
	assert_int_equal(r.nrules, 7);
}

static int rules(const char *text, struct deadline_rules *r, char *en, char *zh)
{
	return deadline_rules_parse(text, strlen(text), r, en, zh);
}

static void test_rules_file(void **state)
{
	static const char good[] = "# Our province's table\r\n"
				   "\n"
				   "*        urgent  *        1  15  pause_return\r\n"
				   "consult  *       *        2  0   # no extension\n"
				   "complaint normal difficult 20 40 pause_extension pause_return\n"
				   "\t*  *  *  10  30";
	struct deadline_rules r;
	char en[WORKCAL_ERR_MAX], zh[WORKCAL_ERR_MAX];
	const struct deadline_rule *x;

	(void)state;
	r.count_from = SAME;
	r.sign_for_days = 3;
	assert_int_equal(rules(good, &r, en, zh), 0);
	assert_int_equal(r.nrules, 4);
	assert_int_equal(r.count_from, SAME); /* kept */
	assert_int_equal(r.sign_for_days, 3);
	x = deadline_rule_for(&r, ORDER_CAT_CONSULT, ORDER_URG_URGENT, ORDER_CPX_SIMPLE);
	assert_int_equal(x->days, 1);
	assert_true(x->pause_return);
	x = deadline_rule_for(&r, ORDER_CAT_CONSULT, ORDER_URG_NORMAL, ORDER_CPX_SIMPLE);
	assert_int_equal(x->days, 2);
	assert_int_equal(x->extension_max, 0);
	assert_false(x->pause_return);
	x = deadline_rule_for(&r, ORDER_CAT_COMPLAINT, ORDER_URG_NORMAL, ORDER_CPX_DIFFICULT);
	assert_int_equal(x->days, 20);
	assert_true(x->pause_extension);
	assert_true(x->pause_return);
	x = deadline_rule_for(&r, ORDER_CAT_COMPLAINT, ORDER_URG_NORMAL, ORDER_CPX_COMPLEX);
	assert_int_equal(x->days, 10);
}

static void test_rules_file_errors(void **state)
{
	static const struct {
		const char *text;
		int line;
		const char *en;
	} bad[] = {
		{ "", 1, "catch-all" },
		{ "# nothing\n\n", 2, "catch-all" },
		{ "consult * * 2 30\n", 1, "catch-all" },
		{ "* * * 2 30\nconsult * * 2 30\n", 2, "line 1 before it" },
		{ "consult * * 2 30\nconsult normal simple 3 30\n* * * 5 30", 2, "line 1 before" },
		{ "gossip * * 2 30\n* * * 5 30", 1, "unknown category \"gossip\"" },
		{ "\n* whenever * 2 30\n* * * 5 30", 2, "unknown urgency" },
		{ "* * hard 2 30\n* * * 5 30", 1, "unknown complexity" },
		{ "* * * 61 0\n", 1, "0 to 60" },
		{ "* * * -1 0\n", 1, "0 to 60" },
		{ "* * * two 0\n", 1, "0 to 60" },
		{ "* * * 5 5\n", 1, "longer than days" },
		{ "* * * 5\n", 1, "a row is" },
		{ "* * * 5 30 pause_return pause_return\n", 1, "once each" },
		{ "* * * 5 30 pause_forever\n", 1, "\"pause_forever\"" },
		{ "* * * 5 30 a b c d\n", 1, "too many" },
		{ "* * * 5 30 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", 1, "too long" },
	};
	struct deadline_rules r, before;
	char en[WORKCAL_ERR_MAX], zh[WORKCAL_ERR_MAX], want_zh[32];

	(void)state;
	deadline_preset(CONFIG_DEADLINES_NATIONAL, NEXT, 1, &r);
	memcpy(&before, &r, sizeof(r));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[32];

		if (rules(bad[i].text, &r, en, zh) != -EINVAL) {
			fail_msg("accepted \"%s\"", bad[i].text);
		}
		snprintf(want, sizeof(want), "line %d:", bad[i].line);
		snprintf(want_zh, sizeof(want_zh), "第 %d 行", bad[i].line);
		if (strstr(en, want) == NULL || strstr(en, bad[i].en) == NULL ||
		    strstr(zh, want_zh) == NULL) {
			fail_msg("\"%s\": message \"%s\" / \"%s\"", bad[i].text, en, zh);
		}
		assert_memory_equal(&r, &before, sizeof(r));
	}
	/* A NUL byte: not text. */
	assert_int_equal(deadline_rules_parse("* * * 5 30\0", 11, &r, en, zh), -EINVAL);
	/* More than DEADLINE_MAX_RULES rows: the 30 specific rows, three more
	 * general ones (not shadowed: they come after), then the catch-all. */
	{
		static const char *const extra[] = { "* normal simple", "* urgent simple",
						     "* normal complex" };
		char text[4096];
		size_t len = 0;

		for (int i = 0; i < 30; i++) {
			len += (size_t)snprintf(
				text + len, sizeof(text) - len, "%s %s %s 1 0\n",
				order_category_name((enum order_category)(i % 5)),
				order_urgency_name((enum order_urgency)(i / 5 % 2)),
				order_complexity_name((enum order_complexity)(i / 10)));
		}
		for (int i = 0; i < 3; i++) {
			len += (size_t)snprintf(text + len, sizeof(text) - len, "%s 1 0\n",
						extra[i]);
		}
		snprintf(text + len, sizeof(text) - len, "* * * 5 30\n");
		assert_int_equal(rules(text, &r, en, zh), -EINVAL);
		assert_non_null(strstr(en, "line 33: more than 32 rows"));
		assert_memory_equal(&r, &before, sizeof(r));
	}
}

static void test_names(void **state)
{
	(void)state;
	for (int i = 0; i < ORDER_CAT_N; i++) {
		assert_int_equal(order_category_parse(order_category_name((enum order_category)i)),
				 i);
	}
	for (int i = 0; i < ORDER_URG_N; i++) {
		assert_int_equal(order_urgency_parse(order_urgency_name((enum order_urgency)i)), i);
	}
	for (int i = 0; i < ORDER_CPX_N; i++) {
		assert_int_equal(
			order_complexity_parse(order_complexity_name((enum order_complexity)i)), i);
	}
	assert_string_equal(order_category_zh(ORDER_CAT_SUGGESTION), "意见建议");
	assert_string_equal(order_category_zh(ORDER_CAT_REPORT), "举报");
	assert_string_equal(order_category_name(ORDER_CAT_N), "unknown");
	assert_int_equal(order_category_parse("Consult"), -EINVAL);
	assert_int_equal(order_category_parse(NULL), -EINVAL);
	assert_int_equal(order_urgency_parse(""), -EINVAL);
	assert_int_equal(order_complexity_parse("*"), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dates_round_trip),
		cmocka_unit_test(test_parse_date),
		cmocka_unit_test(test_format_time),
		cmocka_unit_test(test_day_of_ms_and_end_of_day),
		cmocka_unit_test(test_weekends_without_data),
		cmocka_unit_test(test_shipped_calendars_day_by_day),
		cmocka_unit_test(test_counting_agrees_with_brute_force),
		cmocka_unit_test(test_due_days_hand_counted),
		cmocka_unit_test(test_year_boundary_without_next_year),
		cmocka_unit_test(test_immediate),
		cmocka_unit_test(test_extensions),
		cmocka_unit_test(test_pauses),
		cmocka_unit_test(test_flags_around_midnight),
		cmocka_unit_test(test_set_year_rejections_leave_calendar),
		cmocka_unit_test(test_set_year_unsorted_and_capacity),
		cmocka_unit_test(test_year_file_errors),
		cmocka_unit_test(test_year_file_sizes),
		cmocka_unit_test(test_year_file_round_trip),
		cmocka_unit_test(test_presets),
		cmocka_unit_test(test_rules_file),
		cmocka_unit_test(test_rules_file_errors),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
