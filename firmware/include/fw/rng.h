/*
 * Random numbers for keys, tokens and ids: one mbedTLS CTR-DRBG seeded
 * from the operating system's entropy, shared by all threads (locked).
 *
 * Every function seeds the generator on first use, so rng_init() only makes
 * a missing entropy source show at start-up rather than later. A process
 * that forks gets a child that reseeds before its first output, so parent
 * and child never produce the same bytes.
 */
#ifndef FW_RNG_H
#define FW_RNG_H

#include <stddef.h>
#include <stdint.h>

#define RNG_UUID_LEN 36 /* "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" */

/*
 * Seed the generator (idempotent).
 * @retval 0 seeded
 * @retval -EIO no entropy source
 */
int rng_init(void);

/* Wipe the generator's state; the next call seeds it again. */
void rng_free(void);

/*
 * Fill buf with len random bytes (any length).
 * @retval 0 filled
 * @retval -EINVAL buf is NULL and len is not 0
 * @retval -EIO the DRBG failed (it reseeds on the next call)
 */
int rng_bytes(void *buf, size_t len);

/*
 * For mbedTLS calls that take f_rng/p_rng: pass rng_mbedtls, NULL.
 * @retval 0 filled
 * @retval MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED (an mbedTLS code, as
 *         mbedTLS expects from an f_rng) when the DRBG failed
 */
int rng_mbedtls(void *ctx, unsigned char *buf, size_t len);

/*
 * A random RFC 4122 version 4 UUID, lower-case, as 36 characters and a NUL.
 * @retval 0, -EINVAL out is NULL, -EIO as rng_bytes()
 */
int rng_uuid(char out[RNG_UUID_LEN + 1]);

/*
 * The characters of a code a person reads off a slip or a screen and types
 * back (lookup codes of tickets, requests and work orders): digits and
 * capitals without 0/O and 1/I/L, which people confuse. 31 symbols.
 */
#define RNG_CODE_ALPHABET "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

/*
 * len random characters of RNG_CODE_ALPHABET, each equally likely, and a
 * NUL: out holds len + 1 bytes. 8 characters give about 2^39 codes.
 * @retval 0, -EINVAL out is NULL, -EIO as rng_bytes() (out is then "")
 */
int rng_code(char *out, size_t len);

/*
 * Check a code a person typed: exactly len characters of RNG_CODE_ALPHABET,
 * small letters accepted as capitals. Writes it in capitals and a NUL to out
 * (len + 1 bytes) when it is one; out may be in itself.
 * @retval 0 a code's shape (it may still not exist)
 * @retval -EINVAL NULL, another length or a character outside the alphabet
 */
int rng_code_parse(const char *in, size_t len, char *out);

#endif /* FW_RNG_H */
