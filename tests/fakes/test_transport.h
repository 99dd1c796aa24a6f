/*
 * A kernel-socket transport for the HTTPS client (apps/sync/httpc.h) in
 * tests that talk to citysim or nginx on loopback. A transport whose priv
 * points to a uint16_t connects to that port instead of the one asked (a
 * test that restarts citysim on another port moves it there).
 */
#ifndef TEST_TRANSPORT_H
#define TEST_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "sync/httpc.h"

int test_kernel_open(struct httpc_transport *t, uint32_t ip, uint16_t port, int timeout_ms);
/* Send all of buf within timeout_ms. @retval len, -ETIMEDOUT, -errno */
int test_fd_send(struct httpc_transport *t, int h, const void *buf, size_t len, int timeout_ms);
/* @retval >0 bytes, 0 closed, -ETIMEDOUT, -errno */
int test_fd_recv(struct httpc_transport *t, int h, void *buf, size_t len, int timeout_ms);
void test_fd_close(struct httpc_transport *t, int h);

extern const struct httpc_transport_ops test_kernel_ops;

#endif /* TEST_TRANSPORT_H */
