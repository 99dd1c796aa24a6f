/*
 * The local HTTP server, over real HTTP on a loopback kernel socket: the
 * shell's files and headers, health from the caller's callback, the error
 * shape for 400/404/405/413, HEAD, path traversal, the loopback-only rule,
 * a taken port, and routes added by another app. The client is a minimal
 * hand-written one so the test sees exactly the bytes on the wire; a
 * receive timeout guards against a hang but nothing waits on the clock.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "fw/config.h"
#include "kiosk/kiosk.h"
#include "test_http.h"

#define BODY_MAX 1024

struct fixture {
	struct kiosk k;
	struct fw_config cfg;
	int health_calls;
	struct test_resp r;
};

static void get(struct fixture *f, const char *method, const char *path)
{
	test_http_call(kiosk_port(&f->k), method, path, &f->r);
}

static void assert_security_headers(const struct test_resp *r)
{
	test_http_assert_header(r, "Content-Security-Policy", "default-src 'self'");
	test_http_assert_header(r, "X-Content-Type-Options", "nosniff");
	test_http_assert_header(r, "X-Frame-Options", "DENY");
	test_http_assert_header(r, "Referrer-Policy", "no-referrer");
}

/* The one error shape, with the headers every answer carries. */
static void assert_error(const struct test_resp *r, int status, const char *code)
{
	test_http_assert_error(r, status, code);
	test_http_assert_header(r, "Content-Type", "application/json; charset=utf-8");
	assert_security_headers(r);
}

/* ---- app routes, as another app would add them ---- */

static int echo_route(struct kiosk_request *req, void *arg)
{
	cJSON *out = cJSON_CreateObject();
	int rc;

	cJSON_AddNumberToObject(out, "len", (double)req->body_len);
	cJSON_AddStringToObject(out, "rest", req->rest);
	cJSON_AddStringToObject(out, "method", req->method);
	rc = kiosk_reply_json(req, 200, out);
	cJSON_Delete(out);
	if (rc == 0) {
		rc = kiosk_reply_header(req, "X-Echo", "1");
	}
	return rc;
}

static int fail_route(struct kiosk_request *req, void *arg)
{
	return *(int *)arg;
}

static int json_route(struct kiosk_request *req, void *arg)
{
	cJSON *in = kiosk_req_json(req);
	const char *q = kiosk_req_query(req, "q");
	int rc;

	if (in == NULL || q == NULL) {
		cJSON_Delete(in);
		return kiosk_reply_error(req, 400, "bad_json", "The body is not JSON.",
					 "请求内容不是 JSON。");
	}
	cJSON_AddStringToObject(in, "q", q);
	rc = kiosk_reply_json(req, 201, in);
	cJSON_Delete(in);
	return rc;
}

/* kiosk_req_object() and kiosk_reply_obj(): echoes the object with "seen": true;
 * {"null": true} makes it reply with a NULL object (out of memory). */
static int obj_route(struct kiosk_request *req, void *arg)
{
	int ret = -1;
	cJSON *in = kiosk_req_object(req, &ret);

	if (in == NULL) {
		return ret; /* the 400 was made: 0 */
	}
	if (cJSON_IsTrue(cJSON_GetObjectItem(in, "null"))) {
		cJSON_Delete(in);
		return kiosk_reply_obj(req, 200, NULL); /* -ENOMEM: 500 */
	}
	cJSON_AddBoolToObject(in, "seen", true);
	return kiosk_reply_obj(req, 201, in); /* consumes in: ASan would see a leak */
}

static int err_noent = -ENOENT;
static int err_io = -EIO;

static const struct kiosk_route test_routes[] = {
	{ "POST", "/api/v1/echo", false, KIOSK_ROLE_PUBLIC, echo_route, NULL },
	{ "GET", "/api/v1/items/", true, KIOSK_ROLE_PUBLIC, echo_route, NULL },
	{ "DELETE", "/api/v1/items/", true, KIOSK_ROLE_STAFF, echo_route, NULL },
	{ "GET", "/api/v1/missing", false, KIOSK_ROLE_PUBLIC, fail_route, &err_noent },
	{ "GET", "/api/v1/broken", false, KIOSK_ROLE_PUBLIC, fail_route, &err_io },
	{ "PUT", "/api/v1/json", false, KIOSK_ROLE_PUBLIC, json_route, NULL },
	{ "POST", "/api/v1/obj", false, KIOSK_ROLE_PUBLIC, obj_route, NULL },
};

