/*
 * lwIP on the uplink: one lwIP netif over a hal_link, and a socket wrapper
 * whose every call is bounded by a timeout.
 *
 * Debian's liblwip runs its own tcpip thread with core locking: every call
 * into the stack's core from another thread takes LOCK_TCPIP_CORE(), and
 * the carrier check runs as an lwIP timer inside the tcpip thread, so the
 * netif is only ever touched with the core lock held. Received frames are
 * copied into PBUF_RAM pbufs, never PBUF_POOL: this build's pool buffers are
 * smaller than lwIP believes (616 bytes against 1536), and a full frame in
 * one overflows the heap. Outgoing frames are linearised into a buffer of
 * HAL_LINK_FRAME_MAX bytes and handed to the link. The uplink is a security
 * boundary, so only IPv4 and ARP frames addressed to us (or broadcast) are
 * let into the stack.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/sockets.h"
#include "lwip/tcpip.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#include "fw/log.h"
#include "hal/net.h"

#define MOD	      "net"
#define LINK_CHECK_MS 50
#define ETH_HDR_LEN   14

static struct {
	pthread_mutex_t lock; /* serialises net_up/net_down */
	bool lwip_started;
	atomic_bool up; /* read without the lock by the socket calls */
	struct hal_link *link;
	struct netif nif;
	uint8_t mac[6];
	bool carrier; /* tcpip thread (core lock) */
	/* Carrier and interface state as last seen by the tcpip thread. */
	atomic_bool ready;
	pthread_mutex_t carrier_lock;
	pthread_cond_t carrier_cond;
	/* Open sockets, 0 for a free slot (lwIP numbers its sockets from 1). */
	pthread_mutex_t socks_lock;
	int socks[NET_MAX_SOCKETS];
} st = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.carrier_lock = PTHREAD_MUTEX_INITIALIZER,
	.socks_lock = PTHREAD_MUTEX_INITIALIZER,
};

static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int remaining_ms(int64_t deadline)
{
	int64_t left = deadline - now_ms();

	if (left <= 0) {
		return 0;
	}
	return left > INT32_MAX ? INT32_MAX : (int)left;
}

/* Runs in the tcpip thread (core lock held). */
static err_t link_output(struct netif *nif, struct pbuf *p)
{
	uint8_t frame[HAL_LINK_FRAME_MAX];
	struct hal_link *link = nif->state;

	if (p->tot_len > sizeof(frame)) {
		return ERR_BUF;
	}
	if (pbuf_copy_partial(p, frame, p->tot_len, 0) != p->tot_len) {
		return ERR_BUF;
	}
	if (hal_link_send(link, frame, p->tot_len) < 0) {
		return ERR_IF;
	}
	return ERR_OK;
}

static err_t nif_init(struct netif *nif)
{
	nif->name[0] = 'u';
	nif->name[1] = 'l';
	nif->mtu = HAL_LINK_MTU;
	nif->hwaddr_len = ETH_HWADDR_LEN;
	memcpy(nif->hwaddr, st.mac, sizeof(st.mac));
	nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
	nif->output = etharp_output;
	nif->linkoutput = link_output;
	return ERR_OK;
}

/* From the link's receive thread. */
static void link_rx(void *ctx, const uint8_t *frame, size_t len)
{
	struct netif *nif = ctx;
	struct pbuf *p;
	uint16_t type;

	if (len < ETH_HDR_LEN || len > HAL_LINK_FRAME_MAX) {
		return;
	}
	if (memcmp(frame, st.mac, 6) != 0 && memcmp(frame, bcast, 6) != 0) {
		return;
	}
	type = (uint16_t)(frame[12] << 8 | frame[13]);
	if (type != ETHTYPE_IP && type != ETHTYPE_ARP) {
		return;
	}
	/* PBUF_RAM: see the comment at the top of this file. */
	p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM);
	if (p == NULL) {
		return;
	}
	if (pbuf_take(p, frame, (u16_t)len) != ERR_OK || nif->input(p, nif) != ERR_OK) {
		pbuf_free(p);
	}
}

static void set_ready(bool ready)
{
	if (atomic_exchange(&st.ready, ready) != ready) {
		pthread_mutex_lock(&st.carrier_lock);
		pthread_cond_broadcast(&st.carrier_cond);
		pthread_mutex_unlock(&st.carrier_lock);
	}
}

