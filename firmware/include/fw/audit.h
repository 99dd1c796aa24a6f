/*
 * Audit log: every staff action, appended to a SHA-256 hash chain in the
 * database. Each entry's hash covers the previous entry's hash and all of
 * its own fields, so editing, deleting or reordering any past row breaks
 * the chain at that row. The chain head (last id and hash) is what the sync
 * issue sends to the city, so rewriting the whole tail is detected there.
 * docs/security-audit.md describes the encoding and what verification proves.
 */
#ifndef FW_AUDIT_H
#define FW_AUDIT_H

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "hal/clock.h"

#define AUDIT_HASH_LEN	 32
#define AUDIT_FIELD_MAX	 256  /* bytes of actor, role, action, target, outcome */
#define AUDIT_DETAIL_MAX 2048 /* bytes of detail */

/*
 * One entry. All strings are UTF-8 without control characters (detail may
 * hold tab and newline). role, action and outcome are made of a-z 0-9 and
 * "._-" (they are filtered on and must never carry free text).
 * Never put a citizen's personal data (name, phone, ID number) in an entry:
 * the log is kept for good and exported; name an order or a ticket instead.
 */
struct audit_entry {
	const char *actor;   /* user id, "citizen", "system" or "technician-cli" */
	const char *role;    /* "citizen", "staff", "supervisor", "technician", "system" */
	const char *action;  /* dotted verb: "auth.login", "user.disable", "order.reply" */
	const char *target;  /* what it acted on: a user id, an order number; "" if none */
	const char *outcome; /* "ok", "denied", "failed", "locked", ... */
	const char *detail;  /* optional JSON object or short text; NULL for none */
};

/* The clock used for wall and monotonic times (NULL: the system clock).
 * Set once at start-up, before any thread appends. */
void audit_set_clock(struct hal_clock *clock);

/*
 * Append one entry. Inside the caller's transaction when one is open (so
 * the action and its audit entry commit together, and a rollback leaves no
 * entry); otherwise in its own BEGIN IMMEDIATE transaction. The previous
 * hash is read inside the same transaction, so concurrent writers (other
 * connections, other processes) always extend one linear chain.
 * @retval 0 appended
 * @retval -EINVAL a required field missing or empty, too long, not UTF-8,
 *         holding control characters, or role/action/outcome outside a-z0-9._-
 * @retval -EBUSY another connection kept the write lock
 * @retval -EIO / -ENOSPC / -ENOMEM storage failed (roll the caller's
 *         transaction back)
 */
int audit_append(sqlite3 *db, const struct audit_entry *e);

struct audit_verify_result {
	int64_t entries;		   /* rows checked */
	int64_t first_bad;		   /* id of the first row whose link is broken; 0 if none */
	char reason[160];		   /* what is wrong there, in plain words; "" if intact */
	char reason_zh[192];		   /* the same in Chinese */
	int64_t head_id;		   /* the last row's id (0 for an empty log) */
	uint8_t head_hash[AUDIT_HASH_LEN]; /* its hash (the genesis hash if empty) */
};

/*
 * Walk the whole chain in id order in one read snapshot, recomputing every
 * hash and checking every link, the id sequence and that no entry after
 * the last one was removed.
 * @retval 0 intact, 1 broken (r says where), <0 could not read the log
 *         (-EIO, -ENOMEM, -EBUSY)
 */
int audit_verify(sqlite3 *db, struct audit_verify_result *r);

/*
 * The chain head: the last entry's id and hash; id 0 and the genesis hash
 * for an empty log. This is what the sync issue sends to the city.
 * @retval 0, -EIO, -ENOENT the database has no db_epoch
 */
int audit_head(sqlite3 *db, int64_t *id, uint8_t hash[AUDIT_HASH_LEN]);

/* Whether s is acceptable as an actor or a target: UTF-8 without control
 * characters, at most AUDIT_FIELD_MAX bytes (empty allowed). */
bool audit_text_valid(const char *s);

/* Whether s is acceptable as a role, action or outcome: 1 to AUDIT_FIELD_MAX
 * characters of a-z 0-9 . _ - */
bool audit_word_valid(const char *s);

/* Lower-case hex of a hash; out holds 2 * AUDIT_HASH_LEN + 1 bytes. */
void audit_hex(const uint8_t hash[AUDIT_HASH_LEN], char out[2 * AUDIT_HASH_LEN + 1]);

struct admin_ctx;

/*
 * `hotline-edge admin audit-verify`: prints "audit log intact: N entries,
 * head ID HEX" and returns 0, or names the first broken link and returns 1.
 */
int audit_cmd_verify(struct admin_ctx *ctx, int argc, char **argv);

#endif /* FW_AUDIT_H */
