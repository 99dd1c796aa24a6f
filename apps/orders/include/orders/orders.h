/*
 * Work orders (工单) the city transfers to the county (docs/orders.md):
 * their fields, their life from dispatch to close, deadlines on the
 * working-day calendar, urging notices, repeat links, attachments and the
 * printed order slip.
 *
 * Every transition is one function that checks the order's state and the
 * caller's input, then writes the order, a history row, an audit entry and
 * an outbox event in one SQLite transaction. A transition the state does
 * not allow is refused with -EPROTO and a reason in plain words (the HTTP
 * layer answers 409). Decisions from the city (dispatch, return and
 * extension decisions, visit results, urging notices, recall) go through
 * orders_apply_city(), which the sync worker calls for each downloaded
 * item and `hotline-edge admin city-event` calls until sync exists.
 *
 * Thread-safe: HTTP threads call it directly. One SQLite connection behind
 * a mutex; the printer is used outside it.
 */
#ifndef ORDERS_ORDERS_H
#define ORDERS_ORDERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "hal/clock.h"
#include "hal/printer.h"
#include "orders/calstore.h"
#include "orders/workcal.h"

#define ORDER_NO_MAX	   32 /* bytes of a city order number, NUL included */
#define ORDER_TITLE_MAX	   256
#define ORDER_CONTENT_MAX  8192
#define ORDER_TEXT_MAX	   4096 /* reply, reason, legal basis, note */
#define ORDER_DEPT_MAX	   64	/* department code */
#define ORDER_MAX_CO	   8	/* co-handlers (协办) */
#define ORDER_LOOKUP_LEN   8	/* characters of a citizen's lookup code */
#define ORDER_REASON_MAX   160	/* bytes of a refusal reason */

#define ORDER_LOCATION_MAX 256
#define ORDER_USER_MAX	   64  /* bytes of a staff user id */
#define ORDER_CODE_MAX	   32  /* bytes of a classification code */
#define ORDER_NAME_MAX	   128 /* bytes of a department's or a code's name */
#define ORDER_LIST_MAX	   200 /* rows orders_list returns at most */
#define ORDER_SEARCH_MAX   128 /* bytes of a search text */
#define ORDER_MIME_MAX	   32

struct orders;
struct kiosk;

enum order_state {
	ORDER_PENDING = 0,    /* 待签收: dispatched, not yet signed for */
	ORDER_RECEIVED,	      /* 已签收 */
	ORDER_HANDLING,	      /* 办理中: lead handler (and co-handlers) assigned */
	ORDER_DRAFTED,	      /* 待审核: reply drafted, waiting for sign-off */
	ORDER_REPLIED,	      /* 已答复: signed off and sent, waiting for the visit */
	ORDER_CLOSED,	      /* 办结 */
	ORDER_RETURN_PENDING, /* 退回申请中: the city decides */
	ORDER_RETURNED,	      /* 已退回: the city took it back */
	ORDER_RECALLED,	      /* 已撤回: the city withdrew it */
	ORDER_STATE_N
};

/* "pending", "received", "handling", "drafted", "replied", "closed",
 * "return_pending", "returned", "recalled"; and the Chinese words. */
const char *order_state_name(enum order_state s);
const char *order_state_zh(enum order_state s);
int order_state_parse(const char *s); /* value or -EINVAL */

/* How the citizen reached the hotline. Names: "phone", "web", "wechat",
 * "app", "sms", "letter", "fax", "walk_in". */
enum order_channel {
	ORDER_CH_PHONE = 0,
	ORDER_CH_WEB,
	ORDER_CH_WECHAT,
	ORDER_CH_APP,
	ORDER_CH_SMS,
	ORDER_CH_LETTER,
	ORDER_CH_FAX,
	ORDER_CH_WALK_IN,
	ORDER_CH_N
};
const char *order_channel_name(enum order_channel c);
const char *order_channel_zh(enum order_channel c);
int order_channel_parse(const char *s);

