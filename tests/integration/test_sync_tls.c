/*
 * The sync client's HTTPS over the real uplink stack: lwIP on the sim slirp
 * wire (hal/net, httpc_transport_net) to tools/citysim on host loopback,
 * reached as 10.0.2.2 with the name city.hotline.test for SNI and the
 * certificate check. The device identity is loaded from a data directory
 * with identity_tls_load(), as the daemon will. Handshake, requests on one
 * kept-alive connection, resumption on reconnect, and a request while the
 * wire drops 5% of frames. Handshake times are printed, not asserted.
 *
 * Arguments: the gen-test-pki script, then the citysim command (an
 * emulator first in the cross build).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
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

#include "fw/identity.h"
#include "hal/net.h"
#include "hal_sim/wire.h"
#include "sync/httpc.h"
#include "test_city.h"
#include "test_util.h"
#include "test_wire.h"

#define CITY_HOST "city.hotline.test"
#define ROUNDS	  5

static struct test_city_env env; /* scratch directory, PKI, citysim command */
static char data_dir[1100];

static struct hal_link wire;
static struct test_city city;
static struct identity_tls id;

/* DATA_DIR/keys as the technician's install steps leave it. */
static int make_identity(void)
{
	snprintf(data_dir, sizeof(data_dir), "%s/data", env.tmp);
	if (mkdir(data_dir, 0700) != 0 || test_city_keys_install(&env, data_dir, "device") != 0) {
		return -1;
	}
	return identity_tls_load(data_dir, &id);
}

static int group_setup(void **state)
{
	if (test_city_start(&city, &env, "city", (char *)NULL) != 0) {
		fprintf(stderr, "test_sync_tls: citysim did not start\n");
		return -1;
	}
	return test_wire_up(&wire, 0x5eed5);
}

static int group_teardown(void **state)
{
	int ret;

	test_wire_down(&wire);
	ret = test_city_stop(&city);
	identity_tls_free(&id);
	return ret;
}

static void client_init(struct httpc *c, int io_timeout_ms, int request_timeout_ms)
{
	struct httpc_config cfg = {
		.ip = SIM_WIRE_GATEWAY_IP,
		.port = city.port,
		.host = CITY_HOST,
		.ca = &id.ca,
		.cert = &id.cert,
		.key = &id.key,
		.transport = &httpc_transport_net,
		.io_timeout_ms = io_timeout_ms,
		.request_timeout_ms = request_timeout_ms,
	};

	assert_int_equal(httpc_init(c, &cfg), 0);
}

static void get_time(struct httpc *c)
{
	struct httpc_request req = { .method = "GET", .path = "/api/v1/time" };
	struct httpc_response resp;
	int ret = httpc_request(c, &req, &resp);

	if (ret != 0) {
		fail_msg("GET /api/v1/time: %d, %s (%s)", ret,
			 httpc_reason_en(httpc_last_reason(c)), httpc_last_detail(c));
	}
	assert_int_equal(resp.status, 200);
	assert_non_null(strstr(resp.body, "\"now_ms\":"));
}

static bool log_has(const char *needle)
{
	size_t len;
	char *text = test_file_read(city.log, &len);
	bool found = strstr(text, needle) != NULL;

	free(text);
	return found;
}

static void test_handshake_and_requests(void **state)
{
	struct httpc_stats st;
	struct httpc c;

	client_init(&c, 10000, 30000);
	assert_int_equal(httpc_connect(&c, 10000), 0);
	httpc_get_stats(&c, &st);
	assert_false(st.last_resumed);
	get_time(&c);
	get_time(&c);
	httpc_get_stats(&c, &st);
	assert_int_equal(st.connects, 1);
	assert_int_equal(st.requests, 2);
	httpc_free(&c);
	assert_true(log_has("cn=sim-0001 GET /api/v1/time 200 full"));
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a;
	int64_t y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static void test_resumption_on_reconnect(void **state)
{
	int64_t full[ROUNDS];
	int64_t resumed[ROUNDS];
	struct httpc_stats st;
	struct httpc c;

	client_init(&c, 10000, 30000);
	for (int i = 0; i < ROUNDS; i++) {
		httpc_forget_session(&c);
		get_time(&c);
		httpc_get_stats(&c, &st);
		assert_false(st.last_resumed);
		full[i] = st.last_handshake_us;
		httpc_close(&c);

		get_time(&c);
		httpc_get_stats(&c, &st);
		assert_true(st.last_resumed);
		resumed[i] = st.last_handshake_us;
		httpc_close(&c);
	}
	qsort(full, ROUNDS, sizeof(full[0]), cmp_i64);
	qsort(resumed, ROUNDS, sizeof(resumed[0]), cmp_i64);
	print_message("TLS handshake over lwIP/slirp to citysim (median of %d): full %lld us, "
		      "resumed %lld us\n",
		      ROUNDS, (long long)full[ROUNDS / 2], (long long)resumed[ROUNDS / 2]);
	httpc_get_stats(&c, &st);
	assert_int_equal(st.handshakes_resumed, ROUNDS);
	httpc_free(&c);
	assert_true(log_has("cn=sim-0001 GET /api/v1/time 200 resumed"));
}

static void test_request_over_lossy_wire(void **state)
{
	struct sim_wire_stats before;
	struct sim_wire_stats after;
	static char big[16 * 1024];
	struct httpc_request post = {
		.method = "POST", .path = "/api/v1/none", .body = big, .body_len = sizeof(big)
	};
	struct httpc_response resp;
	struct httpc c;
	int64_t t0;
	int ok = 0;

	/* A body that spans many frames, so drops certainly hit the exchange. */
	memset(big, ' ', sizeof(big));
	big[0] = '{';
	big[sizeof(big) - 1] = '}';
	client_init(&c, 30000, 90000);
	assert_int_equal(sim_wire_get_stats(&wire, &before), 0);
	assert_int_equal(sim_wire_set_drop(&wire, 50), 0);
	t0 = test_mono_us();
	for (int i = 0; i < 10; i++) {
		int ret = httpc_request(&c, &post, &resp);

		if (ret != 0) {
			fail_msg("request %d over the lossy wire: %s (%s)", i,
				 httpc_reason_en(httpc_last_reason(&c)), httpc_last_detail(&c));
		}
		assert_int_equal(resp.status, 404);
		get_time(&c);
		ok += 2;
	}
	assert_int_equal(sim_wire_set_drop(&wire, 0), 0);
	assert_int_equal(sim_wire_get_stats(&wire, &after), 0);
	print_message("5%% drops: %d requests (10 x 16 KiB up) in %lld ms, %llu frames dropped\n",
		      ok, (long long)((test_mono_us() - t0) / 1000),
		      (unsigned long long)(after.dropped - before.dropped));
	assert_true(after.dropped - before.dropped > 5);
	httpc_free(&c);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_and_requests),
		cmocka_unit_test(test_resumption_on_reconnect),
		cmocka_unit_test(test_request_over_lossy_wire),
	};
	int fails;

	fails = test_city_env_init(&env, argc, argv, "sync_tls");
	if (fails != 0) {
		return fails;
	}
	signal(SIGPIPE, SIG_IGN);
	if (make_identity() != 0) {
		fprintf(stderr, "test_sync_tls: could not make the device identity\n");
		return 1;
	}
	fails = cmocka_run_group_tests(tests, group_setup, group_teardown);
	if (fails == 0) {
		test_rmtree(env.tmp);
	}
	return fails ? 1 : 0;
}
