/*
 * The local HTTP server on libmicrohttpd: the kiosk shell's static files
 * and the JSON API. MHD runs its own threads (one per connection, bounded,
 * with an idle timeout), so a slow handler never stalls the main loop and
 * the main loop never stalls the screen.
 *
 * The one design decision: every request is decided in dispatch(), on the
 * first callback, before any body byte is read. Path check, route lookup,
 * 404/405 and a declared Content-Length over the cap are answered there;
 * the body is then counted as it streams and never buffered past the cap;
 * the handler runs last. Access control is decided in that same place: the
 * authorize hook (apps/auth) sees every routed request before its body is
 * read, so an anonymous caller cannot even upload to a staff route.
 *
 * Server-sent event streams (kiosk_reply_stream) use MHD's content reader
 * callback on the connection's own thread: it waits on a condition for its
 * client's bounded buffer to fill, a heartbeat to fall due or the server to
 * stop. Publishers only append to those buffers under one lock and never
 * wait for a client.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "fw/log.h"
#include "kiosk/kiosk.h"

#define MOD	     "kiosk"
#define PATH_MAX_LEN 512
#define ALLOW_MAX    64
#define THREAD_STACK (512 * 1024)
#define USER_ID_MAX  64
#define CHANNEL_MAX  32

/* Per-request state, MHD's con_cls: lives from the headers to completion. */
struct conn_state {
	const struct kiosk_route *route; /* NULL: a static file or an error */
	const struct fw_embed_file *file;
	const char *rest;
	char *body;
	size_t len, cap;
	size_t dropped;	 /* bytes counted and thrown away past the cap */
	bool started;	 /* dispatch() has seen the headers */
	bool nul_in_uri; /* the raw URI holds %00, which MHD decodes into a cut */
	bool too_big;
	bool answered; /* a response is queued */
	/* The caller, as the authorize hook found it ("" and 0: a citizen). */
	char user_id[USER_ID_MAX];
	unsigned user_role;
};

struct err_text {
	const char *code;
	const char *en;
	const char *zh;
};

static const struct err_text err_bad_path = { "bad_path", "The address is not valid.",
					      "访问地址无效。" };
static const struct err_text err_bad_host = {
	"bad_host", "This appliance is reached by its IP address or localhost, not by that name.",
	"请使用本机的 IP 地址或 localhost 访问。"
};
static const struct err_text err_not_found = { "not_found", "There is no such page or API route.",
					       "没有这个页面或接口。" };
static const struct err_text err_method = { "method_not_allowed",
					    "This address does not accept that method.",
					    "该地址不支持这种请求方式。" };
static const struct err_text err_bad_request = { "bad_request", "The request is not valid.",
						 "请求无效。" };
static const struct err_text err_login = { "login_required",
					   "Please log in: you are not logged in or your "
					   "session has ended.",
					   "请登录：尚未登录或登录已过期。" };
static const struct err_text err_forbidden = { "forbidden", "You are not allowed to do this.",
					       "没有权限执行此操作。" };
static const struct err_text err_conflict = { "conflict",
					      "This conflicts with the current state; reload "
					      "and try again.",
					      "与当前状态冲突，请刷新后重试。" };
static const struct err_text err_unavailable = { "unavailable",
						 "The service is busy; try again shortly.",
						 "服务繁忙，请稍后再试。" };
static const struct err_text err_internal = { "internal",
					      "Something went wrong inside the appliance; it "
					      "has been logged.",
					      "设备内部出错，已记录。" };

static int health_route(struct kiosk_request *req, void *arg);

/* The server's own routes: matched first, cannot be replaced. */
static const struct kiosk_route builtin_routes[] = {
	{ "GET", "/api/v1/health", false, KIOSK_ROLE_PUBLIC, health_route, NULL },
};
#define N_BUILTIN (sizeof(builtin_routes) / sizeof(builtin_routes[0]))

static const struct kiosk_route *route_at(const struct kiosk *k, unsigned i)
{
	return i < N_BUILTIN ? &builtin_routes[i] : &k->routes[i - N_BUILTIN];
}

static bool is_api(const char *path)
{
	return strncmp(path, "/api/", 5) == 0 || strcmp(path, "/api") == 0;
}

/* ---- responses ---- */

static void add_common_headers(struct MHD_Response *r, bool api)
{
	MHD_add_response_header(r, "Content-Security-Policy", "default-src 'self'");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	/* The shell changes with a firmware update: always revalidate. */
	MHD_add_response_header(r, "Cache-Control", api ? "no-store" : "no-cache");
}

static struct MHD_Response *error_response(const char *code, const char *en, const char *zh)
{
	struct MHD_Response *r = NULL;
	cJSON *root = cJSON_CreateObject();
	cJSON *e = cJSON_AddObjectToObject(root, "error");
	char *text;

