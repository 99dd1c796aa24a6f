/*
 * citysim, the reference city platform, against the appliance's own HTTPS
 * client (apps/sync/httpc.c) over kernel loopback sockets with the PKI of
 * scripts/gen-test-pki: uploads acknowledged up to the highest contiguous
 * seq and stored once (rows counted in citysim's SQLite), a gap, refusals
 * (body hash, another device, protocol version), rejected events parked
 * while later ones are acknowledged, items written by the CLI pulled in
 * cursor order with paging, the CLI's items accepted by the appliance's
 * orders_apply_city(), the status page, and citysim killed with SIGKILL in
 * the middle of a stream of uploads: nothing acknowledged is lost.
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
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <mbedtls/sha256.h>
#include <sqlite3.h>

#include "fake_clock.h"
#include "fake_printer.h"
#include "orders/calstore.h"
#include "orders/orders.h"
#include "sync/httpc.h"
#include "test_app.h"
#include "test_city.h"
#include "test_transport.h"
#include "test_proc.h"
#include "test_util.h"

#define CITY_HOST "city.hotline.test"
#define LOOPBACK  0x7f000001u
#define DEVICE	  "sim-0001"
#define BAD_TYPE  "order.refused_by_city"

static struct test_city_env env;

/* A kernel-socket transport (tests only; the appliance uses lwIP). */
static struct httpc_transport kernel_transport = { .ops = &test_kernel_ops };

/* ---- citysim and a client ------------------------------------------------ */

struct fx {
	char data[PATH_MAX - 64]; /* citysim's --data */
	char db[PATH_MAX];
	struct test_city cs;
	mbedtls_x509_crt ca, cert;
	mbedtls_pk_context key;
	struct httpc c;
	uint16_t status_port;
};

static void city_start(struct fx *f)
{
	char spf[PATH_MAX];
	size_t len;
	char *txt;

	snprintf(spf, sizeof(spf), "%s/status.port", env.tmp);
	unlink(spf);
	if (test_city_start(&f->cs, &env, "city", "--data", f->data, "--reject-type", BAD_TYPE,
			    "--status-port", "0", "--status-port-file", spf, (char *)NULL) != 0) {
		fail_msg("citysim did not start (see %s)", f->cs.log);
	}
	txt = test_file_read(spf, &len);
	f->status_port = (uint16_t)atoi(txt);
	free(txt);
	assert_true(f->status_port > 0);
}

static void client_init(struct fx *f)
{
	struct httpc_config cfg = { 0 };

	test_city_tls_load(&env, &f->ca, &f->cert, &f->key);
	cfg.ip = LOOPBACK;
	cfg.port = f->cs.port;
	cfg.host = CITY_HOST;
	cfg.ca = &f->ca;
	cfg.cert = &f->cert;
	cfg.key = &f->key;
	cfg.transport = &kernel_transport;
	cfg.request_timeout_ms = 10000;
	cfg.io_timeout_ms = 5000;
	assert_int_equal(httpc_init(&f->c, &cfg), 0);
}

static int setup(void **state)
{
	static int n;
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->data, sizeof(f->data), "%.1000s/city%d", env.tmp, ++n);
	snprintf(f->db, sizeof(f->db), "%s/citysim.db", f->data);
	city_start(f);
	client_init(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	httpc_free(&f->c);
	test_city_tls_free(&f->ca, &f->cert, &f->key);
	assert_int_equal(test_city_stop(&f->cs), 0);
	test_rmtree(f->data);
	free(f);
	return 0;
}

