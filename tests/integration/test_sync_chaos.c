/*
 * The sync worker (apps/sync/sync.c) end to end over the real uplink stack:
 * its HTTPS client over lwIP on the sim slirp wire (hal/net) to
 * tools/citysim on host loopback (10.0.2.2, name city.hotline.test), the
 * device identity under DATA_DIR/keys as the daemon loads it, and outbox
 * events written with the store API into a real data directory.
 *
 * Chaos: 10,000 events of the sizes and types services write, uploaded
 * while the wire drops 2-3% of frames and is cut 6 times at random points
 * of the drain, once for longer than the worker's request timeout (each
 * restore kicks the worker, as the daemon does on carrier). citysim's own SQLite then holds every seq
 * exactly once, in arrival order, with payloads byte-identical to the
 * outbox. City down: the worker backs off with a plain-words error in both
 * languages, and drains the backlog once citysim is started and the worker
 * kicked. Counts, cuts, drops and durations are printed.
 *
 * HE_CHAOS_EVENTS scales the event count (200..100000; default 10000),
 * HE_CHAOS_SEED fixes the random choices (printed either way).
 *
 * Arguments: the gen-test-pki script, then the citysim command (an
 * emulator first in the cross build).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "fw/outbox.h"
#include "fw/store.h"
#include "hal_sim/wire.h"
#include "sync/httpc.h"
#include "sync/sync.h"
#include "test_app.h"
#include "test_city.h"
#include "test_util.h"
#include "test_wire.h"

#define CITY_HOST   "city.hotline.test"
#define DEVICE	    "sim-0001"
#define CUTS	    6	 /* wire cuts during the chaos drain */
#define REQUEST_MS  6000 /* the worker's request timeout: one cut outlasts it */
#define CHAOS_MAX_S 120	 /* the drain must end within this */
#define DROP_MIN    20	 /* per mille of frames dropped at random, drawn again */
#define DROP_MAX    30	 /* after each cut */

static struct test_city_env env;
static struct hal_link wire;
static unsigned int seed;  /* the generator's state */
static unsigned int seed0; /* where it started (printed) */

/* ---- helpers ------------------------------------------------------------- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The test's own random choices (xorshift), reproducible from the seed. */
static unsigned int rnd(unsigned int lo, unsigned int hi)
{
	seed ^= seed << 13;
	seed ^= seed >> 17;
	seed ^= seed << 5;
	return lo + seed % (hi - lo + 1);
}

static const char *const types[] = { "order.received",	   "request.filed", "queue.ticket_taken",
				     "order.replied",	   "rating.given",  "order.extension_asked",
				     "queue.ticket_called" };

/*
 * n events in transactions of up to 100, as services write them: payloads
 * of about 200-400 bytes made with cJSON (services print theirs the same
 * way). @return the payload bytes written
 */
static size_t append_events(sqlite3 *db, int first, int n)
{
	static const char *const words[] = { "路灯不亮", "噪音扰民",	 "占道经营",
					     "供水中断", "street light", "noise at night",
					     "water cut" };
	size_t bytes = 0;

	for (int done = 0; done < n;) {
		assert_int_equal(store_begin(db), 0);
		for (int k = 0; k < 100 && done < n; k++, done++) {
			int i = first + done;
			cJSON *o = cJSON_CreateObject();
			char text[320] = "";
			char number[32];
			char *json;
			int parts = (int)rnd(4, 16);

			for (int w = 0; w < parts; w++) {
				const char *word = words[rnd(0, 6)];

				if (strlen(text) + strlen(word) + 2 < sizeof(text)) {
					strcat(text, word);
					strcat(text, w + 1 < parts ? "，" : "。");
				}
			}
			snprintf(number, sizeof(number), "GD2026%06d", i % 1000000);
			cJSON_AddStringToObject(o, "number", number);
			cJSON_AddNumberToObject(o, "n", i);
			cJSON_AddStringToObject(o, "office", "测试县12345转办中心");
			cJSON_AddStringToObject(o, "actor", "staff-07");
			cJSON_AddNumberToObject(o, "at_ms", 1763800000000.0 + i * 1000.0);
			cJSON_AddStringToObject(o, "text", text);
			json = cJSON_PrintUnformatted(o);
			assert_non_null(json);
			bytes += strlen(json);
			assert_int_equal(outbox_append(db, types[(unsigned int)i % 7], json, NULL),
					 0);
			free(json);
			cJSON_Delete(o);
		}
		assert_int_equal(store_commit(db), 0);
	}
	return bytes;
}