	if (e == NULL || cJSON_AddStringToObject(e, "code", code) == NULL ||
	    cJSON_AddStringToObject(e, "message", en) == NULL ||
	    cJSON_AddStringToObject(e, "message_zh", zh) == NULL) {
		goto out;
	}
	text = cJSON_PrintUnformatted(root);
	if (text == NULL) {
		goto out;
	}
	r = MHD_create_response_from_buffer_with_free_callback(strlen(text), text, cJSON_free);
	if (r == NULL) {
		cJSON_free(text);
		goto out;
	}
	MHD_add_response_header(r, "Content-Type", "application/json; charset=utf-8");
out:
	cJSON_Delete(root);
	return r;
}

/* Queue r (consumed) with the common headers. */
static enum MHD_Result queue(struct MHD_Connection *conn, struct conn_state *c, unsigned status,
			     struct MHD_Response *r, bool api)
{
	enum MHD_Result ret;

	if (r == NULL) {
		return MHD_NO; /* out of memory: drop the connection */
	}
	add_common_headers(r, api);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	if (ret == MHD_YES) {
		c->answered = true;
	}
	return ret;
}

static enum MHD_Result queue_error(struct MHD_Connection *conn, struct conn_state *c,
				   unsigned status, const struct err_text *t, const char *allow)
{
	struct MHD_Response *r = error_response(t->code, t->en, t->zh);

	if (r != NULL && allow != NULL) {
		MHD_add_response_header(r, "Allow", allow);
	}
	return queue(conn, c, status, r, true);
}

static enum MHD_Result queue_too_big(struct kiosk *k, struct MHD_Connection *conn,
				     struct conn_state *c)
{
	char en[128], zh[128];

	snprintf(en, sizeof(en), "The request body is larger than the %zu-byte limit.",
		 k->body_max);
	snprintf(zh, sizeof(zh), "请求内容超过 %zu 字节的上限。", k->body_max);
	return queue(conn, c, MHD_HTTP_CONTENT_TOO_LARGE,
		     error_response("payload_too_large", en, zh), true);
}

/* ---- routing ---- */

/* A decoded path we are willing to look up: absolute, bounded, no dot segments. */
static bool path_ok(const char *p)
{
	size_t n = strnlen(p, PATH_MAX_LEN + 1);

	if (n == 0 || n > PATH_MAX_LEN || p[0] != '/') {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (ch < 0x20 || ch == 0x7f || ch == '\\') {
			return false;
		}
		/* a "." or ".." segment */
		if (ch == '.' && p[i - 1] == '/') {
			size_t j = i + 1;

			if (j < n && p[j] == '.') {
				j++;
			}
			if (j == n || p[j] == '/') {
				return false;
			}
		}
	}
	return true;
}

static bool method_matches(const char *route_method, const char *method)
{
	return strcmp(route_method, method) == 0 ||
	       (strcmp(method, "HEAD") == 0 && strcmp(route_method, "GET") == 0);
}

static void allow_add(char *allow, const char *method)
{
	size_t n = strlen(allow);
	const char *p = allow;
	size_t ml = strlen(method);

	while ((p = strstr(p, method)) != NULL) {
		if ((p == allow || p[-1] == ' ') && (p[ml] == ',' || p[ml] == '\0')) {
			return; /* already listed */
		}
		p += ml;
	}
	snprintf(allow + n, ALLOW_MAX - n, "%s%s", n ? ", " : "", method);
}

/*
 * Find the route for method+path. Exact paths are tried first, then the
 * longest matching prefix. Returns the route, or NULL with `allow` filled
 * when the path is routed for other methods (405) and empty when not (404).
 */
static const struct kiosk_route *find_route(const struct kiosk *k, const char *method,
					    const char *path, char allow[ALLOW_MAX])
{
	unsigned n = N_BUILTIN + k->nroutes;
	const struct kiosk_route *r;
	size_t best = 0;
	bool get = false;

	allow[0] = '\0';
	for (unsigned i = 0; i < n; i++) {
		r = route_at(k, i);
		if (!r->prefix && strcmp(r->path, path) == 0) {
			if (method_matches(r->method, method)) {
				return r;
			}
			allow_add(allow, r->method);
			get |= strcmp(r->method, "GET") == 0;
		}
	}
	if (allow[0] != '\0') {
		goto no_match;
	}
	for (unsigned i = 0; i < n; i++) {
		size_t pl;

		r = route_at(k, i);
		pl = strlen(r->path);
		if (r->prefix && pl > best && strncmp(r->path, path, pl) == 0) {
			best = pl;
		}
	}
	for (unsigned i = 0; best > 0 && i < n; i++) {
		r = route_at(k, i);
		if (r->prefix && strlen(r->path) == best && strncmp(r->path, path, best) == 0) {
			if (method_matches(r->method, method)) {
				return r;
			}
			allow_add(allow, r->method);
			get |= strcmp(r->method, "GET") == 0;
		}
	}
no_match:
	if (get) {
		allow_add(allow, "HEAD");
	}
	return NULL;
}

