/*
 * Schema migrations of the storage service (private to store.c and its
 * tests). A step brings the database from version - 1 to version; the list
 * is forward-only and never edited once released: a change is a new step.
 */
#ifndef FW_MIGRATIONS_H
#define FW_MIGRATIONS_H

#include <sqlite3.h>

struct store_migration {
	int version;		/* PRAGMA user_version after this step */
	const char *what;	/* one line for the log */
	const char *sql;	/* statements run first; may be NULL */
	int (*fn)(sqlite3 *db); /* then this; may be NULL; returns 0 or -errno */
};

/* The steps this firmware knows, versions 1..store_migrations_count. */
extern const struct store_migration store_migrations[];
extern const int store_migrations_count;

/* Log why a database newer than known is refused and what to do. */
void store_log_newer(int found, int known);

/*
 * Read PRAGMA user_version.
 * @retval 0 *version set
 * @retval <0 store_err() of the failure (-EIO for a damaged file, ...)
 */
int store_user_version(sqlite3 *db, int *version);

/*
 * Apply every step of steps[0..n) whose version is above the database's,
 * each in its own BEGIN IMMEDIATE transaction together with the user_version
 * bump, re-reading the version inside the transaction. A failing step is
 * rolled back whole and stops the migration.
 * @param version_out if not NULL, the version the database is at on return
 * @retval 0 at steps[n-1].version
 * @retval -EPROTO the database is newer than steps[n-1].version (untouched)
 * @retval -EINVAL steps are not numbered 1, 2, ... n
 * @retval <0 the failing step's error (-EIO, -ENOSPC, -EBUSY, -ENOMEM ...)
 */
int store_migrate(sqlite3 *db, const struct store_migration *steps, int n, int *version_out);

#endif /* FW_MIGRATIONS_H */
