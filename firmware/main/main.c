/*
 * hotline-edge: the appliance daemon. This file is the composition root: it
 * reads the command line and configuration, picks the board, starts the
 * firmware services (random numbers, storage, the uplink stack), the apps
 * (the local HTTP server) and then runs the main loop until SIGINT/SIGTERM,
 * when it stops everything in reverse order. Nothing here is domain logic.
 *
 * Start-up order matters for one reason: anything a person could see must
 * come after storage, so no screen ever shows data that is not yet safe.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "admin_main.h"
#include "app.h"
#include "audit/audit_routes.h"
#include "auth/auth.h"
#include "board/board.h"
#include "fw/audit.h"
#include "fw/config.h"
#include "fw/exitcodes.h"
#include "fw/backlog.h"
#include "fw/identity.h"
#include "fw/log.h"
#include "fw/loop.h"
#include "fw/outbox.h"
#include "fw/pii.h"
#include "fw/rng.h"
#include "fw/store.h"
#include "hal/net.h"
#include "kiosk/kiosk.h"

#define MOD "main"

static struct app app;

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: hotline-edge [OPTIONS]\n"
		"       hotline-edge admin [--data-dir DIR] COMMAND ...   (admin help lists them)\n"
		"The county 12345 hotline appliance: ticket queue, work orders, sync with the "
		"city.\n"
		"\n"
		"  --board NAME      board to run on (default: %s); --list-boards shows them\n"
		"  --data-dir DIR    where the database, keys and print spool live\n"
		"                    (default: the board's own data directory)\n"
		"  --config FILE     configuration file (default: DATA_DIR/hotline-edge.conf if it "
		"exists)\n"
		"  --check-config    read and check the configuration, then exit\n"
		"  --list-boards     list the boards built into this firmware\n"
		"  --version         print the firmware version\n"
		"  --help            this text\n"
		"\n"
		"Exit codes: 0 stopped cleanly; 1 could not start (a device, the database or the\n"
		"port failed; the log says which); 2 bad command line or configuration;\n"
		"3 the database was written by a newer firmware; 4 the watchdog expired (sim "
		"board).\n",
		board_default()->name);
}

static void on_signal(int sig)
{
	(void)sig;
	loop_stop(&app.loop);
}

/* At start and daily: a warning in the log while the certificate needs a technician. */
static void check_identity(struct loop_timer *t, void *arg)
{
	struct app *a = arg;

	identity_log_status(a->devs.paths.data_dir);
}

static void health(cJSON *out, void *arg)
{
	struct app *a = arg;
	cJSON *board = cJSON_AddObjectToObject(out, "board");
	cJSON *db = cJSON_AddObjectToObject(out, "database");
	cJSON *up = cJSON_AddObjectToObject(out, "uplink");

	cJSON_AddStringToObject(out, "firmware", HE_VERSION);
	cJSON_AddNumberToObject(
		out, "uptime_s",
		(double)((hal_clock_mono_ms(a->devs.clock) - a->started_mono) / 1000));
	cJSON_AddStringToObject(out, "office_name", a->cfg.office_name);
	cJSON_AddStringToObject(board, "name", a->devs.info.name);
	cJSON_AddStringToObject(board, "model", a->devs.info.model);
	cJSON_AddStringToObject(board, "arch", a->devs.info.arch);
	cJSON_AddStringToObject(board, "serial", a->devs.info.serial);
	cJSON_AddStringToObject(db, "state", store_state_name(a->store.state));
	cJSON_AddNumberToObject(db, "schema", a->store.schema_version);
	if (a->store.state == STORE_RECOVERED) {
		cJSON_AddStringToObject(db, "damaged_file", a->store.damaged_path);
	}
	cJSON_AddStringToObject(up, "state",
				!a->uplink_started ? "off"
				: net_is_up()	   ? "up"
						   : "down");
	identity_health_json(a->devs.paths.data_dir, cJSON_AddObjectToObject(out, "identity"));
	backlog_health_json(NULL, cJSON_AddObjectToObject(out, "storage"));
}

/*
 * Every minute: measure the free space (a change of level is logged; at
 * critical the reserve is released for the records the law requires).
 * While the sync worker is off nobody else applies the statistics quota.
 */