static void health_cb(cJSON *out, void *arg)
{
	struct fixture *f = arg;

	f->health_calls++;
	cJSON_AddStringToObject(out, "board", "test");
	cJSON_AddStringToObject(cJSON_AddObjectToObject(out, "uplink"), "state", "down");
}

static void test_cfg(struct fw_config *cfg)
{
	config_defaults(cfg);
	snprintf(cfg->office_name, sizeof(cfg->office_name), "%s", "城关镇受理点");
	cfg->http_port = 0;
	cfg->http_body_max = BODY_MAX;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct kiosk_params p = { 0 };

	assert_non_null(f);
	test_cfg(&f->cfg);
	kiosk_init(&f->k);
	for (size_t i = 0; i < sizeof(test_routes) / sizeof(test_routes[0]); i++) {
		assert_int_equal(kiosk_route_add(&f->k, &test_routes[i]), 0);
	}
	p.cfg = &f->cfg;
	p.health = health_cb;
	p.health_arg = f;
	assert_int_equal(kiosk_start(&f->k, &p), 0);
	assert_true(kiosk_port(&f->k) != 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	kiosk_stop(&f->k);
	assert_int_equal(kiosk_port(&f->k), 0);
	kiosk_stop(&f->k); /* stopping twice is harmless */
	free(f);
	return 0;
}

static const struct fw_embed_file *shell_file(const char *path)
{
	for (const struct fw_embed_file *e = kiosk_web_files; e->path != NULL; e++) {
		if (strcmp(e->path, path) == 0) {
			return e;
		}
	}
	fail_msg("%s is not in the embedded shell", path);
	return NULL;
}

/* ---- tests ---- */

static void test_index_served(void **state)
{
	struct fixture *f = *state;
	const struct fw_embed_file *index = shell_file("/index.html");

	get(f, "GET", "/");
	assert_int_equal(f->r.status, 200);
	test_http_assert_header(&f->r, "Content-Type", "text/html; charset=utf-8");
	test_http_assert_header(&f->r, "Cache-Control", "no-cache");
	assert_security_headers(&f->r);
	assert_int_equal(f->r.body_len, index->size);
	assert_memory_equal(f->r.body, index->data, index->size);
	assert_non_null(strstr(f->r.body, "取号"));

	get(f, "GET", "/index.html");
	assert_int_equal(f->r.status, 200);
	assert_int_equal(f->r.body_len, index->size);
}

static void test_assets_types(void **state)
{
	struct fixture *f = *state;

	get(f, "GET", "/app.js");
	assert_int_equal(f->r.status, 200);
	test_http_assert_header(&f->r, "Content-Type", "text/javascript; charset=utf-8");
	assert_int_equal(f->r.body_len, shell_file("/app.js")->size);
	get(f, "GET", "/app.css");
	assert_int_equal(f->r.status, 200);
	test_http_assert_header(&f->r, "Content-Type", "text/css; charset=utf-8");
	assert_security_headers(&f->r);
}

static void test_head(void **state)
{
	struct fixture *f = *state;
	char len[32], want[32];

	get(f, "HEAD", "/");
	assert_int_equal(f->r.status, 200);
	test_http_assert_header(&f->r, "Content-Type", "text/html; charset=utf-8");
	snprintf(want, sizeof(want), "%zu", shell_file("/index.html")->size);
	assert_non_null(test_http_header(&f->r, "Content-Length", len, sizeof(len)));
	assert_string_equal(len, want);
	assert_int_equal(f->r.body_len, 0);

	get(f, "HEAD", "/api/v1/health");
	assert_int_equal(f->r.status, 200);
	assert_int_equal(f->r.body_len, 0);
}

static void test_health(void **state)
{
	struct fixture *f = *state;
	cJSON *root;
	int before = f->health_calls;

	get(f, "GET", "/api/v1/health");
	assert_int_equal(f->r.status, 200);
	test_http_assert_header(&f->r, "Content-Type", "application/json; charset=utf-8");
	test_http_assert_header(&f->r, "Cache-Control", "no-store");
	assert_security_headers(&f->r);
	assert_int_equal(f->health_calls, before + 1);
	root = cJSON_ParseWithLength(f->r.body, f->r.body_len);
	assert_non_null(root);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(root, "office_name")),
			    "城关镇受理点");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(root, "board")), "test");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(
				    cJSON_GetObjectItem(root, "uplink"), "state")),
			    "down");
	cJSON_Delete(root);
}

