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

/*
 * Version 2: the audit log, a SHA-256 hash chain (firmware/audit.c).
 * hash = SHA-256(prev || canonical encoding of this row's fields), where prev
 * is the previous row's hash (for the first row, a genesis hash derived from
 * meta db_epoch). prev is kept in the row so a broken link can be told apart
 * from an edited row. The triggers make the table append-only for the
 * application; they stop mistakes, not someone who can edit the file (the
 * chain and the city's copy of its head catch that).
 */
static const char schema_v2[] = "CREATE TABLE audit ("
				" id INTEGER PRIMARY KEY AUTOINCREMENT,"
				" wall_ms INTEGER NOT NULL,"
				" mono_ms INTEGER NOT NULL,"
				" actor TEXT NOT NULL,"
				" role TEXT NOT NULL,"
				" action TEXT NOT NULL,"
				" target TEXT NOT NULL,"
				" outcome TEXT NOT NULL,"
				" detail TEXT,"
				" prev BLOB NOT NULL CHECK (length(prev) = 32),"
				" hash BLOB NOT NULL CHECK (length(hash) = 32)"
				");"
				"CREATE INDEX audit_by_time ON audit (wall_ms);"
				"CREATE INDEX audit_by_actor ON audit (actor, wall_ms);"
				"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
				" BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
				"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
				" BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;";

/*
 * Version 3: staff accounts (apps/auth). The PIN is stored as
 * PBKDF2-HMAC-SHA256 with a per-user salt; failed attempts and the lock
 * survive restarts; `generation` changes whenever the PIN, role or enabled
 * state changes, which invalidates the user's sessions.
 */
static const char schema_v3[] =
	"CREATE TABLE users ("
	" id TEXT PRIMARY KEY NOT NULL CHECK (length(id) BETWEEN 1 AND 32),"
	" name TEXT NOT NULL DEFAULT '' CHECK (length(name) <= 64),"
	" role TEXT NOT NULL CHECK (role IN ('staff', 'supervisor', 'technician')),"
	" salt BLOB NOT NULL CHECK (length(salt) = 16),"
	" iterations INTEGER NOT NULL CHECK (iterations > 0),"
	" pin_hash BLOB NOT NULL CHECK (length(pin_hash) = 32),"
	" disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),"
	" failed_count INTEGER NOT NULL DEFAULT 0,"
	" locked_until_ms INTEGER NOT NULL DEFAULT 0,"
	" generation INTEGER NOT NULL DEFAULT 1,"
	" created_ms INTEGER NOT NULL,"
	" pin_changed_ms INTEGER NOT NULL"
	") WITHOUT ROWID;";

/*
 * Version 4: citizens' personal data (firmware/pii.c), all of it in one
 * table so nothing else ever holds it. Every personal field is an
 * AES-256-GCM blob authenticated with its row id and field name; the
 * times drive retention (erased a set time after the city acknowledged a
 * closed matter).
 */
static const char schema_v4[] =
	"CREATE TABLE citizen_contact ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" name BLOB,"
	" phone BLOB,"
	" id_number BLOB,"
	" address BLOB,"
	" contact BLOB,"
	" hide_identity INTEGER NOT NULL DEFAULT 0 CHECK (hide_identity IN (0, 1)),"
	" created_ms INTEGER NOT NULL,"
	" closed_ms INTEGER,"
	" city_acked_ms INTEGER,"
	" erased_ms INTEGER"
	");"
	"CREATE INDEX citizen_contact_retention ON citizen_contact (city_acked_ms)"
	" WHERE erased_ms IS NULL AND closed_ms IS NOT NULL;"
	/* The data key, AES-256-GCM-wrapped under DATA_DIR/keys/storage.key:
	 * version || nonce || wrapped 32-byte key || tag. */
	"CREATE TABLE pii_key ("
	" id INTEGER PRIMARY KEY CHECK (id = 1),"
	" wrapped BLOB NOT NULL CHECK (length(wrapped) = 61),"
	" created_ms INTEGER NOT NULL"
	");";

/*
 * Version 5: the walk-in ticket queue (apps/queue, docs/queue.md).
 * Services and windows are retired (active = 0), never deleted, because
 * tickets refer to them. A ticket's number is derived from a per-day,
 * per-service sequence that only grows (queue_counters): seq is unique per
 * (day, service), so a crash can never hand out the same allocation twice;
 * the visible number wraps within the service's range. issued_ms is the
 * original issue time (kept through a transfer); front puts a transferred
 * or resumed ticket ahead of the others where it waits again.
 */
