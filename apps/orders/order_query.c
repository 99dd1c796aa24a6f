/*
 * Reading work orders for the screens: one order with everything staff see
 * (history, notices, links, attachments, conflicts, the contact through
 * the view the caller's role allows, the actions allowed now), the list
 * with its filters and search, the home screen, the dashboard figures, the
 * citizen's lookup; and the two data tables, departments and
 * classification codes.
 *
 * The decision that keeps the list fast at 100,000 orders: every filter is
 * an index range. The deadline flags are ranges of due_key (see schema v7)
 * computed from one set of bounds per request (orders_bounds), which also
 * sets the rows' flags, so a row in "due today" always says due today.
 * Search uses the FTS5 trigram index for three characters and more, and a
 * LIKE scan below that (trigrams cannot match shorter text).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw/audit.h"
#include "fw/log.h"
#include "fw/pii.h"
#include "fw/rng.h"
#include "fw/store.h"
#include "orders_internal.h"

/* ---- built-in data for a fresh device ---- */

static const struct {
	const char *code, *zh, *en;
} default_depts[] = {
	{ "gov_office", "县政府办公室", "County Government Office" },
	{ "development", "县发展和改革局", "Development and Reform Bureau" },
	{ "market", "县市场监督管理局", "Market Supervision Bureau" },
	{ "housing", "县住房和城乡建设局", "Housing and Urban-Rural Development Bureau" },
	{ "hr_social", "县人力资源和社会保障局", "Human Resources and Social Security Bureau" },
	{ "environment", "县生态环境分局", "Ecology and Environment Sub-bureau" },
	{ "transport", "县交通运输局", "Transport Bureau" },
	{ "urban_mgmt", "县城市管理局", "Urban Management Bureau" },
	{ "education", "县教育局", "Education Bureau" },
	{ "health", "县卫生健康局", "Health Commission" },
	{ "civil_affairs", "县民政局", "Civil Affairs Bureau" },
	{ "natural_res", "县自然资源局", "Natural Resources Bureau" },
};

static const struct {
	const char *code, *name, *parent;
} default_codes[] = {
	{ "01", "城乡建设", "" }, { "0101", "市政设施", "01" }, { "0102", "物业管理", "01" },
	{ "02", "市场监管", "" }, { "0201", "食品安全", "02" }, { "0202", "消费维权", "02" },
	{ "03", "社会保障", "" }, { "0301", "社会保险", "03" }, { "0302", "劳动关系", "03" },
	{ "04", "生态环境", "" }, { "0401", "噪声污染", "04" }, { "0402", "大气污染", "04" },
	{ "05", "交通运输", "" }, { "06", "教育", "" },		{ "07", "卫生健康", "" },
	{ "99", "其他", "" },
};

static int count_rows(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int n = -EIO;

	if (store_prepare(db, sql, &st) < 0) {
		return -EIO;
	}
	if (sqlite3_step(st) == SQLITE_ROW) {
		n = sqlite3_column_int(st, 0);
	}
	sqlite3_finalize(st);
	return n;
}

/* One department, added or (same code) updated; in the caller's transaction. */
static int put_dept(struct orders *o, const char *code, const char *zh, const char *en, bool active,
		    int sort)
{
	sqlite3_stmt *st;
	int ret = store_prepare(o->db,
				"INSERT INTO departments (code, name_zh, name_en, active, sort) "
				"VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (code) DO UPDATE SET "
				"name_zh = excluded.name_zh, name_en = excluded.name_en, active = "
				"excluded.active, sort = excluded.sort",
				&st);

	if (ret < 0) {
		return ret;
	}
	sqlite3_bind_text(st, 1, code, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, zh, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, en, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 4, active);
	sqlite3_bind_int(st, 5, sort);
	return store_step_done(o->db, st, "storing a department");
}

/* One classification code; in the caller's transaction. */
static int put_code(struct orders *o, const char *code, const char *name, const char *parent,
		    int sort)
{
	sqlite3_stmt *st;
	int ret = store_prepare(
		o->db, "INSERT INTO order_codes (code, name, parent, sort) VALUES (?1, ?2, ?3, ?4)",
		&st);

	if (ret < 0) {
		return ret;
	}
	sqlite3_bind_text(st, 1, code, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, parent, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 4, sort);
	return store_step_done(o->db, st, "storing a classification code");
}

/* End a reference-table transaction: when all went well its audit entry and
 * COMMIT, else ROLLBACK. @retval 0 or the first error */
static int table_commit(struct orders *o, int ret, const char *actor, const char *role,
			const char *action, const char *detail)
{
	if (ret == 0) {
		ret = audit_append(o->db, &(struct audit_entry){ .actor = actor,
								 .role = role,
								 .action = action,
								 .target = "",
								 .outcome = "ok",
								 .detail = detail });
	}
	if (ret == 0) {
		ret = store_commit(o->db);
	} else {
		store_rollback(o->db);
	}
	return ret;
}

int orders_seed_defaults(struct orders *o)
{
	int nd, nc, ret;

	nd = count_rows(o->db, "SELECT count(*) FROM departments");
	nc = count_rows(o->db, "SELECT count(*) FROM order_codes");
	if (nd < 0 || nc < 0) {
		return -EIO;
	}
	if (nd > 0 && nc > 0) {
		return 0;
	}
	ret = store_begin(o->db);
	if (ret < 0) {
		return ret;
	}
	for (size_t i = 0;
	     ret == 0 && nd == 0 && i < sizeof(default_depts) / sizeof(default_depts[0]); i++) {
		ret = put_dept(o, default_depts[i].code, default_depts[i].zh, default_depts[i].en,
			       true, (int)i);
	}
	for (size_t i = 0;
	     ret == 0 && nc == 0 && i < sizeof(default_codes) / sizeof(default_codes[0]); i++) {
		ret = put_code(o, default_codes[i].code, default_codes[i].name,
			       default_codes[i].parent, (int)i);
	}
	return table_commit(o, ret, "system", "system", "order.seed_tables",
			    "built-in departments and codes");
}

/* ---- departments and codes ---- */

/* Supervisors and technicians edit the tables; the city sends them (sync). */
static int may_edit_tables(const struct orders_actor *who, struct orders_err *err)
{
	if (who == NULL || who->user_id == NULL || who->role == NULL ||
	    !orders_text_ok(who->user_id, ORDER_USER_MAX, true, false) ||
	    (strcmp(who->role, "supervisor") != 0 && strcmp(who->role, "technician") != 0 &&
	     strcmp(who->role, "city") != 0)) {
		orders_set_err(err, "only a supervisor or a technician may change this table",
			       "只有主管或技术人员可以修改此表");
		return -EPERM;
	}
	return 0;
}

