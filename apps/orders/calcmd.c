/*
 * `hotline-edge admin calendar-import FILE` (docs/working-days.md): a
 * technician imports a year's calendar file from the command line, with
 * the daemon stopped or running (SQLite arbitrates; a running daemon picks
 * the change up through calstore_refresh).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw/admin.h"
#include "fw/exitcodes.h"
#include "orders/calstore.h"

/* Larger than any year file workcal_parse_year accepts, so it says "too large". */
#define FILE_READ_MAX (256 * 1024 + 1)

/* The whole file into a new buffer. @retval 0, -errno */
static int read_file(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	int ret = 0;

	if (f == NULL) {
		return -errno;
	}
	buf = malloc(FILE_READ_MAX);
	if (buf == NULL) {
		fclose(f);
		return -ENOMEM;
	}
	*len = fread(buf, 1, FILE_READ_MAX, f);
	if (ferror(f)) {
		ret = -EIO;
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*out = buf;
	return ret;
}

int calstore_cmd_import(struct admin_ctx *ctx, int argc, char **argv)
{
	static const struct calstore_actor who = { "technician-cli", "technician" };
	char en[WORKCAL_ERR_MAX], zh[WORKCAL_ERR_MAX];
	struct calstore *cs = NULL;
	char *text = NULL;
	size_t len = 0;
	int ret;

	if (argc != 2) {
		fprintf(ctx->err,
			"Usage: hotline-edge admin calendar-import FILE\n"
			"  FILE: a year's calendar, e.g. 2026.json (docs/working-days.md)\n");
		return EXIT_USAGE;
	}
	ret = read_file(argv[1], &text, &len);
	if (ret < 0) {
		fprintf(ctx->err, "%s could not be read: %s.\n", argv[1], strerror(-ret));
		return EXIT_START_FAILED;
	}
	ret = calstore_open(ctx->data_dir, ctx->clock, &cs);
	if (ret < 0) {
		free(text);
		fprintf(ctx->err, "The calendar could not be opened: %s.\n", strerror(-ret));
		return EXIT_START_FAILED;
	}
	ret = calstore_import(cs, &who, "file", text, len, en, zh);
	if (ret == 0) {
		const struct workcal *c = calstore_acquire(cs);

		fprintf(ctx->out, "%s imported; the calendar now has data for", argv[1]);
		for (int i = 0; i < c->nyears; i++) {
			fprintf(ctx->out, " %d", c->years[i]);
		}
		fprintf(ctx->out, ".\n");
		calstore_release(cs);
	} else {
		fprintf(ctx->err, "%s was not imported: %s\n%s 未导入：%s\n", argv[1], en, argv[1],
			zh);
	}
	calstore_close(cs);
	free(text);
	return ret == 0 ? EXIT_OK : EXIT_START_FAILED;
}
