/*
 * The sync worker: store-and-forward between the appliance's database and
 * the city platform (docs/sync-protocol.md, "Appliance side").
 *
 * One thread with its own SQLite connection and its own HTTPS client
 * (httpc.h). Each round it probes the city's clock, uploads unacknowledged
 * outbox events in seq order in bounded batches, then pulls the city's
 * items page by page, applying each page and storing the cursor in one
 * transaction. A failed round backs off exponentially with full jitter;
 * sync_kick() (the uplink came back) retries at once.
 *
 * sync_status() may be called from any thread at any time.
 */
#ifndef SYNC_SYNC_H
#define SYNC_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "hal/clock.h"
#include "sync/httpc.h"

#define SYNC_BATCH_EVENTS_MAX 200	    /* events per upload (the protocol's limit) */
#define SYNC_BATCH_BYTES_MAX  (256 * 1024)  /* bytes of an upload body */
#define SYNC_PAGE_ITEMS	      50	    /* items asked for per page by default */
#define SYNC_PAGE_BODY_MAX    (1024 * 1024) /* bytes of an items page we accept */
#define SYNC_BACKOFF_MIN_MS   1000
#define SYNC_BACKOFF_MAX_MS   (300 * 1000)
#define SYNC_IDLE_POLL_MS     30000 /* a quiet round repeats this often */
#define SYNC_OUTBOX_CHECK_MS  1000  /* idle: new outbox events are looked for this often */
#define SYNC_CLOCK_WARN_MS    (2 * 60 * 1000) /* a city clock difference logged as evidence */
#define SYNC_CURSOR_MAX	      128	      /* bytes of a city cursor, NUL included */
#define SYNC_DEVICE_MAX	      64
#define SYNC_CODE_MAX	      32
#define SYNC_TEXT_MAX	      192

struct orders;
struct calstore;
struct requests;

struct sync_params {
	const char *data_dir;	 /* store_init has run; required */
	struct hal_clock *clock; /* wall and monotonic time; NULL: the system clock */
	uint32_t city_ip;	 /* host byte order; required */
	uint16_t city_port;	 /* required */
	const char *city_host;	 /* SNI and certificate name; required */
	/*
	 * The pinned city CA, the device certificate and its key. All NULL:
	 * loaded with identity_tls_load(data_dir) when the worker starts.
	 * Given: they must stay valid until sync_destroy.
	 */
	mbedtls_x509_crt *ca;
	mbedtls_x509_crt *cert;
	mbedtls_pk_context *key;
	struct httpc_transport *transport; /* NULL: httpc_transport_net (lwIP) */
	/* The body's "device": NULL or "": the certificate's subject CN. */
	const char *device_id;
	/* Where downloaded items go; each may be NULL (its items are then
	 * recorded in sync_conflicts as "not_handled"). */
	struct orders *orders;
	struct calstore *cal;
	struct requests *requests;
	int batch_events;	/* 0: SYNC_BATCH_EVENTS_MAX (1..200) */
	size_t batch_bytes;	/* 0: SYNC_BATCH_BYTES_MAX (4 KiB..256 KiB) */
	int page_items;		/* 0: SYNC_PAGE_ITEMS (1..500) */
	int backoff_min_ms;	/* 0: SYNC_BACKOFF_MIN_MS (tests shorten it) */
	int backoff_max_ms;	/* 0: SYNC_BACKOFF_MAX_MS */
	int idle_poll_ms;	/* 0: SYNC_IDLE_POLL_MS */
	int request_timeout_ms; /* 0: HTTPC_REQUEST_TIMEOUT_MS */
};

enum sync_state {
	SYNC_STOPPED = 0, /* the worker is not running */
	SYNC_STARTING,	  /* running, no round finished yet */
	SYNC_IDLE,	  /* the last round succeeded; waiting for the next */
	SYNC_BUSY,	  /* a round is under way */
	SYNC_BACKOFF,	  /* the last round failed; retrying after retry_in_ms */
	SYNC_HALTED,	  /* the city refused the device or the protocol: waits for sync_kick */
};

const char *sync_state_name(enum sync_state s); /* "stopped", "idle", ... */

struct sync_status {
	enum sync_state state;
	int64_t waiting;	      /* outbox events not acknowledged */
	int64_t oldest_ms;	      /* created_ms of the oldest waiting event (0: none) */
	int64_t oldest_age_ms;	      /* now - oldest_ms (0: none) */
	int64_t parked;		      /* events the city rejected (sync_parked) */
	int64_t conflicts;	      /* downloaded items kept for staff, not resolved */
	int64_t acked_upto;	      /* highest seq the city confirmed (this run) */
	int64_t last_ok_ms;	      /* wall time of the last successful round (0: never) */
	char cursor[SYNC_CURSOR_MAX]; /* the stored download cursor ("" from the start) */
	/* the city's clock: city - device wall, known after a /time probe */
	bool city_clock_known;
	int64_t city_offset_ms;
	int64_t city_checked_ms; /* device wall time of that probe */
	/* the last failure (code "" after a success) */
	int last_errno;		       /* negative errno, 0 none */
	int last_http_status;	       /* 0: no HTTP answer */
	char last_code[SYNC_CODE_MAX]; /* httpc_reason_name() or the city's code */
	char last_error_en[SYNC_TEXT_MAX];
	char last_error_zh[SYNC_TEXT_MAX];
	/* counters since sync_create */
	uint32_t failures_in_row; /* failed rounds since the last success or kick */
	uint64_t rounds;	  /* rounds started */
	uint64_t failures;	  /* rounds failed */
	uint64_t kicks;
	uint64_t batches;	 /* upload requests answered 200 */
	uint64_t events_sent;	 /* events in those batches (a resend counts again) */
	uint64_t items_applied;	 /* items applied or already applied */
	uint64_t items_conflict; /* items recorded in sync_conflicts */
	int batch_limit;	 /* events per batch now (halved by a 413) */
	int64_t backoff_ms;	 /* the backoff ceiling of the current failure (0: none) */
	int64_t retry_in_ms;	 /* the delay drawn from it (0..backoff_ms), or the city's
				    Retry-After (429/503) when longer */
};

struct sync;

/*
 * Check params and make the worker (not started; no I/O).
 * @retval 0, -EINVAL a required field is missing or a limit is out of
 *         range, -ENOMEM
 */
int sync_create(const struct sync_params *p, struct sync **out);

/* Stop if running and free everything (NULL is ignored). */
void sync_destroy(struct sync *s);

/*
 * Start the worker thread: it opens its own connection (store_open) and
 * HTTPS client, then runs rounds until sync_stop.
 * @retval 0, -EALREADY running, -ENOKEY the identity could not be
 *         loaded, -EINVAL no device id, storage errors, -ENOMEM, -EAGAIN
 */
int sync_start(struct sync *s);

/* Stop the worker and wait for it (the request under way finishes or
 * times out first; what it got is recorded). Nothing if not running. */
void sync_stop(struct sync *s);

/* The uplink came back (or a technician asked): reset the backoff, leave
 * SYNC_HALTED, and run a round now. */
void sync_kick(struct sync *s);

/*
 * A snapshot of the worker's state with the counts read from the database.
 * @retval 0, or a storage error (the counters are still filled)
 */
int sync_status(struct sync *s, struct sync_status *out);

#endif /* SYNC_SYNC_H */
