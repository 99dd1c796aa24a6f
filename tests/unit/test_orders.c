/*
 * The work-order service against a real SQLite file in a temp directory,
 * a fake clock, a calendar holding the 2026 Spring Festival (holidays
 * 15-23 February, Saturday 14 February a working day) and the fake
 * printer: every transition legal and illegal (a table of state x action
 * run against the real functions), roles, every city item type with its
 * repeat and malformed forms, deadlines, the outbox events of a whole life,
 * conflicts, attachments, slips, list filters and search, and the clock
 * evidence.
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
#include <unistd.h>

#include <cmocka.h>
#include <iconv.h>

#include "fake_clock.h"
#include "fake_printer.h"
#include "fw/admin.h"
#include "fw/audit.h"
#include "fw/outbox.h"
#include "fw/pii.h"
#include "fw/rng.h"
#include "fw/store.h"
#include "orders/calstore.h"
#include "orders/orders.h"
#include "test_app.h"
#include "test_util.h"

/* Friday 2026-02-13 10:00 in UTC+8. */
#define T0   1770948000000LL
#define MIN  60000LL
#define HOUR (60 * MIN)
#define DAY  (24 * HOUR)
#define OFF  480

static const char calendar_2026[] =
	"{\"year\": 2026, \"days\": ["
	"{\"date\": \"2026-02-14\", \"kind\": \"workday\", \"name\": \"春节调休上班\"},"
	"{\"date\": \"2026-02-15\", \"kind\": \"holiday\", \"name\": \"春节\"},"
	"{\"date\": \"2026-02-16\", \"kind\": \"holiday\", \"name\": \"春节\"},"
	"{\"date\": \"2026-02-17\", \"kind\": \"holiday\", \"name\": \"春节\"},"
	"{\"date\": \"2026-02-18\", \"kind\": \"holiday\", \"name\": \"春节\"},"
	"{\"date\": \"2026-02-19\", \"kind\": \"holiday\", \"name\": \"春节\"},"
	"{\"date\": \"2026-02-20\", \"kind\": \"holiday\", \"name\": \"春节\"},"
	"{\"date\": \"2026-02-23\", \"kind\": \"holiday\", \"name\": \"春节\"}]}";

struct fixture {
	struct test_data d; /* data directory, store (d.db), clock (d.clk) */
	struct hal_printer printer;
	struct calstore *cal;
	struct deadline_rules rules;
	struct orders_params p;
	struct orders *o;
	struct orders_err err;
};

static const struct orders_actor staff = { "li02", "staff" };
static const struct orders_actor sup = { "zhang01", "supervisor" };
static const struct orders_actor citizen = { "citizen", "citizen" };
static struct hal_printer the_printer;

