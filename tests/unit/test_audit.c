/*
 * Audit log against a real database: append and verify round trip, every
 * kind of tampering a person with the file could do (a field edited, rows
 * deleted at the start, middle and end, rows swapped, a hash edited, rows
 * inserted, text moved between fields), the append-only triggers, the
 * caller's transaction honoured, several threads with their own
 * connections keeping one chain, bad entries refused, the admin command.
 * Tampering drops the triggers first, as an attacker with the file would.
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
#include "fw/admin.h"
#include "fw/audit.h"
#include "fw/store.h"
#include "test_util.h"

#define WORKERS	   4
#define PER_WORKER 60
#define ROWS	   10

static char dir[PATH_MAX];
static struct fake_clock clk;

static int make_db(char *path, size_t cap, const char *name, sqlite3 **db)
{
	if (test_tmpdir(path, cap, name) != 0 || store_init(path, NULL) != 0 ||
	    store_open(path, db) != 0) {
		return -1;
	}
	return 0;
}

static int setup(void **state)
{
	static sqlite3 *db;

	if (make_db(dir, sizeof(dir), "test_audit", &db) != 0) {
		return -1;
	}
	fake_clock_init(&clk, 1700000000000, 5000);
	audit_set_clock(&clk.clock);
	*state = db;
	return 0;
}

static int teardown(void **state)
{
	store_close(*state);
	audit_set_clock(NULL);
	return test_rmtree(dir);
}

/* Raw SQL, as someone with the file would run it (triggers dropped first). */
static void tamper(sqlite3 *db, const char *sql)
{
	(void)sqlite3_exec(db,
			   "DROP TRIGGER IF EXISTS audit_no_update;"
			   "DROP TRIGGER IF EXISTS audit_no_delete;",
			   NULL, NULL, NULL);
	test_sql_exec(db, sql);
}

static void append(sqlite3 *db, const char *actor, const char *action, const char *target,
		   const char *detail)
{
	struct audit_entry e = {
		.actor = actor,
		.role = "staff",
		.action = action,
		.target = target,
		.outcome = "ok",
		.detail = detail,
	};

	assert_int_equal(audit_append(db, &e), 0);
	fake_clock_advance(&clk.clock, 1000);
}

static void fill(sqlite3 *db, int n)
{
	char target[32];

	for (int i = 1; i <= n; i++) {
		snprintf(target, sizeof(target), "WO-2024-%04d", i);
		append(db, i % 2 ? "zhang01" : "li02", "order.reply", target,
		       i % 3 ? "{\"note\":\"已答复\"}" : NULL);
	}
}

/* Verify and expect a break at first_bad whose reason contains want. */
static void expect_broken(sqlite3 *db, int64_t first_bad, const char *want)
{
	struct audit_verify_result r;

	assert_int_equal(audit_verify(db, &r), 1);
	if (r.first_bad != first_bad || strstr(r.reason, want) == NULL) {
		fail_msg("want row %lld '%s', got row %lld '%s'", (long long)first_bad, want,
			 (long long)r.first_bad, r.reason);
	}
	assert_true(strlen(r.reason_zh) > 0);
}

static void test_round_trip(void **state)
{
	sqlite3 *db = *state;
	struct audit_verify_result r;
	uint8_t genesis[AUDIT_HASH_LEN], head[AUDIT_HASH_LEN];
	sqlite3_stmt *st = NULL;
	int64_t id = -1;

	assert_int_equal(audit_head(db, &id, genesis), 0);
	assert_int_equal(id, 0);

	append(db, "zhang01", "auth.login", "", NULL);
	fake_clock_set_wall(&clk.clock, 1600000000000); /* a wall clock correction */
	append(db, "li02", "order.reply", "WO-2024-0001", "{\"a\":\"张三\"}");
	fill(db, 3);

	assert_int_equal(audit_verify(db, &r), 0);
	assert_int_equal(r.entries, 5);
	assert_int_equal(r.first_bad, 0);
	assert_string_equal(r.reason, "");
	assert_int_equal(r.head_id, 5);
	assert_int_equal(audit_head(db, &id, head), 0);
	assert_int_equal(id, 5);
	assert_memory_equal(head, r.head_hash, AUDIT_HASH_LEN);
	assert_memory_not_equal(head, genesis, AUDIT_HASH_LEN);

	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT id, wall_ms, mono_ms, actor, role, action, "
					    "target, outcome, detail, prev FROM audit ORDER BY id",
					    -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int64(st, 0), 1);
	assert_int_equal(sqlite3_column_int64(st, 1), 1700000000000);
	assert_int_equal(sqlite3_column_int64(st, 2), 5000);
	assert_string_equal(sqlite3_column_text(st, 3), "zhang01");
	assert_string_equal(sqlite3_column_text(st, 4), "staff");
	assert_string_equal(sqlite3_column_text(st, 5), "auth.login");
	assert_string_equal(sqlite3_column_text(st, 6), "");
	assert_string_equal(sqlite3_column_text(st, 7), "ok");
	assert_int_equal(sqlite3_column_type(st, 8), SQLITE_NULL);
	/* The first row hangs off the genesis hash. */
	assert_memory_equal(sqlite3_column_blob(st, 9), genesis, AUDIT_HASH_LEN);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int64(st, 1), 1600000000000);
	assert_int_equal(sqlite3_column_int64(st, 2), 6000); /* monotonic kept going */
	assert_string_equal(sqlite3_column_text(st, 8), "{\"a\":\"张三\"}");
	sqlite3_finalize(st);
}

