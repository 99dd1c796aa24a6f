/*
 * Window display boards and the hall display. The queue tells this module
 * about every committed change (a queue listener); it drives one Modbus
 * board per window (RTU on the RS-485 display bus, or Modbus TCP), writes
 * an announcement WAV per call on the sim board, and feeds the hall display
 * page over server-sent events (GET /api/v1/queue/stream).
 *
 * The listener never blocks the queue: it copies the event into a bounded,
 * coalescing table (the latest state of a window wins) and returns; one
 * worker thread does all the Modbus I/O, with timeouts and per-board
 * exponential backoff, so a dead board delays neither the queue nor the
 * other boards. The register map is in docs/display-boards.md.
 */
#ifndef DISPLAY_DISPLAY_H
#define DISPLAY_DISPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "fw/config.h"
#include "hal/clock.h"
#include "kiosk/kiosk.h"
#include "queue/queue.h"

/* Boards driven at most: one per window, window numbers 1..this (the queue's range). */
#define DISPLAY_MAX_BOARDS 99
/* Queue events waiting for the worker (announcements, the stream); the oldest is dropped. */
#define DISPLAY_EVENT_QUEUE 64
/* Holding registers written per update, from address DISPLAY_REG_BASE. */
#define DISPLAY_NREGS	 6
#define DISPLAY_REG_BASE 0
/* Register indexes (docs/display-boards.md). */
#define DISPLAY_REG_WINDOW     0
#define DISPLAY_REG_PREFIX     1
#define DISPLAY_REG_NUMBER     2
#define DISPLAY_REG_STATE      3
#define DISPLAY_REG_BRIGHTNESS 4
#define DISPLAY_REG_CALLS      5
/* Backoff of a failing board: doubles from the first to the cap. */
#define DISPLAY_BACKOFF_MIN_MS 500
#define DISPLAY_BACKOFF_MAX_MS 30000
/* An announcement WAV that takes longer than this is abandoned (the process killed). */
#define DISPLAY_AUDIO_TIMEOUT_MS 10000

/* What a board shows (register DISPLAY_REG_STATE). */
enum display_state {
	DISPLAY_IDLE = 0,
	DISPLAY_CALLING = 1,
	DISPLAY_SERVING = 2,
	DISPLAY_PAUSED = 3,
	DISPLAY_CLOSED = 4,
};

/* The content of one board. */
struct display_board_state {
	int window_no;	/* 1..DISPLAY_MAX_BOARDS */
	char number[8]; /* "A012", "" for none */
	enum display_state state;
	int brightness; /* 0..100 */
	uint16_t calls; /* call counter: changes on every call and recall (blinks) */
};

/*
 * Encode a board's content as its holding registers.
 * @retval 0 regs filled
 * @retval -EINVAL a window out of range, a state or brightness out of
 *         range, or a number that is not one letter A-Z and 1-4 digits
 */
int display_encode(const struct display_board_state *st, uint16_t regs[DISPLAY_NREGS]);

/*
 * The spoken/shown announcement for a call or recall:
 * "zh": "请 A012 号到 3 号窗口办理"; "en": "Number A012, please go to window 3".
 * @retval >0 length written (NUL-terminated)
 * @retval -EINVAL not a call/recall event, no number or window, unknown lang
 * @retval -ENOBUFS cap too small
 */
int display_announcement(const struct queue_event *ev, const char *lang, char *buf, size_t cap);

/*
 * Translate a libmodbus failure (it returns -1 and sets errno) to a
 * negative errno: protocol exceptions (MODBUS_ENOBASE + n) -> -EREMOTEIO,
 * a malformed or wrong answer (bad CRC, bad data, wrong unit) -> -EBADMSG,
 * anything else -> -err (e.g. -ETIMEDOUT, -ECONNREFUSED).
 */
int display_modbus_errno(int err);

/* One board as the technician sees it. */
struct display_board_info {
	int window_no;
	bool known;			  /* ever given something to show */
	bool ok;			  /* the last write succeeded */
	int64_t failing_since_ms;	  /* wall time of the first failure in a row, 0 when ok */
	int64_t last_write_ms;		  /* wall time of the last successful write, 0 never */
	int64_t next_try_ms;		  /* wall time of the next attempt while failing */
	int failures;			  /* in a row */
	int backoff_ms;			  /* current wait between attempts */
	char last_error[96];		  /* plain English, "" when ok */
	struct display_board_state shown; /* what the board shows (last written) */
};

struct display_params {
	enum config_display_mode mode;
	uint32_t tcp_ip;	/* host byte order */
	int tcp_port_base;	/* board of window n at tcp_port_base + n */
	const char *rtu_device; /* RTU: the serial device path */
	int rtu_baud;
	int timeout_ms; /* Modbus response timeout per attempt */
	int brightness;
	int backoff_min_ms; /* 0: DISPLAY_BACKOFF_MIN_MS */
	int backoff_max_ms; /* 0: DISPLAY_BACKOFF_MAX_MS */
	/* Where announcement WAVs go; NULL: no audio. */
	const char *audio_dir;
	/* The espeak-ng program; NULL: /usr/bin/espeak-ng. Absent: audio off (logged once). */
	const char *espeak;
	struct hal_clock *clock; /* wall time for the boards' state */
	/* The queue to listen to and snapshot; NULL in tests that feed events by hand. */
	struct queue *queue;
	/* Where snapshots and events are published (GET /api/v1/queue/stream); may be NULL. */
	struct kiosk *kiosk;
};

struct display;

/*
 * Start the worker and, with p->queue, listen to the queue. mode OFF still
 * runs the stream and announcements, without boards.
 * @retval 0, -EINVAL bad params, -ENOMEM, -EAGAIN no thread
 */
int display_start(const struct display_params *p, struct display **out);

/* Stop the worker (waits for a write in progress, at most one timeout) and free. NULL ok. */
void display_stop(struct display *d);

/*
 * The queue listener: copies the event and wakes the worker. Never blocks
 * on I/O; safe from any thread. display_start() registers it with the queue.
 */
void display_on_event(const struct queue_event *ev, void *arg);

/* Copy the state of the board of window_no. @retval 0, -ENOENT out of range */
int display_board_info(struct display *d, int window_no, struct display_board_info *out);

/* Wait until the worker has nothing pending or timeout_ms passed (tests). @retval 0, -ETIMEDOUT */
int display_wait_idle(struct display *d, int timeout_ms);

/*
 * Routes: GET /api/v1/display/boards (technician, supervisor) and
 * GET /api/v1/queue/stream (public, server-sent events).
 */
int display_routes_register(struct kiosk *k, struct display *d);

#endif /* DISPLAY_DISPLAY_H */
