/*
 * PBKDF2-HMAC-SHA256 cost on this machine: times auth_pin_hash() at a few
 * iteration counts and prints ms per check and the count that takes about
 * 100 ms (AUTH_PBKDF2_ITERATIONS is chosen from these figures on the arm64
 * target; docs/security-auth.md). It prints figures and asserts nothing.
 *
 * Usage: bench_pbkdf2 [ITERATIONS...]   (default: 10000 20000 60000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "auth/auth.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	static const uint32_t defaults[] = { 10000, 20000, 60000 };
	const uint8_t salt[AUTH_SALT_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
	uint8_t out[AUTH_HASH_LEN];
	int n = argc > 1 ? argc - 1 : (int)(sizeof(defaults) / sizeof(defaults[0]));

	printf("PBKDF2-HMAC-SHA256, 16-byte salt, 32-byte key; current default %u iterations\n",
	       (unsigned)AUTH_PBKDF2_ITERATIONS);
	for (int i = 0; i < n; i++) {
		uint32_t it = argc > 1 ? (uint32_t)strtoul(argv[i + 1], NULL, 10) : defaults[i];
		double best = 1e300;

		if (it == 0) {
			fprintf(stderr, "bench_pbkdf2: '%s' is not an iteration count\n",
				argv[i + 1]);
			return 2;
		}
		/* Best of three: the least disturbed run is the machine's real cost. */
		for (int r = 0; r < 3; r++) {
			double t0 = now_ms();

			if (auth_pin_hash("246810", 6, salt, it, out) != 0) {
				fprintf(stderr, "bench_pbkdf2: hashing failed\n");
				return 1;
			}
			double t = now_ms() - t0;

			if (t < best) {
				best = t;
			}
		}
		printf("%8u iterations: %8.1f ms per check; ~%.0f iterations per 100 ms\n",
		       (unsigned)it, best, (double)it * 100.0 / best);
	}
	return 0;
}
