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

/*
 * Use this clock's wall time for created_ms (NULL: the system clock).
 * Set once at start-up, before any thread appends.
 */
void outbox_set_clock(struct hal_clock *clock);

/*
 * Append one event inside the caller's open transaction (store_begin).
 * @param type    event type, [a-z0-9_.]{1,63} ("ticket.issued")
 * @param payload a JSON object in valid UTF-8, at most OUTBOX_PAYLOAD_MAX
 *                bytes; stored as given
 * @param seq     if not NULL, receives the event's seq
 * @retval 0 appended
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

#endif /* FW_OUTBOX_H */
