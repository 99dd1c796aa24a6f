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

/* The working-day calendar (apps/orders/calstore.c, docs/orders.md): the
 * listed days of each year that has data, and where each year came from. */
static const char schema_v6[] =
	"CREATE TABLE work_calendar_years ("
	" year INTEGER PRIMARY KEY CHECK (year BETWEEN 2000 AND 2099),"
	" source TEXT NOT NULL CHECK (source IN ('file', 'screen', 'city')),"
	" updated_ms INTEGER NOT NULL,"
	" updated_by TEXT NOT NULL"
	");"
	"CREATE TABLE work_calendar ("
	" day TEXT PRIMARY KEY CHECK (length(day) = 10),"
	" year INTEGER NOT NULL REFERENCES work_calendar_years (year),"
	" kind TEXT NOT NULL CHECK (kind IN ('holiday', 'workday')),"
	" name TEXT NOT NULL DEFAULT ''"
	") WITHOUT ROWID;";

/*
 * Version 7: work orders (apps/orders, docs/orders.md). Enumerations are
 * stored as small integers (the C enums of orders.h / workcal.h). due_key
 * is the list's sort key and the flag filters' range: the running deadline
 * (sign-for while pending, handling after) or, for an order without one,
 * 8e15 minus the dispatch time (after every deadline, newest first), so
 * "due today", "overdue" and "sort by due" are index ranges. History keeps
 * wall and monotonic times (clock evidence); clock_corrections records
 * each jump of the wall clock seen against the monotonic one. The search
 * index is an FTS5 trigram index over the order's own text columns,
 * external content kept in step by triggers.
 */
