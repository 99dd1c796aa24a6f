/*
 * The walk-in ticket queue (docs/queue.md): services and windows, issuing a
 * ticket only once it is printed, calling with a fairness rule between the
 * priority lane and the others, recall / no-show / start / finish / hold /
 * resume / transfer, day rollover and statistics. All of its state is in
 * SQLite (schema v5); every change is one transaction with its audit entry
 * and its outbox event, and listeners hear of it after the commit.
 *
 * Thread-safe: HTTP threads call it directly. The queue owns one SQLite
 * connection behind a mutex; the printer is used outside that mutex.
 */
#ifndef QUEUE_QUEUE_H
#define QUEUE_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hal/clock.h"
#include "hal/printer.h"

#define QUEUE_MAX_WINDOWS	32
#define QUEUE_MAX_SERVICES	32
#define QUEUE_MAX_DOCS		8  /* required documents per service */
#define QUEUE_MAX_HELD		16 /* held tickets a window view lists */
#define QUEUE_LAST_CALLS	10
#define QUEUE_MAX_LISTENERS	8
#define QUEUE_NOTE_MAX		256 /* bytes of a transfer note */
#define QUEUE_LOOKUP_LEN	8   /* characters of a lookup code */
#define QUEUE_NUMBER_MAX	999 /* numbers are a letter and three digits */
#define QUEUE_DEFAULT_SERVICE_S 300 /* service time assumed before one was measured */

struct queue;
struct kiosk;

enum queue_event_kind {
	QEV_ISSUED,
	QEV_CALLED,
	QEV_RECALLED,
	QEV_NO_SHOW,
	QEV_STARTED,
	QEV_FINISHED,
	QEV_HELD,
	QEV_RESUMED,
	QEV_TRANSFERRED,
	QEV_WINDOW_CHANGED,
	QEV_ROLLOVER,
};

/* What listeners hear after a committed change. Strings are "" when unknown. */
struct queue_event {
	enum queue_event_kind kind;
	char number[8]; /* "A012" */
	int window_no;	/* 0 when no window is involved */
	char window_name_zh[32], window_name_en[32];
	char service_zh[64], service_en[64];
	int recall_count;
	int64_t at_ms;		/* wall time */
	int waiting_in_service; /* tickets waiting in the ticket's service after the change */
};

/* Called after each committed change, from the thread that made it, with no
 * queue lock held. It must not block: copy what it needs and hand off. */
typedef void (*queue_event_fn)(const struct queue_event *ev, void *arg);

struct queue_params {
	const char *data_dir;	     /* store_init has run on it */
	struct hal_clock *clock;     /* NULL: the system clock */
	struct hal_printer *printer; /* NULL: every print fails as offline */
	const char *office_name;     /* printed on tickets */
	/* Seeds of the settings written at first start (the [queue] keys);
	 * afterwards the database (PUT /api/v1/queue/config) is authoritative. */
	int recall_max;	     /* recalls before a ticket must be marked no-show */
	int priority_run;    /* K: consecutive priority calls before fairness applies */
	int rollover_min;    /* local minute of the day the service day changes */
	bool keep_overnight; /* keep unserved tickets across the rollover */
	int utc_offset_min;  /* local time = UTC + this (China: 480) */
};

/* Who acts, for the audit log: user id and role name ("staff", "citizen"...). */
struct queue_actor {
	const char *user_id;
	const char *role;
};

enum queue_window_state { QUEUE_WIN_CLOSED = 0, QUEUE_WIN_OPEN, QUEUE_WIN_PAUSED };

