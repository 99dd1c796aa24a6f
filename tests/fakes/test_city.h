/*
 * The city side of the TLS tests: a scratch directory with the test PKI
 * made in it by scripts/gen-test-pki, and tools/citysim run as a child
 * process on host loopback with a certificate of that PKI; and the
 * device's side of that PKI, installed in a data directory or loaded for
 * mbedTLS.
 *
 * Such a test's arguments are GEN-TEST-PKI CITYSIM-COMMAND... (the command
 * may start with an emulator in the cross build).
 */
#ifndef FAKES_TEST_CITY_H
#define FAKES_TEST_CITY_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

struct test_city_env {
	char tmp[1024]; /* the scratch directory; paths below leave room for file names */
	char pki[1100]; /* TMP/pki: ca.crt, city.crt/.key, device.crt/.key, ... */
	char **cmd;	/* [emulator...] citysim */
	int cmd_argc;
};

/*
 * From main()'s arguments: make the scratch directory (test_tmpdir(name)),
 * generate the PKI in it and keep the citysim command. Says what went
 * wrong on stderr.
 * @retval 0 ready
 * @retval 2 the arguments are missing (usage printed)
 * @retval 1 the directory or the PKI could not be made
 */
int test_city_env_init(struct test_city_env *env, int argc, char **argv, const char *name);

/* ENV->pki/FILE into out. */
void test_city_pki(const struct test_city_env *env, char *out, size_t cap, const char *file);

/*
 * DATA_DIR/keys as the technician's install steps leave it: make the
 * directory (0700), copy PKI/DEVICE.key to keys/device.key (0600),
 * PKI/DEVICE.crt to keys/device.crt and PKI/ca.crt to keys/city-ca.crt
 * (0644). DATA_DIR must exist. The files are read and written with
 * test_file_read/_write (they assert).
 * @retval 0 installed
 * @retval -1 the directory could not be made or a mode not set
 */
int test_city_keys_install(const struct test_city_env *env, const char *data_dir,
			   const char *device);

/*
 * Init ca, cert and key and load PKI/ca.crt, PKI/device.crt and
 * PKI/device.key into them (asserts each parse); free them with
 * test_city_tls_free().
 */
void test_city_tls_load(const struct test_city_env *env, mbedtls_x509_crt *ca,
			mbedtls_x509_crt *cert, mbedtls_pk_context *key);

/* Free what test_city_tls_load() loaded. */
void test_city_tls_free(mbedtls_x509_crt *ca, mbedtls_x509_crt *cert, mbedtls_pk_context *key);

struct test_city {
	pid_t pid;
	uint16_t port;	    /* where it listens on 127.0.0.1 */
	char log[PATH_MAX]; /* its --log file */
};

/*
 * Run citysim on 127.0.0.1 (any free port) with PKI/CERT.crt and .key,
 * trusting PKI/ca.crt, its port file and log in TMP as CERT.port and
 * CERT.log, and the further options given (NULL-ended); wait up to 10 s
 * for its port.
 * @retval 0 listening on cs->port
 * @retval -1 it did not start (see cs->log)
 */
int test_city_start(struct test_city *cs, const struct test_city_env *env, const char *cert, ...)
	__attribute__((sentinel));

/*
 * SIGTERM, then wait up to 10 s (SIGKILL after that).
 * @retval 0 it exited with status 0
 * @retval -ETIMEDOUT it did not stop and was killed
 * @retval -1 it exited otherwise
 */
int test_city_stop(struct test_city *cs);

/* The monotonic clock in microseconds. */
int64_t test_mono_us(void);

#endif /* FAKES_TEST_CITY_H */
