/*
 * Storage service against real SQLite files: creation, migrations (upgrade,
 * newer file refused untouched, failing step rolled back), damaged files kept
 * aside byte for byte, locks, backup, checkpoint, error translation, and
 * SQLite-style fault loops (the Nth allocation or file operation fails; every
 * failure must be a clean negative errno and leave a consistent database).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "fw/outbox.h"
#include "fw/store.h"
#include "migrations.h"
#include "test_util.h"

/* ---- temporary directories and files ---- */

static char dir[PATH_MAX];

static void path_in(char *out, const char *name)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", dir, name);

	assert_true(n > 0 && n < PATH_MAX);
}

static int setup(void **state)
{
	struct store_options o;

	if (test_tmpdir(dir, sizeof(dir), "test_store") != 0) {
		return -1;
	}
	store_options_default(&o);
	return store_configure(&o);
}

static int teardown(void **state)
{
	return test_rmtree(dir);
}

static off_t file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? sb.st_size : -1;
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s);
	size_t t = strlen(tail);

	return n >= t && strcmp(s + n - t, tail) == 0;
}

/* Files in dir whose name starts with prefix (not counting -wal, -shm). */
static int count_prefixed(const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		n += strncmp(e->d_name, prefix, strlen(prefix)) == 0 &&
		     !ends_with(e->d_name, "-wal") && !ends_with(e->d_name, "-shm");
	}
	closedir(d);
	return n;
}

/* ---- raw SQLite helpers (the test's own view of the file) ---- */

static sqlite3 *raw_open(const char *path)
{
	sqlite3 *db = NULL;

	assert_int_equal(
		sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
		SQLITE_OK);
	return db;
}

static bool table_exists(sqlite3 *db, const char *name)
{
	sqlite3_stmt *st = NULL;
	bool found;

	assert_int_equal(sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_schema WHERE name = ?1", -1,
					    &st, NULL),
			 SQLITE_OK);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

static void assert_quick_check_ok(sqlite3 *db)
{
	char res[256];

	test_sql_text(db, "PRAGMA quick_check", res, sizeof(res));
	assert_string_equal(res, "ok");
}

/* Store a database with n events in it through the service itself. */
static void make_db_with_events(int n)
{
	struct store_status st;
	sqlite3 *db;

	assert_int_equal(store_init(dir, &st), 0);
	assert_int_equal(store_open(dir, &db), 0);
	assert_int_equal(store_begin(db), 0);
	for (int i = 0; i < n; i++) {
		assert_int_equal(outbox_append(db, "test.event",
					       "{\"i\":1,\"pad\":\"xxxxxxxxxxxxxxxx"
					       "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}",
					       NULL),
				 0);
	}
	assert_int_equal(store_commit(db), 0);
	store_close(db);
}

/* ---- creation and settings ---- */

static void test_fresh_create(void **state)
{
	struct store_status st;
	struct store_status again;
	char path[PATH_MAX];
	char buf[STORE_META_VALUE_MAX];
	struct stat sb;
	sqlite3 *db;
	long long created;

	assert_int_equal(store_open(dir, &db), -ENOENT); /* store_init creates, not open */
	assert_null(db);
	assert_int_equal(store_init(dir, &st), 0);
	assert_int_equal(st.state, STORE_OK);
	assert_string_equal(store_state_name(st.state), "ok");
	assert_int_equal(st.schema_version, store_schema_version());
	assert_int_equal(strlen(st.db_epoch), 36);
	assert_string_equal(st.damaged_path, "");

	path_in(path, STORE_FILE);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600); /* personal data: owner only */

	assert_int_equal(store_open(dir, &db), 0);
	assert_int_equal(test_sql_int(db, "PRAGMA user_version"), store_schema_version());
	test_sql_text(db, "PRAGMA journal_mode", buf, sizeof(buf));
	assert_string_equal(buf, "wal");
	assert_int_equal(test_sql_int(db, "PRAGMA synchronous"), 2); /* FULL */
	assert_int_equal(test_sql_int(db, "PRAGMA foreign_keys"), 1);
	assert_int_equal(test_sql_int(db, "PRAGMA journal_size_limit"), 16384 * 1024);
	assert_int_equal(test_sql_int(db, "PRAGMA busy_timeout"), 2000);
	assert_int_equal(sqlite3_hard_heap_limit64(-1), 65536LL * 1024);
	assert_true(table_exists(db, "meta"));
	assert_true(table_exists(db, "outbox"));

	assert_int_equal(store_meta_get(db, "db_epoch", buf, sizeof(buf)), 36);
	assert_string_equal(buf, st.db_epoch);
	assert_true(store_meta_get(db, "created_ms", buf, sizeof(buf)) > 0);
	created = atoll(buf);
	assert_true(created > (long long)(time(NULL) - 60) * 1000);
	assert_true(created <= (long long)(time(NULL) + 1) * 1000);
	assert_int_equal(store_meta_get(db, "device_id", buf, sizeof(buf)), 0);
	store_close(db);
	store_close(NULL);

	/* A restart opens the same database; nothing is made again. */
	assert_int_equal(store_init(dir, &again), 0);
	assert_int_equal(again.state, STORE_OK);
	assert_string_equal(again.db_epoch, st.db_epoch);
}

static void test_device_id(void **state)
{
	struct store_options o;
	char buf[STORE_META_VALUE_MAX];
	sqlite3 *db;

	store_options_default(&o);
	snprintf(o.device_id, sizeof(o.device_id), "SIM-0001");
	assert_int_equal(store_configure(&o), 0);
	assert_int_equal(store_init(dir, NULL), 0);
	/* Another board's serial does not rewrite the id of an existing database. */
	snprintf(o.device_id, sizeof(o.device_id), "SIM-0002");
	assert_int_equal(store_configure(&o), 0);
	assert_int_equal(store_init(dir, NULL), 0);
	assert_int_equal(store_open(dir, &db), 0);
	assert_int_equal(store_meta_get(db, "device_id", buf, sizeof(buf)), 8);
	assert_string_equal(buf, "SIM-0001");
	store_close(db);
}

static void test_configure_rejects_bad_values(void **state)
{
	struct store_options o;

	assert_int_equal(store_configure(NULL), -EINVAL);
	store_options_default(&o);
	o.busy_timeout_ms = -1;
	assert_int_equal(store_configure(&o), -EINVAL);
	store_options_default(&o);
	o.busy_retries = 100;
	assert_int_equal(store_configure(&o), -EINVAL);
	store_options_default(&o);
	o.journal_limit_kb = 1;
	assert_int_equal(store_configure(&o), -EINVAL);
	store_options_default(&o);
	o.heap_limit_kb = 10;
	assert_int_equal(store_configure(&o), -EINVAL);
	store_options_default(&o);
	memset(o.device_id, 'x', sizeof(o.device_id)); /* not terminated */
	assert_int_equal(store_configure(&o), -EINVAL);
	store_options_default(&o);
	o.heap_limit_kb = 0; /* no limit is allowed */
	assert_int_equal(store_configure(&o), 0);
	assert_int_equal(store_init(dir, NULL), 0);
	assert_int_equal(sqlite3_hard_heap_limit64(-1), 0);
	o.heap_limit_kb = 2048;
	assert_int_equal(store_configure(&o), 0);
	assert_int_equal(store_init(dir, NULL), 0);
	assert_int_equal(sqlite3_hard_heap_limit64(-1), 2048 * 1024);
}

