/*
 * Walk-in requests, the citizens' progress lookup and ratings (好差评)
 * (docs/requests.md).
 *
 * A citizen at the touchscreen, or staff at a window for a citizen, files a
 * request (诉求): kind of matter first (the not-accepted list is checked
 * before any detail is taken), then category, field, content, location and
 * contact. The office that receives it owns it (首接负责制) until it is
 * answered on the spot or forwarded to the city and acknowledged there. A
 * receipt with a lookup code is printed; the lookup code shows the state of
 * a request, an order or a queue ticket without any personal data. Ratings
 * (five grades) are taken once per served ticket, answered request or
 * replied order.
 *
 * Every change is one SQLite transaction with its history row, audit entry
 * and outbox event; the contact goes only to citizen_contact through
 * fw/pii.h. Thread-safe: HTTP threads call it directly. One SQLite
 * connection behind a mutex; the printer is used outside it.
 */
#ifndef REQUESTS_REQUESTS_H
#define REQUESTS_REQUESTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "fw/pii.h"
#include "hal/clock.h"
#include "hal/printer.h"

#define REQ_NUMBER_MAX	   20	/* "WR20231113-0001" and its NUL */
#define REQ_LOOKUP_LEN	   8	/* characters of a lookup code */
#define REQ_CONTENT_MAX	   2000 /* bytes of UTF-8 content */
#define REQ_LOCATION_MAX   200	/* bytes of UTF-8 location */
#define REQ_ANSWER_MAX	   2000 /* bytes of an answer on the spot */
#define REQ_NOTE_MAX	   500	/* bytes of a forwarding note */
#define REQ_OFFICE_MAX	   128
#define REQ_USER_MAX	   64
#define RATING_COMMENT_MAX 300 /* bytes of UTF-8 of a rating's comment */
#define REQ_LIST_MAX	   200 /* rows a list returns at most */

/*
 * Two contents count as "similar" at this score of requests_similarity()
 * or above: the same matter told again in other words scored 0.28-0.56 in
 * our samples, different matters of the same citizen 0-0.17
 * (tests/unit/test_requests.c, docs/requests.md).
 */
#define REQ_SIMILAR_THRESHOLD 0.25

struct requests;
struct orders;
struct queue;
struct kiosk;

/* Fields (领域) of a matter, DOMAIN.md. */
enum request_field {
	REQ_FIELD_ECONOMY = 0, /* 经济调节 */
	REQ_FIELD_MARKET,      /* 市场监管 */
	REQ_FIELD_SOCIAL,      /* 社会管理 */
	REQ_FIELD_PUBLIC,      /* 公共服务 */
	REQ_FIELD_ENVIRONMENT, /* 生态环境保护 */
	REQ_FIELD_N
};

/* "economy", "market", "social", "public_service", "environment"; the
 * Chinese and English words; parse returns the value or -EINVAL. */
const char *request_field_name(int f);
const char *request_field_zh(int f);
const char *request_field_en(int f);
int request_field_parse(const char *s);

/* The English word of a category (order_category_zh gives the Chinese). */
const char *request_category_en(int c);

enum request_state {
	REQ_OPEN = 0,	 /* 受理中: owned by this office */
	REQ_ANSWERED,	 /* 已当场答复: closed on the spot */
	REQ_FORWARDED,	 /* 已转报市热线: waiting for the city to acknowledge */
	REQ_HANDED_OVER, /* 已移交市热线: the city owns it now */
	REQ_STATE_N
};

/* "open", "answered", "forwarded", "handed_over"; Chinese; English;
 * parse returns the value or -EINVAL. */
const char *request_state_name(int s);
const char *request_state_zh(int s);
const char *request_state_en(int s);
int request_state_parse(const char *s);

/* ---- the not-accepted list (受理范围之外) ---- */

