/* Random numbers: UUID format and uniqueness, long requests, threads, fork. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>

#include "fw/rng.h"

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static void check_uuid(const char *u)
{
	assert_int_equal(strlen(u), RNG_UUID_LEN);
	for (int i = 0; i < RNG_UUID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			assert_int_equal(u[i], '-');
		} else {
			assert_true(is_hex(u[i]));
		}
	}
	assert_int_equal(u[14], '4');
	assert_non_null(strchr("89ab", u[19]));
}

static int cmp_uuid(const void *a, const void *b)
{
	return memcmp(a, b, RNG_UUID_LEN + 1);
}

static void test_uuid_format_and_unique(void **state)
{
	enum { N = 20000 };
	char(*ids)[RNG_UUID_LEN + 1] = calloc(N, sizeof(*ids));

	assert_non_null(ids);
	assert_int_equal(rng_init(), 0);
	for (int i = 0; i < N; i++) {
		assert_int_equal(rng_uuid(ids[i]), 0);
		check_uuid(ids[i]);
	}
	qsort(ids, N, sizeof(*ids), cmp_uuid);
	for (int i = 1; i < N; i++) {
		assert_int_not_equal(cmp_uuid(ids[i - 1], ids[i]), 0);
	}
	free(ids);
	assert_int_equal(rng_uuid(NULL), -EINVAL);
}

/* Lookup codes: only the unambiguous alphabet, every symbol used, roughly evenly. */
static void test_code_alphabet_and_spread(void **state)
{
	enum { N = 4000, LEN = 8 };
	const size_t nsym = strlen(RNG_CODE_ALPHABET);
	unsigned count[64] = { 0 };
	char code[LEN + 2];

	assert_int_equal(nsym, 31);
	for (const char *p = "01ILOilo"; *p != '\0'; p++) {
		assert_null(strchr(RNG_CODE_ALPHABET, *p));
	}
	for (int i = 0; i < N; i++) {
		memset(code, 'x', sizeof(code));
		assert_int_equal(rng_code(code, LEN), 0);
		assert_int_equal(strlen(code), LEN);
		for (int j = 0; j < LEN; j++) {
			const char *at = strchr(RNG_CODE_ALPHABET, code[j]);

			assert_non_null(at);
			count[at - RNG_CODE_ALPHABET]++;
		}
	}
	/* 32000 symbols over 31: about 1032 each; a stuck or biased symbol shows. */
	for (size_t s = 0; s < nsym; s++) {
		assert_in_range(count[s], 800, 1270);
	}
	/* Longer than one internal block of random bytes, and empty. */
	{
		char long_code[101];

		assert_int_equal(rng_code(long_code, 100), 0);
		assert_int_equal(strlen(long_code), 100);
		assert_int_equal(strspn(long_code, RNG_CODE_ALPHABET), 100);
	}
	code[0] = 'x';
	assert_int_equal(rng_code(code, 0), 0);
	assert_string_equal(code, "");
	assert_int_equal(rng_code(NULL, 8), -EINVAL);
}

/* What a person types: case does not matter, the length and alphabet do. */
static void test_code_parse(void **state)
{
	char out[9], same[9] = "k7m2pq9z";

	assert_int_equal(rng_code_parse("K7M2PQ9Z", 8, out), 0);
	assert_string_equal(out, "K7M2PQ9Z");
	assert_int_equal(rng_code_parse("k7m2Pq9z", 8, out), 0);
	assert_string_equal(out, "K7M2PQ9Z");
	assert_int_equal(rng_code_parse(same, 8, same), 0); /* in place */
	assert_string_equal(same, "K7M2PQ9Z");

	strcpy(out, "unharmed");
	assert_int_equal(rng_code_parse("K7M2PQ9", 8, out), -EINVAL);	/* short */
	assert_int_equal(rng_code_parse("K7M2PQ9ZZ", 8, out), -EINVAL); /* long */
	assert_int_equal(rng_code_parse("K7M2PQ0Z", 8, out), -EINVAL);	/* 0 */
	assert_int_equal(rng_code_parse("K7M2PQOZ", 8, out), -EINVAL);	/* O */
	assert_int_equal(rng_code_parse("K7M2PQ1Z", 8, out), -EINVAL);	/* 1 */
	assert_int_equal(rng_code_parse("k7m2pqlz", 8, out), -EINVAL);	/* l */
	assert_int_equal(rng_code_parse("K7M2 Q9Z", 8, out), -EINVAL);
	assert_int_equal(rng_code_parse("K7M2PQ9\xe4", 8, out), -EINVAL);
	assert_int_equal(rng_code_parse("", 8, out), -EINVAL);
	assert_int_equal(rng_code_parse(NULL, 8, out), -EINVAL);
	assert_string_equal(out, "unharmed"); /* a refused code writes nothing */

	/* Every generated code is accepted as it is. */
	for (int i = 0; i < 100; i++) {
		char code[9];

		assert_int_equal(rng_code(code, 8), 0);
		assert_int_equal(rng_code_parse(code, 8, out), 0);
		assert_string_equal(out, code);
	}
}

