/*
 * Inside the orders service: the struct behind struct orders and the
 * helpers its files share (orders.c transitions and storage, order_query.c
 * reading, order_city.c city items, order_slip.c the slip). Every helper
 * named "lock held" runs with o->lock taken; those that take a db handle
 * work on the service's own connection or on a caller's (city items may run
 * inside the sync worker's transaction).
 */
#ifndef ORDERS_ORDERS_INTERNAL_H
#define ORDERS_ORDERS_INTERNAL_H

#include <pthread.h>

#include "orders/orders.h"

#define MOD "orders"

/* Largest difference between (wall - monotonic) offsets seen on two writes
 * before it counts as a clock correction (docs/orders.md, "Clock evidence"). */
#define ORDERS_CLOCK_JUMP_MS (2 * 60 * 1000)
/* due_key of an order without a running deadline: NONE_BASE - dispatch_ms. */
#define ORDERS_DUE_NONE_BASE 8000000000000000LL

struct orders {
	pthread_mutex_t lock;	    /* guards db and the fields below */
	pthread_mutex_t print_lock; /* one slip at a time; never taken with lock held */
	sqlite3 *db;
	struct hal_clock *clock;
	struct hal_printer *printer;
	struct calstore *cal;
	struct deadline_rules rules;
	int utc_offset_min;
	int due_soon_days;
	int attachment_max_kb;
	int paper_columns;
	char data_dir[1024];
	char office_name[128];
	bool have_offset;
	int64_t last_offset_ms; /* wall - mono at the last write (this run) */
};

/* Thresholds the deadline flags are computed with (one set per request, so
 * the list filters and the rows' flags agree). */
struct orders_bounds {
	int64_t now;
	int64_t end_today; /* last ms of today (local) */
	int64_t soon_end;  /* last ms of the due_soon_days-th working day after today */
};

/* ---- orders.c ---- */
int64_t orders_now(struct orders *o);
/* The calendar in force (never NULL); release with orders_cal_put. */
const struct workcal *orders_cal_get(struct orders *o);
void orders_cal_put(struct orders *o);
void orders_bounds(struct orders *o, struct orders_bounds *b);
/* Set the computed flags of a row read from storage. */
void orders_compute_flags(struct orders *o, const struct orders_bounds *b, struct order *ord);
/* The running deadline (sign-for or handling) of a row, 0 none. */
int64_t orders_running_deadline(const struct order *ord);

void orders_set_err(struct orders_err *err, const char *en, const char *zh);
/* UTF-8 without control characters (newline and tab allowed with multiline),
 * 0..max-1 bytes; required: at least one non-space character. */
bool orders_text_ok(const char *s, size_t cap, bool required, bool multiline);
/* A code of 1..cap-1 bytes of A-Z a-z 0-9 . _ - */
bool orders_code_ok(const char *s, size_t cap);
/* Actor check for a county action: user id and role staff or supervisor. */
int orders_actor_ok(const struct orders_actor *who, struct orders_err *err);
bool orders_is_supervisor(const struct orders_actor *who);

/* Columns read_order understands (FROM orders o). */
extern const char orders_cols[];
/* Fill ord from a row of orders_cols. */
void orders_read_row(sqlite3_stmt *st, struct order *ord);
/* Load by id or number (lock held). @retval 0, -ENOENT, storage */
int orders_load(sqlite3 *db, int64_t id, struct order *ord);
int orders_load_number(sqlite3 *db, const char *number, struct order *ord);
int orders_load_co(sqlite3 *db, struct order *ord);

/* One write step of a transaction already open on db (lock held): saves the
 * row (version + 1, due_key), appends the outbox event (type NULL: none;
 * payload takes ownership, may be NULL for the standard one), the history
 * row and the audit entry, and checks the clock. */
struct orders_step {
	const struct orders_actor *who;
	const char *action;	  /* audit and history action ("order.sign") */
	enum order_state from;	  /* state before */
	bool is_public;		  /* citizens see it in the lookup timeline */
	const char *note;	  /* history note, may be NULL */
	const char *event;	  /* outbox type or NULL */
	cJSON *payload;		  /* extra event fields (owned), or NULL */
	const char *audit_detail; /* may be NULL */
};
int orders_write_step(struct orders *o, sqlite3 *db, struct order *ord,
		      const struct orders_step *s);
/* Insert a new row (lock held); ord->id is set. */
int orders_insert(struct orders *o, sqlite3 *db, struct order *ord);
/* Save co-handlers of ord (replace). */
int orders_save_co(sqlite3 *db, const struct order *ord);
/* A conflict row for staff (and ord->conflicts + 1, saved by the caller). */
int orders_add_conflict(struct orders *o, sqlite3 *db, struct order *ord, const char *item_id,
			const char *kind, const char *detail);
/* Record a clock correction when the wall clock moved (lock held). */
int orders_clock_check(struct orders *o, sqlite3 *db, const char *seen_by);
/* A fresh lookup code. */
/* Handling due of an order received at received_ms by the rules. */
int64_t orders_rule_due(struct orders *o, const struct order *ord, int64_t from_ms);
int64_t orders_sign_due(struct orders *o, int64_t dispatch_ms);
/* Run a prepared statement to completion and finalize it. */

/* ---- order_query.c ---- */
int orders_seed_defaults(struct orders *o);
bool orders_dept_active(sqlite3 *db, const char *code);

#endif /* ORDERS_ORDERS_INTERNAL_H */
