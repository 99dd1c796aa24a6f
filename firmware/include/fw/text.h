/*
 * Checks of text that people type or that arrives from outside: strict
 * UTF-8 (no overlong forms, no surrogates, nothing past U+10FFFF) and no
 * control characters (C0, DEL, C1), newlines and tabs allowed only where a
 * field is multi-line.
 */
#ifndef FW_TEXT_H
#define FW_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Decode the code point at s (NUL-terminated input).
 * @return its length in bytes (1..4) with *cp set, or 0 when the bytes at
 *         s are not a well-formed UTF-8 sequence
 */
int text_utf8_next(const unsigned char *s, uint32_t *cp);

/*
 * Whether s is well-formed UTF-8 without control characters, shorter than
 * cap bytes, holding at most max_chars code points (0: no limit) and, when
 * required, at least one visible character (not only spaces).
 * @param multiline allow '\n', '\r' and '\t'
 */
bool text_ok(const char *s, size_t cap, size_t max_chars, bool required, bool multiline);

#endif /* FW_TEXT_H */
