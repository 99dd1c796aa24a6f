/*
 * Walk-in requests against a real database, key file, fake clock, fake
 * printer and a real ticket queue: filing (row, contact only through pii,
 * history, audit, outbox) and its receipt (GB18030, masked or anonymous
 * contact, QR of the lookup code), a failed print that still files and a
 * reprint, refused input and not-accepted kinds that leave nothing stored,
 * the staff actions and their illegal transitions, the hand-over, the
 * repeat rule inside and outside its window, the similarity function, the
 * public lookup without personal data, ratings once per eligible target
 * and their summary, and queueing a citizen to a window.
 */
#include <errno.h>
#include <iconv.h>
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
#include "fw/audit.h"
#include "fw/outbox.h"
#include "fw/pii.h"
#include "fw/rng.h"
#include "fw/store.h"
#include "orders/calstore.h"
#include "orders/orders.h"
#include "orders/workcal.h"
#include "queue/queue.h"
#include "requests/requests.h"
#include "test_app.h"
#include "test_walkin.h"
#include "test_util.h"

/* Monday 2023-11-13 10:00 in UTC+8. */
#define T0    1699840800000LL
#define MIN   60000LL
#define DAY   (24 * 60 * MIN)

#define PHONE "13812345678"
#define NAME  "张三丰"

struct fixture {
	struct test_data d; /* data directory, store (d.db), clock (d.clk) */
	struct hal_printer printer;
	struct queue *q;
	struct requests *r;
	struct calstore *cal;
	struct deadline_rules rules;
	struct orders *o;
};

static const struct requests_actor clerk = { "li02", "staff" };

/* The fakes come from a small static pool: one printer serves every test. */
static struct hal_printer the_printer;

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	test_data_open(&f->d, "test_requests", T0, true);
	fake_printer_init(&the_printer);
	f->printer = the_printer;
	test_walkin_open(&f->d, &f->printer, &f->q, &f->r);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	test_walkin_close(f->q, f->r);
	test_data_close(&f->d);
	free(f);
	return 0;
}

static int64_t sql_int(struct fixture *f, const char *sql)
{
	return test_sql_int(f->d.db, sql);
}

/* UTF-8 to GB18030 with iconv (asserts). */
static size_t gb(const char *utf8, uint8_t *out, size_t cap)
{
	iconv_t cd = iconv_open("GB18030", "UTF-8");
	char *in = (char *)utf8;
	char *o = (char *)out;
	size_t il = strlen(utf8), ol = cap;

	assert_true(cd != (iconv_t)-1);
	assert_int_equal(iconv(cd, &in, &il, &o, &ol), 0);
	iconv_close(cd);
	return cap - ol;
}

static bool job_has(struct fixture *f, unsigned i, const char *utf8)
{
	uint8_t want[512];
	size_t len, n = gb(utf8, want, sizeof(want));
	const uint8_t *job = fake_printer_job(&f->printer, i, &len);

	assert_non_null(job);
	return memmem(job, len, want, n) != NULL;
}

static struct request_input input(const char *content)
{
	return (struct request_input){ .category = ORDER_CAT_COMPLAINT,
				       .field = REQ_FIELD_PUBLIC,
				       .content = content,
				       .location = "幸福小区东门",
				       .name = NAME,
				       .phone = PHONE };
}

static struct request *file_ok(struct fixture *f, const struct requests_actor *who,
			       const struct request_input *in)
{
	struct request *q = malloc(sizeof(*q));
	struct requests_err err;
	int perr = 1;

	assert_non_null(q);
	if (requests_file(f->r, who, in, q, &perr, &err) != 0) {
		fail_msg("filing failed: %s", err.en);
	}
	assert_int_equal(perr, 0);
	return q;
}

/* The outbox types in seq order, joined by spaces. */
static void outbox_types(struct fixture *f, char *out, size_t cap)
{
	test_sql_text(f->d.db,
		      "SELECT coalesce(group_concat(type, ' '), '') FROM (SELECT type FROM outbox "
		      "WHERE type LIKE 'request.%' OR type LIKE 'rating.%' ORDER BY seq)",
		      out, cap);
}

/* ---- similarity ---- */

static void test_similarity(void **state)
{
	static const struct {
		const char *a, *b;
		bool similar;
	} pairs[] = {
		{ "小区门口的路灯坏了三天了，晚上很黑，请尽快修理。",
		  "小区门口路灯已经坏了好几天，晚上出行不安全，希望尽快修好。", true },
		{ "幸福小区门口路灯坏了", "幸福小区门口的路灯坏了，至今没人修", true },
		{ "楼下餐馆油烟太大，影响居民生活", "楼下饭店油烟扰民，晚上排放油烟，影响生活",
		  true },
		{ "咨询社保卡补办需要什么材料", "请问社保卡丢了怎么补办，需要带什么材料", true },
		{ "建筑工地夜间施工噪音扰民", "工地晚上施工很吵，噪音扰民，影响休息", true },
		{ "咨询社保卡补办需要什么材料", "小区门口路灯坏了三天了", false },
		{ "公交车司机态度恶劣", "某某路段积水严重无法通行", false },
		{ "小区门口路灯坏了，晚上很黑", "小区停车位被占用，物业不管", false },
		{ "我家楼上漏水，物业不处理", "我家楼下噪音很大，晚上不能休息", false },
	};
	const char bad[] = "\xff\xfe\xc0\xaf\xed\xa0\x80路灯";
	char big[6000];

	(void)state;
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		double s = requests_similarity(pairs[i].a, strlen(pairs[i].a), pairs[i].b,
					       strlen(pairs[i].b));
		double t = requests_similarity(pairs[i].b, strlen(pairs[i].b), pairs[i].a,
					       strlen(pairs[i].a));

		if ((s >= REQ_SIMILAR_THRESHOLD) != pairs[i].similar) {
			fail_msg("pair %zu: %.3f against threshold %.2f", i, s,
				 REQ_SIMILAR_THRESHOLD);
		}
		assert_true(s == t); /* symmetric */
		assert_true(s >= 0.0 && s <= 1.0);
	}
	/* Case, full-width forms, spaces and punctuation do not count. */
	assert_true(requests_similarity("ABC 路灯！", strlen("ABC 路灯！"), "ａｂｃ，路灯",
					strlen("ａｂｃ，路灯")) == 1.0);
	assert_true(requests_similarity("同一句话", 12, "同一句话", 12) == 1.0);
	assert_true(requests_similarity("", 0, "路灯", 6) == 0.0);
	assert_true(requests_similarity("，。！", 9, "？", 3) == 0.0);
	assert_true(requests_similarity(NULL, 0, NULL, 0) == 0.0);
	assert_true(requests_similarity("路", 3, "路", 3) == 1.0);
	/* Invalid bytes are characters of their own, never a crash. */
	assert_true(requests_similarity(bad, sizeof(bad) - 1, "路灯", 6) > 0.0);
	/* Past 4096 characters nothing more counts (and nothing overflows). */
	memset(big, 'a', sizeof(big));
	assert_true(requests_similarity(big, sizeof(big), "aa", 2) == 1.0);
}