/* The five fields (领域). Names: "economy" 经济调节, "market" 市场监管,
 * "social" 社会管理, "public_service" 公共服务, "environment" 生态环境保护. */
enum order_field {
	ORDER_FIELD_ECONOMY = 0,
	ORDER_FIELD_MARKET,
	ORDER_FIELD_SOCIAL,
	ORDER_FIELD_PUBLIC_SERVICE,
	ORDER_FIELD_ENVIRONMENT,
	ORDER_FIELD_N
};
const char *order_field_name(enum order_field f);
const char *order_field_zh(enum order_field f);
int order_field_parse(const char *s);

/* State of the order's extension request. Names: "none", "pending",
 * "approved", "rejected". */
enum order_ext_state {
	ORDER_EXT_NONE = 0,
	ORDER_EXT_PENDING,
	ORDER_EXT_APPROVED,
	ORDER_EXT_REJECTED
};
const char *order_ext_state_name(enum order_ext_state e);

/* The city's visit result (回访). Names: "none", "satisfied", "lawful",
 * "unsatisfied". */
enum order_visit {
	ORDER_VISIT_NONE = 0,
	ORDER_VISIT_SATISFIED,
	ORDER_VISIT_LAWFUL,
	ORDER_VISIT_UNSATISFIED
};
const char *order_visit_name(enum order_visit v);

/* What a caller may do to an order now (orders_allowed_actions; the names
 * are those of the "actions" array in orders_get_json). */
enum order_action {
	ORDER_ACT_SIGN = 0,	     /* "sign" */
	ORDER_ACT_ASSIGN,	     /* "assign" */
	ORDER_ACT_DRAFT_REPLY,	     /* "draft_reply" */
	ORDER_ACT_REJECT_DRAFT,	     /* "reject_draft" (supervisor) */
	ORDER_ACT_SIGN_OFF,	     /* "sign_off" (supervisor) */
	ORDER_ACT_REQUEST_RETURN,    /* "request_return" */
	ORDER_ACT_REQUEST_EXTENSION, /* "request_extension" */
	ORDER_ACT_ACK_NOTICE,	  /* "ack_notice" (supervisor; an unacknowledged notice exists) */
	ORDER_ACT_LINK_REPEAT,	  /* "link_repeat" */
	ORDER_ACT_ADD_ATTACHMENT, /* "add_attachment" */
	ORDER_ACT_PRINT,	  /* "print" */
	ORDER_ACT_ACK_CONFLICT,	  /* "ack_conflict" (supervisor; an open conflict exists) */
	ORDER_ACT_N
};
const char *order_action_name(enum order_action a);

/* Who acts: user id and role ("staff", "supervisor", "technician",
 * "citizen", "city", "system"). */
struct orders_actor {
	const char *user_id;
	const char *role;
};

/* Why a call was refused, for the person (filled on -EPROTO, -EPERM,
 * -EINVAL, -ENOENT and printer errors). */
struct orders_err {
	char en[ORDER_REASON_MAX];
	char zh[ORDER_REASON_MAX];
};

/*
 * One order as stored, plus the flags computed when it was read. Large
 * (about 24 KB): allocate it. Times are wall ms (UTC), 0 when not set.
 */
