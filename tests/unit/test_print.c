/*
 * The ESC/POS builder and the queue ticket: each command's exact bytes, QR
 * store-data lengths either side of 255, GB18030 text checked against iconv
 * run here and against known byte pairs, bad text refused, a whole ticket
 * compared byte for byte with the layout in docs/printing.md, -ENOBUFS at
 * every buffer size below the job's (in exact-size heap buffers, so ASan
 * sees any write past the end), and print_ticket() against the fake
 * printer: each fault maps to its errno and nothing reaches the printer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fake_printer.h"
#include "print/escpos.h"
#include "print/ticket.h"

/* 2026-11-22 09:14:37 in China (UTC+8). */
#define ISSUED_MS 1795310077000LL

static const struct print_ticket sample = {
	.office_name = "城关镇12345便民服务大厅",
	.service_zh = "社保医保",
	.service_en = "Social insurance",
	.number = "A012",
	.ahead = 3,
	.issued_ms = ISSUED_MS,
	.lookup_code = "K7P2QX",
	.priority = false,
};

/* ---- expected bytes, built independently ------------------------------------ */

struct bytes {
	uint8_t b[8192];
	size_t n;
};

static void add(struct bytes *x, const void *p, size_t n)
{
	assert_true(n <= sizeof(x->b) - x->n);
	memcpy(x->b + x->n, p, n);
	x->n += n;
}

#define ADD(x, ...)                                       \
	do {                                              \
		const uint8_t add_b_[] = { __VA_ARGS__ }; \
		add(x, add_b_, sizeof(add_b_));           \
	} while (0)

/* UTF-8 to GB18030 with iconv, here in the test (asserts). */
static size_t gb(const char *utf8, uint8_t *out, size_t cap)
{
	iconv_t cd = iconv_open("GB18030", "UTF-8");
	char *in = (char *)utf8;
	char *o = (char *)out;
	size_t il = strlen(utf8);
	size_t ol = cap;

	assert_true(cd != (iconv_t)-1);
	assert_int_equal(iconv(cd, &in, &il, &o, &ol), 0);
	iconv_close(cd);
	return cap - ol;
}

static void add_line(struct bytes *x, const char *utf8)
{
	uint8_t tmp[1024];

	add(x, tmp, gb(utf8, tmp, sizeof(tmp)));
	ADD(x, 0x0a);
}

static const uint8_t *find(const uint8_t *hay, size_t n, const void *needle, size_t m)
{
	return memmem(hay, n, needle, m);
}

/* Render into a heap buffer of exactly cap bytes (ASan catches overruns). */
static int render_exact(const struct print_ticket *t, size_t cap, uint8_t *copy)
{
	uint8_t *buf = malloc(cap > 0 ? cap : 1);
	int n;

	assert_non_null(buf);
	n = print_ticket_render(t, buf, cap);
	if (n > 0 && copy != NULL) {
		memcpy(copy, buf, (size_t)n);
	}
	free(buf);
	return n;
}

/* ---- builder ----------------------------------------------------------------- */