static const struct fw_embed_file *find_file(const struct kiosk *k, const char *path)
{
	if (strcmp(path, "/") == 0) {
		path = "/index.html";
	} else if (strcmp(path, "/display") == 0) {
		path = "/display.html"; /* the hall display's TV page */
	}
	for (const struct fw_embed_file *f = k->files; f != NULL && f->path != NULL; f++) {
		if (strcmp(f->path, path) == 0) {
			return f;
		}
	}
	return NULL;
}

/* ---- dispatch ---- */

static enum MHD_Result serve_file(struct MHD_Connection *conn, struct conn_state *c)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		c->file->size, (void *)c->file->data, MHD_RESPMEM_PERSISTENT);

	if (r == NULL) {
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", c->file->mime);
	return queue(conn, c, MHD_HTTP_OK, r, false);
}

static const struct err_text *errno_text(int err, unsigned *status)
{
	switch (err) {
	case -EINVAL:
	case -EBADMSG:
		*status = MHD_HTTP_BAD_REQUEST;
		return &err_bad_request;
	case -EACCES:
	case -EPERM:
		*status = MHD_HTTP_FORBIDDEN;
		return &err_forbidden;
	case -ENOENT:
		*status = MHD_HTTP_NOT_FOUND;
		return &err_not_found;
	case -EEXIST:
		*status = MHD_HTTP_CONFLICT;
		return &err_conflict;
	case -EBUSY:
	case -EAGAIN:
		*status = MHD_HTTP_SERVICE_UNAVAILABLE;
		return &err_unavailable;
	default:
		*status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		return &err_internal;
	}
}

static enum MHD_Result run_handler(struct kiosk *k, struct MHD_Connection *conn,
				   struct conn_state *c, const char *url, const char *method)
{
	struct kiosk_request req = {
		.k = k,
		.route = c->route,
		.method = method,
		.path = url,
		.rest = c->rest,
		.body = c->body != NULL ? c->body : "",
		.body_len = c->len,
		.user_id = c->user_id[0] != '\0' ? c->user_id : NULL,
		.user_role = c->user_role,
		.conn = conn,
	};
	int rc = c->route->handler(&req, c->route->arg);

	if (rc < 0 && req.resp != NULL) {
		/* Replied and then failed: the failure wins, never a half answer. */
		MHD_destroy_response(req.resp);
		req.resp = NULL;
	}
	if (req.resp == NULL) {
		unsigned status;
		const struct err_text *t = errno_text(rc < 0 ? rc : -EIO, &status);

		if (status == MHD_HTTP_INTERNAL_SERVER_ERROR) {
			log_err(MOD, "%s %s failed: %s", method, url,
				rc < 0 ? strerror(-rc) : "handler gave no reply");
		}
		return queue_error(conn, c, status, t, NULL);
	}
	return queue(conn, c, req.status, req.resp, true);
}

/*
 * Ask the authorize hook about a routed request, before its body is read.
 * Allowed: the caller is kept for the handler. Refused: the hook's own reply
 * if it made one, else 401 for -EACCES and 403 for -EPERM.
 */
static enum MHD_Result authorize(struct kiosk *k, struct MHD_Connection *conn, struct conn_state *c,
				 const char *url, const char *method)
{
	struct kiosk_request req = {
		.k = k,
		.route = c->route,
		.method = method,
		.path = url,
		.rest = c->rest,
		.body = "",
		.conn = conn,
	};
	int rc = k->authorize(&req, k->authorize_arg);
	unsigned status;
	const struct err_text *t;

	if (rc == 0) {
		if (req.resp != NULL) {
			MHD_destroy_response(req.resp); /* allowed: the handler answers */
		}
		snprintf(c->user_id, sizeof(c->user_id), "%s",
			 req.user_id != NULL ? req.user_id : "");
		c->user_role = req.user_id != NULL ? req.user_role : 0;
		return MHD_YES;
	}
	if (req.resp != NULL) {
		return queue(conn, c, req.status, req.resp, true);
	}
	if (rc == -EACCES) {
		return queue_error(conn, c, MHD_HTTP_UNAUTHORIZED, &err_login, NULL);
	}
	t = errno_text(rc, &status);
	if (status == MHD_HTTP_INTERNAL_SERVER_ERROR) {
		log_err(MOD, "%s %s: access check failed: %s", method, url, strerror(-rc));
	}
	return queue_error(conn, c, status, t, NULL);
}