static void test_bad_paths(void **state)
{
	char longdir[PATH_MAX + 16];
	char missing[PATH_MAX];
	sqlite3 *db;

	assert_int_equal(store_init(NULL, NULL), -EINVAL);
	assert_int_equal(store_init("", NULL), -EINVAL);
	memset(longdir, 'a', sizeof(longdir) - 1);
	longdir[sizeof(longdir) - 1] = '\0';
	assert_int_equal(store_init(longdir, NULL), -ENAMETOOLONG);
	path_in(missing, "no/such/dir");
	assert_int_equal(store_init(missing, NULL), -ENOENT);
	assert_int_equal(store_open(missing, &db), -ENOENT);
	assert_int_equal(store_open(dir, NULL), -EINVAL);
}

static void test_meta(void **state)
{
	char buf[8];
	char big[STORE_META_VALUE_MAX + 1];
	sqlite3 *db;

	assert_int_equal(store_init(dir, NULL), 0);
	assert_int_equal(store_open(dir, &db), 0);
	assert_int_equal(store_meta_set(db, "sync.cursor", "1234567"), 0);
	assert_int_equal(store_meta_get(db, "sync.cursor", buf, sizeof(buf)), 7);
	assert_string_equal(buf, "1234567");
	assert_int_equal(store_meta_set(db, "sync.cursor", "12345678"), 0);
	assert_int_equal(store_meta_get(db, "sync.cursor", buf, sizeof(buf)), -ENOBUFS);
	assert_int_equal(store_meta_get(db, "nothing", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(store_meta_set(db, "", "x"), -EINVAL);
	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(store_meta_set(db, "k", big), -EINVAL);
	assert_int_equal(store_meta_set(db, big + STORE_META_VALUE_MAX - STORE_META_KEY_MAX, "v"),
			 -EINVAL);
	store_close(db);
}

/* ---- migrations ---- */

static void test_upgrade_from_v0(void **state)
{
	char path[PATH_MAX];
	struct store_status st;
	sqlite3 *db;

	/* A version-0 file as an early build left it: rollback journal, a table. */
	path_in(path, STORE_FILE);
	db = raw_open(path);
	test_sql_exec(db, "CREATE TABLE legacy (x TEXT); INSERT INTO legacy VALUES ('kept');");
	assert_int_equal(test_sql_int(db, "PRAGMA user_version"), 0);
	sqlite3_close(db);

	assert_int_equal(store_init(dir, &st), 0);
	assert_int_equal(st.state, STORE_OK);
	assert_int_equal(st.schema_version, store_schema_version());
	assert_int_equal(store_open(dir, &db), 0);
	assert_int_equal(test_sql_int(db, "SELECT count(*) FROM legacy WHERE x = 'kept'"), 1);
	assert_true(table_exists(db, "outbox"));
	store_close(db);
}

static void test_upgrade_after_crash_mid_transaction(void **state)
{
	char path[PATH_MAX];
	char journal[PATH_MAX];
	struct store_status st;
	sqlite3 *db;
	pid_t pid;
	int status;

	path_in(path, STORE_FILE);
	path_in(journal, STORE_FILE "-journal");
	db = raw_open(path);
	test_sql_exec(db, "CREATE TABLE legacy (x); INSERT INTO legacy VALUES ('kept');");
	sqlite3_close(db);
	/* An early build dies in the middle of a big transaction: the file holds
	 * half of it and a hot rollback journal the rest. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		sqlite3 *c = NULL;

		sqlite3_open(path, &c);
		sqlite3_exec(c,
			     "PRAGMA cache_size = 2; BEGIN;"
			     "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
			     "WHERE i < 2000) INSERT INTO legacy SELECT randomblob(200) FROM n;",
			     NULL, NULL, NULL);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(file_size(journal) > 0);

	/* Not damage: SQLite rolls the journal back, then the file is migrated. */
	assert_int_equal(store_init(dir, &st), 0);
	assert_int_equal(st.state, STORE_OK);
	assert_false(test_file_exists(journal));
	assert_int_equal(store_open(dir, &db), 0);
	assert_int_equal(test_sql_int(db, "SELECT count(*) FROM legacy"), 1);
	assert_quick_check_ok(db);
	store_close(db);
}

static int step_v2_fn(sqlite3 *db)
{
	return store_exec(db, "UPDATE outbox SET type = 'renamed.' || type");
}

static void test_upgrade_keeps_data(void **state)
{
	/* This firmware's steps, then two that a later firmware adds. */
	struct store_migration steps[64];
	const int n = store_migrations_count;
	char path[PATH_MAX];
	char type[64];
	sqlite3 *db;
	int version = -1;

	assert_true(n + 2 <= 64);
	/* A database with an event, as the current firmware writes it. */
	make_db_with_events(1);
	memcpy(steps, store_migrations, sizeof(steps[0]) * (size_t)n);
	steps[n] =
		(struct store_migration){ n + 1, "add note column",
					  "ALTER TABLE outbox ADD COLUMN note TEXT;", step_v2_fn };
	steps[n + 1] = (struct store_migration){ n + 2, "add table", "CREATE TABLE t3 (x);", NULL };
	path_in(path, STORE_FILE);
	db = raw_open(path);
	assert_int_equal(store_migrate(db, steps, n + 2, &version), 0);
	assert_int_equal(version, n + 2);
	assert_int_equal(test_sql_int(db, "PRAGMA user_version"), n + 2);
	test_sql_text(db, "SELECT type FROM outbox WHERE seq = 1", type, sizeof(type));
	assert_string_equal(type, "renamed.test.event");
	assert_true(table_exists(db, "t3"));
	/* Running it again changes nothing. */
	assert_int_equal(store_migrate(db, steps, n + 2, &version), 0);
	assert_int_equal(version, n + 2);
	/* This firmware refuses the upgraded file. */
	assert_int_equal(store_migrate(db, store_migrations, n, &version), -EPROTO);
	assert_int_equal(version, n + 2);
	sqlite3_close(db);
}

static int step_fails(sqlite3 *db)
{
	return -ENOSPC;
}

static void test_failing_step_rolls_back(void **state)
{
	struct store_migration steps[64];
	const int n = store_migrations_count;
	char path[PATH_MAX];
	sqlite3 *db;
	int version = -1;

	make_db_with_events(2);
	path_in(path, STORE_FILE);
	db = raw_open(path);
	assert_true(n + 1 <= 64);
	memcpy(steps, store_migrations, sizeof(steps[0]) * (size_t)n);

	/* A statement in the middle of the step fails. */
	steps[n] = (struct store_migration){
		n + 1, "broken",
		"CREATE TABLE a (x); INSERT INTO a VALUES (1);"
		"DELETE FROM outbox; INSERT INTO no_such_table VALUES (1);",
		NULL
	};
	assert_true(store_migrate(db, steps, n + 1, &version) < 0);
	assert_int_equal(version, n);
	assert_int_equal(test_sql_int(db, "PRAGMA user_version"), n);
	assert_false(table_exists(db, "a"));
	assert_int_equal(test_sql_int(db, "SELECT count(*) FROM outbox"), 2);
	assert_int_equal(sqlite3_get_autocommit(db), 1); /* no transaction left open */

	/* The step's function fails after its SQL ran. */
	steps[n] = (struct store_migration){ n + 1, "fn fails", "CREATE TABLE b (x);", step_fails };
	assert_int_equal(store_migrate(db, steps, n + 1, &version), -ENOSPC);
	assert_int_equal(version, n);
	assert_int_equal(test_sql_int(db, "PRAGMA user_version"), n);
	assert_false(table_exists(db, "b"));

	/* A list with a gap is refused before anything runs. */
	steps[n].version = n + 2;
	assert_int_equal(store_migrate(db, steps, n + 1, &version), -EINVAL);
	sqlite3_close(db);
	assert_int_equal(store_init(dir, NULL), 0);
}

static void make_newer_db(bool wal)
{
	char path[PATH_MAX];
	char sql[128];
	sqlite3 *db;

	path_in(path, STORE_FILE);
	db = raw_open(path);
	if (wal) {
		test_sql_exec(db, "PRAGMA journal_mode=WAL");
	}
	snprintf(sql, sizeof(sql), "CREATE TABLE future (x); PRAGMA user_version = %d;",
		 store_schema_version() + 1);
	test_sql_exec(db, sql);
	if (wal) {
		/* Leave committed frames in the -wal, as after a power cut. */
		assert_int_equal(sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL),
				 SQLITE_OK);
		test_sql_exec(db, "INSERT INTO future VALUES (1)");
	}
	sqlite3_close(db);
}

static void check_newer_refused(bool wal)
{
	char path[PATH_MAX];
	char wal_path[PATH_MAX];
	struct store_status st;
	unsigned char *before;
	unsigned char *wal_before = NULL;
	unsigned char *after;
	size_t len, wal_len = 0, len2;
	sqlite3 *db;

	make_newer_db(wal);
	path_in(path, STORE_FILE);
	path_in(wal_path, STORE_FILE "-wal");
	before = test_file_read(path, &len);
	if (wal) {
		assert_true(file_size(wal_path) > 0);
		wal_before = test_file_read(wal_path, &wal_len);
	}

	assert_int_equal(store_init(dir, &st), -EPROTO);
	assert_int_equal(st.state, STORE_CLOSED);
	assert_int_equal(store_open(dir, &db), -EPROTO);
	assert_null(db);

	after = test_file_read(path, &len2);
	assert_int_equal(len2, len);
	assert_memory_equal(after, before, len);
	free(after);
	if (wal) {
		after = test_file_read(wal_path, &len2);
		assert_int_equal(len2, wal_len);
		assert_memory_equal(after, wal_before, wal_len);
		free(after);
	}
	assert_int_equal(count_prefixed(STORE_FILE STORE_DAMAGED_TAG), 0);
	free(before);
	free(wal_before);
}

static void test_newer_db_refused_untouched(void **state)
{
	check_newer_refused(false);
}

static void test_newer_wal_db_refused_untouched(void **state)
{
	check_newer_refused(true);
}

/* ---- damaged files ---- */

static void check_kept_aside(const struct store_status *st, const unsigned char *orig,
			     size_t orig_len, const char *old_epoch)
{
	const char *name = strrchr(st->damaged_path, '/');
	unsigned char *kept;
	size_t kept_len;
	sqlite3 *db;

	assert_int_equal(st->state, STORE_RECOVERED);
	assert_string_equal(store_state_name(st->state), "recovered");
	assert_non_null(name);
	/* hotline.db.damaged-YYYYMMDD-HHMMSS */
	assert_int_equal(strncmp(name + 1, STORE_FILE STORE_DAMAGED_TAG,
				 strlen(STORE_FILE STORE_DAMAGED_TAG)),
			 0);
	name += 1 + strlen(STORE_FILE STORE_DAMAGED_TAG);
	assert_true(strlen(name) >= 15);
	for (int i = 0; i < 15; i++) {
		assert_true(i == 8 ? name[i] == '-' : (name[i] >= '0' && name[i] <= '9'));
	}
	kept = test_file_read(st->damaged_path, &kept_len);
	assert_int_equal(kept_len, orig_len);
	assert_memory_equal(kept, orig, orig_len);
	free(kept);

	/* Running on a new database: new epoch, empty outbox, seq from 1. */
	assert_string_not_equal(st->db_epoch, old_epoch);
	assert_int_equal(strlen(st->db_epoch), 36);
	assert_int_equal(store_open(dir, &db), 0);
	assert_quick_check_ok(db);
	assert_int_equal(outbox_pending(db), 0);
	assert_int_equal(outbox_last_seq(db), 0);
	store_close(db);
}

/* Overwrite bytes [from, len - keep_tail) of a database holding events. */
static void damage_and_recover(size_t from, size_t keep_tail)
{
	struct store_status st;
	char path[PATH_MAX];
	char wal[PATH_MAX];
	char epoch[40];
	unsigned char *buf;
	size_t len;

	make_db_with_events(300);
	assert_int_equal(store_init(dir, &st), 0);
	snprintf(epoch, sizeof(epoch), "%s", st.db_epoch);
	path_in(path, STORE_FILE);
	path_in(wal, STORE_FILE "-wal");
	assert_false(test_file_exists(wal)); /* the last close checkpointed it */
	buf = test_file_read(path, &len);
	assert_true(len > from + keep_tail + 4096);
	for (size_t i = from; i < len - keep_tail; i++) {
		buf[i] = (unsigned char)(i * 7 + 13);
	}
	test_file_write(path, buf, len);

	assert_int_equal(store_init(dir, &st), 0);
	check_kept_aside(&st, buf, len, epoch);
	assert_int_equal(count_prefixed(STORE_FILE STORE_DAMAGED_TAG), 1);
	free(buf);
}

static void test_damaged_pages_kept_aside(void **state)
{
	damage_and_recover(4096, 0); /* every page but the first */
}

static void test_damaged_middle_kept_aside(void **state)
{
	damage_and_recover(8192, 8192); /* a few pages in the middle */
}

static void test_not_a_database_kept_aside(void **state)
{
	damage_and_recover(0, 0); /* nothing of it is SQLite any more */
}

static void test_damaged_with_wal_moves_wal_too(void **state)
{
	struct store_status st;
	char path[PATH_MAX];
	char wal[PATH_MAX];
	char kept_wal[PATH_MAX + 8];
	unsigned char *buf;
	unsigned char *wal_buf;
	unsigned char *kept;
	size_t len, wal_len, kept_len;
	sqlite3 *db;

	make_db_with_events(50);
	path_in(path, STORE_FILE);
	path_in(wal, STORE_FILE "-wal");
	/* Leave committed transactions in the -wal, as a power cut would. */
	db = raw_open(path);
	assert_int_equal(sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL),
			 SQLITE_OK);
	test_sql_exec(db, "UPDATE outbox SET payload = '{\"changed\":true}'");
	sqlite3_close(db);
	assert_true(file_size(wal) > 0);

	buf = test_file_read(path, &len);
	for (size_t i = 0; i < len; i++) {
		buf[i] ^= 0x5a;
	}
	test_file_write(path, buf, len);
	wal_buf = test_file_read(wal, &wal_len);

	assert_int_equal(store_init(dir, &st), 0);
	assert_int_equal(st.state, STORE_RECOVERED);
	kept = test_file_read(st.damaged_path, &kept_len);
	assert_int_equal(kept_len, len);
	assert_memory_equal(kept, buf, len);
	free(kept);
	/* The -wal went with it: it must not be replayed into the new file. */
	snprintf(kept_wal, sizeof(kept_wal), "%s-wal", st.damaged_path);
	kept = test_file_read(kept_wal, &kept_len);
	assert_int_equal(kept_len, wal_len);
	assert_memory_equal(kept, wal_buf, wal_len);
	free(kept);
	free(buf);
	free(wal_buf);
	assert_int_equal(store_open(dir, &db), 0);
	assert_int_equal(outbox_last_seq(db), 0);
	store_close(db);
}

