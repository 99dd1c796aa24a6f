/*
 * Staff accounts in the database (the `users` table, schema step 3), for
 * the service's own connection and for the admin command's alike.
 *
 * The design decision: every change is one transaction that also appends
 * its audit entry (audit_append inside the transaction), so an account
 * never changes without a record of who changed it, and a change of PIN,
 * role or enabled state bumps `generation`, which ends the user's
 * sessions wherever they are checked.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "auth_internal.h"
#include "fw/audit.h"
#include "fw/rng.h"
#include "fw/store.h"

#define USER_COLS                                                                           \
	"id, name, role, disabled, failed_count, locked_until_ms, generation, iterations, " \
	"salt, pin_hash"

/* Copy a text column into a bounded buffer. */
static void col_text(sqlite3_stmt *st, int i, char *out, size_t cap)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	snprintf(out, cap, "%s", t != NULL ? (const char *)t : "");
}

static void row_user(sqlite3_stmt *st, struct auth_user *u)
{
	char role[16];

	memset(u, 0, sizeof(*u));
	col_text(st, 0, u->id, sizeof(u->id));
	col_text(st, 1, u->name, sizeof(u->name));
	col_text(st, 2, role, sizeof(role));
	u->role = auth_role_parse(role);
	u->disabled = sqlite3_column_int(st, 3) != 0;
	u->failed_count = sqlite3_column_int(st, 4);
	u->locked_until_ms = sqlite3_column_int64(st, 5);
	u->generation = sqlite3_column_int64(st, 6);
	u->iterations = (uint32_t)sqlite3_column_int64(st, 7);
}

int users_load(sqlite3 *db, const char *id, struct auth_user *u, uint8_t salt[AUTH_SALT_LEN],
	       uint8_t hash[AUTH_HASH_LEN])
{
	sqlite3_stmt *st = NULL;
	int rc, ret;

	rc = sqlite3_prepare_v2(db, "SELECT " USER_COLS " FROM users WHERE id = ?", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	}
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
	}
	if (rc == SQLITE_ROW) {
		row_user(st, u);
		if (salt != NULL && sqlite3_column_bytes(st, 8) == AUTH_SALT_LEN) {
			memcpy(salt, sqlite3_column_blob(st, 8), AUTH_SALT_LEN);
		}
		if (hash != NULL && sqlite3_column_bytes(st, 9) == AUTH_HASH_LEN) {
			memcpy(hash, sqlite3_column_blob(st, 9), AUTH_HASH_LEN);
		}
		ret = 0;
	} else if (rc == SQLITE_DONE) {
		ret = -ENOENT;
	} else {
		ret = store_err(db, rc, "reading a user");
	}
	sqlite3_finalize(st);
	return ret;
}

int auth_user_get(sqlite3 *db, const char *id, struct auth_user *u)
{
	return users_load(db, id, u, NULL, NULL);
}

int auth_user_each(sqlite3 *db, int (*fn)(const struct auth_user *u, void *arg), void *arg)
{
	sqlite3_stmt *st = NULL;
	struct auth_user u;
	int rc, ret = 0;

	rc = sqlite3_prepare_v2(db, "SELECT " USER_COLS " FROM users ORDER BY id", -1, &st, NULL);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		row_user(st, &u);
		ret = fn(&u, arg);
		if (ret != 0) {
			break;
		}
		rc = SQLITE_OK;
	}
	if (ret == 0 && rc != SQLITE_DONE) {
		ret = store_err(db, rc, "listing users");
	}
	sqlite3_finalize(st);
	return ret < 0 ? ret : 0;
}

