/*
 * Outbox against a real database: seq monotonic across restarts and after
 * acknowledged rows were deleted, event_id unique, the caller's transaction
 * required and honoured, inputs checked, acknowledgement, several threads.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "fake_clock.h"
#include "fw/outbox.h"
#include "fw/store.h"
#include "test_util.h"

static char dir[PATH_MAX];
static struct fake_clock clk;

static int setup(void **state)
{
	static sqlite3 *db;

	if (test_tmpdir(dir, sizeof(dir), "test_outbox") != 0 || store_init(dir, NULL) != 0 ||
	    store_open(dir, &db) != 0) {
		return -1;
	}
	fake_clock_init(&clk, 1700000000000, 5000);
	outbox_set_clock(&clk.clock);
	*state = db;
	return 0;
}

static int teardown(void **state)
{
	store_close(*state);
	outbox_set_clock(NULL);
	return test_rmtree(dir);
}

/* Append one event in its own transaction; returns its seq. */
static int64_t append1(sqlite3 *db, const char *type, const char *payload)
{
	int64_t seq = -1;

	assert_int_equal(store_begin(db), 0);
	assert_int_equal(outbox_append(db, type, payload, &seq), 0);
	assert_int_equal(store_commit(db), 0);
	return seq;
}

static void test_append_fields(void **state)
{
	sqlite3 *db = *state;
	static const char payload[] = "{\"ticket\":\"A012\",\"window\":3,\"name\":\"张三\","
				      "\"big\":12345678901234567890}";
	sqlite3_stmt *st = NULL;
	const char *id;

	assert_int_equal(append1(db, "ticket.issued", payload), 1);
	fake_clock_advance(&clk.clock, 1500);
	assert_int_equal(append1(db, "ticket.called", "{}"), 2);

	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT seq, event_id, type, payload, created_ms, "
					    "acked_ms FROM outbox ORDER BY seq",
					    -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int64(st, 0), 1);
	id = (const char *)sqlite3_column_text(st, 1);
	assert_int_equal(strlen(id), 36);
	assert_int_equal(id[14], '4'); /* UUID version 4 */
	assert_string_equal(sqlite3_column_text(st, 2), "ticket.issued");
	/* Stored exactly as given: every digit of the big number survives. */
	assert_string_equal(sqlite3_column_text(st, 3), payload);
	assert_int_equal(sqlite3_column_int64(st, 4), 1700000000000);
	assert_int_equal(sqlite3_column_type(st, 5), SQLITE_NULL);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int64(st, 4), 1700000001500);
	sqlite3_finalize(st);
	assert_int_equal(outbox_pending(db), 2);
	assert_int_equal(outbox_last_seq(db), 2);

	assert_int_equal(store_begin(db), 0);
	assert_int_equal(outbox_append(db, "x", "{}", NULL), 0); /* seq is optional */
	assert_int_equal(store_commit(db), 0);
}

static void test_outside_transaction_refused(void **state)
{
	sqlite3 *db = *state;
	int64_t seq = 77;

	assert_int_equal(outbox_append(db, "ticket.issued", "{}", &seq), -EPERM);
	assert_int_equal(seq, 77);
	assert_int_equal(test_sql_int(db, "SELECT count(*) FROM outbox"), 0);
	assert_int_equal(outbox_append(NULL, "a", "{}", NULL), -EINVAL);
}

static void test_rollback_leaves_no_event(void **state)
{
	sqlite3 *db = *state;
	int64_t seq = 0;

	assert_int_equal(append1(db, "a.one", "{}"), 1);
	assert_int_equal(store_begin(db), 0);
	assert_int_equal(outbox_append(db, "a.two", "{}", &seq), 0);
	assert_int_equal(seq, 2);
	assert_int_equal(outbox_append(db, "a.three", "{}", &seq), 0);
	store_rollback(db);
	assert_int_equal(test_sql_int(db, "SELECT count(*) FROM outbox"), 1);
	assert_int_equal(outbox_pending(db), 1);
	/* Nothing committed used 2, so the city sees no gap. */
	assert_int_equal(outbox_last_seq(db), 1);
	assert_int_equal(append1(db, "a.four", "{}"), 2);
}