static void test_wal_without_database_kept_aside(void **state)
{
	struct store_status st;
	char path[PATH_MAX];
	char wal[PATH_MAX];
	unsigned char *wal_buf, *kept;
	size_t wal_len, kept_len;
	sqlite3 *db;

	make_db_with_events(5);
	path_in(path, STORE_FILE);
	path_in(wal, STORE_FILE "-wal");
	db = raw_open(path);
	assert_int_equal(sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL),
			 SQLITE_OK);
	test_sql_exec(db, "DELETE FROM outbox");
	sqlite3_close(db);
	wal_buf = test_file_read(wal, &wal_len);
	assert_true(wal_len > 0);
	assert_int_equal(unlink(path), 0); /* someone removed the database alone */

	assert_int_equal(store_init(dir, &st), 0);
	assert_int_equal(st.state, STORE_RECOVERED);
	assert_true(ends_with(st.damaged_path, "-wal"));
	kept = test_file_read(st.damaged_path, &kept_len);
	assert_int_equal(kept_len, wal_len);
	assert_memory_equal(kept, wal_buf, wal_len);
	free(kept);
	free(wal_buf);
	assert_int_equal(store_open(dir, &db), 0);
	assert_quick_check_ok(db);
	assert_int_equal(outbox_last_seq(db), 0);
	store_close(db);
}

