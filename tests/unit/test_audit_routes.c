/*
 * The audit log's HTTP API over real HTTP on loopback, against a real
 * database: list filters and keyset paging, the CSV export (BOM, RFC 4180
 * quoting, formula neutralising, file name, the export audited), verify on
 * an intact and a tampered log, and every bad parameter answered 400 in the
 * kiosk error shape. The server runs without an authorize hook: the roles
 * are the auth app's dispatcher's business and tested there.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "audit/audit_routes.h"
#include "fake_clock.h"
#include "fw/audit.h"
#include "fw/config.h"
#include "fw/store.h"
#include "kiosk/kiosk.h"
#include "test_http.h"
#include "test_util.h"

#define T0 1700000000000LL /* 2023-11-15 06:13:20 in UTC+8 */

struct fixture {
	char dir[PATH_MAX];
	sqlite3 *db;
	struct fake_clock clk;
	struct kiosk k;
	struct fw_config cfg;
	struct test_resp r;
};

static void get(struct fixture *f, const char *path)
{
	test_http_call(kiosk_port(&f->k), "GET", path, &f->r);
}

/* GET path, expect 200 JSON; the caller frees. */
static cJSON *get_json(struct fixture *f, const char *path)
{
	cJSON *j;

	get(f, path);
	if (f->r.status != 200) {
		fail_msg("GET %s: %d %s", path, f->r.status, f->r.body);
	}
	test_http_assert_header(&f->r, "Content-Type", "application/json; charset=utf-8");
	j = cJSON_ParseWithLength(f->r.body, f->r.body_len);
	assert_non_null(j);
	return j;
}

static void assert_bad(struct fixture *f, const char *path, const char *param)
{
	cJSON *root, *e;
	const char *msg, *zh;

	get(f, path);
	if (f->r.status != 400) {
		fail_msg("GET %s: want 400, got %d %s", path, f->r.status, f->r.body);
	}
	root = cJSON_ParseWithLength(f->r.body, f->r.body_len);
	assert_non_null(root);
	e = cJSON_GetObjectItemCaseSensitive(root, "error");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "code")),
			    "bad_parameter");
	msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "message"));
	zh = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "message_zh"));
	assert_non_null(msg);
	assert_non_null(zh);
	/* The message names the parameter, in both languages. */
	assert_non_null(strstr(msg, param));
	assert_non_null(strstr(zh, param));
	cJSON_Delete(root);
}

/* ---- fixture ---- */

static void add(struct fixture *f, const char *actor, const char *role, const char *action,
		const char *target, const char *outcome, const char *detail)
{
	struct audit_entry e = { actor, role, action, target, outcome, detail };

	assert_int_equal(audit_append(f->db, &e), 0);
	fake_clock_advance(&f->clk.clock, 1000);
}

/* Seven entries, ids 1..7, wall T0 + (id - 1) * 1000. */
static void seed(struct fixture *f)
{
	add(f, "zhang01", "supervisor", "auth.login", "", "ok", NULL);
	add(f, "li02", "staff", "auth.login_failed", "li02", "denied", "{\"failed_count\":1}");
	add(f, "li02", "staff", "auth.login", "", "ok", NULL);
	add(f, "li02", "staff", "order.reply", "WO-2023-0001", "ok", "{\"note\":\"已答复\"}");
	add(f, "zhang01", "supervisor", "user.disable", "wang03", "ok", NULL);
	add(f, "li02", "staff", "order.extend", "WO-2023-0002", "denied", NULL);
	add(f, "li02", "staff", "auth.logout", "", "ok", NULL);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct kiosk_params p = { 0 };

	assert_non_null(f);
	assert_int_equal(test_tmpdir(f->dir, sizeof(f->dir), "test_audit_routes"), 0);
	assert_int_equal(store_init(f->dir, NULL), 0);
	assert_int_equal(store_open(f->dir, &f->db), 0);
	fake_clock_init(&f->clk, T0, 1000);
	audit_set_clock(&f->clk.clock);

	config_defaults(&f->cfg);
	f->cfg.http_port = 0;
	kiosk_init(&f->k);
	assert_int_equal(audit_routes_register(&f->k, f->dir), 0);
	p.cfg = &f->cfg;
	assert_int_equal(kiosk_start(&f->k, &p), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int rc;

	kiosk_stop(&f->k);
	store_close(f->db);
	audit_set_clock(NULL);
	rc = test_rmtree(f->dir);
	free(f);
	return rc;
}

static int64_t num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	assert_true(cJSON_IsNumber(v));
	return (int64_t)v->valuedouble;
}

