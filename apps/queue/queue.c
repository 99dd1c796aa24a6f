/*
 * The ticket queue's core: issuing, calling, the actions of a window,
 * start-up recovery. Every change is one SQLite transaction holding the
 * change, its audit entry and its outbox event; listeners are told after
 * the commit, with no lock held.
 *
 * The key decision is how a ticket is issued without ever leaving a ghost
 * or a duplicate: the number is allocated and the ticket stored as
 * `printing` in one transaction (the per-day sequence only grows, so a
 * number is never handed out twice, crash or not), the printer runs with no
 * database lock held, and a second transaction makes the ticket `waiting`
 * or, when the print failed, `void` (its number burnt). A ticket found in
 * `printing` at start was interrupted after its number was taken and maybe
 * after it was printed: it is treated as issued, since the citizen may hold
 * the paper.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw/audit.h"
#include "fw/log.h"
#include "fw/outbox.h"
#include "fw/rng.h"
#include "fw/store.h"
#include "print/ticket.h"
#include "queue_internal.h"

#define TICKET_COLS                                                                            \
	"SELECT t.id, t.day, t.prefix, t.number, t.service_id, s.name_zh, s.name_en, "         \
	"t.priority, t.printed, t.state, t.issued_ms, t.called_ms, t.started_ms, "             \
	"t.finished_ms, t.window_no, t.target_window, t.recall_count, t.lookup_code, t.note, " \
	"t.first_called_ms FROM queue_tickets t JOIN queue_services s ON s.id = t.service_id "

int64_t queue_now(struct queue *q)
{
	return hal_clock_wall_ms(q->clock);
}

void queue_today(struct queue *q, char day[11])
{
	queue_day_of(queue_now(q), q->utc_offset_min, q->cfg.rollover_min, day);
}

void queue_day_of(int64_t wall_ms, int utc_offset_min, int rollover_min, char out[11])
{
	int64_t local = wall_ms + (int64_t)(utc_offset_min - rollover_min) * 60000;
	int64_t days = local >= 0 ? local / 86400000 : (local - 86399999) / 86400000;
	/* Civil date from days since 1970-01-01 (Howard Hinnant's algorithm). */
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1;
	int64_t m = mp < 10 ? mp + 3 : mp - 9;
	int64_t y = yoe + era * 400 + (m <= 2);

	char buf[48];

	snprintf(buf, sizeof(buf), "%04d-%02d-%02d", (int)(y % 10000), (int)(m % 100),
		 (int)(d % 100));
	memcpy(out, buf, 10);
	out[10] = '\0';
}

void queue_format_number(char prefix, int number, char out[8])
{
	snprintf(out, 8, "%c%03d", prefix, number % 1000);
}

bool queue_text_ok(const char *s, size_t max)
{
	size_t n = s != NULL ? strnlen(s, max + 1) : 0;

	return n >= 1 && n <= max && audit_text_valid(s);
}

const char *queue_window_state_name(enum queue_window_state s)
{
	switch (s) {
	case QUEUE_WIN_OPEN:
		return "open";
	case QUEUE_WIN_PAUSED:
		return "paused";
	default:
		return "closed";
	}
}

static enum queue_window_state window_state_parse(const char *s)
{
	if (s != NULL && strcmp(s, "open") == 0) {
		return QUEUE_WIN_OPEN;
	}
	if (s != NULL && strcmp(s, "paused") == 0) {
		return QUEUE_WIN_PAUSED;
	}
	return QUEUE_WIN_CLOSED;
}

const struct queue_service_cfg *queue_cfg_service(const struct queue *q, int id)
{
	for (int i = 0; i < q->cfg.nservices; i++) {
		if (q->cfg.services[i].id == id) {
			return &q->cfg.services[i];
		}
	}
	return NULL;
}

const struct queue_window_cfg *queue_cfg_window(const struct queue *q, int no)
{
	for (int i = 0; i < q->cfg.nwindows; i++) {
		if (q->cfg.windows[i].no == no) {
			return &q->cfg.windows[i];
		}
	}
	return NULL;
}

/* ---- small SQL helpers (lock held) ---- */

static void read_ticket(sqlite3_stmt *st, struct queue_ticket *t)
{
	const unsigned char *prefix = sqlite3_column_text(st, 2);

	memset(t, 0, sizeof(*t));
	t->id = sqlite3_column_int64(st, 0);
	store_col_text(st, 1, t->day, sizeof(t->day));
	queue_format_number(prefix != NULL ? (char)prefix[0] : '?', sqlite3_column_int(st, 3),
			    t->number);
	t->service_id = sqlite3_column_int(st, 4);
	store_col_text(st, 5, t->service_zh, sizeof(t->service_zh));
	store_col_text(st, 6, t->service_en, sizeof(t->service_en));
	t->priority = sqlite3_column_int(st, 7) != 0;
	t->printed = sqlite3_column_int(st, 8) != 0;
	store_col_text(st, 9, t->state, sizeof(t->state));
	t->issued_ms = sqlite3_column_int64(st, 10);
	t->called_ms = store_col_ms(st, 11);
	t->started_ms = store_col_ms(st, 12);
	t->finished_ms = store_col_ms(st, 13);
	t->window_no = sqlite3_column_int(st, 14);
	t->target_window = sqlite3_column_int(st, 15);
	t->recall_count = sqlite3_column_int(st, 16);
	store_col_text(st, 17, t->lookup_code, sizeof(t->lookup_code));
	store_col_text(st, 18, t->note, sizeof(t->note));
}

/* One ticket by a WHERE clause with up to two integer/text binds.
 * @retval 0 found, -ENOENT, <0 storage */
static int load_ticket(struct queue *q, const char *where, int64_t a, const char *b,
		       struct queue_ticket *t)
{
	char sql[1024];
	sqlite3_stmt *st;
	int rc, ret;

	snprintf(sql, sizeof(sql), "%s%s", TICKET_COLS, where);
	ret = store_prepare(q->db, sql, &st);
	if (ret < 0) {
		return ret;
	}
	sqlite3_bind_int64(st, 1, a);
	if (b != NULL) {
		sqlite3_bind_text(st, 2, b, -1, SQLITE_TRANSIENT);
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		read_ticket(st, t);
		ret = 0;
	} else if (rc == SQLITE_DONE) {
		ret = -ENOENT;
	} else {
		ret = store_err(q->db, rc, "reading a ticket");
	}
	sqlite3_finalize(st);
	return ret;
}

static int load_ticket_id(struct queue *q, int64_t id, struct queue_ticket *t)
{
	return load_ticket(q, "WHERE t.id = ?1", id, NULL, t);
}

