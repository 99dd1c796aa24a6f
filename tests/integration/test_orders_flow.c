/*
 * A work order's whole life in the real daemon on the sim board, offline
 * (the sim uplink reaches no city): staff and a supervisor made with
 * `hotline-edge admin add-user`, orders dispatched with `hotline-edge
 * admin city-event FILE`, then over HTTP with real sessions and CSRF
 * tokens: sign for, assign, draft, sign off (supervisor); the city's
 * visit result (satisfied) closes it. The database must then hold exactly
 * the order's outbox events, in order, all still waiting to be sent (and
 * the order says so), the deadline flags must follow the appliance's own
 * clock, and `hotline-edge admin audit-verify` must find the audit chain
 * intact.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "test_http.h"
#include "test_proc.h"
#include "test_util.h"

#define START_MAX_MS 30000
#define CMD_MAX_MS   60000
#define DAY_MS	     86400000LL
#define PIN_STAFF    "246810"
#define PIN_BOSS     "135790"
#define NUMBER	     "SZ20240001"
#define OLD_NUMBER   "SZ20230999"

static char **daemon_cmd;
static int daemon_argc;
static char tmpdir[PATH_MAX];
static struct test_resp resp; /* large: not on the stack */
static struct test_proc cmd;  /* likewise */

struct sess {
	char cookie[256];
	char csrf[80];
};

/* `hotline-edge admin --data-dir DIR ARGS...` with input on stdin; asserts exit 0. */
static void admin(const char *dir, const char *const *args, const char *input)
{
	const char *argv[16] = { "admin", "--data-dir", dir };
	int n = 3, rc;

	for (int i = 0; args[i] != NULL && n < 15; i++) {
		argv[n++] = args[i];
	}
	argv[n] = NULL;
	rc = test_proc_run(&cmd, daemon_cmd, daemon_argc, argv, input, CMD_MAX_MS);
	if (rc != 0) {
		fail_msg("admin %s exited %d:\n%s", args[0], rc, cmd.out);
	}
}

/* Write a city item (or an array of them) to a file and apply it. */
static void city_event(const char *dir, const char *name, const char *json)
{
	char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s.json", tmpdir, name);
	test_file_write(path, json, strlen(json));
	admin(dir, (const char *const[]){ "city-event", path, NULL }, NULL);
}

static void http(uint16_t port, const char *method, const char *path, const struct sess *s,
		 const char *body)
{
	char head[1024];
	size_t len = body != NULL ? strlen(body) : 0;
	int fd = test_http_connect(port);

	snprintf(head, sizeof(head),
		 "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s%s%s%s%s%s"
		 "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
		 method, path, s ? "Cookie: " : "", s ? s->cookie : "", s ? "\r\n" : "",
		 s ? "X-CSRF-Token: " : "", s ? s->csrf : "", s ? "\r\n" : "", len);
	test_http_send(fd, head, strlen(head));
	if (len > 0) {
		test_http_send(fd, body, len);
	}
	test_http_read(fd, &resp);
}

/* A call that must answer 200 with JSON (the caller frees). */
static cJSON *call(uint16_t port, const char *method, const char *path, const struct sess *s,
		   const char *body)
{
	cJSON *j;

	http(port, method, path, s, body);
	if (resp.status != 200) {
		fail_msg("%s %s: %d %s", method, path, resp.status, resp.body);
	}
	j = cJSON_ParseWithLength(resp.body, resp.body_len);
	assert_non_null(j);
	return j;
}

static const char *str(const cJSON *o, const char *key)
{
	const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));

	assert_non_null(v);
	return v;
}

static void login(uint16_t port, const char *user, const char *pin, struct sess *s)
{
	char body[128], v[256];
	cJSON *j;

	snprintf(body, sizeof(body), "{\"user\":\"%s\",\"pin\":\"%s\"}", user, pin);
	j = call(port, "POST", "/api/v1/auth/login", NULL, body);
	assert_non_null(test_http_header(&resp, "Set-Cookie", v, sizeof(v)));
	*strchr(v, ';') = '\0';
	snprintf(s->cookie, sizeof(s->cookie), "%s", v);
	snprintf(s->csrf, sizeof(s->csrf), "%s", str(j, "csrf"));
	cJSON_Delete(j);
}

