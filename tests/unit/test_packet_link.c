/*
 * AF_PACKET uplink link: argument checks, a missing NIC, and either the
 * privilege error (without CAP_NET_RAW) or, with it, a real frame round
 * trip on the loopback interface. The branch follows what the kernel
 * allows this process, probed independently of the code under test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_packet.h>

#include "hal_linux/packet_link.h"

#define TEST_ETHERTYPE 0x88b5 /* IEEE local experimental */

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint8_t frame[HAL_LINK_FRAME_MAX];
	size_t len;
	int count;
	uint8_t tag;
} rx = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

/* Keeps only our test frames: other traffic on lo is not ours to judge. */
static void on_rx(void *ctx, const uint8_t *frame, size_t len)
{
	if (len < 15 || frame[12] != (TEST_ETHERTYPE >> 8) ||
	    frame[13] != (TEST_ETHERTYPE & 0xff) || frame[14] != rx.tag) {
		return;
	}
	pthread_mutex_lock(&rx.lock);
	memcpy(rx.frame, frame, len);
	rx.len = len;
	rx.count++;
	pthread_cond_broadcast(&rx.cond);
	pthread_mutex_unlock(&rx.lock);
}

static bool wait_rx(int count, int timeout_ms)
{
	struct timespec ts;
	bool ok;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&rx.lock);
	while (rx.count < count) {
		if (pthread_cond_timedwait(&rx.cond, &rx.lock, &ts) != 0) {
			break;
		}
	}
	ok = rx.count >= count;
	pthread_mutex_unlock(&rx.lock);
	return ok;
}

static bool raw_sockets_allowed(void)
{
	int fd = socket(AF_PACKET, SOCK_RAW, 0);

	if (fd < 0) {
		return false;
	}
	close(fd);
	return true;
}

static void test_create_checks_name(void **state)
{
	struct hal_link l;

	assert_int_equal(packet_link_create(NULL, "eth1"), -EINVAL);
	assert_int_equal(packet_link_create(&l, NULL), -EINVAL);
	assert_int_equal(packet_link_create(&l, ""), -EINVAL);
	assert_int_equal(packet_link_create(&l, "abcdefghijklmnop"), -EINVAL); /* 16 */
	assert_int_equal(packet_link_create(&l, "abcdefghijklmno"), 0);	       /* 15 */
	packet_link_destroy(&l);
	assert_null(l.priv);
}

static void test_missing_nic(void **state)
{
	struct hal_link l;
	uint8_t mac[6] = { 1, 2, 3, 4, 5, 6 };
	const uint8_t zero[6] = { 0 };
	uint8_t frame[60] = { 0 };

	assert_int_equal(packet_link_create(&l, "he-no-such0"), 0);
	assert_int_equal(hal_link_start(&l, on_rx, NULL), -ENODEV);
	assert_false(hal_link_is_up(&l));
	hal_link_mac(&l, mac);
	assert_memory_equal(mac, zero, 6);
	/* A link that is not running drops quietly, like a pulled cable. */
	assert_int_equal(hal_link_send(&l, frame, sizeof(frame)), 0);
	assert_int_equal(hal_link_send(&l, frame, HAL_LINK_FRAME_MAX + 1), -EMSGSIZE);
	hal_link_stop(&l);
	packet_link_destroy(&l);
}

static void test_loopback_round_trip_or_eperm(void **state)
{
	struct hal_link l;
	uint8_t frame[200];
	uint8_t small[20];

	assert_int_equal(packet_link_create(&l, "lo"), 0);
	if (!raw_sockets_allowed()) {
		assert_int_equal(hal_link_start(&l, on_rx, NULL), -EPERM);
		packet_link_destroy(&l);
		return;
	}
	assert_int_equal(hal_link_start(&l, on_rx, NULL), 0);
	assert_int_equal(hal_link_start(&l, on_rx, NULL), -EALREADY);
	assert_true(hal_link_is_up(&l));

	rx.tag = (uint8_t)(getpid() & 0xff);
	memset(frame, 0, 12); /* lo's MAC is all zeros */
	frame[12] = TEST_ETHERTYPE >> 8;
	frame[13] = TEST_ETHERTYPE & 0xff;
	frame[14] = rx.tag;
	for (size_t i = 15; i < sizeof(frame); i++) {
		frame[i] = (uint8_t)(i * 7);
	}
	assert_int_equal(hal_link_send(&l, frame, sizeof(frame)), 0);
	assert_true(wait_rx(1, 2000));
	assert_int_equal(rx.len, sizeof(frame));
	assert_memory_equal(rx.frame, frame, sizeof(frame));

	/* Our own outgoing copy is not delivered: exactly one arrives. */
	assert_false(wait_rx(2, 200));

	/* A runt is padded to the Ethernet minimum of 60 bytes. */
	memcpy(small, frame, sizeof(small));
	assert_int_equal(hal_link_send(&l, small, sizeof(small)), 0);
	assert_true(wait_rx(2, 2000));
	assert_int_equal(rx.len, 60);
	assert_memory_equal(rx.frame, small, sizeof(small));

	hal_link_stop(&l);
	assert_false(hal_link_is_up(&l));
	/* A stopped link drops; started again, it carries frames again. */
	assert_int_equal(hal_link_send(&l, frame, sizeof(frame)), 0);
	assert_int_equal(hal_link_start(&l, on_rx, NULL), 0);
	assert_int_equal(hal_link_send(&l, frame, sizeof(frame)), 0);
	assert_true(wait_rx(3, 2000));
	packet_link_destroy(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_checks_name),
		cmocka_unit_test(test_missing_nic),
		cmocka_unit_test(test_loopback_round_trip_or_eperm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