/*
 * The Host header names this server: an IPv4 address or localhost, with an
 * optional port (a missing Host, as HTTP/1.0 allows, is fine). Any other
 * name means a page from elsewhere reached us through a DNS name that now
 * points here (DNS rebinding): refused, so such a page cannot use a staff
 * session or read the API.
 */
static bool host_ok(const char *host)
{
	char name[64];
	size_t n;
	struct in_addr a;

	if (host == NULL) {
		return true;
	}
	n = strcspn(host, ":");
	if (n == 0 || n >= sizeof(name)) {
		return false;
	}
	if (host[n] == ':') {
		const char *port = host + n + 1;

		if (*port == '\0' || strlen(port) > 5 ||
		    strspn(port, "0123456789") != strlen(port)) {
			return false;
		}
	}
	memcpy(name, host, n);
	name[n] = '\0';
	return strcasecmp(name, "localhost") == 0 || inet_pton(AF_INET, name, &a) == 1;
}

/* First callback of a request: decide everything that needs no body. */
static enum MHD_Result first_call(struct kiosk *k, struct MHD_Connection *conn,
				  struct conn_state *c, const char *url, const char *method)
{
	char allow[ALLOW_MAX];
	const char *cl;

	c->started = true;
	if (c->nul_in_uri || !path_ok(url)) {
		return queue_error(conn, c, MHD_HTTP_BAD_REQUEST, &err_bad_path, NULL);
	}
	if (!host_ok(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST))) {
		return queue_error(conn, c, MHD_HTTP_MISDIRECTED_REQUEST, &err_bad_host, NULL);
	}
	c->route = find_route(k, method, url, allow);
	if (c->route != NULL) {
		c->rest = c->route->prefix ? url + strlen(c->route->path) : "";
		if (k->authorize != NULL) {
			enum MHD_Result r = authorize(k, conn, c, url, method);

			if (c->answered || r != MHD_YES) {
				return r;
			}
		}
	} else if (allow[0] != '\0') {
		return queue_error(conn, c, MHD_HTTP_METHOD_NOT_ALLOWED, &err_method, allow);
	} else if (is_api(url) || (c->file = find_file(k, url)) == NULL) {
		return queue_error(conn, c, MHD_HTTP_NOT_FOUND, &err_not_found, NULL);
	} else if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		return queue_error(conn, c, MHD_HTTP_METHOD_NOT_ALLOWED, &err_method, "GET, HEAD");
	}

	cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl != NULL) {
		char *end;
		unsigned long long v;

		errno = 0;
		v = strtoull(cl, &end, 10);
		if (errno != 0 || end == cl || *end != '\0') {
			return queue_error(conn, c, MHD_HTTP_BAD_REQUEST, &err_bad_request, NULL);
		}
		if (v > k->body_max) {
			c->too_big = true;
			return queue_too_big(k, conn, c);
		}
	}
	return MHD_YES;
}

/* A body chunk: keep it while under the cap, count and drop it after. */
static void take_body(struct kiosk *k, struct conn_state *c, const char *data, size_t n)
{
	size_t want;
	char *nb;

	if (c->too_big) {
		return;
	}
	if (n > k->body_max - c->len) {
		c->too_big = true;
		free(c->body);
		c->body = NULL;
		c->len = c->cap = 0;
		return;
	}
	want = c->len + n + 1;
	if (want > c->cap) {
		size_t cap = c->cap ? c->cap : 1024;

		while (cap < want) {
			cap *= 2;
		}
		if (cap > k->body_max + 1) {
			cap = k->body_max + 1;
		}
		nb = realloc(c->body, cap);
		if (nb == NULL) {
			c->too_big = true; /* cannot keep it; answered like an oversize body */
			free(c->body);
			c->body = NULL;
			c->len = c->cap = 0;
			return;
		}
		c->body = nb;
		c->cap = cap;
	}
	memcpy(c->body + c->len, data, n);
	c->len += n;
	c->body[c->len] = '\0';
}

