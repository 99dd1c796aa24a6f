/*
 * The tests' HTTP/1.1 client, hand-written so nothing between the test and
 * the server rewrites a byte. One non-asserting core (open, send, receive,
 * split) serves both the asserting calls unit tests use and the polling
 * call the daemon test needs while the server starts and after it stops.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "test_http.h"

/* A socket connected to 127.0.0.1:port with both timeouts, or -errno. */
static int open_fd(uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct timeval tv = { .tv_sec = TEST_HTTP_TIMEOUT_S };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int err;

	if (fd < 0) {
		return -errno;
	}
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		err = errno;
		close(fd);
		return -err;
	}
	return fd;
}

/* Read to EOF (or a full buffer, or the timeout), close fd, split; 0 or -EPROTO. */
static int receive(int fd, struct test_resp *r)
{
	char *end;
	ssize_t n;

	r->status = -1;
	r->head = r->body = r->raw;
	r->body_len = 0;
	r->raw_len = 0;
	while (r->raw_len < sizeof(r->raw) - 1 &&
	       (n = recv(fd, r->raw + r->raw_len, sizeof(r->raw) - 1 - r->raw_len, 0)) > 0) {
		r->raw_len += (size_t)n;
	}
	r->raw[r->raw_len] = '\0';
	close(fd);
	end = strstr(r->raw, "\r\n\r\n");
	if (end == NULL) {
		return -EPROTO;
	}
	*end = '\0';
	r->body = end + 4;
	r->body_len = r->raw_len - (size_t)(r->body - r->raw);
	return sscanf(r->head, "HTTP/1.1 %d", &r->status) == 1 ? 0 : -EPROTO;
}

/* Connect, send, receive: 0, or -errno of what went wrong. */
static int exchange(uint16_t port, const char *raw, struct test_resp *r)
{
	int fd = open_fd(port);

	if (fd < 0) {
		r->status = -1;
		return fd;
	}
	test_http_send(fd, raw, strlen(raw));
	return receive(fd, r);
}

static void format_simple(char *out, size_t cap, const char *method, const char *path)
{
	int n = snprintf(out, cap, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
			 method, path);

	assert_true(n > 0 && (size_t)n < cap);
}

int test_http_connect(uint16_t port)
{
	int fd = open_fd(port);

	if (fd < 0) {
		fail_msg("cannot connect to 127.0.0.1:%u: %s", port, strerror(-fd));
	}
	return fd;
}

void test_http_send(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n <= 0) {
			return;
		}
		p += n;
		len -= (size_t)n;
	}
}

void test_http_read(int fd, struct test_resp *r)
{
	if (receive(fd, r) != 0) {
		fail_msg("not an HTTP/1.1 response (%zu bytes):\n%s", r->raw_len, r->raw);
	}
}

void test_http_request(uint16_t port, const char *raw, struct test_resp *r)
{
	int fd = test_http_connect(port);

	test_http_send(fd, raw, strlen(raw));
	test_http_read(fd, r);
}

void test_http_call(uint16_t port, const char *method, const char *path, struct test_resp *r)
{
	char raw[1024];

	format_simple(raw, sizeof(raw), method, path);
	test_http_request(port, raw, r);
}

int test_http_try(uint16_t port, const char *method, const char *path, struct test_resp *r)
{
	char raw[1024];

	format_simple(raw, sizeof(raw), method, path);
	return exchange(port, raw, r) == 0 ? r->status : -1;
}

const char *test_http_header(const struct test_resp *r, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);

	for (const char *line = strstr(r->head, "\r\n"); line != NULL;
	     line = strstr(line + 2, "\r\n")) {
		const char *h = line + 2;
		const char *eol = strstr(h, "\r\n");
		size_t len = eol ? (size_t)(eol - h) : strlen(h);

		if (len > nl + 1 && strncasecmp(h, name, nl) == 0 && h[nl] == ':') {
			const char *v = h + nl + 1;

			while (*v == ' ') {
				v++;
			}
			snprintf(out, cap, "%.*s", (int)(len - (size_t)(v - h)), v);
			return out;
		}
	}
	return NULL;
}

void test_http_assert_header(const struct test_resp *r, const char *name, const char *want)
{
	char v[256];

	if (test_http_header(r, name, v, sizeof(v)) == NULL) {
		fail_msg("header %s missing in:\n%s", name, r->head);
	}
	assert_string_equal(v, want);
}

void test_http_assert_status(const struct test_resp *r, int status)
{
	if (r->status != status) {
		fail_msg("want %d, got:\n%s\n\n%s", status, r->head, r->body);
	}
}

cJSON *test_http_json(const struct test_resp *r, int status)
{
	cJSON *j;

	test_http_assert_status(r, status);
	j = cJSON_ParseWithLength(r->body, r->body_len);
	assert_non_null(j);
	return j;
}

void test_http_assert_error(const struct test_resp *r, int status, const char *code)
{
	cJSON *root, *e, *m, *mz;

	test_http_assert_status(r, status);
	root = cJSON_ParseWithLength(r->body, r->body_len);
	assert_non_null(root);
	e = cJSON_GetObjectItemCaseSensitive(root, "error");
	assert_true(cJSON_IsObject(e));
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "code")),
			    code);
	m = cJSON_GetObjectItemCaseSensitive(e, "message");
	mz = cJSON_GetObjectItemCaseSensitive(e, "message_zh");
	assert_true(cJSON_IsString(m) && strlen(m->valuestring) > 0);
	assert_true(cJSON_IsString(mz) && strlen(mz->valuestring) > 0);
	/* The Chinese message is Chinese: it opens with a CJK character (3-byte UTF-8, E4-E9). */
	assert_true((unsigned char)mz->valuestring[0] >= 0xe4 &&
		    (unsigned char)mz->valuestring[0] <= 0xe9);
	cJSON_Delete(root);
}
