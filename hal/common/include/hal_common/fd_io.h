/*
 * Bounded I/O on file descriptors, shared by the Linux and sim drivers
 * (serial ports, pseudo-terminals, printer devices, watchdog devices). Every
 * call takes a timeout in milliseconds and never blocks longer; the
 * descriptor is expected to be non-blocking. Not part of the HAL interface:
 * apps never see a file descriptor.
 */
#ifndef HAL_COMMON_FD_IO_H
#define HAL_COMMON_FD_IO_H

#include <stddef.h>
#include <stdint.h>

/* Longest timeout any driver accepts: ten minutes. */
#define FDIO_TIMEOUT_MAX_MS (10 * 60 * 1000)

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t fdio_now_ms(void);

/*
 * Read what is there, waiting at most timeout_ms for the first byte.
 * @retval >0 bytes read (at most len, and at most INT_MAX)
 * @retval -ETIMEDOUT nothing arrived in time
 * @retval -EIO the device failed or hung up (end of file counts)
 * @retval -EINVAL len is 0 or timeout_ms is out of 0..FDIO_TIMEOUT_MAX_MS
 */
int fdio_read(int fd, void *buf, size_t len, int timeout_ms);

/*
 * Write all of buf, waiting at most timeout_ms in total for the device to
 * take it.
 * @retval len everything was written (len is capped at INT_MAX)
 * @retval >0 fewer bytes than len: the time ran out part-way
 * @retval -ETIMEDOUT the time ran out before the first byte was taken
 * @retval -EIO the device failed or hung up
 * @retval -EINVAL len is 0 or timeout_ms is out of range
 */
int fdio_write(int fd, const void *buf, size_t len, int timeout_ms);

/* Read and discard whatever input is waiting now (bounded to 64 KiB). */
void fdio_drain(int fd);

#endif /* HAL_COMMON_FD_IO_H */