int queue_waiting_count(struct queue *q, const char *day, int service_id)
{
	sqlite3_stmt *st;
	int n = 0;

	if (store_prepare(
		    q->db,
		    "SELECT count(*) FROM queue_tickets WHERE day = ?1 AND service_id = ?2 AND "
		    "state = 'waiting'",
		    &st) < 0) {
		return 0;
	}
	sqlite3_bind_text(st, 1, day, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 2, service_id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		n = sqlite3_column_int(st, 0);
	}
	sqlite3_finalize(st);
	return n;
}

int queue_est_wait_min(struct queue *q, const char *day, int service_id, int ahead)
{
	sqlite3_stmt *st;
	double avg_s = QUEUE_DEFAULT_SERVICE_S;
	int windows = 0;

	if (ahead <= 0) {
		return 0;
	}
	if (store_prepare(
		    q->db,
		    "SELECT avg(finished_ms - started_ms) FROM queue_tickets WHERE day = ?1 AND "
		    "service_id = ?2 AND state = 'done' AND started_ms IS NOT NULL",
		    &st) == 0) {
		sqlite3_bind_text(st, 1, day, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 2, service_id);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
			avg_s = sqlite3_column_double(st, 0) / 1000.0;
		}
		sqlite3_finalize(st);
	}
	if (store_prepare(q->db,
			  "SELECT count(*) FROM queue_windows w JOIN queue_window_services ws ON "
			  "ws.window_no = w.no WHERE w.active = 1 AND w.state = 'open' AND "
			  "ws.service_id = "
			  "?1",
			  &st) == 0) {
		sqlite3_bind_int(st, 1, service_id);
		if (sqlite3_step(st) == SQLITE_ROW) {
			windows = sqlite3_column_int(st, 0);
		}
		sqlite3_finalize(st);
	}
	if (windows < 1) {
		windows = 1;
	}
	return (int)((ahead * avg_s / windows + 59) / 60);
}

/* ---- events, audit, outbox ---- */

static void make_event(struct queue *q, struct pending_events *pe, enum queue_event_kind kind,
		       const struct queue_ticket *t, int window_no)
{
	struct queue_event *ev;
	const struct queue_window_cfg *w;

	if (pe->n >= (int)(sizeof(pe->ev) / sizeof(pe->ev[0]))) {
		return;
	}
	ev = &pe->ev[pe->n++];
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	ev->at_ms = queue_now(q);
	ev->window_no = window_no;
	w = window_no > 0 ? queue_cfg_window(q, window_no) : NULL;
	if (w != NULL) {
		snprintf(ev->window_name_zh, sizeof(ev->window_name_zh), "%s", w->name_zh);
		snprintf(ev->window_name_en, sizeof(ev->window_name_en), "%s", w->name_en);
	}
	if (t != NULL) {
		snprintf(ev->number, sizeof(ev->number), "%s", t->number);
		snprintf(ev->service_zh, sizeof(ev->service_zh), "%s", t->service_zh);
		snprintf(ev->service_en, sizeof(ev->service_en), "%s", t->service_en);
		ev->recall_count = t->recall_count;
		ev->waiting_in_service = queue_waiting_count(q, t->day, t->service_id);
	}
}

static void deliver(struct queue *q, const struct pending_events *pe)
{
	for (int i = 0; i < pe->n; i++) {
		for (int j = 0; j < q->nlisteners; j++) {
			q->listeners[j].fn(&pe->ev[i], q->listeners[j].arg);
		}
	}
}

/*
 * Start a change: take the lock, close the service day first when asked
 * (rollover), open the transaction. On failure the lock is released (and
 * any rollover events delivered) before returning the error.
 */
static int change_begin(struct queue *q, struct pending_events *pe, bool rollover)
{
	int ret = 0;

	pthread_mutex_lock(&q->lock);
	if (rollover) {
		ret = queue_rollover_locked(q, pe);
	}
	if (ret == 0) {
		ret = store_begin(q->db);
	}
	if (ret < 0) {
		pthread_mutex_unlock(&q->lock);
		deliver(q, pe);
	}
	return ret;
}

/*
 * End a change begun with change_begin(): commit it and queue its event for
 * the listeners when ret is 0, roll it back otherwise; then release the lock
 * and deliver the events. @return ret, or the commit's error
 */
static int change_end(struct queue *q, struct pending_events *pe, int ret,
		      enum queue_event_kind kind, const struct queue_ticket *t, int window_no)
{
	if (ret == 0) {
		ret = store_commit(q->db);
		if (ret == 0) {
			make_event(q, pe, kind, t, window_no);
		}
	} else {
		store_rollback(q->db);
	}
	pthread_mutex_unlock(&q->lock);
	deliver(q, pe);
	return ret;
}

static int audit(struct queue *q, const struct queue_actor *who, const char *action,
		 const char *target, const char *detail)
{
	struct audit_entry e = {
		.actor = who != NULL && who->user_id != NULL ? who->user_id : "citizen",
		.role = who != NULL && who->role != NULL ? who->role : "citizen",
		.action = action,
		.target = target != NULL ? target : "",
		.outcome = "ok",
		.detail = detail,
	};

	return audit_append(q->db, &e);
}

/* The timings of a ticket as JSON members (no personal data). */
static void timing_json(const struct queue_ticket *t, char *buf, size_t cap)
{
	snprintf(buf, cap,
		 "\"day\":\"%s\",\"number\":\"%s\",\"service_id\":%d,\"priority\":%s,"
		 "\"printed\":%s,\"window_no\":%d,\"recall_count\":%d,\"issued_ms\":%" PRId64
		 ",\"called_ms\":%" PRId64 ",\"started_ms\":%" PRId64 ",\"finished_ms\":%" PRId64,
		 t->day, t->number, t->service_id, t->priority ? "true" : "false",
		 t->printed ? "true" : "false", t->window_no, t->recall_count, t->issued_ms,
		 t->called_ms, t->started_ms, t->finished_ms);
}

static int outbox_ticket(struct queue *q, const char *type, const struct queue_ticket *t,
			 const char *extra)
{
	char body[768];

	timing_json(t, body, sizeof(body));
	{
		char json[1024];

		snprintf(json, sizeof(json), "{%s%s%s}", body, extra != NULL ? "," : "",
			 extra != NULL ? extra : "");
		return outbox_append(q->db, type, json, NULL);
	}
}

/* ---- lifecycle ---- */

