/*
 * nginx for the interop tests (test_nginx.h). The configuration's main
 * context is the same for every test; a test writes only its servers.
 */
#include "test_nginx.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "test_city.h"
#include "test_util.h"

#define START_WAIT_US (10 * 1000 * 1000)

const char *test_nginx_bin(void)
{
	static const char *const where[] = { "/usr/sbin/nginx", "/usr/bin/nginx" };

	for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		if (access(where[i], X_OK) == 0) {
			return where[i];
		}
	}
	return NULL;
}

static bool port_open(uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	if (fd >= 0) {
		close(fd);
	}
	return ok;
}

static void write_conf(const char *conf, const char *dir, const char *access_log, const char *http)
{
	size_t cap = strlen(http) + strlen(access_log) + 8 * strlen(dir) + 512;
	char *text = malloc(cap);
	int n;

	assert_non_null(text);
	n = snprintf(
		text, cap,
		"daemon off;\nmaster_process off;\nworker_processes 1;\n"
		"pid %s/nginx.pid;\nerror_log %s/error.log warn;\n"
		"events { worker_connections 64; }\n"
		"http {\n access_log %s;\n"
		" client_body_temp_path %s/body; proxy_temp_path %s/proxy;\n"
		" fastcgi_temp_path %s/fcgi; uwsgi_temp_path %s/uwsgi; scgi_temp_path %s/scgi;\n"
		"%s}\n",
		dir, dir, access_log, dir, dir, dir, dir, dir, http);
	assert_true(n > 0 && (size_t)n < cap);
	test_file_write(conf, text, (size_t)n);
	free(text);
}

pid_t test_nginx_start(const char *bin, const char *dir, uint16_t port, const char *access_log,
		       const char *http)
{
	char conf[PATH_MAX];
	int64_t t0;
	pid_t pid;
	int status;

	snprintf(conf, sizeof(conf), "%s/nginx.conf", dir);
	write_conf(conf, dir, access_log, http);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		execl(bin, "nginx", "-p", dir, "-c", conf, "-e", "stderr", (char *)NULL);
		_exit(127);
	}
	t0 = test_mono_us();
	while (!port_open(port)) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			fail_msg("nginx exited at start (status %d)", status);
		}
		if (test_mono_us() - t0 > START_WAIT_US) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			fail_msg("nginx did not start listening");
		}
		usleep(20 * 1000);
	}
	return pid;
}

void test_nginx_stop(pid_t pid)
{
	int status;

	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
}
