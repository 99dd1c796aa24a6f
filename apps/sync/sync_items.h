/*
 * The items page of the download (docs/sync-protocol.md, "GET
 * /api/v1/items"), internal to apps/sync: the check of a page and the apply
 * of a checked page, split out of the worker's round so that the fuzz
 * target (tests/fuzz/fuzz_sync_items.c) runs exactly what the worker runs.
 */
#ifndef APPS_SYNC_SYNC_ITEMS_H
#define APPS_SYNC_SYNC_ITEMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "sync/sync.h"

/*
 * Parse an items page: a JSON object whose "items" is an array of objects
 * that each carry a usable "cursor", and whose "more", if present, is a
 * boolean. No I/O.
 * @retval 0 *page is the parsed page (the caller cJSON_Deletes it), *last
 *         the last item's cursor inside it (NULL: no items), *more
 * @retval -EBADMSG not such a page (*page NULL); *why says what is wrong
 */
int sync_page_parse(const char *body, size_t len, cJSON **page, const char **last, bool *more,
		    const char **why);

/*
 * Apply a page checked by sync_page_parse on db, as the worker does: one
 * transaction, each item in a savepoint and dispatched by its type (orders,
 * calendar queue, requests), a refused item recorded in sync_conflicts, the
 * cursor stored; after the commit, queued calendar years are imported. The
 * worker passes its own connection; any other db only while s is not
 * running.
 * @retval 0 committed (*applied and *conflicts counted)
 * @retval <0 a storage error: nothing of the page is kept
 */
int sync_page_apply(struct sync *s, sqlite3 *db, const cJSON *page, const char *last,
		    uint64_t *applied, uint64_t *conflicts);

#endif /* APPS_SYNC_SYNC_ITEMS_H */
