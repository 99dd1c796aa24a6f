/*
 * HTTP/1.1 over mbedTLS over a byte transport, for the sync client.
 *
 * The one design decision: the TLS profile is fixed here, not chosen by the
 * caller. Debian's mbedTLS 2.28.3 predates upstream fixes (a client that
 * never calls mbedtls_ssl_set_hostname() checks no name at all), so every
 * connection sets the hostname, verification is REQUIRED and its result is
 * checked again after the handshake, only ECDHE AEAD suites and TLS 1.2 are
 * offered, and only the configured city CA is trusted. Certificate dates
 * are judged by the device clock: mbedTLS's own expiry flags (from the
 * system time) are replaced in the verify callback. docs/sync-tls.md.
 *
 * Memory: the TLS context and the body buffer are allocated once in
 * httpc_init(); a reconnect reuses them (mbedtls_ssl_session_reset).
 */
#include "sync/httpc.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>

#include "fw/log.h"
#include "fw/rng.h"
#include "hal/net.h"

#define MOD "sync"

/* ---- reasons ------------------------------------------------------------- */

struct reason_info {
	int err;
	const char *name;
	const char *en;
	const char *zh;
};

static const struct reason_info reasons[HTTPC_R_COUNT] = {
	[HTTPC_OK] = { 0, "ok", "connected to the city", "已连接市平台" },
	[HTTPC_R_INVALID] = { -EINVAL, "invalid", "the sync settings or the request are wrong",
			      "同步设置或请求有误" },
	[HTTPC_R_NO_MEMORY] = { -ENOMEM, "no_memory", "the device ran out of memory",
				"设备内存不足" },
	[HTTPC_R_NO_UPLINK] = { -ENETDOWN, "no_uplink",
				"the uplink is not ready (check the cable and the uplink settings)",
				"上联网络未就绪（请检查网线和上联设置）" },
	[HTTPC_R_NO_ANSWER] = { -ETIMEDOUT, "no_answer", "no answer from the city",
				"市平台无应答" },
	[HTTPC_R_REFUSED] = { -ECONNREFUSED, "refused", "the city's address refused the connection",
			      "市平台地址拒绝连接" },
	[HTTPC_R_CONN_LOST] = { -ECONNRESET, "connection_lost",
				"the connection to the city broke off", "与市平台的连接中断" },
	[HTTPC_R_CERT_EXPIRED] = { -EKEYEXPIRED, "cert_expired",
				   "the city's certificate has expired", "市平台证书已过期" },
	[HTTPC_R_CERT_NOT_YET_VALID] = { -ETIME, "cert_not_yet_valid",
					 "the city's certificate is not valid yet (check the "
					 "device clock)",
					 "市平台证书尚未生效（请检查设备时钟）" },
	[HTTPC_R_CERT_WRONG_NAME] = { -EKEYREJECTED, "cert_wrong_name",
				      "the city's certificate is for another name",
				      "市平台证书与域名不符" },
	[HTTPC_R_CERT_UNTRUSTED] = { -EKEYREJECTED, "cert_untrusted",
				     "the city's certificate is not signed by the installed city "
				     "CA",
				     "市平台证书不是由已安装的市平台CA签发" },
	[HTTPC_R_CERT_BAD] = { -EKEYREJECTED, "cert_bad",
			       "the city's certificate is not acceptable (weak key or wrong usage)",
			       "市平台证书不合要求（密钥过弱或用途不符）" },
	[HTTPC_R_DEVICE_REFUSED] = { -EACCES, "device_refused",
				     "the city refused this device's certificate",
				     "市平台拒绝了本设备的证书" },
	[HTTPC_R_TLS_FAILED] = { -EPROTO, "tls_failed", "the secure connection to the city failed",
				 "与市平台的安全连接建立失败" },
	[HTTPC_R_BAD_RESPONSE] = { -EBADMSG, "bad_response", "the city's answer was malformed",
				   "市平台的应答格式错误" },
	[HTTPC_R_TOO_LARGE] = { -EFBIG, "too_large", "the city's answer is too large",
				"市平台的应答过大" },
};

static const struct reason_info *reason_of(enum httpc_reason r)
{
	if ((unsigned int)r >= HTTPC_R_COUNT) {
		r = HTTPC_R_INVALID;
	}
	return &reasons[r];
}

int httpc_reason_errno(enum httpc_reason r)
{
	return reason_of(r)->err;
}

const char *httpc_reason_name(enum httpc_reason r)
{
	return reason_of(r)->name;
}

const char *httpc_reason_en(enum httpc_reason r)
{
	return reason_of(r)->en;
}

const char *httpc_reason_zh(enum httpc_reason r)
{
	return reason_of(r)->zh;
}

/* ---- response parser ----------------------------------------------------- */

static int parser_fail(struct httpc_parser *p, int err)
{
	if (p->err == 0) {
		p->err = err;
		p->reason = err == -EFBIG ? HTTPC_R_TOO_LARGE : HTTPC_R_BAD_RESPONSE;
	}
	return -1;
}

/* Where the scan of a Retry-After value is (ra_scan). */
enum { RA_LEAD = 0, RA_DIGITS, RA_TRAIL, RA_BAD };

