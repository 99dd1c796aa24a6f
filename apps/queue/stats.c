/*
 * Day rollover and statistics of the ticket queue.
 *
 * Rollover closes a service day in one transaction: what was called or
 * being served is expired, waiting and held tickets are expired too or,
 * with keep_overnight, moved to the new day (keeping their issue time, so
 * they still go first); numbers start again because the counters are keyed
 * by day; the city gets a `queue.day_summary` event. A day that changed
 * while the appliance was off is rolled over at start.
 *
 * Statistics read the day's rows with SQL and compute medians and p90s in
 * C (nearest rank), which SQLite has no function for.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw/log.h"
#include "fw/outbox.h"
#include "fw/store.h"
#include "queue_internal.h"

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

int64_t queue_percentile(int64_t *v, size_t n, int pct)
{
	size_t rank;

	if (n == 0) {
		return -1;
	}
	qsort(v, n, sizeof(*v), cmp_i64);
	if (pct <= 0) {
		return v[0];
	}
	rank = ((size_t)pct * n + 99) / 100; /* ceil(pct / 100 * n) */
	if (rank > n) {
		rank = n;
	}
	return v[rank - 1];
}

static bool day_valid(const char *d)
{
	if (d == NULL || strlen(d) != 10 || d[4] != '-' || d[7] != '-') {
		return false;
	}
	for (int i = 0; i < 10; i++) {
		if (i != 4 && i != 7 && (d[i] < '0' || d[i] > '9')) {
			return false;
		}
	}
	return true;
}

/* Rows (key, name_zh, name_en, count, done, no_show) into out[]. */
static int load_counts(struct queue *q, const char *sql, const char *day,
		       struct queue_stat_row *out, int cap, int *n)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(q->db, sql, -1, &st, NULL);

	*n = 0;
	if (rc != SQLITE_OK) {
		return store_err(q->db, rc, "preparing queue statistics");
	}
	sqlite3_bind_text(st, 1, day, -1, SQLITE_TRANSIENT);
	while (*n < cap && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct queue_stat_row *r = &out[(*n)++];
		int ended;

		memset(r, 0, sizeof(*r));
		r->key = sqlite3_column_int(st, 0);
		snprintf(r->name_zh, sizeof(r->name_zh), "%s", sqlite3_column_text(st, 1));
		snprintf(r->name_en, sizeof(r->name_en), "%s", sqlite3_column_text(st, 2));
		r->count = sqlite3_column_int(st, 3);
		r->served = sqlite3_column_int(st, 4);
		r->no_show = sqlite3_column_int(st, 5);
		ended = r->served + r->no_show;
		r->no_show_rate = ended > 0 ? (double)r->no_show / ended : 0.0;
		r->wait_median_s = r->wait_p90_s = -1;
		r->service_median_s = r->service_p90_s = -1;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_err(q->db, rc, "queue statistics");
}

static void set_pct(struct queue_stat_row *rows, int n, int key, int64_t *v, size_t nv,
		    bool service)
{
	for (int i = 0; i < n; i++) {
		if (rows[i].key != key || nv == 0) {
			continue;
		}
		int med = (int)(queue_percentile(v, nv, 50) / 1000);
		int p90 = (int)(queue_percentile(v, nv, 90) / 1000);

		if (service) {
			rows[i].service_median_s = med;
			rows[i].service_p90_s = p90;
		} else {
			rows[i].wait_median_s = med;
			rows[i].wait_p90_s = p90;
		}
	}
}

/* (key, duration ms) rows ordered by key: percentiles per key into rows. */
static int load_durations(struct queue *q, const char *sql, const char *day,
			  struct queue_stat_row *rows, int n, bool service)
{
	sqlite3_stmt *st;
	int64_t *v = NULL;
	size_t nv = 0, cap = 0;
	int key = -1, rc, ret = 0;