static struct sync *worker_make(const char *data_dir, uint16_t port, int backoff_min_ms,
				int backoff_max_ms)
{
	struct sync_params sp = {
		.data_dir = data_dir,
		.city_ip = SIM_WIRE_GATEWAY_IP,
		.city_port = port,
		.city_host = CITY_HOST,
		.backoff_min_ms = backoff_min_ms,
		.backoff_max_ms = backoff_max_ms,
		.idle_poll_ms = 500,
		.request_timeout_ms = REQUEST_MS,
	};
	struct sync *s = NULL;

	assert_int_equal(sync_create(&sp, &s), 0);
	return s;
}

/* The city's store and the device's database side by side, read-only. */
static sqlite3 *open_both(const char *city_dir, const char *data_dir)
{
	char p[PATH_MAX + 96];
	char sql[PATH_MAX + 160];
	sqlite3 *db = NULL;

	snprintf(p, sizeof(p), "file:%s/citysim.db?mode=ro", city_dir);
	assert_int_equal(sqlite3_open_v2(p, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL),
			 SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	snprintf(sql, sizeof(sql), "ATTACH 'file:%s/" STORE_FILE "?mode=ro' AS dev", data_dir);
	test_sql_exec(db, sql);
	return db;
}

/*
 * citysim (its store in city_dir) holds seq 1..n of the device exactly
 * once, and each row equals the outbox row of data_dir (event id, type,
 * created_ms as at_ms, payload bytes).
 */
static void assert_city_has_all(const char *city_dir, const char *data_dir, int64_t n)
{
	sqlite3 *db = open_both(city_dir, data_dir);

	assert_int_equal(test_sql_int(db, "SELECT count(*) FROM main.events"), n);
	assert_int_equal(
		test_sql_int(db, "SELECT count(*) FROM main.events WHERE device = '" DEVICE "'"),
		n);
	assert_int_equal(test_sql_int(db, "SELECT count(DISTINCT seq) FROM main.events"), n);
	assert_int_equal(test_sql_int(db, "SELECT min(seq) FROM main.events"), 1);
	assert_int_equal(test_sql_int(db, "SELECT max(seq) FROM main.events"), n);
	assert_int_equal(test_sql_int(db, "SELECT count(*) FROM main.rejected"), 0);
	assert_int_equal(test_sql_int(db, "SELECT count(*) FROM dev.outbox"), n);
	assert_int_equal(test_sql_int(db, "SELECT count(*) FROM main.events e JOIN dev.outbox o "
					  "ON o.seq = e.seq WHERE e.event_id = o.event_id AND "
					  "e.type = o.type AND e.at_ms = o.created_ms AND "
					  "CAST(e.payload AS BLOB) = CAST(o.payload AS BLOB)"),
			 n);
	assert_int_equal(test_sql_int(db, "SELECT count(*) FROM main.events e JOIN dev.meta m "
					  "ON m.key = 'db_epoch' AND m.value = e.db_epoch"),
			 n);
	assert_int_equal(test_sql_int(db,
				      "SELECT acked_upto FROM main.progress WHERE device = '" DEVICE
				      "'"),
			 n);
	/* In order: no event reached the city after a later one. */
	assert_int_equal(test_sql_int(db,
				      "SELECT count(*) FROM main.events a JOIN main.events b "
				      "ON b.seq = a.seq + 1 WHERE b.received_ms < a.received_ms"),
			 0);
	sqlite3_close(db);
}

static bool wait_status(struct sync *s, int secs, bool (*fn)(const struct sync_status *, int64_t),
			int64_t arg, struct sync_status *st)
{
	int64_t end = test_mono_us() + (int64_t)secs * 1000000;

	do {
		assert_int_equal(sync_status(s, st), 0);
		if (fn(st, arg)) {
			return true;
		}
		usleep(10 * 1000);
	} while (test_mono_us() < end);
	return false;
}

static bool drained(const struct sync_status *st, int64_t n)
{
	return st->waiting == 0 && st->acked_upto == n && st->state == SYNC_IDLE;
}

static bool acked_some(const struct sync_status *st, int64_t n)
{
	return st->acked_upto >= n;
}

static bool backing_off(const struct sync_status *st, int64_t fails)
{
	return st->state == SYNC_BACKOFF && st->failures_in_row >= (uint32_t)fails;
}

static int city_log_count(const struct test_city *city, const char *what)
{
	size_t len = 0;
	char *text = test_file_read(city->log, &len);
	int n = 0;

	for (const char *p = text; (p = strstr(p, what)) != NULL; p += strlen(what)) {
		n++;
	}
	free(text);
	return n;
}

static int events_wanted(void)
{
	const char *v = getenv("HE_CHAOS_EVENTS");
	long n = v != NULL ? strtol(v, NULL, 10) : 10000;

	return n < 200 ? 200 : n > 100000 ? 100000 : (int)n;
}

/* ---- tests --------------------------------------------------------------- */

static void test_chaos_drain(void **state)
{
	const int n = events_wanted();
	int64_t cut_at[CUTS];
	struct sim_wire_stats w0, w1;
	struct test_city city;
	struct test_data d;
	struct sync_status st;
	char city_dir[PATH_MAX + 16];
	int64_t t0, elapsed_ms, cut_ms = 0, restore_at = 0;
	int cuts = 0;
	int city_posts;
	const int long_cut = (int)rnd(0, CUTS - 1); /* this one breaks a request */
	bool is_cut = false;
	unsigned int drop = 0;
	size_t bytes;
	struct sync *s;

	test_data_open(&d, "sync_chaos", now_ms(), false);
	assert_int_equal(test_city_keys_install(&env, d.dir, "device"), 0);
	bytes = append_events(d.db, 1, n);
	assert_int_equal(outbox_pending(d.db), n);
	snprintf(city_dir, sizeof(city_dir), "%s/city", d.dir);
	assert_int_equal(test_city_start(&city, &env, "city", "--data", city_dir, NULL), 0);

	/* Cut points: random places of the drain, in order, all before the
	 * last batch (acked_upto moves by a batch of up to 200 at a time). */
	for (int i = 0; i < CUTS; i++) {
		int64_t span = n - SYNC_BATCH_EVENTS_MAX - 1;

		cut_at[i] =
			span * (i + 1) / (CUTS + 1) + rnd(0, (unsigned int)span / 10) - span / 20;
	}
	s = worker_make(d.dir, city.port, 100, 1000);
	assert_int_equal(sim_wire_get_stats(&wire, &w0), 0);
	drop = rnd(DROP_MIN, DROP_MAX);
	assert_int_equal(sim_wire_set_drop(&wire, drop), 0);
	t0 = test_mono_us();
	assert_int_equal(sync_start(s), 0);
	for (;;) {
		int64_t now = test_mono_us();

		assert_int_equal(sync_status(s, &st), 0);
		if (!is_cut && st.waiting == 0 && st.acked_upto == n) {
			break;
		}
		if ((now - t0) / 1000000 > CHAOS_MAX_S) {
			fail_msg("not drained after %d s: acked_upto %lld of %d, state %s, last "
				 "error %s (%s)",
				 CHAOS_MAX_S, (long long)st.acked_upto, n,
				 sync_state_name(st.state), st.last_code, st.last_error_en);
		}
		if (is_cut && now >= restore_at) {
			/* Carrier back: the daemon kicks the worker. */
			assert_int_equal(sim_wire_set_cut(&wire, false), 0);
			sync_kick(s);
			is_cut = false;
			drop = rnd(DROP_MIN, DROP_MAX);
			assert_int_equal(sim_wire_set_drop(&wire, drop), 0);
		} else if (!is_cut && cuts < CUTS && st.acked_upto >= cut_at[cuts]) {
			int64_t len_ms =
				cuts == long_cut ? REQUEST_MS + rnd(500, 1500) : rnd(200, 1500);

			usleep(rnd(0, 300) * 1000); /* somewhere inside the next batch */
			assert_int_equal(sim_wire_set_cut(&wire, true), 0);
			cuts++;
			cut_ms += len_ms;
			restore_at = test_mono_us() + len_ms * 1000;
			is_cut = true;
		}
		usleep(20 * 1000);
	}
	elapsed_ms = (test_mono_us() - t0) / 1000;
	assert_int_equal(sim_wire_set_drop(&wire, 0), 0);
	assert_int_equal(sim_wire_get_stats(&wire, &w1), 0);
	assert_true(wait_status(s, 30, drained, n, &st));
	sync_stop(s);
	assert_int_equal(sync_status(s, &st), 0);
	assert_int_equal(st.waiting, 0);
	assert_int_equal(st.acked_upto, n);
	assert_int_equal(st.parked, 0);
	assert_int_equal(outbox_pending(d.db), 0);
	assert_int_equal(cuts, CUTS);
	assert_true(w1.dropped - w0.dropped > 0);

	print_message("chaos: %d events (%zu payload bytes, %.0f B/event) drained over lwIP/slirp "
		      "in %lld ms (%.0f events/s)\n",
		      n, bytes, (double)bytes / n, (long long)elapsed_ms,
		      (double)n * 1000.0 / (double)(elapsed_ms ? elapsed_ms : 1));
	print_message("chaos: %d cuts (%lld ms cut in all), random drops 2-3%%: %llu of %llu "
		      "frames dropped; seed %u\n",
		      cuts, (long long)cut_ms, (unsigned long long)(w1.dropped - w0.dropped),
		      (unsigned long long)(w1.to_host - w0.to_host + w1.to_appliance -
					   w0.to_appliance + w1.dropped - w0.dropped),
		      seed0);
	city_posts = city_log_count(&city, " POST /api/v1/events 200");
	/* Each event went in exactly one answered batch; a batch whose answer
	 * was lost was sent again, and the city answered it without storing
	 * anything twice (counted below). */
	assert_int_equal(st.events_sent, n);
	assert_true(city_posts >= (int)st.batches);
	print_message("chaos: worker: %llu rounds, %llu failed, %llu kicks, %llu batches answered, "
		      "%llu events in them; the city answered %d uploads 200 (%d answers lost on "
		      "the wire, their batch sent again and not stored twice)\n",
		      (unsigned long long)st.rounds, (unsigned long long)st.failures,
		      (unsigned long long)st.kicks, (unsigned long long)st.batches,
		      (unsigned long long)st.events_sent, city_posts, city_posts - (int)st.batches);
	sync_destroy(s);
	assert_int_equal(test_city_stop(&city), 0);
	assert_city_has_all(city_dir, d.dir, n);
	test_data_close(&d);
}

static void test_city_down_then_up(void **state)
{
	const int n = 2000;
	struct test_city city;
	struct test_data d;
	struct sync_status st;
	char city_dir[PATH_MAX + 16];
	char listen[32];
	uint16_t port = test_free_port();
	int64_t t_kick, first_ack_ms, drain_ms;
	int64_t ceiling_seen = 0;
	struct sync *s;

	test_data_open(&d, "sync_down", now_ms(), false);
	assert_int_equal(test_city_keys_install(&env, d.dir, "device"), 0);
	append_events(d.db, 1, n / 2);
	snprintf(city_dir, sizeof(city_dir), "%s/city", d.dir);
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", (unsigned int)port);

	/* Nothing listens at the city's address: the worker backs off. */
	s = worker_make(d.dir, port, 100, 1600);
	assert_int_equal(sync_start(s), 0);
	assert_true(wait_status(s, 30, backing_off, 5, &st));
	assert_int_equal(st.waiting, n / 2);
	assert_int_equal(st.acked_upto, 0);
	assert_int_equal(st.last_ok_ms, 0);
	assert_string_equal(st.last_code, httpc_reason_name(HTTPC_R_REFUSED));
	assert_int_equal(st.last_errno, -ECONNREFUSED);
	assert_string_equal(st.last_error_en, httpc_reason_en(HTTPC_R_REFUSED));
	assert_string_equal(st.last_error_zh, httpc_reason_zh(HTTPC_R_REFUSED));
	assert_true((unsigned char)st.last_error_zh[0] >= 0x80); /* Chinese, not a copy */
	assert_true(st.backoff_ms >= 800 && st.backoff_ms <= 1600);
	assert_true(st.retry_in_ms >= 0 && st.retry_in_ms <= st.backoff_ms);
	ceiling_seen = st.backoff_ms;

	/* More is written while the city is away; the backoff stays capped. */
	append_events(d.db, n / 2 + 1, n / 2);
	assert_true(wait_status(s, 30, backing_off, 8, &st));
	assert_int_equal(st.backoff_ms, 1600);
	assert_int_equal(st.waiting, n);

	/* The city comes up; the uplink's return kicks the worker. */
	assert_int_equal(
		test_city_start(&city, &env, "city", "--data", city_dir, "--listen", listen, NULL),
		0);
	assert_int_equal(city.port, port);
	t_kick = test_mono_us();
	sync_kick(s);
	assert_true(wait_status(s, 30, acked_some, 1, &st));
	first_ack_ms = (test_mono_us() - t_kick) / 1000;
	assert_true(wait_status(s, 60, drained, n, &st));
	drain_ms = (test_mono_us() - t_kick) / 1000;
	assert_int_equal(st.last_code[0], '\0');
	assert_int_equal(st.last_error_en[0], '\0');
	assert_true(st.last_ok_ms > 0);
	assert_int_equal(st.failures_in_row, 0);
	/* Quickly: the kick cut the backoff short (well under one ceiling). */
	assert_true(first_ack_ms < 3000);
	print_message("city down: %llu failed rounds, backoff ceiling %lld ms; after the kick "
		      "the first ack in %lld ms, %d events drained in %lld ms\n",
		      (unsigned long long)st.failures, (long long)ceiling_seen,
		      (long long)first_ack_ms, n, (long long)drain_ms);
	sync_stop(s);
	sync_destroy(s);
	assert_int_equal(test_city_stop(&city), 0);
	assert_city_has_all(city_dir, d.dir, n);
	test_data_close(&d);
}

/* ---- main ---------------------------------------------------------------- */

static int group_setup(void **state)
{
	return test_wire_up(&wire, 0xc4a05);
}

static int group_teardown(void **state)
{
	test_wire_down(&wire);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chaos_drain),
		cmocka_unit_test(test_city_down_then_up),
	};
	const char *sv = getenv("HE_CHAOS_SEED");
	int fails;

	fails = test_city_env_init(&env, argc, argv, "sync_chaos");
	if (fails != 0) {
		return fails;
	}
	signal(SIGPIPE, SIG_IGN);
	seed = sv != NULL ? (unsigned int)strtoul(sv, NULL, 10) : (unsigned int)time(NULL);
	if (seed == 0) {
		seed = 1;
	}
	seed0 = seed;
	print_message("test_sync_chaos: %d events, seed %u\n", events_wanted(), seed);
	fails = cmocka_run_group_tests(tests, group_setup, group_teardown);
	if (fails == 0) {
		test_rmtree(env.tmp);
	}
	return fails ? 1 : 0;
}