/* The ids of a list answer as "7,6,5", and its next_before_id (0 for null). */
static int64_t ids(struct fixture *f, const char *path, char *out, size_t cap)
{
	cJSON *root = get_json(f, path);
	const cJSON *e, *next = cJSON_GetObjectItemCaseSensitive(root, "next_before_id");
	size_t n = 0;
	int64_t nb;

	out[0] = '\0';
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(root, "entries"))
	{
		n += (size_t)snprintf(out + n, cap - n, "%s%lld", n ? "," : "",
				      (long long)num(e, "id"));
	}
	assert_true(cJSON_IsNull(next) || cJSON_IsNumber(next));
	nb = cJSON_IsNumber(next) ? (int64_t)next->valuedouble : 0;
	cJSON_Delete(root);
	return nb;
}

#define ASSERT_IDS(f, path, want_ids, want_next)                                                  \
	do {                                                                                      \
		char got_[256];                                                                   \
		int64_t next_ = ids((f), (path), got_, sizeof(got_));                             \
		if (strcmp(got_, (want_ids)) != 0 || next_ != (want_next)) {                      \
			fail_msg("GET %s: ids [%s] next %lld, want [%s] next %lld", (path), got_, \
				 (long long)next_, (want_ids), (long long)(want_next));           \
		}                                                                                 \
	} while (0)

/* ---- tests ---- */

static void test_list_fields(void **state)
{
	struct fixture *f = *state;
	cJSON *root, *entries, *e;

	root = get_json(f, "/api/v1/audit");
	entries = cJSON_GetObjectItemCaseSensitive(root, "entries");
	assert_int_equal(cJSON_GetArraySize(entries), 0);
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(root, "next_before_id")));
	cJSON_Delete(root);

	seed(f);
	root = get_json(f, "/api/v1/audit");
	entries = cJSON_GetObjectItemCaseSensitive(root, "entries");
	assert_int_equal(cJSON_GetArraySize(entries), 7);
	e = cJSON_GetArrayItem(entries, 3); /* newest first: id 4 */
	assert_int_equal(num(e, "id"), 4);
	assert_int_equal(num(e, "wall_ms"), T0 + 3000);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(e, "actor")->valuestring, "li02");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(e, "role")->valuestring, "staff");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(e, "action")->valuestring,
			    "order.reply");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(e, "target")->valuestring,
			    "WO-2023-0001");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(e, "outcome")->valuestring, "ok");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(e, "detail")->valuestring,
			    "{\"note\":\"已答复\"}");
	e = cJSON_GetArrayItem(entries, 0);
	assert_int_equal(num(e, "id"), 7);
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(e, "detail")));
	cJSON_Delete(root);
}

static void test_list_paging(void **state)
{
	struct fixture *f = *state;

	seed(f);
	ASSERT_IDS(f, "/api/v1/audit?limit=3", "7,6,5", 5);
	ASSERT_IDS(f, "/api/v1/audit?limit=3&before_id=5", "4,3,2", 2);
	ASSERT_IDS(f, "/api/v1/audit?limit=3&before_id=2", "1", 0);
	/* A page that ends exactly at the first entry says there is no more. */
	ASSERT_IDS(f, "/api/v1/audit?limit=3&before_id=4", "3,2,1", 0);
	ASSERT_IDS(f, "/api/v1/audit?limit=7", "7,6,5,4,3,2,1", 0);
	ASSERT_IDS(f, "/api/v1/audit?limit=1&before_id=1", "", 0);
	/* Paging is stable while entries are added. */
	add(f, "li02", "staff", "auth.login", "", "ok", NULL);
	ASSERT_IDS(f, "/api/v1/audit?limit=3&before_id=5", "4,3,2", 2);
	ASSERT_IDS(f, "/api/v1/audit?limit=200", "8,7,6,5,4,3,2,1", 0);
}

