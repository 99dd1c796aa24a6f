/*
 * The ticket queue against a real database, a fake clock and a fake
 * printer: issuing only once printed (and no ghost when the printer fails),
 * show-on-screen, the calling order and its fairness rule, recall limit and
 * no-show, transfer keeping the issue time and going to the front, hold and
 * resume, day rollover with and without keep_overnight, number wrap skipping
 * numbers still waiting, recovery of a ticket left `printing`, opening
 * hours, configuration validation, statistics and listeners.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_clock.h"
#include "fake_printer.h"
#include "fw/rng.h"
#include "fw/store.h"
#include "queue/queue.h"
#include "test_app.h"
#include "test_util.h"

/* Monday 2023-11-13 10:00 in UTC+8. */
#define T0  1699840800000LL
#define MIN 60000LL
#define DAY (24 * 60 * MIN)

struct fixture {
	struct test_data d;	    /* data directory, store (d.db), clock (d.clk) */
	struct hal_printer printer; /* a copy of the_printer */
	struct queue *q;
	struct queue_params p;
	int events;
	struct queue_event last;
};

static const struct queue_actor staff = { "li02", "staff" };
/* The fakes come from a small static pool: one printer serves every test. */
static struct hal_printer the_printer;

static void on_event(const struct queue_event *ev, void *arg)
{
	struct fixture *f = arg;

	f->events++;
	f->last = *ev;
}

static void open_queue(struct fixture *f)
{
	assert_int_equal(queue_create(&f->p, &f->q), 0);
	assert_int_equal(queue_listen(f->q, on_event, f), 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	test_data_open(&f->d, "test_queue", T0, false);
	fake_printer_init(&the_printer);
	f->printer = the_printer;
	f->p = (struct queue_params){
		.data_dir = f->d.dir,
		.clock = &f->d.clk.clock,
		.printer = &f->printer,
		.office_name = "测试县12345便民服务大厅",
		.recall_max = 3,
		.priority_run = 3,
		.rollover_min = 240,
		.keep_overnight = false,
		.utc_offset_min = 480,
	};
	open_queue(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	queue_destroy(f->q);
	test_data_close(&f->d);
	free(f);
	return 0;
}

static void take(struct fixture *f, int service, bool priority, const char *want)
{
	struct queue_ticket t;
	int perr = -1;

	assert_int_equal(queue_issue(f->q, NULL, service, priority, true, &t, &perr), 0);
	assert_int_equal(perr, 0);
	assert_string_equal(t.number, want);
	assert_string_equal(t.state, "waiting");
	fake_clock_advance(&f->d.clk.clock, MIN);
}

static void call(struct fixture *f, int window, const char *want)
{
	struct queue_ticket t;
	int rc = queue_call_next(f->q, &staff, window, &t);

	if (rc != 0) {
		fail_msg("window %d: call-next %d, wanted %s", window, rc, want);
	}
	assert_string_equal(t.number, want);
	assert_string_equal(t.state, "called");
	assert_int_equal(t.window_no, window);
}

static void act(struct fixture *f, int window, enum queue_action a, int want)
{
	struct queue_ticket t;

	assert_int_equal(queue_act(f->q, &staff, window, a, NULL, &t), want);
}

static void open_windows(struct fixture *f)
{
	for (int w = 1; w <= 3; w++) {
		assert_int_equal(queue_window_set(f->q, &staff, w, QUEUE_WIN_OPEN), 0);
	}
}

static int64_t sql_int(struct fixture *f, const char *sql)
{
	return test_sql_int(f->d.db, sql);
}

/* ---- issuing ---- */

static void test_issue_prints_then_waits(void **state)
{
	struct fixture *f = *state;
	struct queue_ticket t;
	size_t len;
	int perr;

	take(f, 1, false, "A001");
	take(f, 1, false, "A002");
	take(f, 2, false, "B001");
	assert_int_equal(fake_printer_job_count(&f->printer), 3);
	assert_non_null(fake_printer_job(&f->printer, 0, &len));
	assert_true(len > 20);
	assert_int_equal(queue_issue(f->q, NULL, 1, false, true, &t, &perr), 0);
	assert_int_equal(t.ahead, 2);
	assert_true(t.printed);
	assert_int_equal(strlen(t.lookup_code), QUEUE_LOOKUP_LEN);
	assert_null(strpbrk(t.lookup_code, "01ILO"));
	assert_int_equal(sql_int(f, "SELECT count(*) FROM outbox WHERE type = "
				    "'queue.ticket_issued'"),
			 4);
	/* No personal data goes out: the events carry numbers and times only. */
	assert_int_equal(sql_int(f, "SELECT count(*) FROM outbox WHERE payload LIKE '%lookup%'"),
			 0);
	assert_int_equal(f->events, 4);
	assert_int_equal(f->last.kind, QEV_ISSUED);
	assert_string_equal(f->last.number, "A003");
	assert_int_equal(f->last.waiting_in_service, 3);
	assert_int_equal(queue_issue(f->q, NULL, 99, false, true, &t, &perr), -ENOENT);
}

static void test_printer_failure_leaves_no_ghost(void **state)
{
	struct fixture *f = *state;
	struct queue_ticket t;
	int perr = 0;

	open_windows(f);
	fake_printer_set_state(&f->printer, HAL_PRINTER_PAPER_OUT);
	assert_int_equal(queue_issue(f->q, NULL, 1, false, true, &t, &perr), -ECANCELED);
	assert_int_equal(perr, -ENOSPC);
	assert_string_equal(t.state, "void");
	assert_int_equal(f->events, 3); /* the window changes only */
	fake_printer_set_state(&f->printer, HAL_PRINTER_READY);
	fake_printer_fail_next(&f->printer, -ETIMEDOUT);
	assert_int_equal(queue_issue(f->q, NULL, 1, false, true, &t, &perr), -ECANCELED);
	assert_int_equal(perr, -ETIMEDOUT);
	assert_int_equal(fake_printer_job_count(&f->printer), 0);
	/* Not in the queue, and the numbers are burnt. */
	assert_int_equal(queue_call_next(f->q, &staff, 1, &t), -ENODATA);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM queue_tickets WHERE state = 'void'"), 2);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM queue_tickets WHERE state = 'printing'"),
			 0);
	take(f, 1, false, "A003");
	call(f, 1, "A003");
	assert_int_equal(sql_int(f, "SELECT count(*) FROM outbox WHERE type = 'queue.ticket_void'"),
			 2);
}

