/*
 * The local HTTP server: the kiosk web shell and the JSON API under /api/v1,
 * on libmicrohttpd, bound to loopback unless the office LAN is switched on.
 *
 * Every request goes through one dispatch function: path check, route
 * lookup (404 / 405 with Allow), body cap (413), then the handler. Routes
 * come from a table in struct kiosk: the server's own (health) plus those
 * other apps add with kiosk_route_add() before kiosk_start(). Each route
 * carries a `roles` mask that the staff-accounts work will enforce in that
 * one dispatch function; today every route is public.
 *
 * Every API error has one shape (docs/local-api.md):
 *   {"error": {"code": "not_found", "message": "...", "message_zh": "..."}}
 */
#ifndef KIOSK_KIOSK_H
#define KIOSK_KIOSK_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "fw/config.h"
#include "fw/embed.h"

/* Routes the table holds, the server's own included. */
#define KIOSK_MAX_ROUTES 160
/* Concurrent connections; one thread each (handlers may block briefly). */
#define KIOSK_MAX_CONNECTIONS 32
/* Seconds of inactivity after which a connection is closed. */
#define KIOSK_CONN_TIMEOUT_S 30
/* Server-sent event clients at once (each holds a connection thread). */
#define KIOSK_MAX_STREAMS 8
/* Bytes waiting for one stream client; a client that falls this far behind is cut off. */
#define KIOSK_STREAM_BUF (64 * 1024)
/* A comment line is sent this often on an idle stream (proxies, dead peers). */
#define KIOSK_STREAM_HEARTBEAT_MS 15000

/* Who may call a route. 0 (KIOSK_ROLE_PUBLIC) needs no login. */
enum kiosk_role {
	KIOSK_ROLE_PUBLIC = 0,
	KIOSK_ROLE_STAFF = 1u << 0,
	KIOSK_ROLE_SUPERVISOR = 1u << 1,
	KIOSK_ROLE_TECHNICIAN = 1u << 2,
};

struct kiosk;
struct kiosk_request;
struct kiosk_stream;
struct MHD_Daemon;
struct MHD_Connection;
struct MHD_Response;

/*
 * A route handler. Runs on an HTTP connection thread: it must not touch
 * state owned by the main loop without its own locking, and must not block
 * for long. It answers with one kiosk_reply_*() call and returns 0; or it
 * returns a negative errno without replying and the dispatcher answers with
 * the matching error (-EINVAL/-EBADMSG 400, -EACCES/-EPERM 403, -ENOENT
 * 404, -EEXIST 409, -EBUSY/-EAGAIN 503, anything else 500).
 */
typedef int (*kiosk_handler_fn)(struct kiosk_request *req, void *arg);

struct kiosk_route {
	const char *method; /* "GET", "POST", ...; GET routes also answer HEAD */
	const char *path;   /* "/api/v1/health"; with prefix, "/api/v1/orders/" */
	bool prefix;	    /* match every path starting with `path` */
	unsigned roles;	    /* enum kiosk_role mask, enforced by kiosk_params.authorize */
	kiosk_handler_fn handler;
	void *arg;
};

/* One request, as a handler sees it. Valid only during the handler call. */
struct kiosk_request {
	struct kiosk *k;
	const struct kiosk_route *route;
	const char *method; /* the request's own method ("HEAD" for a HEAD) */
	const char *path;   /* decoded, checked: starts with '/', no ".." */
	const char *rest;   /* for a prefix route, the part of path after it */
	const char *body;   /* NUL-terminated; "" when there is none */
	size_t body_len;    /* <= kiosk_params.body_max */
	/* Who is calling, filled by the authorize hook before the handler runs:
	 * user_id NULL and user_role 0 for a citizen (no session). */
	const char *user_id;
	unsigned user_role; /* one enum kiosk_role bit */
	/* private to the server */
	struct MHD_Connection *conn;
	struct MHD_Response *resp;
	unsigned status;
};

