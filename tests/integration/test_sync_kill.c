/*
 * Power cuts during sync (issue 6, "Power cut"): the real daemon on the sim
 * board syncs with citysim over TLS on the slirp wire and is killed with
 * SIGKILL again and again: while it starts, during the TLS handshake, while
 * it uploads outbox events and while it applies pages of city items.
 * citysim itself is killed a few times too. After every kill both databases
 * are read (read-only) and must agree: the city holds each (device,
 * db_epoch, seq) once, contiguous from 1 to its acked_upto, as the appliance
 * wrote it; nothing the appliance marked acknowledged is missing at the
 * city; no mark goes back; every city item up to the appliance's cursor is
 * applied exactly once (one order per dispatch, one notice per notice, one
 * history row and one outbox event per applied item) and nothing after it
 * at all; a calendar year up to the cursor is imported or still queued. At
 * the end the daemon runs until everything went through: the city holds
 * every event once, the appliance every item once, the cursor is the
 * city's last, and each calendar year holds its days.
 *
 * The moment of each kill: a random delay after the start (its bound learnt
 * from how long the runs take on this machine), or a random moment once the
 * city stored a batch of this run, or once the download began, or the first
 * moment a calendar import is seen with its queue row still there (the
 * next round must see that it was done and not import it again: each
 * calendar item is imported exactly once). Between kills the test adds work on both sides (events
 * appended to the outbox with the store API while the daemon is down,
 * orders, notices and calendar years from the citysim CLI), so kills keep
 * landing in uploads and applies all along.
 *
 * Bounded: KILL_CYCLES cycles (HE_SYNC_KILL_CYCLES overrides), each kill
 * at most TRIGGER_MAX_MS after the start; HE_SYNC_KILL_SEED repeats a
 * run's random choices, HE_SYNC_KILL_VERBOSE prints every cycle.
 *
 * Arguments: GEN-TEST-PKI DAEMON-COMMAND... -- CITYSIM-COMMAND...
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "fw/outbox.h"
#include "fw/store.h"
#include "test_city.h"
#include "test_proc.h"
#include "test_util.h"

#define KILL_CYCLES	 100
#define KILL_MIN_MS	 30
#define KILL_MAX_MS	 700   /* the timed kills' bound at most (HE_SYNC_KILL_MAX_MS) */
#define CITY_KILLS	 5     /* citysim killed in this many of the cycles */
#define EVENTS_INITIAL	 3000  /* outbox events before the first start */
#define EVENTS_CYCLE_MAX 300   /* events appended before each later start */
#define DISPATCH_INITIAL 150   /* orders queued at the city before the first start */
#define DISPATCH_MAX	 1000  /* numbers kept */
#define FINAL_MAX_MS	 60000 /* the last run must drain everything in this */
#define FINAL_STALL_MS	 3000  /* no progress this long: a clean restart starts a round */
#define DEVICE		 "sim-0001"
#define CITY_HOST	 "city.hotline.test"
#define CALENDAR_YEAR	 "2026"

static struct test_city_env env;
static char **daemon_cmd;
static int daemon_argc;
static char app_dir[1200];
static char city_dir[1200];
static char daemon_log[1300];
static uint16_t http_port;
static struct test_city city;
static int64_t events_appended;
static char numbers[DISPATCH_MAX][32];
static int ndispatch;
static int nnotice;
static int ncalendar;
static int kill_no; /* kills so far (for failure messages) */

/* What one look at both databases found. */
struct snap {
	bool ok;
	int64_t acked;	    /* the appliance's acknowledged mark (its outbox is acked up to it) */
	int64_t last_seq;   /* the appliance's highest seq */
	int64_t cursor;	    /* the appliance's stored download cursor (0: none) */
	int64_t city_upto;  /* the city's acked_upto for this device and epoch */
	int64_t city_count; /* the city's highest stored seq (= its count: contiguous, checked) */
	int64_t city_last;  /* the city's last item cursor for this device */
};

static int64_t now_ms(void)
{
	return test_proc_now_ms();
}

/* ---- set-up -------------------------------------------------------------- */

static void write_conf(void)
{
	char path[1300];
	char text[512];

	snprintf(path, sizeof(path), "%s/hotline-edge.conf", app_dir);
	snprintf(text, sizeof(text),
		 "[http]\nport = %u\n[log]\nlevel = info\n"
		 "[city]\naddress = 10.0.2.2\nport = %u\nhostname = " CITY_HOST "\n",
		 http_port, city.port);
	test_file_write(path, text, strlen(text));
}

static void copy_file(const char *from, const char *to, mode_t mode)
{
	size_t len;
	void *data = test_file_read(from, &len);

	test_file_write(to, data, len);
	free(data);
	assert_int_equal(chmod(to, mode), 0);
}

/* The device identity of the test PKI under DATA_DIR/keys/. */
static void install_keys(void)
{
	char from[1200];
	char to[1300];

	snprintf(to, sizeof(to), "%s/keys", app_dir);
	assert_true(mkdir(to, 0700) == 0 || errno == EEXIST);
	test_city_pki(&env, from, sizeof(from), "device.key");
	snprintf(to, sizeof(to), "%s/keys/device.key", app_dir);
	copy_file(from, to, 0600);
	test_city_pki(&env, from, sizeof(from), "device.crt");
	snprintf(to, sizeof(to), "%s/keys/device.crt", app_dir);
	copy_file(from, to, 0644);
	test_city_pki(&env, from, sizeof(from), "ca.crt");
	snprintf(to, sizeof(to), "%s/keys/city-ca.crt", app_dir);
	copy_file(from, to, 0644);
}

