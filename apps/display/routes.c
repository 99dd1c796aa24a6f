/*
 * HTTP side of the displays: the technician's view of the window boards
 * (GET /api/v1/display/boards) and the hall display's live feed (GET
 * /api/v1/queue/stream, server-sent events).
 *
 * The stream handler only subscribes the client and asks the worker for a
 * snapshot: every snapshot on the stream comes from the one worker thread,
 * in order, so a client can never get an older snapshot after a newer one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "display/display.h"
#include "display_internal.h"

static const char *state_name(enum display_state s)
{
	static const char *const names[] = { "idle", "calling", "serving", "paused", "closed" };

	return (unsigned)s < 5 ? names[s] : "unknown";
}

static void add_ms(cJSON *o, const char *key, int64_t ms)
{
	if (ms > 0) {
		cJSON_AddNumberToObject(o, key, (double)ms);
	} else {
		cJSON_AddNullToObject(o, key);
	}
}

static int boards_route(struct kiosk_request *req, void *arg)
{
	struct display *d = arg;
	static const char *const modes[] = { "off", "rtu", "tcp" };
	cJSON *root = cJSON_CreateObject();
	cJSON *arr;

	if (root == NULL) {
		return -ENOMEM;
	}
	cJSON_AddStringToObject(root, "mode", modes[display_mode(d)]);
	cJSON_AddStringToObject(root, "audio", display_audio_on(d) ? "on" : "off");
	arr = cJSON_AddArrayToObject(root, "boards");
	for (int no = 1; arr != NULL && no <= DISPLAY_MAX_BOARDS; no++) {
		struct display_board_info bi;
		char addr[160];
		cJSON *b, *shows;

		if (display_board_info(d, no, &bi) != 0 || !bi.known) {
			continue;
		}
		b = cJSON_CreateObject();
		cJSON_AddItemToArray(arr, b);
		cJSON_AddNumberToObject(b, "window_no", no);
		display_board_address(d, no, addr, sizeof(addr));
		cJSON_AddStringToObject(b, "address", addr);
		cJSON_AddStringToObject(b, "state",
					bi.ok		  ? "ok"
					: bi.failures > 0 ? "failing"
							  : "unknown");
		add_ms(b, "failing_since_ms", bi.failing_since_ms);
		add_ms(b, "last_write_ms", bi.last_write_ms);
		add_ms(b, "next_try_ms", bi.failures > 0 ? bi.next_try_ms : 0);
		cJSON_AddNumberToObject(b, "failures", bi.failures);
		cJSON_AddNumberToObject(b, "backoff_ms", bi.backoff_ms);
		cJSON_AddStringToObject(b, "last_error", bi.last_error);
		shows = cJSON_AddObjectToObject(b, "shows");
		cJSON_AddStringToObject(shows, "number", bi.shown.number);
		cJSON_AddStringToObject(shows, "state", state_name(bi.shown.state));
		cJSON_AddNumberToObject(shows, "brightness", bi.shown.brightness);
		cJSON_AddNumberToObject(shows, "calls", bi.shown.calls);
	}
	return kiosk_reply_obj(req, 200, root);
}

static int stream_route(struct kiosk_request *req, void *arg)
{
	struct display *d = arg;
	int rc = kiosk_reply_stream(req, "queue");

	if (rc == -EBUSY) {
		return kiosk_reply_error(req, 503, "too_many_displays",
					 "Too many live displays are connected; close one and "
					 "the page reconnects by itself.",
					 "连接的实时显示屏过多；请关闭一个，页面会自动重连。");
	}
	if (rc == 0) {
		display_kick_snapshot(d);
	}
	return rc;
}

int display_routes_register(struct kiosk *k, struct display *d)
{
	const struct kiosk_route routes[] = {
		{ "GET", "/api/v1/display/boards", false,
		  KIOSK_ROLE_TECHNICIAN | KIOSK_ROLE_SUPERVISOR, boards_route, d },
		{ "GET", "/api/v1/queue/stream", false, KIOSK_ROLE_PUBLIC, stream_route, d },
	};
	int rc;

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		rc = kiosk_route_add(k, &routes[i]);
		if (rc < 0) {
			return rc;
		}
	}
	return 0;
}
