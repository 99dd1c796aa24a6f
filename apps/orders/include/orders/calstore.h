/*
 * The working-day calendar as the appliance keeps it (docs/working-days.md,
 * "The stored calendar"): years of listed days in SQLite (table work_calendar), loaded
 * into memory at start, replaced a year at a time by an import (from a
 * file, from the supervisor's screen, later from the city), edited a day at
 * a time by supervisors, every change audited. Readers take the in-memory
 * calendar under a read lock.
 *
 * Thread-safe. Owns its own SQLite connection.
 */
#ifndef ORDERS_CALSTORE_H
#define ORDERS_CALSTORE_H

#include <stdbool.h>
#include <stdint.h>

#include "hal/clock.h"
#include "orders/workcal.h"

struct calstore;
struct kiosk;

/* Who acts, for the audit log ("technician-cli" from the admin command). */
struct calstore_actor {
	const char *user_id;
	const char *role;
};

/* @retval 0, -ENOMEM, or the storage error */
int calstore_open(const char *data_dir, struct hal_clock *clock, struct calstore **out);
void calstore_close(struct calstore *cs);

/* The calendar in force, read-locked until calstore_release. Never NULL. */
const struct workcal *calstore_acquire(struct calstore *cs);
void calstore_release(struct calstore *cs);

/* A counter that grows with every change (callers cache on it). */
uint64_t calstore_version(struct calstore *cs);

/*
 * Replace a year from its file text (workcal_parse_year's shape) in one
 * transaction with its audit entry "calendar.import" and an outbox-free
 * record of the source ("file", "screen", "city") in work_calendar_years.
 * The audit detail holds the year, source and counts; never personal data.
 * @retval 0, -EINVAL (err says why, also for a file too large; nothing
 *         changed), -EBUSY, -EIO, -ENOSPC, -ENOMEM
 */
int calstore_import(struct calstore *cs, const struct calstore_actor *who, const char *source,
		    const char *json, size_t len, char err_en[WORKCAL_ERR_MAX],
		    char err_zh[WORKCAL_ERR_MAX]);

/*
 * Set one day: kind WORKCAL_HOLIDAY / WORKCAL_WORKDAY with a name, or 0 to
 * unlist it. Checked as workcal_set_year checks (a year with no data gets
 * data: this day). Audited "calendar.set_day", source "screen". Unlisting a
 * day that is not listed changes nothing (and a year without data stays
 * without).
 * @retval 0, -EINVAL (err), -EBUSY, -EIO
 */
int calstore_set_day(struct calstore *cs, const struct calstore_actor *who, workcal_day_t day,
		     int kind, const char *name, char err_en[WORKCAL_ERR_MAX],
		     char err_zh[WORKCAL_ERR_MAX]);

/*
 * Load the calendar again when another process (the admin command) changed
 * the tables since this store last read or wrote them. Cheap: one query on
 * two small tables. Call it from a timer (about once a minute); the GET
 * routes call it too.
 * @retval 0 nothing changed, 1 reloaded, <0 the storage error
 */
int calstore_refresh(struct calstore *cs);

/*
 * When the database holds no calendar year at all, import every YYYY.json
 * in dir (in name order, source "file", actor "system"). A bad file is
 * logged and stops the seeding with its error (years before it stay).
 * @retval the number of years imported (0 when the database had a calendar),
 *         -errno of opening dir, or the import's error
 */
int calstore_seed_if_empty(struct calstore *cs, const char *dir);

/* The same from the years built into the firmware (data/calendar/ in the
 * source tree). Call it at start. @retval as calstore_seed_if_empty */
int calstore_seed_builtin(struct calstore *cs);

/* The office's offset from UTC in minutes, for "today" in the routes
 * (default 480, China Standard Time). Call before serving. */
void calstore_set_utc_offset(struct calstore *cs, int utc_offset_min);

/* Where a year's data came from, for the screens. */
struct calstore_year_info {
	char source[8]; /* "file", "screen", "city" */
	int64_t updated_ms;
	char updated_by[64];
};

/* @retval 0, -ENOENT the year has no data, or the storage error */
int calstore_year_info(struct calstore *cs, int year, struct calstore_year_info *out);

/* Add the calendar's routes (GET/PUT /api/v1/calendar..., docs/working-days.md). */
int calstore_routes_register(struct kiosk *k, struct calstore *cs);

struct admin_ctx;
/* hotline-edge admin calendar-import FILE: import a year while the daemon is
 * stopped or running (SQLite arbitrates). */
int calstore_cmd_import(struct admin_ctx *ctx, int argc, char **argv);

#endif /* ORDERS_CALSTORE_H */