	rc = sqlite3_prepare_v2(q->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		return store_err(q->db, rc, "preparing queue statistics");
	}
	sqlite3_bind_text(st, 1, day, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int k = sqlite3_column_int(st, 0);

		if (k != key) {
			set_pct(rows, n, key, v, nv, service);
			key = k;
			nv = 0;
		}
		if (nv == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			int64_t *nvp = realloc(v, ncap * sizeof(*v));

			if (nvp == NULL) {
				ret = -ENOMEM;
				break;
			}
			v = nvp;
			cap = ncap;
		}
		v[nv++] = sqlite3_column_int64(st, 1);
	}
	if (ret == 0) {
		set_pct(rows, n, key, v, nv, service);
		if (rc != SQLITE_DONE) {
			ret = store_err(q->db, rc, "queue statistics");
		}
	}
	sqlite3_finalize(st);
	free(v);
	return ret;
}

int queue_stats_locked(struct queue *q, const char *day, struct queue_stats *out)
{
	int ret;

	memset(out, 0, sizeof(*out));
	if (!day_valid(day)) {
		return -EINVAL;
	}
	snprintf(out->day, sizeof(out->day), "%s", day);
	ret = load_counts(
		q,
		"SELECT s.id, s.name_zh, s.name_en, count(t.id), "
		"coalesce(sum(t.state = 'done'), 0), coalesce(sum(t.state = 'no_show'), 0) "
		"FROM queue_services s LEFT JOIN queue_tickets t ON t.service_id = s.id AND "
		"t.day = ?1 AND t.state != 'void' GROUP BY s.id HAVING s.active = 1 OR "
		"count(t.id) > 0 ORDER BY s.position, s.id",
		day, out->services, QUEUE_MAX_SERVICES, &out->nservices);
	if (ret == 0) {
		ret = load_counts(
			q,
			"SELECT w.no, w.name_zh, w.name_en, count(t.id), "
			"coalesce(sum(t.state = 'done'), 0), "
			"coalesce(sum(t.state = 'no_show'), 0) FROM queue_windows w LEFT "
			"JOIN queue_tickets t ON t.window_no = w.no AND t.day = ?1 AND "
			"t.state != 'void' GROUP BY w.no HAVING w.active = 1 OR count(t.id) "
			"> 0 ORDER BY w.no",
			day, out->windows, QUEUE_MAX_WINDOWS, &out->nwindows);
	}
	if (ret == 0) {
		ret = load_durations(q,
				     "SELECT service_id, first_called_ms - issued_ms FROM "
				     "queue_tickets WHERE day = ?1 AND first_called_ms IS NOT NULL "
				     "AND state != 'void' ORDER BY service_id",
				     day, out->services, out->nservices, false);
	}
	if (ret == 0) {
		ret = load_durations(
			q,
			"SELECT service_id, finished_ms - started_ms FROM queue_tickets "
			"WHERE day = ?1 AND state = 'done' AND started_ms IS NOT NULL "
			"ORDER BY service_id",
			day, out->services, out->nservices, true);
	}
	if (ret == 0) {
		ret = load_durations(
			q,
			"SELECT window_no, first_called_ms - issued_ms FROM "
			"queue_tickets WHERE day = ?1 AND first_called_ms IS NOT NULL "
			"AND window_no IS NOT NULL AND state != 'void' ORDER BY window_no",
			day, out->windows, out->nwindows, false);
	}
	if (ret == 0) {
		ret = load_durations(
			q,
			"SELECT window_no, finished_ms - started_ms FROM queue_tickets "
			"WHERE day = ?1 AND state = 'done' AND started_ms IS NOT NULL "
			"AND window_no IS NOT NULL ORDER BY window_no",
			day, out->windows, out->nwindows, true);
	}
	return ret;
}

int queue_stats(struct queue *q, const char *day, struct queue_stats *out)
{
	int ret;

	pthread_mutex_lock(&q->lock);
	ret = queue_stats_locked(q, day, out);
	pthread_mutex_unlock(&q->lock);
	return ret;
}

