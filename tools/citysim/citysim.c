/*
 * citysim: the reference city platform, for tests, demos and running the
 * appliance by hand (docs/citysim.md). This file is the server: an mbedTLS
 * TLS 1.2 server that requires a client certificate signed by the
 * configured CA, keep-alive HTTP/1.1 (requests parsed with http-parser),
 * the sync protocol's endpoints (api.c) over citysim's SQLite store
 * (store.c), and one log line per request naming the device (its
 * certificate's CN). `citysim COMMAND ...` runs a subcommand instead
 * (cli.c); --status-port adds the status page (status.c).
 *
 * One thread per connection (at most --max-conns); the main thread
 * accepts. Sessions resume by ticket or by session id. SIGTERM or SIGINT
 * stops it cleanly: connections are closed with a close_notify, exit 0.
 *
 * Usage: citysim --cert FILE --key FILE --ca FILE [--listen ADDR:PORT]
 *        [--port-file FILE] [--log FILE] [--idle-timeout-ms N]
 *        [--max-conns N] [--ticket-lifetime-s N] [--data DIR]
 *        [--reject-type TYPE]... [--status-port N] [--status-port-file FILE]
 *        [--enrolled-only] [--busy-for N] [--retry-after S]
 *    or: citysim COMMAND --data DIR ... (docs/citysim.md)
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cjson/cJSON.h>
#include <http_parser.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/oid.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_cache.h>
#include <mbedtls/ssl_ticket.h>
#include <mbedtls/x509_crt.h>

#include "citysim.h"

#define READ_SLICE_MS	 200
#define HANDSHAKE_MAX_MS 10000
#define URL_MAX		 1024
#define BODY_MAX	 (1024 * 1024)
#define CN_MAX		 128

struct options {
	char addr[64];
	char port[8];
	const char *cert;
	const char *key;
	const char *ca;
	const char *port_file;
	const char *log_path;
	int idle_ms;
	int max_conns;
	int ticket_lifetime_s;
	const char *data_dir;
	int status_port; /* -1: no status page */
	const char *status_port_file;
	bool enrolled_only; /* refuse devices not in device_access (401 device_unknown) */
	int busy_for;	    /* answer this many requests 503 busy first */
	int retry_after_s;  /* their Retry-After */
};

static struct options opt = {
	.addr = "127.0.0.1",
	.port = "8443",
	.idle_ms = 30000,
	.max_conns = 16,
	.ticket_lifetime_s = 3600,
	.status_port = -1,
	.retry_after_s = 1,
};

static struct cs_store store;

static volatile sig_atomic_t stopping;

static struct {
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_x509_crt cert;
	mbedtls_pk_context key;
	mbedtls_x509_crt ca;
	mbedtls_ssl_config conf;
	mbedtls_ssl_cache_context cache;
	mbedtls_ssl_ticket_context ticket;
	FILE *log;
	pthread_mutex_t lock; /* log, active, next_id */
	pthread_cond_t idle;
	int active;
	unsigned long next_id;
} srv = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.idle = PTHREAD_COND_INITIALIZER,
};

__attribute__((format(printf, 1, 2))) static void logf_(const char *fmt, ...)
{
	struct timespec ts;
	struct tm tm;
	char when[32];
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	pthread_mutex_lock(&srv.lock);
	fprintf(srv.log, "%s.%03ldZ ", when, ts.tv_nsec / 1000000);
	va_start(ap, fmt);
	vfprintf(srv.log, fmt, ap);
	va_end(ap);
	fputc('\n', srv.log);
	fflush(srv.log);
	pthread_mutex_unlock(&srv.lock);
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *tls_err(int ret, char *buf, size_t len)
{
	mbedtls_strerror(ret, buf, len);
	return buf;
}

/* ---- answers ------------------------------------------------------------ */

static const char *status_text(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 404:
		return "Not Found";
	case 403:
		return "Forbidden";
	case 405:
		return "Method Not Allowed";
	case 413:
		return "Payload Too Large";
	case 426:
		return "Upgrade Required";
	case 429:
		return "Too Many Requests";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	default:
		return "Error";
	}
}

/* ---- one connection ------------------------------------------------------ */