static int64_t end_of(int y, int m, int d)
{
	return workcal_end_of_day_ms(workcal_day_from_ymd(y, m, d), OFF);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct calstore_actor ca = { "zhang01", "supervisor" };
	char en[WORKCAL_ERR_MAX], zh[WORKCAL_ERR_MAX];

	assert_non_null(f);
	test_data_open(&f->d, "test_orders", T0, true);
	assert_int_equal(calstore_open(f->d.dir, &f->d.clk.clock, &f->cal), 0);
	assert_int_equal(
		calstore_import(f->cal, &ca, "file", calendar_2026, strlen(calendar_2026), en, zh),
		0);
	deadline_preset(CONFIG_DEADLINES_NATIONAL, CONFIG_COUNT_NEXT_DAY, 1, &f->rules);
	fake_printer_init(&the_printer);
	f->printer = the_printer;
	f->p = (struct orders_params){
		.data_dir = f->d.dir,
		.clock = &f->d.clk.clock,
		.printer = &f->printer,
		.cal = f->cal,
		.rules = &f->rules,
		.utc_offset_min = OFF,
		.due_soon_days = 2,
		.attachment_max_kb = 64,
		.office_name = "测试县12345转办中心",
	};
	assert_int_equal(orders_create(&f->p, &f->o), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	orders_destroy(f->o);
	calstore_close(f->cal);
	test_data_close(&f->d);
	free(f);
	return 0;
}

/* ---- helpers ---- */

static int city(struct fixture *f, const char *json)
{
	cJSON *j = cJSON_Parse(json);
	int rc;

	memset(&f->err, 0, sizeof(f->err));
	rc = orders_apply_city(f->o, NULL, j, &f->err);
	cJSON_Delete(j);
	return rc;
}

static int city_raw(struct fixture *f, const char *text)
{
	cJSON *j = cJSON_Parse(text);
	int rc;

	memset(&f->err, 0, sizeof(f->err));
	rc = orders_apply_city(f->o, NULL, j, &f->err); /* NULL item: refused too */
	cJSON_Delete(j);
	return rc;
}

static int64_t dispatch_full(struct fixture *f, const char *number, const char *category,
			     const char *complexity, const char *title, const char *content,
			     bool hide)
{
	char json[2048];
	struct order *o = malloc(sizeof(*o));
	int64_t id;

	snprintf(json, sizeof(json),
		 "{\"type\": \"order.dispatch\", \"item_id\": \"d-%s\", \"number\": \"%s\", "
		 "\"channel\": \"phone\", \"category\": \"%s\", \"field\": \"public_service\", "
		 "\"code\": \"0101\", \"title\": \"%s\", \"content\": \"%s\", \"location\": "
		 "\"城关镇人民路12号\", \"urgency\": \"normal\", \"complexity\": \"%s\", "
		 "\"dispatch_ms\": %lld, \"hide_identity\": %s, \"contact\": {\"name\": \"张三\", "
		 "\"phone\": \"13812345678\"}}",
		 number, number, category, title, content, complexity, (long long)(T0 - HOUR),
		 hide ? "true" : "false");
	assert_int_equal(city(f, json), 0);
	assert_int_equal(orders_find(f->o, number, o), 0);
	id = o->id;
	free(o);
	return id;
}

static int64_t dispatch(struct fixture *f, const char *number)
{
	return dispatch_full(f, number, "complaint", "complex", "路灯坏了",
			     "小区门口的路灯坏了一个星期，晚上很黑。", false);
}

static enum order_state state_of(struct fixture *f, int64_t id)
{
	struct order *o = malloc(sizeof(*o));
	enum order_state s;

	assert_int_equal(orders_get(f->o, id, o), 0);
	s = o->state;
	free(o);
	return s;
}

static struct order *get(struct fixture *f, int64_t id)
{
	struct order *o = malloc(sizeof(*o));

	assert_int_equal(orders_get(f->o, id, o), 0);
	return o;
}

static int assign(struct fixture *f, const struct orders_actor *who, int64_t id)
{
	struct order_assign a = {
		.lead_dept = "urban_mgmt", .co_depts = { "housing" }, .nco = 1, .complexity = -1
	};

	return orders_assign(f->o, who, id, &a, &f->err);
}

static int64_t count(struct fixture *f, const char *sql)
{
	return test_sql_int(f->d.db, sql);
}

static const char png_bytes[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR-test-image";

/* ---- the whole life ---- */

static void test_full_life_events(void **state)
{
	struct fixture *f = *state;
	char types[512];
	int64_t id;
	struct order *o;

	id = dispatch(f, "GD2026000001");
	assert_int_equal(state_of(f, id), ORDER_PENDING);
	fake_clock_advance(&f->d.clk.clock, HOUR);
	assert_int_equal(orders_sign(f->o, &staff, id, &f->err), 0);
	assert_int_equal(assign(f, &staff, id), 0);
	assert_int_equal(orders_draft_reply(f->o, &staff, id, "已修复路灯，感谢反映。", &f->err),
			 0);
	assert_int_equal(orders_sign_off(f->o, &sup, id, &f->err), 0);
	assert_int_equal(state_of(f, id), ORDER_REPLIED);
	assert_int_equal(city(f, "{\"type\": \"order.visit_result\", \"item_id\": \"v1\", "
				 "\"number\": \"GD2026000001\", \"result\": \"satisfied\"}"),
			 0);
	o = get(f, id);
	assert_int_equal(o->state, ORDER_CLOSED);
	assert_int_equal(o->visit, ORDER_VISIT_SATISFIED);
	assert_string_equal(o->signed_by, "zhang01");
	assert_true(o->sync_pending);
	/* the contact is marked closed for retention */
	assert_int_equal(test_sql_int(f->d.db, "SELECT closed_ms IS NOT NULL FROM citizen_contact"),
			 1);
	free(o);
	test_sql_text(f->d.db,
		      "SELECT group_concat(type, ' ') FROM (SELECT type FROM outbox ORDER "
		      "BY seq)",
		      types, sizeof(types));
	assert_string_equal(types, "order.delivered order.received order.assigned order.drafted "
				   "order.replied order.closed");
	assert_int_equal(count(f, "SELECT count(*) FROM order_history"), 6);
	assert_int_equal(count(f, "SELECT count(*) FROM order_history WHERE outbox_seq IS NULL"),
			 0);
	assert_int_equal(count(f, "SELECT count(*) FROM audit WHERE target = 'GD2026000001'"), 6);
	/* payloads carry the number and no personal data */
	assert_int_equal(count(f, "SELECT count(*) FROM outbox WHERE payload LIKE "
				  "'%GD2026000001%'"),
			 6);
	assert_int_equal(count(f, "SELECT count(*) FROM outbox WHERE payload LIKE '%13812345678%' "
				  "OR payload LIKE '%张三%'"),
			 0);
	/* the reply goes up with order.replied */
	assert_int_equal(count(f, "SELECT count(*) FROM outbox WHERE type = 'order.replied' AND "
				  "payload LIKE '%已修复路灯%'"),
			 1);
	/* once the city acknowledged everything, nothing waits to be sent */
	assert_true(outbox_ack(f->d.db, outbox_last_seq(f->d.db)) > 0);
	o = get(f, id);
	assert_false(o->sync_pending);
	free(o);
}

/* ---- the table of state x action ---- */

enum { A_SIGN, A_ASSIGN, A_DRAFT, A_REJECT, A_SIGNOFF, A_RETURN, A_EXTEND, A_LINK, A_ATTACH, A_N };

/* 1: allowed; 0: refused with -EPROTO. Rows: enum order_state. */
static const int legal[ORDER_STATE_N][A_N] = {
	/*                sign ass dra rej sof ret ext lnk att */
	[ORDER_PENDING] = { 1, 0, 0, 0, 0, 0, 0, 1, 1 },
	[ORDER_RECEIVED] = { 0, 1, 0, 0, 0, 1, 1, 1, 1 },
	[ORDER_HANDLING] = { 0, 1, 1, 0, 0, 1, 1, 1, 1 },
	[ORDER_DRAFTED] = { 0, 0, 1, 1, 1, 0, 1, 1, 1 },
	[ORDER_REPLIED] = { 0, 0, 0, 0, 0, 0, 0, 1, 1 },
	[ORDER_CLOSED] = { 0, 0, 0, 0, 0, 0, 0, 1, 0 },
	[ORDER_RETURN_PENDING] = { 0, 0, 0, 0, 0, 0, 0, 1, 1 },
	[ORDER_RETURNED] = { 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	[ORDER_RECALLED] = { 0, 0, 0, 0, 0, 0, 0, 0, 0 },
};
static const enum order_action act_of[A_N] = {
	ORDER_ACT_SIGN,
	ORDER_ACT_ASSIGN,
	ORDER_ACT_DRAFT_REPLY,
	ORDER_ACT_REJECT_DRAFT,
	ORDER_ACT_SIGN_OFF,
	ORDER_ACT_REQUEST_RETURN,
	ORDER_ACT_REQUEST_EXTENSION,
	ORDER_ACT_LINK_REPEAT,
	ORDER_ACT_ADD_ATTACHMENT,
};

static void bring_to(struct fixture *f, int64_t id, const char *number, enum order_state s)
{
	char json[512];

	if (s == ORDER_PENDING) {
		return;
	}
	if (s == ORDER_RECALLED) {
		snprintf(json, sizeof(json),
			 "{\"type\": \"order.recall\", \"item_id\": \"r-%s\", \"number\": \"%s\", "
			 "\"reason\": \"市级重新派单\"}",
			 number, number);
		assert_int_equal(city(f, json), 0);
		return;
	}
	assert_int_equal(orders_sign(f->o, &staff, id, &f->err), 0);
	if (s == ORDER_RECEIVED) {
		return;
	}
	if (s == ORDER_RETURN_PENDING || s == ORDER_RETURNED) {
		assert_int_equal(orders_request_return(f->o, &staff, id, "不属于本县职责",
						       "《12345热线工作规范》第十条", &f->err),
				 0);
		if (s == ORDER_RETURNED) {
			snprintf(json, sizeof(json),
				 "{\"type\": \"order.return_decision\", \"item_id\": \"rd-%s\", "
				 "\"number\": \"%s\", \"decision\": \"approved\"}",
				 number, number);
			assert_int_equal(city(f, json), 0);
		}
		return;
	}
	assert_int_equal(assign(f, &staff, id), 0);
	if (s == ORDER_HANDLING) {
		return;
	}
	assert_int_equal(orders_draft_reply(f->o, &staff, id, "答复草稿", &f->err), 0);
	if (s == ORDER_DRAFTED) {
		return;
	}
	assert_int_equal(orders_sign_off(f->o, &sup, id, &f->err), 0);
	if (s == ORDER_REPLIED) {
		return;
	}
	snprintf(json, sizeof(json),
		 "{\"type\": \"order.visit_result\", \"item_id\": \"v-%s\", \"number\": \"%s\", "
		 "\"result\": \"lawful\"}",
		 number, number);
	assert_int_equal(city(f, json), 0);
	assert_int_equal(s, ORDER_CLOSED);
}

static int do_action(struct fixture *f, int a, int64_t id)
{
	int64_t att;

	switch (a) {
	case A_SIGN:
		return orders_sign(f->o, &sup, id, &f->err);
	case A_ASSIGN:
		return assign(f, &sup, id);
	case A_DRAFT:
		return orders_draft_reply(f->o, &sup, id, "答复", &f->err);
	case A_REJECT:
		return orders_reject_draft(f->o, &sup, id, "请补充处理结果", &f->err);
	case A_SIGNOFF:
		return orders_sign_off(f->o, &sup, id, &f->err);
	case A_RETURN:
		return orders_request_return(f->o, &sup, id, "理由", "依据", &f->err);
	case A_EXTEND:
		return orders_request_extension(f->o, &sup, id, "2026-03-02", "需要现场勘查",
						"工作规范", &f->err);
	case A_LINK:
		return orders_link_repeat(f->o, &sup, id, "EARLIER-1", "同一诉求", &f->err);
	case A_ATTACH:
		return orders_add_attachment(f->o, &sup, id, "scan.png", "image/png", png_bytes,
					     sizeof(png_bytes) - 1, &att, &f->err);
	default:
		return -EINVAL;
	}
}

static void test_transition_table(void **state)
{
	struct fixture *f = *state;

	dispatch(f, "EARLIER-1");
	for (int s = 0; s < ORDER_STATE_N; s++) {
		for (int a = 0; a < A_N; a++) {
			char number[32];
			int64_t id, hist;
			unsigned mask;
			int rc;

			snprintf(number, sizeof(number), "T-%d-%d", s, a);
			id = dispatch(f, number);
			bring_to(f, id, number, (enum order_state)s);
			assert_int_equal(state_of(f, id), s);
			assert_int_equal(orders_allowed_actions(f->o, &sup, id, &mask), 0);
			assert_int_equal((mask >> act_of[a]) & 1u, (unsigned)legal[s][a]);
			hist = count(f, "SELECT count(*) FROM order_history");
			memset(&f->err, 0, sizeof(f->err));
			rc = do_action(f, a, id);
			if (legal[s][a]) {
				if (rc != 0) {
					fail_msg("state %s action %d: %d (%s)", order_state_name(s),
						 a, rc, f->err.en);
				}
				assert_int_equal(count(f, "SELECT count(*) FROM order_history"),
						 hist + 1);
			} else {
				if (rc != -EPROTO) {
					fail_msg("state %s action %d: want -EPROTO, got %d",
						 order_state_name(s), a, rc);
				}
				assert_true(f->err.en[0] != '\0');
				assert_true(f->err.zh[0] != '\0');
				assert_int_equal(state_of(f, id), s);
				assert_int_equal(count(f, "SELECT count(*) FROM order_history"),
						 hist);
			}
		}
	}
}

static void test_refusal_words(void **state)
{
	struct fixture *f = *state;
	int64_t id = dispatch(f, "W-1");

	assert_int_equal(orders_sign(f->o, &staff, id, &f->err), 0);
	assert_int_equal(orders_sign(f->o, &staff, id, &f->err), -EPROTO);
	assert_string_equal(f->err.en, "this order is already signed for");
	assert_string_equal(f->err.zh, "该工单已签收");
	assert_int_equal(orders_sign(f->o, &staff, 999999, &f->err), -ENOENT);
}

static void test_roles(void **state)
{
	struct fixture *f = *state;
	int64_t id = dispatch(f, "R-1");
	unsigned mask;

	assert_int_equal(orders_sign(f->o, &citizen, id, &f->err), -EPERM);
	assert_int_equal(orders_sign(f->o, NULL, id, &f->err), -EPERM);
	assert_int_equal(orders_sign(f->o, &staff, id, &f->err), 0);
	assert_int_equal(assign(f, &staff, id), 0);
	assert_int_equal(orders_draft_reply(f->o, &staff, id, "草稿", &f->err), 0);
	assert_int_equal(orders_sign_off(f->o, &staff, id, &f->err), -EPERM);
	assert_true(strstr(f->err.en, "supervisor") != NULL);
	assert_int_equal(orders_reject_draft(f->o, &staff, id, "改", &f->err), -EPERM);
	assert_int_equal(orders_allowed_actions(f->o, &staff, id, &mask), 0);
	assert_false(mask & (1u << ORDER_ACT_SIGN_OFF));
	assert_true(mask & (1u << ORDER_ACT_DRAFT_REPLY));
	assert_int_equal(orders_allowed_actions(f->o, &sup, id, &mask), 0);
	assert_true(mask & (1u << ORDER_ACT_SIGN_OFF));
	assert_int_equal(state_of(f, id), ORDER_DRAFTED);
	/* the supervisor sends the draft back with a comment, then signs off a new one */
	assert_int_equal(orders_reject_draft(f->o, &sup, id, "", &f->err), -EINVAL);
	assert_int_equal(orders_reject_draft(f->o, &sup, id, "请写明维修时间", &f->err), 0);
	assert_int_equal(state_of(f, id), ORDER_HANDLING);
	assert_int_equal(orders_draft_reply(f->o, &staff, id, "已于2月14日修复", &f->err), 0);
	assert_int_equal(orders_sign_off(f->o, &sup, id, &f->err), 0);
}

static void test_input_checks(void **state)
{
	struct fixture *f = *state;
	int64_t id = dispatch(f, "I-1");
	struct order_assign a = { .lead_dept = "nowhere", .complexity = -1 };

	assert_int_equal(orders_sign(f->o, &staff, id, &f->err), 0);
	assert_int_equal(orders_assign(f->o, &staff, id, &a, &f->err), -EINVAL);
	a.lead_dept = "urban_mgmt";
	a.nco = 1;
	a.co_depts[0] = "urban_mgmt";
	assert_int_equal(orders_assign(f->o, &staff, id, &a, &f->err), -EINVAL);
	a.nco = ORDER_MAX_CO + 1;
	assert_int_equal(orders_assign(f->o, &staff, id, &a, &f->err), -EINVAL);
	a.nco = 0;
	a.complexity = 7;
	assert_int_equal(orders_assign(f->o, &staff, id, &a, &f->err), -EINVAL);
	assert_int_equal(state_of(f, id), ORDER_RECEIVED);
	assert_int_equal(orders_request_return(f->o, &staff, id, "理由", "", &f->err), -EINVAL);
	assert_int_equal(orders_request_return(f->o, &staff, id, "", "依据", &f->err), -EINVAL);
	assert_int_equal(orders_request_return(f->o, &staff, id, "a\x01", "依据", &f->err),
			 -EINVAL);
	a.complexity = -1;
	assert_int_equal(orders_assign(f->o, &staff, id, &a, &f->err), 0);
	assert_int_equal(orders_draft_reply(f->o, &staff, id, "   ", &f->err), -EINVAL);
	assert_int_equal(orders_draft_reply(f->o, &staff, id, "\xff\xfe", &f->err), -EINVAL);
	assert_int_equal(state_of(f, id), ORDER_HANDLING);
}

/* ---- deadlines ---- */

static void test_deadlines(void **state)
{
	struct fixture *f = *state;
	int64_t id = dispatch(f, "D-1"); /* complex: 3 working days */
	struct order *o = get(f, id);

	/* dispatched Friday 09:00: 1 working day to sign for = the 调休 Saturday */
	assert_int_equal(o->sign_due_ms, end_of(2026, 2, 14));
	assert_int_equal(o->due_ms, 0);
	free(o);
	/* signed Friday 10:00: Sat 14 (调休), then the holidays, Tue 24, Wed 25 */
	assert_int_equal(orders_sign(f->o, &staff, id, &f->err), 0);
	o = get(f, id);
	assert_int_equal(o->received_ms, T0);
	assert_int_equal(o->due_ms, end_of(2026, 2, 25));
	assert_false(o->overdue);
	free(o);
	/* assigning as difficult (7 days) recomputes from the receipt */
	{
		struct order_assign a = { .lead_dept = "urban_mgmt",
					  .complexity = ORDER_CPX_DIFFICULT };

		assert_int_equal(orders_assign(f->o, &staff, id, &a, &f->err), 0);
	}
	o = get(f, id);
	/* 14, 24, 25, 26, 27, Mon 2 Mar, Tue 3 Mar */
	assert_int_equal(o->due_ms, end_of(2026, 3, 3));
	free(o);
	/* an extension: not before the current due day, not beyond 15 working days */
	assert_int_equal(
		orders_request_extension(f->o, &staff, id, "2026-03-03", "r", "b", &f->err),
		-EINVAL);
	assert_int_equal(
		orders_request_extension(f->o, &staff, id, "2026-06-01", "r", "b", &f->err),
		-EINVAL);
	assert_true(strstr(f->err.en, "at most") != NULL);
	assert_int_equal(orders_request_extension(f->o, &staff, id, "2026-3-10", "r", "b", &f->err),
			 -EINVAL);
	assert_int_equal(orders_request_extension(f->o, &staff, id, "2026-03-10", "需要联合勘查",
						  "工作规范第八条", &f->err),
			 0);
	o = get(f, id);
	assert_int_equal(o->ext_state, ORDER_EXT_PENDING);
	assert_int_equal(o->state, ORDER_HANDLING);
	assert_int_equal(o->due_ms, end_of(2026, 3, 3));
	free(o);
	assert_int_equal(
		orders_request_extension(f->o, &staff, id, "2026-03-11", "r", "b", &f->err),
		-EPROTO);
	/* the city approves another day than asked */
	assert_int_equal(city(f, "{\"type\": \"order.extension_decision\", \"item_id\": \"x1\", "
				 "\"number\": \"D-1\", \"decision\": \"approved\", \"due_date\": "
				 "\"2026-03-09\"}"),
			 0);
	o = get(f, id);
	assert_int_equal(o->ext_state, ORDER_EXT_APPROVED);
	assert_int_equal(o->due_ms, end_of(2026, 3, 9));
	free(o);
	/* past the deadline no extension can be asked */
	fake_clock_set_wall(&f->d.clk.clock, end_of(2026, 3, 9) + HOUR);
	o = get(f, id);
	assert_true(o->overdue);
	free(o);
	assert_int_equal(
		orders_request_extension(f->o, &staff, id, "2026-03-12", "r", "b", &f->err),
		-EPROTO);
}

static void test_extension_rejected(void **state)
{
	struct fixture *f = *state;
	int64_t id = dispatch(f, "D-2");
	struct order *o;

	assert_int_equal(orders_sign(f->o, &staff, id, &f->err), 0);
	assert_int_equal(
		orders_request_extension(f->o, &staff, id, "2026-03-02", "r", "b", &f->err), 0);
	assert_int_equal(city(f, "{\"type\": \"order.extension_decision\", \"item_id\": \"x2\", "
				 "\"number\": \"D-2\", \"decision\": \"rejected\"}"),
			 -EINVAL); /* a rejection needs the city's reason */
	assert_int_equal(city(f, "{\"type\": \"order.extension_decision\", \"item_id\": \"x2\", "
				 "\"number\": \"D-2\", \"decision\": \"rejected\", \"reason\": "
				 "\"不符合延期条件\"}"),
			 0);
	o = get(f, id);
	assert_int_equal(o->ext_state, ORDER_EXT_REJECTED);
	assert_int_equal(o->due_ms, end_of(2026, 2, 25));
	assert_string_equal(o->city_reason, "不符合延期条件");
	free(o);
	/* a decision with nothing pending is a conflict, not a change */
	assert_int_equal(city(f, "{\"type\": \"order.extension_decision\", \"item_id\": \"x3\", "
				 "\"number\": \"D-2\", \"decision\": \"approved\"}"),
			 -EPROTO);
	assert_int_equal(count(f, "SELECT count(*) FROM order_conflicts WHERE kind = "
				  "'not_applicable'"),
			 1);
	o = get(f, id);
	assert_int_equal(o->ext_state, ORDER_EXT_REJECTED);
	assert_int_equal(o->conflicts, 1);
	free(o);
}

static void test_return_pause(void **state)
{
	struct fixture *f = *state;
	int64_t id = dispatch(f, "P-1");
	struct order *o;

	assert_int_equal(orders_sign(f->o, &staff, id, &f->err), 0); /* due Wed 25 Feb */
	assert_int_equal(assign(f, &staff, id), 0);
	fake_clock_set_wall(&f->d.clk.clock, T0 + 11 * DAY); /* Tue 24 Feb 10:00 */
	assert_int_equal(orders_request_return(f->o, &staff, id, "应由市级部门办理",
					       "《条例》第五条", &f->err),
			 0);
	o = get(f, id);
	assert_int_equal(o->state, ORDER_RETURN_PENDING);
	assert_true(o->pause_from_ms > 0);
	fake_clock_set_wall(&f->d.clk.clock, T0 + 13 * DAY); /* Thu 26: past the old due */
	free(o);
	o = get(f, id);
	assert_false(o->overdue); /* the clock is stopped */
	free(o);
	assert_int_equal(city(f, "{\"type\": \"order.return_decision\", \"item_id\": \"rd1\", "
				 "\"number\": \"P-1\", \"decision\": \"rejected\", \"reason\": "
				 "\"属地管理，请继续办理\"}"),
			 0);
	o = get(f, id);
	assert_int_equal(o->state, ORDER_HANDLING);
	assert_int_equal(o->pause_from_ms, 0);
	/* paused Tue 24 .. Thu 26: the working days 25 and 26 are added back */
	assert_int_equal(o->due_ms, end_of(2026, 2, 27));
	assert_string_equal(o->city_reason, "属地管理，请继续办理");
	free(o);
}

/* ---- city items ---- */

struct snap {
	int64_t v[8];
};

static void snapshot(struct fixture *f, struct snap *s)
{
	static const char *const q[8] = {
		"SELECT count(*) FROM orders",
		"SELECT count(*) FROM order_history",
		"SELECT count(*) FROM outbox",
		"SELECT count(*) FROM audit",
		"SELECT count(*) FROM city_items_applied",
		"SELECT count(*) FROM citizen_contact",
		"SELECT coalesce(sum(version), 0) FROM orders",
		"SELECT count(*) FROM order_notices",
	};

	for (int i = 0; i < 8; i++) {
		s->v[i] = count(f, q[i]);
	}
}

static void test_city_items(void **state)
{
	struct fixture *f = *state;
	struct snap a, b;
	struct order *o;
	int64_t id = dispatch(f, "C-1");
	cJSON *j;

	/* repeat of the same dispatch: harmless */
	snapshot(f, &a);
	assert_int_equal(
		city(f,
		     "{\"type\": \"order.dispatch\", \"item_id\": \"d-C-1\", \"number\": \"C-1\", "
		     "\"channel\": \"web\", \"category\": \"help\", \"field\": \"social\", "
		     "\"title\": \"x\", \"content\": \"y\", \"dispatch_ms\": 1770944400000}"),
		1);
	snapshot(f, &b);
	assert_memory_equal(&a, &b, sizeof(a));
	/* an urging notice must be acknowledged by a supervisor */
	assert_int_equal(city(f, "{\"type\": \"order.notice\", \"item_id\": \"n1\", \"number\": "
				 "\"C-1\", \"kind\": \"supervise\", \"text\": \"请于今日内签收\", "
				 "\"issued_by\": \"市12345督办科\"}"),
			 0);
	o = get(f, id);
	assert_int_equal(o->urged, 1);
	free(o);
	assert_int_equal(orders_ack_notice(f->o, &staff, id, 1, &f->err), -EPERM);
	assert_int_equal(orders_ack_notice(f->o, &sup, id, 42, &f->err), -ENOENT);
	assert_int_equal(orders_get_json(f->o, &sup, id, false, &j), 0);
	{
		cJSON *n = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "notices"), 0);
		int64_t nid = (int64_t)cJSON_GetObjectItem(n, "id")->valuedouble;

		assert_int_equal(orders_ack_notice(f->o, &sup, id, nid, &f->err), 0);
		assert_int_equal(orders_ack_notice(f->o, &sup, id, nid, &f->err), -EPROTO);
	}
	cJSON_Delete(j);
	o = get(f, id);
	assert_int_equal(o->urged, 0);
	free(o);
	/* an item for an order this device does not know */
	snapshot(f, &a);
	assert_int_equal(city(f, "{\"type\": \"order.recall\", \"item_id\": \"r9\", \"number\": "
				 "\"NOPE-1\", \"reason\": \"x\"}"),
			 -ENOENT);
	snapshot(f, &b);
	assert_memory_equal(&a, &b, sizeof(a));
	/* visit unsatisfied: back to handling with a new clock from the rules */
	assert_int_equal(orders_sign(f->o, &staff, id, &f->err), 0);
	assert_int_equal(assign(f, &staff, id), 0);
	assert_int_equal(orders_draft_reply(f->o, &staff, id, "答复", &f->err), 0);
	assert_int_equal(orders_sign_off(f->o, &sup, id, &f->err), 0);
	fake_clock_set_wall(&f->d.clk.clock, T0 + 11 * DAY); /* Tue 24 Feb */
	assert_int_equal(city(f, "{\"type\": \"order.visit_result\", \"item_id\": \"v2\", "
				 "\"number\": \"C-1\", \"result\": \"unsatisfied\"}"),
			 -EINVAL); /* the city's reason is required */
	assert_int_equal(city(f, "{\"type\": \"order.visit_result\", \"item_id\": \"v2\", "
				 "\"number\": \"C-1\", \"result\": \"unsatisfied\", \"reason\": "
				 "\"路灯仍未修好\"}"),
			 0);
	o = get(f, id);
	assert_int_equal(o->state, ORDER_HANDLING);
	assert_int_equal(o->redo_count, 1);
	assert_int_equal(o->due_ms, end_of(2026, 2, 27)); /* 25, 26, 27 */
	assert_string_equal(o->city_reason, "路灯仍未修好");
	free(o);
	assert_int_equal(count(f, "SELECT count(*) FROM outbox WHERE type = 'order.reopened'"), 1);
	/* a visit result on an order not replied: conflict recorded */
	assert_int_equal(city(f, "{\"type\": \"order.visit_result\", \"item_id\": \"v3\", "
				 "\"number\": \"C-1\", \"result\": \"satisfied\"}"),
			 -EPROTO);
	assert_int_equal(state_of(f, id), ORDER_HANDLING);
	assert_int_equal(city(f, "{\"type\": \"order.visit_result\", \"item_id\": \"v3\", "
				 "\"number\": \"C-1\", \"result\": \"satisfied\"}"),
			 1);
}

static void test_city_malformed(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = {
		"[]",
		"{}",
		"{\"type\": \"order.nope\", \"item_id\": \"b1\", \"number\": \"B-1\"}",
		"{\"type\": \"order.dispatch\", \"number\": \"B-1\"}",
		/* missing title */
		"{\"type\": \"order.dispatch\", \"item_id\": \"b1\", \"number\": \"B-1\", "
		"\"channel\": "
		"\"phone\", \"category\": \"help\", \"field\": \"social\", \"content\": \"y\", "
		"\"dispatch_ms\": 1770944400000}",
		/* unknown channel */
		"{\"type\": \"order.dispatch\", \"item_id\": \"b1\", \"number\": \"B-1\", "
		"\"channel\": "
		"\"pigeon\", \"category\": \"help\", \"field\": \"social\", \"title\": \"t\", "
		"\"content\": \"y\", \"dispatch_ms\": 1770944400000}",
		/* unknown key */
		"{\"type\": \"order.dispatch\", \"item_id\": \"b1\", \"number\": \"B-1\", "
		"\"channel\": "
		"\"phone\", \"category\": \"help\", \"field\": \"social\", \"title\": \"t\", "
		"\"content\": \"y\", \"dispatch_ms\": 1770944400000, \"extra\": 1}",
		/* a date far out of range */
		"{\"type\": \"order.dispatch\", \"item_id\": \"b1\", \"number\": \"B-1\", "
		"\"channel\": "
		"\"phone\", \"category\": \"help\", \"field\": \"social\", \"title\": \"t\", "
		"\"content\": \"y\", \"dispatch_ms\": 99}",
		/* a number with a space */
		"{\"type\": \"order.dispatch\", \"item_id\": \"b1\", \"number\": \"B 1\", "
		"\"channel\": "
		"\"phone\", \"category\": \"help\", \"field\": \"social\", \"title\": \"t\", "
		"\"content\": \"y\", \"dispatch_ms\": 1770944400000}",
		/* a control character in the title */
		"{\"type\": \"order.dispatch\", \"item_id\": \"b1\", \"number\": \"B-1\", "
		"\"channel\": "
		"\"phone\", \"category\": \"help\", \"field\": \"social\", \"title\": "
		"\"t\\u0007\", "
		"\"content\": \"y\", \"dispatch_ms\": 1770944400000}",
		/* a phone that is not a phone */
		"{\"type\": \"order.dispatch\", \"item_id\": \"b1\", \"number\": \"B-1\", "
		"\"channel\": "
		"\"phone\", \"category\": \"help\", \"field\": \"social\", \"title\": \"t\", "
		"\"content\": \"y\", \"dispatch_ms\": 1770944400000, \"contact\": {\"phone\": "
		"\"call me\"}}",
		/* due before dispatch */
		"{\"type\": \"order.dispatch\", \"item_id\": \"b1\", \"number\": \"B-1\", "
		"\"channel\": "
		"\"phone\", \"category\": \"help\", \"field\": \"social\", \"title\": \"t\", "
		"\"content\": \"y\", \"dispatch_ms\": 1770944400000, \"due_ms\": 1770944300000}",
		"{\"type\": \"order.return_decision\", \"item_id\": \"b2\", \"number\": \"B-1\", "
		"\"decision\": \"maybe\"}",
		"{\"type\": \"order.extension_decision\", \"item_id\": \"b2\", \"number\": "
		"\"B-1\", "
		"\"decision\": \"approved\", \"due_date\": \"2026-02-30\"}",
		"{\"type\": \"order.visit_result\", \"item_id\": \"b2\", \"number\": \"B-1\", "
		"\"result\": \"happy\"}",
		"{\"type\": \"order.notice\", \"item_id\": \"b2\", \"number\": \"B-1\", \"kind\": "
		"\"shout\", \"text\": \"x\"}",
		"{\"type\": \"order.notice\", \"item_id\": \"b2\", \"number\": \"B-1\", \"kind\": "
		"\"urge\"}",
		"{\"type\": \"order.recall\", \"item_id\": \"b 2\", \"number\": \"B-1\", "
		"\"reason\": "
		"\"x\"}",
		"{\"type\": \"order.recall\", \"item_id\": \"b2\", \"number\": \"B-1\", "
		"\"reason\": 5}",
	};
	struct snap a, b;

	dispatch(f, "B-1");
	snapshot(f, &a);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = city_raw(f, bad[i]);

		if (rc != -EINVAL) {
			fail_msg("item %zu: want -EINVAL, got %d", i, rc);
		}
		assert_true(f->err.en[0] != '\0');
		assert_true(f->err.zh[0] != '\0');
	}
	assert_int_equal(orders_apply_city(f->o, NULL, NULL, &f->err), -EINVAL);
	snapshot(f, &b);
	assert_memory_equal(&a, &b, sizeof(a));
}

