/*
 * `hotline-edge admin COMMAND ...`: the technician's and first supervisor's
 * command line, run on the device (or on the sim) against the data
 * directory while the daemon may be running (SQLite WAL allows it).
 * Each module that offers a command implements one function with the
 * signature below and adds a row to the table in firmware/main/admin.c.
 */
#ifndef FW_ADMIN_H
#define FW_ADMIN_H

#include <stdbool.h>
#include <stdio.h>

#include <sqlite3.h>

#include "hal/clock.h"

struct admin_ctx {
	const char *data_dir; /* absolute path of the data directory */
	sqlite3 *db;	      /* open and migrated, when the command needs it */
	struct hal_clock *clock;
	FILE *in;  /* where a PIN is read from (a terminal: echo is switched off) */
	FILE *out; /* results */
	FILE *err; /* messages for the person at the terminal */
};

/*
 * One admin command. argv[0] is the command name.
 * @return a process exit code: 0 done, 1 failed (message on err),
 *         2 bad arguments (usage on err)
 */
typedef int (*admin_fn)(struct admin_ctx *ctx, int argc, char **argv);

struct admin_cmd {
	const char *name;  /* "add-user" */
	const char *usage; /* "USER-ID ROLE [--name NAME]" */
	const char *help;  /* one line */
	bool needs_db;
	admin_fn run;
};

/*
 * Read a secret line (a PIN) from ctx->in without echo when it is a
 * terminal. @retval length, -EINVAL empty or longer than len - 1, -EIO
 */
int admin_read_secret(struct admin_ctx *ctx, const char *prompt, char *buf, size_t len);

#endif /* FW_ADMIN_H */
