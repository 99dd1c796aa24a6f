/*
 * The uplink the sync tests run over: lwIP (hal/net) on the sim slirp wire
 * (hal_sim/wire.h), at the sim board's address, where 10.0.2.2 reaches the
 * host's 127.0.0.1.
 */
#ifndef FAKES_TEST_WIRE_H
#define FAKES_TEST_WIRE_H

#include <stdbool.h>
#include <stdint.h>

#include "hal/net.h"

/* 10.0.2.15/24, gateway 10.0.2.2 (SIM_WIRE_*). */
extern const struct hal_uplink_addr test_wire_addr;

/* Wait (bounded) until net_is_up(). @return whether it came up in time. */
bool test_wire_wait_up(int timeout_ms);

/*
 * Make a sim wire in wire, net_up() on it at test_wire_addr with the given
 * seed, and wait up to 2 s for the interface.
 * @retval 0 up
 * @retval -1 the wire or the interface could not be made, or it is not up
 */
int test_wire_up(struct hal_link *wire, uint32_t seed);

/* net_down(), then destroy the wire. */
void test_wire_down(struct hal_link *wire);

#endif /* FAKES_TEST_WIRE_H */