static void test_not_found(void **state)
{
	struct fixture *f = *state;

	get(f, "GET", "/api/v1/nope");
	assert_error(&f->r, 404, "not_found");
	get(f, "GET", "/nope.html");
	assert_error(&f->r, 404, "not_found");
	get(f, "GET", "/api/v1/health/extra");
	assert_error(&f->r, 404, "not_found");
	/* API paths never fall through to the static files */
	get(f, "GET", "/api/index.html");
	assert_error(&f->r, 404, "not_found");
}

static void test_method_not_allowed(void **state)
{
	struct fixture *f = *state;

	get(f, "POST", "/api/v1/health");
	assert_error(&f->r, 405, "method_not_allowed");
	test_http_assert_header(&f->r, "Allow", "GET, HEAD");

	get(f, "DELETE", "/index.html");
	assert_error(&f->r, 405, "method_not_allowed");
	test_http_assert_header(&f->r, "Allow", "GET, HEAD");

	get(f, "GET", "/api/v1/echo");
	assert_error(&f->r, 405, "method_not_allowed");
	test_http_assert_header(&f->r, "Allow", "POST");

	get(f, "PUT", "/api/v1/items/7");
	assert_error(&f->r, 405, "method_not_allowed");
	test_http_assert_header(&f->r, "Allow", "GET, DELETE, HEAD");
}

static void post_body(struct fixture *f, size_t len)
{
	char head[256];
	char *body = malloc(len + 1);
	int fd;

	assert_non_null(body);
	memset(body, 'x', len);
	snprintf(head, sizeof(head),
		 "POST /api/v1/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
		 "Content-Length: %zu\r\n\r\n",
		 len);
	fd = test_http_connect(kiosk_port(&f->k));
	test_http_send(fd, head, strlen(head));
	test_http_send(fd, body, len);
	test_http_read(fd, &f->r);
	free(body);
}

static void test_body_cap(void **state)
{
	struct fixture *f = *state;
	cJSON *root;
	int fd;

	post_body(f, BODY_MAX);
	assert_int_equal(f->r.status, 200);
	test_http_assert_header(&f->r, "X-Echo", "1");
	root = cJSON_ParseWithLength(f->r.body, f->r.body_len);
	assert_non_null(root);
	assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(root, "len")), BODY_MAX);
	cJSON_Delete(root);

	/* Declared too large: refused from the headers alone, before any body byte. */
	fd = test_http_connect(kiosk_port(&f->k));
	test_http_send(
		fd,
		"POST /api/v1/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
		"Content-Length: 1025\r\n\r\n",
		strlen("POST /api/v1/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
		       "Content-Length: 1025\r\n\r\n"));
	test_http_read(fd, &f->r);
	assert_error(&f->r, 413, "payload_too_large");

	/* A declared size far beyond any buffer, also from the headers alone. */
	test_http_request(kiosk_port(&f->k),
			  "POST /api/v1/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
			  "Content-Length: 99999999999999999999\r\n\r\n",
			  &f->r);
	assert_true(f->r.status == 413 || f->r.status == 400);
}

/* Chunked: no size up front, so the server counts as the chunks arrive. */
static void test_body_cap_chunked(void **state)
{
	struct fixture *f = *state;
	char chunk[600];
	char line[32];
	int fd = test_http_connect(kiosk_port(&f->k));
	const char *head = "POST /api/v1/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
			   "Transfer-Encoding: chunked\r\n\r\n";

	memset(chunk, 'y', sizeof(chunk));
	test_http_send(fd, head, strlen(head));
	for (int i = 0; i < 2; i++) {
		snprintf(line, sizeof(line), "%zx\r\n", sizeof(chunk));
		test_http_send(fd, line, strlen(line));
		test_http_send(fd, chunk, sizeof(chunk));
		test_http_send(fd, "\r\n", 2);
	}
	test_http_send(fd, "0\r\n\r\n", 5);
	test_http_read(fd, &f->r);
	assert_error(&f->r, 413, "payload_too_large");

	/* Under the cap, chunked is fine. */
	fd = test_http_connect(kiosk_port(&f->k));
	test_http_send(fd, head, strlen(head));
	snprintf(line, sizeof(line), "%zx\r\n", sizeof(chunk));
	test_http_send(fd, line, strlen(line));
	test_http_send(fd, chunk, sizeof(chunk));
	test_http_send(fd, "\r\n0\r\n\r\n", 7);
	test_http_read(fd, &f->r);
	assert_int_equal(f->r.status, 200);
	assert_non_null(strstr(f->r.body, "\"len\":600"));
}

