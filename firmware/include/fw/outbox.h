/*
 * Outbox: every state change the city must learn is recorded here in the
 * same transaction as the change itself, with a per-device monotonic seq
 * (never reused, also across restarts) and a unique event_id. The sync
 * worker uploads in seq order and marks what the city acknowledged.
 */
#ifndef FW_OUTBOX_H
#define FW_OUTBOX_H

#include <stdint.h>

#include <sqlite3.h>

#define OUTBOX_TYPE_MAX 64
#define OUTBOX_PAYLOAD_MAX (64 * 1024)

/*
 * Append one event inside the caller's open transaction.
 * @param type    event type, [a-z0-9_.]{1,63} ("ticket.issued")
 * @param payload a JSON object, at most OUTBOX_PAYLOAD_MAX bytes
 * @param seq     if not NULL, receives the event's seq
 * @retval 0 appended
 * @retval -EINVAL bad type or payload that is not a JSON object
 * @retval -EPERM no transaction is open (the event would not be atomic)
 * @retval -EIO / -ENOSPC storage failed
 */
int outbox_append(sqlite3 *db, const char *type, const char *payload_json, int64_t *seq);

/* Events not yet acknowledged. @retval >=0 count, <0 error */
int64_t outbox_pending(sqlite3 *db);

/* Mark every event with seq <= upto acknowledged. @retval >=0 rows marked */
int outbox_ack(sqlite3 *db, int64_t upto);

#endif /* FW_OUTBOX_H */
