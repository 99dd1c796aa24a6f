/*
 * Uplink on a raw AF_PACKET socket bound to one NIC. A receive thread polls
 * the socket and an eventfd (to stop) and hands each whole frame to the
 * rx callback; sends go straight to the socket from the caller's thread.
 * The key decision is to listen on the NIC's own MAC, not in promiscuous
 * mode: on a security boundary we want no one else's frames. The socket is
 * opened with protocol 0 and only then bound to the NIC with ETH_P_ALL, so
 * no frame from another interface slips in between socket() and bind().
 * Frames the socket sees us send (PACKET_OUTGOING) are skipped.
 */
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include "fw/log.h"
#include "hal_linux/packet_link.h"

#define MOD	      "uplink"
#define ETH_MIN_FRAME 60 /* without FCS; shorter frames are padded */
#define RCVBUF_BYTES  (1 << 20)

struct plink {
	char ifname[IFNAMSIZ];
	int ctl_fd;		 /* for interface ioctls; no privilege needed */
	int wake_fd;		 /* eventfd that stops the receive thread */
	pthread_mutex_t fd_lock; /* fd against a concurrent stop */
	int fd;			 /* the AF_PACKET socket, -1 when stopped */
	atomic_bool running;
	pthread_t thread;
	hal_link_rx_fn rx;
	void *rx_ctx;
};

static const struct hal_link_ops plink_ops;

static struct plink *to_plink(struct hal_link *l)
{
	if (l == NULL || l->ops != &plink_ops || l->priv == NULL) {
		return NULL;
	}
	return l->priv;
}

static int if_flags(struct plink *p, short *flags)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, p->ifname, sizeof(ifr.ifr_name));
	if (ioctl(p->ctl_fd, SIOCGIFFLAGS, &ifr) != 0) {
		return -errno;
	}
	*flags = ifr.ifr_flags;
	return 0;
}

static void *rx_thread(void *arg)
{
	struct plink *p = arg;
	uint8_t buf[HAL_LINK_FRAME_MAX];
	struct pollfd pfd[2] = {
		{ .fd = p->fd, .events = POLLIN },
		{ .fd = p->wake_fd, .events = POLLIN },
	};
	struct sockaddr_ll from;
	socklen_t flen;
	ssize_t n;

	while (atomic_load(&p->running)) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR) {
				continue;
			}
			log_err(MOD, "%s: poll failed: %s", p->ifname, strerror(errno));
			break;
		}
		if (pfd[1].revents & POLLIN) {
			break;
		}
		if (pfd[0].revents & (POLLERR | POLLNVAL)) {
			/* A pending socket error (e.g. the NIC went down): read clears it. */
			int err = 0;
			socklen_t elen = sizeof(err);

			getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &elen);
		}
		for (;;) {
			flen = sizeof(from);
			/* MSG_TRUNC: n is the frame's real length, so oversize frames show. */
			n = recvfrom(p->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC,
				     (struct sockaddr *)&from, &flen);
			if (n < 0) {
				break;
			}
			if (from.sll_pkttype == PACKET_OUTGOING ||
			    from.sll_pkttype == PACKET_OTHERHOST || n > (ssize_t)sizeof(buf)) {
				continue;
			}
			p->rx(p->rx_ctx, buf, (size_t)n);
		}
	}
	return NULL;
}

