/* Files compiled into the firmware image (see cmake/embed.cmake). */
#ifndef FW_EMBED_H
#define FW_EMBED_H

#include <stddef.h>

struct fw_embed_file {
	const char *path; /* "/index.html"; NULL ends a table */
	const unsigned char *data;
	size_t size;
	const char *mime;
};

#endif /* FW_EMBED_H */
