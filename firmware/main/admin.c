/*
 * The admin command line: `hotline-edge admin [--data-dir DIR] [--board
 * NAME] COMMAND ARGS...`. It opens (and migrates) the same database the
 * daemon uses, runs one command from the table below and exits. It starts
 * no board devices: only the board's default data directory is used.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "admin_main.h"
#include "auth/auth.h"
#include "board/board.h"
#include "fw/admin.h"
#include "fw/audit.h"
#include "fw/exitcodes.h"
#include "fw/identity.h"
#include "fw/rng.h"
#include "fw/store.h"
#include "orders/calstore.h"
#include "orders/orders.h"

static int cmd_help(struct admin_ctx *ctx, int argc, char **argv);

static const struct admin_cmd admin_cmds[] = {
	{ "help", "", "list the admin commands", false, cmd_help },
	{ "csr", "[--cn CN] [--o O] [--ou OU] [--out F]",
	  "certificate request for the city's CA (makes the key on first use)", true,
	  identity_cmd_csr },
	{ "install-cert", "FILE", "install the device certificate the city issued", true,
	  identity_cmd_install_cert },
	{ "install-ca", "FILE", "install the city's CA certificate(s)", true,
	  identity_cmd_install_ca },
	{ "identity", "", "show the device key, certificate and CA status", true,
	  identity_cmd_status },
	{ "audit-verify", "", "check the audit log's hash chain", true, audit_cmd_verify },
	{ "add-user", "USER-ID ROLE [--name NAME]", "add a staff account (PIN from stdin, twice)",
	  true, auth_admin_add_user },
	{ "passwd", "USER-ID", "set a new PIN (from stdin, twice); unlocks", true,
	  auth_admin_passwd },
	{ "list-users", "", "list the staff accounts", true, auth_admin_list_users },
	{ "calendar-import", "FILE", "import a year's working-day calendar (YYYY.json)", true,
	  calstore_cmd_import },
	{ "city-event", "[--config F] ITEMS.json",
	  "apply city items (dispatch, decisions, notices) from a file", true,
	  orders_cmd_city_event },
};

#define NCMDS (sizeof(admin_cmds) / sizeof(admin_cmds[0]))

static void admin_usage(FILE *f)
{
	fprintf(f, "Usage: hotline-edge admin [--data-dir DIR] [--board NAME] COMMAND [ARGS]\n"
		   "Commands:\n");
	for (size_t i = 0; i < NCMDS; i++) {
		fprintf(f, "  %-14s %-28s %s\n", admin_cmds[i].name, admin_cmds[i].usage,
			admin_cmds[i].help);
	}
}

static int cmd_help(struct admin_ctx *ctx, int argc, char **argv)
{
	admin_usage(ctx->out);
	return EXIT_OK;
}

int admin_read_secret(struct admin_ctx *ctx, const char *prompt, char *buf, size_t len)
{
	struct termios old, quiet;
	int fd = fileno(ctx->in);
	bool tty = isatty(fd);
	size_t n;

	if (tty) {
		fprintf(ctx->err, "%s", prompt);
		fflush(ctx->err);
		tcgetattr(fd, &old);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	if (!fgets(buf, (int)len, ctx->in)) {
		buf[0] = '\0';
	}
	if (tty) {
		tcsetattr(fd, TCSAFLUSH, &old);
		fprintf(ctx->err, "\n");
	}
	n = strlen(buf);
	if (n > 0 && buf[n - 1] == '\n') {
		buf[--n] = '\0';
	} else if (n == len - 1) {
		return -EINVAL; /* longer than the buffer */
	}
	if (n > 0 && buf[n - 1] == '\r') {
		buf[--n] = '\0';
	}
	return n == 0 ? -EINVAL : (int)n;
}

int admin_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data-dir", required_argument, NULL, 'd' },
		{ "board", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct admin_ctx ctx = {
		.clock = &hal_clock_system, .in = stdin, .out = stdout, .err = stderr
	};
	const struct board *board = board_default();
	const char *data_dir = NULL;
	const struct admin_cmd *cmd = NULL;
	char resolved[PATH_MAX];
	struct store_status st;
	int c, rc;

	/* "+": stop at the command name; its own options are its business. */
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			data_dir = optarg;
			break;
		case 'b':
			board = board_find(optarg);
			if (!board) {
				fprintf(stderr, "hotline-edge admin: no board named '%s'\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			admin_usage(stdout);
			return EXIT_OK;
		default:
			admin_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		admin_usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < NCMDS; i++) {
		if (strcmp(argv[optind], admin_cmds[i].name) == 0) {
			cmd = &admin_cmds[i];
		}
	}
	if (!cmd) {
		fprintf(stderr, "hotline-edge admin: unknown command '%s'\n", argv[optind]);
		admin_usage(stderr);
		return EXIT_USAGE;
	}
	if (!cmd->needs_db) {
		return cmd->run(&ctx, argc - optind, argv + optind);
	}

	if (!data_dir) {
		data_dir = board->default_data_dir;
	}
	if (mkdir(data_dir, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "hotline-edge admin: cannot create the data directory %s: %s\n",
			data_dir, strerror(errno));
		return EXIT_START_FAILED;
	}
	if (!realpath(data_dir, resolved)) {
		fprintf(stderr, "hotline-edge admin: %s: %s\n", data_dir, strerror(errno));
		return EXIT_START_FAILED;
	}
	ctx.data_dir = resolved;
	rc = rng_init();
	if (rc < 0) {
		fprintf(stderr, "hotline-edge admin: no source of randomness\n");
		return EXIT_START_FAILED;
	}
	rc = store_init(resolved, &st);
	if (rc == 0) {
		rc = store_open(resolved, &ctx.db);
	}
	if (rc < 0) {
		rng_free();
		fprintf(stderr, "hotline-edge admin: the database in %s could not be opened: %s\n",
			resolved, strerror(-rc));
		return rc == -EPROTO ? EXIT_DB_TOO_NEW : EXIT_START_FAILED;
	}
	rc = cmd->run(&ctx, argc - optind, argv + optind);
	store_close(ctx.db);
	rng_free();
	return rc;
}