/* Tickets a crash left in `printing` are issued (the citizen may hold the paper). */
static int recover_printing(struct queue *q)
{
	struct queue_ticket t;
	int n = 0, ret;

	ret = store_begin(q->db);
	if (ret < 0) {
		return ret;
	}
	for (;;) {
		sqlite3_stmt *st;

		ret = load_ticket(q,
				  "WHERE t.state = 'printing' AND t.id > ?1 ORDER BY t.id LIMIT 1",
				  0, NULL, &t);
		if (ret == -ENOENT) {
			ret = 0;
			break;
		}
		if (ret < 0) {
			goto out_rollback;
		}
		ret = store_prepare(
			q->db, "UPDATE queue_tickets SET state = 'waiting' WHERE id = ?1", &st);
		if (ret < 0) {
			goto out_rollback;
		}
		sqlite3_bind_int64(st, 1, t.id);
		ret = store_step_done(q->db, st, "recovering a ticket");
		if (ret == 0) {
			ret = outbox_ticket(q, "queue.ticket_issued", &t, "\"recovered\":true");
		}
		if (ret < 0) {
			goto out_rollback;
		}
		n++;
	}
	ret = store_commit(q->db);
	if (ret == 0 && n > 0) {
		log_warn(MOD,
			 "%d ticket(s) were being printed when the appliance stopped; they are "
			 "kept in the queue as issued (the citizen may hold the paper)",
			 n);
	}
	return ret;
out_rollback:
	store_rollback(q->db);
	return ret;
}

int queue_create(const struct queue_params *p, struct queue **out)
{
	struct queue *q;
	struct pending_events pe = { 0 };
	int ret;

	if (p == NULL || p->data_dir == NULL || out == NULL) {
		return -EINVAL;
	}
	q = calloc(1, sizeof(*q));
	if (q == NULL) {
		return -ENOMEM;
	}
	pthread_mutex_init(&q->lock, NULL);
	pthread_mutex_init(&q->print_lock, NULL);
	q->clock = p->clock != NULL ? p->clock : &hal_clock_system;
	q->printer = p->printer;
	q->utc_offset_min = p->utc_offset_min;
	snprintf(q->office_name, sizeof(q->office_name), "%s",
		 p->office_name != NULL ? p->office_name : "");
	ret = store_open(p->data_dir, &q->db);
	if (ret < 0) {
		goto out_free;
	}
	ret = queue_config_seed(q, p);
	if (ret == 0) {
		ret = queue_config_load(q);
	}
	if (ret == 0) {
		ret = recover_printing(q);
	}
	if (ret == 0) {
		ret = queue_rollover_locked(q, &pe);
	}
	if (ret < 0) {
		log_err(MOD, "the ticket queue could not be started: %s", strerror(-ret));
		goto out_close;
	}
	*out = q;
	return 0;

out_close:
	store_close(q->db);
out_free:
	pthread_mutex_destroy(&q->lock);
	pthread_mutex_destroy(&q->print_lock);
	free(q);
	return ret;
}

void queue_destroy(struct queue *q)
{
	if (q == NULL) {
		return;
	}
	store_close(q->db);
	pthread_mutex_destroy(&q->lock);
	pthread_mutex_destroy(&q->print_lock);
	free(q);
}

int queue_listen(struct queue *q, queue_event_fn fn, void *arg)
{
	int ret = -ENOSPC;

	if (fn == NULL) {
		return -EINVAL;
	}
	pthread_mutex_lock(&q->lock);
	if (q->nlisteners < QUEUE_MAX_LISTENERS) {
		q->listeners[q->nlisteners].fn = fn;
		q->listeners[q->nlisteners].arg = arg;
		q->nlisteners++;
		ret = 0;
	}
	pthread_mutex_unlock(&q->lock);
	return ret;
}

int queue_rollover(struct queue *q)
{
	struct pending_events pe = { 0 };
	int ret;

	pthread_mutex_lock(&q->lock);
	ret = queue_rollover_locked(q, &pe);
	pthread_mutex_unlock(&q->lock);
	deliver(q, &pe);
	return ret;
}

/* ---- opening hours ---- */

static void open_state_locked(struct queue *q, struct queue_open_state *o)
{
	int64_t now = queue_now(q);
	int64_t local = now + (int64_t)q->utc_offset_min * 60000;
	int64_t days = local >= 0 ? local / 86400000 : (local - 86399999) / 86400000;
	int minute = (int)((local - days * 86400000) / 60000);
	int wday = (int)(((days % 7) + 7 + 4) % 7); /* 1970-01-01 was a Thursday */

	memset(o, 0, sizeof(*o));
	o->paused = q->cfg.paused;
	if (q->cfg.open_min[wday] >= 0 && minute >= q->cfg.open_min[wday] &&
	    minute < q->cfg.close_min[wday]) {
		o->open = !o->paused;
		if (o->open) {
			return;
		}
	}
	if (o->paused) {
		return; /* opens when a supervisor resumes it */
	}
	for (int d = 0; d <= 7; d++) {
		int wd = (wday + d) % 7;

		if (q->cfg.open_min[wd] >= 0 && (d > 0 || minute < q->cfg.open_min[wd])) {
			o->next_open_ms = (days + d) * 86400000 +
					  (int64_t)q->cfg.open_min[wd] * 60000 -
					  (int64_t)q->utc_offset_min * 60000;
			return;
		}
	}
}

int queue_open_state(struct queue *q, struct queue_open_state *out)
{
	pthread_mutex_lock(&q->lock);
	open_state_locked(q, out);
	pthread_mutex_unlock(&q->lock);
	return 0;
}

/* ---- issuing ---- */

/* Whether a number is still held by an unfinished ticket today. */
static int number_in_use(struct queue *q, const char *day, char prefix, int number)
{
	sqlite3_stmt *st;
	char p[2] = { prefix, '\0' };
	int rc, ret = store_prepare(
			q->db,
			"SELECT 1 FROM queue_tickets WHERE day = ?1 AND prefix = ?2 AND number = "
			"?3 AND state IN ('printing', 'waiting', 'called', 'serving', 'held')",
			&st);

	if (ret < 0) {
		return ret;
	}
	sqlite3_bind_text(st, 1, day, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, p, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 3, number);
	rc = sqlite3_step(st);
	ret = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : store_err(q->db, rc, "number check");
	sqlite3_finalize(st);
	return ret;
}

/*
 * Inside a transaction: take the next sequence of (day, service), skipping
 * numbers still in use after a wrap, and insert the ticket.
 */