/* A body that never ends is cut off, not read forever nor buffered. */
static void test_body_endless(void **state)
{
	struct fixture *f = *state;
	const char *head = "POST /api/v1/echo HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			   "Transfer-Encoding: chunked\r\n\r\n";
	char chunk[512 + 8];
	size_t sent = 0;
	const size_t limit = 64u * 1024 * 1024;
	int fd = test_http_connect(kiosk_port(&f->k));

	memset(chunk, 'z', sizeof(chunk));
	memcpy(chunk, "200\r\n", 5);
	memcpy(chunk + 5 + 512, "\r\n", 2);
	assert_int_equal(send(fd, head, strlen(head), MSG_NOSIGNAL), (ssize_t)strlen(head));
	while (sent < limit) {
		ssize_t n = send(fd, chunk, 5 + 512 + 2, MSG_NOSIGNAL);

		if (n < 0) {
			assert_true(errno == EPIPE || errno == ECONNRESET);
			break;
		}
		sent += (size_t)n;
	}
	close(fd);
	assert_true(sent < limit);
}

/* Only an IP address or localhost names this server (DNS rebinding). */
static void test_host_header(void **state)
{
	struct fixture *f = *state;
	static const char *const good[] = { "127.0.0.1", "127.0.0.1:8080", "localhost",
					    "LOCALHOST:80", "192.168.1.5:8080" };
	static const char *const bad[] = {
		"evil.example",	    "evil.example:8080",     "127.0.0.1:", "127.0.0.1:80a", ":8080",
		"127.0.0.1.nip.io", "localhost.evil.example"
	};
	char raw[256];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(raw, sizeof(raw),
			 "GET /api/v1/health HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
			 good[i]);
		test_http_request(kiosk_port(&f->k), raw, &f->r);
		if (f->r.status != 200) {
			fail_msg("Host %s refused: %d", good[i], f->r.status);
		}
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(raw, sizeof(raw),
			 "GET /api/v1/health HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
			 bad[i]);
		test_http_request(kiosk_port(&f->k), raw, &f->r);
		assert_error(&f->r, 421, "bad_host");
	}
	/* HTTP/1.0 without a Host header is still served. */
	test_http_request(kiosk_port(&f->k), "GET /api/v1/health HTTP/1.0\r\n\r\n", &f->r);
	assert_int_equal(f->r.status, 200);
}

static void test_traversal(void **state)
{
	struct fixture *f = *state;
	static const char *const paths[] = {
		"/../../../../etc/passwd",
		"/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
		"/%2E%2E/%2E%2E/etc/passwd",
		"/api/v1/../../index.html",
		"/api/v1/items/..%2f..%2fhealth",
		"/./index.html",
		"/..",
		"/%5c..%5cindex.html",
		"/index.html%00.png",
	};

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		get(f, "GET", paths[i]);
		if (f->r.status == 200) {
			fail_msg("%s was served", paths[i]);
		}
		assert_true(f->r.status == 400 || f->r.status == 404);
		assert_error(&f->r, f->r.status, f->r.status == 400 ? "bad_path" : "not_found");
		assert_null(strstr(f->r.body, "root:"));
	}
	/* A dot inside a name is fine. */
	get(f, "GET", "/api/v1/items/a..b");
	assert_int_equal(f->r.status, 200);
}

