/*
 * The display worker: one thread that keeps every window's display board
 * showing the window's latest state over libmodbus (RTU on the display bus,
 * or TCP with one port per board), publishes the hall display's live
 * updates and makes the announcement audio.
 *
 * The one design decision: the queue's listener only copies. It stores the
 * window's wanted content in that board's slot (a newer state overwrites an
 * older one that was not yet written, so the table is bounded and
 * coalescing) and appends the event to a bounded ring, then signals. All
 * I/O happens here, one board write at a time, each bounded by the
 * configured response timeout; a board that fails waits an exponentially
 * growing time (capped) before its next attempt, and the other boards are
 * served in between. libmodbus errors (-1 and errno, protocol exceptions at
 * MODBUS_ENOBASE + n) are translated to negative errno right at the call.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <modbus/modbus.h>

#include "display/display.h"
#include "display_internal.h"
#include "fw/backlog.h"
#include "fw/log.h"

#define MOD "display"

/* A board that has been written is written again this often (it may have restarted). */
#define REFRESH_MS 60000
/* Announcement texts waiting for espeak-ng; the oldest is dropped. */
#define AUDIO_QUEUE    4
#define STREAM_CHANNEL "queue"

extern char **environ;

struct board {
	struct display_board_info info;
	struct display_board_state want;
	bool pending;	       /* want differs from what the board is known to show */
	int64_t next_try_mono; /* while failing, or the next refresh */
	modbus_t *ctx;	       /* TCP: this board's connection */
	bool connected;
};

struct display {
	struct display_params p;
	char rtu_device[PATH_MAX];
	char audio_dir[PATH_MAX];
	char espeak[PATH_MAX];

	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	bool started;
	bool stop;
	bool busy;	     /* the worker is between taking work and finishing it */
	bool snapshot_dirty; /* publish a fresh snapshot */
	bool reconcile;	     /* re-read the windows' states from the queue */
	struct board boards[DISPLAY_MAX_BOARDS + 1]; /* by window number; [0] unused */
	struct queue_event events[DISPLAY_EVENT_QUEUE];
	unsigned ev_head, ev_count, ev_dropped;

	/* Worker-only state. */
	modbus_t *rtu;
	bool rtu_connected;
	bool audio_on;
	pid_t audio_pid;
	int64_t audio_started;
	char audio_q[AUDIO_QUEUE][2][160]; /* [text, file] */
	unsigned audio_n;
	unsigned rr; /* round-robin start among boards */
};

static int64_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_now(struct display *d)
{
	return d->p.clock != NULL ? hal_clock_wall_ms(d->p.clock)
				  : hal_clock_wall_ms(&hal_clock_system);
}

/* ---- encoding and errors ---- */

int display_encode(const struct display_board_state *st, uint16_t regs[DISPLAY_NREGS])
{
	size_t n;
	unsigned num = 0;

	if (st == NULL || regs == NULL || st->window_no < 1 || st->window_no > DISPLAY_MAX_BOARDS ||
	    (int)st->state < DISPLAY_IDLE || st->state > DISPLAY_CLOSED || st->brightness < 0 ||
	    st->brightness > 100) {
		return -EINVAL;
	}
	n = strnlen(st->number, sizeof(st->number));
	if (n == sizeof(st->number)) {
		return -EINVAL;
	}
	if (n > 0) {
		if (n < 2 || n > 5 || st->number[0] < 'A' || st->number[0] > 'Z') {
			return -EINVAL;
		}
		for (size_t i = 1; i < n; i++) {
			if (st->number[i] < '0' || st->number[i] > '9') {
				return -EINVAL;
			}
			num = num * 10 + (unsigned)(st->number[i] - '0');
		}
	}
	regs[DISPLAY_REG_WINDOW] = (uint16_t)st->window_no;
	regs[DISPLAY_REG_PREFIX] = n > 0 ? (uint16_t)st->number[0] : 0;
	regs[DISPLAY_REG_NUMBER] = (uint16_t)num;
	regs[DISPLAY_REG_STATE] = (uint16_t)st->state;
	regs[DISPLAY_REG_BRIGHTNESS] = (uint16_t)st->brightness;
	regs[DISPLAY_REG_CALLS] = st->calls;
	return 0;
}

