/* Text checks (firmware/text.c): strict UTF-8, control characters, limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>

#include "fw/text.h"

static void test_utf8(void **state)
{
	uint32_t cp;

	(void)state;
	assert_int_equal(text_utf8_next((const unsigned char *)"A", &cp), 1);
	assert_int_equal(cp, 'A');
	assert_int_equal(text_utf8_next((const unsigned char *)"\xc3\xa9", &cp), 2);
	assert_int_equal(cp, 0xe9);
	assert_int_equal(text_utf8_next((const unsigned char *)"路", &cp), 3);
	assert_int_equal(cp, 0x8def);
	assert_int_equal(text_utf8_next((const unsigned char *)"\xf0\x9f\x98\x80", &cp), 4);
	assert_int_equal(cp, 0x1f600);
	/* overlong, surrogate, past U+10FFFF, a lone continuation, cut short */
	assert_int_equal(text_utf8_next((const unsigned char *)"\xc0\x80", &cp), 0);
	assert_int_equal(text_utf8_next((const unsigned char *)"\xe0\x80\x80", &cp), 0);
	assert_int_equal(text_utf8_next((const unsigned char *)"\xed\xa0\x80", &cp), 0);
	assert_int_equal(text_utf8_next((const unsigned char *)"\xf4\x90\x80\x80", &cp), 0);
	assert_int_equal(text_utf8_next((const unsigned char *)"\x80", &cp), 0);
	assert_int_equal(text_utf8_next((const unsigned char *)"\xe8\xb7", &cp), 0);
}

static void test_text_ok(void **state)
{
	(void)state;
	assert_true(text_ok("已电话确认", 64, 0, true, false));
	assert_true(text_ok(NULL, 64, 0, false, false));
	assert_false(text_ok(NULL, 64, 0, true, false));
	assert_true(text_ok("", 64, 0, false, false));
	assert_false(text_ok("", 64, 0, true, false));
	/* only spaces (also the ideographic one) is not text when required */
	assert_false(text_ok("  \xe3\x80\x80 ", 64, 0, true, false));
	assert_true(text_ok("  \xe3\x80\x80 ", 64, 0, false, false));
	/* control characters; newlines and tabs only where multi-line */
	assert_false(text_ok("a\x01b", 64, 0, false, true));
	assert_false(text_ok("a\x7f", 64, 0, false, true));
	assert_false(text_ok("a\xc2\x85", 64, 0, false, true)); /* C1 NEL */
	assert_false(text_ok("a\nb", 64, 0, true, false));
	assert_true(text_ok("a\nb\tc\r\n", 64, 0, true, true));
	assert_false(text_ok("a\xff", 64, 0, false, false));
	/* cap is in bytes (NUL included), max_chars in code points */
	assert_true(text_ok("路灯", 7, 0, true, false));
	assert_false(text_ok("路灯", 6, 0, true, false));
	assert_true(text_ok("路灯坏了", 64, 4, true, false));
	assert_false(text_ok("路灯坏了", 64, 3, true, false));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_text_ok),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
