/*
 * The main event loop: timers on the monotonic clock, file descriptors to
 * watch, and work posted from other threads. Single-threaded: every callback
 * runs on the loop's thread, so domain logic needs no locks. Timers are
 * owned by their caller (no allocation); the loop keeps them in a list.
 */
#ifndef FW_LOOP_H
#define FW_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>
#include <signal.h>

#include "hal/clock.h"

#define LOOP_MAX_FDS   16
#define LOOP_MAX_POSTS 64

struct loop;
struct loop_timer;

typedef void (*loop_timer_fn)(struct loop_timer *t, void *arg);
typedef void (*loop_fd_fn)(int fd, short revents, void *arg);
typedef void (*loop_post_fn)(void *arg);

struct loop_timer {
	loop_timer_fn cb;
	void *arg;
	int64_t due_ms;	   /* monotonic */
	int64_t period_ms; /* 0: one-shot */
	bool armed;
	struct loop_timer *next;
};

struct loop_fd {
	int fd;
	short events;
	loop_fd_fn cb;
	void *arg;
};

struct loop_post {
	loop_post_fn cb;
	void *arg;
};

struct loop {
	struct hal_clock *clock;
	struct loop_timer *timers; /* sorted by due time */
	struct loop_fd fds[LOOP_MAX_FDS];
	int nfds;
	int wake[2];	      /* self-pipe: posts, stop and signals wake poll() */
	pthread_mutex_t lock; /* guards posts */
	struct loop_post posts[LOOP_MAX_POSTS];
	unsigned post_head, post_count;
	volatile sig_atomic_t stop;
};

/* @retval 0, -EMFILE no descriptor for the wake pipe */
int loop_init(struct loop *l, struct hal_clock *clock);
void loop_free(struct loop *l);

/* Arm t to fire after delay_ms, then every period_ms (0: once). Re-arming
 * an armed timer moves it. */
void loop_timer_start(struct loop *l, struct loop_timer *t, int64_t delay_ms, int64_t period_ms,
		      loop_timer_fn cb, void *arg);
void loop_timer_stop(struct loop *l, struct loop_timer *t);

/* Watch fd for poll() events. @retval 0, -ENOSPC table full, -EEXIST */
int loop_watch(struct loop *l, int fd, short events, loop_fd_fn cb, void *arg);
void loop_unwatch(struct loop *l, int fd);

/* Run cb(arg) on the loop thread soon. Thread-safe.
 * @retval 0 queued, -EAGAIN the queue is full (try again) */
int loop_post(struct loop *l, loop_post_fn cb, void *arg);

/*
 * Wait up to max_wait_ms (or until the next timer) for work, then run what
 * is due. max_wait_ms 0 never blocks (tests with a fake clock use this).
 * @retval >=0 callbacks run, -EINTR stop was requested
 */
int loop_run_once(struct loop *l, int max_wait_ms);

/* Run until loop_stop(). @retval 0 */
int loop_run(struct loop *l);

/* Ask the loop to return from loop_run(). Async-signal-safe. */
void loop_stop(struct loop *l);

#endif /* FW_LOOP_H */