/*
 * Core lock held (tcpip thread or a caller that took it). The netif stays
 * link-up: with its link down lwIP fails writes with EHOSTUNREACH after
 * queueing an unknown part of them, which breaks the stream. Carrier only
 * gates net_connect() and net_is_up(); TCP rides out a short cut by
 * retransmitting, as it would over a break further down the line. When the
 * carrier returns the ARP cache is flushed (the far end may have changed)
 * and our address announced.
 */
static void link_check_now(void)
{
	bool carrier = hal_link_is_up(st.link);

	if (carrier && !st.carrier) {
		log_info(MOD, "uplink carrier up");
		etharp_cleanup_netif(&st.nif);
		etharp_gratuitous(&st.nif);
	} else if (!carrier && st.carrier) {
		log_warn(MOD, "uplink carrier lost: check the uplink cable");
	}
	st.carrier = carrier;
	set_ready(netif_is_up(&st.nif) && carrier);
}

static void link_check_tmr(void *arg)
{
	link_check_now();
	sys_timeout(LINK_CHECK_MS, link_check_tmr, arg);
}

static void tcpip_ready(void *arg)
{
	sem_post(arg);
}

static bool valid_netmask(uint32_t m)
{
	/* Contiguous ones from the top, and not 0 or /32. */
	return m != 0 && m != 0xffffffffu && ((~m + 1) & ~m) == 0;
}

static int start_lwip(uint32_t seed)
{
	pthread_condattr_t ca;
	sigset_t all;
	sigset_t old;
	sem_t done;

	/* LWIP_RAND() is rand(); lwIP draws its first local port from it at init. */
	srand(seed);
	if (st.lwip_started) {
		return 0;
	}
	if (sem_init(&done, 0, 0) != 0) {
		return -errno;
	}
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&st.carrier_cond, &ca);
	pthread_condattr_destroy(&ca);
	/* lwIP's tcpip thread takes no signals: they belong to the main loop. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	tcpip_init(tcpip_ready, &done);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	while (sem_wait(&done) != 0 && errno == EINTR) {
	}
	sem_destroy(&done);
	st.lwip_started = true;
	return 0;
}

int net_up(struct hal_link *link, const struct hal_uplink_addr *addr, uint32_t seed)
{
	ip4_addr_t ip;
	ip4_addr_t mask;
	ip4_addr_t gw;
	int ret;

	if (link == NULL || link->ops == NULL || addr == NULL || addr->ip == 0 ||
	    !valid_netmask(addr->netmask) ||
	    (addr->gateway != 0 && (addr->gateway & addr->netmask) != (addr->ip & addr->netmask))) {
		return -EINVAL;
	}
	pthread_mutex_lock(&st.lock);
	if (atomic_load(&st.up)) {
		ret = -EALREADY;
		goto out_unlock;
	}
	ret = start_lwip(seed);
	if (ret < 0) {
		goto out_unlock;
	}
	st.link = link;
	hal_link_mac(link, st.mac);
	ip4_addr_set_u32(&ip, lwip_htonl(addr->ip));
	ip4_addr_set_u32(&mask, lwip_htonl(addr->netmask));
	ip4_addr_set_u32(&gw, lwip_htonl(addr->gateway));

	/* The netif exists before the first frame can arrive. */
	LOCK_TCPIP_CORE();
	memset(&st.nif, 0, sizeof(st.nif));
	if (netif_add(&st.nif, &ip, &mask, &gw, link, nif_init, tcpip_input) == NULL) {
		UNLOCK_TCPIP_CORE();
		ret = -EIO;
		goto out_unlock;
	}
	netif_set_default(&st.nif);
	UNLOCK_TCPIP_CORE();

	ret = hal_link_start(link, link_rx, &st.nif);
	if (ret < 0) {
		log_err(MOD, "the uplink link did not start (%s)", strerror(-ret));
		LOCK_TCPIP_CORE();
		netif_remove(&st.nif);
		UNLOCK_TCPIP_CORE();
		goto out_unlock;
	}

	LOCK_TCPIP_CORE();
	netif_set_link_up(&st.nif);
	netif_set_up(&st.nif);
	st.carrier = false;
	link_check_now();
	sys_timeout(LINK_CHECK_MS, link_check_tmr, NULL);
	UNLOCK_TCPIP_CORE();

	atomic_store(&st.up, true);
	log_info(MOD, "uplink %u.%u.%u.%u/%d up, gateway %u.%u.%u.%u", addr->ip >> 24,
		 (addr->ip >> 16) & 0xff, (addr->ip >> 8) & 0xff, addr->ip & 0xff,
		 __builtin_popcount(addr->netmask), addr->gateway >> 24,
		 (addr->gateway >> 16) & 0xff, (addr->gateway >> 8) & 0xff, addr->gateway & 0xff);
	ret = 0;
