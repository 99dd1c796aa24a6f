/*
 * citysim's subcommands: what a person at the city does (dispatch an
 * order, decide a return or an extension, urge, record a visit result,
 * recall, push a calendar year) becomes an item in the store for the
 * device to pull, in the shapes of docs/orders.md ("City items") and
 * docs/working-days.md; the device access list (enroll, revoke: the server
 * refuses a revoked device, and with --enrolled-only an unknown one); and
 * two read-outs (events, status). They work on
 * --data DIR while the server runs: every write is one transaction, and
 * SQLite's locks arbitrate.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "citysim.h"

#define OPT_MAX 24

struct args {
	const char *cmd;
	const char *names[OPT_MAX];
	const char *values[OPT_MAX]; /* NULL for a flag */
	int n;
	const char *data;
};

static const char *const flags[] = { "--approve", "--reject", NULL };

static const struct command {
	const char *name;
	const char *allowed; /* options it takes, space separated */
	const char *usage;
} commands[] = {
	{ "dispatch",
	  "--device --number --category --title --content --phone --name --urgency "
	  "--complexity --channel --field --location --code",
	  "dispatch --device D [--number N] [--category C] [--title T] [--content TEXT]\n"
	  "         [--phone P] [--name NAME] [--urgency U] [--complexity X]\n"
	  "         [--channel CH] [--field F] [--location L] [--code CODE]" },
	{ "decide-return", "--device --number --approve --reject --reason",
	  "decide-return --device D --number N --approve|--reject [--reason R]" },
	{ "decide-extension", "--device --number --approve --reject --due --reason",
	  "decide-extension --device D --number N --approve [--due YYYY-MM-DD] |\n"
	  "                 --reject [--reason R]" },
	{ "notice", "--device --number --kind --text --issued-by",
	  "notice --device D --number N --kind urge|supervise --text T [--issued-by WHO]" },
	{ "visit", "--device --number --result --reason",
	  "visit --device D --number N --result satisfied|lawful|unsatisfied [--reason R]" },
	{ "recall", "--device --number --reason", "recall --device D --number N --reason R" },
	{ "calendar", "--year --file", "calendar --year Y --file F" },
	{ "table", "--kind --file", "table --kind codes|departments --file F" },
	{ "events", "--device --type", "events --device D [--type T]" },
	{ "status", "", "status" },
	{ "enroll", "--device", "enroll --device D" },
	{ "revoke", "--device --reason", "revoke --device D [--reason R]" },
};

bool cs_cli_is_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].name, name) == 0) {
			return true;
		}
	}
	return false;
}

static const struct command *find(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].name, name) == 0) {
			return &commands[i];
		}
	}
	return NULL;
}

static bool is_flag(const char *a)
{
	for (int i = 0; flags[i] != NULL; i++) {
		if (strcmp(flags[i], a) == 0) {
			return true;
		}
	}
	return false;
}

static bool allowed(const struct command *c, const char *opt)
{
	size_t n = strlen(opt);

	for (const char *p = c->allowed; (p = strstr(p, opt)) != NULL; p += n) {
		if ((p == c->allowed || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0')) {
			return true;
		}
	}
	return false;
}

static const char *get(const struct args *a, const char *name)
{
	for (int i = 0; i < a->n; i++) {
		if (strcmp(a->names[i], name) == 0) {
			return a->values[i] ? a->values[i] : "";
		}
	}
	return NULL;
}

static int usage_err(const struct command *c, const char *why)
{
	fprintf(stderr, "citysim %s: %s\nusage: citysim %s --data DIR ...\n  citysim %s\n", c->name,
		why, c->name, c->usage);
	return 2;
}

static int parse(int argc, char **argv, const struct command *c, struct args *a)
{
	char why[160];

	memset(a, 0, sizeof(*a));
	a->cmd = c->name;
	for (int i = 2; i < argc; i++) {
		const char *o = argv[i];

		if (strcmp(o, "--help") == 0) {
			printf("usage: citysim %s --data DIR ...\n  citysim %s\n", c->name,
			       c->usage);
			exit(0);
		}
		if (strcmp(o, "--data") == 0 && i + 1 < argc) {
			a->data = argv[++i];
			continue;
		}
		if (!allowed(c, o)) {
			snprintf(why, sizeof(why), "unknown option %.60s", o);
			return usage_err(c, why);
		}
		if (get(a, o) != NULL || a->n == OPT_MAX) {
			snprintf(why, sizeof(why), "%.60s given twice", o);
			return usage_err(c, why);
		}
		a->names[a->n] = o;
		if (!is_flag(o)) {
			if (i + 1 >= argc) {
				snprintf(why, sizeof(why), "%.60s needs a value", o);
				return usage_err(c, why);
			}
			a->values[a->n] = argv[++i];
		}
		a->n++;
	}
	if (a->data == NULL) {
		return usage_err(c, "--data DIR is required (the directory citysim serves from)");
	}
	return 0;
}

/* UTF-8 without control characters (newlines allowed when multiline). */
static bool text_ok(const char *s, size_t cap, bool multiline)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);

	if (n == 0 || n >= cap) {
		return false;
	}
	while (*p != '\0') {
		int len = *p < 0x80	    ? 1
			  : (*p >> 5) == 6  ? 2
			  : (*p >> 4) == 14 ? 3
			  : (*p >> 3) == 30 ? 4
					    : 0;

		if (len == 0) {
			return false;
		}
		if (len == 1 && (*p < 0x20 || *p == 0x7f) && !(multiline && *p == '\n')) {
			return false;
		}
		for (int k = 1; k < len; k++) {
			if ((p[k] & 0xc0) != 0x80) {
				return false;
			}
		}
		p += len;
	}
	return true;
}

