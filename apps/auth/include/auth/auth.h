/*
 * Staff accounts and sessions (docs/security-auth.md).
 *
 * Users live in the `users` table (schema step 3): PIN as
 * PBKDF2-HMAC-SHA256 with a per-user salt and a per-user iteration count,
 * failed attempts and the lock in the database so they survive restarts.
 * Sessions live in memory only, in a bounded table that stores the SHA-256
 * of each token, never the token. The kiosk server calls auth_authorize()
 * for every request to a route: that one function decides 401/403 from the
 * route's `roles` mask and checks the CSRF token of state-changing calls.
 *
 * Threads: the service may be called from any HTTP connection thread. It
 * owns one SQLite connection behind a mutex (held for SQL only, never
 * during PBKDF2), the session table behind another, and runs one login at
 * a time so parallel guesses cannot outrun the lockout.
 */
#ifndef AUTH_AUTH_H
#define AUTH_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "fw/admin.h"
#include "hal/clock.h"
#include "kiosk/kiosk.h"

#define AUTH_USER_ID_MAX 32 /* bytes: letters, digits, '.', '_', '-' */
#define AUTH_NAME_MAX	 64 /* bytes of UTF-8 */
#define AUTH_PIN_MIN	 6
#define AUTH_PIN_MAX	 32
#define AUTH_SALT_LEN	 16
#define AUTH_HASH_LEN	 32
#define AUTH_TOKEN_LEN	 32 /* bytes of a session or CSRF token (256 bits) */
#define AUTH_TOKEN_HEX	 (2 * AUTH_TOKEN_LEN)
/* Sessions held at once; a new login past this evicts the least recently used. */
#define AUTH_SESSIONS_MAX 64
/*
 * PBKDF2 iterations for new and changed PINs: about 100 ms per check on a
 * Cortex-A53 class board (figures and reasoning in docs/security-auth.md).
 * Raising it later is safe: each user's count is stored with the hash and
 * a login re-hashes a PIN whose count is lower.
 */
#define AUTH_PBKDF2_ITERATIONS 20000
#define AUTH_COOKIE	       "he_session"
/* Largest login body accepted (413 above). */
#define AUTH_LOGIN_BODY_MAX 1024
/* The actor recorded for changes made with `hotline-edge admin`. */
#define AUTH_CLI_ACTOR	"technician-cli"
#define AUTH_ROLES_ALL	(KIOSK_ROLE_STAFF | KIOSK_ROLE_SUPERVISOR | KIOSK_ROLE_TECHNICIAN)
#define AUTH_ROLES_SUPV KIOSK_ROLE_SUPERVISOR

struct auth_params {
	const char *data_dir;	 /* the initialised database's directory (store_init) */
	struct hal_clock *clock; /* wall: lock times; monotonic: session timeouts */
	uint32_t iterations;	 /* PBKDF2 count for new hashes; 0: AUTH_PBKDF2_ITERATIONS */
	int lock_after;		 /* wrong PINs in a row that lock; 0: 5 */
	int lock_minutes;	 /* how long; 0: 15 */
	int idle_timeout_s;	 /* session idle timeout; 0: 300 */
	int session_max_s;	 /* absolute session lifetime; 0: 43200 */
};

/* One account as the API shows it (never the hash). */
struct auth_user {
	char id[AUTH_USER_ID_MAX + 1];
	char name[AUTH_NAME_MAX + 1];
	unsigned role; /* one enum kiosk_role bit */
	bool disabled;
	int failed_count;
	int64_t locked_until_ms; /* wall; 0 when not locked */
	int64_t generation;	 /* bumped by a PIN, role or enabled change */
	uint32_t iterations;
};

/* Who makes a change, for the audit log. */
struct auth_actor {
	const char *id;	  /* user id or AUTH_CLI_ACTOR */
	const char *role; /* "supervisor", "technician", ... */
};

struct auth;

/*
 * Create the service: open its own database connection (store_open).
 * @retval 0 *out is ready
 * @retval -EINVAL a parameter out of range; -ENOMEM; errors of store_open
 */
int auth_create(const struct auth_params *p, struct auth **out);

/* Close the connection and wipe the sessions (NULL is ignored). */
void auth_destroy(struct auth *a);

/*
 * The kiosk_params.authorize hook (arg: the struct auth). Identifies the
 * caller from the he_session cookie, then:
 *  - a public route (roles 0) is always allowed; the caller is filled in
 *    when the session is valid and, for POST/PUT/PATCH/DELETE, the CSRF
 *    token matches (otherwise the request runs as a citizen);
 *  - a protected route needs a valid session (else a 401 "login_required"
 *    reply), a role in the route's mask (else 403 "forbidden") and, for a
 *    state-changing method, X-CSRF-Token equal to the session's (else 403
 *    "csrf"). Each allowed protected call counts as activity (idle timer).
 * req->user_id points to thread-local storage valid until the next call on
 * the same thread; the server copies it.
 * @retval 0 allowed; -EACCES (401) or -EPERM (403), with the reply made
 */
