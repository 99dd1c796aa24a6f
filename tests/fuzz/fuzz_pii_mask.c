/*
 * libFuzzer target for the personal-data masking functions (hand-written
 * UTF-8 and phone/ID parsers). The first byte picks the output buffer's
 * size; every field's masker runs on the rest. Whatever is accepted must
 * be NUL-terminated, as long as reported, valid UTF-8 without control
 * characters, reproducible in a buffer of exactly that size, and must not
 * keep more digits than the rules allow.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fw/pii.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t count_digits(const char *s)
{
	size_t n = 0;

	for (; *s; s++) {
		n += *s >= '0' && *s <= '9';
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char in[1024];
	char out[1024], again[1024], check[1024];
	size_t out_len;

	if (size < 1 || size > sizeof(in)) {
		return 0;
	}
	out_len = data[0] == 0xff ? sizeof(out) : data[0];
	memcpy(in, data + 1, size - 1);
	in[size - 1] = '\0';
	for (int f = 0; f < PII_FIELDS; f++) {
		int r = pii_mask(f, in, out, out_len);

		if (r == -EINVAL || r == -ENOBUFS) {
			if (r == -ENOBUFS && pii_mask(f, in, again, sizeof(again)) < (int)out_len) {
				__builtin_trap(); /* it would have fitted */
			}
			continue;
		}
		if (r < 0 || (size_t)r >= out_len || strlen(out) != (size_t)r) {
			__builtin_trap();
		}
		if (pii_mask(f, in, again, (size_t)r + 1) != r || memcmp(out, again, r + 1)) {
			__builtin_trap();
		}
		/* The output is text the contact masker accepts (UTF-8, no controls). */
		if (pii_mask_contact(out, check, sizeof(check)) < 0) {
			__builtin_trap();
		}
		if ((f == PII_PHONE || f == PII_ID_NUMBER) && strlen(out) != strlen(in)) {
			__builtin_trap();
		}
		if ((f == PII_PHONE && count_digits(out) > 10) ||
		    (f == PII_ID_NUMBER && count_digits(out) > 8)) {
			__builtin_trap();
		}
	}
	return 0;
}