static bool one_of(const char *v, const char *const *names)
{
	for (int i = 0; names[i] != NULL; i++) {
		if (strcmp(v, names[i]) == 0) {
			return true;
		}
	}
	return false;
}

static void new_item_id(const char *prefix, char *out, size_t cap)
{
	unsigned char r[4] = { 0 };

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		unsigned int x = (unsigned int)clock();

		memcpy(r, &x, sizeof(r));
	}
	snprintf(out, cap, "%s-%lld-%02x%02x%02x%02x", prefix, (long long)cs_now_ms(), r[0], r[1],
		 r[2], r[3]);
}

/* Store one item in its own transaction (the caller may have begun one). */
static int insert_item(struct cs_store *s, const char *device, cJSON *item, bool in_tx)
{
	sqlite3_stmt *st = NULL;
	char *json = cJSON_PrintUnformatted(item);
	int ret = json ? 0 : -ENOMEM;

	if (ret == 0 && !in_tx) {
		ret = cs_store_begin(s);
	}
	if (ret == 0 &&
	    sqlite3_prepare_v2(s->db,
			       "INSERT INTO items(item_id, device, type, json, created_ms) "
			       "VALUES (?1, ?2, ?3, ?4, ?5)",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, cJSON_GetObjectItem(item, "item_id")->valuestring, -1,
				  SQLITE_STATIC);
		sqlite3_bind_text(st, 2, device, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, cJSON_GetObjectItem(item, "type")->valuestring, -1,
				  SQLITE_STATIC);
		sqlite3_bind_text(st, 4, json, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, cs_now_ms());
		ret = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
	} else if (ret == 0) {
		ret = -EIO;
	}
	if (ret == -EIO) {
		fprintf(stderr, "citysim: cannot store the item: %s\n", sqlite3_errmsg(s->db));
	}
	sqlite3_finalize(st);
	if (ret == 0) {
		ret = cs_store_commit(s);
	} else {
		cs_store_rollback(s);
	}
	free(json);
	return ret;
}

/* Was order number dispatched to device? @retval 1 yes, 0 no, -EIO */
static int number_known(struct cs_store *s, const char *device, const char *number)
{
	sqlite3_stmt *st = NULL;
	int ret = -EIO;

	if (sqlite3_prepare_v2(s->db,
			       "SELECT 1 FROM items WHERE type='order.dispatch' AND device=?1 "
			       "AND json_extract(json, '$.number')=?2 LIMIT 1",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, number, -1, SQLITE_STATIC);
		int rc = sqlite3_step(st);

		ret = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -EIO;
	}
	sqlite3_finalize(st);
	return ret;
}

static int fail(const char *cmd, const char *en, const char *zh)
{
	fprintf(stderr, "citysim %s: %s / %s\n", cmd, en, zh);
	return 1;
}

/* ---- device access ------------------------------------------------------- */

static const char access_schema[] = "CREATE TABLE IF NOT EXISTS device_access("
				    "device TEXT PRIMARY KEY, enrolled_ms INTEGER NOT NULL,"
				    " revoked_ms INTEGER, reason TEXT)";