struct conn {
	unsigned long id;
	mbedtls_net_context net;
	mbedtls_ssl_context ssl;
	char peer[64];
	char cn[CN_MAX];
	bool verified; /* the verify callback ran: a full handshake */
	/* the request being parsed */
	http_parser hp;
	char url[URL_MAX];
	size_t url_len;
	bool url_too_long;
	char *body;
	size_t body_len;
	bool body_too_big;
	bool done;
	/* the headers we read: X-Hotline-Protocol, X-Body-SHA256 */
	char field[32];
	size_t field_len;
	bool field_long;
	int which; /* 0 none, 1 protocol, 2 body hash */
	char protocol[16];
	bool has_protocol;
	char sha[80];
	bool has_sha;
};

static int verify_cb(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
	struct conn *c = ctx;

	c->verified = true;
	return 0;
}

static void peer_cn(const mbedtls_x509_crt *crt, char *out, size_t cap)
{
	snprintf(out, cap, "-");
	if (crt == NULL) {
		return;
	}
	for (const mbedtls_x509_name *n = &crt->subject; n != NULL; n = n->next) {
		if (n->oid.p != NULL && MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) == 0) {
			size_t k = 0;

			for (size_t i = 0; i < n->val.len && k + 1 < cap; i++) {
				unsigned char ch = n->val.p[i];

				out[k++] = (ch < 32 || ch == 127 || ch == ' ') ? '?' : (char)ch;
			}
			out[k] = '\0';
			return;
		}
	}
}

static int on_url(http_parser *hp, const char *at, size_t len)
{
	struct conn *c = hp->data;

	if (len > sizeof(c->url) - 1 - c->url_len) {
		c->url_too_long = true;
		return 0;
	}
	memcpy(c->url + c->url_len, at, len);
	c->url_len += len;
	c->url[c->url_len] = '\0';
	return 0;
}

static int on_header_field(http_parser *hp, const char *at, size_t len)
{
	struct conn *c = hp->data;

	if (c->which != 0 || c->field_len == SIZE_MAX) {
		/* a value came before: a new field starts */
		c->which = 0;
		c->field_len = 0;
		c->field_long = false;
	}
	if (len > sizeof(c->field) - 1 - c->field_len) {
		c->field_long = true;
		return 0;
	}
	memcpy(c->field + c->field_len, at, len);
	c->field_len += len;
	c->field[c->field_len] = '\0';
	return 0;
}

/* Append a header's value (bounded: too long is kept as an invalid value). */
static void value_append(char *buf, size_t cap, const char *at, size_t len)
{
	size_t have = strlen(buf);

	if (len > cap - 1 - have) {
		len = cap - 1 - have;
	}
	memcpy(buf + have, at, len);
	buf[have + len] = '\0';
}

static int on_header_value(http_parser *hp, const char *at, size_t len)
{
	struct conn *c = hp->data;

	if (c->which == 0 && c->field_len != SIZE_MAX) {
		if (!c->field_long && strcasecmp(c->field, "X-Hotline-Protocol") == 0) {
			c->which = 1;
			c->has_protocol = true;
			c->protocol[0] = '\0';
		} else if (!c->field_long && strcasecmp(c->field, "X-Body-SHA256") == 0) {
			c->which = 2;
			c->has_sha = true;
			c->sha[0] = '\0';
		} else {
			c->which = 3;
		}
	}
	if (c->which == 1) {
		value_append(c->protocol, sizeof(c->protocol), at, len);
	} else if (c->which == 2) {
		value_append(c->sha, sizeof(c->sha), at, len);
	}
	return 0;
}

static int on_body(http_parser *hp, const char *at, size_t len)
{
	struct conn *c = hp->data;

	if (c->body_too_big || len > BODY_MAX - c->body_len) {
		c->body_too_big = true;
		return 0;
	}
	memcpy(c->body + c->body_len, at, len);
	c->body_len += len;
	return 0;
}

static int on_message_complete(http_parser *hp)
{
	struct conn *c = hp->data;

	c->done = true;
	http_parser_pause(hp, 1);
	return 0;
}