static void test_recall_and_redispatch(void **state)
{
	struct fixture *f = *state;
	int64_t id1 = dispatch(f, "RC-1"), id2 = dispatch(f, "RC-2"), id3 = dispatch(f, "RC-3");
	struct order *o;
	cJSON *j;

	/* RC-1: signed here, the city has not heard of it: recall makes a conflict */
	assert_int_equal(orders_sign(f->o, &staff, id1, &f->err), 0);
	assert_int_equal(city(f, "{\"type\": \"order.recall\", \"item_id\": \"rc1\", \"number\": "
				 "\"RC-1\", \"reason\": \"派错区县\"}"),
			 0);
	o = get(f, id1);
	assert_int_equal(o->state, ORDER_RECALLED);
	assert_int_equal(o->conflicts, 1);
	free(o);
	assert_int_equal(count(f, "SELECT count(*) FROM order_conflicts WHERE kind = "
				  "'recall_after_action'"),
			 1);
	assert_int_equal(orders_get_json(f->o, &sup, id1, false, &j), 0);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "conflicts")), 1);
	cJSON_Delete(j);
	/* RC-2: signed and acknowledged by the city: no conflict */
	assert_int_equal(orders_sign(f->o, &staff, id2, &f->err), 0);
	assert_true(outbox_ack(f->d.db, outbox_last_seq(f->d.db)) > 0);
	assert_int_equal(city(f, "{\"type\": \"order.recall\", \"item_id\": \"rc2\", \"number\": "
				 "\"RC-2\", \"reason\": \"派错区县\"}"),
			 0);
	o = get(f, id2);
	assert_int_equal(o->state, ORDER_RECALLED);
	assert_int_equal(o->conflicts, 0);
	free(o);
	/* a re-dispatch of a recalled order opens it again */
	assert_int_equal(
		city(f, "{\"type\": \"order.dispatch\", \"item_id\": \"rd-RC-2\", "
			"\"number\": \"RC-2\", \"channel\": \"web\", \"category\": "
			"\"help\", \"field\": \"social\", \"title\": \"重新派单\", "
			"\"content\": \"补充材料后重新派发\", \"dispatch_ms\": 1770948000000}"),
		0);
	o = get(f, id2);
	assert_int_equal(o->state, ORDER_PENDING);
	assert_string_equal(o->title, "重新派单");
	assert_int_equal(o->received_ms, 0);
	free(o);
	/* a re-dispatch of a live order: content updated, conflict recorded */
	assert_int_equal(orders_sign(f->o, &staff, id3, &f->err), 0);
	assert_int_equal(city(f, "{\"type\": \"order.dispatch\", \"item_id\": \"rd-RC-3\", "
				 "\"number\": \"RC-3\", \"channel\": \"web\", \"category\": "
				 "\"complaint\", \"field\": \"social\", \"title\": \"更正地址\", "
				 "\"content\": \"地址更正为人民路14号\", \"dispatch_ms\": "
				 "1770948000000}"),
			 0);
	o = get(f, id3);
	assert_int_equal(o->state, ORDER_RECEIVED);
	assert_string_equal(o->title, "更正地址");
	assert_int_equal(o->conflicts, 1);
	free(o);
	/* a supervisor acknowledges the conflict */
	assert_int_equal(orders_get_json(f->o, &sup, id3, false, &j), 0);
	{
		cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "conflicts"), 0);
		int64_t cid = (int64_t)cJSON_GetObjectItem(c, "id")->valuedouble;

		assert_int_equal(orders_ack_conflict(f->o, &staff, id3, cid, &f->err), -EPERM);
		assert_int_equal(orders_ack_conflict(f->o, &sup, id3, cid, &f->err), 0);
	}
	cJSON_Delete(j);
	o = get(f, id3);
	assert_int_equal(o->conflicts, 0);
	free(o);
	/* a recalled order cannot be recalled again */
	assert_int_equal(city(f, "{\"type\": \"order.recall\", \"item_id\": \"rc1b\", \"number\": "
				 "\"RC-1\", \"reason\": \"x\"}"),
			 -EPROTO);
}

