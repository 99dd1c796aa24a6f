/*
 * Items from the city (docs/orders.md, "City items"): dispatch and
 * re-dispatch, return and extension decisions, visit results, urging
 * notices, recall; and `hotline-edge admin city-event`, which feeds them
 * from a file until the sync worker does.
 *
 * Decisions a reader needs: an item is first validated whole (every key
 * known, every field of the right type, length, UTF-8 and range) before
 * anything is written, so a bad item stores nothing; then it is applied
 * under a SAVEPOINT (inside the caller's transaction when the sync worker
 * passes its own connection, else in one of ours) together with its
 * item_id in city_items_applied, which makes a repeat harmless (1). An
 * item that is well formed but does not fit the order's state (a visit
 * result for an order not replied, say) is not silently dropped: it is
 * recorded as a conflict on the order for staff to see, the item counts as
 * applied, and the caller gets -EPROTO.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw/admin.h"
#include "fw/audit.h"
#include "fw/log.h"
#include "fw/pii.h"
#include "fw/store.h"
#include "orders_internal.h"

#define ITEM_ID_MAX 65
/* Times the city may send: 2000-01-01 .. 2100-01-01 (ms). */
#define MS_MIN 946684800000LL
#define MS_MAX 4102444800000LL

enum item_type {
	IT_DISPATCH = 0,
	IT_RETURN_DECISION,
	IT_EXTENSION_DECISION,
	IT_VISIT_RESULT,
	IT_NOTICE,
	IT_RECALL,
	IT_N
};

static const char *const type_names[IT_N] = {
	"order.dispatch",     "order.return_decision", "order.extension_decision",
	"order.visit_result", "order.notice",	       "order.recall",
};

/* Keys each type accepts (besides type, item_id, number). */
static const char *const keys_dispatch[] = { "channel",	      "category",    "field",	 "code",
					     "title",	      "content",     "location", "urgency",
					     "complexity",    "dispatch_ms", "due_ms",	 "contact",
					     "hide_identity", "repeat_of",   NULL };
static const char *const keys_return[] = { "decision", "reason", NULL };
static const char *const keys_extension[] = { "decision", "due_date", "reason", NULL };
static const char *const keys_visit[] = { "result", "reason", "due_ms", NULL };
static const char *const keys_notice[] = { "kind", "text", "issued_by", "reply_by_ms", NULL };
static const char *const keys_recall[] = { "reason", NULL };
static const char *const *const type_keys[IT_N] = {
	keys_dispatch, keys_return, keys_extension, keys_visit, keys_notice, keys_recall,
};
static const char *const contact_keys[] = {
	"name", "phone", "id_number", "address", "contact", NULL
};

/* A validated item. Strings point into the cJSON tree. */
struct item {
	enum item_type type;
	const char *item_id;
	const char *number;
	/* dispatch */
	int channel, category, field, urgency, complexity;
	const char *code, *title, *content, *location, *repeat_of;
	int64_t dispatch_ms, due_ms;
	bool has_contact, hide_identity;
	struct pii_contact contact;
	/* decisions */
	bool approved;
	workcal_day_t due_day;
	bool has_due_day;
	const char *reason;
	enum order_visit visit;
	/* notice */
	const char *kind, *text, *issued_by;
	int64_t reply_by_ms;
};

static int fail(struct orders_err *err, const char *en, const char *zh)
{
	orders_set_err(err, en, zh);
	return -EINVAL;
}

static int fail_field(struct orders_err *err, const char *key)
{
	char en[ORDER_REASON_MAX], zh[ORDER_REASON_MAX];

	snprintf(en, sizeof(en), "the item's field \"%.40s\" is missing or not valid", key);
	snprintf(zh, sizeof(zh), "事项字段“%.40s”缺失或无效", key);
	orders_set_err(err, en, zh);
	return -EINVAL;
}

static bool key_listed(const char *const *keys, const char *k)
{
	for (int i = 0; keys[i] != NULL; i++) {
		if (strcmp(keys[i], k) == 0) {
			return true;
		}
	}
	return false;
}