static enum MHD_Result dispatch(void *cls, struct MHD_Connection *conn, const char *url,
				const char *method, const char *version, const char *upload_data,
				size_t *upload_data_size, void **con_cls)
{
	struct kiosk *k = cls;
	struct conn_state *c = *con_cls;

	if (c == NULL) {
		c = calloc(1, sizeof(*c));
		if (c == NULL) {
			return MHD_NO;
		}
		*con_cls = c;
	}
	if (!c->started) {
		return first_call(k, conn, c, url, method);
	}
	if (*upload_data_size != 0) {
		size_t n = *upload_data_size;
		bool was_big = c->too_big;

		*upload_data_size = 0;
		if (c->answered) {
			return MHD_YES;
		}
		take_body(k, c, upload_data, n);
		if (!c->too_big) {
			return MHD_YES;
		}
		if (!was_big) {
			/* Answer now if this MHD allows it (0.9.75 does not mid-body). */
			(void)queue_too_big(k, conn, c);
			return MHD_YES;
		}
		/*
		 * A body of unknown size (chunked) past the cap is read and dropped
		 * so that the client still gets its 413 at the end; one that goes
		 * on past twice the cap is cut off.
		 */
		c->dropped += n;
		if (c->dropped > k->body_max) {
			log_warn(MOD, "%s %s: body goes on past twice the %zu-byte cap; closing",
				 method, url, k->body_max);
			return MHD_NO;
		}
		return MHD_YES;
	}
	if (c->answered) {
		return MHD_YES;
	}
	if (c->too_big) {
		return queue_too_big(k, conn, c);
	}
	if (c->route == NULL) {
		return serve_file(conn, c);
	}
	return run_handler(k, conn, c, url, method);
}

/*
 * Sees the raw URI before MHD decodes it; what it returns becomes con_cls.
 * MHD decodes %00 into a NUL that silently cuts the path ("/a.html%00.png"
 * would be served as "/a.html"), so such a URI is refused.
 */
static void *uri_seen(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct conn_state *c = calloc(1, sizeof(*c));

	if (c != NULL) {
		c->nul_in_uri = strstr(uri, "%00") != NULL;
	}
	return c;
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct conn_state *c = *con_cls;

	if (c != NULL) {
		free(c->body);
		free(c);
		*con_cls = NULL;
	}
}

__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[256];
	size_t n;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) {
		buf[--n] = '\0';
	}
	log_warn(MOD, "libmicrohttpd: %s", buf);
}

/* ---- built-in routes ---- */

static int health_route(struct kiosk_request *req, void *arg)
{
	struct kiosk *k = req->k;
	cJSON *out = cJSON_CreateObject();
	int rc;

	if (out == NULL) {
		return -ENOMEM;
	}
	if (k->health != NULL) {
		k->health(out, k->health_arg);
	}
	if (!cJSON_HasObjectItem(out, "office_name") &&
	    cJSON_AddStringToObject(out, "office_name", k->office_name) == NULL) {
		cJSON_Delete(out);
		return -ENOMEM;
	}
	rc = kiosk_reply_json(req, MHD_HTTP_OK, out);
	cJSON_Delete(out);
	return rc;
}

/* ---- public API ---- */

static void streams_close_all(struct kiosk *k);

void kiosk_init(struct kiosk *k)
{
	memset(k, 0, sizeof(*k));
}

int kiosk_route_add(struct kiosk *k, const struct kiosk_route *r)
{
	if (k->daemon != NULL) {
		return -EBUSY;
	}
	if (r == NULL || r->method == NULL || r->method[0] == '\0' || r->path == NULL ||
	    r->path[0] != '/' || r->handler == NULL) {
		return -EINVAL;
	}
	for (unsigned i = 0; i < N_BUILTIN + k->nroutes; i++) {
		const struct kiosk_route *o = route_at(k, i);

		if (o->prefix == r->prefix && strcmp(o->method, r->method) == 0 &&
		    strcmp(o->path, r->path) == 0) {
			return -EEXIST;
		}
	}
	if (k->nroutes >= KIOSK_MAX_ROUTES) {
		return -ENOSPC;
	}
	k->routes[k->nroutes++] = *r;
	return 0;
}

/* Why MHD could not bind: try the same bind ourselves for the errno. */
static int bind_errno(const struct sockaddr_in *sa)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	int err = -EIO;

	if (fd < 0) {
		return -errno;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) != 0) {
		err = -errno;
	} else if (listen(fd, 1) != 0) {
		err = -errno;
	}
	close(fd);
	return err;
}

