/*
 * A serial port in RAM. Bytes the test pushes are what read() returns;
 * what the code under test writes is captured for the test to take. A
 * write hook lets a test play the device (answer a status request the
 * moment it is written). Reads never wait: an empty port is -ETIMEDOUT at
 * once, so tests of timeouts take no wall time. Single-threaded use only.
 */
#ifndef FAKES_FAKE_SERIAL_H
#define FAKES_FAKE_SERIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hal/serial.h"

#define FAKE_SERIAL_RX_MAX 4096
#define FAKE_SERIAL_TX_MAX (256 * 1024)

/* Called after each accepted write with the bytes just written. */
typedef void (*fake_serial_write_fn)(struct hal_serial *s, const uint8_t *data, size_t len,
				     void *ctx);

/* Closed port, empty buffers, no hook, no faults, path "fake-serial". */
void fake_serial_init(struct hal_serial *s);
/* Queue bytes for read(). @retval 0, -ENOSPC beyond FAKE_SERIAL_RX_MAX */
int fake_serial_push_rx(struct hal_serial *s, const void *data, size_t len);
/* Move up to size captured bytes into buf. @retval count */
size_t fake_serial_take_tx(struct hal_serial *s, void *buf, size_t size);
/* Captured bytes not yet taken. */
size_t fake_serial_tx_len(struct hal_serial *s);
void fake_serial_set_write_hook(struct hal_serial *s, fake_serial_write_fn fn, void *ctx);
/* The next open() fails with err (negative errno); 0 clears. */
void fake_serial_fail_open(struct hal_serial *s, int err);
/* The nth write from now (1 = the next) fails with err; 0 clears. */
void fake_serial_fail_write(struct hal_serial *s, unsigned nth, int err);
/* Accept only limit more bytes in total, then writes time out (a stalled device). */
void fake_serial_set_tx_limit(struct hal_serial *s, size_t limit);
bool fake_serial_is_open(struct hal_serial *s);
/* How many times open() succeeded. */
unsigned fake_serial_open_count(struct hal_serial *s);

#endif /* FAKES_FAKE_SERIAL_H */