struct request_refusal {
	const char *kind;    /* "litigation", ...; "emergency_110", ... */
	const char *name_zh; /* 诉讼 */
	const char *name_en; /* Litigation */
	const char *why_zh;  /* what it covers */
	const char *why_en;
	const char *where_zh; /* where to go instead */
	const char *where_en;
	const char *phone; /* a number to call, "" when none */
	bool emergency;	   /* 110/119/120/122: not 12345's at all */
};

/* The table: n entries (the matters, then the emergencies). */
const struct request_refusal *requests_refusals(size_t *n);
/* The entry of a kind, NULL when the kind is accepted or unknown. */
const struct request_refusal *requests_refusal_find(const char *kind);
/* GET /api/v1/requests/not-accepted: {"matters": [...], "emergencies": [...]}. */
cJSON *requests_refusals_json(void);

/* ---- similarity (the repeat rule) ---- */

/*
 * Jaccard index of the sets of characters and character bigrams of two
 * UTF-8 texts after normalising: code points (a Chinese character is one),
 * ASCII letters lower-cased, full-width ASCII folded to ASCII, whitespace,
 * punctuation and symbols dropped; invalid bytes count as U+FFFD each.
 * Only the first 4096 characters of each count. Pure; one bounded
 * temporary buffer.
 * @return 0.0 (nothing shared, or a text empty after normalising) to 1.0
 *         (same bigrams); -1.0 when out of memory
 */
double requests_similarity(const char *a, size_t alen, const char *b, size_t blen);

/* ---- the service ---- */

struct requests_params {
	const char *data_dir;	     /* store_init and pii_open have run */
	struct hal_clock *clock;     /* NULL: the system clock */
	struct hal_printer *printer; /* NULL: every print fails as offline */
	struct orders *orders;	     /* NULL: orders are not looked up (yet) */
	struct queue *queue;	     /* NULL: tickets cannot be rated or issued */
	const char *office_name;     /* the first-contact owner; printed */
	int utc_offset_min;	     /* local time = UTC + this (China: 480) */
	int repeat_window_days;	     /* [orders] repeat_window_days, 0 (off)..365 */
};

/* Who acts, for the audit log and the first-contact owner. */
struct requests_actor {
	const char *user_id; /* NULL: a citizen at the touchscreen */
	const char *role;    /* "citizen", "staff", "supervisor", ... */
};

/* Why a call was refused, for the person (on -EINVAL and -EPROTO). */
struct requests_err {
	char en[200];
	char zh[200];
};

/* What is filed. Strings may be NULL for "not given". */
struct request_input {
	const char *kind;     /* the matter chosen first; a refused kind is -EPERM */
	int category;	      /* enum order_category */
	int field;	      /* enum request_field */
	const char *content;  /* required, 1..REQ_CONTENT_MAX bytes */
	const char *location; /* optional, up to REQ_LOCATION_MAX bytes */
	const char *name;     /* optional: pii rules */
	const char *phone;    /* optional: pii rules; needed for the repeat rule */
	bool hide_identity;
};

struct request {
	int64_t id;
	char number[REQ_NUMBER_MAX];
	char lookup_code[REQ_LOOKUP_LEN + 1];
	char day[11];	 /* local date filed */
	char channel[8]; /* "kiosk" or "window" */
	int category;
	int field;
	int state; /* enum request_state */
	char content[REQ_CONTENT_MAX + 1];
	char location[REQ_LOCATION_MAX + 1];
	int64_t contact_id; /* 0: no contact left */
	bool hide_identity;
	char owner_office[REQ_OFFICE_MAX];
	char owner_user[REQ_USER_MAX];
	char filed_by[REQ_USER_MAX];
	int64_t filed_ms, closed_ms, forwarded_ms, handed_over_ms; /* 0: not yet */
	bool printed;
	char answer[REQ_ANSWER_MAX + 1];
	char closed_by[REQ_USER_MAX];
	char city_ref[64];
	int64_t repeat_of; /* the earlier request's id; 0: not a repeat */
	char repeat_of_number[REQ_NUMBER_MAX];
	double similarity; /* with repeat_of */
};