int kiosk_start(struct kiosk *k, const struct kiosk_params *p)
{
	const struct fw_config *cfg = p->cfg;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	const union MHD_DaemonInfo *info;
	int err;

	if (k->daemon != NULL) {
		return -EALREADY;
	}
	if (cfg == NULL || cfg->http_port < 0 || cfg->http_port > 65535 ||
	    cfg->http_body_max <= 0) {
		return -EINVAL;
	}
	if (inet_pton(AF_INET, cfg->http_listen, &sa.sin_addr) != 1) {
		log_err(MOD,
			"http.listen '%s' is not an IPv4 address; use 127.0.0.1 for the "
			"touchscreen only",
			cfg->http_listen);
		return -EINVAL;
	}
	if ((ntohl(sa.sin_addr.s_addr) >> 24) != 127 && !cfg->http_allow_lan) {
		log_err(MOD,
			"refusing to listen on %s: not a loopback address; to serve the "
			"office LAN set http.allow_lan = true",
			cfg->http_listen);
		return -EACCES;
	}
	sa.sin_port = htons((uint16_t)cfg->http_port);

	k->files = p->files != NULL ? p->files : kiosk_web_files;
	k->health = p->health;
	k->health_arg = p->health_arg;
	k->authorize = p->authorize;
	k->authorize_arg = p->authorize_arg;
	k->body_max = (size_t)cfg->http_body_max;
	k->stream_heartbeat_ms =
		p->stream_heartbeat_ms > 0 ? p->stream_heartbeat_ms : KIOSK_STREAM_HEARTBEAT_MS;
	snprintf(k->office_name, sizeof(k->office_name), "%s", cfg->office_name);

	/* The logger goes first so that MHD's own start-up messages use it. */
	k->daemon = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL |
			MHD_USE_ITC | MHD_USE_ERROR_LOG,
		(uint16_t)cfg->http_port, NULL, NULL, dispatch, k, MHD_OPTION_EXTERNAL_LOGGER,
		mhd_log, k, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_URI_LOG_CALLBACK, uri_seen, k,
		MHD_OPTION_NOTIFY_COMPLETED, completed, k, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)KIOSK_MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned)KIOSK_CONN_TIMEOUT_S, MHD_OPTION_THREAD_STACK_SIZE, (size_t)THREAD_STACK,
		MHD_OPTION_END);
	if (k->daemon == NULL) {
		err = bind_errno(&sa);
		if (err == -EADDRINUSE) {
			log_err(MOD,
				"port %d on %s is already in use by another program; stop it "
				"or set another http.port in the config file",
				cfg->http_port, cfg->http_listen);
		} else if (err == -EADDRNOTAVAIL) {
			log_err(MOD, "%s is not an address of this machine; check http.listen",
				cfg->http_listen);
		} else {
			log_err(MOD, "cannot serve on %s:%d (%s)", cfg->http_listen, cfg->http_port,
				strerror(err < 0 ? -err : EIO));
			err = -EIO;
		}
		return err;
	}
	info = MHD_get_daemon_info(k->daemon, MHD_DAEMON_INFO_BIND_PORT);
	k->port = info != NULL ? info->port : (uint16_t)cfg->http_port;
	log_info(MOD, "serving the kiosk on http://%s:%u/", cfg->http_listen, k->port);
	return 0;
}

void kiosk_stop(struct kiosk *k)
{
	if (k->daemon == NULL) {
		return;
	}
	streams_close_all(k);
	MHD_stop_daemon(k->daemon);
	k->daemon = NULL;
	k->port = 0;
	pthread_mutex_lock(&k->stream_lock);
	k->streams_closing = false;
	pthread_mutex_unlock(&k->stream_lock);
}

uint16_t kiosk_port(const struct kiosk *k)
{
	return k->port;
}

/* ---- handler helpers ---- */

static int set_reply(struct kiosk_request *req, unsigned status, struct MHD_Response *r,
		     const char *mime)
{
	if (r == NULL) {
		return -ENOMEM;
	}
	if (MHD_add_response_header(r, "Content-Type", mime) != MHD_YES) {
		MHD_destroy_response(r);
		return -ENOMEM;
	}
	req->resp = r;
	req->status = status;
	return 0;
}

int kiosk_reply_json(struct kiosk_request *req, unsigned status, const cJSON *body)
{
	struct MHD_Response *r;
	char *text;

	if (req->resp != NULL) {
		return -EALREADY;
	}
	text = cJSON_PrintUnformatted(body);
	if (text == NULL) {
		return -ENOMEM;
	}
	r = MHD_create_response_from_buffer_with_free_callback(strlen(text), text, cJSON_free);
	if (r == NULL) {
		cJSON_free(text);
		return -ENOMEM;
	}
	return set_reply(req, status, r, "application/json; charset=utf-8");
}

int kiosk_reply_error(struct kiosk_request *req, unsigned status, const char *code,
		      const char *message, const char *message_zh)
{
	if (req->resp != NULL) {
		return -EALREADY;
	}
	/* error_response() sets the Content-Type itself. */
	req->resp = error_response(code, message, message_zh);
	req->status = status;
	return req->resp != NULL ? 0 : -ENOMEM;
}