static void city_start(void)
{
	assert_int_equal(test_city_start(&city, &env, "city", "--data", city_dir, NULL), 0);
}

/* n events of a type the law requires kept, in transactions of up to 500. */
static void outbox_add(int n)
{
	sqlite3 *db;

	assert_int_equal(store_open(app_dir, &db), 0);
	for (int done = 0; done < n;) {
		assert_int_equal(store_begin(db), 0);
		for (int k = 0; k < 500 && done < n; k++, done++) {
			char payload[96];

			snprintf(payload, sizeof(payload),
				 "{\"n\":%" PRId64 ",\"text\":\"断电测试\"}", ++events_appended);
			assert_int_equal(outbox_append(db, "request.created", payload, NULL), 0);
		}
		assert_int_equal(store_commit(db), 0);
	}
	store_close(db);
}

/* Run a citysim subcommand on the city's store; its output in p->out (asserts exit 0). */
static void city_cli(struct test_proc *p, const char *const *args)
{
	int rc = test_proc_run(p, env.cmd, env.cmd_argc, args, NULL, 30000);

	if (rc != 0) {
		fail_msg("citysim %s exited %d: %s", args[0], rc, p->out);
	}
}

static void city_dispatch(void)
{
	static struct test_proc p;
	char *nl;

	assert_true(ndispatch < DISPATCH_MAX);
	city_cli(&p,
		 (const char *const[]){ "dispatch", "--data", city_dir, "--device", DEVICE, NULL });
	nl = strchr(p.out, '\n');
	if (nl != NULL) {
		*nl = '\0';
	}
	assert_true(p.out[0] != '\0' && strlen(p.out) < sizeof(numbers[0]));
	memcpy(numbers[ndispatch++], p.out, strlen(p.out) + 1);
}

/* An urging notice with a text of its own (so each one can be counted). */
static void city_notice(void)
{
	static struct test_proc p;
	char text[48];

	assert_true(ndispatch > 0);
	snprintf(text, sizeof(text), "请尽快办理 %d", ++nnotice);
	city_cli(&p, (const char *const[]){ "notice", "--data", city_dir, "--device", DEVICE,
					    "--number", numbers[rand() % ndispatch], "--kind",
					    "urge", "--text", text, NULL });
}

/* One more order, and every 25th an urging notice. */
static void city_add(void)
{
	city_dispatch();
	if (ndispatch % 25 == 0) {
		city_notice();
	}
}

/* A calendar.year item for every device, from the year file in data/calendar. */
static void city_calendar(const char *year)
{
	static struct test_proc p;
	char file[PATH_MAX];

	snprintf(file, sizeof(file), "%s/%s.json", HE_CALENDAR_DIR, year);
	city_cli(&p, (const char *const[]){ "calendar", "--data", city_dir, "--year", year,
					    "--file", file, NULL });
	ncalendar++;
}

/* ---- the daemon ---------------------------------------------------------- */

