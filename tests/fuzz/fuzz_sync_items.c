/*
 * libFuzzer target for the items page of the sync download as the worker
 * handles it (apps/sync/sync_items.h): arbitrary bytes as the body of
 * GET /api/v1/items, checked by sync_page_parse(), then applied by
 * sync_page_apply() on a database in a temp directory with the real
 * services behind the dispatch by type: orders_apply_city() for order.*,
 * the calendar queue and calstore_import() for calendar.year,
 * requests_mark_handed_over() for request.handed_over. The clock is fixed
 * at 2026-11-22 10:00 (UTC+8) and a request is filed and forwarded at start,
 * so WR20261122-0001 is there for request.handed_over.
 *
 * Checked: a refused page has no result; an accepted one is applied whole
 * (no storage error), every item counted once as applied or kept as a
 * conflict, the cursor stored is the page's last, and no calendar year is
 * left queued.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fake_clock.h"
#include "fw/log.h"
#include "fw/pii.h"
#include "fw/rng.h"
#include "fw/store.h"
#include "orders/calstore.h"
#include "orders/orders.h"
#include "requests/requests.h"
#include "sync/sync.h"
#include "sync_items.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define T0 1795312800000LL /* 2026-11-22 10:00 in UTC+8 */

static struct sync *s;
static sqlite3 *db;
static struct fake_clock clk;

/* A forwarded walk-in request, so request.handed_over has a target. */
static void file_forwarded(struct requests *r)
{
	static const struct requests_actor staff = { "u-staff", "staff" };
	struct request_input in = {
		.kind = "complaint",
		.category = ORDER_CAT_COMPLAINT,
		.field = 0,
		.content = "小区门口的路灯坏了一个星期",
	};
	struct request *q = calloc(1, sizeof(*q));
	struct requests_err err;
	int print_err = 0;

	memset(&err, 0, sizeof(err));

	if (q == NULL || requests_file(r, &staff, &in, q, &print_err, &err) < 0 ||
	    requests_forward(r, &staff, q->number, "市级部门办理", q, &err) < 0) {
		fprintf(stderr, "fuzz_sync_items: no forwarded request (%s)\n", err.en);
		abort();
	}
	fprintf(stderr, "fuzz_sync_items: forwarded request %s\n", q->number);
	free(q);
}

static void start(void)
{
	static char dir[4096];
	static struct deadline_rules rules;
	const char *tmp = getenv("TMPDIR");
	struct orders_params op = { 0 };
	struct requests_params rp = { 0 };
	struct sync_params sp = { 0 };
	struct calstore *cal;
	struct orders *o;
	struct requests *r;

	log_set_level(LOG_LVL_ERROR);
	fake_clock_init(&clk, T0, 1000);
	snprintf(dir, sizeof(dir), "%s/fuzz_sync_items.XXXXXX",
		 tmp != NULL && tmp[0] != '\0' ? tmp : P_tmpdir);
	if (mkdtemp(dir) == NULL || rng_init() < 0 || store_init(dir, NULL) < 0 ||
	    store_open(dir, &db) < 0 || pii_open(dir, db) < 0 ||
	    calstore_open(dir, &clk.clock, &cal) < 0 || calstore_seed_builtin(cal) < 0) {
		abort();
	}
	deadline_preset(CONFIG_DEADLINES_NATIONAL, CONFIG_COUNT_NEXT_DAY, 1, &rules);
	op.data_dir = dir;
	op.clock = &clk.clock;
	op.cal = cal;
	op.rules = &rules;
	op.utc_offset_min = 480;
	op.due_soon_days = 2;
	op.attachment_max_kb = 64;
	rp.data_dir = dir;
	rp.clock = &clk.clock;
	rp.office_name = "测试县12345转办中心";
	rp.utc_offset_min = 480;
	if (orders_create(&op, &o) < 0) {
		abort();
	}
	rp.orders = o;
	if (requests_create(&rp, &r) < 0) {
		abort();
	}
	file_forwarded(r);
	sp.data_dir = dir;
	sp.clock = &clk.clock;
	sp.city_ip = 0x0a000202u;
	sp.city_port = 8443;
	sp.city_host = "city.hotline.test";
	sp.orders = o;
	sp.cal = cal;
	sp.requests = r;
	if (sync_create(&sp, &s) < 0) {
		abort();
	}
}

static int64_t count(const char *sql)
{
	sqlite3_stmt *st;
	int64_t n = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		return -1;
	}
	if (sqlite3_step(st) == SQLITE_ROW) {
		n = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *last = NULL;
	const char *why = NULL;
	uint64_t applied = 0;
	uint64_t conflicts = 0;
	char cursor[SYNC_CURSOR_MAX];
	cJSON *page = NULL;
	bool more = false;
	int64_t before;
	int rc;

	if (s == NULL) {
		start();
	}
	rc = sync_page_parse((const char *)data, size, &page, &last, &more, &why);
	if (rc < 0) {
		if (rc != -EBADMSG || page != NULL || why == NULL) {
			__builtin_trap();
		}
		return 0;
	}
	if (last == NULL) {
		cJSON_Delete(page);
		return 0;
	}
	before = count("SELECT count(*) FROM sync_conflicts");
	rc = sync_page_apply(s, db, page, last, &applied, &conflicts);
	if (rc != 0 ||
	    applied + conflicts !=
		    (uint64_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(page, "items")) ||
	    count("SELECT count(*) FROM sync_conflicts") < before + (int64_t)conflicts ||
	    count("SELECT count(*) FROM sync_pending_apply") != 0 ||
	    store_meta_get(db, "sync_cursor", cursor, sizeof(cursor)) < 0 ||
	    strcmp(cursor, last) != 0) {
		__builtin_trap();
	}
	cJSON_Delete(page);
	return 0;
}