int display_modbus_errno(int err)
{
	if (err > MODBUS_ENOBASE && err <= EMBXGTAR) {
		return -EREMOTEIO;
	}
	if (err > EMBXGTAR && err <= EMBBADSLAVE) {
		return -EBADMSG;
	}
	if (err <= 0 || err >= MODBUS_ENOBASE) {
		return -EIO;
	}
	return -err;
}

/* ---- the listener (any thread; copies only) ---- */

static void apply_event(struct board *b, const struct queue_event *ev, int brightness)
{
	struct display_board_state w = b->want;

	w.window_no = ev->window_no;
	w.brightness = brightness;
	switch (ev->kind) {
	case QEV_CALLED:
	case QEV_RECALLED:
		snprintf(w.number, sizeof(w.number), "%s", ev->number);
		w.state = DISPLAY_CALLING;
		w.calls++;
		break;
	case QEV_STARTED:
		snprintf(w.number, sizeof(w.number), "%s", ev->number);
		w.state = DISPLAY_SERVING;
		break;
	case QEV_FINISHED:
	case QEV_NO_SHOW:
	case QEV_HELD:
	case QEV_TRANSFERRED:
		if (w.state == DISPLAY_CALLING || w.state == DISPLAY_SERVING) {
			w.number[0] = '\0';
			w.state = DISPLAY_IDLE;
		}
		break;
	default:
		return;
	}
	b->want = w;
	b->info.known = true;
	b->pending = true;
	if (b->info.failures == 0) {
		b->next_try_mono = 0; /* now; a failing board keeps its backoff */
	}
}

void display_on_event(const struct queue_event *ev, void *arg)
{
	struct display *d = arg;
	unsigned slot;

	if (d == NULL || ev == NULL) {
		return;
	}
	pthread_mutex_lock(&d->lock);
	if (d->ev_count == DISPLAY_EVENT_QUEUE) {
		d->ev_head = (d->ev_head + 1) % DISPLAY_EVENT_QUEUE;
		d->ev_count--;
		d->ev_dropped++;
	}
	slot = (d->ev_head + d->ev_count) % DISPLAY_EVENT_QUEUE;
	d->events[slot] = *ev;
	d->ev_count++;
	if (ev->window_no >= 1 && ev->window_no <= DISPLAY_MAX_BOARDS &&
	    d->p.mode != CONFIG_DISPLAY_OFF) {
		apply_event(&d->boards[ev->window_no], ev, d->p.brightness);
	}
	if (ev->kind == QEV_WINDOW_CHANGED || ev->kind == QEV_ROLLOVER) {
		d->reconcile = true;
	}
	d->snapshot_dirty = true;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
}

/* ---- Modbus I/O (worker) ---- */

static void set_timeout(modbus_t *ctx, int ms)
{
	modbus_set_response_timeout(ctx, (uint32_t)(ms / 1000), (uint32_t)(ms % 1000) * 1000);
	modbus_set_byte_timeout(ctx, (uint32_t)(ms / 1000), (uint32_t)(ms % 1000) * 1000);
}

