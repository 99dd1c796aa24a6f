/* The city side of the TLS tests (test_city.h). */
#include "test_city.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fw/identity.h"
#include "test_util.h"

#define WAIT_US (10 * 1000 * 1000)

int64_t test_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int test_city_env_init(struct test_city_env *env, int argc, char **argv, const char *name)
{
	char cmd[PATH_MAX * 2 + 16];

	if (argc < 3) {
		fprintf(stderr, "usage: %s GEN_TEST_PKI CITYSIM-COMMAND...\n", argv[0]);
		return 2;
	}
	env->cmd = argv + 2;
	env->cmd_argc = argc - 2;
	if (test_tmpdir(env->tmp, sizeof(env->tmp), name) != 0) {
		fprintf(stderr, "%s: no scratch directory\n", argv[0]);
		return 1;
	}
	snprintf(env->pki, sizeof(env->pki), "%s/pki", env->tmp);
	snprintf(cmd, sizeof(cmd), "'%s' '%s' >/dev/null", argv[1], env->pki);
	if (system(cmd) != 0) {
		fprintf(stderr, "%s: %s failed\n", argv[0], argv[1]);
		return 1;
	}
	return 0;
}

void test_city_pki(const struct test_city_env *env, char *out, size_t cap, const char *file)
{
	snprintf(out, cap, "%s/%s", env->pki, file);
}

static int copy_file(const char *from, const char *to, mode_t mode)
{
	size_t len;
	void *buf = test_file_read(from, &len);

	test_file_write(to, buf, len);
	free(buf);
	return chmod(to, mode);
}

int test_city_keys_install(const struct test_city_env *env, const char *data_dir,
			   const char *device)
{
	char a[PATH_MAX];
	char b[PATH_MAX];

	snprintf(a, sizeof(a), "%s/" IDENTITY_KEYS_DIR, data_dir);
	if (mkdir(a, 0700) != 0) {
		return -1;
	}
	snprintf(a, sizeof(a), "%s/%s.key", env->pki, device);
	snprintf(b, sizeof(b), "%s/" IDENTITY_KEY_FILE, data_dir);
	if (copy_file(a, b, 0600) != 0) {
		return -1;
	}
	snprintf(a, sizeof(a), "%s/%s.crt", env->pki, device);
	snprintf(b, sizeof(b), "%s/" IDENTITY_CERT_FILE, data_dir);
	if (copy_file(a, b, 0644) != 0) {
		return -1;
	}
	test_city_pki(env, a, sizeof(a), "ca.crt");
	snprintf(b, sizeof(b), "%s/" IDENTITY_CA_FILE, data_dir);
	return copy_file(a, b, 0644) != 0 ? -1 : 0;
}

void test_city_tls_load(const struct test_city_env *env, mbedtls_x509_crt *ca,
			mbedtls_x509_crt *cert, mbedtls_pk_context *key)
{
	char p[PATH_MAX];

	mbedtls_x509_crt_init(ca);
	mbedtls_x509_crt_init(cert);
	mbedtls_pk_init(key);
	test_city_pki(env, p, sizeof(p), "ca.crt");
	assert_int_equal(mbedtls_x509_crt_parse_file(ca, p), 0);
	test_city_pki(env, p, sizeof(p), "device.crt");
	assert_int_equal(mbedtls_x509_crt_parse_file(cert, p), 0);
	test_city_pki(env, p, sizeof(p), "device.key");
	assert_int_equal(mbedtls_pk_parse_keyfile(key, p, NULL), 0);
}

void test_city_tls_free(mbedtls_x509_crt *ca, mbedtls_x509_crt *cert, mbedtls_pk_context *key)
{
	mbedtls_x509_crt_free(ca);
	mbedtls_x509_crt_free(cert);
	mbedtls_pk_free(key);
}

int test_city_start(struct test_city *cs, const struct test_city_env *env, const char *cert, ...)
{
	char portfile[PATH_MAX];
	char crt[PATH_MAX];
	char key[PATH_MAX];
	char ca[PATH_MAX];
	char *args[40];
	int n = 0;
	va_list ap;
	int64_t t0 = test_mono_us();

	snprintf(crt, sizeof(crt), "%s/%s.crt", env->pki, cert);
	snprintf(key, sizeof(key), "%s/%s.key", env->pki, cert);
	test_city_pki(env, ca, sizeof(ca), "ca.crt");
	snprintf(portfile, sizeof(portfile), "%s/%s.port", env->tmp, cert);
	snprintf(cs->log, sizeof(cs->log), "%s/%s.log", env->tmp, cert);
	unlink(portfile);
	unlink(cs->log);
	for (int i = 0; i < env->cmd_argc && n < 8; i++) {
		args[n++] = env->cmd[i];
	}
	{
		const char *const fixed[] = { "--listen",    "127.0.0.1:0", "--cert", crt,
					      "--key",	     key,	    "--ca",   ca,
					      "--port-file", portfile,	    "--log",  cs->log };

		for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
			args[n++] = (char *)fixed[i];
		}
	}
	va_start(ap, cert);
	for (const char *opt = va_arg(ap, const char *); opt != NULL && n < 39;
	     opt = va_arg(ap, const char *)) {
		args[n++] = (char *)opt;
	}
	va_end(ap);
	args[n] = NULL;
	cs->pid = fork();
	if (cs->pid < 0) {
		return -1;
	}
	if (cs->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive a failed test */
		execv(args[0], args);
		_exit(127);
	}
	while (test_mono_us() - t0 < WAIT_US) {
		FILE *f = fopen(portfile, "r");
		unsigned int port = 0;

		if (f != NULL) {
			int got = fscanf(f, "%u", &port);

			fclose(f);
			if (got == 1 && port > 0) {
				cs->port = (uint16_t)port;
				return 0;
			}
		}
		usleep(10 * 1000);
	}
	return -1;
}

int test_city_stop(struct test_city *cs)
{
	int64_t t0 = test_mono_us();
	int status = 0;

	kill(cs->pid, SIGTERM);
	while (waitpid(cs->pid, &status, WNOHANG) == 0) {
		if (test_mono_us() - t0 > WAIT_US) {
			kill(cs->pid, SIGKILL);
			waitpid(cs->pid, &status, 0);
			return -ETIMEDOUT;
		}
		usleep(10 * 1000);
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}