static void watch_storage(struct loop_timer *t, void *arg)
{
	struct app *a = arg;
	int64_t now = hal_clock_wall_ms(a->devs.clock);
	bool short_of_space = backlog_check() != BACKLOG_OK;

	/* Events the city holds are kept 30 days, or not at all while short of space. */
	if (now - a->pruned_ms >= 3600 * 1000 || short_of_space) {
		int64_t keep = short_of_space ? 0 : OUTBOX_KEEP_ACKED_DAYS * 86400000LL;
		int n = outbox_prune(a->db, now - keep);

		if (n > 0) {
			log_info(MOD, "removed %d events the city acknowledged", n);
		}
		a->pruned_ms = now;
	}
	if (a->sync == NULL && backlog_enforce(a->db) < 0) {
		log_warn(MOD,
			 "the statistics backlog could not be summarised; retrying in a minute");
	}
}

/* At start and hourly: erase personal data past its retention (audited). */
static void purge_personal_data(struct loop_timer *t, void *arg)
{
	struct app *a = arg;
	int rc = pii_retention_purge(a->db, hal_clock_wall_ms(a->devs.clock),
				     a->cfg.privacy_retention_days);

	if (rc < 0) {
		log_warn(MOD, "the retention purge of personal data failed (%s); retrying hourly",
			 strerror(-rc));
	}
}

static void kick_watchdog(struct loop_timer *t, void *arg)
{
	struct app *a = arg;

	if (hal_watchdog_kick(a->devs.watchdog) < 0) {
		log_warn(MOD, "the watchdog refused a keep-alive; the board may reset");
	}
}

/*
 * Checkpoint (TRUNCATE) once the database has been quiet for a whole
 * period, so the WAL does not grow while the office is busy and is folded
 * back into the main file when it is not.
 */
static void maybe_checkpoint(struct loop_timer *t, void *arg)
{
	struct app *a = arg;
	sqlite3_stmt *st;
	int64_t version = -1;
	int64_t changes = sqlite3_total_changes64(a->db);

	if (sqlite3_prepare_v2(a->db, "PRAGMA data_version", -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW) {
			version = sqlite3_column_int64(st, 0);
		}
		sqlite3_finalize(st);
	}
	if (version != a->last_data_version || changes != a->last_changes) {
		a->last_data_version = version;
		a->last_changes = changes;
		a->dirty = true;
		return;
	}
	if (a->dirty && store_checkpoint(a->db) == 0) {
		a->dirty = false;
	}
}

static void watch_uplink(struct loop_timer *t, void *arg)
{
	struct app *a = arg;
	bool up = net_is_up();

	if (up != a->uplink_was_up) {
		a->uplink_was_up = up;
		if (up) {
			log_info(MOD, "uplink is up");
			feat_sync_uplink_up(a);
		} else {
			log_warn(MOD, "uplink is down: check the cable of the uplink port; "
				      "work goes on and is sent when the link returns");
		}
		if (a->devs.indicators) {
			hal_indicator_set(a->devs.indicators, HAL_IND_UPLINK,
					  up ? HAL_IND_ON : HAL_IND_BLINK_SLOW);
		}
	}
}

static int start_uplink(struct app *a)
{
	struct hal_uplink_addr addr = a->devs.uplink_addr;
	uint32_t seed;
	int rc;

	if (!a->devs.uplink) {
		log_warn(MOD, "this board has no uplink; running offline");
		return 0;
	}
	if (a->cfg.uplink_ip) {
		addr.ip = a->cfg.uplink_ip;
		addr.netmask = a->cfg.uplink_netmask;
		addr.gateway = a->cfg.uplink_gateway;
	}
	if (!addr.ip) {
		log_warn(MOD, "the uplink has no address: set address, netmask and gateway in the "
			      "[uplink] section of the configuration; running offline");
		return 0;
	}
	rc = rng_bytes(&seed, sizeof(seed));
	if (rc < 0) {
		return rc;
	}
	rc = net_up(a->devs.uplink, &addr, seed);
	if (rc < 0) {
		/* The office keeps working offline; sync retries are the sync app's. */
		log_err(MOD, "the uplink could not be started (%s); running offline",
			strerror(-rc));
		return 0;
	}
	a->uplink_started = true;
	return 0;
}