static void test_empty_log_intact(void **state)
{
	sqlite3 *db = *state, *other = NULL;
	struct audit_verify_result r;
	uint8_t g1[AUDIT_HASH_LEN], g2[AUDIT_HASH_LEN];
	char dir2[PATH_MAX];
	int64_t id;

	memset(&r, 0xa5, sizeof(r));
	assert_int_equal(audit_verify(db, &r), 0);
	assert_int_equal(r.entries, 0);
	assert_int_equal(r.first_bad, 0);
	assert_int_equal(r.head_id, 0);
	assert_int_equal(audit_head(db, &id, g1), 0);
	assert_memory_equal(r.head_hash, g1, AUDIT_HASH_LEN);

	/* Another database (another db_epoch) has another genesis. */
	assert_int_equal(make_db(dir2, sizeof(dir2), "test_audit2", &other), 0);
	assert_int_equal(audit_head(other, &id, g2), 0);
	assert_memory_not_equal(g1, g2, AUDIT_HASH_LEN);
	store_close(other);
	assert_int_equal(test_rmtree(dir2), 0);
}

static void test_field_edited(void **state)
{
	static const char *const edits[] = {
		"UPDATE audit SET actor = 'wang03' WHERE id = 4",
		"UPDATE audit SET role = 'supervisor' WHERE id = 4",
		"UPDATE audit SET action = 'order.return' WHERE id = 4",
		"UPDATE audit SET target = 'WO-2024-9999' WHERE id = 4",
		"UPDATE audit SET outcome = 'denied' WHERE id = 4",
		"UPDATE audit SET detail = '{\"note\":\"已退回\"}' WHERE id = 4",
		"UPDATE audit SET detail = '' WHERE id = 3", /* NULL became empty */
		"UPDATE audit SET detail = NULL WHERE id = 4",
		"UPDATE audit SET wall_ms = wall_ms + 1 WHERE id = 4",
		"UPDATE audit SET mono_ms = mono_ms - 1 WHERE id = 4",
	};
	sqlite3 *db = *state;

	fill(db, ROWS);
	tamper(db, "SAVEPOINT s");
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		tamper(db, edits[i]);
		expect_broken(db, i == 6 ? 3 : 4,
			      i == 6 ? "row 3 was changed" : "row 4 was changed");
		tamper(db, "ROLLBACK TO s");
	}
	tamper(db, "RELEASE s");
	assert_int_equal(audit_verify(db, &(struct audit_verify_result){ 0 }), 0);
}

/* A naive concatenation of fields would not see text moved across a field
 * boundary; the length-prefixed encoding does. */
static void test_text_moved_between_fields(void **state)
{
	sqlite3 *db = *state;

	append(db, "zhang01", "user.disable", "", NULL);
	append(db, "zhang01", "user.disable", "", NULL);
	tamper(db, "UPDATE audit SET actor = 'zhang0', target = '1' WHERE id = 2");
	expect_broken(db, 2, "row 2 was changed");
}

static void test_row_deleted_middle(void **state)
{
	sqlite3 *db = *state;

	fill(db, ROWS);
	tamper(db, "DELETE FROM audit WHERE id = 5");
	expect_broken(db, 6, "a row before 6 is missing");
}

static void test_row_deleted_first(void **state)
{
	sqlite3 *db = *state;

	fill(db, ROWS);
	tamper(db, "DELETE FROM audit WHERE id = 1");
	expect_broken(db, 2, "a row before 2 is missing: row 1 was deleted");
}

