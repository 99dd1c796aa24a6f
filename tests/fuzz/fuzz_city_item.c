/* libFuzzer target for the city's items (apps/orders/order_city.c: JSON
 * from the uplink, applied to the database). Arbitrary bytes are parsed as
 * JSON and handed to orders_apply_city() on a database in a temp directory.
 * Checked: a refused item stores nothing (the counts of orders, history,
 * outbox and applied items do not move) and says why in both languages. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fw/log.h"
#include "fw/pii.h"
#include "fw/rng.h"
#include "fw/store.h"
#include "orders/orders.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct orders *o;
static sqlite3 *db;
static struct deadline_rules rules;

static void start(void)
{
	static char dir[4096];
	const char *tmp = getenv("TMPDIR");
	struct orders_params p = { 0 };

	log_set_level(LOG_LVL_ERROR);
	snprintf(dir, sizeof(dir), "%s/fuzz_city_item.XXXXXX",
		 tmp != NULL && tmp[0] != '\0' ? tmp : P_tmpdir);
	if (mkdtemp(dir) == NULL || rng_init() < 0 || store_init(dir, NULL) < 0 ||
	    store_open(dir, &db) < 0 || pii_open(dir, db) < 0) {
		abort();
	}
	deadline_preset(CONFIG_DEADLINES_NATIONAL, CONFIG_COUNT_NEXT_DAY, 1, &rules);
	p.data_dir = dir;
	p.rules = &rules;
	p.utc_offset_min = 480;
	p.due_soon_days = 2;
	p.attachment_max_kb = 64;
	if (orders_create(&p, &o) < 0) {
		abort();
	}
}

static int64_t total(void)
{
	sqlite3_stmt *st;
	int64_t n = -1;

	sqlite3_prepare_v2(db,
			   "SELECT (SELECT count(*) FROM orders) + (SELECT count(*) FROM "
			   "order_history) + (SELECT count(*) FROM outbox) + (SELECT count(*) FROM "
			   "city_items_applied) + (SELECT coalesce(sum(version), 0) FROM orders)",
			   -1, &st, NULL);
	if (sqlite3_step(st) == SQLITE_ROW) {
		n = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct orders_err err;
	cJSON *item;
	int64_t before;
	int rc;

	if (o == NULL) {
		start();
	}
	item = cJSON_ParseWithLength((const char *)data, size);
	before = total();
	memset(&err, 0, sizeof(err));
	rc = orders_apply_city(o, NULL, item, &err);
	if (rc == -EINVAL || rc == -ENOENT) {
		if (total() != before || err.en[0] == '\0' || err.zh[0] == '\0') {
			__builtin_trap();
		}
	} else if (rc == 1 && total() != before) {
		__builtin_trap();
	}
	cJSON_Delete(item);
	return 0;
}