static int count_head(struct httpc_parser *p, size_t len)
{
	p->head_bytes += len;
	return p->head_bytes > HTTPC_RESP_HEAD_MAX ? parser_fail(p, -EBADMSG) : 0;
}

static int on_message_begin(http_parser *hp)
{
	struct httpc_parser *p = hp->data;

	p->status = 0;
	p->headers_done = false;
	p->body_len = 0;
	p->content_type_len = 0;
	p->content_type[0] = '\0';
	p->field_len = 0;
	p->field_ct = false;
	p->in_value = false;
	p->retry_after_s = -1;
	p->field_ra = false;
	p->ra_seen = false;
	p->ra_state = RA_LEAD;
	p->ra_val = 0;
	return 0;
}

static int on_status(http_parser *hp, const char *at, size_t len)
{
	return count_head(hp->data, len);
}

static int on_header_field(http_parser *hp, const char *at, size_t len)
{
	struct httpc_parser *p = hp->data;

	if (count_head(p, len)) {
		return -1;
	}
	if (p->in_value) {
		p->in_value = false;
		p->field_len = 0;
		p->field_ct = false;
		p->field_ra = false;
	}
	for (size_t i = 0; i < len; i++) {
		if (p->field_len < sizeof(p->field)) {
			p->field[p->field_len] = at[i];
		}
		p->field_len++;
	}
	return 0;
}

/*
 * Retry-After as delta-seconds only: digits with optional blanks around
 * them, clamped to HTTPC_RETRY_AFTER_MAX_S; anything else (an HTTP-date,
 * a sign, garbage) leaves it unset. Scanned as the value comes, in any
 * split, with no buffer.
 */
static void ra_scan(struct httpc_parser *p, const char *at, size_t len)
{
	for (size_t i = 0; i < len && p->ra_state != RA_BAD; i++) {
		char ch = at[i];

		if (ch >= '0' && ch <= '9' && p->ra_state != RA_TRAIL) {
			p->ra_state = RA_DIGITS;
			p->ra_val = p->ra_val * 10 + (ch - '0');
			if (p->ra_val > HTTPC_RETRY_AFTER_MAX_S) {
				p->ra_val = HTTPC_RETRY_AFTER_MAX_S;
			}
		} else if (ch == ' ' || ch == '\t') {
			if (p->ra_state == RA_DIGITS) {
				p->ra_state = RA_TRAIL;
			}
		} else {
			p->ra_state = RA_BAD;
		}
	}
}

static int on_header_value(http_parser *hp, const char *at, size_t len)
{
	struct httpc_parser *p = hp->data;

	if (count_head(p, len)) {
		return -1;
	}
	if (!p->in_value) {
		p->in_value = true;
		p->field_ct = p->field_len == 12 && strncasecmp(p->field, "content-type", 12) == 0;
		if (p->field_ct) {
			p->content_type_len = 0;
		}
		p->field_ra = p->field_len == 11 && strncasecmp(p->field, "retry-after", 11) == 0;
		if (p->field_ra) {
			/* given twice: neither is trusted */
			p->ra_state = p->ra_seen ? RA_BAD : RA_LEAD;
			p->ra_seen = true;
		}
	}
	if (p->field_ct) {
		for (size_t i = 0; i < len && p->content_type_len < sizeof(p->content_type) - 1;
		     i++) {
			p->content_type[p->content_type_len++] = at[i];
		}
		p->content_type[p->content_type_len] = '\0';
	}
	if (p->field_ra) {
		ra_scan(p, at, len);
	}
	return 0;
}

static int on_headers_complete(http_parser *hp)
{
	struct httpc_parser *p = hp->data;

	p->status = hp->status_code;
	if (hp->status_code < 100 || hp->status_code > 599) {
		return parser_fail(p, -EBADMSG); /* http-parser takes any 1 to 3 digits */
	}
	p->in_value = false;
	p->field_ct = false;
	p->field_ra = false;
	p->field_len = 0;
	if (p->ra_seen && (p->ra_state == RA_DIGITS || p->ra_state == RA_TRAIL)) {
		p->retry_after_s = p->ra_val;
	}
	p->headers_done = true;
	if (hp->status_code / 100 != 1 && hp->content_length != ULLONG_MAX &&
	    hp->content_length > p->body_cap) {
		return parser_fail(p, -EFBIG);
	}
	return 0;
}

static int on_body(http_parser *hp, const char *at, size_t len)
{
	struct httpc_parser *p = hp->data;

	if (len > p->body_cap - p->body_len) {
		return parser_fail(p, -EFBIG);
	}
	memcpy(p->body + p->body_len, at, len);
	p->body_len += len;
	return 0;
}

static int on_message_complete(http_parser *hp)
{
	struct httpc_parser *p = hp->data;

	if (hp->status_code / 100 == 1) {
		return 0; /* an interim response (100 Continue): the real one follows */
	}
	p->complete = true;
	p->keep_alive = http_should_keep_alive(hp) != 0;
	p->body[p->body_len] = '\0';
	http_parser_pause(hp, 1);
	return 0;
}