static void test_bad_type_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"Ticket",
		"ticket issued",
		"ticket-issued",
		"ticket/x",
		"票",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", /* 64 */
	};
	static const char *const good[] = {
		"a", "ticket.issued", "order_2.reply",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", /* 63 */
	};
	sqlite3 *db = *state;

	assert_int_equal(store_begin(db), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(outbox_append(db, bad[i], "{}", NULL), -EINVAL);
	}
	assert_int_equal(outbox_append(db, NULL, "{}", NULL), -EINVAL);
	assert_int_equal(test_sql_int(db, "SELECT count(*) FROM outbox"), 0);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(outbox_append(db, good[i], "{}", NULL), 0);
	}
	assert_int_equal(store_commit(db), 0);
	assert_int_equal(test_sql_int(db, "SELECT count(*) FROM outbox"), 4);
}

static void test_bad_payload_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"[]",
		"1",
		"\"text\"",
		"null",
		"{",
		"{\"a\":}",
		"{} x",
		"{}{}",
		"{\"a\":\"\xff\"}",		/* not UTF-8 */
		"{\"a\":\"\xc0\xaf\"}",		/* overlong '/' */
		"{\"a\":\"\xed\xa0\x80\"}",	/* a surrogate */
		"{\"a\":\"\xf4\x90\x80\x80\"}", /* above U+10FFFF */
		"{\"a\":\"\xe5\xbc\"}",		/* cut in the middle of 张 */
	};
	static const char *const good[] = {
		"{}",
		" {\"a\": [1, 2, {\"b\": null}]} \n",
		"{\"name\":\"张三\",\"emoji\":\"\xf0\x9f\x98\x80\"}",
	};
	sqlite3 *db = *state;

	assert_int_equal(store_begin(db), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(outbox_append(db, "t", bad[i], NULL), -EINVAL);
	}
	assert_int_equal(outbox_append(db, "t", NULL, NULL), -EINVAL);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(outbox_append(db, "t", good[i], NULL), 0);
	}
	assert_int_equal(store_commit(db), 0);
	assert_int_equal(test_sql_int(db, "SELECT count(*) FROM outbox"), 3);
}

static void test_payload_size_limit(void **state)
{
	sqlite3 *db = *state;
	char *p = malloc(OUTBOX_PAYLOAD_MAX + 2);
	size_t n;

	assert_non_null(p);
	/* {"p":"xxx...x"} of exactly OUTBOX_PAYLOAD_MAX bytes */
	n = OUTBOX_PAYLOAD_MAX;
	memset(p, 'x', n);
	memcpy(p, "{\"p\":\"", 6);
	memcpy(p + n - 2, "\"}", 2);
	p[n] = '\0';
	assert_int_equal(store_begin(db), 0);
	assert_int_equal(outbox_append(db, "big", p, NULL), 0);
	/* one byte more */
	memset(p, 'x', n + 1);
	memcpy(p, "{\"p\":\"", 6);
	memcpy(p + n - 1, "\"}", 2);
	p[n + 1] = '\0';
	assert_int_equal(outbox_append(db, "big", p, NULL), -EMSGSIZE);
	assert_int_equal(store_commit(db), 0);
	assert_int_equal(test_sql_int(db, "SELECT count(*) FROM outbox"), 1);
	assert_int_equal(test_sql_int(db, "SELECT length(payload) FROM outbox"),
			 OUTBOX_PAYLOAD_MAX);
	free(p);
}

static void test_seq_survives_restart_and_delete(void **state)
{
	sqlite3 *db = *state;
	int64_t seq;

	for (int i = 1; i <= 5; i++) {
		assert_int_equal(append1(db, "a", "{}"), i);
	}
	/* Restart: every connection closed, store_init again. */
	store_close(db);
	assert_int_equal(store_init(dir, NULL), 0);
	assert_int_equal(store_open(dir, &db), 0);
	*state = db;
	assert_int_equal(append1(db, "a", "{}"), 6);

	/* The city acknowledged everything; the rows are deleted. */
	assert_int_equal(outbox_ack(db, 6), 6);
	fake_clock_advance(&clk.clock, 1000);
	assert_int_equal(outbox_prune(db, 1700000000000 + 1), 6);
	assert_int_equal(test_sql_int(db, "SELECT count(*) FROM outbox"), 0);
	store_close(db);
	assert_int_equal(store_init(dir, NULL), 0);
	assert_int_equal(store_open(dir, &db), 0);
	*state = db;
	/* Not 1: a seq the city already has is never handed out again. */
	seq = append1(db, "a", "{}");
	assert_int_equal(seq, 7);
	assert_int_equal(outbox_last_seq(db), 7);

	/* Nor when rows are deleted by hand. */
	assert_int_equal(store_exec(db, "DELETE FROM outbox"), 0);
	assert_int_equal(append1(db, "a", "{}"), 8);
}

