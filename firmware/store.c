/*
 * Storage service: the appliance's one SQLite database, DATA_DIR/hotline.db.
 *
 * Every connection gets the same settings: WAL (readers never block the
 * writer), synchronous=FULL (a commit that returned survives a power cut),
 * foreign keys, a busy timeout, a journal size limit and extended result
 * codes. SQLite's codes become negative errno here, at the boundary, and the
 * original message is logged once.
 *
 * The key decision is how store_init treats an existing file: it first looks
 * at it through a read-only connection (schema version, then PRAGMA
 * quick_check). A file written by a newer firmware is refused without a
 * single byte written to it. A file SQLite reports as damaged is renamed,
 * together with its -wal and -shm, to hotline.db.damaged-YYYYMMDD-HHMMSS
 * (never deleted, never overwritten), and a new database is started: the
 * appliance keeps serving, the technician is told where the old file is.
 * Errors that are not damage (out of memory, I/O errors, locks) are only
 * reported: a transient failure must never make a good file look damaged.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fw/fsutil.h"
#include "fw/log.h"
#include "fw/store.h"
#include "migrations.h"

#define MOD "store"

static struct store_options opts = {
	.busy_timeout_ms = 2000,
	.busy_retries = 3,
	.journal_limit_kb = 16384,
	.heap_limit_kb = 65536,
	.device_id = "",
};

void store_options_default(struct store_options *o)
{
	memset(o, 0, sizeof(*o));
	o->busy_timeout_ms = 2000;
	o->busy_retries = 3;
	o->journal_limit_kb = 16384;
	o->heap_limit_kb = 65536;
}

int store_configure(const struct store_options *o)
{
	if (o == NULL || o->busy_timeout_ms < 0 || o->busy_timeout_ms > 60000 ||
	    o->busy_retries < 0 || o->busy_retries > 20 || o->journal_limit_kb < 64 ||
	    o->journal_limit_kb > 1024 * 1024 ||
	    (o->heap_limit_kb != 0 && o->heap_limit_kb < 1024) ||
	    o->heap_limit_kb > 4 * 1024 * 1024 ||
	    memchr(o->device_id, '\0', sizeof(o->device_id)) == NULL) {
		return -EINVAL;
	}
	opts = *o;
	return 0;
}

const char *store_state_name(enum store_state s)
{
	switch (s) {
	case STORE_OK:
		return "ok";
	case STORE_RECOVERED:
		return "recovered";
	case STORE_CLOSED:
		return "closed";
	}
	return "unknown";
}

int store_schema_version(void)
{
	return store_migrations_count;
}

static bool is_damage(int rc)
{
	return (rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB;
}

static bool is_busy(int rc)
{
	return (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
}

static int io_errno(int sys)
{
	switch (sys) {
	case ENOSPC:
	case EDQUOT:
		return -ENOSPC;
	case EROFS:
		return -EROFS;
	case EACCES:
	case EPERM:
		return -EACCES;
	default:
		return -EIO;
	}
}

int store_err(sqlite3 *db, int rc, const char *what)
{
	const char *msg = sqlite3_errstr(rc);
	int sys = 0;
	int ret;

	if (rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE) {
		return 0;
	}
	if (db != NULL) {
		sys = sqlite3_system_errno(db);
		if (sqlite3_extended_errcode(db) == rc || sqlite3_errcode(db) == rc) {
			msg = sqlite3_errmsg(db);
		}
	}
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		log_warn(MOD,
			 "%s: %s (SQLite %d); another part of the appliance holds the "
			 "database, try again",
			 what, msg, rc);
		return -EBUSY;
	case SQLITE_FULL:
		log_err(MOD,
			"%s: %s (SQLite %d); the storage is full: free space in the data "
			"directory",
			what, msg, rc);
		return -ENOSPC;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		log_err(MOD,
			"%s: %s (SQLite %d); the database file is damaged: restart the "
			"appliance, it checks the file at start and keeps a damaged one aside",
			what, msg, rc);
		return -EIO;
	case SQLITE_NOMEM:
		ret = -ENOMEM;
		break;
	case SQLITE_READONLY:
		ret = -EROFS;
		break;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		ret = -EACCES;
		break;
	case SQLITE_CANTOPEN:
		ret = sys > 0 ? -sys : -EIO;
		break;
	case SQLITE_IOERR:
		ret = rc == SQLITE_IOERR_NOMEM ? -ENOMEM : io_errno(sys);
		break;
	case SQLITE_CONSTRAINT:
		ret = (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
			      ? -EEXIST
			      : -EINVAL;
		break;
	case SQLITE_TOOBIG:
		ret = -EMSGSIZE;
		break;
	case SQLITE_INTERRUPT:
		ret = -EINTR;
		break;
	case SQLITE_RANGE:
	case SQLITE_MISUSE:
		ret = -EINVAL;
		break;
	default:
		ret = -EIO;
		break;
	}
	if (sys != 0 && ((rc & 0xff) == SQLITE_IOERR || (rc & 0xff) == SQLITE_CANTOPEN)) {
		log_err(MOD, "%s: %s (SQLite %d, %s)", what, msg, rc, strerror(sys));
	} else {
		log_err(MOD, "%s: %s (SQLite %d)", what, msg, rc);
	}
	return ret;
}

/* A growing pause between retries of a busy lock: 50, 100, 200, 400 ms... */
static void busy_pause(int attempt)
{
	int ms = 50 << (attempt < 3 ? attempt : 3);

	sqlite3_sleep(ms);
}