int kiosk_reply(struct kiosk_request *req, unsigned status, const char *mime, const void *data,
		size_t len)
{
	if (req->resp != NULL) {
		return -EALREADY;
	}
	return set_reply(req, status,
			 MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY),
			 mime);
}

/* ---- server-sent event streams ---- */

/* One stream client: lives from kiosk_reply_stream() to its response's end. */
struct kiosk_stream {
	struct kiosk *k;
	unsigned slot;
	char channel[CHANNEL_MAX];
	pthread_cond_t cond; /* on CLOCK_MONOTONIC; waited on with k->stream_lock */
	bool closing;	     /* end the stream once the buffer is sent */
	bool cut;	     /* fell a whole buffer behind: end it now */
	size_t len;
	char buf[KIOSK_STREAM_BUF];
};

static const char stream_hello[] = "retry: 3000\n: connected\n\n";
static const char stream_heartbeat[] = ": heartbeat\n\n";

static void deadline_after(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* MHD's content reader: wait for bytes, a heartbeat or the end. */
static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct kiosk_stream *st = cls;
	struct kiosk *k = st->k;
	struct timespec until;
	ssize_t n;

	(void)pos;
	deadline_after(&until, k->stream_heartbeat_ms);
	pthread_mutex_lock(&k->stream_lock);
	while (st->len == 0 && !st->closing && !st->cut) {
		if (pthread_cond_timedwait(&st->cond, &k->stream_lock, &until) == ETIMEDOUT &&
		    st->len == 0) {
			memcpy(st->buf, stream_heartbeat, sizeof(stream_heartbeat) - 1);
			st->len = sizeof(stream_heartbeat) - 1;
		}
	}
	if (st->cut || st->len == 0) {
		pthread_mutex_unlock(&k->stream_lock);
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	n = (ssize_t)(st->len < max ? st->len : max);
	memcpy(out, st->buf, (size_t)n);
	memmove(st->buf, st->buf + n, st->len - (size_t)n);
	st->len -= (size_t)n;
	pthread_mutex_unlock(&k->stream_lock);
	return n;
}

/* MHD's free callback: the response is gone, the slot is free again. */
static void stream_free(void *cls)
{
	struct kiosk_stream *st = cls;
	struct kiosk *k = st->k;

	pthread_mutex_lock(&k->stream_lock);
	k->streams[st->slot] = NULL;
	pthread_mutex_unlock(&k->stream_lock);
	pthread_cond_destroy(&st->cond);
	free(st);
}

static void streams_close_all(struct kiosk *k)
{
	pthread_mutex_lock(&k->stream_lock);
	k->streams_closing = true;
	for (unsigned i = 0; i < KIOSK_MAX_STREAMS; i++) {
		if (k->streams[i] != NULL) {
			k->streams[i]->closing = true;
			pthread_cond_signal(&k->streams[i]->cond);
		}
	}
	pthread_mutex_unlock(&k->stream_lock);
}

int kiosk_reply_stream(struct kiosk_request *req, const char *channel)
{
	struct kiosk *k = req->k;
	struct kiosk_stream *st;
	struct MHD_Response *r;
	pthread_condattr_t ca;
	unsigned slot = KIOSK_MAX_STREAMS;
	int rc = -EBUSY;

	if (req->resp != NULL) {
		return -EALREADY;
	}
	if (channel == NULL || channel[0] == '\0' || strlen(channel) >= CHANNEL_MAX) {
		return -EINVAL;
	}
	st = calloc(1, sizeof(*st));
	if (st == NULL) {
		return -ENOMEM;
	}
	st->k = k;
	snprintf(st->channel, sizeof(st->channel), "%s", channel);
	memcpy(st->buf, stream_hello, sizeof(stream_hello) - 1);
	st->len = sizeof(stream_hello) - 1;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&st->cond, &ca);
	pthread_condattr_destroy(&ca);

	pthread_mutex_lock(&k->stream_lock);
	for (unsigned i = 0; !k->streams_closing && i < KIOSK_MAX_STREAMS; i++) {
		if (k->streams[i] == NULL) {
			slot = i;
			break;
		}
	}
	if (slot < KIOSK_MAX_STREAMS) {
		st->slot = slot;
		k->streams[slot] = st;
		rc = 0;
	}
	pthread_mutex_unlock(&k->stream_lock);
	if (rc < 0) {
		log_warn(MOD, "refusing a live-update client: %u already connected",
			 (unsigned)KIOSK_MAX_STREAMS);
		pthread_cond_destroy(&st->cond);
		free(st);
		return rc;
	}
	/* From here the response owns st: stream_free() runs when it is destroyed. */
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, st, stream_free);
	if (r == NULL) {
		stream_free(st);
		return -ENOMEM;
	}
	rc = set_reply(req, MHD_HTTP_OK, r, "text/event-stream; charset=utf-8");
	if (rc == 0) {
		/* Some proxies buffer a stream unless told not to. */
		MHD_add_response_header(r, "X-Accel-Buffering", "no");
	}
	return rc;
}