static const char schema_v7[] =
	"CREATE TABLE departments ("
	" code TEXT PRIMARY KEY NOT NULL CHECK (length(code) BETWEEN 1 AND 63),"
	" name_zh TEXT NOT NULL CHECK (length(name_zh) BETWEEN 1 AND 127),"
	" name_en TEXT NOT NULL DEFAULT '' CHECK (length(name_en) <= 127),"
	" active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),"
	" sort INTEGER NOT NULL DEFAULT 0"
	") WITHOUT ROWID;"
	"CREATE TABLE order_codes ("
	" code TEXT PRIMARY KEY NOT NULL CHECK (length(code) BETWEEN 1 AND 31),"
	" name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 127),"
	" parent TEXT NOT NULL DEFAULT '',"
	" sort INTEGER NOT NULL DEFAULT 0"
	") WITHOUT ROWID;"
	"CREATE TABLE orders ("
	" id INTEGER PRIMARY KEY,"
	" number TEXT NOT NULL UNIQUE CHECK (length(number) BETWEEN 1 AND 31),"
	" channel INTEGER NOT NULL CHECK (channel BETWEEN 0 AND 7),"
	" category INTEGER NOT NULL CHECK (category BETWEEN 0 AND 4),"
	" field INTEGER NOT NULL CHECK (field BETWEEN 0 AND 4),"
	" code TEXT NOT NULL DEFAULT '',"
	" title TEXT NOT NULL,"
	" content TEXT NOT NULL,"
	" location TEXT NOT NULL DEFAULT '',"
	" urgency INTEGER NOT NULL CHECK (urgency BETWEEN 0 AND 1),"
	" complexity INTEGER NOT NULL CHECK (complexity BETWEEN 0 AND 2),"
	" contact_id INTEGER REFERENCES citizen_contact (id),"
	" hide_identity INTEGER NOT NULL DEFAULT 0 CHECK (hide_identity IN (0, 1)),"
	" state INTEGER NOT NULL CHECK (state BETWEEN 0 AND 8),"
	" dispatch_ms INTEGER NOT NULL,"
	" received_ms INTEGER NOT NULL DEFAULT 0,"
	" sign_due_ms INTEGER NOT NULL DEFAULT 0,"
	" due_ms INTEGER NOT NULL DEFAULT 0,"
	" city_due INTEGER NOT NULL DEFAULT 0 CHECK (city_due IN (0, 1)),"
	" replied_ms INTEGER NOT NULL DEFAULT 0,"
	" closed_ms INTEGER NOT NULL DEFAULT 0,"
	" ext_state INTEGER NOT NULL DEFAULT 0 CHECK (ext_state BETWEEN 0 AND 3),"
	" ext_due_ms INTEGER NOT NULL DEFAULT 0,"
	" ext_reason TEXT NOT NULL DEFAULT '',"
	" ext_basis TEXT NOT NULL DEFAULT '',"
	" return_reason TEXT NOT NULL DEFAULT '',"
	" return_basis TEXT NOT NULL DEFAULT '',"
	" pause_from_ms INTEGER NOT NULL DEFAULT 0,"
	" city_reason TEXT NOT NULL DEFAULT '',"
	" lead_dept TEXT NOT NULL DEFAULT '',"
	" handler TEXT NOT NULL DEFAULT '',"
	" reply TEXT NOT NULL DEFAULT '',"
	" drafted_by TEXT NOT NULL DEFAULT '',"
	" signed_by TEXT NOT NULL DEFAULT '',"
	" visit INTEGER NOT NULL DEFAULT 0 CHECK (visit BETWEEN 0 AND 3),"
	" lookup_code TEXT NOT NULL UNIQUE,"
	" printed INTEGER NOT NULL DEFAULT 0 CHECK (printed IN (0, 1)),"
	" printed_ms INTEGER NOT NULL DEFAULT 0,"
	" repeat_of TEXT NOT NULL DEFAULT '',"
	" redo_count INTEGER NOT NULL DEFAULT 0,"
	" version INTEGER NOT NULL DEFAULT 1,"
	" updated_ms INTEGER NOT NULL,"
	" due_key INTEGER NOT NULL,"
	" urged INTEGER NOT NULL DEFAULT 0,"
	" conflicts INTEGER NOT NULL DEFAULT 0,"
	" last_seq INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE INDEX orders_due ON orders (due_key);"
	"CREATE INDEX orders_state_due ON orders (state, due_key);"
	"CREATE INDEX orders_cat_due ON orders (category, due_key);"
	"CREATE INDEX orders_dept_due ON orders (lead_dept, due_key);"
	"CREATE INDEX orders_handler_due ON orders (handler, due_key);"
	"CREATE INDEX orders_dispatch ON orders (dispatch_ms);"
	"CREATE INDEX orders_urged ON orders (due_key) WHERE urged > 0;"
	"CREATE INDEX orders_conflicts ON orders (due_key) WHERE conflicts > 0;"
	"CREATE INDEX orders_unprinted ON orders (due_key) WHERE printed = 0;"
	"CREATE INDEX orders_last_seq ON orders (last_seq) WHERE last_seq > 0;"
	"CREATE VIRTUAL TABLE orders_fts USING fts5 (number, title, content, location,"
	" content = 'orders', content_rowid = 'id', tokenize = 'trigram');"
	"CREATE TRIGGER orders_fts_ai AFTER INSERT ON orders BEGIN"
	" INSERT INTO orders_fts (rowid, number, title, content, location)"
	" VALUES (new.id, new.number, new.title, new.content, new.location);"
	" END;"
	"CREATE TRIGGER orders_fts_ad AFTER DELETE ON orders BEGIN"
	" INSERT INTO orders_fts (orders_fts, rowid, number, title, content, location)"
	" VALUES ('delete', old.id, old.number, old.title, old.content, old.location);"
	" END;"
	"CREATE TRIGGER orders_fts_au AFTER UPDATE OF number, title, content, location ON orders"
	" BEGIN"
	" INSERT INTO orders_fts (orders_fts, rowid, number, title, content, location)"
	" VALUES ('delete', old.id, old.number, old.title, old.content, old.location);"
	" INSERT INTO orders_fts (rowid, number, title, content, location)"
	" VALUES (new.id, new.number, new.title, new.content, new.location);"
	" END;"
	"CREATE TABLE order_history ("
	" id INTEGER PRIMARY KEY,"
	" order_id INTEGER NOT NULL REFERENCES orders (id),"
	" at_ms INTEGER NOT NULL,"
	" mono_ms INTEGER NOT NULL,"
	" actor TEXT NOT NULL,"
	" role TEXT NOT NULL,"
	" action TEXT NOT NULL,"
	" from_state INTEGER,"
	" to_state INTEGER NOT NULL,"
	" public INTEGER NOT NULL DEFAULT 0 CHECK (public IN (0, 1)),"
	" note TEXT NOT NULL DEFAULT '',"
	" outbox_seq INTEGER"
	");"
	"CREATE INDEX order_history_by_order ON order_history (order_id, at_ms);"
	"CREATE TABLE order_departments ("
	" order_id INTEGER NOT NULL REFERENCES orders (id),"
	" dept TEXT NOT NULL,"
	" PRIMARY KEY (order_id, dept)"
	") WITHOUT ROWID;"
	"CREATE INDEX order_departments_by_dept ON order_departments (dept);"
	"CREATE TABLE order_notices ("
	" id INTEGER PRIMARY KEY,"
	" order_id INTEGER NOT NULL REFERENCES orders (id),"
	" kind TEXT NOT NULL CHECK (kind IN ('urge', 'supervise')),"
	" text TEXT NOT NULL,"
	" issued_by TEXT NOT NULL DEFAULT '',"
	" at_ms INTEGER NOT NULL,"
	" reply_by_ms INTEGER NOT NULL DEFAULT 0,"
	" acked_ms INTEGER NOT NULL DEFAULT 0,"
	" acked_by TEXT NOT NULL DEFAULT ''"
	");"
	"CREATE INDEX order_notices_by_order ON order_notices (order_id, at_ms);"
	"CREATE TABLE order_links ("
	" id INTEGER PRIMARY KEY,"
	" order_id INTEGER NOT NULL REFERENCES orders (id),"
	" other_number TEXT NOT NULL,"
	" kind TEXT NOT NULL CHECK (kind IN ('repeat')),"
	" note TEXT NOT NULL DEFAULT '',"
	" at_ms INTEGER NOT NULL,"
	" by_user TEXT NOT NULL,"
	" UNIQUE (order_id, other_number, kind)"
	");"
	"CREATE INDEX order_links_other ON order_links (other_number);"
	"CREATE TABLE order_attachments ("
	" id INTEGER PRIMARY KEY,"
	" order_id INTEGER NOT NULL REFERENCES orders (id),"
	" name TEXT NOT NULL,"
	" mime TEXT NOT NULL CHECK (mime IN ('image/jpeg', 'image/png', 'application/pdf')),"
	" size INTEGER NOT NULL,"
	" sha256 TEXT NOT NULL CHECK (length(sha256) = 64),"
	" at_ms INTEGER NOT NULL,"
	" by_user TEXT NOT NULL"
	");"
	"CREATE INDEX order_attachments_by_order ON order_attachments (order_id);"
	"CREATE INDEX order_attachments_sha ON order_attachments (sha256);"
	"CREATE TABLE order_conflicts ("
	" id INTEGER PRIMARY KEY,"
	" order_id INTEGER NOT NULL REFERENCES orders (id),"
	" item_id TEXT NOT NULL DEFAULT '',"
	" kind TEXT NOT NULL,"
	" detail TEXT NOT NULL,"
	" at_ms INTEGER NOT NULL,"
	" acked_ms INTEGER NOT NULL DEFAULT 0,"
	" acked_by TEXT NOT NULL DEFAULT ''"
	");"
	"CREATE INDEX order_conflicts_by_order ON order_conflicts (order_id);"
	"CREATE TABLE city_items_applied ("
	" item_id TEXT PRIMARY KEY NOT NULL,"
	" type TEXT NOT NULL,"
	" order_number TEXT NOT NULL DEFAULT '',"
	" applied_ms INTEGER NOT NULL,"
	" result TEXT NOT NULL"
	") WITHOUT ROWID;"
	"CREATE TABLE clock_corrections ("
	" id INTEGER PRIMARY KEY,"
	" at_ms INTEGER NOT NULL,"
	" mono_ms INTEGER NOT NULL,"
	" old_offset_ms INTEGER NOT NULL,"
	" new_offset_ms INTEGER NOT NULL,"
	" shift_ms INTEGER NOT NULL,"
	" seen_by TEXT NOT NULL DEFAULT ''"
	");";