/* ---- filing ---- */

static void test_file_and_receipt(void **state)
{
	struct fixture *f = *state;
	struct request_input in = input("幸福小区东门的路灯坏了三天，晚上很黑。");
	struct request *q = file_ok(f, NULL, &in);
	char payload[2048], masked[64];
	struct pii_contact c;

	assert_string_equal(q->number, "WR20231113-0001");
	assert_int_equal(strlen(q->lookup_code), REQ_LOOKUP_LEN);
	assert_int_equal(strspn(q->lookup_code, "23456789ABCDEFGHJKMNPQRSTUVWXYZ"), REQ_LOOKUP_LEN);
	assert_int_equal(q->state, REQ_OPEN);
	assert_string_equal(q->channel, "kiosk");
	/* First contact: this office owns it. */
	assert_string_equal(q->owner_office, "测试县12345转办中心");
	assert_string_equal(q->owner_user, "kiosk");
	assert_true(q->printed);
	assert_true(q->contact_id > 0);
	assert_int_equal(q->repeat_of, 0);

	/* Stored: row, history, audit; the contact only in citizen_contact, sealed. */
	assert_int_equal(sql_int(f, "SELECT count(*) FROM walkin_request_history"), 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM audit WHERE action = 'request.file' "
				    "AND target = 'WR20231113-0001' AND actor = 'citizen'"),
			 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM citizen_contact WHERE instr(phone, "
				    "'13812345678') > 0 OR instr(name, '张三丰') > 0"),
			 0);
	assert_int_equal(pii_contact_get(f->d.db, q->contact_id, PII_VIEW_FULL, &c), 0);
	assert_string_equal(c.phone, PHONE);
	assert_string_equal(c.name, NAME);
	pii_contact_clear(&c);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM walkin_requests WHERE contact_tag IS "
				    "NOT NULL AND length(contact_tag) = 32"),
			 1);

	/* The event: the matter, no personal data, not the lookup code. */
	test_sql_text(f->d.db, "SELECT payload FROM outbox WHERE type = 'request.filed'", payload,
		      sizeof(payload));
	assert_non_null(strstr(payload, "\"number\":\"WR20231113-0001\""));
	assert_non_null(strstr(payload, "\"category\":\"complaint\""));
	assert_non_null(strstr(payload, "\"field\":\"public_service\""));
	assert_non_null(strstr(payload, "路灯坏了"));
	assert_null(strstr(payload, "12345678"));
	assert_null(strstr(payload, NAME));
	assert_null(strstr(payload, q->lookup_code));

	/* The receipt. */
	assert_int_equal(fake_printer_job_count(&f->printer), 1);
	assert_true(job_has(f, 0, "诉求受理回执"));
	assert_true(job_has(f, 0, "测试县12345转办中心"));
	assert_true(job_has(f, 0, "WR20231113-0001"));
	assert_true(job_has(f, 0, "投诉 / Complaint"));
	assert_true(job_has(f, 0, "2023-11-13 10:00"));
	assert_true(job_has(f, 0, "首接负责"));
	assert_int_equal(pii_mask_phone(PHONE, masked, sizeof(masked)), 11);
	assert_true(job_has(f, 0, masked));
	assert_true(job_has(f, 0, "张**"));
	assert_false(job_has(f, 0, PHONE));
	assert_false(job_has(f, 0, NAME));
	{
		/* The QR's store command carries the code: GS ( k pL pH 49 80 48 CODE. */
		size_t len;
		const uint8_t *job = fake_printer_job(&f->printer, 0, &len);
		uint8_t want[3 + 8] = { 49, 80, 48 };

		memcpy(want + 3, q->lookup_code, 8);
		assert_non_null(memmem(job, len, want, sizeof(want)));
	}
	free(q);

	/* Staff at the window: channel and owner are the staff member. */
	in.content = "咨询居住证办理需要哪些材料";
	in.category = ORDER_CAT_CONSULT;
	in.phone = NULL;
	in.name = NULL;
	q = file_ok(f, &clerk, &in);
	assert_string_equal(q->number, "WR20231113-0002");
	assert_string_equal(q->channel, "window");
	assert_string_equal(q->owner_user, "li02");
	assert_string_equal(q->filed_by, "li02");
	assert_int_equal(q->contact_id, 0);
	assert_true(job_has(f, 1, "咨询 / Consultation"));
	free(q);
	/* The numbers start again the next day. */
	fake_clock_advance(&f->d.clk.clock, DAY);
	q = file_ok(f, &clerk, &in);
	assert_string_equal(q->number, "WR20231114-0001");
	free(q);
}