/* ---- attachments ---- */

static void test_attachments(void **state)
{
	struct fixture *f = *state;
	int64_t id = dispatch(f, "AT-1"), att = 0;
	char path[PATH_MAX + 128], stray[PATH_MAX + 128], mime[ORDER_MIME_MAX];
	static const char pdf[] = "%PDF-1.4\n%test\n";
	static const char jpg[] = "\xff\xd8\xff\xe0JFIF";
	uint8_t *big;
	void *data;
	size_t len;

	assert_int_equal(orders_add_attachment(f->o, &staff, id, "a.pdf", "application/pdf",
					       "hello", 5, &att, &f->err),
			 -EINVAL);
	assert_int_equal(orders_add_attachment(f->o, &staff, id, "a.jpg", "image/jpeg", png_bytes,
					       sizeof(png_bytes) - 1, &att, &f->err),
			 -EINVAL);
	assert_int_equal(orders_add_attachment(f->o, &staff, id, "a.gif", "image/gif", "GIF89a", 6,
					       &att, &f->err),
			 -EINVAL);
	assert_int_equal(orders_add_attachment(f->o, &staff, id, "../x.pdf", "application/pdf", pdf,
					       sizeof(pdf) - 1, &att, &f->err),
			 -EINVAL);
	big = calloc(1, 65 * 1024);
	memcpy(big, "%PDF-", 5);
	assert_int_equal(orders_add_attachment(f->o, &staff, id, "big.pdf", "application/pdf", big,
					       65 * 1024, &att, &f->err),
			 -EFBIG);
	free(big);
	assert_int_equal(count(f, "SELECT count(*) FROM order_attachments"), 0);
	assert_int_equal(orders_add_attachment(f->o, &staff, id, "回复函.pdf", "application/pdf",
					       pdf, sizeof(pdf) - 1, &att, &f->err),
			 0);
	assert_true(att > 0);
	assert_int_equal(orders_add_attachment(f->o, &staff, id, "photo.jpg", "image/jpeg", jpg,
					       sizeof(jpg) - 1, NULL, &f->err),
			 0);
	assert_int_equal(orders_get_attachment(f->o, id, att, &data, &len, mime), 0);
	assert_int_equal(len, sizeof(pdf) - 1);
	assert_memory_equal(data, pdf, len);
	assert_string_equal(mime, "application/pdf");
	free(data);
	assert_int_equal(orders_get_attachment(f->o, id + 1, att, &data, &len, mime), -ENOENT);
	/* a file no row names (a crash before the commit) goes at the next start */
	{
		char hex[80];

		test_sql_text(f->d.db,
			      "SELECT sha256 FROM order_attachments WHERE name = 'photo.jpg'", hex,
			      sizeof(hex));
		snprintf(path, sizeof(path), "%s/attachments/%s", f->d.dir, hex);
	}
	snprintf(stray, sizeof(stray), "%s/attachments/%064d", f->d.dir, 7);
	test_file_write(stray, "orphan", 6);
	orders_destroy(f->o);
	assert_int_equal(orders_create(&f->p, &f->o), 0);
	assert_false(test_file_exists(stray));
	assert_true(test_file_exists(path));
	assert_int_equal(orders_get_attachment(f->o, id, att, &data, &len, mime), 0);
	free(data);
	/* an altered file is refused */
	{
		char hex[80], p2[PATH_MAX + 128];

		test_sql_text(f->d.db, "SELECT sha256 FROM order_attachments WHERE id = 1", hex,
			      sizeof(hex));
		snprintf(p2, sizeof(p2), "%s/attachments/%s", f->d.dir, hex);
		test_file_write(p2, "%PDF-1.4\n%evil\n", 15);
		assert_int_equal(orders_get_attachment(f->o, id, att, &data, &len, mime), -EIO);
	}
	assert_int_equal(count(f, "SELECT count(*) FROM outbox WHERE type = "
				  "'order.attachment_added'"),
			 2);
}

