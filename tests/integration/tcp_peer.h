/*
 * The far end for the uplink tests: a kernel TCP server (one thread per
 * connection) and the appliance-side client calls that talk to it through
 * lwIP (net_*). Data is a seeded byte pattern: downloads are checked byte
 * by byte, uploads by an FNV-1a hash the server sends back.
 *
 * Protocol: op (1 byte), length (4, big endian), seed (4). 'U': the client
 * sends length bytes, the server answers their hash (8 bytes, big endian).
 * 'D': the server sends length bytes of the pattern, then waits for the
 * client to close.
 */
#ifndef TESTS_INTEGRATION_TCP_PEER_H
#define TESTS_INTEGRATION_TCP_PEER_H

#include <stdbool.h>
#include <stdint.h>

/* A listening kernel socket on ip (host order), ephemeral port; fails the test. */
int peer_listen(uint32_t ip, uint16_t *port);

/* Serve connections on the listening socket lfd (taken over) until stop. */
void peer_server_start(int lfd);
void peer_server_stop(void);

/* Through lwIP: upload or download len pattern bytes and check them. */
void peer_upload(uint32_t ip, uint16_t port, uint32_t len, uint32_t seed, int timeout_ms);
void peer_download(uint32_t ip, uint16_t port, uint32_t len, uint32_t seed, int timeout_ms);

int64_t peer_now_ms(void);

/* Wait (bounded) until net_is_up() equals want. */
bool peer_wait_is_up(bool want, int timeout_ms);

#endif /* TESTS_INTEGRATION_TCP_PEER_H */