static const char *json_str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Refuse keys other than the listed ones. */
static bool only_keys(const cJSON *obj, const char *const *keys)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, obj)
	{
		bool known = false;

		if (it->string == NULL) {
			return false;
		}
		for (int i = 0; keys[i] != NULL; i++) {
			if (strcmp(keys[i], it->string) == 0) {
				known = true;
			}
		}
		if (!known) {
			return false;
		}
	}
	return true;
}

static void row_err(struct orders_err *err, int row, const char *en, const char *zh)
{
	char e[ORDER_REASON_MAX], z[ORDER_REASON_MAX];

	snprintf(e, sizeof(e), "entry %d: %s", row + 1, en);
	snprintf(z, sizeof(z), "第%d项：%s", row + 1, zh);
	orders_set_err(err, e, z);
}

#define TABLE_MAX_ROWS 5000

int orders_departments_import(struct orders *o, const struct orders_actor *who, const char *json,
			      size_t len, struct orders_err *err)
{
	static const char *const keys[] = { "code", "name_zh", "name_en", "active", NULL };
	cJSON *root = NULL;
	const cJSON *it;
	char detail[64];
	int n = 0, ret;

	ret = may_edit_tables(who, err);
	if (ret < 0) {
		return ret;
	}
	if (json == NULL || len == 0 || len > 1024 * 1024 ||
	    (root = cJSON_ParseWithLength(json, len)) == NULL || !cJSON_IsArray(root) ||
	    cJSON_GetArraySize(root) == 0 || cJSON_GetArraySize(root) > 500) {
		cJSON_Delete(root);
		orders_set_err(err, "the department list must be a JSON array of 1 to 500 entries",
			       "单位列表须为含1至500项的JSON数组");
		return -EINVAL;
	}
	cJSON_ArrayForEach(it, root)
	{
		const char *code = json_str(it, "code"), *zh = json_str(it, "name_zh");
		const char *en = json_str(it, "name_en");
		const cJSON *act = cJSON_GetObjectItemCaseSensitive(it, "active");
		const cJSON *prev;
		int k = 0;

		if (!cJSON_IsObject(it) || !only_keys(it, keys)) {
			row_err(err, n, "an object with code, name_zh, name_en, active is expected",
				"须为含code、name_zh、name_en、active的对象");
			goto out_inval;
		}
		if (!orders_code_ok(code, ORDER_DEPT_MAX)) {
			row_err(err, n, "the code must be 1-63 of A-Z a-z 0-9 . _ -",
				"代码须为1至63个字母、数字或“._-”");
			goto out_inval;
		}
		if (!orders_text_ok(zh, ORDER_NAME_MAX, true, false) ||
		    (cJSON_GetObjectItemCaseSensitive(it, "name_en") != NULL &&
		     !orders_text_ok(en, ORDER_NAME_MAX, false, false)) ||
		    (act != NULL && !cJSON_IsBool(act))) {
			row_err(err, n,
				"the names must be text (Chinese required), active true/false",
				"名称须为文本（中文名必填），active须为true或false");
			goto out_inval;
		}
		cJSON_ArrayForEach(prev, root)
		{
			if (k++ >= n) {
				break;
			}
			if (strcmp(json_str(prev, "code"), code) == 0) {
				row_err(err, n, "the code is listed twice", "代码重复");
				goto out_inval;
			}
		}
		n++;
	}
	pthread_mutex_lock(&o->lock);
	ret = store_begin(o->db);
	if (ret < 0) {
		goto out_unlock;
	}
	/* Departments orders still name stay (inactive); the others go. */
	ret = store_exec(o->db,
			 "UPDATE departments SET active = 0, sort = 100000;"
			 "DELETE FROM departments WHERE code NOT IN (SELECT lead_dept FROM orders) "
			 "AND code NOT IN (SELECT dept FROM order_departments);");
	n = 0;
	cJSON_ArrayForEach(it, root)
	{
		const cJSON *act = cJSON_GetObjectItemCaseSensitive(it, "active");
		const char *en = json_str(it, "name_en");

		if (ret < 0) {
			break;
		}
		ret = put_dept(o, json_str(it, "code"), json_str(it, "name_zh"),
			       en != NULL ? en : "", act == NULL || cJSON_IsTrue(act), n++);
	}
	snprintf(detail, sizeof(detail), "{\"departments\":%d}", n);
	ret = table_commit(o, ret, who->user_id, who->role, "order.departments", detail);
out_unlock:
	pthread_mutex_unlock(&o->lock);
	if (ret < 0) {
		orders_set_err(err, "the list could not be stored; try again", "保存失败，请重试");
	}
	cJSON_Delete(root);
	return ret;

out_inval:
	cJSON_Delete(root);
	return -EINVAL;
}

int orders_codes_import(struct orders *o, const struct orders_actor *who, const char *json,
			size_t len, struct orders_err *err)
{
	static const char *const keys[] = { "code", "name", "parent", NULL };
	cJSON *root = NULL;
	const cJSON *it;
	const char **codes = NULL, **parents = NULL;
	char detail[64];
	int n = 0, total, ret;

	ret = may_edit_tables(who, err);
	if (ret < 0) {
		return ret;
	}
	if (json == NULL || len == 0 || len > 4 * 1024 * 1024 ||
	    (root = cJSON_ParseWithLength(json, len)) == NULL || !cJSON_IsArray(root) ||
	    cJSON_GetArraySize(root) == 0 || cJSON_GetArraySize(root) > TABLE_MAX_ROWS) {
		cJSON_Delete(root);
		orders_set_err(err, "the code table must be a JSON array of 1 to 5000 entries",
			       "分类代码表须为含1至5000项的JSON数组");
		return -EINVAL;
	}
	total = cJSON_GetArraySize(root);
	codes = calloc((size_t)total, sizeof(*codes));
	parents = calloc((size_t)total, sizeof(*parents));
	if (codes == NULL || parents == NULL) {
		ret = -ENOMEM;
		goto out;
	}
	cJSON_ArrayForEach(it, root)
	{
		const char *code = json_str(it, "code"), *name = json_str(it, "name");
		const char *parent = json_str(it, "parent");

		if (!cJSON_IsObject(it) || !only_keys(it, keys) ||
		    !orders_code_ok(code, ORDER_CODE_MAX) ||
		    !orders_text_ok(name, ORDER_NAME_MAX, true, false) ||
		    (cJSON_GetObjectItemCaseSensitive(it, "parent") != NULL && parent == NULL) ||
		    (parent != NULL && parent[0] != '\0' &&
		     !orders_code_ok(parent, ORDER_CODE_MAX))) {
			row_err(err, n,
				"each entry needs a code (1-31 of A-Z a-z 0-9 . _ -), a name and "
				"an "
				"optional parent code",
				"每项须有代码（1至31个字母、数字或“._-”）、名称，可选上级代码");
			ret = -EINVAL;
			goto out;
		}
		for (int k = 0; k < n; k++) {
			if (strcmp(codes[k], code) == 0) {
				row_err(err, n, "the code is listed twice", "代码重复");
				ret = -EINVAL;
				goto out;
			}
		}
		codes[n] = code;
		parents[n] = parent != NULL ? parent : "";
		n++;
	}
	/* every parent listed; following parents never comes back (no cycle) */
	for (int i = 0; i < n; i++) {
		const char *p = parents[i];
		int steps = 0;

		while (p[0] != '\0') {
			int k;

			for (k = 0; k < n && strcmp(codes[k], p) != 0; k++) {
			}
			if (k == n) {
				row_err(err, i, "the parent code is not in the table",
					"上级代码不在表中");
				ret = -EINVAL;
				goto out;
			}
			if (++steps > n) {
				row_err(err, i, "the parents form a loop", "上级代码形成循环");
				ret = -EINVAL;
				goto out;
			}
			p = parents[k];
		}
	}
	pthread_mutex_lock(&o->lock);
	ret = store_begin(o->db);
	if (ret == 0) {
		ret = store_exec(o->db, "DELETE FROM order_codes");
	}
	for (int i = 0; ret == 0 && i < n; i++) {
		ret = put_code(o, codes[i], json_str(cJSON_GetArrayItem(root, i), "name"),
			       parents[i], i);
	}
	snprintf(detail, sizeof(detail), "{\"codes\":%d}", n);
	ret = table_commit(o, ret, who->user_id, who->role, "order.codes", detail);
	pthread_mutex_unlock(&o->lock);
	if (ret < 0) {
		orders_set_err(err, "the table could not be stored; try again", "保存失败，请重试");
	}
out:
	free(codes);
	free(parents);
	cJSON_Delete(root);
	return ret;
}