/* @retval 0, -ENOMEM, -EINVAL bad params, or the storage error */
int requests_create(const struct requests_params *p, struct requests **out);
void requests_destroy(struct requests *r);

/*
 * File a request: one transaction with the row, its history, the contact
 * (pii_contact_create), the audit entry and the outbox event
 * "request.filed"; then the receipt is printed outside any lock. A failed
 * print leaves the request filed with printed = false and *print_err the
 * printer's error (-ENOSPC, -EBUSY, -ENODEV, -EIO, -ETIMEDOUT).
 * who->user_id NULL: filed by the citizen at the touchscreen (channel
 * "kiosk", owner "kiosk"); else staff at the window (channel "window", the
 * user the owner).
 * @retval 0 filed (*out filled)
 * @retval -EINVAL input refused (err says which field, both languages)
 * @retval -EPERM the kind is on the not-accepted list (err says where to go)
 * @retval -ENOKEY a contact was given but personal data is locked
 * @retval -EBUSY / -EIO / -ENOSPC storage (nothing stored)
 */
int requests_file(struct requests *r, const struct requests_actor *who,
		  const struct request_input *in, struct request *out, int *print_err,
		  struct requests_err *err);

/* Print the receipt again (audited). @retval 0, -ENOENT, -ECANCELED (*print_err) */
int requests_reprint(struct requests *r, const struct requests_actor *who, const char *number,
		     int *print_err);

/*
 * Close an open request on the spot with the answer given (required,
 * 1..REQ_ANSWER_MAX bytes): outbox "request.answered".
 * @retval 0, -ENOENT, -EINVAL (err), -EPROTO not open (err), storage
 */
int requests_answer(struct requests *r, const struct requests_actor *who, const char *number,
		    const char *answer, struct request *out, struct requests_err *err);

/*
 * Forward an open request to the city as a new request: state
 * "forwarded", outbox "request.forwarded" (the matter, no personal data;
 * the sync worker adds the contact from citizen_contact when it sends).
 * The office stays the owner until requests_mark_handed_over().
 * note: optional, up to REQ_NOTE_MAX bytes (stays on the device).
 * @retval 0, -ENOENT, -EINVAL (err), -EPROTO not open (err), storage
 */
int requests_forward(struct requests *r, const struct requests_actor *who, const char *number,
		     const char *note, struct request *out, struct requests_err *err);

/*
 * The city acknowledged a forwarded request (its own reference city_ref,
 * optional): state "handed_over", owner the city. For the sync worker:
 * with db not NULL it runs inside the caller's open transaction on that
 * connection; with NULL in a transaction of its own.
 * @retval 0 done, 1 already handed over (harmless), -ENOENT, -EPROTO not
 *         forwarded, -EINVAL, storage
 */
int requests_mark_handed_over(struct requests *r, sqlite3 *db, const char *number,
			      const char *city_ref);

/* One request by number. @retval 0, -ENOENT, storage */
int requests_get(struct requests *r, const char *number, struct request *out);

/*
 * The contact of a request through a pii view (PII_VIEW_MASKED or
 * PII_VIEW_FULL). A full view is audited ("request.contact_view").
 * Call pii_contact_clear(out) after use.
 * @retval 0, -ENOENT no such request, -ENODATA no contact left, -EINVAL
 *         a view not offered, -ENOKEY, storage
 */
int requests_contact(struct requests *r, const struct requests_actor *who, const char *number,
		     enum pii_view view, struct pii_contact *out);

struct request_filter {
	int state;   /* enum request_state, or -1 for any */
	bool today;  /* filed today (local date) only */
	bool repeat; /* flagged as possible repeats only */
	int limit;   /* 1..REQ_LIST_MAX; 0: 50 */
};