static void test_hidden_identity(void **state)
{
	struct fixture *f = *state;
	struct request_input in = input("反映某餐馆油烟扰民");
	struct request *q;
	struct pii_contact c;

	in.hide_identity = true;
	q = file_ok(f, NULL, &in);
	assert_true(q->hide_identity);
	assert_true(job_has(f, 0, "（匿名）"));
	assert_false(job_has(f, 0, "138****5678"));
	assert_false(job_has(f, 0, "张**"));
	/* Staff see it anonymous even in the full view. */
	assert_int_equal(requests_contact(f->r, &clerk, q->number, PII_VIEW_FULL, &c), 0);
	assert_string_equal(c.phone, PII_ANONYMOUS);
	assert_string_equal(c.name, PII_ANONYMOUS);
	pii_contact_clear(&c);
	assert_int_equal(requests_contact(f->r, &clerk, q->number, PII_VIEW_HANDLER, &c), -EINVAL);
	free(q);
}

static void test_contact_views(void **state)
{
	struct fixture *f = *state;
	struct request_input in = input("路灯坏了");
	struct request *q = file_ok(f, NULL, &in);
	struct pii_contact c;

	assert_int_equal(requests_contact(f->r, &clerk, q->number, PII_VIEW_MASKED, &c), 0);
	assert_string_equal(c.phone, "138****5678");
	assert_string_equal(c.name, "张**");
	pii_contact_clear(&c);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM audit WHERE action = "
				    "'request.contact_view'"),
			 0);
	assert_int_equal(requests_contact(f->r, &clerk, q->number, PII_VIEW_FULL, &c), 0);
	assert_string_equal(c.phone, PHONE);
	pii_contact_clear(&c);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM audit WHERE action = "
				    "'request.contact_view' AND actor = 'li02' AND target = '"
				    "WR20231113-0001'"),
			 1);
	assert_int_equal(requests_contact(f->r, &clerk, "WR-NOPE", PII_VIEW_MASKED, &c), -ENOENT);
	free(q);
	in.name = NULL;
	in.phone = NULL;
	q = file_ok(f, NULL, &in);
	assert_int_equal(requests_contact(f->r, &clerk, q->number, PII_VIEW_MASKED, &c), -ENODATA);
	free(q);
}

static void test_print_failure_still_files(void **state)
{
	struct fixture *f = *state;
	struct request_input in = input("路灯坏了");
	struct requests_err err;
	struct request q;
	int perr = 0;

	fake_printer_set_state(&f->printer, HAL_PRINTER_PAPER_OUT);
	assert_int_equal(requests_file(f->r, NULL, &in, &q, &perr, &err), 0);
	assert_int_equal(perr, -ENOSPC);
	assert_false(q.printed);
	assert_int_equal(fake_printer_job_count(&f->printer), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM walkin_requests WHERE printed = 0"), 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM outbox WHERE type = 'request.filed'"), 1);
	/* Still out of paper: the reprint says so. */
	assert_int_equal(requests_reprint(f->r, &clerk, q.number, &perr), -ECANCELED);
	assert_int_equal(perr, -ENOSPC);
	fake_printer_set_state(&f->printer, HAL_PRINTER_READY);
	fake_printer_fail_next(&f->printer, -ETIMEDOUT);
	assert_int_equal(requests_reprint(f->r, &clerk, q.number, &perr), -ECANCELED);
	assert_int_equal(perr, -ETIMEDOUT);
	assert_int_equal(requests_reprint(f->r, &clerk, q.number, &perr), 0);
	assert_int_equal(perr, 0);
	assert_int_equal(fake_printer_job_count(&f->printer), 1);
	assert_true(job_has(f, 0, q.number));
	assert_int_equal(sql_int(f, "SELECT count(*) FROM walkin_requests WHERE printed = 1"), 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM audit WHERE action = 'request.reprint'"),
			 3);
	assert_int_equal(requests_reprint(f->r, &clerk, "WR20990101-0001", &perr), -ENOENT);
}

static void test_validation_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	static char long_text[REQ_CONTENT_MAX + 2];
	struct request_input in;
	struct requests_err err;
	struct request q;
	int perr;
	struct {
		const char *what;
		int cat, field;
		const char *content, *phone, *name, *kind, *location;
		int want;
	} bad[] = {
		{ "category", 7, 0, "x", NULL, NULL, NULL, NULL, -EINVAL },
		{ "category", -1, 0, "x", NULL, NULL, NULL, NULL, -EINVAL },
		{ "field", 0, 5, "x", NULL, NULL, NULL, NULL, -EINVAL },
		{ "content", 0, 0, NULL, NULL, NULL, NULL, NULL, -EINVAL },
		{ "content", 0, 0, "  \n ", NULL, NULL, NULL, NULL, -EINVAL },
		{ "content", 0, 0, long_text, NULL, NULL, NULL, NULL, -EINVAL },
		{ "content", 0, 0, "\xc3\x28", NULL, NULL, NULL, NULL, -EINVAL },
		{ "content", 0, 0, "a\x01", NULL, NULL, NULL, NULL, -EINVAL },
		{ "phone", 0, 0, "x", "138abc", NULL, NULL, NULL, -EINVAL },
		{ "name", 0, 0, "x", NULL, "a\nb", NULL, NULL, -EINVAL },
		{ "location", 0, 0, "x", NULL, NULL, NULL, "\x7f", -EINVAL },
		{ "not accepted", 0, 0, "x", PHONE, NULL, "litigation", NULL, -EPERM },
		{ "not accepted", 0, 0, "x", NULL, NULL, "emergency_110", NULL, -EPERM },
	};
	int64_t audit0 = sql_int(f, "SELECT count(*) FROM audit");

	memset(long_text, 'a', sizeof(long_text) - 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		in = (struct request_input){ .category = bad[i].cat,
					     .field = bad[i].field,
					     .content = bad[i].content,
					     .phone = bad[i].phone,
					     .name = bad[i].name,
					     .kind = bad[i].kind,
					     .location = bad[i].location };
		memset(&err, 0, sizeof(err));
		if (requests_file(f->r, NULL, &in, &q, &perr, &err) != bad[i].want) {
			fail_msg("case %zu (%s) was not refused", i, bad[i].what);
		}
		/* Both languages say what is wrong. */
		assert_true(strlen(err.en) > 10);
		assert_true((unsigned char)err.zh[0] >= 0xe0);
	}
	assert_non_null(strstr(err.zh, "110"));
	assert_int_equal(sql_int(f, "SELECT count(*) FROM walkin_requests"), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM citizen_contact"), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM walkin_request_history"), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM request_counters"), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM outbox"), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM audit"), audit0);
	assert_int_equal(fake_printer_job_count(&f->printer), 0);

	/* Personal data locked: refused with the contact, allowed without. */
	pii_close();
	in = input("x");
	assert_int_equal(requests_file(f->r, NULL, &in, &q, &perr, &err), -ENOKEY);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM walkin_requests"), 0);
	in.name = NULL;
	in.phone = NULL;
	assert_int_equal(requests_file(f->r, NULL, &in, &q, &perr, &err), 0);
	assert_int_equal(pii_open(f->d.dir, f->d.db), 0);
}

