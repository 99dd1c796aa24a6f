/*
 * The sync client's HTTP/1.1 over TLS: one connection to the city at a time,
 * mutual TLS 1.2 with the device certificate, the city CA pinned, keep-alive
 * and TLS session resumption, over a byte transport given as a small ops
 * struct (on the appliance, lwIP through hal/net: httpc_transport_net).
 * Responses are parsed with http-parser into a body buffer allocated once.
 *
 * Every failure is a negative errno and a reason (enum httpc_reason) with a
 * short text for people in English and Chinese; verification failures of
 * the city's certificate (expired, wrong name, untrusted) each have their
 * own reason. The TLS profile and why each rule exists: docs/sync-tls.md.
 *
 * A struct httpc is used by one thread at a time (the sync worker).
 */
#ifndef SYNC_HTTPC_H
#define SYNC_HTTPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <http_parser.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include "hal/clock.h"

/* Defaults for the zero fields of struct httpc_config. */
#define HTTPC_CONNECT_TIMEOUT_MS 10000
#define HTTPC_IO_TIMEOUT_MS	 15000 /* one send or receive, including handshake steps */
#define HTTPC_REQUEST_TIMEOUT_MS 60000 /* a whole request, reconnect included */
#define HTTPC_BODY_MAX		 (64 * 1024)
#define HTTPC_SESSION_MAX_AGE_MS (60 * 60 * 1000) /* a saved TLS session is offered this long */

#define HTTPC_HOST_MAX		 253   /* a DNS name */
#define HTTPC_HEAD_MAX		 4096  /* the request line and headers we send */
#define HTTPC_RESP_HEAD_MAX	 16384 /* the status line and headers we accept */
#define HTTPC_CONTENT_TYPE_MAX	 64
#define HTTPC_DETAIL_MAX	 192
#define HTTPC_RETRY_AFTER_MAX_S	 3600 /* a longer Retry-After is taken as this */

/* ---- byte transport ------------------------------------------------------ */

struct httpc_transport;

struct httpc_transport_ops {
	/*
	 * Open a connection to ip:port (host byte order).
	 * @retval >=0 a handle for the calls below
	 * @retval -ETIMEDOUT, -ECONNREFUSED, -ENETDOWN, -EMFILE, -EHOSTUNREACH ...
	 */
	int (*open)(struct httpc_transport *t, uint32_t ip, uint16_t port, int timeout_ms);
	/* Send all of buf. @retval len, or a negative errno (then close it). */
	int (*send)(struct httpc_transport *t, int h, const void *buf, size_t len, int timeout_ms);
	/*
	 * Receive up to len bytes.
	 * @retval >0 bytes, 0 the peer closed, -ETIMEDOUT nothing in time,
	 *         -ECONNRESET or another negative errno: the connection is gone
	 */
	int (*recv)(struct httpc_transport *t, int h, void *buf, size_t len, int timeout_ms);
	void (*close)(struct httpc_transport *t, int h);
};

struct httpc_transport {
	const struct httpc_transport_ops *ops;
	void *priv;
};

/* lwIP through hal/net (net_connect/net_send/net_recv/net_close). */
extern struct httpc_transport httpc_transport_net;

/* ---- reasons ------------------------------------------------------------- */

enum httpc_reason {
	HTTPC_OK = 0,
	HTTPC_R_INVALID,	    /* -EINVAL: bad configuration or request (a bug) */
	HTTPC_R_NO_MEMORY,	    /* -ENOMEM */
	HTTPC_R_NO_UPLINK,	    /* -ENETDOWN, -EMFILE, -EHOSTUNREACH...: no way out */
	HTTPC_R_NO_ANSWER,	    /* -ETIMEDOUT */
	HTTPC_R_REFUSED,	    /* -ECONNREFUSED: nothing listens at the city's address */
	HTTPC_R_CONN_LOST,	    /* -ECONNRESET: the connection broke off */
	HTTPC_R_CERT_EXPIRED,	    /* -EKEYEXPIRED: by the device clock */
	HTTPC_R_CERT_NOT_YET_VALID, /* -ETIME: by the device clock */
	HTTPC_R_CERT_WRONG_NAME,    /* -EKEYREJECTED: not issued for the configured host */
	HTTPC_R_CERT_UNTRUSTED,	    /* -EKEYREJECTED: not signed by the installed city CA */
	HTTPC_R_CERT_BAD,	    /* -EKEYREJECTED: weak key, wrong key usage, ... */
	HTTPC_R_DEVICE_REFUSED,	    /* -EACCES: the city refused the device certificate */
	HTTPC_R_TLS_FAILED,	    /* -EPROTO: no common TLS version or suite, bad message */
	HTTPC_R_BAD_RESPONSE,	    /* -EBADMSG: the city's HTTP answer is malformed */
	HTTPC_R_TOO_LARGE,	    /* -EFBIG: the answer's body exceeds body_max */
	HTTPC_R_COUNT
};

