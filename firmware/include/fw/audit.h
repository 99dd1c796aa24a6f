/*
 * Audit log: every staff action, appended to a SHA-256 hash chain in the
 * database. Each entry's hash covers the previous entry's hash and all of
 * its own fields, so editing, deleting or reordering any past row breaks
 * the chain at that row. The chain head (last id and hash) is what the sync
 * issue sends to the city, so rewriting the whole tail is detected there.
 */
#ifndef FW_AUDIT_H
#define FW_AUDIT_H

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "hal/clock.h"

#define AUDIT_HASH_LEN	 32
#define AUDIT_FIELD_MAX	 256 /* actor, role, action, target, outcome */
#define AUDIT_DETAIL_MAX 2048

struct audit_entry {
	const char *actor;   /* user id, "citizen", "system" or "technician-cli" */
	const char *role;    /* "citizen", "staff", "supervisor", "technician", "system" */
	const char *action;  /* dotted verb: "auth.login", "user.disable", "order.reply" */
	const char *target;  /* what it acted on: a user id, an order number; "" if none */
	const char *outcome; /* "ok", "denied", "failed", "locked", ... */
	const char *detail;  /* optional JSON object or short text; NULL for none */
};

/* The clock used for wall and monotonic times (NULL: the system clock). */
void audit_set_clock(struct hal_clock *clock);

/*
 * Append one entry. Inside the caller's transaction when one is open (so
 * the action and its audit entry commit together); otherwise in its own.
 * @retval 0 appended, -EINVAL a field missing or too long, -EIO, -ENOSPC,
 *         -EBUSY
 */
int audit_append(sqlite3 *db, const struct audit_entry *e);

struct audit_verify_result {
	int64_t entries;   /* rows checked */
	int64_t first_bad; /* id of the first row whose link is broken; 0 if none */
	char reason[160];  /* what is wrong there, in plain words */
	int64_t head_id;   /* the last row's id */
	uint8_t head_hash[AUDIT_HASH_LEN];
};

/*
 * Walk the whole chain.
 * @retval 0 intact, 1 broken (r says where), <0 could not read the log
 */
int audit_verify(sqlite3 *db, struct audit_verify_result *r);

/* The chain head: id 0 and the genesis hash for an empty log. */
int audit_head(sqlite3 *db, int64_t *id, uint8_t hash[AUDIT_HASH_LEN]);

#endif /* FW_AUDIT_H */