/* Bind parameters described by fmt: 't' text, 'b' blob and int length, 'i' int64. */
static int bind_va(sqlite3_stmt *st, const char *fmt, va_list ap)
{
	int rc = SQLITE_OK;

	for (int i = 0; rc == SQLITE_OK && fmt[i] != '\0'; i++) {
		if (fmt[i] == 't') {
			rc = sqlite3_bind_text(st, i + 1, va_arg(ap, const char *), -1,
					       SQLITE_TRANSIENT);
		} else if (fmt[i] == 'b') {
			const void *p = va_arg(ap, const void *);
			int n = va_arg(ap, int);

			rc = sqlite3_bind_blob(st, i + 1, p, n, SQLITE_TRANSIENT);
		} else {
			rc = sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
		}
	}
	return rc;
}

int users_exec(sqlite3 *db, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *st = NULL;
	va_list ap;
	int rc;

	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	va_start(ap, fmt);
	if (rc == SQLITE_OK) {
		rc = bind_va(st, fmt, ap);
	}
	va_end(ap);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		return store_err(db, rc, "updating users");
	}
	return sqlite3_changes(db);
}

int users_audit(sqlite3 *db, const struct auth_actor *actor, const char *action, const char *target,
		const char *outcome, const char *detail)
{
	struct audit_entry e = {
		.actor = actor->id,
		.role = actor->role,
		.action = action,
		.target = target != NULL ? target : "",
		.outcome = outcome,
		.detail = detail,
	};

	return audit_append(db, &e);
}

/* Check the user exists and apply one UPDATE plus its audit entry, in one transaction. */
static int change(sqlite3 *db, const struct auth_actor *actor, const char *id, const char *action,
		  const char *detail, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *st = NULL;
	va_list ap;
	int rc, ret;

	if (!auth_user_id_valid(id)) {
		return -ENOENT;
	}
	ret = store_begin(db);
	if (ret < 0) {
		return ret;
	}
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	va_start(ap, fmt);
	if (rc == SQLITE_OK) {
		rc = bind_va(st, fmt, ap);
	}
	va_end(ap);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		ret = store_err(db, rc, "changing a user");
		goto out_rollback;
	}
	if (sqlite3_changes(db) == 0) {
		ret = -ENOENT;
		goto out_rollback;
	}
	ret = users_audit(db, actor, action, id, "ok", detail);
	if (ret < 0) {
		goto out_rollback;
	}
	return store_commit(db);

out_rollback:
	store_rollback(db);
	return ret;
}

/* Bytes of the UTF-8 sequence a lead byte starts, 0 for an invalid lead. */
static size_t utf8_len(unsigned char c)
{
	if (c < 0x80) {
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		return 2;
	}
	if (c >= 0xe0 && c <= 0xef) {
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		return 4;
	}
	return 0;
}

/* Up to AUTH_NAME_MAX bytes of UTF-8 without control characters. */
static bool name_valid(const char *name)
{
	const unsigned char *s = (const unsigned char *)name;
	size_t n = strnlen(name, AUTH_NAME_MAX + 1);

	if (n > AUTH_NAME_MAX) {
		return false;
	}
	for (size_t i = 0; i < n;) {
		size_t len = utf8_len(s[i]);

		if (len == 0 || s[i] < 0x20 || s[i] == 0x7f || i + len > n) {
			return false;
		}
		for (size_t j = 1; j < len; j++) {
			if ((s[i + j] & 0xc0) != 0x80) {
				return false;
			}
		}
		i += len;
	}
	return true;
}

/* A fresh salt and the hash of pin under it. */
static int new_hash(const char *pin, uint32_t iterations, uint8_t salt[AUTH_SALT_LEN],
		    uint8_t hash[AUTH_HASH_LEN])
{
	int ret = rng_bytes(salt, AUTH_SALT_LEN);

	if (ret < 0) {
		return ret;
	}
	return auth_pin_hash(pin, strlen(pin), salt, iterations, hash);
}