/*
 * Version 8: walk-in requests, progress lookup and ratings (apps/requests,
 * docs/requests.md). A request's contact is a citizen_contact row (never
 * here); contact_tag is the keyed HMAC of the phone number
 * (pii_contact_tag) that finds earlier requests of the same citizen for the
 * repeat rule without decrypting anything. owner_office/owner_user are the
 * first-contact owner until the city acknowledges a forwarded request.
 * request_counters gives each local day's numbers (WR20231113-0001). A
 * rating is unique per target, so each ticket, request or order is rated
 * once.
 */
static const char schema_v8[] =
	"CREATE TABLE walkin_requests ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" number TEXT NOT NULL UNIQUE,"
	" lookup_code TEXT NOT NULL UNIQUE CHECK (length(lookup_code) = 8),"
	" day TEXT NOT NULL CHECK (length(day) = 10),"
	" channel TEXT NOT NULL CHECK (channel IN ('kiosk', 'window')),"
	" category INTEGER NOT NULL CHECK (category BETWEEN 0 AND 4),"
	" field INTEGER NOT NULL CHECK (field BETWEEN 0 AND 4),"
	" content TEXT NOT NULL CHECK (length(content) >= 1),"
	" location TEXT NOT NULL DEFAULT '',"
	" contact_id INTEGER REFERENCES citizen_contact (id),"
	" contact_tag BLOB CHECK (contact_tag IS NULL OR length(contact_tag) = 32),"
	" hide_identity INTEGER NOT NULL DEFAULT 0 CHECK (hide_identity IN (0, 1)),"
	" state TEXT NOT NULL CHECK (state IN ('open', 'answered', 'forwarded', 'handed_over')),"
	" owner_office TEXT NOT NULL,"
	" owner_user TEXT NOT NULL,"
	" filed_by TEXT NOT NULL,"
	" filed_ms INTEGER NOT NULL,"
	" printed INTEGER NOT NULL DEFAULT 0 CHECK (printed IN (0, 1)),"
	" answer TEXT,"
	" closed_by TEXT,"
	" closed_ms INTEGER,"
	" forwarded_ms INTEGER,"
	" handed_over_ms INTEGER,"
	" city_ref TEXT,"
	" repeat_of INTEGER REFERENCES walkin_requests (id),"
	" similarity REAL"
	");"
	"CREATE INDEX walkin_requests_tag ON walkin_requests (contact_tag, filed_ms)"
	" WHERE contact_tag IS NOT NULL;"
	"CREATE INDEX walkin_requests_state ON walkin_requests (state, filed_ms);"
	"CREATE INDEX walkin_requests_day ON walkin_requests (day);"
	"CREATE TABLE walkin_request_history ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" request_id INTEGER NOT NULL REFERENCES walkin_requests (id),"
	" at_ms INTEGER NOT NULL,"
	" action TEXT NOT NULL,"
	" state TEXT NOT NULL,"
	" actor TEXT NOT NULL,"
	" note TEXT NOT NULL DEFAULT ''"
	");"
	"CREATE INDEX walkin_request_history_req ON walkin_request_history (request_id, id);"
	"CREATE TABLE request_counters ("
	" day TEXT PRIMARY KEY CHECK (length(day) = 10),"
	" seq INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"CREATE TABLE ratings ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" target_kind TEXT NOT NULL CHECK (target_kind IN ('ticket', 'request', 'order')),"
	" target_ref TEXT NOT NULL,"
	" grade INTEGER NOT NULL CHECK (grade BETWEEN 1 AND 5),"
	" comment TEXT NOT NULL DEFAULT '',"
	" day TEXT NOT NULL CHECK (length(day) = 10),"
	" rated_ms INTEGER NOT NULL,"
	" UNIQUE (target_kind, target_ref)"
	");"
	"CREATE INDEX ratings_day ON ratings (day);";