/*
 * Run each statement of sql in turn; one that meets SQLITE_BUSY is retried
 * on its own when retry is set (re-running the whole text could repeat
 * statements that already committed). Returns the raw SQLite code.
 */
static int exec_raw(sqlite3 *db, const char *sql, bool retry)
{
	const char *tail = sql;
	int rc = SQLITE_OK;

	while (rc == SQLITE_OK && *tail != '\0') {
		sqlite3_stmt *st = NULL;
		const char *next = tail;

		for (int attempt = 0;; attempt++) {
			rc = sqlite3_prepare_v2(db, tail, -1, &st, &next);
			if (rc == SQLITE_OK || !retry || !is_busy(rc) ||
			    attempt >= opts.busy_retries) {
				break;
			}
			busy_pause(attempt);
		}
		if (rc != SQLITE_OK) {
			break;
		}
		tail = next;
		if (st == NULL) {
			continue; /* only a comment or white space was left */
		}
		for (int attempt = 0;; attempt++) {
			do {
				rc = sqlite3_step(st);
			} while (rc == SQLITE_ROW);
			if (rc == SQLITE_DONE || !retry || !is_busy(rc) ||
			    attempt >= opts.busy_retries) {
				break;
			}
			sqlite3_reset(st);
			busy_pause(attempt);
		}
		sqlite3_finalize(st);
		if (rc == SQLITE_DONE) {
			rc = SQLITE_OK;
		}
	}
	return rc;
}

int store_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
	char what[96];
	int rc;

	*st = NULL;
	if (db == NULL || sql == NULL) {
		return -EINVAL;
	}
	rc = sqlite3_prepare_v2(db, sql, -1, st, NULL);
	if (rc == SQLITE_OK) {
		return 0;
	}
	*st = NULL;
	snprintf(what, sizeof(what), "preparing \"%.64s%s\"", sql, strlen(sql) > 64 ? "..." : "");
	return store_err(db, rc, what);
}

int store_step_done(sqlite3 *db, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : store_err(db, rc, what);
}

int64_t store_col_ms(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, i);
}

void store_col_text(sqlite3_stmt *st, int i, char *buf, size_t cap)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	snprintf(buf, cap, "%s", s != NULL ? (const char *)s : "");
}