struct queue_ticket {
	int64_t id;
	char day[11]; /* service day, YYYY-MM-DD */
	char number[8];
	int service_id;
	char service_zh[64], service_en[64];
	bool priority;
	bool printed;
	char state[12]; /* printing waiting called serving done no_show held void expired */
	int ahead;	/* tickets before it in its service when issued or looked up */
	int64_t issued_ms, called_ms, started_ms, finished_ms; /* 0: not yet */
	int window_no;					       /* window that called it; 0 none */
	int target_window; /* transferred to this window; 0 none */
	int recall_count;
	char lookup_code[QUEUE_LOOKUP_LEN + 1];
	char note[QUEUE_NOTE_MAX];
};

/* ---- configuration (services, windows, hours, rules) ---- */

struct queue_service_cfg {
	int id; /* 0 in a new service: assigned on save */
	char name_zh[64], name_en[64];
	char prefix;	      /* 'A'..'Z', unique */
	int num_min, num_max; /* 1..QUEUE_NUMBER_MAX; numbers wrap after num_max */
	bool priority_lane;
	int ndocs;
	char documents_zh[QUEUE_MAX_DOCS][96];
	char documents_en[QUEUE_MAX_DOCS][96];
};

struct queue_window_cfg {
	int no; /* 1..99 */
	char name_zh[32], name_en[32];
	/* prefix letters of the services it serves, preferred first, NUL-terminated */
	char services[QUEUE_MAX_SERVICES + 1];
};

struct queue_config {
	int nservices;
	struct queue_service_cfg services[QUEUE_MAX_SERVICES];
	int nwindows;
	struct queue_window_cfg windows[QUEUE_MAX_WINDOWS];
	/* per weekday (0 Sunday .. 6 Saturday): opening and closing minute; open -1: closed */
	int open_min[7], close_min[7];
	int recall_max;	  /* 0..10 */
	int priority_run; /* 1..20 */
	int rollover_min; /* 0..1439 */
	bool keep_overnight;
	bool paused; /* the whole queue: no tickets issued */
};

/*
 * Parse and validate a configuration from JSON (the shape of GET/PUT
 * /api/v1/queue/config, docs/queue.md). On failure err_en/err_zh (160
 * bytes each) say what is wrong in plain words.
 * @retval 0 valid, -EINVAL not
 */
int queue_config_from_json(const char *json, struct queue_config *out, char err_en[160],
			   char err_zh[160]);

/* Check an already filled configuration. Same returns as above. */
int queue_config_validate(const struct queue_config *c, char err_en[160], char err_zh[160]);

/* The configuration as JSON (caller frees), NULL when out of memory. */
char *queue_config_to_json(const struct queue_config *c);

/* The default configuration written at first start. */
void queue_config_default(struct queue_config *c, const struct queue_params *p);

/* ---- lifecycle ---- */

/*
 * Open the queue: its own database connection, the default configuration
 * written at first start, tickets left in `printing` by a crash made
 * `waiting` (the citizen may hold the paper), and a rollover if the day
 * changed while it was stopped.
 * @retval 0, -ENOMEM, -EINVAL bad params, or the storage error
 */
int queue_create(const struct queue_params *p, struct queue **out);
void queue_destroy(struct queue *q);

/* Add a listener (before the queue is used from several threads).
 * @retval 0, -ENOSPC QUEUE_MAX_LISTENERS reached */
int queue_listen(struct queue *q, queue_event_fn fn, void *arg);

/* The configuration in force. @retval 0, -EIO */
int queue_config_get(struct queue *q, struct queue_config *out);

/*
 * Replace the configuration (validated again; audited "queue.config").
 * Services and windows left out are retired, not deleted (tickets refer to
 * them); new services get ids.
 * @retval 0, -EINVAL invalid (err says why), -EBUSY, -EIO
 */
int queue_config_set(struct queue *q, const struct queue_actor *who, const struct queue_config *c,
		     char err_en[160], char err_zh[160]);

/* Whether tickets can be taken now; next_open_ms is the next opening when not. */
struct queue_open_state {
	bool open;
	bool paused;
	int64_t next_open_ms; /* 0 when open or never */
};
int queue_open_state(struct queue *q, struct queue_open_state *out);