/*
 * Fills `out` (an empty JSON object) for GET /api/v1/health. Runs on an
 * HTTP thread, so it must be thread-safe. The server adds "office_name"
 * from the config when the callback has not. The shell reads these keys
 * (docs/local-api.md); others are harmless:
 *   "firmware": "0.1.0", "board": {"name": "sim", ...},
 *   "database": {"state": "ok" | "recovered" | "closed"},
 *   "uplink": {"state": "up" | "down" | "off"}
 */
typedef void (*kiosk_health_fn)(cJSON *out, void *arg);

struct kiosk_params {
	/* http_listen, http_port (0: any free port), http_allow_lan,
	 * http_body_max, office_name. Copied at start. */
	const struct fw_config *cfg;
	kiosk_health_fn health; /* may be NULL: health carries office_name only */
	void *health_arg;
	/* Static files; NULL means the built-in shell (kiosk_web_files). */
	const struct fw_embed_file *files;
	/*
	 * Access control, called for every request to a route before its body
	 * is read or its handler runs (apps/auth supplies it). It identifies
	 * the caller (fills req->user_id/user_role), checks the route's roles
	 * and, for a state-changing method, the CSRF token.
	 * @retval 0 allowed; -EACCES no or expired session (401);
	 *         -EPERM role not allowed or CSRF token wrong (403).
	 * A refusing hook may make the reply itself (kiosk_reply_*); the server
	 * then sends that instead of its own 401/403.
	 * NULL: every route is public (tests of the server alone).
	 */
	int (*authorize)(struct kiosk_request *req, void *arg);
	void *authorize_arg;
	/* Idle stream heartbeat; 0 means KIOSK_STREAM_HEARTBEAT_MS (tests shorten it). */
	int stream_heartbeat_ms;
};

/*
 * The server. Allocate it anywhere and zero it (or kiosk_init()); add routes;
 * start; stop. Fields are private.
 */
struct kiosk {
	struct MHD_Daemon *daemon;
	struct kiosk_route routes[KIOSK_MAX_ROUTES];
	unsigned nroutes;
	const struct fw_embed_file *files;
	kiosk_health_fn health;
	void *health_arg;
	int (*authorize)(struct kiosk_request *req, void *arg);
	void *authorize_arg;
	size_t body_max;
	uint16_t port;
	char office_name[CONFIG_STR_MAX];
	/* Server-sent event clients; the lock is valid zeroed (glibc). */
	pthread_mutex_t stream_lock;
	struct kiosk_stream *streams[KIOSK_MAX_STREAMS];
	bool streams_closing;
	int stream_heartbeat_ms;
};

/* The web shell compiled into the firmware (apps/kiosk/web/). */
extern const struct fw_embed_file kiosk_web_files[];

/* Reset k to a stopped server with no app routes. Same as zeroing it. */
void kiosk_init(struct kiosk *k);

/*
 * Add a route (copied; the strings it points to must outlive the server).
 * Exact routes are matched before prefix routes; among prefixes the longest
 * wins; the server's own routes cannot be replaced.
 * @retval 0 added
 * @retval -EINVAL missing method/path/handler, or path not starting with '/'
 * @retval -EEXIST the same method and path is already routed
 * @retval -ENOSPC the table is full (KIOSK_MAX_ROUTES)
 * @retval -EBUSY the server is running; add routes before kiosk_start()
 */
int kiosk_route_add(struct kiosk *k, const struct kiosk_route *r);

/*
 * Bind to cfg->http_listen:http_port and serve on internal threads.
 * @retval 0 serving; kiosk_port() tells the port
 * @retval -EINVAL the listen address is not an IPv4 address, a bad port or body cap
 * @retval -EACCES a non-loopback address without http_allow_lan
 * @retval -EADDRINUSE the port is taken (logged with what to do)
 * @retval -EADDRNOTAVAIL the address is not one of this machine's
 * @retval -EALREADY already running
 * @retval -EIO libmicrohttpd could not start for another reason (logged)
 */
