/*
 * Uplink network interface: an Ethernet link that carries frames, nothing
 * more. The kernel has no IP address on the uplink; the firmware's own lwIP
 * stack (hal/net) sits on top of this link, so the only traffic there is
 * the firmware's own connections to the city.
 */
#ifndef HAL_LINK_H
#define HAL_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HAL_LINK_MTU	   1500
#define HAL_LINK_FRAME_MAX 1514 /* Ethernet header + MTU, no FCS */

struct hal_link;

/* Called from the link's receive thread with one whole Ethernet frame. */
typedef void (*hal_link_rx_fn)(void *ctx, const uint8_t *frame, size_t len);

struct hal_link_ops {
	/*
	 * Start delivering received frames to rx(ctx, ...).
	 * @retval 0 started, -ENODEV no such interface, -EPERM not allowed
	 *         (raw sockets need CAP_NET_RAW), -EIO
	 */
	int (*start)(struct hal_link *l, hal_link_rx_fn rx, void *ctx);
	/* @retval 0 sent (or dropped by a down link), -EMSGSIZE, -EIO */
	int (*send)(struct hal_link *l, const uint8_t *frame, size_t len);
	/* Carrier present. */
	bool (*is_up)(struct hal_link *l);
	/* The MAC address the firmware uses on this link. */
	void (*mac)(struct hal_link *l, uint8_t mac[6]);
	/* Stop receiving and release the link; rx is not called after return. */
	void (*stop)(struct hal_link *l);
};

struct hal_link {
	const struct hal_link_ops *ops;
	void *priv;
};

static inline int hal_link_start(struct hal_link *l, hal_link_rx_fn rx, void *ctx)
{
	return l->ops->start(l, rx, ctx);
}

static inline int hal_link_send(struct hal_link *l, const uint8_t *frame, size_t len)
{
	return l->ops->send(l, frame, len);
}

static inline bool hal_link_is_up(struct hal_link *l)
{
	return l->ops->is_up(l);
}

static inline void hal_link_mac(struct hal_link *l, uint8_t mac[6])
{
	l->ops->mac(l, mac);
}

static inline void hal_link_stop(struct hal_link *l)
{
	l->ops->stop(l);
}

#endif /* HAL_LINK_H */