/* Get a connected context for board b. @retval ctx or NULL with *err */
static modbus_t *board_ctx(struct display *d, struct board *b, int *err)
{
	modbus_t **ctx = d->p.mode == CONFIG_DISPLAY_RTU ? &d->rtu : &b->ctx;
	bool *connected = d->p.mode == CONFIG_DISPLAY_RTU ? &d->rtu_connected : &b->connected;

	if (*ctx == NULL) {
		if (d->p.mode == CONFIG_DISPLAY_RTU) {
			*ctx = modbus_new_rtu(d->rtu_device, d->p.rtu_baud, 'N', 8, 1);
		} else {
			char ip[INET_ADDRSTRLEN];
			struct in_addr a = { .s_addr = htonl(d->p.tcp_ip) };

			inet_ntop(AF_INET, &a, ip, sizeof(ip));
			*ctx = modbus_new_tcp(ip, d->p.tcp_port_base + b->info.window_no);
		}
		if (*ctx == NULL) {
			*err = display_modbus_errno(errno);
			return NULL;
		}
		set_timeout(*ctx, d->p.timeout_ms);
	}
	if (!*connected) {
		if (modbus_connect(*ctx) != 0) {
			*err = display_modbus_errno(errno);
			return NULL;
		}
		*connected = true;
	}
	return *ctx;
}

static void board_disconnect(struct display *d, struct board *b)
{
	modbus_t *ctx = d->p.mode == CONFIG_DISPLAY_RTU ? d->rtu : b->ctx;

	if (ctx == NULL) {
		return;
	}
	if (d->p.mode == CONFIG_DISPLAY_RTU) {
		/* One bus for every board: drop what the bad answer left, keep the port. */
		modbus_flush(ctx);
		return;
	}
	modbus_close(ctx);
	b->connected = false;
}

/* Write st to its board. @retval 0, negative errno (translated), *orig the libmodbus errno */
static int board_write(struct display *d, struct board *b, const struct display_board_state *st,
		       int *orig)
{
	uint16_t regs[DISPLAY_NREGS];
	modbus_t *ctx;
	int err = 0;

	*orig = 0;
	err = display_encode(st, regs);
	if (err < 0) {
		return err;
	}
	errno = 0;
	ctx = board_ctx(d, b, &err);
	if (ctx == NULL) {
		*orig = errno;
		return err;
	}
	modbus_set_slave(ctx, st->window_no);
	if (modbus_write_registers(ctx, DISPLAY_REG_BASE, DISPLAY_NREGS, regs) != DISPLAY_NREGS) {
		*orig = errno;
		err = display_modbus_errno(errno);
		board_disconnect(d, b);
		return err;
	}
	return 0;
}

static void describe(struct display *d, int window_no, int err, int orig, char *out, size_t cap)
{
	const char *lib = orig != 0 ? modbus_strerror(orig) : strerror(-err);

	switch (err) {
	case -ETIMEDOUT:
		snprintf(out, cap, "no answer in %d ms: check the board's power and cable",
			 d->p.timeout_ms);
		break;
	case -ECONNREFUSED:
	case -EHOSTUNREACH:
	case -ENETUNREACH:
		snprintf(out, cap, "cannot reach port %d (%s): check power and address",
			 d->p.tcp_port_base + window_no, lib);
		break;
	case -EBADMSG:
		snprintf(out, cap, "garbled answer (%s): check wiring and unit id %d", lib,
			 window_no);
		break;
	case -EREMOTEIO:
		snprintf(out, cap, "board refused the write (%s): check its register map", lib);
		break;
	default:
		snprintf(out, cap, "%s", lib);
		break;
	}
}

