/*
 * citysim's store: one SQLite file in the --data directory, shared by the
 * server and the CLI (another process; SQLite's locks arbitrate, WAL lets
 * readers go on while one writes). synchronous=FULL, and the server
 * answers an upload only after its transaction committed, so whatever the
 * city acknowledged survives a power cut or a SIGKILL.
 *
 * Tables: devices (first and last request), events (stored once per
 * device, db_epoch and seq), rejected (events refused, with the reason
 * the device was given), progress (per device and epoch: the highest
 * contiguous seq stored, rejected or covered), covered (seqs a device's
 * stats.summary event stands for: counted as stored), items (what the city sends down;
 * cursor is the row id; device '*' means every device).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "citysim.h"

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS devices("
	" device TEXT PRIMARY KEY, first_seen_ms INTEGER NOT NULL,"
	" last_seen_ms INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS events("
	" device TEXT NOT NULL, db_epoch TEXT NOT NULL, seq INTEGER NOT NULL,"
	" event_id TEXT NOT NULL, type TEXT NOT NULL, at_ms INTEGER NOT NULL,"
	" payload TEXT NOT NULL, received_ms INTEGER NOT NULL,"
	" PRIMARY KEY (device, db_epoch, seq));"
	"CREATE INDEX IF NOT EXISTS events_received ON events(device, received_ms);"
	"CREATE TABLE IF NOT EXISTS rejected("
	" device TEXT NOT NULL, db_epoch TEXT NOT NULL, seq INTEGER NOT NULL,"
	" event_id TEXT, type TEXT, code TEXT NOT NULL, message TEXT NOT NULL,"
	" message_zh TEXT NOT NULL, received_ms INTEGER NOT NULL,"
	" PRIMARY KEY (device, db_epoch, seq));"
	"CREATE TABLE IF NOT EXISTS covered("
	" device TEXT NOT NULL, db_epoch TEXT NOT NULL, seq INTEGER NOT NULL,"
	" by_seq INTEGER NOT NULL, PRIMARY KEY (device, db_epoch, seq));"
	"CREATE TABLE IF NOT EXISTS progress("
	" device TEXT NOT NULL, db_epoch TEXT NOT NULL, acked_upto INTEGER NOT NULL,"
	" updated_ms INTEGER NOT NULL, PRIMARY KEY (device, db_epoch));"
	"CREATE TABLE IF NOT EXISTS items("
	" cursor INTEGER PRIMARY KEY, item_id TEXT NOT NULL UNIQUE, device TEXT NOT NULL,"
	" type TEXT NOT NULL, json TEXT NOT NULL, created_ms INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS items_device ON items(device, cursor);";

int64_t cs_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool cs_code_ok(const char *s, size_t max)
{
	size_t n = 0;

	if (s == NULL) {
		return false;
	}
	for (; s[n] != '\0'; n++) {
		char c = s[n];

		if (n >= max || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
				  (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-')) {
			return false;
		}
	}
	return n > 0;
}

static int exec(struct cs_store *s, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK) {
		fprintf(stderr, "citysim: store: %s: %s\n", sql, msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? -EBUSY : -EIO;
	}
	return 0;
}

int cs_store_open(const char *dir, struct cs_store *s)
{
	char path[PATH_MAX];
	int rc;

	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	if (dir == NULL) {
		snprintf(path, sizeof(path), ":memory:");
	} else {
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			fprintf(stderr, "citysim: cannot make the data directory %s: %s\n", dir,
				strerror(errno));
			return -EIO;
		}
		if (snprintf(path, sizeof(path), "%s/citysim.db", dir) >= (int)sizeof(path)) {
			fprintf(stderr, "citysim: the data directory's path is too long\n");
			return -EIO;
		}
	}
	rc = sqlite3_open_v2(path, &s->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
			     NULL);
	if (rc != SQLITE_OK) {
		fprintf(stderr, "citysim: cannot open the store %s: %s\n", path,
			s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		sqlite3_close(s->db);
		s->db = NULL;
		return -EIO;
	}
	sqlite3_busy_timeout(s->db, 10000);
	if ((dir != NULL && exec(s, "PRAGMA journal_mode=WAL;") != 0) ||
	    exec(s, "PRAGMA synchronous=FULL;") != 0 || exec(s, schema) != 0) {
		cs_store_close(s);
		return -EIO;
	}
	return 0;
}

void cs_store_close(struct cs_store *s)
{
	if (s->db != NULL) {
		sqlite3_close(s->db);
		s->db = NULL;
	}
	pthread_mutex_destroy(&s->lock);
}

int cs_store_begin(struct cs_store *s)
{
	return exec(s, "BEGIN IMMEDIATE;");
}

int cs_store_commit(struct cs_store *s)
{
	int ret = exec(s, "COMMIT;");

	if (ret != 0) {
		cs_store_rollback(s);
	}
	return ret;
}

void cs_store_rollback(struct cs_store *s)
{
	if (!sqlite3_get_autocommit(s->db)) {
		sqlite3_exec(s->db, "ROLLBACK;", NULL, NULL, NULL);
	}
}

int cs_store_seen(struct cs_store *s, const char *device, int64_t now_ms)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(s->db,
				"INSERT INTO devices(device, first_seen_ms, last_seen_ms) "
				"VALUES (?1, ?2, ?2) ON CONFLICT(device) DO UPDATE SET "
				"last_seen_ms = excluded.last_seen_ms",
				-1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, now_ms);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}
