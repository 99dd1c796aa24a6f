/*
 * citysim's status page: a read-only HTML page of the devices the city has
 * seen and their last events, on plain HTTP bound to 127.0.0.1 only (a
 * browser has no device certificate for the TLS port). One thread answers
 * one request per connection; anything but GET / is 404. Every text from
 * the store is HTML-escaped.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "citysim.h"

#define LAST_EVENTS 20

struct sbuf {
	char *p;
	size_t len, cap;
	bool failed;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->failed) {
		return;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->cap ? b->cap * 2 : 4096) + n;
		char *p = realloc(b->p, cap);

		if (p == NULL) {
			b->failed = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

__attribute__((format(printf, 2, 3))) static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0) {
		sb_add(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
	}
}

/* Text as HTML (element content and quoted attributes). */
static void sb_esc(struct sbuf *b, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		switch (*s) {
		case '<':
			sb_add(b, "&lt;", 4);
			break;
		case '>':
			sb_add(b, "&gt;", 4);
			break;
		case '&':
			sb_add(b, "&amp;", 5);
			break;
		case '"':
			sb_add(b, "&quot;", 6);
			break;
		case '\'':
			sb_add(b, "&#39;", 5);
			break;
		default:
			sb_add(b, s, 1);
		}
	}
}

static void sb_time(struct sbuf *b, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char when[40];

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%SZ", &tm);
	sb_add(b, when, strlen(when));
}

static const char *col(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);

	return s ? s : "";
}