/* ---- citizens ---- */

/*
 * Issue a ticket. With print: number allocated and the ticket stored as
 * `printing` (one transaction), printed, then made `waiting` with its
 * outbox event (a second transaction). Without print (show-on-screen): made
 * `waiting` at once, printed = false.
 * @retval 0 issued, *out filled
 * @retval -ECANCELED the print failed: the ticket is `void`, its number
 *         burnt; *print_err holds the printer's error (-ENOSPC paper out,
 *         -EBUSY cover open, -ENODEV offline, -EIO, -ETIMEDOUT)
 * @retval -ENOENT no such service; -EAGAIN closed or paused;
 *         -ERANGE every number of the service's range is still in use;
 *         -EBUSY / -EIO / -ENOSPC storage
 */
int queue_issue(struct queue *q, const struct queue_actor *who, int service_id, bool priority,
		bool print, struct queue_ticket *out, int *print_err);

/*
 * Issue a ticket aimed at one window (a citizen who comes about a matter a
 * window already handles): like queue_issue(), but the ticket waits for
 * window_no only (target_window, called there before anything else) and
 * carries note (free text, stays on the device). service_id 0 takes the
 * window's first service. Same printing rule and returns as queue_issue(),
 * plus -ENOENT no such window or service, -EINVAL a note too long or not
 * UTF-8.
 */
int queue_issue_to_window(struct queue *q, const struct queue_actor *who, int service_id,
			  int window_no, const char *note, bool print, struct queue_ticket *out,
			  int *print_err);

/*
 * Find a ticket by its lookup code (8 characters, case-insensitive) or by
 * its number ("A012", today's service day only). With today_only, a ticket
 * found by code must also belong to today's service day.
 * @retval 0 *out filled, -ENOENT none, -EINVAL a key of neither shape, <0 storage
 */
int queue_ticket_find(struct queue *q, const char *key, bool today_only, struct queue_ticket *out);

/* Print again a ticket of today by number ("A012"); audited.
 * @retval 0, -ENOENT, -ECANCELED (*print_err as above) */
int queue_reprint(struct queue *q, const struct queue_actor *who, const char *number,
		  struct queue_ticket *out, int *print_err);

/* ---- staff at a window ---- */

enum queue_action {
	QUEUE_RECALL,
	QUEUE_NO_SHOW,
	QUEUE_START,
	QUEUE_FINISH,
	QUEUE_HOLD,
	QUEUE_RESUME, /* needs a number */
};

/*
 * Call the next ticket to window no by the fairness rule (docs/queue.md).
 * @retval 0 *out is the called ticket
 * @retval -ENODATA nobody waits for this window
 * @retval -ENOENT no such window; -EPERM the window is not open;
 *         -EALREADY the window still has a called or serving ticket
 */
int queue_call_next(struct queue *q, const struct queue_actor *who, int window_no,
		    struct queue_ticket *out);

/*
 * Act on the window's current ticket (or, for RESUME, the held ticket with
 * this number, which goes back to the front of this window).
 * @retval 0 *out is the ticket after the action
 * @retval -ENOENT no such window or ticket; -ENODATA the window has no
 *         current ticket; -EPROTO the ticket's state does not allow it;
 *         -EDQUOT recall limit reached (mark it no-show)
 */
int queue_act(struct queue *q, const struct queue_actor *who, int window_no,
	      enum queue_action action, const char *number, struct queue_ticket *out);

/*
 * Transfer the window's current ticket to another service (to_service_id)
 * or window (to_window_no); exactly one is non-zero. It waits again with
 * its original issue time, at the front there.
 * @retval 0, -ENOENT, -ENODATA, -EPROTO, -EINVAL (both or neither target,
 *         a note too long or not UTF-8)
 */
int queue_transfer(struct queue *q, const struct queue_actor *who, int window_no, int to_service_id,
		   int to_window_no, const char *note, struct queue_ticket *out);