static void test_show_on_screen(void **state)
{
	struct fixture *f = *state;
	struct queue_ticket t;
	int perr;

	fake_printer_set_state(&f->printer, HAL_PRINTER_OFFLINE);
	assert_int_equal(queue_issue(f->q, NULL, 2, false, false, &t, &perr), 0);
	assert_string_equal(t.number, "B001");
	assert_false(t.printed);
	assert_string_equal(t.state, "waiting");
	assert_int_equal(t.ahead, 0);
	assert_int_equal(fake_printer_job_count(&f->printer), 0);
	open_windows(f);
	call(f, 3, "B001");
	/* A staff member reprints once the printer is back. */
	fake_printer_set_state(&f->printer, HAL_PRINTER_READY);
	assert_int_equal(queue_reprint(f->q, &staff, "B001", &t, &perr), 0);
	assert_int_equal(fake_printer_job_count(&f->printer), 1);
	assert_int_equal(queue_reprint(f->q, &staff, "B009", &t, &perr), -ENOENT);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM audit WHERE action = 'queue.reprint'"),
			 1);
}

static void test_opening_hours_and_pause(void **state)
{
	struct fixture *f = *state;
	struct queue_open_state os;
	struct queue_config c;
	struct queue_ticket t;
	char en[160], zh[160];
	int perr;

	assert_int_equal(queue_open_state(f->q, &os), 0);
	assert_true(os.open);
	/* Saturday 10:00: closed until Monday 09:00. */
	fake_clock_advance(&f->d.clk.clock, 5 * DAY);
	assert_int_equal(queue_open_state(f->q, &os), 0);
	assert_false(os.open);
	assert_int_equal(os.next_open_ms, T0 + 7 * DAY - 60 * MIN);
	assert_int_equal(queue_issue(f->q, NULL, 1, false, true, &t, &perr), -EAGAIN);
	/* Monday 08:59 closed, 09:00 open; paused stops it. */
	fake_clock_advance(&f->d.clk.clock, 2 * DAY - 61 * MIN);
	queue_open_state(f->q, &os);
	assert_false(os.open);
	assert_int_equal(os.next_open_ms, T0 + 7 * DAY - 60 * MIN);
	fake_clock_advance(&f->d.clk.clock, MIN);
	queue_open_state(f->q, &os);
	assert_true(os.open);
	queue_config_get(f->q, &c);
	c.paused = true;
	assert_int_equal(queue_config_set(f->q, &staff, &c, en, zh), 0);
	queue_open_state(f->q, &os);
	assert_false(os.open);
	assert_true(os.paused);
	assert_int_equal(queue_issue(f->q, NULL, 1, false, false, &t, &perr), -EAGAIN);
}

