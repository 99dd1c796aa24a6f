/* Inside apps/auth: the service, the session table and the texts they share. */
#ifndef APPS_AUTH_AUTH_INTERNAL_H
#define APPS_AUTH_AUTH_INTERNAL_H

#include <pthread.h>

#include "auth/auth.h"

struct auth_session {
	bool used;
	uint8_t token_hash[AUTH_HASH_LEN]; /* SHA-256 of the token bytes */
	char csrf[AUTH_TOKEN_HEX + 1];
	char user_id[AUTH_USER_ID_MAX + 1];
	char name[AUTH_NAME_MAX + 1];
	unsigned role;
	int64_t generation;
	int64_t created_mono, last_mono; /* activity, on the monotonic clock */
	int64_t expires_wall;		 /* absolute end, for the screen */
};

/* The bounded session table; every function takes its mutex. */
struct auth_sessions {
	pthread_mutex_t mu;
	struct hal_clock *clock;
	int64_t idle_ms, max_ms;
	struct auth_session s[AUTH_SESSIONS_MAX];
};

void sessions_init(struct auth_sessions *t, struct hal_clock *clock, int idle_s, int max_s);
void sessions_free(struct auth_sessions *t);

/*
 * Open a session for u (evicting an expired one, else the least recently
 * used); fills the token and CSRF token (hex).
 * @retval 0, -EIO the random generator failed
 */
int sessions_open(struct auth_sessions *t, const struct auth_user *u,
		  char token[AUTH_TOKEN_HEX + 1], char csrf[AUTH_TOKEN_HEX + 1],
		  int64_t *expires_wall);

/*
 * Find the live session of a token (hex). When touch, its idle timer
 * restarts. An expired session found is removed.
 * @retval 0 *out is a copy; -ENOENT none (unknown, forged, expired)
 */
int sessions_find(struct auth_sessions *t, const char *token, bool touch, struct auth_session *out);

/* Remove the session of a token (hex); unknown ones are ignored. */
void sessions_close(struct auth_sessions *t, const char *token);

/* Remove every session of a user. */
void sessions_close_user(struct auth_sessions *t, const char *user_id);

/* Live sessions. */
int sessions_count(struct auth_sessions *t);

/* Lower-case hex of n bytes into out (2n + 1 bytes). */
void hex_encode(const uint8_t *in, size_t n, char *out);

/* users.c, shared with the service */
/* One row with its salt and hash (either may be NULL). @retval 0, -ENOENT, -EIO */
int users_load(sqlite3 *db, const char *id, struct auth_user *u, uint8_t salt[AUTH_SALT_LEN],
	       uint8_t hash[AUTH_HASH_LEN]);
/* One statement; fmt: 't' text, 'b' blob + int length, 'i' int64. @retval rows changed, <0 */
int users_exec(sqlite3 *db, const char *sql, const char *fmt, ...);
/* audit_append of one entry by actor. */
int users_audit(sqlite3 *db, const struct auth_actor *actor, const char *action, const char *target,
		const char *outcome, const char *detail);

struct auth {
	struct hal_clock *clock;
	uint32_t iterations;
	int lock_after;
	int64_t lock_ms;
	int idle_timeout_s;
	pthread_mutex_t login_mu; /* one login at a time (taken before db_mu) */
	pthread_mutex_t db_mu;	  /* the connection below */
	sqlite3 *db;
	/* A hash to spend the same work on when the user id is unknown. */
	uint8_t dummy_salt[AUTH_SALT_LEN];
	struct auth_sessions sessions;
};

/* The he_session cookie's value in a Cookie header, when it has a token's form. */
bool auth_cookie_token(const char *hdr, char out[AUTH_TOKEN_HEX + 1]);

/*
 * The caller's live, current session (a stale one is closed).
 * @retval 0 *s and token filled; -ENOENT none
 */
int auth_session_of(struct auth *a, const struct kiosk_request *req, struct auth_session *s,
		    char token[AUTH_TOKEN_HEX + 1]);

#endif /* APPS_AUTH_AUTH_INTERNAL_H */
