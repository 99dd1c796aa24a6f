/*
 * Citizens' personal data at rest (docs/security-pii.md). The fields that
 * identify a citizen (name, phone, ID number, address, free-text contact)
 * live only in the citizen_contact table, each as an AES-256-GCM blob
 * authenticated with its row id and field name. The data key that encrypts
 * them is stored in the database only wrapped under a key-encryption key
 * read from DATA_DIR/keys/storage.key.
 *
 * Reading a contact always goes through a view: masked (the default for
 * every screen and printout), full (staff handling the matter) or handler
 * (the lead handler; the only view that shows a hidden identity). The
 * masking functions are pure and usable on their own.
 *
 * Call pii_open() once at start, before other threads use this module.
 */
#ifndef FW_PII_H
#define FW_PII_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "hal/clock.h"

/* The key-encryption key, relative to the data directory. */
#define PII_KEY_DIR  "keys"
#define PII_KEY_FILE "keys/storage.key"
#define PII_KEY_LEN  32

/* Buffer sizes of the fields, the terminating NUL included. */
#define PII_NAME_MAX	  96
#define PII_PHONE_MAX	  32
#define PII_ID_NUMBER_MAX 32
#define PII_ADDRESS_MAX	  384
#define PII_CONTACT_MAX	  256

/* What a hidden identity is shown as (the UI shows "(anonymous)" in English). */
#define PII_ANONYMOUS "（匿名）"

/* Blob layout: version || 96-bit nonce || ciphertext || 128-bit tag. */
#define PII_BLOB_VERSION  1
#define PII_NONCE_LEN	  12
#define PII_TAG_LEN	  16
#define PII_BLOB_OVERHEAD (1 + PII_NONCE_LEN + PII_TAG_LEN)

enum pii_field { PII_NAME = 0, PII_PHONE, PII_ID_NUMBER, PII_ADDRESS, PII_CONTACT, PII_FIELDS };

#define PII_BIT(f) (1u << (f))

enum pii_view {
	/* Masked forms (138****5678); every role by default, and every printout. */
	PII_VIEW_MASKED = 0,
	/* Full values, for staff handling the matter (to call the citizen back);
	 * a hidden identity still shows name, phone and ID number as anonymous. */
	PII_VIEW_FULL,
	/* Everything in full, hidden identity included: only for the lead
	 * handler of the matter, and the caller audits that it was used. */
	PII_VIEW_HANDLER,
};

struct pii_contact {
	char name[PII_NAME_MAX];
	char phone[PII_PHONE_MAX];
	char id_number[PII_ID_NUMBER_MAX];
	char address[PII_ADDRESS_MAX];
	char contact[PII_CONTACT_MAX];
	/* Filled by pii_contact_get (ignored by pii_contact_create): */
	bool hide_identity;
	unsigned anonymous;  /* PII_BIT(field): shown as PII_ANONYMOUS */
	unsigned unreadable; /* PII_BIT(field): failed authentication, shown as "" */
	int64_t created_ms;
	int64_t closed_ms;     /* 0: open */
	int64_t city_acked_ms; /* 0: the city has not acknowledged it */
	int64_t erased_ms;     /* 0: not erased; else every field is "" */
};

/* The clock for created/closed/acknowledged times (NULL: the system clock). */
void pii_set_clock(struct hal_clock *clock);

/*
 * Load the keys: read DATA_DIR/keys/storage.key (creating it, 32 random
 * bytes, mode 0600 in a 0700 directory, on first start), then unwrap the
 * data key stored in the database (creating and wrapping one when the
 * database has none). A wrong key never re-keys: the personal fields stay
 * as they are, unreadable, until the right key file is put back.
 * @retval 0 ready
 * @retval -EACCES the key file or its directory is readable or writable by
 *         group/other, or owned by another user (refused; logged)
 * @retval -EINVAL the key file is not a regular file of 32 bytes (refused)
 * @retval -EKEYREJECTED the key file does not open the data key (logged;
 *         personal data stays unreadable, nothing is changed)
 * @retval -ENOKEY the key file is missing but the database holds a data
 *         key (logged; nothing is created or changed)
 * @retval -EIO, -ENOSPC, -EBUSY reading or writing the key failed
 */
int pii_open(const char *data_dir, sqlite3 *db);

/* Wipe the keys from memory; the module is locked until pii_open. */
void pii_close(void);

/* True when pii_open succeeded (personal data can be read and written). */
bool pii_ready(void);

/*
 * Store a new contact, inside the caller's transaction. Empty fields are
 * stored as NULL. Every field must be valid for its masking function
 * (pii_mask) and fit its buffer.
 * @param id the new row's id
 * @retval 0, -EPERM no transaction open, -EINVAL a field is invalid,
 *         -ENOKEY the keys are not loaded, -EIO, -ENOSPC, -EBUSY
 */