static void test_app_routes(void **state)
{
	struct fixture *f = *state;
	const char *put = "PUT /api/v1/json?q=%E4%BD%A0 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			  "Connection: close\r\nContent-Type: application/json\r\n"
			  "Content-Length: 9\r\n\r\n{\"a\": 1}\n";
	cJSON *root;

	get(f, "GET", "/api/v1/items/42");
	assert_int_equal(f->r.status, 200);
	assert_non_null(strstr(f->r.body, "\"rest\":\"42\""));
	get(f, "DELETE", "/api/v1/items/42");
	assert_int_equal(f->r.status, 200);
	assert_non_null(strstr(f->r.body, "\"method\":\"DELETE\""));

	get(f, "GET", "/api/v1/missing");
	assert_error(&f->r, 404, "not_found");
	get(f, "GET", "/api/v1/broken");
	assert_error(&f->r, 500, "internal");

	test_http_request(kiosk_port(&f->k), put, &f->r);
	assert_int_equal(f->r.status, 201);
	root = cJSON_ParseWithLength(f->r.body, f->r.body_len);
	assert_non_null(root);
	assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(root, "a")), 1);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(root, "q")), "你");
	cJSON_Delete(root);

	test_http_request(
		kiosk_port(&f->k),
		"PUT /api/v1/json?q=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
		"Content-Length: 3\r\n\r\n{{{",
		&f->r);
	assert_error(&f->r, 400, "bad_json");

	/* The table is closed while serving. */
	assert_int_equal(kiosk_route_add(&f->k, &test_routes[0]), -EBUSY);
}

static void post_obj(struct fixture *f, const char *body)
{
	char raw[512];

	snprintf(raw, sizeof(raw),
		 "POST /api/v1/obj HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
		 "Content-Length: %zu\r\n\r\n%s",
		 strlen(body), body);
	test_http_request(kiosk_port(&f->k), raw, &f->r);
}

static void test_req_object_reply_obj(void **state)
{
	struct fixture *f = *state;
	cJSON *root;

	post_obj(f, "{\"a\": \"x\"}");
	assert_int_equal(f->r.status, 201);
	root = cJSON_ParseWithLength(f->r.body, f->r.body_len);
	assert_non_null(root);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(root, "a")), "x");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(root, "seen")));
	cJSON_Delete(root);

	/* Not JSON, JSON but not an object, and no body at all: one 400 in both languages. */
	post_obj(f, "{{{");
	assert_error(&f->r, 400, "bad_json");
	assert_non_null(strstr(f->r.body, "The request body is not a JSON object."));
	assert_non_null(strstr(f->r.body, "请求内容不是有效的 JSON 对象。"));
	post_obj(f, "[1, 2]");
	assert_error(&f->r, 400, "bad_json");
	post_obj(f, "\"text\"");
	assert_error(&f->r, 400, "bad_json");
	post_obj(f, "");
	assert_error(&f->r, 400, "bad_json");

	/* A NULL object is -ENOMEM, which the dispatcher answers with 500. */
	post_obj(f, "{\"null\": true}");
	assert_error(&f->r, 500, "internal");
}

static void test_role_name(void **state)
{
	(void)state;
	assert_string_equal(kiosk_role_name(KIOSK_ROLE_STAFF), "staff");
	assert_string_equal(kiosk_role_name(KIOSK_ROLE_SUPERVISOR), "supervisor");
	assert_string_equal(kiosk_role_name(KIOSK_ROLE_TECHNICIAN), "technician");
	assert_string_equal(kiosk_role_name(KIOSK_ROLE_PUBLIC), "citizen");
	/* Not one role bit: never NULL, never a staff role. */
	assert_string_equal(kiosk_role_name(KIOSK_ROLE_STAFF | KIOSK_ROLE_SUPERVISOR), "citizen");
	assert_string_equal(kiosk_role_name(1u << 20), "citizen");
}

static void test_route_add_rules(void **state)
{
	struct kiosk k;
	struct kiosk_route r = { "GET", "/api/v1/x", false, KIOSK_ROLE_PUBLIC, echo_route, NULL };
	struct kiosk_route bad = r;
	struct kiosk_route health = r;
	char path[KIOSK_MAX_ROUTES][16];
	unsigned i;

	kiosk_init(&k);
	assert_int_equal(kiosk_route_add(&k, &r), 0);
	assert_int_equal(kiosk_route_add(&k, &r), -EEXIST);
	health.path = "/api/v1/health";
	assert_int_equal(kiosk_route_add(&k, &health), -EEXIST);
	bad.path = "api/v1/x";
	assert_int_equal(kiosk_route_add(&k, &bad), -EINVAL);
	bad = r;
	bad.handler = NULL;
	assert_int_equal(kiosk_route_add(&k, &bad), -EINVAL);
	bad = r;
	bad.method = NULL;
	assert_int_equal(kiosk_route_add(&k, &bad), -EINVAL);
	for (i = 1; i < KIOSK_MAX_ROUTES; i++) {
		snprintf(path[i], sizeof(path[i]), "/r/%u", i);
		r.path = path[i];
		assert_int_equal(kiosk_route_add(&k, &r), 0);
	}
	r.path = "/one/too/many";
	assert_int_equal(kiosk_route_add(&k, &r), -ENOSPC);
}

