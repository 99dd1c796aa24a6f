/*
 * The calendar store (docs/working-days.md): the working-day calendar kept
 * in SQLite (work_calendar_years, work_calendar), served from memory.
 *
 * The design decision: readers never wait for SQLite. The calendar in
 * force is one heap-allocated struct workcal behind a read-write lock.
 * A change is built on a private copy, checked by workcal_set_year, written
 * in one transaction with its audit entry, and only after the commit is the
 * copy swapped in under the write lock. Writers are serialised by the
 * connection's mutex, so the copy never races another change; a failed
 * check or a failed commit leaves both the database and the memory as they
 * were.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fw/audit.h"
#include "fw/embed.h"
#include "fw/log.h"
#include "fw/store.h"
#include "calstore_internal.h"

#define MOD "calendar"

/* Built into the firmware from data/calendar/ (cmake he_embed). */
extern const struct fw_embed_file calstore_builtin_years[];

struct calstore {
	sqlite3 *db;
	pthread_mutex_t db_lock; /* the connection, and writers as a whole */
	pthread_rwlock_t lock;	 /* cal */
	struct workcal *cal;
	struct hal_clock *clock;
	_Atomic uint64_t version;
	_Atomic int utc_offset_min;
	/* what was loaded, to notice a change by another process (calstore_refresh) */
	int64_t stamp_years, stamp_sum, stamp_days;
};

/* ---- reading the tables (db_lock held) ---- */

/* A cheap fingerprint of the stored calendar: years, their update times, days. */
static int read_stamp(struct calstore *cs, int64_t s[3])
{
	sqlite3_stmt *st;
	int ret = store_prepare(cs->db,
				"SELECT (SELECT count(*) FROM work_calendar_years),"
				" (SELECT coalesce(sum(updated_ms), 0) FROM work_calendar_years),"
				" (SELECT count(*) FROM work_calendar)",
				&st);

	if (ret < 0) {
		return ret;
	}
	ret = sqlite3_step(st);
	if (ret == SQLITE_ROW) {
		for (int i = 0; i < 3; i++) {
			s[i] = sqlite3_column_int64(st, i);
		}
		ret = 0;
	} else {
		ret = store_err(cs->db, ret, "reading the calendar's state");
	}
	sqlite3_finalize(st);
	return ret;
}

/* One stored year into c. A year the checks refuse (the file was edited by
 * hand) is logged and left out: the weekday rule applies to it. */
static int load_year(struct calstore *cs, struct workcal *c, int year, struct workcal_entry *e)
{
	sqlite3_stmt *st;
	char en[WORKCAL_ERR_MAX], zh[WORKCAL_ERR_MAX];
	int n = 0, rc,
	    ret = store_prepare(cs->db,
				"SELECT day, kind, name FROM work_calendar WHERE year = ?1 "
				"ORDER BY day",
				&st);

	if (ret < 0) {
		return ret;
	}
	sqlite3_bind_int(st, 1, year);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < 367) {
		const char *day = (const char *)sqlite3_column_text(st, 0);
		const char *kind = (const char *)sqlite3_column_text(st, 1);
		const char *name = (const char *)sqlite3_column_text(st, 2);

		memset(&e[n], 0, sizeof(e[n]));
		if (day == NULL || workcal_parse_date(day, &e[n].day) < 0) {
			e[n].day = 0; /* refused below as outside the year */
		}
		e[n].kind = kind != NULL && strcmp(kind, "holiday") == 0 ? WORKCAL_HOLIDAY
									 : WORKCAL_WORKDAY;
		snprintf(e[n].name, sizeof(e[n].name), "%s", name != NULL ? name : "");
		n++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		return store_err(cs->db, rc, "reading the calendar");
	}
	if (workcal_set_year(c, year, e, n, en, zh) < 0) {
		log_err(MOD,
			"the stored calendar of %d is invalid (%s); weekends only are days off in "
			"%d until the year is imported again",
			year, en, year);
	}
	return 0;
}

