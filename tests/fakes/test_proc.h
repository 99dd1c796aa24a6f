/*
 * The real daemon as a child process, for integration tests: start it with
 * its output captured (or thrown away, for tests that kill it many times),
 * wait until its HTTP server answers, collect its output, wait for its
 * exit with a time limit; and run a one-shot command (`hotline-edge admin
 * ...`) with text on its standard input. The daemon's command comes from
 * the test's own command line, so the arm64 build runs it through the same
 * qemu wrapper. The ones marked "asserts" fail the running cmocka test.
 */
#ifndef FAKES_TEST_PROC_H
#define FAKES_TEST_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define TEST_PROC_OUT_MAX 16384

struct test_proc {
	pid_t pid;
	int out_fd; /* stdout and stderr together; -1 when not captured */
	char out[TEST_PROC_OUT_MAX];
	size_t out_len;
};

/* Monotonic milliseconds. */
int64_t test_proc_now_ms(void);

/* A TCP port on 127.0.0.1 that was free a moment ago (asserts). */
int test_proc_free_port(void);

/*
 * Start cmd[0..ncmd) followed by the NULL-terminated args (asserts).
 * capture: keep stdout and stderr for test_proc_drain; otherwise they go
 * to /dev/null (a daemon killed many times never blocks on a full pipe).
 */
void test_proc_start(struct test_proc *p, char *const *cmd, int ncmd, const char *const *args,
		     bool capture);

/* Read what the process wrote, waiting up to timeout_ms for something. */
void test_proc_drain(struct test_proc *p, int timeout_ms);

/*
 * Poll GET path on 127.0.0.1:port until it answers 200 (asserts within
 * timeout_ms, and that the process is still running: its output is shown
 * when it is not).
 */
void test_proc_wait_http(struct test_proc *p, uint16_t port, const char *path, int timeout_ms);

/*
 * Wait for the exit, bounded (asserts: past timeout_ms the process is
 * killed and the test fails with its output).
 * @return the exit code, or 128 + the signal
 */
int test_proc_finish(struct test_proc *p, int timeout_ms);

/*
 * Run cmd + args to its end with input on its standard input, its output
 * into p->out (asserts within timeout_ms).
 * @return the exit code, or 128 + the signal
 */
int test_proc_run(struct test_proc *p, char *const *cmd, int ncmd, const char *const *args,
		  const char *input, int timeout_ms);

#endif /* FAKES_TEST_PROC_H */