void httpc_parser_init(struct httpc_parser *p, char *body, size_t body_cap)
{
	memset(p, 0, sizeof(*p));
	http_parser_init(&p->hp, HTTP_RESPONSE);
	p->hp.data = p;
	http_parser_settings_init(&p->settings);
	p->settings.on_message_begin = on_message_begin;
	p->settings.on_status = on_status;
	p->settings.on_header_field = on_header_field;
	p->settings.on_header_value = on_header_value;
	p->settings.on_headers_complete = on_headers_complete;
	p->settings.on_body = on_body;
	p->settings.on_message_complete = on_message_complete;
	p->body = body;
	p->body_cap = body_cap;
	p->body[0] = '\0';
	p->retry_after_s = -1;
}

int httpc_parser_feed(struct httpc_parser *p, const char *data, size_t len)
{
	size_t n;
	enum http_errno e;

	if (p->err) {
		return p->err;
	}
	if (len == 0) {
		return 0;
	}
	if (p->complete) {
		parser_fail(p, -EBADMSG); /* bytes after the response: we never pipeline */
		return p->err;
	}
	/* http-parser (built without strict mode) takes "HTTX/1.1" too. */
	for (size_t i = 0; i < len && p->prefix_len < 5; i++) {
		if (data[i] != "HTTP/"[p->prefix_len++]) {
			parser_fail(p, -EBADMSG);
			return p->err;
		}
	}
	n = http_parser_execute(&p->hp, &p->settings, data, len);
	e = HTTP_PARSER_ERRNO(&p->hp);
	if (p->err) {
		return p->err;
	}
	if (e == HPE_PAUSED && p->complete) {
		if (n < len) {
			parser_fail(p, -EBADMSG);
			return p->err;
		}
		return 0;
	}
	if (e != HPE_OK || n != len) {
		parser_fail(p, -EBADMSG);
		return p->err;
	}
	return 0;
}

int httpc_parser_eof(struct httpc_parser *p)
{
	if (p->err) {
		return p->err;
	}
	if (p->complete) {
		return 0;
	}
	http_parser_execute(&p->hp, &p->settings, NULL, 0);
	if (p->err) {
		return p->err;
	}
	if (!p->complete) {
		parser_fail(p, -EBADMSG);
		return p->err;
	}
	return 0;
}

/* ---- the lwIP transport -------------------------------------------------- */

static int net_t_open(struct httpc_transport *t, uint32_t ip, uint16_t port, int timeout_ms)
{
	return net_connect(ip, port, timeout_ms);
}

static int net_t_send(struct httpc_transport *t, int h, const void *buf, size_t len, int timeout_ms)
{
	return net_send(h, buf, len, timeout_ms);
}

static int net_t_recv(struct httpc_transport *t, int h, void *buf, size_t len, int timeout_ms)
{
	return net_recv(h, buf, len, timeout_ms);
}

static void net_t_close(struct httpc_transport *t, int h)
{
	net_close(h);
}

static const struct httpc_transport_ops net_t_ops = {
	.open = net_t_open,
	.send = net_t_send,
	.recv = net_t_recv,
	.close = net_t_close,
};

struct httpc_transport httpc_transport_net = { .ops = &net_t_ops, .priv = NULL };

/* ---- time ---------------------------------------------------------------- */

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Milliseconds left before the deadline, capped at cap_ms; 0 when past. */
static int slice_ms(const struct httpc *c, int cap_ms)
{
	int64_t left = (c->deadline_us - now_us() + 999) / 1000;

	if (left <= 0) {
		return 0;
	}
	return left < cap_ms ? (int)left : cap_ms;
}

/* Seconds since the epoch of an X.509 date (UTC), without the C library's time zone. */
static int64_t x509_time_s(const mbedtls_x509_time *t)
{
	int64_t y = t->year - (t->mon <= 2);
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t mp = (t->mon + 9) % 12;
	int64_t doy = (153 * mp + 2) / 5 + t->day - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	int64_t days = era * 146097 + doe - 719468;

	return days * 86400 + t->hour * 3600 + t->min * 60 + t->sec;
}

/* ---- failures ------------------------------------------------------------ */

__attribute__((format(printf, 3, 4))) static int fail(struct httpc *c, enum httpc_reason r,
						      const char *fmt, ...)
{
	va_list ap;

	c->reason = r;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
	log_warn(MOD, "%s:%u: %s (%s)", c->host, (unsigned int)c->cfg.port, reason_of(r)->en,
		 c->detail);
	return reason_of(r)->err;
}

/* A transport errno: its reason, keeping the errno itself. */
static int fail_errno(struct httpc *c, int err, const char *what)
{
	enum httpc_reason r;

	switch (err) {
	case -ETIMEDOUT:
		r = HTTPC_R_NO_ANSWER;
		break;
	case -ECONNREFUSED:
		r = HTTPC_R_REFUSED;
		break;
	case -ECONNRESET:
	case -EPIPE:
	case -ECONNABORTED:
		r = HTTPC_R_CONN_LOST;
		break;
	case -ENOMEM:
		r = HTTPC_R_NO_MEMORY;
		break;
	case -EINVAL:
		r = HTTPC_R_INVALID;
		break;
	default:
		r = HTTPC_R_NO_UPLINK;
		break;
	}
	fail(c, r, "%s: %s", what, strerror(-err));
	return err;
}