static void test_not_accepted_table(void **state)
{
	static const char *const kinds[] = { "litigation",	"arbitration", "discipline",
					     "reconsideration", "disclosure",  "petition",
					     "secrets",		"privacy",     "morals" };
	static const char *const emergencies[] = { "110", "119", "120", "122" };
	cJSON *j = requests_refusals_json();
	size_t n;
	const struct request_refusal *t = requests_refusals(&n);

	(void)state;
	assert_non_null(j);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "matters")), 9);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "emergencies")), 4);
	cJSON_Delete(j);
	assert_int_equal(n, 13);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		const struct request_refusal *x = requests_refusal_find(kinds[i]);

		assert_non_null(x);
		assert_false(x->emergency);
		assert_true(strlen(x->where_zh) > 0 && strlen(x->where_en) > 0);
	}
	for (size_t i = 0; i < n; i++) {
		assert_true(t[i].name_zh[0] != '\0' && t[i].why_en[0] != '\0');
	}
	for (size_t i = 0; i < 4; i++) {
		char kind[32];

		snprintf(kind, sizeof(kind), "emergency_%s", emergencies[i]);
		assert_non_null(requests_refusal_find(kind));
		assert_string_equal(requests_refusal_find(kind)->phone, emergencies[i]);
	}
	assert_non_null(strstr(requests_refusal_find("discipline")->where_zh, "12388"));
	assert_non_null(strstr(requests_refusal_find("arbitration")->where_zh, "劳动人事争议仲裁"));
	assert_non_null(strstr(requests_refusal_find("reconsideration")->where_zh, "司法局"));
	assert_null(requests_refusal_find("consult"));
	assert_null(requests_refusal_find(NULL));
}

/* ---- staff actions ---- */

static void test_transitions(void **state)
{
	struct fixture *f = *state;
	struct request_input in = input("咨询社保卡补办需要什么材料");
	struct requests_err err;
	struct request *a, *b, out;
	char types[512], payload[1024];

	in.category = ORDER_CAT_CONSULT;
	a = file_ok(f, NULL, &in);
	in.content = "小区门口道路积水严重";
	in.phone = "13900000000";
	b = file_ok(f, &clerk, &in);

	assert_int_equal(requests_answer(f->r, &clerk, a->number, "", &out, &err), -EINVAL);
	assert_int_equal(requests_answer(f->r, &clerk, a->number, "   ", &out, &err), -EINVAL);
	assert_int_equal(requests_answer(f->r, &clerk, "WR20231113-0099", "答复", &out, &err),
			 -ENOENT);
	assert_int_equal(requests_answer(f->r, &clerk, a->number,
					 "携带身份证到社保窗口即可当场补办。", &out, &err),
			 0);
	assert_int_equal(out.state, REQ_ANSWERED);
	assert_string_equal(out.closed_by, "li02");
	assert_true(out.closed_ms > 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM citizen_contact WHERE closed_ms IS NOT "
				    "NULL"),
			 1);
	/* Answered is final here. */
	assert_int_equal(requests_answer(f->r, &clerk, a->number, "again", &out, &err), -EPROTO);
	assert_non_null(strstr(err.zh, a->number));
	assert_int_equal(requests_forward(f->r, &clerk, a->number, NULL, &out, &err), -EPROTO);
	assert_int_equal(requests_mark_handed_over(f->r, NULL, a->number, NULL), -EPROTO);

	assert_int_equal(requests_mark_handed_over(f->r, NULL, b->number, NULL), -EPROTO);
	assert_int_equal(requests_forward(f->r, &clerk, b->number, "需住建部门处理", &out, &err),
			 0);
	assert_int_equal(out.state, REQ_FORWARDED);
	assert_true(out.forwarded_ms > 0);
	/* Still this office's until the city acknowledges. */
	assert_string_equal(out.owner_user, "li02");
	assert_int_equal(requests_answer(f->r, &clerk, b->number, "x", &out, &err), -EPROTO);
	assert_int_equal(requests_forward(f->r, &clerk, b->number, NULL, &out, &err), -EPROTO);
	assert_int_equal(requests_mark_handed_over(f->r, NULL, b->number, "SZ2023111300042"), 0);
	assert_int_equal(requests_get(f->r, b->number, &out), 0);
	assert_int_equal(out.state, REQ_HANDED_OVER);
	assert_string_equal(out.city_ref, "SZ2023111300042");
	assert_int_equal(requests_mark_handed_over(f->r, NULL, b->number, NULL), 1);
	assert_int_equal(requests_mark_handed_over(f->r, NULL, "WR-NONE", NULL), -ENOENT);

	/* Inside the sync worker's own transaction on its own connection. */
	free(a);
	a = file_ok(f, NULL, &in);
	assert_int_equal(requests_forward(f->r, &clerk, a->number, NULL, &out, &err), 0);
	assert_int_equal(store_begin(f->d.db), 0);
	assert_int_equal(requests_mark_handed_over(f->r, f->d.db, a->number, NULL), 0);
	store_rollback(f->d.db);
	assert_int_equal(requests_get(f->r, a->number, &out), 0);
	assert_int_equal(out.state, REQ_FORWARDED); /* rolled back with the caller's */
	assert_int_equal(store_begin(f->d.db), 0);
	assert_int_equal(requests_mark_handed_over(f->r, f->d.db, a->number, NULL), 0);
	assert_int_equal(store_commit(f->d.db), 0);
	assert_int_equal(requests_get(f->r, a->number, &out), 0);
	assert_int_equal(out.state, REQ_HANDED_OVER);

	outbox_types(f, types, sizeof(types));
	assert_string_equal(types, "request.filed request.filed request.answered "
				   "request.forwarded request.filed request.forwarded");
	test_sql_text(f->d.db, "SELECT payload FROM outbox WHERE type = 'request.answered'",
		      payload, sizeof(payload));
	assert_non_null(strstr(payload, "携带身份证"));
	assert_null(strstr(payload, "12345678"));
	test_sql_text(f->d.db,
		      "SELECT payload FROM outbox WHERE type = 'request.forwarded' ORDER "
		      "BY seq LIMIT 1",
		      payload, sizeof(payload));
	assert_non_null(strstr(payload, "道路积水"));
	assert_null(strstr(payload, "13900000000"));
	assert_null(strstr(payload, "住建部门")); /* the note stays here */
	assert_int_equal(sql_int(f, "SELECT count(*) FROM walkin_request_history WHERE action = "
				    "'forwarded' AND note = '需住建部门处理'"),
			 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM audit WHERE action IN "
				    "('request.answer', 'request.forward', "
				    "'request.handed_over')"),
			 5);
	free(a);
	free(b);
}

