/*
 * Durability of the ticket queue against power cuts: the real daemon
 * issues tickets through the API while it is killed with SIGKILL at a
 * random moment, again and again; after each restart and at the end the
 * database must hold every ticket that was answered 201, no number twice
 * in a day, and nothing left `printing` once the daemon is up. Bounded:
 * KILL_CYCLES cycles, each with its own time limits.
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
#include <pthread.h>
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

#define KILL_CYCLES  30
#define START_MAX_MS 15000 /* a start slower than this fails the test */
#define ISSUED_MAX   2000

static char **daemon_cmd;
static int daemon_argc;
static char tmpdir[PATH_MAX];

/* Lookup codes and numbers of the tickets answered 201. */
static struct {
	char code[16];
	char number[8];
} issued[ISSUED_MAX];
static int nissued;

/* The daemon on the sim board with DIR as its data directory, its output thrown away. */
static pid_t start(const char *dir)
{
	struct test_proc p;

	test_proc_start(&p, daemon_cmd, daemon_argc,
			(const char *const[]){ "--board", "sim", "--data-dir", dir, NULL }, false);
	return p.pid;
}

static void wait_ready(pid_t pid, uint16_t port)
{
	struct test_proc p = { .pid = pid, .out_fd = -1 };

	test_proc_wait_http(&p, port, "/api/v1/health", START_MAX_MS);
}

/*
 * POST a ticket without asserting (the daemon may die under it).
 * @return the HTTP status, or -1 when no whole answer came
 */
static int try_issue(uint16_t port, int service_id, char *body, size_t cap)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { .tv_sec = 5 };
	char req[512];
	char json[64];
	size_t got = 0;
	ssize_t n;
	int fd, len, status = -1;
	char *sep;

	len = snprintf(json, sizeof(json), "{\"service_id\":%d,\"priority\":false}", service_id);
	len = snprintf(req, sizeof(req),
		       "POST /api/v1/queue/tickets HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		       "Content-Type: application/json\r\nContent-Length: %d\r\n"
		       "Connection: close\r\n\r\n%s",
		       len, json);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    send(fd, req, (size_t)len, MSG_NOSIGNAL) != len) {
		close(fd);
		return -1;
	}
	while (got < cap - 1 && (n = recv(fd, body + got, cap - 1 - got, 0)) > 0) {
		got += (size_t)n;
	}
	close(fd);
	body[got] = '\0';
	sep = strstr(body, "\r\n\r\n");
	if (sep == NULL || sscanf(body, "HTTP/1.1 %d", &status) != 1) {
		return -1;
	}
	/* A whole answer: the body is complete when it ends the JSON object. */
	memmove(body, sep + 4, strlen(sep + 4) + 1);
	if (body[0] != '{' || body[strlen(body) - 1] != '}') {
		return -1;
	}
	return status;
}

static void json_str(const char *body, const char *key, char *out, size_t cap)
{
	char pat[32];
	const char *p, *e;

	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	p = strstr(body, pat);
	assert_non_null(p);
	p += strlen(pat);
	e = strchr(p, '"');
	assert_non_null(e);
	assert_true((size_t)(e - p) < cap);
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = '\0';
}

static struct {
	pid_t pid;
	int delay_ms;
} killer;

static void *kill_later(void *arg)
{
	(void)arg;
	usleep((useconds_t)killer.delay_ms * 1000);
	kill(killer.pid, SIGKILL);
	return NULL;
}