static void test_lan_refused(void **state)
{
	static const struct {
		const char *listen;
		bool allow_lan;
		int want;
	} cases[] = {
		{ "0.0.0.0", false, -EACCES },
		{ "192.168.1.10", false, -EACCES },
		{ "10.0.0.1", false, -EACCES },
		{ "localhost", false, -EINVAL },
		{ "127.0.0.1:80", false, -EINVAL },
		{ "", false, -EINVAL },
		/* allowed, but not an address of this machine */
		{ "192.0.2.1", true, -EADDRNOTAVAIL },
	};
	struct fw_config cfg;
	struct kiosk k;
	struct kiosk_params p = { .cfg = &cfg };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		test_cfg(&cfg);
		snprintf(cfg.http_listen, sizeof(cfg.http_listen), "%s", cases[i].listen);
		cfg.http_allow_lan = cases[i].allow_lan;
		kiosk_init(&k);
		assert_int_equal(kiosk_start(&k, &p), cases[i].want);
		assert_int_equal(kiosk_port(&k), 0);
		kiosk_stop(&k);
	}
	test_cfg(&cfg);
	cfg.http_body_max = 0;
	kiosk_init(&k);
	assert_int_equal(kiosk_start(&k, &p), -EINVAL);
}

static void test_port_in_use(void **state)
{
	struct fixture *f = *state;
	struct fw_config cfg;
	struct kiosk k;
	struct kiosk_params p = { .cfg = &cfg };

	test_cfg(&cfg);
	cfg.http_port = kiosk_port(&f->k);
	kiosk_init(&k);
	assert_int_equal(kiosk_start(&k, &p), -EADDRINUSE);
	assert_int_equal(kiosk_start(&f->k, &p), -EALREADY);
	/* the first server is unharmed */
	get(f, "GET", "/api/v1/health");
	assert_int_equal(f->r.status, 200);
}

static void health_names_office(cJSON *out, void *arg)
{
	cJSON_AddStringToObject(out, "office_name", "from the callback");
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++) {
		n++;
	}
	return n;
}

/*
 * Without a health callback the shell still learns the office name; a
 * callback that names the office itself is not contradicted by a second key.
 */
static void test_health_office_name(void **state)
{
	struct fw_config cfg;
	struct kiosk k;
	struct kiosk_params p = { .cfg = &cfg };
	struct test_resp *r = malloc(sizeof(*r));
	const char *req =
		"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";

	assert_non_null(r);
	test_cfg(&cfg);
	kiosk_init(&k);
	assert_int_equal(kiosk_start(&k, &p), 0);
	test_http_request(kiosk_port(&k), req, r);
	assert_int_equal(r->status, 200);
	assert_string_equal(r->body, "{\"office_name\":\"城关镇受理点\"}");
	kiosk_stop(&k);

	p.health = health_names_office;
	assert_int_equal(kiosk_start(&k, &p), 0);
	test_http_request(kiosk_port(&k), req, r);
	assert_int_equal(r->status, 200);
	assert_int_equal(count(r->body, "office_name"), 1);
	assert_non_null(strstr(r->body, "\"office_name\":\"from the callback\""));
	kiosk_stop(&k);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_index_served, setup, teardown),
		cmocka_unit_test_setup_teardown(test_assets_types, setup, teardown),
		cmocka_unit_test_setup_teardown(test_head, setup, teardown),
		cmocka_unit_test_setup_teardown(test_health, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_found, setup, teardown),
		cmocka_unit_test_setup_teardown(test_method_not_allowed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_body_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_body_cap_chunked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_body_endless, setup, teardown),
		cmocka_unit_test_setup_teardown(test_traversal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_app_routes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_req_object_reply_obj, setup, teardown),
		cmocka_unit_test(test_role_name),
		cmocka_unit_test(test_route_add_rules),
		cmocka_unit_test(test_lan_refused),
		cmocka_unit_test_setup_teardown(test_port_in_use, setup, teardown),
		cmocka_unit_test(test_health_office_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