/* One request; the JSON answer (caller frees), the status in *status. */
static cJSON *call(struct fx *f, const char *method, const char *path, const char *body,
		   const char *protocol, const char *sha_override, int *status)
{
	struct httpc_header h[2];
	struct httpc_request rq = { .method = method, .path = path, .headers = h };
	struct httpc_response resp;
	unsigned char sum[32];
	char hex[65];
	int ret;

	if (protocol != NULL) {
		h[rq.n_headers++] = (struct httpc_header){ "X-Hotline-Protocol", protocol };
	}
	if (body != NULL) {
		rq.body = body;
		rq.body_len = strlen(body);
		assert_int_equal(
			mbedtls_sha256_ret((const unsigned char *)body, rq.body_len, sum, 0), 0);
		for (int i = 0; i < 32; i++) {
			snprintf(hex + 2 * i, 3, "%02x", sum[i]);
		}
		h[rq.n_headers++] =
			(struct httpc_header){ "X-Body-SHA256", sha_override ? sha_override : hex };
	}
	ret = httpc_request(&f->c, &rq, &resp);
	if (ret != 0) {
		fail_msg("request %s %s failed: %d %s", method, path, ret,
			 httpc_last_detail(&f->c));
	}
	*status = resp.status;
	return cJSON_Parse(resp.body);
}

/* A batch of events of device dev, epoch, seqs from list (type per seq: t). */
static char *batch(const char *dev, const char *epoch, const int64_t *seqs, int n,
		   const char *bad_type_at_seq_or_null, int64_t bad_seq)
{
	cJSON *b = cJSON_CreateObject(), *evs;
	char *s;

	cJSON_AddStringToObject(b, "device", dev);
	cJSON_AddStringToObject(b, "db_epoch", epoch);
	evs = cJSON_AddArrayToObject(b, "events");
	for (int i = 0; i < n; i++) {
		cJSON *e = cJSON_CreateObject(), *p;
		char id[40];

		snprintf(id, sizeof(id), "ev-%s-%lld", epoch, (long long)seqs[i]);
		cJSON_AddNumberToObject(e, "seq", (double)seqs[i]);
		cJSON_AddStringToObject(e, "event_id", id);
		cJSON_AddStringToObject(e, "type",
					bad_type_at_seq_or_null && seqs[i] == bad_seq
						? bad_type_at_seq_or_null
						: "order.received");
		cJSON_AddNumberToObject(e, "at_ms", 1770948000000.0 + (double)seqs[i]);
		p = cJSON_AddObjectToObject(e, "payload");
		cJSON_AddStringToObject(p, "number", "GD2026000001");
		cJSON_AddStringToObject(p, "state", "received");
		cJSON_AddItemToArray(evs, e);
	}
	s = cJSON_PrintUnformatted(b);
	cJSON_Delete(b);
	return s;
}

static int64_t upload(struct fx *f, const int64_t *seqs, int n, const char *epoch, cJSON **answer)
{
	char *body = batch(DEVICE, epoch, seqs, n, NULL, 0);
	int status;
	cJSON *a = call(f, "POST", "/api/v1/events", body, "1", NULL, &status);
	int64_t acked;

	free(body);
	assert_int_equal(status, 200);
	assert_true(cJSON_IsNumber(cJSON_GetObjectItem(a, "acked_upto")));
	acked = (int64_t)cJSON_GetObjectItem(a, "acked_upto")->valuedouble;
	if (answer != NULL) {
		*answer = a;
	} else {
		cJSON_Delete(a);
	}
	return acked;
}

static int64_t db_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	int64_t v;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	v = test_sql_int(db, sql);
	sqlite3_close(db);
	return v;
}

static void error_is(cJSON *a, const char *code)
{
	cJSON *e = cJSON_GetObjectItem(a, "error");

	assert_non_null(e);
	assert_string_equal(cJSON_GetObjectItem(e, "code")->valuestring, code);
	assert_true(strlen(cJSON_GetObjectItem(e, "message")->valuestring) > 0);
	assert_true(strlen(cJSON_GetObjectItem(e, "message_zh")->valuestring) > 0);
}

