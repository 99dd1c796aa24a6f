/* Shared between the display worker (boards.c) and its routes (routes.c). */
#ifndef DISPLAY_INTERNAL_H
#define DISPLAY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "display/display.h"

/* Ask the worker to publish a fresh snapshot (a stream client connected). */
void display_kick_snapshot(struct display *d);

enum config_display_mode display_mode(const struct display *d);
bool display_audio_on(const struct display *d);

/* "127.0.0.1:15023 unit 3", "/dev/ttyS1 unit 3" or "off". Returns snprintf's count. */
int display_board_address(const struct display *d, int window_no, char *out, size_t cap);

/* A queue event as the stream carries it, with the announcement for a call. */
cJSON *display_event_json(const struct queue_event *ev);

#endif /* DISPLAY_INTERNAL_H */