static void test_list_filters(void **state)
{
	struct fixture *f = *state;
	struct request_input in = input("路灯坏了，晚上很黑");
	struct request_filter flt = { .state = -1 };
	struct requests_err err;
	struct request *a, out;
	cJSON *l;

	a = file_ok(f, NULL, &in);
	fake_clock_advance(&f->d.clk.clock, DAY);
	free(file_ok(f, NULL, &in)); /* a repeat */
	in.content = "咨询公积金提取";
	in.phone = NULL;
	free(file_ok(f, NULL, &in));
	assert_int_equal(requests_answer(f->r, &clerk, a->number, "已报修", &out, &err), 0);

	assert_int_equal(requests_list(f->r, &flt, &l), 0);
	assert_int_equal(cJSON_GetArraySize(l), 3);
	/* Newest first, contact never in a list. */
	assert_string_equal(
		cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(l, 0), "number")),
		"WR20231114-0002");
	{
		char *s = cJSON_PrintUnformatted(l);

		assert_null(strstr(s, "5678"));
		assert_null(strstr(s, NAME));
		free(s);
	}
	cJSON_Delete(l);
	flt.today = true;
	assert_int_equal(requests_list(f->r, &flt, &l), 0);
	assert_int_equal(cJSON_GetArraySize(l), 2);
	cJSON_Delete(l);
	flt.repeat = true;
	assert_int_equal(requests_list(f->r, &flt, &l), 0);
	assert_int_equal(cJSON_GetArraySize(l), 1);
	assert_string_equal(
		cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(l, 0), "repeat_of")),
		a->number);
	cJSON_Delete(l);
	flt = (struct request_filter){ .state = REQ_ANSWERED };
	assert_int_equal(requests_list(f->r, &flt, &l), 0);
	assert_int_equal(cJSON_GetArraySize(l), 1);
	cJSON_Delete(l);
	flt = (struct request_filter){ .state = -1, .limit = 1 };
	assert_int_equal(requests_list(f->r, &flt, &l), 0);
	assert_int_equal(cJSON_GetArraySize(l), 1);
	cJSON_Delete(l);
	free(a);
}

/* ---- repeats ---- */

static void test_repeat_detection(void **state)
{
	struct fixture *f = *state;
	struct request_input in = input("幸福小区门口路灯坏了");
	struct request *a, *b, *c, *d, *e, *g;
	char payload[1024];

	a = file_ok(f, NULL, &in);
	assert_int_equal(a->repeat_of, 0);
	fake_clock_advance(&f->d.clk.clock, 5 * DAY);

	/* Same citizen (the phone spelled otherwise), the same matter in other words. */
	in.content = "幸福小区门口的路灯坏了，至今没人修";
	in.phone = "+86 138 1234 5678";
	in.name = NULL;
	b = file_ok(f, NULL, &in);
	assert_int_equal(b->repeat_of, a->id);
	assert_string_equal(b->repeat_of_number, a->number);
	assert_true(b->similarity >= REQ_SIMILAR_THRESHOLD);
	test_sql_text(f->d.db,
		      "SELECT payload FROM outbox WHERE type = 'request.filed' ORDER BY seq "
		      "DESC LIMIT 1",
		      payload, sizeof(payload));
	assert_non_null(strstr(payload, "\"repeat_of\":\"WR20231113-0001\""));

	/* Another citizen, same words: not a repeat of theirs. */
	in.phone = "13987654321";
	c = file_ok(f, NULL, &in);
	assert_int_equal(c->repeat_of, 0);
	/* Same citizen, another matter. */
	in.phone = PHONE;
	in.content = "咨询社保卡补办需要什么材料";
	d = file_ok(f, NULL, &in);
	assert_int_equal(d->repeat_of, 0);
	/* No phone: nothing to compare. */
	in.phone = NULL;
	in.content = "幸福小区门口路灯坏了";
	e = file_ok(f, NULL, &in);
	assert_int_equal(e->repeat_of, 0);

	/* Outside the window (30 days after every earlier one): not flagged. */
	fake_clock_advance(&f->d.clk.clock, 31 * DAY);
	in.phone = PHONE;
	g = file_ok(f, NULL, &in);
	assert_int_equal(g->repeat_of, 0);
	free(g);
	/* Inside the window again: linked to the latest similar one. */
	fake_clock_advance(&f->d.clk.clock, 29 * DAY);
	g = file_ok(f, NULL, &in);
	assert_true(g->repeat_of != 0);
	assert_true(g->repeat_of != a->id && g->repeat_of != b->id);
	free(a);
	free(b);
	free(c);
	free(d);
	free(e);
	free(g);
}