/* Open, pause or close a window. @retval 0, -ENOENT */
int queue_window_set(struct queue *q, const struct queue_actor *who, int window_no,
		     enum queue_window_state state);

struct queue_window_info {
	int no;
	char name_zh[32], name_en[32];
	enum queue_window_state state;
	bool has_current;
	struct queue_ticket current;
	int nheld;
	struct queue_ticket held[QUEUE_MAX_HELD];
	int nservices;
	struct {
		int id;
		char name_zh[64], name_en[64];
		char prefix;
		int waiting;
	} services[QUEUE_MAX_SERVICES];
};
/* @retval 0, -ENOENT */
int queue_window_info(struct queue *q, int window_no, struct queue_window_info *out);

/* ---- hall display ---- */

struct queue_snapshot {
	int nwindows;
	struct {
		int no;
		char name_zh[32], name_en[32];
		enum queue_window_state state;
		char current[8]; /* "" when none */
	} windows[QUEUE_MAX_WINDOWS];
	int ncalls;
	struct {
		char number[8];
		int window_no;
		int64_t at_ms;
	} calls[QUEUE_LAST_CALLS]; /* newest first */
	int nservices;
	struct {
		int id;
		char name_zh[64], name_en[64];
		char prefix;
		bool priority_lane;
		int waiting;
		int est_wait_min;
	} services[QUEUE_MAX_SERVICES];
};
/* @retval 0, -EIO */
int queue_snapshot(struct queue *q, struct queue_snapshot *out);

/* "open", "paused", "closed" */
const char *queue_window_state_name(enum queue_window_state s);

/* ---- day rollover ---- */

/*
 * If the service day has changed since the last rollover, close the old
 * day: unserved tickets `expired` (waiting and held ones moved to the new
 * day when keep_overnight), counters start again, a `queue.day_summary`
 * event per closed day. The loop calls it every minute; every write also
 * checks first.
 * @retval 1 rolled over, 0 nothing to do, <0 storage error
 */
int queue_rollover(struct queue *q);

/* The service day of a wall time: local date of (wall - rollover time). */
void queue_day_of(int64_t wall_ms, int utc_offset_min, int rollover_min, char out[11]);

/* ---- statistics ---- */

struct queue_stat_row {
	int key; /* service id or window number */
	char name_zh[64], name_en[64];
	int count;  /* tickets issued (void not counted) */
	int served; /* done */
	int no_show;
	int wait_median_s, wait_p90_s;	     /* issue to first call; -1 no data */
	int service_median_s, service_p90_s; /* start to finish; -1 no data */
	double no_show_rate;		     /* no_show / (done + no_show); 0 no data */
};

struct queue_stats {
	char day[11];
	int nservices;
	struct queue_stat_row services[QUEUE_MAX_SERVICES];
	int nwindows;
	struct queue_stat_row windows[QUEUE_MAX_WINDOWS];
};

/* Statistics of one service day (YYYY-MM-DD). @retval 0, -EINVAL bad day, -EIO */
int queue_stats(struct queue *q, const char *day, struct queue_stats *out);

/*
 * The pct-th percentile (nearest rank) of v[0..n), sorting v in place.
 * @return the value, or -1 when n is 0
 */
int64_t queue_percentile(int64_t *v, size_t n, int pct);

/* ---- HTTP ---- */

/* A snapshot as GET /api/v1/queue/snapshot and the hall display's stream
 * carry it (docs/queue.md). Caller deletes; NULL when out of memory. */
struct cJSON;
struct cJSON *queue_snapshot_json(const struct queue_snapshot *s);

/*
 * Add the queue's routes (docs/queue.md, docs/local-api.md) to k before
 * kiosk_start(). @retval 0 or kiosk_route_add's error
 */
int queue_routes_register(struct kiosk *k, struct queue *q);

#endif /* QUEUE_QUEUE_H */
