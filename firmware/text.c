/* Text checks (fw/text.h). */
#include <string.h>

#include "fw/text.h"

int text_utf8_next(const unsigned char *s, uint32_t *cp)
{
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf && (s[1] & 0xc0) == 0x80) {
		*cp = ((uint32_t)(s[0] & 0x1f) << 6) | (s[1] & 0x3f);
		return 2;
	}
	if (s[0] >= 0xe0 && s[0] <= 0xef && (s[1] & 0xc0) == 0x80 && (s[2] & 0xc0) == 0x80) {
		*cp = ((uint32_t)(s[0] & 0x0f) << 12) | ((uint32_t)(s[1] & 0x3f) << 6) |
		      (s[2] & 0x3f);
		if (*cp < 0x800 || (*cp >= 0xd800 && *cp <= 0xdfff)) {
			return 0;
		}
		return 3;
	}
	if (s[0] >= 0xf0 && s[0] <= 0xf4 && (s[1] & 0xc0) == 0x80 && (s[2] & 0xc0) == 0x80 &&
	    (s[3] & 0xc0) == 0x80) {
		*cp = ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3f) << 12) |
		      ((uint32_t)(s[2] & 0x3f) << 6) | (s[3] & 0x3f);
		if (*cp < 0x10000 || *cp > 0x10ffff) {
			return 0;
		}
		return 4;
	}
	return 0;
}

bool text_ok(const char *s, size_t cap, size_t max_chars, bool required, bool multiline)
{
	const unsigned char *p = (const unsigned char *)s;
	bool visible = false;
	size_t chars = 0;

	if (s == NULL) {
		return !required;
	}
	if (strnlen(s, cap) >= cap) {
		return false;
	}
	while (*p != '\0') {
		uint32_t cp;
		int k = text_utf8_next(p, &cp);

		if (k == 0) {
			return false;
		}
		if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0)) {
			if (!multiline || (cp != '\n' && cp != '\t' && cp != '\r')) {
				return false;
			}
		} else if (cp != ' ' && cp != 0x3000) {
			visible = true;
		}
		p += k;
		chars++;
	}
	if (max_chars > 0 && chars > max_chars) {
		return false;
	}
	return visible || !required;
}
