/*
 * libFuzzer target for the ticket renderer and its UTF-8 to GB18030 text
 * path. The input's first bytes pick the buffer size, the priority flag and
 * the people ahead; the rest, split at NUL bytes, gives the text fields.
 * Whatever the input: the result is a documented error or a length within
 * the cap, nothing past the cap is touched, a ticket that renders at all
 * fits PRINT_TICKET_MAX, renders to the same bytes in any buffer at least
 * its size and to -ENOBUFS in one byte less, starts with ESC @ and FS &,
 * ends with the cut, and never holds a DLE EOT status request.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "print/ticket.h"

#define CANARY	0xa5
#define SLACK	64
#define NFIELDS 5

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t full[PRINT_TICKET_MAX];
static uint8_t buf[PRINT_TICKET_MAX + SLACK];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[4096];
	const char *field[NFIELDS] = { "", "", "", "", "" };
	struct print_ticket t;
	size_t cap;
	size_t pos = 0;
	int nf = 0;
	int n, r;

	if (size < 5 || size - 5 >= sizeof(text)) {
		return 0;
	}
	cap = ((size_t)data[0] << 8 | data[1]) % (PRINT_TICKET_MAX + 1);
	memcpy(text, data + 5, size - 5);
	text[size - 5] = '\0';
	while (nf < NFIELDS && pos <= size - 5) {
		field[nf++] = text + pos;
		pos += strlen(text + pos) + 1;
	}
	t = (struct print_ticket){
		.office_name = field[0],
		.service_zh = field[1],
		.service_en = field[2],
		.number = field[3],
		.lookup_code = field[4],
		.ahead = (int)((unsigned)data[3] << 8 | data[4]) - 16,
		.issued_ms = 1795310077000LL,
		.priority = data[2] & 1,
	};

	n = print_ticket_render(&t, full, sizeof(full));
	if (n == -EINVAL || n == -EILSEQ) {
		return 0;
	}
	if (n <= 0 || (size_t)n > sizeof(full)) {
		abort(); /* -ENOBUFS here: PRINT_TICKET_MAX is too small */
	}
	if (memcmp(full, "\x1b@\x1c&", 4) != 0 || memcmp(full + n - 4, "\x1dV\x42\x30", 4) != 0 ||
	    memmem(full, (size_t)n, "\x10\x04", 2) != NULL) {
		abort();
	}

	memset(buf, CANARY, sizeof(buf));
	r = print_ticket_render(&t, buf, cap);
	for (size_t i = cap; i < sizeof(buf); i++) {
		if (buf[i] != CANARY) {
			abort();
		}
	}
	if (cap < (size_t)n ? r != -ENOBUFS : (r != n || memcmp(buf, full, (size_t)n) != 0)) {
		abort();
	}
	r = print_ticket_render(&t, buf, (size_t)n - 1);
	if (r != -ENOBUFS) {
		abort();
	}
	return 0;
}
