/*
 * The far end of the uplink tests (see tcp_peer.h): a kernel TCP server with
 * a thread per connection, every socket wait bounded, and the lwIP-side
 * client calls that check the pattern.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hal/net.h"
#include "tcp_peer.h"

#define MAX_CONNS 16

struct conn {
	pthread_t thread;
	int fd;
	bool used;
	atomic_bool done;
};

static struct {
	int lfd;
	int stop_fd;
	pthread_t thread;
	pthread_mutex_t lock;
	struct conn conns[MAX_CONNS];
} srv = { .lock = PTHREAD_MUTEX_INITIALIZER };

struct pattern {
	uint32_t x;
	uint32_t word;
	int left;
};

static void pattern_init(struct pattern *p, uint32_t seed)
{
	p->x = seed ? seed : 1;
	p->left = 0;
}

static uint8_t pattern_next(struct pattern *p)
{
	uint8_t b;

	if (p->left == 0) {
		p->x ^= p->x << 13;
		p->x ^= p->x >> 17;
		p->x ^= p->x << 5;
		p->word = p->x;
		p->left = 4;
	}
	b = (uint8_t)p->word;
	p->word >>= 8;
	p->left--;
	return b;
}

static uint64_t fnv(uint64_t h, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h = (h ^ b[i]) * 0x100000001b3ull;
	}
	return h;
}

#define FNV_INIT 0xcbf29ce484222325ull

static bool k_recv_all(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = recv(fd, p, len, 0);

		if (n <= 0) {
			return false;
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static bool k_send_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n <= 0) {
			return false;
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static void *conn_thread(void *arg)
{
	struct conn *c = arg;
	uint8_t hdr[9];
	uint8_t buf[16384];
	struct pattern pat;
	uint32_t len;
	uint64_t h = FNV_INIT;

	if (!k_recv_all(c->fd, hdr, sizeof(hdr))) {
		goto out;
	}
	len = (uint32_t)hdr[1] << 24 | (uint32_t)hdr[2] << 16 | (uint32_t)hdr[3] << 8 | hdr[4];
	pattern_init(&pat, (uint32_t)hdr[5] << 24 | (uint32_t)hdr[6] << 16 | (uint32_t)hdr[7] << 8 |
				   hdr[8]);
	if (hdr[0] == 'U') {
		while (len > 0) {
			size_t want = len < sizeof(buf) ? len : sizeof(buf);
			ssize_t n = recv(c->fd, buf, want, 0);

			if (n <= 0) {
				goto out;
			}
			h = fnv(h, buf, (size_t)n);
			len -= (uint32_t)n;
		}
		for (int i = 0; i < 8; i++) {
			buf[i] = (uint8_t)(h >> (56 - 8 * i));
		}
		k_send_all(c->fd, buf, 8);
	} else if (hdr[0] == 'D') {
		while (len > 0) {
			size_t n = len < sizeof(buf) ? len : sizeof(buf);

			for (size_t i = 0; i < n; i++) {
				buf[i] = pattern_next(&pat);
			}
			if (!k_send_all(c->fd, buf, n)) {
				goto out;
			}
			len -= (uint32_t)n;
		}
		/* Let the client read everything before the close. */
		shutdown(c->fd, SHUT_WR);
		while (recv(c->fd, buf, sizeof(buf), 0) > 0) {
		}
	}
out:
	atomic_store(&c->done, true);
	return NULL;
}

static void reap(bool all)
{
	pthread_mutex_lock(&srv.lock);
	for (int i = 0; i < MAX_CONNS; i++) {
		struct conn *c = &srv.conns[i];

		if (!c->used) {
			continue;
		}
		if (all) {
			shutdown(c->fd, SHUT_RDWR);
		}
		if (all || atomic_load(&c->done)) {
			pthread_join(c->thread, NULL);
			close(c->fd);
			c->used = false;
		}
	}
	pthread_mutex_unlock(&srv.lock);
}

static void *accept_thread(void *arg)
{
	struct pollfd pfd[2] = {
		{ .fd = srv.lfd, .events = POLLIN },
		{ .fd = srv.stop_fd, .events = POLLIN },
	};
	struct timeval tv = { .tv_sec = 30 };

	for (;;) {
		if (poll(pfd, 2, -1) < 0 || (pfd[1].revents & POLLIN)) {
			return NULL;
		}
		int fd = accept(srv.lfd, NULL, NULL);
		struct conn *c = NULL;

		if (fd < 0) {
			continue;
		}
		/* Bound every wait of a connection thread. */
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		reap(false);
		pthread_mutex_lock(&srv.lock);
		for (int i = 0; i < MAX_CONNS && c == NULL; i++) {
			if (!srv.conns[i].used) {
				c = &srv.conns[i];
			}
		}
		if (c != NULL) {
			c->fd = fd;
			c->used = true;
			atomic_store(&c->done, false);
			if (pthread_create(&c->thread, NULL, conn_thread, c) != 0) {
				c->used = false;
				c = NULL;
			}
		}
		pthread_mutex_unlock(&srv.lock);
		if (c == NULL) {
			close(fd);
		}
	}
}

