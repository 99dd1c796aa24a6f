/*
 * Backlog policy: what the appliance keeps when the uplink is down for long
 * and its storage runs short (docs/storage.md, "Backlog policy").
 *
 * Storage has a level, measured with statvfs on the data directory:
 * ok, low (warn: log, health, the kiosk) and critical (refuse non-essential
 * work). Free space is counted as if a reserve file of [storage] reserve_mb
 * were always held; at critical the file is deleted, so essential commits
 * (order actions, requests, ratings) still find room while statistics,
 * new attachments and spoken announcements are refused. Waiting statistics
 * events over [storage] stats_quota, and all of them at low or critical,
 * are collapsed into one stats.summary event each 5000 that still lets the
 * city count every seq (docs/sync-protocol.md).
 *
 * Before backlog_init() (or after backlog_shutdown()) the level is always
 * ok and nothing is refused. Any thread may call these functions.
 */
#ifndef FW_BACKLOG_H
#define FW_BACKLOG_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "fw/outbox.h"

#define BACKLOG_RESERVE_FILE "reserve.bin"

/* Events at most in one stats.summary, and seq ranges at most in its covers. */
#define BACKLOG_SUMMARY_EVENTS 5000
#define BACKLOG_SUMMARY_RANGES 256

/* The one refusal a caller shows (code storage_full, HTTP 507). */
#define BACKLOG_REFUSED_EN                                                                     \
	"Storage is almost full, so this is not saved; work orders, requests and ratings are " \
	"still saved. Call the technician to free space or restore the city link."
#define BACKLOG_REFUSED_ZH                                                                                                                     \
	"存储空间即将用尽，此项未保存；工单、诉求和评价仍会保存。请联系技术人员清理空间或恢复与市" \
	"平台的连接。"

enum backlog_level {
	BACKLOG_OK = 0,
	BACKLOG_LOW,	  /* warn */
	BACKLOG_CRITICAL, /* refuse non-essential work */
};

struct backlog_params {
	const char *data_dir; /* where hotline.db lives (statvfs, the reserve file) */
	int low_free_mb;      /* below this free space: low */
	int critical_free_mb; /* below this: critical (< low_free_mb) */
	int reserve_mb;	      /* the reserve file; 0: none */
	int stats_quota;      /* waiting statistics events kept as they are */
};

/*
 * Take the thresholds, measure once and create the reserve file if the
 * level allows. Call after store_init(), before threads use storage.
 * @retval 0, -EINVAL (thresholds out of order, no data_dir)
 */
int backlog_init(const struct backlog_params *p);

/* Forget the configuration: the level is ok again (tests, shutdown). */
void backlog_shutdown(void);

/* The level, measured again when the last measure is older than 1 s. */
enum backlog_level backlog_level(void);

/*
 * Measure now: a change of level is logged once; at critical the reserve
 * file is deleted, back at low or ok it is created again.
 */
enum backlog_level backlog_check(void);

/* Whether work of this class is refused now (statistics at critical). */
bool backlog_refuses(enum outbox_class c);

/* Whether new non-essential work (attachments, announcements) is refused now. */
bool backlog_refuses_extra(void);

const char *backlog_level_name(enum backlog_level l);

/*
 * Count a statistics event that is not written (outbox_append at
 * critical), in the caller's transaction; the next summary reports it.
 * @retval 0 or a store errno
 */
int backlog_count_unwritten(sqlite3 *db, const char *type, int64_t at_ms);

/*
 * Apply the policy: collapse the oldest waiting statistics events not yet
 * sent into stats.summary events (all of them at low or critical, else
 * those over the quota, down to half of it), and write a summary of
 * counted unwritten events. Each summary is one transaction. The sync
 * worker calls it before each upload.
 * @retval >=0 events collapsed or counted, <0 a store errno
 */
int backlog_enforce(sqlite3 *db);

struct backlog_status {
	enum backlog_level level;
	const char *level_name; /* "ok", "low", "critical" */
	const char *text_en;	/* what it means for staff */
	const char *text_zh;
	int64_t free_bytes;    /* free on the data directory's file system */
	int64_t usable_bytes;  /* free as if the reserve were held (what the level uses) */
	int64_t reserve_bytes; /* the reserve file's size now */
	int64_t low_bytes;     /* thresholds */
	int64_t critical_bytes;
	int64_t db_bytes;	     /* hotline.db (pages) */
	int64_t waiting_essential;   /* unacknowledged essential events */
	int64_t waiting_stats;	     /* unacknowledged statistics events */
	int64_t oldest_essential_ms; /* created_ms of the oldest waiting essential (0: none) */
	int64_t summaries;	     /* stats.summary events written */
	int64_t summarised;	     /* statistics events collapsed into them */
	int64_t unwritten;	     /* statistics events never written (critical) */
	int64_t unwritten_pending;   /* of those, not in a summary yet */
	int stats_quota;
};

/*
 * The backlog as the kiosk shows it.
 * @param db a connection of the calling thread, or NULL: one is opened
 * @retval 0, -EINVAL (not initialised), or a store errno
 */
int backlog_status(sqlite3 *db, struct backlog_status *out);

/* Fill a health "storage" object (a connection is opened when db is NULL). */
void backlog_health_json(sqlite3 *db, cJSON *obj);

/*
 * Test seam: pretend the data directory's file system has this many bytes
 * free (<0: measure it again). The reserve file is handled as usual.
 */
void backlog_test_set_free(int64_t bytes);

#endif /* FW_BACKLOG_H */
