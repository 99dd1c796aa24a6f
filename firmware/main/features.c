/*
 * The feature table: each feature of the appliance with the function that
 * starts it (its service and its routes) and the one that stops it. Order
 * matters: a feature may use those above it (the display boards follow the
 * queue; walk-in requests look up work orders; the sync with the city applies
 * what it downloads through the orders, calendar and requests services).
 */
#include <errno.h>
#include <string.h>

#include "app.h"
#include "auth/auth.h"
#include "display/display.h"
#include "fw/log.h"
#include "queue/queue.h"

#define MOD "main"

/* Staff accounts: the service behind the access check, and its routes. */
static int start_auth(struct app *a)
{
	struct auth_params ap = {
		.data_dir = a->devs.paths.data_dir,
		.clock = a->devs.clock,
		.lock_after = a->cfg.auth_lock_after,
		.lock_minutes = a->cfg.auth_lock_minutes,
		.idle_timeout_s = a->cfg.auth_idle_timeout_s,
		.session_max_s = a->cfg.auth_session_max_s,
	};
	int rc = auth_create(&ap, &a->auth);

	if (rc == 0) {
		rc = auth_routes_register(&a->kiosk, a->auth);
	}
	if (rc < 0) {
		log_err(MOD, "staff accounts could not be started: %s", strerror(-rc));
		return rc;
	}
	if (auth_has_supervisor(a->auth) == 0) {
		log_warn(MOD, "no supervisor account exists yet: on this device run "
			      "`hotline-edge admin add-user USER-ID supervisor --name NAME` "
			      "to create the first one");
	}
	return 0;
}

/* The ticket queue on its own connection; its day rollover is checked every 30 s. */
static void queue_tick(struct loop_timer *t, void *arg)
{
	struct app *a = arg;

	queue_rollover(a->queue);
}

static int start_queue(struct app *a)
{
	struct queue_params qp = {
		.data_dir = a->devs.paths.data_dir,
		.clock = a->devs.clock,
		.printer = a->devs.printer,
		.office_name = a->cfg.office_name,
		.recall_max = a->cfg.queue_recall_max,
		.priority_run = a->cfg.queue_priority_run,
		.rollover_min = a->cfg.queue_rollover_min,
		.keep_overnight = a->cfg.queue_keep_overnight,
		.utc_offset_min = a->cfg.queue_utc_offset_min,
	};
	int rc = queue_create(&qp, &a->queue);

	if (rc == 0) {
		rc = queue_routes_register(&a->kiosk, a->queue);
	}
	if (rc < 0) {
		log_err(MOD, "the ticket queue could not be started: %s", strerror(-rc));
		return rc;
	}
	loop_timer_start(&a->loop, &a->queue_timer, 30000, 30000, queue_tick, a);
	return 0;
}

/* The display boards, the hall display's stream and announcements; the office works without. */
static int start_display(struct app *a)
{
	struct hal_serial *bus = a->devs.display_bus;
	struct display_params dp = {
		.mode = a->cfg.display_mode,
		.tcp_ip = a->cfg.display_tcp_ip,
		.tcp_port_base = a->cfg.display_tcp_port_base,
		.rtu_device = a->cfg.display_rtu_device[0] != '\0'    ? a->cfg.display_rtu_device
			      : bus != NULL && bus->ops->path != NULL ? bus->ops->path(bus)
								      : NULL,
		.rtu_baud = a->cfg.display_rtu_baud,
		.timeout_ms = a->cfg.display_timeout_ms,
		.brightness = a->cfg.display_brightness,
		/* Speech into WAV files is the sim board's stand-in for a board's speaker. */
		.audio_dir = a->cfg.display_audio && strcmp(a->devs.info.name, "sim") == 0
				     ? a->devs.paths.spool_dir
				     : NULL,
		.clock = a->devs.clock,
		.queue = a->queue,
		.kiosk = &a->kiosk,
	};
	int rc = display_start(&dp, &a->display);

	if (rc == 0) {
		rc = display_routes_register(&a->kiosk, a->display);
	}
	if (rc < 0) {
		log_err(MOD,
			"the display boards could not be started (%s); check [display] in "
			"the config file",
			strerror(-rc));
	}
	return rc;
}

static void stop_auth(struct app *a)
{
	auth_destroy(a->auth);
	a->auth = NULL;
}

static void stop_queue(struct app *a)
{
	loop_timer_stop(&a->loop, &a->queue_timer);
	queue_destroy(a->queue);
	a->queue = NULL;
}

static void stop_display(struct app *a)
{
	display_stop(a->display);
	a->display = NULL;
}

struct feature {
	const char *name;
	bool required; /* the appliance does not start without it */
	int (*start)(struct app *a);
	void (*stop)(struct app *a);
};

static const struct feature features[] = {
	{ "staff accounts", true, start_auth, stop_auth },
	{ "ticket queue", true, start_queue, stop_queue },
	{ "display boards", false, start_display, stop_display },
	{ "work orders", true, feat_orders_start, feat_orders_stop },
	{ "walk-in requests", true, feat_requests_start, feat_requests_stop },
	{ "sync with the city", true, feat_sync_start, feat_sync_stop },
};

#define NFEATURES (sizeof(features) / sizeof(features[0]))

static bool started[NFEATURES];

int features_start(struct app *a)
{
	for (size_t i = 0; i < NFEATURES; i++) {
		int rc = features[i].start(a);

		if (rc == 0) {
			started[i] = true;
		} else if (features[i].required) {
			log_err(MOD, "%s could not be started (%s); stopping", features[i].name,
				strerror(-rc));
			features_stop(a);
			return rc;
		} else {
			log_warn(MOD, "%s are not available (%s); the office works without them",
				 features[i].name, strerror(-rc));
		}
	}
	return 0;
}

void features_stop(struct app *a)
{
	for (size_t i = NFEATURES; i-- > 0;) {
		if (started[i]) {
			features[i].stop(a);
			started[i] = false;
		}
	}
}