/* Format one event into a client's buffer; false when it does not fit. */
static bool stream_put(struct kiosk_stream *st, const char *event, const char *data)
{
	size_t cap = sizeof(st->buf);
	size_t at = st->len;
	const char *line = data;
	int n;

	n = snprintf(st->buf + at, cap - at, "event: %s\n", event);
	if (n < 0 || (size_t)n >= cap - at) {
		return false;
	}
	at += (size_t)n;
	for (;;) {
		const char *nl = strchr(line, '\n');
		size_t ll = nl != NULL ? (size_t)(nl - line) : strlen(line);

		if (ll + 7 > cap - at) {
			return false;
		}
		memcpy(st->buf + at, "data: ", 6);
		memcpy(st->buf + at + 6, line, ll);
		at += 6 + ll;
		st->buf[at++] = '\n';
		if (nl == NULL) {
			break;
		}
		line = nl + 1;
	}
	if (at + 1 > cap) {
		return false;
	}
	st->buf[at++] = '\n';
	st->len = at;
	return true;
}

int kiosk_stream_publish(struct kiosk *k, const char *channel, const char *event, const char *data)
{
	int sent = 0;

	if (k == NULL || channel == NULL || event == NULL || data == NULL || event[0] == '\0' ||
	    strpbrk(event, "\r\n") != NULL) {
		return -EINVAL;
	}
	pthread_mutex_lock(&k->stream_lock);
	for (unsigned i = 0; i < KIOSK_MAX_STREAMS; i++) {
		struct kiosk_stream *st = k->streams[i];

		if (st == NULL || st->cut || st->closing || strcmp(st->channel, channel) != 0) {
			continue;
		}
		if (stream_put(st, event, data)) {
			sent++;
		} else {
			/* It will reconnect and get a fresh start; the others go on. */
			st->cut = true;
			log_warn(MOD, "a live-update client on '%s' fell %u bytes behind; cut off",
				 channel, (unsigned)KIOSK_STREAM_BUF);
		}
		pthread_cond_signal(&st->cond);
	}
	pthread_mutex_unlock(&k->stream_lock);
	return sent;
}

unsigned kiosk_stream_count(struct kiosk *k, const char *channel)
{
	unsigned n = 0;

	pthread_mutex_lock(&k->stream_lock);
	for (unsigned i = 0; i < KIOSK_MAX_STREAMS; i++) {
		if (k->streams[i] != NULL &&
		    (channel == NULL || strcmp(k->streams[i]->channel, channel) == 0)) {
			n++;
		}
	}
	pthread_mutex_unlock(&k->stream_lock);
	return n;
}

int kiosk_reply_header(struct kiosk_request *req, const char *name, const char *value)
{
	if (req->resp == NULL || name == NULL || value == NULL) {
		return -EINVAL;
	}
	if (strpbrk(name, "\r\n:") != NULL || strpbrk(value, "\r\n") != NULL) {
		return -EINVAL;
	}
	return MHD_add_response_header(req->resp, name, value) == MHD_YES ? 0 : -ENOMEM;
}

const char *kiosk_req_header(const struct kiosk_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *kiosk_req_query(const struct kiosk_request *req, const char *key)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, key);
}

cJSON *kiosk_req_json(const struct kiosk_request *req)
{
	if (req->body_len == 0) {
		return NULL;
	}
	return cJSON_ParseWithLength(req->body, req->body_len);
}

cJSON *kiosk_req_object(struct kiosk_request *req, int *ret)
{
	cJSON *o = kiosk_req_json(req);

	if (cJSON_IsObject(o)) {
		*ret = 0;
		return o;
	}
	cJSON_Delete(o);
	*ret = kiosk_reply_error(req, 400, "bad_json", "The request body is not a JSON object.",
				 "请求内容不是有效的 JSON 对象。");
	return NULL;
}

int kiosk_reply_obj(struct kiosk_request *req, unsigned status, cJSON *o)
{
	int ret;

	if (o == NULL) {
		return -ENOMEM;
	}
	ret = kiosk_reply_json(req, status, o);
	cJSON_Delete(o);
	return ret;
}

const char *kiosk_role_name(unsigned role)
{
	switch (role) {
	case KIOSK_ROLE_STAFF:
		return "staff";
	case KIOSK_ROLE_SUPERVISOR:
		return "supervisor";
	case KIOSK_ROLE_TECHNICIAN:
		return "technician";
	default:
		return "citizen";
	}
}
