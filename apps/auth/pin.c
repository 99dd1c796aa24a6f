/*
 * PINs: the PBKDF2-HMAC-SHA256 hash (mbedTLS), the rules a new PIN must
 * pass, constant-time comparison, and the names of roles and user ids.
 *
 * The design decision: the iteration count is a parameter, stored with
 * each hash, so the cost can be raised in a later firmware without
 * invalidating existing PINs, and tests can use a small count.
 */
#include <errno.h>
#include <string.h>

#include <mbedtls/md.h>
#include <mbedtls/pkcs5.h>

#include "auth/auth.h"

int auth_pin_hash(const char *pin, size_t pin_len, const uint8_t salt[AUTH_SALT_LEN],
		  uint32_t iterations, uint8_t out[AUTH_HASH_LEN])
{
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
	mbedtls_md_context_t ctx;
	int ret = -EINVAL;

	if (pin == NULL || salt == NULL || out == NULL || iterations == 0 || md == NULL) {
		return -EINVAL;
	}
	mbedtls_md_init(&ctx);
	if (mbedtls_md_setup(&ctx, md, 1) != 0) {
		ret = -ENOMEM;
		goto out;
	}
	if (mbedtls_pkcs5_pbkdf2_hmac(&ctx, (const unsigned char *)pin, pin_len, salt,
				      AUTH_SALT_LEN, iterations, AUTH_HASH_LEN, out) != 0) {
		ret = -EINVAL;
		goto out;
	}
	ret = 0;
out:
	mbedtls_md_free(&ctx);
	return ret;
}

bool auth_equal(const void *x, const void *y, size_t n)
{
	const volatile unsigned char *a = x;
	const volatile unsigned char *b = y;
	unsigned char d = 0;

	for (size_t i = 0; i < n; i++) {
		d |= a[i] ^ b[i];
	}
	return d == 0;
}

static bool is_run(const char *pin, size_t n, int step)
{
	for (size_t i = 1; i < n; i++) {
		if ((int)(unsigned char)pin[i] - (int)(unsigned char)pin[i - 1] != step) {
			return false;
		}
	}
	return true;
}

int auth_pin_check(const char *pin, const char *user_id, const char **en, const char **zh)
{
	const char *why_en = NULL, *why_zh = NULL;
	size_t n = pin != NULL ? strnlen(pin, AUTH_PIN_MAX + 1) : 0;

	if (n < AUTH_PIN_MIN || n > AUTH_PIN_MAX) {
		why_en = "The PIN must have 6 to 32 characters.";
		why_zh = "密码须为 6 到 32 位。";
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)pin[i] < 0x20 || (unsigned char)pin[i] > 0x7e) {
			why_en = "The PIN may hold digits, Latin letters and the usual "
				 "symbols only.";
			why_zh = "密码只能包含数字、英文字母和常用符号。";
			goto out;
		}
	}
	if (is_run(pin, n, 0)) {
		why_en = "The PIN is one character repeated; choose one that is harder to "
			 "guess.";
		why_zh = "密码不能全是同一个字符，请换一个不易猜到的密码。";
		goto out;
	}
	if (is_run(pin, n, 1) || is_run(pin, n, -1)) {
		why_en = "The PIN is a simple sequence such as 123456; choose one that is "
			 "harder to guess.";
		why_zh = "密码不能是 123456 这样的连续序列，请换一个不易猜到的密码。";
		goto out;
	}
	if (user_id != NULL && strcmp(pin, user_id) == 0) {
		why_en = "The PIN must not be the same as the user id.";
		why_zh = "密码不能与用户名相同。";
		goto out;
	}
	return 0;
out:
	if (en != NULL) {
		*en = why_en;
	}
	if (zh != NULL) {
		*zh = why_zh;
	}
	return -EINVAL;
}

bool auth_user_id_valid(const char *id)
{
	size_t n = id != NULL ? strnlen(id, AUTH_USER_ID_MAX + 1) : 0;

	if (n == 0 || n > AUTH_USER_ID_MAX) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		char c = id[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-')) {
			return false;
		}
	}
	return true;
}

const char *auth_role_name(unsigned role)
{
	const char *name = kiosk_role_name(role);

	/* "citizen" (no role, or not one role bit) is nothing an account can be. */
	return strcmp(name, "citizen") != 0 ? name : NULL;
}

unsigned auth_role_parse(const char *name)
{
	if (name == NULL) {
		return 0;
	}
	if (strcmp(name, "staff") == 0) {
		return KIOSK_ROLE_STAFF;
	}
	if (strcmp(name, "supervisor") == 0) {
		return KIOSK_ROLE_SUPERVISOR;
	}
	if (strcmp(name, "technician") == 0) {
		return KIOSK_ROLE_TECHNICIAN;
	}
	return 0;
}