static void test_commands(void **state)
{
	static const uint8_t want[] = {
		0x1b, '@',	      /* init */
		0x1c, '&',	      /* Chinese mode */
		0x1b, 'a',  0,	      /* left */
		0x1b, 'a',  1,	      /* centre */
		0x1b, 'a',  2,	      /* right */
		0x1d, '!',  0x00,     /* 1x1 */
		0x1d, '!',  0x10,     /* 2 wide, 1 high */
		0x1d, '!',  0x01,     /* 1 wide, 2 high */
		0x1d, '!',  0x77,     /* 8x8 */
		0x1b, 'E',  1,	      /* bold */
		0x1b, 'E',  0,	      /* not bold */
		0x0a, 0x0a, 0x0a,     /* feed 3 */
		0x1d, 'V',  66,	  48, /* partial cut after 48 dots */
	};
	uint8_t buf[128];
	struct escpos e;

	escpos_begin(&e, buf, sizeof(buf));
	escpos_init(&e);
	escpos_chinese_mode(&e);
	escpos_align(&e, ESCPOS_LEFT);
	escpos_align(&e, ESCPOS_CENTER);
	escpos_align(&e, ESCPOS_RIGHT);
	escpos_size(&e, 1, 1);
	escpos_size(&e, 2, 1);
	escpos_size(&e, 1, 2);
	escpos_size(&e, 8, 8);
	escpos_bold(&e, true);
	escpos_bold(&e, false);
	escpos_feed(&e, 3);
	escpos_cut(&e, 48);
	assert_int_equal(escpos_end(&e), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
}

static void test_bad_arguments_stick(void **state)
{
	static const struct {
		int w, h;
	} sizes[] = { { 0, 1 }, { 1, 0 }, { 9, 1 }, { 1, 9 }, { -1, -1 } };
	uint8_t buf[64];
	struct escpos e;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		escpos_begin(&e, buf, sizeof(buf));
		escpos_size(&e, sizes[i].w, sizes[i].h);
		assert_int_equal(escpos_end(&e), -EINVAL);
	}
	escpos_begin(&e, buf, sizeof(buf));
	escpos_align(&e, (enum escpos_align)3);
	assert_int_equal(escpos_end(&e), -EINVAL);
	escpos_begin(&e, buf, sizeof(buf));
	escpos_feed(&e, 256);
	assert_int_equal(escpos_end(&e), -EINVAL);
	escpos_begin(&e, buf, sizeof(buf));
	escpos_cut(&e, -1);
	assert_int_equal(escpos_end(&e), -EINVAL);
	escpos_begin(&e, buf, sizeof(buf));
	escpos_text(&e, NULL);
	assert_int_equal(escpos_end(&e), -EINVAL);

	/* The first error sticks: later commands write nothing. */
	memset(buf, 0xa5, sizeof(buf));
	escpos_begin(&e, buf, sizeof(buf));
	escpos_init(&e);
	escpos_size(&e, 0, 0);
	escpos_init(&e);
	escpos_text(&e, "请");
	assert_int_equal(e.len, 2);
	assert_int_equal(buf[2], 0xa5);
	assert_int_equal(escpos_end(&e), -EINVAL);

	/* No buffer at all: nothing fits. */
	escpos_begin(&e, NULL, 100);
	escpos_init(&e);
	assert_int_equal(escpos_end(&e), -ENOBUFS);
	escpos_begin(&e, buf, 0);
	assert_int_equal(escpos_end(&e), 0);
}

static void check_qr(size_t len)
{
	static uint8_t data[ESCPOS_QR_DATA_MAX];
	static uint8_t buf[ESCPOS_QR_DATA_MAX + 64];
	struct bytes *want = calloc(1, sizeof(*want));
	struct escpos e;

	assert_non_null(want);
	for (size_t i = 0; i < len; i++) {
		data[i] = (uint8_t)('0' + i % 43);
	}
	ADD(want, 0x1d, '(', 'k', 4, 0, 49, 65, 50, 0); /* model 2 */
	ADD(want, 0x1d, '(', 'k', 3, 0, 49, 67, 5);	/* module 5 dots */
	ADD(want, 0x1d, '(', 'k', 3, 0, 49, 69, 49);	/* level M */
	/* Store: pL + 256 * pH = len + 3, worked out by hand for each length. */
	ADD(want, 0x1d, '(', 'k', (uint8_t)((len + 3) % 256), (uint8_t)((len + 3) / 256), 49, 80,
	    48);
	add(want, data, len);
	ADD(want, 0x1d, '(', 'k', 3, 0, 49, 81, 48); /* print */

	escpos_begin(&e, buf, sizeof(buf));
	escpos_qr(&e, data, len, 5, ESCPOS_QR_EC_M);
	assert_int_equal(escpos_end(&e), (int)want->n);
	assert_memory_equal(buf, want->b, want->n);
	free(want);
}

