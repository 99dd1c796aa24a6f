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
 * Bring lwIP up on the link with static IPv4 settings. Starts lwIP's tcpip
 * thread on the first call; seeds lwIP's rand() from the caller's seed.
 * @retval 0 up
 * @retval -EALREADY already up
 * @retval -ENODEV / -EPERM / -EIO from the link
 */
int net_up(struct hal_link *link, const struct hal_uplink_addr *addr, uint32_t seed);

/* Take the interface down and stop the link. Sockets fail afterwards. */
void net_down(void);

/* The link has carrier and the interface is up. */
bool net_is_up(void);

/*
 * Open a TCP connection to ip:port (host byte order).
 * @retval >=0 a socket for the calls below
 * @retval -ETIMEDOUT no answer in time, -ECONNREFUSED, -ENETDOWN, -EMFILE
 */
int net_connect(uint32_t ip, uint16_t port, int timeout_ms);

/*
 * Send all of buf or fail.
 * @retval len everything was sent
 * @retval -ETIMEDOUT not all sent in time, -EPIPE / -ECONNRESET peer gone
 */
int net_send(int sock, const void *buf, size_t len, int timeout_ms);

/*
 * Receive up to len bytes.
 * @retval >0 bytes received
 * @retval 0 the peer closed the connection
 * @retval -ETIMEDOUT nothing arrived in time, -ECONNRESET
 */
int net_recv(int sock, void *buf, size_t len, int timeout_ms);

void net_close(int sock);

/* Parse dotted-quad "10.0.2.2" into host byte order. @retval 0, -EINVAL */
int net_parse_ipv4(const char *s, uint32_t *ip);

#endif /* HAL_NET_H */