/* Renumbering after a deletion hides the gap but not the broken link. */
static void test_row_deleted_and_renumbered(void **state)
{
	sqlite3 *db = *state;

	fill(db, ROWS);
	tamper(db, "DELETE FROM audit WHERE id = 5;"
		   "UPDATE audit SET id = id - 1 WHERE id > 5;"
		   "UPDATE sqlite_sequence SET seq = seq - 1 WHERE name = 'audit'");
	expect_broken(db, 5, "row 5 does not follow row 4");
}

static void test_rows_deleted_at_end(void **state)
{
	sqlite3 *db = *state;
	struct audit_verify_result r;
	uint8_t head[AUDIT_HASH_LEN], now[AUDIT_HASH_LEN];
	int64_t id;

	fill(db, ROWS);
	assert_int_equal(audit_head(db, &id, head), 0); /* what the city holds */
	tamper(db, "DELETE FROM audit WHERE id >= 9");
	expect_broken(db, 9, "the last rows 9 to 10 were removed");

	/* An append afterwards does not paper over it. */
	append(db, "zhang01", "auth.logout", "", NULL);
	expect_broken(db, 11, "a row before 11 is missing");

	/* Whoever also resets the id counter makes the local chain look whole;
	 * only the head the city holds shows it (docs/security-audit.md). */
	tamper(db, "DELETE FROM audit WHERE id = 11;"
		   "UPDATE sqlite_sequence SET seq = 8 WHERE name = 'audit'");
	assert_int_equal(audit_verify(db, &r), 0);
	assert_int_equal(audit_head(db, &id, now), 0);
	assert_int_equal(id, 8);
	assert_memory_not_equal(head, now, AUDIT_HASH_LEN);
}

static void test_rows_swapped(void **state)
{
	sqlite3 *db = *state;

	fill(db, ROWS);
	tamper(db, "UPDATE audit SET id = -5 WHERE id = 5;"
		   "UPDATE audit SET id = 5 WHERE id = 6;"
		   "UPDATE audit SET id = 6 WHERE id = -5");
	expect_broken(db, 5, "row 5 does not follow row 4");
}

static void test_hash_edited(void **state)
{
	sqlite3 *db = *state;

	fill(db, ROWS);
	tamper(db, "UPDATE audit SET hash = zeroblob(32) WHERE id = 3");
	expect_broken(db, 3, "row 3 was changed");
}

/* Someone who rewrites one row and computes its hash anew (the algorithm is
 * public) still breaks the next row's link. The forged row is made by the
 * real code in a savepoint that is then rolled back. */
static void test_row_rewritten_with_new_hash(void **state)
{
	sqlite3 *db = *state;
	sqlite3_stmt *st = NULL;
	int64_t wall, mono;
	uint8_t hash[AUDIT_HASH_LEN];

	fill(db, 5);
	tamper(db, "SAVEPOINT f");
	append(db, "wang03", "order.return", "WO-2024-0006", NULL);
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT wall_ms, mono_ms, hash FROM audit WHERE id = 6",
					    -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	wall = sqlite3_column_int64(st, 0);
	mono = sqlite3_column_int64(st, 1);
	memcpy(hash, sqlite3_column_blob(st, 2), AUDIT_HASH_LEN);
	sqlite3_finalize(st);
	tamper(db, "ROLLBACK TO f; RELEASE f");
	fill(db, 5); /* rows 6 to 10, the real ones */

	assert_int_equal(sqlite3_prepare_v2(db,
					    "UPDATE audit SET wall_ms = ?1, mono_ms = ?2, actor = "
					    "'wang03', action = 'order.return', target = "
					    "'WO-2024-0006', detail = NULL, hash = ?3 WHERE id = 6",
					    -1, &st, NULL),
			 SQLITE_OK);
	sqlite3_bind_int64(st, 1, wall);
	sqlite3_bind_int64(st, 2, mono);
	sqlite3_bind_blob(st, 3, hash, AUDIT_HASH_LEN, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	expect_broken(db, 7, "row 7 does not follow row 6");
}

static void test_row_inserted(void **state)
{
	sqlite3 *db = *state;

	fill(db, ROWS);
	/* In the middle, making room by renumbering. */
	tamper(db, "SAVEPOINT s;"
		   "UPDATE audit SET id = -id WHERE id > 4;"
		   "UPDATE audit SET id = 1 - id WHERE id < 0;"
		   "INSERT INTO audit (id, wall_ms, mono_ms, actor, role, action, target, "
		   "outcome, detail, prev, hash) SELECT 5, wall_ms, mono_ms, 'wang03', role, "
		   "'order.reply', 'WO-2024-0777', outcome, NULL, hash, randomblob(32) "
		   "FROM audit WHERE id = 4");
	expect_broken(db, 5, "row 5 was changed");
	tamper(db, "ROLLBACK TO s; RELEASE s");
	/* At the end, with an invented hash. */
	tamper(db, "INSERT INTO audit (wall_ms, mono_ms, actor, role, action, target, outcome, "
		   "prev, hash) SELECT wall_ms, mono_ms, actor, role, action, target, outcome, "
		   "hash, randomblob(32) FROM audit WHERE id = 10");
	expect_broken(db, 11, "row 11 was changed");
}

static void test_triggers_refuse_changes(void **state)
{
	sqlite3 *db = *state;

	fill(db, 3);
	assert_int_not_equal(
		sqlite3_exec(db, "UPDATE audit SET actor = 'x' WHERE id = 2", NULL, NULL, NULL),
		SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db, "DELETE FROM audit WHERE id = 2", NULL, NULL, NULL),
			     SQLITE_OK);
	assert_int_equal(test_sql_int(db, "SELECT count(*) FROM audit WHERE actor <> 'x'"), 3);
}