/* The negative errno for a reason (0 for HTTPC_OK). */
int httpc_reason_errno(enum httpc_reason r);
/* "ok", "cert_expired", ... for logs and JSON. */
const char *httpc_reason_name(enum httpc_reason r);
/* A short text for people: "the city's certificate has expired". */
const char *httpc_reason_en(enum httpc_reason r);
/* The same in Chinese: "市平台证书已过期". */
const char *httpc_reason_zh(enum httpc_reason r);

/* ---- response parser (also used alone by tests and the fuzz target) ------ */

struct httpc_parser {
	http_parser hp;
	http_parser_settings settings;
	char *body; /* caller's buffer, body_cap + 1 bytes (a NUL is kept after the body) */
	size_t body_cap;
	size_t body_len;
	size_t head_bytes;
	size_t prefix_len; /* of "HTTP/" checked at the start */
	int status;
	bool headers_done;
	bool complete;
	bool keep_alive;
	int err;		  /* first error, negative errno */
	enum httpc_reason reason; /* its reason */
	/* the header being read (names we care about are short) */
	char field[32];
	size_t field_len;
	bool in_value; /* between a header's value and the next field */
	bool field_ct; /* the current field is Content-Type */
	char content_type[HTTPC_CONTENT_TYPE_MAX];
	size_t content_type_len;
	/* Retry-After: delta-seconds clamped to 0..HTTPC_RETRY_AFTER_MAX_S;
	 * -1 when absent, an HTTP-date, or not a number */
	int retry_after_s;
	bool field_ra; /* the current field is Retry-After */
	bool ra_seen;
	int ra_state; /* where its value's scan is: blanks, digits, blanks, bad */
	int ra_val;
};

/* Ready p for one response; body has room for body_cap bytes and a NUL. */
void httpc_parser_init(struct httpc_parser *p, char *body, size_t body_cap);

/*
 * Feed bytes of the response as they come (any split). Interim 1xx
 * responses are skipped.
 * @retval 0 all consumed (check p->complete)
 * @retval -EBADMSG malformed, or bytes after the end of the response
 * @retval -EFBIG the body exceeds body_cap (known from Content-Length or
 *         while reading a chunked or close-delimited body)
 */
int httpc_parser_feed(struct httpc_parser *p, const char *data, size_t len);

/*
 * The connection ended. A body delimited by the close is complete;
 * anything else unfinished is -EBADMSG (e.g. fewer bytes than
 * Content-Length).
 * @retval 0 complete, -EBADMSG, or the earlier error
 */
int httpc_parser_eof(struct httpc_parser *p);

/* ---- client -------------------------------------------------------------- */

struct httpc_config {
	uint32_t ip;	  /* the city's address, host byte order */
	uint16_t port;	  /* usually 443 */
	const char *host; /* the city's name: TLS SNI and certificate check; required */
	/* Pinned trust: only this CA (e.g. identity_tls_load's t.ca); required. */
	mbedtls_x509_crt *ca;
	/* The device certificate chain and its key (t.cert, t.key); required. */
	mbedtls_x509_crt *cert;
	mbedtls_pk_context *key;
	struct httpc_transport *transport; /* required */
	struct hal_clock *clock;	   /* certificate dates; NULL: the system clock */
	int connect_timeout_ms;		   /* 0: HTTPC_CONNECT_TIMEOUT_MS */
	int io_timeout_ms;		   /* 0: HTTPC_IO_TIMEOUT_MS */
	int request_timeout_ms;		   /* 0: HTTPC_REQUEST_TIMEOUT_MS */
	size_t body_max;		   /* 0: HTTPC_BODY_MAX */
	int64_t session_max_age_ms;	   /* 0: HTTPC_SESSION_MAX_AGE_MS; <0: never resume */
};

