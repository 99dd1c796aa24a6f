/*
 * Sim uplink wire: a hal_link whose far end is libslirp, a user-mode NAT.
 * The appliance's lwIP stack is 10.0.2.15/24 on it; the gateway 10.0.2.2
 * stands for the host, and a connection to 10.0.2.2:PORT reaches the
 * host's 127.0.0.1:PORT (so citysim on host loopback is "the city"). No
 * root and no tap device are needed. Slirp runs in its own thread.
 *
 * Test controls (callable from any thread, effective at once) make the
 * wire misbehave: cut it (carrier down, every frame dropped both ways),
 * drop a random share of frames, and delay frames in each direction.
 */
#ifndef HAL_SIM_WIRE_H
#define HAL_SIM_WIRE_H

#include <stdbool.h>
#include <stdint.h>

#include "hal/link.h"

/* Addresses on the wire, host byte order. */
#define SIM_WIRE_APPLIANCE_IP 0x0a00020fu /* 10.0.2.15 */
#define SIM_WIRE_GATEWAY_IP   0x0a000202u /* 10.0.2.2, reaches host 127.0.0.1 */
#define SIM_WIRE_NETMASK      0xffffff00u /* /24 */

/* Bounds of the test controls. */
#define SIM_WIRE_DROP_MAX     1000u  /* per mille: every frame */
#define SIM_WIRE_DELAY_MAX_MS 10000u /* one way */

/* Frames the wire holds in each direction (beyond them a frame is dropped). */
#define SIM_WIRE_QUEUE_LEN 128

struct sim_wire_stats {
	uint64_t to_host;      /* frames from the appliance delivered to slirp */
	uint64_t to_appliance; /* frames from slirp delivered to the appliance */
	uint64_t dropped;      /* frames lost: cut, random drop or full queue */
};

/*
 * Make a wire (carrier present, no drops, no delay) and fill *out with its
 * hal_link. Slirp and its thread start with hal_link_start() and end with
 * hal_link_stop(); each start is a fresh NAT with no connections.
 * @retval 0, -EINVAL out is NULL, -ENOMEM
 */
int sim_wire_create(struct hal_link *out);

/* Stop the wire if it runs and free it; *l is then unusable. */
void sim_wire_destroy(struct hal_link *l);

/*
 * Cut (true) or restore (false) the wire. Cut: hal_link_is_up() is false
 * and frames are dropped both ways, including those already in flight.
 * @retval 0, -EINVAL l is not a sim wire
 */
int sim_wire_set_cut(struct hal_link *l, bool cut);

/*
 * Drop each frame, in either direction, with probability per_mille/1000.
 * @retval 0, -EINVAL not a sim wire or per_mille > SIM_WIRE_DROP_MAX
 */
int sim_wire_set_drop(struct hal_link *l, unsigned int per_mille);

/*
 * Hold each frame delay_ms before delivering it, in each direction (a
 * round trip gains twice delay_ms). Applies to frames sent from now on;
 * frames keep their order.
 * @retval 0, -EINVAL not a sim wire or delay_ms > SIM_WIRE_DELAY_MAX_MS
 */
int sim_wire_set_delay(struct hal_link *l, unsigned int delay_ms);

/* Counters since create. @retval 0, -EINVAL not a sim wire or st NULL */
int sim_wire_get_stats(struct hal_link *l, struct sim_wire_stats *st);

#endif /* HAL_SIM_WIRE_H */
