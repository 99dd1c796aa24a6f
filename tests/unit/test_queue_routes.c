/*
 * The ticket queue's HTTP API over real HTTP on loopback, with a real
 * database, a fake clock and a fake printer: services, issuing (201 only
 * once printed; 503 with the printer's code and nothing queued when it
 * fails), show-on-screen, the window actions, snapshot, configuration
 * (validated, 400 in the kiosk error shape) and statistics. The server runs
 * without an authorize hook: roles are the auth app's business.
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

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "fake_clock.h"
#include "fake_printer.h"
#include "fw/config.h"
#include "fw/rng.h"
#include "fw/store.h"
#include "kiosk/kiosk.h"
#include "queue/queue.h"
#include "test_http.h"
#include "test_util.h"

#define T0 1699840800000LL /* Monday 2023-11-13 10:00 in UTC+8 */

struct fixture {
	char dir[PATH_MAX];
	struct fake_clock clk;
	struct queue *q;
	struct kiosk k;
	struct fw_config cfg;
	struct test_resp r;
};

static struct hal_printer printer;

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct kiosk_params kp = { 0 };
	struct queue_params qp = { 0 };

	assert_non_null(f);
	assert_int_equal(test_tmpdir(f->dir, sizeof(f->dir), "test_queue_routes"), 0);
	assert_int_equal(rng_init(), 0);
	assert_int_equal(store_init(f->dir, NULL), 0);
	fake_clock_init(&f->clk, T0, 1000);
	fake_printer_init(&printer);
	qp = (struct queue_params){ .data_dir = f->dir,
				    .clock = &f->clk.clock,
				    .printer = &printer,
				    .office_name = "测试大厅",
				    .recall_max = 1,
				    .priority_run = 3,
				    .rollover_min = 240,
				    .utc_offset_min = 480 };
	assert_int_equal(queue_create(&qp, &f->q), 0);
	config_defaults(&f->cfg);
	f->cfg.http_port = 0;
	kiosk_init(&f->k);
	assert_int_equal(queue_routes_register(&f->k, f->q), 0);
	kp.cfg = &f->cfg;
	assert_int_equal(kiosk_start(&f->k, &kp), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	kiosk_stop(&f->k);
	queue_destroy(f->q);
	rng_free();
	test_rmtree(f->dir);
	free(f);
	return 0;
}

static void send_body(struct fixture *f, const char *method, const char *path, const char *body)
{
	char raw[8192];

	snprintf(raw, sizeof(raw),
		 "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
		 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
		 method, path, strlen(body), body);
	test_http_request(kiosk_port(&f->k), raw, &f->r);
}

static cJSON *json(struct fixture *f, int status)
{
	cJSON *j;

	test_http_assert_status(&f->r, status);
	j = cJSON_ParseWithLength(f->r.body, f->r.body_len);
	assert_non_null(j);
	return j;
}

static const char *ticket_number(cJSON *j)
{
	cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "ticket");

	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "number"));
}

static void test_take_a_ticket(void **state)
{
	struct fixture *f = *state;
	cJSON *j, *s;

	test_http_call(kiosk_port(&f->k), "GET", "/api/v1/queue/services", &f->r);
	j = json(f, 200);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "open")));
	s = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "services"), 0);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "name_zh")),
			    "综合咨询");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "prefix")),
			    "A");
	assert_true(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(s, "documents_zh")) >= 1);
	cJSON_Delete(j);

	send_body(f, "POST", "/api/v1/queue/tickets", "{\"service_id\":1,\"priority\":true}");
	j = json(f, 201);
	assert_string_equal(ticket_number(j), "A001");
	assert_int_equal(fake_printer_job_count(&printer), 1);
	cJSON_Delete(j);

	/* Paper out: 503 with the printer's code, nothing queued, number burnt. */
	fake_printer_set_state(&printer, HAL_PRINTER_PAPER_OUT);
	send_body(f, "POST", "/api/v1/queue/tickets", "{\"service_id\":1}");
	test_http_assert_error(&f->r, 503, "printer_paper_out");
	fake_printer_set_state(&printer, HAL_PRINTER_OFFLINE);
	send_body(f, "POST", "/api/v1/queue/tickets", "{\"service_id\":1}");
	test_http_assert_error(&f->r, 503, "printer_offline");
	fake_printer_set_state(&printer, HAL_PRINTER_COVER_OPEN);
	send_body(f, "POST", "/api/v1/queue/tickets", "{\"service_id\":1}");
	test_http_assert_error(&f->r, 503, "printer_cover_open");
	send_body(f, "POST", "/api/v1/queue/tickets/show-on-screen", "{\"service_id\":1}");
	j = json(f, 201);
	assert_string_equal(ticket_number(j), "A005");
	assert_false(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(j, "ticket"), "printed")));
	cJSON_Delete(j);

	send_body(f, "POST", "/api/v1/queue/tickets", "{\"service_id\":\"A\"}");
	test_http_assert_error(&f->r, 400, "bad_request");
	send_body(f, "POST", "/api/v1/queue/tickets/show-on-screen", "{\"service_id\":7}");
	test_http_assert_error(&f->r, 404, "service_not_found");

	test_http_call(kiosk_port(&f->k), "GET", "/api/v1/queue/snapshot", &f->r);
	j = json(f, 200);
	s = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "services"), 0);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(s, "waiting")->valueint, 2);
	cJSON_Delete(j);
}