static int plink_start(struct hal_link *l, hal_link_rx_fn rx, void *ctx)
{
	struct plink *p = to_plink(l);
	struct sockaddr_ll sll;
	sigset_t all;
	sigset_t old;
	unsigned int idx;
	short flags;
	int one = 1;
	int sz = RCVBUF_BYTES;
	int fd;
	int ret;

	if (p == NULL || rx == NULL) {
		return -EINVAL;
	}
	if (atomic_load(&p->running)) {
		return -EALREADY;
	}
	idx = if_nametoindex(p->ifname);
	if (idx == 0) {
		log_err(MOD,
			"there is no network interface '%s': check the board's uplink "
			"setting and that the NIC is present",
			p->ifname);
		return -ENODEV;
	}
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		if (ret == -EPERM || ret == -EACCES) {
			log_err(MOD,
				"not allowed to open a raw socket on '%s': the firmware "
				"needs CAP_NET_RAW (run it as root or grant the capability)",
				p->ifname);
			return -EPERM;
		}
		log_err(MOD, "cannot open a raw socket: %s", strerror(-ret));
		return ret == -EAFNOSUPPORT ? -ENODEV : -EIO;
	}
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)idx;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) != 0) {
		ret = errno == ENODEV ? -ENODEV : -EIO;
		log_err(MOD, "cannot bind to '%s': %s", p->ifname, strerror(errno));
		goto out_close;
	}
	/* Best effort: fewer wake-ups and room for bursts. */
	setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));

	if (if_flags(p, &flags) == 0 && !(flags & IFF_UP)) {
		struct ifreq ifr;

		memset(&ifr, 0, sizeof(ifr));
		memcpy(ifr.ifr_name, p->ifname, sizeof(ifr.ifr_name));
		ifr.ifr_flags = (short)(flags | IFF_UP);
		if (ioctl(p->ctl_fd, SIOCSIFFLAGS, &ifr) != 0) {
			log_warn(MOD,
				 "'%s' is down and could not be brought up (%s): "
				 "run 'ip link set %s up'",
				 p->ifname, strerror(errno), p->ifname);
		}
	}

	pthread_mutex_lock(&p->fd_lock);
	p->fd = fd;
	pthread_mutex_unlock(&p->fd_lock);
	p->rx = rx;
	p->rx_ctx = ctx;
	atomic_store(&p->running, true);
	/* The thread takes no signals: they belong to the main loop. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	ret = pthread_create(&p->thread, NULL, rx_thread, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret != 0) {
		atomic_store(&p->running, false);
		pthread_mutex_lock(&p->fd_lock);
		p->fd = -1;
		pthread_mutex_unlock(&p->fd_lock);
		ret = -ret;
		goto out_close;
	}
	log_info(MOD, "raw link on '%s' started", p->ifname);
	return 0;
out_close:
	close(fd);
	return ret;
}

static int plink_send(struct hal_link *l, const uint8_t *frame, size_t len)
{
	struct plink *p = to_plink(l);
	uint8_t pad[ETH_MIN_FRAME];
	ssize_t n;
	int ret = 0;

	if (p == NULL || frame == NULL || len < ETH_HLEN) {
		return -EINVAL;
	}
	if (len > HAL_LINK_FRAME_MAX) {
		return -EMSGSIZE;
	}
	if (len < ETH_MIN_FRAME) {
		memset(pad, 0, sizeof(pad));
		memcpy(pad, frame, len);
		frame = pad;
		len = sizeof(pad);
	}
	pthread_mutex_lock(&p->fd_lock);
	if (p->fd >= 0) {
		n = send(p->fd, frame, len, MSG_DONTWAIT);
		if (n < 0 && errno != EAGAIN && errno != ENOBUFS && errno != ENETDOWN &&
		    errno != ENXIO && errno != EINTR) {
			/* Anything else is ours to report; a down or busy NIC drops. */
			ret = -EIO;
		}
	}
	pthread_mutex_unlock(&p->fd_lock);
	return ret;
}

static bool plink_is_up(struct hal_link *l)
{
	struct plink *p = to_plink(l);
	short flags;

	if (p == NULL || !atomic_load(&p->running) || if_flags(p, &flags) != 0) {
		return false;
	}
	return (flags & IFF_UP) && (flags & IFF_RUNNING);
}

static void plink_mac(struct hal_link *l, uint8_t mac[6])
{
	struct plink *p = to_plink(l);
	struct ifreq ifr;

	memset(mac, 0, 6);
	if (p == NULL) {
		return;
	}
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, p->ifname, sizeof(ifr.ifr_name));
	if (ioctl(p->ctl_fd, SIOCGIFHWADDR, &ifr) == 0) {
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	}
}

static void plink_stop(struct hal_link *l)
{
	struct plink *p = to_plink(l);
	uint64_t one = 1;

	if (p == NULL || !atomic_load(&p->running)) {
		return;
	}
	atomic_store(&p->running, false);
	if (write(p->wake_fd, &one, sizeof(one)) < 0) {
		/* The counter is already non-zero: the thread wakes anyway. */
	}
	pthread_join(p->thread, NULL);
	if (read(p->wake_fd, &one, sizeof(one)) < 0) {
		/* Already drained. */
	}
	pthread_mutex_lock(&p->fd_lock);
	close(p->fd);
	p->fd = -1;
	pthread_mutex_unlock(&p->fd_lock);
	log_info(MOD, "raw link on '%s' stopped", p->ifname);
}

static const struct hal_link_ops plink_ops = {
	.start = plink_start,
	.send = plink_send,
	.is_up = plink_is_up,
	.mac = plink_mac,
	.stop = plink_stop,
};

int packet_link_create(struct hal_link *out, const char *ifname)
{
	struct plink *p;
	size_t n;

	if (out == NULL || ifname == NULL) {
		return -EINVAL;
	}
	n = strlen(ifname);
	if (n == 0 || n >= IFNAMSIZ) {
		return -EINVAL;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		return -ENOMEM;
	}
	memcpy(p->ifname, ifname, n + 1);
	p->fd = -1;
	p->ctl_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	p->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (p->ctl_fd < 0 || p->wake_fd < 0) {
		if (p->ctl_fd >= 0) {
			close(p->ctl_fd);
		}
		if (p->wake_fd >= 0) {
			close(p->wake_fd);
		}
		free(p);
		return -ENOMEM;
	}
	pthread_mutex_init(&p->fd_lock, NULL);
	out->ops = &plink_ops;
	out->priv = p;
	return 0;
}

void packet_link_destroy(struct hal_link *l)
{
	struct plink *p = to_plink(l);

	if (p == NULL) {
		return;
	}
	plink_stop(l);
	close(p->ctl_fd);
	close(p->wake_fd);
	pthread_mutex_destroy(&p->fd_lock);
	free(p);
	l->ops = NULL;
	l->priv = NULL;
}