static void check_db(const char *dir, bool final)
{
	char path[PATH_MAX + 16];
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s/hotline.db", dir);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	/* Nothing is printing while the daemon is idle after a start. */
	assert_int_equal(test_sql_int(db, "SELECT count(*) FROM queue_tickets WHERE state = "
					  "'printing'"),
			 0);
	/* No number twice in a day among tickets that exist for citizens. */
	assert_int_equal(test_sql_int(db, "SELECT count(*) FROM (SELECT 1 FROM queue_tickets "
					  "WHERE state != 'void' GROUP BY day, prefix, number "
					  "HAVING count(*) > 1)"),
			 0);
	if (final) {
		sqlite3_stmt *st;

		assert_int_equal(
			sqlite3_prepare_v2(db,
					   "SELECT prefix || printf('%03d', number), "
					   "state FROM queue_tickets WHERE lookup_code = ?1",
					   -1, &st, NULL),
			SQLITE_OK);
		for (int i = 0; i < nissued; i++) {
			sqlite3_bind_text(st, 1, issued[i].code, -1, SQLITE_STATIC);
			if (sqlite3_step(st) != SQLITE_ROW) {
				fail_msg("ticket %s (%s) was answered 201 but is lost",
					 issued[i].number, issued[i].code);
			}
			assert_string_equal((const char *)sqlite3_column_text(st, 0),
					    issued[i].number);
			assert_string_equal((const char *)sqlite3_column_text(st, 1), "waiting");
			sqlite3_reset(st);
		}
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
}

static void test_kill_while_issuing(void **state)
{
	char dir[PATH_MAX + 8], conf[PATH_MAX + 64], text[128], path[PATH_MAX + 32];
	uint16_t port = (uint16_t)test_proc_free_port();
	char body[4096];
	int64_t t0 = test_proc_now_ms();
	int kills = 0, failed = 0;
	sqlite3 *db;
	pid_t pid;

	snprintf(dir, sizeof(dir), "%s/kill", tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(conf, sizeof(conf), "%s/hotline-edge.conf", dir);
	snprintf(text, sizeof(text), "[http]\nport = %d\n[log]\nlevel = error\n", port);
	test_file_write(conf, text, strlen(text));

	/* First start writes the queue's defaults; then open it round the clock. */
	pid = start(dir);
	wait_ready(pid, port);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	snprintf(path, sizeof(path), "%s/hotline.db", dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	test_sql_exec(db, "UPDATE queue_settings SET hours = "
			  "'0,1440;0,1440;0,1440;0,1440;0,1440;0,1440;0,1440'");
	sqlite3_close(db);

	srand((unsigned)time(NULL));
	for (int cycle = 0; cycle < KILL_CYCLES; cycle++) {
		pthread_t th;
		int status;

		pid = start(dir);
		wait_ready(pid, port);
		check_db(dir, false);
		killer.pid = pid;
		killer.delay_ms = 20 + rand() % 250;
		assert_int_equal(pthread_create(&th, NULL, kill_later, NULL), 0);
		for (;;) {
			int st = try_issue(port, 1 + (nissued + cycle) % 2, body, sizeof(body));

			if (st == 201) {
				assert_true(nissued < ISSUED_MAX);
				json_str(body, "lookup_code", issued[nissued].code,
					 sizeof(issued[nissued].code));
				json_str(body, "number", issued[nissued].number,
					 sizeof(issued[nissued].number));
				nissued++;
			} else if (st < 0) {
				break; /* the daemon is gone */
			} else {
				fail_msg("issuing answered %d: %s", st, body);
			}
		}
		pthread_join(th, NULL);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
			kills++;
		} else {
			failed++;
		}
	}
	/* A last start recovers what the last kill left, then a clean stop. */
	pid = start(dir);
	wait_ready(pid, port);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	check_db(dir, true);
	print_message("%d kills, %d tickets answered 201, all present, in %.1f s\n", kills, nissued,
		      (double)(test_proc_now_ms() - t0) / 1000.0);
	assert_int_equal(kills, KILL_CYCLES);
	assert_int_equal(failed, 0);
	assert_true(nissued > KILL_CYCLES);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kill_while_issuing),
	};
	int rc;

	if (argc < 2) {
		fprintf(stderr, "usage: test_queue_kill DAEMON-COMMAND...\n");
		return 2;
	}
	daemon_cmd = argv + 1;
	daemon_argc = argc - 1;
	rc = test_tmpdir(tmpdir, sizeof(tmpdir), "queue-kill");
	if (rc != 0) {
		fprintf(stderr, "test_queue_kill: cannot make a temporary directory: %s\n",
			strerror(-rc));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	rc = cmocka_run_group_tests_name("queue_kill", tests, NULL, NULL);
	if (rc == 0) {
		test_rmtree(tmpdir);
	}
	return rc;
}