static void test_damaged_twice_keeps_both(void **state)
{
	struct store_status st1, st2;
	char path[PATH_MAX];
	unsigned char *buf1, *buf2, *kept;
	size_t len1, len2, kept_len;

	path_in(path, STORE_FILE);
	buf1 = (unsigned char *)strdup("not a database, first");
	len1 = strlen((char *)buf1);
	test_file_write(path, buf1, len1);
	assert_int_equal(store_init(dir, &st1), 0);
	assert_int_equal(st1.state, STORE_RECOVERED);

	/* Damaged again within the same second: the first one is not overwritten. */
	buf2 = (unsigned char *)strdup("not a database either, second one");
	len2 = strlen((char *)buf2);
	test_file_write(path, buf2, len2);
	assert_int_equal(store_init(dir, &st2), 0);
	assert_int_equal(st2.state, STORE_RECOVERED);
	assert_string_not_equal(st1.damaged_path, st2.damaged_path);
	assert_int_equal(count_prefixed(STORE_FILE STORE_DAMAGED_TAG), 2);

	kept = test_file_read(st1.damaged_path, &kept_len);
	assert_int_equal(kept_len, len1);
	assert_memory_equal(kept, buf1, len1);
	free(kept);
	kept = test_file_read(st2.damaged_path, &kept_len);
	assert_int_equal(kept_len, len2);
	assert_memory_equal(kept, buf2, len2);
	free(kept);
	free(buf1);
	free(buf2);
}

/* ---- locks, transactions, backup, checkpoint ---- */

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_busy_is_bounded_then_works(void **state)
{
	struct store_options o;
	sqlite3 *a, *b;
	int64_t t0, took;

	store_options_default(&o);
	o.busy_timeout_ms = 50;
	o.busy_retries = 2;
	assert_int_equal(store_configure(&o), 0);
	assert_int_equal(store_init(dir, NULL), 0);
	assert_int_equal(store_open(dir, &a), 0);
	assert_int_equal(store_open(dir, &b), 0);

	assert_int_equal(store_begin(a), 0);
	assert_int_equal(store_begin(a), -EINVAL); /* already in one */
	t0 = mono_ms();
	assert_int_equal(store_begin(b), -EBUSY);
	took = mono_ms() - t0;
	/* 3 tries of 50 ms plus pauses of 50 and 100 ms: about 300 ms. */
	assert_in_range(took, 150, 3000);
	assert_int_equal(sqlite3_get_autocommit(b), 1);
	assert_int_equal(store_exec(b, "INSERT INTO meta VALUES ('k', 'v')"), -EBUSY);
	/* Readers are not blocked by the writer (WAL). */
	assert_int_equal(outbox_pending(b), 0);

	store_rollback(a);
	assert_int_equal(store_begin(b), 0);
	assert_int_equal(store_exec(b, "INSERT INTO meta VALUES ('k', 'v')"), 0);
	assert_int_equal(store_commit(b), 0);
	assert_int_equal(store_begin(a), 0);
	assert_int_equal(store_commit(a), 0);
	store_rollback(a); /* nothing open: no effect */
	store_close(a);
	store_close(b);
}

static void test_exec_errors_and_commit_failure(void **state)
{
	sqlite3 *db;

	assert_int_equal(store_init(dir, NULL), 0);
	assert_int_equal(store_open(dir, &db), 0);
	assert_int_equal(store_exec(db, "THIS IS NOT SQL"), -EIO);
	assert_int_equal(store_exec(db, "INSERT INTO meta VALUES ('a', 'b');"
					"INSERT INTO meta VALUES ('a', 'c')"),
			 -EEXIST);
	assert_int_equal(store_exec(db, "INSERT INTO meta VALUES ('', 'b')"), -EINVAL);
	assert_int_equal(store_exec(db, "  -- only a comment\n"), 0);
	assert_int_equal(store_exec(NULL, "SELECT 1"), -EINVAL);
	assert_int_equal(store_begin(NULL), -EINVAL);
	assert_int_equal(store_commit(NULL), -EINVAL);

	/* A deferred foreign key violation fails the COMMIT; it is rolled back. */
	assert_int_equal(store_exec(db, "CREATE TABLE p (id INTEGER PRIMARY KEY);"
					"CREATE TABLE c (p INTEGER REFERENCES p(id) "
					"DEFERRABLE INITIALLY DEFERRED)"),
			 0);
	assert_int_equal(store_begin(db), 0);
	assert_int_equal(store_exec(db, "INSERT INTO c VALUES (42)"), 0);
	assert_int_equal(store_commit(db), -EINVAL);
	assert_int_equal(sqlite3_get_autocommit(db), 1);
	assert_int_equal(test_sql_int(db, "SELECT count(*) FROM c"), 0);
	store_close(db);
}