int store_exec(sqlite3 *db, const char *sql)
{
	int rc;

	if (db == NULL || sql == NULL) {
		return -EINVAL;
	}
	rc = exec_raw(db, sql, sqlite3_get_autocommit(db) != 0);
	return store_err(db, rc, "running a statement");
}

int store_begin(sqlite3 *db)
{
	if (db == NULL) {
		return -EINVAL;
	}
	if (sqlite3_get_autocommit(db) == 0) {
		log_err(MOD, "a transaction is already open on this connection");
		return -EINVAL;
	}
	return store_err(db, exec_raw(db, "BEGIN IMMEDIATE", true), "starting a transaction");
}

int store_commit(sqlite3 *db)
{
	int ret;

	if (db == NULL) {
		return -EINVAL;
	}
	ret = store_err(db, exec_raw(db, "COMMIT", true), "committing a transaction");
	if (ret < 0) {
		store_rollback(db);
	}
	return ret;
}

void store_rollback(sqlite3 *db)
{
	int rc;

	if (db == NULL || sqlite3_get_autocommit(db) != 0) {
		return;
	}
	rc = sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		store_err(db, rc, "rolling back a transaction");
	}
}

static int db_path(const char *data_dir, char *out, size_t len)
{
	int n;

	if (data_dir == NULL || data_dir[0] == '\0') {
		return -EINVAL;
	}
	n = snprintf(out, len, "%s/%s", data_dir, STORE_FILE);
	if (n < 0 || (size_t)n >= len) {
		return -ENAMETOOLONG;
	}
	return 0;
}

/* Open path; on failure *out is NULL and the error translated. */
static int conn_open(const char *path, int flags, sqlite3 **out)
{
	sqlite3 *db = NULL;
	int rc;
	int ret;

	*out = NULL;
	rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_EXRESCODE, NULL);
	if (rc != SQLITE_OK) {
		ret = db != NULL ? store_err(db, rc, "opening the database")
				 : store_err(NULL, rc, "opening the database");
		sqlite3_close(db);
		return ret;
	}
	rc = sqlite3_busy_timeout(db, opts.busy_timeout_ms);
	if (rc != SQLITE_OK) {
		ret = store_err(db, rc, "setting the busy timeout");
		sqlite3_close(db);
		return ret;
	}
	*out = db;
	return 0;
}

/* Run a PRAGMA that answers one text row; copies it to buf. Raw rc. */
static int pragma_text(sqlite3 *db, const char *sql, char *buf, size_t len)
{
	sqlite3_stmt *st = NULL;
	int rc;

	buf[0] = '\0';
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
	}
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);

		if (t != NULL) {
			snprintf(buf, len, "%s", (const char *)t);
			rc = SQLITE_OK;
		} else {
			rc = SQLITE_NOMEM;
		}
	} else if (rc == SQLITE_DONE) {
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

/* The settings every read-write connection gets. */
static int conn_setup(sqlite3 *db)
{
	char sql[96];
	char mode[16];
	int rc;

	rc = pragma_text(db, "PRAGMA journal_mode=WAL", mode, sizeof(mode));
	if (rc != SQLITE_OK) {
		return store_err(db, rc, "switching the database to WAL");
	}
	if (strcmp(mode, "wal") != 0) {
		log_err(MOD,
			"the database refused WAL mode (it is in '%s' mode); check that the "
			"data directory is on a local file system",
			mode);
		return -EIO;
	}
	snprintf(sql, sizeof(sql),
		 "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA journal_size_limit=%lld",
		 (long long)opts.journal_limit_kb * 1024);
	rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	return store_err(db, rc, "setting up the database connection");
}

int store_meta_get(sqlite3 *db, const char *key, char *buf, size_t len)
{
	sqlite3_stmt *st = NULL;
	int ret;
	int rc;

	if (db == NULL || key == NULL || buf == NULL || len == 0) {
		return -EINVAL;
	}
	buf[0] = '\0';
	rc = sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?1", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	}
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
	}
	if (rc == SQLITE_ROW) {
		const unsigned char *v = sqlite3_column_text(st, 0);
		int n = sqlite3_column_bytes(st, 0);

		if (v == NULL) {
			ret = -ENOMEM;
		} else if ((size_t)n >= len) {
			ret = -ENOBUFS;
		} else {
			memcpy(buf, v, (size_t)n + 1);
			ret = n;
		}
	} else if (rc == SQLITE_DONE) {
		ret = -ENOENT;
	} else {
		ret = store_err(db, rc, "reading meta");
	}
	sqlite3_finalize(st);
	return ret;
}

