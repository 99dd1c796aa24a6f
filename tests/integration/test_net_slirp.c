/*
 * lwIP over the slirp wire, for real: the appliance's sockets (net_*) reach
 * a kernel TCP server on host loopback through 10.0.2.2. Transfers carry a
 * seeded byte pattern, checked byte by byte on download and by FNV-1a hash
 * on upload. The wire is cut, made lossy and slowed through its test
 * controls. Every wait is bounded by a timeout.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hal/net.h"
#include "hal_sim/wire.h"
#include "tcp_peer.h"
#include "test_util.h"

#define MB		 (1024 * 1024)
#define OP_TIMEOUT_MS	 10000
#define LOSSY_TIMEOUT_MS 60000

static struct hal_link wire;
static uint16_t port; /* of the server on host loopback */

static void upload(uint32_t len, uint32_t seed, int timeout_ms)
{
	peer_upload(SIM_WIRE_GATEWAY_IP, port, len, seed, timeout_ms);
}

static void download(uint32_t len, uint32_t seed, int timeout_ms)
{
	peer_download(SIM_WIRE_GATEWAY_IP, port, len, seed, timeout_ms);
}

static int connect_server(int timeout_ms)
{
	return net_connect(SIM_WIRE_GATEWAY_IP, port, timeout_ms);
}

static const struct hal_uplink_addr sim_addr = {
	.ip = SIM_WIRE_APPLIANCE_IP,
	.netmask = SIM_WIRE_NETMASK,
	.gateway = SIM_WIRE_GATEWAY_IP,
};

static int group_setup(void **state)
{
	peer_server_start(peer_listen(0x7f000001, &port));
	if (sim_wire_create(&wire) != 0 || net_up(&wire, &sim_addr, 0x5eed) != 0) {
		return -1;
	}
	return peer_wait_is_up(true, 2000) ? 0 : -1;
}

static int group_teardown(void **state)
{
	net_down();
	sim_wire_destroy(&wire);
	peer_server_stop();
	return 0;
}

static void test_transfer_1mb_each_way(void **state)
{
	int64_t t0 = peer_now_ms();
	int64_t t1;

	upload(MB, 1, OP_TIMEOUT_MS);
	t1 = peer_now_ms();
	download(MB, 2, OP_TIMEOUT_MS);
	print_message("1 MiB up in %lld ms, down in %lld ms\n", (long long)(t1 - t0),
		      (long long)(peer_now_ms() - t1));
}

static void test_closed_port_is_refused(void **state)
{
	assert_int_equal(net_connect(SIM_WIRE_GATEWAY_IP, test_free_port(), OP_TIMEOUT_MS),
			 -ECONNREFUSED);
}

static void test_cut_wire_times_out_then_recovers(void **state)
{
	static uint8_t big[MB];
	int64_t t0;
	int sock;

	/* A connection made before the cut: its send must time out. */
	sock = connect_server(OP_TIMEOUT_MS);
	assert_true(sock >= 0);

	assert_int_equal(sim_wire_set_cut(&wire, true), 0);
	assert_true(peer_wait_is_up(false, 1000));

	t0 = peer_now_ms();
	assert_int_equal(connect_server(700), -ETIMEDOUT);
	assert_true(peer_now_ms() - t0 >= 690);
	assert_true(peer_now_ms() - t0 < 3000);

	/* More than lwIP's send buffer, so it cannot all be queued. */
	t0 = peer_now_ms();
	assert_int_equal(net_send(sock, big, sizeof(big), 700), -ETIMEDOUT);
	assert_true(peer_now_ms() - t0 >= 690);
	assert_true(peer_now_ms() - t0 < 3000);
	net_close(sock);

	assert_int_equal(sim_wire_set_cut(&wire, false), 0);
	assert_true(peer_wait_is_up(true, 1000));
	upload(256 * 1024, 3, OP_TIMEOUT_MS);
	download(256 * 1024, 4, OP_TIMEOUT_MS);
}

static void *restore_later(void *arg)
{
	struct timespec ts = { .tv_nsec = 300 * 1000000 };

	nanosleep(&ts, NULL);
	sim_wire_set_cut(&wire, false);
	return NULL;
}

static void test_connect_waits_for_carrier(void **state)
{
	pthread_t t;
	int64_t t0;
	int sock;

	/* The cable comes back while connect waits: it goes on in its time. */
	assert_int_equal(sim_wire_set_cut(&wire, true), 0);
	assert_true(peer_wait_is_up(false, 1000));
	assert_int_equal(pthread_create(&t, NULL, restore_later, NULL), 0);
	t0 = peer_now_ms();
	sock = connect_server(OP_TIMEOUT_MS);
	pthread_join(t, NULL);
	assert_true(sock >= 0);
	assert_true(peer_now_ms() - t0 >= 250);
	net_close(sock);
}

static void test_lossy_wire_transfer_intact(void **state)
{
	struct sim_wire_stats before;
	struct sim_wire_stats after;
	int64_t t0;
	int64_t t1;

	assert_int_equal(sim_wire_get_stats(&wire, &before), 0);
	assert_int_equal(sim_wire_set_drop(&wire, 50), 0);
	t0 = peer_now_ms();
	upload(MB, 5, LOSSY_TIMEOUT_MS);
	t1 = peer_now_ms();
	download(MB / 4, 6, LOSSY_TIMEOUT_MS);
	print_message("5%% drops: 1 MiB up in %lld ms, 256 KiB down in %lld ms\n",
		      (long long)(t1 - t0), (long long)(peer_now_ms() - t1));
	assert_int_equal(sim_wire_set_drop(&wire, 0), 0);
	assert_int_equal(sim_wire_get_stats(&wire, &after), 0);
	/* About 1500 frames carried data: 5% of them is far above 20. */
	assert_true(after.dropped - before.dropped > 20);
	print_message("dropped %llu of %llu frames\n",
		      (unsigned long long)(after.dropped - before.dropped),
		      (unsigned long long)(after.to_host + after.to_appliance - before.to_host -
					   before.to_appliance + after.dropped - before.dropped));
}