/* ---- printing ---- */

static bool job_has(struct hal_printer *p, unsigned i, const char *needle_utf8)
{
	char gb[256];
	size_t len, inleft = strlen(needle_utf8), outleft = sizeof(gb);
	char *in = (char *)needle_utf8, *out = gb;
	const uint8_t *job = fake_printer_job(p, i, &len);
	iconv_t cd = iconv_open("GB18030", "UTF-8");

	assert_true(cd != (iconv_t)-1);
	assert_true(iconv(cd, &in, &inleft, &out, &outleft) != (size_t)-1);
	iconv_close(cd);
	assert_non_null(job);
	return memmem(job, len, gb, sizeof(gb) - outleft) != NULL;
}

static void test_print_slip(void **state)
{
	struct fixture *f = *state;
	int64_t id = dispatch(f, "PR-1");
	int64_t hidden =
		dispatch_full(f, "PR-2", "report", "simple", "举报",
			      "有人在河边倾倒垃圾，希望尽快处理，我不希望透露身份。", true);
	int printed = 0, failed = 0;
	struct order *o;

	fake_printer_set_state(&f->printer, HAL_PRINTER_PAPER_OUT);
	assert_int_equal(orders_print_slip(f->o, &staff, id, &f->err), -ENOSPC);
	assert_true(strstr(f->err.en, "paper") != NULL);
	o = get(f, id);
	assert_false(o->printed);
	free(o);
	fake_printer_set_state(&f->printer, HAL_PRINTER_READY);
	fake_printer_fail_next(&f->printer, -ETIMEDOUT);
	assert_int_equal(orders_print_slip(f->o, &staff, id, &f->err), -ETIMEDOUT);
	o = get(f, id);
	assert_false(o->printed);
	free(o);
	assert_int_equal(fake_printer_job_count(&f->printer), 0);
	assert_int_equal(orders_print_slip(f->o, &staff, id, &f->err), 0);
	o = get(f, id);
	assert_true(o->printed);
	free(o);
	assert_int_equal(fake_printer_job_count(&f->printer), 1);
	assert_true(job_has(&f->printer, 0, "PR-1"));
	assert_true(job_has(&f->printer, 0, "138****5678"));
	assert_false(job_has(&f->printer, 0, "13812345678"));
	assert_true(job_has(&f->printer, 0, "张*"));
	assert_true(job_has(&f->printer, 0, "投诉"));
	/* 2026-02-13 signed-for deadline shown on a pending order */
	assert_true(job_has(&f->printer, 0, "2026-02-14"));
	/* batch: only what is not printed yet; the hidden citizen is left off */
	assert_int_equal(orders_print_new(f->o, &staff, &printed, &failed, &f->err), 0);
	assert_int_equal(printed, 1);
	assert_int_equal(failed, 0);
	assert_int_equal(fake_printer_job_count(&f->printer), 2);
	assert_false(job_has(&f->printer, 1, "****5678"));
	assert_false(job_has(&f->printer, 1, "联系人"));
	assert_true(job_has(&f->printer, 1, "倾倒垃圾"));
	o = get(f, hidden);
	assert_true(o->printed);
	free(o);
	assert_int_equal(orders_print_new(f->o, &staff, &printed, &failed, &f->err), 0);
	assert_int_equal(printed, 0);
}