int store_meta_set(sqlite3 *db, const char *key, const char *value)
{
	sqlite3_stmt *st = NULL;
	size_t klen;
	int rc;

	if (db == NULL || key == NULL || value == NULL) {
		return -EINVAL;
	}
	klen = strnlen(key, STORE_META_KEY_MAX);
	if (klen == 0 || klen >= STORE_META_KEY_MAX ||
	    strnlen(value, STORE_META_VALUE_MAX) >= STORE_META_VALUE_MAX) {
		return -EINVAL;
	}
	rc = sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)", -1,
				&st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	}
	if (rc == SQLITE_OK) {
		rc = sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	}
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	return store_err(db, rc, "writing meta");
}

enum inspect_result {
	INSPECT_OK = 0,
	INSPECT_DAMAGED = 1,
};

/*
 * Look at an existing file: schema version, then quick_check. Returns
 * INSPECT_OK (with *version), INSPECT_DAMAGED (with a reason), or -errno for
 * a failure that says nothing about the file's health.
 */
static int inspect(sqlite3 *db, int *version, char *reason, size_t rlen)
{
	sqlite3_stmt *st = NULL;
	int io_rc = SQLITE_OK;
	int rows = 0;
	int rc;

	rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
	}
	if (rc == SQLITE_ROW) {
		*version = sqlite3_column_int(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_OK) {
		goto out_rc;
	}
	if (*version > store_migrations_count || *version < 0) {
		return INSPECT_OK; /* refused by the caller; do not even check it */
	}
	rc = sqlite3_prepare_v2(db, "PRAGMA quick_check(10)", -1, &st, NULL);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *line = (const char *)sqlite3_column_text(st, 0);

		if (line == NULL) {
			rc = SQLITE_NOMEM;
			break;
		}
		if (strcmp(line, "ok") != 0) {
			/* "Page N: unable to get the page. error code=266": the check
			 * could not read, which says nothing about the file. */
			const char *code = strstr(line, "error code=");

			if (code != NULL && !is_damage(atoi(code + strlen("error code=")))) {
				io_rc = atoi(code + strlen("error code="));
			}
			if (rows++ == 0) {
				snprintf(reason, rlen, "quick_check: %s", line);
				for (char *c = reason; *c != '\0'; c++) {
					*c = *c == '\n' ? ' ' : *c; /* one log line */
				}
			}
		}
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE && io_rc != SQLITE_OK) {
		rc = io_rc;
		log_err(MOD, "the database could not be read completely while checking it (%s)",
			reason);
	} else if (rc == SQLITE_DONE) {
		return rows > 0 ? INSPECT_DAMAGED : INSPECT_OK;
	}
out_rc:
	if ((rc & 0xff) == SQLITE_READONLY) {
		return -EROFS; /* SQLite must recover the WAL: the caller retries read-write */
	}
	if (is_damage(rc)) {
		snprintf(reason, rlen, "%s", sqlite3_errmsg(db));
		log_dbg(MOD, "inspection found damage: SQLite %d", rc);
		return INSPECT_DAMAGED;
	}
	return store_err(db, rc, "checking the database");
}

