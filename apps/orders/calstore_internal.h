/* What calstore.c lends calroutes.c (not part of the public API). */
#ifndef ORDERS_CALSTORE_INTERNAL_H
#define ORDERS_CALSTORE_INTERNAL_H

#include <stdint.h>

#include "orders/calstore.h"

/* The office's offset from UTC (calstore_set_utc_offset). */
int calstore_utc_offset(struct calstore *cs);

/* The store clock's wall time. */
int64_t calstore_now_ms(struct calstore *cs);

#endif /* ORDERS_CALSTORE_INTERNAL_H */