int cs_access_init(struct cs_store *s)
{
	int rc = sqlite3_exec(s->db, access_schema, NULL, NULL, NULL);

	if (rc != SQLITE_OK) {
		fprintf(stderr, "citysim: store: device_access: %s\n", sqlite3_errmsg(s->db));
		return -EIO;
	}
	return 0;
}

int cs_access_check(struct cs_store *s, const char *device, bool enrolled_only)
{
	sqlite3_stmt *st = NULL;
	int ret = -EIO;
	int rc;

	pthread_mutex_lock(&s->lock);
	rc = sqlite3_prepare_v2(s->db, "SELECT revoked_ms FROM device_access WHERE device=?1", -1,
				&st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			ret = sqlite3_column_type(st, 0) == SQLITE_NULL ? CS_ACCESS_OK
									: CS_ACCESS_REVOKED;
		} else if (rc == SQLITE_DONE) {
			ret = enrolled_only ? CS_ACCESS_UNKNOWN : CS_ACCESS_OK;
		}
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return ret;
}

/* enroll: (again) accepted; revoke: refused from its next request on. */
static int cmd_access(struct cs_store *s, const struct args *a, bool revoke)
{
	const char *reason = get(a, "--reason");
	sqlite3_stmt *st = NULL;
	int rc;

	if (reason != NULL && !text_ok(reason, 200, false)) {
		return fail(a->cmd, "--reason must be one line of text", "--reason 须为一行文字");
	}
	if (cs_access_init(s) != 0) {
		return fail(a->cmd, "the store cannot be written", "存储不可写");
	}
	rc = sqlite3_prepare_v2(
		s->db,
		revoke ? "INSERT INTO device_access(device, enrolled_ms, revoked_ms,"
			 " reason) VALUES (?1, ?2, ?2, ?3) ON CONFLICT(device) DO "
			 "UPDATE SET revoked_ms = ?2, reason = ?3"
		       : "INSERT INTO device_access(device, enrolled_ms) VALUES "
			 "(?1, ?2) ON CONFLICT(device) DO UPDATE SET "
			 "revoked_ms = NULL, reason = NULL",
		-1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, get(a, "--device"), -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, cs_now_ms());
		if (revoke) {
			sqlite3_bind_text(st, 3, reason, -1, SQLITE_STATIC);
		}
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		return fail(a->cmd, "the store cannot be written", "存储不可写");
	}
	printf("%s\n", get(a, "--device"));
	return 0;
}

/* ---- dispatch ------------------------------------------------------------ */

static const char *const categories[] = { "consult", "help",	   "complaint",
					  "report",  "suggestion", NULL };
static const char *const urgencies[] = { "normal", "urgent", NULL };
static const char *const complexities[] = { "simple", "complex", "difficult", NULL };
static const char *const channels[] = { "phone",  "web", "wechat",  "app", "sms",
					"letter", "fax", "walk_in", NULL };
static const char *const fields[] = { "economy",	"market",      "social",
				      "public_service", "environment", NULL };

/* A fresh order number GD<year><6 digits>, in the open transaction. */
static int fresh_number(struct cs_store *s, char *out, size_t cap)
{
	sqlite3_stmt *st = NULL;
	time_t now = time(NULL);
	struct tm tm;
	int64_t n = 0;
	int ret = -EIO;

	localtime_r(&now, &tm);
	if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM items WHERE type='order.dispatch'", -1,
			       &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		n = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(s->db,
			       "SELECT 1 FROM items WHERE type='order.dispatch' AND "
			       "json_extract(json, '$.number')=?1",
			       -1, &st, NULL) != SQLITE_OK) {
		return -EIO;
	}
	for (int tries = 0; tries < 1000; tries++) {
		int rc;

		snprintf(out, cap, "GD%04d%06lld", tm.tm_year + 1900, (long long)(++n % 1000000));
		sqlite3_bind_text(st, 1, out, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc == SQLITE_DONE) {
			ret = 0;
			break;
		}
		if (rc != SQLITE_ROW) {
			break;
		}
	}
	sqlite3_finalize(st);
	return ret;
}

/* The option's value, or def. */
static const char *get_or(const struct args *a, const char *name, const char *def)
{
	const char *v = get(a, name);

	return v != NULL ? v : def;
}