/* Build the calendar from the database into a new struct. @retval 0, <0 */
static int load_all(struct calstore *cs, struct workcal **out)
{
	struct workcal *c = malloc(sizeof(*c));
	struct workcal_entry *e = malloc(367 * sizeof(*e));
	int years[WORKCAL_MAX_YEARS], ny = 0, rc, ret = c != NULL && e != NULL ? 0 : -ENOMEM;
	sqlite3_stmt *st = NULL;

	if (ret == 0) {
		ret = store_prepare(cs->db, "SELECT year FROM work_calendar_years ORDER BY year",
				    &st);
	}
	if (ret < 0) {
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && ny < WORKCAL_MAX_YEARS) {
		years[ny++] = sqlite3_column_int(st, 0);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		ret = store_err(cs->db, rc, "reading the calendar years");
		goto out;
	}
	workcal_init(c);
	for (int i = 0; ret == 0 && i < ny; i++) {
		ret = load_year(cs, c, years[i], e);
	}
	if (ret == 0) {
		*out = c;
		c = NULL;
	}
out:
	free(e);
	free(c);
	return ret;
}

/* Swap a new calendar in (db_lock held) and free the old one. */
static void install(struct calstore *cs, struct workcal *c)
{
	struct workcal *old;

	pthread_rwlock_wrlock(&cs->lock);
	old = cs->cal;
	cs->cal = c;
	pthread_rwlock_unlock(&cs->lock);
	free(old);
	atomic_fetch_add(&cs->version, 1);
}

/* Reload after any change, so memory is exactly what is stored (db_lock held). */
static int reload(struct calstore *cs)
{
	struct workcal *c = NULL;
	int64_t s[3];
	int ret = read_stamp(cs, s);

	if (ret == 0) {
		ret = load_all(cs, &c);
	}
	if (ret < 0) {
		return ret;
	}
	install(cs, c);
	cs->stamp_years = s[0];
	cs->stamp_sum = s[1];
	cs->stamp_days = s[2];
	return 0;
}

int calstore_open(const char *data_dir, struct hal_clock *clock, struct calstore **out)
{
	struct calstore *cs = calloc(1, sizeof(*cs));
	int ret;

	if (cs == NULL) {
		return -ENOMEM;
	}
	cs->clock = clock;
	cs->utc_offset_min = 480;
	pthread_mutex_init(&cs->db_lock, NULL);
	pthread_rwlock_init(&cs->lock, NULL);
	ret = store_open(data_dir, &cs->db);
	if (ret == 0) {
		ret = reload(cs);
	}
	if (ret < 0) {
		calstore_close(cs);
		return ret;
	}
	*out = cs;
	return 0;
}

void calstore_close(struct calstore *cs)
{
	if (cs == NULL) {
		return;
	}
	store_close(cs->db);
	free(cs->cal);
	pthread_rwlock_destroy(&cs->lock);
	pthread_mutex_destroy(&cs->db_lock);
	free(cs);
}

static const struct workcal empty_cal; /* a calendar while none could be loaded */

const struct workcal *calstore_acquire(struct calstore *cs)
{
	pthread_rwlock_rdlock(&cs->lock);
	return cs->cal != NULL ? cs->cal : &empty_cal;
}

void calstore_release(struct calstore *cs)
{
	pthread_rwlock_unlock(&cs->lock);
}

uint64_t calstore_version(struct calstore *cs)
{
	return atomic_load(&cs->version);
}

int calstore_refresh(struct calstore *cs)
{
	int64_t s[3];
	int ret;

	pthread_mutex_lock(&cs->db_lock);
	ret = read_stamp(cs, s);
	if (ret == 0 &&
	    (s[0] != cs->stamp_years || s[1] != cs->stamp_sum || s[2] != cs->stamp_days)) {
		log_info(MOD, "the stored calendar was changed elsewhere; loading it again");
		ret = reload(cs);
		ret = ret == 0 ? 1 : ret;
	}
	pthread_mutex_unlock(&cs->db_lock);
	return ret;
}

void calstore_set_utc_offset(struct calstore *cs, int utc_offset_min)
{
	atomic_store(&cs->utc_offset_min, utc_offset_min);
}

int calstore_utc_offset(struct calstore *cs)
{
	return atomic_load(&cs->utc_offset_min);
}

int64_t calstore_now_ms(struct calstore *cs)
{
	return hal_clock_wall_ms(cs->clock);
}

