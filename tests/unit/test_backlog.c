/*
 * The backlog policy (firmware/backlog.c, the outbox's event classes):
 * storage levels with their refusals, the reserve file, statistics
 * summaries that the real tools/citysim counts seq by seq while the real
 * sync worker uploads over kernel sockets, and, in a user and mount
 * namespace of its own, a real tmpfs filled to the last byte where the
 * released reserve still takes essential records.
 *
 * Arguments: the gen-test-pki script, then the citysim command.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "auth/auth.h"
#include "fw/backlog.h"
#include "fw/config.h"
#include "fw/outbox.h"
#include "fw/rng.h"
#include "fw/store.h"
#include "kiosk/kiosk.h"
#include "orders/calstore.h"
#include "orders/orders.h"
#include "queue/queue.h"
#include "sync/sync.h"
#include "test_app.h"
#include "test_city.h"
#include "test_transport.h"
#include "test_util.h"

#define CITY_HOST "city.hotline.test"
#define LOOPBACK  0x7f000001u
#define MB	  (1024 * 1024LL)

static struct test_city_env env;
static uint16_t city_port;
static struct httpc_transport kernel_transport = { .ops = &test_kernel_ops, .priv = &city_port };

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void init(struct test_data *d, int quota)
{
	struct backlog_params p = {
		.data_dir = d->dir,
		.low_free_mb = 256,
		.critical_free_mb = 64,
		.reserve_mb = 1,
		.stats_quota = quota,
	};

	backlog_test_set_free(1024 * MB);
	assert_int_equal(backlog_init(&p), 0);
}

static void append(sqlite3 *db, const char *type, int64_t *seq)
{
	assert_int_equal(store_begin(db), 0);
	assert_int_equal(outbox_append(db, type, "{\"n\": 1, \"text\": \"事件\"}", seq), 0);
	assert_int_equal(store_commit(db), 0);
}

static bool reserve_exists(const struct test_data *d)
{
	char p[PATH_MAX + 32];

	snprintf(p, sizeof(p), "%s/%s", d->dir, BACKLOG_RESERVE_FILE);
	return test_file_exists(p);
}

/*
 * The calendar (with the built-in years when seed) and the orders service
 * on d's clock, as the daemon makes them; rules must outlive *o.
 */
static void orders_open(struct test_data *d, bool seed, int attachment_max_kb,
			struct calstore **cal, struct deadline_rules *rules, struct orders **o)
{
	struct orders_params op = {
		.data_dir = d->dir,
		.clock = &d->clk.clock,
		.rules = rules,
		.utc_offset_min = 480,
		.due_soon_days = 2,
		.attachment_max_kb = attachment_max_kb,
		.office_name = "测试县",
	};

	assert_int_equal(calstore_open(d->dir, &d->clk.clock, cal), 0);
	if (seed) {
		assert_true(calstore_seed_builtin(*cal) >= 0);
	}
	deadline_preset(CONFIG_DEADLINES_NATIONAL, CONFIG_COUNT_NEXT_DAY, 1, rules);
	op.cal = *cal;
	assert_int_equal(orders_create(&op, o), 0);
}

/* ---- classes and levels ---------------------------------------------------- */

static void test_classes(void **state)
{
	static const char *const essential[] = {
		"order.received",	  "order.replied",
		"order.attachment_added", "request.filed",
		"rating.submitted",	  "audit.head",
		"identity.renewed",	  "stats.summary",
		"queue.something_new",	  "x",
	};
	static const char *const stats[] = {
		"queue.ticket_issued",	    "queue.ticket_called",  "queue.ticket_finished",
		"queue.ticket_transferred", "queue.window_changed", "queue.day_summary",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(essential) / sizeof(essential[0]); i++) {
		assert_int_equal(outbox_class(essential[i]), OUTBOX_ESSENTIAL);
	}
	for (size_t i = 0; i < sizeof(stats) / sizeof(stats[0]); i++) {
		assert_int_equal(outbox_class(stats[i]), OUTBOX_STATS);
	}
	assert_int_equal(outbox_class(NULL), OUTBOX_ESSENTIAL);
	/* never initialised: nothing is refused */
	backlog_shutdown();
	assert_int_equal(backlog_level(), BACKLOG_OK);
	assert_false(backlog_refuses(OUTBOX_STATS));
}