static int allocate(struct queue *q, const char *day, const struct queue_service_cfg *s,
		    bool priority, bool print, struct queue_ticket *t)
{
	int range = s->num_max - s->num_min + 1;
	int64_t seq = 0;
	int number = 0, ret, rc;
	sqlite3_stmt *st;
	char code[QUEUE_LOOKUP_LEN + 1];
	char p[2] = { s->prefix, '\0' };

	ret = store_prepare(
		q->db, "SELECT seq FROM queue_counters WHERE day = ?1 AND service_id = ?2", &st);
	if (ret < 0) {
		return ret;
	}
	sqlite3_bind_text(st, 1, day, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 2, s->id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		seq = sqlite3_column_int64(st, 0);
	} else if (rc != SQLITE_DONE) {
		ret = store_err(q->db, rc, "reading a counter");
	}
	sqlite3_finalize(st);
	if (ret < 0) {
		return ret;
	}
	for (int tries = 0;; tries++) {
		if (tries >= range) {
			return -ERANGE;
		}
		seq++;
		number = s->num_min + (int)((seq - 1) % range);
		ret = number_in_use(q, day, s->prefix, number);
		if (ret < 0) {
			return ret;
		}
		if (ret == 0) {
			break;
		}
	}
	ret = store_prepare(q->db,
			    "INSERT INTO queue_counters (day, service_id, seq) VALUES (?1, ?2, ?3) "
			    "ON CONFLICT (day, service_id) DO UPDATE SET seq = excluded.seq",
			    &st);
	if (ret < 0) {
		return ret;
	}
	sqlite3_bind_text(st, 1, day, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 2, s->id);
	sqlite3_bind_int64(st, 3, seq);
	ret = store_step_done(q->db, st, "advancing a counter");
	if (ret < 0) {
		return ret;
	}
	for (int tries = 0;; tries++) {
		ret = rng_code(code, QUEUE_LOOKUP_LEN);
		if (ret < 0) {
			return ret;
		}
		ret = store_prepare(
			q->db,
			"INSERT INTO queue_tickets (day, issue_day, service_id, issue_service_id, "
			"seq, number, prefix, priority, printed, state, issued_ms, lookup_code) "
			"VALUES (?1, ?1, ?2, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
			&st);
		if (ret < 0) {
			return ret;
		}
		sqlite3_bind_text(st, 1, day, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 2, s->id);
		sqlite3_bind_int64(st, 3, seq);
		sqlite3_bind_int(st, 4, number);
		sqlite3_bind_text(st, 5, p, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 6, priority);
		sqlite3_bind_int(st, 7, print);
		sqlite3_bind_text(st, 8, print ? "printing" : "waiting", -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 9, queue_now(q));
		sqlite3_bind_text(st, 10, code, -1, SQLITE_TRANSIENT);
		ret = store_step_done(q->db, st, "storing a ticket");
		if (ret != -EEXIST || tries >= 4) {
			break; /* -EEXIST: the lookup code is taken; draw another */
		}
	}
	if (ret < 0) {
		return ret;
	}
	ret = load_ticket_id(q, sqlite3_last_insert_rowid(q->db), t);
	if (ret == 0) {
		/* Waiting in its service before it. */
		t->ahead = queue_waiting_count(q, day, s->id) - (print ? 0 : 1);
	}
	return ret;
}

static int do_print(struct queue *q, const struct queue_ticket *t)
{
	struct print_ticket pt = {
		.office_name = q->office_name,
		.service_zh = t->service_zh,
		.service_en = t->service_en,
		.number = t->number,
		.ahead = t->ahead,
		.issued_ms = t->issued_ms,
		.lookup_code = t->lookup_code,
		.priority = t->priority,
	};
	int ret;

	if (q->printer == NULL) {
		return -ENODEV;
	}
	pthread_mutex_lock(&q->print_lock);
	ret = print_ticket(q->printer, &pt);
	pthread_mutex_unlock(&q->print_lock);
	return ret;
}

/* The second transaction of an issue: waiting (printed) or void (not). */
static int settle_issue(struct queue *q, struct queue_ticket *t, int print_rc,
			struct pending_events *pe)
{
	sqlite3_stmt *st;
	int ret = store_begin(q->db);

	if (ret < 0) {
		return ret;
	}
	ret = store_prepare(
		q->db, "UPDATE queue_tickets SET state = ?2 WHERE id = ?1 AND state = 'printing'",
		&st);
	if (ret < 0) {
		goto out_rollback;
	}
	sqlite3_bind_int64(st, 1, t->id);
	sqlite3_bind_text(st, 2, print_rc == 0 ? "waiting" : "void", -1, SQLITE_STATIC);
	ret = store_step_done(q->db, st, "settling a ticket");
	if (ret < 0) {
		goto out_rollback;
	}
	if (print_rc == 0) {
		char extra[48];

		snprintf(t->state, sizeof(t->state), "waiting");
		snprintf(extra, sizeof(extra), "\"target_window\":%d", t->target_window);
		ret = outbox_ticket(q, "queue.ticket_issued", t,
				    t->target_window > 0 ? extra : NULL);
	} else {
		char extra[64];

		snprintf(t->state, sizeof(t->state), "void");
		snprintf(extra, sizeof(extra), "\"print_error\":%d", -print_rc);
		ret = outbox_ticket(q, "queue.ticket_void", t, extra);
	}
	if (ret < 0) {
		goto out_rollback;
	}
	ret = store_commit(q->db);
	if (ret == 0 && print_rc == 0) {
		make_event(q, pe, QEV_ISSUED, t, 0);
	}
	return ret;
out_rollback:
	store_rollback(q->db);
	return ret;
}

/* Aim a just-allocated ticket at a window (inside the issue transaction). */
static int aim_at_window(struct queue *q, const char *day, int window_no, const char *note,
			 struct queue_ticket *t)
{
	sqlite3_stmt *st;
	int ret = store_prepare(
		q->db, "UPDATE queue_tickets SET target_window = ?2, note = ?3 WHERE id = ?1", &st);

	if (ret < 0) {
		return ret;
	}
	sqlite3_bind_int64(st, 1, t->id);
	sqlite3_bind_int(st, 2, window_no);
	sqlite3_bind_text(st, 3, note, -1, SQLITE_TRANSIENT);
	ret = store_step_done(q->db, st, "aiming a ticket at a window");
	if (ret == 0) {
		ret = load_ticket_id(q, t->id, t);
	}
	if (ret == 0 &&
	    store_prepare(q->db,
			  "SELECT count(*) FROM queue_tickets WHERE day = ?1 AND state = "
			  "'waiting' AND target_window = ?2 AND id <> ?3",
			  &st) == 0) {
		sqlite3_bind_text(st, 1, day, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 2, window_no);
		sqlite3_bind_int64(st, 3, t->id);
		t->ahead = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
		sqlite3_finalize(st);
	}
	return ret;
}