/* ---- calling ---- */

static void test_priority_first_but_fair(void **state)
{
	struct fixture *f = *state;

	open_windows(f);
	take(f, 1, false, "A001"); /* regular, oldest */
	for (int i = 2; i <= 6; i++) {
		char n[8];

		snprintf(n, sizeof(n), "A%03d", i);
		take(f, 1, true, n);
	}
	/* K = 3 priority calls, then the older regular, then priority again. */
	call(f, 1, "A002");
	act(f, 1, QUEUE_START, 0);
	act(f, 1, QUEUE_FINISH, 0);
	call(f, 1, "A003");
	act(f, 1, QUEUE_NO_SHOW, 0);
	call(f, 1, "A004");
	act(f, 1, QUEUE_NO_SHOW, 0);
	call(f, 1, "A001");
	act(f, 1, QUEUE_NO_SHOW, 0);
	call(f, 1, "A005");
	act(f, 1, QUEUE_NO_SHOW, 0);
	/* The run is counted per window: window 2 has its own. */
	call(f, 2, "A006");
}

static void test_priority_continues_when_regular_is_newer(void **state)
{
	struct fixture *f = *state;

	open_windows(f);
	for (int i = 1; i <= 4; i++) {
		char n[8];

		snprintf(n, sizeof(n), "A%03d", i);
		take(f, 1, true, n);
	}
	take(f, 1, false, "A005");
	for (int i = 1; i <= 4; i++) {
		char n[8];

		snprintf(n, sizeof(n), "A%03d", i);
		call(f, 1, n);
		act(f, 1, QUEUE_NO_SHOW, 0);
	}
	call(f, 1, "A005");
}

static void test_window_preference_then_first_come(void **state)
{
	struct fixture *f = *state;
	struct queue_ticket t;

	open_windows(f);
	take(f, 1, false, "A001");
	take(f, 1, false, "A002");
	take(f, 2, false, "B001");
	/* Window 3 prefers B, window 1 prefers A. */
	call(f, 3, "B001");
	call(f, 1, "A001");
	call(f, 2, "A002");
	assert_int_equal(queue_call_next(f->q, &staff, 2, &t), -EALREADY);
	act(f, 2, QUEUE_START, 0);
	act(f, 2, QUEUE_FINISH, 0);
	assert_int_equal(queue_call_next(f->q, &staff, 2, &t), -ENODATA);
	assert_int_equal(queue_window_set(f->q, &staff, 2, QUEUE_WIN_PAUSED), 0);
	take(f, 1, false, "A003");
	assert_int_equal(queue_call_next(f->q, &staff, 2, &t), -EPERM);
	assert_int_equal(queue_call_next(f->q, &staff, 42, &t), -ENOENT);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM audit WHERE action = 'queue.call' AND "
				    "actor = 'li02'"),
			 3);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM outbox WHERE type = "
				    "'queue.ticket_called'"),
			 3);
}

static void test_recall_limit_then_no_show(void **state)
{
	struct fixture *f = *state;
	struct queue_ticket t;

	open_windows(f);
	take(f, 1, false, "A001");
	call(f, 1, "A001");
	for (int i = 1; i <= 3; i++) {
		assert_int_equal(queue_act(f->q, &staff, 1, QUEUE_RECALL, NULL, &t), 0);
		assert_int_equal(t.recall_count, i);
		assert_int_equal(f->last.kind, QEV_RECALLED);
		assert_int_equal(f->last.recall_count, i);
	}
	act(f, 1, QUEUE_RECALL, -EDQUOT);
	act(f, 1, QUEUE_FINISH, -EPROTO); /* not started */
	assert_int_equal(queue_act(f->q, &staff, 1, QUEUE_NO_SHOW, NULL, &t), 0);
	assert_string_equal(t.state, "no_show");
	assert_int_equal(f->last.kind, QEV_NO_SHOW);
	act(f, 1, QUEUE_RECALL, -ENODATA);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM outbox WHERE type = "
				    "'queue.ticket_recalled'"),
			 3);
}

