/*
 * libFuzzer target for the repeat rule's similarity (apps/requests/
 * similarity.c: a hand-written UTF-8 decoder and set arithmetic). The
 * input is split at its first 0x00 byte into two texts. The score must be
 * in [0, 1], symmetric, 1 for a text with itself (unless nothing of it
 * counts, then 0), and must not read past either text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "requests/requests.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *split = memchr(data, 0, size);
	size_t alen = split != NULL ? (size_t)(split - data) : size;
	size_t blen = split != NULL ? size - alen - 1 : 0;
	/* Exact-size copies, so ASan sees any read past the end. */
	char *a = malloc(alen > 0 ? alen : 1), *b = malloc(blen > 0 ? blen : 1);
	double ab, ba, aa;

	if (a == NULL || b == NULL) {
		free(a);
		free(b);
		return 0;
	}
	memcpy(a, data, alen);
	if (blen > 0) {
		memcpy(b, split + 1, blen);
	}
	ab = requests_similarity(a, alen, b, blen);
	ba = requests_similarity(b, blen, a, alen);
	aa = requests_similarity(a, alen, a, alen);
	if (ab < 0.0 || ab > 1.0 || ab != ba || (aa != 1.0 && aa != 0.0)) {
		abort();
	}
	free(a);
	free(b);
	return 0;
}
