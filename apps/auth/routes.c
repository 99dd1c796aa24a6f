/*
 * The HTTP routes of staff accounts: login, logout, me, and the
 * supervisor's user management (docs/security-auth.md has the table).
 *
 * The design decision: handlers never decide who may call them. The
 * route's `roles` mask, checked by auth_authorize() before the body is
 * read, does that in one place; a handler only reads req->user_id for the
 * audit log and applies rules about the data (a supervisor cannot disable
 * or demote themselves).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "auth_internal.h"
#include "fw/log.h"

#define SET_COOKIE_FMT	AUTH_COOKIE "=%s; HttpOnly; SameSite=Strict; Path=/"
#define CLEAR_COOKIE	AUTH_COOKIE "=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"
#define USER_ACTION_MAX (AUTH_USER_ID_MAX + 16)

static int bad_request(struct kiosk_request *req)
{
	return kiosk_reply_error(req, 400, "bad_request",
				 "The request is not valid JSON with the expected fields.",
				 "请求格式无效，缺少所需的字段。");
}

static cJSON *user_json(const struct auth_user *u, bool full)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL || cJSON_AddStringToObject(o, "id", u->id) == NULL ||
	    cJSON_AddStringToObject(o, "name", u->name) == NULL ||
	    cJSON_AddStringToObject(
		    o, "role", auth_role_name(u->role) ? auth_role_name(u->role) : "") == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	if (full &&
	    (cJSON_AddBoolToObject(o, "disabled", u->disabled) == NULL ||
	     cJSON_AddNumberToObject(o, "failed_count", u->failed_count) == NULL ||
	     cJSON_AddNumberToObject(o, "locked_until_ms", (double)u->locked_until_ms) == NULL)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* {"user": {...}, "csrf", "idle_timeout_s", "expires_ms"} */
static int reply_session(struct kiosk_request *req, struct auth *a, const struct auth_user *u,
			 const char *csrf, int64_t expires_ms)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *uj = user_json(u, false);
	int ret = -ENOMEM;

	if (root == NULL || uj == NULL) {
		cJSON_Delete(uj);
		goto out;
	}
	cJSON_AddItemToObject(root, "user", uj);
	if (cJSON_AddStringToObject(root, "csrf", csrf) == NULL ||
	    cJSON_AddNumberToObject(root, "idle_timeout_s", a->idle_timeout_s) == NULL ||
	    cJSON_AddNumberToObject(root, "expires_ms", (double)expires_ms) == NULL) {
		goto out;
	}
	ret = kiosk_reply_json(req, 200, root);
out:
	cJSON_Delete(root);
	return ret;
}

static const char *json_str(const cJSON *o, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

/* Overwrite a string held by cJSON (a PIN) before it is freed. */
static void wipe(cJSON *o, const char *key)
{
	char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));

	if (s != NULL) {
		memset(s, 0, strlen(s));
	}
}