static void test_list_filters(void **state)
{
	struct fixture *f = *state;
	char path[256];

	seed(f);
	ASSERT_IDS(f, "/api/v1/audit?actor=zhang01", "5,1", 0);
	ASSERT_IDS(f, "/api/v1/audit?actor=nobody", "", 0);
	ASSERT_IDS(f, "/api/v1/audit?action=auth.", "7,3,2,1", 0);
	ASSERT_IDS(f, "/api/v1/audit?action=auth.login", "3,2,1", 0); /* a prefix */
	ASSERT_IDS(f, "/api/v1/audit?action=order", "6,4", 0);
	ASSERT_IDS(f, "/api/v1/audit?outcome=denied", "6,2", 0);
	/* Both ends inclusive (a day is its first to its last millisecond). */
	snprintf(path, sizeof(path), "/api/v1/audit?from_ms=%lld&to_ms=%lld",
		 (long long)(T0 + 2000), (long long)(T0 + 4000));
	ASSERT_IDS(f, path, "5,4,3", 0);
	snprintf(path, sizeof(path), "/api/v1/audit?from_ms=%lld&to_ms=%lld",
		 (long long)(T0 + 2000), (long long)(T0 + 2000));
	ASSERT_IDS(f, path, "3", 0);
	snprintf(path, sizeof(path), "/api/v1/audit?from_ms=%lld", (long long)(T0 + 5500));
	ASSERT_IDS(f, path, "7", 0);
	snprintf(path, sizeof(path), "/api/v1/audit?to_ms=%lld", (long long)T0 + 999);
	ASSERT_IDS(f, path, "1", 0);
	/* Combined, paged, and empty values meaning "any" (as a form sends them). */
	ASSERT_IDS(f, "/api/v1/audit?actor=li02&outcome=ok&limit=2", "7,4", 4);
	ASSERT_IDS(f, "/api/v1/audit?actor=li02&outcome=ok&limit=2&before_id=4", "3", 0);
	ASSERT_IDS(f, "/api/v1/audit?actor=&action=&outcome=&from_ms=&to_ms=&before_id=&limit=",
		   "7,6,5,4,3,2,1", 0);
	/* Query values are URL-decoded: an actor in Chinese. */
	add(f, "张伟", "staff", "auth.login", "", "ok", NULL);
	ASSERT_IDS(f, "/api/v1/audit?actor=%E5%BC%A0%E4%BC%9F", "8", 0);
}

static void test_bad_parameters(void **state)
{
	struct fixture *f = *state;
	char path[600];

	assert_bad(f, "/api/v1/audit?limit=0", "limit");
	assert_bad(f, "/api/v1/audit?limit=201", "limit");
	assert_bad(f, "/api/v1/audit?limit=-1", "limit");
	assert_bad(f, "/api/v1/audit?limit=1.5", "limit");
	assert_bad(f, "/api/v1/audit?limit=ten", "limit");
	assert_bad(f, "/api/v1/audit?limit=%2010", "limit");
	assert_bad(f, "/api/v1/audit?limit=99999999999999999999", "limit");
	assert_bad(f, "/api/v1/audit?before_id=0", "before_id");
	assert_bad(f, "/api/v1/audit?before_id=x", "before_id");
	assert_bad(f, "/api/v1/audit?from_ms=yesterday", "from_ms");
	assert_bad(f, "/api/v1/audit?from_ms=-5", "from_ms");
	assert_bad(f, "/api/v1/audit?to_ms=1e12", "to_ms");
	assert_bad(f, "/api/v1/audit?to_ms=99999999999999", "to_ms");
	assert_bad(f, "/api/v1/audit?from_ms=2001&to_ms=2000", "to_ms");
	assert_bad(f, "/api/v1/audit?from_ms=3000&to_ms=2000", "to_ms");
	assert_bad(f, "/api/v1/audit?actor=a%0Ab", "actor");
	assert_bad(f, "/api/v1/audit?actor=%FF", "actor");
	assert_bad(f, "/api/v1/audit?action=AUTH", "action");
	assert_bad(f, "/api/v1/audit?action=auth%25", "action"); /* no LIKE wildcards */
	assert_bad(f, "/api/v1/audit?action=auth*", "action");
	assert_bad(f, "/api/v1/audit?outcome=o%20k", "outcome");
	assert_bad(f, "/api/v1/audit?outcome=%27%3B--", "outcome");
	assert_bad(f, "/api/v1/audit/export?limit=10", "limit");
	assert_bad(f, "/api/v1/audit/export?to_ms=now", "to_ms");
	/* An actor longer than any user id. */
	snprintf(path, sizeof(path), "/api/v1/audit?actor=%0*d", AUDIT_FIELD_MAX + 1, 0);
	assert_bad(f, path, "actor");
	/* Nothing was recorded for refused requests (not even a refused export). */
	get(f, "/api/v1/audit/verify");
	assert_non_null(strstr(f->r.body, "\"entries\":0,"));
}

static void assert_prefix(const char *s, const char *prefix)
{
	if (strncmp(s, prefix, strlen(prefix)) != 0) {
		fail_msg("'%s' does not start with '%s'", s, prefix);
	}
}