out_unlock:
	pthread_mutex_unlock(&st.lock);
	return ret;
}

void net_down(void)
{
	sem_t done;

	pthread_mutex_lock(&st.lock);
	if (!atomic_load(&st.up)) {
		goto out_unlock;
	}
	atomic_store(&st.up, false);
	LOCK_TCPIP_CORE();
	sys_untimeout(link_check_tmr, NULL);
	netif_set_down(&st.nif);
	UNLOCK_TCPIP_CORE();
	set_ready(false);

	/* No frame arrives after this; frames already queued for the tcpip
	 * thread are handled before the barrier callback below runs. */
	hal_link_stop(st.link);
	if (sem_init(&done, 0, 0) == 0) {
		if (tcpip_callback(tcpip_ready, &done) == ERR_OK) {
			while (sem_wait(&done) != 0 && errno == EINTR) {
			}
		}
		sem_destroy(&done);
	}

	/* Removing the netif aborts the connections bound to its address. */
	LOCK_TCPIP_CORE();
	netif_remove(&st.nif);
	UNLOCK_TCPIP_CORE();
	st.link = NULL;
	log_info(MOD, "uplink down");
out_unlock:
	pthread_mutex_unlock(&st.lock);
}

bool net_is_up(void)
{
	return atomic_load(&st.ready);
}

/* Wait until the interface is up with carrier, or the deadline passes. */
static int wait_ready(int64_t deadline)
{
	struct timespec ts = {
		.tv_sec = deadline / 1000,
		.tv_nsec = (deadline % 1000) * 1000000,
	};

	pthread_mutex_lock(&st.carrier_lock);
	while (!atomic_load(&st.ready) && now_ms() < deadline) {
		/* carrier_cond runs on CLOCK_MONOTONIC, like now_ms(). */
		pthread_cond_timedwait(&st.carrier_cond, &st.carrier_lock, &ts);
	}
	pthread_mutex_unlock(&st.carrier_lock);
	return atomic_load(&st.ready) ? 0 : -ETIMEDOUT;
}

/* lwIP's errno (the system's values in this build) to our negative errno. */
static int xlate(int e, const char *what)
{
	switch (e) {
	case ETIMEDOUT:
	case ECONNREFUSED:
	case ECONNRESET:
	case EPIPE:
	case ENOMEM:
	case EBADF:
	case EMFILE:
	case EHOSTUNREACH:
	case ENETDOWN:
		return -e;
	case ENFILE:
		return -EMFILE;
	case ENOBUFS:
		return -ENOMEM;
	case ECONNABORTED:
	case ENOTCONN:
		/* lwIP's ERR_ABRT / ERR_CLSD: the connection is gone. */
		return -ECONNRESET;
	default:
		log_warn(MOD, "%s: lwIP error %d (%s)", what, e, strerror(e));
		return -EIO;
	}
}

/* Poll one socket; 0 on an event, -ETIMEDOUT, or a negative errno. */
static int wait_sock(int sock, short events, int64_t deadline, short *revents)
{
	struct pollfd pfd = { .fd = sock, .events = events };
	int n;

	for (;;) {
		pfd.revents = 0;
		n = lwip_poll(&pfd, 1, remaining_ms(deadline));
		if (n > 0) {
			*revents = pfd.revents;
			if (pfd.revents & POLLNVAL) {
				return -EBADF;
			}
			return 0;
		}
		if (n == 0) {
			return -ETIMEDOUT;
		}
		if (errno != EINTR) {
			return xlate(errno, "poll");
		}
	}
}

static int sock_error(int sock)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (lwip_getsockopt(sock, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
		return errno;
	}
	return err;
}

/* Swap one socket slot holding `from` for `to`. @retval 0, -1 none holds it */
static int swap_slot(int from, int to)
{
	int ret = -1;

	pthread_mutex_lock(&st.socks_lock);
	for (int i = 0; i < NET_MAX_SOCKETS; i++) {
		if (st.socks[i] == from) {
			st.socks[i] = to;
			ret = 0;
			break;
		}
	}
	pthread_mutex_unlock(&st.socks_lock);
	return ret;
}