/* ---- lookup ---- */

static void test_lookup_without_personal_data(void **state)
{
	struct fixture *f = *state;
	struct request_input in = input("幸福小区东门的路灯坏了三天");
	struct requests_err err;
	struct request *q = file_ok(f, NULL, &in), out;
	char code[16], *s;
	cJSON *j, *tl;

	snprintf(code, sizeof(code), "%s", q->lookup_code);
	for (char *c = code; *c; c++) {
		if (*c >= 'A' && *c <= 'Z') {
			*c = (char)(*c - 'A' + 'a');
		}
	}
	fake_clock_advance(&f->d.clk.clock, 10 * MIN);
	assert_int_equal(requests_forward(f->r, &clerk, q->number, "备注不公开", &out, &err), 0);
	assert_int_equal(requests_public_lookup(f->r, code, &j), 0);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "kind")), "request");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "number")), q->number);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "state")), "forwarded");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "state_zh")),
			    "已转报市热线");
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "can_rate")));
	tl = cJSON_GetObjectItem(j, "timeline");
	assert_int_equal(cJSON_GetArraySize(tl), 2);
	assert_string_equal(
		cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(tl, 1), "step")),
		"forwarded");
	s = cJSON_PrintUnformatted(j);
	assert_null(strstr(s, "13812345678"));
	assert_null(strstr(s, "5678"));
	assert_null(strstr(s, "138****"));
	assert_null(strstr(s, NAME));
	assert_null(strstr(s, "张"));
	assert_null(strstr(s, "路灯"));	    /* the content */
	assert_null(strstr(s, "幸福小区")); /* the location */
	assert_null(strstr(s, "备注不公开"));
	free(s);
	cJSON_Delete(j);

	assert_int_equal(requests_public_lookup(f->r, "ZZZZZZZZ", &j), -ENOENT);
	assert_int_equal(requests_public_lookup(f->r, "ABC", &j), -EINVAL);
	assert_int_equal(requests_public_lookup(f->r, "ABCDEFG1", &j), -EINVAL); /* no 1 */
	assert_int_equal(requests_public_lookup(f->r, "ABCDEFGHJ", &j), -EINVAL);
	assert_int_equal(requests_public_lookup(f->r, NULL, &j), -EINVAL);
	free(q);
}

/* ---- ratings ---- */

static void serve_ticket(struct fixture *f, struct queue_ticket *t)
{
	struct queue_ticket x;
	int perr;

	assert_int_equal(queue_issue(f->q, NULL, 1, false, true, t, &perr), 0);
	assert_int_equal(queue_window_set(f->q, NULL, 1, QUEUE_WIN_OPEN), 0);
	assert_int_equal(queue_call_next(f->q, NULL, 1, &x), 0);
	assert_int_equal(queue_act(f->q, NULL, 1, QUEUE_START, NULL, &x), 0);
	assert_int_equal(queue_act(f->q, NULL, 1, QUEUE_FINISH, NULL, &x), 0);
}

static int rate(struct fixture *f, const char *target, const char *code, int grade,
		const char *comment)
{
	struct rating_input in = { target, code, grade, comment };
	struct requests_err err;
	struct rating out;

	return requests_rate(f->r, &in, &out, &err);
}