static const http_parser_settings req_settings = {
	.on_url = on_url,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

static void request_reset(struct conn *c)
{
	http_parser_init(&c->hp, HTTP_REQUEST);
	c->hp.data = c;
	c->url_len = 0;
	c->url[0] = '\0';
	c->url_too_long = false;
	c->body_len = 0;
	c->body_too_big = false;
	c->done = false;
	c->which = 0;
	c->field_len = 0;
	c->field_long = false;
	c->has_protocol = false;
	c->has_sha = false;
}

static int write_all(struct conn *c, const char *buf, size_t len)
{
	while (len > 0) {
		int n = mbedtls_ssl_write(&c->ssl, (const unsigned char *)buf, len);

		if (n == MBEDTLS_ERR_SSL_WANT_READ || n == MBEDTLS_ERR_SSL_WANT_WRITE ||
		    n == MBEDTLS_ERR_SSL_TIMEOUT) {
			if (stopping) {
				return -1;
			}
			continue;
		}
		if (n < 0) {
			return n;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* retry_after_s >= 0: with a Retry-After header. */
static int send_reply(struct conn *c, const struct cs_reply *rp, bool keep_alive, int retry_after_s)
{
	char *json = cJSON_PrintUnformatted(rp->json);
	char ra[40] = "";
	char head[256];
	int hl;
	int ret;

	if (json == NULL) {
		return -1;
	}
	if (retry_after_s >= 0) {
		snprintf(ra, sizeof(ra), "Retry-After: %d\r\n", retry_after_s);
	}
	hl = snprintf(head, sizeof(head),
		      "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
		      "Content-Length: %zu\r\n%sConnection: %s\r\n\r\n",
		      rp->status, status_text(rp->status), strlen(json), ra,
		      keep_alive ? "keep-alive" : "close");
	ret = write_all(c, head, (size_t)hl);
	if (ret == 0) {
		ret = write_all(c, json, strlen(json));
	}
	free(json);
	return ret;
}

/* --busy-for: true while requests are still to be answered busy. */
static bool take_busy(void)
{
	bool busy = false;

	pthread_mutex_lock(&srv.lock);
	if (opt.busy_for > 0) {
		opt.busy_for--;
		busy = true;
	}
	pthread_mutex_unlock(&srv.lock);
	return busy;
}

/*
 * The device access list, before anything of the request is looked at or
 * stored: a revoked device (citysim revoke) is refused 403, an unknown one
 * 401 under --enrolled-only (docs/sync-protocol.md, "Errors").
 * @retval true refused (rp filled)
 */
static bool access_refused(const char *cn, struct cs_reply *rp)
{
	int a = cs_access_check(&store, cn, opt.enrolled_only);

	if (a == CS_ACCESS_REVOKED) {
		cs_error_reply(rp, 403, "device_revoked",
			       "the city has revoked this device's certificate",
			       "市平台已吊销本设备的证书");
	} else if (a == CS_ACCESS_UNKNOWN) {
		cs_error_reply(rp, 401, "device_unknown", "the city does not know this device",
			       "市平台不认识本设备");
	} else if (a < 0) {
		cs_error_reply(rp, 500, "storage", "the city's store failed", "市平台存储出错");
	} else {
		return false;
	}
	return true;
}

/* Answer the parsed request. @retval 0 keep going, else close. */
static int answer(struct conn *c, bool resumed)
{
	struct cs_request rq = { .body = c->body, .body_len = c->body_len, .cn = c->cn };
	struct cs_reply rp = { 0 };
	bool keep = http_should_keep_alive(&c->hp) != 0;
	int retry_after = -1;
	char *q;
	int ret;

	snprintf(rq.method, sizeof(rq.method), "%s", http_method_str(c->hp.method));
	snprintf(rq.path, sizeof(rq.path), "%s", c->url);
	rq.query = "";
	q = strchr(rq.path, '?');
	if (q != NULL) {
		*q = '\0';
		rq.query = q + 1;
	}
	rq.protocol = c->has_protocol ? c->protocol : NULL;
	rq.body_sha256 = c->has_sha ? c->sha : NULL;
	if (c->url_too_long) {
		cs_error_reply(&rp, 400, "bad_request", "the path is too long", "路径过长");
		keep = false;
	} else if (c->body_too_big) {
		cs_error_reply(&rp, 413, "too_large", "the body is too large", "请求体过大");
		keep = false;
	} else if (access_refused(c->cn, &rp)) {
		keep = false;
	} else if (take_busy()) {
		cs_error_reply(&rp, 503, "busy", "the city platform is busy; try again later",
			       "市平台繁忙，请稍后再试");
		retry_after = opt.retry_after_s;
	} else {
		cs_api_dispatch(&rq, &rp);
	}
	logf_("conn=%lu cn=%s %s %s %d %s", c->id, c->cn, rq.method, rq.path, rp.status,
	      resumed ? "resumed" : "full");
	ret = send_reply(c, &rp, keep, retry_after);
	cJSON_Delete(rp.json);
	return ret == 0 && keep ? 0 : -1;
}

static void serve(struct conn *c, bool resumed)
{
	unsigned char buf[4096];
	int64_t idle_since = mono_ms();

	request_reset(c);
	while (!stopping) {
		int n = mbedtls_ssl_read(&c->ssl, buf, sizeof(buf));
		size_t off = 0;

		if (n == MBEDTLS_ERR_SSL_TIMEOUT || n == MBEDTLS_ERR_SSL_WANT_READ) {
			if (c->url_len == 0 && mono_ms() - idle_since >= opt.idle_ms) {
				logf_("conn=%lu cn=%s closed idle connection", c->id, c->cn);
				break;
			}
			continue;
		}
		if (n == 0 || n == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY ||
		    n == MBEDTLS_ERR_SSL_CONN_EOF) {
			return; /* the device closed */
		}
		if (n < 0) {
			char e[96];

			logf_("conn=%lu cn=%s read failed: %s", c->id, c->cn,
			      tls_err(n, e, sizeof(e)));
			return;
		}
		while (off < (size_t)n) {
			size_t used = http_parser_execute(&c->hp, &req_settings,
							  (const char *)buf + off, (size_t)n - off);
			enum http_errno he = HTTP_PARSER_ERRNO(&c->hp);

			off += used;
			if (he != HPE_OK && he != HPE_PAUSED) {
				struct cs_reply rp = { 0 };

				logf_("conn=%lu cn=%s bad request: %s", c->id, c->cn,
				      http_errno_name(he));
				cs_error_reply(&rp, 400, "bad_request", "malformed HTTP request",
					       "HTTP请求格式错误");
				send_reply(c, &rp, false, -1);
				cJSON_Delete(rp.json);
				goto out_close;
			}
			if (!c->done) {
				break;
			}
			if (answer(c, resumed) != 0) {
				goto out_close;
			}
			request_reset(c);
			idle_since = mono_ms();
		}
	}
out_close:
	mbedtls_ssl_close_notify(&c->ssl);
}

/*
 * After refusing a handshake: stop sending, and read (and discard) what the
 * device still sends for a moment, so our alert reaches it instead of
 * being lost to a reset for unread data.
 */
static void linger_close(struct conn *c)
{
	int64_t t0 = mono_ms();
	char sink[1024];

	shutdown(c->net.fd, SHUT_WR);
	while (mono_ms() - t0 < 1000) {
		struct pollfd pfd = { .fd = c->net.fd, .events = POLLIN };

		if (poll(&pfd, 1, 100) > 0 && read(c->net.fd, sink, sizeof(sink)) <= 0) {
			break;
		}
	}
}

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	int64_t t0 = mono_ms();
	char e[128];
	int ret;

	mbedtls_ssl_init(&c->ssl);
	c->body = malloc(BODY_MAX);
	if (c->body == NULL || mbedtls_ssl_setup(&c->ssl, &srv.conf) != 0) {
		logf_("conn=%lu peer=%s out of memory", c->id, c->peer);
		goto out;
	}
	mbedtls_ssl_set_bio(&c->ssl, &c->net, mbedtls_net_send, NULL, mbedtls_net_recv_timeout);
	mbedtls_ssl_set_verify(&c->ssl, verify_cb, c);
	for (;;) {
		ret = mbedtls_ssl_handshake(&c->ssl);
		if (ret == 0) {
			break;
		}
		if ((ret == MBEDTLS_ERR_SSL_TIMEOUT || ret == MBEDTLS_ERR_SSL_WANT_READ ||
		     ret == MBEDTLS_ERR_SSL_WANT_WRITE) &&
		    !stopping && mono_ms() - t0 < HANDSHAKE_MAX_MS) {
			continue;
		}
		{
			uint32_t flags = mbedtls_ssl_get_verify_result(&c->ssl);

			logf_("conn=%lu peer=%s handshake refused: %s (client certificate "
			      "flags 0x%05x)",
			      c->id, c->peer, tls_err(ret, e, sizeof(e)),
			      flags == (uint32_t)-1 ? 0u : (unsigned int)flags);
		}
		linger_close(c);
		goto out;
	}
	peer_cn(mbedtls_ssl_get_peer_cert(&c->ssl), c->cn, sizeof(c->cn));
	logf_("conn=%lu peer=%s cn=%s handshake %s %s", c->id, c->peer, c->cn,
	      c->verified ? "full" : "resumed", mbedtls_ssl_get_ciphersuite(&c->ssl));
	serve(c, !c->verified);
out:
	mbedtls_ssl_free(&c->ssl);
	mbedtls_net_free(&c->net);
	free(c->body);
	free(c);
	pthread_mutex_lock(&srv.lock);
	srv.active--;
	pthread_cond_broadcast(&srv.idle);
	pthread_mutex_unlock(&srv.lock);
	return NULL;
}

/* ---- start-up ------------------------------------------------------------ */

static const int suites[] = {
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	0,
};

static void usage(FILE *f)
{
	fprintf(f, "usage: citysim --cert FILE --key FILE --ca FILE [--listen ADDR:PORT]\n"
		   "               [--port-file FILE] [--log FILE] [--idle-timeout-ms N]\n"
		   "               [--max-conns N] [--ticket-lifetime-s N] [--data DIR]\n"
		   "               [--reject-type TYPE]... [--status-port N]\n"
		   "               [--status-port-file FILE] [--enrolled-only]\n"
		   "               [--busy-for N] [--retry-after S]\n"
		   "   or: citysim COMMAND --data DIR ... (dispatch, decide-return,\n"
		   "       decide-extension, notice, visit, recall, calendar, events, status,\n"
		   "       enroll, revoke; citysim COMMAND --help)\n"
		   "  --listen ADDR:PORT  where to listen (default 127.0.0.1:8443; port 0: any)\n"
		   "  --cert, --key       the city's certificate (PEM, chain allowed) and key\n"
		   "  --ca                the CA that signs device certificates\n"
		   "  --port-file FILE    write the bound port there once listening\n"
		   "  --log FILE          request log (default: standard error)\n"
		   "  --idle-timeout-ms N close a connection idle this long (default 30000)\n"
		   "  --max-conns N       connections served at once (default 16)\n"
		   "  --ticket-lifetime-s N  TLS session ticket lifetime (default 3600)\n"
		   "  --data DIR          the city's store (DIR/citysim.db; default: in memory)\n"
		   "  --reject-type TYPE  reject uploaded events of this type (bad_field; tests)\n"
		   "  --status-port N     status page on http://127.0.0.1:N/ (0: any port)\n"
		   "  --status-port-file FILE  write the status page's port there\n"
		   "  --enrolled-only     refuse devices not enrolled (401 device_unknown)\n"
		   "  --busy-for N        answer the first N requests 503 busy (tests)\n"
		   "  --retry-after S     the Retry-After of those answers (default 1)\n");
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end != '\0' || v < lo || v > hi) {
		return -1;
	}
	*out = (int)v;
	return 0;
}

static int parse_args(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--help") == 0) {
			usage(stdout);
			exit(0);
		}
		if (strcmp(a, "--enrolled-only") == 0) {
			opt.enrolled_only = true;
			continue;
		}
		if (v == NULL) {
			fprintf(stderr, "citysim: %s needs a value\n", a);
			return -1;
		}
		i++;
		if (strcmp(a, "--listen") == 0) {
			const char *colon = strrchr(v, ':');
			int port;

			if (colon == NULL || (size_t)(colon - v) >= sizeof(opt.addr) ||
			    colon == v || parse_int(colon + 1, 0, 65535, &port) != 0) {
				fprintf(stderr, "citysim: --listen wants ADDR:PORT, e.g. "
						"127.0.0.1:8443\n");
				return -1;
			}
			snprintf(opt.addr, sizeof(opt.addr), "%.*s", (int)(colon - v), v);
			snprintf(opt.port, sizeof(opt.port), "%d", port);
		} else if (strcmp(a, "--data") == 0) {
			opt.data_dir = v;
		} else if (strcmp(a, "--reject-type") == 0) {
			if (cs_api.n_reject_types == CS_REJECT_TYPES_MAX) {
				fprintf(stderr, "citysim: at most %d --reject-type\n",
					CS_REJECT_TYPES_MAX);
				return -1;
			}
			cs_api.reject_types[cs_api.n_reject_types++] = v;
		} else if (strcmp(a, "--status-port") == 0) {
			if (parse_int(v, 0, 65535, &opt.status_port) != 0) {
				fprintf(stderr, "citysim: --status-port wants 0..65535\n");
				return -1;
			}
		} else if (strcmp(a, "--status-port-file") == 0) {
			opt.status_port_file = v;
		} else if (strcmp(a, "--busy-for") == 0) {
			if (parse_int(v, 0, 1000000, &opt.busy_for) != 0) {
				fprintf(stderr, "citysim: --busy-for wants 0..1000000\n");
				return -1;
			}
		} else if (strcmp(a, "--retry-after") == 0) {
			if (parse_int(v, 0, 86400, &opt.retry_after_s) != 0) {
				fprintf(stderr, "citysim: --retry-after wants 0..86400\n");
				return -1;
			}
		} else if (strcmp(a, "--cert") == 0) {
			opt.cert = v;
		} else if (strcmp(a, "--key") == 0) {
			opt.key = v;
		} else if (strcmp(a, "--ca") == 0) {
			opt.ca = v;
		} else if (strcmp(a, "--port-file") == 0) {
			opt.port_file = v;
		} else if (strcmp(a, "--log") == 0) {
			opt.log_path = v;
		} else if (strcmp(a, "--idle-timeout-ms") == 0) {
			if (parse_int(v, 1, INT_MAX, &opt.idle_ms) != 0) {
				fprintf(stderr,
					"citysim: --idle-timeout-ms wants a positive number\n");
				return -1;
			}
		} else if (strcmp(a, "--max-conns") == 0) {
			if (parse_int(v, 1, 1024, &opt.max_conns) != 0) {
				fprintf(stderr, "citysim: --max-conns wants 1..1024\n");
				return -1;
			}
		} else if (strcmp(a, "--ticket-lifetime-s") == 0) {
			if (parse_int(v, 0, 86400 * 7, &opt.ticket_lifetime_s) != 0) {
				fprintf(stderr, "citysim: --ticket-lifetime-s wants 0..604800\n");
				return -1;
			}
		} else {
			fprintf(stderr, "citysim: unknown option %s\n", a);
			usage(stderr);
			return -1;
		}
	}
	if (opt.cert == NULL || opt.key == NULL || opt.ca == NULL) {
		fprintf(stderr, "citysim: --cert, --key and --ca are required\n");
		usage(stderr);
		return -1;
	}
	return 0;
}