/* A list, newest first: a JSON array of summaries (no contact). @retval 0, storage */
int requests_list(struct requests *r, const struct request_filter *f, cJSON **out);

/* The history of a request for staff (with notes): [{"at_ms", "action",
 * "state", "actor", "note"}]. @retval 0, -ENOENT, -ENOMEM, storage */
int requests_history_json(struct requests *r, const char *number, cJSON **out);

/* A request as staff see it (no contact: add it with requests_contact). */
cJSON *requests_to_json(const struct request *q);

/*
 * GET /api/v1/lookup/{code}: the code (case-insensitive) of a walk-in
 * request, else of a work order (orders_public_lookup), else of a queue
 * ticket: kind, number, state in both languages, the public timeline and
 * whether it can be rated now. Never any personal data, content or answer.
 * @retval 0 *out (caller frees), -EINVAL not a code's shape, -ENOENT
 *         unknown, -ENOMEM, storage
 */
int requests_public_lookup(struct requests *r, const char *code, cJSON **out);

/* ---- ratings (好差评) ---- */

struct rating_input {
	const char *target;  /* "ticket", "request", "order", or NULL: found by code */
	const char *code;    /* a lookup code; for a ticket also today's number "A012" */
	int grade;	     /* 5 非常满意 .. 1 非常不满意 */
	const char *comment; /* optional, up to RATING_COMMENT_MAX bytes of UTF-8 */
};

struct rating {
	int64_t id;
	char target[8]; /* "ticket", "request", "order" */
	char ref[40];	/* the ticket's lookup code, the request or order number */
	int grade;
	int64_t rated_ms;
};

/* "非常满意" .. "非常不满意" and the English, for grades 5..1 (NULL otherwise). */
const char *rating_grade_zh(int grade);
const char *rating_grade_en(int grade);

/*
 * Rate a served ticket (done, of today's service day), an answered
 * request, or a replied or closed work order; once per target. One
 * transaction: the rating, the audit entry, outbox "rating.submitted".
 * @retval 0 stored (*out)
 * @retval -EINVAL bad input (err); -ENOENT no such target;
 *         -EPROTO not ratable now (err says why); -EEXIST already rated;
 *         storage errors
 */
int requests_rate(struct requests *r, const struct rating_input *in, struct rating *out,
		  struct requests_err *err);

struct rating_summary {
	char from[11], to[11]; /* local dates, inclusive */
	int count[6];	       /* by grade 1..5 (count[0] unused) */
	int total;
	int by_target[3];      /* ticket, request, order */
	double satisfaction;   /* (5 + 4 + 3) / total; 0 when total is 0 */
	double very_satisfied; /* (5 + 4) / total */
};

/*
 * Ratings of local dates from..to (YYYY-MM-DD, inclusive; NULL or "":
 * from the first / to today). @retval 0, -EINVAL a bad date or from > to,
 * storage
 */
int requests_rating_summary(struct requests *r, const char *from, const char *to,
			    struct rating_summary *out);

/* ---- a citizen about an existing order ---- */

/*
 * Queue a citizen to the window handling their matter: a ticket aimed at
 * window_no (queue_issue_to_window) with a note naming the matter, found
 * by its lookup code (a request or an order). Audited.
 * @retval 0 (*ticket_number, *lookup filled), -ENOENT unknown code or
 *         window, -EINVAL, -ECANCELED printer (*print_err), -EAGAIN the
 *         queue is closed, -ENODEV no queue, storage
 */
struct queue_ticket;
int requests_queue_to_window(struct requests *r, const struct requests_actor *who, const char *code,
			     int window_no, int service_id, struct queue_ticket *ticket,
			     int *print_err);

/* ---- HTTP ---- */

/* Add the routes (docs/requests.md) to k before kiosk_start(). */
int requests_routes_register(struct kiosk *k, struct requests *r);

#endif /* REQUESTS_REQUESTS_H */