static int run(struct app *a, const char *data_dir)
{
	struct board_params bp = { .data_dir = data_dir };
	struct kiosk_params kp;
	int rc, exit_code = EXIT_START_FAILED;

	/* A peer that went away is an error return, never a signal. */
	signal(SIGPIPE, SIG_IGN);
	rc = a->board->init(&bp, &a->devs);
	if (rc < 0) {
		log_err(MOD, "board '%s' could not start: %s", a->board->name, strerror(-rc));
		return EXIT_START_FAILED;
	}
	a->started_mono = hal_clock_mono_ms(a->devs.clock);
	log_info(MOD, "hotline-edge %s on board %s (%s), data in %s", HE_VERSION, a->devs.info.name,
		 a->devs.info.model, a->devs.paths.data_dir);

	rc = rng_init();
	if (rc < 0) {
		log_err(MOD, "no source of randomness: %s", strerror(-rc));
		goto out_board;
	}
	/* The office works without an identity (only the sync needs it). */
	identity_set_clock(a->devs.clock);
	identity_ensure_key(a->devs.paths.data_dir);
	struct store_options so;

	store_options_default(&so);
	so.journal_limit_kb = a->cfg.storage_journal_limit_kb;
	so.heap_limit_kb = a->cfg.storage_heap_limit_kb;
	snprintf(so.device_id, sizeof(so.device_id), "%s", a->devs.info.serial);
	rc = store_configure(&so);
	if (rc < 0) {
		goto out_rng;
	}
	outbox_set_clock(a->devs.clock);
	audit_set_clock(a->devs.clock);
	pii_set_clock(a->devs.clock);
	rc = store_init(a->devs.paths.data_dir, &a->store);
	if (rc == -EPROTO) {
		exit_code = EXIT_DB_TOO_NEW;
		goto out_rng;
	}
	if (rc < 0) {
		log_err(MOD, "the database in %s could not be opened: %s", a->devs.paths.data_dir,
			strerror(-rc));
		goto out_rng;
	}
	rc = store_open(a->devs.paths.data_dir, &a->db);
	if (rc < 0) {
		goto out_rng;
	}
	/* Storage levels and the reserve for the records the law requires
	 * (docs/storage.md, "Backlog policy"). */
	rc = backlog_init(&(struct backlog_params){
		.data_dir = a->devs.paths.data_dir,
		.low_free_mb = a->cfg.storage_low_free_mb,
		.critical_free_mb = a->cfg.storage_critical_free_mb,
		.reserve_mb = a->cfg.storage_reserve_mb,
		.stats_quota = a->cfg.storage_stats_quota,
	});
	if (rc < 0) {
		goto out_db;
	}
	rc = pii_open(a->devs.paths.data_dir, a->db);
	if (rc == -EKEYREJECTED || rc == -ENOKEY) {
		/* The office keeps working; personal data stays locked, untouched. */
		log_err(MOD, "citizens' personal data is locked until the key file is restored");
	} else if (rc < 0) {
		goto out_db;
	}
	rc = loop_init(&a->loop, a->devs.clock);
	if (rc < 0) {
		goto out_db;
	}
	/* From here a SIGINT/SIGTERM is a clean stop, also while starting: the
	 * stop is remembered and the loop returns as soon as it runs. */
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	rc = start_uplink(a);
	if (rc < 0) {
		goto out_loop;
	}

	rc = audit_routes_register(&a->kiosk, a->devs.paths.data_dir);
	if (rc < 0) {
		goto out_net;
	}
	rc = features_start(a);
	if (rc < 0) {
		goto out_net;
	}
	kp = (struct kiosk_params){
		.cfg = &a->cfg,
		.health = health,
		.health_arg = a,
		.authorize = auth_authorize,
		.authorize_arg = a->auth,
	};
	rc = kiosk_start(&a->kiosk, &kp);
	if (rc < 0) {
		goto out_net;
	}

	if (a->cfg.watchdog_timeout_s > 0 && a->devs.watchdog) {
		rc = hal_watchdog_start(a->devs.watchdog, a->cfg.watchdog_timeout_s);
		if (rc < 0) {
			log_err(MOD, "the watchdog could not be armed: %s", strerror(-rc));
		} else {
			a->watchdog_on = true;
			loop_timer_start(&a->loop, &a->wd_timer, 0,
					 a->cfg.watchdog_timeout_s * 1000 / 3, kick_watchdog, a);
		}
	}
	loop_timer_start(&a->loop, &a->ckpt_timer, a->cfg.storage_checkpoint_idle_s * 1000,
			 a->cfg.storage_checkpoint_idle_s * 1000, maybe_checkpoint, a);
	loop_timer_start(&a->loop, &a->link_timer, 0, 1000, watch_uplink, a);
	loop_timer_start(&a->loop, &a->pii_timer, 0, 3600 * 1000, purge_personal_data, a);
	loop_timer_start(&a->loop, &a->storage_timer, 0, 60 * 1000, watch_storage, a);
	loop_timer_start(&a->loop, &a->id_timer, 0, 24LL * 3600 * 1000, check_identity, a);
	if (a->devs.indicators) {
		hal_indicator_set(a->devs.indicators, HAL_IND_STATUS, HAL_IND_ON);
	}

	log_info(MOD, "ready");
	loop_run(&a->loop);
	log_info(MOD, "stopping");
	exit_code = EXIT_OK;

	if (a->watchdog_on) {
		hal_watchdog_stop(a->devs.watchdog);
	}
	kiosk_stop(&a->kiosk);
out_net:
	features_stop(a);
	if (a->uplink_started) {
		net_down();
	}
out_loop:
	loop_free(&a->loop);
out_db:
	backlog_shutdown();
	pii_close();
	store_checkpoint(a->db);
	store_close(a->db);
out_rng:
	rng_free();
out_board:
	if (a->board->deinit) {
		a->board->deinit(&a->devs);
	}
	log_info(MOD, "stopped (exit code %d)", exit_code);
	return exit_code;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "board", required_argument, NULL, 'b' },
		{ "data-dir", required_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'k' },
		{ "list-boards", no_argument, NULL, 'l' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *board_name = NULL, *data_dir = NULL, *config_path = NULL;
	char default_conf[PATH_MAX];
	char err[CONFIG_ERR_MAX];
	bool check_only = false;
	int c, rc;

	if (argc > 1 && strcmp(argv[1], "admin") == 0) {
		return admin_main(argc - 1, argv + 1);
	}
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			board_name = optarg;
			break;
		case 'd':
			data_dir = optarg;
			break;
		case 'c':
			config_path = optarg;
			break;
		case 'k':
			check_only = true;
			break;
		case 'l':
			for (const struct board *const *b = board_table; *b; b++) {
				printf("%-12s %s\n", (*b)->name, (*b)->description);
			}
			return EXIT_OK;
		case 'V':
			printf("hotline-edge %s\n", HE_VERSION);
			return EXIT_OK;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "hotline-edge: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}

	app.board = board_name ? board_find(board_name) : board_default();
	if (!app.board) {
		fprintf(stderr, "hotline-edge: no board named '%s'; built-in boards:", board_name);
		for (const struct board *const *b = board_table; *b; b++) {
			fprintf(stderr, " %s", (*b)->name);
		}
		fprintf(stderr, "\n");
		return EXIT_USAGE;
	}

	config_defaults(&app.cfg);
	if (!config_path && data_dir) {
		struct stat st;

		snprintf(default_conf, sizeof(default_conf), "%s/hotline-edge.conf", data_dir);
		if (stat(default_conf, &st) == 0) {
			config_path = default_conf;
		}
	}
	if (config_path) {
		rc = config_load(&app.cfg, config_path, err);
		if (rc == 0) {
			rc = config_check(&app.cfg, err);
		}
	} else {
		rc = config_check(&app.cfg, err);
	}
	if (rc < 0) {
		fprintf(stderr, "hotline-edge: configuration error: %s\n", err);
		return EXIT_USAGE;
	}
	if (check_only) {
		printf("configuration %s is valid\n", config_path ? config_path : "(defaults)");
		return EXIT_OK;
	}
	log_set_level(app.cfg.log_level);
	log_use_syslog(app.board->use_syslog);
	return run(&app, data_dir);
}