static void test_qr_lengths(void **state)
{
	static const size_t lens[] = { 1, 6, 13, 252, 253, 254, 300, 1000, ESCPOS_QR_DATA_MAX };
	static const struct {
		size_t len;
		uint8_t pl, ph;
	} known[] = {
		{ 6, 9, 0 }, { 252, 255, 0 }, { 253, 0, 1 }, { 300, 47, 1 }, { 2331, 30, 9 }
	};
	uint8_t buf[ESCPOS_QR_DATA_MAX + 64];
	uint8_t data[ESCPOS_QR_DATA_MAX + 1] = { 0 };
	struct escpos e;

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		check_qr(lens[i]);
	}
	/* The same length bytes, hard-coded. */
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		escpos_begin(&e, buf, sizeof(buf));
		escpos_qr(&e, data, known[i].len, 6, ESCPOS_QR_EC_M);
		assert_true(escpos_end(&e) > 0);
		assert_int_equal(buf[25 + 3], known[i].pl);
		assert_int_equal(buf[25 + 4], known[i].ph);
		assert_int_equal(buf[25 + 5], 49);
		assert_int_equal(buf[25 + 6], 80);
	}
	escpos_begin(&e, buf, sizeof(buf));
	escpos_qr(&e, data, 0, 6, ESCPOS_QR_EC_M);
	assert_int_equal(escpos_end(&e), -EINVAL);
	escpos_begin(&e, buf, sizeof(buf));
	escpos_qr(&e, data, ESCPOS_QR_DATA_MAX + 1, 6, ESCPOS_QR_EC_M);
	assert_int_equal(escpos_end(&e), -EINVAL);
	escpos_begin(&e, buf, sizeof(buf));
	escpos_qr(&e, data, 4, 0, ESCPOS_QR_EC_M);
	assert_int_equal(escpos_end(&e), -EINVAL);
	escpos_begin(&e, buf, sizeof(buf));
	escpos_qr(&e, data, 4, 17, ESCPOS_QR_EC_M);
	assert_int_equal(escpos_end(&e), -EINVAL);
	escpos_begin(&e, buf, sizeof(buf));
	escpos_qr(&e, data, 4, 6, (enum escpos_qr_ec)52);
	assert_int_equal(escpos_end(&e), -EINVAL);
	escpos_begin(&e, buf, sizeof(buf));
	escpos_qr(&e, NULL, 4, 6, ESCPOS_QR_EC_M);
	assert_int_equal(escpos_end(&e), -EINVAL);
}

static int text_bytes(const char *utf8, uint8_t *out, size_t cap)
{
	struct escpos e;

	escpos_begin(&e, out, cap);
	escpos_text(&e, utf8);
	return escpos_end(&e);
}

static void test_gb18030(void **state)
{
	static const char *const samples[] = {
		"请 A012 号到 3 号窗口办理",
		"前面还有 12 人",
		"扫码或在自助机输入查询码 K7P2QX 查看进度",
		"绿色通道 / Priority lane",
		"𠀀 é € ß", /* 4-byte and 2-byte GB18030 forms */
		"line one\nline two",
	};
	uint8_t got[256];
	uint8_t want[256];
	int n;

	/* Known pairs, not from iconv. */
	assert_int_equal(text_bytes("请", got, sizeof(got)), 2);
	assert_int_equal(got[0], 0xc7);
	assert_int_equal(got[1], 0xeb);
	assert_int_equal(text_bytes("号", got, sizeof(got)), 2);
	assert_int_equal(got[0], 0xba);
	assert_int_equal(got[1], 0xc5);
	assert_int_equal(text_bytes("A号1", got, sizeof(got)), 4);
	assert_memory_equal(got,
			    "A\xba\xc5"
			    "1",
			    4);
	assert_int_equal(text_bytes("𠀀", got, sizeof(got)), 4);
	assert_memory_equal(got, "\x95\x32\x82\x36", 4);

	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		n = text_bytes(samples[i], got, sizeof(got));
		assert_int_equal(n, (int)gb(samples[i], want, sizeof(want)));
		assert_memory_equal(got, want, (size_t)n);
	}
	assert_int_equal(text_bytes("", got, sizeof(got)), 0);
}

static void test_bad_text(void **state)
{
	static const char *const bad[] = {
		"\xff",		    /* never valid in UTF-8 */
		"ok\xe8\xaf",	    /* cut off at the end */
		"\xed\xa0\x80",	    /* a surrogate */
		"\xc0\xaf",	    /* overlong '/' */
		"\xf4\x90\x80\x80", /* beyond U+10FFFF */
		"a\x1b@b",	    /* ESC @ smuggled in the text */
		"\x1dV\x42",	    /* GS V: a cut */
		"tab\there",
		"del\x7f",
		"c1 \xc2\x9b",	  /* CSI */
		"请\x10\x04\x01", /* DLE EOT: a real-time status request */
	};
	uint8_t buf[64];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(text_bytes(bad[i], buf, sizeof(buf)), -EILSEQ);
	}
	/* Text that does not fit. */
	assert_int_equal(text_bytes("请请请", buf, 5), -ENOBUFS);
	assert_int_equal(text_bytes("请请", buf, 4), 4);
}