int auth_user_add(sqlite3 *db, struct hal_clock *clock, uint32_t iterations,
		  const struct auth_actor *actor, const char *id, const char *name, unsigned role,
		  const char *pin, const char **en, const char **zh)
{
	uint8_t salt[AUTH_SALT_LEN], hash[AUTH_HASH_LEN];
	struct auth_user old;
	int64_t now = hal_clock_wall_ms(clock);
	char detail[64];
	int ret;

	if (en != NULL) {
		*en = *zh = NULL;
	}
	if (!auth_user_id_valid(id) || name == NULL || !name_valid(name) ||
	    auth_role_name(role) == NULL || iterations == 0) {
		return -EINVAL;
	}
	ret = auth_pin_check(pin, id, en, zh);
	if (ret < 0) {
		return ret;
	}
	ret = new_hash(pin, iterations, salt, hash);
	if (ret < 0) {
		return ret;
	}
	ret = store_begin(db);
	if (ret < 0) {
		return ret;
	}
	ret = users_load(db, id, &old, NULL, NULL);
	if (ret == 0) {
		ret = -EEXIST;
	}
	if (ret != -ENOENT) {
		goto out_rollback;
	}
	ret = users_exec(db,
			 "INSERT INTO users (id, name, role, salt, iterations, pin_hash, "
			 "created_ms, pin_changed_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
			 "tttbibii", id, name, auth_role_name(role), salt, AUTH_SALT_LEN,
			 (int64_t)iterations, hash, AUTH_HASH_LEN, now, now);
	if (ret < 0) {
		goto out_rollback;
	}
	snprintf(detail, sizeof(detail), "{\"role\":\"%s\"}", auth_role_name(role));
	ret = users_audit(db, actor, "user.add", id, "ok", detail);
	if (ret < 0) {
		goto out_rollback;
	}
	return store_commit(db);

out_rollback:
	store_rollback(db);
	return ret;
}

int auth_user_set_pin(sqlite3 *db, struct hal_clock *clock, uint32_t iterations,
		      const struct auth_actor *actor, const char *id, const char *pin,
		      const char **en, const char **zh)
{
	uint8_t salt[AUTH_SALT_LEN], hash[AUTH_HASH_LEN];
	int ret;

	if (en != NULL) {
		*en = *zh = NULL;
	}
	if (iterations == 0) {
		return -EINVAL;
	}
	ret = auth_pin_check(pin, id, en, zh);
	if (ret < 0) {
		return ret;
	}
	ret = new_hash(pin, iterations, salt, hash);
	if (ret < 0) {
		return ret;
	}
	/* A new PIN also clears a lock: it is how a supervisor lets someone back in. */
	return change(db, actor, id, "user.reset_pin", NULL,
		      "UPDATE users SET salt = ?, pin_hash = ?, iterations = ?, pin_changed_ms = ?,"
		      " failed_count = 0, locked_until_ms = 0, generation = generation + 1"
		      " WHERE id = ?",
		      "bbiit", salt, AUTH_SALT_LEN, hash, AUTH_HASH_LEN, (int64_t)iterations,
		      hal_clock_wall_ms(clock), id);
}

int auth_user_set_disabled(sqlite3 *db, struct hal_clock *clock, const struct auth_actor *actor,
			   const char *id, bool disabled)
{
	(void)clock;
	if (disabled) {
		return change(db, actor, id, "user.disable", NULL,
			      "UPDATE users SET disabled = 1, generation = generation + 1"
			      " WHERE id = ?",
			      "t", id);
	}
	return change(db, actor, id, "user.enable", NULL,
		      "UPDATE users SET disabled = 0, failed_count = 0, locked_until_ms = 0,"
		      " generation = generation + 1 WHERE id = ?",
		      "t", id);
}

int auth_user_set_role(sqlite3 *db, struct hal_clock *clock, const struct auth_actor *actor,
		       const char *id, unsigned role)
{
	char detail[64];

	(void)clock;
	if (auth_role_name(role) == NULL) {
		return -EINVAL;
	}
	snprintf(detail, sizeof(detail), "{\"role\":\"%s\"}", auth_role_name(role));
	return change(db, actor, id, "user.role", detail,
		      "UPDATE users SET role = ?, generation = generation + 1 WHERE id = ?", "tt",
		      auth_role_name(role), id);
}
