/*
 * libFuzzer target for the sync client's response parser (httpc_parser_*,
 * http-parser underneath): arbitrary bytes, fed in pieces of 1..16 bytes
 * whose sizes come from the first input byte, then the end of the
 * connection. Whatever is accepted must be consistent: a status, a body
 * within the cap and NUL-terminated.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sync/httpc.h"

#define CAP 1024

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char body[CAP + 1];
	struct httpc_parser p;
	unsigned int seed;
	size_t off = 0;
	int ret = 0;

	if (size == 0) {
		return 0;
	}
	seed = data[0];
	data++;
	size--;
	httpc_parser_init(&p, body, CAP);
	while (off < size && ret == 0) {
		size_t n = 1 + (seed % 16);

		seed = seed * 1103515245u + 12345u;
		if (n > size - off) {
			n = size - off;
		}
		ret = httpc_parser_feed(&p, (const char *)data + off, n);
		off += n;
	}
	if (ret == 0) {
		ret = httpc_parser_eof(&p);
	}
	if (ret == 0) {
		if (!p.complete || p.status < 100 || p.status > 599 || p.body_len > CAP ||
		    body[p.body_len] != '\0') {
			__builtin_trap();
		}
	} else if (ret != -EBADMSG && ret != -EFBIG) {
		__builtin_trap();
	}
	return 0;
}