/* queue_issue(), optionally aimed at window_no (> 0) with a note. */
static int issue_ticket(struct queue *q, int service_id, bool priority, int window_no,
			const char *note, bool print, struct queue_ticket *out, int *print_err)
{
	struct pending_events pe = { 0 };
	struct queue_open_state os;
	const struct queue_service_cfg *s;
	char day[11];
	int ret, prc;

	if (print_err != NULL) {
		*print_err = 0;
	}
	pthread_mutex_lock(&q->lock);
	ret = queue_rollover_locked(q, &pe);
	if (ret < 0) {
		goto out_unlock;
	}
	open_state_locked(q, &os);
	if (!os.open) {
		ret = -EAGAIN;
		goto out_unlock;
	}
	if (window_no > 0) {
		const struct queue_window_cfg *w = queue_cfg_window(q, window_no);

		if (w == NULL) {
			ret = -ENOENT;
			goto out_unlock;
		}
		for (int i = 0; service_id == 0 && i < q->cfg.nservices; i++) {
			if (q->cfg.services[i].prefix == w->services[0]) {
				service_id = q->cfg.services[i].id;
			}
		}
	}
	s = queue_cfg_service(q, service_id);
	if (s == NULL) {
		ret = -ENOENT;
		goto out_unlock;
	}
	if (priority && !s->priority_lane) {
		ret = -EINVAL;
		goto out_unlock;
	}
	queue_today(q, day);
	ret = store_begin(q->db);
	if (ret < 0) {
		goto out_unlock;
	}
	ret = allocate(q, day, s, priority, print, out);
	if (ret == 0 && window_no > 0) {
		ret = aim_at_window(q, day, window_no, note, out);
	}
	if (ret == 0 && !print) {
		char extra[48];

		snprintf(extra, sizeof(extra), "\"target_window\":%d", window_no);
		ret = outbox_ticket(q, "queue.ticket_issued", out, window_no > 0 ? extra : NULL);
	}
	if (ret < 0) {
		store_rollback(q->db);
		goto out_unlock;
	}
	ret = store_commit(q->db);
	if (ret == 0 && !print) {
		make_event(q, &pe, QEV_ISSUED, out, 0);
	}
	pthread_mutex_unlock(&q->lock);
	if (ret < 0 || !print) {
		deliver(q, &pe);
		return ret;
	}

	prc = do_print(q, out);
	if (prc > 0) {
		prc = -EIO;
	}
	pthread_mutex_lock(&q->lock);
	ret = settle_issue(q, out, prc, &pe);
	pthread_mutex_unlock(&q->lock);
	deliver(q, &pe);
	if (ret < 0) {
		/* Left `printing`: the next start treats it as issued. */
		log_err(MOD, "ticket %s could not be settled after printing: %s", out->number,
			strerror(-ret));
		return ret;
	}
	if (prc < 0) {
		log_warn(MOD, "ticket %s was not issued: the printer failed (%s)", out->number,
			 strerror(-prc));
		if (print_err != NULL) {
			*print_err = prc;
		}
		return -ECANCELED;
	}
	return 0;

out_unlock:
	pthread_mutex_unlock(&q->lock);
	deliver(q, &pe);
	return ret;
}

int queue_issue(struct queue *q, const struct queue_actor *who, int service_id, bool priority,
		bool print, struct queue_ticket *out, int *print_err)
{
	(void)who;
	return issue_ticket(q, service_id, priority, 0, NULL, print, out, print_err);
}

int queue_issue_to_window(struct queue *q, const struct queue_actor *who, int service_id,
			  int window_no, const char *note, bool print, struct queue_ticket *out,
			  int *print_err)
{
	(void)who;
	if (window_no <= 0 || service_id < 0 || note == NULL ||
	    (note[0] != '\0' && !queue_text_ok(note, QUEUE_NOTE_MAX - 1))) {
		return window_no <= 0 ? -ENOENT : -EINVAL;
	}
	return issue_ticket(q, service_id, false, window_no, note, print, out, print_err);
}

/* Parse "A012" into prefix and number. */
static bool parse_number(const char *s, char *prefix, int *number)
{
	if (s == NULL || strlen(s) < 2 || strlen(s) > 4 || s[0] < 'A' || s[0] > 'Z') {
		return false;
	}
	*number = 0;
	for (const char *c = s + 1; *c != '\0'; c++) {
		if (*c < '0' || *c > '9') {
			return false;
		}
		*number = *number * 10 + (*c - '0');
	}
	*prefix = s[0];
	return *number >= 1;
}

/* Today's ticket with this number, the most recent when a wrap reused it. */
static int load_by_number(struct queue *q, const char *day, const char *number, const char *states,
			  struct queue_ticket *t)
{
	char prefix, p[2], where[256];
	int n;

	if (!parse_number(number, &prefix, &n)) {
		return -ENOENT;
	}
	p[0] = prefix;
	p[1] = '\0';
	snprintf(where, sizeof(where),
		 "WHERE t.number = ?1 AND t.prefix = ?2 AND t.day = '%s'%s%s ORDER BY t.id DESC "
		 "LIMIT 1",
		 day, states != NULL ? " AND t.state IN " : "", states != NULL ? states : "");
	return load_ticket(q, where, n, p, t);
}

int queue_reprint(struct queue *q, const struct queue_actor *who, const char *number,
		  struct queue_ticket *out, int *print_err)
{
	char day[11], detail[64];
	int ret, prc;

	if (print_err != NULL) {
		*print_err = 0;
	}
	pthread_mutex_lock(&q->lock);
	queue_today(q, day);
	ret = load_by_number(q, day, number, "('waiting', 'called', 'serving', 'held')", out);
	if (ret == 0) {
		out->ahead = 0;
	}
	pthread_mutex_unlock(&q->lock);
	if (ret < 0) {
		return ret;
	}
	prc = do_print(q, out);
	if (prc > 0) {
		prc = -EIO;
	}
	snprintf(detail, sizeof(detail), "{\"printed\":%s}", prc == 0 ? "true" : "false");
	pthread_mutex_lock(&q->lock);
	ret = audit(q, who, "queue.reprint", out->number, detail);
	pthread_mutex_unlock(&q->lock);
	if (prc < 0) {
		if (print_err != NULL) {
			*print_err = prc;
		}
		return -ECANCELED;
	}
	return ret;
}

int queue_ticket_find(struct queue *q, const char *key, bool today_only, struct queue_ticket *out)
{
	char code[QUEUE_LOOKUP_LEN + 1], day[11];
	size_t n = key != NULL ? strnlen(key, QUEUE_LOOKUP_LEN + 1) : 0;
	int ret;

	if (n == QUEUE_LOOKUP_LEN) {
		if (rng_code_parse(key, QUEUE_LOOKUP_LEN, code) < 0) {
			return -EINVAL;
		}
		pthread_mutex_lock(&q->lock);
		queue_today(q, day);
		ret = load_ticket(q, "WHERE t.lookup_code = ?2 AND ?1 = ?1", 0, code, out);
		if (ret == 0 && today_only && strcmp(out->day, day) != 0) {
			ret = -ENOENT;
		}
		pthread_mutex_unlock(&q->lock);
		return ret;
	}
	{
		char prefix;
		int number;

		if (!parse_number(key, &prefix, &number)) {
			return -EINVAL;
		}
	}
	pthread_mutex_lock(&q->lock);
	queue_today(q, day);
	ret = load_by_number(q, day, key, NULL, out);
	pthread_mutex_unlock(&q->lock);
	return ret;
}

/* ---- calling ---- */

struct window_row {
	enum queue_window_state state;
	int priority_run;
};

