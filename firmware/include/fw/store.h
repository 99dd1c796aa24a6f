/*
 * Storage service: the appliance's SQLite database. WAL, foreign keys,
 * synchronous=FULL (what was acknowledged survives a power cut), a busy
 * timeout, forward-only migrations each in one transaction, a quick check at
 * start that keeps a damaged file aside, and backups through the backup API.
 *
 * Each thread that touches the database opens its own connection with
 * store_open(); the first open in a process (store_init) runs the migrations.
 * docs/storage.md describes the schema, the recovery of a damaged file and
 * what a technician does about it.
 */
#ifndef FW_STORE_H
#define FW_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#define STORE_FILE "hotline.db"
/* A damaged file is renamed to STORE_FILE STORE_DAMAGED_TAG "YYYYMMDD-HHMMSS". */
#define STORE_DAMAGED_TAG    ".damaged-"
#define STORE_META_KEY_MAX   64
#define STORE_META_VALUE_MAX 256

enum store_state {
	STORE_OK = 0,
	STORE_RECOVERED, /* a damaged file was kept aside; running on a new one */
	STORE_CLOSED,
};

struct store_status {
	enum store_state state;
	int schema_version;
	char damaged_path[4096]; /* where a damaged file was kept, if any */
	char db_epoch[40];	 /* random id of this database file (meta db_epoch) */
};

/* Tunables; the [storage] section of the configuration file sets them. */
struct store_options {
	int busy_timeout_ms;  /* SQLite's own wait for a lock, per statement */
	int busy_retries;     /* further tries after that, with a growing pause */
	int journal_limit_kb; /* PRAGMA journal_size_limit (WAL kept after a checkpoint) */
	int heap_limit_kb;    /* sqlite3_hard_heap_limit64 for the process; 0: none */
	char device_id[64];   /* board serial written to meta at creation; may be "" */
};

/* Defaults: 2000 ms, 3 retries, 16384 KiB journal, 65536 KiB heap, no id
 * (the defaults of the [storage] keys in docs/configuration.md). */
void store_options_default(struct store_options *o);

/*
 * Use these options for the connections opened from now on (call before
 * store_init). @retval 0, -EINVAL a value out of range (see docs/storage.md)
 */
int store_configure(const struct store_options *o);

/*
 * Open (creating if needed) DATA_DIR/hotline.db, check it, migrate it, then
 * close it again (threads then use store_open).
 *
 * A file SQLite reports as damaged (not a database, corrupt, or a failed
 * quick_check) is renamed with its -wal/-shm beside it, never deleted or
 * overwritten; an error is logged saying where it is and what to do; a new
 * database is started and status->state is STORE_RECOVERED.
 * A file whose schema is newer than this firmware knows is left untouched.
 *
 * @param status if not NULL, filled in on every return
 * @retval 0 ready
 * @retval -EPROTO the database was written by a newer firmware (refused)
 * @retval -EIO / -ENOSPC / -EACCES / -ENOENT / -ENOMEM the file could not
 *         be opened, checked or written
 */
int store_init(const char *data_dir, struct store_status *status);

/*
 * Open another connection to the initialised database (one per thread),
 * with the same PRAGMAs. Does not create the file.
 * @retval 0 *db is open
 * @retval -ENOENT store_init has not created the database
 * @retval -EPROTO the database's schema is not the one store_init made
 * @retval -EIO / -EACCES / -ENOMEM
 */
int store_open(const char *data_dir, sqlite3 **db);

/* Close a connection from store_open (NULL is ignored). */
void store_close(sqlite3 *db);

/*
 * BEGIN IMMEDIATE (the write lock is taken now, so the transaction cannot
 * fail later for a lock another connection holds). SQLITE_BUSY beyond the
 * busy timeout is retried busy_retries times with a growing pause.
 * @retval 0 in a transaction
 * @retval -EBUSY another connection kept the write lock
 * @retval -EINVAL a transaction is already open on db
 */
int store_begin(sqlite3 *db);