/* ---- ticket ------------------------------------------------------------------ */

static void expected_ticket(const struct print_ticket *t, struct bytes *x)
{
	char line[256];

	ADD(x, 0x1b, '@', 0x1c, '&', 0x1b, 'a', 1);
	ADD(x, 0x1b, 'E', 1);
	add_line(x, t->office_name);
	ADD(x, 0x1b, 'E', 0, 0x0a);
	ADD(x, 0x1d, '!', 0x11);
	add_line(x, t->service_zh);
	ADD(x, 0x1d, '!', 0x00);
	if (t->service_en != NULL && t->service_en[0] != '\0') {
		add_line(x, t->service_en);
	}
	ADD(x, 0x0a);
	ADD(x, 0x1b, 'E', 1, 0x1d, '!', 0x55);
	add_line(x, t->number);
	ADD(x, 0x1d, '!', 0x00, 0x1b, 'E', 0, 0x0a);
	snprintf(line, sizeof(line), "前面还有 %d 人", t->ahead);
	add_line(x, line);
	snprintf(line, sizeof(line), "%d %s ahead", t->ahead, t->ahead == 1 ? "person" : "people");
	add_line(x, line);
	add_line(x, "2026-11-22 09:14");
	if (t->priority) {
		ADD(x, 0x0a, 0x1b, 'E', 1, 0x1d, '!', 0x11);
		add_line(x, "绿色通道");
		ADD(x, 0x1d, '!', 0x00);
		add_line(x, "Priority lane");
		ADD(x, 0x1b, 'E', 0);
	}
	ADD(x, 0x0a);
	ADD(x, 0x1d, '(', 'k', 4, 0, 49, 65, 50, 0);
	ADD(x, 0x1d, '(', 'k', 3, 0, 49, 67, 6);
	ADD(x, 0x1d, '(', 'k', 3, 0, 49, 69, 49);
	ADD(x, 0x1d, '(', 'k', (uint8_t)(strlen(t->lookup_code) + 3), 0, 49, 80, 48);
	add(x, t->lookup_code, strlen(t->lookup_code));
	ADD(x, 0x1d, '(', 'k', 3, 0, 49, 81, 48);
	ADD(x, 0x0a);
	snprintf(line, sizeof(line), "扫码或在自助机输入查询码 %s 查看进度", t->lookup_code);
	add_line(x, line);
	snprintf(line, sizeof(line), "Scan, or enter code %s at the kiosk", t->lookup_code);
	add_line(x, line);
	ADD(x, 0x0a, 0x0a, 0x1d, 'V', 66, 48);
}