static int login_route(struct kiosk_request *req, void *arg)
{
	struct auth *a = arg;
	struct auth_login out;
	char old[AUTH_TOKEN_HEX + 1], cookie[AUTH_TOKEN_HEX + 64];
	const char *user, *pin;
	cJSON *body;
	int ret;

	if (req->body_len > AUTH_LOGIN_BODY_MAX) {
		return kiosk_reply_error(req, 413, "payload_too_large",
					 "The login request is larger than 1 KiB.",
					 "登录请求超过 1 KiB 的上限。");
	}
	body = kiosk_req_json(req);
	user = json_str(body, "user");
	pin = json_str(body, "pin");
	if (!cJSON_IsObject(body) || user == NULL || pin == NULL) {
		wipe(body, "pin");
		cJSON_Delete(body);
		return bad_request(req);
	}
	ret = auth_login(a, user, pin, &out);
	wipe(body, "pin");
	cJSON_Delete(body);
	if (ret == -EACCES) {
		return kiosk_reply_error(req, 401, "bad_credentials",
					 "The user id or PIN is wrong.", "用户名或密码错误。");
	}
	if (ret == -EAGAIN) {
		cJSON *root = cJSON_CreateObject();
		cJSON *e = cJSON_AddObjectToObject(root, "error");
		char retry[24];

		ret = -ENOMEM;
		if (e != NULL && cJSON_AddStringToObject(e, "code", "locked") != NULL &&
		    cJSON_AddStringToObject(e, "message",
					    "Too many wrong PINs: this account is locked for a "
					    "while. Try again later or ask a supervisor to reset "
					    "the PIN.") != NULL &&
		    cJSON_AddStringToObject(e, "message_zh",
					    "密码错误次数过多，账号已暂时锁定。请稍后再试，"
					    "或请主管重置密码。") != NULL &&
		    cJSON_AddNumberToObject(e, "retry_after_s", (double)out.retry_after_s) !=
			    NULL &&
		    cJSON_AddNumberToObject(root, "retry_after_s", (double)out.retry_after_s) !=
			    NULL) {
			ret = kiosk_reply_json(req, 423, root);
		}
		cJSON_Delete(root);
		snprintf(retry, sizeof(retry), "%lld", (long long)out.retry_after_s);
		if (ret == 0) {
			ret = kiosk_reply_header(req, "Retry-After", retry);
		}
		return ret;
	}
	if (ret < 0) {
		return ret;
	}
	/* A session this browser held before is over. */
	if (auth_cookie_token(kiosk_req_header(req, "Cookie"), old)) {
		sessions_close(&a->sessions, old);
	}
	ret = reply_session(req, a, &out.user, out.csrf, out.expires_ms);
	snprintf(cookie, sizeof(cookie), SET_COOKIE_FMT, out.token);
	if (ret == 0) {
		ret = kiosk_reply_header(req, "Set-Cookie", cookie);
	}
	memset(&out, 0, sizeof(out));
	memset(cookie, 0, sizeof(cookie));
	return ret;
}

static int logout_route(struct kiosk_request *req, void *arg)
{
	struct auth *a = arg;
	char token[AUTH_TOKEN_HEX + 1];
	int ret;

	if (auth_cookie_token(kiosk_req_header(req, "Cookie"), token)) {
		auth_logout(a, token);
	}
	ret = kiosk_reply(req, 204, "text/plain; charset=utf-8", "", 0);
	if (ret == 0) {
		ret = kiosk_reply_header(req, "Set-Cookie", CLEAR_COOKIE);
	}
	return ret;
}

static int me_route(struct kiosk_request *req, void *arg)
{
	struct auth *a = arg;
	char token[AUTH_TOKEN_HEX + 1];
	struct auth_session s;
	struct auth_user u;

	/* The hook found the session a moment ago; it may have just ended. */
	if (auth_session_of(a, req, &s, token) != 0) {
		return -EACCES;
	}
	memset(&u, 0, sizeof(u));
	snprintf(u.id, sizeof(u.id), "%s", s.user_id);
	snprintf(u.name, sizeof(u.name), "%s", s.name);
	u.role = s.role;
	return reply_session(req, a, &u, s.csrf, s.expires_wall);
}

/* ---- user management (supervisors) ---- */

static int add_to_array(const struct auth_user *u, void *arg)
{
	cJSON *o = user_json(u, true);

	if (o == NULL) {
		return -ENOMEM;
	}
	cJSON_AddItemToArray(arg, o);
	return 0;
}

static int users_list_route(struct kiosk_request *req, void *arg)
{
	struct auth *a = arg;
	cJSON *root = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(root, "users");
	int ret = -ENOMEM;

	if (arr != NULL) {
		pthread_mutex_lock(&a->db_mu);
		ret = auth_user_each(a->db, add_to_array, arr);
		pthread_mutex_unlock(&a->db_mu);
	}
	if (ret == 0) {
		ret = kiosk_reply_json(req, 200, root);
	}
	cJSON_Delete(root);
	return ret;
}