static void test_delay_slows_round_trip(void **state)
{
	int64_t t0;
	int sock;

	assert_int_equal(sim_wire_set_delay(&wire, 200), 0);
	t0 = peer_now_ms();
	sock = connect_server(OP_TIMEOUT_MS);
	/* SYN out and SYN-ACK back, each held 200 ms. */
	assert_true(peer_now_ms() - t0 >= 400);
	assert_true(sock >= 0);
	net_close(sock);
	upload(64 * 1024, 7, OP_TIMEOUT_MS);
	assert_int_equal(sim_wire_set_delay(&wire, 0), 0);
	t0 = peer_now_ms();
	sock = connect_server(OP_TIMEOUT_MS);
	assert_true(sock >= 0);
	assert_true(peer_now_ms() - t0 < 400);
	net_close(sock);
}

static void test_socket_limit(void **state)
{
	int socks[NET_MAX_SOCKETS];
	int sock;

	for (int i = 0; i < NET_MAX_SOCKETS; i++) {
		socks[i] = connect_server(OP_TIMEOUT_MS);
		assert_true(socks[i] >= 0);
	}
	assert_int_equal(connect_server(OP_TIMEOUT_MS), -EMFILE);
	for (int i = 0; i < NET_MAX_SOCKETS; i++) {
		net_close(socks[i]);
	}
	sock = connect_server(OP_TIMEOUT_MS);
	assert_true(sock >= 0);
	net_close(sock);
	assert_int_equal(net_send(sock, "x", 1, 100), -EBADF);
}

static void test_controls_validate(void **state)
{
	struct hal_link other = { 0 };
	struct sim_wire_stats st;

	assert_int_equal(sim_wire_set_drop(&wire, SIM_WIRE_DROP_MAX + 1), -EINVAL);
	assert_int_equal(sim_wire_set_delay(&wire, SIM_WIRE_DELAY_MAX_MS + 1), -EINVAL);
	assert_int_equal(sim_wire_set_cut(&other, true), -EINVAL);
	assert_int_equal(sim_wire_get_stats(&other, &st), -EINVAL);
	assert_int_equal(sim_wire_get_stats(&wire, NULL), -EINVAL);
	assert_int_equal(sim_wire_create(NULL), -EINVAL);
}

static void test_down_then_up_again(void **state)
{
	struct hal_uplink_addr bad = sim_addr;

	assert_int_equal(net_up(&wire, &sim_addr, 1), -EALREADY);
	net_down();
	assert_false(net_is_up());
	assert_int_equal(connect_server(100), -ENETDOWN);

	bad.netmask = 0xff00ff00u;
	assert_int_equal(net_up(&wire, &bad, 1), -EINVAL);
	bad = sim_addr;
	bad.gateway = 0xc0a80101u; /* not on the subnet */
	assert_int_equal(net_up(&wire, &bad, 1), -EINVAL);

	assert_int_equal(net_up(&wire, &sim_addr, 2), 0);
	assert_true(peer_wait_is_up(true, 2000));
	upload(64 * 1024, 8, OP_TIMEOUT_MS);
	download(64 * 1024, 9, OP_TIMEOUT_MS);
}

static void test_parse_ipv4(void **state)
{
	uint32_t ip = 0;

	assert_int_equal(net_parse_ipv4("10.0.2.2", &ip), 0);
	assert_true(ip == 0x0a000202u);
	assert_int_equal(net_parse_ipv4("255.255.255.255", &ip), 0);
	assert_true(ip == 0xffffffffu);
	assert_int_equal(net_parse_ipv4("0.0.0.0", &ip), 0);
	assert_true(ip == 0);
	const char *bad[] = { "",	  "1.2.3",    "1.2.3.4.5", "256.1.1.1",
			      "1..2.3",	  "1.2.3.4 ", " 1.2.3.4",  "01.2.3.4",
			      "1.2.3.-4", "a.b.c.d",  "1.2.3.4x",  "1234.1.1.1" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (net_parse_ipv4(bad[i], &ip) != -EINVAL) {
			fail_msg("accepted \"%s\"", bad[i]);
		}
	}
	assert_int_equal(net_parse_ipv4(NULL, &ip), -EINVAL);
	assert_int_equal(net_parse_ipv4("1.2.3.4", NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ipv4),
		cmocka_unit_test(test_controls_validate),
		cmocka_unit_test(test_transfer_1mb_each_way),
		cmocka_unit_test(test_closed_port_is_refused),
		cmocka_unit_test(test_socket_limit),
		cmocka_unit_test(test_cut_wire_times_out_then_recovers),
		cmocka_unit_test(test_connect_waits_for_carrier),
		cmocka_unit_test(test_lossy_wire_transfer_intact),
		cmocka_unit_test(test_delay_slows_round_trip),
		cmocka_unit_test(test_down_then_up_again),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
