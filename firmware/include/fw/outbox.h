/*
 * Outbox: every state change the city must learn is recorded here in the
 * same transaction as the change itself, with a per-device monotonic seq
 * (never reused, also across restarts and after acknowledged rows were
 * deleted) and a unique event_id. The sync worker uploads in seq order and
 * marks what the city acknowledged. A new database (one set aside as
 * damaged) starts seq at 1 again under a new meta db_epoch.
 */
#ifndef FW_OUTBOX_H
#define FW_OUTBOX_H

#include <stdint.h>

#include <sqlite3.h>

#include "hal/clock.h"

#define OUTBOX_TYPE_MAX	   64
#define OUTBOX_PAYLOAD_MAX (64 * 1024)

/* The event that stands for statistics events collapsed by the backlog
 * policy (docs/sync-protocol.md, "Backlog policy"). */
#define OUTBOX_SUMMARY_TYPE "stats.summary"

/*
 * What the backlog policy may do with an event of a type. Essential events
 * (order actions, requests, ratings, the audit chain head, identity
 * events, summaries, and every type this firmware does not know) are
 * never dropped; statistics may be summarised, and are not written while
 * storage is critical (counted instead).
 */
enum outbox_class {
	OUTBOX_ESSENTIAL = 0,
	OUTBOX_STATS,
};

/* The class of an event type (a pure function; NULL or unknown: essential). */
enum outbox_class outbox_class(const char *type);

/*
 * Use this clock's wall time for created_ms (NULL: the system clock).
 * Set once at start-up, before any thread appends.
 */
void outbox_set_clock(struct hal_clock *clock);

/*
 * Append one event inside the caller's open transaction (store_begin).
 * A statistics event (OUTBOX_STATS) while storage is critical
 * (fw/backlog.h) is not written: it is counted by type in meta, in the same
 * transaction, for the next stats.summary, and *seq is set to 0.
 * @param type    event type, [a-z0-9_.]{1,63} ("ticket.issued")
 * @param payload a JSON object in valid UTF-8, at most OUTBOX_PAYLOAD_MAX
 *                bytes; stored as given
 * @param seq     if not NULL, receives the event's seq (0: counted only)
 * @retval 0 appended (or counted, see above)
 * @retval -EINVAL bad type, or payload that is not a JSON object
 * @retval -EMSGSIZE payload longer than OUTBOX_PAYLOAD_MAX
 * @retval -EPERM no transaction is open (the event would not be atomic)
 * @retval -EIO / -ENOSPC / -ENOMEM storage failed (roll the transaction back)
 */
int outbox_append(sqlite3 *db, const char *type, const char *payload_json, int64_t *seq);

/* Events not yet acknowledged. @retval >=0 count, <0 error */
int64_t outbox_pending(sqlite3 *db);

/* The highest seq ever handed out by this database (0 if none). <0 error */
int64_t outbox_last_seq(sqlite3 *db);

/*
 * Mark every event with seq <= upto acknowledged (now, by the outbox clock).
 * @retval >=0 rows newly marked
 * @retval -EINVAL upto < 0
 * @retval -ERANGE upto is above outbox_last_seq(): the city acknowledges
 *         events this database never wrote (it was replaced); nothing marked
 */
int outbox_ack(sqlite3 *db, int64_t upto);

/*
 * Delete acknowledged events acknowledged before acked_before_ms (wall ms).
 * Their seqs are never handed out again.
 * @retval >=0 rows deleted, <0 error
 */
int outbox_prune(sqlite3 *db, int64_t acked_before_ms);

/* Acknowledged events are kept this long (for the technician), then
 * pruned; at once while storage runs low (they are safe at the city). */
#define OUTBOX_KEEP_ACKED_DAYS 30

/*
 * Record that the sync worker is about to send every waiting event up to
 * upto (meta sync_sent_upto only grows). Call it in the transaction that
 * read the batch, and commit before sending: the backlog policy never
 * rewrites a seq the city may already hold.
 * @retval 0, -EINVAL, or a store errno
 */
int outbox_mark_sent(sqlite3 *db, int64_t upto);

/* The highest seq ever handed to the sync worker for sending (0: none). <0 error */
int64_t outbox_sent_upto(sqlite3 *db);

/*
 * How far the city may acknowledge after receiving the events up to seq:
 * one below the next waiting event after seq, else the last seq. The seqs
 * in between were collapsed into a stats.summary the city has been sent.
 * @retval >=seq, <0 error
 */
int64_t outbox_reach(sqlite3 *db, int64_t seq);

#endif /* FW_OUTBOX_H */
