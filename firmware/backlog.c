/*
 * Backlog policy: storage levels, the reserve file and statistics
 * summaries, so that a long uplink outage on a small eMMC never costs a
 * record the law requires.
 *
 * The design decision: free space is judged as if the reserve file were
 * always held (usable = free + reserve now - reserve wanted). Deleting the
 * reserve at critical therefore does not move the level back and forth,
 * and the space it frees is left to essential commits alone, because
 * everything non-essential is refused from then on. Summaries keep the
 * seq of the first event they stand for and list every seq they cover,
 * and only seqs above meta sync_sent_upto are touched, so the city never
 * holds a seq the appliance rewrote (docs/sync-protocol.md).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "fw/backlog.h"
#include "fw/log.h"
#include "fw/rng.h"
#include "fw/store.h"

#define MOD "backlog"
#define MB  (1024 * 1024)

/* At low, a summary is written once this many statistics events wait. */
#define LOW_MIN_EVENTS 64
#define SUMMARY_TYPES  32

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static struct {
	bool on;
	char dir[PATH_MAX - 32];
	int64_t low, critical, reserve;
	int quota;
	enum backlog_level level;
	int64_t checked_ms; /* monotonic */
	int64_t free, usable, reserve_now;
	int64_t fake; /* <0: measure */
} g = { .fake = -1 };

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *backlog_level_name(enum backlog_level l)
{
	switch (l) {
	case BACKLOG_OK:
		return "ok";
	case BACKLOG_LOW:
		return "low";
	case BACKLOG_CRITICAL:
		return "critical";
	}
	return "unknown";
}

static void reserve_path(char *out, size_t cap)
{
	snprintf(out, cap, "%s/%s", g.dir, BACKLOG_RESERVE_FILE);
}

/* The reserve file's allocated size (0: none). Caller holds the lock. */
static int64_t reserve_size(void)
{
	char p[PATH_MAX];
	struct stat st;
	int64_t n;

	reserve_path(p, sizeof(p));
	if (stat(p, &st) != 0) {
		return 0;
	}
	n = (int64_t)st.st_blocks * 512;
	return n < (int64_t)st.st_size ? n : (int64_t)st.st_size;
}

static void reserve_release(void)
{
	char p[PATH_MAX];

	reserve_path(p, sizeof(p));
	if (unlink(p) != 0 && errno != ENOENT) {
		log_err(MOD, "could not delete the storage reserve %s: %s", p, strerror(errno));
		return;
	}
	log_warn(MOD,
		 "released the storage reserve (%" PRId64 " MB) so work orders, requests and "
		 "ratings can still be saved",
		 g.reserve_now / MB);
}

static void reserve_create(void)
{
	char p[PATH_MAX];
	int fd;
	int rc;

	reserve_path(p, sizeof(p));
	fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		log_warn(MOD, "could not create the storage reserve %s: %s", p, strerror(errno));
		return;
	}
	rc = posix_fallocate(fd, 0, (off_t)g.reserve);
	if (rc == 0) {
		rc = fsync(fd) == 0 ? 0 : errno;
	}
	close(fd);
	if (rc != 0) {
		/* A partial reserve would only hide free space: keep none. */
		unlink(p);
		log_warn(MOD, "could not set aside the storage reserve of %" PRId64 " MB: %s",
			 g.reserve / MB, strerror(rc));
	}
}

static void log_change(enum backlog_level from, enum backlog_level to)
{
	if (to == BACKLOG_CRITICAL) {
		log_err(MOD,
			"storage is critical: %" PRId64 " MB usable (critical below %" PRId64
			" MB). Work orders, requests and ratings are still saved; statistics, new "
			"attachments and spoken announcements are refused. Free space or restore "
			"the city link now.",
			g.usable / MB, g.critical / MB);
	} else if (to == BACKLOG_LOW) {
		log_warn(MOD,
			 "storage is running low: %" PRId64 " MB usable (warning below %" PRId64
			 " MB); statistics waiting for the city are summarised. Free space or "
			 "restore the city link.",
			 g.usable / MB, g.low / MB);
	} else {
		log_info(MOD, "storage is %s again: %" PRId64 " MB usable (was %s)",
			 backlog_level_name(to), g.usable / MB, backlog_level_name(from));
	}
}

