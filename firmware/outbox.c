/*
 * Outbox: events for the city, written in the caller's transaction so an
 * event exists exactly when the change it describes was committed.
 *
 * seq is the outbox table's AUTOINCREMENT rowid: SQLite keeps the highest
 * value ever used in sqlite_sequence, in the same database and the same
 * transactions, so a seq is never handed out twice, neither after a restart
 * nor after acknowledged rows were deleted, and a rolled-back append leaves
 * no gap the city could wait for. Inputs are checked before anything is
 * written: the type against a fixed alphabet, the payload for size, UTF-8
 * and being one JSON object (parsed with cJSON, then stored as given, so
 * numbers keep every digit the caller wrote).
 *
 * Each type has a class for the backlog policy (fw/backlog.h): a fixed
 * table of statistics types; everything else, including a type added
 * later and not listed, is essential and never dropped.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "fw/backlog.h"
#include "fw/log.h"
#include "fw/outbox.h"
#include "fw/rng.h"
#include "fw/store.h"

#define MOD "outbox"

static struct hal_clock *outbox_clock;

void outbox_set_clock(struct hal_clock *clock)
{
	outbox_clock = clock;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	if (outbox_clock != NULL) {
		return hal_clock_wall_ms(outbox_clock);
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The statistics types (docs/queue.md); every other type is essential. */
static const char *const stats_types[] = {
	"queue.ticket_issued",	    "queue.ticket_void",    "queue.ticket_called",
	"queue.ticket_recalled",    "queue.ticket_no_show", "queue.ticket_started",
	"queue.ticket_finished",    "queue.ticket_held",    "queue.ticket_resumed",
	"queue.ticket_transferred", "queue.window_changed", "queue.day_summary",
};

enum outbox_class outbox_class(const char *type)
{
	if (type == NULL) {
		return OUTBOX_ESSENTIAL;
	}
	for (size_t i = 0; i < sizeof(stats_types) / sizeof(stats_types[0]); i++) {
		if (strcmp(type, stats_types[i]) == 0) {
			return OUTBOX_STATS;
		}
	}
	return OUTBOX_ESSENTIAL;
}

static bool type_valid(const char *t)
{
	size_t n = 0;

	for (; t[n] != '\0'; n++) {
		char c = t[n];

		if (n >= OUTBOX_TYPE_MAX - 1) {
			return false;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.')) {
			return false;
		}
	}
	return n > 0;
}

/* Well-formed UTF-8 (RFC 3629): no overlong forms, surrogates or > U+10FFFF. */
static bool utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t need;
		unsigned char lo = 0x80;
		unsigned char hi = 0xbf;

		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			if (c == 0xe0) {
				lo = 0xa0;
			} else if (c == 0xed) {
				hi = 0x9f;
			}
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			if (c == 0xf0) {
				lo = 0x90;
			} else if (c == 0xf4) {
				hi = 0x8f;
			}
		} else {
			return false;
		}
		if (len - i <= need) {
			return false;
		}
		if (s[i + 1] < lo || s[i + 1] > hi) {
			return false;
		}
		for (size_t k = 2; k <= need; k++) {
			if (s[i + k] < 0x80 || s[i + k] > 0xbf) {
				return false;
			}
		}
		i += need + 1;
	}
	return true;
}

static int payload_check(const char *payload, size_t *len_out)
{
	const char *end = NULL;
	size_t len = strnlen(payload, OUTBOX_PAYLOAD_MAX + 1);
	cJSON *json;
	bool object;

	if (len > OUTBOX_PAYLOAD_MAX) {
		return -EMSGSIZE;
	}
	if (!utf8_valid((const unsigned char *)payload, len)) {
		return -EINVAL;
	}
	json = cJSON_ParseWithOpts(payload, &end, 1);
	if (json == NULL) {
		return -EINVAL;
	}
	object = cJSON_IsObject(json);
	cJSON_Delete(json);
	*len_out = len;
	return object ? 0 : -EINVAL;
}

int outbox_append(sqlite3 *db, const char *type, const char *payload_json, int64_t *seq)
{
	char event_id[RNG_UUID_LEN + 1];
	sqlite3_stmt *st = NULL;
	size_t len = 0;
	int ret = -EINVAL;
	int rc;

	if (db == NULL || type == NULL || payload_json == NULL) {
		return -EINVAL;
	}
	if (sqlite3_get_autocommit(db) != 0) {
		log_err(MOD,
			"refused a '%.*s' event outside a transaction: it must be written in "
			"the transaction of the change it reports",
			OUTBOX_TYPE_MAX, type);
		return -EPERM;
	}
	if (!type_valid(type)) {
		log_err(MOD, "refused an event: its type is not 1 to %d characters of a-z 0-9 _ .",
			OUTBOX_TYPE_MAX - 1);
		return -EINVAL;
	}
	ret = payload_check(payload_json, &len);
	if (ret < 0) {
		log_err(MOD, "refused a '%s' event: %s", type,
			ret == -EMSGSIZE ? "payload larger than the limit"
					 : "payload is not one JSON object in UTF-8");
		return ret;
	}
	if (outbox_class(type) == OUTBOX_STATS && backlog_refuses(OUTBOX_STATS)) {
		if (seq != NULL) {
			*seq = 0;
		}
		return backlog_count_unwritten(db, type, now_ms());
	}
	ret = rng_uuid(event_id);
	if (ret < 0) {
		return ret;
	}
	rc = sqlite3_prepare_v2(db,
				"INSERT INTO outbox (event_id, type, payload, created_ms) "
				"VALUES (?1, ?2, ?3, ?4)",
				-1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_bind_text(st, 1, event_id, -1, SQLITE_STATIC);
	}
	if (rc == SQLITE_OK) {
		rc = sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
	}
	if (rc == SQLITE_OK) {
		rc = sqlite3_bind_text(st, 3, payload_json, (int)len, SQLITE_STATIC);
	}
	if (rc == SQLITE_OK) {
		rc = sqlite3_bind_int64(st, 4, now_ms());
	}
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
	}
	if (rc == SQLITE_DONE) {
		ret = 0;
		if (seq != NULL) {
			*seq = sqlite3_last_insert_rowid(db);
		}
	} else {
		ret = store_err(db, rc, "appending an event");
	}
	sqlite3_finalize(st);
	return ret;
}