static void tls_strerror(int ret, char *buf, size_t len)
{
	mbedtls_strerror(ret, buf, len);
}

static bool is_cert_alert(int desc)
{
	switch (desc) {
	case MBEDTLS_SSL_ALERT_MSG_NO_CERT:
	case MBEDTLS_SSL_ALERT_MSG_BAD_CERT:
	case MBEDTLS_SSL_ALERT_MSG_UNSUPPORTED_CERT:
	case MBEDTLS_SSL_ALERT_MSG_CERT_REVOKED:
	case MBEDTLS_SSL_ALERT_MSG_CERT_EXPIRED:
	case MBEDTLS_SSL_ALERT_MSG_CERT_UNKNOWN:
	case MBEDTLS_SSL_ALERT_MSG_UNKNOWN_CA:
	case MBEDTLS_SSL_ALERT_MSG_ACCESS_DENIED:
		return true;
	default:
		return false;
	}
}

static enum httpc_reason verify_reason(uint32_t flags)
{
	if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED) {
		return HTTPC_R_CERT_UNTRUSTED;
	}
	if (flags & MBEDTLS_X509_BADCERT_CN_MISMATCH) {
		return HTTPC_R_CERT_WRONG_NAME;
	}
	if (flags & MBEDTLS_X509_BADCERT_EXPIRED) {
		return HTTPC_R_CERT_EXPIRED;
	}
	if (flags & MBEDTLS_X509_BADCERT_FUTURE) {
		return HTTPC_R_CERT_NOT_YET_VALID;
	}
	return HTTPC_R_CERT_BAD;
}

/* An mbedTLS failure (handshake, read or write): its reason. */
static int fail_tls(struct httpc *c, int ret, const char *what)
{
	char msg[96];

	if (c->io_err == -ETIMEDOUT) {
		return fail(c, HTTPC_R_NO_ANSWER, "%s: no data in time", what);
	}
	if (c->io_err < 0) {
		return fail_errno(c, c->io_err, what);
	}
	tls_strerror(ret, msg, sizeof(msg));
	if (ret == MBEDTLS_ERR_SSL_CONN_EOF || ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
		return fail(c, HTTPC_R_CONN_LOST, "%s: the city closed the connection", what);
	}
	if (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
		uint32_t flags = mbedtls_ssl_get_verify_result(&c->ssl);

		return fail(c, verify_reason(flags), "%s: verify flags 0x%05x", what,
			    (unsigned int)flags);
	}
	if (ret == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE) {
		/* 2.28 keeps the received alert in in_msg: [level, description]. */
		int desc = -1;

		if (c->ssl.in_msgtype == MBEDTLS_SSL_MSG_ALERT && c->ssl.in_msg != NULL) {
			desc = c->ssl.in_msg[1];
		}
		return fail(c, is_cert_alert(desc) ? HTTPC_R_DEVICE_REFUSED : HTTPC_R_TLS_FAILED,
			    "%s: fatal alert %d from the city", what, desc);
	}
	if (ret == MBEDTLS_ERR_SSL_ALLOC_FAILED) {
		return fail(c, HTTPC_R_NO_MEMORY, "%s: %s", what, msg);
	}
	return fail(c, HTTPC_R_TLS_FAILED, "%s: mbedTLS -0x%04x %s", what, (unsigned int)-ret, msg);
}

/* ---- TLS plumbing -------------------------------------------------------- */

/* The start of a transport call for mbedTLS: the ms it may take (0: the
 * budget is spent, noted as -ETIMEDOUT) and len clamped to what an int returns. */
static int bio_begin(struct httpc *c, size_t *len)
{
	int to = slice_ms(c, c->cfg.io_timeout_ms);

	if (to == 0) {
		c->io_err = -ETIMEDOUT;
	}
	if (*len > INT_MAX) {
		*len = INT_MAX;
	}
	return to;
}

/* A transport error n (< 0) noted and told to mbedTLS: a timeout as such, else `other`. */
static int bio_fail(struct httpc *c, int n, int other)
{
	c->io_err = n;
	return n == -ETIMEDOUT ? MBEDTLS_ERR_SSL_TIMEOUT : other;
}

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct httpc *c = ctx;
	int to = bio_begin(c, &len);
	int n;

	if (to == 0) {
		return MBEDTLS_ERR_SSL_TIMEOUT;
	}
	n = c->cfg.transport->ops->send(c->cfg.transport, c->handle, buf, len, to);
	if (c->in_handshake && (n == -EPIPE || n == -ECONNRESET)) {
		/*
		 * The city stopped reading mid-handshake, most likely after
		 * refusing our certificate: go on to read its alert, which
		 * says why. The handshake cannot succeed without its Finished.
		 */
		return (int)len;
	}
	if (n < 0) {
		return bio_fail(c, n, MBEDTLS_ERR_NET_SEND_FAILED);
	}
	return (int)len;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len, uint32_t timeout)
{
	struct httpc *c = ctx;
	int to = bio_begin(c, &len);
	int n;

	if (to == 0) {
		return MBEDTLS_ERR_SSL_TIMEOUT;
	}
	n = c->cfg.transport->ops->recv(c->cfg.transport, c->handle, buf, len, to);
	if (n < 0) {
		return bio_fail(c, n, MBEDTLS_ERR_NET_RECV_FAILED);
	}
	return n; /* 0: the peer closed (MBEDTLS_ERR_SSL_CONN_EOF) */
}