/* The day summary event: counts and timings per service, no personal data. */
static int day_summary(struct queue *q, const char *day, int expired, int kept)
{
	struct queue_stats *s = malloc(sizeof(*s));
	char *json = NULL;
	size_t cap = 512 + QUEUE_MAX_SERVICES * 256, used;
	int ret;

	if (s == NULL) {
		return -ENOMEM;
	}
	ret = queue_stats_locked(q, day, s);
	if (ret == 0) {
		json = malloc(cap);
		ret = json != NULL ? 0 : -ENOMEM;
	}
	if (ret == 0) {
		used = (size_t)snprintf(json, cap,
					"{\"day\":\"%s\",\"expired\":%d,\"kept\":%d,\"services\":[",
					day, expired, kept);
		for (int i = 0; i < s->nservices && used < cap; i++) {
			const struct queue_stat_row *r = &s->services[i];

			used += (size_t)snprintf(
				json + used, cap - used,
				"%s{\"service_id\":%d,\"count\":%d,\"served\":%d,\"no_show\":%d,"
				"\"wait_median_s\":%d,\"wait_p90_s\":%d,\"service_median_s\":%d,"
				"\"service_p90_s\":%d}",
				i ? "," : "", r->key, r->count, r->served, r->no_show,
				r->wait_median_s, r->wait_p90_s, r->service_median_s,
				r->service_p90_s);
		}
		if (used < cap) {
			snprintf(json + used, cap - used, "]}");
		}
		ret = outbox_append(q->db, "queue.day_summary", json, NULL);
	}
	free(json);
	free(s);
	return ret;
}

static int changes_of(struct queue *q, const char *sql, const char *today, int64_t now)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(q->db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK) {
		return store_err(q->db, rc, "preparing the rollover");
	}
	sqlite3_bind_text(st, 1, today, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, now);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		return store_err(q->db, rc, "rolling the queue over");
	}
	return sqlite3_changes(q->db);
}

int queue_rollover_locked(struct queue *q, struct pending_events *pe)
{
	char today[11], old[11];
	int64_t now = queue_now(q);
	int expired = 0, kept = 0, n, ret;
	sqlite3_stmt *st;

	queue_today(q, today);
	/* Only forwards: a wall clock set back never reopens a closed day. */
	if (strcmp(today, q->day) <= 0) {
		return 0;
	}
	snprintf(old, sizeof(old), "%s", q->day);
	ret = store_begin(q->db);
	if (ret < 0) {
		return ret;
	}
	n = changes_of(
		q,
		"UPDATE queue_tickets SET state = 'expired', finished_ms = ?2 WHERE day < ?1 "
		"AND state IN ('called', 'serving')",
		today, now);
	if (n >= 0) {
		expired += n;
		n = changes_of(
			q,
			q->cfg.keep_overnight
				? "UPDATE queue_tickets SET day = ?1 WHERE day < ?1 AND state "
				  "IN ('waiting', 'held') AND ?2 IS NOT NULL"
				: "UPDATE queue_tickets SET state = 'expired', finished_ms = "
				  "?2 WHERE day < ?1 AND state IN ('waiting', 'held')",
			today, now);
		if (q->cfg.keep_overnight) {
			kept = n;
		} else {
			expired += n;
		}
	}
	ret = n < 0 ? n : 0;
	if (ret == 0) {
		ret = day_summary(q, old, expired, kept);
	}
	if (ret == 0) {
		ret = store_exec(q->db, "UPDATE queue_windows SET priority_run = 0");
	}
	if (ret == 0) {
		ret = sqlite3_prepare_v2(q->db, "UPDATE queue_settings SET day = ?1 WHERE id = 1",
					 -1, &st, NULL) == SQLITE_OK
			      ? 0
			      : -EIO;
		if (ret == 0) {
			sqlite3_bind_text(st, 1, today, -1, SQLITE_TRANSIENT);
			ret = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
			sqlite3_finalize(st);
		}
	}
	if (ret == 0) {
		ret = store_commit(q->db);
	} else {
		store_rollback(q->db);
	}
	if (ret < 0) {
		log_err(MOD, "the queue's day rollover failed (%s); it is retried", strerror(-ret));
		return ret;
	}
	snprintf(q->day, sizeof(q->day), "%s", today);
	log_info(MOD, "service day %s closed (%d ticket(s) expired, %d kept); today is %s", old,
		 expired, kept, today);
	if (pe != NULL && pe->n < (int)(sizeof(pe->ev) / sizeof(pe->ev[0]))) {
		struct queue_event *ev = &pe->ev[pe->n++];

		memset(ev, 0, sizeof(*ev));
		ev->kind = QEV_ROLLOVER;
		ev->at_ms = now;
	}
	return 1;
}