/* The rows of a reference table as an array of objects: one member per
 * column, named by keys (NULL-terminated), text except bool_key (true/false). */
static int table_json(struct orders *o, const char *sql, const char *const keys[],
		      const char *bool_key, cJSON **out)
{
	sqlite3_stmt *st;
	cJSON *arr = cJSON_CreateArray();
	int ret;

	*out = NULL;
	if (arr == NULL) {
		return -ENOMEM;
	}
	pthread_mutex_lock(&o->lock);
	ret = store_prepare(o->db, sql, &st);
	if (ret == 0) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			cJSON *d = cJSON_CreateObject();

			for (int i = 0; keys[i] != NULL; i++) {
				if (bool_key != NULL && strcmp(keys[i], bool_key) == 0) {
					cJSON_AddBoolToObject(d, keys[i],
							      sqlite3_column_int(st, i) != 0);
				} else {
					cJSON_AddStringToObject(
						d, keys[i],
						(const char *)sqlite3_column_text(st, i));
				}
			}
			cJSON_AddItemToArray(arr, d);
		}
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&o->lock);
	if (ret < 0) {
		cJSON_Delete(arr);
		return ret;
	}
	*out = arr;
	return 0;
}

int orders_departments_json(struct orders *o, cJSON **out)
{
	static const char *const keys[] = { "code", "name_zh", "name_en", "active", NULL };

	return table_json(o,
			  "SELECT code, name_zh, name_en, active FROM departments ORDER BY sort, "
			  "code",
			  keys, "active", out);
}

int orders_codes_json(struct orders *o, cJSON **out)
{
	static const char *const keys[] = { "code", "name", "parent", NULL };

	return table_json(o, "SELECT code, name, parent FROM order_codes ORDER BY sort, code", keys,
			  NULL, out);
}

/* ---- one order ---- */

static void add_ms(cJSON *obj, const char *key, int64_t ms)
{
	if (ms > 0) {
		cJSON_AddNumberToObject(obj, key, (double)ms);
	} else {
		cJSON_AddNullToObject(obj, key);
	}
}

cJSON *order_to_json(const struct order *ord)
{
	cJSON *j = cJSON_CreateObject();
	cJSON *co;

	if (j == NULL) {
		return NULL;
	}
	cJSON_AddNumberToObject(j, "id", (double)ord->id);
	cJSON_AddStringToObject(j, "number", ord->number);
	cJSON_AddStringToObject(j, "channel", order_channel_name(ord->channel));
	cJSON_AddStringToObject(j, "channel_zh", order_channel_zh(ord->channel));
	cJSON_AddStringToObject(j, "category", order_category_name(ord->category));
	cJSON_AddStringToObject(j, "category_zh", order_category_zh(ord->category));
	cJSON_AddStringToObject(j, "field", order_field_name(ord->field));
	cJSON_AddStringToObject(j, "field_zh", order_field_zh(ord->field));
	cJSON_AddStringToObject(j, "code", ord->code);
	cJSON_AddStringToObject(j, "title", ord->title);
	cJSON_AddStringToObject(j, "content", ord->content);
	cJSON_AddStringToObject(j, "location", ord->location);
	cJSON_AddStringToObject(j, "urgency", order_urgency_name(ord->urgency));
	cJSON_AddStringToObject(j, "complexity", order_complexity_name(ord->complexity));
	cJSON_AddBoolToObject(j, "hide_identity", ord->hide_identity);
	cJSON_AddBoolToObject(j, "has_contact", ord->contact_id > 0);
	cJSON_AddStringToObject(j, "state", order_state_name(ord->state));
	cJSON_AddStringToObject(j, "state_zh", order_state_zh(ord->state));
	add_ms(j, "dispatch_ms", ord->dispatch_ms);
	add_ms(j, "received_ms", ord->received_ms);
	add_ms(j, "sign_due_ms", ord->sign_due_ms);
	add_ms(j, "due_ms", ord->due_ms);
	add_ms(j, "deadline_ms", orders_running_deadline(ord));
	cJSON_AddBoolToObject(j, "city_due", ord->city_due);
	add_ms(j, "replied_ms", ord->replied_ms);
	add_ms(j, "closed_ms", ord->closed_ms);
	cJSON_AddStringToObject(j, "extension", order_ext_state_name(ord->ext_state));
	add_ms(j, "extension_due_ms", ord->ext_due_ms);
	cJSON_AddStringToObject(j, "extension_reason", ord->ext_reason);
	cJSON_AddStringToObject(j, "extension_basis", ord->ext_basis);
	cJSON_AddStringToObject(j, "return_reason", ord->return_reason);
	cJSON_AddStringToObject(j, "return_basis", ord->return_basis);
	cJSON_AddBoolToObject(j, "clock_paused", ord->pause_from_ms > 0);
	cJSON_AddStringToObject(j, "city_reason", ord->city_reason);
	cJSON_AddStringToObject(j, "lead_dept", ord->lead_dept);
	co = cJSON_AddArrayToObject(j, "co_depts");
	for (int i = 0; i < ord->nco; i++) {
		cJSON_AddItemToArray(co, cJSON_CreateString(ord->co_depts[i]));
	}
	cJSON_AddStringToObject(j, "handler", ord->handler);
	cJSON_AddStringToObject(j, "reply", ord->reply);
	cJSON_AddStringToObject(j, "drafted_by", ord->drafted_by);
	cJSON_AddStringToObject(j, "signed_by", ord->signed_by);
	cJSON_AddStringToObject(j, "visit", order_visit_name(ord->visit));
	cJSON_AddStringToObject(j, "lookup_code", ord->lookup_code);
	cJSON_AddBoolToObject(j, "printed", ord->printed);
	cJSON_AddStringToObject(j, "repeat_of", ord->repeat_of);
	cJSON_AddNumberToObject(j, "redo_count", ord->redo_count);
	cJSON_AddNumberToObject(j, "version", (double)ord->version);
	add_ms(j, "updated_ms", ord->updated_ms);
	cJSON_AddStringToObject(j, "due_flag", deadline_flag_name(ord->due_flag));
	cJSON_AddBoolToObject(j, "due_today", ord->due_today);
	cJSON_AddBoolToObject(j, "overdue", ord->overdue);
	cJSON_AddBoolToObject(j, "due_soon", ord->due_soon);
	cJSON_AddNumberToObject(j, "urged", ord->urged); /* open notices */
	cJSON_AddNumberToObject(j, "open_conflicts", ord->conflicts);
	cJSON_AddBoolToObject(j, "sync_pending", ord->sync_pending);
	return j;
}