/*
 * Certificate dates by the device clock: mbedTLS set EXPIRED/FUTURE from
 * the system time; replace them for every certificate of the chain.
 */
static int verify_cb(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
	struct httpc *c = ctx;
	struct hal_clock *clk = c->cfg.clock ? c->cfg.clock : &hal_clock_system;
	int64_t now = hal_clock_wall_ms(clk) / 1000;

	c->verify_called = true;
	*flags &= ~(uint32_t)(MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE);
	if (now > x509_time_s(&crt->valid_to)) {
		*flags |= MBEDTLS_X509_BADCERT_EXPIRED;
	}
	if (now < x509_time_s(&crt->valid_from)) {
		*flags |= MBEDTLS_X509_BADCERT_FUTURE;
	}
	return 0;
}

static const int suites[] = {
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	0,
};

static const mbedtls_ecp_group_id curves[] = {
	MBEDTLS_ECP_DP_CURVE25519,
	MBEDTLS_ECP_DP_SECP256R1,
	MBEDTLS_ECP_DP_SECP384R1,
	MBEDTLS_ECP_DP_NONE,
};

static const int sig_hashes[] = {
	MBEDTLS_MD_SHA256,
	MBEDTLS_MD_SHA384,
	MBEDTLS_MD_SHA512,
	MBEDTLS_MD_NONE,
};

/* A DNS name: labels of letters, digits and '-', not all-numeric at the end. */
static bool valid_host(const char *h)
{
	size_t len = strlen(h);
	size_t label = 0;
	bool last_numeric = true;

	if (len == 0 || len > HTTPC_HOST_MAX) {
		return false;
	}
	for (size_t i = 0; i <= len; i++) {
		char ch = h[i];

		if (ch == '.' || ch == '\0') {
			if (label == 0 || label > 63 || h[i - 1] == '-') {
				return false;
			}
			if (ch == '\0') {
				break;
			}
			label = 0;
			last_numeric = true;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || (ch == '-' && label > 0))) {
			return false;
		}
		if (ch < '0' || ch > '9') {
			last_numeric = false;
		}
		label++;
	}
	return !last_numeric;
}