static int load_window(struct queue *q, int no, struct window_row *w)
{
	sqlite3_stmt *st;
	int rc, ret = store_prepare(
			q->db,
			"SELECT state, priority_run FROM queue_windows WHERE no = ?1 AND active "
			"= 1",
			&st);

	if (ret < 0) {
		return ret;
	}
	sqlite3_bind_int(st, 1, no);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		w->state = window_state_parse((const char *)sqlite3_column_text(st, 0));
		w->priority_run = sqlite3_column_int(st, 1);
		ret = 0;
	} else {
		ret = rc == SQLITE_DONE ? -ENOENT : store_err(q->db, rc, "reading a window");
	}
	sqlite3_finalize(st);
	return ret;
}

/* The window's called or serving ticket. @retval 0, -ENODATA none, <0 */
static int current_ticket(struct queue *q, int no, struct queue_ticket *t)
{
	int ret = load_ticket(q,
			      "WHERE t.window_no = ?1 AND t.state IN ('called', 'serving') "
			      "ORDER BY t.called_ms DESC, t.id DESC LIMIT 1",
			      no, NULL, t);

	return ret == -ENOENT ? -ENODATA : ret;
}

enum pick { PICK_TARGETED, PICK_PRIORITY, PICK_REGULAR, PICK_OLDEST_REGULAR };

/* The candidate of one kind for window no. @retval 0 found, -ENOENT none, <0 */
static int pick(struct queue *q, const char *day, int no, enum pick kind, struct queue_ticket *t)
{
	static const char base[] =
		" LEFT JOIN queue_window_services ws ON ws.window_no = ?1 AND ws.service_id = "
		"t.service_id WHERE t.day = ?2 AND t.state = 'waiting' AND ";
	const char *cond, *order;
	char where[1024];

	switch (kind) {
	case PICK_TARGETED:
		cond = "t.target_window = ?1";
		order = "t.issued_ms, t.id";
		break;
	case PICK_PRIORITY:
		cond = "t.target_window IS NULL AND ws.service_id IS NOT NULL AND t.priority = 1";
		order = "ws.rank, t.front DESC, t.issued_ms, t.id";
		break;
	case PICK_REGULAR:
		cond = "t.target_window IS NULL AND ws.service_id IS NOT NULL AND t.priority = 0";
		order = "ws.rank, t.front DESC, t.issued_ms, t.id";
		break;
	default:
		cond = "t.target_window IS NULL AND ws.service_id IS NOT NULL AND t.priority = 0";
		order = "t.front DESC, t.issued_ms, t.id";
		break;
	}
	/* TICKET_COLS ends with the services join; the window join follows it. */
	snprintf(where, sizeof(where), "%s%s ORDER BY %s LIMIT 1", base + 1, cond, order);
	return load_ticket(q, where, no, day, t);
}

/*
 * The fairness rule (docs/queue.md): a ticket transferred to this window
 * first; then the priority lane, unless the window has made priority_run
 * priority calls in a row and the oldest regular ticket has waited longer
 * than the priority one; then regular tickets by the window's order of
 * preference. @retval 0 and *is_priority_call, -ENODATA, <0
 */
static int choose(struct queue *q, const char *day, int no, int run, struct queue_ticket *t,
		  bool *priority_call)
{
	struct queue_ticket p, r;
	int ret;

	*priority_call = false;
	ret = pick(q, day, no, PICK_TARGETED, t);
	if (ret != -ENOENT) {
		return ret;
	}
	ret = pick(q, day, no, PICK_PRIORITY, &p);
	if (ret < 0 && ret != -ENOENT) {
		return ret;
	}
	if (ret == 0) {
		if (run >= q->cfg.priority_run) {
			ret = pick(q, day, no, PICK_OLDEST_REGULAR, &r);
			if (ret < 0 && ret != -ENOENT) {
				return ret;
			}
			if (ret == 0 && r.issued_ms < p.issued_ms) {
				*t = r;
				return 0;
			}
		}
		*t = p;
		*priority_call = true;
		return 0;
	}
	ret = pick(q, day, no, PICK_REGULAR, t);
	return ret == -ENOENT ? -ENODATA : ret;
}

static int update_sql(struct queue *q, const char *sql, int64_t a, int64_t b, int64_t c)
{
	sqlite3_stmt *st;
	int ret = store_prepare(q->db, sql, &st);

	if (ret < 0) {
		return ret;
	}
	sqlite3_bind_int64(st, 1, a);
	sqlite3_bind_int64(st, 2, b);
	sqlite3_bind_int64(st, 3, c);
	return store_step_done(q->db, st, "updating the queue");
}

int queue_call_next(struct queue *q, const struct queue_actor *who, int window_no,
		    struct queue_ticket *out)
{
	struct pending_events pe = { 0 };
	struct window_row w;
	struct queue_ticket cur;
	char day[11], extra[96];
	bool prio;
	int64_t now;
	int ret;

	ret = change_begin(q, &pe, true);
	if (ret < 0) {
		return ret;
	}
	ret = load_window(q, window_no, &w);
	if (ret == 0 && w.state != QUEUE_WIN_OPEN) {
		ret = -EPERM;
	}
	if (ret == 0) {
		ret = current_ticket(q, window_no, &cur);
		ret = ret == 0 ? -EALREADY : ret == -ENODATA ? 0 : ret;
	}
	queue_today(q, day);
	if (ret == 0) {
		ret = choose(q, day, window_no, w.priority_run, out, &prio);
	}
	if (ret < 0) {
		goto out;
	}
	now = queue_now(q);
	ret = update_sql(
		q,
		"UPDATE queue_tickets SET state = 'called', window_no = ?2, called_ms = ?3, "
		"first_called_ms = coalesce(first_called_ms, ?3), target_window = NULL, "
		"front = 0 WHERE id = ?1",
		out->id, window_no, now);
	if (ret == 0) {
		ret = update_sql(q, "UPDATE queue_windows SET priority_run = ?2 WHERE no = ?1",
				 window_no, prio ? w.priority_run + 1 : 0, 0);
	}
	if (ret == 0) {
		ret = load_ticket_id(q, out->id, out);
	}
	if (ret == 0) {
		int64_t first = now;
		sqlite3_stmt *st;

		if (store_prepare(q->db, "SELECT first_called_ms FROM queue_tickets WHERE id = ?1",
				  &st) == 0) {
			sqlite3_bind_int64(st, 1, out->id);
			if (sqlite3_step(st) == SQLITE_ROW) {
				first = sqlite3_column_int64(st, 0);
			}
			sqlite3_finalize(st);
		}
		snprintf(extra, sizeof(extra), "\"wait_s\":%" PRId64,
			 (first - out->issued_ms) / 1000);
		ret = outbox_ticket(q, "queue.ticket_called", out, extra);
	}
	if (ret == 0) {
		char detail[48];

		snprintf(detail, sizeof(detail), "{\"window_no\":%d}", window_no);
		ret = audit(q, who, "queue.call", out->number, detail);
	}
out:
	return change_end(q, &pe, ret, QEV_CALLED, out, window_no);
}