struct httpc_stats {
	uint32_t connects;	     /* TCP connections opened */
	uint32_t handshakes_full;    /* with certificate verification */
	uint32_t handshakes_resumed; /* abbreviated, from a saved session */
	uint32_t retries;	     /* requests resent once on a fresh connection */
	uint32_t requests;	     /* answered requests */
	int64_t last_handshake_us;   /* duration of the last successful handshake */
	bool last_resumed;	     /* the last handshake was resumed */
};

struct httpc_header {
	const char *name;
	const char *value;
};

struct httpc_request {
	const char *method; /* "GET", "POST", "PUT", "DELETE", "PATCH" (no HEAD) */
	const char *path;   /* "/api/v1/time": starts with '/', no spaces or controls */
	const struct httpc_header *headers; /* extra headers (no CR or LF), may be NULL */
	size_t n_headers;
	const char *body; /* JSON, sent with Content-Type: application/json; NULL: none */
	size_t body_len;
	int timeout_ms; /* the whole request; 0: the configured request_timeout_ms */
};

struct httpc_response {
	int status;	  /* HTTP status code */
	const char *body; /* NUL-terminated; in the client's buffer, valid until the next call */
	size_t body_len;
	char content_type[HTTPC_CONTENT_TYPE_MAX];
	/* Retry-After in delta-seconds, 0..HTTPC_RETRY_AFTER_MAX_S; -1: none
	 * (absent, an HTTP-date, or garbage: ignored) */
	int retry_after_s;
};

/* The client's state; the fields are private to httpc.c. */
struct httpc {
	struct httpc_config cfg;
	char host[HTTPC_HOST_MAX + 1];
	mbedtls_ssl_config conf;
	mbedtls_ssl_context ssl;
	mbedtls_ssl_session session;
	bool session_saved;
	int64_t session_saved_us;
	bool ssl_ready;
	int handle; /* transport handle, -1 when not connected */
	bool connected;
	int io_err;
	int64_t deadline_us;
	bool verify_called;
	bool in_handshake;
	char *body; /* body_max + 1 bytes */
	char head[HTTPC_HEAD_MAX];
	unsigned char rbuf[4096];
	struct httpc_parser parser;
	struct httpc_stats stats;
	enum httpc_reason reason;
	char detail[HTTPC_DETAIL_MAX];
};

/*
 * Check cfg and set the client up (TLS configuration, buffers); no
 * connection yet. cfg's pointers must stay valid until httpc_free.
 * @retval 0
 * @retval -EINVAL a required field is missing, the host is empty, too
 *         long or not a DNS name, or the port is 0
 * @retval -ENOMEM
 */
int httpc_init(struct httpc *c, const struct httpc_config *cfg);

/* Close any connection, forget the session, free everything. */
void httpc_free(struct httpc *c);

/*
 * Connect and handshake now, if not connected (requests do it on their
 * own; this is a probe). A saved session younger than its age limit is
 * offered for resumption.
 * @retval 0 connected
 * @retval negative errno of the reason (httpc_last_reason())
 */
int httpc_connect(struct httpc *c, int timeout_ms);

/*
 * Send one request and read its response, over the open connection if
 * there is one. If that connection turns out closed by the city before any
 * byte of the response came (an idle keep-alive connection), the request is
 * sent once more on a new connection: requests must be idempotent (the sync
 * protocol's are). The connection is kept for the next request unless the
 * city asked to close it or anything failed. resp->body stays valid until
 * the next call on c. Any HTTP status is a success here; the caller judges
 * it.
 * @retval 0 a complete response is in *resp
 * @retval -EINVAL bad request fields, -ETIMEDOUT, -ECONNREFUSED,
 *         -ECONNRESET, -EKEYEXPIRED, -ETIME, -EKEYREJECTED, -EACCES,
 *         -EPROTO, -EBADMSG, -EFBIG, -ENOMEM, -ENETDOWN (and other
 *         transport errors): see httpc_last_reason()
 */
int httpc_request(struct httpc *c, const struct httpc_request *req, struct httpc_response *resp);

/* Close the connection (with a TLS close_notify); the session is kept. */
void httpc_close(struct httpc *c);

/* Forget the saved TLS session: the next handshake is a full one. */
void httpc_forget_session(struct httpc *c);

/* The reason of the last failure (HTTPC_OK after a success). */
enum httpc_reason httpc_last_reason(const struct httpc *c);

/* Technical detail of the last failure for the log ("" after a success). */
const char *httpc_last_detail(const struct httpc *c);

void httpc_get_stats(const struct httpc *c, struct httpc_stats *st);

#endif /* SYNC_HTTPC_H */