static void test_levels_and_reserve(void **state)
{
	struct test_data d;
	struct backlog_status st;
	struct backlog_params bad = { .low_free_mb = 10, .critical_free_mb = 10, .stats_quota = 5 };
	cJSON *h;

	(void)state;
	test_data_open(&d, "test_backlog", now_ms(), false);
	bad.data_dir = d.dir;
	assert_int_equal(backlog_init(&bad), -EINVAL); /* critical must be below low */
	init(&d, 1000);
	assert_int_equal(backlog_check(), BACKLOG_OK);
	assert_true(reserve_exists(&d));
	assert_int_equal(backlog_status(d.db, &st), 0);
	assert_string_equal(st.level_name, "ok");
	assert_int_equal(st.reserve_bytes, 1 * MB);
	assert_int_equal(st.usable_bytes, 1024 * MB);
	assert_true(st.db_bytes > 0);

	backlog_test_set_free(200 * MB);
	assert_int_equal(backlog_level(), BACKLOG_LOW);
	assert_false(backlog_refuses(OUTBOX_STATS));
	assert_true(reserve_exists(&d));
	assert_int_equal(backlog_status(NULL, &st), 0); /* its own connection */
	assert_string_equal(st.level_name, "low");
	assert_non_null(strstr(st.text_en, "running low"));
	assert_non_null(strstr(st.text_zh, "存储空间不足"));
	/* at low every waiting statistics event is summarised (from 64 on) */
	for (int i = 0; i < 63; i++) {
		append(d.db, "queue.ticket_issued", NULL);
	}
	assert_int_equal(backlog_enforce(d.db), 0);
	append(d.db, "queue.ticket_finished", NULL);
	assert_int_equal(backlog_enforce(d.db), 64);
	assert_int_equal(test_sql_int(d.db, "SELECT count(*) FROM outbox"), 1);
	assert_int_equal(test_sql_int(d.db, "SELECT count(*) FROM outbox WHERE payload LIKE "
					    "'%\"reason\":\"storage_low\"%' AND seq = 1"),
			 1);

	backlog_test_set_free(50 * MB);
	assert_int_equal(backlog_level(), BACKLOG_CRITICAL);
	assert_false(reserve_exists(&d)); /* released for essential records */
	assert_true(backlog_refuses(OUTBOX_STATS));
	assert_false(backlog_refuses(OUTBOX_ESSENTIAL));
	assert_true(backlog_refuses_extra());
	h = cJSON_CreateObject();
	backlog_health_json(d.db, h);
	assert_string_equal(cJSON_GetObjectItem(h, "level")->valuestring, "critical");
	assert_string_equal(cJSON_GetObjectItem(h, "message")->valuestring, BACKLOG_REFUSED_EN);
	assert_string_equal(cJSON_GetObjectItem(h, "message_zh")->valuestring, BACKLOG_REFUSED_ZH);
	/* the release does not move the level back: usable is still 50 MB */
	assert_int_equal(cJSON_GetObjectItem(h, "usable_bytes")->valuedouble, (double)(50 * MB));
	assert_int_equal(cJSON_GetObjectItem(h, "free_bytes")->valuedouble, (double)(51 * MB));
	cJSON_Delete(h);
	assert_int_equal(backlog_check(), BACKLOG_CRITICAL);

	backlog_test_set_free(300 * MB);
	assert_int_equal(backlog_level(), BACKLOG_OK);
	assert_true(reserve_exists(&d)); /* taken back */
	backlog_shutdown();
	test_data_close(&d);
}

/* ---- refusals at critical ---------------------------------------------- */