int orders_get(struct orders *o, int64_t id, struct order *out)
{
	struct orders_bounds b;
	int ret;

	orders_bounds(o, &b);
	pthread_mutex_lock(&o->lock);
	ret = orders_load(o->db, id, out);
	pthread_mutex_unlock(&o->lock);
	if (ret == 0) {
		orders_compute_flags(o, &b, out);
	}
	return ret;
}

int orders_find(struct orders *o, const char *number, struct order *out)
{
	struct orders_bounds b;
	int ret;

	if (number == NULL || !orders_code_ok(number, ORDER_NO_MAX)) {
		return -ENOENT;
	}
	orders_bounds(o, &b);
	pthread_mutex_lock(&o->lock);
	ret = orders_load_number(o->db, number, out);
	pthread_mutex_unlock(&o->lock);
	if (ret == 0) {
		orders_compute_flags(o, &b, out);
	}
	return ret;
}

/* Rows of a query bound with the order id as JSON objects (column names as
 * keys; integers, text and NULL). */
static int rows_json(sqlite3 *db, const char *sql, int64_t id, cJSON *arr)
{
	sqlite3_stmt *st;
	int rc, ret;

	ret = store_prepare(db, sql, &st);
	if (ret < 0) {
		return ret;
	}
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		cJSON *r = cJSON_CreateObject();

		for (int i = 0; i < sqlite3_column_count(st); i++) {
			const char *name = sqlite3_column_name(st, i);

			switch (sqlite3_column_type(st, i)) {
			case SQLITE_INTEGER:
				cJSON_AddNumberToObject(r, name,
							(double)sqlite3_column_int64(st, i));
				break;
			case SQLITE_NULL:
				cJSON_AddNullToObject(r, name);
				break;
			default:
				cJSON_AddStringToObject(r, name,
							(const char *)sqlite3_column_text(st, i));
			}
		}
		cJSON_AddItemToArray(arr, r);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : store_err(db, rc, "reading an order's details");
}

static void add_state_names(cJSON *arr)
{
	cJSON *it;

	cJSON_ArrayForEach(it, arr)
	{
		const char *keys[2] = { "from_state", "to_state" };

		for (int k = 0; k < 2; k++) {
			cJSON *v = cJSON_GetObjectItemCaseSensitive(it, keys[k]);
			char zkey[32];

			if (cJSON_IsNumber(v)) {
				int s = v->valueint;

				snprintf(zkey, sizeof(zkey), "%s_zh", keys[k]);
				cJSON_AddStringToObject(it, zkey,
							order_state_zh((enum order_state)s));
				cJSON_ReplaceItemInObjectCaseSensitive(
					it, keys[k],
					cJSON_CreateString(order_state_name((enum order_state)s)));
			}
		}
		{
			cJSON *pub = cJSON_GetObjectItemCaseSensitive(it, "public");

			if (cJSON_IsNumber(pub)) {
				cJSON_ReplaceItemInObjectCaseSensitive(
					it, "public", cJSON_CreateBool(pub->valueint));
			}
		}
	}
}

static cJSON *contact_json(struct orders *o, const struct order *ord,
			   const struct orders_actor *who, bool reveal, int *ret)
{
	struct pii_contact c;
	enum pii_view view = PII_VIEW_MASKED;
	const char *vname = "masked";
	cJSON *j;

	*ret = 0;
	if (ord->contact_id <= 0) {
		return cJSON_CreateNull();
	}
	if (reveal && orders_actor_ok(who, NULL) == 0) {
		if (ord->handler[0] != '\0' && strcmp(ord->handler, who->user_id) == 0) {
			view = PII_VIEW_HANDLER;
			vname = "handler";
		} else {
			view = PII_VIEW_FULL;
			vname = "full";
		}
	}
	memset(&c, 0, sizeof(c));
	*ret = pii_contact_get(o->db, ord->contact_id, view, &c);
	if (*ret < 0 && *ret != -EBADMSG) {
		pii_contact_clear(&c);
		j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "view", "unavailable");
		cJSON_AddBoolToObject(j, "hide_identity", ord->hide_identity);
		*ret = 0;
		return j;
	}
	*ret = 0;
	j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "view", vname);
	cJSON_AddStringToObject(j, "name", c.name);
	cJSON_AddStringToObject(j, "phone", c.phone);
	cJSON_AddStringToObject(j, "id_number", c.id_number);
	cJSON_AddStringToObject(j, "address", c.address);
	cJSON_AddStringToObject(j, "contact", c.contact);
	cJSON_AddBoolToObject(j, "hide_identity", c.hide_identity);
	cJSON_AddBoolToObject(j, "erased", c.erased_ms > 0);
	pii_contact_clear(&c);
	if (view != PII_VIEW_MASKED) {
		*ret = audit_append(o->db, &(struct audit_entry){ .actor = who->user_id,
								  .role = who->role,
								  .action = "order.contact_view",
								  .target = ord->number,
								  .outcome = "ok",
								  .detail = vname });
	}
	return j;
}