static void test_slip_wrap(void **state)
{
	struct fixture *f = *state;
	int64_t id = dispatch_full(f, "WR-1", "help", "simple", "长内容",
				   "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十"
				   "ABCDEFGHIJ",
				   false);
	uint8_t *job;
	size_t len;
	char gb[512];
	iconv_t cd = iconv_open("GB18030", "UTF-8");
	char *in = (char *)"一二三四五六七八九十一二三四五六", *out = gb;
	size_t inleft = strlen(in), outleft = sizeof(gb);

	assert_int_equal(orders_slip_render(f->o, id, &job, &len), 0);
	/* 16 CJK characters fill a 32-column line: the 17th starts the next */
	assert_true(iconv(cd, &in, &inleft, &out, &outleft) != (size_t)-1);
	iconv_close(cd);
	{
		uint8_t *hit = memmem(job, len, gb, sizeof(gb) - outleft);

		assert_non_null(hit);
		assert_int_equal(hit[sizeof(gb) - outleft], '\n');
	}
	free(job);
}

/* ---- lists, search, home, dashboard ---- */

static int64_t list_total(struct fixture *f, const struct orders_filter *flt)
{
	cJSON *j;
	int64_t n;

	assert_int_equal(orders_list(f->o, flt, &j), 0);
	n = (int64_t)cJSON_GetObjectItem(j, "total")->valuedouble;
	assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(j, "rows")) <= n);
	cJSON_Delete(j);
	return n;
}