/*
 * COMMIT (SQLITE_BUSY retried as in store_begin). On failure the
 * transaction is rolled back, so the caller never holds a half state.
 * @retval 0, -EBUSY, -EIO, -ENOSPC
 */
int store_commit(sqlite3 *db);

/* ROLLBACK if a transaction is open; otherwise nothing. */
void store_rollback(sqlite3 *db);

/*
 * Run one or more statements without results. Outside a transaction
 * SQLITE_BUSY is retried as in store_begin.
 * @retval 0, -EBUSY, -EIO, -ENOSPC, -EINVAL (bad SQL), -EEXIST (unique)
 */
int store_exec(sqlite3 *db, const char *sql);

/*
 * Copy the live database to PATH through the backup API: written to
 * PATH.tmp, fsynced, renamed over PATH, directory fsynced. An existing PATH
 * is replaced only by a complete copy.
 * @retval 0, -ENAMETOOLONG, -EBUSY, -EIO, -ENOSPC, -EACCES
 */
int store_backup(sqlite3 *db, const char *path);

/*
 * TRUNCATE checkpoint (PRAGMA wal_checkpoint(TRUNCATE)); call when idle.
 * @retval 0 the WAL was copied into the database and truncated
 * @retval -EBUSY a reader or writer prevented a complete checkpoint
 */
int store_checkpoint(sqlite3 *db);

/*
 * Translate an SQLite result code to a negative errno, logging the original
 * code and message with what (once, here at the boundary):
 * SQLITE_FULL -ENOSPC, SQLITE_BUSY/LOCKED -EBUSY, SQLITE_CORRUPT/NOTADB -EIO
 * (logged as damage), SQLITE_NOMEM -ENOMEM, SQLITE_READONLY -EROFS,
 * SQLITE_PERM/AUTH -EACCES, SQLITE_CANTOPEN the system errno (or -EIO),
 * SQLITE_CONSTRAINT_UNIQUE/PRIMARYKEY -EEXIST, other constraints -EINVAL,
 * SQLITE_TOOBIG -EMSGSIZE, SQLITE_INTERRUPT -EINTR, anything else -EIO.
 * @param db may be NULL (no message then)
 * @retval 0 for SQLITE_OK, SQLITE_ROW and SQLITE_DONE
 */
int store_err(sqlite3 *db, int rc, const char *what);

/*
 * Prepare one statement (sqlite3_prepare_v2). A failure is translated and
 * logged once by store_err() with the start of the SQL, so callers only
 * pass the errno on.
 * @retval 0 *st is ready (finalize it); else *st is NULL and a store_err() errno
 * @retval -EINVAL db or sql is NULL
 */
int store_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st);

/*
 * Step a statement once (SQLITE_DONE or SQLITE_ROW both count as done) and
 * finalize it, whatever the result: for INSERT/UPDATE/DELETE.
 * @retval 0 or the store_err() errno (logged with what)
 */
int store_step_done(sqlite3 *db, sqlite3_stmt *st, const char *what);

/* Column i as an integer, 0 when it is NULL (times in ms, counts). */
int64_t store_col_ms(sqlite3_stmt *st, int i);

/* Column i as text copied into buf (always NUL-terminated, cut at cap - 1
 * bytes); "" when it is NULL. cap must be > 0. */
void store_col_text(sqlite3_stmt *st, int i, char *buf, size_t cap);

/*
 * Read a meta value (e.g. "db_epoch", "device_id", "created_ms").
 * @retval >=0 length of the value copied to buf (NUL-terminated)
 * @retval -ENOENT no such key
 * @retval -ENOBUFS buf too small
 */
int store_meta_get(sqlite3 *db, const char *key, char *buf, size_t len);

/*
 * Insert or replace a meta value (key at most STORE_META_KEY_MAX - 1 bytes,
 * value at most STORE_META_VALUE_MAX - 1).
 * @retval 0, -EINVAL, -EBUSY, -EIO, -ENOSPC
 */
int store_meta_set(sqlite3 *db, const char *key, const char *value);

const char *store_state_name(enum store_state s);

/* The schema version this firmware writes. */
int store_schema_version(void);

#endif /* FW_STORE_H */