/* Measure, set the level, log a change, handle the reserve. Caller holds the lock. */
static void measure(void)
{
	enum backlog_level was = g.level;
	struct statvfs vfs;

	g.reserve_now = reserve_size();
	if (g.fake >= 0) {
		/* The figure is what is free while the full reserve is held. */
		g.free = g.fake + (g.reserve - g.reserve_now);
	} else if (statvfs(g.dir, &vfs) == 0) {
		g.free = (int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize;
	} else {
		log_err(MOD, "cannot measure free space on %s: %s", g.dir, strerror(errno));
		g.checked_ms = mono_ms();
		return; /* keep the last level */
	}
	g.usable = g.free + g.reserve_now - g.reserve;
	g.level = g.usable < g.critical ? BACKLOG_CRITICAL
		  : g.usable < g.low	? BACKLOG_LOW
					: BACKLOG_OK;
	g.checked_ms = mono_ms();
	if (g.level != was) {
		log_change(was, g.level);
	}
	if (g.level == BACKLOG_CRITICAL && g.reserve_now > 0) {
		reserve_release();
		g.reserve_now = reserve_size();
		if (g.fake >= 0) {
			g.free = g.fake + (g.reserve - g.reserve_now);
		}
	} else if (g.level != BACKLOG_CRITICAL && g.reserve > 0 && g.reserve_now < g.reserve) {
		reserve_create();
		g.reserve_now = reserve_size();
		if (g.fake >= 0) {
			g.free = g.fake + (g.reserve - g.reserve_now);
		}
	}
}

int backlog_init(const struct backlog_params *p)
{
	if (p == NULL || p->data_dir == NULL || p->data_dir[0] == '\0' ||
	    strlen(p->data_dir) >= sizeof(g.dir) || p->critical_free_mb < 0 ||
	    p->low_free_mb <= p->critical_free_mb || p->reserve_mb < 0 || p->stats_quota < 1) {
		return -EINVAL;
	}
	pthread_mutex_lock(&lock);
	g.on = true;
	snprintf(g.dir, sizeof(g.dir), "%s", p->data_dir);
	g.low = (int64_t)p->low_free_mb * MB;
	g.critical = (int64_t)p->critical_free_mb * MB;
	g.reserve = (int64_t)p->reserve_mb * MB;
	g.quota = p->stats_quota;
	g.level = BACKLOG_OK;
	measure();
	pthread_mutex_unlock(&lock);
	return 0;
}

void backlog_shutdown(void)
{
	pthread_mutex_lock(&lock);
	g.on = false;
	g.level = BACKLOG_OK;
	g.fake = -1;
	pthread_mutex_unlock(&lock);
}

void backlog_test_set_free(int64_t bytes)
{
	pthread_mutex_lock(&lock);
	g.fake = bytes < 0 ? -1 : bytes;
	if (g.on) {
		measure();
	}
	pthread_mutex_unlock(&lock);
}

enum backlog_level backlog_check(void)
{
	enum backlog_level l;

	pthread_mutex_lock(&lock);
	if (g.on) {
		measure();
	}
	l = g.on ? g.level : BACKLOG_OK;
	pthread_mutex_unlock(&lock);
	return l;
}

enum backlog_level backlog_level(void)
{
	enum backlog_level l;

	pthread_mutex_lock(&lock);
	if (g.on && mono_ms() - g.checked_ms >= 1000) {
		measure();
	}
	l = g.on ? g.level : BACKLOG_OK;
	pthread_mutex_unlock(&lock);
	return l;
}

bool backlog_refuses(enum outbox_class c)
{
	return c == OUTBOX_STATS && backlog_level() == BACKLOG_CRITICAL;
}

bool backlog_refuses_extra(void)
{
	return backlog_level() == BACKLOG_CRITICAL;
}

/* ---- meta counters ---- */

enum meta_op { META_ADD, META_MIN, META_MAX };

static int meta_num(sqlite3 *db, const char *key, int64_t v, enum meta_op op)
{
	static const char *const sql[] = {
		[META_ADD] = "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO "
			     "UPDATE SET value = CAST(value AS INTEGER) + CAST(excluded.value AS "
			     "INTEGER)",
		[META_MIN] = "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO "
			     "UPDATE SET value = min(CAST(value AS INTEGER), CAST(excluded.value "
			     "AS INTEGER))",
		[META_MAX] = "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO "
			     "UPDATE SET value = max(CAST(value AS INTEGER), CAST(excluded.value "
			     "AS INTEGER))",
	};
	sqlite3_stmt *st = NULL;
	char buf[24];
	int rc;

	rc = store_prepare(db, sql[op], &st);
	if (rc < 0) {
		return rc;
	}
	snprintf(buf, sizeof(buf), "%" PRId64, v);
	sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, buf, -1, SQLITE_TRANSIENT);
	return store_step_done(db, st, "counting the backlog");
}

