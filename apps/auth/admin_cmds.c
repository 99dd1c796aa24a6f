/*
 * `hotline-edge admin add-user | passwd | list-users`: how the technician
 * creates the first supervisor (and rescues a locked-out one) at the
 * device, with the daemon running or not. Changes are audited with the
 * actor "technician-cli".
 *
 * The design decision: the PIN is read from standard input, twice, never
 * from the command line (where `ps` and the shell history would keep it);
 * on a terminal echo is off, from a pipe it works for scripts and tests.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "auth/auth.h"
#include "fw/exitcodes.h"

static const struct auth_actor cli_actor = { AUTH_CLI_ACTOR, "technician" };

/* Read the PIN twice into pin; 0, or an exit code after saying why. */
static int read_pin_twice(struct admin_ctx *ctx, const char *user_id, char *pin, size_t len)
{
	char again[AUTH_PIN_MAX + 2];
	const char *en = NULL, *zh = NULL;
	int n;

	n = admin_read_secret(ctx, "New PIN (6-32 characters): ", pin, len);
	if (n < 0) {
		fprintf(ctx->err, "No PIN was given, or it is longer than %d characters.\n",
			AUTH_PIN_MAX);
		return EXIT_START_FAILED;
	}
	if (auth_pin_check(pin, user_id, &en, &zh) < 0) {
		fprintf(ctx->err, "%s\n", en);
		return EXIT_START_FAILED;
	}
	n = admin_read_secret(ctx, "The same PIN again: ", again, sizeof(again));
	if (n < 0 || strcmp(pin, again) != 0) {
		fprintf(ctx->err, "The two PINs differ; nothing was changed. Run the command "
				  "again.\n");
		memset(again, 0, sizeof(again));
		return EXIT_START_FAILED;
	}
	memset(again, 0, sizeof(again));
	return 0;
}

int auth_admin_add_user(struct admin_ctx *ctx, int argc, char **argv)
{
	char pin[AUTH_PIN_MAX + 2];
	const char *name = "";
	unsigned role;
	int rc;

	if (argc == 5 && strcmp(argv[3], "--name") == 0) {
		name = argv[4];
	} else if (argc != 3) {
		fprintf(ctx->err, "Usage: hotline-edge admin add-user USER-ID ROLE [--name NAME]\n"
				  "ROLE is staff, supervisor or technician; the PIN is read from "
				  "standard input, twice.\n");
		return EXIT_USAGE;
	}
	if (!auth_user_id_valid(argv[1])) {
		fprintf(ctx->err,
			"'%s' is not a valid user id: use 1 to 32 letters, digits, "
			"'.', '_' or '-'.\n",
			argv[1]);
		return EXIT_USAGE;
	}
	role = auth_role_parse(argv[2]);
	if (role == 0) {
		fprintf(ctx->err, "'%s' is not a role: use staff, supervisor or technician.\n",
			argv[2]);
		return EXIT_USAGE;
	}
	rc = read_pin_twice(ctx, argv[1], pin, sizeof(pin));
	if (rc != 0) {
		return rc;
	}
	rc = auth_user_add(ctx->db, ctx->clock, AUTH_PBKDF2_ITERATIONS, &cli_actor, argv[1], name,
			   role, pin, NULL, NULL);
	memset(pin, 0, sizeof(pin));
	if (rc == -EEXIST) {
		fprintf(ctx->err,
			"A user '%s' already exists; to give them a new PIN run "
			"`hotline-edge admin passwd %s`.\n",
			argv[1], argv[1]);
		return EXIT_START_FAILED;
	}
	if (rc == -EINVAL) {
		fprintf(ctx->err, "The name must be at most %d bytes of text.\n", AUTH_NAME_MAX);
		return EXIT_USAGE;
	}
	if (rc < 0) {
		fprintf(ctx->err, "The user could not be added: %s.\n", strerror(-rc));
		return EXIT_START_FAILED;
	}
	fprintf(ctx->out, "added %s (%s)\n", argv[1], argv[2]);
	return EXIT_OK;
}

int auth_admin_passwd(struct admin_ctx *ctx, int argc, char **argv)
{
	char pin[AUTH_PIN_MAX + 2];
	struct auth_user u;
	int rc;

	if (argc != 2) {
		fprintf(ctx->err, "Usage: hotline-edge admin passwd USER-ID\n");
		return EXIT_USAGE;
	}
	if (!auth_user_id_valid(argv[1]) || auth_user_get(ctx->db, argv[1], &u) != 0) {
		fprintf(ctx->err,
			"There is no user '%s'; `hotline-edge admin list-users` shows "
			"them.\n",
			argv[1]);
		return EXIT_START_FAILED;
	}
	rc = read_pin_twice(ctx, argv[1], pin, sizeof(pin));
	if (rc != 0) {
		return rc;
	}
	rc = auth_user_set_pin(ctx->db, ctx->clock, AUTH_PBKDF2_ITERATIONS, &cli_actor, argv[1],
			       pin, NULL, NULL);
	memset(pin, 0, sizeof(pin));
	if (rc < 0) {
		fprintf(ctx->err, "The PIN could not be changed: %s.\n", strerror(-rc));
		return EXIT_START_FAILED;
	}
	fprintf(ctx->out, "new PIN set for %s; the account is unlocked and its sessions ended\n",
		argv[1]);
	return EXIT_OK;
}

static int print_user(const struct auth_user *u, void *arg)
{
	struct admin_ctx *ctx = arg;
	int64_t now = hal_clock_wall_ms(ctx->clock);

	fprintf(ctx->out, "%-32s %-10s %-8s %s%s\n", u->id, auth_role_name(u->role),
		u->disabled ? "disabled" : "enabled", u->locked_until_ms > now ? "locked " : "",
		u->name);
	return 0;
}

int auth_admin_list_users(struct admin_ctx *ctx, int argc, char **argv)
{
	int rc;

	(void)argv;
	if (argc != 1) {
		fprintf(ctx->err, "Usage: hotline-edge admin list-users\n");
		return EXIT_USAGE;
	}
	rc = auth_user_each(ctx->db, print_user, ctx);
	if (rc < 0) {
		fprintf(ctx->err, "The users could not be read: %s.\n", strerror(-rc));
		return EXIT_START_FAILED;
	}
	return EXIT_OK;
}