/*
 * What each window action does to the ticket: the state it must be in (NULL:
 * any the lookup found), the update (?1 the ticket, ?2 the time or, for a
 * resume, the window), and how it is named in the outbox, the audit log and
 * the event to listeners.
 */
struct act_rule {
	enum queue_action action;
	const char *from;
	const char *sql;
	const char *type;
	const char *verb;
	enum queue_event_kind kind;
};

static const struct act_rule act_rules[] = {
	{ QUEUE_RECALL, "called",
	  "UPDATE queue_tickets SET recall_count = recall_count + 1, called_ms = ?2 WHERE id = ?1",
	  "queue.ticket_recalled", "queue.recall", QEV_RECALLED },
	{ QUEUE_NO_SHOW, "called",
	  "UPDATE queue_tickets SET state = 'no_show', finished_ms = ?2 WHERE id = ?1",
	  "queue.ticket_no_show", "queue.no_show", QEV_NO_SHOW },
	{ QUEUE_START, "called",
	  "UPDATE queue_tickets SET state = 'serving', started_ms = ?2 WHERE id = ?1",
	  "queue.ticket_started", "queue.start", QEV_STARTED },
	{ QUEUE_FINISH, "serving",
	  "UPDATE queue_tickets SET state = 'done', finished_ms = ?2 WHERE id = ?1",
	  "queue.ticket_finished", "queue.finish", QEV_FINISHED },
	{ QUEUE_HOLD, NULL, "UPDATE queue_tickets SET state = 'held' WHERE id = ?1",
	  "queue.ticket_held", "queue.hold", QEV_HELD },
	/* Back to the front of this window's queue (docs/queue.md). */
	{ QUEUE_RESUME, NULL,
	  "UPDATE queue_tickets SET state = 'waiting', target_window = ?2, front = 1 WHERE id = ?1",
	  "queue.ticket_resumed", "queue.resume", QEV_RESUMED },
};

int queue_act(struct queue *q, const struct queue_actor *who, int window_no,
	      enum queue_action action, const char *number, struct queue_ticket *out)
{
	struct pending_events pe = { 0 };
	struct window_row w;
	char day[11], detail[64], extra[96];
	const struct act_rule *act = NULL;
	int64_t now = queue_now(q);
	int ret;

	for (size_t i = 0; i < sizeof(act_rules) / sizeof(act_rules[0]); i++) {
		if (act_rules[i].action == action) {
			act = &act_rules[i];
		}
	}
	if (act == NULL) {
		return -EINVAL;
	}
	ret = change_begin(q, &pe, false);
	if (ret < 0) {
		return ret;
	}
	queue_today(q, day);
	ret = load_window(q, window_no, &w);
	if (ret == 0) {
		ret = action == QUEUE_RESUME ? load_by_number(q, day, number, "('held')", out)
					     : current_ticket(q, window_no, out);
	}
	if (ret < 0) {
		goto out;
	}
	extra[0] = '\0';
	if (act->from && strcmp(out->state, act->from) != 0) {
		ret = -EPROTO;
	} else if (action == QUEUE_RECALL && out->recall_count >= q->cfg.recall_max) {
		ret = -EDQUOT;
	} else {
		/* ?2 is the time, except for a resume, where it is the window. */
		ret = update_sql(q, act->sql, out->id, action == QUEUE_RESUME ? window_no : now, 0);
	}
	if (ret == 0 && action == QUEUE_FINISH) {
		snprintf(extra, sizeof(extra), "\"service_s\":%" PRId64,
			 (now - out->started_ms) / 1000);
	}
	if (ret == 0) {
		ret = load_ticket_id(q, out->id, out);
	}
	if (ret == 0) {
		ret = outbox_ticket(q, act->type, out, extra[0] != '\0' ? extra : NULL);
	}
	if (ret == 0) {
		snprintf(detail, sizeof(detail), "{\"window_no\":%d}", window_no);
		ret = audit(q, who, act->verb, out->number, detail);
	}
out:
	return change_end(q, &pe, ret, act->kind, out, window_no);
}

int queue_transfer(struct queue *q, const struct queue_actor *who, int window_no, int to_service_id,
		   int to_window_no, const char *note, struct queue_ticket *out)
{
	struct pending_events pe = { 0 };
	struct window_row w;
	char extra[96], detail[128];
	sqlite3_stmt *st;
	int ret;

	if ((to_service_id > 0) == (to_window_no > 0) || note == NULL ||
	    (note[0] != '\0' && !queue_text_ok(note, QUEUE_NOTE_MAX - 1))) {
		return -EINVAL;
	}
	ret = change_begin(q, &pe, false);
	if (ret < 0) {
		return ret;
	}
	ret = load_window(q, window_no, &w);
	if (ret == 0) {
		ret = current_ticket(q, window_no, out);
	}
	if (ret == 0 && to_service_id > 0 && queue_cfg_service(q, to_service_id) == NULL) {
		ret = -ENOENT;
	}
	if (ret == 0 && to_window_no > 0) {
		struct window_row tw;

		ret = load_window(q, to_window_no, &tw);
	}
	if (ret < 0) {
		goto out;
	}
	ret = store_prepare(
		q->db,
		"UPDATE queue_tickets SET state = 'waiting', front = 1, window_no = NULL, "
		"started_ms = NULL, service_id = CASE WHEN ?2 > 0 THEN ?2 ELSE service_id END, "
		"target_window = CASE WHEN ?3 > 0 THEN ?3 ELSE NULL END, note = ?4 WHERE id = ?1",
		&st);
	if (ret < 0) {
		goto out;
	}
	sqlite3_bind_int64(st, 1, out->id);
	sqlite3_bind_int(st, 2, to_service_id);
	sqlite3_bind_int(st, 3, to_window_no);
	sqlite3_bind_text(st, 4, note, -1, SQLITE_TRANSIENT);
	ret = store_step_done(q->db, st, "transferring a ticket");
	if (ret == 0) {
		ret = load_ticket_id(q, out->id, out);
	}
	/* The note is free text a person wrote: it stays on the device. */
	snprintf(extra, sizeof(extra),
		 "\"from_window\":%d,\"to_service_id\":%d,\"to_window_no\":%d", window_no,
		 to_service_id, to_window_no);
	if (ret == 0) {
		ret = outbox_ticket(q, "queue.ticket_transferred", out, extra);
	}
	if (ret == 0) {
		snprintf(detail, sizeof(detail), "{%s}", extra);
		ret = audit(q, who, "queue.transfer", out->number, detail);
	}
out:
	return change_end(q, &pe, ret, QEV_TRANSFERRED, out, window_no);
}

