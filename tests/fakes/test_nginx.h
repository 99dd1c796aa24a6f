/*
 * nginx (OpenSSL) as a TLS end in the interop tests: run in the
 * foreground as one process, everything it writes in one directory.
 */
#ifndef FAKES_TEST_NGINX_H
#define FAKES_TEST_NGINX_H

#include <stdint.h>
#include <sys/types.h>

/* The nginx program (/usr/sbin/nginx or /usr/bin/nginx); NULL when not installed. */
const char *test_nginx_bin(void);

/*
 * Write DIR/nginx.conf and run bin on it with prefix dir (which must
 * exist). The configuration: no daemon, no master, one worker, its pid
 * file, error log and temporary paths in dir, access_log (a path, or "off")
 * and then `http`, the rest of the http block (upstreams, servers). Waits
 * up to 10 s until 127.0.0.1:port accepts connections; fails the running
 * cmocka test if nginx exits first or is not listening by then (it is
 * killed).
 * @return nginx's pid, for test_nginx_stop()
 */
pid_t test_nginx_start(const char *bin, const char *dir, uint16_t port, const char *access_log,
		       const char *http);

/* SIGTERM, then wait for it to exit. */
void test_nginx_stop(pid_t pid);

#endif /* FAKES_TEST_NGINX_H */