int orders_get_json(struct orders *o, const struct orders_actor *who, int64_t id, bool reveal,
		    cJSON **out)
{
	struct orders_bounds b;
	struct order *ord;
	unsigned mask = 0;
	cJSON *j = NULL, *arr;
	int ret;

	*out = NULL;
	ord = malloc(sizeof(*ord));
	if (ord == NULL) {
		return -ENOMEM;
	}
	ret = orders_allowed_actions(o, who, id, &mask);
	if (ret < 0) {
		free(ord);
		return ret;
	}
	orders_bounds(o, &b);
	pthread_mutex_lock(&o->lock);
	ret = orders_load(o->db, id, ord);
	if (ret < 0) {
		goto out;
	}
	orders_compute_flags(o, &b, ord);
	j = order_to_json(ord);
	if (j == NULL) {
		ret = -ENOMEM;
		goto out;
	}
	arr = cJSON_AddArrayToObject(j, "history");
	ret = rows_json(o->db,
			"SELECT id, at_ms, mono_ms, actor, role, action, from_state, to_state, "
			"public, note, outbox_seq FROM order_history WHERE order_id = ?1 ORDER BY "
			"at_ms, id",
			id, arr);
	add_state_names(arr);
	if (ret == 0) {
		arr = cJSON_AddArrayToObject(j, "notices");
		ret = rows_json(
			o->db,
			"SELECT id, kind, text, issued_by, at_ms, reply_by_ms, acked_ms, "
			"acked_by FROM order_notices WHERE order_id = ?1 ORDER BY at_ms, id",
			id, arr);
	}
	if (ret == 0) {
		arr = cJSON_AddArrayToObject(j, "links");
		ret = rows_json(
			o->db,
			"SELECT l.id, l.other_number, (SELECT x.id FROM orders x WHERE "
			"x.number = l.other_number) AS other_id, l.kind, l.note, l.at_ms, "
			"l.by_user, 'to' AS direction FROM order_links l WHERE l.order_id = ?1 "
			"UNION ALL SELECT l.id, x.number, x.id, l.kind, l.note, l.at_ms, "
			"l.by_user, 'from' FROM order_links l JOIN orders x ON x.id = "
			"l.order_id WHERE l.other_number = (SELECT number FROM orders WHERE id "
			"= ?1)",
			id, arr);
	}
	if (ret == 0) {
		arr = cJSON_AddArrayToObject(j, "attachments");
		ret = rows_json(o->db,
				"SELECT id, name, mime, size, sha256, at_ms, by_user FROM "
				"order_attachments WHERE order_id = ?1 ORDER BY id",
				id, arr);
	}
	if (ret == 0) {
		arr = cJSON_AddArrayToObject(j, "conflicts");
		ret = rows_json(o->db,
				"SELECT id, item_id, kind, detail, at_ms, acked_ms, acked_by FROM "
				"order_conflicts WHERE order_id = ?1 ORDER BY id",
				id, arr);
	}
	if (ret == 0) {
		cJSON *lead = cJSON_AddObjectToObject(j, "lead_dept_name");

		arr = cJSON_CreateArray();
		ret = rows_json(o->db,
				"SELECT name_zh, name_en FROM departments WHERE code = (SELECT "
				"lead_dept FROM orders WHERE id = ?1)",
				id, arr);
		if (cJSON_GetArraySize(arr) == 1) {
			cJSON *r = cJSON_GetArrayItem(arr, 0);

			cJSON_AddStringToObject(lead, "zh", json_str(r, "name_zh"));
			cJSON_AddStringToObject(lead, "en", json_str(r, "name_en"));
		}
		cJSON_Delete(arr);
	}
	if (ret == 0) {
		arr = cJSON_AddArrayToObject(j, "actions");
		for (int a = 0; a < ORDER_ACT_N; a++) {
			if (mask & (1u << a)) {
				cJSON_AddItemToArray(arr, cJSON_CreateString(order_action_name(
								  (enum order_action)a)));
			}
		}
		cJSON_AddItemToObject(j, "contact", contact_json(o, ord, who, reveal, &ret));
	}
out:
	pthread_mutex_unlock(&o->lock);
	free(ord);
	if (ret < 0) {
		cJSON_Delete(j);
		return ret;
	}
	*out = j;
	return 0;
}

/* ---- the list ---- */

void orders_filter_init(struct orders_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->state = -1;
	f->category = -1;
	f->flag = ORDERS_FLAG_ANY;
	f->sort = ORDERS_SORT_DUE;
	f->limit = 50;
}

int orders_flag_parse(const char *s)
{
	static const char *const names[] = { "any",	     "due_today", "overdue",
					     "due_soon",     "urged",	  "unprinted",
					     "sync_pending", "conflict",  "open" };

	if (s == NULL) {
		return -EINVAL;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(names[i], s) == 0) {
			return (int)i;
		}
	}
	return -EINVAL;
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		if (((unsigned char)*s & 0xc0) != 0x80) {
			n++;
		}
	}
	return n;
}

/* The WHERE clause of a filter with its parameters numbered from ?1. The
 * binds are applied by bind_filter in the same order. */
struct where {
	char sql[1024];
	char q[ORDER_SEARCH_MAX * 2 + 8]; /* FTS phrase or LIKE pattern */
	bool fts, like;
};

static void build_where(const struct orders_filter *f, const struct orders_bounds *b,
			struct where *w)
{
	size_t n = 0;
	char *s = w->sql;
	size_t cap = sizeof(w->sql);

#define ADD(...) n += (size_t)snprintf(s + n, n < cap ? cap - n : 0, __VA_ARGS__)
	ADD("WHERE 1");
	if (f->state >= 0) {
		ADD(" AND o.state = %d", f->state);
	}
	if (f->category >= 0) {
		ADD(" AND o.category = %d", f->category);
	}
	if (f->lead_dept[0] != '\0') {
		ADD(" AND o.lead_dept = ?1");
	}
	if (f->handler[0] != '\0') {
		ADD(" AND o.handler = ?2");
	}
	switch (f->flag) {
	case ORDERS_FLAG_DUE_TODAY:
		ADD(" AND o.due_key BETWEEN %" PRId64 " AND %" PRId64, b->now, b->end_today);
		break;
	case ORDERS_FLAG_OVERDUE:
		ADD(" AND o.due_key < %" PRId64, b->now);
		break;
	case ORDERS_FLAG_DUE_SOON:
		ADD(" AND o.due_key > %" PRId64 " AND o.due_key <= %" PRId64, b->end_today,
		    b->soon_end);
		break;
	case ORDERS_FLAG_URGED:
		ADD(" AND o.urged > 0");
		break;
	case ORDERS_FLAG_UNPRINTED:
		ADD(" AND o.printed = 0 AND o.state IN (0, 1, 2, 3, 6)");
		break;
	case ORDERS_FLAG_SYNC_PENDING:
		ADD(" AND o.last_seq > 0 AND EXISTS (SELECT 1 FROM outbox b WHERE b.seq = "
		    "o.last_seq AND b.acked_ms IS NULL)");
		break;
	case ORDERS_FLAG_CONFLICT:
		ADD(" AND o.conflicts > 0");
		break;
	case ORDERS_FLAG_OPEN:
		ADD(" AND o.state IN (0, 1, 2, 3, 6)");
		break;
	default:
		break;
	}
	w->fts = w->like = false;
	if (f->q[0] != '\0') {
		if (utf8_chars(f->q) >= 3) {
			/* one FTS5 phrase: the text in double quotes, quotes doubled */
			size_t k = 0;

			w->q[k++] = '"';
			for (const char *p = f->q; *p != '\0' && k + 3 < sizeof(w->q); p++) {
				if (*p == '"') {
					w->q[k++] = '"';
				}
				w->q[k++] = *p;
			}
			w->q[k++] = '"';
			w->q[k] = '\0';
			w->fts = true;
			ADD(" AND o.id IN (SELECT rowid FROM orders_fts WHERE orders_fts MATCH "
			    "?3)");
		} else {
			size_t k = 0;

			w->q[k++] = '%';
			for (const char *p = f->q; *p != '\0' && k + 3 < sizeof(w->q); p++) {
				if (*p == '%' || *p == '_' || *p == '\\') {
					w->q[k++] = '\\';
				}
				w->q[k++] = *p;
			}
			w->q[k++] = '%';
			w->q[k] = '\0';
			w->like = true;
			ADD(" AND (o.number LIKE ?3 ESCAPE '\\' OR o.title LIKE ?3 ESCAPE '\\' OR "
			    "o.content LIKE ?3 ESCAPE '\\' OR o.location LIKE ?3 ESCAPE '\\')");
		}
	}
#undef ADD
}

