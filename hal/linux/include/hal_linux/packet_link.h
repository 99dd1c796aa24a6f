/*
 * Uplink link on a real board: raw Ethernet frames on a named NIC through
 * an AF_PACKET socket, for the firmware's own lwIP stack. The kernel has no
 * IP address on that NIC; it only carries frames.
 *
 * The link uses the NIC's own MAC address and does not switch the NIC to
 * promiscuous mode, so the kernel hands it the frames addressed to that MAC
 * and broadcasts, and no one else's traffic. Carrier is the interface's
 * IFF_UP and IFF_RUNNING flags. Opening the socket needs CAP_NET_RAW.
 */
#ifndef HAL_LINUX_PACKET_LINK_H
#define HAL_LINUX_PACKET_LINK_H

#include "hal/link.h"

/*
 * Make a link on the NIC named ifname ("eth1"). Nothing is opened yet:
 * hal_link_start() opens the socket and starts the receive thread, so a
 * missing NIC or a missing privilege is reported there.
 * @retval 0, -EINVAL ifname NULL, empty or longer than IFNAMSIZ - 1,
 *         -ENOMEM
 */
int packet_link_create(struct hal_link *out, const char *ifname);

/* Stop the link if it runs and free it; *l is then unusable. */
void packet_link_destroy(struct hal_link *l);

/*
 * hal_link_start() on this link returns -ENODEV when there is no such NIC
 * and -EPERM without CAP_NET_RAW (both logged with what to do); send()
 * drops frames while the NIC is down, like a cable that is out.
 */

#endif /* HAL_LINUX_PACKET_LINK_H */