/* Inspect path read-only; fall back to read-write if SQLite needs to recover. */
static int inspect_path(const char *path, int *version, char *reason, size_t rlen)
{
	static const int modes[] = { SQLITE_OPEN_READONLY, SQLITE_OPEN_READWRITE };
	int ret = -EIO;

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		sqlite3 *db;

		ret = conn_open(path, modes[i], &db);
		if (ret < 0) {
			return ret;
		}
		/* Looking must not write: no checkpoint of a -wal when closing. */
		sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
		ret = inspect(db, version, reason, rlen);
		sqlite3_close(db);
		if (ret != -EROFS) {
			break;
		}
		log_info(MOD, "the database needs recovery; checking it read-write");
	}
	return ret;
}

/*
 * Rename path and its -wal, -shm and -journal to
 * path.damaged-YYYYMMDD-HHMMSS[-N]. The -wal must go with it: left behind,
 * SQLite could replay it into the new database. With main_missing only the
 * companions are moved (a -wal whose database is gone).
 */
static int set_aside(const char *path, bool main_missing, char *aside, size_t alen)
{
	static const char *const companions[] = { "-wal", "-shm", "-journal" };
	char stamp[32];
	char from[PATH_MAX];
	char to[PATH_MAX];
	struct tm tm;
	time_t now = time(NULL);
	int ret = -EEXIST;
	int n;

	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	for (int i = 0; i < 100 && ret == -EEXIST; i++) {
		n = i == 0 ? snprintf(aside, alen, "%s%s%s", path, STORE_DAMAGED_TAG, stamp)
			   : snprintf(aside, alen, "%s%s%s-%d", path, STORE_DAMAGED_TAG, stamp, i);
		if (n < 0 || (size_t)n + 16 >= alen || (size_t)n + 16 >= sizeof(to)) {
			return -ENAMETOOLONG;
		}
		if (!main_missing) {
			ret = fs_move_noreplace(path, aside);
			continue;
		}
		snprintf(to, sizeof(to), "%s-wal", aside);
		ret = access(aside, F_OK) == 0 || access(to, F_OK) == 0 ? -EEXIST : 0;
	}
	if (ret < 0) {
		log_err(MOD, "could not move the damaged database %s aside: %s", path,
			strerror(-ret));
		return ret;
	}
	for (size_t i = 0; i < sizeof(companions) / sizeof(companions[0]); i++) {
		snprintf(from, sizeof(from), "%s%s", path, companions[i]);
		snprintf(to, sizeof(to), "%s%s", aside, companions[i]);
		if (access(from, F_OK) != 0) {
			continue;
		}
		ret = fs_move_noreplace(from, to);
		if (ret < 0) {
			log_err(MOD,
				"could not move %s aside to %s: %s; remove nothing, move it by "
				"hand next to %s and restart",
				from, to, strerror(-ret), aside);
			return ret;
		}
	}
	return fs_fsync_dir_of(path);
}

/* Make an empty database file readable by this user only. */
static int create_private(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0) {
		return errno == EEXIST ? 0 : -errno;
	}
	close(fd);
	return fs_fsync_dir_of(path);
}

static void adopt_device_id(sqlite3 *db)
{
	char cur[STORE_META_VALUE_MAX];
	int ret;

	if (opts.device_id[0] == '\0') {
		return;
	}
	ret = store_meta_get(db, "device_id", cur, sizeof(cur));
	if (ret == -ENOENT || ret == 0) {
		store_meta_set(db, "device_id", opts.device_id);
	} else if (ret > 0 && strcmp(cur, opts.device_id) != 0) {
		log_warn(MOD,
			 "the database was made on device %s but this board is %s; keeping "
			 "%s (was the data directory moved between boards?)",
			 cur, opts.device_id, cur);
	}
}

