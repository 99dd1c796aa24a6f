/*
 * Bounded reads and writes on non-blocking descriptors with poll(). The one
 * decision here: every wait is computed from a deadline on CLOCK_MONOTONIC,
 * so signals (EINTR) and spurious wake-ups shorten the remaining wait rather
 * than restarting it, and no caller can hang on a silent device.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include "hal_common/fd_io.h"

int64_t fdio_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int remaining(int64_t deadline)
{
	int64_t left = deadline - fdio_now_ms();

	return left > 0 ? (int)left : 0;
}

/* Wait for events until the deadline. @retval revents, 0 on timeout, -EIO */
static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int n;

	for (;;) {
		n = poll(&pfd, 1, remaining(deadline));
		if (n > 0) {
			return pfd.revents;
		}
		if (n == 0) {
			return 0;
		}
		if (errno != EINTR) {
			return -EIO;
		}
	}
}

int fdio_read(int fd, void *buf, size_t len, int timeout_ms)
{
	int64_t deadline;
	ssize_t n;
	int rev;

	if (len == 0 || timeout_ms < 0 || timeout_ms > FDIO_TIMEOUT_MAX_MS) {
		return -EINVAL;
	}
	if (len > INT_MAX) {
		len = INT_MAX;
	}
	deadline = fdio_now_ms() + timeout_ms;
	for (;;) {
		rev = wait_fd(fd, POLLIN, deadline);
		if (rev < 0) {
			return rev;
		}
		if (rev == 0) {
			return -ETIMEDOUT;
		}
		if (!(rev & POLLIN)) {
			/* POLLHUP, POLLERR or POLLNVAL with nothing left to read. */
			return -EIO;
		}
		n = read(fd, buf, len);
		if (n > 0) {
			return (int)n;
		}
		if (n == 0) {
			return -EIO;
		}
		if (errno != EAGAIN && errno != EINTR) {
			return -EIO;
		}
		if (remaining(deadline) == 0) {
			return -ETIMEDOUT;
		}
	}
}

int fdio_write(int fd, const void *buf, size_t len, int timeout_ms)
{
	const unsigned char *p = buf;
	size_t done = 0;
	int64_t deadline;
	ssize_t n;
	int rev;

	if (len == 0 || timeout_ms < 0 || timeout_ms > FDIO_TIMEOUT_MAX_MS) {
		return -EINVAL;
	}
	if (len > INT_MAX) {
		len = INT_MAX;
	}
	deadline = fdio_now_ms() + timeout_ms;
	while (done < len) {
		n = write(fd, p + done, len - done);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			return -EIO;
		}
		/* Checked before waiting, so a device that keeps taking 0 bytes cannot spin. */
		if (remaining(deadline) == 0) {
			break;
		}
		rev = wait_fd(fd, POLLOUT, deadline);
		if (rev < 0) {
			return rev;
		}
		if (rev == 0) {
			break;
		}
		if (!(rev & POLLOUT)) {
			return -EIO;
		}
	}
	if (done == 0) {
		return -ETIMEDOUT;
	}
	return (int)done;
}

void fdio_drain(int fd)
{
	unsigned char junk[256];
	size_t total = 0;
	ssize_t n;

	while (total < 64 * 1024) {
		n = read(fd, junk, sizeof(junk));
		if (n <= 0) {
			break;
		}
		total += (size_t)n;
	}
}