static const char schema_v5[] =
	"CREATE TABLE queue_settings ("
	" id INTEGER PRIMARY KEY CHECK (id = 1),"
	" recall_max INTEGER NOT NULL,"
	" priority_run INTEGER NOT NULL,"
	" rollover_min INTEGER NOT NULL,"
	" keep_overnight INTEGER NOT NULL CHECK (keep_overnight IN (0, 1)),"
	" paused INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),"
	" hours TEXT NOT NULL,"
	" day TEXT NOT NULL"
	");"
	"CREATE TABLE queue_services ("
	" id INTEGER PRIMARY KEY,"
	" name_zh TEXT NOT NULL CHECK (length(name_zh) BETWEEN 1 AND 63),"
	" name_en TEXT NOT NULL CHECK (length(name_en) BETWEEN 1 AND 63),"
	" prefix TEXT NOT NULL CHECK (length(prefix) = 1 AND prefix GLOB '[A-Z]'),"
	" num_min INTEGER NOT NULL CHECK (num_min BETWEEN 1 AND 999),"
	" num_max INTEGER NOT NULL CHECK (num_max BETWEEN num_min AND 999),"
	" priority_lane INTEGER NOT NULL DEFAULT 0 CHECK (priority_lane IN (0, 1)),"
	" documents_zh TEXT NOT NULL DEFAULT '[]',"
	" documents_en TEXT NOT NULL DEFAULT '[]',"
	" position INTEGER NOT NULL DEFAULT 0,"
	" active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1))"
	");"
	"CREATE UNIQUE INDEX queue_services_prefix ON queue_services (prefix) WHERE active = 1;"
	"CREATE TABLE queue_windows ("
	" no INTEGER PRIMARY KEY CHECK (no BETWEEN 1 AND 99),"
	" name_zh TEXT NOT NULL CHECK (length(name_zh) BETWEEN 1 AND 31),"
	" name_en TEXT NOT NULL CHECK (length(name_en) BETWEEN 1 AND 31),"
	" state TEXT NOT NULL DEFAULT 'closed' CHECK (state IN ('open', 'paused', 'closed')),"
	" priority_run INTEGER NOT NULL DEFAULT 0,"
	" active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1))"
	");"
	"CREATE TABLE queue_window_services ("
	" window_no INTEGER NOT NULL REFERENCES queue_windows (no),"
	" service_id INTEGER NOT NULL REFERENCES queue_services (id),"
	" rank INTEGER NOT NULL,"
	" PRIMARY KEY (window_no, service_id)"
	") WITHOUT ROWID;"
	"CREATE TABLE queue_counters ("
	" day TEXT NOT NULL,"
	" service_id INTEGER NOT NULL REFERENCES queue_services (id),"
	" seq INTEGER NOT NULL,"
	" PRIMARY KEY (day, service_id)"
	") WITHOUT ROWID;"
	"CREATE TABLE queue_tickets ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" day TEXT NOT NULL CHECK (length(day) = 10),"
	" issue_day TEXT NOT NULL CHECK (length(issue_day) = 10),"
	" service_id INTEGER NOT NULL REFERENCES queue_services (id),"
	" issue_service_id INTEGER NOT NULL REFERENCES queue_services (id),"
	" seq INTEGER NOT NULL,"
	" number INTEGER NOT NULL CHECK (number BETWEEN 1 AND 999),"
	" prefix TEXT NOT NULL,"
	" priority INTEGER NOT NULL DEFAULT 0 CHECK (priority IN (0, 1)),"
	" printed INTEGER NOT NULL DEFAULT 1 CHECK (printed IN (0, 1)),"
	" state TEXT NOT NULL CHECK (state IN ('printing', 'waiting', 'called', 'serving',"
	"  'done', 'no_show', 'held', 'void', 'expired')),"
	" front INTEGER NOT NULL DEFAULT 0,"
	" issued_ms INTEGER NOT NULL,"
	" first_called_ms INTEGER,"
	" called_ms INTEGER,"
	" started_ms INTEGER,"
	" finished_ms INTEGER,"
	" window_no INTEGER,"
	" target_window INTEGER,"
	" recall_count INTEGER NOT NULL DEFAULT 0,"
	" note TEXT NOT NULL DEFAULT '',"
	" lookup_code TEXT NOT NULL UNIQUE"
	");"
	"CREATE UNIQUE INDEX queue_tickets_alloc ON queue_tickets (issue_day, issue_service_id, "
	"seq);"
	"CREATE INDEX queue_tickets_by_state ON queue_tickets (day, state, service_id, issued_ms);"
	"CREATE INDEX queue_tickets_by_window ON queue_tickets (window_no, state);"
	"CREATE INDEX queue_tickets_day ON queue_tickets (day, prefix, number);";

const struct store_migration store_migrations[] = {
	{ 1, "meta and outbox", schema_v1, schema_v1_meta },
	{ 2, "audit log", schema_v2, NULL },
	{ 3, "staff accounts", schema_v3, NULL },
	{ 4, "citizens' personal data", schema_v4, NULL },
	{ 5, "ticket queue", schema_v5, NULL },
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
