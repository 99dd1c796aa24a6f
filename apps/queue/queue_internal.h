/*
 * Private to apps/queue: the queue object and helpers its files share.
 */
#ifndef QUEUE_QUEUE_INTERNAL_H
#define QUEUE_QUEUE_INTERNAL_H

#include <pthread.h>

#include <sqlite3.h>

#include "queue/queue.h"

#define MOD "queue"

struct queue {
	pthread_mutex_t lock;	    /* guards db, cfg, day */
	pthread_mutex_t print_lock; /* one job at a time; never held with lock */
	sqlite3 *db;
	struct hal_clock *clock;
	struct hal_printer *printer;
	char office_name[128];
	int utc_offset_min;
	struct queue_config cfg; /* the configuration in force (cache of the tables) */
	char day[11];		 /* the service day of the last rollover */
	int nlisteners;
	struct {
		queue_event_fn fn;
		void *arg;
	} listeners[QUEUE_MAX_LISTENERS];
};

/* Events made under the lock, delivered after it is released. */
struct pending_events {
	int n;
	struct queue_event ev[2];
};

int64_t queue_now(struct queue *q);
void queue_today(struct queue *q, char day[11]);

/* Read cfg from the tables (lock held). @retval 0, -EIO */
int queue_config_load(struct queue *q);
/* Write the default configuration if the tables are empty (lock held). */
int queue_config_seed(struct queue *q, const struct queue_params *p);

/* Lookup in q->cfg; NULL when absent. */
const struct queue_service_cfg *queue_cfg_service(const struct queue *q, int id);
const struct queue_window_cfg *queue_cfg_window(const struct queue *q, int no);

/* Waiting tickets of a service today (lock held). */
int queue_waiting_count(struct queue *q, const char *day, int service_id);
/* Estimated minutes for a newcomer with `ahead` people before it (lock held). */
int queue_est_wait_min(struct queue *q, const char *day, int service_id, int ahead);

/* Roll over if due (lock held). @retval 1 rolled, 0, <0; *ev set when rolled. */
int queue_rollover_locked(struct queue *q, struct pending_events *pe);

/* Day stats without the lock (lock held by caller). */
int queue_stats_locked(struct queue *q, const char *day, struct queue_stats *out);

/* "A012" */
void queue_format_number(char prefix, int number, char out[8]);

/* Whether s is 1..max bytes of UTF-8 without control characters. */
bool queue_text_ok(const char *s, size_t max);

#endif /* QUEUE_QUEUE_INTERNAL_H */