int httpc_init(struct httpc *c, const struct httpc_config *cfg)
{
	int ret = -EINVAL;

	if (c == NULL) {
		return -EINVAL;
	}
	memset(c, 0, sizeof(*c));
	c->handle = -1;
	mbedtls_ssl_config_init(&c->conf);
	mbedtls_ssl_init(&c->ssl);
	mbedtls_ssl_session_init(&c->session);
	c->ssl_ready = true;
	if (cfg == NULL || cfg->host == NULL || !valid_host(cfg->host) || cfg->ca == NULL ||
	    cfg->cert == NULL || cfg->key == NULL || cfg->transport == NULL ||
	    cfg->transport->ops == NULL || cfg->port == 0 || cfg->ip == 0 ||
	    cfg->connect_timeout_ms < 0 || cfg->io_timeout_ms < 0 || cfg->request_timeout_ms < 0) {
		snprintf(c->host, sizeof(c->host), "%s",
			 cfg && cfg->host && strlen(cfg->host) <= HTTPC_HOST_MAX ? cfg->host : "?");
		ret = fail(c, HTTPC_R_INVALID,
			   "the city's host name, address, CA, device certificate, key or "
			   "transport is missing or wrong");
		goto out_free;
	}
	c->cfg = *cfg;
	snprintf(c->host, sizeof(c->host), "%s", cfg->host);
	c->cfg.host = c->host;
	if (c->cfg.connect_timeout_ms == 0) {
		c->cfg.connect_timeout_ms = HTTPC_CONNECT_TIMEOUT_MS;
	}
	if (c->cfg.io_timeout_ms == 0) {
		c->cfg.io_timeout_ms = HTTPC_IO_TIMEOUT_MS;
	}
	if (c->cfg.request_timeout_ms == 0) {
		c->cfg.request_timeout_ms = HTTPC_REQUEST_TIMEOUT_MS;
	}
	if (c->cfg.body_max == 0) {
		c->cfg.body_max = HTTPC_BODY_MAX;
	}
	if (c->cfg.session_max_age_ms == 0) {
		c->cfg.session_max_age_ms = HTTPC_SESSION_MAX_AGE_MS;
	}
	c->body = malloc(c->cfg.body_max + 1);
	if (c->body == NULL) {
		ret = fail(c, HTTPC_R_NO_MEMORY, "body buffer of %zu bytes", c->cfg.body_max);
		goto out_free;
	}

	ret = mbedtls_ssl_config_defaults(&c->conf, MBEDTLS_SSL_IS_CLIENT,
					  MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
	if (ret != 0) {
		ret = fail_tls(c, ret, "TLS configuration");
		goto out_free;
	}
	mbedtls_ssl_conf_authmode(&c->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
	mbedtls_ssl_conf_min_version(&c->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
				     MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_max_version(&c->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
				     MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_ciphersuites(&c->conf, suites);
	mbedtls_ssl_conf_curves(&c->conf, curves);
	mbedtls_ssl_conf_sig_hashes(&c->conf, sig_hashes);
	mbedtls_ssl_conf_cert_profile(&c->conf, &mbedtls_x509_crt_profile_next);
	mbedtls_ssl_conf_ca_chain(&c->conf, c->cfg.ca, NULL);
	mbedtls_ssl_conf_rng(&c->conf, rng_mbedtls, NULL);
	mbedtls_ssl_conf_verify(&c->conf, verify_cb, c);
	mbedtls_ssl_conf_renegotiation(&c->conf, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
	mbedtls_ssl_conf_session_tickets(&c->conf, MBEDTLS_SSL_SESSION_TICKETS_ENABLED);
	ret = mbedtls_ssl_conf_own_cert(&c->conf, c->cfg.cert, c->cfg.key);
	if (ret != 0) {
		ret = fail_tls(c, ret, "device certificate");
		goto out_free;
	}
	ret = mbedtls_ssl_setup(&c->ssl, &c->conf);
	if (ret != 0) {
		ret = fail_tls(c, ret, "TLS set-up");
		goto out_free;
	}
	mbedtls_ssl_set_bio(&c->ssl, c, bio_send, NULL, bio_recv);
	c->reason = HTTPC_OK;
	c->detail[0] = '\0';
	return 0;

out_free:
	httpc_free(c);
	return ret;
}

/* Drop the connection without a close_notify (it failed or the city closed it). */
static void drop_conn(struct httpc *c)
{
	if (c->handle >= 0) {
		c->cfg.transport->ops->close(c->cfg.transport, c->handle);
	}
	c->handle = -1;
	c->connected = false;
}

void httpc_close(struct httpc *c)
{
	if (c == NULL || c->handle < 0) {
		return;
	}
	if (c->connected) {
		/* Best effort, briefly: the city learns we leave on purpose. */
		c->deadline_us = now_us() + 1000 * 1000;
		c->io_err = 0;
		mbedtls_ssl_close_notify(&c->ssl);
	}
	drop_conn(c);
}

void httpc_forget_session(struct httpc *c)
{
	if (c == NULL || !c->ssl_ready) {
		return;
	}
	mbedtls_ssl_session_free(&c->session);
	mbedtls_ssl_session_init(&c->session);
	c->session_saved = false;
}

void httpc_free(struct httpc *c)
{
	if (c == NULL || !c->ssl_ready) {
		return;
	}
	httpc_close(c);
	mbedtls_ssl_free(&c->ssl);
	mbedtls_ssl_config_free(&c->conf);
	mbedtls_ssl_session_free(&c->session);
	c->session_saved = false;
	c->ssl_ready = false;
	free(c->body);
	c->body = NULL;
}

static bool session_fresh(const struct httpc *c)
{
	int64_t age_ms;

	if (!c->session_saved || c->cfg.session_max_age_ms < 0) {
		return false;
	}
	age_ms = (now_us() - c->session_saved_us) / 1000;
	if (age_ms >= c->cfg.session_max_age_ms) {
		return false;
	}
	/* The city's ticket lifetime hint, when it gave one, bounds it too. */
	if (c->session.ticket_len > 0 && c->session.ticket_lifetime > 0 &&
	    age_ms >= (int64_t)c->session.ticket_lifetime * 1000) {
		return false;
	}
	return true;
}

/* Open the transport and handshake; c->deadline_us is set by the caller. */
static int do_connect(struct httpc *c)
{
	bool offered = false;
	uint32_t flags;
	int64_t t0;
	int ret;
	int h;

	drop_conn(c);
	c->io_err = 0;
	if (slice_ms(c, 1) == 0) {
		return fail(c, HTTPC_R_NO_ANSWER, "connect: no time left");
	}
	h = c->cfg.transport->ops->open(c->cfg.transport, c->cfg.ip, c->cfg.port,
					slice_ms(c, c->cfg.connect_timeout_ms));
	if (h < 0) {
		return fail_errno(c, h, "connect");
	}
	c->handle = h;
	c->stats.connects++;

	ret = mbedtls_ssl_session_reset(&c->ssl);
	if (ret == 0) {
		/* Every connection: 2.28.3 checks no name at all without it. */
		ret = mbedtls_ssl_set_hostname(&c->ssl, c->host);
	}
	if (ret != 0) {
		ret = fail_tls(c, ret, "TLS reset");
		drop_conn(c);
		return ret;
	}
	if (session_fresh(c)) {
		offered = mbedtls_ssl_set_session(&c->ssl, &c->session) == 0;
	} else if (c->session_saved) {
		httpc_forget_session(c);
	}

	c->verify_called = false;
	c->in_handshake = true;
	t0 = now_us();
	do {
		ret = mbedtls_ssl_handshake(&c->ssl);
	} while (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE);
	c->in_handshake = false;
	if (ret != 0) {
		ret = fail_tls(c, ret, "TLS handshake");
		httpc_forget_session(c);
		drop_conn(c);
		return ret;
	}
	/* Fail closed even if verification were ever made optional. */
	flags = mbedtls_ssl_get_verify_result(&c->ssl);
	if (flags != 0) {
		ret = fail(c, verify_reason(flags), "TLS handshake: verify flags 0x%05x",
			   (unsigned int)flags);
		httpc_forget_session(c);
		drop_conn(c);
		return ret;
	}
	c->stats.last_handshake_us = now_us() - t0;
	/* A resumed handshake skips certificate verification altogether. */
	c->stats.last_resumed = offered && !c->verify_called;
	if (c->stats.last_resumed) {
		c->stats.handshakes_resumed++;
	} else {
		c->stats.handshakes_full++;
		httpc_forget_session(c);
		if (c->cfg.session_max_age_ms > 0 &&
		    mbedtls_ssl_get_session(&c->ssl, &c->session) == 0) {
			c->session_saved = true;
			c->session_saved_us = now_us();
		}
	}
	c->connected = true;
	log_dbg(MOD, "%s:%u: TLS %s handshake in %lld us (%s)", c->host, (unsigned int)c->cfg.port,
		c->stats.last_resumed ? "resumed" : "full", (long long)c->stats.last_handshake_us,
		mbedtls_ssl_get_ciphersuite(&c->ssl));
	return 0;
}

int httpc_connect(struct httpc *c, int timeout_ms)
{
	int ret;

	if (c == NULL || !c->ssl_ready || timeout_ms < 0) {
		return -EINVAL;
	}
	if (c->connected) {
		return 0;
	}
	c->deadline_us =
		now_us() + (int64_t)(timeout_ms ? timeout_ms : c->cfg.request_timeout_ms) * 1000;
	ret = do_connect(c);
	if (ret == 0) {
		c->reason = HTTPC_OK;
		c->detail[0] = '\0';
	}
	return ret;
}

/* ---- requests ------------------------------------------------------------ */

static bool is_token(const char *s)
{
	if (s == NULL || *s == '\0') {
		return false;
	}
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch <= 32 || ch >= 127 || strchr("()<>@,;:\\\"/[]?={}", ch) != NULL) {
			return false;
		}
	}
	return true;
}

static bool is_field_value(const char *s)
{
	if (s == NULL) {
		return false;
	}
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch < 32 && ch != '\t') || ch == 127) {
			return false;
		}
	}
	return true;
}

