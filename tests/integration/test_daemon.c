/*
 * The whole daemon as a technician meets it: command line, exit codes,
 * configuration errors, start-up with a real database and HTTP server, the
 * health route, a database from a newer firmware refused, and a clean stop
 * on SIGTERM and SIGINT. The daemon's command is given on our command line
 * (in the arm64 build it is prefixed by the qemu wrapper).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "test_http.h"
#include "test_proc.h"
#include "test_util.h"

static char **daemon_cmd;
static int daemon_argc;
static char tmpdir[PATH_MAX];
static struct test_resp resp; /* large: not on the stack */

static int run_to_end(const char *const *args, struct test_proc *r)
{
	test_proc_start(r, daemon_cmd, daemon_argc, args, true);
	return test_proc_finish(r, 20000);
}

static void make_dir(char *out, const char *name)
{
	assert_true(snprintf(out, PATH_MAX, "%s/%s", tmpdir, name) < PATH_MAX);
	assert_true(mkdir(out, 0700) == 0 || errno == EEXIST);
}

static void test_command_line(void **state)
{
	struct test_proc r;

	assert_int_equal(run_to_end((const char *const[]){ "--version", NULL }, &r), 0);
	assert_non_null(strstr(r.out, "hotline-edge " HE_VERSION));
	assert_int_equal(run_to_end((const char *const[]){ "--help", NULL }, &r), 0);
	assert_non_null(strstr(r.out, "Exit codes"));
	assert_int_equal(run_to_end((const char *const[]){ "--list-boards", NULL }, &r), 0);
	assert_non_null(strstr(r.out, "sim"));
	assert_non_null(strstr(r.out, "arm64-kiosk"));
	assert_int_equal(run_to_end((const char *const[]){ "--frobnicate", NULL }, &r), 2);
	assert_int_equal(run_to_end((const char *const[]){ "--board", "pc98", NULL }, &r), 2);
	assert_non_null(strstr(r.out, "no board named 'pc98'"));
	assert_int_equal(run_to_end((const char *const[]){ "stray", NULL }, &r), 2);
}

static void test_bad_config_exits_2_naming_line_and_key(void **state)
{
	const char *bad = "[http]\nport = 8080\n\n[watchdog]\ntimeout_s = forever\n";
	char dir[PATH_MAX], conf[PATH_MAX + 16];
	struct test_proc r;

	make_dir(dir, "badconf");
	snprintf(conf, sizeof(conf), "%s/x.conf", dir);
	test_file_write(conf, bad, strlen(bad));
	assert_int_equal(run_to_end((const char *const[]){ "--board", "sim", "--data-dir", dir,
							   "--config", conf, NULL },
				    &r),
			 2);
	assert_non_null(strstr(r.out, "x.conf:5:"));
	assert_non_null(strstr(r.out, "'watchdog.timeout_s'"));
	assert_non_null(strstr(r.out, "0 to 600"));
	/* Nothing was started: no database was created. */
	snprintf(conf, sizeof(conf), "%s/hotline.db", dir);
	assert_int_equal(access(conf, F_OK), -1);

	snprintf(conf, sizeof(conf), "%s/missing.conf", dir);
	assert_int_equal(
		run_to_end((const char *const[]){ "--config", conf, "--check-config", NULL }, &r),
		2);
	assert_non_null(strstr(r.out, "cannot open"));
}

static void serve_and_stop(int sig)
{
	char dir[PATH_MAX], conf[PATH_MAX + 32];
	int port = test_proc_free_port(), status = -1;
	struct test_proc r;
	int64_t end;

	make_dir(dir, sig == SIGTERM ? "serve-term" : "serve-int");
	snprintf(conf, sizeof(conf), "%s/hotline-edge.conf", dir);
	{
		char text[128];

		snprintf(text, sizeof(text), "[http]\nport = %d\n[log]\nlevel = debug\n", port);
		test_file_write(conf, text, strlen(text));
	}
	/* DATA_DIR/hotline-edge.conf is read without --config. */
	test_proc_start(&r, daemon_cmd, daemon_argc,
			(const char *const[]){ "--board", "sim", "--data-dir", dir, NULL }, true);
	end = test_proc_now_ms() + 30000;
	while (test_proc_now_ms() < end) {
		status = test_http_try(port, "GET", "/api/v1/health", &resp);
		if (status == 200) {
			break;
		}
		test_proc_drain(&r, 100);
	}
	if (status != 200) {
		kill(r.pid, SIGKILL);
		test_proc_finish(&r, 5000);
		fail_msg("health never answered; daemon output:\n%s", r.out);
	}
	assert_non_null(strstr(resp.body, "\"name\":\"sim\""));
	assert_non_null(strstr(resp.body, "\"state\":\"ok\""));
	assert_non_null(strstr(resp.body, HE_VERSION));
	assert_int_equal(test_http_try(port, "GET", "/", &resp), 200);
	assert_non_null(strstr(resp.body, "<html"));
	assert_int_equal(test_http_try(port, "GET", "/api/v1/nope", &resp), 404);
	assert_non_null(strstr(resp.body, "\"error\""));

	kill(r.pid, sig);
	assert_int_equal(test_proc_finish(&r, 20000), 0);
	assert_non_null(strstr(r.out, "stopped (exit code 0)"));
	/* The port is free again: the server really stopped. */
	assert_int_equal(test_http_try(port, "GET", "/api/v1/health", &resp), -1);
	snprintf(conf, sizeof(conf), "%s/hotline.db", dir);
	assert_int_equal(access(conf, F_OK), 0);
}

static void test_serves_health_and_stops_on_sigterm(void **state)
{
	serve_and_stop(SIGTERM);
}

static void test_stops_on_sigint(void **state)
{
	serve_and_stop(SIGINT);
}

static void test_newer_database_refused_exit_3(void **state)
{
	char dir[PATH_MAX], db[PATH_MAX + 16];
	struct stat before, after;
	sqlite3 *h;
	struct test_proc r;

	make_dir(dir, "newer");
	snprintf(db, sizeof(db), "%s/hotline.db", dir);
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "CREATE TABLE future(x); PRAGMA user_version = 9999;",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(h);
	assert_int_equal(stat(db, &before), 0);
	assert_int_equal(
		run_to_end((const char *const[]){ "--board", "sim", "--data-dir", dir, NULL }, &r),
		3);
	assert_non_null(strstr(r.out, "newer firmware"));
	assert_int_equal(stat(db, &after), 0);
	assert_int_equal(before.st_size, after.st_size);
	assert_int_equal(before.st_mtim.tv_sec, after.st_mtim.tv_sec);
	assert_int_equal(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_command_line),
		cmocka_unit_test(test_bad_config_exits_2_naming_line_and_key),
		cmocka_unit_test(test_serves_health_and_stops_on_sigterm),
		cmocka_unit_test(test_stops_on_sigint),
		cmocka_unit_test(test_newer_database_refused_exit_3),
	};
	int rc;

	if (argc < 2) {
		fprintf(stderr, "usage: test_daemon DAEMON-COMMAND...\n");
		return 2;
	}
	daemon_cmd = argv + 1;
	daemon_argc = argc - 1;
	rc = test_tmpdir(tmpdir, sizeof(tmpdir), "daemon");
	if (rc != 0) {
		fprintf(stderr, "test_daemon: cannot make a temporary directory: %s\n",
			strerror(-rc));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("daemon", tests, NULL, NULL);
}