/* Run `citysim ARGS... --data DIR`; its output in out; @return the exit code. */
static int cli(struct fx *f, char *out, size_t cap, ...)
{
	const char *args[32];
	struct test_proc p;
	int n = 0, code;
	va_list ap;

	va_start(ap, cap);
	for (const char *a = va_arg(ap, const char *); a != NULL && n < 29;
	     a = va_arg(ap, const char *)) {
		args[n++] = a;
	}
	va_end(ap);
	args[n++] = "--data";
	args[n++] = f->data;
	args[n] = NULL;
	code = test_proc_run(&p, env.cmd, env.cmd_argc, args, "", 20000);
	snprintf(out, cap, "%.*s", (int)p.out_len, p.out);
	return code;
}

/* ---- tests --------------------------------------------------------------- */

static void test_upload_acks_and_stores_once(void **state)
{
	struct fx *f = *state;
	int64_t s1[] = { 1, 2, 3, 4, 5 }, s2[] = { 4, 5, 6, 7 };
	cJSON *a;

	assert_int_equal(upload(f, s1, 5, "epoch-a", &a), 5);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(a, "rejected")), 0);
	cJSON_Delete(a);
	assert_int_equal(db_int(f->db, "SELECT count(*) FROM events"), 5);
	/* a resend overlapping what is stored: acknowledged, stored once */
	assert_int_equal(upload(f, s1, 5, "epoch-a", NULL), 5);
	assert_int_equal(upload(f, s2, 4, "epoch-a", NULL), 7);
	assert_int_equal(db_int(f->db, "SELECT count(*) FROM events"), 7);
	assert_int_equal(db_int(f->db, "SELECT count(DISTINCT seq) FROM events"), 7);
	/* another epoch is another sequence */
	assert_int_equal(upload(f, s1, 2, "epoch-b", NULL), 2);
	assert_int_equal(db_int(f->db, "SELECT count(*) FROM events WHERE db_epoch='epoch-b'"), 2);
	/* the payload kept as sent */
	assert_int_equal(db_int(f->db, "SELECT count(*) FROM events WHERE json_extract(payload,"
				       " '$.number')='GD2026000001' AND type='order.received'"),
			 9);
	assert_int_equal(db_int(f->db, "SELECT count(*) FROM devices WHERE device='" DEVICE "'"),
			 1);
}

static void test_gap_then_filled(void **state)
{
	struct fx *f = *state;
	int64_t s1[] = { 1, 2, 4 }, s2[] = { 3 }, s3[] = { 5, 6 };

	assert_int_equal(upload(f, s1, 3, "e1", NULL), 2);
	assert_int_equal(db_int(f->db, "SELECT count(*) FROM events"), 3);
	assert_int_equal(upload(f, s2, 1, "e1", NULL), 4);
	assert_int_equal(upload(f, s3, 2, "e1", NULL), 6);
	assert_int_equal(db_int(f->db, "SELECT acked_upto FROM progress WHERE db_epoch='e1'"), 6);
}

