/*
 * The auth service: logins with lockout, the session table, and the one
 * access-control decision the kiosk server asks for every request
 * (auth_authorize).
 *
 * The design decision is that a login attempt costs the same whatever its
 * outcome: an unknown or disabled user id runs the same PBKDF2 work as a
 * real one (against a dummy salt at the current count) and writes the same
 * kind of transaction (an audit entry), so neither the answer nor its
 * timing tells whether an id exists. Logins run one at a time (login_mu),
 * so parallel guesses cannot slip past the lockout; the database mutex is
 * held only around SQL, never across the 100 ms of PBKDF2, so other
 * requests are not held up by a login.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth_internal.h"
#include "fw/log.h"
#include "fw/rng.h"
#include "fw/store.h"

#define MOD "auth"

static _Thread_local char tl_user_id[AUTH_USER_ID_MAX + 1];

int auth_create(const struct auth_params *p, struct auth **out)
{
	struct auth *a;
	int ret;

	*out = NULL;
	if (p == NULL || p->data_dir == NULL || p->clock == NULL || p->lock_after < 0 ||
	    p->lock_after > 1000 || p->lock_minutes < 0 || p->lock_minutes > 7 * 24 * 60 ||
	    p->idle_timeout_s < 0 || p->session_max_s < 0 ||
	    (p->idle_timeout_s > 0 && p->session_max_s > 0 &&
	     p->idle_timeout_s > p->session_max_s)) {
		return -EINVAL;
	}
	a = calloc(1, sizeof(*a));
	if (a == NULL) {
		return -ENOMEM;
	}
	a->clock = p->clock;
	a->iterations = p->iterations ? p->iterations : AUTH_PBKDF2_ITERATIONS;
	a->lock_after = p->lock_after ? p->lock_after : 5;
	a->lock_ms = (int64_t)(p->lock_minutes ? p->lock_minutes : 15) * 60 * 1000;
	a->idle_timeout_s = p->idle_timeout_s ? p->idle_timeout_s : 300;
	ret = rng_bytes(a->dummy_salt, sizeof(a->dummy_salt));
	if (ret < 0) {
		goto out_free;
	}
	ret = store_open(p->data_dir, &a->db);
	if (ret < 0) {
		goto out_free;
	}
	pthread_mutex_init(&a->login_mu, NULL);
	pthread_mutex_init(&a->db_mu, NULL);
	sessions_init(&a->sessions, a->clock, a->idle_timeout_s,
		      p->session_max_s ? p->session_max_s : 43200);
	*out = a;
	return 0;

out_free:
	free(a);
	return ret;
}

void auth_destroy(struct auth *a)
{
	if (a == NULL) {
		return;
	}
	sessions_free(&a->sessions);
	store_close(a->db);
	pthread_mutex_destroy(&a->db_mu);
	pthread_mutex_destroy(&a->login_mu);
	memset(a, 0, sizeof(*a));
	free(a);
}

int auth_has_supervisor(struct auth *a)
{
	sqlite3_stmt *st = NULL;
	int rc, ret;

	pthread_mutex_lock(&a->db_mu);
	rc = sqlite3_prepare_v2(a->db,
				"SELECT count(*) FROM users WHERE role = 'supervisor' AND "
				"disabled = 0",
				-1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
	}
	if (rc == SQLITE_ROW) {
		ret = sqlite3_column_int(st, 0) > 0;
	} else {
		ret = store_err(a->db, rc, "counting supervisors");
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&a->db_mu);
	return ret;
}

/* Record a failed attempt (and the lock it may cause) with its audit entry. */
static int record_failure(struct auth *a, const struct auth_user *u, bool known,
			  const char *actor_id, const char *reason, int64_t now, bool *locked)
{
	struct auth_actor actor = { actor_id, known ? auth_role_name(u->role) : "citizen" };
	char detail[96];
	int ret;

	*locked = false;
	ret = store_begin(a->db);
	if (ret < 0) {
		return ret;
	}
	if (known && strcmp(reason, "wrong_pin") == 0) {
		int failed = u->failed_count + 1;

		*locked = failed >= a->lock_after;
		/* The count starts again once a lock is set: after it ends, another
		 * lock_after wrong PINs are needed for the next one. */
		ret = users_exec(
			a->db,
			"UPDATE users SET failed_count = ?, locked_until_ms = ? WHERE id = ?",
			"iit", (int64_t)(*locked ? 0 : failed),
			*locked ? now + a->lock_ms : (int64_t)0, u->id);
		if (ret < 0) {
			goto out_rollback;
		}
	}
	snprintf(detail, sizeof(detail), "{\"reason\":\"%s\"}", reason);
	ret = users_audit(a->db, &actor, "auth.login", known ? u->id : actor_id,
			  *locked ? "locked" : "failed", detail);
	if (ret < 0) {
		goto out_rollback;
	}
	return store_commit(a->db);

out_rollback:
	store_rollback(a->db);
	return ret;
}