static void test_list_and_search(void **state)
{
	struct fixture *f = *state;
	struct orders_filter flt;
	int64_t a = dispatch_full(f, "L-1", "complaint", "complex", "路灯坏了", "人民路路灯不亮",
				  false);
	int64_t b = dispatch_full(f, "L-2", "consult", "simple", "社保咨询", "如何办理社保卡转移",
				  false);
	int64_t c =
		dispatch_full(f, "L-3", "help", "difficult", "噪音扰民", "夜间施工噪音很大", false);
	cJSON *j;

	assert_int_equal(orders_sign(f->o, &staff, a, &f->err), 0); /* due Wed 25 */
	assert_int_equal(orders_sign(f->o, &staff, b, &f->err), 0); /* immediate: today */
	assert_int_equal(assign(f, &staff, a), 0);
	orders_filter_init(&flt);
	assert_int_equal(list_total(f, &flt), 3);
	flt.state = ORDER_PENDING;
	assert_int_equal(list_total(f, &flt), 1);
	orders_filter_init(&flt);
	flt.category = ORDER_CAT_CONSULT;
	assert_int_equal(list_total(f, &flt), 1);
	orders_filter_init(&flt);
	snprintf(flt.lead_dept, sizeof(flt.lead_dept), "urban_mgmt");
	assert_int_equal(list_total(f, &flt), 1);
	orders_filter_init(&flt);
	snprintf(flt.handler, sizeof(flt.handler), "li02");
	assert_int_equal(list_total(f, &flt), 1);
	orders_filter_init(&flt);
	flt.flag = ORDERS_FLAG_DUE_TODAY;
	assert_int_equal(list_total(f, &flt), 1); /* L-2 due today */
	flt.flag = ORDERS_FLAG_DUE_SOON;
	assert_int_equal(list_total(f, &flt), 1); /* L-3 must be signed for by Sat 14 */
	flt.flag = ORDERS_FLAG_OVERDUE;
	assert_int_equal(list_total(f, &flt), 0);
	flt.flag = ORDERS_FLAG_SYNC_PENDING;
	assert_int_equal(list_total(f, &flt), 3);
	/* search: trigrams for 3+ characters, LIKE below */
	orders_filter_init(&flt);
	snprintf(flt.q, sizeof(flt.q), "社保卡");
	assert_int_equal(list_total(f, &flt), 1);
	snprintf(flt.q, sizeof(flt.q), "噪音");
	assert_int_equal(list_total(f, &flt), 1);
	snprintf(flt.q, sizeof(flt.q), "L-2");
	assert_int_equal(list_total(f, &flt), 1);
	snprintf(flt.q, sizeof(flt.q), "人民路");
	assert_int_equal(list_total(f, &flt), 3); /* content of L-1 and every location */
	snprintf(flt.q, sizeof(flt.q), "\"x\" OR *");
	assert_int_equal(list_total(f, &flt), 0);
	snprintf(flt.q, sizeof(flt.q), "%%");
	assert_int_equal(list_total(f, &flt), 0);
	/* the next Monday: L-2 is overdue, L-3's sign-for too */
	fake_clock_set_wall(&f->d.clk.clock, T0 + 3 * DAY);
	orders_filter_init(&flt);
	flt.flag = ORDERS_FLAG_OVERDUE;
	assert_int_equal(list_total(f, &flt), 2);
	/* urged */
	assert_int_equal(city(f, "{\"type\": \"order.notice\", \"item_id\": \"n-L3\", \"number\": "
				 "\"L-3\", \"kind\": \"urge\", \"text\": \"请尽快签收\"}"),
			 0);
	flt.flag = ORDERS_FLAG_URGED;
	assert_int_equal(list_total(f, &flt), 1);
	/* paging and sort by due: the earliest deadline first */
	orders_filter_init(&flt);
	flt.limit = 2;
	assert_int_equal(orders_list(f->o, &flt, &j), 0);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "rows")), 2);
	assert_string_equal(
		cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "rows"), 0), "number")
			->valuestring,
		"L-2");
	assert_null(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "rows"), 0),
					"content"));
	cJSON_Delete(j);
	flt.limit = ORDER_LIST_MAX + 1;
	assert_int_equal(orders_list(f->o, &flt, &j), -EINVAL);
	/* home */
	assert_int_equal(orders_home(f->o, &staff, &j), 0);
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "counts"), "overdue")->valueint,
			 2);
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "counts"), "urged")->valueint,
			 1);
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "counts"), "pending")->valueint,
			 1);
	assert_true(
		cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "calendar"), "has_year")));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "overdue")), 2);
	cJSON_Delete(j);
	/* dashboard: L-2 replied late */
	assert_int_equal(assign(f, &staff, b), 0);
	assert_int_equal(orders_draft_reply(f->o, &staff, b, "答复", &f->err), 0);
	assert_int_equal(orders_sign_off(f->o, &sup, b, &f->err), 0);
	assert_int_equal(city(f, "{\"type\": \"order.visit_result\", \"item_id\": \"vL2\", "
				 "\"number\": \"L-2\", \"result\": \"satisfied\"}"),
			 0);
	assert_int_equal(orders_dashboard(f->o, T0 - DAY, T0 + DAY, &j), 0);
	assert_int_equal(cJSON_GetObjectItem(j, "total")->valueint, 3);
	assert_int_equal(cJSON_GetObjectItem(j, "replied")->valueint, 1);
	assert_int_equal(cJSON_GetObjectItem(j, "replied_on_time")->valueint, 0);
	assert_true(cJSON_GetObjectItem(j, "on_time_rate")->valuedouble == 0.0);
	assert_true(cJSON_GetObjectItem(j, "satisfaction_rate")->valuedouble == 1.0);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "overdue_by_dept")), 1);
	cJSON_Delete(j);
	(void)c;
}

static void test_get_json_contact_views(void **state)
{
	struct fixture *f = *state;
	int64_t id = dispatch(f, "G-1");
	cJSON *j, *c;
	int64_t audits;

	assert_int_equal(orders_get_json(f->o, &staff, id, false, &j), 0);
	c = cJSON_GetObjectItem(j, "contact");
	assert_string_equal(cJSON_GetObjectItem(c, "view")->valuestring, "masked");
	assert_string_equal(cJSON_GetObjectItem(c, "phone")->valuestring, "138****5678");
	assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "actions"), 0)->valuestring,
			    "sign");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "history")), 1);
	cJSON_Delete(j);
	audits = count(f, "SELECT count(*) FROM audit WHERE action = 'order.contact_view'");
	assert_int_equal(orders_get_json(f->o, &staff, id, true, &j), 0);
	c = cJSON_GetObjectItem(j, "contact");
	assert_string_equal(cJSON_GetObjectItem(c, "view")->valuestring, "full");
	assert_string_equal(cJSON_GetObjectItem(c, "phone")->valuestring, "13812345678");
	cJSON_Delete(j);
	assert_int_equal(count(f, "SELECT count(*) FROM audit WHERE action = 'order.contact_view'"),
			 audits + 1);
	/* a citizen's reveal is a masked view */
	assert_int_equal(orders_get_json(f->o, &citizen, id, true, &j), 0);
	c = cJSON_GetObjectItem(j, "contact");
	assert_string_equal(cJSON_GetObjectItem(c, "view")->valuestring, "masked");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "actions")), 0);
	cJSON_Delete(j);
	assert_int_equal(orders_get_json(f->o, &staff, 424242, false, &j), -ENOENT);
}

static void test_public_lookup(void **state)
{
	struct fixture *f = *state;
	int64_t id = dispatch(f, "PL-1");
	struct order *o;
	cJSON *j;
	char *s;

	assert_int_equal(orders_sign(f->o, &staff, id, &f->err), 0);
	assert_int_equal(assign(f, &staff, id), 0);
	assert_int_equal(orders_draft_reply(f->o, &staff, id, "内部草稿", &f->err), 0);
	o = get(f, id);
	assert_int_equal(orders_public_lookup(f->o, o->lookup_code, &j), 0);
	free(o);
	s = cJSON_PrintUnformatted(j);
	assert_non_null(strstr(s, "PL-1"));
	assert_null(strstr(s, "138"));
	assert_null(strstr(s, "张"));
	assert_null(strstr(s, "内部草稿"));
	assert_null(strstr(s, "路灯坏了一个星期"));
	/* dispatch, sign, assign: the draft is not a public step */
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "timeline")), 3);
	cJSON_free(s);
	cJSON_Delete(j);
	assert_int_equal(orders_public_lookup(f->o, "ZZZZZZZZ", &j), -ENOENT);
	assert_int_equal(orders_public_lookup(f->o, "short", &j), -ENOENT);
}