/* The order's id from the list searched by its number. */
static long long order_id(uint16_t port, const struct sess *s, const char *number)
{
	char path[128];
	cJSON *j, *row;
	long long id;

	snprintf(path, sizeof(path), "/api/v1/orders?q=%s", number);
	j = call(port, "GET", path, s, NULL);
	row = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "rows"), 0);
	assert_non_null(row);
	assert_string_equal(str(row, "number"), number);
	id = (long long)cJSON_GetObjectItemCaseSensitive(row, "id")->valuedouble;
	cJSON_Delete(j);
	return id;
}

/* POST an action; asserts 200 and the state it leads to. */
static void act(uint16_t port, const struct sess *s, long long id, const char *verb,
		const char *body, const char *want_state)
{
	char path[128];
	cJSON *j;

	snprintf(path, sizeof(path), "/api/v1/orders/%lld/%s", id, verb);
	j = call(port, "POST", path, s, body);
	assert_string_equal(str(j, "state"), want_state);
	cJSON_Delete(j);
}

static const char *dispatch_item(char *out, size_t cap, const char *item_id, const char *number,
				 long long dispatch_ms)
{
	snprintf(
		out, cap,
		"{\"type\":\"order.dispatch\",\"item_id\":\"%s\",\"number\":\"%s\","
		"\"channel\":\"phone\",\"category\":\"help\",\"field\":\"public_service\","
		"\"title\":\"自来水停水未通知\",\"content\":\"和平街3号停水两天，没有通知。\","
		"\"location\":\"和平街3号\",\"urgency\":\"normal\",\"complexity\":\"complex\","
		"\"dispatch_ms\":%lld,\"contact\":{\"name\":\"陈小明\",\"phone\":\"13900001111\"}}",
		item_id, number, dispatch_ms);
	return out;
}

/* The outbox events of one order, in seq order, as "type,type,...". */
static void events_of(sqlite3 *db, const char *number, char *out, size_t cap)
{
	char sql[256];

	snprintf(sql, sizeof(sql),
		 "SELECT coalesce(group_concat(type, ','), '') FROM (SELECT type FROM outbox "
		 "WHERE json_extract(payload, '$.number') = '%s' ORDER BY seq)",
		 number);
	test_sql_text(db, sql, out, cap);
}