/* The statement helpers every app uses: prepare, step once, read columns. */
static void test_statement_helpers(void **state)
{
	sqlite3 *db;
	sqlite3_stmt *st = (sqlite3_stmt *)&st;
	char buf[8];

	assert_int_equal(store_init(dir, NULL), 0);
	assert_int_equal(store_open(dir, &db), 0);

	/* A bad statement: a clean errno and no statement left to finalize. */
	assert_int_equal(store_prepare(db, "SELECT nothing FROM nowhere", &st), -EIO);
	assert_null(st);
	st = (sqlite3_stmt *)&st;
	assert_int_equal(store_prepare(NULL, "SELECT 1", &st), -EINVAL);
	assert_null(st);
	assert_int_equal(store_prepare(db, NULL, &st), -EINVAL);

	/* Step once and finalize: DONE counts as done, so does a ROW. */
	assert_int_equal(store_exec(db, "CREATE TABLE t (n INTEGER, s TEXT)"), 0);
	assert_int_equal(store_prepare(db, "INSERT INTO t VALUES (?1, ?2)", &st), 0);
	assert_int_equal(sqlite3_bind_int64(st, 1, INT64_C(1700000000123)), SQLITE_OK);
	assert_int_equal(sqlite3_bind_text(st, 2, "城关镇 office", -1, SQLITE_STATIC), SQLITE_OK);
	assert_int_equal(store_step_done(db, st, "test insert"), 0);
	assert_int_equal(store_prepare(db, "INSERT INTO t VALUES (NULL, NULL)", &st), 0);
	assert_int_equal(store_step_done(db, st, "test insert"), 0);
	assert_int_equal(store_prepare(db, "SELECT count(*) FROM t", &st), 0);
	assert_int_equal(store_step_done(db, st, "test count"), 0);
	assert_int_equal(test_sql_int(db, "SELECT count(*) FROM t"), 2);

	/* A failing step is translated (a unique violation: -EEXIST) and the row not written. */
	assert_int_equal(store_exec(db, "CREATE UNIQUE INDEX t_n ON t (n)"), 0);
	assert_int_equal(store_prepare(db, "INSERT INTO t VALUES (1700000000123, 'again')", &st),
			 0);
	assert_int_equal(store_step_done(db, st, "test duplicate"), -EEXIST);
	assert_int_equal(test_sql_int(db, "SELECT count(*) FROM t"), 2);

	/* Columns: NULL reads as 0 and "", text is cut to the buffer and terminated. */
	assert_int_equal(store_prepare(db, "SELECT n, s FROM t ORDER BY n IS NULL, n", &st), 0);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_true(store_col_ms(st, 0) == INT64_C(1700000000123));
	store_col_text(st, 1, buf, sizeof(buf));
	/* Cut by bytes (7 fit), not by characters: callers size buffers for whole text. */
	assert_int_equal(strlen(buf), 7);
	assert_memory_equal(buf, "城关镇", 7);
	buf[0] = 'x';
	store_col_text(st, 1, buf, 1);
	assert_string_equal(buf, "");
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_true(store_col_ms(st, 0) == 0);
	memset(buf, 'x', sizeof(buf));
	store_col_text(st, 1, buf, sizeof(buf));
	assert_string_equal(buf, "");
	sqlite3_finalize(st);
	store_close(db);
}