static int64_t query_int(sqlite3 *db, const char *sql, const char *what)
{
	sqlite3_stmt *st = NULL;
	int64_t v = 0;
	int rc;

	rc = store_prepare(db, sql, &st);
	if (rc < 0) {
		return rc;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		v = sqlite3_column_int64(st, 0);
	} else if (rc != SQLITE_DONE) {
		v = store_err(db, rc, what);
	}
	sqlite3_finalize(st);
	return v;
}

int backlog_count_unwritten(sqlite3 *db, const char *type, int64_t at_ms)
{
	char key[STORE_META_KEY_MAX];
	int rc;

	if (db == NULL || type == NULL) {
		return -EINVAL;
	}
	if (snprintf(key, sizeof(key), "unwritten:%s", type) >= (int)sizeof(key)) {
		snprintf(key, sizeof(key), "unwritten:other");
	}
	rc = meta_num(db, key, 1, META_ADD);
	if (rc == 0) {
		rc = meta_num(db, "backlog_unwritten", 1, META_ADD);
	}
	if (rc == 0) {
		rc = meta_num(db, "unwritten_from_ms", at_ms, META_MIN);
	}
	if (rc == 0) {
		rc = meta_num(db, "unwritten_to_ms", at_ms, META_MAX);
	}
	return rc;
}

/* ---- summaries ---- */

struct type_count {
	char type[OUTBOX_TYPE_MAX];
	int64_t n;
};

static void count_type(struct type_count *t, int *nt, const char *type)
{
	int i;

	for (i = 0; i < *nt; i++) {
		if (strcmp(t[i].type, type) == 0) {
			t[i].n++;
			return;
		}
	}
	if (*nt == SUMMARY_TYPES) {
		i = SUMMARY_TYPES - 1; /* more kinds than ever listed: the last one is "other" */
		snprintf(t[i].type, sizeof(t[i].type), "other");
		t[i].n++;
		return;
	}
	snprintf(t[*nt].type, sizeof(t[*nt].type), "%s", type);
	t[(*nt)++].n = 1;
}

/* Waiting statistics events above sent. <0 error */
static int64_t stats_waiting(sqlite3 *db, int64_t sent)
{
	sqlite3_stmt *st = NULL;
	int64_t n = 0;
	int rc;

	rc = store_prepare(db,
			   "SELECT type, count(*) FROM outbox WHERE acked_ms IS NULL AND seq > ?1 "
			   "GROUP BY type",
			   &st);
	if (rc < 0) {
		return rc;
	}
	sqlite3_bind_int64(st, 1, sent);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (outbox_class((const char *)sqlite3_column_text(st, 0)) == OUTBOX_STATS) {
			n += sqlite3_column_int64(st, 1);
		}
	}
	if (rc != SQLITE_DONE) {
		n = store_err(db, rc, "counting waiting statistics");
	}
	sqlite3_finalize(st);
	return n;
}

/* The unwritten counts into j. @retval count, <0 error */
static int64_t add_unwritten(sqlite3 *db, cJSON *j)
{
	sqlite3_stmt *st = NULL;
	cJSON *u = NULL;
	int64_t n = 0;
	int rc;

	rc = store_prepare(db,
			   "SELECT substr(key, 11), CAST(value AS INTEGER) FROM meta "
			   "WHERE key LIKE 'unwritten:%' ORDER BY key",
			   &st);
	if (rc < 0) {
		return rc;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (u == NULL) {
			u = cJSON_AddObjectToObject(j, "unwritten");
		}
		cJSON_AddNumberToObject(u, (const char *)sqlite3_column_text(st, 0),
					(double)sqlite3_column_int64(st, 1));
		n += sqlite3_column_int64(st, 1);
	}
	if (rc != SQLITE_DONE) {
		n = store_err(db, rc, "reading unwritten statistics");
	}
	sqlite3_finalize(st);
	if (n > 0) {
		cJSON_AddNumberToObject(j, "unwritten_count", (double)n);
		cJSON_AddNumberToObject(j, "unwritten_from_ms",
					(double)query_int(db,
							  "SELECT CAST(value AS INTEGER) FROM meta "
							  "WHERE key = 'unwritten_from_ms'",
							  "reading unwritten statistics"));
		cJSON_AddNumberToObject(j, "unwritten_to_ms",
					(double)query_int(db,
							  "SELECT CAST(value AS INTEGER) FROM meta "
							  "WHERE key = 'unwritten_to_ms'",
							  "reading unwritten statistics"));
	}
	return n;
}