static bool is_path(const char *s)
{
	if (s == NULL || s[0] != '/') {
		return false;
	}
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch <= 32 || ch >= 127) {
			return false;
		}
	}
	return true;
}

static bool header_reserved(const char *name)
{
	static const char *const ours[] = { "host", "content-length", "transfer-encoding",
					    "connection", "content-type" };

	for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++) {
		if (strcasecmp(name, ours[i]) == 0) {
			return true;
		}
	}
	return false;
}

/* The request line and headers into c->head. @retval length, -EINVAL */
static int build_head(struct httpc *c, const struct httpc_request *req)
{
	static const char *const methods[] = { "GET", "POST", "PUT", "DELETE", "PATCH" };
	bool method_ok = false;
	size_t cap = sizeof(c->head);
	size_t n;
	int w;

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		if (req->method && strcmp(req->method, methods[i]) == 0) {
			method_ok = true;
		}
	}
	if (!method_ok || !is_path(req->path) || (req->n_headers > 0 && req->headers == NULL) ||
	    (req->body == NULL && req->body_len > 0) || req->timeout_ms < 0) {
		return -EINVAL;
	}
	if (c->cfg.port == 443) {
		w = snprintf(c->head, cap, "%s %s HTTP/1.1\r\nHost: %s\r\n", req->method, req->path,
			     c->host);
	} else {
		w = snprintf(c->head, cap, "%s %s HTTP/1.1\r\nHost: %s:%u\r\n", req->method,
			     req->path, c->host, (unsigned int)c->cfg.port);
	}
	if (w < 0 || (size_t)w >= cap) {
		return -EINVAL;
	}
	n = (size_t)w;
	w = snprintf(c->head + n, cap - n,
		     "User-Agent: hotline-edge/" HE_VERSION "\r\nAccept: application/json\r\n");
	if (w < 0 || (size_t)w >= cap - n) {
		return -EINVAL;
	}
	n += (size_t)w;
	if (req->body != NULL || strcmp(req->method, "POST") == 0 ||
	    strcmp(req->method, "PUT") == 0 || strcmp(req->method, "PATCH") == 0) {
		w = snprintf(c->head + n, cap - n,
			     "Content-Type: application/json\r\nContent-Length: %zu\r\n",
			     req->body ? req->body_len : 0);
		if (w < 0 || (size_t)w >= cap - n) {
			return -EINVAL;
		}
		n += (size_t)w;
	}
	for (size_t i = 0; i < req->n_headers; i++) {
		const struct httpc_header *hd = &req->headers[i];

		if (!is_token(hd->name) || !is_field_value(hd->value) ||
		    header_reserved(hd->name)) {
			return -EINVAL;
		}
		w = snprintf(c->head + n, cap - n, "%s: %s\r\n", hd->name, hd->value);
		if (w < 0 || (size_t)w >= cap - n) {
			return -EINVAL;
		}
		n += (size_t)w;
	}
	if (cap - n < 3) {
		return -EINVAL;
	}
	memcpy(c->head + n, "\r\n", 3);
	return (int)(n + 2);
}

