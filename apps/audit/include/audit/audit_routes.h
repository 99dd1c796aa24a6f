/*
 * The audit log's HTTP API (docs/local-api.md, docs/security-audit.md),
 * supervisor only:
 *   GET /api/v1/audit          list, filtered, newest first, keyset paging
 *   GET /api/v1/audit/export   the same filters as CSV (UTF-8 with BOM);
 *                              the export is itself audited ("audit.export")
 *   GET /api/v1/audit/verify   walk the chain, report the first broken link
 * Each request opens its own database connection (store_open), so handlers
 * on different HTTP threads never share one.
 */
#ifndef AUDIT_AUDIT_ROUTES_H
#define AUDIT_AUDIT_ROUTES_H

#include "kiosk/kiosk.h"

/* Page size of the list: limit is 1..AUDIT_LIST_MAX, default AUDIT_LIST_DEFAULT. */
#define AUDIT_LIST_DEFAULT 50
#define AUDIT_LIST_MAX	   200
/* An export larger than this is refused (400 "export_too_large"): narrow the
 * time range. The CSV is built in memory before it is sent. */
#define AUDIT_EXPORT_MAX_BYTES (16u * 1024 * 1024)

/*
 * Add the three routes (roles = KIOSK_ROLE_SUPERVISOR) to k, before
 * kiosk_start(). data_dir is copied; store_init must have run on it.
 * @retval 0, -ENAMETOOLONG, or kiosk_route_add's error
 */
int audit_routes_register(struct kiosk *k, const char *data_dir);

#endif /* AUDIT_AUDIT_ROUTES_H */