/* Run a query that answers one integer (NULL counts as 0). */
static int64_t query_int(sqlite3 *db, const char *sql, const char *what)
{
	sqlite3_stmt *st = NULL;
	int64_t v = 0;
	int rc;

	if (db == NULL) {
		return -EINVAL;
	}
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
	}
	if (rc == SQLITE_ROW) {
		v = sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_OK) {
		v = store_err(db, rc, what);
	}
	sqlite3_finalize(st);
	return v;
}

int64_t outbox_pending(sqlite3 *db)
{
	return query_int(db, "SELECT count(*) FROM outbox WHERE acked_ms IS NULL",
			 "counting pending events");
}

int64_t outbox_last_seq(sqlite3 *db)
{
	return query_int(db, "SELECT seq FROM sqlite_sequence WHERE name = 'outbox'",
			 "reading the last seq");
}

/* Run an UPDATE/DELETE with one or two integer parameters; returns rows changed. */
static int change_rows(sqlite3 *db, const char *sql, int64_t a, int64_t b, const char *what)
{
	sqlite3_stmt *st = NULL;
	int rc;
	int ret;

	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_bind_int64(st, 1, a);
	}
	if (rc == SQLITE_OK && sqlite3_bind_parameter_count(st) > 1) {
		rc = sqlite3_bind_int64(st, 2, b);
	}
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
	}
	ret = rc == SQLITE_DONE ? sqlite3_changes(db) : store_err(db, rc, what);
	sqlite3_finalize(st);
	return ret;
}

int outbox_ack(sqlite3 *db, int64_t upto)
{
	int64_t last;

	if (db == NULL || upto < 0) {
		return -EINVAL;
	}
	/* last only grows, so checking before the update is enough. */
	last = outbox_last_seq(db);
	if (last < 0) {
		return (int)last;
	}
	if (upto > last) {
		log_err(MOD,
			"the city acknowledged events up to seq %lld but this database only "
			"wrote up to %lld: the database was replaced (see db_epoch); nothing "
			"marked",
			(long long)upto, (long long)last);
		return -ERANGE;
	}
	return change_rows(db,
			   "UPDATE outbox SET acked_ms = ?1 WHERE seq <= ?2 AND acked_ms IS NULL",
			   now_ms(), upto, "marking events acknowledged");
}

int outbox_prune(sqlite3 *db, int64_t acked_before_ms)
{
	if (db == NULL) {
		return -EINVAL;
	}
	return change_rows(db, "DELETE FROM outbox WHERE acked_ms IS NOT NULL AND acked_ms < ?1",
			   acked_before_ms, 0, "deleting acknowledged events");
}

int outbox_mark_sent(sqlite3 *db, int64_t upto)
{
	char v[24];
	sqlite3_stmt *st = NULL;
	int rc;

	if (db == NULL || upto < 0) {
		return -EINVAL;
	}
	snprintf(v, sizeof(v), "%lld", (long long)upto);
	rc = store_prepare(db,
			   "INSERT INTO meta (key, value) VALUES ('sync_sent_upto', ?1) "
			   "ON CONFLICT(key) DO UPDATE SET value = excluded.value "
			   "WHERE CAST(value AS INTEGER) < CAST(excluded.value AS INTEGER)",
			   &st);
	if (rc < 0) {
		return rc;
	}
	sqlite3_bind_text(st, 1, v, -1, SQLITE_TRANSIENT);
	return store_step_done(db, st, "recording the events being sent");
}

int64_t outbox_sent_upto(sqlite3 *db)
{
	return query_int(db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'sync_sent_upto'",
			 "reading the events sent");
}

int64_t outbox_reach(sqlite3 *db, int64_t seq)
{
	sqlite3_stmt *st = NULL;
	int64_t v = seq;
	int rc;

	if (db == NULL || seq < 0) {
		return -EINVAL;
	}
	rc = store_prepare(
		db,
		"SELECT coalesce((SELECT min(seq) - 1 FROM outbox WHERE acked_ms IS NULL "
		"AND seq > ?1), (SELECT seq FROM sqlite_sequence WHERE name = 'outbox'))",
		&st);
	if (rc < 0) {
		return rc;
	}
	sqlite3_bind_int64(st, 1, seq);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_type(st, 0) != SQLITE_NULL &&
		    sqlite3_column_int64(st, 0) > seq) {
			v = sqlite3_column_int64(st, 0);
		}
	} else {
		v = store_err(db, rc, "reading how far the city may acknowledge");
	}
	sqlite3_finalize(st);
	return v;
}