int peer_listen(uint32_t ip, uint16_t *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(ip) };
	socklen_t len = sizeof(sa);
	int one = 1;
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

void peer_server_start(int lfd)
{
	srv.lfd = lfd;
	srv.stop_fd = eventfd(0, EFD_CLOEXEC);
	assert_true(srv.stop_fd >= 0);
	assert_int_equal(pthread_create(&srv.thread, NULL, accept_thread, NULL), 0);
}

void peer_server_stop(void)
{
	uint64_t one = 1;

	assert_int_equal(write(srv.stop_fd, &one, sizeof(one)), sizeof(one));
	pthread_join(srv.thread, NULL);
	reap(true);
	close(srv.lfd);
	close(srv.stop_fd);
}

int64_t peer_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void put_hdr(uint8_t hdr[9], char op, uint32_t len, uint32_t seed)
{
	hdr[0] = (uint8_t)op;
	for (int i = 0; i < 4; i++) {
		hdr[1 + i] = (uint8_t)(len >> (24 - 8 * i));
		hdr[5 + i] = (uint8_t)(seed >> (24 - 8 * i));
	}
}

/* Upload len pattern bytes; the server's hash of them must match ours. */
void peer_upload(uint32_t ip, uint16_t port, uint32_t len, uint32_t seed, int timeout_ms)
{
	static uint8_t buf[32768];
	uint8_t hdr[9];
	uint8_t reply[8];
	struct pattern pat;
	uint64_t h = FNV_INIT;
	uint64_t got = 0;
	int sock;
	int n;

	sock = net_connect(ip, port, timeout_ms);
	assert_true(sock >= 0);
	put_hdr(hdr, 'U', len, seed);
	assert_int_equal(net_send(sock, hdr, sizeof(hdr), timeout_ms), sizeof(hdr));
	pattern_init(&pat, seed);
	for (uint32_t left = len; left > 0;) {
		uint32_t chunk = left < sizeof(buf) ? left : sizeof(buf);

		for (uint32_t i = 0; i < chunk; i++) {
			buf[i] = pattern_next(&pat);
		}
		h = fnv(h, buf, chunk);
		assert_int_equal(net_send(sock, buf, chunk, timeout_ms), chunk);
		left -= chunk;
	}
	for (size_t have = 0; have < sizeof(reply); have += (size_t)n) {
		n = net_recv(sock, reply + have, sizeof(reply) - have, timeout_ms);
		assert_true(n > 0);
	}
	for (int i = 0; i < 8; i++) {
		got = got << 8 | reply[i];
	}
	assert_true(got == h);
	net_close(sock);
}

/* Download len pattern bytes and check every one, then the end of stream. */
void peer_download(uint32_t ip, uint16_t port, uint32_t len, uint32_t seed, int timeout_ms)
{
	static uint8_t buf[32768];
	uint8_t hdr[9];
	struct pattern pat;
	uint32_t have = 0;
	int sock;
	int n;

	sock = net_connect(ip, port, timeout_ms);
	assert_true(sock >= 0);
	put_hdr(hdr, 'D', len, seed);
	assert_int_equal(net_send(sock, hdr, sizeof(hdr), timeout_ms), sizeof(hdr));
	pattern_init(&pat, seed);
	while (have < len) {
		n = net_recv(sock, buf, sizeof(buf), timeout_ms);
		assert_true(n > 0);
		assert_true((uint32_t)n <= len - have);
		for (int i = 0; i < n; i++) {
			if (buf[i] != pattern_next(&pat)) {
				fail_msg("byte %u differs", have + (uint32_t)i);
			}
		}
		have += (uint32_t)n;
	}
	assert_int_equal(net_recv(sock, buf, sizeof(buf), timeout_ms), 0);
	net_close(sock);
}

bool peer_wait_is_up(bool want, int timeout_ms)
{
	int64_t end = peer_now_ms() + timeout_ms;
	struct timespec ts = { .tv_nsec = 5 * 1000000 };

	while (net_is_up() != want) {
		if (peer_now_ms() > end) {
			return false;
		}
		nanosleep(&ts, NULL);
	}
	return true;
}