/* One attempt at board b, outside the lock. */
static void serve_board(struct display *d, struct board *b)
{
	struct display_board_state st;
	int64_t now;
	int err, orig;
	char why[sizeof(b->info.last_error)];

	pthread_mutex_lock(&d->lock);
	st = b->want;
	pthread_mutex_unlock(&d->lock);

	err = board_write(d, b, &st, &orig);
	now = mono_now();
	if (err < 0) {
		describe(d, st.window_no, err, orig, why, sizeof(why));
	}

	pthread_mutex_lock(&d->lock);
	if (err == 0) {
		if (b->info.failures > 0) {
			log_info(MOD, "window %d's display board answers again", st.window_no);
		}
		b->info.ok = true;
		b->info.failures = 0;
		b->info.backoff_ms = 0;
		b->info.failing_since_ms = 0;
		b->info.next_try_ms = 0;
		b->info.last_error[0] = '\0';
		b->info.last_write_ms = wall_now(d);
		b->info.shown = st;
		/* A newer state may have come in meanwhile: then it is still pending. */
		b->pending = memcmp(&b->want, &st, sizeof(st)) != 0;
		b->next_try_mono = b->pending ? 0 : now + REFRESH_MS;
	} else {
		int min = d->p.backoff_min_ms > 0 ? d->p.backoff_min_ms : DISPLAY_BACKOFF_MIN_MS;
		int max = d->p.backoff_max_ms > 0 ? d->p.backoff_max_ms : DISPLAY_BACKOFF_MAX_MS;

		if (b->info.failures == 0) {
			log_warn(MOD,
				 "window %d's display board: %s (libmodbus: %s); retrying with "
				 "backoff",
				 st.window_no, why, orig != 0 ? modbus_strerror(orig) : "-");
			b->info.failing_since_ms = wall_now(d);
			b->info.backoff_ms = min;
		} else {
			b->info.backoff_ms =
				b->info.backoff_ms >= max / 2 ? max : b->info.backoff_ms * 2;
		}
		b->info.ok = false;
		b->info.failures++;
		snprintf(b->info.last_error, sizeof(b->info.last_error), "%s", why);
		b->pending = true;
		b->next_try_mono = now + b->info.backoff_ms;
		b->info.next_try_ms = wall_now(d) + b->info.backoff_ms;
	}
	pthread_mutex_unlock(&d->lock);
}

/* ---- announcements: espeak-ng on the worker ---- */

static void audio_reap(struct display *d)
{
	int status;
	pid_t r;

	if (d->audio_pid <= 0) {
		return;
	}
	r = waitpid(d->audio_pid, &status, WNOHANG);
	if (r == 0 && mono_now() - d->audio_started > DISPLAY_AUDIO_TIMEOUT_MS) {
		log_warn(MOD, "espeak-ng took longer than %d ms; stopped it",
			 DISPLAY_AUDIO_TIMEOUT_MS);
		kill(d->audio_pid, SIGKILL);
		r = waitpid(d->audio_pid, &status, 0);
	}
	if (r == d->audio_pid || r < 0) {
		if (r > 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
			log_warn(MOD, "espeak-ng failed to write an announcement");
		}
		d->audio_pid = 0;
	}
}

static void audio_start_next(struct display *d)
{
	char *argv[] = { d->espeak, "-v", "cmn", "-w", NULL, NULL, NULL };
	int rc;

	if (d->audio_pid > 0 || d->audio_n == 0) {
		return;
	}
	argv[4] = d->audio_q[0][1];
	argv[5] = d->audio_q[0][0];
	rc = posix_spawn(&d->audio_pid, d->espeak, NULL, NULL, argv, environ);
	if (rc != 0) {
		log_warn(MOD, "could not start %s: %s", d->espeak, strerror(rc));
		d->audio_pid = 0;
	} else {
		d->audio_started = mono_now();
	}
	d->audio_n--;
	memmove(d->audio_q[0], d->audio_q[1], sizeof(d->audio_q[0]) * d->audio_n);
}

static void audio_announce(struct display *d, const struct queue_event *ev, const char *text)
{
	unsigned i;

	if (!d->audio_on) {
		return;
	}
	if (backlog_refuses_extra()) {
		/* storage critical: no new WAV files; the boards still show the call */
		log_dbg(MOD, "storage is critical: ticket %s is not announced aloud", ev->number);
		return;
	}
	if (d->audio_n == AUDIO_QUEUE) {
		memmove(d->audio_q[0], d->audio_q[1], sizeof(d->audio_q[0]) * (AUDIO_QUEUE - 1));
		d->audio_n--;
	}
	i = d->audio_n++;
	snprintf(d->audio_q[i][0], sizeof(d->audio_q[i][0]), "%s", text);
	snprintf(d->audio_q[i][1], sizeof(d->audio_q[i][1]), "%.100s/call-%lld-%s-w%d.wav",
		 d->audio_dir, (long long)ev->at_ms, ev->number, ev->window_no);
	audio_start_next(d);
}