static void test_transfer_keeps_time_and_goes_first(void **state)
{
	struct fixture *f = *state;
	struct queue_ticket t;
	int64_t issued;

	open_windows(f);
	take(f, 1, false, "A001");
	issued = T0;
	take(f, 2, false, "B001");
	take(f, 2, false, "B002");
	take(f, 1, false, "A002");
	call(f, 1, "A001");
	act(f, 1, QUEUE_START, 0);
	/* To service B: ahead of B001 and B002, which were issued later. */
	assert_int_equal(queue_transfer(f->q, &staff, 1, 2, 0, "需补充材料", &t), 0);
	assert_string_equal(t.state, "waiting");
	assert_int_equal(t.issued_ms, issued);
	assert_int_equal(t.service_id, 2);
	assert_string_equal(t.note, "需补充材料");
	assert_int_equal(f->last.kind, QEV_TRANSFERRED);
	call(f, 3, "A001");
	/* To window 2: only window 2 calls it, before anything else there. */
	assert_int_equal(queue_transfer(f->q, &staff, 3, 0, 2, "", &t), 0);
	call(f, 1, "A002");
	call(f, 2, "A001");
	call(f, 3, "B001");
	assert_int_equal(queue_transfer(f->q, &staff, 3, 1, 2, "", &t), -EINVAL);
	assert_int_equal(queue_transfer(f->q, &staff, 3, 9, 0, "", &t), -ENOENT);
	/* The note stays on the device. */
	assert_int_equal(sql_int(f, "SELECT count(*) FROM outbox WHERE payload LIKE '%材料%'"), 0);
}

/*
 * A ticket issued to a window (a citizen about a matter that window
 * handles): the window's first service, called at that window before
 * anything else and nowhere else; the note stays on the device; found again
 * by lookup code (any case) and by number; a ticket of another day is not
 * "today's".
 */
