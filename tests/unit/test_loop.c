/* Event loop: timer order, periods, stalls, posts from threads, fds, stop. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "fake_clock.h"
#include "fw/loop.h"

struct rec {
	char log[64];
	int n;
};

static void note(struct rec *r, char c)
{
	if (r->n < (int)sizeof(r->log) - 1) {
		r->log[r->n++] = c;
		r->log[r->n] = '\0';
	}
}

struct tagged {
	struct rec *rec;
	char tag;
};

static void on_timer(struct loop_timer *t, void *arg)
{
	struct tagged *tg = arg;

	note(tg->rec, tg->tag);
}

static int setup(void **state)
{
	static struct fake_clock clk;
	static struct loop l;

	fake_clock_init(&clk, 1700000000000, 1000);
	assert_int_equal(loop_init(&l, &clk.clock), 0);
	*state = &l;
	return 0;
}

static int teardown(void **state)
{
	loop_free(*state);
	return 0;
}

static void test_timers_fire_in_due_order(void **state)
{
	struct loop *l = *state;
	struct rec r = { 0 };
	struct loop_timer ta = { 0 }, tb = { 0 }, tc = { 0 };
	struct tagged a = { &r, 'a' }, b = { &r, 'b' }, c = { &r, 'c' };

	loop_timer_start(l, &ta, 300, 0, on_timer, &a);
	loop_timer_start(l, &tb, 100, 0, on_timer, &b);
	loop_timer_start(l, &tc, 200, 0, on_timer, &c);
	assert_int_equal(loop_run_once(l, 0), 0);
	fake_clock_advance(l->clock, 99);
	assert_int_equal(loop_run_once(l, 0), 0);
	assert_string_equal(r.log, "");
	fake_clock_advance(l->clock, 1);
	assert_int_equal(loop_run_once(l, 0), 1);
	assert_string_equal(r.log, "b");
	fake_clock_advance(l->clock, 500);
	assert_int_equal(loop_run_once(l, 0), 2);
	assert_string_equal(r.log, "bca");
	assert_false(ta.armed);
}

static void test_equal_due_times_keep_arming_order(void **state)
{
	struct loop *l = *state;
	struct rec r = { 0 };
	struct loop_timer t1 = { 0 }, t2 = { 0 }, t3 = { 0 };
	struct tagged a = { &r, '1' }, b = { &r, '2' }, c = { &r, '3' };

	loop_timer_start(l, &t1, 50, 0, on_timer, &a);
	loop_timer_start(l, &t2, 50, 0, on_timer, &b);
	loop_timer_start(l, &t3, 50, 0, on_timer, &c);
	fake_clock_advance(l->clock, 50);
	loop_run_once(l, 0);
	assert_string_equal(r.log, "123");
}

static void test_periodic_and_stall_does_not_burst(void **state)
{
	struct loop *l = *state;
	struct rec r = { 0 };
	struct loop_timer t = { 0 };
	struct tagged a = { &r, 'p' };

	loop_timer_start(l, &t, 10, 10, on_timer, &a);
	for (int i = 0; i < 5; i++) {
		fake_clock_advance(l->clock, 10);
		loop_run_once(l, 0);
	}
	assert_string_equal(r.log, "ppppp");
	/* A 1 s stall runs the timer once, not a hundred times. */
	fake_clock_advance(l->clock, 1000);
	assert_int_equal(loop_run_once(l, 0), 1);
	assert_string_equal(r.log, "pppppp");
	fake_clock_advance(l->clock, 9);
	assert_int_equal(loop_run_once(l, 0), 0);
	fake_clock_advance(l->clock, 1);
	assert_int_equal(loop_run_once(l, 0), 1);
	loop_timer_stop(l, &t);
	fake_clock_advance(l->clock, 100);
	assert_int_equal(loop_run_once(l, 0), 0);
}

static void test_restart_moves_timer(void **state)
{
	struct loop *l = *state;
	struct rec r = { 0 };
	struct loop_timer t = { 0 };
	struct tagged a = { &r, 'x' };

	loop_timer_start(l, &t, 10, 0, on_timer, &a);
	loop_timer_start(l, &t, 100, 0, on_timer, &a);
	fake_clock_advance(l->clock, 50);
	assert_int_equal(loop_run_once(l, 0), 0);
	fake_clock_advance(l->clock, 50);
	assert_int_equal(loop_run_once(l, 0), 1);
	assert_string_equal(r.log, "x");
}

struct self_stop {
	struct loop *l;
	struct loop_timer *other;
	int runs;
};

static void stop_other(struct loop_timer *t, void *arg)
{
	struct self_stop *s = arg;

	s->runs++;
	loop_timer_stop(s->l, s->other);
}

static void count_timer(struct loop_timer *t, void *arg)
{
	(*(int *)arg)++;
}

