/*
 * Device identity: the appliance's ECDSA P-256 key, the certificate the
 * city's CA issued for it and the city's CA certificate(s), all under
 * DATA_DIR/keys/. The key is made once on the device and never leaves it:
 * nothing here returns or prints it, except identity_tls_load() which hands
 * it to the TLS client in memory. docs/security-identity.md describes the
 * technician's steps (CSR, install, status).
 *
 * Dates are compared against the clock set with identity_set_clock(), not
 * mbedTLS's own time checks, so status and checks follow the device clock
 * (and tests can move it).
 */
#ifndef FW_IDENTITY_H
#define FW_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "fw/admin.h"
#include "hal/clock.h"

#define IDENTITY_KEYS_DIR  "keys"
#define IDENTITY_KEY_FILE  "keys/device.key" /* PEM, mode 0600 */
#define IDENTITY_CERT_FILE "keys/device.crt" /* PEM: the leaf, then any intermediates */
#define IDENTITY_PREV_FILE "keys/device.crt.prev"
#define IDENTITY_CA_FILE   "keys/city-ca.crt" /* PEM: one or more CA certificates */

#define IDENTITY_WARN_DAYS 30	       /* "expiring" from this many days before not-after */
#define IDENTITY_FIELD_MAX 64	       /* characters (not bytes) in one subject field */
#define IDENTITY_DN_MAX	   512	       /* a subject or issuer as text */
#define IDENTITY_MSG_MAX   512	       /* a message for the technician */
#define IDENTITY_FILE_MAX  (64 * 1024) /* certificate files larger than this are refused */
#define IDENTITY_CSR_MAX   4096	       /* room for a PEM CSR */

enum identity_state {
	IDENTITY_NO_KEY = 0,	/* no key file (identity_ensure_key not run or failed) */
	IDENTITY_KEY_DAMAGED,	/* the key file is unreadable or not a P-256 key */
	IDENTITY_NO_CERT,	/* key ready, no certificate installed yet */
	IDENTITY_CERT_DAMAGED,	/* the certificate file is unreadable */
	IDENTITY_MISMATCH,	/* the certificate is for another key */
	IDENTITY_NOT_YET_VALID, /* now is before not-before */
	IDENTITY_EXPIRED,	/* now is after not-after */
	IDENTITY_EXPIRING,	/* valid, at most IDENTITY_WARN_DAYS days left */
	IDENTITY_VALID,
};

/* What a certificate says, for people (no key material). */
struct identity_cert_info {
	char subject[IDENTITY_DN_MAX];
	char issuer[IDENTITY_DN_MAX];
	char serial[128]; /* "01:A3:..." */
	int64_t not_before_ms;
	int64_t not_after_ms;
};

struct identity_status {
	enum identity_state state;
	bool key_present;  /* the key file exists and holds a P-256 key */
	bool cert_present; /* cert is filled in */
	struct identity_cert_info cert;
	int64_t days_left;		  /* whole days until not-after; negative once expired */
	int ca_count;			  /* CA certificates installed (0: none) */
	char ca_subject[IDENTITY_DN_MAX]; /* the first one's subject */
	char problem[IDENTITY_MSG_MAX];	  /* what is wrong and what to do; "" when valid */
};

/* The subject fields of a CSR; NULL or "" leaves a field out (cn is required). */
struct identity_name {
	const char *cn;
	const char *o;
	const char *ou;
};

/* The clock for every date check (NULL: the system clock). */
void identity_set_clock(struct hal_clock *clock);

/*
 * Make the device key on first start: P-256 from rng_mbedtls(), written as
 * PEM to DATA_DIR/keys/device.key (mode 0600, directory 0700) through a
 * temporary file, fsync, a rename that never replaces, fsync of the
 * directory. An existing key is only checked, never replaced: a damaged or
 * wrong-type file is logged with what to do and left where it is.
 * @retval 1 a new key was made
 * @retval 0 the existing key is fine
 * @retval -EBADMSG the key file is damaged or not a P-256 key (kept)
 * @retval -EIO, -ENOSPC, -EACCES, -ENAMETOOLONG writing failed (nothing left behind)
 */
int identity_ensure_key(const char *data_dir);

/*
 * Build a distinguished name from checked fields: each 1..IDENTITY_FIELD_MAX
 * characters of valid UTF-8 without control characters or the DN
 * specials = + ; < > " # and backslash; commas are escaped.
 * @retval 0, -EINVAL a field is bad (msg says which and why), -ENOBUFS
 */
int identity_make_dn(const struct identity_name *n, char *dn, size_t len, char *msg, size_t msglen);

/*
 * A PEM certificate signing request for the device key, signed with
 * ECDSA-SHA256, subject dn (from identity_make_dn), key usage
 * digitalSignature. @retval 0, -ENOKEY no usable key (msg says why),
 * -EINVAL bad dn, -ENOBUFS, -EIO
 */
