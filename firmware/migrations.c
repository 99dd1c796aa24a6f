/*
 * Schema migrations: an array of forward-only steps, step N taking the
 * database from PRAGMA user_version N-1 to N. Each step runs in its own
 * BEGIN IMMEDIATE transaction together with its user_version bump, so a
 * power cut or a failing statement leaves the database at the previous
 * version with nothing of the step applied. The version is read again
 * inside the transaction, so two processes starting at once cannot apply a
 * step twice. Released steps are never edited; a change is a new step.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fw/log.h"
#include "fw/rng.h"
#include "fw/store.h"
#include "migrations.h"

/* Version 1: meta (device id, creation time, db_epoch) and the outbox. */
static const char schema_v1[] =
	"CREATE TABLE meta ("
	" key TEXT PRIMARY KEY NOT NULL CHECK (length(key) BETWEEN 1 AND 63),"
	" value TEXT NOT NULL CHECK (length(value) < 256)"
	") WITHOUT ROWID;"
	/* AUTOINCREMENT: a seq is never handed out twice, even after the rows
	 * with the highest seqs were acknowledged and deleted. */
	"CREATE TABLE outbox ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" event_id TEXT NOT NULL UNIQUE CHECK (length(event_id) = 36),"
	" type TEXT NOT NULL CHECK (length(type) BETWEEN 1 AND 63),"
	" payload TEXT NOT NULL,"
	" created_ms INTEGER NOT NULL,"
	" acked_ms INTEGER"
	");"
	"CREATE INDEX outbox_unacked ON outbox (seq) WHERE acked_ms IS NULL;";

static int schema_v1_meta(sqlite3 *db)
{
	char epoch[RNG_UUID_LEN + 1];
	char created[24];
	struct timespec ts;
	int ret;

	ret = rng_uuid(epoch);
	if (ret < 0) {
		return ret;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(created, sizeof(created), "%" PRId64,
		 (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
	/* db_epoch tells the city this is a new database (after a damaged one
	 * was set aside, seq starts again at 1). */
	ret = store_meta_set(db, "db_epoch", epoch);
	if (ret == 0) {
		ret = store_meta_set(db, "created_ms", created);
	}
	if (ret == 0) {
		ret = store_meta_set(db, "created_by", "hotline-edge " HE_VERSION);
	}
	if (ret == 0) {
		ret = store_meta_set(db, "device_id", "");
	}
	return ret;
}

const struct store_migration store_migrations[] = {
	{ 1, "meta and outbox", schema_v1, schema_v1_meta },
};
const int store_migrations_count = sizeof(store_migrations) / sizeof(store_migrations[0]);

void store_log_newer(int found, int known)
{
	log_err("store",
		"the database was written by a newer firmware (schema %d, this firmware knows "
		"up to %d); install that firmware again or restore a backup. The file was "
		"left untouched.",
		found, known);
}

int store_user_version(sqlite3 *db, int *version)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
	}
	if (rc == SQLITE_ROW) {
		*version = sqlite3_column_int(st, 0);
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_OK) {
		rc = store_err(db, rc, "reading the schema version");
	}
	sqlite3_finalize(st);
	return rc;
}

static int apply_step(sqlite3 *db, const struct store_migration *s, int *version)
{
	char bump[48];
	int cur = 0;
	int ret;

	ret = store_begin(db);
	if (ret < 0) {
		return ret;
	}
	ret = store_user_version(db, &cur);
	if (ret < 0) {
		goto out_rollback;
	}
	if (cur >= s->version) {
		/* Another connection applied it meanwhile. */
		store_rollback(db);
		*version = cur;
		return 0;
	}
	if (s->sql != NULL) {
		ret = store_exec(db, s->sql);
		if (ret < 0) {
			goto out_rollback;
		}
	}
	if (s->fn != NULL) {
		ret = s->fn(db);
		if (ret < 0) {
			goto out_rollback;
		}
	}
	snprintf(bump, sizeof(bump), "PRAGMA user_version = %d", s->version);
	ret = store_exec(db, bump);
	if (ret < 0) {
		goto out_rollback;
	}
	ret = store_commit(db);
	if (ret < 0) {
		return ret;
	}
	*version = s->version;
	log_info("store", "schema migrated to version %d (%s)", s->version, s->what);
	return 0;

out_rollback:
	store_rollback(db);
	return ret;
}

int store_migrate(sqlite3 *db, const struct store_migration *steps, int n, int *version_out)
{
	int version = 0;
	int ret;

	for (int i = 0; i < n; i++) {
		if (steps[i].version != i + 1) {
			log_err("store", "migration list is broken: step %d has version %d", i,
				steps[i].version);
			return -EINVAL;
		}
	}
	ret = store_user_version(db, &version);
	while (ret == 0 && version < n) {
		const struct store_migration *s = &steps[version];

		ret = apply_step(db, s, &version);
		if (ret < 0) {
			log_err("store",
				"schema migration to version %d (%s) failed (%s); nothing of it "
				"was "
				"applied, the database stays at version %d",
				s->version, s->what, strerror(-ret), version);
		}
	}
	if (ret == 0 && version > n) {
		store_log_newer(version, n);
		ret = -EPROTO;
	}
	if (version_out != NULL) {
		*version_out = version;
	}
	return ret;
}