static void test_issue_to_window_and_find(void **state)
{
	struct fixture *f = *state;
	struct queue_ticket t, found;
	char code[QUEUE_LOOKUP_LEN + 1];
	int perr = -1;

	open_windows(f);
	take(f, 1, false, "A001");
	assert_int_equal(
		queue_issue_to_window(f->q, &staff, 0, 3, "工单 WO-1 来访", true, &t, &perr), 0);
	assert_int_equal(perr, 0);
	assert_int_equal(t.service_id, 2); /* window 3 serves B first */
	assert_string_equal(t.number, "B001");
	assert_int_equal(t.target_window, 3);
	assert_string_equal(t.state, "waiting");
	assert_int_equal(t.ahead, 0);
	assert_int_equal(fake_printer_job_count(&f->printer), 2);
	assert_int_equal(sql_int(f,
				 "SELECT count(*) FROM outbox WHERE type = "
				 "'queue.ticket_issued' AND payload LIKE '%\"target_window\":3%'"),
			 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM outbox WHERE payload LIKE '%WO-1%'"), 0);
	fake_clock_advance(&f->d.clk.clock, MIN);
	take(f, 2, false, "B002");
	/* Window 2 (serves A and B) does not take it; window 3 calls it first. */
	call(f, 2, "A001");
	call(f, 3, "B001");
	act(f, 3, QUEUE_START, 0);
	act(f, 3, QUEUE_FINISH, 0);

	assert_int_equal(queue_ticket_find(f->q, t.lookup_code, true, &found), 0);
	assert_string_equal(found.number, "B001");
	assert_string_equal(found.state, "done");
	snprintf(code, sizeof(code), "%s", t.lookup_code);
	for (char *c = t.lookup_code; *c != '\0'; c++) {
		if (*c >= 'A' && *c <= 'Z') {
			*c = (char)(*c - 'A' + 'a');
		}
	}
	assert_int_equal(queue_ticket_find(f->q, t.lookup_code, true, &found), 0);
	assert_string_equal(found.number, "B001");
	assert_int_equal(queue_ticket_find(f->q, "B001", true, &found), 0);
	assert_string_equal(found.lookup_code, code);
	assert_int_equal(queue_ticket_find(f->q, "B009", true, &found), -ENOENT);
	assert_int_equal(queue_ticket_find(f->q, "ZZZZZZZZ", true, &found), -ENOENT);
	assert_int_equal(queue_ticket_find(f->q, "ABC", true, &found), -EINVAL);
	assert_int_equal(queue_ticket_find(f->q, "ABCDEFG0", true, &found), -EINVAL);
	assert_int_equal(queue_ticket_find(f->q, NULL, true, &found), -EINVAL);

	/* The next service day: found by code, but not as today's. */
	fake_clock_advance(&f->d.clk.clock, DAY);
	assert_int_equal(queue_ticket_find(f->q, found.lookup_code, false, &found), 0);
	assert_int_equal(queue_ticket_find(f->q, found.lookup_code, true, &found), -ENOENT);

	assert_int_equal(queue_issue_to_window(f->q, &staff, 0, 9, "", true, &t, &perr), -ENOENT);
	assert_int_equal(queue_issue_to_window(f->q, &staff, 7, 1, "", true, &t, &perr), -ENOENT);
	assert_int_equal(queue_issue_to_window(f->q, &staff, 0, 1, "\x01", true, &t, &perr),
			 -EINVAL);
	/* Printer out of paper: nothing issued, the printer's error given. */
	fake_printer_set_state(&f->printer, HAL_PRINTER_PAPER_OUT);
	assert_int_equal(queue_issue_to_window(f->q, &staff, 0, 1, "", true, &t, &perr),
			 -ECANCELED);
	assert_int_equal(perr, -ENOSPC);
	assert_string_equal(t.state, "void");
}

static void test_hold_and_resume(void **state)
{
	struct fixture *f = *state;
	struct queue_window_info *w = malloc(sizeof(*w));
	struct queue_ticket t;

	assert_non_null(w);
	open_windows(f);
	take(f, 1, false, "A001");
	take(f, 1, false, "A002");
	call(f, 1, "A001");
	act(f, 1, QUEUE_HOLD, 0);
	assert_int_equal(queue_window_info(f->q, 1, w), 0);
	assert_false(w->has_current);
	assert_int_equal(w->nheld, 1);
	assert_string_equal(w->held[0].number, "A001");
	assert_int_equal(w->services[0].waiting, 1);
	call(f, 1, "A002");
	act(f, 1, QUEUE_START, 0);
	act(f, 1, QUEUE_FINISH, 0);
	assert_int_equal(queue_act(f->q, &staff, 1, QUEUE_RESUME, "A001", &t), 0);
	assert_string_equal(t.state, "waiting");
	take(f, 1, false, "A003");
	call(f, 1, "A001");
	assert_int_equal(queue_act(f->q, &staff, 1, QUEUE_RESUME, "A003", &t), -ENOENT);
	free(w);
}

/* ---- day rollover and numbers ---- */

static void test_rollover_expires_and_restarts_numbers(void **state)
{
	struct fixture *f = *state;

	open_windows(f);
	take(f, 1, false, "A001");
	take(f, 1, false, "A002");
	call(f, 1, "A001");
	assert_int_equal(queue_rollover(f->q), 0);
	/* Tuesday 03:59: still Monday's service day; 04:00 closes it. */
	fake_clock_advance(&f->d.clk.clock, DAY - 6 * 60 * MIN - 3 * MIN);
	assert_int_equal(queue_rollover(f->q), 0);
	fake_clock_advance(&f->d.clk.clock, MIN);
	assert_int_equal(queue_rollover(f->q), 1);
	assert_int_equal(f->last.kind, QEV_ROLLOVER);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM queue_tickets WHERE state = 'expired'"),
			 2);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM outbox WHERE type = 'queue.day_summary' "
				    "AND payload LIKE '%\"day\":\"2023-11-13\"%'"),
			 1);
	assert_int_equal(queue_rollover(f->q), 0);
	fake_clock_advance(&f->d.clk.clock, 6 * 60 * MIN);
	take(f, 1, false, "A001");
	/* A restart on a later day rolls over at start. */
	queue_destroy(f->q);
	fake_clock_advance(&f->d.clk.clock, DAY);
	open_queue(f);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM outbox WHERE type = "
				    "'queue.day_summary'"),
			 2);
	take(f, 1, false, "A001");
}