static int tls_setup(void)
{
	static const char pers[] = "citysim";
	char e[128];
	int ret;

	mbedtls_entropy_init(&srv.entropy);
	mbedtls_ctr_drbg_init(&srv.drbg);
	mbedtls_x509_crt_init(&srv.cert);
	mbedtls_x509_crt_init(&srv.ca);
	mbedtls_pk_init(&srv.key);
	mbedtls_ssl_config_init(&srv.conf);
	mbedtls_ssl_cache_init(&srv.cache);
	mbedtls_ssl_ticket_init(&srv.ticket);

	ret = mbedtls_ctr_drbg_seed(&srv.drbg, mbedtls_entropy_func, &srv.entropy,
				    (const unsigned char *)pers, sizeof(pers) - 1);
	if (ret != 0) {
		fprintf(stderr, "citysim: no random source: %s\n", tls_err(ret, e, sizeof(e)));
		return -1;
	}
	if ((ret = mbedtls_x509_crt_parse_file(&srv.cert, opt.cert)) != 0) {
		fprintf(stderr, "citysim: cannot read the certificate %s: %s\n", opt.cert,
			tls_err(ret, e, sizeof(e)));
		return -1;
	}
	if ((ret = mbedtls_pk_parse_keyfile(&srv.key, opt.key, NULL)) != 0) {
		fprintf(stderr, "citysim: cannot read the key %s: %s\n", opt.key,
			tls_err(ret, e, sizeof(e)));
		return -1;
	}
	if ((ret = mbedtls_x509_crt_parse_file(&srv.ca, opt.ca)) != 0) {
		fprintf(stderr, "citysim: cannot read the CA %s: %s\n", opt.ca,
			tls_err(ret, e, sizeof(e)));
		return -1;
	}
	ret = mbedtls_ssl_config_defaults(&srv.conf, MBEDTLS_SSL_IS_SERVER,
					  MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
	if (ret != 0) {
		fprintf(stderr, "citysim: TLS set-up failed: %s\n", tls_err(ret, e, sizeof(e)));
		return -1;
	}
	mbedtls_ssl_conf_rng(&srv.conf, mbedtls_ctr_drbg_random, &srv.drbg);
	mbedtls_ssl_conf_authmode(&srv.conf, MBEDTLS_SSL_VERIFY_REQUIRED);
	mbedtls_ssl_conf_ca_chain(&srv.conf, &srv.ca, NULL);
	mbedtls_ssl_conf_min_version(&srv.conf, MBEDTLS_SSL_MAJOR_VERSION_3,
				     MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_ciphersuites(&srv.conf, suites);
	mbedtls_ssl_conf_renegotiation(&srv.conf, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
	mbedtls_ssl_conf_read_timeout(&srv.conf, READ_SLICE_MS);
	if ((ret = mbedtls_ssl_conf_own_cert(&srv.conf, &srv.cert, &srv.key)) != 0) {
		fprintf(stderr, "citysim: the certificate does not go with the key: %s\n",
			tls_err(ret, e, sizeof(e)));
		return -1;
	}
	if (opt.ticket_lifetime_s > 0) {
		mbedtls_ssl_cache_set_timeout(&srv.cache, opt.ticket_lifetime_s);
		mbedtls_ssl_conf_session_cache(&srv.conf, &srv.cache, mbedtls_ssl_cache_get,
					       mbedtls_ssl_cache_set);
		ret = mbedtls_ssl_ticket_setup(&srv.ticket, mbedtls_ctr_drbg_random, &srv.drbg,
					       MBEDTLS_CIPHER_AES_256_GCM,
					       (uint32_t)opt.ticket_lifetime_s);
		if (ret != 0) {
			fprintf(stderr, "citysim: session tickets: %s\n",
				tls_err(ret, e, sizeof(e)));
			return -1;
		}
		mbedtls_ssl_conf_session_tickets_cb(&srv.conf, mbedtls_ssl_ticket_write,
						    mbedtls_ssl_ticket_parse, &srv.ticket);
	}
	return 0;
}

static void tls_teardown(void)
{
	mbedtls_ssl_ticket_free(&srv.ticket);
	mbedtls_ssl_cache_free(&srv.cache);
	mbedtls_ssl_config_free(&srv.conf);
	mbedtls_pk_free(&srv.key);
	mbedtls_x509_crt_free(&srv.ca);
	mbedtls_x509_crt_free(&srv.cert);
	mbedtls_ctr_drbg_free(&srv.drbg);
	mbedtls_entropy_free(&srv.entropy);
}

int cs_write_port_file(const char *path, unsigned int port)
{
	char tmp[PATH_MAX];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		return -1;
	}
	f = fopen(tmp, "w");
	if (f == NULL) {
		return -1;
	}
	fprintf(f, "%u\n", port);
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

static void on_signal(int sig)
{
	stopping = 1;
}

static void accept_one(mbedtls_net_context *listener)
{
	struct sockaddr_storage sa;
	socklen_t salen = sizeof(sa);
	char ip[INET6_ADDRSTRLEN] = "?";
	pthread_attr_t attr;
	pthread_t th;
	struct conn *c;
	int fd;

	fd = accept(listener->fd, (struct sockaddr *)&sa, &salen);
	if (fd < 0) {
		return;
	}
	/* An answer goes out in more than one write (TLS records): without this
	 * its tail waits for the client's delayed ACK, about 40 ms a request. */
	{
		int one = 1;

		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	if (sa.ss_family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&sa;

		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		snprintf(ip + strlen(ip), sizeof(ip) - strlen(ip), ":%u", ntohs(s4->sin_port));
	}
	pthread_mutex_lock(&srv.lock);
	if (srv.active >= opt.max_conns) {
		pthread_mutex_unlock(&srv.lock);
		logf_("peer=%s refused: %d connections already", ip, opt.max_conns);
		close(fd);
		return;
	}
	srv.active++;
	c = calloc(1, sizeof(*c));
	if (c != NULL) {
		c->id = ++srv.next_id;
	}
	pthread_mutex_unlock(&srv.lock);
	if (c == NULL) {
		close(fd);
		goto out_release;
	}
	mbedtls_net_init(&c->net);
	c->net.fd = fd;
	snprintf(c->peer, sizeof(c->peer), "%s", ip);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &attr, conn_main, c) != 0) {
		pthread_attr_destroy(&attr);
		close(fd);
		free(c);
		goto out_release;
	}
	pthread_attr_destroy(&attr);
	return;

out_release:
	pthread_mutex_lock(&srv.lock);
	srv.active--;
	pthread_mutex_unlock(&srv.lock);
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct sockaddr_storage bound;
	socklen_t blen = sizeof(bound);
	mbedtls_net_context listener;
	unsigned int port = 0;
	struct timespec until;
	char e[128];
	int ret;

	srv.log = stderr;
	if (argc > 1 && cs_cli_is_command(argv[1])) {
		return cs_cli_main(argc, argv);
	}
	if (parse_args(argc, argv) != 0) {
		return 2;
	}
	if (opt.log_path != NULL) {
		srv.log = fopen(opt.log_path, "a");
		if (srv.log == NULL) {
			fprintf(stderr, "citysim: cannot open the log %s: %s\n", opt.log_path,
				strerror(errno));
			return 1;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (cs_store_open(opt.data_dir, &store) != 0) {
		return 1;
	}
	if (cs_access_init(&store) != 0) {
		cs_store_close(&store);
		return 1;
	}
	cs_api.store = &store;
	if (tls_setup() != 0) {
		tls_teardown();
		cs_store_close(&store);
		return 1;
	}
	if (opt.status_port >= 0 &&
	    cs_status_start(&store, opt.status_port, opt.status_port_file) != 0) {
		tls_teardown();
		cs_store_close(&store);
		return 1;
	}
	mbedtls_net_init(&listener);
	ret = mbedtls_net_bind(&listener, opt.addr, opt.port, MBEDTLS_NET_PROTO_TCP);
	if (ret != 0) {
		fprintf(stderr, "citysim: cannot listen on %s:%s: %s\n", opt.addr, opt.port,
			tls_err(ret, e, sizeof(e)));
		tls_teardown();
		return 1;
	}
	if (getsockname(listener.fd, (struct sockaddr *)&bound, &blen) == 0) {
		port = bound.ss_family == AF_INET
			       ? ntohs(((struct sockaddr_in *)&bound)->sin_port)
			       : ntohs(((struct sockaddr_in6 *)&bound)->sin6_port);
	}
	if (opt.port_file != NULL && cs_write_port_file(opt.port_file, port) != 0) {
		fprintf(stderr, "citysim: cannot write the port file %s: %s\n", opt.port_file,
			strerror(errno));
		mbedtls_net_free(&listener);
		tls_teardown();
		return 1;
	}
	logf_("listening on %s:%u, store %s", opt.addr, port,
	      opt.data_dir ? opt.data_dir : "in memory");

	while (!stopping) {
		struct pollfd pfd = { .fd = listener.fd, .events = POLLIN };

		if (poll(&pfd, 1, READ_SLICE_MS) > 0 && (pfd.revents & POLLIN)) {
			accept_one(&listener);
		}
	}
	mbedtls_net_free(&listener);
	if (opt.status_port >= 0) {
		cs_status_stop();
	}

	/* Connections see `stopping` within one read slice. */
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	pthread_mutex_lock(&srv.lock);
	while (srv.active > 0) {
		if (pthread_cond_timedwait(&srv.idle, &srv.lock, &until) == ETIMEDOUT) {
			break;
		}
	}
	ret = srv.active;
	pthread_mutex_unlock(&srv.lock);
	logf_("stopped%s", ret ? " with connections still open" : "");
	if (ret == 0) {
		tls_teardown();
		cs_store_close(&store);
	}
	if (ret == 0 && srv.log != stderr) {
		fclose(srv.log);
	}
	return ret == 0 ? 0 : 1;
}