static void test_ticket_bytes(void **state)
{
	static struct bytes want;
	struct print_ticket t = sample;
	uint8_t buf[PRINT_TICKET_MAX];
	const uint8_t *at;
	const uint8_t *qr;
	int n;

	for (int prio = 0; prio <= 1; prio++) {
		t.priority = prio;
		want.n = 0;
		expected_ticket(&t, &want);
		n = print_ticket_render(&t, buf, sizeof(buf));
		assert_int_equal(n, (int)want.n);
		assert_memory_equal(buf, want.b, want.n);

		/* Init first, cut last, and the text where a person expects it. */
		assert_memory_equal(buf, "\x1b@\x1c&", 4);
		assert_memory_equal(buf + n - 4, "\x1dV\x42\x30", 4);
		/* "请" is not on a ticket, "社保" is: 0xC9E7 0xB1A3. */
		at = find(buf, (size_t)n, "\xc9\xe7\xb1\xa3", 4);
		assert_non_null(at);
		assert_memory_equal(at - 3, "\x1d!\x11", 3);
		/* The number, 6x6 and bold, right before it. */
		at = find(buf, (size_t)n,
			  "\x1b\x45\x01\x1d!\x55"
			  "A012\n",
			  11);
		assert_non_null(at);
		qr = find(buf, (size_t)n,
			  "\x1d(k\x09\x00\x31\x50\x30K7P2QX\x1d(k\x03\x00\x31\x51\x30", 22);
		assert_non_null(qr);
		assert_true(qr > at);
		/* "绿色" = 0xC2CC 0xC9AB: only on a priority ticket. */
		assert_true((find(buf, (size_t)n, "\xc2\xcc\xc9\xab", 4) != NULL) == prio);
		assert_non_null(find(buf, (size_t)n, "2026-11-22 09:14\n", 17));
	}

	/* No English service name: the line is left out, nothing else changes. */
	t = sample;
	t.service_en = "";
	want.n = 0;
	expected_ticket(&t, &want);
	assert_int_equal(print_ticket_render(&t, buf, sizeof(buf)), (int)want.n);
	assert_memory_equal(buf, want.b, want.n);
	t.service_en = NULL;
	assert_int_equal(print_ticket_render(&t, buf, sizeof(buf)), (int)want.n);
	assert_memory_equal(buf, want.b, want.n);

	t = sample;
	t.ahead = 1;
	assert_true(print_ticket_render(&t, buf, sizeof(buf)) > 0);
}

static void test_ticket_every_short_buffer(void **state)
{
	struct print_ticket t = sample;
	uint8_t full[PRINT_TICKET_MAX];
	uint8_t got[PRINT_TICKET_MAX];
	uint8_t canary[PRINT_TICKET_MAX + 16];
	int n;

	for (int prio = 0; prio <= 1; prio++) {
		t.priority = prio;
		n = render_exact(&t, PRINT_TICKET_MAX, full);
		assert_true(n > 0);
		for (size_t cap = 0; cap < (size_t)n; cap++) {
			assert_int_equal(render_exact(&t, cap, NULL), -ENOBUFS);
			/* And in a larger buffer, nothing past cap changes. */
			memset(canary, 0xa5, sizeof(canary));
			assert_int_equal(print_ticket_render(&t, canary, cap), -ENOBUFS);
			for (size_t i = cap; i < sizeof(canary); i++) {
				assert_int_equal(canary[i], 0xa5);
			}
		}
		assert_int_equal(render_exact(&t, (size_t)n, got), n);
		assert_memory_equal(got, full, (size_t)n);
	}
}

static void fill_utf8(char *s, size_t max, const char *unit)
{
	size_t u = strlen(unit);
	size_t n = 0;

	while (n + u <= max) {
		memcpy(s + n, unit, u);
		n += u;
	}
	s[n] = '\0';
}

static void test_ticket_longest_fits(void **state)
{
	/* Each 2-byte UTF-8 'À' is 4 bytes of GB18030: the worst growth. */
	static char office[PRINT_TICKET_OFFICE_MAX + 1];
	static char zh[PRINT_TICKET_SERVICE_MAX + 1];
	static char en[PRINT_TICKET_SERVICE_MAX + 1];
	struct print_ticket t = sample;
	uint8_t buf[PRINT_TICKET_MAX];

	fill_utf8(office, PRINT_TICKET_OFFICE_MAX, "À");
	fill_utf8(zh, PRINT_TICKET_SERVICE_MAX, "À");
	fill_utf8(en, PRINT_TICKET_SERVICE_MAX, "À");
	assert_int_equal(strlen(office), PRINT_TICKET_OFFICE_MAX);
	t.office_name = office;
	t.service_zh = zh;
	t.service_en = en;
	t.number = "ZZ99999";
	t.lookup_code = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
	t.ahead = 2147483647;
	t.priority = true;
	assert_int_equal(strlen(t.lookup_code), PRINT_TICKET_LOOKUP_MAX);
	assert_true(print_ticket_render(&t, buf, sizeof(buf)) > 0);
}

