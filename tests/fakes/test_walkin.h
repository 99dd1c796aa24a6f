/*
 * The walk-in side as its tests set it up: a ticket queue and the walk-in
 * requests service on it, sharing a data directory (test_app.h), its fake
 * clock and one printer. Asserts.
 */
#ifndef FAKES_TEST_WALKIN_H
#define FAKES_TEST_WALKIN_H

#include "hal/printer.h"
#include "orders/orders.h"
#include "queue/queue.h"
#include "requests/requests.h"
#include "test_app.h"

/*
 * Create *q (3 recalls, 3 priority calls in a row, rollover 04:00, UTC+8)
 * and *r on it (test_walkin_requests() without orders), both printing on
 * printer.
 */
void test_walkin_open(struct test_data *d, struct hal_printer *printer, struct queue **q,
		      struct requests **r);

/*
 * Create *r (UTC+8, repeats looked for within 30 days) on queue q, with the
 * work orders o behind the lookup (NULL: none), printing on printer.
 */
void test_walkin_requests(struct test_data *d, struct hal_printer *printer, struct queue *q,
			  struct orders *o, struct requests **r);

/* Destroy what test_walkin_open() made. */
void test_walkin_close(struct queue *q, struct requests *r);

#endif /* FAKES_TEST_WALKIN_H */