char *cs_status_html(struct cs_store *s)
{
	struct sbuf b = { 0 };
	sqlite3_stmt *dev = NULL, *ev = NULL, *cnt = NULL, *rej = NULL;

	sb_printf(&b, "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
		      "<title>citysim 市平台模拟 · status</title><style>"
		      "body{font-family:sans-serif;margin:1em}table{border-collapse:collapse;"
		      "margin-bottom:1em}td,th{border:1px solid #999;padding:2px 6px;"
		      "text-align:left}</style></head><body>\n"
		      "<h1>市平台模拟 · city platform simulator</h1>\n");
	sb_printf(&b, "<p>生成时间 generated ");
	sb_time(&b, cs_now_ms());
	sb_printf(&b, "</p>\n");
	pthread_mutex_lock(&s->lock);
	if (sqlite3_prepare_v2(
		    s->db,
		    "SELECT device, first_seen_ms, last_seen_ms FROM devices ORDER BY device", -1,
		    &dev, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(
		    s->db,
		    "SELECT seq, type, event_id, at_ms, received_ms, db_epoch FROM events "
		    "WHERE device=?1 ORDER BY received_ms DESC, seq DESC LIMIT ?2",
		    -1, &ev, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db,
			       "SELECT (SELECT count(*) FROM events WHERE device=?1),"
			       " (SELECT count(*) FROM rejected WHERE device=?1),"
			       " (SELECT group_concat(db_epoch || ': ' || acked_upto, ', ') "
			       "  FROM progress WHERE device=?1)",
			       -1, &cnt, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db,
			       "SELECT seq, type, code, message, message_zh FROM rejected "
			       "WHERE device=?1 ORDER BY received_ms DESC, seq DESC LIMIT ?2",
			       -1, &rej, NULL) != SQLITE_OK) {
		sb_printf(&b, "<p>存储不可读 the store cannot be read: ");
		sb_esc(&b, sqlite3_errmsg(s->db));
		sb_printf(&b, "</p>");
		goto out;
	}
	sb_printf(&b, "<h2>设备 Devices</h2>\n<table><tr><th>设备 device</th>"
		      "<th>首次 first seen</th><th>最近 last seen</th><th>事件 events</th>"
		      "<th>被拒 rejected</th><th>已确认 acked (epoch: seq)</th></tr>\n");
	while (sqlite3_step(dev) == SQLITE_ROW) {
		sb_printf(&b, "<tr><td>");
		sb_esc(&b, col(dev, 0));
		sb_printf(&b, "</td><td>");
		sb_time(&b, sqlite3_column_int64(dev, 1));
		sb_printf(&b, "</td><td>");
		sb_time(&b, sqlite3_column_int64(dev, 2));
		sqlite3_bind_text(cnt, 1, col(dev, 0), -1, SQLITE_TRANSIENT);
		if (sqlite3_step(cnt) == SQLITE_ROW) {
			sb_printf(&b, "</td><td>%lld</td><td>%lld</td><td>",
				  (long long)sqlite3_column_int64(cnt, 0),
				  (long long)sqlite3_column_int64(cnt, 1));
			sb_esc(&b, col(cnt, 2));
		}
		sqlite3_reset(cnt);
		sb_printf(&b, "</td></tr>\n");
	}
	sb_printf(&b, "</table>\n");
	sqlite3_reset(dev);
	while (sqlite3_step(dev) == SQLITE_ROW) {
		sb_printf(&b, "<h2>");
		sb_esc(&b, col(dev, 0));
		sb_printf(&b, " · 最近事件 last events</h2>\n<table><tr><th>seq</th>"
			      "<th>类型 type</th><th>event_id</th><th>发生 at</th>"
			      "<th>收到 received</th><th>db_epoch</th></tr>\n");
		sqlite3_bind_text(ev, 1, col(dev, 0), -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(ev, 2, LAST_EVENTS);
		while (sqlite3_step(ev) == SQLITE_ROW) {
			sb_printf(&b, "<tr><td>%lld</td><td>",
				  (long long)sqlite3_column_int64(ev, 0));
			sb_esc(&b, col(ev, 1));
			sb_printf(&b, "</td><td>");
			sb_esc(&b, col(ev, 2));
			sb_printf(&b, "</td><td>");
			sb_time(&b, sqlite3_column_int64(ev, 3));
			sb_printf(&b, "</td><td>");
			sb_time(&b, sqlite3_column_int64(ev, 4));
			sb_printf(&b, "</td><td>");
			sb_esc(&b, col(ev, 5));
			sb_printf(&b, "</td></tr>\n");
		}
		sqlite3_reset(ev);
		sb_printf(&b, "</table>\n");
		sqlite3_bind_text(rej, 1, col(dev, 0), -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(rej, 2, LAST_EVENTS);
		if (sqlite3_step(rej) == SQLITE_ROW) {
			sb_printf(&b, "<table><tr><th>被拒 rejected seq</th><th>类型 type</th>"
				      "<th>code</th><th>原因 reason</th></tr>\n");
			do {
				sb_printf(&b, "<tr><td>%lld</td><td>",
					  (long long)sqlite3_column_int64(rej, 0));
				sb_esc(&b, col(rej, 1));
				sb_printf(&b, "</td><td>");
				sb_esc(&b, col(rej, 2));
				sb_printf(&b, "</td><td>");
				sb_esc(&b, col(rej, 4));
				sb_printf(&b, " / ");
				sb_esc(&b, col(rej, 3));
				sb_printf(&b, "</td></tr>\n");
			} while (sqlite3_step(rej) == SQLITE_ROW);
			sb_printf(&b, "</table>\n");
		}
		sqlite3_reset(rej);
	}
out:
	sqlite3_finalize(dev);
	sqlite3_finalize(ev);
	sqlite3_finalize(cnt);
	sqlite3_finalize(rej);
	pthread_mutex_unlock(&s->lock);
	sb_printf(&b, "</body></html>\n");
	if (b.failed) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

/* ---- the listener -------------------------------------------------------- */

static struct {
	int fd;
	pthread_t th;
	volatile bool stop;
	struct cs_store *store;
} st = { .fd = -1 };

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w <= 0) {
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

static void answer(int fd)
{
	struct timeval tv = { .tv_sec = 2 };
	char req[4096];
	size_t len = 0;
	const char *status = "404 Not Found";
	char *page = NULL;
	const char *body = "not found / 没有这个页面\n";
	const char *ctype = "text/plain; charset=utf-8";
	char head[256];
	int hl;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (len < sizeof(req) - 1) {
		ssize_t n = recv(fd, req + len, sizeof(req) - 1 - len, 0);

		if (n <= 0) {
			break;
		}
		len += (size_t)n;
		req[len] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL) {
			break;
		}
	}
	req[len] = '\0';
	if (strncmp(req, "GET / ", 6) == 0 || strncmp(req, "GET /?", 6) == 0) {
		page = cs_status_html(st.store);
		if (page != NULL) {
			status = "200 OK";
			body = page;
			ctype = "text/html; charset=utf-8";
		} else {
			status = "500 Internal Server Error";
			body = "out of memory / 内存不足\n";
		}
	}
	hl = snprintf(head, sizeof(head),
		      "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		      "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
		      status, ctype, strlen(body));
	write_all(fd, head, (size_t)hl);
	write_all(fd, body, strlen(body));
	free(page);
}

static void *status_main(void *arg)
{
	while (!st.stop) {
		struct pollfd pfd = { .fd = st.fd, .events = POLLIN };

		if (poll(&pfd, 1, 200) > 0 && (pfd.revents & POLLIN)) {
			int fd = accept(st.fd, NULL, NULL);

			if (fd >= 0) {
				answer(fd);
				close(fd);
			}
		}
	}
	return NULL;
}

int cs_status_start(struct cs_store *s, int port, const char *port_file)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t slen = sizeof(sa);
	int one = 1;

	st.store = s;
	st.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (st.fd < 0) {
		fprintf(stderr, "citysim: status page: %s\n", strerror(errno));
		return -1;
	}
	setsockopt(st.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(st.fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(st.fd, 8) != 0 ||
	    getsockname(st.fd, (struct sockaddr *)&sa, &slen) != 0) {
		fprintf(stderr, "citysim: cannot listen for the status page on 127.0.0.1:%d: %s\n",
			port, strerror(errno));
		goto fail;
	}
	if (port_file != NULL && cs_write_port_file(port_file, ntohs(sa.sin_port)) != 0) {
		fprintf(stderr, "citysim: cannot write %s: %s\n", port_file, strerror(errno));
		goto fail;
	}
	if (pthread_create(&st.th, NULL, status_main, NULL) != 0) {
		fprintf(stderr, "citysim: cannot start the status page\n");
		goto fail;
	}
	return 0;
fail:
	close(st.fd);
	st.fd = -1;
	return -1;
}

void cs_status_stop(void)
{
	if (st.fd < 0) {
		return;
	}
	st.stop = true;
	pthread_join(st.th, NULL);
	close(st.fd);
	st.fd = -1;
}
