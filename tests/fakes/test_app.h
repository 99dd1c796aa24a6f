/*
 * Set-ups the service and route tests share: a data directory with the
 * store and the PII vault open on a fake clock, staff users with sessions
 * (made directly or by logging in over HTTP), the kiosk's HTTP server behind
 * the real access check (auth_authorize), and calls made with a session's
 * cookie and CSRF token. Everything here asserts: a failure fails the
 * running cmocka test.
 */
#ifndef FAKES_TEST_APP_H
#define FAKES_TEST_APP_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "auth/auth.h"
#include "fake_clock.h"
#include "fw/config.h"
#include "kiosk/kiosk.h"
#include "test_http.h"

/* A scratch data directory, the store in it and the test's own connection. */
struct test_data {
	char dir[PATH_MAX];
	sqlite3 *db;
	struct fake_clock clk;
};

/*
 * Make a new data directory named after name, start the RNG, put the
 * clocks of the audit log, the outbox and the PII vault on d->clk (wall
 * clock at t0_ms), make the store, open d->db and, when pii is true, the
 * PII vault.
 */
void test_data_open(struct test_data *d, const char *name, int64_t t0_ms, bool pii);

/* Undo test_data_open (PII vault, connection, clocks, RNG) and remove the directory. */
void test_data_close(struct test_data *d);

/* What a browser holds of a session: the Cookie header's value and the CSRF token. */
struct test_sess {
	char cookie[AUTH_TOKEN_HEX + 32];
	char csrf[AUTH_TOKEN_HEX + 1];
};

/* Add user id (name, role, pin) as actor, on d's clock, with `iterations` PBKDF2 rounds. */
void test_user_add(struct test_data *d, uint32_t iterations, const struct auth_actor *actor,
		   const char *id, const char *name, unsigned role, const char *pin);

/* A session of user id from auth_login(), without HTTP. */
void test_session_open(struct auth *a, const char *id, const char *pin, struct test_sess *s);

/* config_defaults() with an ephemeral port, then kiosk_init(): register routes next. */
void test_kiosk_init(struct kiosk *k, struct fw_config *cfg);

/* Start the kiosk's server with cfg, behind auth_authorize() of a. */
void test_kiosk_start(struct kiosk *k, const struct fw_config *cfg, struct auth *a);

/*
 * One request to the kiosk at port: s's cookie (none when s is NULL), its
 * CSRF token on every method but GET, Content-Type ctype, len bytes of body
 * (may be binary); the answer into r.
 */
void test_http_as(uint16_t port, const struct test_sess *s, const char *method, const char *path,
		  const char *ctype, const void *body, size_t len, struct test_resp *r);

/*
 * POST /api/v1/auth/login as user with pin over HTTP (auth routes
 * registered): asserts 200, keeps the Set-Cookie value and the CSRF token
 * of the answer in s; the answer stays in r.
 */
void test_http_login(uint16_t port, const char *user, const char *pin, struct test_sess *s,
		     struct test_resp *r);

#endif /* FAKES_TEST_APP_H */