static int cmd_dispatch(struct cs_store *s, const struct args *a)
{
	const char *device = get(a, "--device");
	const char *number = get(a, "--number");
	const char *category = get_or(a, "--category", "complaint");
	const char *title = get_or(a, "--title", "路灯不亮");
	const char *content =
		get_or(a, "--content", "小区门口的路灯坏了一个星期，晚上出行不便，请尽快修复。");
	const char *urgency = get_or(a, "--urgency", "normal");
	const char *complexity = get_or(a, "--complexity", "simple");
	const char *channel = get_or(a, "--channel", "phone");
	const char *field = get_or(a, "--field", "public_service");
	const char *location = get(a, "--location");
	const char *code = get(a, "--code");
	const char *phone = get(a, "--phone");
	const char *name = get(a, "--name");
	char num[32], id[CS_ID_MAX + 1];
	cJSON *it;
	int ret;

	if (!one_of(category, categories)) {
		return fail(a->cmd, "--category: consult, help, complaint, report or suggestion",
			    "--category：consult、help、complaint、report或suggestion");
	}
	if (!one_of(urgency, urgencies)) {
		return fail(a->cmd, "--urgency: normal or urgent", "--urgency：normal或urgent");
	}
	if (!one_of(complexity, complexities)) {
		return fail(a->cmd, "--complexity: simple, complex or difficult",
			    "--complexity：simple、complex或difficult");
	}
	if (!one_of(channel, channels)) {
		return fail(a->cmd, "--channel: phone, web, wechat, app, sms, letter, fax, walk_in",
			    "--channel：phone、web、wechat、app、sms、letter、fax、walk_in");
	}
	if (!one_of(field, fields)) {
		return fail(a->cmd, "--field: economy, market, social, public_service, environment",
			    "--field：economy、market、social、public_service、environment");
	}
	if (number != NULL && !cs_code_ok(number, 31)) {
		return fail(a->cmd, "--number: 1-31 of A-Z a-z 0-9 . _ -",
			    "--number：1至31个字母、数字或. _ -");
	}
	if (!text_ok(title, 256, false) || !text_ok(content, 8192, true) ||
	    (location && !text_ok(location, 256, false)) || (code && !cs_code_ok(code, 31)) ||
	    (name && !text_ok(name, 64, false)) || (phone && !text_ok(phone, 32, false))) {
		return fail(a->cmd,
			    "a text is empty, too long or holds control characters (or --code is "
			    "not 1-31 of A-Z a-z 0-9 . _ -)",
			    "有文字为空、过长或含控制字符（或--code无效）");
	}
	if ((ret = cs_store_begin(s)) != 0) {
		return fail(a->cmd, "the store is busy or broken", "存储繁忙或损坏");
	}
	if (number == NULL) {
		if (fresh_number(s, num, sizeof(num)) != 0) {
			cs_store_rollback(s);
			return fail(a->cmd, "no fresh order number", "无法生成新的工单编号");
		}
		number = num;
	}
	new_item_id("d", id, sizeof(id));
	it = cJSON_CreateObject();
	cJSON_AddStringToObject(it, "type", "order.dispatch");
	cJSON_AddStringToObject(it, "item_id", id);
	cJSON_AddStringToObject(it, "number", number);
	cJSON_AddStringToObject(it, "channel", channel);
	cJSON_AddStringToObject(it, "category", category);
	cJSON_AddStringToObject(it, "field", field);
	if (code != NULL) {
		cJSON_AddStringToObject(it, "code", code);
	}
	cJSON_AddStringToObject(it, "title", title);
	cJSON_AddStringToObject(it, "content", content);
	if (location != NULL) {
		cJSON_AddStringToObject(it, "location", location);
	}
	cJSON_AddStringToObject(it, "urgency", urgency);
	cJSON_AddStringToObject(it, "complexity", complexity);
	cJSON_AddNumberToObject(it, "dispatch_ms", (double)cs_now_ms());
	if (name != NULL || phone != NULL) {
		cJSON *c = cJSON_AddObjectToObject(it, "contact");

		if (name != NULL) {
			cJSON_AddStringToObject(c, "name", name);
		}
		if (phone != NULL) {
			cJSON_AddStringToObject(c, "phone", phone);
		}
	}
	cJSON_AddBoolToObject(it, "hide_identity", false);
	ret = insert_item(s, device, it, true);
	cJSON_Delete(it);
	if (ret != 0) {
		return fail(a->cmd, "the item was not stored", "事项未能保存");
	}
	printf("%s\n", number);
	return 0;
}