struct order {
	int64_t id;		   /* local row id (the API's {id}) */
	char number[ORDER_NO_MAX]; /* the city's order number */
	enum order_channel channel;
	enum order_category category;
	enum order_field field;
	char code[ORDER_CODE_MAX]; /* classification code ("" none) */
	char title[ORDER_TITLE_MAX];
	char content[ORDER_CONTENT_MAX];
	char location[ORDER_LOCATION_MAX];
	enum order_urgency urgency;
	enum order_complexity complexity;
	int64_t contact_id; /* citizen_contact row (pii.h); 0 none */
	bool hide_identity; /* the citizen asked to stay hidden */
	enum order_state state;
	int64_t dispatch_ms; /* the city dispatched it */
	int64_t received_ms; /* signed for: the handling clock starts */
	int64_t sign_due_ms; /* sign for by */
	int64_t due_ms;	     /* handle (reply) by */
	bool city_due;	     /* due_ms was given by the city */
	int64_t replied_ms;  /* signed off */
	int64_t closed_ms;
	enum order_ext_state ext_state;
	int64_t ext_due_ms; /* requested (pending) or approved new due */
	char ext_reason[ORDER_TEXT_MAX];
	char ext_basis[ORDER_TEXT_MAX];
	char return_reason[ORDER_TEXT_MAX]; /* the county's, while return_pending */
	char return_basis[ORDER_TEXT_MAX];
	int64_t pause_from_ms; /* the handling clock stopped here (pending return/extension); 0 */
	char city_reason[ORDER_TEXT_MAX]; /* the city's last reason (rejection, 重办) */
	char lead_dept[ORDER_DEPT_MAX];	  /* 主办 ("" not assigned) */
	int nco;
	char co_depts[ORDER_MAX_CO][ORDER_DEPT_MAX]; /* 协办 */
	char handler[ORDER_USER_MAX];		     /* staff user handling it ("" none) */
	char reply[ORDER_TEXT_MAX];
	char drafted_by[ORDER_USER_MAX];
	char signed_by[ORDER_USER_MAX];
	enum order_visit visit;
	char lookup_code[ORDER_LOOKUP_LEN + 1];
	bool printed;
	int64_t printed_ms;
	char repeat_of[ORDER_NO_MAX]; /* 重复诉求: the earlier order's number ("" none) */
	int redo_count;		      /* times the city sent it back (发回重办) */
	int64_t version;	      /* grows with every change of the row */
	int64_t updated_ms;
	/* computed when read */
	enum deadline_flag due_flag; /* of the running clock (sign-for or handling) */
	bool due_today, overdue, due_soon;
	int urged;	   /* urging notices not yet acknowledged */
	int conflicts;	   /* conflicts not yet acknowledged */
	bool sync_pending; /* events of this order the city has not acknowledged */
};

/* Whether the state is one the county still works on (pending, received,
 * handling, drafted, return_pending). */
bool order_state_open(enum order_state s);

struct orders_params {
	const char *data_dir;		    /* store_init and pii_open have run */
	struct hal_clock *clock;	    /* NULL: the system clock */
	struct hal_printer *printer;	    /* NULL: printing fails as offline */
	struct calstore *cal;		    /* the working-day calendar */
	const struct deadline_rules *rules; /* copied */
	int utc_offset_min;
	int due_soon_days;
	int attachment_max_kb;
	const char *office_name; /* printed on slips */
	int paper_columns;	 /* slip width in half-width columns; 0: 32 (58 mm paper) */
};

/* @retval 0, -ENOMEM, -EINVAL, or the storage error */
int orders_create(const struct orders_params *p, struct orders **out);
void orders_destroy(struct orders *o);

/* ---- transitions (each one transaction: row, history, audit, outbox) ----
 *
 * Common returns: 0 done; -EPROTO the order's state does not allow it (err
 * says why; HTTP 409); -EPERM the caller's role may not (err); -EINVAL bad
 * input (err); -ENOENT no such order; -EBUSY, -EIO, -ENOSPC storage.
 * Roles: "staff" and "supervisor" may act; "supervisor" only where said.
 */

/* 待签收 → 已签收: the handling clock starts now; due_ms from the rules
 * (category, urgency, complexity) unless the city gave a due time. */
int orders_sign(struct orders *o, const struct orders_actor *who, int64_t id,
		struct orders_err *err);

struct order_assign {
	const char *lead_dept;		    /* required, an active department code */
	const char *co_depts[ORDER_MAX_CO]; /* co-handlers, distinct, not the lead */
	int nco;
	const char *handler; /* staff user id; NULL or "": the caller */
	int complexity;	     /* enum order_complexity, or -1 keep */
	const char *note;    /* optional */
};

