/*
 * Work-order figures at the size of a busy county office after ten years:
 * 100,000 orders and 1,000,000 history rows (bulk-inserted in large
 * transactions, search index included), then p50/p99 of the staff screens'
 * calls: the order list with the common filters, search (trigram index,
 * and the LIKE scan below three characters), one order's detail, and the
 * home screen. Prints figures; asserts nothing about speed.
 *
 *   bench_orders [ORDERS] [HISTORY_PER_ORDER] [RUNS]   (defaults 100000 10 200)
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "fake_clock.h"
#include "fw/log.h"
#include "fw/pii.h"
#include "fw/rng.h"
#include "fw/store.h"
#include "orders/orders.h"
#include "test_util.h"

#define T0  1770948000000LL /* Friday 2026-02-13 10:00 in UTC+8 */
#define DAY 86400000LL

static const char *const depts[] = { "gov_office", "development", "market",	   "housing",
				     "hr_social",  "environment", "transport",	   "urban_mgmt",
				     "education",  "health",	  "civil_affairs", "natural_res" };
static const char *const topics[] = { "路灯不亮", "噪音扰民", "占道经营", "物业纠纷",
				      "社保转移", "公交线路", "垃圾清运", "拖欠工资",
				      "违章建筑", "食品安全", "供水中断", "学位申请" };
static const char *const places[] = { "城关镇人民路", "东城街道建设路", "西关镇新华街",
				      "南湖乡政府路", "北山镇工业园" };

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static uint32_t rnd_state = 12345;

static uint32_t rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return rnd_state >> 8;
}