/* The n-th CSV line (0: header), CRLF excluded; quoted newlines respected. */
static void csv_line(const char *body, int n, char *out, size_t cap)
{
	bool quoted = false;
	int line = 0;
	size_t k = 0;

	for (const char *p = body; *p != '\0'; p++) {
		if (*p == '"') {
			quoted = !quoted;
		}
		if (!quoted && p[0] == '\r' && p[1] == '\n') {
			if (line++ == n) {
				break;
			}
			p++;
			continue;
		}
		if (line == n && k + 1 < cap) {
			out[k++] = *p;
		}
	}
	out[k] = '\0';
}

static void test_export_csv(void **state)
{
	struct fixture *f = *state;
	char line[1024], want[1024], hex[2 * AUDIT_HASH_LEN + 1], v[256];
	uint8_t head[AUDIT_HASH_LEN];
	cJSON *root, *e;
	int64_t id;

	setenv("TZ", "CST-8", 1); /* China Standard Time, without tzdata */
	tzset();
	seed(f);
	add(f, "li02", "staff", "order.reply", "WO-1, \"urgent\"", "ok", "line 1\nline 2");
	add(f, "li02", "staff", "order.reply", "=HYPERLINK(\"http://x\",\"y\")", "ok", "+1");
	add(f, "li02", "staff", "order.reply", "-2+3", "ok", "@SUM(A1)");
	add(f, "li02", "staff", "order.reply", "a=b", "ok", "\t=1");
	assert_int_equal(audit_head(f->db, &id, head), 0);
	audit_hex(head, hex);

	get(f, "/api/v1/audit/export");
	assert_int_equal(f->r.status, 200);
	test_http_assert_header(&f->r, "Content-Type", "text/csv; charset=utf-8");
	/* From the first entry to now (the real clock: the file name only). */
	assert_non_null(test_http_header(&f->r, "Content-Disposition", v, sizeof(v)));
	assert_prefix(v, "attachment; filename=\"audit-20231115T0613-");
	assert_non_null(strstr(v, ".csv\""));
	assert_memory_equal(f->r.body, "\xef\xbb\xbf", 3);
	csv_line(f->r.body + 3, 0, line, sizeof(line));
	assert_string_equal(line, "id,time,wall_ms,mono_ms,actor,role,action,target,outcome,"
				  "detail,hash");
	csv_line(f->r.body + 3, 1, line, sizeof(line)); /* oldest first */
	assert_prefix(line, "1,2023-11-15T06:13:20.000+08:00,1700000000000,1000,zhang01,"
			    "supervisor,auth.login,,ok,,");
	assert_int_equal(strlen(line), 86 + 2 * AUDIT_HASH_LEN);
	csv_line(f->r.body + 3, 4, line, sizeof(line));
	assert_prefix(line, "4,2023-11-15T06:13:23.000+08:00,1700000003000,4000,li02,"
			    "staff,order.reply,WO-2023-0001,ok,\"{\"\"note\"\":\"\"已答复\"\"}\",");
	csv_line(f->r.body + 3, 8, line, sizeof(line));
	assert_non_null(strstr(line, ",\"WO-1, \"\"urgent\"\"\",ok,\"line 1\nline 2\","));
	csv_line(f->r.body + 3, 9, line, sizeof(line));
	assert_non_null(strstr(line, ",\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",ok,\"'+1\","));
	csv_line(f->r.body + 3, 10, line, sizeof(line));
	assert_non_null(strstr(line, ",\"'-2+3\",ok,\"'@SUM(A1)\","));
	csv_line(f->r.body + 3, 11, line, sizeof(line));
	snprintf(want, sizeof(want), ",a=b,ok,\"'\t=1\",%s", hex);
	assert_non_null(strstr(line, want));
	/* The last hash in the export is the chain head: the copy can be checked. */
	assert_int_equal(strlen(line) - (size_t)(strrchr(line, ',') - line) - 1,
			 2 * AUDIT_HASH_LEN);
	csv_line(f->r.body + 3, 12, line, sizeof(line));
	assert_string_equal(line, "");

	/* The export was itself recorded, after what it exported. */
	root = get_json(f, "/api/v1/audit?limit=1");
	e = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "entries"), 0);
	assert_int_equal(num(e, "id"), 12);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(e, "action")->valuestring,
			    "audit.export");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(e, "actor")->valuestring,
			    "citizen"); /* no authorize hook: nobody logged in */
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(e, "detail")->valuestring,
			    "{\"rows\":11,\"last_id\":11}");
	cJSON_Delete(root);
	unsetenv("TZ");
	tzset();
}