int identity_csr_pem(const char *data_dir, const char *dn, char *pem, size_t len, char *msg,
		     size_t msglen);

/*
 * Check and install the device certificate (PEM or DER; a PEM file may add
 * intermediates after the leaf). Refused, with msg saying why and what to
 * do, when: it does not parse (-EBADMSG), there is no device key (-ENOKEY),
 * its public key is not the device's (-EKEYREJECTED), now is before its
 * not-before (-ETIME) or after its not-after (-EKEYEXPIRED), or it is a CA
 * certificate or its key usage / extended key usage exclude TLS client
 * authentication (-EPERM). Stored as PEM, atomically, at
 * IDENTITY_CERT_FILE; the certificate it replaces is kept as
 * IDENTITY_PREV_FILE. When a CA is installed and the certificate does not
 * chain to it, it is installed anyway and *chain_warning is set with msg.
 * @param info filled with what was installed (may be NULL)
 * @retval 0 installed; other values as above, or -EIO/-ENOSPC storing it
 */
int identity_install_cert(const char *data_dir, const unsigned char *buf, size_t len,
			  struct identity_cert_info *info, bool *chain_warning, char *msg,
			  size_t msglen);

/*
 * Check and install the city's CA certificate(s) (PEM, possibly several,
 * or one DER). Each must be a CA (basicConstraints CA:TRUE), else -EPERM;
 * unparsable input -EBADMSG. When a device certificate is installed and
 * does not chain to the new CA, it is installed anyway and *chain_warning
 * is set with msg. Stored as PEM, atomically, at IDENTITY_CA_FILE.
 * @param info the first CA's details (may be NULL); @param count how many
 * @retval 0 installed, -EBADMSG, -EPERM, -EIO, -ENOSPC
 */
int identity_install_ca(const char *data_dir, const unsigned char *buf, size_t len,
			struct identity_cert_info *info, int *count, bool *chain_warning, char *msg,
			size_t msglen);

/*
 * The identity as it stands now (key, certificate, CA, dates against the
 * identity clock). Never fails: problems show in st->state and st->problem.
 */
void identity_status(const char *data_dir, struct identity_status *st);

/* "no_key", "key_damaged", "no_cert", "cert_damaged", "mismatch",
 * "not_yet_valid", "expired", "expiring", "valid". */
const char *identity_state_name(enum identity_state s);

/*
 * The identity for the health JSON, into obj: "state", and with a
 * certificate "subject", "not_after" (ISO 8601 UTC), "not_after_ms",
 * "days_left"; "ca_installed". Never key material. obj NULL: nothing.
 */
void identity_health_json(const char *data_dir, cJSON *obj);

/*
 * Log the identity's state: a warning when it needs a technician
 * (expiring, expired, not yet valid, mismatch, key or certificate
 * damaged), an info line otherwise. The daemon calls it at start and daily.
 * @return the state
 */
enum identity_state identity_log_status(const char *data_dir);

/*
 * For the TLS client (the sync issue): the device key, its certificate
 * chain and the city's CA, parsed and ready for mbedtls_ssl_conf_own_cert
 * (&t->cert, &t->key) and mbedtls_ssl_conf_ca_chain(&t->ca, NULL). Refuses
 * a certificate for another key. Dates are not checked here (the status
 * and the TLS handshake do that). Free with identity_tls_free even after
 * a failure.
 * @retval 0 loaded
 * @retval -ENOKEY the key is missing or damaged
 * @retval -ENOENT no certificate or no CA installed
 * @retval -EBADMSG a certificate file does not parse
 * @retval -EKEYREJECTED the certificate is not for the device key
 */
struct identity_tls {
	mbedtls_pk_context key;
	mbedtls_x509_crt cert; /* leaf first, then intermediates */
	mbedtls_x509_crt ca;
};
int identity_tls_load(const char *data_dir, struct identity_tls *t);
void identity_tls_free(struct identity_tls *t);

/*
 * Admin commands (rows of the table in firmware/main/admin.c):
 *   csr [--cn CN] [--o ORG] [--ou UNIT] [--out FILE]
 *   install-cert FILE      (audited as identity.install_cert)
 *   install-ca FILE        (audited as identity.install_ca)
 *   identity
 */
int identity_cmd_csr(struct admin_ctx *ctx, int argc, char **argv);
int identity_cmd_install_cert(struct admin_ctx *ctx, int argc, char **argv);
int identity_cmd_install_ca(struct admin_ctx *ctx, int argc, char **argv);
int identity_cmd_status(struct admin_ctx *ctx, int argc, char **argv);

#endif /* FW_IDENTITY_H */