int calstore_year_info(struct calstore *cs, int year, struct calstore_year_info *out)
{
	sqlite3_stmt *st;
	int rc, ret;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&cs->db_lock);
	ret = store_prepare(
		cs->db,
		"SELECT source, updated_ms, updated_by FROM work_calendar_years WHERE year = ?1",
		&st);
	if (ret == 0) {
		sqlite3_bind_int(st, 1, year);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			const char *src = (const char *)sqlite3_column_text(st, 0);
			const char *by = (const char *)sqlite3_column_text(st, 2);

			snprintf(out->source, sizeof(out->source), "%s", src != NULL ? src : "");
			out->updated_ms = sqlite3_column_int64(st, 1);
			snprintf(out->updated_by, sizeof(out->updated_by), "%s",
				 by != NULL ? by : "");
		}
		ret = rc == SQLITE_ROW	  ? 0
		      : rc == SQLITE_DONE ? -ENOENT
					  : store_err(cs->db, rc, "reading a calendar year");
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&cs->db_lock);
	return ret;
}

/* ---- writing (db_lock held) ---- */

/* Run sql with ?1 = year and ?2.. = the strings given (NULL: not bound). */
static int exec_bound(struct calstore *cs, const char *sql, int year, const char *a, const char *b,
		      const char *c)
{
	const char *text[3] = { a, b, c };
	sqlite3_stmt *st;
	int rc, ret = store_prepare(cs->db, sql, &st);

	if (ret < 0) {
		return ret;
	}
	sqlite3_bind_int(st, 1, year);
	for (int i = 0; i < 3; i++) {
		if (text[i] != NULL) {
			sqlite3_bind_text(st, i + 2, text[i], -1, SQLITE_STATIC);
		}
	}
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : store_err(cs->db, rc, "writing the calendar");
}