static int seed(const char *dir, long n, int per)
{
	sqlite3 *db;
	sqlite3_stmt *ins, *hist;
	int ret = store_open(dir, &db);
	long h = 0;

	if (ret < 0) {
		return ret;
	}
	sqlite3_prepare_v2(
		db,
		"INSERT INTO orders (id, number, channel, category, field, code, title, "
		"content, location, urgency, complexity, state, dispatch_ms, received_ms, "
		"sign_due_ms, due_ms, lead_dept, handler, lookup_code, printed, "
		"updated_ms, due_key, urged, replied_ms, visit) VALUES (?1, ?2, ?3, ?4, "
		"?5, '0101', ?6, ?7, ?8, 0, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "
		"1, ?11, ?18, ?19, ?20, ?21)",
		-1, &ins, NULL);
	sqlite3_prepare_v2(
		db,
		"INSERT INTO order_history (order_id, at_ms, mono_ms, actor, role, action, "
		"from_state, to_state, public, note) VALUES (?1, ?2, ?3, 'li02', 'staff', "
		"'order.assign', 1, 2, ?4, '')",
		-1, &hist, NULL);
	for (long i = 1; i <= n && ret == 0; i++) {
		char number[48], title[128], content[512], loc[128], code[32];
		int64_t disp = T0 - (int64_t)(rnd() % 3650) * DAY - (int64_t)(rnd() % 86400000);
		/* recent orders are open, older ones closed */
		int open = disp > T0 - 30 * DAY;
		int state = open ? (int)(rnd() % 4) : 5;
		int64_t due = disp + (int64_t)(1 + rnd() % 10) * DAY;
		int64_t key = open ? (state == 0 ? disp + DAY : due) : 8000000000000000LL - disp;
		const char *topic = topics[rnd() % 12];

		if (i % 50000 == 1) {
			if (i > 1 && store_commit(db) < 0) {
				ret = -EIO;
				break;
			}
			store_begin(db);
		}
		snprintf(number, sizeof(number), "GD%04d%07ld",
			 2016 + (int)((T0 - disp) / DAY / 365) % 10, i);
		snprintf(title, sizeof(title), "%s问题反映%ld", topic, i % 1000);
		snprintf(content, sizeof(content),
			 "市民来电反映：%s附近%s，已持续%"
			 "u天，影响周边居民生活，请相关部门尽快核实处理"
			 "并答复。编号%ld。",
			 places[rnd() % 5], topic, 1 + rnd() % 30, i);
		snprintf(loc, sizeof(loc), "%s%u号", places[rnd() % 5], 1 + rnd() % 200);
		snprintf(code, sizeof(code), "B%07ld", i);
		sqlite3_bind_int64(ins, 1, i);
		sqlite3_bind_text(ins, 2, number, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(ins, 3, (int)(rnd() % 8));
		sqlite3_bind_int(ins, 4, (int)(rnd() % 5));
		sqlite3_bind_int(ins, 5, (int)(rnd() % 5));
		sqlite3_bind_text(ins, 6, title, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(ins, 7, content, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(ins, 8, loc, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(ins, 9, (int)(rnd() % 3));
		sqlite3_bind_int(ins, 10, state);
		sqlite3_bind_int64(ins, 11, disp);
		sqlite3_bind_int64(ins, 12, state > 0 ? disp + 3600000 : 0);
		sqlite3_bind_int64(ins, 13, disp + DAY);
		sqlite3_bind_int64(ins, 14, state > 0 ? due : 0);
		sqlite3_bind_text(ins, 15, state >= 2 ? depts[rnd() % 12] : "", -1, SQLITE_STATIC);
		{
			char handler[16];

			snprintf(handler, sizeof(handler), "staff%02u", rnd() % 20);
			sqlite3_bind_text(ins, 16, state >= 2 ? handler : "", -1, SQLITE_TRANSIENT);
		}
		sqlite3_bind_text(ins, 17, code, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(ins, 18, key);
		sqlite3_bind_int(ins, 19, open && rnd() % 50 == 0);
		sqlite3_bind_int64(ins, 20, state == 5 ? due - DAY / 2 : 0);
		sqlite3_bind_int(ins, 21, state == 5 ? 1 + (int)(rnd() % 3) : 0);
		if (sqlite3_step(ins) != SQLITE_DONE) {
			fprintf(stderr, "bench_orders: seeding failed: %s\n", sqlite3_errmsg(db));
			ret = -EIO;
		}
		sqlite3_reset(ins);
		for (int k = 0; k < per && ret == 0; k++, h++) {
			sqlite3_bind_int64(hist, 1, i);
			sqlite3_bind_int64(hist, 2, disp + (int64_t)k * 3600000);
			sqlite3_bind_int64(hist, 3, 1000 + h);
			sqlite3_bind_int(hist, 4, k % 2);
			if (sqlite3_step(hist) != SQLITE_DONE) {
				fprintf(stderr, "bench_orders: seeding failed: %s\n",
					sqlite3_errmsg(db));
				ret = -EIO;
			}
			sqlite3_reset(hist);
		}
	}
	sqlite3_finalize(ins);
	sqlite3_finalize(hist);
	if (ret == 0) {
		ret = store_commit(db);
	} else {
		store_rollback(db);
	}
	if (ret == 0) {
		ret = store_exec(db, "ANALYZE");
	}
	store_close(db);
	printf("seeded %ld orders and %ld history rows\n", n, h);
	return ret;
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *what, int64_t *us, int runs)
{
	qsort(us, (size_t)runs, sizeof(us[0]), cmp64);
	printf("%-44s p50 %7.2f ms   p99 %7.2f ms\n", what, us[runs / 2] / 1000.0,
	       us[(runs * 99) / 100 >= runs ? runs - 1 : (runs * 99) / 100] / 1000.0);
}

/* The home band's filters, each listed on its own. */
static const struct {
	enum orders_flag_filter flag;
	const char *what;
} flag_lists[] = {
	{ ORDERS_FLAG_OVERDUE, "list: overdue" },
	{ ORDERS_FLAG_DUE_TODAY, "list: due today" },
	{ ORDERS_FLAG_URGED, "list: urged" },
	{ ORDERS_FLAG_DUE_SOON, "list: due soon" },
	{ ORDERS_FLAG_SYNC_PENDING, "list: waiting to send" },
	{ ORDERS_FLAG_UNPRINTED, "list: not printed" },
	{ ORDERS_FLAG_CONFLICT, "list: conflicts" },
};

static void bench_list(struct orders *o, const char *what, const struct orders_filter *f, int runs)
{
	int64_t *us = calloc((size_t)runs, sizeof(int64_t));

	for (int i = 0; i < runs; i++) {
		cJSON *j = NULL;
		int64_t t = now_us();
		int rc = orders_list(o, f, &j);

		us[i] = now_us() - t;
		if (rc < 0) {
			fprintf(stderr, "bench_orders: %s failed: %d\n", what, rc);
			exit(1);
		}
		if (i == 0) {
			printf("  (%s: %d of %d rows)\n", what,
			       cJSON_GetArraySize(cJSON_GetObjectItem(j, "rows")),
			       cJSON_GetObjectItem(j, "total")->valueint);
		}
		cJSON_Delete(j);
	}
	report(what, us, runs);
	free(us);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000;
	int per = argc > 2 ? atoi(argv[2]) : 10;
	int runs = argc > 3 ? atoi(argv[3]) : 200;
	const struct orders_actor staff = { "staff01", "staff" };
	struct deadline_rules rules;
	struct orders_params p = { 0 };
	struct orders_filter f;
	struct fake_clock clk;
	struct orders *o;
	char dir[PATH_MAX];
	int64_t *us, t;
	sqlite3 *db;

	if (n < 1 || per < 0 || runs < 2) {
		fprintf(stderr, "usage: bench_orders [ORDERS] [HISTORY_PER_ORDER] [RUNS]\n");
		return 2;
	}
	log_set_level(LOG_LVL_WARN);
	if (test_tmpdir(dir, sizeof(dir), "bench_orders") < 0 || rng_init() < 0 ||
	    store_init(dir, NULL) < 0 || store_open(dir, &db) < 0 || pii_open(dir, db) < 0) {
		fprintf(stderr, "bench_orders: cannot set up %s\n", dir);
		return 1;
	}
	t = now_us();
	if (seed(dir, n, per) < 0) {
		return 1;
	}
	printf("seeding took %.1f s\n", (now_us() - t) / 1e6);
	fake_clock_init(&clk, T0, 1000);
	deadline_preset(CONFIG_DEADLINES_NATIONAL, CONFIG_COUNT_NEXT_DAY, 1, &rules);
	p.data_dir = dir;
	p.clock = &clk.clock;
	p.rules = &rules;
	p.utc_offset_min = 480;
	p.due_soon_days = 2;
	p.attachment_max_kb = 1024;
	if (orders_create(&p, &o) < 0) {
		fprintf(stderr, "bench_orders: orders_create failed\n");
		return 1;
	}
	orders_filter_init(&f);
	bench_list(o, "list: all, by due, 50 rows", &f, runs);
	f.flag = ORDERS_FLAG_OPEN;
	bench_list(o, "list: open", &f, runs);
	orders_filter_init(&f);
	f.state = ORDER_HANDLING;
	bench_list(o, "list: state handling", &f, runs);
	for (size_t i = 0; i < sizeof(flag_lists) / sizeof(flag_lists[0]); i++) {
		orders_filter_init(&f);
		f.flag = flag_lists[i].flag;
		bench_list(o, flag_lists[i].what, &f, runs);
	}
	orders_filter_init(&f);
	f.state = ORDER_PENDING;
	bench_list(o, "list: waiting to be signed for", &f, runs);
	orders_filter_init(&f);
	f.category = ORDER_CAT_COMPLAINT;
	snprintf(f.lead_dept, sizeof(f.lead_dept), "urban_mgmt");
	bench_list(o, "list: complaint + lead department", &f, runs);
	orders_filter_init(&f);
	snprintf(f.handler, sizeof(f.handler), "staff07");
	bench_list(o, "list: handler", &f, runs);
	orders_filter_init(&f);
	f.sort = ORDERS_SORT_DISPATCH_DESC;
	f.offset = 5000;
	bench_list(o, "list: newest first, page 101", &f, runs);
	orders_filter_init(&f);
	snprintf(f.q, sizeof(f.q), "占道经营");
	bench_list(o, "search: 4 characters (trigram)", &f, runs);
	snprintf(f.q, sizeof(f.q), "编号99999");
	bench_list(o, "search: rare text (trigram)", &f, runs);
	snprintf(f.q, sizeof(f.q), "0099999"); /* the end of an order number */
	bench_list(o, "search: order number", &f, runs);
	snprintf(f.q, sizeof(f.q), "噪音");
	bench_list(o, "search: 2 characters (LIKE scan)", &f, runs);
	f.flag = ORDERS_FLAG_OPEN;
	bench_list(o, "search: 2 characters, open only", &f, runs);

	us = calloc((size_t)runs, sizeof(int64_t));
	for (int i = 0; i < runs; i++) {
		cJSON *j = NULL;
		int64_t id = 1 + (int64_t)(rnd() % (uint32_t)n);

		t = now_us();
		if (orders_get_json(o, &staff, id, false, &j) < 0) {
			fprintf(stderr, "bench_orders: get %" PRId64 " failed\n", id);
			return 1;
		}
		us[i] = now_us() - t;
		cJSON_Delete(j);
	}
	report("orders_get_json (detail with history)", us, runs);
	for (int i = 0; i < runs; i++) {
		cJSON *j = NULL;

		t = now_us();
		if (orders_home(o, &staff, &j) < 0) {
			fprintf(stderr, "bench_orders: home failed\n");
			return 1;
		}
		us[i] = now_us() - t;
		cJSON_Delete(j);
	}
	report("orders_home (home screen)", us, runs);
	for (int i = 0; i < runs / 10 + 2; i++) {
		cJSON *j = NULL;

		t = now_us();
		orders_dashboard(o, T0 - 365 * DAY, T0, &j);
		us[i] = now_us() - t;
		cJSON_Delete(j);
	}
	report("orders_dashboard (one year)", us, runs / 10 + 2);
	free(us);
	orders_destroy(o);
	pii_close();
	store_close(db);
	rng_free();
	test_rmtree(dir);
	return 0;
}