/* {"user": {...}} of id, with status. */
static int reply_user(struct kiosk_request *req, struct auth *a, unsigned status, const char *id)
{
	struct auth_user u;
	cJSON *root, *uj;
	int ret;

	pthread_mutex_lock(&a->db_mu);
	ret = auth_user_get(a->db, id, &u);
	pthread_mutex_unlock(&a->db_mu);
	if (ret < 0) {
		return ret;
	}
	root = cJSON_CreateObject();
	uj = user_json(&u, true);
	if (root == NULL || uj == NULL) {
		cJSON_Delete(root);
		cJSON_Delete(uj);
		return -ENOMEM;
	}
	cJSON_AddItemToObject(root, "user", uj);
	return kiosk_reply_obj(req, status, root);
}

/* The answer to a refused change: weak PIN, taken id, bad field, unknown user. */
static int reply_refused(struct kiosk_request *req, int ret, const char *en, const char *zh)
{
	if (ret == -EINVAL && en != NULL) {
		return kiosk_reply_error(req, 400, "weak_pin", en, zh);
	}
	if (ret == -EEXIST) {
		return kiosk_reply_error(req, 409, "exists", "A user with this id already exists.",
					 "该用户名已存在。");
	}
	if (ret == -ENOENT) {
		return kiosk_reply_error(req, 404, "no_such_user", "There is no such user.",
					 "没有这个用户。");
	}
	return ret;
}

static int users_add_route(struct kiosk_request *req, void *arg)
{
	struct auth *a = arg;
	struct auth_actor actor = { req->user_id, auth_role_name(req->user_role) };
	const char *en = NULL, *zh = NULL;
	char id[AUTH_USER_ID_MAX + 1];
	const char *name, *pin;
	cJSON *body = kiosk_req_json(req);
	unsigned role;
	int ret;

	const cJSON *name_item = cJSON_GetObjectItemCaseSensitive(body, "name");

	name = cJSON_GetStringValue(name_item);
	pin = json_str(body, "pin");
	role = auth_role_parse(json_str(body, "role"));
	if (!cJSON_IsObject(body) || pin == NULL || (name_item != NULL && name == NULL)) {
		ret = bad_request(req);
		goto out;
	}
	if (!auth_user_id_valid(json_str(body, "id"))) {
		ret = kiosk_reply_error(req, 400, "bad_user_id",
					"A user id is 1 to 32 letters, digits, '.', '_' or '-'.",
					"用户名须为 1 到 32 位字母、数字、'.'、'_' 或 '-'。");
		goto out;
	}
	if (role == 0) {
		ret = kiosk_reply_error(req, 400, "bad_role",
					"The role must be staff, supervisor or technician.",
					"角色须为 staff、supervisor 或 technician。");
		goto out;
	}
	snprintf(id, sizeof(id), "%s", json_str(body, "id"));
	pthread_mutex_lock(&a->db_mu);
	ret = auth_user_add(a->db, a->clock, a->iterations, &actor, id, name ? name : "", role, pin,
			    &en, &zh);
	pthread_mutex_unlock(&a->db_mu);
	if (ret == -EINVAL && en == NULL) {
		ret = kiosk_reply_error(req, 400, "bad_name",
					"The name must be at most 64 bytes of text.",
					"姓名过长或含有无效字符（最多 64 字节）。");
	} else if (ret < 0) {
		ret = reply_refused(req, ret, en, zh);
	} else {
		ret = reply_user(req, a, 201, id);
	}
out:
	wipe(body, "pin");
	cJSON_Delete(body);
	return ret;
}

static int own_account(struct kiosk_request *req)
{
	return kiosk_reply_error(req, 409, "own_account",
				 "You cannot disable your own account or take away your own "
				 "supervisor role; ask another supervisor.",
				 "不能停用自己的账号或取消自己的主管角色，请由其他主管操作。");
}

