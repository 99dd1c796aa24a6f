/*
 * How alike two requests' contents are, for the repeat rule
 * (docs/requests.md, "Repeats"). Citizens write Chinese without spaces, so
 * words cannot be split reliably on the device; character bigrams need no
 * dictionary and still see "路灯坏了" in "门口的路灯又坏了"; the single
 * characters are counted as well, so a paraphrase with the same key words
 * in another order still scores. The score is the Jaccard index of the two
 * sets of characters and character bigrams after normalising (code
 * points, ASCII case and full-width forms folded, punctuation, symbols and
 * whitespace dropped), so it does not depend on the order or the length
 * of what else was said. Pure and bounded: only the first
 * SIM_MAX_CHARS characters of each text count.
 */
#include <stdint.h>
#include <stdlib.h>

#include "requests/requests.h"

#define SIM_MAX_CHARS 4096

size_t requests_utf8_decode(const unsigned char *s, size_t n, size_t i, uint32_t *cp)
{
	unsigned char c = s[i];
	size_t len;
	uint32_t v, min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2, v = c & 0x1f, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3, v = c & 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4, v = c & 0x07, min = 0x10000;
	} else {
		*cp = 0xfffd;
		return 1;
	}
	if (n - i < len) {
		*cp = 0xfffd;
		return 1;
	}
	for (size_t k = 1; k < len; k++) {
		if ((s[i + k] & 0xc0) != 0x80) {
			*cp = 0xfffd;
			return 1;
		}
		v = (v << 6) | (s[i + k] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) {
		*cp = 0xfffd;
		return 1;
	}
	*cp = v;
	return len;
}

/* The character as compared, or 0 when it is dropped. */
static uint32_t fold(uint32_t cp)
{
	if (cp >= 0xff01 && cp <= 0xff5e) {
		cp -= 0xfee0; /* full-width ASCII */
	}
	if (cp < 0x80) {
		if (cp >= 'A' && cp <= 'Z') {
			return cp - 'A' + 'a';
		}
		if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9')) {
			return cp;
		}
		return 0; /* controls, space, ASCII punctuation */
	}
	if (cp <= 0xbf || (cp >= 0x2000 && cp <= 0x2bff) || (cp >= 0x3000 && cp <= 0x303f) ||
	    (cp >= 0xfe10 && cp <= 0xfe1f) || (cp >= 0xfe30 && cp <= 0xfe6f) ||
	    (cp >= 0xff00 && cp <= 0xff0f) || (cp >= 0xff1a && cp <= 0xff20) ||
	    (cp >= 0xff3b && cp <= 0xff40) || (cp >= 0xff5b && cp <= 0xff65) || cp == 0xfeff) {
		return 0; /* Latin-1 symbols, general and CJK punctuation, arrows, boxes */
	}
	return cp;
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

/* The sorted set of characters and bigrams of a text into set (2 * SIM_MAX_CHARS).
 * A character c is c << 32, a bigram ab is a << 32 | b (b is never 0). */
static size_t bigrams(const char *text, size_t len, uint64_t *set)
{
	const unsigned char *s = (const unsigned char *)text;
	uint32_t prev = 0, cp;
	size_t nchars = 0, n = 0, i = 0, out = 0;

	while (text != NULL && i < len && nchars < SIM_MAX_CHARS) {
		i += requests_utf8_decode(s, len, i, &cp);
		cp = fold(cp);
		if (cp == 0) {
			continue;
		}
		if (nchars > 0) {
			set[n++] = (uint64_t)prev << 32 | cp;
		}
		set[n++] = (uint64_t)cp << 32;
		prev = cp;
		nchars++;
	}
	qsort(set, n, sizeof(set[0]), cmp_u64);
	for (size_t k = 0; k < n; k++) {
		if (out == 0 || set[out - 1] != set[k]) {
			set[out++] = set[k];
		}
	}
	return out;
}

double requests_similarity(const char *a, size_t alen, const char *b, size_t blen)
{
	uint64_t *sa = malloc(4 * SIM_MAX_CHARS * sizeof(uint64_t));
	uint64_t *sb = sa + 2 * SIM_MAX_CHARS;
	size_t na, nb, i = 0, j = 0, common = 0;

	if (sa == NULL) {
		return -1.0;
	}
	na = bigrams(a, alen, sa);
	nb = bigrams(b, blen, sb);
	while (i < na && j < nb) {
		if (sa[i] == sb[j]) {
			common++, i++, j++;
		} else if (sa[i] < sb[j]) {
			i++;
		} else {
			j++;
		}
	}
	free(sa);
	if (na + nb == 0) {
		return 0.0;
	}
	return (double)common / (double)(na + nb - common);
}