static void test_critical_refuses_non_essential(void **state)
{
	/* Monday 2023-11-13 10:00 in UTC+8: the hall is open */
	const int64_t t0 = 1699840800000LL;
	static const unsigned char png[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0 };
	struct test_data d;
	struct queue *q;
	struct queue_params qp;
	struct queue_ticket t;
	struct calstore *cal;
	struct deadline_rules rules;
	struct orders *o;
	struct orders_err err = { { 0 }, { 0 } };
	struct backlog_status st;
	int64_t seq = -1, before, att = 0;
	int perr = 0;
	cJSON *j;
	char text[4096];

	(void)state;
	test_data_open(&d, "test_backlog", t0, false);
	init(&d, 1000);
	qp = (struct queue_params){ .data_dir = d.dir,
				    .clock = &d.clk.clock,
				    .office_name = "测试县",
				    .recall_max = 3,
				    .priority_run = 3,
				    .rollover_min = 240,
				    .utc_offset_min = 480 };
	assert_int_equal(queue_create(&qp, &q), 0);
	orders_open(&d, true, 64, &cal, &rules, &o);
	/* ok: a ticket writes its statistics event; an attachment gets as far as
	 * looking up the order */
	before = test_sql_int(d.db, "SELECT count(*) FROM outbox");
	assert_int_equal(queue_issue(q, NULL, 1, false, false, &t, &perr), 0);
	assert_int_equal(test_sql_int(d.db, "SELECT count(*) FROM outbox WHERE type = "
					    "'queue.ticket_issued'"),
			 1);
	assert_int_equal(orders_add_attachment(o, &(struct orders_actor){ "li02", "staff" }, 999,
					       "a.png", "image/png", png, sizeof(png), &att, &err),
			 -ENOENT);

	backlog_test_set_free(10 * MB);
	assert_int_equal(backlog_level(), BACKLOG_CRITICAL);
	/* the office keeps running: a ticket is issued, its event only counted */
	before = test_sql_int(d.db, "SELECT count(*) FROM outbox");
	assert_int_equal(queue_issue(q, NULL, 1, false, false, &t, &perr), 0);
	assert_int_equal(queue_issue(q, NULL, 1, false, false, &t, &perr), 0);
	assert_int_equal(test_sql_int(d.db, "SELECT count(*) FROM outbox"), before);
	assert_int_equal(test_sql_int(d.db, "SELECT count(*) FROM queue_tickets"), 3);
	assert_int_equal(store_begin(d.db), 0);
	assert_int_equal(outbox_append(d.db, "queue.day_summary", "{}", &seq), 0);
	assert_int_equal(seq, 0);
	/* an essential record is written */
	assert_int_equal(outbox_append(d.db, "order.replied", "{\"order\": \"A1\"}", &seq), 0);
	assert_true(seq > 0);
	assert_int_equal(store_commit(d.db), 0);
	assert_int_equal(test_sql_int(d.db, "SELECT count(*) FROM outbox"), before + 1);
	/* a new attachment is refused with the one storage_full wording */
	assert_int_equal(orders_add_attachment(o, &(struct orders_actor){ "li02", "staff" }, 999,
					       "a.png", "image/png", png, sizeof(png), &att, &err),
			 -ENOSPC);
	assert_string_equal(err.en, BACKLOG_REFUSED_EN);
	assert_string_equal(err.zh, BACKLOG_REFUSED_ZH);
	assert_int_equal(backlog_status(d.db, &st), 0);
	assert_int_equal(st.unwritten, 3);
	assert_int_equal(st.unwritten_pending, 3);

	/* back to ok: the counted events go up as one summary */
	backlog_test_set_free(1024 * MB);
	assert_int_equal(backlog_enforce(d.db), 3);
	test_sql_text(d.db,
		      "SELECT payload FROM outbox WHERE type = 'stats.summary' ORDER BY seq DESC "
		      "LIMIT 1",
		      text, sizeof(text));
	j = cJSON_Parse(text);
	assert_non_null(j);
	assert_int_equal(cJSON_GetObjectItem(j, "unwritten_count")->valueint, 3);
	assert_int_equal(
		cJSON_GetObjectItem(cJSON_GetObjectItem(j, "unwritten"), "queue.ticket_issued")
			->valueint,
		2);
	assert_null(cJSON_GetObjectItem(j, "covers"));
	cJSON_Delete(j);
	assert_int_equal(backlog_status(d.db, &st), 0);
	assert_int_equal(st.unwritten_pending, 0);
	assert_int_equal(st.unwritten, 3);
	assert_int_equal(backlog_enforce(d.db), 0); /* nothing more */

	orders_destroy(o);
	calstore_close(cal);
	queue_destroy(q);
	backlog_shutdown();
	test_data_close(&d);
}

