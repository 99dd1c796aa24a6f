/*
 * citysim's parts (the reference city platform, docs/citysim.md): the TLS
 * server (citysim.c) hands each parsed request to the protocol's endpoints
 * (api.c, docs/sync-protocol.md), which keep what devices send and what the
 * city sends down in citysim's own SQLite store (store.c). The same
 * executable's subcommands (cli.c) write items into that store while the
 * server runs, and an optional plain-HTTP listener on loopback (status.c)
 * shows a read-only page of the devices and their last events.
 */
#ifndef TOOLS_CITYSIM_CITYSIM_H
#define TOOLS_CITYSIM_CITYSIM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#define CS_CN_MAX	    128
#define CS_ID_MAX	    64 /* item_id, event_id, db_epoch: 1..64 of A-Z a-z 0-9 . _ - */
#define CS_TYPE_MAX	    64
#define CS_BATCH_EVENTS	    200
#define CS_BATCH_BYTES	    (256 * 1024)
#define CS_ITEMS_DEFAULT    50
#define CS_ITEMS_MAX	    200
#define CS_ITEMS_PAGE_BYTES (48 * 1024) /* a page stops growing past this (one item at least) */
#define CS_REJECT_TYPES_MAX 16

/* ---- store.c ------------------------------------------------------------- */

/* One SQLite connection behind a mutex (the server's threads share it). */
struct cs_store {
	sqlite3 *db;
	pthread_mutex_t lock;
};

/*
 * Open (and create) DIR/citysim.db: WAL, synchronous=FULL, a busy timeout
 * (the CLI and the server write to it at the same time), the schema.
 * dir NULL: a store in memory (nothing survives the process).
 * @retval 0, -EIO (says why on stderr)
 */
int cs_store_open(const char *dir, struct cs_store *s);
void cs_store_close(struct cs_store *s);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. @retval 0 or -EIO / -EBUSY */
int cs_store_begin(struct cs_store *s);
int cs_store_commit(struct cs_store *s);
void cs_store_rollback(struct cs_store *s);

/* Record that device made a request now (devices: first and last seen). */
int cs_store_seen(struct cs_store *s, const char *device, int64_t now_ms);

/* The wall clock in ms. */
int64_t cs_now_ms(void);

/* 1..max bytes of A-Z a-z 0-9 . _ - */
bool cs_code_ok(const char *s, size_t max);

/* ---- api.c --------------------------------------------------------------- */

struct cs_request {
	char method[16];
	char path[1024];   /* without the query */
	const char *query; /* after '?', or "" */
	const char *body;
	size_t body_len;
	const char *cn;		 /* the device, from its certificate */
	const char *protocol;	 /* X-Hotline-Protocol, NULL when absent */
	const char *body_sha256; /* X-Body-SHA256, NULL when absent */
};

struct cs_reply {
	int status;
	cJSON *json; /* owned; sent and freed by the caller */
};

struct cs_api {
	struct cs_store *store;
	const char *reject_types[CS_REJECT_TYPES_MAX]; /* events of these types are rejected */
	int n_reject_types;
};

extern struct cs_api cs_api;

void cs_error_reply(struct cs_reply *rp, int status, const char *code, const char *msg,
		    const char *msg_zh);
/* Route a request (its headers and the device already known). */
void cs_api_dispatch(const struct cs_request *rq, struct cs_reply *rp);

/* ---- status.c ------------------------------------------------------------ */

/*
 * Serve the status page on 127.0.0.1:port (0: any) from a thread; the bound
 * port is written to port_file when given.
 * @retval 0, -1 (says why on stderr)
 */
int cs_status_start(struct cs_store *s, int port, const char *port_file);
void cs_status_stop(void);
/* The page's HTML (caller frees), also used by tests through the listener. */
char *cs_status_html(struct cs_store *s);

/* ---- cli.c --------------------------------------------------------------- */

/* True when argv[1] names a subcommand. */
bool cs_cli_is_command(const char *name);
/* Run `citysim COMMAND ...`; @return the exit code. */
int cs_cli_main(int argc, char **argv);

/* The device access list (table device_access; `citysim enroll|revoke`). */
enum { CS_ACCESS_OK = 0, CS_ACCESS_UNKNOWN = 1, CS_ACCESS_REVOKED = 2 };
/* Make the table if missing. @retval 0, -EIO */
int cs_access_init(struct cs_store *s);
/*
 * May device make requests? Unknown devices are accepted unless
 * enrolled_only. Takes the store's lock.
 * @retval CS_ACCESS_OK, CS_ACCESS_UNKNOWN, CS_ACCESS_REVOKED, -EIO
 */
int cs_access_check(struct cs_store *s, const char *device, bool enrolled_only);

/* ---- citysim.c ----------------------------------------------------------- */

int cs_write_port_file(const char *path, unsigned int port);

#endif /* TOOLS_CITYSIM_CITYSIM_H */