static void test_order_life(void **state)
{
	char dir[PATH_MAX + 8], conf[PATH_MAX + 64], text[160], item[1408], path[PATH_MAX + 32],
		body[256], got[512];
	uint16_t port = (uint16_t)test_proc_free_port();
	long long now = (long long)time(NULL) * 1000, id, old_id;
	struct sess staff, boss;
	struct test_proc d;
	sqlite3 *db;
	cJSON *j, *e;

	snprintf(dir, sizeof(dir), "%s/data", tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(conf, sizeof(conf), "%s/hotline-edge.conf", dir);
	snprintf(text, sizeof(text), "[http]\nport = %d\n[log]\nlevel = warn\n", port);
	test_file_write(conf, text, strlen(text));

	admin(dir, (const char *const[]){ "add-user", "li01", "staff", "--name", "李四", NULL },
	      PIN_STAFF "\n" PIN_STAFF "\n");
	admin(dir,
	      (const char *const[]){ "add-user", "boss", "supervisor", "--name", "王主管", NULL },
	      PIN_BOSS "\n" PIN_BOSS "\n");
	/* One order dispatched now, one forty days ago and never signed for. */
	{
		char a[700], b[700];

		snprintf(item, sizeof(item), "[%s,%s]",
			 dispatch_item(a, sizeof(a), "it-1", NUMBER, now - 60000),
			 dispatch_item(b, sizeof(b), "it-0", OLD_NUMBER, now - 40 * DAY_MS));
	}
	city_event(dir, "dispatch", item);

	test_proc_start(&d, daemon_cmd, daemon_argc,
			(const char *const[]){ "--board", "sim", "--data-dir", dir, NULL }, true);
	test_proc_wait_http(&d, port, "/api/v1/health", START_MAX_MS);
	login(port, "li01", PIN_STAFF, &staff);
	login(port, "boss", PIN_BOSS, &boss);

	/* Deadlines on the appliance's clock: the old order is overdue, the new one not. */
	j = call(port, "GET", "/api/v1/orders?flag=overdue", &staff, NULL);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(j, "total")->valueint, 1);
	e = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "rows"), 0);
	assert_string_equal(str(e, "number"), OLD_NUMBER);
	assert_string_equal(str(e, "due_flag"), "overdue");
	cJSON_Delete(j);
	j = call(port, "GET", "/api/v1/orders/home", &staff, NULL);
	e = cJSON_GetObjectItemCaseSensitive(j, "counts");
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(e, "pending")->valueint, 2);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(e, "overdue")->valueint, 1);
	cJSON_Delete(j);

	id = order_id(port, &staff, NUMBER);
	old_id = order_id(port, &staff, OLD_NUMBER);
	assert_true(id != old_id);
	act(port, &staff, id, "sign", NULL, "received");
	j = call(port, "GET", "/api/v1/orders/departments", &staff, NULL);
	e = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "departments"), 0);
	assert_non_null(e);
	snprintf(body, sizeof(body), "{\"lead_dept\":\"%s\"}", str(e, "code"));
	cJSON_Delete(j);
	act(port, &staff, id, "assign", body, "handling");
	act(port, &staff, id, "draft-reply", "{\"reply\":\"已联系水务公司，今后停水提前公告。\"}",
	    "drafted");
	snprintf(path, sizeof(path), "/api/v1/orders/%lld/sign-off", id);
	http(port, "POST", path, &staff, NULL);
	test_http_assert_error(&resp, 403, "forbidden");
	act(port, &boss, id, "sign-off", NULL, "replied");

	/* Offline: it is stored and shown as waiting to be sent. */
	snprintf(path, sizeof(path), "/api/v1/orders/%lld", id);
	j = call(port, "GET", path, &staff, NULL);
	assert_string_equal(str(j, "state"), "replied");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "sync_pending")));
	cJSON_Delete(j);
	j = call(port, "GET", "/api/v1/orders/home", &staff, NULL);
	e = cJSON_GetObjectItemCaseSensitive(j, "counts");
	assert_true(cJSON_GetObjectItemCaseSensitive(e, "sync_pending")->valueint >= 1);
	cJSON_Delete(j);

	/* The city's return visit, applied while the daemon runs. */
	snprintf(item, sizeof(item),
		 "{\"type\":\"order.visit_result\",\"item_id\":\"it-2\",\"number\":\"" NUMBER
		 "\",\"result\":\"satisfied\"}");
	city_event(dir, "visit", item);
	j = call(port, "GET", path, &staff, NULL);
	assert_string_equal(str(j, "state"), "closed");
	cJSON_Delete(j);

	kill(d.pid, SIGTERM);
	assert_int_equal(test_proc_finish(&d, 20000), 0);

	snprintf(path, sizeof(path), "%s/hotline.db", dir);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	events_of(db, NUMBER, got, sizeof(got));
	assert_string_equal(got, "order.delivered,order.received,order.assigned,order.drafted,"
				 "order.replied,order.closed");
	events_of(db, OLD_NUMBER, got, sizeof(got));
	assert_string_equal(got, "order.delivered");
	/* Nothing reached a city: every event is still pending. */
	assert_int_equal(test_sql_int(db, "SELECT count(*) FROM outbox WHERE acked_ms IS NOT NULL"),
			 0);
	assert_true(test_sql_int(db, "SELECT count(*) FROM outbox") >= 7);
	sqlite3_close(db);

	admin(dir, (const char *const[]){ "audit-verify", NULL }, NULL);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_life),
	};
	int rc;

	if (argc < 2) {
		fprintf(stderr, "usage: test_orders_flow DAEMON-COMMAND...\n");
		return 2;
	}
	daemon_cmd = argv + 1;
	daemon_argc = argc - 1;
	rc = test_tmpdir(tmpdir, sizeof(tmpdir), "orders-flow");
	if (rc != 0) {
		fprintf(stderr, "test_orders_flow: cannot make a temporary directory: %s\n",
			strerror(-rc));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	rc = cmocka_run_group_tests_name("orders_flow", tests, NULL, NULL);
	if (rc == 0) {
		test_rmtree(tmpdir);
	}
	return rc;
}
