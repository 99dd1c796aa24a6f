/*
 * Ticket queue figures with a realistic history: 100,000 tickets of past
 * days in the database, then the take-ticket latency (p50/p99, one
 * queue_issue with a fake printer, two transactions each, synchronous=FULL)
 * and how many call-next + finish cycles per second a window manages.
 * Prints figures; asserts nothing about speed.
 *
 *   bench_queue [HISTORY] [TICKETS]     (defaults 100000 and 1800; at most 1800,
 *   as two services have 999 numbers a day each)
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "fake_clock.h"
#include "fake_printer.h"
#include "fw/rng.h"
#include "fw/store.h"
#include "queue/queue.h"
#include "test_util.h"

#define T0 1699840800000LL /* Monday 2023-11-13 10:00 in UTC+8 */

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* HISTORY finished tickets spread over the 200 days before T0. */
static int seed_history(const char *dir, long history)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int ret = store_open(dir, &db);

	if (ret < 0) {
		return ret;
	}
	store_begin(db);
	sqlite3_prepare_v2(
		db,
		"INSERT INTO queue_tickets (day, issue_day, service_id, issue_service_id, "
		"seq, number, prefix, state, issued_ms, first_called_ms, called_ms, "
		"started_ms, finished_ms, window_no, lookup_code) VALUES (?1, ?1, ?2, ?2, "
		"?3, ?4, ?5, 'done', ?6, ?6 + 300000, ?6 + 300000, ?6 + 310000, "
		"?6 + 600000, ?7, ?8)",
		-1, &st, NULL);
	for (long i = 0; i < history; i++) {
		long dayno = i / 500, seq = i % 500 + 1;
		int64_t issued = T0 - (200 - dayno) * 86400000LL;
		char day[11], code[24];

		queue_day_of(issued, 480, 240, day);
		snprintf(code, sizeof(code), "H%07ld", i);
		sqlite3_bind_text(st, 1, day, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 2, 1 + (int)(i % 2));
		sqlite3_bind_int64(st, 3, seq);
		sqlite3_bind_int(st, 4, (int)seq);
		sqlite3_bind_text(st, 5, i % 2 ? "B" : "A", -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 6, issued);
		sqlite3_bind_int(st, 7, 1 + (int)(i % 3));
		sqlite3_bind_text(st, 8, code, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) != SQLITE_DONE) {
			fprintf(stderr, "bench_queue: seeding failed: %s\n", sqlite3_errmsg(db));
			ret = -EIO;
			break;
		}
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	if (ret == 0) {
		ret = store_commit(db);
	} else {
		store_rollback(db);
	}
	store_close(db);
	return ret;
}

static int cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	long history = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
	long issues = argc > 2 ? strtol(argv[2], NULL, 10) : 1800;
	static struct hal_printer printer;
	struct fake_clock clk;
	struct queue_params p;
	struct queue *q;
	struct queue_ticket t;
	char dir[PATH_MAX];
	int64_t *lat, t0, calls = 0;
	double secs;
	int perr;

	if (history < 0 || issues < 2 || issues > 1800) {
		fprintf(stderr, "usage: bench_queue [HISTORY >= 0] [TICKETS 2..1800]\n");
		return 2;
	}
	if (test_tmpdir(dir, sizeof(dir), "bench_queue") != 0 || rng_init() != 0 ||
	    store_init(dir, NULL) != 0) {
		fprintf(stderr, "bench_queue: cannot set up a database\n");
		return 1;
	}
	fake_clock_init(&clk, T0, 1000);
	fake_printer_init(&printer);
	p = (struct queue_params){ .data_dir = dir,
				   .clock = &clk.clock,
				   .printer = &printer,
				   .office_name = "bench",
				   .recall_max = 3,
				   .priority_run = 3,
				   .rollover_min = 240,
				   .utc_offset_min = 480 };
	if (queue_create(&p, &q) != 0 || seed_history(dir, history) != 0) {
		fprintf(stderr, "bench_queue: cannot create the queue\n");
		return 1;
	}
	lat = calloc((size_t)issues, sizeof(*lat));
	if (lat == NULL) {
		return 1;
	}
	/* Take tickets: two services alternately. */
	for (long i = 0; i < issues; i++) {
		int64_t s = now_us();

		if (queue_issue(q, NULL, 1 + (int)(i % 2), false, true, &t, &perr) != 0) {
			fprintf(stderr, "bench_queue: issuing failed at %ld\n", i);
			return 1;
		}
		lat[i] = now_us() - s;
		fake_clock_advance(&clk.clock, 1000);
		if (i % 64 == 0) {
			fake_printer_clear(&printer);
		}
	}
	qsort(lat, (size_t)issues, sizeof(*lat), cmp);
	/* Call and finish at three windows until the queue is empty. */
	for (int w = 1; w <= 3; w++) {
		queue_window_set(q, NULL, w, QUEUE_WIN_OPEN);
	}
	t0 = now_us();
	for (;;) {
		int w = 1 + (int)(calls % 3);

		if (queue_call_next(q, NULL, w, &t) != 0) {
			break;
		}
		queue_act(q, NULL, w, QUEUE_START, NULL, &t);
		queue_act(q, NULL, w, QUEUE_FINISH, NULL, &t);
		calls++;
		fake_clock_advance(&clk.clock, 1000);
	}
	secs = (double)(now_us() - t0) / 1e6;
	printf("queue bench: %ld tickets of history, %ld tickets taken\n", history, issues);
	printf("take-ticket latency: p50 %.2f ms, p99 %.2f ms (fake printer, synchronous=FULL)\n",
	       (double)lat[issues / 2] / 1000.0, (double)lat[(issues * 99) / 100] / 1000.0);
	printf("call-next: %" PRId64 " calls in %.2f s = %.0f calls/s (each with start and "
	       "finish: %.0f actions/s)\n",
	       calls, secs, (double)calls / secs, (double)calls * 3 / secs);
	queue_destroy(q);
	free(lat);
	rng_free();
	test_rmtree(dir);
	return 0;
}