static void test_ratings(void **state)
{
	struct fixture *f = *state;
	struct request_input in = input("咨询社保卡补办");
	struct requests_err err;
	struct request *q, out;
	struct queue_ticket served, waiting;
	struct rating_summary s;
	char types[512], payload[1024], lower[16];
	cJSON *j;
	int perr;
	static char long_comment[RATING_COMMENT_MAX + 2];

	/* A ticket: only once served, once. */
	assert_int_equal(queue_issue(f->q, NULL, 2, false, true, &waiting, &perr), 0);
	assert_int_equal(rate(f, NULL, waiting.lookup_code, 5, NULL), -EPROTO);
	serve_ticket(f, &served);
	assert_int_equal(requests_public_lookup(f->r, served.lookup_code, &j), 0);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "kind")), "ticket");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "state")), "done");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "can_rate")));
	cJSON_Delete(j);
	snprintf(lower, sizeof(lower), "%s", served.lookup_code);
	lower[0] = (char)(lower[0] >= 'A' && lower[0] <= 'Z' ? lower[0] - 'A' + 'a' : lower[0]);
	assert_int_equal(rate(f, "ticket", lower, 5, "窗口服务很耐心"), 0);
	assert_int_equal(rate(f, NULL, served.lookup_code, 4, NULL), -EEXIST);
	assert_int_equal(rate(f, "ticket", served.number, 4, NULL), -EEXIST);
	assert_int_equal(requests_public_lookup(f->r, served.lookup_code, &j), 0);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "rated")));
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "can_rate")));
	cJSON_Delete(j);

	/* A request: only once answered. */
	in.category = ORDER_CAT_CONSULT;
	q = file_ok(f, NULL, &in);
	assert_int_equal(rate(f, NULL, q->lookup_code, 3, NULL), -EPROTO);
	assert_int_equal(rate(f, "request", q->lookup_code, 3, NULL), -EPROTO);
	assert_int_equal(requests_answer(f->r, &clerk, q->number, "已当场解答", &out, &err), 0);
	assert_int_equal(rate(f, "order", q->lookup_code, 3, NULL), -ENOENT); /* wrong target */
	assert_int_equal(rate(f, "request", q->lookup_code, 1, "\n等了很久\n"), 0);
	assert_int_equal(rate(f, "request", q->lookup_code, 2, NULL), -EEXIST);

	/* Bad input: nothing stored. */
	memset(long_comment, 'x', sizeof(long_comment) - 1);
	assert_int_equal(rate(f, NULL, q->lookup_code, 0, NULL), -EINVAL);
	assert_int_equal(rate(f, NULL, q->lookup_code, 6, NULL), -EINVAL);
	assert_int_equal(rate(f, NULL, q->lookup_code, 3, long_comment), -EINVAL);
	assert_int_equal(rate(f, NULL, q->lookup_code, 3, "\xc3\x28"), -EINVAL);
	assert_int_equal(rate(f, "shop", q->lookup_code, 3, NULL), -EINVAL);
	assert_int_equal(rate(f, NULL, "bad", 3, NULL), -EINVAL);
	assert_int_equal(rate(f, NULL, NULL, 3, NULL), -EINVAL);
	assert_int_equal(rate(f, NULL, "ZZZZZZZZ", 3, NULL), -ENOENT);
	assert_int_equal(rate(f, "ticket", "A999", 3, NULL), -ENOENT);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM ratings"), 2);

	/* A ticket of another day cannot be rated any more. */
	assert_int_equal(queue_issue(f->q, NULL, 1, false, true, &waiting, &perr), 0);
	{
		struct queue_ticket x;

		assert_int_equal(queue_call_next(f->q, NULL, 1, &x), 0);
		assert_int_equal(queue_act(f->q, NULL, 1, QUEUE_START, NULL, &x), 0);
		assert_int_equal(queue_act(f->q, NULL, 1, QUEUE_FINISH, NULL, &x), 0);
	}
	fake_clock_advance(&f->d.clk.clock, DAY);
	assert_int_equal(rate(f, NULL, waiting.lookup_code, 5, NULL), -EPROTO);

	outbox_types(f, types, sizeof(types));
	assert_string_equal(types, "rating.submitted request.filed request.answered "
				   "rating.submitted");
	test_sql_text(f->d.db,
		      "SELECT payload FROM outbox WHERE type = 'rating.submitted' ORDER BY "
		      "seq LIMIT 1",
		      payload, sizeof(payload));
	assert_non_null(strstr(payload, "\"target\":\"ticket\""));
	assert_non_null(strstr(payload, "\"grade\":5"));
	assert_non_null(strstr(payload, "窗口服务很耐心"));
	assert_non_null(strstr(payload, served.number));
	assert_null(strstr(payload, served.lookup_code));
	assert_int_equal(sql_int(f, "SELECT count(*) FROM audit WHERE action = 'rating.submit'"),
			 2);

	/* Summary: 5 and 1; satisfaction (5+4+3)/all = 1/2. */
	assert_int_equal(requests_rating_summary(f->r, "2023-11-13", "2023-11-13", &s), 0);
	assert_int_equal(s.total, 2);
	assert_int_equal(s.count[5], 1);
	assert_int_equal(s.count[1], 1);
	assert_int_equal(s.by_target[0], 1);
	assert_int_equal(s.by_target[1], 1);
	assert_true(s.satisfaction > 0.49 && s.satisfaction < 0.51);
	assert_int_equal(requests_rating_summary(f->r, "2023-11-14", NULL, &s), 0);
	assert_int_equal(s.total, 0);
	assert_string_equal(s.to, "2023-11-14");
	assert_true(s.satisfaction == 0.0);
	assert_int_equal(requests_rating_summary(f->r, NULL, NULL, &s), 0);
	assert_int_equal(s.total, 2);
	assert_int_equal(requests_rating_summary(f->r, "2023-13-01", NULL, &s), -EINVAL);
	assert_int_equal(requests_rating_summary(f->r, "2023-11-14", "2023-11-13", &s), -EINVAL);
	assert_int_equal(requests_rating_summary(f->r, "yesterday", NULL, &s), -EINVAL);
	free(q);
}

/* ---- a citizen about an existing matter ---- */

static void test_queue_to_window(void **state)
{
	struct fixture *f = *state;
	struct request_input in = input("上周反映的路灯问题来问进度");
	struct request *q = file_ok(f, NULL, &in);
	struct queue_ticket t, x;
	int perr;

	assert_int_equal(requests_queue_to_window(f->r, &clerk, q->lookup_code, 2, 0, &t, &perr),
			 0);
	assert_int_equal(t.target_window, 2);
	assert_string_equal(t.state, "waiting");
	assert_non_null(strstr(t.note, q->number));
	assert_int_equal(sql_int(f, "SELECT count(*) FROM audit WHERE action = "
				    "'request.queue_to_window' AND target = 'WR20231113-0001'"),
			 1);
	/* Only window 2 calls it. */
	assert_int_equal(queue_window_set(f->q, NULL, 1, QUEUE_WIN_OPEN), 0);
	assert_int_equal(queue_window_set(f->q, NULL, 2, QUEUE_WIN_OPEN), 0);
	assert_int_equal(queue_call_next(f->q, NULL, 1, &x), -ENODATA);
	assert_int_equal(queue_call_next(f->q, NULL, 2, &x), 0);
	assert_string_equal(x.number, t.number);
	/* By the request's number too; unknown matters and windows refused. */
	assert_int_equal(requests_queue_to_window(f->r, &clerk, q->number, 1, 0, &t, &perr), 0);
	assert_int_equal(requests_queue_to_window(f->r, &clerk, "ZZZZZZZZ", 1, 0, &t, &perr),
			 -ENOENT);
	assert_int_equal(requests_queue_to_window(f->r, &clerk, q->number, 42, 0, &t, &perr),
			 -ENOENT);
	assert_int_equal(requests_queue_to_window(f->r, &clerk, "", 1, 0, &t, &perr), -EINVAL);
	free(q);
}

