/*
 * lwIP on the AF_PACKET link over a veth pair, the real board's uplink in
 * miniature: one end stays here with no kernel IP (lwIP owns it through
 * packet_link), the other end sits in a network namespace made for the
 * test, where a kernel TCP server listens. Needs root (namespaces, raw
 * sockets); without root or namespace support it skips (exit 77). The
 * namespace and the pair are removed at the end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>

#include "hal/net.h"
#include "hal_linux/packet_link.h"
#include "tcp_peer.h"

#define SKIP	      77
#define MB	      (1024 * 1024)
#define OP_TIMEOUT_MS 10000
#define PEER_IP	      0x0a4d0001u /* 10.77.0.1, in the namespace */
#define OUR_IP	      0x0a4d0002u /* 10.77.0.2, lwIP */

static char ns[32];
static char ours[IFNAMSIZ];   /* lwIP's end, here */
static char theirs[IFNAMSIZ]; /* the kernel's end, in ns */
static bool made;
static struct hal_link uplink;
static uint16_t port;

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int run(const char *fmt, ...)
{
	char cmd[256];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	return rc == 0 ? 0 : -1;
}

static void cleanup(void)
{
	if (made) {
		/* Deleting the namespace deletes its end of the pair, and so both. */
		run("ip netns del %s 2>/dev/null", ns);
		run("ip link del %s 2>/dev/null", ours);
		made = false;
	}
}

static int set_ns(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc;

	if (fd < 0) {
		return -1;
	}
	rc = setns(fd, CLONE_NEWNET);
	close(fd);
	return rc;
}

/*
 * The kernel leaves TCP checksums to "hardware" on a veth; a raw socket on
 * the peer would see them unfinished and lwIP would drop every segment. A
 * real NIC computes them on the wire, so turn the offload off here.
 */
static int no_tx_csum(const char *ifname)
{
	struct ethtool_value ev = { .cmd = ETHTOOL_STXCSUM, .data = 0 };
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc;

	if (fd < 0) {
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ev;
	rc = ioctl(fd, SIOCETHTOOL, &ifr);
	close(fd);
	return rc;
}

/*
 * Build the namespace and the pair; the listening socket is made inside.
 * @retval NULL done, else the step that failed (for the skip message)
 */
static const char *make_net(int *lfd)
{
	const char *failed = NULL;
	char path[64];
	int pid = (int)getpid();
	int home;

	*lfd = -1;
	snprintf(ns, sizeof(ns), "he-net-%d", pid);
	snprintf(ours, sizeof(ours), "hen%da", pid % 1000000);
	snprintf(theirs, sizeof(theirs), "hen%db", pid % 1000000);
	if (run("ip netns add %s 2>/dev/null", ns) != 0) {
		return "ip netns add";
	}
	made = true;
	if (run("ip link add %s type veth peer name %s", ours, theirs) != 0 ||
	    run("ip link set %s netns %s", theirs, ns) != 0 ||
	    run("ip -n %s addr add 10.77.0.1/24 dev %s", ns, theirs) != 0 ||
	    run("ip -n %s link set %s up", ns, theirs) != 0 ||
	    run("ip link set %s up", ours) != 0) {
		return "making the veth pair";
	}
	/* The uplink as on the board: no kernel address, not even IPv6's. */
	run("sysctl -qw net.ipv6.conf.%s.disable_ipv6=1 2>/dev/null", ours);

	home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0) {
		return "opening our network namespace";
	}
	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	if (set_ns(path) != 0) {
		close(home);
		return "entering the test namespace";
	}
	if (no_tx_csum(theirs) != 0) {
		failed = "turning off TX checksum offload (SIOCETHTOOL)";
	} else {
		*lfd = peer_listen(PEER_IP, &port);
	}
	if (setns(home, CLONE_NEWNET) != 0) {
		/* We cannot get back: better to stop here than test the wrong thing. */
		fprintf(stderr, "cannot return to the original network namespace\n");
		abort();
	}
	close(home);
	return failed;
}

static int group_setup(void **state)
{
	const struct hal_uplink_addr addr = {
		.ip = OUR_IP,
		.netmask = 0xffffff00u,
		.gateway = PEER_IP,
	};

	if (packet_link_create(&uplink, ours) != 0 || net_up(&uplink, &addr, 77) != 0) {
		return -1;
	}
	return peer_wait_is_up(true, 3000) ? 0 : -1;
}

static int group_teardown(void **state)
{
	net_down();
	packet_link_destroy(&uplink);
	peer_server_stop();
	cleanup();
	return 0;
}

static void test_transfer_1mb_each_way(void **state)
{
	int64_t t0 = peer_now_ms();
	int64_t t1;

	peer_upload(PEER_IP, port, MB, 11, OP_TIMEOUT_MS);
	t1 = peer_now_ms();
	peer_download(PEER_IP, port, MB, 12, OP_TIMEOUT_MS);
	print_message("veth: 1 MiB up in %lld ms, down in %lld ms\n", (long long)(t1 - t0),
		      (long long)(peer_now_ms() - t1));
}

static void test_peer_down_is_carrier_loss(void **state)
{
	assert_int_equal(run("ip -n %s link set %s down", ns, theirs), 0);
	assert_true(peer_wait_is_up(false, 2000));
	assert_int_equal(net_connect(PEER_IP, port, 500), -ETIMEDOUT);
	assert_int_equal(run("ip -n %s link set %s up", ns, theirs), 0);
	assert_true(peer_wait_is_up(true, 5000));
	peer_upload(PEER_IP, port, 64 * 1024, 13, OP_TIMEOUT_MS);
	peer_download(PEER_IP, port, 64 * 1024, 14, OP_TIMEOUT_MS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transfer_1mb_each_way),
		cmocka_unit_test(test_peer_down_is_carrier_loss),
	};
	const char *failed;
	int lfd;
	int rc;

	if (geteuid() != 0) {
		printf("SKIP: needs root to make a network namespace and raw sockets\n");
		return SKIP;
	}
	failed = make_net(&lfd);
	if (failed != NULL) {
		printf("SKIP: cannot set up a network namespace with a veth pair here: %s "
		       "failed (%s)\n",
		       failed, strerror(errno));
		cleanup();
		return SKIP;
	}
	peer_server_start(lfd);
	rc = cmocka_run_group_tests(tests, group_setup, group_teardown);
	cleanup();
	return rc;
}