/* The daemon on the sim board, its output in daemon_log (replaced each start). */
static pid_t daemon_start(void)
{
	char *argv[48];
	int n = 0;
	pid_t pid;

	for (int i = 0; i < daemon_argc && n < 40; i++) {
		argv[n++] = daemon_cmd[i];
	}
	argv[n++] = "--board";
	argv[n++] = "sim";
	argv[n++] = "--data-dir";
	argv[n++] = app_dir;
	argv[n] = NULL;
	/* Emptied here, before the fork: emptied in the child, the parent could
	 * still read the last run's "main: ready" and stop this one too early. */
	{
		int fd = open(daemon_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		assert_true(fd >= 0);
		close(fd);
	}
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(daemon_log, O_WRONLY | O_APPEND | O_CLOEXEC);
		int nul = open("/dev/null", O_RDONLY);

		prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a failed test */
		dup2(fd, 1);
		dup2(fd, 2);
		dup2(nul, 0);
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* The end of the daemon's last log, for failure messages. */
static const char *log_tail(void)
{
	static char buf[4096];
	size_t len = 0;
	char *all;

	if (!test_file_exists(daemon_log)) {
		return "(no log)";
	}
	all = test_file_read(daemon_log, &len);
	snprintf(buf, sizeof(buf), "%s",
		 len > sizeof(buf) - 1 ? all + len - (sizeof(buf) - 1) : all);
	free(all);
	return buf;
}

/* ---- looking at both databases ------------------------------------------- */

/* Both stores read-only on one connection: the appliance's as main, the city's as city. */
static sqlite3 *open_both(void)
{
	char uri[2600];
	char sql[2700];
	sqlite3 *db = NULL;

	snprintf(uri, sizeof(uri), "file:%s/hotline.db?mode=ro", app_dir);
	if (sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 5000);
	snprintf(sql, sizeof(sql), "ATTACH 'file:%s/citysim.db?mode=ro' AS city", city_dir);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

/*
 * City events are never changed once stored, so after a kill only those
 * above check_from (what earlier checks compared) are compared field by
 * field again; the final check compares all.
 */
static int64_t check_from;

/* One integer from SQL with ?1 = the device and ?2 = check_from. */
static bool q_int(sqlite3 *db, const char *sql, int64_t *out)
{
	sqlite3_stmt *st = NULL;
	bool ok;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "test_sync_kill: %s: %s\n", sql, sqlite3_errmsg(db));
		return false;
	}
	if (sqlite3_bind_parameter_count(st) >= 1) {
		sqlite3_bind_text(st, 1, DEVICE, -1, SQLITE_STATIC);
	}
	if (sqlite3_bind_parameter_count(st) >= 2) {
		sqlite3_bind_int64(st, 2, check_from);
	}
	ok = sqlite3_step(st) == SQLITE_ROW;
	if (ok) {
		*out = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	return ok;
}

/* Asserting q_int. */
static int64_t q(sqlite3 *db, const char *sql)
{
	int64_t v = 0;

	if (!q_int(db, sql, &v)) {
		fail_msg("query failed: %s: %s", sql, sqlite3_errmsg(db));
	}
	return v;
}

#define EPOCH "(SELECT value FROM main.meta WHERE key = 'db_epoch')"
#define CURSOR \
	"coalesce((SELECT CAST(value AS INTEGER) FROM main.meta WHERE key = 'sync_cursor'), 0)"
#define MY_ITEMS "city.items i WHERE i.device IN (?1, '*')"

#define CAL_IMPORTS \
	"(SELECT count(*) FROM main.audit WHERE action = 'calendar.import' AND actor = 'city')"
#define CAL_ITEMS                                                                                 \
	"(SELECT count(*) FROM " MY_ITEMS " AND i.type = 'calendar.year' AND i.cursor <= " CURSOR \
	")"

/* Through the index of waiting events (the acknowledged ones are a prefix: checked). */
static const char sql_acked[] = "SELECT coalesce((SELECT min(seq) - 1 FROM main.outbox WHERE "
				"acked_ms IS NULL), (SELECT max(seq) FROM main.outbox), 0)";
static const char sql_last_seq[] = "SELECT coalesce((SELECT max(seq) FROM main.outbox), 0)";
static const char sql_cursor[] = "SELECT " CURSOR;
static const char sql_city_upto[] = "SELECT coalesce((SELECT acked_upto FROM city.progress WHERE "
				    "device = ?1 AND db_epoch = " EPOCH "), 0)";
/* The highest seq stored: the count, as they are contiguous from 1 (checked). */
static const char sql_city_count[] = "SELECT coalesce((SELECT max(seq) FROM city.events WHERE "
				     "device = ?1 AND db_epoch = " EPOCH "), 0)";
static const char sql_city_last[] = "SELECT coalesce((SELECT max(cursor) FROM " MY_ITEMS "), 0)";

/* A look that never fails the test (the daemon may be writing). */
static sqlite3 *watch_db; /* kept open between looks (each query sees the latest commit) */

static void snap_take(struct snap *s)
{
	memset(s, 0, sizeof(*s));
	if (watch_db == NULL) {
		watch_db = open_both();
		if (watch_db == NULL) {
			return;
		}
	}
	s->ok = q_int(watch_db, sql_acked, &s->acked) &&
		q_int(watch_db, sql_last_seq, &s->last_seq) &&
		q_int(watch_db, sql_cursor, &s->cursor) &&
		q_int(watch_db, sql_city_upto, &s->city_upto) &&
		q_int(watch_db, sql_city_count, &s->city_count) &&
		q_int(watch_db, sql_city_last, &s->city_last);
	if (!s->ok) {
		sqlite3_close(watch_db);
		watch_db = NULL;
	}
}

/* Every query below must count 0 (asserts, naming the invariant). */
static const struct {
	const char *what;
	const char *sql;
} zero_checks[] = {
	{ "the city holds events of this device under another db_epoch (the appliance's "
	  "database was replaced)",
	  "SELECT count(*) FROM city.events WHERE device = ?1 AND db_epoch != " EPOCH },
	{ "the city rejected events", "SELECT count(*) FROM city.rejected WHERE device = ?1" },
	{ "the city's events are not contiguous from seq 1",
	  "SELECT count(*) FROM city.events WHERE device = ?1 AND db_epoch = " EPOCH
	  " AND seq > (SELECT count(*) FROM city.events WHERE device = ?1 AND db_epoch = " EPOCH
	  ")" },
	{ "the city's acked_upto is not its highest stored seq",
	  "SELECT coalesce((SELECT acked_upto FROM city.progress WHERE device = ?1 AND db_epoch "
	  "= " EPOCH
	  "), 0) != (SELECT coalesce(max(seq), 0) FROM city.events WHERE device = ?1 AND "
	  "db_epoch = " EPOCH ")" },
	{ "an event at the city differs from the appliance's (or the appliance never wrote it)",
	  "SELECT count(*) FROM city.events c LEFT JOIN main.outbox o ON o.seq = c.seq "
	  "WHERE c.device = ?1 AND c.db_epoch = " EPOCH " AND c.seq > ?2 AND (o.seq IS NULL OR "
	  "o.event_id != c.event_id OR o.type != c.type OR o.created_ms != c.at_ms OR "
	  "json(o.payload) != json(c.payload))" },
	{ "the appliance's acknowledged events are not a prefix of its outbox",
	  "SELECT count(*) FROM main.outbox WHERE acked_ms IS NULL AND seq < (SELECT "
	  "coalesce(max(seq), 0) FROM main.outbox WHERE acked_ms IS NOT NULL)" },
	{ "the appliance marked acknowledged an event the city does not hold",
	  "SELECT count(*) FROM main.outbox o WHERE o.acked_ms IS NOT NULL AND NOT EXISTS "
	  "(SELECT 1 FROM city.events c WHERE c.device = ?1 AND c.db_epoch = " EPOCH
	  " AND c.seq = o.seq)" },
	{ "the cursor is beyond the city's last item",
	  "SELECT " CURSOR " > coalesce((SELECT max(cursor) FROM " MY_ITEMS "), 0)" },
	{ "a dispatch up to the cursor is not exactly one order",
	  "SELECT count(*) FROM " MY_ITEMS " AND i.type = 'order.dispatch' AND i.cursor <= " CURSOR
	  " AND (SELECT count(*) FROM main.orders o WHERE o.number = "
	  "json_extract(i.json, '$.number')) != 1" },
	{ "a dispatch after the cursor is already an order (half-applied page)",
	  "SELECT count(*) FROM " MY_ITEMS " AND i.type = 'order.dispatch' AND i.cursor > " CURSOR
	  " AND EXISTS (SELECT 1 FROM main.orders o WHERE o.number = "
	  "json_extract(i.json, '$.number'))" },
	{ "there are more orders than dispatches up to the cursor",
	  "SELECT (SELECT count(*) FROM main.orders) != (SELECT count(*) FROM " MY_ITEMS
	  " AND i.type = 'order.dispatch' AND i.cursor <= " CURSOR ")" },
	{ "an order item up to the cursor is not recorded as applied",
	  "SELECT count(*) FROM " MY_ITEMS " AND i.type LIKE 'order.%' AND i.cursor <= " CURSOR
	  " AND NOT EXISTS (SELECT 1 FROM main.city_items_applied a WHERE a.item_id = i.item_id)" },
	{ "an item is recorded as applied that is not up to the cursor",
	  "SELECT count(*) FROM main.city_items_applied a WHERE NOT EXISTS (SELECT 1 FROM " MY_ITEMS
	  " AND i.item_id = a.item_id AND i.cursor <= " CURSOR ")" },
	{ "a notice is not applied exactly once up to the cursor (or applied after it)",
	  "SELECT count(*) FROM " MY_ITEMS " AND i.type = 'order.notice' AND (SELECT count(*) "
	  "FROM main.order_notices n WHERE n.text = json_extract(i.json, '$.text')) != "
	  "(i.cursor <= " CURSOR ")" },
	{ "order history rows are not one per applied city item",
	  "SELECT (SELECT count(*) FROM main.order_history) != (SELECT count(*) FROM "
	  "main.city_items_applied)" },
	{ "order.delivered events are not one per applied dispatch",
	  "SELECT (SELECT count(*) FROM main.outbox WHERE type = 'order.delivered') != "
	  "(SELECT count(*) FROM main.city_items_applied WHERE type = 'order.dispatch')" },
	{ "order.notice_received events are not one per applied notice",
	  "SELECT (SELECT count(*) FROM main.outbox WHERE type = 'order.notice_received') != "
	  "(SELECT count(*) FROM main.city_items_applied WHERE type = 'order.notice')" },
	{ "an item was kept as a conflict", "SELECT count(*) FROM main.sync_conflicts" },
	{ "a calendar year up to the cursor is neither imported nor queued",
	  "SELECT count(*) FROM " MY_ITEMS " AND i.type = 'calendar.year' AND i.cursor <= " CURSOR
	  " AND NOT EXISTS (SELECT 1 FROM main.sync_pending_apply p WHERE "
	  "json_extract(p.item, '$.item_id') = i.item_id) AND NOT EXISTS (SELECT 1 FROM "
	  "main.work_calendar_years y WHERE y.year = i.json ->> '$.year' AND y.source = 'city')" },
	{ "a calendar item up to the cursor was neither imported nor queued",
	  "SELECT max(0, " CAL_ITEMS " - " CAL_IMPORTS " - (SELECT count(*) FROM "
	  "main.sync_pending_apply))" },
	{ "a calendar item was imported more than once (a kill between its import and the "
	  "clearing of its queue row)",
	  "SELECT max(0, " CAL_IMPORTS " - " CAL_ITEMS ")" },
	{ "a calendar year is queued twice or after the cursor",
	  "SELECT count(*) - count(DISTINCT json_extract(p.item, '$.item_id')) + (SELECT count(*) "
	  "FROM main.sync_pending_apply q WHERE CAST(q.cursor AS INTEGER) > " CURSOR
	  ") FROM main.sync_pending_apply p" },
};

/*
 * All invariants after a kill (asserts); the marks must not have gone back
 * since prev. final: everything must have gone through.
 */
static void check(struct snap *prev, bool final)
{
	sqlite3 *db = open_both();
	struct snap s;

	assert_non_null(db);
	check_from = final ? 0 : prev->city_count;
	for (size_t i = 0; i < sizeof(zero_checks) / sizeof(zero_checks[0]); i++) {
		int64_t n = q(db, zero_checks[i].sql);

		if (n != 0) {
			fail_msg("after kill %d: %s (%" PRId64 "); last daemon log:\n%s", kill_no,
				 zero_checks[i].what, n, log_tail());
		}
	}
	sqlite3_close(db);
	snap_take(&s);
	assert_true(s.ok);
	assert_true(s.acked <= s.city_upto);
	if (s.acked < prev->acked || s.city_upto < prev->city_upto || s.cursor < prev->cursor) {
		fail_msg("a mark went back: acked %" PRId64 " -> %" PRId64 ", city %" PRId64
			 " -> %" PRId64 ", cursor %" PRId64 " -> %" PRId64,
			 prev->acked, s.acked, prev->city_upto, s.city_upto, prev->cursor,
			 s.cursor);
	}
	if (final) {
		db = open_both();
		assert_non_null(db);
		assert_int_equal(s.city_count, s.last_seq);
		assert_int_equal(s.acked, s.last_seq);
		assert_int_equal(s.cursor, s.city_last);
		assert_int_equal(q(db, "SELECT count(*) FROM main.outbox WHERE type = "
				       "'request.created'"),
				 events_appended);
		assert_int_equal(q(db, "SELECT count(*) FROM main.orders"), ndispatch);
		assert_int_equal(q(db, "SELECT count(*) FROM main.order_notices"), nnotice);
		assert_int_equal(q(db, "SELECT count(*) FROM main.sync_pending_apply"), 0);
		/* Each year holds the days its city items list (they are the year files). */
		assert_int_equal(q(db,
				   "SELECT count(*) FROM " MY_ITEMS " AND i.type = "
				   "'calendar.year' AND (SELECT count(*) FROM main.work_calendar w "
				   "WHERE w.year = i.json ->> '$.year') != "
				   "json_array_length(i.json, '$.calendar.days')"),
				 0);
		assert_true(q(db, "SELECT " CAL_IMPORTS) >= ncalendar);
		assert_int_equal(q(db, "SELECT count(*) FROM main.work_calendar_years WHERE year "
				       "= " CALENDAR_YEAR " AND source = 'city'"),
				 1);
		sqlite3_close(db);
	}
	*prev = s;
}

/* ---- the kills ----------------------------------------------------------- */

/*
 * How a cycle picks its moment. TIMED: a random delay after the start (it
 * lands in the start, the handshake, an upload, an apply or idle time).
 * UPLOAD: once the city has stored a batch of this run and the upload is
 * not over, a random 0..UPLOAD_JITTER_MS later. APPLY: once the upload is
 * over or a page went in (the download is under way), a random
 * 0..APPLY_JITTER_MS later; these cycles get more items from the city.
 */
enum mode { M_TIMED, M_UPLOAD, M_APPLY, M_CALENDAR, M_N };
static const char *const mode_names[M_N] = { "timed", "upload", "apply", "calendar" };
#define UPLOAD_JITTER_MS 120
#define APPLY_JITTER_MS	 150
#define TRIGGER_MAX_MS	 1500 /* a trigger not seen by then: killed anyway */

/* Where a kill landed, from the last look just before it. */
enum phase { PH_START, PH_UPLOAD, PH_APPLY, PH_IDLE, PH_N };
static const char *const phase_names[PH_N] = { "start/handshake", "upload", "apply", "idle" };

static enum phase classify(const struct snap *at_start, const struct snap *last)
{
	if (!last->ok) {
		return PH_START;
	}
	if (last->acked < at_start->last_seq) {
		return last->city_count > at_start->city_count || last->acked > at_start->acked
			       ? PH_UPLOAD
			       : PH_START;
	}
	return last->cursor < at_start->city_last ? PH_APPLY : PH_IDLE;
}

static int env_int(const char *name, int dflt)
{
	const char *v = getenv(name);

	return v != NULL && atoi(v) > 0 ? atoi(v) : dflt;
}

/* Wait until the daemon's log says it is ready (its signal handlers are set). */
static void wait_ready(pid_t pid)
{
	int64_t end = now_ms() + 30000;

	while (now_ms() < end) {
		size_t len;
		char *text;
		bool ready;

		if (waitpid(pid, NULL, WNOHANG) == pid) {
			fail_msg("the daemon exited during start; its log:\n%s", log_tail());
		}
		if (test_file_exists(daemon_log)) {
			text = test_file_read(daemon_log, &len);
			ready = strstr(text, "main: ready") != NULL;
			free(text);
			if (ready) {
				return;
			}
		}
		usleep(20 * 1000);
	}
	fail_msg("the daemon did not get ready in 30 s; its log:\n%s", log_tail());
}

static void stop_clean(pid_t pid)
{
	int status;

	wait_ready(pid);
	kill(pid, SIGTERM);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fail_msg("the daemon did not stop cleanly (status %#x); log:\n%s", status,
			 log_tail());
	}
}

/* The city's calendar imports so far. */
static int64_t cal_imports(void)
{
	int64_t n = 0;

	if (watch_db == NULL || !q_int(watch_db, "SELECT " CAL_IMPORTS, &n)) {
		return -1;
	}
	return n;
}

/* A calendar import since the count was since, its queue row still there. */
static bool cal_imported_since(int64_t since)
{
	char sql[256];
	int64_t n = 0;

	snprintf(sql, sizeof(sql),
		 "SELECT (SELECT count(*) FROM main.sync_pending_apply) > 0 AND " CAL_IMPORTS
		 " > %" PRId64,
		 since);
	return since >= 0 && watch_db != NULL && q_int(watch_db, sql, &n) && n != 0;
}

#define PAGE_ITEMS 50 /* items per page the daemon asks for (SYNC_PAGE_ITEMS) */

static long city_log_at; /* where this daemon run's requests start in citysim's log */

static long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

/* Requests in citysim's log since city_log_at that contain what. */
static int city_log_count(const char *what)
{
	size_t len = 0;
	char *text;
	int n = 0;

	if (!test_file_exists(city.log)) {
		return 0;
	}
	text = test_file_read(city.log, &len);
	for (const char *p = (long)len > city_log_at ? text + city_log_at : text + len;
	     (p = strstr(p, what)) != NULL; p += strlen(what)) {
		n++;
	}
	free(text);
	return n;
}

/*
 * Did the kill land between the city sending a page of items and the
 * appliance committing it? Pages are PAGE_ITEMS long but the last, so the
 * cursor's move tells how many pages this run committed; one more page
 * served while items were left means one was in flight.
 */
static bool page_in_flight(const struct snap *at_start, const struct snap *after)
{
	char sql[512];
	sqlite3 *db;
	int64_t n;
	int served = city_log_count("GET /api/v1/items 200");

	if (served == 0 || after->cursor >= after->city_last) {
		return false;
	}
	db = open_both();
	assert_non_null(db);
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM " MY_ITEMS " AND i.cursor > %" PRId64
		 " AND i.cursor <= %" PRId64,
		 at_start->cursor, after->cursor);
	n = q(db, sql);
	sqlite3_close(db);
	return served > (n + PAGE_ITEMS - 1) / PAGE_ITEMS;
}