int pii_contact_create(sqlite3 *db, const struct pii_contact *plain, bool hide_identity,
		       int64_t *id);

/*
 * Read a contact through a view (see enum pii_view). Fields that fail
 * authentication (altered, or copied from another row or field) are logged,
 * left "" and flagged in out->unreadable; the others are filled.
 * Call pii_contact_clear(out) when done.
 * @retval 0, -ENOENT no such row, -EBADMSG some fields were unreadable,
 *         -ENOKEY the keys are not loaded, -EINVAL, -EIO
 */
int pii_contact_get(sqlite3 *db, int64_t id, enum pii_view view, struct pii_contact *out);

/* Wipe a contact's plaintext (mbedtls_platform_zeroize). */
void pii_contact_clear(struct pii_contact *c);

/*
 * Record that the matter was closed / that the city acknowledged it (the
 * first time counts; later calls keep the first time). Works in or outside
 * a transaction, and while the keys are not loaded.
 * @retval 0, -ENOENT no such row, -EIO, -EBUSY
 */
int pii_contact_mark_closed(sqlite3 *db, int64_t id);
int pii_contact_mark_acked(sqlite3 *db, int64_t id);

/*
 * Erase (set NULL, record erased_ms) the personal fields of closed matters
 * the city acknowledged at least retention_days days before now_ms, in one
 * transaction of its own with an audit entry "pii.retention_erase" giving
 * the count (and no personal data). Nothing is audited when nothing was
 * due. Works while the keys are not loaded.
 * @retval >=0 contacts erased, -EINVAL retention_days outside 1..3650 or a
 *         transaction already open, -EBUSY, -EIO, -ENOSPC
 */
int pii_retention_purge(sqlite3 *db, int64_t now_ms, int retention_days);

/* Bytes of a contact tag (pii_contact_tag). */
#define PII_TAG_BYTES 32

/*
 * A keyed tag of a phone number, for finding requests from the same
 * citizen without decrypting anything: HMAC-SHA256 of the normalised
 * number under a key derived from the data key (HMAC-SHA256 of the data
 * key over "hotline-edge/pii/contact-tag/v1"). Normalised: only the digits,
 * and a leading +86 / 0086 country code dropped, so "+86 138 1234 5678",
 * "138-1234-5678" and "13812345678" give the same tag. Equal numbers give
 * equal tags on this database; without the key a tag reveals nothing (it
 * cannot be checked against guessed numbers).
 * @retval 0 out filled
 * @retval -EINVAL NULL, empty or not a valid phone number (pii_mask_phone)
 * @retval -ENOKEY the keys are not loaded
 * @retval -EIO the HMAC failed
 */
int pii_contact_tag(const char *phone, uint8_t out[PII_TAG_BYTES]);

/*
 * Masking. Each writes a NUL-terminated masked form of a UTF-8 string to
 * out; "" gives "". Masked characters become one '*' each.
 * - phone: mobile 13812345678 -> 138****5678; landline with area code
 *   0571-88881234 -> 0571-****1234 (010/02x: 3-digit area code); a +86
 *   prefix is kept; anything else keeps its last min(4, digits/2) digits.
 *   Digits, spaces, '-' and one leading '+' only.
 * - ID number: 18 characters (17 digits and a digit or X) or 15 digits ->
 *   first 4 and last 4 kept (5101**********1234); other documents (ASCII
 *   letters, digits, '-') keep the last min(4, length/2).
 * - name: the first character kept, the others masked except spaces and
 *   the middle dot of transcribed names (张三 -> 张*, 欧阳娜娜 -> 欧***).
 *   A one-character name is masked wholly.
 * - address: the first min(6, length/2) characters, then "***".
 * - contact (free text): masked wholly except the last min(4, length/2)
 *   characters.
 * @retval >=0 bytes written (without the NUL)
 * @retval -EINVAL invalid UTF-8, a control character, not the field's
 *         shape, or longer than the field's buffer
 * @retval -ENOBUFS out is too small
 */
int pii_mask_phone(const char *in, char *out, size_t out_len);
int pii_mask_id_number(const char *in, char *out, size_t out_len);
int pii_mask_name(const char *in, char *out, size_t out_len);
int pii_mask_address(const char *in, char *out, size_t out_len);
int pii_mask_contact(const char *in, char *out, size_t out_len);
/* The masking function of a field. Same returns; -EINVAL for a bad field. */
int pii_mask(enum pii_field f, const char *in, char *out, size_t out_len);

/* "name", "phone", "id_number", "address", "contact" (the column names). */
const char *pii_field_name(enum pii_field f);

#endif /* FW_PII_H */
