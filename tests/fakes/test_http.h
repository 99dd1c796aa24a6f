/*
 * A minimal HTTP/1.1 client for tests, so a test sees exactly the bytes on
 * the wire: connect to 127.0.0.1:port, send a request as written, read the
 * answer to EOF (requests say Connection: close) and split it. Sockets get
 * a TEST_HTTP_TIMEOUT_S send and receive timeout, so a hung server fails
 * the test rather than hanging it. The ones marked "asserts" fail the
 * running cmocka test.
 */
#ifndef FAKES_TEST_HTTP_H
#define FAKES_TEST_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define TEST_HTTP_RESP_MAX  (512 * 1024) /* a longer answer is cut here */
#define TEST_HTTP_TIMEOUT_S 10

/* One response, owned by the caller (it is large: not on a thread's stack). */
struct test_resp {
	int status;	 /* from the status line */
	char *head;	 /* status line and headers, NUL-terminated (in raw) */
	char *body;	 /* what follows the blank line, NUL-terminated (in raw) */
	size_t body_len; /* bytes of body */
	char raw[TEST_HTTP_RESP_MAX];
	size_t raw_len;
};

/* A connected socket with both timeouts set (asserts). */
int test_http_connect(uint16_t port);

/* Send data, stopping quietly where the server has closed (it may answer early, as with 413). */
void test_http_send(int fd, const void *data, size_t len);

/* Read to EOF, close fd and split the answer into r (asserts an HTTP/1.1 response). */
void test_http_read(int fd, struct test_resp *r);

/* Connect, send raw as it is, read the answer into r (asserts). */
void test_http_request(uint16_t port, const char *raw, struct test_resp *r);

/* "METHOD path" with Host and Connection: close and no body (asserts an answer). */
void test_http_call(uint16_t port, const char *method, const char *path, struct test_resp *r);

/*
 * As test_http_call(), but without asserting: for polling a server that may
 * not be up (or no longer is).
 * @return the HTTP status, or -1 when nothing answered
 */
int test_http_try(uint16_t port, const char *method, const char *path, struct test_resp *r);

/* The value of a response header (name case-insensitive) copied to out, or NULL. */
const char *test_http_header(const struct test_resp *r, const char *name, char *out, size_t cap);

/* Assert a header is there with exactly this value. */
void test_http_assert_header(const struct test_resp *r, const char *name, const char *want);

/* Assert the status, showing the whole response when it differs. */
void test_http_assert_status(const struct test_resp *r, int status);

/*
 * Assert the status and the project's error shape:
 * {"error": {"code": code, "message": "…", "message_zh": "…"}}, both
 * messages non-empty and message_zh beginning with a CJK character.
 */
void test_http_assert_error(const struct test_resp *r, int status, const char *code);

/* Assert the status and that the body is JSON; the parsed body (cJSON_Delete() it). */
cJSON *test_http_json(const struct test_resp *r, int status);

#endif /* FAKES_TEST_HTTP_H */
