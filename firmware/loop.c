/*
 * The main event loop. Timers are an intrusive list sorted by due time, so
 * arming one costs a walk of the (short) list and running the loop never
 * allocates. Work from other threads and from signal handlers arrives
 * through a self-pipe: a byte written wakes poll(), then the posted
 * callbacks run on the loop's thread in the order they were posted.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "fw/loop.h"

int loop_init(struct loop *l, struct hal_clock *clock)
{
	memset(l, 0, sizeof(*l));
	l->clock = clock;
	if (pipe2(l->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		return -errno;
	}
	pthread_mutex_init(&l->lock, NULL);
	return 0;
}

void loop_free(struct loop *l)
{
	if (l->wake[0] >= 0) {
		close(l->wake[0]);
		close(l->wake[1]);
		l->wake[0] = l->wake[1] = -1;
	}
	pthread_mutex_destroy(&l->lock);
	l->timers = NULL;
}

static void wake(struct loop *l)
{
	char b = 1;
	/* A full pipe already guarantees a wake-up, so EAGAIN is fine. */
	ssize_t n = write(l->wake[1], &b, 1);
	(void)n;
}

static void unlink_timer(struct loop *l, struct loop_timer *t)
{
	for (struct loop_timer **pp = &l->timers; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	t->next = NULL;
	t->armed = false;
}

static void insert_timer(struct loop *l, struct loop_timer *t)
{
	struct loop_timer **pp = &l->timers;

	/* Equal due times keep insertion order: timers fire first-armed first. */
	while (*pp && (*pp)->due_ms <= t->due_ms) {
		pp = &(*pp)->next;
	}
	t->next = *pp;
	*pp = t;
	t->armed = true;
}

void loop_timer_start(struct loop *l, struct loop_timer *t, int64_t delay_ms, int64_t period_ms,
		      loop_timer_fn cb, void *arg)
{
	if (t->armed) {
		unlink_timer(l, t);
	}
	t->cb = cb;
	t->arg = arg;
	t->period_ms = period_ms > 0 ? period_ms : 0;
	t->due_ms = hal_clock_mono_ms(l->clock) + (delay_ms > 0 ? delay_ms : 0);
	insert_timer(l, t);
}

void loop_timer_stop(struct loop *l, struct loop_timer *t)
{
	if (t->armed) {
		unlink_timer(l, t);
	}
}

int loop_watch(struct loop *l, int fd, short events, loop_fd_fn cb, void *arg)
{
	for (int i = 0; i < l->nfds; i++) {
		if (l->fds[i].fd == fd) {
			return -EEXIST;
		}
	}
	if (l->nfds == LOOP_MAX_FDS) {
		return -ENOSPC;
	}
	l->fds[l->nfds++] = (struct loop_fd){ .fd = fd, .events = events, .cb = cb, .arg = arg };
	return 0;
}

void loop_unwatch(struct loop *l, int fd)
{
	for (int i = 0; i < l->nfds; i++) {
		if (l->fds[i].fd == fd) {
			l->fds[i] = l->fds[--l->nfds];
			return;
		}
	}
}

int loop_post(struct loop *l, loop_post_fn cb, void *arg)
{
	pthread_mutex_lock(&l->lock);
	if (l->post_count == LOOP_MAX_POSTS) {
		pthread_mutex_unlock(&l->lock);
		return -EAGAIN;
	}
	l->posts[(l->post_head + l->post_count) % LOOP_MAX_POSTS] =
		(struct loop_post){ .cb = cb, .arg = arg };
	l->post_count++;
	pthread_mutex_unlock(&l->lock);
	wake(l);
	return 0;
}

static int run_posts(struct loop *l)
{
	int n = 0;

	for (;;) {
		struct loop_post p;

		pthread_mutex_lock(&l->lock);
		if (l->post_count == 0) {
			pthread_mutex_unlock(&l->lock);
			return n;
		}
		p = l->posts[l->post_head];
		l->post_head = (l->post_head + 1) % LOOP_MAX_POSTS;
		l->post_count--;
		pthread_mutex_unlock(&l->lock);
		p.cb(p.arg);
		n++;
	}
}

static int run_timers(struct loop *l)
{
	int64_t now = hal_clock_mono_ms(l->clock);
	int n = 0;

	/*
	 * Only timers due at entry run in this pass; a periodic timer whose next
	 * due time is already past (the loop was stalled) runs once, then is
	 * rescheduled from now, so a stall does not cause a burst.
	 */
	while (l->timers && l->timers->due_ms <= now && !l->stop) {
		struct loop_timer *t = l->timers;

		unlink_timer(l, t);
		if (t->period_ms) {
			t->due_ms += t->period_ms;
			if (t->due_ms <= now) {
				t->due_ms = now + t->period_ms;
			}
			insert_timer(l, t);
		}
		t->cb(t, t->arg);
		n++;
	}
	return n;
}

/* A callback earlier in this pass may have unwatched a descriptor. */
static bool still_watched(const struct loop *l, const struct loop_fd *f)
{
	for (int i = 0; i < l->nfds; i++) {
		if (l->fds[i].fd == f->fd && l->fds[i].cb == f->cb) {
			return true;
		}
	}
	return false;
}

int loop_run_once(struct loop *l, int max_wait_ms)
{
	struct pollfd pfd[LOOP_MAX_FDS + 1];
	struct loop_fd fds[LOOP_MAX_FDS];
	int timeout = max_wait_ms;
	int nfds = l->nfds;
	int n = 0;
	int rc;

	if (l->stop) {
		return -EINTR;
	}
	if (l->timers) {
		int64_t until = l->timers->due_ms - hal_clock_mono_ms(l->clock);

		if (until < 0) {
			until = 0;
		}
		if (timeout < 0 || until < timeout) {
			timeout = (int)until;
		}
	}
	pfd[0] = (struct pollfd){ .fd = l->wake[0], .events = POLLIN };
	/* Copy: a callback may watch or unwatch descriptors while we iterate. */
	memcpy(fds, l->fds, sizeof(fds[0]) * (size_t)nfds);
	for (int i = 0; i < nfds; i++) {
		pfd[i + 1] = (struct pollfd){ .fd = fds[i].fd, .events = fds[i].events };
	}
	rc = poll(pfd, (nfds_t)nfds + 1, timeout);
	if (rc < 0 && errno != EINTR) {
		return -errno;
	}
	if (rc > 0 && (pfd[0].revents & POLLIN)) {
		char buf[64];

		while (read(l->wake[0], buf, sizeof(buf)) > 0) {
		}
	}
	n += run_posts(l);
	for (int i = 0; rc > 0 && i < nfds && !l->stop; i++) {
		if (pfd[i + 1].revents && still_watched(l, &fds[i])) {
			fds[i].cb(fds[i].fd, pfd[i + 1].revents, fds[i].arg);
			n++;
		}
	}
	n += run_timers(l);
	return l->stop ? -EINTR : n;
}

int loop_run(struct loop *l)
{
	while (loop_run_once(l, -1) != -EINTR) {
	}
	return 0;
}

void loop_stop(struct loop *l)
{
	l->stop = 1;
	wake(l);
}