/* ---- the hall display's stream ---- */

static const char *kind_name(enum queue_event_kind k)
{
	static const char *const names[] = {
		[QEV_ISSUED] = "issued",
		[QEV_CALLED] = "called",
		[QEV_RECALLED] = "recalled",
		[QEV_NO_SHOW] = "no_show",
		[QEV_STARTED] = "started",
		[QEV_FINISHED] = "finished",
		[QEV_HELD] = "held",
		[QEV_RESUMED] = "resumed",
		[QEV_TRANSFERRED] = "transferred",
		[QEV_WINDOW_CHANGED] = "window_changed",
		[QEV_ROLLOVER] = "rollover",
	};

	return (unsigned)k < sizeof(names) / sizeof(names[0]) && names[k] ? names[k] : "unknown";
}

cJSON *display_event_json(const struct queue_event *ev)
{
	cJSON *o = cJSON_CreateObject();
	char zh[160], en[160];

	if (o == NULL) {
		return NULL;
	}
	cJSON_AddStringToObject(o, "kind", kind_name(ev->kind));
	cJSON_AddStringToObject(o, "number", ev->number);
	cJSON_AddNumberToObject(o, "window_no", ev->window_no);
	cJSON_AddStringToObject(o, "window_zh", ev->window_name_zh);
	cJSON_AddStringToObject(o, "window_en", ev->window_name_en);
	cJSON_AddStringToObject(o, "service_zh", ev->service_zh);
	cJSON_AddStringToObject(o, "service_en", ev->service_en);
	cJSON_AddNumberToObject(o, "recall_count", ev->recall_count);
	cJSON_AddNumberToObject(o, "at_ms", (double)ev->at_ms);
	if (display_announcement(ev, "zh", zh, sizeof(zh)) > 0 &&
	    display_announcement(ev, "en", en, sizeof(en)) > 0) {
		cJSON_AddStringToObject(o, "announcement_zh", zh);
		cJSON_AddStringToObject(o, "announcement_en", en);
	}
	return o;
}

static void publish_json(struct display *d, const char *event, cJSON *o)
{
	char *text;

	if (o == NULL || d->p.kiosk == NULL) {
		cJSON_Delete(o);
		return;
	}
	text = cJSON_PrintUnformatted(o);
	if (text != NULL) {
		kiosk_stream_publish(d->p.kiosk, STREAM_CHANNEL, event, text);
		cJSON_free(text);
	}
	cJSON_Delete(o);
}

static void handle_event(struct display *d, const struct queue_event *ev)
{
	char zh[160];

	publish_json(d, "queue", display_event_json(ev));
	if ((ev->kind == QEV_CALLED || ev->kind == QEV_RECALLED) &&
	    display_announcement(ev, "zh", zh, sizeof(zh)) > 0) {
		audio_announce(d, ev, zh);
	}
}

static void publish_snapshot(struct display *d)
{
	struct queue_snapshot *s;

	if (d->p.queue == NULL || d->p.kiosk == NULL ||
	    kiosk_stream_count(d->p.kiosk, STREAM_CHANNEL) == 0) {
		return;
	}
	s = malloc(sizeof(*s));
	if (s == NULL) {
		return;
	}
	if (queue_snapshot(d->p.queue, s) == 0) {
		publish_json(d, "snapshot", queue_snapshot_json(s));
	}
	free(s);
}