static int run_range(sqlite3 *db, const char *sql, int64_t a, int64_t b, int64_t c)
{
	sqlite3_stmt *st = NULL;
	int rc = store_prepare(db, sql, &st);

	if (rc < 0) {
		return rc;
	}
	sqlite3_bind_int64(st, 1, a);
	sqlite3_bind_int64(st, 2, b);
	sqlite3_bind_int64(st, 3, c);
	return store_step_done(db, st, "summarising statistics");
}

/*
 * One summary in one transaction. @retval events collapsed + counted
 * (0: nothing to do), <0 error; *more: another summary is due.
 */
static int64_t summarise_once(sqlite3 *db, enum backlog_level level, int quota, bool *more)
{
	int64_t range[BACKLOG_SUMMARY_RANGES][2];
	struct type_count types[SUMMARY_TYPES];
	char event_id[RNG_UUID_LEN + 1];
	int64_t sent, waiting, take, n = 0, from = 0, to = 0, unwritten;
	int nr = 0, nt = 0;
	bool in_range = false;
	sqlite3_stmt *st = NULL;
	cJSON *j = NULL, *a, *o;
	char *payload = NULL;
	const char *reason;
	int64_t ret;
	int rc;

	*more = false;
	rc = store_begin(db);
	if (rc < 0) {
		return rc;
	}
	sent = outbox_sent_upto(db);
	waiting = sent < 0 ? sent : stats_waiting(db, sent);
	if (waiting < 0) {
		ret = waiting;
		goto out_rollback;
	}
	if (level == BACKLOG_CRITICAL || (level == BACKLOG_LOW && waiting >= LOW_MIN_EVENTS)) {
		take = waiting;
		reason = level == BACKLOG_CRITICAL ? "storage_critical" : "storage_low";
	} else if (waiting > quota) {
		take = waiting - quota / 2;
		reason = "quota";
	} else {
		take = 0;
		reason = "unwritten";
	}
	if (take > BACKLOG_SUMMARY_EVENTS) {
		take = BACKLOG_SUMMARY_EVENTS;
	}
	j = cJSON_CreateObject();
	if (j == NULL) {
		ret = -ENOMEM;
		goto out_rollback;
	}
	unwritten = add_unwritten(db, j);
	if (unwritten < 0) {
		ret = unwritten;
		goto out_rollback;
	}
	if (take == 0 && unwritten == 0) {
		ret = 0;
		goto out_rollback;
	}
	rc = store_prepare(db,
			   "SELECT seq, type, created_ms FROM outbox WHERE acked_ms IS NULL AND "
			   "seq > ?1 ORDER BY seq",
			   &st);
	if (rc < 0) {
		ret = rc;
		goto out_rollback;
	}
	sqlite3_bind_int64(st, 1, sent);
	rc = SQLITE_DONE;
	while (n < take && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(st, 0);
		const char *type = (const char *)sqlite3_column_text(st, 1);
		int64_t at = sqlite3_column_int64(st, 2);

		if (outbox_class(type) != OUTBOX_STATS) {
			in_range = false; /* a range never spans an essential event */
			continue;
		}
		if (in_range) {
			range[nr - 1][1] = seq;
		} else if (nr == BACKLOG_SUMMARY_RANGES) {
			*more = true;
			break;
		} else {
			range[nr][0] = seq;
			range[nr++][1] = seq;
			in_range = true;
		}
		count_type(types, &nt, type);
		from = n == 0 || at < from ? at : from;
		to = at > to ? at : to;
		n++;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		ret = store_err(db, rc, "reading statistics to summarise");
		goto out_rollback;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (n == take && take == BACKLOG_SUMMARY_EVENTS) {
		*more = true;
	}
	cJSON_AddStringToObject(j, "reason", reason);
	cJSON_AddNumberToObject(j, "count", (double)n);
	if (n > 0) {
		cJSON_AddNumberToObject(j, "first", (double)range[0][0]);
		cJSON_AddNumberToObject(j, "last", (double)range[nr - 1][1]);
		a = cJSON_AddArrayToObject(j, "covers");
		for (int i = 0; i < nr; i++) {
			cJSON *r = cJSON_CreateArray();

			cJSON_AddItemToArray(r, cJSON_CreateNumber((double)range[i][0]));
			cJSON_AddItemToArray(r, cJSON_CreateNumber((double)range[i][1]));
			cJSON_AddItemToArray(a, r);
		}
		o = cJSON_AddObjectToObject(j, "by_type");
		for (int i = 0; i < nt; i++) {
			cJSON_AddNumberToObject(o, types[i].type, (double)types[i].n);
		}
		cJSON_AddNumberToObject(j, "from_ms", (double)from);
		cJSON_AddNumberToObject(j, "to_ms", (double)to);
	}
	payload = cJSON_PrintUnformatted(j);
	if (payload == NULL) {
		ret = -ENOMEM;
		goto out_rollback;
	}
	if (n > 0) {
		for (int i = 0; i < nr; i++) {
			rc = run_range(
				db,
				"DELETE FROM outbox WHERE seq BETWEEN ?1 AND ?2 AND seq <> ?3 "
				"AND acked_ms IS NULL",
				range[i][0], range[i][1], range[0][0]);
			if (rc < 0) {
				ret = rc;
				goto out_rollback;
			}
		}
		rc = rng_uuid(event_id);
		if (rc == 0) {
			rc = store_prepare(
				db,
				"UPDATE outbox SET event_id = ?1, type = '" OUTBOX_SUMMARY_TYPE
				"', payload = ?2, created_ms = ?3 WHERE seq = ?4",
				&st);
		}
		if (rc == 0) {
			sqlite3_bind_text(st, 1, event_id, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, payload, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 3, wall_ms());
			sqlite3_bind_int64(st, 4, range[0][0]);
			rc = store_step_done(db, st, "writing a statistics summary");
			st = NULL;
		}
	} else {
		rc = outbox_append(db, OUTBOX_SUMMARY_TYPE, payload, NULL);
	}
	if (rc == 0 && unwritten > 0) {
		rc = store_exec(db, "DELETE FROM meta WHERE key LIKE 'unwritten:%' OR key IN "
				    "('unwritten_from_ms', 'unwritten_to_ms')");
	}
	if (rc == 0) {
		rc = meta_num(db, "backlog_summaries", 1, META_ADD);
	}
	if (rc == 0 && n > 0) {
		rc = meta_num(db, "backlog_summarised", n, META_ADD);
	}
	if (rc == 0) {
		rc = store_commit(db);
	}
	if (rc < 0) {
		ret = rc;
		goto out_rollback;
	}
	log_info(MOD,
		 "summarised %" PRId64 " waiting statistics events (%s) and %" PRId64
		 " unwritten ones into one " OUTBOX_SUMMARY_TYPE " event",
		 n, reason, unwritten);
	ret = n + unwritten;
	goto out;
out_rollback:
	sqlite3_finalize(st);
	st = NULL;
	store_rollback(db);
out:
	sqlite3_finalize(st);
	cJSON_free(payload);
	cJSON_Delete(j);
	return ret;
}

int backlog_enforce(sqlite3 *db)
{
	enum backlog_level level;
	int64_t total = 0;
	bool more = true;
	int quota;

	if (db == NULL) {
		return -EINVAL;
	}
	pthread_mutex_lock(&lock);
	quota = g.quota;
	pthread_mutex_unlock(&lock);
	if (quota <= 0) {
		return 0; /* not initialised */
	}
	level = backlog_level();
	while (more && total < INT32_MAX / 2) {
		int64_t n = summarise_once(db, level, quota, &more);

		if (n < 0) {
			return (int)n;
		}
		total += n;
		if (n == 0) {
			break;
		}
	}
	return (int)total;
}

/* ---- status ---- */

static const char *const texts[][2] = {
	[BACKLOG_OK] = { "Storage is fine.", "存储空间充足。" },
	[BACKLOG_LOW] = { "Storage is running low. Statistics waiting for the city are "
			  "summarised. Ask the technician to free space or restore the city link.",
			  "存储空间不足，待上传的统计数据已汇总。请联系技术人员清理空间或恢复与市平"
			  "台"
			  "的连接。" },
	[BACKLOG_CRITICAL] = { BACKLOG_REFUSED_EN, BACKLOG_REFUSED_ZH },
};

static int64_t meta_int(sqlite3 *db, const char *key)
{
	char buf[32];

	if (store_meta_get(db, key, buf, sizeof(buf)) < 0) {
		return 0;
	}
	return strtoll(buf, NULL, 10);
}

static int waiting_by_class(sqlite3 *db, struct backlog_status *o)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = store_prepare(db,
			   "SELECT type, count(*), min(created_ms) FROM outbox WHERE acked_ms IS "
			   "NULL GROUP BY type",
			   &st);
	if (rc < 0) {
		return rc;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t n = sqlite3_column_int64(st, 1);
		int64_t at = sqlite3_column_int64(st, 2);

		if (outbox_class((const char *)sqlite3_column_text(st, 0)) == OUTBOX_STATS) {
			o->waiting_stats += n;
		} else {
			o->waiting_essential += n;
			if (o->oldest_essential_ms == 0 || at < o->oldest_essential_ms) {
				o->oldest_essential_ms = at;
			}
		}
	}
	rc = rc == SQLITE_DONE ? 0 : store_err(db, rc, "counting waiting events");
	sqlite3_finalize(st);
	return rc;
}

