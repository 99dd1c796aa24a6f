/*
 * A small ESC/POS builder writing into a caller's bounded buffer, with no
 * allocation of its own: commands append bytes and the first error sticks,
 * so a caller writes a whole job and checks once at escpos_end(). Text is
 * converted from UTF-8 to GB18030 (the code page of Chinese receipt
 * printers in Chinese mode) with iconv.
 */
#ifndef PRINT_ESCPOS_H
#define PRINT_ESCPOS_H

#include <iconv.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest QR payload accepted: model 2, version 40, level M, byte mode. */
#define ESCPOS_QR_DATA_MAX 2331

enum escpos_align {
	ESCPOS_LEFT = 0,
	ESCPOS_CENTER = 1,
	ESCPOS_RIGHT = 2,
};

/* QR error correction levels (GS ( k fn 169 parameter n). */
enum escpos_qr_ec {
	ESCPOS_QR_EC_L = 48,
	ESCPOS_QR_EC_M = 49,
	ESCPOS_QR_EC_Q = 50,
	ESCPOS_QR_EC_H = 51,
};

struct escpos {
	uint8_t *buf;
	size_t cap;
	size_t len;
	int err;    /* first error, sticky; 0 while all is well */
	iconv_t cd; /* UTF-8 -> GB18030, opened on the first text */
};

/* Start a job in buf[0..cap). Nothing is written yet. */
void escpos_begin(struct escpos *e, uint8_t *buf, size_t cap);

/*
 * Finish the job and release the converter (always call it).
 * @retval >=0 bytes written; the first error of any command otherwise:
 *         -ENOBUFS the job does not fit, -EILSEQ text not printable,
 *         -EINVAL a bad argument, -ENOMEM iconv could not be opened
 */
int escpos_end(struct escpos *e);

/* Raw bytes, for commands this builder does not name. */
void escpos_raw(struct escpos *e, const void *bytes, size_t n);
/* ESC @: reset the printer's modes (first in every job). */
void escpos_init(struct escpos *e);
/*
 * FS &: enter Chinese character mode, in which the printer reads bytes
 * 0x81..0xFE as the lead byte of a GB18030 (GBK on older models) character.
 */
void escpos_chinese_mode(struct escpos *e);
/* ESC a n */
void escpos_align(struct escpos *e, enum escpos_align a);
/* GS ! n: width and height multipliers, each 1..8 (-EINVAL otherwise). */
void escpos_size(struct escpos *e, int width, int height);
/* ESC E n */
void escpos_bold(struct escpos *e, bool on);
/*
 * UTF-8 text converted to GB18030. '\n' is kept (a line feed); any other
 * control character, invalid UTF-8 or a character GB18030 cannot encode
 * sets -EILSEQ, so a job never prints garbage or smuggles in commands.
 */
void escpos_text(struct escpos *e, const char *utf8);
/* escpos_text() then a line feed. */
void escpos_line(struct escpos *e, const char *utf8);
/* n line feeds (LF each), n 0..255. */
void escpos_feed(struct escpos *e, int n);
/*
 * A QR code with the printer's native model-2 commands (GS ( k): select
 * model 2, module size (1..16 dots), error correction, store the data
 * (1..ESCPOS_QR_DATA_MAX bytes, pL pH = len + 3), print it.
 */
void escpos_qr(struct escpos *e, const void *data, size_t len, int module, enum escpos_qr_ec ec);
/* GS V 66 n: feed n dots past the print position, then a partial cut. */
void escpos_cut(struct escpos *e, int feed);

/*
 * The frame every slip shares (queue ticket, request receipt, work order):
 * escpos_begin(), then reset, Chinese mode and centred text.
 */
void escpos_job_begin(struct escpos *e, uint8_t *buf, size_t cap);
/*
 * Two blank lines, a partial cut `feed` dots further, then escpos_end().
 * @retval as escpos_end()
 */
int escpos_job_end(struct escpos *e, int feed);

#endif /* PRINT_ESCPOS_H */