static void test_callback_can_stop_a_due_timer(void **state)
{
	struct loop *l = *state;
	struct loop_timer t1 = { 0 }, t2 = { 0 };
	int t2_runs = 0;
	struct self_stop s = { l, &t2, 0 };

	loop_timer_start(l, &t1, 10, 0, stop_other, &s);
	loop_timer_start(l, &t2, 10, 0, count_timer, &t2_runs);
	fake_clock_advance(l->clock, 10);
	loop_run_once(l, 0);
	assert_int_equal(s.runs, 1);
	assert_int_equal(t2_runs, 0);
}

struct poster {
	struct loop *l;
	int base;
};

static int post_log[4 * 200];
static int post_n;

static void on_post(void *arg)
{
	post_log[post_n++] = (int)(intptr_t)arg;
}

static void *post_thread(void *arg)
{
	struct poster *p = arg;

	for (int i = 0; i < 200; i++) {
		while (loop_post(p->l, on_post, (void *)(intptr_t)(p->base + i)) == -EAGAIN) {
			usleep(100);
		}
	}
	return NULL;
}

static void test_posts_from_threads_all_run_in_order(void **state)
{
	struct loop *l = *state;
	pthread_t th[4];
	struct poster p[4];
	int last[4] = { -1, -1, -1, -1 };

	post_n = 0;
	for (int i = 0; i < 4; i++) {
		p[i] = (struct poster){ l, i * 1000 };
		pthread_create(&th[i], NULL, post_thread, &p[i]);
	}
	/* Drain while they post; bounded by the number of iterations. */
	for (int spins = 0; post_n < 800 && spins < 200000; spins++) {
		loop_run_once(l, 10);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
	}
	loop_run_once(l, 0);
	assert_int_equal(post_n, 800);
	/* Each thread's posts ran in the order it posted them. */
	for (int i = 0; i < post_n; i++) {
		int who = post_log[i] / 1000, seq = post_log[i] % 1000;

		assert_true(seq > last[who]);
		last[who] = seq;
	}
}

static void test_post_queue_full_reports_eagain(void **state)
{
	struct loop *l = *state;
	int i;

	post_n = 0;
	for (i = 0; i < LOOP_MAX_POSTS; i++) {
		assert_int_equal(loop_post(l, on_post, (void *)(intptr_t)i), 0);
	}
	assert_int_equal(loop_post(l, on_post, NULL), -EAGAIN);
	assert_int_equal(loop_run_once(l, 0), LOOP_MAX_POSTS);
	assert_int_equal(post_n, LOOP_MAX_POSTS);
	assert_int_equal(loop_post(l, on_post, (void *)(intptr_t)7), 0);
}

static void on_fd(int fd, short revents, void *arg)
{
	char buf[8];

	assert_true(revents & POLLIN);
	assert_int_equal(read(fd, buf, sizeof(buf)), 3);
	(*(int *)arg)++;
}

static void test_watched_fd_runs_callback(void **state)
{
	struct loop *l = *state;
	int p[2], hits = 0;

	assert_int_equal(pipe(p), 0);
	assert_int_equal(loop_watch(l, p[0], POLLIN, on_fd, &hits), 0);
	assert_int_equal(loop_watch(l, p[0], POLLIN, on_fd, &hits), -EEXIST);
	assert_int_equal(loop_run_once(l, 0), 0);
	assert_int_equal(write(p[1], "abc", 3), 3);
	assert_int_equal(loop_run_once(l, 1000), 1);
	assert_int_equal(hits, 1);
	loop_unwatch(l, p[0]);
	assert_int_equal(write(p[1], "abc", 3), 3);
	assert_int_equal(loop_run_once(l, 0), 0);
	assert_int_equal(hits, 1);
	close(p[0]);
	close(p[1]);
}

static void test_fd_table_bounded(void **state)
{
	struct loop *l = *state;
	int hits = 0;

	for (int i = 0; i < LOOP_MAX_FDS; i++) {
		assert_int_equal(loop_watch(l, 100 + i, POLLIN, on_fd, &hits), 0);
	}
	assert_int_equal(loop_watch(l, 999, POLLIN, on_fd, &hits), -ENOSPC);
	for (int i = 0; i < LOOP_MAX_FDS; i++) {
		loop_unwatch(l, 100 + i);
	}
	assert_int_equal(l->nfds, 0);
}

static void *stopper(void *arg)
{
	usleep(20000);
	loop_stop(arg);
	return NULL;
}

static void test_stop_from_another_thread_ends_run(void **state)
{
	struct loop *l = *state;
	pthread_t th;

	pthread_create(&th, NULL, stopper, l);
	/* Blocks in poll() with no timers; only the stop can end it. */
	assert_int_equal(loop_run(l), 0);
	pthread_join(th, NULL);
	assert_int_equal(loop_run_once(l, 0), -EINTR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_timers_fire_in_due_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_equal_due_times_keep_arming_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_periodic_and_stall_does_not_burst, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_restart_moves_timer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_callback_can_stop_a_due_timer, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_posts_from_threads_all_run_in_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_post_queue_full_reports_eagain, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_watched_fd_runs_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fd_table_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_from_another_thread_ends_run, setup,
						teardown),
	};
	return cmocka_run_group_tests_name("loop", tests, NULL, NULL);
}
