/*
 * lwIP on the sim slirp wire for the sync tests (test_wire.h): the set-up
 * and tear-down every group of them repeats.
 */
#include "test_wire.h"

#include <unistd.h>

#include "hal_sim/wire.h"
#include "test_city.h"

#define UP_WAIT_MS 2000

const struct hal_uplink_addr test_wire_addr = {
	.ip = SIM_WIRE_APPLIANCE_IP,
	.netmask = SIM_WIRE_NETMASK,
	.gateway = SIM_WIRE_GATEWAY_IP,
};

bool test_wire_wait_up(int timeout_ms)
{
	int64_t t0 = test_mono_us();

	while (!net_is_up()) {
		if (test_mono_us() - t0 > (int64_t)timeout_ms * 1000) {
			return false;
		}
		usleep(10 * 1000);
	}
	return true;
}

int test_wire_up(struct hal_link *wire, uint32_t seed)
{
	if (sim_wire_create(wire) != 0 || net_up(wire, &test_wire_addr, seed) != 0) {
		return -1;
	}
	return test_wire_wait_up(UP_WAIT_MS) ? 0 : -1;
}

void test_wire_down(struct hal_link *wire)
{
	net_down();
	sim_wire_destroy(wire);
}