/* 已签收/办理中 → 办理中. A new complexity recomputes due_ms from the receipt
 * (unless the city gave it or an extension was approved). */
int orders_assign(struct orders *o, const struct orders_actor *who, int64_t id,
		  const struct order_assign *a, struct orders_err *err);

/* 办理中/待审核 → 待审核, with a non-empty reply (≤ ORDER_TEXT_MAX - 1 bytes). */
int orders_draft_reply(struct orders *o, const struct orders_actor *who, int64_t id,
		       const char *reply, struct orders_err *err);

/* Supervisor: 待审核 → 办理中 with a comment (required). */
int orders_reject_draft(struct orders *o, const struct orders_actor *who, int64_t id,
			const char *comment, struct orders_err *err);

/* Supervisor: 待审核 → 已答复; outbox "order.replied" with the reply. */
int orders_sign_off(struct orders *o, const struct orders_actor *who, int64_t id,
		    struct orders_err *err);

/* 已签收/办理中 → 退回申请中; reason and legal basis both required. */
int orders_request_return(struct orders *o, const struct orders_actor *who, int64_t id,
			  const char *reason, const char *basis, struct orders_err *err);

/* Ask the city for a later due day (date "YYYY-MM-DD", local). Only in
 * 已签收/办理中/待审核, before the current due time, when none is pending;
 * the new day must be after the current due day and within the rule's
 * extension_max working days from the receipt. The state does not change;
 * ext_state becomes pending. */
int orders_request_extension(struct orders *o, const struct orders_actor *who, int64_t id,
			     const char *new_due_date, const char *reason, const char *basis,
			     struct orders_err *err);

/* Supervisor: acknowledge an urging notice (by its id in orders_get_json). */
int orders_ack_notice(struct orders *o, const struct orders_actor *who, int64_t id,
		      int64_t notice_id, struct orders_err *err);

/* Supervisor: acknowledge a conflict row (recall or re-dispatch after local
 * action), after staff have dealt with it. */
int orders_ack_conflict(struct orders *o, const struct orders_actor *who, int64_t id,
			int64_t conflict_id, struct orders_err *err);

/* 重复诉求: link this order to an earlier one by its number (known to this
 * device, not the order itself); sets repeat_of; note optional. Any state
 * except returned/recalled. */
int orders_link_repeat(struct orders *o, const struct orders_actor *who, int64_t id,
		       const char *earlier_number, const char *note, struct orders_err *err);

/*
 * Attach a file (a scan or photo of a paper reply). mime must be
 * "image/jpeg", "image/png" or "application/pdf" and match the bytes'
 * magic; len ≤ attachment_max_kb KiB; name is shown to staff (≤ 128 bytes,
 * no '/'). Stored as DATA_DIR/attachments/<sha256 hex> before the row is
 * committed. Open states only.
 * @retval 0 (*att_id filled), -EFBIG too large, -EINVAL type or name,
 *         -EPROTO state, -ENOENT, -ENOSPC storage is critical (fw/backlog.h:
 *         attachments are refused, err says so), storage errors
 */
int orders_add_attachment(struct orders *o, const struct orders_actor *who, int64_t id,
			  const char *name, const char *mime, const void *data, size_t len,
			  int64_t *att_id, struct orders_err *err);

/* An attachment's bytes (caller frees *data) and type.
 * @retval 0, -ENOENT (no such attachment of this order, or its file is
 *         gone), -ENOMEM, -EIO */
int orders_get_attachment(struct orders *o, int64_t id, int64_t att_id, void **data, size_t *len,
			  char mime[ORDER_MIME_MAX]);

/* Record that the slip was printed (orders_print_slip calls it after the
 * printer confirmed). Audited; no outbox. */
int orders_mark_printed(struct orders *o, const struct orders_actor *who, int64_t id,
			struct orders_err *err);

/* ---- printing (the printer is used outside the lock) ---- */