/* ---- decisions on an order ----------------------------------------------- */

/* Check --device/--number, make the item's head. NULL: an error was said. */
static cJSON *order_item(struct cs_store *s, const struct args *a, const char *type,
			 const char *prefix)
{
	const char *device = get(a, "--device");
	const char *number = get(a, "--number");
	char id[CS_ID_MAX + 1];
	cJSON *it;
	int known;

	if (number == NULL || !cs_code_ok(number, 31)) {
		fail(a->cmd, "--number N is required (1-31 of A-Z a-z 0-9 . _ -)",
		     "须给出--number（1至31个字母、数字或. _ -）");
		return NULL;
	}
	known = number_known(s, device, number);
	if (known <= 0) {
		char en[200], zh[200];

		snprintf(en, sizeof(en), "no order %s was dispatched to %s", number, device);
		snprintf(zh, sizeof(zh), "未向%s派发过工单%s", device, number);
		fail(a->cmd, known < 0 ? "the store cannot be read" : en,
		     known < 0 ? "存储不可读" : zh);
		return NULL;
	}
	new_item_id(prefix, id, sizeof(id));
	it = cJSON_CreateObject();
	cJSON_AddStringToObject(it, "type", type);
	cJSON_AddStringToObject(it, "item_id", id);
	cJSON_AddStringToObject(it, "number", number);
	return it;
}

static int finish(struct cs_store *s, const struct args *a, cJSON *it)
{
	int ret = insert_item(s, get(a, "--device"), it, false);

	if (ret == 0) {
		printf("%s\n", cJSON_GetObjectItem(it, "item_id")->valuestring);
	}
	cJSON_Delete(it);
	return ret == 0 ? 0 : fail(a->cmd, "the item was not stored", "事项未能保存");
}

static int approve_or_reject(const struct args *a, bool *approved)
{
	bool ap = get(a, "--approve") != NULL, rj = get(a, "--reject") != NULL;

	if (ap == rj) {
		return fail(a->cmd, "give exactly one of --approve and --reject",
			    "--approve与--reject须且只能给一个");
	}
	*approved = ap;
	return 0;
}

static bool reason_ok(const struct args *a, const char *reason)
{
	if (!text_ok(reason, 4096, true)) {
		fail(a->cmd, "--reason is empty, too long or holds control characters",
		     "--reason为空、过长或含控制字符");
		return false;
	}
	return true;
}

static bool date_ok(const char *d)
{
	int y, m, day;
	char tail;

	return strlen(d) == 10 && sscanf(d, "%4d-%2d-%2d%c", &y, &m, &day, &tail) == 3 &&
	       d[4] == '-' && d[7] == '-' && y >= 2000 && y < 2100 && m >= 1 && m <= 12 &&
	       day >= 1 && day <= 31;
}

/*
 * A decision on a county's request (return or extension): --approve or
 * --reject, a reason (a standard one for a rejection without --reason, the
 * appliance requires one), and for an approved extension an optional --due.
 */
static int decide(struct cs_store *s, const struct args *a, const char *type, const char *idp,
		  const char *reject_reason)
{
	const char *reason = get(a, "--reason");
	const char *due = get(a, "--due");
	bool approved = false;
	cJSON *it;

	if (approve_or_reject(a, &approved) != 0) {
		return 1;
	}
	if (due != NULL && (!approved || !date_ok(due))) {
		return fail(a->cmd, "--due YYYY-MM-DD goes with --approve only",
			    "--due YYYY-MM-DD只能与--approve一起给出");
	}
	if (!approved && reason == NULL) {
		reason = reject_reason;
	}
	if (reason != NULL && !reason_ok(a, reason)) {
		return 1;
	}
	if ((it = order_item(s, a, type, idp)) == NULL) {
		return 1;
	}
	cJSON_AddStringToObject(it, "decision", approved ? "approved" : "rejected");
	if (due != NULL) {
		cJSON_AddStringToObject(it, "due_date", due);
	}
	if (reason != NULL) {
		cJSON_AddStringToObject(it, "reason", reason);
	}
	return finish(s, a, it);
}

static int cmd_decide_return(struct cs_store *s, const struct args *a)
{
	return decide(s, a, "order.return_decision", "r", "退回理由不充分，请继续办理");
}

static int cmd_decide_extension(struct cs_store *s, const struct args *a)
{
	return decide(s, a, "order.extension_decision", "x", "延期理由不充分，请按期办结");
}

