/*
 * ESC/POS builder. Every command goes through put(), the one place that
 * checks room, so nothing is ever written past the caller's cap, and the
 * first error sticks: later commands do nothing and escpos_end() reports
 * it. Text is converted by iconv straight into the remaining room; the
 * converter is opened on the first text only (a job of pure commands needs
 * none) and closed at escpos_end(), so a builder is safe to use from any
 * thread without a shared converter.
 */
#include <errno.h>
#include <string.h>

#include "print/escpos.h"

#define ESC   0x1b
#define FS    0x1c
#define GS    0x1d
#define LF    0x0a

#define NO_CD ((iconv_t)-1)

static void fail(struct escpos *e, int err)
{
	if (e->err == 0) {
		e->err = err;
	}
}

static void put(struct escpos *e, const void *bytes, size_t n)
{
	if (e->err != 0) {
		return;
	}
	if (n > e->cap - e->len) {
		fail(e, -ENOBUFS);
		return;
	}
	memcpy(e->buf + e->len, bytes, n);
	e->len += n;
}

void escpos_begin(struct escpos *e, uint8_t *buf, size_t cap)
{
	e->buf = buf;
	e->cap = buf != NULL ? cap : 0;
	e->len = 0;
	e->err = 0;
	e->cd = NO_CD;
}

int escpos_end(struct escpos *e)
{
	if (e->cd != NO_CD) {
		iconv_close(e->cd);
		e->cd = NO_CD;
	}
	if (e->err != 0) {
		return e->err;
	}
	return e->len > (size_t)INT32_MAX ? -ENOBUFS : (int)e->len;
}

void escpos_raw(struct escpos *e, const void *bytes, size_t n)
{
	put(e, bytes, n);
}

void escpos_init(struct escpos *e)
{
	static const uint8_t cmd[] = { ESC, '@' };

	put(e, cmd, sizeof(cmd));
}

void escpos_chinese_mode(struct escpos *e)
{
	static const uint8_t cmd[] = { FS, '&' };

	put(e, cmd, sizeof(cmd));
}

void escpos_align(struct escpos *e, enum escpos_align a)
{
	uint8_t cmd[] = { ESC, 'a', (uint8_t)a };

	if ((unsigned)a > ESCPOS_RIGHT) {
		fail(e, -EINVAL);
		return;
	}
	put(e, cmd, sizeof(cmd));
}

void escpos_size(struct escpos *e, int width, int height)
{
	uint8_t cmd[] = { GS, '!', 0 };

	if (width < 1 || width > 8 || height < 1 || height > 8) {
		fail(e, -EINVAL);
		return;
	}
	cmd[2] = (uint8_t)((width - 1) << 4 | (height - 1));
	put(e, cmd, sizeof(cmd));
}

void escpos_bold(struct escpos *e, bool on)
{
	uint8_t cmd[] = { ESC, 'E', on ? 1 : 0 };

	put(e, cmd, sizeof(cmd));
}

/*
 * C0 controls other than LF, DEL and C1 controls (UTF-8 C2 80..C2 9F) would
 * reach the printer as commands or odd glyphs. In UTF-8 a byte below 0x80
 * is always a whole character, so a byte scan is exact.
 */
static bool has_controls(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if ((s[i] < 0x20 && s[i] != LF) || s[i] == 0x7f) {
			return true;
		}
		if (s[i] == 0xc2 && i + 1 < n && s[i + 1] >= 0x80 && s[i + 1] <= 0x9f) {
			return true;
		}
	}
	return false;
}

void escpos_text(struct escpos *e, const char *utf8)
{
	char *in = (char *)utf8;
	size_t in_left;
	char *out;
	size_t out_left;
	size_t r;

	if (e->err != 0) {
		return;
	}
	if (utf8 == NULL) {
		fail(e, -EINVAL);
		return;
	}
	in_left = strlen(utf8);
	if (has_controls((const uint8_t *)utf8, in_left)) {
		fail(e, -EILSEQ);
		return;
	}
	if (e->cd == NO_CD) {
		e->cd = iconv_open("GB18030", "UTF-8");
		if (e->cd == NO_CD) {
			fail(e, errno == EINVAL ? -EINVAL : -ENOMEM);
			return;
		}
	}
	iconv(e->cd, NULL, NULL, NULL, NULL);
	out = (char *)e->buf + e->len;
	out_left = e->cap - e->len;
	r = iconv(e->cd, &in, &in_left, &out, &out_left);
	if (r == (size_t)-1) {
		/* EILSEQ: invalid or unencodable; EINVAL: cut-off sequence at the end. */
		fail(e, errno == E2BIG ? -ENOBUFS : -EILSEQ);
		return;
	}
	if (r != 0) {
		/* Irreversible conversions would print something else than was meant. */
		fail(e, -EILSEQ);
		return;
	}
	e->len = e->cap - out_left;
}

void escpos_line(struct escpos *e, const char *utf8)
{
	escpos_text(e, utf8);
	escpos_feed(e, 1);
}

void escpos_feed(struct escpos *e, int n)
{
	static const uint8_t lf = LF;

	if (n < 0 || n > 255) {
		fail(e, -EINVAL);
		return;
	}
	while (n-- > 0) {
		put(e, &lf, 1);
	}
}

void escpos_qr(struct escpos *e, const void *data, size_t len, int module, enum escpos_qr_ec ec)
{
	/* GS ( k pL pH cn fn ...; cn 49 = QR code. */
	static const uint8_t model2[] = { GS, '(', 'k', 4, 0, 49, 65, 50, 0 };
	static const uint8_t print[] = { GS, '(', 'k', 3, 0, 49, 81, 48 };
	uint8_t size[] = { GS, '(', 'k', 3, 0, 49, 67, (uint8_t)module };
	uint8_t level[] = { GS, '(', 'k', 3, 0, 49, 69, (uint8_t)ec };
	uint8_t store[] = { GS, '(', 'k', 0, 0, 49, 80, 48 };

	if (data == NULL || len == 0 || len > ESCPOS_QR_DATA_MAX || module < 1 || module > 16 ||
	    ec < ESCPOS_QR_EC_L || ec > ESCPOS_QR_EC_H) {
		fail(e, -EINVAL);
		return;
	}
	/* pL + pH * 256 counts cn, fn, m and the data. */
	store[3] = (uint8_t)((len + 3) & 0xff);
	store[4] = (uint8_t)((len + 3) >> 8);
	put(e, model2, sizeof(model2));
	put(e, size, sizeof(size));
	put(e, level, sizeof(level));
	put(e, store, sizeof(store));
	put(e, data, len);
	put(e, print, sizeof(print));
}

void escpos_cut(struct escpos *e, int feed)
{
	uint8_t cmd[] = { GS, 'V', 66, (uint8_t)feed };

	if (feed < 0 || feed > 255) {
		fail(e, -EINVAL);
		return;
	}
	put(e, cmd, sizeof(cmd));
}

void escpos_job_begin(struct escpos *e, uint8_t *buf, size_t cap)
{
	escpos_begin(e, buf, cap);
	escpos_init(e);
	escpos_chinese_mode(e);
	escpos_align(e, ESCPOS_CENTER);
}

int escpos_job_end(struct escpos *e, int feed)
{
	escpos_feed(e, 2);
	escpos_cut(e, feed);
	return escpos_end(e);
}