int store_init(const char *data_dir, struct store_status *status)
{
	struct store_status local;
	struct store_status *st = status != NULL ? status : &local;
	char path[PATH_MAX];
	char wal[PATH_MAX + 8];
	char reason[256];
	sqlite3 *db = NULL;
	struct stat sb;
	int version = 0;
	int ret;
	int rc;

	memset(st, 0, sizeof(*st));
	st->state = STORE_CLOSED;
	ret = db_path(data_dir, path, sizeof(path));
	if (ret < 0) {
		return ret;
	}
	rc = sqlite3_initialize();
	if (rc != SQLITE_OK) {
		return store_err(NULL, rc, "starting SQLite");
	}
	sqlite3_hard_heap_limit64((sqlite3_int64)opts.heap_limit_kb * 1024);

	for (int attempt = 0; attempt < 2; attempt++) {
		if (stat(path, &sb) != 0) {
			if (errno != ENOENT) {
				ret = -errno;
				log_err(MOD, "cannot reach %s: %s", path, strerror(errno));
				return ret;
			}
			/* SQLite would delete a -wal left without its database:
			 * keep it aside instead, it may hold the last transactions. */
			snprintf(wal, sizeof(wal), "%s-wal", path);
			if (stat(wal, &sb) == 0 && sb.st_size > 0) {
				ret = set_aside(path, true, st->damaged_path,
						sizeof(st->damaged_path));
				if (ret < 0) {
					return ret;
				}
				strcat(st->damaged_path, "-wal");
				st->state = STORE_RECOVERED;
				log_err(MOD,
					"%s was missing but its write-ahead log was there; the log "
					"was kept as %s and a new database was started. Copy both "
					"off for the technician; do not delete them.",
					path, st->damaged_path);
			}
			break; /* a new database */
		}
		reason[0] = '\0';
		ret = inspect_path(path, &version, reason, sizeof(reason));
		if (ret < 0) {
			return ret;
		}
		if (ret == INSPECT_OK) {
			if (version > store_migrations_count || version < 0) {
				store_log_newer(version, store_migrations_count);
				return -EPROTO;
			}
			break;
		}
		if (attempt > 0) {
			log_err(MOD,
				"the new database %s is damaged too (%s): check the storage "
				"medium",
				path, reason);
			return -EIO;
		}
		ret = set_aside(path, false, st->damaged_path, sizeof(st->damaged_path));
		if (ret < 0) {
			return ret;
		}
		st->state = STORE_RECOVERED;
		log_err(MOD,
			"the database %s was damaged (%s). It was kept as %s and a new, empty "
			"database was started: events not yet sent to the city are in the kept "
			"file. Do not delete it: copy it off for the technician, who can recover "
			"it with 'sqlite3 FILE .recover', or restore a backup.",
			path, reason, st->damaged_path);
		version = 0;
	}

	ret = create_private(path);
	if (ret < 0) {
		log_err(MOD, "cannot create %s: %s", path, strerror(-ret));
		return ret;
	}
	ret = conn_open(path, SQLITE_OPEN_READWRITE, &db);
	if (ret < 0) {
		return ret;
	}
	ret = conn_setup(db);
	if (ret == 0) {
		ret = store_migrate(db, store_migrations, store_migrations_count, &version);
	}
	if (ret == 0) {
		adopt_device_id(db);
		if (store_meta_get(db, "db_epoch", st->db_epoch, sizeof(st->db_epoch)) < 0) {
			st->db_epoch[0] = '\0';
		}
		st->schema_version = version;
		if (st->state == STORE_CLOSED) {
			st->state = STORE_OK;
		}
		log_info(MOD, "database %s ready (schema %d, epoch %s)", path, version,
			 st->db_epoch);
	}
	rc = sqlite3_close(db);
	if (rc != SQLITE_OK && ret == 0) {
		ret = store_err(NULL, rc, "closing the database");
	}
	if (ret < 0 && st->state == STORE_OK) {
		st->state = STORE_CLOSED;
	}
	return ret;
}