int auth_authorize(struct kiosk_request *req, void *arg);

/*
 * Add the auth and user-management routes (docs/local-api.md,
 * docs/security-auth.md) to k. @retval 0, or kiosk_route_add's errors
 */
int auth_routes_register(struct kiosk *k, struct auth *a);

/*
 * Whether at least one enabled supervisor exists.
 * @retval 1 yes, 0 no, <0 the database could not be read
 */
int auth_has_supervisor(struct auth *a);

struct auth_login {
	struct auth_user user;
	char token[AUTH_TOKEN_HEX + 1]; /* the cookie value */
	char csrf[AUTH_TOKEN_HEX + 1];
	int64_t expires_ms;    /* wall time the session ends at the latest */
	int64_t retry_after_s; /* for -EAGAIN: seconds until the lock ends */
};

/*
 * Check a user id and PIN and open a session. Unknown, disabled and wrong
 * credentials cost the same PBKDF2 work and give the same answer. Wrong
 * PINs count towards the lock; the lock_after-th locks the account.
 * @retval 0 out holds the session
 * @retval -EACCES unknown user, disabled, or wrong PIN
 * @retval -EAGAIN the account is locked (out->retry_after_s)
 * @retval -EIO / -EBUSY / -ENOMEM the database or the audit log failed
 */
int auth_login(struct auth *a, const char *user_id, const char *pin, struct auth_login *out);

/* End the session of this cookie value (unknown tokens are ignored). */
void auth_logout(struct auth *a, const char *token);

/* Sessions open now (expired ones are not counted). */
int auth_session_count(struct auth *a);

/* ---- user management, used by the routes and the admin commands ---- */

/*
 * Check a new PIN. A PIN or password is 6-32 printable ASCII characters;
 * refused: all one character, an ascending or descending run (123456,
 * 987654, abcdef), the user's own id.
 * @retval 0 acceptable; -EINVAL with *en / *zh saying why (static text)
 */
int auth_pin_check(const char *pin, const char *user_id, const char **en, const char **zh);

/* A user id is 1-32 of [A-Za-z0-9._-]. */
bool auth_user_id_valid(const char *id);

/*
 * PBKDF2-HMAC-SHA256 of pin with salt, iterations rounds, 32 bytes out.
 * @retval 0, -EINVAL, -ENOMEM
 */
int auth_pin_hash(const char *pin, size_t pin_len, const uint8_t salt[AUTH_SALT_LEN],
		  uint32_t iterations, uint8_t out[AUTH_HASH_LEN]);

/* Compare n bytes in time that does not depend on where they differ. */
bool auth_equal(const void *x, const void *y, size_t n);

/* "staff" / "supervisor" / "technician" for one role bit; NULL otherwise. */
const char *auth_role_name(unsigned role);
/* The role bit of a name, 0 if unknown. */
unsigned auth_role_parse(const char *name);

/*
 * These work on any connection (the service's or the admin command's) in
 * their own transaction, and append the audit entry in it.
 * @retval 0 done; -EINVAL bad input (for a weak PIN, *en and *zh say why when not
 *         NULL); -EEXIST the id is taken; -ENOENT no such user; -EIO/-EBUSY
 */
int auth_user_add(sqlite3 *db, struct hal_clock *clock, uint32_t iterations,
		  const struct auth_actor *actor, const char *id, const char *name, unsigned role,
		  const char *pin, const char **en, const char **zh);
int auth_user_set_pin(sqlite3 *db, struct hal_clock *clock, uint32_t iterations,
		      const struct auth_actor *actor, const char *id, const char *pin,
		      const char **en, const char **zh);
int auth_user_set_disabled(sqlite3 *db, struct hal_clock *clock, const struct auth_actor *actor,
			   const char *id, bool disabled);
int auth_user_set_role(sqlite3 *db, struct hal_clock *clock, const struct auth_actor *actor,
		       const char *id, unsigned role);
/* @retval 0 found, -ENOENT, -EIO */
int auth_user_get(sqlite3 *db, const char *id, struct auth_user *u);

/*
 * Every user in id order: fn is called for each; a non-zero return stops.
 * @retval 0, -EIO, or fn's negative return
 */
int auth_user_each(sqlite3 *db, int (*fn)(const struct auth_user *u, void *arg), void *arg);

/* ---- hotline-edge admin commands, rows in firmware/main/admin.c ---- */

/* add-user USER-ID ROLE [--name NAME]: reads the PIN twice from ctx->in. */
int auth_admin_add_user(struct admin_ctx *ctx, int argc, char **argv);
/* passwd USER-ID: a new PIN (read twice); also clears a lock. */
int auth_admin_passwd(struct admin_ctx *ctx, int argc, char **argv);
/* list-users: one line per account. */
int auth_admin_list_users(struct admin_ctx *ctx, int argc, char **argv);

#endif /* AUTH_AUTH_H */