int backlog_status(sqlite3 *db, struct backlog_status *out)
{
	sqlite3_stmt *st = NULL;
	sqlite3 *own = NULL;
	char dir[sizeof(g.dir)];
	int rc;

	if (out == NULL) {
		return -EINVAL;
	}
	memset(out, 0, sizeof(*out));
	out->level = backlog_level();
	pthread_mutex_lock(&lock);
	if (!g.on) {
		pthread_mutex_unlock(&lock);
		return -EINVAL;
	}
	out->free_bytes = g.free;
	out->usable_bytes = g.usable;
	out->reserve_bytes = g.reserve_now;
	out->low_bytes = g.low;
	out->critical_bytes = g.critical;
	out->stats_quota = g.quota;
	snprintf(dir, sizeof(dir), "%s", g.dir);
	pthread_mutex_unlock(&lock);
	out->level_name = backlog_level_name(out->level);
	out->text_en = texts[out->level][0];
	out->text_zh = texts[out->level][1];
	if (db == NULL) {
		rc = store_open(dir, &own);
		if (rc < 0) {
			return rc;
		}
		db = own;
	}
	rc = store_prepare(db,
			   "SELECT (SELECT page_count FROM pragma_page_count()) * "
			   "(SELECT page_size FROM pragma_page_size())",
			   &st);
	if (rc == 0) {
		if (sqlite3_step(st) == SQLITE_ROW) {
			out->db_bytes = sqlite3_column_int64(st, 0);
		}
		sqlite3_finalize(st);
		rc = waiting_by_class(db, out);
	}
	out->summaries = meta_int(db, "backlog_summaries");
	out->summarised = meta_int(db, "backlog_summarised");
	out->unwritten = meta_int(db, "backlog_unwritten");
	out->unwritten_pending = query_int(db,
					   "SELECT coalesce(sum(CAST(value AS INTEGER)), 0) FROM "
					   "meta WHERE key LIKE 'unwritten:%'",
					   "counting unwritten statistics");
	store_close(own);
	return rc;
}