static void bind_filter(sqlite3_stmt *st, const struct orders_filter *f, const struct where *w)
{
	if (f->lead_dept[0] != '\0') {
		sqlite3_bind_text(st, 1, f->lead_dept, -1, SQLITE_TRANSIENT);
	}
	if (f->handler[0] != '\0') {
		sqlite3_bind_text(st, 2, f->handler, -1, SQLITE_TRANSIENT);
	}
	if (w->fts || w->like) {
		sqlite3_bind_text(st, 3, w->q, -1, SQLITE_TRANSIENT);
	}
}

/* Run the list query (lock held) into rows; *total when not NULL. */
static int list_rows(struct orders *o, const struct orders_filter *f, const struct orders_bounds *b,
		     cJSON *rows, int64_t *total)
{
	struct where w;
	struct order *ord;
	sqlite3_stmt *st;
	char *sql;
	int rc, ret;

	build_where(f, b, &w);
	sql = malloc(4096);
	ord = malloc(sizeof(*ord));
	if (sql == NULL || ord == NULL) {
		free(sql);
		free(ord);
		return -ENOMEM;
	}
	if (total != NULL) {
		snprintf(sql, 4096, "SELECT count(*) FROM orders o %s", w.sql);
		ret = store_prepare(o->db, sql, &st);
		if (ret < 0) {
			goto out;
		}
		bind_filter(st, f, &w);
		rc = sqlite3_step(st);
		*total = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
		sqlite3_finalize(st);
		if (rc != SQLITE_ROW) {
			ret = store_err(o->db, rc, "counting orders");
			goto out;
		}
	}
	/* the content column carries an excerpt only */
	snprintf(sql, 4096, "%s FROM orders o %s ORDER BY %s LIMIT %d OFFSET %d", orders_cols,
		 w.sql,
		 f->sort == ORDERS_SORT_DISPATCH_DESC ? "o.dispatch_ms DESC, o.id DESC"
						      : "o.due_key, o.id",
		 f->limit, f->offset);
	{
		char *p = strstr(sql, "o.content,");

		if (p != NULL) {
			/* same width: substr keeps the column position */
			static const char repl[] = "substr(o.content, 1, 120),";
			size_t tail = strlen(p + strlen("o.content,"));

			memmove(p + strlen(repl), p + strlen("o.content,"), tail + 1);
			memcpy(p, repl, strlen(repl));
		}
	}
	ret = store_prepare(o->db, sql, &st);
	if (ret < 0) {
		goto out;
	}
	bind_filter(st, f, &w);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		cJSON *r;

		orders_read_row(st, ord);
		orders_compute_flags(o, b, ord);
		r = order_to_json(ord);
		if (r == NULL) {
			break;
		}
		cJSON_ReplaceItemInObjectCaseSensitive(r, "content", cJSON_CreateString(""));
		cJSON_AddStringToObject(r, "excerpt", ord->content);
		cJSON_DeleteItemFromObjectCaseSensitive(r, "content");
		cJSON_DeleteItemFromObjectCaseSensitive(r, "reply");
		cJSON_AddItemToArray(rows, r);
	}
	sqlite3_finalize(st);
	ret = rc == SQLITE_DONE ? 0 : store_err(o->db, rc, "listing orders");
out:
	free(sql);
	free(ord);
	return ret;
}

static bool filter_ok(const struct orders_filter *f)
{
	return f != NULL && f->state >= -1 && f->state < ORDER_STATE_N && f->category >= -1 &&
	       f->category < ORDER_CAT_N && (unsigned)f->flag <= ORDERS_FLAG_OPEN &&
	       (f->sort == ORDERS_SORT_DUE || f->sort == ORDERS_SORT_DISPATCH_DESC) &&
	       f->offset >= 0 && f->offset <= 10000000 && f->limit >= 0 &&
	       f->limit <= ORDER_LIST_MAX &&
	       (f->lead_dept[0] == '\0' || orders_code_ok(f->lead_dept, ORDER_DEPT_MAX)) &&
	       orders_text_ok(f->handler, ORDER_USER_MAX, false, false) &&
	       orders_text_ok(f->q, ORDER_SEARCH_MAX, false, false);
}

int orders_list(struct orders *o, const struct orders_filter *filter, cJSON **out)
{
	struct orders_filter f;
	struct orders_bounds b;
	int64_t total = 0;
	cJSON *j, *rows;
	int ret;

	*out = NULL;
	if (!filter_ok(filter)) {
		return -EINVAL;
	}
	f = *filter;
	if (f.limit == 0) {
		f.limit = 50;
	}
	/* surrounding spaces do not count */
	{
		size_t n = strlen(f.q), s = 0;

		while (n > 0 && f.q[n - 1] == ' ') {
			f.q[--n] = '\0';
		}
		while (f.q[s] == ' ') {
			s++;
		}
		memmove(f.q, f.q + s, n - s + 1);
	}
	j = cJSON_CreateObject();
	if (j == NULL) {
		return -ENOMEM;
	}
	rows = cJSON_CreateArray();
	orders_bounds(o, &b);
	pthread_mutex_lock(&o->lock);
	ret = list_rows(o, &f, &b, rows, &total);
	pthread_mutex_unlock(&o->lock);
	if (ret < 0) {
		cJSON_Delete(rows);
		cJSON_Delete(j);
		return ret;
	}
	cJSON_AddNumberToObject(j, "total", (double)total);
	cJSON_AddNumberToObject(j, "offset", f.offset);
	cJSON_AddNumberToObject(j, "limit", f.limit);
	cJSON_AddItemToObject(j, "rows", rows);
	*out = j;
	return 0;
}

