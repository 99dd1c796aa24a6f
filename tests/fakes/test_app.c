/* Set-ups the service and route tests share (test_app.h). */
#include "test_app.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "fw/audit.h"
#include "fw/outbox.h"
#include "fw/pii.h"
#include "fw/rng.h"
#include "fw/store.h"
#include "test_util.h"

void test_data_open(struct test_data *d, const char *name, int64_t t0_ms, bool pii)
{
	memset(d, 0, sizeof(*d));
	assert_int_equal(test_tmpdir(d->dir, sizeof(d->dir), name), 0);
	assert_int_equal(rng_init(), 0);
	fake_clock_init(&d->clk, t0_ms, 1000);
	audit_set_clock(&d->clk.clock);
	outbox_set_clock(&d->clk.clock);
	pii_set_clock(&d->clk.clock);
	assert_int_equal(store_init(d->dir, NULL), 0);
	assert_int_equal(store_open(d->dir, &d->db), 0);
	if (pii) {
		assert_int_equal(pii_open(d->dir, d->db), 0);
	}
}

void test_data_close(struct test_data *d)
{
	pii_close();
	store_close(d->db);
	d->db = NULL;
	audit_set_clock(NULL);
	outbox_set_clock(NULL);
	pii_set_clock(NULL);
	rng_free();
	test_rmtree(d->dir);
}

void test_user_add(struct test_data *d, uint32_t iterations, const struct auth_actor *actor,
		   const char *id, const char *name, unsigned role, const char *pin)
{
	assert_int_equal(auth_user_add(d->db, &d->clk.clock, iterations, actor, id, name, role, pin,
				       NULL, NULL),
			 0);
}

void test_session_open(struct auth *a, const char *id, const char *pin, struct test_sess *s)
{
	struct auth_login out;

	assert_int_equal(auth_login(a, id, pin, &out), 0);
	snprintf(s->cookie, sizeof(s->cookie), "he_session=%s", out.token);
	snprintf(s->csrf, sizeof(s->csrf), "%s", out.csrf);
}

void test_kiosk_init(struct kiosk *k, struct fw_config *cfg)
{
	config_defaults(cfg);
	cfg->http_port = 0;
	kiosk_init(k);
}

void test_kiosk_start(struct kiosk *k, const struct fw_config *cfg, struct auth *a)
{
	struct kiosk_params kp = { 0 };

	kp.cfg = cfg;
	kp.authorize = auth_authorize;
	kp.authorize_arg = a;
	assert_int_equal(kiosk_start(k, &kp), 0);
}

void test_http_as(uint16_t port, const struct test_sess *s, const char *method, const char *path,
		  const char *ctype, const void *body, size_t len, struct test_resp *r)
{
	char head[1024];
	bool csrf = s != NULL && strcmp(method, "GET") != 0;
	int fd = test_http_connect(port);

	snprintf(head, sizeof(head),
		 "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s%s%s%s%s%s"
		 "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n",
		 method, path, s ? "Cookie: " : "", s ? s->cookie : "", s ? "\r\n" : "",
		 csrf ? "X-CSRF-Token: " : "", csrf ? s->csrf : "", csrf ? "\r\n" : "", ctype, len);
	test_http_send(fd, head, strlen(head));
	if (len > 0) {
		test_http_send(fd, body, len);
	}
	test_http_read(fd, r);
}

void test_http_login(uint16_t port, const char *user, const char *pin, struct test_sess *s,
		     struct test_resp *r)
{
	char body[192], v[256];
	cJSON *j;
	const char *csrf;

	snprintf(body, sizeof(body), "{\"user\":\"%s\",\"pin\":\"%s\"}", user, pin);
	test_http_as(port, NULL, "POST", "/api/v1/auth/login", "application/json", body,
		     strlen(body), r);
	test_http_assert_status(r, 200);
	j = cJSON_ParseWithLength(r->body, r->body_len);
	assert_non_null(j);
	assert_non_null(test_http_header(r, "Set-Cookie", v, sizeof(v)));
	/* "he_session=" and the token; the attributes after it are not sent back. */
	snprintf(s->cookie, sizeof(s->cookie), "%.*s", 11 + AUTH_TOKEN_HEX, v);
	csrf = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "csrf"));
	if (csrf == NULL) {
		fail_msg("no string \"csrf\" in the login answer");
	}
	snprintf(s->csrf, sizeof(s->csrf), "%s", csrf);
	cJSON_Delete(j);
}