/* Window states from the queue (at start, after a window change or a rollover). */
static void reconcile_boards(struct display *d)
{
	struct queue_snapshot *s = malloc(sizeof(*s));
	struct queue_window_info *wi = malloc(sizeof(*wi));

	if (s == NULL || wi == NULL || d->p.queue == NULL || queue_snapshot(d->p.queue, s) != 0) {
		goto out;
	}
	for (int i = 0; i < s->nwindows && i < QUEUE_MAX_WINDOWS; i++) {
		int no = s->windows[i].no;
		struct display_board_state w;
		struct board *b;

		if (no < 1 || no > DISPLAY_MAX_BOARDS) {
			continue;
		}
		b = &d->boards[no];
		pthread_mutex_lock(&d->lock);
		w = b->want;
		pthread_mutex_unlock(&d->lock);
		w.window_no = no;
		w.brightness = d->p.brightness;
		w.number[0] = '\0';
		if (s->windows[i].state == QUEUE_WIN_CLOSED) {
			w.state = DISPLAY_CLOSED;
		} else if (s->windows[i].state == QUEUE_WIN_PAUSED) {
			w.state = DISPLAY_PAUSED;
		} else {
			w.state = DISPLAY_IDLE;
			if (queue_window_info(d->p.queue, no, wi) == 0 && wi->has_current) {
				snprintf(w.number, sizeof(w.number), "%s", wi->current.number);
				w.state = strcmp(wi->current.state, "serving") == 0
						  ? DISPLAY_SERVING
						  : DISPLAY_CALLING;
			}
		}
		pthread_mutex_lock(&d->lock);
		if (!b->info.known || memcmp(&b->want, &w, sizeof(w)) != 0) {
			b->want = w;
			b->info.known = true;
			b->pending = true;
			if (b->info.failures == 0) {
				b->next_try_mono = 0;
			}
		}
		pthread_mutex_unlock(&d->lock);
	}
out:
	free(s);
	free(wi);
}

/* ---- the worker ---- */

/*
 * The next board due (lock held), or NULL with *wait_ms until one is.
 * Healthy boards go before failing ones, so a dead board's retry waits
 * behind every live board's update.
 */
static struct board *next_due(struct display *d, int64_t now, int64_t *wait_ms)
{
	struct board *failing = NULL;

	*wait_ms = 3600 * 1000;
	if (d->p.mode == CONFIG_DISPLAY_OFF) {
		return NULL;
	}
	for (unsigned k = 0; k < DISPLAY_MAX_BOARDS; k++) {
		unsigned no = 1 + (d->rr + k) % DISPLAY_MAX_BOARDS;
		struct board *b = &d->boards[no];

		if (!b->info.known) {
			continue;
		}
		if (!b->pending && b->next_try_mono != 0 && b->next_try_mono <= now) {
			b->pending = true; /* the periodic refresh */
		}
		if (b->pending && b->next_try_mono <= now) {
			if (b->info.failures == 0) {
				d->rr = no % DISPLAY_MAX_BOARDS;
				return b;
			}
			if (failing == NULL) {
				failing = b;
			}
			continue;
		}
		if (b->next_try_mono > now && b->next_try_mono - now < *wait_ms) {
			*wait_ms = b->next_try_mono - now;
		}
	}
	if (failing != NULL) {
		d->rr = (unsigned)failing->info.window_no % DISPLAY_MAX_BOARDS;
	}
	return failing;
}