static int tls_write_all(struct httpc *c, const char *buf, size_t len)
{
	while (len > 0) {
		int n = mbedtls_ssl_write(&c->ssl, (const unsigned char *)buf, len);

		if (n == MBEDTLS_ERR_SSL_WANT_READ || n == MBEDTLS_ERR_SSL_WANT_WRITE) {
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

/* The city closed (or broke) the connection: n from mbedtls_ssl_read. */
static bool closed_by_peer(const struct httpc *c, int n)
{
	if (n == 0 || n == MBEDTLS_ERR_SSL_CONN_EOF || n == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
		return true;
	}
	return c->io_err == -ECONNRESET || c->io_err == -EPIPE || c->io_err == -ECONNABORTED;
}

int httpc_request(struct httpc *c, const struct httpc_request *req, struct httpc_response *resp)
{
	bool retried = false;
	bool reused;
	size_t got;
	int head_len;
	int ret;

	if (c == NULL || !c->ssl_ready || req == NULL || resp == NULL) {
		return -EINVAL;
	}
	memset(resp, 0, sizeof(*resp));
	head_len = build_head(c, req);
	if (head_len < 0) {
		return fail(c, HTTPC_R_INVALID, "bad request: method, path, header or body");
	}
	c->deadline_us =
		now_us() +
		(int64_t)(req->timeout_ms ? req->timeout_ms : c->cfg.request_timeout_ms) * 1000;
again:
	reused = c->connected;
	if (!c->connected) {
		ret = do_connect(c);
		if (ret < 0) {
			return ret;
		}
	}
	c->io_err = 0;
	ret = tls_write_all(c, c->head, (size_t)head_len);
	if (ret == 0 && req->body != NULL && req->body_len > 0) {
		ret = tls_write_all(c, req->body, req->body_len);
	}
	if (ret < 0) {
		if (reused && !retried && c->io_err != -ETIMEDOUT) {
			/* The idle connection was gone: once more on a fresh one. */
			retried = true;
			c->stats.retries++;
			drop_conn(c);
			goto again;
		}
		ret = fail_tls(c, ret, "sending the request");
		drop_conn(c);
		return ret;
	}

	httpc_parser_init(&c->parser, c->body, c->cfg.body_max);
	got = 0;
	for (;;) {
		int n = mbedtls_ssl_read(&c->ssl, c->rbuf, sizeof(c->rbuf));

		if (n == MBEDTLS_ERR_SSL_WANT_READ || n == MBEDTLS_ERR_SSL_WANT_WRITE) {
			continue;
		}
		if (n > 0) {
			got += (size_t)n;
			ret = httpc_parser_feed(&c->parser, (const char *)c->rbuf, (size_t)n);
			if (ret < 0) {
				ret = fail(c, c->parser.reason, "response: %s (http-parser: %s)",
					   ret == -EFBIG ? "body over the limit" : "malformed",
					   http_errno_name(HTTP_PARSER_ERRNO(&c->parser.hp)));
				drop_conn(c);
				return ret;
			}
			if (c->parser.complete) {
				break;
			}
			continue;
		}
		if (c->io_err != -ETIMEDOUT && closed_by_peer(c, n)) {
			if (got == 0 && reused && !retried) {
				retried = true;
				c->stats.retries++;
				drop_conn(c);
				goto again;
			}
			drop_conn(c);
			if (got == 0) {
				return fail(c, HTTPC_R_CONN_LOST,
					    "the city closed the connection without answering");
			}
			ret = httpc_parser_eof(&c->parser);
			if (ret < 0) {
				return fail(c, c->parser.reason,
					    "response cut short after %zu bytes", got);
			}
			break;
		}
		ret = fail_tls(c, n, "reading the response");
		drop_conn(c);
		return ret;
	}

	resp->status = c->parser.status;
	resp->body = c->body;
	resp->body_len = c->parser.body_len;
	memcpy(resp->content_type, c->parser.content_type, sizeof(resp->content_type));
	resp->retry_after_s = c->parser.retry_after_s;
	if (c->connected && !c->parser.keep_alive) {
		httpc_close(c);
	}
	c->stats.requests++;
	c->reason = HTTPC_OK;
	c->detail[0] = '\0';
	return 0;
}

enum httpc_reason httpc_last_reason(const struct httpc *c)
{
	return c ? c->reason : HTTPC_R_INVALID;
}

const char *httpc_last_detail(const struct httpc *c)
{
	return c ? c->detail : "";
}

void httpc_get_stats(const struct httpc *c, struct httpc_stats *st)
{
	if (c != NULL && st != NULL) {
		*st = c->stats;
	}
}