int kiosk_start(struct kiosk *k, const struct kiosk_params *p);

/* Stop serving: waits for the connection threads. Safe on a stopped server. */
void kiosk_stop(struct kiosk *k);

/* The bound port (the real one when 0 was asked), 0 when stopped. */
uint16_t kiosk_port(const struct kiosk *k);

/*
 * Replies. Each handler calls exactly one of these; a second call fails.
 * @retval 0 the reply will be sent when the handler returns
 * @retval -EALREADY the handler already replied
 * @retval -ENOMEM out of memory (the dispatcher then answers 500)
 */
/* body is serialised (not consumed); Content-Type application/json. */
int kiosk_reply_json(struct kiosk_request *req, unsigned status, const cJSON *body);
/* The error shape; code is a short snake_case word, messages in English and Chinese. */
int kiosk_reply_error(struct kiosk_request *req, unsigned status, const char *code,
		      const char *message, const char *message_zh);
/* Any bytes (copied) with the given Content-Type. */
int kiosk_reply(struct kiosk_request *req, unsigned status, const char *mime, const void *data,
		size_t len);
/*
 * Like kiosk_reply_json() but consumes o (deleted whether or not the reply
 * was made), so a handler can build and answer in one line.
 * @retval -ENOMEM o is NULL (building it ran out of memory); else as above
 */
int kiosk_reply_obj(struct kiosk_request *req, unsigned status, cJSON *o);

/*
 * The name of one enum kiosk_role bit as audit entries and actors spell it:
 * "staff", "supervisor", "technician"; "citizen" for 0 (no session) or any
 * other value. Never NULL.
 */
const char *kiosk_role_name(unsigned role);

/*
 * Answer with a server-sent event stream (text/event-stream) subscribed to
 * `channel` (copied, up to 31 bytes): from now on every
 * kiosk_stream_publish() to that channel reaches this client, in order,
 * through a buffer of KIOSK_STREAM_BUF bytes. An idle stream gets a comment
 * every heartbeat; a client that falls a full buffer behind is cut off (its
 * EventSource reconnects and starts afresh); kiosk_stop() ends every stream.
 * @retval 0 subscribed; the stream starts when the handler returns
 * @retval -EALREADY the handler already replied
 * @retval -EBUSY KIOSK_MAX_STREAMS clients already, or the server is stopping
 * @retval -EINVAL no channel, -ENOMEM
 */
int kiosk_reply_stream(struct kiosk_request *req, const char *channel);

/*
 * Send one event ("event: NAME" and the data, one "data:" line per line)
 * to every stream client of channel. Never blocks on a client: it only
 * copies into their buffers. Safe from any thread, running or not.
 * @retval >=0 clients that got it
 * @retval -EINVAL no channel/event/data, or an event name with a newline
 */
int kiosk_stream_publish(struct kiosk *k, const char *channel, const char *event, const char *data);

/* Stream clients now connected to channel (NULL: all). */
unsigned kiosk_stream_count(struct kiosk *k, const char *channel);

/*
 * Add a header to the reply already made (e.g. Set-Cookie).
 * @retval 0, -EINVAL no reply yet or a bad header, -ENOMEM
 */
int kiosk_reply_header(struct kiosk_request *req, const char *name, const char *value);

/* A request header or query argument, NULL when absent. */
const char *kiosk_req_header(const struct kiosk_request *req, const char *name);
const char *kiosk_req_query(const struct kiosk_request *req, const char *key);

/* The body parsed as JSON (caller frees with cJSON_Delete), NULL if empty or invalid. */
cJSON *kiosk_req_json(const struct kiosk_request *req);

/*
 * The body parsed as a JSON object (caller frees with cJSON_Delete). When it
 * is empty, not JSON or not an object, answers 400 "bad_json" (in English
 * and Chinese), stores that reply's result in *ret (what the handler should
 * return) and returns NULL.
 */
cJSON *kiosk_req_object(struct kiosk_request *req, int *ret);

#endif /* KIOSK_KIOSK_H */