static int record_success(struct auth *a, const struct auth_user *u, const uint8_t *salt,
			  const uint8_t *hash)
{
	struct auth_actor actor = { u->id, auth_role_name(u->role) };
	int ret = store_begin(a->db);

	if (ret < 0) {
		return ret;
	}
	ret = users_exec(a->db,
			 "UPDATE users SET failed_count = 0, locked_until_ms = 0 WHERE id = ?", "t",
			 u->id);
	if (ret >= 0 && salt != NULL) {
		/* Same PIN, a higher count: no generation bump, sessions stay. */
		ret = users_exec(
			a->db,
			"UPDATE users SET salt = ?, pin_hash = ?, iterations = ? WHERE id = ?",
			"bbit", salt, AUTH_SALT_LEN, hash, AUTH_HASH_LEN, (int64_t)a->iterations,
			u->id);
	}
	if (ret >= 0) {
		ret = users_audit(a->db, &actor, "auth.login", u->id, "ok", NULL);
	}
	if (ret < 0) {
		store_rollback(a->db);
		return ret;
	}
	return store_commit(a->db);
}

int auth_login(struct auth *a, const char *user_id, const char *pin, struct auth_login *out)
{
	uint8_t salt[AUTH_SALT_LEN], want[AUTH_HASH_LEN], got[AUTH_HASH_LEN];
	uint8_t new_salt[AUTH_SALT_LEN], new_hash[AUTH_HASH_LEN];
	bool valid_id = auth_user_id_valid(user_id);
	const char *actor_id = valid_id ? user_id : "(invalid)";
	struct auth_user u;
	bool known, match, locked, rehash = false;
	uint32_t iterations;
	int64_t now;
	int ret;

	memset(out, 0, sizeof(*out));
	if (pin == NULL) {
		pin = "";
	}
	pthread_mutex_lock(&a->login_mu);
	pthread_mutex_lock(&a->db_mu);
	ret = valid_id ? users_load(a->db, user_id, &u, salt, want) : -ENOENT;
	pthread_mutex_unlock(&a->db_mu);
	if (ret < 0 && ret != -ENOENT) {
		goto out;
	}
	known = ret == 0;
	if (!known) {
		memset(&u, 0, sizeof(u));
		memcpy(salt, a->dummy_salt, sizeof(salt));
		memset(want, 0, sizeof(want));
	}
	iterations = known && u.iterations > 0 ? u.iterations : a->iterations;
	ret = auth_pin_hash(pin, strlen(pin), salt, iterations, got);
	if (ret < 0) {
		goto out;
	}
	match = auth_equal(got, want, sizeof(got)) && known;
	now = hal_clock_wall_ms(a->clock);
	if (match && !u.disabled && u.locked_until_ms <= now && u.iterations < a->iterations) {
		rehash = rng_bytes(new_salt, sizeof(new_salt)) == 0 &&
			 auth_pin_hash(pin, strlen(pin), new_salt, a->iterations, new_hash) == 0;
	}

	pthread_mutex_lock(&a->db_mu);
	if (!known || u.disabled) {
		ret = record_failure(a, &u, known, actor_id, known ? "disabled" : "unknown_user",
				     now, &locked);
		ret = ret < 0 ? ret : -EACCES;
	} else if (u.locked_until_ms > now) {
		struct auth_actor actor = { u.id, auth_role_name(u.role) };

		ret = users_audit(a->db, &actor, "auth.login", u.id, "locked",
				  "{\"reason\":\"locked\"}");
		out->retry_after_s = (u.locked_until_ms - now + 999) / 1000;
		ret = ret < 0 ? ret : -EAGAIN;
	} else if (!match) {
		ret = record_failure(a, &u, true, actor_id, "wrong_pin", now, &locked);
		if (ret == 0 && locked) {
			log_warn(MOD, "account '%s' locked for %lld minutes after %d wrong PINs",
				 u.id, (long long)(a->lock_ms / 60000), a->lock_after);
			out->retry_after_s = a->lock_ms / 1000;
		}
		ret = ret < 0 ? ret : locked ? -EAGAIN : -EACCES;
	} else {
		ret = record_success(a, &u, rehash ? new_salt : NULL, new_hash);
	}
	pthread_mutex_unlock(&a->db_mu);
	if (ret < 0) {
		goto out;
	}
	u.failed_count = 0;
	u.locked_until_ms = 0;
	out->user = u;
	ret = sessions_open(&a->sessions, &u, out->token, out->csrf, &out->expires_ms);
out:
	pthread_mutex_unlock(&a->login_mu);
	memset(got, 0, sizeof(got));
	memset(new_hash, 0, sizeof(new_hash));
	return ret;
}

