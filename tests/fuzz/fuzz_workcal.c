/* libFuzzer target for the calendar's year file and the deadline rules file
 * (apps/orders: hand-checked input from files and supervisors). The first
 * byte chooses the parser; the rest is the file. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "orders/workcal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_err(const char *en, const char *zh)
{
	size_t ne = strnlen(en, WORKCAL_ERR_MAX), nz = strnlen(zh, WORKCAL_ERR_MAX);

	if (ne == 0 || ne == WORKCAL_ERR_MAX || nz == 0 || nz == WORKCAL_ERR_MAX) {
		__builtin_trap();
	}
}

/* A parsed year must be accepted by the calendar and come back the same. */
static void year(const char *text, size_t len)
{
	static struct workcal cal;
	struct workcal_entry e[366];
	char en[WORKCAL_ERR_MAX], zh[WORKCAL_ERR_MAX];
	int y = 0, n = 0;

	if (workcal_parse_year(text, len, &y, e, 366, &n, en, zh) < 0) {
		check_err(en, zh);
		return;
	}
	workcal_init(&cal);
	if (workcal_set_year(&cal, y, e, n, en, zh) != 0 || cal.nentries != n) {
		__builtin_trap();
	}
	for (int i = 1; i < cal.nentries; i++) {
		if (cal.entries[i - 1].day >= cal.entries[i].day) {
			__builtin_trap();
		}
	}
	char *json = workcal_year_to_json(&cal, y);
	int y2 = 0, n2 = 0;

	if (json == NULL || workcal_parse_year(json, strlen(json), &y2, e, 366, &n2, en, zh) != 0 ||
	    y2 != y || n2 != n) {
		__builtin_trap();
	}
	free(json);
}

/* Parsed rules end with a catch-all: every order finds a row. */
static void rules(const char *text, size_t len)
{
	struct deadline_rules r = { .count_from = CONFIG_COUNT_RECEIPT_DAY, .sign_for_days = 2 };
	char en[WORKCAL_ERR_MAX], zh[WORKCAL_ERR_MAX];

	if (deadline_rules_parse(text, len, &r, en, zh) < 0) {
		check_err(en, zh);
		return;
	}
	if (r.nrules < 1 || r.nrules > DEADLINE_MAX_RULES || r.sign_for_days != 2) {
		__builtin_trap();
	}
	for (int c = 0; c < ORDER_CAT_N; c++) {
		for (int u = 0; u < ORDER_URG_N; u++) {
			for (int x = 0; x < ORDER_CPX_N; x++) {
				const struct deadline_rule *d = deadline_rule_for(&r, c, u, x);

				if (d == NULL || d->days < 0 || d->days > DEADLINE_MAX_DAYS) {
					__builtin_trap();
				}
			}
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0) {
		return 0;
	}
	if (data[0] & 1) {
		rules((const char *)data + 1, size - 1);
	} else {
		year((const char *)data + 1, size - 1);
	}
	return 0;
}
