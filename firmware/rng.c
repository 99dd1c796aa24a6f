/*
 * Random numbers: one mbedTLS CTR-DRBG (AES-256) seeded from mbedTLS's
 * entropy collector, which reads the operating system's source (getrandom or
 * /dev/urandom), with a personalisation string naming this firmware.
 *
 * One generator behind one mutex serves every thread; requests larger than
 * the DRBG's per-call limit are cut into chunks. The generator is seeded on
 * first use and remembers the pid that seeded it: a forked child reseeds
 * before its first output so it cannot repeat its parent's stream. After a
 * DRBG failure the next call reseeds before producing anything.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>

#include "fw/log.h"
#include "fw/rng.h"

static const char personalisation[] = "hotline-edge rng " HE_VERSION;

static pthread_mutex_t rng_lock = PTHREAD_MUTEX_INITIALIZER;
static mbedtls_entropy_context entropy;
static mbedtls_ctr_drbg_context drbg;
static bool seeded;
static bool need_reseed;
static pid_t seeded_pid;

/* Called with rng_lock held. */
static int seed_locked(void)
{
	int ret;

	if (seeded && seeded_pid == getpid() && !need_reseed) {
		return 0;
	}
	if (seeded) {
		pid_t now = getpid();

		ret = mbedtls_ctr_drbg_reseed(&drbg, (const unsigned char *)&now, sizeof(now));
		if (ret != 0) {
			log_err("rng", "reseeding the random generator failed (mbedTLS -0x%04x)",
				(unsigned int)-ret);
			return -EIO;
		}
		seeded_pid = now;
		need_reseed = false;
		return 0;
	}
	mbedtls_entropy_init(&entropy);
	mbedtls_ctr_drbg_init(&drbg);
	ret = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy,
				    (const unsigned char *)personalisation,
				    sizeof(personalisation) - 1);
	if (ret != 0) {
		log_err("rng",
			"no entropy for the random generator (mbedTLS -0x%04x); keys, tokens "
			"and ids cannot be made: check that the kernel's random device works",
			(unsigned int)-ret);
		mbedtls_ctr_drbg_free(&drbg);
		mbedtls_entropy_free(&entropy);
		return -EIO;
	}
	seeded = true;
	need_reseed = false;
	seeded_pid = getpid();
	return 0;
}

int rng_init(void)
{
	int ret;

	pthread_mutex_lock(&rng_lock);
	ret = seed_locked();
	pthread_mutex_unlock(&rng_lock);
	return ret;
}

void rng_free(void)
{
	pthread_mutex_lock(&rng_lock);
	if (seeded) {
		mbedtls_ctr_drbg_free(&drbg);
		mbedtls_entropy_free(&entropy);
		seeded = false;
	}
	pthread_mutex_unlock(&rng_lock);
}

int rng_bytes(void *buf, size_t len)
{
	unsigned char *p = buf;
	int ret = -EIO;

	if (buf == NULL) {
		return len == 0 ? 0 : -EINVAL;
	}
	pthread_mutex_lock(&rng_lock);
	ret = seed_locked();
	while (ret == 0 && len > 0) {
		size_t n = len < MBEDTLS_CTR_DRBG_MAX_REQUEST ? len : MBEDTLS_CTR_DRBG_MAX_REQUEST;
		int mret = mbedtls_ctr_drbg_random(&drbg, p, n);

		if (mret != 0) {
			log_err("rng", "random generator failed (mbedTLS -0x%04x); will reseed",
				(unsigned int)-mret);
			need_reseed = true;
			ret = -EIO;
			break;
		}
		p += n;
		len -= n;
	}
	pthread_mutex_unlock(&rng_lock);
	if (ret != 0) {
		/* Never hand out a partly filled buffer as if it were random. */
		memset(buf, 0, (size_t)(p - (unsigned char *)buf) + len);
	}
	return ret;
}

int rng_mbedtls(void *ctx, unsigned char *buf, size_t len)
{
	(void)ctx;
	return rng_bytes(buf, len) == 0 ? 0 : MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED;
}

int rng_uuid(char out[RNG_UUID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[16];
	char *o = out;
	int ret;

	if (out == NULL) {
		return -EINVAL;
	}
	ret = rng_bytes(b, sizeof(b));
	if (ret != 0) {
		out[0] = '\0';
		return ret;
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	for (size_t i = 0; i < sizeof(b); i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10) {
			*o++ = '-';
		}
		*o++ = hex[b[i] >> 4];
		*o++ = hex[b[i] & 0x0f];
	}
	*o = '\0';
	return 0;
}

int rng_code(char *out, size_t len)
{
	static const char alphabet[] = RNG_CODE_ALPHABET;
	const unsigned n = sizeof(alphabet) - 1;
	/* Bytes at or above the largest multiple of n are dropped: no bias. */
	const unsigned limit = 256 - 256 % n;
	unsigned char b[32];
	size_t done = 0;
	int ret;

	if (out == NULL) {
		return -EINVAL;
	}
	while (done < len) {
		ret = rng_bytes(b, sizeof(b));
		if (ret != 0) {
			out[0] = '\0';
			return ret;
		}
		for (size_t i = 0; i < sizeof(b) && done < len; i++) {
			if (b[i] < limit) {
				out[done++] = alphabet[b[i] % n];
			}
		}
	}
	out[len] = '\0';
	return 0;
}

int rng_code_parse(const char *in, size_t len, char *out)
{
	if (in == NULL || out == NULL || strnlen(in, len + 1) != len) {
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		char c = in[i] >= 'a' && in[i] <= 'z' ? (char)(in[i] - 'a' + 'A') : in[i];

		if (strchr(RNG_CODE_ALPHABET, c) == NULL) {
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < len; i++) {
		out[i] = in[i] >= 'a' && in[i] <= 'z' ? (char)(in[i] - 'a' + 'A') : in[i];
	}
	out[len] = '\0';
	return 0;
}