int queue_window_set(struct queue *q, const struct queue_actor *who, int window_no,
		     enum queue_window_state state)
{
	struct pending_events pe = { 0 };
	struct window_row w;
	char json[160], action[32];
	sqlite3_stmt *st;
	int ret;

	ret = change_begin(q, &pe, false);
	if (ret < 0) {
		return ret;
	}
	ret = load_window(q, window_no, &w);
	if (ret == 0) {
		ret = store_prepare(q->db, "UPDATE queue_windows SET state = ?2 WHERE no = ?1",
				    &st);
	}
	if (ret < 0) {
		goto out;
	}
	sqlite3_bind_int(st, 1, window_no);
	sqlite3_bind_text(st, 2, queue_window_state_name(state), -1, SQLITE_STATIC);
	ret = store_step_done(q->db, st, "changing a window");
	snprintf(json, sizeof(json), "{\"window_no\":%d,\"state\":\"%s\",\"at_ms\":%" PRId64 "}",
		 window_no, queue_window_state_name(state), queue_now(q));
	if (ret == 0) {
		ret = outbox_append(q->db, "queue.window_changed", json, NULL);
	}
	snprintf(action, sizeof(action), "queue.window_%s",
		 state == QUEUE_WIN_OPEN     ? "open"
		 : state == QUEUE_WIN_PAUSED ? "pause"
					     : "close");
	if (ret == 0) {
		char target[16];

		snprintf(target, sizeof(target), "window %d", window_no);
		ret = audit(q, who, action, target, NULL);
	}
out:
	return change_end(q, &pe, ret, QEV_WINDOW_CHANGED, NULL, window_no);
}

int queue_window_info(struct queue *q, int window_no, struct queue_window_info *out)
{
	const struct queue_window_cfg *wc;
	struct window_row w;
	char day[11];
	sqlite3_stmt *st;
	int ret;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&q->lock);
	wc = queue_cfg_window(q, window_no);
	ret = wc != NULL ? load_window(q, window_no, &w) : -ENOENT;
	if (ret < 0) {
		goto out_unlock;
	}
	queue_today(q, day);
	out->no = window_no;
	snprintf(out->name_zh, sizeof(out->name_zh), "%s", wc->name_zh);
	snprintf(out->name_en, sizeof(out->name_en), "%s", wc->name_en);
	out->state = w.state;
	out->has_current = current_ticket(q, window_no, &out->current) == 0;
	{
		char sql[1024];

		snprintf(sql, sizeof(sql), "%s%s", TICKET_COLS,
			 "WHERE t.window_no = ?1 AND t.state = 'held' AND t.day = ?2 ORDER BY "
			 "t.issued_ms LIMIT 16");
		ret = store_prepare(q->db, sql, &st);
	}
	if (ret < 0) {
		goto out_unlock;
	}
	sqlite3_bind_int(st, 1, window_no);
	sqlite3_bind_text(st, 2, day, -1, SQLITE_TRANSIENT);
	while (out->nheld < QUEUE_MAX_HELD && sqlite3_step(st) == SQLITE_ROW) {
		read_ticket(st, &out->held[out->nheld++]);
	}
	sqlite3_finalize(st);
	for (const char *p = wc->services; *p != '\0'; p++) {
		for (int i = 0; i < q->cfg.nservices; i++) {
			const struct queue_service_cfg *s = &q->cfg.services[i];

			if (s->prefix == *p && out->nservices < QUEUE_MAX_SERVICES) {
				int k = out->nservices++;

				out->services[k].id = s->id;
				out->services[k].prefix = s->prefix;
				snprintf(out->services[k].name_zh, sizeof(out->services[k].name_zh),
					 "%s", s->name_zh);
				snprintf(out->services[k].name_en, sizeof(out->services[k].name_en),
					 "%s", s->name_en);
				out->services[k].waiting = queue_waiting_count(q, day, s->id);
			}
		}
	}
out_unlock:
	pthread_mutex_unlock(&q->lock);
	return ret;
}

int queue_snapshot(struct queue *q, struct queue_snapshot *out)
{
	char day[11];
	sqlite3_stmt *st;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&q->lock);
	queue_today(q, day);
	for (int i = 0; i < q->cfg.nwindows && i < QUEUE_MAX_WINDOWS; i++) {
		const struct queue_window_cfg *wc = &q->cfg.windows[i];
		struct window_row w = { 0 };
		struct queue_ticket cur;

		out->windows[i].no = wc->no;
		snprintf(out->windows[i].name_zh, sizeof(out->windows[i].name_zh), "%s",
			 wc->name_zh);
		snprintf(out->windows[i].name_en, sizeof(out->windows[i].name_en), "%s",
			 wc->name_en);
		if (load_window(q, wc->no, &w) == 0) {
			out->windows[i].state = w.state;
		}
		if (current_ticket(q, wc->no, &cur) == 0) {
			snprintf(out->windows[i].current, sizeof(out->windows[i].current), "%s",
				 cur.number);
		}
		out->nwindows++;
	}
	ret = store_prepare(
		q->db,
		"SELECT prefix, number, window_no, called_ms FROM queue_tickets WHERE day = ?1 "
		"AND called_ms IS NOT NULL AND window_no IS NOT NULL ORDER BY called_ms DESC, "
		"id DESC LIMIT 10",
		&st);
	if (ret == 0) {
		sqlite3_bind_text(st, 1, day, -1, SQLITE_TRANSIENT);
		while (out->ncalls < QUEUE_LAST_CALLS && sqlite3_step(st) == SQLITE_ROW) {
			const unsigned char *p = sqlite3_column_text(st, 0);

			queue_format_number(p != NULL ? (char)p[0] : '?', sqlite3_column_int(st, 1),
					    out->calls[out->ncalls].number);
			out->calls[out->ncalls].window_no = sqlite3_column_int(st, 2);
			out->calls[out->ncalls].at_ms = sqlite3_column_int64(st, 3);
			out->ncalls++;
		}
		sqlite3_finalize(st);
	}
	for (int i = 0; i < q->cfg.nservices; i++) {
		const struct queue_service_cfg *s = &q->cfg.services[i];

		out->services[i].id = s->id;
		out->services[i].prefix = s->prefix;
		out->services[i].priority_lane = s->priority_lane;
		snprintf(out->services[i].name_zh, sizeof(out->services[i].name_zh), "%s",
			 s->name_zh);
		snprintf(out->services[i].name_en, sizeof(out->services[i].name_en), "%s",
			 s->name_en);
		out->services[i].waiting = queue_waiting_count(q, day, s->id);
		out->services[i].est_wait_min =
			queue_est_wait_min(q, day, s->id, out->services[i].waiting);
		out->nservices++;
	}
	pthread_mutex_unlock(&q->lock);
	return ret;
}