static void test_refusals(void **state)
{
	struct fx *f = *state;
	int64_t s[] = { 1, 2 }, desc[] = { 2, 1 };
	char *body = batch(DEVICE, "e1", s, 2, NULL, 0);
	char *other = batch("sim-0002", "e1", s, 2, NULL, 0);
	char *unordered = batch(DEVICE, "e1", desc, 2, NULL, 0);
	char big[64];
	int status;
	cJSON *a;

	a = call(f, "POST", "/api/v1/events", body, "1",
		 "0000000000000000000000000000000000000000000000000000000000000000", &status);
	assert_int_equal(status, 400);
	error_is(a, "body_hash");
	cJSON_Delete(a);

	a = call(f, "POST", "/api/v1/events", other, "1", NULL, &status);
	assert_int_equal(status, 403);
	error_is(a, "device_mismatch");
	cJSON_Delete(a);

	a = call(f, "POST", "/api/v1/events", body, "2", NULL, &status);
	assert_int_equal(status, 426);
	error_is(a, "protocol_version");
	assert_int_equal(cJSON_GetArraySize(
				 cJSON_GetObjectItem(cJSON_GetObjectItem(a, "error"), "supported")),
			 1);
	assert_int_equal(
		cJSON_GetArrayItem(
			cJSON_GetObjectItem(cJSON_GetObjectItem(a, "error"), "supported"), 0)
			->valueint,
		1);
	cJSON_Delete(a);
	a = call(f, "GET", "/api/v1/items", NULL, "0", NULL, &status);
	assert_int_equal(status, 426);
	cJSON_Delete(a);

	a = call(f, "POST", "/api/v1/events", unordered, "1", NULL, &status);
	assert_int_equal(status, 400);
	error_is(a, "bad_request");
	cJSON_Delete(a);

	/* 201 events: too many */
	{
		int64_t many[201];
		char *b;

		for (int i = 0; i < 201; i++) {
			many[i] = i + 1;
		}
		b = batch(DEVICE, "e1", many, 201, NULL, 0);
		a = call(f, "POST", "/api/v1/events", b, "1", NULL, &status);
		free(b);
		assert_int_equal(status, 413);
		error_is(a, "too_large");
		cJSON_Delete(a);
	}
	/* nothing of the refused requests was stored */
	assert_int_equal(db_int(f->db, "SELECT count(*) FROM events"), 0);
	/* the good batch goes through afterwards; the probe needs no header */
	a = call(f, "POST", "/api/v1/events", body, "1", NULL, &status);
	assert_int_equal(status, 200);
	cJSON_Delete(a);
	a = call(f, "GET", "/api/v1/time", NULL, NULL, NULL, &status);
	assert_int_equal(status, 200);
	snprintf(big, sizeof(big), "%.0f", cJSON_GetObjectItem(a, "now_ms")->valuedouble);
	assert_true(strlen(big) >= 13);
	cJSON_Delete(a);
	assert_int_equal(db_int(f->db, "SELECT count(*) FROM events"), 2);
	free(body);
	free(other);
	free(unordered);
}

static void test_rejected_parked_later_acked(void **state)
{
	struct fx *f = *state;
	int64_t s[] = { 1, 2, 3, 4 };
	char *body = batch(DEVICE, "e1", s, 4, BAD_TYPE, 2);
	int status;
	cJSON *a, *r;

	for (int round = 0; round < 2; round++) { /* the resend gets the same answer */
		a = call(f, "POST", "/api/v1/events", body, "1", NULL, &status);
		assert_int_equal(status, 200);
		assert_int_equal(cJSON_GetObjectItem(a, "acked_upto")->valueint, 4);
		r = cJSON_GetObjectItem(a, "rejected");
		assert_int_equal(cJSON_GetArraySize(r), 1);
		r = cJSON_GetArrayItem(r, 0);
		assert_int_equal(cJSON_GetObjectItem(r, "seq")->valueint, 2);
		assert_string_equal(cJSON_GetObjectItem(r, "code")->valuestring, "bad_field");
		assert_non_null(strstr(cJSON_GetObjectItem(r, "message")->valuestring, BAD_TYPE));
		assert_true(strlen(cJSON_GetObjectItem(r, "message_zh")->valuestring) > 0);
		cJSON_Delete(a);
	}
	assert_int_equal(db_int(f->db, "SELECT count(*) FROM events"), 3);
	assert_int_equal(db_int(f->db, "SELECT count(*) FROM events WHERE seq=2"), 0);
	assert_int_equal(db_int(f->db, "SELECT count(*) FROM rejected WHERE seq=2"), 1);
	free(body);
}

/* Pull every item page by page (limit), checking cursor order. */
static cJSON *pull_all(struct fx *f, int limit, int *pages)
{
	cJSON *all = cJSON_CreateArray();
	char after[32] = "";
	long long last = 0;
	bool more = true;

	*pages = 0;
	while (more) {
		char path[128];
		int status;
		cJSON *a, *it;

		snprintf(path, sizeof(path), "/api/v1/items?after=%s&limit=%d", after, limit);
		a = call(f, "GET", path, NULL, "1", NULL, &status);
		assert_int_equal(status, 200);
		(*pages)++;
		assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(a, "items")) <= limit);
		cJSON_ArrayForEach(it, cJSON_GetObjectItem(a, "items"))
		{
			const cJSON *c = cJSON_GetObjectItem(it, "cursor");
			long long cur;

			assert_true(cJSON_IsString(c));
			cur = atoll(c->valuestring);
			assert_true(cur > last);
			last = cur;
			snprintf(after, sizeof(after), "%s", c->valuestring);
			cJSON_AddItemToArray(all, cJSON_Duplicate(it, 1));
		}
		more = cJSON_IsTrue(cJSON_GetObjectItem(a, "more"));
		cJSON_Delete(a);
		assert_true(*pages < 100);
	}
	return all;
}

