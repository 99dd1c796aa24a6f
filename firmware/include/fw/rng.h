/*
 * Random numbers for keys, tokens and ids: one mbedTLS CTR-DRBG seeded
 * from the operating system's entropy, shared by all threads (locked).
 */
#ifndef FW_RNG_H
#define FW_RNG_H

#include <stddef.h>
#include <stdint.h>

/* @retval 0 seeded, -EIO no entropy source */
int rng_init(void);
void rng_free(void);
/* @retval 0, -EIO the DRBG failed (it then reseeds on the next call) */
int rng_bytes(void *buf, size_t len);
/* For mbedTLS calls that take f_rng/p_rng: pass rng_mbedtls, NULL. */
int rng_mbedtls(void *ctx, unsigned char *buf, size_t len);
/* A random RFC 4122 version 4 UUID as 36 characters and a NUL. */
int rng_uuid(char out[37]);

#endif /* FW_RNG_H */