static void test_event_ids_unique(void **state)
{
	sqlite3 *db = *state;

	assert_int_equal(store_begin(db), 0);
	for (int i = 0; i < 3000; i++) {
		assert_int_equal(outbox_append(db, "bulk", "{\"i\":0}", NULL), 0);
	}
	assert_int_equal(store_commit(db), 0);
	assert_int_equal(test_sql_int(db, "SELECT count(DISTINCT event_id) FROM outbox"), 3000);
	assert_int_equal(test_sql_int(db,
				      "SELECT count(*) FROM outbox WHERE event_id NOT GLOB "
				      "'[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]"
				      "[0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-4*'"),
			 0);
	assert_int_equal(test_sql_int(db, "SELECT max(seq) - min(seq) + 1 FROM outbox"), 3000);
}

static void test_ack(void **state)
{
	sqlite3 *db = *state;

	assert_int_equal(outbox_ack(db, 0), 0); /* nothing written: nothing to mark */
	assert_int_equal(outbox_ack(db, 1), -ERANGE);
	for (int i = 0; i < 5; i++) {
		append1(db, "a", "{}");
	}
	fake_clock_advance(&clk.clock, 250);
	assert_int_equal(outbox_ack(db, 2), 2);
	assert_int_equal(outbox_pending(db), 3);
	assert_int_equal(test_sql_int(db, "SELECT acked_ms FROM outbox WHERE seq = 2"),
			 1700000000250);
	assert_int_equal(outbox_ack(db, 2), 0); /* a repeated answer changes nothing */
	assert_int_equal(outbox_ack(db, 1), 0);
	/* The city acknowledges seqs this database never wrote: nothing marked. */
	assert_int_equal(outbox_ack(db, 6), -ERANGE);
	assert_int_equal(outbox_pending(db), 3);
	assert_int_equal(outbox_ack(db, -1), -EINVAL);
	assert_int_equal(outbox_ack(db, 5), 3);
	assert_int_equal(outbox_pending(db), 0);
	/* Pruning keeps rows acknowledged at or after the cut. */
	assert_int_equal(outbox_prune(db, 1700000000250), 0);
	assert_int_equal(outbox_prune(db, 1700000000251), 5);
	assert_int_equal(outbox_pending(NULL), -EINVAL);
	assert_int_equal(outbox_ack(NULL, 1), -EINVAL);
	assert_int_equal(outbox_prune(NULL, 1), -EINVAL);
}

enum { WORKERS = 4, PER_WORKER = 100 };

static void *worker(void *arg)
{
	sqlite3 *db = NULL;
	intptr_t bad = 0;

	if (store_open(dir, &db) != 0) {
		return (void *)1;
	}
	for (int i = 0; i < PER_WORKER && bad == 0; i++) {
		if (store_begin(db) != 0) {
			bad = 2;
		} else if (outbox_append(db, "thread.event", "{\"w\":1}", NULL) != 0) {
			store_rollback(db);
			bad = 3;
		} else if (store_commit(db) != 0) {
			bad = 4;
		}
	}
	store_close(db);
	return (void *)bad;
}

static void test_threads_with_own_connections(void **state)
{
	sqlite3 *db = *state;
	pthread_t t[WORKERS];
	void *res;

	for (int i = 0; i < WORKERS; i++) {
		assert_int_equal(pthread_create(&t[i], NULL, worker, NULL), 0);
	}
	for (int i = 0; i < WORKERS; i++) {
		assert_int_equal(pthread_join(t[i], &res), 0);
		assert_null(res);
	}
	assert_int_equal(test_sql_int(db, "SELECT count(*) FROM outbox"), WORKERS * PER_WORKER);
	assert_int_equal(test_sql_int(db, "SELECT count(DISTINCT seq) FROM outbox"),
			 WORKERS * PER_WORKER);
	assert_int_equal(outbox_last_seq(db), WORKERS * PER_WORKER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_append_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outside_transaction_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback_leaves_no_event, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_type_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_payload_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_payload_size_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seq_survives_restart_and_delete, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_event_ids_unique, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads_with_own_connections, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
