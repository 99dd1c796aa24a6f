/*
 * Private to apps/requests: the service object and the helpers its files
 * share.
 */
#ifndef REQUESTS_REQUESTS_INTERNAL_H
#define REQUESTS_REQUESTS_INTERNAL_H

#include <pthread.h>

#include <sqlite3.h>

#include "requests/requests.h"

#define MOD "requests"

struct requests {
	pthread_mutex_t lock;	    /* guards db */
	pthread_mutex_t print_lock; /* one receipt at a time; never held with lock */
	sqlite3 *db;
	struct hal_clock *clock;
	struct hal_printer *printer;
	struct orders *orders;
	struct queue *queue;
	char office_name[REQ_OFFICE_MAX];
	int utc_offset_min;
	int repeat_window_days;
};

/* What the receipt shows. contact: masked phone or name, NULL/"" to leave out. */
struct request_receipt {
	const char *office_name;
	const char *number;
	const char *category_zh, *category_en;
	const char *field_zh;
	int64_t filed_ms;
	int utc_offset_min;
	const char *lookup_code;
	const char *contact;
	bool anonymous;
};

/* Room that always holds a receipt with the longest accepted fields. */
#define REQ_RECEIPT_MAX 4096

/* Render the receipt as one ESC/POS job. @retval >0 bytes, -EINVAL, -EILSEQ, -ENOBUFS */
int requests_receipt_render(const struct request_receipt *rc, uint8_t *buf, size_t cap);

/* Status check, render, print. @retval 0 printed; as print_ticket() otherwise. */
int requests_receipt_print(struct hal_printer *p, const struct request_receipt *rc);

/* Local date and time of a wall time: "YYYY-MM-DD" and "YYYY-MM-DD HH:MM". */
void requests_local_day(int64_t wall_ms, int utc_offset_min, char out[11]);

/* The lookup code alphabet: no 0/O, 1/I/L (as the queue's). */

int64_t requests_now(struct requests *r);
void requests_today(struct requests *r, char day[11]);
void requests_set_err(struct requests_err *err, const char *en, const char *zh);
/* 0..max bytes of valid UTF-8 without control characters (multiline: \n and \t allowed). */
bool requests_text_ok(const char *s, size_t max, bool multiline);
/* One code point from s[i..n) (i < n) and the bytes it takes; an invalid,
 * overlong or surrogate sequence is U+FFFD taking one byte. */
size_t requests_utf8_decode(const unsigned char *s, size_t n, size_t i, uint32_t *cp);
/* End a change made under r->lock in a transaction (store_begin()): COMMIT
 * when ret >= 0, else ROLLBACK (nothing when none is open); then unlock.
 * @retval ret, or the COMMIT's error */
int requests_tx_end(struct requests *r, int ret);
/* The category, field and state of q as JSON members: each as a name, "_zh" and "_en". */
void requests_add_names(cJSON *o, const struct request *q);
/* One request by a WHERE clause with one text bind ?1, on db (NULL: r->db). */
int requests_load(struct requests *r, sqlite3 *db, const char *where, const char *arg,
		  struct request *q);
/* An audit entry of who (NULL user: "citizen"). */
int requests_audit(sqlite3 *db, const struct requests_actor *who, const char *action,
		   const char *target, const char *detail);

#endif /* REQUESTS_REQUESTS_INTERNAL_H */