static void test_callers_transaction(void **state)
{
	sqlite3 *db = *state;
	struct audit_entry e = {
		.actor = "zhang01",
		.role = "supervisor",
		.action = "user.disable",
		.target = "li02",
		.outcome = "ok",
	};
	struct audit_verify_result r;

	assert_int_equal(store_begin(db), 0);
	assert_int_equal(audit_append(db, &e), 0);
	assert_int_equal(audit_append(db, &e), 0);
	store_rollback(db);
	assert_int_equal(test_sql_int(db, "SELECT count(*) FROM audit"), 0);
	assert_int_equal(audit_verify(db, &r), 0);
	assert_int_equal(r.entries, 0);

	/* Committed with the caller's change, and the chain goes on from 1. */
	assert_int_equal(store_begin(db), 0);
	assert_int_equal(store_exec(db, "INSERT INTO meta VALUES ('t', 'x')"), 0);
	assert_int_equal(audit_append(db, &e), 0);
	assert_int_equal(sqlite3_get_autocommit(db), 0); /* still the caller's */
	assert_int_equal(store_commit(db), 0);
	assert_int_equal(test_sql_int(db, "SELECT min(id) FROM audit"), 1);
	assert_int_equal(audit_verify(db, &r), 0);
	assert_int_equal(r.head_id, 1);
}

static void test_invalid_refused(void **state)
{
	char long_field[AUDIT_FIELD_MAX + 2];
	char long_detail[AUDIT_DETAIL_MAX + 2];
	sqlite3 *db = *state;
	const struct audit_entry ok = {
		.actor = "zhang01",
		.role = "staff",
		.action = "auth.login",
		.target = "",
		.outcome = "ok",
	};
	struct audit_entry e;

	memset(long_field, 'a', sizeof(long_field) - 1);
	long_field[AUDIT_FIELD_MAX + 1] = '\0';
	memset(long_detail, 'd', sizeof(long_detail) - 1);
	long_detail[AUDIT_DETAIL_MAX + 1] = '\0';

#define REFUSED(field, value)                                    \
	do {                                                     \
		e = ok;                                          \
		e.field = (value);                               \
		assert_int_equal(audit_append(db, &e), -EINVAL); \
	} while (0)
	REFUSED(actor, NULL);
	REFUSED(actor, "");
	REFUSED(actor, long_field);
	REFUSED(actor, "zhang\n01");
	REFUSED(actor, "zhang\x1b[2J");
	REFUSED(actor, "\xff\xfe");
	REFUSED(actor, "\xe5\xbc"); /* cut in the middle of 张 */
	REFUSED(role, NULL);
	REFUSED(role, "");
	REFUSED(role, "Staff");
	REFUSED(role, "staff member");
	REFUSED(action, NULL);
	REFUSED(action, "auth,login");
	REFUSED(action, "=cmd|' /C calc'!A0");
	REFUSED(target, NULL);
	REFUSED(target, long_field);
	REFUSED(target, "a\tb");
	REFUSED(outcome, "");
	REFUSED(outcome, "OK");
	REFUSED(detail, long_detail);
	REFUSED(detail, "\x01");
	REFUSED(detail, "\xed\xa0\x80"); /* a surrogate */
#undef REFUSED
	assert_int_equal(audit_append(db, NULL), -EINVAL);
	assert_int_equal(audit_append(NULL, &ok), -EINVAL);
	assert_int_equal(test_sql_int(db, "SELECT count(*) FROM audit"), 0);

	/* The limits themselves are allowed. */
	e = ok;
	long_field[AUDIT_FIELD_MAX] = '\0';
	long_detail[AUDIT_DETAIL_MAX] = '\0';
	e.actor = long_field;
	e.target = long_field;
	e.detail = long_detail;
	assert_int_equal(audit_append(db, &e), 0);
	e = ok;
	e.actor = "张伟";
	e.target = "工单 WO-1";
	e.detail = "line one\n\tline two";
	assert_int_equal(audit_append(db, &e), 0);
	assert_int_equal(audit_verify(db, &(struct audit_verify_result){ 0 }), 0);
}