/*
 * Version 9: the sync worker's state (apps/sync, docs/sync-protocol.md
 * "Appliance side"). sync_parked: events the city rejected, with its
 * reason, for the technician (they count as done for the outbox).
 * sync_conflicts: downloaded items that could not be applied, kept whole
 * for staff. sync_pending_apply: calendar years of committed pages waiting
 * for their import. sync_clock: the city's clock when it differed from the
 * device's by more than 2 minutes (deadline evidence). The download cursor
 * and the last successful sync live in meta (sync_cursor, sync_last_ok_ms).
 */
static const char schema_v9[] =
	"CREATE TABLE sync_parked ("
	" seq INTEGER PRIMARY KEY,"
	" event_id TEXT NOT NULL,"
	" type TEXT NOT NULL,"
	" code TEXT NOT NULL,"
	" message TEXT NOT NULL DEFAULT '',"
	" message_zh TEXT NOT NULL DEFAULT '',"
	" parked_ms INTEGER NOT NULL"
	");"
	"CREATE TABLE sync_conflicts ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" cursor TEXT NOT NULL,"
	" item_id TEXT NOT NULL,"
	" type TEXT NOT NULL,"
	" code TEXT NOT NULL,"
	" reason TEXT NOT NULL DEFAULT '',"
	" reason_zh TEXT NOT NULL DEFAULT '',"
	" item TEXT NOT NULL,"
	" at_ms INTEGER NOT NULL,"
	" resolved_ms INTEGER,"
	" resolved_by TEXT"
	");"
	"CREATE INDEX sync_conflicts_open ON sync_conflicts (id) WHERE resolved_ms IS NULL;"
	"CREATE TABLE sync_pending_apply ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" cursor TEXT NOT NULL,"
	" item TEXT NOT NULL,"
	" at_ms INTEGER NOT NULL"
	");"
	"CREATE TABLE sync_clock ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" city_ms INTEGER NOT NULL,"
	" wall_ms INTEGER NOT NULL,"
	" mono_ms INTEGER NOT NULL,"
	" offset_ms INTEGER NOT NULL,"
	" rtt_ms INTEGER NOT NULL"
	");";

const struct store_migration store_migrations[] = {
	{ 1, "meta and outbox", schema_v1, schema_v1_meta },
	{ 2, "audit log", schema_v2, NULL },
	{ 3, "staff accounts", schema_v3, NULL },
	{ 4, "citizens' personal data", schema_v4, NULL },
	{ 5, "ticket queue", schema_v5, NULL },
	{ 6, "working-day calendar", schema_v6, NULL },
	{ 7, "work orders", schema_v7, NULL },
	{ 8, "walk-in requests and ratings", schema_v8, NULL },
	{ 9, "sync state", schema_v9, NULL },
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
