/*
 * The firmware's own TCP/IP stack on the uplink: lwIP brought up on a
 * hal_link, and a small socket wrapper over lwIP's sockets whose every call
 * takes a timeout. Apps (the sync client) use only these calls; the kernel's
 * sockets never touch the uplink.
 */
#ifndef HAL_NET_H
#define HAL_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hal/devices.h"

/*
 * At most this many sockets are open at once (each holds lwIP heap);
 * net_connect() beyond it returns -EMFILE until one is closed.
 */
#define NET_MAX_SOCKETS 8

/*
 * Bring lwIP up on the link with static IPv4 settings. Starts lwIP's tcpip
 * thread on the first call; seeds lwIP's rand() (its port and sequence
 * numbers) from the caller's seed. The gateway, if not 0, must be on the
 * subnet.
 * @retval 0 up
 * @retval -EINVAL bad link, address, netmask or gateway
 * @retval -EALREADY already up
 * @retval -ENODEV / -EPERM / -EIO from the link
 */
int net_up(struct hal_link *link, const struct hal_uplink_addr *addr, uint32_t seed);

/*
 * Take the interface down and stop the link. Open connections are aborted:
 * calls on their sockets fail; close them. net_up() may be called again.
 */
void net_down(void);

/*
 * The interface is up and the link has carrier, as last checked (the
 * carrier is polled every 50 ms). A cut cable does not by itself break a
 * connection: TCP retransmits until it gives up or the cable is back.
 */
bool net_is_up(void);

/*
 * Open a TCP connection to ip:port (host byte order). Without carrier it
 * waits for carrier within the same timeout.
 * @retval >=0 a socket for the calls below
 * @retval -ETIMEDOUT no carrier or no answer in time
 * @retval -ECONNREFUSED the peer refused
 * @retval -ENETDOWN net_up() has not been called
 * @retval -EMFILE NET_MAX_SOCKETS are open
 * @retval -EINVAL ip or port is 0
 */
int net_connect(uint32_t ip, uint16_t port, int timeout_ms);

/*
 * Send all of buf or fail. After a failure an unknown part of buf may have
 * been sent: close the socket.
 * @retval len everything was sent (handed to TCP)
 * @retval -ETIMEDOUT not all sent in time (e.g. the wire is cut)
 * @retval -ECONNRESET / -EPIPE the connection is gone
 * @retval -EBADF not an open socket, -EINVAL bad arguments
 */
int net_send(int sock, const void *buf, size_t len, int timeout_ms);

/*
 * Receive up to len bytes (len is capped at INT32_MAX).
 * @retval >0 bytes received
 * @retval 0 the peer closed the connection
 * @retval -ETIMEDOUT nothing arrived in time
 * @retval -ECONNRESET the connection is gone
 * @retval -EBADF not an open socket, -EINVAL bad arguments
 */
int net_recv(int sock, void *buf, size_t len, int timeout_ms);

/* Close a socket from net_connect(); any other value is ignored. */
void net_close(int sock);

/*
 * Parse a dotted quad "10.0.2.2" into host byte order: four decimal
 * numbers 0..255, no leading zeros, nothing else.
 * @retval 0, -EINVAL
 */
int net_parse_ipv4(const char *s, uint32_t *ip);

#endif /* HAL_NET_H */