/* ---- the home screen ---- */

int orders_home(struct orders *o, const struct orders_actor *who, cJSON **out)
{
	static const struct {
		const char *key;
		enum orders_flag_filter flag;
		int state;
	} parts[] = {
		{ "due_today", ORDERS_FLAG_DUE_TODAY, -1 },
		{ "overdue", ORDERS_FLAG_OVERDUE, -1 },
		{ "urged", ORDERS_FLAG_URGED, -1 },
		{ "pending", ORDERS_FLAG_ANY, ORDER_PENDING },
		{ "sync_pending", ORDERS_FLAG_SYNC_PENDING, -1 },
		{ "due_soon", ORDERS_FLAG_DUE_SOON, -1 },
		{ "conflicts", ORDERS_FLAG_CONFLICT, -1 },
		{ "unprinted", ORDERS_FLAG_UNPRINTED, -1 },
	};
	struct orders_bounds b;
	const struct workcal *c;
	cJSON *j, *counts, *cal;
	int year, mo, d, ret = 0;
	bool has;

	(void)who;
	*out = NULL;
	j = cJSON_CreateObject();
	if (j == NULL) {
		return -ENOMEM;
	}
	counts = cJSON_AddObjectToObject(j, "counts");
	orders_bounds(o, &b);
	pthread_mutex_lock(&o->lock);
	for (size_t i = 0; ret == 0 && i < sizeof(parts) / sizeof(parts[0]); i++) {
		struct orders_filter f;
		int64_t total = 0;
		cJSON *rows = cJSON_CreateArray();

		orders_filter_init(&f);
		f.flag = parts[i].flag;
		f.state = parts[i].state;
		f.limit = 10;
		ret = list_rows(o, &f, &b, rows, &total);
		cJSON_AddNumberToObject(counts, parts[i].key, (double)total);
		if (i < 5) {
			cJSON_AddItemToObject(j, parts[i].key, rows);
		} else {
			cJSON_Delete(rows);
		}
	}
	pthread_mutex_unlock(&o->lock);
	if (ret < 0) {
		cJSON_Delete(j);
		return ret;
	}
	workcal_day_to_ymd(workcal_day_of_ms(b.now, o->utc_offset_min), &year, &mo, &d);
	c = orders_cal_get(o);
	has = workcal_has_year(c, year);
	orders_cal_put(o);
	cal = cJSON_AddObjectToObject(j, "calendar");
	cJSON_AddNumberToObject(cal, "year", year);
	cJSON_AddBoolToObject(cal, "has_year", has);
	if (!has) {
		char en[200], zh[200];

		snprintf(en, sizeof(en),
			 "No holiday calendar for %d is loaded: deadlines count Monday to Friday "
			 "only. A supervisor should import the year's calendar.",
			 year);
		snprintf(zh, sizeof(zh),
			 "未导入%d年节假日安排：时限暂按周一至周五计算，请主管导入当年日历。",
			 year);
		cJSON_AddStringToObject(cal, "warning_en", en);
		cJSON_AddStringToObject(cal, "warning_zh", zh);
	} else {
		cJSON_AddNullToObject(cal, "warning_en");
		cJSON_AddNullToObject(cal, "warning_zh");
	}
	cJSON_AddNumberToObject(j, "now_ms", (double)b.now);
	*out = j;
	return 0;
}

/* ---- dashboard ---- */

static void add_rate(cJSON *j, const char *key, int64_t num, int64_t den)
{
	if (den > 0) {
		cJSON_AddNumberToObject(j, key, (double)num / (double)den);
	} else {
		cJSON_AddNullToObject(j, key);
	}
}

int orders_dashboard(struct orders *o, int64_t from_ms, int64_t to_ms, cJSON **out)
{
	int64_t v[6] = { 0 };
	sqlite3_stmt *st;
	cJSON *j, *arr;
	int64_t now = orders_now(o);
	int ret;

	*out = NULL;
	if (from_ms < 0 || to_ms <= from_ms) {
		return -EINVAL;
	}
	j = cJSON_CreateObject();
	if (j == NULL) {
		return -ENOMEM;
	}
	pthread_mutex_lock(&o->lock);
	ret = store_prepare(
		o->db,
		"SELECT count(*), sum(replied_ms > 0), sum(replied_ms > 0 AND (due_ms = 0 "
		"OR replied_ms <= due_ms)), sum(visit > 0), sum(visit IN (1, 2)), "
		"sum(visit = 1) FROM orders WHERE dispatch_ms >= ?1 AND dispatch_ms < ?2",
		&st);
	if (ret == 0) {
		sqlite3_bind_int64(st, 1, from_ms);
		sqlite3_bind_int64(st, 2, to_ms);
		if (sqlite3_step(st) == SQLITE_ROW) {
			for (int i = 0; i < 6; i++) {
				v[i] = sqlite3_column_int64(st, i);
			}
		}
		sqlite3_finalize(st);
	}
	cJSON_AddNumberToObject(j, "from_ms", (double)from_ms);
	cJSON_AddNumberToObject(j, "to_ms", (double)to_ms);
	cJSON_AddNumberToObject(j, "total", (double)v[0]);
	cJSON_AddNumberToObject(j, "replied", (double)v[1]);
	cJSON_AddNumberToObject(j, "replied_on_time", (double)v[2]);
	add_rate(j, "on_time_rate", v[2], v[1]);
	cJSON_AddNumberToObject(j, "visited", (double)v[3]);
	cJSON_AddNumberToObject(j, "resolved", (double)v[4]);
	add_rate(j, "resolution_rate", v[4], v[3]);
	cJSON_AddNumberToObject(j, "satisfied", (double)v[5]);
	add_rate(j, "satisfaction_rate", v[5], v[3]);
	if (ret == 0) {
		char sql[512];

		arr = cJSON_AddArrayToObject(j, "overdue_by_dept");
		snprintf(sql, sizeof(sql),
			 "SELECT o.lead_dept AS dept, coalesce(d.name_zh, '') AS name_zh, "
			 "coalesce(d.name_en, '') AS name_en, count(*) AS overdue FROM orders o "
			 "LEFT "
			 "JOIN departments d ON d.code = o.lead_dept WHERE o.due_key < %" PRId64
			 " AND o.dispatch_ms >= ?1 AND o.dispatch_ms < %" PRId64
			 " GROUP BY o.lead_dept ORDER BY overdue DESC",
			 now, to_ms);
		ret = rows_json(o->db, sql, from_ms, arr);
		if (ret == 0) {
			arr = cJSON_AddArrayToObject(j, "by_category");
			snprintf(sql, sizeof(sql),
				 "SELECT category, count(*) AS count FROM orders WHERE dispatch_ms "
				 ">= "
				 "?1 AND dispatch_ms < %" PRId64
				 " GROUP BY category ORDER BY category",
				 to_ms);
			ret = rows_json(o->db, sql, from_ms, arr);
		}
		if (ret == 0) {
			arr = cJSON_AddArrayToObject(j, "by_state");
			snprintf(sql, sizeof(sql),
				 "SELECT state, count(*) AS count FROM orders WHERE dispatch_ms >= "
				 "?1 "
				 "AND dispatch_ms < %" PRId64 " GROUP BY state ORDER BY state",
				 to_ms);
			ret = rows_json(o->db, sql, from_ms, arr);
		}
	}
	pthread_mutex_unlock(&o->lock);
	if (ret < 0) {
		cJSON_Delete(j);
		return ret;
	}
	{
		cJSON *it;

		cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(j, "by_category"))
		{
			int c = cJSON_GetObjectItemCaseSensitive(it, "category")->valueint;

			cJSON_ReplaceItemInObjectCaseSensitive(
				it, "category", cJSON_CreateString(order_category_name(c)));
			cJSON_AddStringToObject(it, "zh", order_category_zh(c));
		}
		cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(j, "by_state"))
		{
			int s = cJSON_GetObjectItemCaseSensitive(it, "state")->valueint;

			cJSON_ReplaceItemInObjectCaseSensitive(
				it, "state", cJSON_CreateString(order_state_name(s)));
			cJSON_AddStringToObject(it, "zh", order_state_zh(s));
		}
	}
	*out = j;
	return 0;
}