static void test_backup(void **state)
{
	char bak[PATH_MAX];
	char tmp[PATH_MAX + 8];
	char missing[PATH_MAX];
	char longp[PATH_MAX + 16];
	sqlite3 *db, *copy;

	make_db_with_events(20);
	assert_int_equal(store_open(dir, &db), 0);
	path_in(bak, "backup.db");
	assert_int_equal(store_backup(db, bak), 0);
	copy = raw_open(bak);
	assert_quick_check_ok(copy);
	assert_int_equal(test_sql_int(copy, "SELECT count(*) FROM outbox"), 20);
	assert_int_equal(test_sql_int(copy, "PRAGMA user_version"), store_schema_version());
	sqlite3_close(copy);

	/* A second backup replaces the first only when complete. */
	assert_int_equal(store_begin(db), 0);
	assert_int_equal(outbox_append(db, "test.more", "{}", NULL), 0);
	assert_int_equal(store_commit(db), 0);
	snprintf(tmp, sizeof(tmp), "%s.tmp", bak);
	test_file_write(tmp, (const unsigned char *)"stale", 5); /* left by a power cut */
	assert_int_equal(store_backup(db, bak), 0);
	assert_false(test_file_exists(tmp));
	copy = raw_open(bak);
	assert_int_equal(test_sql_int(copy, "SELECT count(*) FROM outbox"), 21);
	sqlite3_close(copy);

	path_in(missing, "no/such/dir/backup.db");
	assert_int_equal(store_backup(db, missing), -ENOENT);
	memset(longp, 'b', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(store_backup(db, longp), -ENAMETOOLONG);
	assert_int_equal(store_backup(db, ""), -EINVAL);
	assert_int_equal(store_backup(NULL, bak), -EINVAL);
	store_close(db);
}

static void test_checkpoint_truncates_wal(void **state)
{
	struct store_options o;
	char wal[PATH_MAX];
	sqlite3 *db, *reader;
	sqlite3_stmt *st = NULL;

	store_options_default(&o);
	o.busy_timeout_ms = 20;
	o.busy_retries = 0;
	assert_int_equal(store_configure(&o), 0);
	make_db_with_events(0);
	assert_int_equal(store_open(dir, &db), 0);
	assert_int_equal(store_open(dir, &reader), 0);
	path_in(wal, STORE_FILE "-wal");
	assert_int_equal(store_begin(db), 0);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(outbox_append(db, "test.event", "{\"n\":1}", NULL), 0);
	}
	assert_int_equal(store_commit(db), 0);
	assert_true(file_size(wal) > 0);

	/* A reader in the middle of a read holds the WAL: not now. */
	assert_int_equal(sqlite3_prepare_v2(reader, "SELECT seq FROM outbox", -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(store_begin(db), 0);
	assert_int_equal(outbox_append(db, "test.event", "{\"n\":2}", NULL), 0);
	assert_int_equal(store_commit(db), 0);
	assert_int_equal(store_checkpoint(db), -EBUSY);
	sqlite3_finalize(st);

	assert_int_equal(store_checkpoint(db), 0);
	assert_int_equal(file_size(wal), 0);
	assert_int_equal(store_checkpoint(NULL), -EINVAL);
	store_close(reader);
	store_close(db);
}

static void test_err_translation(void **state)
{
	static const struct {
		int rc;
		int want;
	} map[] = {
		{ SQLITE_OK, 0 },
		{ SQLITE_ROW, 0 },
		{ SQLITE_DONE, 0 },
		{ SQLITE_FULL, -ENOSPC },
		{ SQLITE_BUSY, -EBUSY },
		{ SQLITE_BUSY_SNAPSHOT, -EBUSY },
		{ SQLITE_LOCKED, -EBUSY },
		{ SQLITE_CORRUPT, -EIO },
		{ SQLITE_NOTADB, -EIO },
		{ SQLITE_NOMEM, -ENOMEM },
		{ SQLITE_IOERR_NOMEM, -ENOMEM },
		{ SQLITE_IOERR_WRITE, -EIO },
		{ SQLITE_READONLY, -EROFS },
		{ SQLITE_PERM, -EACCES },
		{ SQLITE_CANTOPEN, -EIO },
		{ SQLITE_CONSTRAINT_UNIQUE, -EEXIST },
		{ SQLITE_CONSTRAINT_PRIMARYKEY, -EEXIST },
		{ SQLITE_CONSTRAINT_CHECK, -EINVAL },
		{ SQLITE_TOOBIG, -EMSGSIZE },
		{ SQLITE_INTERRUPT, -EINTR },
		{ SQLITE_MISUSE, -EINVAL },
		{ SQLITE_ERROR, -EIO },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		assert_int_equal(store_err(NULL, map[i].rc, "test"), map[i].want);
	}
}

/* ---- fault injection ---- */

/*
 * Memory: SQLite's allocator wrapped so that allocation number fail_at (and,
 * when persistent, every one after it) fails.
 */
static sqlite3_mem_methods real_mem;
static long mem_count;
static long mem_fail_at; /* 0: never */
static bool mem_persistent;
static bool mem_fired;

static bool mem_should_fail(void)
{
	if (mem_fail_at == 0) {
		return false;
	}
	mem_count++;
	if (mem_count == mem_fail_at || (mem_persistent && mem_count > mem_fail_at)) {
		mem_fired = true;
		return true;
	}
	return false;
}

static void *faulty_malloc(int n)
{
	return mem_should_fail() ? NULL : real_mem.xMalloc(n);
}

static void *faulty_realloc(void *p, int n)
{
	return mem_should_fail() ? NULL : real_mem.xRealloc(p, n);
}

static void faulty_mem_install(void)
{
	sqlite3_mem_methods m;

	assert_int_equal(sqlite3_shutdown(), SQLITE_OK);
	if (real_mem.xMalloc == NULL) {
		assert_int_equal(sqlite3_config(SQLITE_CONFIG_GETMALLOC, &real_mem), SQLITE_OK);
	}
	m = real_mem;
	m.xMalloc = faulty_malloc;
	m.xRealloc = faulty_realloc;
	assert_int_equal(sqlite3_config(SQLITE_CONFIG_MALLOC, &m), SQLITE_OK);
	assert_int_equal(sqlite3_initialize(), SQLITE_OK);
}

static void faulty_mem_remove(void)
{
	assert_int_equal(sqlite3_shutdown(), SQLITE_OK);
	assert_int_equal(sqlite3_config(SQLITE_CONFIG_MALLOC, &real_mem), SQLITE_OK);
	assert_int_equal(sqlite3_initialize(), SQLITE_OK);
}

/*
 * Files: a VFS over the default one whose read, write, truncate and sync
 * number fail_at (and, when persistent, every one after) fail with
 * fail_code (SQLITE_IOERR_* or SQLITE_FULL).
 */
struct ff_file {
	sqlite3_file base;
	sqlite3_file *real;
};

static sqlite3_vfs *real_vfs;
static sqlite3_vfs faulty_vfs;
static long io_count;
static long io_fail_at;
static bool io_persistent;
static bool io_fired;
static int io_fail_code;
static bool io_writes_only; /* a full disk still reads and syncs */
static bool io_skip_sync;   /* the memory loops test no durability: go fast */

static bool io_should_fail(bool is_write)
{
	if (io_fail_at == 0 || (io_writes_only && !is_write)) {
		return false;
	}
	io_count++;
	if (io_count == io_fail_at || (io_persistent && io_count > io_fail_at)) {
		io_fired = true;
		return true;
	}
	return false;
}

#define REAL(f) (((struct ff_file *)(f))->real)

static int ff_close(sqlite3_file *f)
{
	return REAL(f)->pMethods->xClose(REAL(f));
}

static int ff_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
	if (io_should_fail(false)) {
		return SQLITE_IOERR_READ;
	}
	return REAL(f)->pMethods->xRead(REAL(f), buf, n, off);
}

static int ff_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
	if (io_should_fail(true)) {
		return io_fail_code;
	}
	return REAL(f)->pMethods->xWrite(REAL(f), buf, n, off);
}

static int ff_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	if (io_should_fail(false)) {
		return SQLITE_IOERR_TRUNCATE;
	}
	return REAL(f)->pMethods->xTruncate(REAL(f), size);
}

static int ff_sync(sqlite3_file *f, int flags)
{
	if (io_should_fail(false)) {
		return SQLITE_IOERR_FSYNC;
	}
	if (io_skip_sync) {
		return SQLITE_OK;
	}
	return REAL(f)->pMethods->xSync(REAL(f), flags);
}

static int ff_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
	return REAL(f)->pMethods->xFileSize(REAL(f), size);
}

static int ff_lock(sqlite3_file *f, int l)
{
	return REAL(f)->pMethods->xLock(REAL(f), l);
}

static int ff_unlock(sqlite3_file *f, int l)
{
	return REAL(f)->pMethods->xUnlock(REAL(f), l);
}

static int ff_check_reserved(sqlite3_file *f, int *out)
{
	return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}

static int ff_file_control(sqlite3_file *f, int op, void *arg)
{
	return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}

static int ff_sector_size(sqlite3_file *f)
{
	return REAL(f)->pMethods->xSectorSize(REAL(f));
}

static int ff_device_chars(sqlite3_file *f)
{
	return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}

static int ff_shm_map(sqlite3_file *f, int pg, int sz, int extend, void volatile **pp)
{
	return REAL(f)->pMethods->xShmMap(REAL(f), pg, sz, extend, pp);
}

static int ff_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
	return REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags);
}

static void ff_shm_barrier(sqlite3_file *f)
{
	REAL(f)->pMethods->xShmBarrier(REAL(f));
}

static int ff_shm_unmap(sqlite3_file *f, int del)
{
	return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}

static int ff_fetch(sqlite3_file *f, sqlite3_int64 off, int amt, void **pp)
{
	return REAL(f)->pMethods->xFetch(REAL(f), off, amt, pp);
}

static int ff_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	return REAL(f)->pMethods->xUnfetch(REAL(f), off, p);
}

static const sqlite3_io_methods ff_io = {
	.iVersion = 3,
	.xClose = ff_close,
	.xRead = ff_read,
	.xWrite = ff_write,
	.xTruncate = ff_truncate,
	.xSync = ff_sync,
	.xFileSize = ff_file_size,
	.xLock = ff_lock,
	.xUnlock = ff_unlock,
	.xCheckReservedLock = ff_check_reserved,
	.xFileControl = ff_file_control,
	.xSectorSize = ff_sector_size,
	.xDeviceCharacteristics = ff_device_chars,
	.xShmMap = ff_shm_map,
	.xShmLock = ff_shm_lock,
	.xShmBarrier = ff_shm_barrier,
	.xShmUnmap = ff_shm_unmap,
	.xFetch = ff_fetch,
	.xUnfetch = ff_unfetch,
};