static int cmd_notice(struct cs_store *s, const struct args *a)
{
	static const char *const kinds[] = { "urge", "supervise", NULL };
	const char *kind = get(a, "--kind");
	const char *text = get(a, "--text");
	const char *by = get(a, "--issued-by");
	cJSON *it;

	if (kind == NULL || !one_of(kind, kinds)) {
		return fail(a->cmd, "--kind urge or supervise is required",
			    "须给出--kind urge或supervise");
	}
	if (text == NULL || !text_ok(text, 4096, true) || (by && !text_ok(by, 128, false))) {
		return fail(a->cmd, "--text is required (no control characters, under 4 KiB)",
			    "须给出--text（不含控制字符，少于4 KiB）");
	}
	if ((it = order_item(s, a, "order.notice", "n")) == NULL) {
		return 1;
	}
	cJSON_AddStringToObject(it, "kind", kind);
	cJSON_AddStringToObject(it, "text", text);
	if (by != NULL) {
		cJSON_AddStringToObject(it, "issued_by", by);
	}
	return finish(s, a, it);
}

static int cmd_visit(struct cs_store *s, const struct args *a)
{
	static const char *const results[] = { "satisfied", "lawful", "unsatisfied", NULL };
	const char *result = get(a, "--result");
	const char *reason = get(a, "--reason");
	cJSON *it;

	if (result == NULL || !one_of(result, results)) {
		return fail(a->cmd, "--result satisfied, lawful or unsatisfied is required",
			    "须给出--result satisfied、lawful或unsatisfied");
	}
	if (strcmp(result, "unsatisfied") == 0 && reason == NULL) {
		reason = "市民对办理结果不满意";
	}
	if (reason != NULL && !reason_ok(a, reason)) {
		return 1;
	}
	if ((it = order_item(s, a, "order.visit_result", "v")) == NULL) {
		return 1;
	}
	cJSON_AddStringToObject(it, "result", result);
	if (reason != NULL) {
		cJSON_AddStringToObject(it, "reason", reason);
	}
	return finish(s, a, it);
}

static int cmd_recall(struct cs_store *s, const struct args *a)
{
	const char *reason = get(a, "--reason");
	cJSON *it;

	if (reason == NULL) {
		return fail(a->cmd, "--reason R is required", "须给出--reason");
	}
	if (!reason_ok(a, reason) || (it = order_item(s, a, "order.recall", "c")) == NULL) {
		return 1;
	}
	cJSON_AddStringToObject(it, "reason", reason);
	return finish(s, a, it);
}

/* ---- calendar ------------------------------------------------------------ */

/* A JSON file of at most 256 KiB, parsed; NULL after saying why. */
static cJSON *read_json_file(const struct args *a, const char *file)
{
	char *text;
	size_t len = 0;
	cJSON *j;
	FILE *f = fopen(file, "rb");

	if (f == NULL) {
		fprintf(stderr, "citysim %s: cannot read %s: %s / 无法读取文件\n", a->cmd, file,
			strerror(errno));
		return NULL;
	}
	text = malloc(256 * 1024 + 1);
	if (text != NULL) {
		len = fread(text, 1, 256 * 1024 + 1, f);
	}
	fclose(f);
	if (text == NULL || len > 256 * 1024) {
		free(text);
		fail(a->cmd, "the file is larger than 256 KiB", "文件超过256 KiB");
		return NULL;
	}
	j = cJSON_ParseWithLength(text, len);
	free(text);
	if (j == NULL) {
		fail(a->cmd, "the file is not JSON", "文件不是JSON");
	}
	return j;
}

/* Store one item for every device and print its id. */
static int insert_for_all(struct cs_store *s, const struct args *a, cJSON *it, const char *id)
{
	if (insert_item(s, "*", it, false) != 0) {
		cJSON_Delete(it);
		return fail(a->cmd, "the item was not stored", "事项未能保存");
	}
	printf("%s\n", id);
	cJSON_Delete(it);
	return 0;
}