/* Over HTTP: at critical a staff member still signs for an order (an
 * essential event), and an attachment gets the one storage_full error. */
static void test_routes_at_critical(void **state)
{
	static const struct auth_actor admin = { "sv00", "supervisor" };
	static const uint8_t png[16] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	struct test_data d;
	struct calstore *cal;
	struct deadline_rules rules;
	struct orders *o;
	struct orders_err err = { { 0 }, { 0 } };
	struct auth *a;
	struct auth_params ap;
	struct kiosk k;
	struct fw_config cfg;
	struct test_sess staff;
	struct test_resp r;
	struct order *ord = malloc(sizeof(*ord));
	char item[1024], path[128];
	cJSON *j, *e;

	(void)state;
	assert_non_null(ord);
	test_data_open(&d, "test_backlog", 1699840800000LL, true);
	init(&d, 1000);
	orders_open(&d, false, 16, &cal, &rules, &o);
	ap = (struct auth_params){ .data_dir = d.dir, .clock = &d.clk.clock, .iterations = 1000 };
	assert_int_equal(auth_create(&ap, &a), 0);
	test_user_add(&d, 1000, &admin, "st01", "李四", KIOSK_ROLE_STAFF, "246810");
	test_kiosk_init(&k, &cfg);
	cfg.http_body_max = 64 * 1024;
	assert_int_equal(auth_routes_register(&k, a), 0);
	assert_int_equal(orders_routes_register(&k, o), 0);
	test_kiosk_start(&k, &cfg, a);
	test_http_login(kiosk_port(&k), "st01", "246810", &staff, &r);
	snprintf(item, sizeof(item),
		 "{\"type\":\"order.dispatch\",\"item_id\":\"d-1\",\"number\":\"SZ1\","
		 "\"channel\":\"phone\",\"category\":\"complaint\",\"field\":\"social\","
		 "\"title\":\"路灯不亮\",\"content\":\"幸福路12号路灯坏了。\","
		 "\"location\":\"幸福路12号\",\"urgency\":\"normal\",\"complexity\":"
		 "\"complex\",\"dispatch_ms\":%lld,"
		 "\"contact\":{\"name\":\"张三丰\",\"phone\":\"13812345678\"}}",
		 (long long)hal_clock_wall_ms(&d.clk.clock));
	j = cJSON_Parse(item);
	assert_int_equal(orders_apply_city(o, NULL, j, &err), 0);
	cJSON_Delete(j);
	assert_int_equal(orders_find(o, "SZ1", ord), 0);

	backlog_test_set_free(10 * MB);
	snprintf(path, sizeof(path), "/api/v1/orders/%lld/sign", (long long)ord->id);
	test_http_as(kiosk_port(&k), &staff, "POST", path, "application/json", NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(test_sql_int(d.db, "SELECT count(*) FROM outbox WHERE type = "
					    "'order.received'"),
			 1);
	snprintf(path, sizeof(path), "/api/v1/orders/%lld/attachments?name=reply.png",
		 (long long)ord->id);
	test_http_as(kiosk_port(&k), &staff, "POST", path, "image/png", png, sizeof(png), &r);
	test_http_assert_error(&r, 507, "storage_full");
	j = test_http_json(&r, 507);
	e = cJSON_GetObjectItem(j, "error");
	assert_string_equal(cJSON_GetObjectItem(e, "message")->valuestring, BACKLOG_REFUSED_EN);
	assert_string_equal(cJSON_GetObjectItem(e, "message_zh")->valuestring, BACKLOG_REFUSED_ZH);
	cJSON_Delete(j);
	assert_int_equal(test_sql_int(d.db, "SELECT count(*) FROM order_attachments"), 0);

	backlog_test_set_free(1024 * MB);
	test_http_as(kiosk_port(&k), &staff, "POST", path, "image/png", png, sizeof(png), &r);
	assert_int_equal(r.status, 201);
	assert_int_equal(test_sql_int(d.db, "SELECT count(*) FROM order_attachments"), 1);

	kiosk_stop(&k);
	auth_destroy(a);
	orders_destroy(o);
	calstore_close(cal);
	free(ord);
	backlog_shutdown();
	test_data_close(&d);
}

/* ---- summaries, the city and the worker ---------------------------------- */

/* Interleaved: 7 statistics events, then one essential, n times; returns the
 * number of essential events. */
static int write_mix(sqlite3 *db, int n)
{
	int ess = 0;

	for (int i = 0; i < n; i++) {
		char payload[64];

		assert_int_equal(store_begin(db), 0);
		for (int k = 0; k < 7; k++) {
			assert_int_equal(
				outbox_append(db,
					      k % 2 ? "queue.ticket_called" : "queue.ticket_issued",
					      "{\"number\": \"A001\"}", NULL),
				0);
		}
		snprintf(payload, sizeof(payload), "{\"n\": %d}", i);
		assert_int_equal(
			outbox_append(db, i % 3 ? "order.replied" : "request.filed", payload, NULL),
			0);
		ess++;
		assert_int_equal(store_commit(db), 0);
	}
	return ess;
}

/* reject: the city refuses the summary (citysim --reject-type stats.summary). */
static void summary_story(bool reject)
{
	struct test_data d;
	struct calstore *cal;
	struct deadline_rules rules;
	struct orders *o;
	mbedtls_x509_crt ca, cert;
	mbedtls_pk_context key;
	struct test_city city;
	char city_data[PATH_MAX + 16], p[PATH_MAX + 64], text[64 * 1024];
	struct sync_params sp;
	struct sync *s = NULL;
	struct sync_status ss;
	struct backlog_status st;
	int64_t last, sent, end, covered_total = 0;
	int ess, n;
	sqlite3 *cdb;
	cJSON *j;

	test_data_open(&d, "test_backlog", now_ms(), true);
	init(&d, 100);
	/* 1 essential, then 8 x 40 mixed: 280 statistics, 41 essential */
	append(d.db, "order.received", NULL);
	ess = 1 + write_mix(d.db, 40);
	last = outbox_last_seq(d.db);
	assert_int_equal(last, 321);
	/* the worker has sent up to 9 before (its answer lost): never rewritten */
	assert_int_equal(outbox_mark_sent(d.db, 9), 0);
	assert_int_equal(outbox_sent_upto(d.db), 9);
	assert_int_equal(outbox_mark_sent(d.db, 5), 0); /* only grows */
	assert_int_equal(outbox_sent_upto(d.db), 9);

	/* quota 100: 273 waiting above seq 9, summarised down to 50 */
	n = backlog_enforce(d.db);
	assert_int_equal(n, 273 - 50);
	assert_int_equal(test_sql_int(d.db, "SELECT count(*) FROM outbox WHERE seq <= 9"), 9);
	assert_int_equal(test_sql_int(d.db, "SELECT count(*) FROM outbox WHERE type IN "
					    "('order.replied', 'request.filed', "
					    "'order.received')"),
			 ess);
	assert_int_equal(test_sql_int(d.db, "SELECT count(*) FROM outbox WHERE type = "
					    "'stats.summary'"),
			 1);
	/* the summary keeps the seq of the first event it stands for (9 is essential) */
	assert_int_equal(test_sql_int(d.db, "SELECT seq FROM outbox WHERE type = 'stats.summary'"),
			 10);
	test_sql_text(d.db, "SELECT payload FROM outbox WHERE type = 'stats.summary'", text,
		      sizeof(text));
	j = cJSON_Parse(text);
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItem(j, "reason")->valuestring, "quota");
	assert_int_equal(cJSON_GetObjectItem(j, "count")->valueint, 223);
	assert_int_equal(cJSON_GetObjectItem(j, "first")->valueint, 10);
	{
		const cJSON *r, *bt = cJSON_GetObjectItem(j, "by_type");

		assert_int_equal(cJSON_GetObjectItem(bt, "queue.ticket_issued")->valueint +
					 cJSON_GetObjectItem(bt, "queue.ticket_called")->valueint,
				 223);
		cJSON_ArrayForEach(r, cJSON_GetObjectItem(j, "covers"))
		{
			int64_t a = (int64_t)cJSON_GetArrayItem(r, 0)->valuedouble;
			int64_t b = (int64_t)cJSON_GetArrayItem(r, 1)->valuedouble;

			/* no essential event inside a range */
			snprintf(p, sizeof(p),
				 "SELECT count(*) FROM outbox WHERE seq BETWEEN %lld AND %lld AND "
				 "type <> 'stats.summary'",
				 (long long)a, (long long)b);
			assert_int_equal(test_sql_int(d.db, p), 0);
			covered_total += b - a + 1;
		}
		assert_int_equal(covered_total, 223);
	}
	cJSON_Delete(j);
	assert_int_equal(backlog_status(d.db, &st), 0);
	assert_int_equal(st.waiting_stats, 7 + 50);	 /* 7 below the sent mark */
	assert_int_equal(st.waiting_essential, ess + 1); /* the summary is essential */
	assert_int_equal(st.summarised, 223);
	assert_int_equal(backlog_enforce(d.db), 0); /* 50 <= quota: nothing more */

	/* the city and the worker */
	test_city_tls_load(&env, &ca, &cert, &key);
	orders_open(&d, true, 64, &cal, &rules, &o);
	snprintf(city_data, sizeof(city_data), "%s/city", d.dir);
	if (reject) {
		assert_int_equal(test_city_start(&city, &env, "city", "--data", city_data,
						 "--reject-type", "stats.summary", NULL),
				 0);
	} else {
		assert_int_equal(test_city_start(&city, &env, "city", "--data", city_data, NULL),
				 0);
	}
	city_port = city.port;
	sp = (struct sync_params){
		.data_dir = d.dir,
		.clock = &d.clk.clock,
		.city_ip = LOOPBACK,
		.city_port = 8443,
		.city_host = CITY_HOST,
		.ca = &ca,
		.cert = &cert,
		.key = &key,
		.transport = &kernel_transport,
		.orders = o,
		.cal = cal,
		.backoff_min_ms = 20,
		.backoff_max_ms = 160,
		.idle_poll_ms = 100,
		.request_timeout_ms = 20000,
		.batch_events = 20,
	};
	assert_int_equal(sync_create(&sp, &s), 0);
	assert_int_equal(sync_start(s), 0);
	end = test_mono_us() + 30 * 1000000LL;
	do {
		assert_int_equal(sync_status(s, &ss), 0);
		if (ss.waiting == 0 && ss.state == SYNC_IDLE) {
			break;
		}
		usleep(10 * 1000);
	} while (test_mono_us() < end);
	assert_int_equal(ss.waiting, 0);
	assert_int_equal(ss.acked_upto, last);
	sent = outbox_sent_upto(d.db);
	assert_int_equal(sent, last); /* every batch was recorded before it was sent */
	sync_stop(s);
	sync_destroy(s);

	/* the city: every essential event exactly once, every seq accounted for */
	snprintf(p, sizeof(p), "%s/citysim.db", city_data);
	assert_int_equal(sqlite3_open_v2(p, &cdb, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_busy_timeout(cdb, 5000);
	assert_int_equal(test_sql_int(cdb, "SELECT count(*) FROM events WHERE type IN "
					   "('order.replied', 'request.filed', "
					   "'order.received')"),
			 ess);
	assert_int_equal(test_sql_int(cdb, "SELECT count(DISTINCT event_id) FROM events WHERE "
					   "type IN ('order.replied', 'request.filed', "
					   "'order.received')"),
			 ess);
	/* Stored, or rejected (then parked here): either way its seqs are
	 * accounted for and the contiguity passes them. */
	assert_int_equal(test_sql_int(cdb, "SELECT count(*) FROM events WHERE type = "
					   "'stats.summary'"),
			 reject ? 0 : 1);
	assert_int_equal(test_sql_int(cdb, "SELECT count(*) FROM rejected WHERE type = "
					   "'stats.summary'"),
			 reject ? 1 : 0);
	assert_int_equal(test_sql_int(d.db, "SELECT count(*) FROM sync_parked WHERE type = "
					    "'stats.summary'"),
			 reject ? 1 : 0);
	assert_int_equal(test_sql_int(cdb, "SELECT count(*) FROM covered"), 222);
	assert_int_equal(test_sql_int(cdb, "SELECT count(*) FROM events") +
				 test_sql_int(cdb, "SELECT count(*) FROM rejected") +
				 test_sql_int(cdb, "SELECT count(*) FROM covered"),
			 last);
	assert_int_equal(test_sql_int(cdb, "SELECT count(*) FROM events e JOIN covered c USING "
					   "(device, db_epoch, seq)"),
			 0);
	assert_int_equal(test_sql_int(cdb, "SELECT acked_upto FROM progress"), last);
	sqlite3_close(cdb);
	/* the local essential event ids are the city's */
	{
		sqlite3_stmt *q;
		int checked = 0;

		assert_int_equal(sqlite3_prepare_v2(d.db,
						    "SELECT event_id FROM outbox WHERE type IN "
						    "('order.replied', 'request.filed', "
						    "'order.received')",
						    -1, &q, NULL),
				 SQLITE_OK);
		assert_int_equal(sqlite3_open_v2(p, &cdb, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
		while (sqlite3_step(q) == SQLITE_ROW) {
			char sql[200];

			snprintf(sql, sizeof(sql),
				 "SELECT count(*) FROM events WHERE event_id = '%s'",
				 (const char *)sqlite3_column_text(q, 0));
			assert_int_equal(test_sql_int(cdb, sql), 1);
			checked++;
		}
		sqlite3_finalize(q);
		sqlite3_close(cdb);
		assert_int_equal(checked, ess);
	}
	printf("backlog: %d events (%d essential), 223 summarised into 1%s; the city accounts "
	       "for %lld seqs, acked_upto %lld\n",
	       (int)last, ess, reject ? " (rejected by the city)" : "", (long long)last,
	       (long long)last);

	assert_int_equal(test_city_stop(&city), 0);
	orders_destroy(o);
	calstore_close(cal);
	test_city_tls_free(&ca, &cert, &key);
	backlog_shutdown();
	test_data_close(&d);
}

/* ---- a real full file system --------------------------------------------- */

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0) {
		return -1;
	}
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

#define CHILD_SKIP 77
#define CHECK(c)                                                                              \
	do {                                                                                  \
		if (!(c)) {                                                                   \
			fprintf(stderr, "test_backlog: full disk: %s failed (line %d)\n", #c, \
				__LINE__);                                                    \
			_exit(1);                                                             \
		}                                                                             \
	} while (0)

/*
 * In the child: essential records of payload, a commit each, until one
 * fails; mixed alternates two types. *n counts the records written.
 * @return the failure's code
 */
static int append_until_fails(sqlite3 *db, const char *payload, bool mixed, int *n)
{
	int rc;

	for (;;) {
		CHECK(store_begin(db) == 0);
		rc = outbox_append(db, mixed && *n % 2 == 0 ? "rating.submitted" : "order.replied",
				   payload, NULL);
		if (rc == 0) {
			rc = store_commit(db);
		} else {
			store_rollback(db);
		}
		if (rc != 0) {
			return rc;
		}
		(*n)++;
		CHECK(*n < 10000);
	}
}

/* In the child: own user and mount namespace, a 6 MiB tmpfs as the data dir. */
static void full_disk_child(const char *dir)
{
	static char chunk[64 * 1024];
	char path[PATH_MAX + 32], map[64], payload[2100];
	uid_t uid = getuid();
	gid_t gid = getgid();
	struct backlog_params p = { .data_dir = dir,
				    .low_free_mb = 3,
				    .critical_free_mb = 2,
				    .reserve_mb = 1,
				    .stats_quota = 1000 };
	sqlite3 *db = NULL;
	int before_full = 0, after = 0, fd, rc;
	int64_t seq = -1;

	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
		fprintf(stderr, "test_backlog: no user namespace (%s): full-disk case skipped\n",
			strerror(errno));
		_exit(CHILD_SKIP);
	}
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
	CHECK(write_file("/proc/self/uid_map", map) == 0);
	CHECK(write_file("/proc/self/setgroups", "deny") == 0);
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
	CHECK(write_file("/proc/self/gid_map", map) == 0);
	CHECK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0);
	if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=6m,mode=0700") != 0) {
		fprintf(stderr, "test_backlog: cannot mount a tmpfs (%s): full-disk case skipped\n",
			strerror(errno));
		_exit(CHILD_SKIP);
	}
	CHECK(store_init(dir, NULL) == 0);
	CHECK(store_open(dir, &db) == 0);
	CHECK(backlog_init(&p) == 0);
	CHECK(backlog_check() == BACKLOG_OK);
	memset(payload, 'x', sizeof(payload));
	memcpy(payload, "{\"t\": \"", 7);
	memcpy(payload + 2096, "\"}", 3);

	/* fill the file system to the last byte while the reserve is held */
	snprintf(path, sizeof(path), "%s/filler", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	while (write(fd, chunk, sizeof(chunk)) > 0) {
	}
	while (write(fd, chunk, 512) > 0) {
	}
	close(fd);
	/* essential records until the database itself cannot grow */
	rc = append_until_fails(db, payload, false, &before_full);
	CHECK(rc == -ENOSPC);
	/* the level says critical: the reserve goes, essential records fit again */
	CHECK(backlog_check() == BACKLOG_CRITICAL);
	snprintf(path, sizeof(path), "%s/%s", dir, BACKLOG_RESERVE_FILE);
	CHECK(access(path, F_OK) != 0);
	/* statistics are refused (counted, not written) */
	CHECK(store_begin(db) == 0);
	CHECK(outbox_append(db, "queue.ticket_issued", payload, &seq) == 0);
	CHECK(seq == 0);
	CHECK(store_commit(db) == 0);
	/* essential records (2 KiB each, a commit each: the WAL grows by about
	 * three pages a commit) until the reserve is used up too */
	rc = append_until_fails(db, payload, true, &after);
	CHECK(rc == -ENOSPC);
	CHECK(after >= 20);
	CHECK(backlog_refuses_extra());
	CHECK(outbox_pending(db) == before_full + after);
	printf("backlog: full 6 MiB tmpfs: %d essential records fitted before ENOSPC, %d more "
	       "after the 1 MiB reserve was released; statistics refused\n",
	       before_full, after);
	fflush(stdout);
	store_close(db);
	backlog_shutdown();
	_exit(0);
}

static void test_summary_reaches_city(void **state)
{
	summary_story(false);
}

static void test_summary_rejected_still_counts(void **state)
{
	summary_story(true);
}

static void test_full_disk_reserve(void **state)
{
	char dir[PATH_MAX];
	pid_t pid;
	int status = 0;

	(void)state;
	assert_int_equal(test_tmpdir(dir, sizeof(dir), "test_backlog_full"), 0);
	assert_int_equal(rng_init(), 0);
	fflush(stdout);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		full_disk_child(dir);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	rng_free();
	test_rmtree(dir); /* the tmpfs went with the child's namespace */
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == CHILD_SKIP) {
		skip();
	}
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_levels_and_reserve),
		cmocka_unit_test(test_critical_refuses_non_essential),
		cmocka_unit_test(test_routes_at_critical),
		cmocka_unit_test(test_full_disk_reserve),
		cmocka_unit_test(test_summary_reaches_city),
		cmocka_unit_test(test_summary_rejected_still_counts),
	};
	int rc = test_city_env_init(&env, argc, argv, "test_backlog_city");

	if (rc != 0) {
		return rc;
	}
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	test_rmtree(env.tmp);
	return rc;
}