static int ff_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *f, int flags,
		   int *out_flags)
{
	struct ff_file *p = (struct ff_file *)f;
	int rc;

	p->real = (sqlite3_file *)&p[1];
	rc = real_vfs->xOpen(real_vfs, name, p->real, flags, out_flags);
	p->base.pMethods = p->real->pMethods != NULL ? &ff_io : NULL;
	return rc;
}

static void faulty_vfs_install(void)
{
	if (real_vfs == NULL) {
		real_vfs = sqlite3_vfs_find(NULL);
	}
	assert_non_null(real_vfs);
	assert_ptr_not_equal(real_vfs, &faulty_vfs);
	assert_true(real_vfs->iVersion >= 1);
	faulty_vfs = *real_vfs;
	faulty_vfs.zName = "faulty";
	faulty_vfs.pNext = NULL;
	faulty_vfs.szOsFile = (int)sizeof(struct ff_file) + real_vfs->szOsFile;
	faulty_vfs.xOpen = ff_open;
	assert_int_equal(sqlite3_vfs_register(&faulty_vfs, 1), SQLITE_OK);
}

static void faulty_vfs_remove(void)
{
	assert_int_equal(sqlite3_vfs_register(real_vfs, 1), SQLITE_OK);
	assert_int_equal(sqlite3_vfs_unregister(&faulty_vfs), SQLITE_OK);
}

/* Arm or disarm both injectors. */
static void faults_arm(long mem_at, long io_at)
{
	mem_count = 0;
	mem_fail_at = mem_at;
	mem_fired = false;
	io_count = 0;
	io_fail_at = io_at;
	io_fired = false;
}

static void faults_off(void)
{
	mem_fail_at = 0;
	io_fail_at = 0;
}

/* The log of a fault loop is long; keep it out of the test output. */
static int saved_stderr = -1;

static void quiet(bool on)
{
	if (getenv("HE_TEST_VERBOSE") != NULL) {
		return;
	}
	if (on) {
		char logp[PATH_MAX];
		int fd;

		fflush(stderr);
		path_in(logp, "faults.log");
		fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		assert_true(fd >= 0);
		saved_stderr = dup(STDERR_FILENO);
		dup2(fd, STDERR_FILENO);
		close(fd);
	} else if (saved_stderr >= 0) {
		fflush(stderr);
		dup2(saved_stderr, STDERR_FILENO);
		close(saved_stderr);
		saved_stderr = -1;
	}
}

static bool clean_errno(int ret)
{
	switch (ret) {
	case 0:
	case -ENOMEM:
	case -EIO:
	case -ENOSPC:
	case -EBUSY:
	case -EROFS:
		return true;
	default:
		return false;
	}
}

static void remove_db_files(void)
{
	static const char *const names[] = { STORE_FILE, STORE_FILE "-wal", STORE_FILE "-shm",
					     STORE_FILE "-journal" };
	char p[PATH_MAX];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		path_in(p, names[i]);
		unlink(p);
	}
}

/* After a fault: the database opens cleanly, unchanged or migrated whole. */
static void check_consistent_after_init_fault(void)
{
	struct store_status st;
	sqlite3 *db;

	assert_int_equal(store_init(dir, &st), 0);
	/* A fault is never taken for damage. */
	assert_int_equal(st.state, STORE_OK);
	assert_int_equal(count_prefixed(STORE_FILE STORE_DAMAGED_TAG), 0);
	assert_int_equal(st.schema_version, store_schema_version());
	assert_int_equal(store_open(dir, &db), 0);
	assert_quick_check_ok(db);
	assert_int_equal(test_sql_int(db, "SELECT count(*) FROM meta WHERE key IN "
					  "('db_epoch', 'created_ms', 'device_id')"),
			 3);
	store_close(db);
}

enum fault_kind { FAULT_MEM, FAULT_IO, FAULT_FULL };

static void arm(enum fault_kind k, long n)
{
	if (k == FAULT_MEM) {
		faults_arm(n, 0);
	} else {
		io_fail_code = k == FAULT_FULL ? SQLITE_FULL : SQLITE_IOERR_WRITE;
		io_writes_only = k == FAULT_FULL;
		faults_arm(0, n);
	}
}

/*
 * The fault point after n. The first 200 points are tried one by one; after
 * that the step grows with n (n / 200), so a loop over the tens of
 * thousands of allocations of a full schema creation still lands in every
 * migration step several times without trying each point (which made the
 * loops quadratic in the schema's size). HE_FAULT_STRIDE multiplies the
 * step: the arm64 build under qemu sets it.
 */
static long next_point(long n)
{
	const char *v = getenv("HE_FAULT_STRIDE");
	long stride = v ? strtol(v, NULL, 10) : 1;
	long step = n / 200 > 1 ? n / 200 : 1;

	if (stride < 1 || stride > 100) {
		stride = 1;
	}
	return n + step * stride;
}

static bool fired(enum fault_kind k)
{
	return k == FAULT_MEM ? mem_fired : io_fired;
}

/* store_init of a new database, failing at every point in turn. */
static void fault_loop_create(enum fault_kind k, bool persistent)
{
	long n;
	int ret;

	mem_persistent = persistent;
	io_persistent = persistent;
	for (n = 1; n < 100000; n = next_point(n)) {
		remove_db_files();
		quiet(true);
		arm(k, n);
		ret = store_init(dir, NULL);
		faults_off();
		quiet(false);
		if (!clean_errno(ret) || (k == FAULT_FULL && ret != 0 && ret != -ENOSPC)) {
			fail_msg("fault %d at %ld: store_init returned %d", k, n, ret);
		}
		if (!fired(k)) {
			assert_int_equal(ret, 0);
			break;
		}
		check_consistent_after_init_fault();
	}
	assert_true(n > 5);
	print_message("create: %ld fault points (kind %d, %s)\n", n - 1, k,
		      persistent ? "persistent" : "transient");
}

/* store_init of an existing database (inspection, migration check). */
static void fault_loop_reopen(enum fault_kind k, bool persistent)
{
	char epoch[40];
	struct store_status st;
	long n;
	int ret;

	mem_persistent = persistent;
	io_persistent = persistent;
	make_db_with_events(10);
	assert_int_equal(store_init(dir, &st), 0);
	snprintf(epoch, sizeof(epoch), "%s", st.db_epoch);
	for (n = 1; n < 100000; n = next_point(n)) {
		quiet(true);
		arm(k, n);
		ret = store_init(dir, &st);
		faults_off();
		quiet(false);
		if (!clean_errno(ret)) {
			fail_msg("fault %d at %ld: store_init returned %d", k, n, ret);
		}
		if (st.state == STORE_RECOVERED) {
			fail_msg("fault %d at %ld: a good database was taken for damaged", k, n);
		}
		if (!fired(k)) {
			assert_int_equal(ret, 0);
			break;
		}
		assert_int_equal(store_init(dir, &st), 0);
		assert_int_equal(st.state, STORE_OK);
		assert_string_equal(st.db_epoch, epoch); /* the same database, kept */
	}
	assert_int_equal(count_prefixed(STORE_FILE STORE_DAMAGED_TAG), 0);
	print_message("reopen: %ld fault points (kind %d)\n", n - 1, k);
}