static const cJSON *get(const cJSON *obj, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

/* A string field: required or optional (absent: def), checked. */
static int get_text(const cJSON *obj, const char *key, bool required, size_t cap, bool multiline,
		    const char *def, const char **out, struct orders_err *err)
{
	const cJSON *v = get(obj, key);

	if (v == NULL && !required) {
		*out = def;
		return 0;
	}
	if (!cJSON_IsString(v) || !orders_text_ok(v->valuestring, cap, required, multiline)) {
		return fail_field(err, key);
	}
	*out = v->valuestring;
	return 0;
}

static int get_enum(const cJSON *obj, const char *key, bool required, int def,
		    int (*parse)(const char *), int *out, struct orders_err *err)
{
	const cJSON *v = get(obj, key);
	int r;

	if (v == NULL && !required) {
		*out = def;
		return 0;
	}
	if (!cJSON_IsString(v) || (r = parse(v->valuestring)) < 0) {
		return fail_field(err, key);
	}
	*out = r;
	return 0;
}

/* Milliseconds as a JSON integer in the accepted range. */
static int get_ms(const cJSON *obj, const char *key, bool required, int64_t *out,
		  struct orders_err *err)
{
	const cJSON *v = get(obj, key);
	double d;

	*out = 0;
	if (v == NULL && !required) {
		return 0;
	}
	if (!cJSON_IsNumber(v)) {
		return fail_field(err, key);
	}
	d = v->valuedouble;
	if (!(d >= (double)MS_MIN && d <= (double)MS_MAX) || d != (double)(int64_t)d) {
		return fail_field(err, key);
	}
	*out = (int64_t)d;
	return 0;
}

static int get_contact(const cJSON *c, struct item *it, struct orders_err *err)
{
	static const struct {
		const char *key;
		enum pii_field f;
		size_t off, cap;
	} fields[] = {
		{ "name", PII_NAME, offsetof(struct pii_contact, name), PII_NAME_MAX },
		{ "phone", PII_PHONE, offsetof(struct pii_contact, phone), PII_PHONE_MAX },
		{ "id_number", PII_ID_NUMBER, offsetof(struct pii_contact, id_number),
		  PII_ID_NUMBER_MAX },
		{ "address", PII_ADDRESS, offsetof(struct pii_contact, address), PII_ADDRESS_MAX },
		{ "contact", PII_CONTACT, offsetof(struct pii_contact, contact), PII_CONTACT_MAX },
	};
	const cJSON *e;

	if (!cJSON_IsObject(c)) {
		return fail_field(err, "contact");
	}
	cJSON_ArrayForEach(e, c)
	{
		if (e->string == NULL || !key_listed(contact_keys, e->string)) {
			return fail_field(err, "contact");
		}
	}
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const cJSON *v = get(c, fields[i].key);
		char masked[PII_ADDRESS_MAX * 2];
		char *dst = (char *)&it->contact + fields[i].off;

		if (v == NULL) {
			continue;
		}
		if (!cJSON_IsString(v) || strlen(v->valuestring) >= fields[i].cap ||
		    !orders_text_ok(v->valuestring, fields[i].cap, false, false) ||
		    pii_mask(fields[i].f, v->valuestring, masked, sizeof(masked)) < 0) {
			char key[48];

			snprintf(key, sizeof(key), "contact.%s", fields[i].key);
			return fail_field(err, key);
		}
		memcpy(dst, v->valuestring, strlen(v->valuestring) + 1);
	}
	it->has_contact = true;
	return 0;
}