static int cmd_calendar(struct cs_store *s, const struct args *a)
{
	const char *ys = get(a, "--year"), *file = get(a, "--file");
	const cJSON *fy, *days;
	char id[CS_ID_MAX + 1];
	cJSON *cal, *it;
	int year;

	if (ys == NULL || file == NULL || sscanf(ys, "%d", &year) != 1 || year < 2000 ||
	    year > 2099) {
		return fail(a->cmd, "--year YYYY (2000-2099) and --file F are required",
			    "须给出--year YYYY（2000至2099）和--file F");
	}
	cal = read_json_file(a, file);
	if (cal == NULL) {
		return 1;
	}
	fy = cJSON_GetObjectItemCaseSensitive(cal, "year");
	days = cJSON_GetObjectItemCaseSensitive(cal, "days");
	if (!cJSON_IsObject(cal) || !cJSON_IsNumber(fy) || fy->valuedouble != year ||
	    !cJSON_IsArray(days)) {
		cJSON_Delete(cal);
		return fail(
			a->cmd,
			"the file is not a calendar year file of that year ({\"year\", \"days\"})",
			"文件不是该年的工作日历文件（{\"year\", \"days\"}）");
	}
	new_item_id("cal", id, sizeof(id));
	it = cJSON_CreateObject();
	cJSON_AddStringToObject(it, "type", "calendar.year");
	cJSON_AddStringToObject(it, "item_id", id);
	cJSON_AddNumberToObject(it, "year", year);
	cJSON_AddItemToObject(it, "calendar", cal);
	return insert_for_all(s, a, it, id);
}

/* The classification code table or the department list, for every device. */
static int cmd_table(struct cs_store *s, const struct args *a)
{
	const char *kind = get(a, "--kind"), *file = get(a, "--file");
	bool codes = kind != NULL && strcmp(kind, "codes") == 0;
	char id[CS_ID_MAX + 1];
	cJSON *rows, *it;

	if (file == NULL || kind == NULL || (!codes && strcmp(kind, "departments") != 0)) {
		return fail(a->cmd, "--kind codes|departments and --file F are required",
			    "须给出--kind codes|departments和--file F");
	}
	rows = read_json_file(a, file);
	if (rows == NULL) {
		return 1;
	}
	if (!cJSON_IsArray(rows) || cJSON_GetArraySize(rows) == 0) {
		cJSON_Delete(rows);
		return fail(a->cmd, "the file must be a JSON array of rows",
			    "文件须为由各行组成的JSON数组");
	}
	new_item_id(codes ? "codes" : "depts", id, sizeof(id));
	it = cJSON_CreateObject();
	cJSON_AddStringToObject(it, "type", codes ? "codes.update" : "departments.update");
	cJSON_AddStringToObject(it, "item_id", id);
	cJSON_AddItemToObject(it, codes ? "codes" : "departments", rows);
	return insert_for_all(s, a, it, id);
}

/* ---- read-outs ----------------------------------------------------------- */

static int cmd_events(struct cs_store *s, const struct args *a)
{
	const char *type = get(a, "--type");
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(s->db,
			       "SELECT db_epoch, seq, event_id, type, at_ms, payload, received_ms "
			       "FROM events WHERE device=?1 AND (?2 IS NULL OR type=?2) "
			       "ORDER BY db_epoch, seq",
			       -1, &st, NULL) != SQLITE_OK) {
		return fail(a->cmd, "the store cannot be read", "存储不可读");
	}
	sqlite3_bind_text(st, 1, get(a, "--device"), -1, SQLITE_STATIC);
	if (type != NULL) {
		sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		cJSON *o = cJSON_CreateObject();
		char *line;

		cJSON_AddStringToObject(o, "device", get(a, "--device"));
		cJSON_AddStringToObject(o, "db_epoch", (const char *)sqlite3_column_text(st, 0));
		cJSON_AddNumberToObject(o, "seq", (double)sqlite3_column_int64(st, 1));
		cJSON_AddStringToObject(o, "event_id", (const char *)sqlite3_column_text(st, 2));
		cJSON_AddStringToObject(o, "type", (const char *)sqlite3_column_text(st, 3));
		cJSON_AddNumberToObject(o, "at_ms", (double)sqlite3_column_int64(st, 4));
		cJSON_AddItemToObject(o, "payload",
				      cJSON_Parse((const char *)sqlite3_column_text(st, 5)));
		cJSON_AddNumberToObject(o, "received_ms", (double)sqlite3_column_int64(st, 6));
		line = cJSON_PrintUnformatted(o);
		if (line != NULL) {
			printf("%s\n", line);
		}
		free(line);
		cJSON_Delete(o);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : fail(a->cmd, "the store cannot be read", "存储不可读");
}

