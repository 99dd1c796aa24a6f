/*
 * Feature "walk-in requests": requests filed at the counter or the
 * touchscreen, the citizens' progress lookup and ratings (docs/requests.md).
 * It runs after the queue and the work orders, whose services it asks for
 * tickets and orders; without the orders (not started) lookup and ratings
 * cover requests and tickets only.
 */
#include <string.h>

#include "app.h"
#include "fw/log.h"
#include "requests/requests.h"

#define MOD "main"

int feat_requests_start(struct app *a)
{
	struct requests_params rp = {
		.data_dir = a->devs.paths.data_dir,
		.clock = a->devs.clock,
		.printer = a->devs.printer,
		.orders = a->orders,
		.queue = a->queue,
		.office_name = a->cfg.office_name,
		.utc_offset_min = a->cfg.queue_utc_offset_min,
		.repeat_window_days = a->cfg.orders_repeat_window_days,
	};
	int rc;

	if (a->orders == NULL) {
		log_warn(MOD, "work orders are not running: the progress lookup and ratings "
			      "cover walk-in requests and queue tickets only");
	}
	rc = requests_create(&rp, &a->requests);
	if (rc == 0) {
		rc = requests_routes_register(&a->kiosk, a->requests);
	}
	if (rc < 0) {
		log_err(MOD, "walk-in requests could not be started: %s", strerror(-rc));
		requests_destroy(a->requests);
		a->requests = NULL;
		return rc;
	}
	return 0;
}

void feat_requests_stop(struct app *a)
{
	requests_destroy(a->requests);
	a->requests = NULL;
}