static void test_keep_overnight(void **state)
{
	struct fixture *f = *state;

	queue_destroy(f->q);
	test_sql_exec(f->d.db, "UPDATE queue_settings SET keep_overnight = 1");
	open_queue(f);
	open_windows(f);
	take(f, 1, false, "A001");
	take(f, 1, false, "A002");
	take(f, 1, false, "A003");
	call(f, 1, "A001");
	fake_clock_advance(&f->d.clk.clock, DAY);
	assert_int_equal(queue_rollover(f->q), 1);
	/* A001 was at the window: it expires; A002 and A003 wait on. */
	assert_int_equal(sql_int(f, "SELECT count(*) FROM queue_tickets WHERE state = 'waiting' "
				    "AND day = '2023-11-14'"),
			 2);
	/* Numbers start again, skipping those still waiting. */
	take(f, 1, false, "A001");
	take(f, 1, false, "A004");
	call(f, 2, "A002");
}

static void test_number_wrap_skips_waiting(void **state)
{
	struct fixture *f = *state;
	struct queue_config c;
	struct queue_ticket t;
	char en[160], zh[160];
	int perr;

	queue_config_get(f->q, &c);
	c.services[0].num_min = 1;
	c.services[0].num_max = 3;
	assert_int_equal(queue_config_set(f->q, &staff, &c, en, zh), 0);
	open_windows(f);
	take(f, 1, false, "A001");
	take(f, 1, false, "A002");
	take(f, 1, false, "A003");
	call(f, 1, "A001");
	act(f, 1, QUEUE_START, 0);
	act(f, 1, QUEUE_FINISH, 0);
	take(f, 1, false, "A001"); /* wrapped: A001 is served */
	assert_int_equal(queue_issue(f->q, NULL, 1, false, true, &t, &perr), -ERANGE);
	call(f, 1, "A002");
	act(f, 1, QUEUE_NO_SHOW, 0);
	take(f, 1, false, "A002");
}

static void test_crash_while_printing_counts_as_issued(void **state)
{
	struct fixture *f = *state;

	take(f, 1, false, "A001");
	queue_destroy(f->q);
	f->q = NULL;
	/* What a crash between the first transaction and the print leaves. */
	test_sql_exec(f->d.db, "UPDATE queue_tickets SET state = 'printing'");
	open_queue(f);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM queue_tickets WHERE state = 'waiting'"),
			 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM outbox WHERE payload LIKE "
				    "'%\"recovered\":true%'"),
			 1);
	take(f, 1, false, "A002");
}

/* ---- configuration ---- */