static void test_items_from_cli_in_cursor_order(void **state)
{
	struct fx *f = *state;
	char out[TEST_PROC_OUT_MAX + 1], cal[PATH_MAX];
	char numbers[5][40];
	const char *year_file = "{\"year\": 2026, \"days\": [{\"date\": \"2026-10-01\", "
				"\"kind\": \"holiday\", \"name\": \"国庆节\"}]}";
	cJSON *all;
	int pages;

	for (int i = 0; i < 5; i++) {
		assert_int_equal(
			cli(f, out, sizeof(out), "dispatch", "--device", DEVICE, (char *)NULL), 0);
		assert_int_equal(sscanf(out, "%39s", numbers[i]), 1);
		assert_true(strncmp(numbers[i], "GD", 2) == 0);
		for (int k = 0; k < i; k++) {
			assert_string_not_equal(numbers[i], numbers[k]);
		}
	}
	assert_int_equal(cli(f, out, sizeof(out), "dispatch", "--device", "sim-0002", (char *)NULL),
			 0);
	snprintf(cal, sizeof(cal), "%s/2026.json", env.tmp);
	test_file_write(cal, year_file, strlen(year_file));
	assert_int_equal(
		cli(f, out, sizeof(out), "calendar", "--year", "2026", "--file", cal, (char *)NULL),
		0);
	/* refusals of the CLI: a wrong year, an order never dispatched here */
	assert_int_not_equal(
		cli(f, out, sizeof(out), "calendar", "--year", "2027", "--file", cal, (char *)NULL),
		0);
	assert_int_not_equal(cli(f, out, sizeof(out), "recall", "--device", DEVICE, "--number",
				 "GD0000", "--reason", "x", (char *)NULL),
			     0);
	assert_non_null(strstr(out, "GD0000"));
	assert_int_equal(db_int(f->db, "SELECT count(*) FROM items"), 7);

	all = pull_all(f, 2, &pages);
	assert_int_equal(cJSON_GetArraySize(all),
			 6); /* 5 dispatches + the calendar; not sim-0002's */
	assert_int_equal(pages, 3);
	for (int i = 0; i < 5; i++) {
		cJSON *it = cJSON_GetArrayItem(all, i);

		assert_string_equal(cJSON_GetObjectItem(it, "type")->valuestring, "order.dispatch");
		assert_string_equal(cJSON_GetObjectItem(it, "number")->valuestring, numbers[i]);
	}
	{
		cJSON *c = cJSON_GetArrayItem(all, 5);

		assert_string_equal(cJSON_GetObjectItem(c, "type")->valuestring, "calendar.year");
		assert_int_equal(cJSON_GetObjectItem(c, "year")->valueint, 2026);
		assert_int_equal(
			cJSON_GetObjectItem(cJSON_GetObjectItem(c, "calendar"), "year")->valueint,
			2026);
	}
	cJSON_Delete(all);
	/* one page of everything; after the last cursor: nothing, more false */
	all = pull_all(f, 200, &pages);
	assert_int_equal(pages, 1);
	assert_int_equal(cJSON_GetArraySize(all), 6);
	cJSON_Delete(all);
	{
		int status;
		cJSON *a = call(f, "GET", "/api/v1/items?after=abc", NULL, "1", NULL, &status);

		assert_int_equal(status, 400);
		error_is(a, "bad_request");
		cJSON_Delete(a);
	}
}

