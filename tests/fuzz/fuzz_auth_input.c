/*
 * libFuzzer target for the hand-written parsers of the auth app: the
 * Cookie header (he_session token), the PIN rules, user ids and role names.
 * The input is split at the first NUL: cookie header, then the PIN/id text.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "auth_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char token[AUTH_TOKEN_HEX + 1];
	const char *en = NULL, *zh = NULL;
	char *buf = malloc(size + 2);
	const char *second;

	if (!buf) {
		return 0;
	}
	memcpy(buf, data, size);
	buf[size] = '\0';
	buf[size + 1] = '\0';
	second = buf + strlen(buf) + 1;

	if (auth_cookie_token(buf, token) && strlen(token) != AUTH_TOKEN_HEX) {
		__builtin_trap();
	}
	if (auth_pin_check(second, "zhang01", &en, &zh) < 0 && (!en || !zh || !*en || !*zh)) {
		__builtin_trap(); /* a refused PIN always says why, in both languages */
	}
	(void)auth_user_id_valid(second);
	(void)auth_role_parse(second);
	free(buf);
	return 0;
}