static void test_config_validation(void **state)
{
	struct fixture *f = *state;
	struct queue_config c;
	char en[160], zh[160], *json;
	static const char *const bad[] = {
		"[]",
		"{\"services\":[],\"windows\":[],\"hours\":{}}",
		/* same prefix twice */
		"{\"services\":[{\"name_zh\":\"甲\",\"name_en\":\"A\",\"prefix\":\"A\"},"
		"{\"name_zh\":\"乙\",\"name_en\":\"B\",\"prefix\":\"A\"}],"
		"\"windows\":[{\"no\":1,\"name_zh\":\"1号\",\"name_en\":\"W1\",\"services\":[\"A\"]"
		"}],"
		"\"hours\":{}}",
		/* a service no window serves */
		"{\"services\":[{\"name_zh\":\"甲\",\"name_en\":\"A\",\"prefix\":\"A\"},"
		"{\"name_zh\":\"乙\",\"name_en\":\"B\",\"prefix\":\"B\"}],"
		"\"windows\":[{\"no\":1,\"name_zh\":\"1号\",\"name_en\":\"W1\",\"services\":[\"A\"]"
		"}],"
		"\"hours\":{}}",
		/* range */
		"{\"services\":[{\"name_zh\":\"甲\",\"name_en\":\"A\",\"prefix\":\"A\",\"num_min\":"
		"5,"
		"\"num_max\":4}],\"windows\":[{\"no\":1,\"name_zh\":\"1号\",\"name_en\":\"W1\","
		"\"services\":[\"A\"]}],\"hours\":{}}",
		/* hours */
		"{\"services\":[{\"name_zh\":\"甲\",\"name_en\":\"A\",\"prefix\":\"A\"}],"
		"\"windows\":[{\"no\":1,\"name_zh\":\"1号\",\"name_en\":\"W1\",\"services\":[\"A\"]"
		"}],"
		"\"hours\":{\"mon\":{\"open\":\"17:00\",\"close\":\"09:00\"}}}",
		/* rules */
		"{\"services\":[{\"name_zh\":\"甲\",\"name_en\":\"A\",\"prefix\":\"A\"}],"
		"\"windows\":[{\"no\":1,\"name_zh\":\"1号\",\"name_en\":\"W1\",\"services\":[\"A\"]"
		"}],"
		"\"hours\":{},\"recall_max\":11}",
		"{\"services\":[{\"name_zh\":\"甲\",\"name_en\":\"A\",\"prefix\":\"a\"}],"
		"\"windows\":[{\"no\":1,\"name_zh\":\"1号\",\"name_en\":\"W1\",\"services\":[\"a\"]"
		"}],"
		"\"hours\":{}}",
		"{\"services\":[{\"name_zh\":\"甲\",\"name_en\":\"A\",\"prefix\":\"A\"}],"
		"\"windows\":[{\"no\":1,\"name_zh\":\"1号\",\"name_en\":\"W1\",\"services\":[\"A\"]"
		"}],"
		"\"hours\":{},\"rollover\":\"25:00\"}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		en[0] = zh[0] = '\0';
		if (queue_config_from_json(bad[i], &c, en, zh) != -EINVAL) {
			fail_msg("accepted: %s", bad[i]);
		}
		assert_true(strlen(en) > 10);
		if (strstr(zh, "须") == NULL && strstr(zh, "相同") == NULL &&
		    strstr(zh, "请") == NULL) {
			fail_msg("case %zu: no Chinese rule in '%s' (%s)", i, zh, en);
		}
	}
	/* What GET gives, PUT takes back unchanged. */
	queue_config_get(f->q, &c);
	json = queue_config_to_json(&c);
	assert_non_null(json);
	assert_int_equal(queue_config_from_json(json, &c, en, zh), 0);
	assert_int_equal(c.nservices, 2);
	assert_int_equal(c.nwindows, 3);
	assert_string_equal(c.windows[2].services, "BA");
	assert_int_equal(c.open_min[1], 9 * 60);
	assert_int_equal(c.open_min[0], -1);
	free(json);
	/* A new service and a retired window. */
	c.services[2] = c.services[1];
	c.services[2].id = 0;
	c.services[2].prefix = 'C';
	snprintf(c.services[2].name_en, sizeof(c.services[2].name_en), "Social security");
	c.nservices = 3;
	snprintf(c.windows[0].services, sizeof(c.windows[0].services), "CAB");
	c.nwindows = 2;
	assert_int_equal(queue_config_set(f->q, &staff, &c, en, zh), 0);
	queue_config_get(f->q, &c);
	assert_int_equal(c.nservices, 3);
	assert_int_equal(c.services[2].id, 3);
	assert_int_equal(c.nwindows, 2);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM audit WHERE action = 'queue.config'"), 1);
	assert_int_equal(queue_window_set(f->q, &staff, 3, QUEUE_WIN_OPEN), -ENOENT);
	assert_int_equal(queue_window_set(f->q, &staff, 1, QUEUE_WIN_OPEN), 0);
	take(f, 3, false, "C001");
	call(f, 1, "C001");
}

/* ---- statistics ---- */

static void test_percentile(void **state)
{
	int64_t a[] = { 5, 1, 4, 2, 3 };
	int64_t b[10];
	int64_t one[] = { 7 };

	assert_int_equal(queue_percentile(a, 5, 50), 3);
	assert_int_equal(queue_percentile(a, 5, 90), 5);
	assert_int_equal(queue_percentile(a, 0, 50), -1);
	assert_int_equal(queue_percentile(one, 1, 90), 7);
	for (int i = 0; i < 10; i++) {
		b[i] = (10 - i) * 10;
	}
	assert_int_equal(queue_percentile(b, 10, 50), 50);
	assert_int_equal(queue_percentile(b, 10, 90), 90);
	assert_int_equal(queue_percentile(b, 10, 100), 100);
}