/* POST /api/v1/users/<id>/disable | enable | reset-pin | role */
static int user_action_route(struct kiosk_request *req, void *arg)
{
	struct auth *a = arg;
	struct auth_actor actor = { req->user_id, auth_role_name(req->user_role) };
	const char *en = NULL, *zh = NULL;
	char id[AUTH_USER_ID_MAX + 1];
	const char *slash = strchr(req->rest, '/');
	const char *action;
	bool self;
	cJSON *body = NULL;
	int ret;

	if (slash == NULL || (size_t)(slash - req->rest) > AUTH_USER_ID_MAX) {
		return -ENOENT;
	}
	snprintf(id, sizeof(id), "%.*s", (int)(slash - req->rest), req->rest);
	action = slash + 1;
	if (!auth_user_id_valid(id)) {
		return reply_refused(req, -ENOENT, NULL, NULL);
	}
	self = req->user_id != NULL && strcmp(id, req->user_id) == 0;
	if (strcmp(action, "disable") == 0 || strcmp(action, "enable") == 0) {
		bool disable = action[0] == 'd';

		if (self && disable) {
			return own_account(req);
		}
		pthread_mutex_lock(&a->db_mu);
		ret = auth_user_set_disabled(a->db, a->clock, &actor, id, disable);
		pthread_mutex_unlock(&a->db_mu);
	} else if (strcmp(action, "reset-pin") == 0) {
		const char *pin;

		body = kiosk_req_json(req);
		pin = json_str(body, "pin");
		if (pin == NULL) {
			ret = bad_request(req);
			goto out;
		}
		pthread_mutex_lock(&a->db_mu);
		ret = auth_user_set_pin(a->db, a->clock, a->iterations, &actor, id, pin, &en, &zh);
		pthread_mutex_unlock(&a->db_mu);
	} else if (strcmp(action, "role") == 0) {
		unsigned role;

		body = kiosk_req_json(req);
		role = auth_role_parse(json_str(body, "role"));
		if (role == 0) {
			ret = kiosk_reply_error(req, 400, "bad_role",
						"The role must be staff, supervisor or technician.",
						"角色须为 staff、supervisor 或 technician。");
			goto out;
		}
		if (self && role != KIOSK_ROLE_SUPERVISOR) {
			ret = own_account(req);
			goto out;
		}
		pthread_mutex_lock(&a->db_mu);
		ret = auth_user_set_role(a->db, a->clock, &actor, id, role);
		pthread_mutex_unlock(&a->db_mu);
	} else {
		return -ENOENT;
	}
	if (ret < 0) {
		ret = reply_refused(req, ret, en, zh);
		goto out;
	}
	/* This process's sessions end now; the generation check catches the rest. */
	sessions_close_user(&a->sessions, id);
	ret = reply_user(req, a, 200, id);
out:
	wipe(body, "pin");
	cJSON_Delete(body);
	return ret;
}

int auth_routes_register(struct kiosk *k, struct auth *a)
{
	const struct kiosk_route routes[] = {
		{ "POST", "/api/v1/auth/login", false, KIOSK_ROLE_PUBLIC, login_route, a },
		{ "POST", "/api/v1/auth/logout", false, AUTH_ROLES_ALL, logout_route, a },
		{ "GET", "/api/v1/auth/me", false, AUTH_ROLES_ALL, me_route, a },
		{ "GET", "/api/v1/users", false, AUTH_ROLES_SUPV, users_list_route, a },
		{ "POST", "/api/v1/users", false, AUTH_ROLES_SUPV, users_add_route, a },
		{ "POST", "/api/v1/users/", true, AUTH_ROLES_SUPV, user_action_route, a },
	};

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		int ret = kiosk_route_add(k, &routes[i]);

		if (ret < 0) {
			return ret;
		}
	}
	return 0;
}