static void *worker(void *arg)
{
	struct audit_entry e = {
		.actor = arg,
		.role = "staff",
		.action = "queue.call",
		.target = "A001",
		.outcome = "ok",
	};
	sqlite3 *db = NULL;
	intptr_t failures = 0;

	if (store_open(dir, &db) != 0) {
		return (void *)(intptr_t)-1;
	}
	for (int i = 0; i < PER_WORKER; i++) {
		/* Half in their own transaction, half in the caller's. */
		if (i % 2 == 0) {
			failures += audit_append(db, &e) != 0;
		} else if (store_begin(db) != 0) {
			failures++;
		} else if (audit_append(db, &e) != 0 || store_commit(db) != 0) {
			store_rollback(db);
			failures++;
		}
	}
	store_close(db);
	return (void *)failures;
}

static void test_threads_keep_one_chain(void **state)
{
	static const char *const names[WORKERS] = { "w1", "w2", "w3", "w4" };
	sqlite3 *db = *state;
	struct audit_verify_result r;
	pthread_t t[WORKERS];
	void *res;

	for (int i = 0; i < WORKERS; i++) {
		assert_int_equal(pthread_create(&t[i], NULL, worker, (void *)names[i]), 0);
	}
	for (int i = 0; i < WORKERS; i++) {
		assert_int_equal(pthread_join(t[i], &res), 0);
		assert_int_equal((intptr_t)res, 0);
	}
	assert_int_equal(audit_verify(db, &r), 0);
	assert_int_equal(r.entries, WORKERS * PER_WORKER);
	assert_int_equal(r.head_id, WORKERS * PER_WORKER);
	/* One linear chain: every prev is used exactly once. */
	assert_int_equal(test_sql_int(db, "SELECT count(DISTINCT prev) FROM audit"),
			 WORKERS * PER_WORKER);
	assert_int_equal(test_sql_int(db, "SELECT count(DISTINCT hash) FROM audit"),
			 WORKERS * PER_WORKER);
}

static void run_admin(sqlite3 *db, int want, const char *want_out)
{
	char out[512] = "";
	char *argv[] = { "audit-verify", NULL };
	struct admin_ctx ctx = { .db = db, .data_dir = dir };
	size_t n;

	ctx.out = tmpfile();
	ctx.err = tmpfile();
	assert_non_null(ctx.out);
	assert_non_null(ctx.err);
	assert_int_equal(audit_cmd_verify(&ctx, 1, argv), want);
	rewind(ctx.out);
	n = fread(out, 1, sizeof(out) - 1, ctx.out);
	out[n] = '\0';
	if (strstr(out, want_out) != NULL) {
		fclose(ctx.out);
		fclose(ctx.err);
		return;
	}
	fail_msg("want '%s' in '%s'", want_out, out);
}

static void test_admin_command(void **state)
{
	sqlite3 *db = *state;
	char want[128], hex[2 * AUDIT_HASH_LEN + 1];
	uint8_t head[AUDIT_HASH_LEN];
	char *argv[] = { "audit-verify", "extra", NULL };
	struct admin_ctx ctx = { .db = db, .out = stdout, .err = stderr };
	int64_t id;

	run_admin(db, 0, "audit log intact: 0 entries, head 0 ");
	fill(db, ROWS);
	assert_int_equal(audit_head(db, &id, head), 0);
	audit_hex(head, hex);
	snprintf(want, sizeof(want), "audit log intact: %d entries, head %d %s\n", ROWS, ROWS, hex);
	run_admin(db, 0, want);
	tamper(db, "UPDATE audit SET outcome = 'denied' WHERE id = 7");
	run_admin(db, 1, "audit log BROKEN at row 7: row 7 was changed");
	assert_int_equal(audit_cmd_verify(&ctx, 2, argv), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_log_intact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_field_edited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_moved_between_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_row_deleted_middle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_row_deleted_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_row_deleted_and_renumbered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rows_deleted_at_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rows_swapped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hash_edited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_row_rewritten_with_new_hash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_row_inserted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_triggers_refuse_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_callers_transaction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads_keep_one_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_admin_command, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