/*
 * Print the order slip and then mark it printed.
 * @retval 0 printed; the printer's error (-ENOSPC paper out, -EBUSY cover
 *         open, -ENODEV offline, -EIO, -ETIMEDOUT) with err saying what to
 *         do — nothing marked, the caller may retry; -ENOENT; storage errors
 */
int orders_print_slip(struct orders *o, const struct orders_actor *who, int64_t id,
		      struct orders_err *err);

/* Print every open order not yet printed, oldest dispatch first; stops at
 * the first printer error (err says it).
 * @retval 0 all printed (or none to print), else the printer's error;
 *         *printed and *failed count the slips */
int orders_print_new(struct orders *o, const struct orders_actor *who, int *printed, int *failed,
		     struct orders_err *err);

/* The slip's ESC/POS bytes (for tests and the spool), caller frees. */
int orders_slip_render(struct orders *o, int64_t id, uint8_t **job, size_t *len);

/* ---- reading ---- */

/* One order's row with its computed flags. @retval 0, -ENOENT, -EIO */
int orders_get(struct orders *o, int64_t id, struct order *out);
/* The same by the city's order number. */
int orders_find(struct orders *o, const char *number, struct order *out);

/* The actions the caller's role may take on the order now (bit
 * 1u << enum order_action). @retval 0, -ENOENT, -EIO */
int orders_allowed_actions(struct orders *o, const struct orders_actor *who, int64_t id,
			   unsigned *mask);

/* The order as JSON (the shape of GET /api/v1/orders/{id}, docs/orders.md):
 * the row's fields with names and Chinese labels, flags, "history",
 * "notices", "links", "attachments", "conflicts", "co_depts", "actions"
 * (names of the allowed actions) and "contact". The contact is masked;
 * with reveal, staff and supervisors get the full view and the order's
 * handler the handler view (the reveal is audited "order.contact_view").
 * Caller frees *out. @retval 0, -ENOENT, -ENOMEM, -EIO */
int orders_get_json(struct orders *o, const struct orders_actor *who, int64_t id, bool reveal,
		    cJSON **out);

/* The row fields of an order as a JSON object (what lists carry). */
cJSON *order_to_json(const struct order *ord);

/* Filters of the order list. */
enum orders_flag_filter {
	ORDERS_FLAG_ANY = 0,
	ORDERS_FLAG_DUE_TODAY,
	ORDERS_FLAG_OVERDUE,
	ORDERS_FLAG_DUE_SOON,
	ORDERS_FLAG_URGED,
	ORDERS_FLAG_UNPRINTED,
	ORDERS_FLAG_SYNC_PENDING, /* "waiting to send" */
	ORDERS_FLAG_CONFLICT,
	ORDERS_FLAG_OPEN, /* every open state */
};
/* "any" "due_today" "overdue" "due_soon" "urged" "unprinted" "sync_pending"
 * "conflict" "open"; parse returns the value or -EINVAL. */
int orders_flag_parse(const char *s);

enum orders_sort {
	ORDERS_SORT_DUE = 0,	   /* running deadline first, then the others */
	ORDERS_SORT_DISPATCH_DESC, /* newest first */
};

struct orders_filter {
	int state; /* enum order_state or -1 any */
	enum orders_flag_filter flag;
	int category;			/* enum order_category or -1 */
	char lead_dept[ORDER_DEPT_MAX]; /* "" any */
	char handler[ORDER_USER_MAX];	/* "" any */
	char q[ORDER_SEARCH_MAX];	/* number, title, content, location; "" none */
	enum orders_sort sort;
	int offset;
	int limit; /* 1..ORDER_LIST_MAX; 0: 50 */
};
void orders_filter_init(struct orders_filter *f);

/* {"total": N, "offset": k, "limit": n, "rows": [order_to_json...]}
 * (rows carry no content, only its first 120 characters as "excerpt").
 * @retval 0, -EINVAL (bad filter), -ENOMEM, -EIO */
int orders_list(struct orders *o, const struct orders_filter *f, cJSON **out);