static int cmd_status(struct cs_store *s, const struct args *a)
{
	sqlite3_stmt *st = NULL, *ep = NULL;
	int rc;

	if (sqlite3_prepare_v2(s->db,
			       "SELECT device, first_seen_ms, last_seen_ms,"
			       " (SELECT count(*) FROM events e WHERE e.device=d.device),"
			       " (SELECT count(*) FROM rejected r WHERE r.device=d.device) "
			       "FROM devices d ORDER BY device",
			       -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db,
			       "SELECT db_epoch, acked_upto FROM progress WHERE device=?1 "
			       "ORDER BY updated_ms",
			       -1, &ep, NULL) != SQLITE_OK) {
		sqlite3_finalize(st);
		return fail(a->cmd, "the store cannot be read", "存储不可读");
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		cJSON *o = cJSON_CreateObject();
		cJSON *arr;
		int64_t highest = 0;
		char *line;

		cJSON_AddStringToObject(o, "device", (const char *)sqlite3_column_text(st, 0));
		cJSON_AddNumberToObject(o, "first_seen_ms", (double)sqlite3_column_int64(st, 1));
		cJSON_AddNumberToObject(o, "last_seen_ms", (double)sqlite3_column_int64(st, 2));
		cJSON_AddNumberToObject(o, "events", (double)sqlite3_column_int64(st, 3));
		cJSON_AddNumberToObject(o, "rejected", (double)sqlite3_column_int64(st, 4));
		arr = cJSON_AddArrayToObject(o, "epochs");
		sqlite3_bind_text(ep, 1, (const char *)sqlite3_column_text(st, 0), -1,
				  SQLITE_TRANSIENT);
		while (sqlite3_step(ep) == SQLITE_ROW) {
			cJSON *e = cJSON_CreateObject();

			cJSON_AddStringToObject(e, "db_epoch",
						(const char *)sqlite3_column_text(ep, 0));
			highest = sqlite3_column_int64(ep, 1);
			cJSON_AddNumberToObject(e, "acked_upto", (double)highest);
			cJSON_AddItemToArray(arr, e);
		}
		sqlite3_reset(ep);
		/* the latest epoch's */
		cJSON_AddNumberToObject(o, "acked_upto", (double)highest);
		line = cJSON_PrintUnformatted(o);
		if (line != NULL) {
			printf("%s\n", line);
		}
		free(line);
		cJSON_Delete(o);
	}
	sqlite3_finalize(st);
	sqlite3_finalize(ep);
	return rc == SQLITE_DONE ? 0 : fail(a->cmd, "the store cannot be read", "存储不可读");
}

int cs_cli_main(int argc, char **argv)
{
	const struct command *c = find(argv[1]);
	struct cs_store s;
	struct args a;
	int ret;

	if ((ret = parse(argc, argv, c, &a)) != 0) {
		return ret;
	}
	if (strstr(c->allowed, "--device") != NULL && strcmp(c->name, "calendar") != 0) {
		const char *d = get(&a, "--device");

		if (d == NULL || !cs_code_ok(d, CS_CN_MAX - 1)) {
			return usage_err(c, "--device D is required (the device id, its "
					    "certificate's CN)");
		}
	}
	if (cs_store_open(a.data, &s) != 0) {
		return 1;
	}
	if (strcmp(c->name, "dispatch") == 0) {
		ret = cmd_dispatch(&s, &a);
	} else if (strcmp(c->name, "decide-return") == 0) {
		ret = cmd_decide_return(&s, &a);
	} else if (strcmp(c->name, "decide-extension") == 0) {
		ret = cmd_decide_extension(&s, &a);
	} else if (strcmp(c->name, "notice") == 0) {
		ret = cmd_notice(&s, &a);
	} else if (strcmp(c->name, "visit") == 0) {
		ret = cmd_visit(&s, &a);
	} else if (strcmp(c->name, "recall") == 0) {
		ret = cmd_recall(&s, &a);
	} else if (strcmp(c->name, "calendar") == 0) {
		ret = cmd_calendar(&s, &a);
	} else if (strcmp(c->name, "table") == 0) {
		ret = cmd_table(&s, &a);
	} else if (strcmp(c->name, "events") == 0) {
		ret = cmd_events(&s, &a);
	} else if (strcmp(c->name, "enroll") == 0 || strcmp(c->name, "revoke") == 0) {
		ret = cmd_access(&s, &a, strcmp(c->name, "revoke") == 0);
	} else {
		ret = cmd_status(&s, &a);
	}
	cs_store_close(&s);
	return ret;
}