/* The year's row: who changed it, when, from where. */
static int touch_year(struct calstore *cs, int year, const char *source, const char *by)
{
	sqlite3_stmt *st;
	int rc, ret = store_prepare(
			cs->db,
			"INSERT INTO work_calendar_years (year, source, updated_ms, updated_by)"
			" VALUES (?1, ?2, ?3, ?4) ON CONFLICT (year) DO UPDATE SET"
			" source = excluded.source, updated_ms = excluded.updated_ms,"
			" updated_by = excluded.updated_by",
			&st);

	if (ret < 0) {
		return ret;
	}
	sqlite3_bind_int(st, 1, year);
	sqlite3_bind_text(st, 2, source, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, hal_clock_wall_ms(cs->clock));
	sqlite3_bind_text(st, 4, by, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : store_err(cs->db, rc, "writing the calendar year");
}

static int insert_entry(struct calstore *cs, int year, const struct workcal_entry *e)
{
	char date[11];

	workcal_format_date(e->day, date);
	return exec_bound(
		cs, "INSERT INTO work_calendar (year, day, kind, name) VALUES (?1, ?2, ?3, ?4)",
		year, date, e->kind == WORKCAL_HOLIDAY ? "holiday" : "workday", e->name);
}

static const char *actor_id(const struct calstore_actor *who)
{
	return who != NULL && who->user_id != NULL ? who->user_id : "system";
}

static const char *actor_role(const struct calstore_actor *who)
{
	return who != NULL && who->role != NULL ? who->role : "system";
}

static int audit(struct calstore *cs, const struct calstore_actor *who, const char *action,
		 const char *target, cJSON *detail)
{
	char *d = detail != NULL ? cJSON_PrintUnformatted(detail) : NULL;
	struct audit_entry e = {
		.actor = actor_id(who),
		.role = actor_role(who),
		.action = action,
		.target = target,
		.outcome = "ok",
		.detail = d,
	};
	int ret = d != NULL ? audit_append(cs->db, &e) : -ENOMEM;

	free(d);
	return ret;
}

static void storage_err(int ret, char en[WORKCAL_ERR_MAX], char zh[WORKCAL_ERR_MAX])
{
	if (ret == -EBUSY) {
		snprintf(en, WORKCAL_ERR_MAX, "The database is busy. Try again in a moment.");
		snprintf(zh, WORKCAL_ERR_MAX, "数据库正忙，请稍后重试。");
	} else {
		snprintf(en, WORKCAL_ERR_MAX,
			 "The calendar could not be saved. Try again; if it keeps failing, call "
			 "the technician.");
		snprintf(zh, WORKCAL_ERR_MAX, "日历无法保存。请重试；如持续失败，请联系技术人员。");
	}
}

/* Commit the transaction begun by the caller, or roll it back on ret < 0;
 * on success reload memory from the tables. */
static int finish(struct calstore *cs, int ret, char en[WORKCAL_ERR_MAX], char zh[WORKCAL_ERR_MAX])
{
	if (ret == 0) {
		ret = store_commit(cs->db);
	} else {
		store_rollback(cs->db);
	}
	if (ret == 0) {
		/* Memory follows the tables; a failed reload keeps the old
		 * calendar until the next refresh. */
		int rc = reload(cs);

		if (rc < 0) {
			log_err(MOD, "the calendar was saved but could not be read back (%s)",
				strerror(-rc));
		}
		return 0;
	}
	storage_err(ret, en, zh);
	return ret == -ENOSPC || ret == -EBUSY ? ret : -EIO;
}

static int import_locked(struct calstore *cs, const struct calstore_actor *who, const char *source,
			 int year, const struct workcal_entry *e, int n, char en[WORKCAL_ERR_MAX],
			 char zh[WORKCAL_ERR_MAX])
{
	struct workcal *copy = malloc(sizeof(*copy));
	cJSON *detail = cJSON_CreateObject();
	char target[8];
	int holidays = 0, ret;

	if (copy == NULL || detail == NULL) {
		ret = -ENOMEM;
		goto out;
	}
	/* The whole change is checked before a byte is written. */
	memcpy(copy, cs->cal, sizeof(*copy));
	ret = workcal_set_year(copy, year, e, n, en, zh);
	if (ret < 0) {
		goto out;
	}
	for (int i = 0; i < n; i++) {
		holidays += e[i].kind == WORKCAL_HOLIDAY;
	}
	cJSON_AddNumberToObject(detail, "year", year);
	cJSON_AddStringToObject(detail, "source", source);
	cJSON_AddNumberToObject(detail, "holidays", holidays);
	cJSON_AddNumberToObject(detail, "workdays", n - holidays);
	snprintf(target, sizeof(target), "%d", year);
	ret = store_begin(cs->db);
	if (ret < 0) {
		ret = finish(cs, ret, en, zh);
		goto out;
	}
	ret = touch_year(cs, year, source, actor_id(who));
	if (ret == 0) {
		ret = exec_bound(cs, "DELETE FROM work_calendar WHERE year = ?1", year, NULL, NULL,
				 NULL);
	}
	for (int i = 0; ret == 0 && i < n; i++) {
		ret = insert_entry(cs, year, &e[i]);
	}
	if (ret == 0) {
		ret = audit(cs, who, "calendar.import", target, detail);
	}
	ret = finish(cs, ret, en, zh);
out:
	if (ret == -ENOMEM) {
		storage_err(ret, en, zh);
	}
	cJSON_Delete(detail);
	free(copy);
	return ret;
}

static bool source_ok(const char *s)
{
	return s != NULL &&
	       (strcmp(s, "file") == 0 || strcmp(s, "screen") == 0 || strcmp(s, "city") == 0);
}

int calstore_import(struct calstore *cs, const struct calstore_actor *who, const char *source,
		    const char *json, size_t len, char err_en[WORKCAL_ERR_MAX],
		    char err_zh[WORKCAL_ERR_MAX])
{
	struct workcal_entry *e = malloc(366 * sizeof(*e));
	int year = 0, n = 0, ret;

	if (e == NULL) {
		storage_err(-ENOMEM, err_en, err_zh);
		return -ENOMEM;
	}
	if (!source_ok(source)) {
		snprintf(err_en, WORKCAL_ERR_MAX, "The source must be file, screen or city.");
		snprintf(err_zh, WORKCAL_ERR_MAX, "来源须为 file、screen 或 city。");
		free(e);
		return -EINVAL;
	}
	ret = workcal_parse_year(json, len, &year, e, 366, &n, err_en, err_zh);
	if (ret == -E2BIG) {
		ret = -EINVAL; /* for the caller, a file too large is a bad file */
	}
	if (ret == 0) {
		pthread_mutex_lock(&cs->db_lock);
		ret = import_locked(cs, who, source, year, e, n, err_en, err_zh);
		pthread_mutex_unlock(&cs->db_lock);
	}
	if (ret == 0) {
		log_info(MOD, "the calendar of %d was imported (%d listed days, from %s, by %s)",
			 year, n, source, actor_id(who));
	}
	free(e);
	return ret;
}

/* The year's entries with day changed: set to (kind, name), or removed when
 * kind is 0. @retval the new count */
static int year_with_day(const struct workcal *c, int year, workcal_day_t day, int kind,
			 const char *name, struct workcal_entry *e)
{
	workcal_day_t first = workcal_day_from_ymd(year, 1, 1);
	workcal_day_t last = workcal_day_from_ymd(year, 12, 31);
	int n = 0;

	for (int i = 0; i < c->nentries; i++) {
		if (c->entries[i].day >= first && c->entries[i].day <= last &&
		    c->entries[i].day != day && n < 366) {
			e[n++] = c->entries[i];
		}
	}
	if (kind != 0 && n < 366) {
		memset(&e[n], 0, sizeof(e[n]));
		e[n].day = day;
		e[n].kind = (enum workcal_kind)kind;
		snprintf(e[n].name, sizeof(e[n].name), "%s", name);
		n++;
	}
	return n;
}

static int set_day_locked(struct calstore *cs, const struct calstore_actor *who, workcal_day_t day,
			  int kind, const char *name, char en[WORKCAL_ERR_MAX],
			  char zh[WORKCAL_ERR_MAX])
{
	struct workcal *copy = malloc(sizeof(*copy));
	struct workcal_entry *e = malloc(366 * sizeof(*e));
	cJSON *detail = cJSON_CreateObject();
	char date[11];
	int y, m, d, n, ret = -EINVAL;

	workcal_format_date(day, date);
	workcal_day_to_ymd(day, &y, &m, &d);
	if (copy == NULL || e == NULL || detail == NULL) {
		storage_err(-ENOMEM, en, zh);
		ret = -ENOMEM;
		goto out;
	}
	memcpy(copy, cs->cal, sizeof(*copy));
	if (kind == 0 && workcal_lookup(copy, day) == NULL) {
		ret = 0; /* nothing to unlist; a year without data stays without */
		goto out;
	}
	n = year_with_day(copy, y, day, kind, name, e);
	ret = workcal_set_year(copy, y, e, n, en, zh);
	if (ret < 0) {
		goto out;
	}
	cJSON_AddStringToObject(detail, "date", date);
	cJSON_AddStringToObject(detail, "kind",
				kind == WORKCAL_HOLIDAY	  ? "holiday"
				: kind == WORKCAL_WORKDAY ? "workday"
							  : "none");
	cJSON_AddStringToObject(detail, "name", kind != 0 ? name : "");
	ret = store_begin(cs->db);
	if (ret < 0) {
		ret = finish(cs, ret, en, zh);
		goto out;
	}
	ret = touch_year(cs, y, "screen", actor_id(who));
	if (ret == 0) {
		ret = exec_bound(cs, "DELETE FROM work_calendar WHERE year = ?1 AND day = ?2", y,
				 date, NULL, NULL);
	}
	if (ret == 0 && kind != 0) {
		ret = insert_entry(cs, y, &e[n - 1]);
	}
	if (ret == 0) {
		ret = audit(cs, who, "calendar.set_day", date, detail);
	}
	ret = finish(cs, ret, en, zh);
out:
	cJSON_Delete(detail);
	free(e);
	free(copy);
	return ret;
}

int calstore_set_day(struct calstore *cs, const struct calstore_actor *who, workcal_day_t day,
		     int kind, const char *name, char err_en[WORKCAL_ERR_MAX],
		     char err_zh[WORKCAL_ERR_MAX])
{
	int y, m, d, ret;

	workcal_day_to_ymd(day, &y, &m, &d);
	if (name == NULL) {
		name = "";
	}
	if (y < WORKCAL_MIN_YEAR || y > WORKCAL_MAX_YEAR) {
		snprintf(err_en, WORKCAL_ERR_MAX, "The date must be in %d to %d.", WORKCAL_MIN_YEAR,
			 WORKCAL_MAX_YEAR);
		snprintf(err_zh, WORKCAL_ERR_MAX, "日期须在 %d 至 %d 年之间。", WORKCAL_MIN_YEAR,
			 WORKCAL_MAX_YEAR);
		return -EINVAL;
	}
	if ((kind != 0 && kind != WORKCAL_HOLIDAY && kind != WORKCAL_WORKDAY) ||
	    strlen(name) >= WORKCAL_NAME_MAX) {
		snprintf(err_en, WORKCAL_ERR_MAX,
			 "Choose holiday, workday or none, and a name of at most %d bytes.",
			 WORKCAL_NAME_MAX - 1);
		snprintf(err_zh, WORKCAL_ERR_MAX,
			 "请选择节假日、调休上班或不列出，名称不超过 %d 字节。",
			 WORKCAL_NAME_MAX - 1);
		return -EINVAL;
	}
	pthread_mutex_lock(&cs->db_lock);
	ret = set_day_locked(cs, who, day, kind, name, err_en, err_zh);
	pthread_mutex_unlock(&cs->db_lock);
	return ret;
}

/* ---- seeding ---- */

/* Whether the database holds no calendar year at all. @retval 1, 0, <0 */
static int stored_empty(struct calstore *cs)
{
	int64_t s[3];
	int ret;

	pthread_mutex_lock(&cs->db_lock);
	ret = read_stamp(cs, s);
	pthread_mutex_unlock(&cs->db_lock);
	return ret < 0 ? ret : s[0] == 0;
}

/* "YYYY.json" → YYYY, else -1. */
static int year_file(const char *name)
{
	workcal_day_t d;
	char date[11];

	if (strlen(name) != 9 || strcmp(name + 4, ".json") != 0) {
		return -1;
	}
	snprintf(date, sizeof(date), "%.4s-01-01", name);
	return workcal_parse_date(date, &d) == 0 ? atoi(name) : -1;
}

static const struct calstore_actor seed_actor = { "system", "system" };

static int seed_one(struct calstore *cs, const char *what, const char *text, size_t len)
{
	char en[WORKCAL_ERR_MAX], zh[WORKCAL_ERR_MAX];
	int ret = calstore_import(cs, &seed_actor, "file", text, len, en, zh);

	if (ret < 0) {
		log_err(MOD, "the calendar file %s was not imported: %s", what, en);
	}
	return ret;
}

int calstore_seed_builtin(struct calstore *cs)
{
	int ret = stored_empty(cs), count = 0;

	if (ret <= 0) {
		return ret;
	}
	for (const struct fw_embed_file *f = calstore_builtin_years; f->path != NULL; f++) {
		if (year_file(f->path + 1) < 0) {
			continue;
		}
		ret = seed_one(cs, f->path + 1, (const char *)f->data, f->size);
		if (ret < 0) {
			return ret;
		}
		count++;
	}
	return count;
}

static char *read_small_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = malloc(256 * 1024 + 1);
	size_t n = 0;

	if (f != NULL && buf != NULL) {
		n = fread(buf, 1, 256 * 1024 + 1, f);
	}
	if (f == NULL || buf == NULL || ferror(f)) {
		free(buf);
		buf = NULL;
	}
	if (f != NULL) {
		fclose(f);
	}
	*len = n;
	return buf;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int calstore_seed_if_empty(struct calstore *cs, const char *dir)
{
	char *names[WORKCAL_MAX_YEARS], path[4096];
	int ret = stored_empty(cs), n = 0, count = 0;
	DIR *d;

	if (ret <= 0) {
		return ret;
	}
	d = opendir(dir);
	if (d == NULL) {
		return -errno;
	}
	for (struct dirent *de; (de = readdir(d)) != NULL && n < WORKCAL_MAX_YEARS;) {
		if (year_file(de->d_name) >= 0) {
			names[n++] = strdup(de->d_name);
		}
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof(names[0]), cmp_str);
	for (int i = 0; i < n; i++) {
		size_t len = 0;
		char *text = NULL;

		if (names[i] != NULL && ret >= 0) {
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
			text = read_small_file(path, &len);
			ret = text != NULL ? seed_one(cs, path, text, len) : -EIO;
			count += ret == 0;
		}
		free(text);
		free(names[i]);
	}
	return ret < 0 ? ret : count;
}