/* The staff home screen: {"counts": {"due_today", "overdue", "urged",
 * "pending", "sync_pending", "due_soon", "conflicts", "unprinted"},
 * "due_today": [...], "overdue": [...], "urged": [...], "pending": [...],
 * "sync_pending": [...] (first 10 rows each), "calendar": {"has_year":
 * bool, "year": Y, "warning_en", "warning_zh"}}. */
int orders_home(struct orders *o, const struct orders_actor *who, cJSON **out);

/* Figures over orders dispatched in [from_ms, to_ms): {"from_ms", "to_ms",
 * "total", "replied", "replied_on_time", "on_time_rate" (null when none
 * replied), "visited", "resolved", "resolution_rate", "satisfied",
 * "satisfaction_rate", "overdue_by_dept": [{"dept","name_zh","name_en",
 * "overdue"}], "by_category": [{"category","zh","count"}], "by_state":
 * [{"state","zh","count"}]}. Rates are 0..1. */
int orders_dashboard(struct orders *o, int64_t from_ms, int64_t to_ms, cJSON **out);

/* ---- departments and the classification code table ---- */

/* [{"code","name_zh","name_en","active"}] */
int orders_departments_json(struct orders *o, cJSON **out);
/* Replace the department list from JSON of that shape (codes 1..63 bytes
 * of A-Z a-z 0-9 _ -, unique; names required). Departments still named by
 * orders stay, marked inactive, when left out. Audited "order.departments".
 * Supervisor, technician, or the city (role "city", from the sync).
 * @retval 0, -EINVAL (err), -EPERM, storage */
int orders_departments_import(struct orders *o, const struct orders_actor *who, const char *json,
			      size_t len, struct orders_err *err);

/* [{"code","name","parent"}] ("" parent for a top code) */
int orders_codes_json(struct orders *o, cJSON **out);
/* Replace the classification code table (codes unique, a parent listed
 * before use or in the same file, no cycles). Audited "order.codes". */
int orders_codes_import(struct orders *o, const struct orders_actor *who, const char *json,
			size_t len, struct orders_err *err);

/* ---- city side ---- */

/*
 * Apply one item the city sent (docs/orders.md, "City items"): JSON with
 * "type" ("order.dispatch", "order.return_decision",
 * "order.extension_decision", "order.visit_result", "order.notice",
 * "order.recall") and its fields. Runs inside the caller's transaction on
 * db when db is not NULL (the sync worker advances its cursor in the same
 * transaction), else in one of its own.
 * @retval 0 applied; 1 already applied (same item id: harmless);
 *         -EINVAL malformed (err says why), -EPROTO not applicable to the
 *         order's state (err; recorded as a conflict for staff to see),
 *         -ENOENT unknown order, storage errors
 */
int orders_apply_city(struct orders *o, sqlite3 *db, const cJSON *item, struct orders_err *err);

/*
 * A citizen's view of an order by its lookup code: number, category,
 * state (both languages), deadline and the timeline of public steps; no
 * personal data, no internal notes. Caller frees *out.
 * @retval 0, -ENOENT, -ENOMEM, -EIO
 */
int orders_public_lookup(struct orders *o, const char *lookup_code, cJSON **out);

/* Clock corrections recorded (docs/orders.md, "Clock evidence"), newest
 * first: [{"id","at_ms","mono_ms","old_offset_ms","new_offset_ms",
 * "shift_ms"}] (at most limit rows, 1..500). */
int orders_clock_corrections_json(struct orders *o, int limit, cJSON **out);

/* Add the orders' routes (docs/local-api.md). */
int orders_routes_register(struct kiosk *k, struct orders *o);

struct admin_ctx;
/* hotline-edge admin city-event FILE: apply a city item (or a JSON array
 * of items) from a file, as the sync worker would. */
int orders_cmd_city_event(struct admin_ctx *ctx, int argc, char **argv);

#endif /* ORDERS_ORDERS_H */