static int connect_sock(uint32_t ip, uint16_t port, int64_t deadline)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = lwip_htons(port),
		.sin_addr.s_addr = lwip_htonl(ip),
	};
	short rev = 0;
	int sock;
	int ret;
	int e;

	sock = lwip_socket(AF_INET, SOCK_STREAM, 0);
	if (sock < 0) {
		return xlate(errno, "socket");
	}
	if (lwip_fcntl(sock, F_SETFL, O_NONBLOCK) != 0) {
		ret = xlate(errno, "fcntl");
		goto out_close;
	}
	/* Requests are written whole and then answered: Nagle's algorithm would
	 * only hold a request's last segment for a delayed ACK (tens of ms). */
	{
		int one = 1;

		lwip_setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	if (lwip_connect(sock, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		return sock;
	}
	e = errno;
	if (e != EINPROGRESS) {
		ret = xlate(e, "connect");
		goto out_close;
	}
	ret = wait_sock(sock, POLLOUT, deadline, &rev);
	if (ret < 0) {
		goto out_close;
	}
	e = sock_error(sock);
	if (e == 0) {
		return sock;
	}
	/* lwIP reports a refused connection (an RST answering our SYN) as a reset. */
	ret = e == ECONNRESET ? -ECONNREFUSED : xlate(e, "connect");
out_close:
	lwip_close(sock);
	return ret;
}

int net_connect(uint32_t ip, uint16_t port, int timeout_ms)
{
	int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	int sock;

	if (ip == 0 || port == 0) {
		return -EINVAL;
	}
	if (!atomic_load(&st.up)) {
		return -ENETDOWN;
	}
	/* A slot is held from here: -1 marks it taken while we connect. */
	if (swap_slot(0, -1) != 0) {
		return -EMFILE;
	}
	/* A cut cable is a timeout to the caller: wait for carrier until the deadline. */
	if (wait_ready(deadline) < 0) {
		sock = -ETIMEDOUT;
	} else {
		sock = connect_sock(ip, port, deadline);
	}
	swap_slot(-1, sock >= 0 ? sock : 0);
	return sock;
}

int net_send(int sock, const void *buf, size_t len, int timeout_ms)
{
	int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	const uint8_t *p = buf;
	size_t done = 0;
	short rev;
	ssize_t n;
	int ret;

	if (sock < 0 || (buf == NULL && len > 0) || len > INT32_MAX) {
		return -EINVAL;
	}
	while (done < len) {
		n = lwip_send(sock, p + done, len - done, MSG_DONTWAIT);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && errno != EWOULDBLOCK && errno != EAGAIN && errno != EINTR) {
			return xlate(errno, "send");
		}
		ret = wait_sock(sock, POLLOUT, deadline, &rev);
		if (ret < 0) {
			return ret;
		}
		if ((rev & POLLERR) && !(rev & POLLOUT)) {
			ret = sock_error(sock);
			return ret != 0 ? xlate(ret, "send") : -ECONNRESET;
		}
	}
	return (int)len;
}

int net_recv(int sock, void *buf, size_t len, int timeout_ms)
{
	int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	short rev;
	ssize_t n;
	int ret;

	if (sock < 0 || buf == NULL || len == 0) {
		return -EINVAL;
	}
	if (len > INT32_MAX) {
		len = INT32_MAX;
	}
	for (;;) {
		n = lwip_recv(sock, buf, len, MSG_DONTWAIT);
		if (n >= 0) {
			return (int)n;
		}
		if (errno != EWOULDBLOCK && errno != EAGAIN && errno != EINTR) {
			return xlate(errno, "recv");
		}
		ret = wait_sock(sock, POLLIN, deadline, &rev);
		if (ret < 0) {
			return ret;
		}
	}
}

void net_close(int sock)
{
	/* Only ours: a stray number must not close someone else's socket. */
	if (sock > 0 && swap_slot(sock, 0) == 0) {
		lwip_close(sock);
	}
}

int net_parse_ipv4(const char *s, uint32_t *ip)
{
	uint32_t v = 0;
	unsigned int octet;
	int digits;

	if (s == NULL || ip == NULL) {
		return -EINVAL;
	}
	for (int i = 0; i < 4; i++) {
		octet = 0;
		digits = 0;
		while (*s >= '0' && *s <= '9') {
			/* No leading zeros: "010" is octal to some parsers. */
			if (digits == 1 && octet == 0) {
				return -EINVAL;
			}
			octet = octet * 10 + (unsigned int)(*s - '0');
			if (++digits > 3 || octet > 255) {
				return -EINVAL;
			}
			s++;
		}
		if (digits == 0) {
			return -EINVAL;
		}
		v = v << 8 | octet;
		if (i < 3 && *s++ != '.') {
			return -EINVAL;
		}
	}
	if (*s != '\0') {
		return -EINVAL;
	}
	*ip = v;
	return 0;
}