/* The appliance's orders service, as test_orders sets it up. */
struct appliance {
	struct test_data d;
	struct hal_printer printer;
	struct calstore *cal;
	struct deadline_rules rules;
	struct orders_params p;
	struct orders *o;
};

static int apply(struct appliance *ap, cJSON *item, struct orders_err *err)
{
	cJSON *copy = cJSON_Duplicate(item, 1);
	int rc;

	/* the cursor is the sync worker's, not part of the item */
	cJSON_DeleteItemFromObjectCaseSensitive(copy, "cursor");
	memset(err, 0, sizeof(*err));
	rc = orders_apply_city(ap->o, NULL, copy, err);
	cJSON_Delete(copy);
	return rc;
}

static cJSON *find_item(cJSON *all, const char *type)
{
	cJSON *it;

	cJSON_ArrayForEach(it, all)
	{
		if (strcmp(cJSON_GetObjectItem(it, "type")->valuestring, type) == 0) {
			return it;
		}
	}
	fail_msg("no %s item", type);
	return NULL;
}

static void test_cli_items_accepted_by_appliance(void **state)
{
	struct fx *f = *state;
	char out[TEST_PROC_OUT_MAX + 1], number[40];
	struct appliance ap = { 0 };
	struct orders_err err;
	cJSON *all;
	int pages;

	assert_int_equal(cli(f, out, sizeof(out), "dispatch", "--device", DEVICE, "--category",
			     "consult", "--title", "噪音扰民", "--content",
			     "夜间施工噪音。\n请处理。", "--name", "张三", "--phone", "13812345678",
			     "--urgency", "urgent", "--complexity", "complex", "--location",
			     "城关镇人民路12号", (char *)NULL),
			 0);
	assert_int_equal(sscanf(out, "%39s", number), 1);
	assert_int_equal(cli(f, out, sizeof(out), "notice", "--device", DEVICE, "--number", number,
			     "--kind", "urge", "--text", "请加快办理", (char *)NULL),
			 0);
	assert_int_equal(cli(f, out, sizeof(out), "decide-return", "--device", DEVICE, "--number",
			     number, "--reject", "--reason", "不属于退回情形", (char *)NULL),
			 0);
	assert_int_equal(cli(f, out, sizeof(out), "decide-extension", "--device", DEVICE,
			     "--number", number, "--approve", "--due", "2026-12-31", (char *)NULL),
			 0);
	assert_int_equal(cli(f, out, sizeof(out), "visit", "--device", DEVICE, "--number", number,
			     "--result", "unsatisfied", (char *)NULL),
			 0);
	assert_int_equal(cli(f, out, sizeof(out), "recall", "--device", DEVICE, "--number", number,
			     "--reason", "重复派单", (char *)NULL),
			 0);
	all = pull_all(f, 50, &pages);
	assert_int_equal(cJSON_GetArraySize(all), 6);

	/* the appliance's side */
	fake_printer_init(&ap.printer);
	test_data_open(&ap.d, "test_citysim_orders", 1770948000000LL, true);
	assert_int_equal(calstore_open(ap.d.dir, &ap.d.clk.clock, &ap.cal), 0);
	deadline_preset(CONFIG_DEADLINES_NATIONAL, CONFIG_COUNT_NEXT_DAY, 1, &ap.rules);
	ap.p = (struct orders_params){
		.data_dir = ap.d.dir,
		.clock = &ap.d.clk.clock,
		.printer = &ap.printer,
		.cal = ap.cal,
		.rules = &ap.rules,
		.utc_offset_min = 480,
		.due_soon_days = 2,
		.attachment_max_kb = 64,
		.office_name = "测试县12345转办中心",
	};
	assert_int_equal(orders_create(&ap.p, &ap.o), 0);

	{
		int rc = apply(&ap, find_item(all, "order.dispatch"), &err);

		if (rc != 0) {
			fail_msg("dispatch refused: %d %s", rc, err.en);
		}
	}
	assert_int_equal(apply(&ap, find_item(all, "order.dispatch"), &err), 1); /* a repeat */
	assert_int_equal(apply(&ap, find_item(all, "order.notice"), &err), 0);
	/* decisions that do not fit a pending order: well formed (not -EINVAL), a conflict */
	assert_int_equal(apply(&ap, find_item(all, "order.return_decision"), &err), -EPROTO);
	assert_int_equal(apply(&ap, find_item(all, "order.extension_decision"), &err), -EPROTO);
	assert_int_equal(apply(&ap, find_item(all, "order.visit_result"), &err), -EPROTO);
	assert_int_equal(apply(&ap, find_item(all, "order.recall"), &err), 0);
	assert_int_equal(test_sql_count(ap.d.db, "orders", "number", number), 1);

	orders_destroy(ap.o);
	calstore_close(ap.cal);
	test_data_close(&ap.d);
	cJSON_Delete(all);
}