static void *worker(void *arg)
{
	struct display *d = arg;
	struct queue_event *evs = malloc(sizeof(*evs) * DISPLAY_EVENT_QUEUE);

	if (evs == NULL) {
		log_err(MOD, "out of memory: the display boards are not driven");
		return NULL;
	}
	if (d->p.queue != NULL) {
		reconcile_boards(d);
	}
	pthread_mutex_lock(&d->lock);
	while (!d->stop) {
		int64_t now = mono_now(), wait_ms;
		unsigned nev = d->ev_count;
		bool snap = d->snapshot_dirty, rec = d->reconcile;
		struct board *b;

		for (unsigned i = 0; i < nev; i++) {
			evs[i] = d->events[(d->ev_head + i) % DISPLAY_EVENT_QUEUE];
		}
		d->ev_head = (d->ev_head + nev) % DISPLAY_EVENT_QUEUE;
		d->ev_count = 0;
		d->snapshot_dirty = d->reconcile = false;
		b = next_due(d, now, &wait_ms);
		if (nev == 0 && !snap && !rec && b == NULL) {
			struct timespec until;

			if (d->audio_pid > 0 && wait_ms > 100) {
				wait_ms = 100;
			}
			d->busy = false;
			pthread_cond_broadcast(&d->cond);
			until.tv_sec = (now + wait_ms) / 1000;
			until.tv_nsec = ((now + wait_ms) % 1000) * 1000000L;
			pthread_cond_timedwait(&d->cond, &d->lock, &until);
			pthread_mutex_unlock(&d->lock);
			audio_reap(d);
			audio_start_next(d);
			pthread_mutex_lock(&d->lock);
			continue;
		}
		d->busy = true;
		pthread_mutex_unlock(&d->lock);

		for (unsigned i = 0; i < nev; i++) {
			handle_event(d, &evs[i]);
		}
		if (rec) {
			reconcile_boards(d);
		}
		if (snap) {
			publish_snapshot(d);
		}
		if (b != NULL) {
			serve_board(d, b);
		}
		audio_reap(d);
		audio_start_next(d);
		pthread_mutex_lock(&d->lock);
	}
	d->busy = false;
	pthread_mutex_unlock(&d->lock);
	free(evs);
	return NULL;
}

/* ---- lifecycle ---- */