static void test_bytes_long_request(void **state)
{
	/* Longer than the DRBG's per-call limit, so it is served in chunks. */
	enum { LEN = 5 * MBEDTLS_CTR_DRBG_MAX_REQUEST + 17 };
	static unsigned char a[LEN], b[LEN];
	size_t ones = 0;

	memset(a, 0, sizeof(a));
	assert_int_equal(rng_bytes(a, sizeof(a)), 0);
	assert_int_equal(rng_bytes(b, sizeof(b)), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	/* Every chunk was written: no 64-byte run of zeros anywhere. */
	for (size_t i = 0; i + 64 <= sizeof(a); i += 64) {
		static const unsigned char zero[64];

		assert_memory_not_equal(a + i, zero, sizeof(zero));
	}
	for (size_t i = 0; i < sizeof(a); i++) {
		ones += (size_t)__builtin_popcount(a[i]);
	}
	/* 41096 bits: the mean is 20548, sigma 101; 10 sigma either way. */
	assert_in_range(ones, LEN * 4 - 1010, LEN * 4 + 1010);
	assert_int_equal(rng_bytes(NULL, 0), 0);
	assert_int_equal(rng_bytes(NULL, 1), -EINVAL);
}

static void test_free_then_reseeds(void **state)
{
	char u[RNG_UUID_LEN + 1];

	rng_free();
	rng_free();
	assert_int_equal(rng_uuid(u), 0); /* seeds again on first use */
	check_uuid(u);
	assert_int_equal(rng_init(), 0);
	assert_int_equal(rng_init(), 0);
}

static void test_mbedtls_callback(void **state)
{
	mbedtls_ecdsa_context key;
	unsigned char buf[48] = { 0 };
	static const unsigned char zero[48];

	assert_int_equal(rng_mbedtls(NULL, buf, sizeof(buf)), 0);
	assert_memory_not_equal(buf, zero, sizeof(buf));
	/* The form mbedTLS calls it in: generate a P-256 key. */
	mbedtls_ecdsa_init(&key);
	assert_int_equal(mbedtls_ecdsa_genkey(&key, MBEDTLS_ECP_DP_SECP256R1, rng_mbedtls, NULL),
			 0);
	assert_int_equal(mbedtls_ecp_check_privkey(&key.grp, &key.d), 0);
	mbedtls_ecdsa_free(&key);
}

enum { THREADS = 4, PER_THREAD = 3000 };
static char thread_ids[THREADS * PER_THREAD][RNG_UUID_LEN + 1];

static void *uuid_worker(void *arg)
{
	int base = (int)(intptr_t)arg * PER_THREAD;

	for (int i = 0; i < PER_THREAD; i++) {
		if (rng_uuid(thread_ids[base + i]) != 0) {
			return (void *)1;
		}
	}
	return NULL;
}

static void test_threads_share_one_generator(void **state)
{
	pthread_t t[THREADS];
	void *res;

	for (intptr_t i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_create(&t[i], NULL, uuid_worker, (void *)i), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(t[i], &res), 0);
		assert_null(res);
	}
	qsort(thread_ids, THREADS * PER_THREAD, sizeof(thread_ids[0]), cmp_uuid);
	for (int i = 1; i < THREADS * PER_THREAD; i++) {
		check_uuid(thread_ids[i]);
		assert_int_not_equal(cmp_uuid(thread_ids[i - 1], thread_ids[i]), 0);
	}
}

static void test_fork_child_differs(void **state)
{
	unsigned char parent[32];
	unsigned char child[32];
	int fds[2];
	pid_t pid;
	int status;

	assert_int_equal(rng_init(), 0);
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		unsigned char b[32];
		int ok = rng_bytes(b, sizeof(b)) == 0 && write(fds[1], b, sizeof(b)) == sizeof(b);

		_exit(ok ? 0 : 1);
	}
	close(fds[1]);
	assert_int_equal(rng_bytes(parent, sizeof(parent)), 0);
	assert_int_equal(read(fds[0], child, sizeof(child)), sizeof(child));
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* Without the reseed the child would repeat the parent's next bytes. */
	assert_memory_not_equal(parent, child, sizeof(parent));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uuid_format_and_unique),
		cmocka_unit_test(test_code_alphabet_and_spread),
		cmocka_unit_test(test_code_parse),
		cmocka_unit_test(test_bytes_long_request),
		cmocka_unit_test(test_free_then_reseeds),
		cmocka_unit_test(test_mbedtls_callback),
		cmocka_unit_test(test_threads_share_one_generator),
		cmocka_unit_test(test_fork_child_differs),
	};
	int ret = cmocka_run_group_tests(tests, NULL, NULL);

	rng_free();
	return ret;
}