int store_open(const char *data_dir, sqlite3 **out)
{
	char path[PATH_MAX];
	sqlite3 *db = NULL;
	int version = 0;
	int ret;

	if (out == NULL) {
		return -EINVAL;
	}
	*out = NULL;
	ret = db_path(data_dir, path, sizeof(path));
	if (ret < 0) {
		return ret;
	}
	ret = conn_open(path, SQLITE_OPEN_READWRITE, &db);
	if (ret < 0) {
		return ret;
	}
	/* The version first: a file this firmware does not own is not changed. */
	ret = store_user_version(db, &version);
	if (ret == 0 && version != store_migrations_count) {
		log_err(MOD,
			"the database has schema %d, this firmware uses %d: store_init must "
			"run first",
			version, store_migrations_count);
		sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
		ret = -EPROTO;
	}
	if (ret == 0) {
		ret = conn_setup(db);
	}
	if (ret < 0) {
		sqlite3_close(db);
		return ret;
	}
	*out = db;
	return 0;
}

void store_close(sqlite3 *db)
{
	int rc;

	if (db == NULL) {
		return;
	}
	rc = sqlite3_close(db);
	if (rc != SQLITE_OK) {
		store_err(db, rc, "closing the database (statements left open)");
		sqlite3_close_v2(db);
	}
}

int store_checkpoint(sqlite3 *db)
{
	int nlog = 0;
	int nckpt = 0;
	int rc;

	if (db == NULL) {
		return -EINVAL;
	}
	rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &nlog, &nckpt);
	if (is_busy(rc)) {
		log_dbg(MOD, "checkpoint: the database is in use (%d of %d frames copied)", nckpt,
			nlog);
		return -EBUSY;
	}
	return store_err(db, rc, "checkpointing the WAL");
}

static int fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0) {
		return -errno;
	}
	if (fsync(fd) != 0) {
		ret = -errno;
	}
	close(fd);
	return ret;
}

int store_backup(sqlite3 *db, const char *path)
{
	char tmp[PATH_MAX];
	sqlite3 *dest = NULL;
	sqlite3_backup *b;
	int ret;
	int rc;
	int n;

	if (db == NULL || path == NULL || path[0] == '\0') {
		return -EINVAL;
	}
	n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		return -ENAMETOOLONG;
	}
	if (unlink(tmp) != 0 && errno != ENOENT) {
		ret = -errno;
		log_err(MOD, "backup: cannot remove the stale %s: %s", tmp, strerror(errno));
		return ret;
	}
	ret = conn_open(tmp, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &dest);
	if (ret < 0) {
		goto out_fail;
	}
	b = sqlite3_backup_init(dest, "main", db, "main");
	if (b == NULL) {
		ret = store_err(dest, sqlite3_extended_errcode(dest), "starting a backup");
		goto out_dest;
	}
	for (int attempt = 0;; attempt++) {
		rc = sqlite3_backup_step(b, -1);
		if (!is_busy(rc) || attempt >= opts.busy_retries) {
			break;
		}
		busy_pause(attempt);
	}
	if (rc == SQLITE_DONE) {
		rc = sqlite3_backup_finish(b);
	} else {
		sqlite3_backup_finish(b);
	}
	ret = store_err(dest, rc, "backing up the database");
out_dest:
	rc = sqlite3_close(dest);
	if (rc != SQLITE_OK && ret == 0) {
		ret = store_err(NULL, rc, "closing the backup");
	}
	if (ret == 0) {
		ret = fsync_path(tmp);
	}
	if (ret == 0 && rename(tmp, path) != 0) {
		ret = -errno;
	}
	if (ret == 0) {
		ret = fs_fsync_dir_of(path);
		if (ret == 0) {
			log_info(MOD, "backup written to %s", path);
		}
		return ret;
	}
out_fail:
	log_err(MOD, "backup to %s failed (%s); the previous backup, if any, is unchanged", path,
		strerror(-ret));
	unlink(tmp);
	if ((size_t)n + sizeof("-journal") <= sizeof(tmp)) {
		strcat(tmp, "-journal");
		unlink(tmp);
	}
	return ret;
}
