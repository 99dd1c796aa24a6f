/*
 * A kernel-socket transport for the HTTPS client in tests (test_transport.h).
 * The appliance itself only ever uses lwIP (httpc_transport_net).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test_city.h"
#include "test_transport.h"

int test_fd_send(struct httpc_transport *t, int h, const void *buf, size_t len, int timeout_ms)
{
	int64_t deadline = test_mono_us() + (int64_t)timeout_ms * 1000;
	size_t off = 0;

	while (off < len) {
		struct pollfd pfd = { .fd = h, .events = POLLOUT };
		int left = (int)((deadline - test_mono_us()) / 1000);
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, left) == 0) {
			return -ETIMEDOUT;
		}
		n = send(h, (const char *)buf + off, len - off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				continue;
			}
			return -errno;
		}
		off += (size_t)n;
	}
	return (int)len;
}

int test_fd_recv(struct httpc_transport *t, int h, void *buf, size_t len, int timeout_ms)
{
	struct pollfd pfd = { .fd = h, .events = POLLIN };
	ssize_t n;

	for (;;) {
		int r = poll(&pfd, 1, timeout_ms);

		if (r == 0) {
			return -ETIMEDOUT;
		}
		if (r < 0 && errno == EINTR) {
			continue;
		}
		n = recv(h, buf, len, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
			continue;
		}
		return n < 0 ? -errno : (int)n;
	}
}

void test_fd_close(struct httpc_transport *t, int h)
{
	close(h);
}

int test_kernel_open(struct httpc_transport *t, uint32_t ip, uint16_t port, int timeout_ms)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(ip) };
	struct pollfd pfd;
	socklen_t elen = sizeof(int);
	int err = 0;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (t != NULL && t->priv != NULL) {
		sa.sin_port = htons(*(const uint16_t *)t->priv);
	}
	if (fd < 0) {
		return -errno;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno != EINPROGRESS) {
		err = -errno;
		close(fd);
		return err;
	}
	pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
	if (poll(&pfd, 1, timeout_ms) <= 0) {
		close(fd);
		return -ETIMEDOUT;
	}
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
	if (err != 0) {
		close(fd);
		return -err;
	}
	return fd;
}

const struct httpc_transport_ops test_kernel_ops = {
	.open = test_kernel_open,
	.send = test_fd_send,
	.recv = test_fd_recv,
	.close = test_fd_close,
};