void auth_logout(struct auth *a, const char *token)
{
	struct auth_session s;

	if (sessions_find(&a->sessions, token, false, &s) != 0) {
		return;
	}
	sessions_close(&a->sessions, token);
	struct auth_actor actor = { s.user_id, auth_role_name(s.role) };

	pthread_mutex_lock(&a->db_mu);
	if (users_audit(a->db, &actor, "auth.logout", s.user_id, "ok", NULL) < 0) {
		log_warn(MOD, "the logout of '%s' could not be recorded in the audit log",
			 s.user_id);
	}
	pthread_mutex_unlock(&a->db_mu);
}

int auth_session_count(struct auth *a)
{
	return sessions_count(&a->sessions);
}

/* ---- the access-control hook ---- */

/* The he_session cookie's value when it has the form of a token. */
bool auth_cookie_token(const char *hdr, char out[AUTH_TOKEN_HEX + 1])
{
	const size_t nl = strlen(AUTH_COOKIE);
	const char *p = hdr;

	while (p != NULL && *p != '\0') {
		const char *end, *eq, *v;
		size_t vl;

		while (*p == ' ' || *p == '\t' || *p == ';') {
			p++;
		}
		end = p + strcspn(p, ";");
		eq = memchr(p, '=', (size_t)(end - p));
		if (eq != NULL && (size_t)(eq - p) == nl && memcmp(p, AUTH_COOKIE, nl) == 0) {
			v = eq + 1;
			vl = (size_t)(end - v);
			while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t')) {
				vl--;
			}
			if (vl == AUTH_TOKEN_HEX) {
				memcpy(out, v, vl);
				out[vl] = '\0';
				return true;
			}
		}
		p = end;
	}
	return false;
}

/* The session is still the user's: same generation, not disabled. */
static bool session_current(struct auth *a, const struct auth_session *s)
{
	struct auth_user u;
	int ret;

	pthread_mutex_lock(&a->db_mu);
	ret = users_load(a->db, s->user_id, &u, NULL, NULL);
	pthread_mutex_unlock(&a->db_mu);
	return ret == 0 && !u.disabled && u.generation == s->generation;
}

int auth_session_of(struct auth *a, const struct kiosk_request *req, struct auth_session *s,
		    char token[AUTH_TOKEN_HEX + 1])
{
	if (!auth_cookie_token(kiosk_req_header(req, "Cookie"), token) ||
	    sessions_find(&a->sessions, token, false, s) != 0) {
		return -ENOENT;
	}
	if (!session_current(a, s)) {
		/* Disabled, new PIN or new role, perhaps by the admin command. */
		sessions_close(&a->sessions, token);
		return -ENOENT;
	}
	return 0;
}

static bool state_changing(const char *method)
{
	return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
	       strcmp(method, "OPTIONS") != 0;
}

static bool csrf_ok(const struct kiosk_request *req, const struct auth_session *s)
{
	const char *v = kiosk_req_header(req, "X-CSRF-Token");

	return v != NULL && strlen(v) == AUTH_TOKEN_HEX && auth_equal(v, s->csrf, AUTH_TOKEN_HEX);
}

static void set_caller(struct kiosk_request *req, const struct auth_session *s)
{
	snprintf(tl_user_id, sizeof(tl_user_id), "%s", s->user_id);
	req->user_id = tl_user_id;
	req->user_role = s->role;
}

int auth_authorize(struct kiosk_request *req, void *arg)
{
	struct auth *a = arg;
	unsigned roles = req->route->roles;
	bool changing = state_changing(req->method);
	char token[AUTH_TOKEN_HEX + 1];
	struct auth_session s;
	bool have;

	req->user_id = NULL;
	req->user_role = 0;
	have = auth_session_of(a, req, &s, token) == 0;
	if (roles == KIOSK_ROLE_PUBLIC) {
		/* Citizens' routes: a session without its CSRF token is ignored. */
		if (have && (!changing || csrf_ok(req, &s))) {
			set_caller(req, &s);
		}
		return 0;
	}
	if (!have) {
		kiosk_reply_error(req, 401, "login_required",
				  "Please log in: you are not logged in or your session has ended.",
				  "请登录：尚未登录或登录已过期。");
		kiosk_reply_header(req, "Set-Cookie",
				   AUTH_COOKIE "=; HttpOnly; SameSite=Strict; "
					       "Path=/; Max-Age=0");
		return -EACCES;
	}
	if ((roles & s.role) == 0) {
		kiosk_reply_error(req, 403, "forbidden", "Your role is not allowed to do this.",
				  "您的角色无权执行此操作。");
		return -EPERM;
	}
	if (changing && !csrf_ok(req, &s)) {
		kiosk_reply_error(req, 403, "csrf",
				  "The request lacks this session's security token; reload the "
				  "page and try again.",
				  "请求缺少本次登录的安全令牌，请刷新页面后重试。");
		return -EPERM;
	}
	(void)sessions_find(&a->sessions, token, true, NULL);
	set_caller(req, &s);
	return 0;
}