/* ---- tables ---- */

static void test_tables(void **state)
{
	struct fixture *f = *state;
	static const char good[] = "[{\"code\": \"water\", \"name_zh\": \"县水务局\", \"name_en\": "
				   "\"Water Bureau\"}, {\"code\": \"urban_mgmt\", \"name_zh\": "
				   "\"县城市管理局\", \"active\": false}]";
	static const char dup[] = "[{\"code\": \"a\", \"name_zh\": \"甲\"}, {\"code\": \"a\", "
				  "\"name_zh\": \"乙\"}]";
	static const char codes[] = "[{\"code\": \"A\", \"name\": \"城建\"}, {\"code\": \"A1\", "
				    "\"name\": \"路灯\", \"parent\": \"A\"}]";
	static const char loop[] = "[{\"code\": \"A\", \"name\": \"x\", \"parent\": \"B\"}, "
				   "{\"code\": \"B\", \"name\": \"y\", \"parent\": \"A\"}]";
	int64_t id = dispatch(f, "TB-1");
	int64_t depts = count(f, "SELECT count(*) FROM departments");

	assert_true(depts >= 10);
	assert_int_equal(orders_departments_import(f->o, &staff, good, strlen(good), &f->err),
			 -EPERM);
	assert_int_equal(orders_departments_import(f->o, &sup, dup, strlen(dup), &f->err), -EINVAL);
	assert_int_equal(orders_departments_import(f->o, &sup, "{", 1, &f->err), -EINVAL);
	assert_int_equal(count(f, "SELECT count(*) FROM departments"), depts);
	/* a department still named by an order stays, inactive */
	assert_int_equal(orders_sign(f->o, &staff, id, &f->err), 0);
	{
		struct order_assign a = { .lead_dept = "housing", .complexity = -1 };

		assert_int_equal(orders_assign(f->o, &staff, id, &a, &f->err), 0);
	}
	assert_int_equal(orders_departments_import(f->o, &sup, good, strlen(good), &f->err), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM departments"), 3);
	assert_int_equal(count(f, "SELECT active FROM departments WHERE code = 'housing'"), 0);
	assert_int_equal(assign(f, &staff, id), -EINVAL); /* urban_mgmt inactive now */
	assert_int_equal(count(f, "SELECT count(*) FROM audit WHERE action = 'order.departments'"),
			 1);
	assert_int_equal(orders_codes_import(f->o, &sup, loop, strlen(loop), &f->err), -EINVAL);
	assert_int_equal(orders_codes_import(f->o, &sup, codes, strlen(codes), &f->err), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM order_codes"), 2);
}

/* ---- clock evidence ---- */

static void test_clock_correction(void **state)
{
	struct fixture *f = *state;
	int64_t id = dispatch(f, "CK-1");

	assert_int_equal(count(f, "SELECT count(*) FROM clock_corrections"), 0);
	fake_clock_advance(&f->d.clk.clock, 10 * MIN); /* both clocks: no correction */
	fake_clock_set_wall(&f->d.clk.clock, f->d.clk.wall_ms + MIN); /* within 2 minutes */
	assert_int_equal(orders_sign(f->o, &staff, id, &f->err), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM clock_corrections"), 0);
	fake_clock_set_wall(&f->d.clk.clock, f->d.clk.wall_ms - 30 * MIN); /* set back */
	assert_int_equal(assign(f, &staff, id), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM clock_corrections"), 1);
	/* measured against the last recorded offset (the 1-minute step was not one) */
	assert_int_equal(count(f, "SELECT shift_ms FROM clock_corrections"), -29 * MIN);
	assert_int_equal(count(f, "SELECT count(*) FROM audit WHERE action = 'clock.correction'"),
			 1);
	/* history keeps both clocks */
	assert_int_equal(count(f, "SELECT count(*) FROM order_history WHERE mono_ms > 0"),
			 count(f, "SELECT count(*) FROM order_history"));
	{
		cJSON *j;

		assert_int_equal(orders_clock_corrections_json(f->o, 10, &j), 0);
		assert_int_equal(cJSON_GetArraySize(j), 1);
		cJSON_Delete(j);
	}
}

/* ---- links ---- */

static void test_repeat_link(void **state)
{
	struct fixture *f = *state;
	int64_t a = dispatch(f, "RP-1"), b = dispatch(f, "RP-2");
	struct order *o;
	cJSON *j;

	assert_int_equal(orders_link_repeat(f->o, &staff, b, "RP-9", "", &f->err), -EINVAL);
	assert_int_equal(orders_link_repeat(f->o, &staff, b, "RP-2", "", &f->err), -EINVAL);
	assert_int_equal(orders_link_repeat(f->o, &staff, b, "RP-1", "同一路灯", &f->err), 0);
	assert_int_equal(orders_link_repeat(f->o, &staff, b, "RP-1", "", &f->err), -EPROTO);
	o = get(f, b);
	assert_string_equal(o->repeat_of, "RP-1");
	free(o);
	assert_int_equal(orders_get_json(f->o, &staff, a, false, &j), 0);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "links")), 1);
	assert_string_equal(
		cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "links"), 0),
				    "direction")
			->valuestring,
		"from");
	cJSON_Delete(j);
}

/* ---- the admin command ---- */

static void test_cmd_city_event(void **state)
{
	struct fixture *f = *state;
	char file[PATH_MAX + 32], out[4096] = "";
	static const char items[] =
		"[{\"type\": \"order.dispatch\", \"item_id\": \"cli-1\", \"number\": \"CLI-1\", "
		"\"channel\": \"letter\", \"category\": \"suggestion\", \"field\": \"economy\", "
		"\"title\": \"建议\", \"content\": \"建议增设公交线路\", \"dispatch_ms\": "
		"1770944400000},"
		"{\"type\": \"order.dispatch\", \"item_id\": \"cli-1\", \"number\": \"CLI-1\", "
		"\"channel\": \"letter\", \"category\": \"suggestion\", \"field\": \"economy\", "
		"\"title\": \"建议\", \"content\": \"建议增设公交线路\", \"dispatch_ms\": "
		"1770944400000},"
		"{\"type\": \"order.recall\", \"item_id\": \"cli-2\", \"number\": \"CLI-1\"}]";
	struct admin_ctx ctx = { .data_dir = f->d.dir, .db = f->d.db, .clock = &f->d.clk.clock };
	char *args[] = { "city-event", file, NULL };
	FILE *mem = fmemopen(out, sizeof(out) - 1, "w");

	snprintf(file, sizeof(file), "%s/items.json", f->d.dir);
	test_file_write(file, items, strlen(items));
	ctx.out = mem;
	ctx.err = mem;
	assert_int_equal(orders_cmd_city_event(&ctx, 2, args), 1); /* the third is refused */
	fclose(mem);
	assert_non_null(strstr(out, "item 1 (order.dispatch, cli-1): applied"));
	assert_non_null(strstr(out, "item 2 (order.dispatch, cli-1): already applied"));
	assert_non_null(strstr(out, "item 3 (order.recall, cli-2): refused"));
	assert_int_equal(count(f, "SELECT count(*) FROM orders WHERE number = 'CLI-1'"), 1);
	assert_true(pii_ready()); /* the command left the keys of this process alone */
	args[1] = "/nonexistent/items.json";
	mem = fmemopen(out, sizeof(out) - 1, "w");
	ctx.out = ctx.err = mem;
	assert_int_equal(orders_cmd_city_event(&ctx, 2, args), 1);
	fclose(mem);
	assert_non_null(strstr(out, "cannot open"));
	mem = fmemopen(out, sizeof(out) - 1, "w");
	ctx.out = ctx.err = mem;
	assert_int_equal(orders_cmd_city_event(&ctx, 1, args), 2);
	fclose(mem);
	assert_non_null(strstr(out, "usage"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_full_life_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transition_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusal_words, setup, teardown),
		cmocka_unit_test_setup_teardown(test_roles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_input_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deadlines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_extension_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_return_pause, setup, teardown),
		cmocka_unit_test_setup_teardown(test_city_items, setup, teardown),
		cmocka_unit_test_setup_teardown(test_city_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recall_and_redispatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attachments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_print_slip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slip_wrap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_and_search, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_json_contact_views, setup, teardown),
		cmocka_unit_test_setup_teardown(test_public_lookup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tables, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clock_correction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_repeat_link, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cmd_city_event, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