static void test_window_flow(void **state)
{
	struct fixture *f = *state;
	cJSON *j;

	send_body(f, "POST", "/api/v1/queue/windows/1/call-next", "");
	test_http_assert_error(&f->r, 409, "window_not_open");
	send_body(f, "POST", "/api/v1/queue/windows/1/open", "");
	j = json(f, 200);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "state")),
			    "open");
	cJSON_Delete(j);
	send_body(f, "POST", "/api/v1/queue/windows/1/call-next", "");
	test_http_assert_error(&f->r, 404, "queue_empty");

	send_body(f, "POST", "/api/v1/queue/tickets", "{\"service_id\":2}");
	test_http_assert_status(&f->r, 201);
	send_body(f, "POST", "/api/v1/queue/windows/1/call-next", "");
	j = json(f, 200);
	assert_string_equal(ticket_number(j), "B001");
	cJSON_Delete(j);
	send_body(f, "POST", "/api/v1/queue/windows/1/recall", "");
	test_http_assert_status(&f->r, 200);
	send_body(f, "POST", "/api/v1/queue/windows/1/recall", "");
	test_http_assert_error(&f->r, 409, "recall_limit");
	send_body(f, "POST", "/api/v1/queue/windows/1/finish", "");
	test_http_assert_error(&f->r, 409, "wrong_state");
	send_body(f, "POST", "/api/v1/queue/windows/1/start", "");
	test_http_assert_status(&f->r, 200);
	send_body(f, "POST", "/api/v1/queue/windows/1/transfer",
		  "{\"to_window_no\":2,\"note\":\"x\"}");
	test_http_assert_status(&f->r, 200);
	send_body(f, "POST", "/api/v1/queue/windows/1/transfer", "{}");
	test_http_assert_error(&f->r, 400, "bad_request");
	send_body(f, "POST", "/api/v1/queue/windows/1/transfer", "{\"to_service_id\":1}");
	test_http_assert_error(&f->r, 409, "no_current_ticket");
	send_body(f, "POST", "/api/v1/queue/windows/2/open", "");
	send_body(f, "POST", "/api/v1/queue/windows/2/call-next", "");
	j = json(f, 200);
	assert_string_equal(ticket_number(j), "B001");
	cJSON_Delete(j);
	send_body(f, "POST", "/api/v1/queue/windows/2/hold", "");
	test_http_assert_status(&f->r, 200);
	test_http_call(kiosk_port(&f->k), "GET", "/api/v1/queue/windows/2", &f->r);
	j = json(f, 200);
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "current")));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "held")), 1);
	cJSON_Delete(j);
	send_body(f, "POST", "/api/v1/queue/windows/2/resume", "{}");
	test_http_assert_error(&f->r, 400, "bad_request");
	send_body(f, "POST", "/api/v1/queue/windows/2/resume", "{\"number\":\"B001\"}");
	test_http_assert_status(&f->r, 200);
	send_body(f, "POST", "/api/v1/queue/tickets/B001/reprint", "");
	test_http_assert_status(&f->r, 200);
	send_body(f, "POST", "/api/v1/queue/tickets/Z999/reprint", "");
	test_http_assert_error(&f->r, 404, "ticket_not_found");
	send_body(f, "POST", "/api/v1/queue/windows/2/fly", "");
	test_http_assert_error(&f->r, 404, "not_found");
	test_http_call(kiosk_port(&f->k), "GET", "/api/v1/queue/windows/77", &f->r);
	test_http_assert_error(&f->r, 404, "not_found");
}

static void test_config_and_stats(void **state)
{
	struct fixture *f = *state;
	char *body;
	cJSON *j;

	test_http_call(kiosk_port(&f->k), "GET", "/api/v1/queue/config", &f->r);
	j = json(f, 200);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(j, "recall_max")->valueint, 1);
	cJSON_ReplaceItemInObjectCaseSensitive(j, "recall_max", cJSON_CreateNumber(5));
	body = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	send_body(f, "PUT", "/api/v1/queue/config", body);
	free(body);
	j = json(f, 200);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(j, "recall_max")->valueint, 5);
	cJSON_Delete(j);
	send_body(f, "PUT", "/api/v1/queue/config", "{\"services\":[]}");
	test_http_assert_error(&f->r, 400, "invalid_config");

	test_http_call(kiosk_port(&f->k), "GET", "/api/v1/queue/stats?day=2023-11-13", &f->r);
	j = json(f, 200);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "day")),
			    "2023-11-13");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "services")), 2);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "windows")), 3);
	cJSON_Delete(j);
	test_http_call(kiosk_port(&f->k), "GET", "/api/v1/queue/stats?day=yesterday", &f->r);
	test_http_assert_error(&f->r, 400, "bad_parameter");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_take_a_ticket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_window_flow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_and_stats, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