static void test_ticket_invalid(void **state)
{
	static char long_office[PRINT_TICKET_OFFICE_MAX + 2];
	struct print_ticket t;
	uint8_t buf[PRINT_TICKET_MAX];

	memset(long_office, 'x', PRINT_TICKET_OFFICE_MAX + 1);
	assert_int_equal(print_ticket_render(NULL, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(print_ticket_render(&sample, NULL, sizeof(buf)), -EINVAL);
#define BAD(field, value, err)                                                    \
	do {                                                                      \
		t = sample;                                                       \
		t.field = value;                                                  \
		assert_int_equal(print_ticket_render(&t, buf, sizeof(buf)), err); \
	} while (0)
	BAD(office_name, NULL, -EINVAL);
	BAD(office_name, "", -EINVAL);
	BAD(office_name, long_office, -EINVAL);
	BAD(service_zh, NULL, -EINVAL);
	BAD(service_zh, "", -EINVAL);
	BAD(number, NULL, -EINVAL);
	BAD(number, "", -EINVAL);
	BAD(number, "A0123456", -EINVAL);
	BAD(number, "A 12", -EINVAL);
	BAD(number, "号12", -EINVAL);
	BAD(lookup_code, NULL, -EINVAL);
	BAD(lookup_code, "", -EINVAL);
	BAD(lookup_code, "K7P2\x1bQ", -EINVAL);
	BAD(lookup_code, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456", -EINVAL);
	BAD(ahead, -1, -EINVAL);
	BAD(issued_ms, -1, -EINVAL);
	BAD(service_zh, "社保\xff", -EILSEQ);
	BAD(service_en, "Social\x1b@", -EILSEQ);
	BAD(office_name, "\xed\xa0\x80", -EILSEQ);
#undef BAD
}

/* ---- printing -------------------------------------------------------------- */

static struct hal_printer prn;

static int setup_printer(void **state)
{
	fake_printer_init(&prn);
	return 0;
}

static void test_print_ready(void **state)
{
	uint8_t want[PRINT_TICKET_MAX];
	const uint8_t *job;
	size_t len;
	int n;

	n = print_ticket_render(&sample, want, sizeof(want));
	assert_true(n > 0);
	assert_int_equal(print_ticket(&prn, &sample), 0);
	assert_int_equal(fake_printer_job_count(&prn), 1);
	job = fake_printer_job(&prn, 0, &len);
	assert_int_equal(len, (size_t)n);
	assert_memory_equal(job, want, len);

	/* Paper running low still prints. */
	fake_printer_set_state(&prn, HAL_PRINTER_PAPER_LOW);
	assert_int_equal(print_ticket(&prn, &sample), 0);
	assert_int_equal(fake_printer_job_count(&prn), 2);
}

static void test_print_faults(void **state)
{
	static const struct {
		enum hal_printer_state state;
		int err;
	} states[] = {
		{ HAL_PRINTER_PAPER_OUT, -ENOSPC },
		{ HAL_PRINTER_COVER_OPEN, -EBUSY },
		{ HAL_PRINTER_OFFLINE, -ENODEV },
		{ HAL_PRINTER_ERROR, -EIO },
	};
	/* Faults that come during the job, after a good status. */
	static const struct {
		int fail, err;
	} during[] = {
		{ -ETIMEDOUT, -ETIMEDOUT }, { -ENOSPC, -ENOSPC }, { -EBUSY, -EBUSY },
		{ -ENODEV, -ENODEV },	    { -EIO, -EIO },	  { -EPIPE, -EIO },
		{ -EINVAL, -EIO },
	};
	struct print_ticket bad = sample;

	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		fake_printer_set_state(&prn, states[i].state);
		assert_int_equal(print_ticket(&prn, &sample), states[i].err);
		assert_int_equal(fake_printer_job_count(&prn), 0);
	}
	fake_printer_set_state(&prn, HAL_PRINTER_READY);
	for (size_t i = 0; i < sizeof(during) / sizeof(during[0]); i++) {
		fake_printer_fail_next(&prn, during[i].fail);
		assert_int_equal(print_ticket(&prn, &sample), during[i].err);
		assert_int_equal(fake_printer_job_count(&prn), 0);
	}
	/* A ticket that cannot be rendered is not sent at all. */
	bad.service_zh = "\xff";
	assert_int_equal(print_ticket(&prn, &bad), -EILSEQ);
	bad = sample;
	bad.number = NULL;
	assert_int_equal(print_ticket(&prn, &bad), -EINVAL);
	assert_int_equal(print_ticket(&prn, NULL), -EINVAL);
	assert_int_equal(print_ticket(NULL, &sample), -EINVAL);
	assert_int_equal(fake_printer_job_count(&prn), 0);

	/* Recovered: prints again. */
	assert_int_equal(print_ticket(&prn, &sample), 0);
	assert_int_equal(fake_printer_job_count(&prn), 1);
}

/* A printer whose status cannot be read: print() must not even be called. */
static unsigned mute_prints;

static int mute_status(struct hal_printer *p, enum hal_printer_state *st)
{
	return -EIO;
}

static int mute_print(struct hal_printer *p, const uint8_t *job, size_t len)
{
	mute_prints++;
	return 0;
}

static void test_print_status_unreadable(void **state)
{
	static const struct hal_printer_ops ops = { .status = mute_status, .print = mute_print };
	struct hal_printer mute = { .ops = &ops };

	assert_int_equal(print_ticket(&mute, &sample), -EIO);
	assert_int_equal(mute_prints, 0);
}

/* The frame every slip shares, byte for byte: ESC @, FS &, ESC a 1 ... LF LF, GS V 66 n. */
static void test_job_frame(void **state)
{
	static const uint8_t want[] = { 0x1b, 0x40, 0x1c, 0x26, 0x1b, 0x61, 0x01, 'h',
					'i',  0x0a, 0x0a, 0x0a, 0x1d, 0x56, 0x42, 48 };
	uint8_t buf[64], small[8];
	struct escpos e;

	escpos_job_begin(&e, buf, sizeof(buf));
	escpos_line(&e, "hi");
	assert_int_equal(escpos_job_end(&e, 48), (int)sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));

	/* The end still reports an error of the frame itself (a bad feed, a short buffer). */
	escpos_job_begin(&e, buf, sizeof(buf));
	assert_int_equal(escpos_job_end(&e, 300), -EINVAL);
	escpos_job_begin(&e, small, sizeof(small));
	escpos_line(&e, "hi");
	assert_int_equal(escpos_job_end(&e, 48), -ENOBUFS);
}

/* The two halves any slip's printing uses, without a ticket. */
static void test_ready_and_send(void **state)
{
	static const uint8_t job[] = { 0x1b, 0x40, 'x', 0x0a };
	const uint8_t *got;
	size_t len;

	assert_int_equal(print_ready(&prn, "test slip"), 0);
	assert_int_equal(print_send(&prn, job, sizeof(job), "test slip"), 0);
	assert_int_equal(fake_printer_job_count(&prn), 1);
	got = fake_printer_job(&prn, 0, &len);
	assert_int_equal(len, sizeof(job));
	assert_memory_equal(got, job, len);

	fake_printer_set_state(&prn, HAL_PRINTER_PAPER_LOW);
	assert_int_equal(print_ready(&prn, "test slip"), 0);
	fake_printer_set_state(&prn, HAL_PRINTER_COVER_OPEN);
	assert_int_equal(print_ready(&prn, "test slip"), -EBUSY);
	fake_printer_set_state(&prn, HAL_PRINTER_READY);
	fake_printer_fail_next(&prn, -EPIPE);
	assert_int_equal(print_send(&prn, job, sizeof(job), "test slip"), -EIO);
	fake_printer_fail_next(&prn, -ETIMEDOUT);
	assert_int_equal(print_send(&prn, job, sizeof(job), "test slip"), -ETIMEDOUT);
	assert_int_equal(fake_printer_job_count(&prn), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_bad_arguments_stick),
		cmocka_unit_test(test_qr_lengths),
		cmocka_unit_test(test_gb18030),
		cmocka_unit_test(test_bad_text),
		cmocka_unit_test(test_ticket_bytes),
		cmocka_unit_test(test_ticket_every_short_buffer),
		cmocka_unit_test(test_ticket_longest_fits),
		cmocka_unit_test(test_ticket_invalid),
		cmocka_unit_test_setup(test_print_ready, setup_printer),
		cmocka_unit_test_setup(test_print_faults, setup_printer),
		cmocka_unit_test(test_print_status_unreadable),
		cmocka_unit_test(test_job_frame),
		cmocka_unit_test_setup(test_ready_and_send, setup_printer),
	};

	/* The ticket prints local time; the office is in China. */
	setenv("TZ", "CST-8", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