static void test_kill_during_sync(void **state)
{
	int cycles = env_int("HE_SYNC_KILL_CYCLES", KILL_CYCLES);
	int kill_max = env_int("HE_SYNC_KILL_MAX_MS", KILL_MAX_MS) > KILL_MIN_MS
			       ? env_int("HE_SYNC_KILL_MAX_MS", KILL_MAX_MS)
			       : KILL_MIN_MS;
	bool verbose = getenv("HE_SYNC_KILL_VERBOSE") != NULL;
	int phases[PH_N] = { 0 }, modes[M_N] = { 0 };
	int city_kills = 0, city_ahead = 0, in_flight = 0, final_starts = 0;
	int64_t t0 = now_ms(), t_loop, t_final, t_end, kill_ms_sum = 0, prep_ms = 0, check_ms = 0,
		tp;
	int kill_ms_max = 0;
	/* How long a run takes to get through its work, learnt as the test goes
	 * (the machine's speed and load, ASan); timed kills aim at that span. */
	int busy_ms = kill_max, timed_hi, timed_hi_sum = 0;
	struct snap prev = { 0 };
	unsigned int seed;
	pid_t pid;
	int status;

	(void)state;
	snprintf(app_dir, sizeof(app_dir), "%s/appliance", env.tmp);
	snprintf(city_dir, sizeof(city_dir), "%s/city", env.tmp);
	snprintf(daemon_log, sizeof(daemon_log), "%s/daemon.log", env.tmp);
	assert_int_equal(mkdir(app_dir, 0700), 0);
	assert_int_equal(mkdir(city_dir, 0700), 0);
	http_port = (uint16_t)test_proc_free_port();
	seed = (unsigned)env_int("HE_SYNC_KILL_SEED",
				 (int)(((unsigned)time(NULL) ^ (unsigned)getpid()) & 0x7fffffff));
	srand(seed);
	print_message("seed %u (HE_SYNC_KILL_SEED repeats the random choices), %d kill cycles\n",
		      seed, cycles);

	/* The appliance's backlog, written before it ever ran. */
	assert_int_equal(store_init(app_dir, NULL), 0);
	outbox_add(EVENTS_INITIAL);
	install_keys();

	/* The city's queue: orders, a calendar year, urging notices. */
	city_start();
	for (int i = 0; i < DISPATCH_INITIAL; i++) {
		city_dispatch();
		if (i == DISPATCH_INITIAL / 2) {
			city_calendar(CALENDAR_YEAR);
		}
		if (i % 30 == 29) {
			city_notice();
		}
	}
	write_conf();
	check(&prev, false);
	print_message("backlog: %" PRId64 " events at the appliance, %d orders, %d notices and a "
		      "calendar year at the city, set up in %.1f s\n",
		      events_appended, ndispatch, nnotice, (double)(now_ms() - t0) / 1000.0);

	t_loop = now_ms();
	for (int cycle = 0; cycle < cycles; cycle++) {
		int city_every = cycles / CITY_KILLS > 0 ? cycles / CITY_KILLS : 1;
		bool kill_city = cycle % city_every == city_every / 2;
		int r = rand() % 4;
		enum mode mode = cycle % 10 == 5		    ? M_CALENDAR
				 : kill_city || cycle == 0 || r < 2 ? M_TIMED
				 : r == 2			    ? M_UPLOAD
								    : M_APPLY;
		struct snap at_start, last = { 0 };
		int64_t cal_at_start;
		int64_t start, deadline, city_deadline = -1;
		bool triggered = false;
		int64_t t_up = -1, t_page = -1, t_done = -1;
		enum phase ph;
		int adds;

		/* More work on both sides while the daemon is down. */
		tp = now_ms();
		if (cycle > 0) {
			outbox_add(rand() % (EVENTS_CYCLE_MAX + 1));
			for (int i = mode == M_APPLY ? 6 + rand() % 11 : 0; i > 0; i--) {
				city_add();
			}
			if (mode == M_CALENDAR) {
				city_calendar(cycle % 20 == 5 ? "2025" : CALENDAR_YEAR);
			}
		}
		/* A timed cycle's city dispatches a little while the daemon runs. */
		adds = mode == M_TIMED && !kill_city ? rand() % 3 : 0;
		snap_take(&at_start);
		assert_true(at_start.ok);
		cal_at_start = cal_imports();
		modes[mode]++;
		prep_ms += now_ms() - tp;

		start = now_ms();
		timed_hi = busy_ms * 5 / 4 < kill_max ? busy_ms * 5 / 4 : kill_max;
		timed_hi = timed_hi > KILL_MIN_MS * 4 ? timed_hi : KILL_MIN_MS * 4;
		if (mode == M_TIMED) {
			timed_hi_sum += timed_hi;
		}
		deadline = start + (mode == M_TIMED
					    ? KILL_MIN_MS + rand() % (timed_hi - KILL_MIN_MS + 1)
					    : TRIGGER_MAX_MS);
		if (kill_city) {
			city_deadline = start + rand() % (deadline - start + 1);
		}
		city_log_at = file_size(city.log);
		pid = daemon_start();
		for (;;) {
			struct snap s;
			int64_t t;

			if (adds > 0 && now_ms() + 40 < deadline) {
				adds--;
				city_add();
			}
			snap_take(&s);
			if (s.ok) {
				last = s;
			}
			t = now_ms();
			if (t_up < 0 && s.ok && s.acked >= at_start.last_seq) {
				t_up = t - start;
			}
			if (t_done < 0 && s.ok && s.acked >= at_start.last_seq &&
			    s.cursor >= at_start.city_last) {
				t_done = t - start;
			}
			if (t_page < 0 && s.ok && s.cursor > at_start.cursor) {
				t_page = t - start;
			}
			if (city_deadline >= 0 && t >= city_deadline) {
				kill(city.pid, SIGKILL);
				city_deadline = -1;
			}
			if (!triggered && s.ok && mode == M_UPLOAD &&
			    s.city_count > at_start.city_count && s.acked < at_start.last_seq) {
				triggered = true;
				deadline = t + rand() % (UPLOAD_JITTER_MS + 1);
			}
			if (!triggered && mode == M_CALENDAR && cal_imported_since(cal_at_start)) {
				triggered = true;
				deadline = t;
			}
			if (!triggered && s.ok && mode == M_APPLY &&
			    (s.acked >= at_start.last_seq || s.cursor > at_start.cursor)) {
				triggered = true;
				deadline = t + rand() % (APPLY_JITTER_MS + 1);
			}
			if (t >= deadline) {
				kill(pid, SIGKILL);
				break;
			}
			if (mode !=
			    M_CALENDAR) { /* that window is a few ms: look without a pause */
				usleep((useconds_t)(deadline - t < 4 ? deadline - t : 4) * 1000);
			}
		}
		kill_ms_sum += now_ms() - start;
		if (now_ms() - start > kill_ms_max) {
			kill_ms_max = (int)(now_ms() - start);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
			fail_msg("cycle %d: the daemon ended by itself (status %#x) before the "
				 "kill; its log:\n%s",
				 cycle, status, log_tail());
		}
		if (t_done > 0 &&
		    (at_start.acked < at_start.last_seq || at_start.cursor < at_start.city_last)) {
			busy_ms = (3 * busy_ms + (int)t_done) / 4;
		}
		ph = classify(&at_start, &last);
		phases[ph]++;
		if (kill_city) {
			int cs;

			assert_int_equal(waitpid(city.pid, &cs, 0), city.pid);
			assert_true(WIFSIGNALED(cs) && WTERMSIG(cs) == SIGKILL);
			city_kills++;
		}
		tp = now_ms();
		kill_no = cycle + 1;
		check(&prev, false);
		check_ms += now_ms() - tp;
		if (prev.city_upto > prev.acked) {
			city_ahead++; /* stored at the city, not yet marked here: a resend follows */
		}
		if (page_in_flight(&at_start, &prev)) {
			in_flight++; /* a page sent, not committed: fetched again */
		}
		if (verbose) {
			print_message(
				"cycle %d (%s%s): killed after %" PRId64 " ms: %s (acked %" PRId64
				"/%" PRId64 " -> %" PRId64 "; city %" PRId64 " -> %" PRId64
				"; cursor %" PRId64 " -> %" PRId64 " of %" PRId64
				"; uploaded at %" PRId64 ", first page at %" PRId64 " ms)\n",
				cycle, mode_names[mode], kill_city ? ", citysim too" : "",
				now_ms() - start, phase_names[ph], at_start.acked,
				at_start.last_seq, prev.acked, at_start.city_count, prev.city_count,
				at_start.cursor, prev.cursor, at_start.city_last, t_up, t_page);
		}
		if (kill_city) {
			city_start();
			write_conf(); /* it listens on a new port */
		}
	}
	t_final = now_ms();

	/* The end: no more kills; restart cleanly when a round is over with work left. */
	{
		int64_t last_progress = now_ms();
		struct snap was = { 0 };

		pid = daemon_start();
		final_starts++;
		for (;;) {
			struct snap s;

			snap_take(&s);
			if (s.ok && s.acked == s.last_seq && s.cursor == s.city_last) {
				sqlite3 *db = open_both();
				int64_t pending =
					db ? q(db, "SELECT count(*) FROM main.sync_pending_apply")
					   : 1;

				sqlite3_close(db);
				if (pending == 0) {
					break;
				}
			}
			if (s.ok && (s.acked != was.acked || s.cursor != was.cursor ||
				     s.last_seq != was.last_seq)) {
				was = s;
				last_progress = now_ms();
			}
			if (now_ms() - t_final > FINAL_MAX_MS) {
				kill(pid, SIGKILL);
				waitpid(pid, NULL, 0);
				fail_msg("not drained in %d ms: acked %" PRId64 " of %" PRId64
					 ", cursor %" PRId64 " of %" PRId64 "; log:\n%s",
					 FINAL_MAX_MS, s.acked, s.last_seq, s.cursor, s.city_last,
					 log_tail());
			}
			if (now_ms() - last_progress > FINAL_STALL_MS) {
				/* A round is over; the next would come after the idle poll. */
				stop_clean(pid);
				pid = daemon_start();
				final_starts++;
				last_progress = now_ms();
			}
			usleep(50 * 1000);
		}
		stop_clean(pid);
	}
	t_end = now_ms();
	check(&prev, true);
	assert_int_equal(test_city_stop(&city), 0);
	sqlite3_close(watch_db);
	watch_db = NULL;

	print_message(
		"%d daemon kills (%d timed, %d triggered in uploads, %d in downloads, %d aimed at "
		"calendar imports): %d "
		"landed during start/handshake, %d during upload, %d during apply, %d "
		"idle; %d citysim kills; %d kills left a batch stored at the city and not yet "
		"marked acknowledged here (resent, stored once); %d kills came while a page "
		"of items was sent by the city and not yet committed here (fetched again, "
		"applied once)\n",
		cycles, modes[M_TIMED], modes[M_UPLOAD], modes[M_APPLY], modes[M_CALENDAR],
		phases[PH_START], phases[PH_UPLOAD], phases[PH_APPLY], phases[PH_IDLE], city_kills,
		city_ahead, in_flight);
	print_message("kill after start: timed from %d ms to a bound learnt from the runs (mean "
		      "%d ms, at most %d), triggered up to +%d/+%d ms; mean %" PRId64
		      " ms, max %d ms\n",
		      KILL_MIN_MS, timed_hi_sum / (modes[M_TIMED] > 0 ? modes[M_TIMED] : 1),
		      kill_max, UPLOAD_JITTER_MS, APPLY_JITTER_MS,
		      kill_ms_sum / (cycles > 0 ? cycles : 1), kill_ms_max);
	{
		sqlite3 *db = open_both();

		assert_non_null(db);
		print_message("calendar: %d city items, %" PRId64 " imports audited, each once\n",
			      ncalendar, q(db, "SELECT " CAL_IMPORTS));
		sqlite3_close(db);
	}
	print_message("final: %" PRId64 " events at the city exactly once (%" PRId64
		      " written by the test, the rest by applied items), %d orders and %d notices "
		      "applied once, cursor %" PRId64 " = the city's last\n",
		      prev.city_count, events_appended, ndispatch, nnotice, prev.cursor);
	print_message(
		"times: set-up %.1f s, kill loop %.1f s (daemon running %.1f s, adding "
		"work %.1f s, checks %.1f s), final drain %.1f s (%d start%s), total %.1f s\n",
		(double)(t_loop - t0) / 1000.0, (double)(t_final - t_loop) / 1000.0,
		(double)kill_ms_sum / 1000.0, (double)prep_ms / 1000.0, (double)check_ms / 1000.0,
		(double)(t_end - t_final) / 1000.0, final_starts, final_starts == 1 ? "" : "s",
		(double)(t_end - t0) / 1000.0);
	assert_true(phases[PH_UPLOAD] > 0);
	assert_true(phases[PH_APPLY] > 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kill_during_sync),
	};
	char *city_argv[48];
	int sep = 0, n = 0, rc;

	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			sep = i;
			break;
		}
	}
	if (argc < 5 || sep < 3 || sep == argc - 1 || argc - sep > 40) {
		fprintf(stderr, "usage: test_sync_kill GEN-TEST-PKI DAEMON-COMMAND... -- "
				"CITYSIM-COMMAND...\n");
		return 2;
	}
	daemon_cmd = argv + 2;
	daemon_argc = sep - 2;
	city_argv[n++] = argv[0];
	city_argv[n++] = argv[1];
	for (int i = sep + 1; i < argc; i++) {
		city_argv[n++] = argv[i];
	}
	city_argv[n] = NULL;
	rc = test_city_env_init(&env, n, city_argv, "sync-kill");
	if (rc != 0) {
		return rc;
	}
	signal(SIGPIPE, SIG_IGN);
	rc = cmocka_run_group_tests_name("sync_kill", tests, NULL, NULL);
	if (rc == 0) {
		test_rmtree(env.tmp);
	}
	return rc;
}