int display_start(const struct display_params *p, struct display **out)
{
	struct display *d;
	pthread_condattr_t ca;
	int rc;

	if (p == NULL || out == NULL || p->mode > CONFIG_DISPLAY_TCP ||
	    (p->mode != CONFIG_DISPLAY_OFF &&
	     (p->timeout_ms <= 0 || p->brightness < 0 || p->brightness > 100)) ||
	    (p->mode == CONFIG_DISPLAY_RTU &&
	     (p->rtu_device == NULL || p->rtu_device[0] == '\0')) ||
	    (p->mode == CONFIG_DISPLAY_TCP &&
	     (p->tcp_port_base < 1 || p->tcp_port_base > 65535 - DISPLAY_MAX_BOARDS))) {
		return -EINVAL;
	}
	d = calloc(1, sizeof(*d));
	if (d == NULL) {
		return -ENOMEM;
	}
	d->p = *p;
	snprintf(d->rtu_device, sizeof(d->rtu_device), "%s", p->rtu_device ? p->rtu_device : "");
	snprintf(d->audio_dir, sizeof(d->audio_dir), "%s", p->audio_dir ? p->audio_dir : "");
	snprintf(d->espeak, sizeof(d->espeak), "%s", p->espeak ? p->espeak : "/usr/bin/espeak-ng");
	d->p.rtu_device = d->rtu_device;
	d->p.audio_dir = d->audio_dir;
	d->p.espeak = d->espeak;
	for (int i = 1; i <= DISPLAY_MAX_BOARDS; i++) {
		d->boards[i].info.window_no = i;
		d->boards[i].want.window_no = i;
		d->boards[i].want.brightness = p->brightness;
	}
	if (p->audio_dir != NULL) {
		d->audio_on = access(d->espeak, X_OK) == 0;
		if (d->audio_on) {
			mkdir(d->audio_dir, 0750);
		}
		log_info(MOD, "%s",
			 d->audio_on ? "announcements are spoken into WAV files"
				     : "announcement audio is off: espeak-ng is not "
				       "installed (apt-get install espeak-ng)");
	}
	pthread_mutex_init(&d->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (p->queue != NULL) {
		rc = queue_listen(p->queue, display_on_event, d);
		if (rc < 0) {
			goto out_free;
		}
	}
	rc = pthread_create(&d->thread, NULL, worker, d);
	if (rc != 0) {
		/* The listener stays registered with a queue that outlives us: keep d. */
		log_err(MOD, "cannot start the display worker: %s", strerror(rc));
		return -EAGAIN;
	}
	d->started = true;
	if (p->mode != CONFIG_DISPLAY_OFF) {
		log_info(MOD, "driving the window display boards over Modbus %s",
			 p->mode == CONFIG_DISPLAY_RTU ? "RTU" : "TCP");
	}
	*out = d;
	return 0;
out_free:
	pthread_cond_destroy(&d->cond);
	pthread_mutex_destroy(&d->lock);
	free(d);
	return rc;
}

void display_stop(struct display *d)
{
	if (d == NULL) {
		return;
	}
	pthread_mutex_lock(&d->lock);
	d->stop = true;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
	if (d->started) {
		pthread_join(d->thread, NULL);
	}
	if (d->audio_pid > 0) {
		kill(d->audio_pid, SIGKILL);
		waitpid(d->audio_pid, NULL, 0);
	}
	for (int i = 1; i <= DISPLAY_MAX_BOARDS; i++) {
		if (d->boards[i].ctx != NULL) {
			modbus_close(d->boards[i].ctx);
			modbus_free(d->boards[i].ctx);
		}
	}
	if (d->rtu != NULL) {
		modbus_close(d->rtu);
		modbus_free(d->rtu);
	}
	pthread_cond_destroy(&d->cond);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

int display_board_info(struct display *d, int window_no, struct display_board_info *out)
{
	if (d == NULL || out == NULL || window_no < 1 || window_no > DISPLAY_MAX_BOARDS) {
		return -ENOENT;
	}
	pthread_mutex_lock(&d->lock);
	*out = d->boards[window_no].info;
	pthread_mutex_unlock(&d->lock);
	return 0;
}

void display_kick_snapshot(struct display *d)
{
	pthread_mutex_lock(&d->lock);
	d->snapshot_dirty = true;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
}

enum config_display_mode display_mode(const struct display *d)
{
	return d->p.mode;
}

bool display_audio_on(const struct display *d)
{
	return d->audio_on;
}

int display_board_address(const struct display *d, int window_no, char *out, size_t cap)
{
	if (d->p.mode == CONFIG_DISPLAY_RTU) {
		return snprintf(out, cap, "%s unit %d", d->rtu_device, window_no);
	}
	if (d->p.mode == CONFIG_DISPLAY_TCP) {
		char ip[INET_ADDRSTRLEN];
		struct in_addr a = { .s_addr = htonl(d->p.tcp_ip) };

		inet_ntop(AF_INET, &a, ip, sizeof(ip));
		return snprintf(out, cap, "%s:%d unit %d", ip, d->p.tcp_port_base + window_no,
				window_no);
	}
	return snprintf(out, cap, "off");
}

int display_wait_idle(struct display *d, int timeout_ms)
{
	struct timespec until;
	int64_t end = mono_now() + timeout_ms;
	int rc = -ETIMEDOUT;

	until.tv_sec = end / 1000;
	until.tv_nsec = (end % 1000) * 1000000L;
	pthread_mutex_lock(&d->lock);
	for (;;) {
		bool due = false;
		int64_t now = mono_now();

		for (int i = 1; i <= DISPLAY_MAX_BOARDS && d->p.mode != CONFIG_DISPLAY_OFF; i++) {
			struct board *b = &d->boards[i];

			due |= b->info.known && b->pending && b->info.failures == 0 &&
			       b->next_try_mono <= now;
		}
		if (!d->busy && d->ev_count == 0 && !d->snapshot_dirty && !d->reconcile && !due) {
			rc = 0;
			break;
		}
		if (pthread_cond_timedwait(&d->cond, &d->lock, &until) == ETIMEDOUT) {
			break;
		}
	}
	pthread_mutex_unlock(&d->lock);
	return rc;
}
