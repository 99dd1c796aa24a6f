/*
 * The daemon's state, shared by the composition root (main.c) and the
 * feature table (features.c). Each feature (staff accounts, the queue, the
 * display boards, work orders, walk-in requests, ...) is one row of that
 * table with a start and a stop function; main.c starts them in order after
 * storage and the uplink, and stops them in reverse.
 */
#ifndef MAIN_APP_H
#define MAIN_APP_H

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "board/board.h"
#include "fw/config.h"
#include "fw/loop.h"
#include "fw/store.h"
#include "hal/devices.h"
#include "kiosk/kiosk.h"
#include "orders/workcal.h"

struct auth;
struct queue;
struct display;
struct calstore;
struct orders;
struct requests;
struct sync;
struct sync_routes;

struct app {
	struct fw_config cfg;
	const struct board *board;
	struct hal_devices devs;
	struct loop loop;
	struct store_status store;
	sqlite3 *db;
	int64_t started_mono;
	bool uplink_started;
	bool uplink_was_up;
	bool watchdog_on;
	struct loop_timer wd_timer;
	struct loop_timer ckpt_timer;
	struct loop_timer link_timer;
	struct loop_timer pii_timer;
	struct loop_timer id_timer;
	struct loop_timer storage_timer;
	int64_t pruned_ms; /* wall time of the last outbox prune */
	int64_t last_data_version;
	int64_t last_changes;
	bool dirty;
	struct kiosk kiosk;
	/* features (features.c) */
	struct auth *auth;
	struct queue *queue;
	struct loop_timer queue_timer;
	struct display *display;
	struct calstore *cal;
	struct deadline_rules rules;
	struct orders *orders;
	struct requests *requests;
	struct sync *sync; /* NULL: sync is off */
	struct sync_routes *sync_routes;
};

/*
 * Start every feature in table order (after storage, before the HTTP
 * server starts). A required feature that fails stops the start (the ones
 * already started are stopped again); an optional one is logged and the
 * office works without it.
 * @retval 0, or the failing required feature's error
 */
int features_start(struct app *a);

/* Stop the started features in reverse order. */
void features_stop(struct app *a);

/* Each feature's pair (features.c, feat_orders.c, feat_requests.c, feat_sync.c). */
int feat_orders_start(struct app *a);
void feat_orders_stop(struct app *a);
int feat_requests_start(struct app *a);
void feat_requests_stop(struct app *a);
int feat_sync_start(struct app *a);
void feat_sync_stop(struct app *a);
/* The uplink's carrier came back: sync now (feat_sync.c). */
void feat_sync_uplink_up(struct app *a);

#endif /* MAIN_APP_H */