static void test_status_page_and_cli_readouts(void **state)
{
	struct fx *f = *state;
	int64_t s[] = { 1, 2, 3 };
	char out[TEST_PROC_OUT_MAX + 1];
	int64_t s4[] = { 4 };
	struct test_resp *r = malloc(sizeof(*r));
	char *body = batch(DEVICE, "e1", s4, 1, BAD_TYPE, 4);
	int status;
	cJSON *line;

	assert_non_null(r);
	assert_int_equal(upload(f, s, 3, "e1", NULL), 3);
	cJSON_Delete(call(f, "POST", "/api/v1/events", body, "1", NULL, &status));
	assert_int_equal(status, 200);
	free(body);
	test_http_call(f->status_port, "GET", "/", r);
	test_http_assert_status(r, 200);
	test_http_assert_header(r, "Content-Type", "text/html; charset=utf-8");
	assert_non_null(strstr(r->body, DEVICE));
	assert_non_null(strstr(r->body, "order.received"));
	assert_non_null(strstr(r->body, "ev-e1-3"));
	/* the rejection's reason, escaped */
	assert_non_null(strstr(r->body, "&quot;" BAD_TYPE "&quot;"));
	assert_null(strstr(r->body, "\"" BAD_TYPE "\""));
	test_http_call(f->status_port, "GET", "/api/v1/items", r);
	test_http_assert_status(r, 404);
	free(r);

	assert_int_equal(cli(f, out, sizeof(out), "status", (char *)NULL), 0);
	line = cJSON_Parse(out);
	assert_non_null(line);
	assert_string_equal(cJSON_GetObjectItem(line, "device")->valuestring, DEVICE);
	assert_int_equal(cJSON_GetObjectItem(line, "events")->valueint, 3);
	assert_int_equal(cJSON_GetObjectItem(line, "rejected")->valueint, 1);
	assert_int_equal(cJSON_GetObjectItem(line, "acked_upto")->valueint, 4);
	cJSON_Delete(line);
	assert_int_equal(cli(f, out, sizeof(out), "events", "--device", DEVICE, (char *)NULL), 0);
	assert_non_null(strstr(out, "\"seq\":3"));
	assert_int_equal(cli(f, out, sizeof(out), "events", "--device", DEVICE, "--type",
			     "order.closed", (char *)NULL),
			 0);
	assert_int_equal(strlen(out), 0);
}

/* ---- SIGKILL in the middle of a stream of uploads ------------------------ */

#define KILL_TOTAL  600
#define KILL_BATCH  20
#define KILL_ROUNDS 8

struct killer {
	pid_t pid;
	int delay_ms;
};

static void *killer_main(void *arg)
{
	struct killer *k = arg;

	usleep((useconds_t)k->delay_ms * 1000);
	kill(k->pid, SIGKILL);
	return NULL;
}

