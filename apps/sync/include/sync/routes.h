/*
 * The sync worker on the local server (docs/local-api.md, "Sync with the
 * city"): the backlog and the link for staff, the events the city rejected
 * for the technician, and the items from the city that could not be
 * applied, which a supervisor resolves.
 *
 * The routes work without a running worker (sync not configured, or no
 * device identity yet): the status then says "off" and why, in both
 * languages with what to do, and the lists still read the database.
 */
#ifndef SYNC_ROUTES_H
#define SYNC_ROUTES_H

#include <stdint.h>

#include "hal/clock.h"

struct kiosk;
struct sync;
struct sync_routes;

struct sync_routes_params {
	const char *data_dir;	 /* store_init has run; required */
	struct hal_clock *clock; /* NULL: the system clock */
	struct sync *sync;	 /* NULL: sync is off (off_* say why) */
	const char *off_code;	 /* "not_configured", "no_identity", "no_uplink", ... */
	const char *off_en;
	const char *off_zh;
	uint32_t city_ip; /* host byte order; 0: none */
	uint16_t city_port;
	const char *city_host;
	/* "up", "down" or "off"; NULL: always "off" */
	const char *(*uplink_state)(void *arg);
	void *uplink_arg;
};

/*
 * Open the routes' own connection and keep what they show.
 * @retval 0, -EINVAL, -ENOMEM, storage errors
 */
int sync_routes_create(const struct sync_routes_params *p, struct sync_routes **out);

/* Add the routes to the server (before kiosk_start). @retval 0 or kiosk_route_add's error */
int sync_routes_register(struct kiosk *k, struct sync_routes *r);

/* Close and free (NULL ignored). The server must be stopped first. */
void sync_routes_destroy(struct sync_routes *r);

#endif /* SYNC_ROUTES_H */
