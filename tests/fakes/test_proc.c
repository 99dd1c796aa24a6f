/*
 * Child processes for integration tests (test_proc.h): fork and exec with
 * the output in a non-blocking pipe or /dev/null, bounded waits everywhere
 * so a hung daemon fails the test instead of hanging it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test_http.h"
#include "test_proc.h"

#define ARGV_MAX 40

int64_t test_proc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int test_proc_free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* Fork and exec; in_fd (or -1) becomes the child's stdin. */
static void spawn(struct test_proc *p, char *const *cmd, int ncmd, const char *const *args,
		  bool capture, int in_fd)
{
	char *argv[ARGV_MAX];
	int n = 0, out[2] = { -1, -1 };

	for (int i = 0; i < ncmd && n < ARGV_MAX - 1; i++) {
		argv[n++] = cmd[i];
	}
	for (int i = 0; args != NULL && args[i] != NULL && n < ARGV_MAX - 1; i++) {
		argv[n++] = (char *)args[i];
	}
	argv[n] = NULL;
	memset(p, 0, sizeof(*p));
	p->out_fd = -1;
	if (capture) {
		assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	}
	p->pid = fork();
	assert_true(p->pid >= 0);
	if (p->pid == 0) {
		int fd = capture ? out[1] : open("/dev/null", O_WRONLY);

		dup2(fd, 1);
		dup2(fd, 2);
		if (in_fd >= 0) {
			dup2(in_fd, 0);
		} else {
			int nul = open("/dev/null", O_RDONLY);

			dup2(nul, 0);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	if (capture) {
		close(out[1]);
		p->out_fd = out[0];
		fcntl(p->out_fd, F_SETFL, O_NONBLOCK);
	}
}

void test_proc_start(struct test_proc *p, char *const *cmd, int ncmd, const char *const *args,
		     bool capture)
{
	spawn(p, cmd, ncmd, args, capture, -1);
}

void test_proc_drain(struct test_proc *p, int timeout_ms)
{
	struct pollfd pfd = { .fd = p->out_fd, .events = POLLIN };

	if (p->out_fd < 0) {
		if (timeout_ms > 0) {
			usleep((useconds_t)timeout_ms * 1000);
		}
		return;
	}
	if (poll(&pfd, 1, timeout_ms) > 0) {
		ssize_t n;

		while (p->out_len < sizeof(p->out) - 1 &&
		       (n = read(p->out_fd, p->out + p->out_len, sizeof(p->out) - 1 - p->out_len)) >
			       0) {
			p->out_len += (size_t)n;
		}
	}
	p->out[p->out_len] = '\0';
}

void test_proc_wait_http(struct test_proc *p, uint16_t port, const char *path, int timeout_ms)
{
	static struct test_resp resp; /* large: not on the stack */
	int64_t end = test_proc_now_ms() + timeout_ms;

	while (test_proc_now_ms() < end) {
		if (test_http_try(port, "GET", path, &resp) == 200) {
			return;
		}
		if (waitpid(p->pid, NULL, WNOHANG) == p->pid) {
			test_proc_drain(p, 0);
			fail_msg("the daemon exited during start; its output:\n%s", p->out);
		}
		test_proc_drain(p, 20);
	}
	kill(p->pid, SIGKILL);
	waitpid(p->pid, NULL, 0);
	test_proc_drain(p, 0);
	fail_msg("the daemon did not answer within %d ms; its output:\n%s", timeout_ms, p->out);
}

int test_proc_finish(struct test_proc *p, int timeout_ms)
{
	int64_t end = test_proc_now_ms() + timeout_ms;
	int status = 0;

	for (;;) {
		pid_t w = waitpid(p->pid, &status, WNOHANG);

		if (w == p->pid) {
			break;
		}
		if (test_proc_now_ms() > end) {
			kill(p->pid, SIGKILL);
			waitpid(p->pid, &status, 0);
			test_proc_drain(p, 0);
			fail_msg("the process did not exit within %d ms; its output:\n%s",
				 timeout_ms, p->out);
		}
		test_proc_drain(p, 20);
	}
	test_proc_drain(p, 0);
	if (p->out_fd >= 0) {
		close(p->out_fd);
		p->out_fd = -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int test_proc_run(struct test_proc *p, char *const *cmd, int ncmd, const char *const *args,
		  const char *input, int timeout_ms)
{
	int in[2];
	size_t len = input != NULL ? strlen(input) : 0;

	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	/* Small inputs (PINs, a line or two) fit the pipe's buffer: write before the exec. */
	assert_true(len < 4096);
	if (len > 0) {
		assert_int_equal(write(in[1], input, len), (ssize_t)len);
	}
	close(in[1]);
	spawn(p, cmd, ncmd, args, true, in[0]);
	close(in[0]);
	return test_proc_finish(p, timeout_ms);
}