/* Validate the whole item. @retval 0, -EINVAL (err) */
static int parse_item(const cJSON *j, struct item *it, struct orders_err *err)
{
	const cJSON *e, *v;
	int t, ret;

	memset(it, 0, sizeof(*it));
	if (!cJSON_IsObject(j)) {
		return fail(err, "a city item must be a JSON object", "市级事项须为JSON对象");
	}
	v = get(j, "type");
	if (!cJSON_IsString(v)) {
		return fail_field(err, "type");
	}
	for (t = 0; t < IT_N && strcmp(type_names[t], v->valuestring) != 0; t++) {
	}
	if (t == IT_N) {
		return fail(err, "unknown city item type", "未知的市级事项类型");
	}
	it->type = (enum item_type)t;
	cJSON_ArrayForEach(e, j)
	{
		if (e->string == NULL ||
		    (strcmp(e->string, "type") != 0 && strcmp(e->string, "item_id") != 0 &&
		     strcmp(e->string, "number") != 0 && !key_listed(type_keys[t], e->string))) {
			char en[ORDER_REASON_MAX], zh[ORDER_REASON_MAX];

			snprintf(en, sizeof(en), "the item has an unknown field \"%.40s\"",
				 e->string != NULL ? e->string : "");
			snprintf(zh, sizeof(zh), "事项含有未知字段“%.40s”",
				 e->string != NULL ? e->string : "");
			orders_set_err(err, en, zh);
			return -EINVAL;
		}
	}
	v = get(j, "item_id");
	if (!cJSON_IsString(v) || !orders_code_ok(v->valuestring, ITEM_ID_MAX)) {
		return fail_field(err, "item_id");
	}
	it->item_id = v->valuestring;
	v = get(j, "number");
	if (!cJSON_IsString(v) || !orders_code_ok(v->valuestring, ORDER_NO_MAX)) {
		return fail_field(err, "number");
	}
	it->number = v->valuestring;

	switch (it->type) {
	case IT_DISPATCH:
		if ((ret = get_enum(j, "channel", true, 0, order_channel_parse, &it->channel,
				    err)) < 0 ||
		    (ret = get_enum(j, "category", true, 0, order_category_parse, &it->category,
				    err)) < 0 ||
		    (ret = get_enum(j, "field", true, 0, order_field_parse, &it->field, err)) < 0 ||
		    (ret = get_enum(j, "urgency", false, ORDER_URG_NORMAL, order_urgency_parse,
				    &it->urgency, err)) < 0 ||
		    (ret = get_enum(j, "complexity", false, ORDER_CPX_SIMPLE,
				    order_complexity_parse, &it->complexity, err)) < 0 ||
		    (ret = get_text(j, "title", true, ORDER_TITLE_MAX, false, "", &it->title,
				    err)) < 0 ||
		    (ret = get_text(j, "content", true, ORDER_CONTENT_MAX, true, "", &it->content,
				    err)) < 0 ||
		    (ret = get_text(j, "location", false, ORDER_LOCATION_MAX, false, "",
				    &it->location, err)) < 0 ||
		    (ret = get_ms(j, "dispatch_ms", true, &it->dispatch_ms, err)) < 0 ||
		    (ret = get_ms(j, "due_ms", false, &it->due_ms, err)) < 0) {
			return ret;
		}
		v = get(j, "code");
		if (v != NULL &&
		    (!cJSON_IsString(v) || (v->valuestring[0] != '\0' &&
					    !orders_code_ok(v->valuestring, ORDER_CODE_MAX)))) {
			return fail_field(err, "code");
		}
		it->code = v != NULL ? v->valuestring : "";
		v = get(j, "repeat_of");
		if (v != NULL &&
		    (!cJSON_IsString(v) || (v->valuestring[0] != '\0' &&
					    !orders_code_ok(v->valuestring, ORDER_NO_MAX)))) {
			return fail_field(err, "repeat_of");
		}
		it->repeat_of = v != NULL ? v->valuestring : "";
		v = get(j, "hide_identity");
		if (v != NULL && !cJSON_IsBool(v)) {
			return fail_field(err, "hide_identity");
		}
		it->hide_identity = cJSON_IsTrue(v);
		if (it->due_ms != 0 && it->due_ms <= it->dispatch_ms) {
			return fail(err, "the item's due time is before its dispatch time",
				    "事项的办理时限早于派单时间");
		}
		v = get(j, "contact");
		if (v != NULL && (ret = get_contact(v, it, err)) < 0) {
			return ret;
		}
		break;
	case IT_RETURN_DECISION:
	case IT_EXTENSION_DECISION:
		v = get(j, "decision");
		if (!cJSON_IsString(v) || (strcmp(v->valuestring, "approved") != 0 &&
					   strcmp(v->valuestring, "rejected") != 0)) {
			return fail_field(err, "decision");
		}
		it->approved = strcmp(v->valuestring, "approved") == 0;
		if ((ret = get_text(j, "reason", !it->approved, ORDER_TEXT_MAX, true, "",
				    &it->reason, err)) < 0) {
			return ret;
		}
		if (it->type == IT_EXTENSION_DECISION) {
			v = get(j, "due_date");
			if (v != NULL) {
				if (!it->approved || !cJSON_IsString(v) ||
				    workcal_parse_date(v->valuestring, &it->due_day) < 0) {
					return fail_field(err, "due_date");
				}
				it->has_due_day = true;
			}
		}
		break;
	case IT_VISIT_RESULT:
		v = get(j, "result");
		if (!cJSON_IsString(v)) {
			return fail_field(err, "result");
		}
		if (strcmp(v->valuestring, "satisfied") == 0) {
			it->visit = ORDER_VISIT_SATISFIED;
		} else if (strcmp(v->valuestring, "lawful") == 0) {
			it->visit = ORDER_VISIT_LAWFUL;
		} else if (strcmp(v->valuestring, "unsatisfied") == 0) {
			it->visit = ORDER_VISIT_UNSATISFIED;
		} else {
			return fail_field(err, "result");
		}
		if ((ret = get_text(j, "reason", it->visit == ORDER_VISIT_UNSATISFIED,
				    ORDER_TEXT_MAX, true, "", &it->reason, err)) < 0 ||
		    (ret = get_ms(j, "due_ms", false, &it->due_ms, err)) < 0) {
			return ret;
		}
		if (it->due_ms != 0 && it->visit != ORDER_VISIT_UNSATISFIED) {
			return fail_field(err, "due_ms");
		}
		break;
	case IT_NOTICE:
		v = get(j, "kind");
		if (!cJSON_IsString(v) || (strcmp(v->valuestring, "urge") != 0 &&
					   strcmp(v->valuestring, "supervise") != 0)) {
			return fail_field(err, "kind");
		}
		it->kind = v->valuestring;
		if ((ret = get_text(j, "text", true, ORDER_TEXT_MAX, true, "", &it->text, err)) <
			    0 ||
		    (ret = get_text(j, "issued_by", false, ORDER_NAME_MAX, false, "",
				    &it->issued_by, err)) < 0 ||
		    (ret = get_ms(j, "reply_by_ms", false, &it->reply_by_ms, err)) < 0) {
			return ret;
		}
		break;
	case IT_RECALL:
		if ((ret = get_text(j, "reason", true, ORDER_TEXT_MAX, true, "", &it->reason,
				    err)) < 0) {
			return ret;
		}
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

static const struct orders_actor city_actor = { .user_id = "city", .role = "city" };

/* -EPROTO for an item that does not fit: a conflict row on the order. */
static int misfit(struct orders *o, sqlite3 *db, struct order *ord, const struct item *it,
		  const char *en, const char *zh, struct orders_err *err)
{
	char detail[512];
	int ret;

	snprintf(detail, sizeof(detail), "%s arrived while the order was %s: %s",
		 type_names[it->type], order_state_name(ord->state), en);
	ret = orders_add_conflict(o, db, ord, it->item_id, "not_applicable", detail);
	if (ret == 0) {
		ret = orders_write_step(
			o, db, ord,
			&(struct orders_step){ .who = &city_actor,
					       .action = "order.city_conflict",
					       .from = ord->state,
					       .note = detail,
					       .event = "order.conflict",
					       .payload = NULL,
					       .audit_detail = type_names[it->type] });
	}
	orders_set_err(err, en, zh);
	return ret < 0 ? ret : -EPROTO;
}

/* Whether the county acted on the order in ways the city has not yet
 * acknowledged (its events are still in the outbox). */
static bool county_acted_offline(sqlite3 *db, const struct order *ord)
{
	sqlite3_stmt *st;
	bool found = false;

	if (store_prepare(
		    db,
		    "SELECT 1 FROM order_history h JOIN outbox b ON b.seq = h.outbox_seq WHERE "
		    "h.order_id = ?1 AND h.role IN ('staff', 'supervisor') AND b.acked_ms IS "
		    "NULL LIMIT 1",
		    &st) < 0) {
		return false;
	}
	sqlite3_bind_int64(st, 1, ord->id);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

static void fill_from_dispatch(struct order *ord, const struct item *it)
{
	ord->channel = (enum order_channel)it->channel;
	ord->category = (enum order_category)it->category;
	ord->field = (enum order_field)it->field;
	ord->urgency = (enum order_urgency)it->urgency;
	ord->complexity = (enum order_complexity)it->complexity;
	snprintf(ord->code, sizeof(ord->code), "%s", it->code);
	snprintf(ord->title, sizeof(ord->title), "%s", it->title);
	snprintf(ord->content, sizeof(ord->content), "%s", it->content);
	snprintf(ord->location, sizeof(ord->location), "%s", it->location);
	if (it->repeat_of[0] != '\0' && strcmp(it->repeat_of, it->number) != 0) {
		snprintf(ord->repeat_of, sizeof(ord->repeat_of), "%s", it->repeat_of);
	}
}

/* Start the order over as dispatched (new or re-dispatched). */
static int start_dispatched(struct orders *o, sqlite3 *db, struct order *ord, const struct item *it)
{
	int ret;

	fill_from_dispatch(ord, it);
	ord->state = ORDER_PENDING;
	ord->dispatch_ms = it->dispatch_ms;
	ord->sign_due_ms = orders_sign_due(o, it->dispatch_ms);
	ord->received_ms = 0;
	ord->due_ms = it->due_ms;
	ord->city_due = it->due_ms > 0;
	ord->replied_ms = ord->closed_ms = 0;
	ord->ext_state = ORDER_EXT_NONE;
	ord->ext_due_ms = ord->pause_from_ms = 0;
	ord->ext_reason[0] = ord->ext_basis[0] = '\0';
	ord->return_reason[0] = ord->return_basis[0] = '\0';
	ord->visit = ORDER_VISIT_NONE;
	ord->printed = false;
	ord->printed_ms = 0;
	if (it->has_contact) {
		ret = pii_contact_create(db, &it->contact, it->hide_identity, &ord->contact_id);
		if (ret < 0) {
			return ret;
		}
	}
	ord->hide_identity = it->hide_identity;
	return 0;
}

/* The step of the city's decision on a return or an extension: the action is
 * also the event; the payload carries the decision and the due time now. */
static int write_decision_step(struct orders *o, sqlite3 *db, const struct item *it,
			       struct order *ord, const char *action, enum order_state from,
			       bool is_public)
{
	cJSON *p = cJSON_CreateObject();

	cJSON_AddStringToObject(p, "decision", it->approved ? "approved" : "rejected");
	cJSON_AddNumberToObject(p, "due_ms", (double)ord->due_ms);
	cJSON_AddStringToObject(p, "item_id", it->item_id);
	return orders_write_step(o, db, ord,
				 &(struct orders_step){ .who = &city_actor,
							.action = action,
							.from = from,
							.is_public = is_public,
							.note = it->reason,
							.event = action,
							.payload = p });
}

/* The step of a (re)dispatch: public, "order.delivered", with the sign-for deadline. */
static int write_dispatch_step(struct orders *o, sqlite3 *db, const struct item *it,
			       struct order *ord, const char *action, enum order_state from)
{
	cJSON *p = cJSON_CreateObject();

	cJSON_AddNumberToObject(p, "sign_due_ms", (double)ord->sign_due_ms);
	cJSON_AddStringToObject(p, "item_id", it->item_id);
	return orders_write_step(o, db, ord,
				 &(struct orders_step){ .who = &city_actor,
							.action = action,
							.from = from,
							.is_public = true,
							.event = "order.delivered",
							.payload = p });
}

static int apply_dispatch(struct orders *o, sqlite3 *db, const struct item *it, struct order *ord,
			  bool known, struct orders_err *err)
{
	enum order_state from = ord->state;
	int ret;

	if (!known) {
		memset(ord, 0, sizeof(*ord));
		snprintf(ord->number, sizeof(ord->number), "%s", it->number);
		ret = start_dispatched(o, db, ord, it);
		if (ret == 0) {
			ret = orders_insert(o, db, ord);
		}
		if (ret < 0) {
			return ret;
		}
		return write_dispatch_step(o, db, it, ord, "order.dispatch",
					   (enum order_state) - 1);
	}
	if (ord->state == ORDER_RETURNED || ord->state == ORDER_RECALLED) {
		ret = start_dispatched(o, db, ord, it);
		if (ret == 0) {
			ord->lead_dept[0] = ord->handler[0] = '\0';
			ord->reply[0] = ord->drafted_by[0] = ord->signed_by[0] = '\0';
			ord->nco = 0;
			ret = orders_save_co(db, ord);
		}
		if (ret < 0) {
			return ret;
		}
		return write_dispatch_step(o, db, it, ord, "order.redispatch", from);
	}
	/* a live order: take the city's text, keep the county's work, tell staff */
	fill_from_dispatch(ord, it);
	if (it->due_ms > 0) {
		ord->due_ms = it->due_ms;
		ord->city_due = true;
	}
	ret = orders_add_conflict(
		o, db, ord, it->item_id, "redispatch_live",
		"the city dispatched this order again while it was being handled; "
		"its content was updated");
	if (ret < 0) {
		return ret;
	}
	(void)err;
	return orders_write_step(o, db, ord,
				 &(struct orders_step){ .who = &city_actor,
							.action = "order.redispatch_update",
							.from = from,
							.event = "order.conflict",
							.payload = NULL });
}

static int apply_return(struct orders *o, sqlite3 *db, const struct item *it, struct order *ord,
			struct orders_err *err)
{
	enum order_state from = ord->state;
	const struct workcal *c;
	int64_t now = orders_now(o);

	if (ord->state != ORDER_RETURN_PENDING) {
		return misfit(o, db, ord, it, "no return request of this order is waiting",
			      "该工单没有待审核的退回申请", err);
	}
	if (ord->pause_from_ms > 0) {
		if (!it->approved) {
			c = orders_cal_get(o);
			ord->due_ms = deadline_after_pause(c, ord->due_ms, ord->pause_from_ms, now,
							   o->utc_offset_min);
			orders_cal_put(o);
		}
		ord->pause_from_ms = 0;
	}
	if (it->approved) {
		ord->state = ORDER_RETURNED;
	} else {
		ord->state = ord->lead_dept[0] != '\0' ? ORDER_HANDLING : ORDER_RECEIVED;
		snprintf(ord->city_reason, sizeof(ord->city_reason), "%s", it->reason);
	}
	return write_decision_step(o, db, it, ord,
				   it->approved ? "order.returned" : "order.return_rejected", from,
				   true);
}

static int apply_extension(struct orders *o, sqlite3 *db, const struct item *it, struct order *ord,
			   struct orders_err *err)
{
	int64_t now = orders_now(o);
	const struct workcal *c;

	if (ord->ext_state != ORDER_EXT_PENDING || !order_state_open(ord->state)) {
		return misfit(o, db, ord, it, "no extension request of this order is waiting",
			      "该工单没有待审核的延期申请", err);
	}
	if (it->approved) {
		ord->ext_state = ORDER_EXT_APPROVED;
		if (it->has_due_day) {
			ord->ext_due_ms = workcal_end_of_day_ms(it->due_day, o->utc_offset_min);
		}
		ord->due_ms = ord->ext_due_ms;
		ord->city_due = false;
		ord->pause_from_ms = ord->state == ORDER_RETURN_PENDING ? ord->pause_from_ms : 0;
	} else {
		ord->ext_state = ORDER_EXT_REJECTED;
		snprintf(ord->city_reason, sizeof(ord->city_reason), "%s", it->reason);
		if (ord->pause_from_ms > 0 && ord->state != ORDER_RETURN_PENDING) {
			c = orders_cal_get(o);
			ord->due_ms = deadline_after_pause(c, ord->due_ms, ord->pause_from_ms, now,
							   o->utc_offset_min);
			orders_cal_put(o);
			ord->pause_from_ms = 0;
		}
	}
	return write_decision_step(o, db, it, ord,
				   it->approved ? "order.extension_approved"
						: "order.extension_rejected",
				   ord->state, it->approved);
}

static int apply_visit(struct orders *o, sqlite3 *db, const struct item *it, struct order *ord,
		       struct orders_err *err)
{
	enum order_state from = ord->state;
	int64_t now = orders_now(o);
	cJSON *p;
	int ret;

	if (ord->state != ORDER_REPLIED) {
		return misfit(o, db, ord, it, "the order has not been replied to",
			      "该工单尚未答复，不能回访", err);
	}
	ord->visit = it->visit;
	p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "result", order_visit_name(it->visit));
	cJSON_AddStringToObject(p, "item_id", it->item_id);
	if (it->visit != ORDER_VISIT_UNSATISFIED) {
		ord->state = ORDER_CLOSED;
		ord->closed_ms = now;
		if (ord->contact_id > 0) {
			ret = pii_contact_mark_closed(db, ord->contact_id);
			if (ret < 0 && ret != -ENOENT) {
				cJSON_Delete(p);
				return ret;
			}
		}
		return orders_write_step(o, db, ord,
					 &(struct orders_step){ .who = &city_actor,
								.action = "order.close",
								.from = from,
								.is_public = true,
								.note = it->reason,
								.event = "order.closed",
								.payload = p });
	}
	/* 发回重办: back to handling with the city's reason and a new clock */
	ord->state = ORDER_HANDLING;
	ord->redo_count++;
	snprintf(ord->city_reason, sizeof(ord->city_reason), "%s", it->reason);
	ord->signed_by[0] = '\0';
	ord->ext_state = ORDER_EXT_NONE;
	ord->ext_due_ms = 0;
	ord->pause_from_ms = 0;
	if (it->due_ms > 0) {
		ord->due_ms = it->due_ms;
		ord->city_due = true;
	} else {
		ord->city_due = false;
		ord->due_ms = orders_rule_due(o, ord, now);
	}
	cJSON_AddNumberToObject(p, "due_ms", (double)ord->due_ms);
	return orders_write_step(o, db, ord,
				 &(struct orders_step){ .who = &city_actor,
							.action = "order.redo",
							.from = from,
							.is_public = true,
							.note = it->reason,
							.event = "order.reopened",
							.payload = p });
}

static int apply_notice(struct orders *o, sqlite3 *db, const struct item *it, struct order *ord)
{
	sqlite3_stmt *st;
	cJSON *p;
	int ret;

	ret = store_prepare(db,
			    "INSERT INTO order_notices (order_id, kind, text, issued_by, at_ms, "
			    "reply_by_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
			    &st);
	if (ret < 0) {
		return ret;
	}
	sqlite3_bind_int64(st, 1, ord->id);
	sqlite3_bind_text(st, 2, it->kind, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, it->text, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, it->issued_by, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, orders_now(o));
	sqlite3_bind_int64(st, 6, it->reply_by_ms);
	ret = store_step_done(db, st, "storing an urging notice");
	if (ret < 0) {
		return ret;
	}
	ord->urged++;
	p = cJSON_CreateObject();
	cJSON_AddNumberToObject(p, "notice_id", (double)sqlite3_last_insert_rowid(db));
	cJSON_AddStringToObject(p, "kind", it->kind);
	cJSON_AddStringToObject(p, "item_id", it->item_id);
	return orders_write_step(o, db, ord,
				 &(struct orders_step){ .who = &city_actor,
							.action = "order.notice",
							.from = ord->state,
							.note = it->text,
							.event = "order.notice_received",
							.payload = p });
}

static int apply_recall(struct orders *o, sqlite3 *db, const struct item *it, struct order *ord,
			struct orders_err *err)
{
	enum order_state from = ord->state;
	cJSON *p;
	int ret;

	if (ord->state == ORDER_CLOSED || ord->state == ORDER_RETURNED ||
	    ord->state == ORDER_RECALLED) {
		return misfit(o, db, ord, it, "the order is no longer open and cannot be recalled",
			      "该工单已结束，不能撤回", err);
	}
	if (county_acted_offline(db, ord)) {
		char detail[256];

		snprintf(detail, sizeof(detail),
			 "the city recalled the order while it was %s here; the county's last "
			 "actions had not reached the city",
			 order_state_name(from));
		ret = orders_add_conflict(o, db, ord, it->item_id, "recall_after_action", detail);
		if (ret < 0) {
			return ret;
		}
	}
	ord->state = ORDER_RECALLED;
	ord->pause_from_ms = 0;
	snprintf(ord->city_reason, sizeof(ord->city_reason), "%s", it->reason);
	p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "item_id", it->item_id);
	return orders_write_step(o, db, ord,
				 &(struct orders_step){ .who = &city_actor,
							.action = "order.recall",
							.from = from,
							.is_public = true,
							.note = it->reason,
							.event = "order.recalled",
							.payload = p });
}

static int applied_before(sqlite3 *db, const char *item_id, bool *seen)
{
	sqlite3_stmt *st;
	int ret = store_prepare(db, "SELECT 1 FROM city_items_applied WHERE item_id = ?1", &st);
	int rc;

	if (ret < 0) {
		return ret;
	}
	sqlite3_bind_text(st, 1, item_id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	*seen = rc == SQLITE_ROW;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_err(db, rc, "reading city items");
}

static int record_applied(struct orders *o, sqlite3 *db, const struct item *it, const char *result)
{
	sqlite3_stmt *st;
	int ret = store_prepare(db,
				"INSERT INTO city_items_applied (item_id, type, order_number, "
				"applied_ms, result) VALUES (?1, ?2, ?3, ?4, ?5)",
				&st);

	if (ret < 0) {
		return ret;
	}
	sqlite3_bind_text(st, 1, it->item_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, type_names[it->type], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, it->number, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, orders_now(o));
	sqlite3_bind_text(st, 5, result, -1, SQLITE_STATIC);
	return store_step_done(db, st, "recording a city item");
}

/* Apply a validated item on db, inside a transaction (lock held). */
static int apply_item(struct orders *o, sqlite3 *db, const struct item *it, struct orders_err *err)
{
	struct order *ord;
	bool seen = false, known;
	int ret;

	ret = applied_before(db, it->item_id, &seen);
	if (ret < 0 || seen) {
		return ret < 0 ? ret : 1;
	}
	ord = malloc(sizeof(*ord));
	if (ord == NULL) {
		return -ENOMEM;
	}
	ret = orders_load_number(db, it->number, ord);
	known = ret == 0;
	if (ret == -ENOENT && it->type != IT_DISPATCH) {
		orders_set_err(err, "no order with that number is on this device",
			       "本机没有该编号的工单");
		free(ord);
		return -ENOENT;
	}
	if (ret < 0 && ret != -ENOENT) {
		free(ord);
		return ret;
	}
	switch (it->type) {
	case IT_DISPATCH:
		ret = apply_dispatch(o, db, it, ord, known, err);
		break;
	case IT_RETURN_DECISION:
		ret = apply_return(o, db, it, ord, err);
		break;
	case IT_EXTENSION_DECISION:
		ret = apply_extension(o, db, it, ord, err);
		break;
	case IT_VISIT_RESULT:
		ret = apply_visit(o, db, it, ord, err);
		break;
	case IT_NOTICE:
		ret = apply_notice(o, db, it, ord);
		break;
	case IT_RECALL:
		ret = apply_recall(o, db, it, ord, err);
		break;
	default:
		ret = -EINVAL;
	}
	free(ord);
	if (ret == 0 || ret == -EPROTO) {
		int r2 = record_applied(o, db, it, ret == 0 ? "applied" : "conflict");

		if (r2 < 0) {
			return r2;
		}
	}
	return ret;
}

int orders_apply_city(struct orders *o, sqlite3 *db, const cJSON *item, struct orders_err *err)
{
	struct item *it;
	bool own = db == NULL;
	int ret, r2;

	if (o == NULL) {
		return -EINVAL;
	}
	it = malloc(sizeof(*it));
	if (it == NULL) {
		return -ENOMEM;
	}
	ret = parse_item(item, it, err);
	if (ret < 0) {
		goto out;
	}
	pthread_mutex_lock(&o->lock);
	if (own) {
		db = o->db;
		ret = store_begin(db);
	} else if (sqlite3_get_autocommit(db)) {
		ret = -EPERM; /* the caller promised its transaction */
	} else {
		ret = store_exec(db, "SAVEPOINT city_item");
	}
	if (ret < 0) {
		pthread_mutex_unlock(&o->lock);
		goto out;
	}
	ret = apply_item(o, db, it, err);
	/* -EPROTO keeps its conflict row: commit it */
	if (ret >= 0 || ret == -EPROTO) {
		r2 = own ? store_commit(db) : store_exec(db, "RELEASE city_item");
		if (r2 < 0) {
			ret = r2;
		}
	} else if (own) {
		store_rollback(db);
	} else {
		store_exec(db, "ROLLBACK TO city_item; RELEASE city_item");
	}
	pthread_mutex_unlock(&o->lock);
	if (ret < 0 && ret != -EPROTO && ret != -ENOENT && ret != -EINVAL) {
		orders_set_err(err, "the item could not be stored; it will be tried again",
			       "事项无法保存，将重试");
	}
	if (ret >= 0 || ret == -EPROTO) {
		log_info(MOD, "city item %s (%s, order %s): %s", it->item_id, type_names[it->type],
			 it->number,
			 ret == 0   ? "applied"
			 : ret == 1 ? "already applied"
				    : "conflict");
	}
out:
	pii_contact_clear(&it->contact);
	free(it);
	return ret;
}

/* ---- hotline-edge admin city-event [--config FILE] FILE ---- */

static int apply_one(struct admin_ctx *ctx, struct orders *o, const cJSON *item, int idx)
{
	struct orders_err err = { "", "" };
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "item_id");
	const cJSON *ty = cJSON_GetObjectItemCaseSensitive(item, "type");
	int ret = orders_apply_city(o, NULL, item, &err);
	const char *what;

	switch (ret) {
	case 0:
		what = "applied";
		break;
	case 1:
		what = "already applied (nothing changed)";
		break;
	case -EPROTO:
		what = "does not fit the order's state; recorded as a conflict";
		break;
	default:
		what = "refused";
	}
	fprintf(ctx->out, "item %d (%s, %s): %s%s%s\n", idx + 1,
		cJSON_IsString(ty) ? ty->valuestring : "?",
		cJSON_IsString(id) ? id->valuestring : "?", what, err.en[0] != '\0' ? ": " : "",
		err.en);
	return ret;
}

static cJSON *read_items(struct admin_ctx *ctx, const char *path)
{
	cJSON *root = NULL;
	char *text = NULL;
	long len;
	FILE *f;

	f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(ctx->err, "cannot open %s: %s\n", path, strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && len <= 16 * 1024 * 1024 &&
	    fseek(f, 0, SEEK_SET) == 0 && (text = malloc((size_t)len + 1)) != NULL &&
	    fread(text, 1, (size_t)len, f) == (size_t)len) {
		text[len] = '\0';
		root = cJSON_ParseWithLength(text, (size_t)len);
	}
	fclose(f);
	free(text);
	if (root == NULL || (!cJSON_IsObject(root) && !cJSON_IsArray(root))) {
		fprintf(ctx->err,
			"%s is not a JSON object or array of city items (at most 16 MB)\n", path);
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

/* The deadline rules as the daemon builds them (feat_orders.c). */
static int load_rules(struct admin_ctx *ctx, const struct fw_config *cfg,
		      struct deadline_rules *rules)
{
	char en[WORKCAL_ERR_MAX], zh[WORKCAL_ERR_MAX], path[1400];
	char *text = NULL;
	long len = -1;
	FILE *f;
	int ret;

	deadline_preset(cfg->orders_deadline_preset, cfg->orders_count_from,
			cfg->orders_sign_for_days, rules);
	if (cfg->orders_rules_file[0] == '\0') {
		return 0;
	}
	if (cfg->orders_rules_file[0] == '/') {
		snprintf(path, sizeof(path), "%s", cfg->orders_rules_file);
	} else {
		snprintf(path, sizeof(path), "%s/%s", ctx->data_dir, cfg->orders_rules_file);
	}
	f = fopen(path, "rb");
	if (f != NULL) {
		if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && len <= 256 * 1024 &&
		    fseek(f, 0, SEEK_SET) == 0 && (text = malloc((size_t)len + 1)) != NULL &&
		    fread(text, 1, (size_t)len, f) != (size_t)len) {
			len = -1;
		}
		fclose(f);
	}
	if (text == NULL || len < 0) {
		free(text);
		fprintf(ctx->err, "cannot read the deadline rules file %s\n", path);
		return -EINVAL;
	}
	text[len] = '\0';
	ret = deadline_rules_parse(text, (size_t)len, rules, en, zh);
	free(text);
	if (ret < 0) {
		fprintf(ctx->err, "the deadline rules file %s is not valid: %s\n", path, en);
	}
	return ret;
}

int orders_cmd_city_event(struct admin_ctx *ctx, int argc, char **argv)
{
	char cerr[CONFIG_ERR_MAX];
	struct deadline_rules rules;
	struct orders_params p;
	struct fw_config *cfg;
	struct calstore *cal = NULL;
	struct orders *o = NULL;
	const char *file = NULL, *conf = NULL;
	bool pii_mine = false;
	cJSON *root;
	int ret, bad = 0;

	if (argc == 2) {
		file = argv[1];
	} else if (argc == 4 && strcmp(argv[1], "--config") == 0) {
		conf = argv[2];
		file = argv[3];
	} else {
		fprintf(ctx->err,
			"usage: hotline-edge admin city-event [--config FILE] ITEMS.json\n"
			"  ITEMS.json holds one city item (a JSON object) or an array of "
			"them (docs/orders.md, \"City items\").\n"
			"  --config: the daemon's configuration file, for its [orders] "
			"deadline settings.\n");
		return 2;
	}
	cfg = calloc(1, sizeof(*cfg));
	if (cfg == NULL) {
		return 1;
	}
	config_defaults(cfg);
	if (conf != NULL && config_load(cfg, conf, cerr) < 0) {
		fprintf(ctx->err, "%s\n", cerr);
		free(cfg);
		return 1;
	}
	root = read_items(ctx, file);
	if (root == NULL || load_rules(ctx, cfg, &rules) < 0) {
		cJSON_Delete(root);
		free(cfg);
		return 1;
	}
	if (!pii_ready()) {
		ret = pii_open(ctx->data_dir, ctx->db);
		pii_mine = ret == 0;
		if (ret < 0) {
			fprintf(ctx->err,
				"warning: the personal-data key is not available (%s); dispatches "
				"with a contact will be refused\n",
				strerror(-ret));
		}
	}
	ret = calstore_open(ctx->data_dir, NULL, &cal);
	if (ret == 0) {
		memset(&p, 0, sizeof(p));
		p.data_dir = ctx->data_dir;
		p.clock = ctx->clock;
		p.cal = cal;
		p.rules = &rules;
		p.utc_offset_min = cfg->queue_utc_offset_min;
		p.due_soon_days = cfg->orders_due_soon_days;
		p.attachment_max_kb = cfg->orders_attachment_max_kb;
		ret = orders_create(&p, &o);
	}
	free(cfg);
	if (ret < 0) {
		fprintf(ctx->err, "cannot open the orders in %s: %s\n", ctx->data_dir,
			strerror(-ret));
		cJSON_Delete(root);
		calstore_close(cal);
		if (pii_mine) {
			pii_close();
		}
		return 1;
	}
	if (cJSON_IsArray(root)) {
		const cJSON *it;
		int i = 0;

		cJSON_ArrayForEach(it, root)
		{
			if (apply_one(ctx, o, it, i++) < 0) {
				bad++;
			}
		}
	} else if (apply_one(ctx, o, root, 0) < 0) {
		bad++;
	}
	orders_destroy(o);
	calstore_close(cal);
	cJSON_Delete(root);
	if (pii_mine) {
		pii_close();
	}
	return bad > 0 ? 1 : 0;
}