void backlog_health_json(sqlite3 *db, cJSON *obj)
{
	struct backlog_status s;
	int rc;

	if (obj == NULL) {
		return;
	}
	rc = backlog_status(db, &s);
	if (rc == -EINVAL) {
		cJSON_AddStringToObject(obj, "level", "unknown");
		return;
	}
	cJSON_AddStringToObject(obj, "level", s.level_name);
	cJSON_AddStringToObject(obj, "message", s.text_en);
	cJSON_AddStringToObject(obj, "message_zh", s.text_zh);
	cJSON_AddNumberToObject(obj, "free_bytes", (double)s.free_bytes);
	cJSON_AddNumberToObject(obj, "usable_bytes", (double)s.usable_bytes);
	cJSON_AddNumberToObject(obj, "reserve_bytes", (double)s.reserve_bytes);
	cJSON_AddNumberToObject(obj, "low_bytes", (double)s.low_bytes);
	cJSON_AddNumberToObject(obj, "critical_bytes", (double)s.critical_bytes);
	cJSON_AddNumberToObject(obj, "db_bytes", (double)s.db_bytes);
	cJSON_AddNumberToObject(obj, "waiting_essential", (double)s.waiting_essential);
	cJSON_AddNumberToObject(obj, "waiting_stats", (double)s.waiting_stats);
	cJSON_AddNumberToObject(obj, "oldest_essential_ms", (double)s.oldest_essential_ms);
	cJSON_AddNumberToObject(obj, "summarised", (double)s.summarised);
	cJSON_AddNumberToObject(obj, "unwritten", (double)s.unwritten);
	if (rc < 0) {
		cJSON_AddStringToObject(obj, "error", "the database could not be read");
	}
}