/* Upload from next on until a request fails or everything is acked. */
static int64_t stream(struct fx *f, int64_t acked)
{
	while (acked < KILL_TOTAL) {
		int64_t seqs[KILL_BATCH];
		int n = 0;
		struct httpc_header h[2];
		struct httpc_request rq = {
			.method = "POST", .path = "/api/v1/events", .headers = h, .n_headers = 2
		};
		struct httpc_response resp;
		unsigned char sum[32];
		char hex[65];
		char *body;
		cJSON *a;
		int ret;

		for (int64_t s = acked + 1; s <= KILL_TOTAL && n < KILL_BATCH; s++) {
			seqs[n++] = s;
		}
		body = batch(DEVICE, "kill", seqs, n, NULL, 0);
		mbedtls_sha256_ret((const unsigned char *)body, strlen(body), sum, 0);
		for (int i = 0; i < 32; i++) {
			snprintf(hex + 2 * i, 3, "%02x", sum[i]);
		}
		h[0] = (struct httpc_header){ "X-Hotline-Protocol", "1" };
		h[1] = (struct httpc_header){ "X-Body-SHA256", hex };
		rq.body = body;
		rq.body_len = strlen(body);
		ret = httpc_request(&f->c, &rq, &resp);
		free(body);
		if (ret != 0) {
			return acked; /* the city died */
		}
		assert_int_equal(resp.status, 200);
		a = cJSON_Parse(resp.body);
		assert_non_null(a);
		/* never less than before: what was acknowledged stays */
		assert_true(cJSON_GetObjectItem(a, "acked_upto")->valuedouble >= (double)acked);
		acked = (int64_t)cJSON_GetObjectItem(a, "acked_upto")->valuedouble;
		cJSON_Delete(a);
	}
	return acked;
}

static void test_sigkill_during_uploads(void **state)
{
	struct fx *f = *state;
	int64_t acked = 0;
	unsigned int seed = (unsigned int)test_mono_us();

	print_message("seed %u\n", seed);
	srand(seed);
	for (int round = 0; round < KILL_ROUNDS && acked < KILL_TOTAL; round++) {
		struct killer k = { .pid = f->cs.pid, .delay_ms = 20 + rand() % 200 };
		pthread_t th;
		char sql[128];
		int status;

		assert_int_equal(pthread_create(&th, NULL, killer_main, &k), 0);
		acked = stream(f, acked);
		pthread_join(th, NULL);
		assert_int_equal(waitpid(f->cs.pid, &status, 0), f->cs.pid);
		httpc_close(&f->c);
		/* everything acknowledged is in the store, once */
		snprintf(sql, sizeof(sql),
			 "SELECT count(*) FROM events WHERE db_epoch='kill' AND seq <= %lld",
			 (long long)acked);
		assert_int_equal(db_int(f->db, sql), acked);
		assert_true(db_int(f->db, "SELECT count(*) FROM events") <= KILL_TOTAL);
		print_message("round %d: killed after %d ms, %lld acknowledged\n", round,
			      k.delay_ms, (long long)acked);
		city_start(f);
		httpc_free(&f->c);
		test_city_tls_free(&f->ca, &f->cert, &f->key);
		client_init(f);
	}
	/* resume from the last acknowledgement: resends are harmless */
	acked = stream(f, acked > 40 ? acked - 40 : 0);
	assert_int_equal(acked, KILL_TOTAL);
	assert_int_equal(db_int(f->db, "SELECT count(*) FROM events"), KILL_TOTAL);
	assert_int_equal(db_int(f->db, "SELECT count(DISTINCT seq) FROM events"), KILL_TOTAL);
	assert_int_equal(db_int(f->db, "SELECT max(seq) FROM events"), KILL_TOTAL);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_upload_acks_and_stores_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gap_then_filled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rejected_parked_later_acked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_items_from_cli_in_cursor_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_cli_items_accepted_by_appliance, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_status_page_and_cli_readouts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sigkill_during_uploads, setup, teardown),
	};
	int fails;
	int ret = test_city_env_init(&env, argc, argv, "citysim");

	if (ret != 0) {
		return ret;
	}
	signal(SIGPIPE, SIG_IGN);
	fails = cmocka_run_group_tests_name("citysim", tests, NULL, NULL);
	if (fails == 0) {
		test_rmtree(env.tmp);
	}
	return fails ? 1 : 0;
}