static void test_stats_of_a_day(void **state)
{
	struct fixture *f = *state;
	struct queue_stats *s = malloc(sizeof(*s));

	assert_non_null(s);
	open_windows(f);
	/* Three A tickets issued at once, called after 1, 2 and 10 minutes at
	 * windows 1, 2, 3; served 3 and 5 minutes; the last a no-show. */
	for (int i = 0; i < 3; i++) {
		struct queue_ticket t;
		int perr;

		assert_int_equal(queue_issue(f->q, NULL, 1, false, true, &t, &perr), 0);
	}
	fake_clock_advance(&f->d.clk.clock, MIN);
	call(f, 1, "A001");
	act(f, 1, QUEUE_START, 0);
	fake_clock_advance(&f->d.clk.clock, MIN);
	call(f, 2, "A002");
	act(f, 2, QUEUE_START, 0);
	fake_clock_advance(&f->d.clk.clock, 2 * MIN);
	act(f, 1, QUEUE_FINISH, 0);
	fake_clock_advance(&f->d.clk.clock, 3 * MIN);
	act(f, 2, QUEUE_FINISH, 0);
	fake_clock_advance(&f->d.clk.clock, 3 * MIN);
	call(f, 3, "A003");
	act(f, 3, QUEUE_NO_SHOW, 0);

	assert_int_equal(queue_stats(f->q, "2023-11-13", s), 0);
	assert_int_equal(s->nservices, 2);
	assert_int_equal(s->services[0].key, 1);
	assert_int_equal(s->services[0].count, 3);
	assert_int_equal(s->services[0].served, 2);
	assert_int_equal(s->services[0].no_show, 1);
	assert_int_equal(s->services[0].wait_median_s, 120);
	assert_int_equal(s->services[0].wait_p90_s, 600);
	assert_int_equal(s->services[0].service_median_s, 180);
	assert_int_equal(s->services[0].service_p90_s, 300);
	assert_true(s->services[0].no_show_rate > 0.333 && s->services[0].no_show_rate < 0.334);
	assert_int_equal(s->services[1].count, 0);
	assert_int_equal(s->services[1].wait_median_s, -1);
	assert_int_equal(s->nwindows, 3);
	assert_int_equal(s->windows[0].key, 1);
	assert_int_equal(s->windows[0].count, 1);
	assert_int_equal(s->windows[0].service_p90_s, 180);
	assert_int_equal(s->windows[1].wait_median_s, 120);
	assert_int_equal(s->windows[2].no_show, 1);
	assert_true(s->windows[2].no_show_rate > 0.99);
	assert_int_equal(queue_stats(f->q, "13-11-2023", s), -EINVAL);
	free(s);
}

static void test_snapshot(void **state)
{
	struct fixture *f = *state;
	struct queue_snapshot *s = malloc(sizeof(*s));

	assert_non_null(s);
	open_windows(f);
	assert_int_equal(queue_window_set(f->q, &staff, 3, QUEUE_WIN_PAUSED), 0);
	assert_int_equal(f->last.kind, QEV_WINDOW_CHANGED);
	assert_int_equal(f->last.window_no, 3);
	take(f, 1, false, "A001");
	take(f, 1, false, "A002");
	take(f, 2, false, "B001");
	call(f, 1, "A001");
	assert_string_equal(f->last.window_name_zh, "1号窗口");
	assert_int_equal(f->last.waiting_in_service, 1);
	call(f, 2, "A002");
	assert_int_equal(queue_snapshot(f->q, s), 0);
	assert_int_equal(s->nwindows, 3);
	assert_string_equal(s->windows[0].current, "A001");
	assert_string_equal(s->windows[2].current, "");
	assert_int_equal(s->windows[2].state, QUEUE_WIN_PAUSED);
	assert_int_equal(s->ncalls, 2);
	assert_string_equal(s->calls[0].number, "A002");
	assert_int_equal(s->calls[0].window_no, 2);
	assert_int_equal(s->nservices, 2);
	assert_int_equal(s->services[0].waiting, 0);
	assert_int_equal(s->services[1].waiting, 1);
	assert_true(s->services[1].est_wait_min >= 1);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_issue_prints_then_waits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_printer_failure_leaves_no_ghost, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_show_on_screen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_opening_hours_and_pause, setup, teardown),
		cmocka_unit_test_setup_teardown(test_priority_first_but_fair, setup, teardown),
		cmocka_unit_test_setup_teardown(test_priority_continues_when_regular_is_newer,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_window_preference_then_first_come, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_recall_limit_then_no_show, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transfer_keeps_time_and_goes_first, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hold_and_resume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollover_expires_and_restarts_numbers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_keep_overnight, setup, teardown),
		cmocka_unit_test_setup_teardown(test_number_wrap_skips_waiting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_while_printing_counts_as_issued, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_config_validation, setup, teardown),
		cmocka_unit_test(test_percentile),
		cmocka_unit_test_setup_teardown(test_stats_of_a_day, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_issue_to_window_and_find, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