static void test_export_filtered(void **state)
{
	struct fixture *f = *state;
	char path[256], v[256], line[512];
	cJSON *root, *e;

	setenv("TZ", "CST-8", 1);
	tzset();
	seed(f);
	snprintf(path, sizeof(path),
		 "/api/v1/audit/export?action=auth.&outcome=ok&from_ms=%lld&to_ms=%lld",
		 (long long)T0, (long long)(T0 + 86400000));
	get(f, path);
	assert_int_equal(f->r.status, 200);
	test_http_assert_header(&f->r, "Content-Disposition",
				"attachment; filename=\"audit-20231115T0613-20231116T0613.csv\"");
	csv_line(f->r.body + 3, 1, line, sizeof(line));
	assert_memory_equal(line, "1,", 2);
	csv_line(f->r.body + 3, 2, line, sizeof(line));
	assert_memory_equal(line, "3,", 2);
	csv_line(f->r.body + 3, 3, line, sizeof(line));
	assert_memory_equal(line, "7,", 2);
	csv_line(f->r.body + 3, 4, line, sizeof(line));
	assert_string_equal(line, "");

	root = get_json(f, "/api/v1/audit?action=audit.export");
	e = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "entries"), 0);
	snprintf(v, sizeof(v),
		 "{\"rows\":3,\"last_id\":7,\"action\":\"auth.\",\"outcome\":\"ok\","
		 "\"from_ms\":%lld,\"to_ms\":%lld}",
		 (long long)T0, (long long)(T0 + 86400000));
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(e, "detail")->valuestring, v);
	cJSON_Delete(root);

	/* An empty export still has the BOM and the header row. */
	get(f, "/api/v1/audit/export?actor=nobody");
	assert_int_equal(f->r.status, 200);
	assert_int_equal(f->r.body_len, 3 + strlen("id,time,wall_ms,mono_ms,actor,role,action,"
						   "target,outcome,detail,hash\r\n"));
	unsetenv("TZ");
	tzset();
}

static void test_verify(void **state)
{
	struct fixture *f = *state;
	char hex[2 * AUDIT_HASH_LEN + 1];
	uint8_t head[AUDIT_HASH_LEN];
	cJSON *root;
	int64_t id;

	root = get_json(f, "/api/v1/audit/verify");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "intact")));
	assert_int_equal(num(root, "entries"), 0);
	assert_int_equal(num(root, "head_id"), 0);
	cJSON_Delete(root);

	seed(f);
	assert_int_equal(audit_head(f->db, &id, head), 0);
	audit_hex(head, hex);
	root = get_json(f, "/api/v1/audit/verify");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "intact")));
	assert_int_equal(num(root, "entries"), 7);
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(root, "first_bad")));
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(root, "reason")->valuestring, "");
	assert_int_equal(num(root, "head_id"), 7);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(root, "head_hash")->valuestring, hex);
	cJSON_Delete(root);

	assert_int_equal(sqlite3_exec(f->db,
				      "DROP TRIGGER audit_no_update;"
				      "UPDATE audit SET outcome = 'ok' WHERE id = 6",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	root = get_json(f, "/api/v1/audit/verify");
	assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(root, "intact")));
	assert_int_equal(num(root, "entries"), 7);
	assert_int_equal(num(root, "first_bad"), 6);
	assert_non_null(strstr(cJSON_GetObjectItemCaseSensitive(root, "reason")->valuestring,
			       "row 6 was changed"));
	assert_non_null(strstr(cJSON_GetObjectItemCaseSensitive(root, "reason_zh")->valuestring,
			       "第 6 条被修改"));
	assert_int_equal(num(root, "head_id"), 7);
	cJSON_Delete(root);
}

static void test_routes_are_supervisor_only(void **state)
{
	struct fixture *f = *state;
	int n = 0;

	for (unsigned i = 0; i < f->k.nroutes; i++) {
		if (strncmp(f->k.routes[i].path, "/api/v1/audit", 13) == 0) {
			assert_int_equal(f->k.routes[i].roles, KIOSK_ROLE_SUPERVISOR);
			n++;
		}
	}
	assert_int_equal(n, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_list_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_paging, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_parameters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_export_csv, setup, teardown),
		cmocka_unit_test_setup_teardown(test_export_filtered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_routes_are_supervisor_only, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