/* ---- work orders through the lookup, ratings and the window ---- */

static int setup_orders(void **state)
{
	struct fixture *f;
	struct orders_params op;

	assert_int_equal(setup(state), 0);
	f = *state;
	requests_destroy(f->r);
	assert_int_equal(calstore_open(f->d.dir, &f->d.clk.clock, &f->cal), 0);
	deadline_preset(CONFIG_DEADLINES_NATIONAL, CONFIG_COUNT_NEXT_DAY, 1, &f->rules);
	op = (struct orders_params){ .data_dir = f->d.dir,
				     .clock = &f->d.clk.clock,
				     .printer = &f->printer,
				     .cal = f->cal,
				     .rules = &f->rules,
				     .utc_offset_min = 480,
				     .due_soon_days = 2,
				     .attachment_max_kb = 64,
				     .office_name = "测试县12345转办中心" };
	assert_int_equal(orders_create(&op, &f->o), 0);
	test_walkin_requests(&f->d, &f->printer, f->q, f->o, &f->r);
	return 0;
}

static int teardown_orders(void **state)
{
	struct fixture *f = *state;

	requests_destroy(f->r);
	f->r = NULL;
	orders_destroy(f->o);
	calstore_close(f->cal);
	return teardown(state);
}

static void test_orders_lookup_and_rating(void **state)
{
	static const struct orders_actor staff = { "li02", "staff" };
	static const struct orders_actor sup = { "zhang01", "supervisor" };
	struct fixture *f = *state;
	struct order *ord = malloc(sizeof(*ord));
	struct order_assign a = { .lead_dept = "urban_mgmt", .complexity = -1 };
	struct orders_err oerr;
	struct queue_ticket t;
	cJSON *item, *j;
	char code[16], *s;
	int perr;

	assert_non_null(ord);
	item = cJSON_Parse("{\"type\": \"order.dispatch\", \"item_id\": \"d-1\", \"number\": "
			   "\"SZ2023000042\", \"channel\": \"phone\", \"category\": "
			   "\"complaint\", \"field\": \"public_service\", \"title\": \"路灯坏了\", "
			   "\"content\": \"小区门口的路灯坏了\", \"urgency\": \"normal\", "
			   "\"complexity\": \"complex\", \"dispatch_ms\": 1699837200000, "
			   "\"contact\": {\"name\": \"张三丰\", \"phone\": \"13812345678\"}}");
	assert_non_null(item);
	assert_int_equal(orders_apply_city(f->o, NULL, item, &oerr), 0);
	cJSON_Delete(item);
	assert_int_equal(orders_find(f->o, "SZ2023000042", ord), 0);
	snprintf(code, sizeof(code), "%s", ord->lookup_code);
	assert_int_equal(strlen(code), 8);

	/* The lookup finds the order (after no request has its code): no personal data. */
	assert_int_equal(requests_public_lookup(f->r, code, &j), 0);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "kind")), "order");
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "can_rate")));
	s = cJSON_PrintUnformatted(j);
	assert_null(strstr(s, "13812345678"));
	assert_null(strstr(s, "5678"));
	assert_null(strstr(s, NAME));
	free(s);
	cJSON_Delete(j);
	/* Not yet replied: not ratable. */
	assert_int_equal(rate(f, NULL, code, 4, NULL), -EPROTO);
	assert_int_equal(rate(f, "order", code, 4, NULL), -EPROTO);

	/* A citizen comes about it: queued to window 3 by the city's order number. */
	assert_int_equal(requests_queue_to_window(f->r, &clerk, "SZ2023000042", 3, 0, &t, &perr),
			 0);
	assert_non_null(strstr(t.note, "SZ2023000042"));
	assert_int_equal(t.target_window, 3);
	assert_int_equal(requests_queue_to_window(f->r, &clerk, code, 3, 0, &t, &perr), 0);

	fake_clock_advance(&f->d.clk.clock, 60 * MIN);
	assert_int_equal(orders_sign(f->o, &staff, ord->id, &oerr), 0);
	assert_int_equal(orders_assign(f->o, &staff, ord->id, &a, &oerr), 0);
	assert_int_equal(orders_draft_reply(f->o, &staff, ord->id, "已修复。", &oerr), 0);
	assert_int_equal(orders_sign_off(f->o, &sup, ord->id, &oerr), 0);
	assert_int_equal(requests_public_lookup(f->r, code, &j), 0);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "can_rate")));
	cJSON_Delete(j);
	assert_int_equal(rate(f, "order", code, 2, "太慢"), 0);
	assert_int_equal(rate(f, NULL, code, 5, NULL), -EEXIST);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM ratings WHERE target_kind = 'order' AND "
				    "target_ref = 'SZ2023000042' AND grade = 2"),
			 1);
	assert_int_equal(requests_public_lookup(f->r, code, &j), 0);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "rated")));
	cJSON_Delete(j);
	free(ord);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_similarity),
		cmocka_unit_test(test_not_accepted_table),
		cmocka_unit_test_setup_teardown(test_file_and_receipt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hidden_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_contact_views, setup, teardown),
		cmocka_unit_test_setup_teardown(test_print_failure_still_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_validation_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transitions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_repeat_detection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookup_without_personal_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ratings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_to_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_orders_lookup_and_rating, setup_orders,
						teardown_orders),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