/* ---- the citizen's lookup ---- */

static const char *const public_en[] = {
	[ORDER_PENDING] = "Received by the county office",
	[ORDER_RECEIVED] = "Accepted for handling",
	[ORDER_HANDLING] = "Being handled by the department",
	[ORDER_DRAFTED] = "Being handled by the department",
	[ORDER_REPLIED] = "Replied; the city will call you back",
	[ORDER_CLOSED] = "Closed",
	[ORDER_RETURN_PENDING] = "Under review by the city",
	[ORDER_RETURNED] = "Sent back to the city for reassignment",
	[ORDER_RECALLED] = "Withdrawn by the city",
};
static const char *const public_zh[] = {
	[ORDER_PENDING] = "县级已接收",	       [ORDER_RECEIVED] = "已受理",
	[ORDER_HANDLING] = "承办单位办理中",   [ORDER_DRAFTED] = "承办单位办理中",
	[ORDER_REPLIED] = "已答复，等待回访",  [ORDER_CLOSED] = "已办结",
	[ORDER_RETURN_PENDING] = "市级审核中", [ORDER_RETURNED] = "已退回市级重新派单",
	[ORDER_RECALLED] = "市级已撤回",
};

int orders_public_lookup(struct orders *o, const char *lookup_code, cJSON **out)
{
	struct order *ord;
	sqlite3_stmt *st;
	cJSON *j, *tl;
	char code[ORDER_LOOKUP_LEN + 1];
	int ret, rc;

	*out = NULL;
	/* Not a code's shape: no such order (codes come from rng_code()). */
	if (rng_code_parse(lookup_code, ORDER_LOOKUP_LEN, code) < 0) {
		return -ENOENT;
	}
	ord = malloc(sizeof(*ord));
	if (ord == NULL) {
		return -ENOMEM;
	}
	pthread_mutex_lock(&o->lock);
	ret = store_prepare(o->db, "SELECT id FROM orders WHERE lookup_code = ?1", &st);
	if (ret == 0) {
		sqlite3_bind_text(st, 1, code, -1, SQLITE_TRANSIENT);
		rc = sqlite3_step(st);
		ret = rc == SQLITE_ROW ? orders_load(o->db, sqlite3_column_int64(st, 0), ord)
				       : -ENOENT;
		sqlite3_finalize(st);
	}
	if (ret < 0) {
		pthread_mutex_unlock(&o->lock);
		free(ord);
		return ret;
	}
	j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "number", ord->number);
	cJSON_AddStringToObject(j, "category", order_category_name(ord->category));
	cJSON_AddStringToObject(j, "category_zh", order_category_zh(ord->category));
	cJSON_AddStringToObject(j, "state", order_state_name(ord->state));
	cJSON_AddStringToObject(j, "state_zh", public_zh[ord->state]);
	cJSON_AddStringToObject(j, "state_en", public_en[ord->state]);
	add_ms(j, "dispatch_ms", ord->dispatch_ms);
	add_ms(j, "due_ms",
	       ord->state >= ORDER_RECEIVED && order_state_open(ord->state) ? ord->due_ms : 0);
	cJSON_AddBoolToObject(j, "can_rate",
			      ord->state == ORDER_REPLIED || ord->state == ORDER_CLOSED);
	tl = cJSON_AddArrayToObject(j, "timeline");
	ret = store_prepare(
		o->db,
		"SELECT at_ms, to_state FROM order_history WHERE order_id = ?1 AND public = "
		"1 ORDER BY at_ms, id",
		&st);
	if (ret == 0) {
		sqlite3_bind_int64(st, 1, ord->id);
		while (sqlite3_step(st) == SQLITE_ROW) {
			cJSON *e = cJSON_CreateObject();
			int s = sqlite3_column_int(st, 1);

			if (s < 0 || s >= ORDER_STATE_N) {
				cJSON_Delete(e);
				continue;
			}
			cJSON_AddNumberToObject(e, "at_ms", (double)sqlite3_column_int64(st, 0));
			cJSON_AddStringToObject(e, "state", order_state_name(s));
			cJSON_AddStringToObject(e, "zh", public_zh[s]);
			cJSON_AddStringToObject(e, "en", public_en[s]);
			cJSON_AddItemToArray(tl, e);
		}
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&o->lock);
	free(ord);
	if (ret < 0) {
		cJSON_Delete(j);
		return ret;
	}
	*out = j;
	return 0;
}

int orders_clock_corrections_json(struct orders *o, int limit, cJSON **out)
{
	char sql[256];
	cJSON *arr;
	int ret;

	*out = NULL;
	if (limit < 1 || limit > 500) {
		return -EINVAL;
	}
	arr = cJSON_CreateArray();
	if (arr == NULL) {
		return -ENOMEM;
	}
	snprintf(sql, sizeof(sql),
		 "SELECT id, at_ms, mono_ms, old_offset_ms, new_offset_ms, shift_ms, seen_by FROM "
		 "clock_corrections WHERE ?1 = ?1 ORDER BY id DESC LIMIT %d",
		 limit);
	pthread_mutex_lock(&o->lock);
	ret = rows_json(o->db, sql, 0, arr);
	pthread_mutex_unlock(&o->lock);
	if (ret < 0) {
		cJSON_Delete(arr);
		return ret;
	}
	*out = arr;
	return 0;
}
