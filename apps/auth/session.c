/*
 * The session table: a fixed array of AUTH_SESSIONS_MAX slots behind one
 * mutex, in memory only (a restart logs everyone out, which a kiosk can
 * afford). A slot holds the SHA-256 of its token, never the token, so a
 * memory dump does not hand out live sessions; a lookup hashes the
 * presented token and compares it with every slot in constant time.
 * Timeouts run on the monotonic clock, so a wall-clock correction neither
 * ends nor extends a session.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/sha256.h>

#include "auth_internal.h"
#include "fw/rng.h"

void hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	if (c >= 'A' && c <= 'F') {
		return c - 'A' + 10;
	}
	return -1;
}

/* SHA-256 of the token's bytes; false when it is not 64 hex digits. */
static bool token_hash(const char *token, uint8_t out[AUTH_HASH_LEN])
{
	uint8_t raw[AUTH_TOKEN_LEN];

	if (token == NULL || strnlen(token, AUTH_TOKEN_HEX + 1) != AUTH_TOKEN_HEX) {
		return false;
	}
	for (size_t i = 0; i < AUTH_TOKEN_LEN; i++) {
		int hi = hex_value(token[2 * i]), lo = hex_value(token[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			return false;
		}
		raw[i] = (uint8_t)(hi << 4 | lo);
	}
	mbedtls_sha256_ret(raw, sizeof(raw), out, 0);
	memset(raw, 0, sizeof(raw));
	return true;
}

static bool expired(const struct auth_sessions *t, const struct auth_session *s, int64_t now)
{
	return now - s->last_mono >= t->idle_ms || now - s->created_mono >= t->max_ms;
}

void sessions_init(struct auth_sessions *t, struct hal_clock *clock, int idle_s, int max_s)
{
	memset(t->s, 0, sizeof(t->s));
	pthread_mutex_init(&t->mu, NULL);
	t->clock = clock;
	t->idle_ms = (int64_t)idle_s * 1000;
	t->max_ms = (int64_t)max_s * 1000;
}

void sessions_free(struct auth_sessions *t)
{
	pthread_mutex_lock(&t->mu);
	memset(t->s, 0, sizeof(t->s));
	pthread_mutex_unlock(&t->mu);
	pthread_mutex_destroy(&t->mu);
}

int sessions_open(struct auth_sessions *t, const struct auth_user *u,
		  char token[AUTH_TOKEN_HEX + 1], char csrf[AUTH_TOKEN_HEX + 1],
		  int64_t *expires_wall)
{
	uint8_t raw[2 * AUTH_TOKEN_LEN];
	struct auth_session *slot = NULL;
	int64_t now;

	if (rng_bytes(raw, sizeof(raw)) < 0) {
		return -EIO;
	}
	hex_encode(raw, AUTH_TOKEN_LEN, token);
	hex_encode(raw + AUTH_TOKEN_LEN, AUTH_TOKEN_LEN, csrf);
	memset(raw, 0, sizeof(raw));

	pthread_mutex_lock(&t->mu);
	now = hal_clock_mono_ms(t->clock);
	for (size_t i = 0; i < AUTH_SESSIONS_MAX; i++) {
		struct auth_session *s = &t->s[i];

		if (!s->used || expired(t, s, now)) {
			slot = s;
			break;
		}
		if (slot == NULL || s->last_mono < slot->last_mono) {
			slot = s;
		}
	}
	memset(slot, 0, sizeof(*slot));
	slot->used = true;
	(void)token_hash(token, slot->token_hash);
	memcpy(slot->csrf, csrf, sizeof(slot->csrf));
	snprintf(slot->user_id, sizeof(slot->user_id), "%s", u->id);
	snprintf(slot->name, sizeof(slot->name), "%s", u->name);
	slot->role = u->role;
	slot->generation = u->generation;
	slot->created_mono = slot->last_mono = now;
	slot->expires_wall = hal_clock_wall_ms(t->clock) + t->max_ms;
	if (expires_wall != NULL) {
		*expires_wall = slot->expires_wall;
	}
	pthread_mutex_unlock(&t->mu);
	return 0;
}

/* The slot of a token hash, compared with every slot; call with mu held. */
static struct auth_session *lookup(struct auth_sessions *t, const uint8_t h[AUTH_HASH_LEN])
{
	struct auth_session *found = NULL;

	for (size_t i = 0; i < AUTH_SESSIONS_MAX; i++) {
		bool eq = auth_equal(t->s[i].token_hash, h, AUTH_HASH_LEN);

		if (eq && t->s[i].used && found == NULL) {
			found = &t->s[i];
		}
	}
	return found;
}

int sessions_find(struct auth_sessions *t, const char *token, bool touch, struct auth_session *out)
{
	uint8_t h[AUTH_HASH_LEN];
	struct auth_session *s;
	int ret = -ENOENT;
	int64_t now;

	if (!token_hash(token, h)) {
		return -ENOENT;
	}
	pthread_mutex_lock(&t->mu);
	now = hal_clock_mono_ms(t->clock);
	s = lookup(t, h);
	if (s != NULL && expired(t, s, now)) {
		memset(s, 0, sizeof(*s));
		s = NULL;
	}
	if (s != NULL) {
		if (touch) {
			s->last_mono = now;
		}
		if (out != NULL) {
			*out = *s;
		}
		ret = 0;
	}
	pthread_mutex_unlock(&t->mu);
	return ret;
}

void sessions_close(struct auth_sessions *t, const char *token)
{
	uint8_t h[AUTH_HASH_LEN];
	struct auth_session *s;

	if (!token_hash(token, h)) {
		return;
	}
	pthread_mutex_lock(&t->mu);
	s = lookup(t, h);
	if (s != NULL) {
		memset(s, 0, sizeof(*s));
	}
	pthread_mutex_unlock(&t->mu);
}

void sessions_close_user(struct auth_sessions *t, const char *user_id)
{
	pthread_mutex_lock(&t->mu);
	for (size_t i = 0; i < AUTH_SESSIONS_MAX; i++) {
		if (t->s[i].used && strcmp(t->s[i].user_id, user_id) == 0) {
			memset(&t->s[i], 0, sizeof(t->s[i]));
		}
	}
	pthread_mutex_unlock(&t->mu);
}

int sessions_count(struct auth_sessions *t)
{
	int n = 0;
	int64_t now;

	pthread_mutex_lock(&t->mu);
	now = hal_clock_mono_ms(t->clock);
	for (size_t i = 0; i < AUTH_SESSIONS_MAX; i++) {
		n += t->s[i].used && !expired(t, &t->s[i], now);
	}
	pthread_mutex_unlock(&t->mu);
	return n;
}