/*
 * A transaction that appends an event, failing at every point. A reported
 * success must be durable; a reported failure may have committed or not
 * (an fsync that fails after the write cannot tell), but never half.
 */
static void fault_loop_append(enum fault_kind k, bool persistent)
{
	int64_t expect;
	sqlite3 *db0;
	long n;

	mem_persistent = persistent;
	io_persistent = persistent;
	make_db_with_events(0);
	assert_int_equal(store_open(dir, &db0), 0);
	expect = test_sql_int(db0, "SELECT count(*) FROM outbox");
	store_close(db0);
	for (n = 1; n < 100000; n = next_point(n)) {
		sqlite3 *db = NULL;
		int64_t seq = 0;
		int64_t count;
		int ret;

		quiet(true);
		arm(k, n);
		ret = store_open(dir, &db);
		if (ret == 0) {
			ret = store_begin(db);
			if (ret == 0) {
				ret = outbox_append(db, "test.fault", "{\"n\":1}", &seq);
			}
			if (ret == 0) {
				ret = store_commit(db);
			} else {
				store_rollback(db);
			}
			if (ret == 0) {
				ret = store_checkpoint(db);
			}
		}
		store_close(db);
		faults_off();
		quiet(false);
		if (!clean_errno(ret) || (k == FAULT_FULL && ret != 0 && ret != -ENOSPC)) {
			fail_msg("fault %d at %ld: returned %d", k, n, ret);
		}

		assert_int_equal(store_open(dir, &db), 0);
		assert_quick_check_ok(db);
		count = test_sql_int(db, "SELECT count(*) FROM outbox");
		if (ret == 0) {
			assert_int_equal(count, expect + 1);
		} else {
			assert_in_range(count, expect, expect + 1);
		}
		/* seqs stay 1..count with no gap and no repeat */
		assert_int_equal(test_sql_int(db, "SELECT count(DISTINCT seq) FROM outbox"), count);
		assert_int_equal(outbox_last_seq(db), count);
		assert_int_equal(test_sql_int(db, "SELECT coalesce(max(seq), 0) FROM outbox"),
				 count);
		expect = count;
		store_close(db);
		if (!fired(k)) {
			assert_int_equal(ret, 0);
			break;
		}
	}
	assert_true(n > 3);
	print_message("append: %ld fault points (kind %d)\n", n - 1, k);
}

static int64_t backup_count(const char *bak)
{
	sqlite3 *copy = raw_open(bak);
	int64_t n;

	assert_quick_check_ok(copy);
	n = test_sql_int(copy, "SELECT count(*) FROM outbox");
	sqlite3_close(copy);
	return n;
}

/* A backup failing at every point: the previous backup stays whole. */
static void fault_loop_backup(enum fault_kind k)
{
	char bak[PATH_MAX];
	char tmp[PATH_MAX + 8];
	int64_t have, want;
	sqlite3 *db;
	long n;

	mem_persistent = false;
	io_persistent = false;
	make_db_with_events(10);
	path_in(bak, "backup.db");
	snprintf(tmp, sizeof(tmp), "%s.tmp", bak);
	assert_int_equal(store_open(dir, &db), 0);
	assert_int_equal(store_backup(db, bak), 0);
	store_close(db);
	have = backup_count(bak);
	make_db_with_events(5);
	assert_int_equal(store_open(dir, &db), 0);
	want = test_sql_int(db, "SELECT count(*) FROM outbox");
	store_close(db);
	assert_int_equal(want, have + 5);
	for (n = 1; n < 100000; n = next_point(n)) {
		int ret;

		assert_int_equal(store_open(dir, &db), 0);
		quiet(true);
		arm(k, n);
		ret = store_backup(db, bak);
		faults_off();
		quiet(false);
		store_close(db);
		if (!clean_errno(ret)) {
			fail_msg("fault %d at %ld: store_backup returned %d", k, n, ret);
		}
		assert_false(test_file_exists(tmp));
		if (ret == 0) {
			have = want;
		}
		assert_int_equal(backup_count(bak), have);
		if (!fired(k)) {
			assert_int_equal(ret, 0);
			break;
		}
	}
	print_message("backup: %ld fault points (kind %d)\n", n - 1, k);
}

static void test_fault_oom(void **state)
{
	faulty_vfs_install();
	io_skip_sync = true;
	faulty_mem_install();
	fault_loop_create(FAULT_MEM, false);
	fault_loop_reopen(FAULT_MEM, false);
	fault_loop_append(FAULT_MEM, false);
	fault_loop_append(FAULT_MEM, true);
	fault_loop_backup(FAULT_MEM);
	faulty_mem_remove();
	io_skip_sync = false;
	faulty_vfs_remove();
}

static void test_fault_io(void **state)
{
	faulty_vfs_install();
	fault_loop_create(FAULT_IO, false);
	fault_loop_create(FAULT_IO, true);
	fault_loop_reopen(FAULT_IO, false);
	fault_loop_append(FAULT_IO, false);
	fault_loop_append(FAULT_IO, true);
	fault_loop_backup(FAULT_IO);
	faulty_vfs_remove();
}

static void test_fault_disk_full(void **state)
{
	struct store_status st;
	sqlite3 *db;
	int ret;

	faulty_vfs_install();
	fault_loop_create(FAULT_FULL, true);
	fault_loop_append(FAULT_FULL, true);
	fault_loop_append(FAULT_FULL, false);
	/* Full from the first write on: creation reports it as such. */
	remove_db_files();
	io_persistent = true;
	quiet(true);
	arm(FAULT_FULL, 1);
	ret = store_init(dir, &st);
	faults_off();
	quiet(false);
	assert_int_equal(ret, -ENOSPC);
	assert_int_equal(st.state, STORE_CLOSED);
	faulty_vfs_remove();
	assert_int_equal(store_init(dir, &st), 0);
	assert_int_equal(store_open(dir, &db), 0);
	store_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fresh_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_configure_rejects_bad_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_meta, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_from_v0, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_after_crash_mid_transaction, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_keeps_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failing_step_rolls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_db_refused_untouched, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_wal_db_refused_untouched, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_damaged_pages_kept_aside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_middle_kept_aside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_database_kept_aside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_with_wal_moves_wal_too, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_wal_without_database_kept_aside, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_damaged_twice_keeps_both, setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy_is_bounded_then_works, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_errors_and_commit_failure, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_statement_helpers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checkpoint_truncates_wal, setup, teardown),
		cmocka_unit_test(test_err_translation),
		cmocka_unit_test_setup_teardown(test_fault_oom, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_io, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_disk_full, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
