/*
 * Storage service: the appliance's SQLite database. WAL, foreign keys,
 * synchronous=FULL (what was acknowledged survives a power cut), a busy
 * timeout, forward-only migrations each in one transaction, a quick check at
 * start that keeps a damaged file aside, and backups through the backup API.
 *
 * Each thread that touches the database opens its own connection with
 * store_open(); the first open in a process (store_init) runs the migrations.
 */
#ifndef FW_STORE_H
#define FW_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#define STORE_FILE "hotline.db"

enum store_state {
	STORE_OK = 0,
	STORE_RECOVERED, /* a damaged file was kept aside; running on a new one */
	STORE_CLOSED,
};

struct store_status {
	enum store_state state;
	int schema_version;
	char damaged_path[4096]; /* where a damaged file was kept, if any */
};

/*
 * Open (creating if needed) DATA_DIR/hotline.db, check it, migrate it.
 * @retval 0 ready
 * @retval -EPROTO the database was written by a newer firmware (refused)
 * @retval -EIO / -ENOSPC / -EACCES the file could not be opened or written
 */
int store_init(const char *data_dir, struct store_status *status);

/* Open another connection to the initialised database (one per thread). */
int store_open(const char *data_dir, sqlite3 **db);
void store_close(sqlite3 *db);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK with SQLITE_BUSY retried. */
int store_begin(sqlite3 *db);
int store_commit(sqlite3 *db);
void store_rollback(sqlite3 *db);

/* Run one or more statements without results. @retval 0, -EIO, -ENOSPC */
int store_exec(sqlite3 *db, const char *sql);

/* Copy the live database to PATH through the backup API. */
int store_backup(sqlite3 *db, const char *path);

/* TRUNCATE checkpoint; call when idle. */
int store_checkpoint(sqlite3 *db);

/* Translate an SQLite result code to a negative errno (logs the original). */
int store_err(sqlite3 *db, int rc, const char *what);

const char *store_state_name(enum store_state s);

/* The schema version this firmware writes. */
int store_schema_version(void);

#endif /* FW_STORE_H */
