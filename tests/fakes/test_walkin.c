/* The walk-in side as its tests set it up (test_walkin.h). */
#include "test_walkin.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

void test_walkin_requests(struct test_data *d, struct hal_printer *printer, struct queue *q,
			  struct orders *o, struct requests **r)
{
	struct requests_params rp = { .data_dir = d->dir,
				      .clock = &d->clk.clock,
				      .printer = printer,
				      .queue = q,
				      .orders = o,
				      .office_name = "测试县12345转办中心",
				      .utc_offset_min = 480,
				      .repeat_window_days = 30 };

	assert_int_equal(requests_create(&rp, r), 0);
}

void test_walkin_open(struct test_data *d, struct hal_printer *printer, struct queue **q,
		      struct requests **r)
{
	struct queue_params qp = { .data_dir = d->dir,
				   .clock = &d->clk.clock,
				   .printer = printer,
				   .office_name = "测试县12345便民服务大厅",
				   .recall_max = 3,
				   .priority_run = 3,
				   .rollover_min = 240,
				   .utc_offset_min = 480 };

	assert_int_equal(queue_create(&qp, q), 0);
	test_walkin_requests(d, printer, *q, NULL, r);
}

void test_walkin_close(struct queue *q, struct requests *r)
{
	requests_destroy(r);
	queue_destroy(q);
}
