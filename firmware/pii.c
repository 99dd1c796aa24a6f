/*
 * Citizens' personal data at rest: field encryption, the key hierarchy,
 * display masking and retention (docs/security-pii.md).
 *
 * Two keys. The key-encryption key (KEK) is a 32-byte file,
 * DATA_DIR/keys/storage.key, that only the firmware's user may read; the
 * data key is random, encrypts every personal field, and is stored in the
 * database only wrapped (AES-256-GCM) under the KEK. mbedTLS 2.28 as
 * Debian builds it has no NIST key wrap (MBEDTLS_NIST_KW_C is off), so the
 * wrap is GCM too, with its own associated data.
 *
 * Each field is sealed on its own: version || random 96-bit nonce ||
 * ciphertext || tag, with "citizen_contact:<row id>:<field>" as associated
 * data, so a value moved to another row or field fails authentication.
 *
 * The one decision a reader needs: a key that does not open the data key
 * is never answered by making a new one. The module then stays locked
 * (reads and writes of personal data fail with -ENOKEY), the database is
 * left exactly as it was, and the log says which file to put back.
 * Retention and the closed/acknowledged marks need no key and work anyway.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/gcm.h>
#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>

#include "fw/audit.h"
#include "fw/fsutil.h"
#include "fw/log.h"
#include "fw/pii.h"
#include "fw/rng.h"
#include "fw/store.h"

#define MOD	    "pii"

#define WRAP_AAD    "hotline-edge/pii/data-key/v1"
#define TAG_LABEL   "hotline-edge/pii/contact-tag/v1"
#define WRAPPED_LEN (PII_BLOB_OVERHEAD + PII_KEY_LEN)
#define DAY_MS	    (24LL * 60 * 60 * 1000)

static struct hal_clock *pii_clock;
static uint8_t data_key[PII_KEY_LEN];
static bool key_loaded;

static const struct {
	const char *name;
	size_t offset;
	size_t size;
} fields[PII_FIELDS] = {
	[PII_NAME] = { "name", offsetof(struct pii_contact, name), PII_NAME_MAX },
	[PII_PHONE] = { "phone", offsetof(struct pii_contact, phone), PII_PHONE_MAX },
	[PII_ID_NUMBER] = { "id_number", offsetof(struct pii_contact, id_number),
			    PII_ID_NUMBER_MAX },
	[PII_ADDRESS] = { "address", offsetof(struct pii_contact, address), PII_ADDRESS_MAX },
	[PII_CONTACT] = { "contact", offsetof(struct pii_contact, contact), PII_CONTACT_MAX },
};

void pii_set_clock(struct hal_clock *clock)
{
	pii_clock = clock;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	if (pii_clock != NULL) {
		return hal_clock_wall_ms(pii_clock);
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *pii_field_name(enum pii_field f)
{
	return (unsigned)f < PII_FIELDS ? fields[f].name : "?";
}

static char *field_ptr(struct pii_contact *c, enum pii_field f)
{
	return (char *)c + fields[f].offset;
}

static const char *field_cptr(const struct pii_contact *c, enum pii_field f)
{
	return (const char *)c + fields[f].offset;
}

/* ---- masking ---------------------------------------------------------- */

struct out_buf {
	char *p;
	size_t len;
	size_t pos;
	bool overflow;
};

static void put(struct out_buf *o, const char *s, size_t n)
{
	if (o->overflow || o->pos + n >= o->len) {
		o->overflow = true;
		return;
	}
	memcpy(o->p + o->pos, s, n);
	o->pos += n;
}

static int finish(struct out_buf *o)
{
	if (o->overflow || o->pos >= o->len) {
		if (o->len > 0) {
			o->p[0] = '\0';
		}
		return -ENOBUFS;
	}
	o->p[o->pos] = '\0';
	return (int)o->pos;
}

/*
 * Decode one UTF-8 character at s[i] (strict: no overlongs, surrogates or
 * values past U+10FFFF). @return its length in bytes, 0 if invalid
 */
static size_t utf8_decode(const unsigned char *s, size_t n, size_t i, uint32_t *cp)
{
	unsigned c = s[i];
	size_t extra;
	uint32_t v;

	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if (c >= 0xc2 && c <= 0xdf) {
		extra = 1;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		extra = 2;
		v = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		extra = 3;
		v = c & 0x07;
	} else {
		return 0;
	}
	if (i + extra >= n) {
		return 0;
	}
	for (size_t j = 1; j <= extra; j++) {
		if ((s[i + j] & 0xc0) != 0x80) {
			return 0;
		}
		v = (v << 6) | (s[i + j] & 0x3f);
	}
	if ((extra == 2 && (v < 0x800 || (v >= 0xd800 && v <= 0xdfff))) ||
	    (extra == 3 && (v < 0x10000 || v > 0x10ffff))) {
		return 0;
	}
	*cp = v;
	return extra + 1;
}

/* Check text (UTF-8, no control characters, shorter than max bytes) and
 * count its characters. @retval 0, -EINVAL */
static int text_scan(const char *in, size_t max, size_t *bytes, size_t *chars)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t n, i = 0, count = 0;

	if (in == NULL) {
		return -EINVAL;
	}
	n = strnlen(in, max);
	if (n == max) {
		return -EINVAL;
	}
	while (i < n) {
		uint32_t cp;
		size_t l = utf8_decode(s, n, i, &cp);

		if (l == 0 || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 ||
		    cp == 0x2029) {
			return -EINVAL;
		}
		i += l;
		count++;
	}
	*bytes = n;
	*chars = count;
	return 0;
}

/* Walk the characters of checked text; keep(k, cp) says which stay. */
static void mask_chars(const char *in, size_t n, struct out_buf *o,
		       bool (*keep)(size_t k, uint32_t cp, size_t total, size_t arg), size_t total,
		       size_t arg)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t i = 0;

	for (size_t k = 0; i < n; k++) {
		uint32_t cp = 0;
		size_t l = utf8_decode(s, n, i, &cp);

		if (keep(k, cp, total, arg)) {
			put(o, in + i, l);
		} else {
			put(o, "*", 1);
		}
		i += l;
	}
}

static size_t min_sz(size_t a, size_t b)
{
	return a < b ? a : b;
}

static bool keep_name(size_t k, uint32_t cp, size_t total, size_t arg)
{
	(void)arg;
	return (k == 0 && total > 1) || cp == ' ' || cp == 0xb7;
}

static bool keep_tail(size_t k, uint32_t cp, size_t total, size_t arg)
{
	(void)cp;
	return k + arg >= total;
}

static bool keep_id(size_t k, uint32_t cp, size_t total, size_t arg)
{
	(void)cp;
	return k < arg || k + arg >= total;
}

int pii_mask_name(const char *in, char *out, size_t out_len)
{
	struct out_buf o = { out, out_len, 0, false };
	size_t n, chars;

	if (out == NULL || text_scan(in, PII_NAME_MAX, &n, &chars) < 0) {
		return -EINVAL;
	}
	mask_chars(in, n, &o, keep_name, chars, 0);
	return finish(&o);
}

int pii_mask_address(const char *in, char *out, size_t out_len)
{
	struct out_buf o = { out, out_len, 0, false };
	size_t n, chars, keep;

	if (out == NULL || text_scan(in, PII_ADDRESS_MAX, &n, &chars) < 0) {
		return -EINVAL;
	}
	keep = min_sz(6, chars / 2);
	if (chars > 0) {
		/* Only the kept head is written: the length is not revealed. */
		size_t i = 0;

		for (size_t k = 0; k < keep; k++) {
			uint32_t cp;

			i += utf8_decode((const unsigned char *)in, n, i, &cp);
		}
		put(&o, in, i);
		put(&o, "***", 3);
	}
	return finish(&o);
}

int pii_mask_contact(const char *in, char *out, size_t out_len)
{
	struct out_buf o = { out, out_len, 0, false };
	size_t n, chars;

	if (out == NULL || text_scan(in, PII_CONTACT_MAX, &n, &chars) < 0) {
		return -EINVAL;
	}
	mask_chars(in, n, &o, keep_tail, chars, min_sz(4, chars / 2));
	return finish(&o);
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int pii_mask_phone(const char *in, char *out, size_t out_len)
{
	struct out_buf o = { out, out_len, 0, false };
	char digits[PII_PHONE_MAX];
	size_t n, nd = 0, start = 0, m, head = 0, tail;
	size_t d = 0;

	if (in == NULL || out == NULL) {
		return -EINVAL;
	}
	n = strnlen(in, PII_PHONE_MAX);
	if (n == PII_PHONE_MAX) {
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if (is_digit(in[i])) {
			digits[nd++] = in[i];
		} else if (!(in[i] == ' ' || in[i] == '-' || (in[i] == '+' && i == 0))) {
			return -EINVAL;
		}
	}
	if (n == 0) {
		return finish(&o);
	}
	if (in[0] == '+' && nd >= 2 && digits[0] == '8' && digits[1] == '6') {
		start = 2; /* China's country code, kept */
	}
	m = nd - start;
	if (m < 3) {
		return -EINVAL;
	}
	tail = min_sz(4, m / 2);
	if (m == 11 && digits[start] == '1') {
		head = 3; /* mobile: 138****5678 */
		tail = 4;
	} else if (digits[start] == '0' && m >= 10) {
		/* Landline with area code: 010 and 02x are 3 digits, others 4. */
		size_t area = (digits[start + 1] == '1' || digits[start + 1] == '2') ? 3 : 4;

		if (m - area >= 7 && m - area <= 8) {
			head = area;
			tail = 4;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(in[i])) {
			put(&o, in + i, 1);
			continue;
		}
		if (d < start + head || d >= nd - tail) {
			put(&o, in + i, 1);
		} else {
			put(&o, "*", 1);
		}
		d++;
	}
	return finish(&o);
}

int pii_mask_id_number(const char *in, char *out, size_t out_len)
{
	struct out_buf o = { out, out_len, 0, false };
	size_t n, ndig = 0;
	bool resident;

	if (in == NULL || out == NULL) {
		return -EINVAL;
	}
	n = strnlen(in, PII_ID_NUMBER_MAX);
	if (n == PII_ID_NUMBER_MAX) {
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		char c = in[i];

		if (is_digit(c)) {
			ndig++;
		} else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-')) {
			return -EINVAL;
		}
	}
	if (n == 0) {
		return finish(&o);
	}
	if (n < 4) {
		return -EINVAL;
	}
	/* Resident identity card: 17 digits and a check digit or X; or the
	 * old 15-digit card. Both show the region (4) and the last 4. */
	resident = (n == 15 && ndig == 15) ||
		   (n == 18 && (ndig == 18 || (ndig == 17 && (in[17] == 'X' || in[17] == 'x'))));
	mask_chars(in, n, &o, resident ? keep_id : keep_tail, n, resident ? 4 : min_sz(4, n / 2));
	return finish(&o);
}

int pii_mask(enum pii_field f, const char *in, char *out, size_t out_len)
{
	switch (f) {
	case PII_NAME:
		return pii_mask_name(in, out, out_len);
	case PII_PHONE:
		return pii_mask_phone(in, out, out_len);
	case PII_ID_NUMBER:
		return pii_mask_id_number(in, out, out_len);
	case PII_ADDRESS:
		return pii_mask_address(in, out, out_len);
	case PII_CONTACT:
		return pii_mask_contact(in, out, out_len);
	case PII_FIELDS:
		break;
	}
	return -EINVAL;
}

/* ---- sealing ---------------------------------------------------------- */

/* blob must hold pt_len + PII_BLOB_OVERHEAD bytes. @retval 0, -EIO */
static int seal(const uint8_t key[PII_KEY_LEN], const void *aad, size_t aad_len, const void *pt,
		size_t pt_len, uint8_t *blob)
{
	mbedtls_gcm_context gcm;
	int ret;

	blob[0] = PII_BLOB_VERSION;
	ret = rng_bytes(blob + 1, PII_NONCE_LEN);
	if (ret < 0) {
		return ret;
	}
	mbedtls_gcm_init(&gcm);
	ret = mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, key, PII_KEY_LEN * 8);
	if (ret == 0) {
		ret = mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, pt_len, blob + 1,
						PII_NONCE_LEN, aad, aad_len, pt,
						blob + 1 + PII_NONCE_LEN, PII_TAG_LEN,
						blob + 1 + PII_NONCE_LEN + pt_len);
	}
	mbedtls_gcm_free(&gcm);
	if (ret != 0) {
		log_err(MOD, "AES-GCM encryption failed (mbedTLS -0x%04x)", (unsigned)-ret);
		return -EIO;
	}
	return 0;
}

/* @retval 0 (*pt_len set), -EBADMSG malformed or not authentic, -EIO */
static int unseal(const uint8_t key[PII_KEY_LEN], const void *aad, size_t aad_len,
		  const uint8_t *blob, size_t blob_len, void *pt, size_t pt_max, size_t *pt_len)
{
	mbedtls_gcm_context gcm;
	size_t n;
	int ret;

	if (blob == NULL || blob_len < PII_BLOB_OVERHEAD || blob[0] != PII_BLOB_VERSION) {
		return -EBADMSG;
	}
	n = blob_len - PII_BLOB_OVERHEAD;
	if (n > pt_max) {
		return -EBADMSG;
	}
	mbedtls_gcm_init(&gcm);
	ret = mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, key, PII_KEY_LEN * 8);
	if (ret == 0) {
		ret = mbedtls_gcm_auth_decrypt(&gcm, n, blob + 1, PII_NONCE_LEN, aad, aad_len,
					       blob + 1 + PII_NONCE_LEN + n, PII_TAG_LEN,
					       blob + 1 + PII_NONCE_LEN, pt);
	}
	mbedtls_gcm_free(&gcm);
	if (ret == MBEDTLS_ERR_GCM_AUTH_FAILED) {
		mbedtls_platform_zeroize(pt, n);
		return -EBADMSG;
	}
	if (ret != 0) {
		log_err(MOD, "AES-GCM decryption failed (mbedTLS -0x%04x)", (unsigned)-ret);
		return -EIO;
	}
	*pt_len = n;
	return 0;
}

static size_t field_aad(char *aad, size_t len, int64_t id, enum pii_field f)
{
	int n = snprintf(aad, len, "citizen_contact:%" PRId64 ":%s", id, fields[f].name);

	return n > 0 ? (size_t)n : 0;
}

/* ---- the key-encryption key file ------------------------------------- */

static int key_path(const char *data_dir, const char *rel, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", data_dir, rel);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int check_key_dir(const char *dir)
{
	struct stat st;

	if (lstat(dir, &st) < 0) {
		return -errno;
	}
	if (!S_ISDIR(st.st_mode)) {
		log_err(MOD, "%s is not a directory; it must be the directory of the device keys",
			dir);
		return -EINVAL;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 0022) != 0) {
		log_err(MOD,
			"the key directory %s can be changed by other users (owner %u, mode %03o): "
			"refusing to use the key in it. Make it the firmware's own with "
			"chown and chmod 700, then start again.",
			dir, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		return -EACCES;
	}
	return 0;
}

/* @retval 0 kek read, -ENOENT no file, -EACCES/-EINVAL refused, -EIO */
static int kek_read(const char *path, uint8_t kek[PII_KEY_LEN])
{
	struct stat st;
	ssize_t got;
	int fd, ret = -EIO;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		if (ret == -ENOENT) {
			return ret;
		}
		if (ret == -ELOOP) {
			log_err(MOD,
				"the key file %s is a symbolic link; it must be a regular file "
				"of %d bytes. Put the real file there and start again.",
				path, PII_KEY_LEN);
			return -EINVAL;
		}
		log_err(MOD, "the key file %s cannot be opened (%s)", path, strerror(-ret));
		return ret == -EACCES ? -EACCES : -EIO;
	}
	if (fstat(fd, &st) < 0) {
		ret = -EIO;
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		log_err(MOD, "the key file %s is not a regular file; refusing to start", path);
		ret = -EINVAL;
		goto out_close;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 0077) != 0) {
		log_err(MOD,
			"the key file %s is open to other users (owner %u, mode %03o); it protects "
			"citizens' personal data, so the firmware refuses to use it. Run "
			"chmod 600 on it (owned by the firmware's user) and start again.",
			path, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		ret = -EACCES;
		goto out_close;
	}
	if (st.st_size != PII_KEY_LEN) {
		log_err(MOD,
			"the key file %s holds %lld bytes, not %d: it is not a key this firmware "
			"wrote. Put the device's own key file back (from its key backup) and "
			"start again; do not delete it while the database holds personal data.",
			path, (long long)st.st_size, PII_KEY_LEN);
		ret = -EINVAL;
		goto out_close;
	}
	got = read(fd, kek, PII_KEY_LEN);
	if (got != PII_KEY_LEN) {
		log_err(MOD, "the key file %s could not be read", path);
		mbedtls_platform_zeroize(kek, PII_KEY_LEN);
		ret = -EIO;
		goto out_close;
	}
	ret = 0;
out_close:
	close(fd);
	return ret;
}

/* Write 32 fresh random bytes to path through fs_write_atomic: a power cut
 * leaves either no key or a whole one, and an existing key is never replaced. */
static int kek_create(const char *dir, const char *path, uint8_t kek[PII_KEY_LEN])
{
	int ret = rng_bytes(kek, PII_KEY_LEN);

	if (ret == 0) {
		ret = fs_write_atomic(path, kek, PII_KEY_LEN, 0600, FS_NOREPLACE);
	}
	if (ret < 0) {
		goto out_fail;
	}
	log_info(MOD, "created the storage key %s (back it up with the device's keys)", path);
	return 0;

out_fail:
	mbedtls_platform_zeroize(kek, PII_KEY_LEN);
	log_err(MOD, "the storage key %s could not be written (%s); check the data directory", path,
		strerror(-ret));
	return ret == -ENOSPC ? -ENOSPC : -EIO;
}

/* ---- the wrapped data key in the database ---------------------------- */

/* @retval 1 found, 0 none, <0 error */
static int wrapped_load(sqlite3 *db, uint8_t wrapped[WRAPPED_LEN])
{
	sqlite3_stmt *st = NULL;
	int rc, ret;

	rc = sqlite3_prepare_v2(db, "SELECT wrapped FROM pii_key WHERE id = 1", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
	}
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) != WRAPPED_LEN) {
			log_err(MOD, "the stored data key has the wrong length; it was altered");
			ret = -EBADMSG;
		} else {
			memcpy(wrapped, sqlite3_column_blob(st, 0), WRAPPED_LEN);
			ret = 1;
		}
	} else if (rc == SQLITE_DONE) {
		ret = 0;
	} else {
		ret = store_err(db, rc, "reading the wrapped data key");
	}
	sqlite3_finalize(st);
	return ret;
}

static int wrapped_store(sqlite3 *db, const uint8_t wrapped[WRAPPED_LEN])
{
	sqlite3_stmt *st = NULL;
	int rc, ret;

	ret = store_begin(db);
	if (ret < 0) {
		return ret;
	}
	rc = sqlite3_prepare_v2(db,
				"INSERT INTO pii_key (id, wrapped, created_ms) VALUES (1, ?1, ?2)",
				-1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_bind_blob(st, 1, wrapped, WRAPPED_LEN, SQLITE_STATIC);
	}
	if (rc == SQLITE_OK) {
		rc = sqlite3_bind_int64(st, 2, now_ms());
	}
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
	}
	ret = rc == SQLITE_DONE ? 0 : store_err(db, rc, "storing the wrapped data key");
	sqlite3_finalize(st);
	if (ret < 0) {
		store_rollback(db);
		return ret;
	}
	return store_commit(db);
}

void pii_close(void)
{
	mbedtls_platform_zeroize(data_key, sizeof(data_key));
	key_loaded = false;
}

bool pii_ready(void)
{
	return key_loaded;
}

int pii_open(const char *data_dir, sqlite3 *db)
{
	uint8_t kek[PII_KEY_LEN], dk[PII_KEY_LEN], wrapped[WRAPPED_LEN];
	char dir[PATH_MAX], path[PATH_MAX];
	size_t dk_len = 0;
	int have, ret;

	pii_close();
	if (data_dir == NULL || db == NULL) {
		return -EINVAL;
	}
	if (key_path(data_dir, PII_KEY_DIR, dir, sizeof(dir)) < 0 ||
	    key_path(data_dir, PII_KEY_FILE, path, sizeof(path)) < 0) {
		return -ENAMETOOLONG;
	}
	have = wrapped_load(db, wrapped);
	if (have < 0) {
		return have;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		ret = -errno;
		log_err(MOD, "the key directory %s cannot be created (%s)", dir, strerror(-ret));
		return ret;
	}
	ret = check_key_dir(dir);
	if (ret < 0) {
		return ret;
	}
	ret = kek_read(path, kek);
	if (ret == -ENOENT) {
		if (have) {
			log_err(MOD,
				"the key file %s is missing, but the database holds personal "
				"data encrypted under it. Personal data stays unreadable and "
				"nothing was changed: put the device's key file back (from its "
				"key backup) and restart.",
				path);
			return -ENOKEY;
		}
		ret = kek_create(dir, path, kek);
	}
	if (ret < 0) {
		goto out_wipe;
	}
	if (have) {
		ret = unseal(kek, WRAP_AAD, strlen(WRAP_AAD), wrapped, WRAPPED_LEN, dk, sizeof(dk),
			     &dk_len);
		if (ret == -EBADMSG || (ret == 0 && dk_len != PII_KEY_LEN)) {
			log_err(MOD,
				"the key file %s does not open the personal-data key in the "
				"database: it is not the file this database was set up with. "
				"Personal data stays encrypted and unreadable and nothing was "
				"changed: put the original key file back and restart.",
				path);
			ret = -EKEYREJECTED;
			goto out_wipe;
		}
		if (ret < 0) {
			goto out_wipe;
		}
	} else {
		ret = rng_bytes(dk, sizeof(dk));
		if (ret == 0) {
			ret = seal(kek, WRAP_AAD, strlen(WRAP_AAD), dk, sizeof(dk), wrapped);
		}
		if (ret == 0) {
			ret = wrapped_store(db, wrapped);
		}
		if (ret < 0) {
			log_err(MOD, "a new personal-data key could not be stored (%s)",
				strerror(-ret));
			goto out_wipe;
		}
		log_info(MOD, "created a new personal-data key");
	}
	memcpy(data_key, dk, sizeof(data_key));
	key_loaded = true;
	ret = 0;
out_wipe:
	mbedtls_platform_zeroize(kek, sizeof(kek));
	mbedtls_platform_zeroize(dk, sizeof(dk));
	return ret;
}

/* ---- contacts --------------------------------------------------------- */

void pii_contact_clear(struct pii_contact *c)
{
	if (c != NULL) {
		mbedtls_platform_zeroize(c, sizeof(*c));
	}
}

static int bind_field(sqlite3_stmt *st, int idx, const uint8_t *blob, size_t len)
{
	if (len == 0) {
		return sqlite3_bind_null(st, idx);
	}
	return sqlite3_bind_blob(st, idx, blob, (int)len, SQLITE_STATIC);
}

int pii_contact_create(sqlite3 *db, const struct pii_contact *plain, bool hide_identity,
		       int64_t *id)
{
	/* Ciphertext only: not secret, so not wiped. */
	uint8_t blobs[PII_FIELDS][PII_ADDRESS_MAX + PII_BLOB_OVERHEAD];
	size_t blob_len[PII_FIELDS] = { 0 };
	char masked[PII_ADDRESS_MAX];
	char aad[64];
	sqlite3_stmt *st = NULL;
	int64_t row;
	int rc, ret;

	if (db == NULL || plain == NULL) {
		return -EINVAL;
	}
	if (sqlite3_get_autocommit(db) != 0) {
		log_err(MOD, "refused to store a contact outside a transaction");
		return -EPERM;
	}
	for (int f = 0; f < PII_FIELDS; f++) {
		const char *v = field_cptr(plain, f);

		if (memchr(v, '\0', fields[f].size) == NULL ||
		    pii_mask(f, v, masked, sizeof(masked)) < 0) {
			/* The value itself is never logged. */
			log_warn(MOD, "refused a contact: the %s field is not valid",
				 fields[f].name);
			return -EINVAL;
		}
	}
	mbedtls_platform_zeroize(masked, sizeof(masked));
	if (!key_loaded) {
		log_err(MOD, "refused to store a contact: the personal-data key is not loaded "
			     "(see the key error at start-up)");
		return -ENOKEY;
	}
	rc = sqlite3_prepare_v2(db,
				"INSERT INTO citizen_contact (hide_identity, created_ms) "
				"VALUES (?1, ?2)",
				-1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_bind_int(st, 1, hide_identity ? 1 : 0);
	}
	if (rc == SQLITE_OK) {
		rc = sqlite3_bind_int64(st, 2, now_ms());
	}
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_DONE) {
		return store_err(db, rc, "adding a contact");
	}
	row = sqlite3_last_insert_rowid(db);
	for (int f = 0; f < PII_FIELDS; f++) {
		const char *v = field_cptr(plain, f);
		size_t n = strlen(v);

		if (n == 0) {
			continue;
		}
		ret = seal(data_key, aad, field_aad(aad, sizeof(aad), row, f), v, n, blobs[f]);
		if (ret < 0) {
			return ret;
		}
		blob_len[f] = n + PII_BLOB_OVERHEAD;
	}
	rc = sqlite3_prepare_v2(db,
				"UPDATE citizen_contact SET name = ?1, phone = ?2, id_number = ?3, "
				"address = ?4, contact = ?5 WHERE id = ?6",
				-1, &st, NULL);
	for (int f = 0; f < PII_FIELDS && rc == SQLITE_OK; f++) {
		rc = bind_field(st, f + 1, blobs[f], blob_len[f]);
	}
	if (rc == SQLITE_OK) {
		rc = sqlite3_bind_int64(st, 6, row);
	}
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		return store_err(db, rc, "storing a contact's fields");
	}
	if (id != NULL) {
		*id = row;
	}
	return 0;
}

/* Fill one field of out from its column according to the view. */
static int read_field(sqlite3_stmt *st, int col, int64_t id, enum pii_field f, enum pii_view view,
		      struct pii_contact *out)
{
	char *dst = field_ptr(out, f);
	char plain[PII_ADDRESS_MAX];
	char aad[64];
	size_t n = 0;
	int ret;

	if (sqlite3_column_type(st, col) == SQLITE_NULL) {
		return 0;
	}
	if (out->hide_identity && view != PII_VIEW_HANDLER &&
	    (f == PII_NAME || f == PII_PHONE || f == PII_ID_NUMBER)) {
		/* Not even decrypted. */
		snprintf(dst, fields[f].size, "%s", PII_ANONYMOUS);
		out->anonymous |= PII_BIT(f);
		return 0;
	}
	ret = unseal(data_key, aad, field_aad(aad, sizeof(aad), id, f),
		     sqlite3_column_blob(st, col), (size_t)sqlite3_column_bytes(st, col), plain,
		     fields[f].size - 1, &n);
	if (ret == 0 && memchr(plain, '\0', n) != NULL) {
		ret = -EBADMSG;
	}
	if (ret == 0) {
		plain[n] = '\0';
		if (view == PII_VIEW_MASKED) {
			ret = pii_mask(f, plain, dst, fields[f].size) < 0 ? -EBADMSG : 0;
		} else {
			memcpy(dst, plain, n + 1);
		}
	}
	mbedtls_platform_zeroize(plain, sizeof(plain));
	if (ret == -EBADMSG) {
		dst[0] = '\0';
		out->unreadable |= PII_BIT(f);
		log_err(MOD,
			"contact %" PRId64 ": the %s field failed authentication (altered, or "
			"copied from another row or field); it is shown as unreadable. The "
			"rest of the record is intact.",
			id, fields[f].name);
	}
	return ret;
}

int pii_contact_get(sqlite3 *db, int64_t id, enum pii_view view, struct pii_contact *out)
{
	sqlite3_stmt *st = NULL;
	int rc, ret;

	if (db == NULL || out == NULL || (unsigned)view > PII_VIEW_HANDLER) {
		return -EINVAL;
	}
	memset(out, 0, sizeof(*out));
	if (!key_loaded) {
		return -ENOKEY;
	}
	rc = sqlite3_prepare_v2(db,
				"SELECT name, phone, id_number, address, contact, hide_identity, "
				"created_ms, closed_ms, city_acked_ms, erased_ms "
				"FROM citizen_contact WHERE id = ?1",
				-1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_bind_int64(st, 1, id);
	}
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
	}
	if (rc == SQLITE_DONE) {
		ret = -ENOENT;
		goto out_finalize;
	}
	if (rc != SQLITE_ROW) {
		ret = store_err(db, rc, "reading a contact");
		goto out_finalize;
	}
	out->hide_identity = sqlite3_column_int(st, 5) != 0;
	out->created_ms = sqlite3_column_int64(st, 6);
	out->closed_ms = sqlite3_column_int64(st, 7);
	out->city_acked_ms = sqlite3_column_int64(st, 8);
	out->erased_ms = sqlite3_column_int64(st, 9);
	ret = 0;
	for (int f = 0; f < PII_FIELDS; f++) {
		int r = read_field(st, f, id, f, view, out);

		if (r < 0 && (ret == 0 || r != -EBADMSG)) {
			ret = r;
		}
	}
out_finalize:
	sqlite3_finalize(st);
	return ret;
}

static int mark(sqlite3 *db, int64_t id, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int rc, ret;

	if (db == NULL) {
		return -EINVAL;
	}
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_bind_int64(st, 1, now_ms());
	}
	if (rc == SQLITE_OK) {
		rc = sqlite3_bind_int64(st, 2, id);
	}
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
	}
	if (rc == SQLITE_DONE) {
		ret = sqlite3_changes(db) > 0 ? 0 : -ENOENT;
	} else {
		ret = store_err(db, rc, "marking a contact");
	}
	sqlite3_finalize(st);
	return ret;
}

int pii_contact_mark_closed(sqlite3 *db, int64_t id)
{
	return mark(db, id,
		    "UPDATE citizen_contact SET closed_ms = coalesce(closed_ms, ?1) WHERE id = ?2");
}

int pii_contact_mark_acked(sqlite3 *db, int64_t id)
{
	return mark(db, id,
		    "UPDATE citizen_contact SET city_acked_ms = coalesce(city_acked_ms, ?1) "
		    "WHERE id = ?2");
}

static int secure_delete_get(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int v = -1;

	if (sqlite3_prepare_v2(db, "PRAGMA secure_delete", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		v = sqlite3_column_int(st, 0);
	}
	sqlite3_finalize(st);
	return v;
}

int pii_retention_purge(sqlite3 *db, int64_t now_ms_arg, int retention_days)
{
	char detail[96];
	struct audit_entry e = {
		.actor = "system",
		.role = "system",
		.action = "pii.retention_erase",
		.target = "citizen_contact",
		.outcome = "ok",
		.detail = detail,
	};
	sqlite3_stmt *st = NULL;
	int64_t cutoff;
	int secure_was, rc, ret, n = 0;

	if (db == NULL || retention_days < 1 || retention_days > 3650 ||
	    sqlite3_get_autocommit(db) == 0) {
		return -EINVAL;
	}
	cutoff = now_ms_arg - retention_days * DAY_MS;
	/* Freed cells and pages are overwritten with zeros, so the old
	 * ciphertext does not linger in the file (see docs/security-pii.md). */
	secure_was = secure_delete_get(db);
	ret = store_exec(db, "PRAGMA secure_delete = ON");
	if (ret < 0) {
		return ret;
	}
	ret = store_begin(db);
	if (ret < 0) {
		goto out_pragma;
	}
	rc = sqlite3_prepare_v2(db,
				"UPDATE citizen_contact SET name = NULL, phone = NULL, "
				"id_number = NULL, address = NULL, contact = NULL, erased_ms = ?1 "
				"WHERE erased_ms IS NULL AND closed_ms IS NOT NULL "
				"AND city_acked_ms IS NOT NULL AND city_acked_ms <= ?2",
				-1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_bind_int64(st, 1, now_ms_arg);
	}
	if (rc == SQLITE_OK) {
		rc = sqlite3_bind_int64(st, 2, cutoff);
	}
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		ret = store_err(db, rc, "erasing expired personal data");
		goto out_rollback;
	}
	n = sqlite3_changes(db);
	if (n > 0) {
		snprintf(detail, sizeof(detail), "{\"erased\":%d,\"retention_days\":%d}", n,
			 retention_days);
		ret = audit_append(db, &e);
		if (ret < 0) {
			log_err(MOD, "the erasure could not be audited (%s); nothing was erased",
				strerror(-ret));
			goto out_rollback;
		}
	}
	ret = store_commit(db);
	if (ret < 0) {
		goto out_pragma;
	}
	if (n > 0) {
		log_info(MOD, "erased the personal data of %d closed matters (retention %d days)",
			 n, retention_days);
		/* Fold the WAL (which still holds the old pages) back and empty it;
		 * a busy database is checkpointed later by the idle checkpoint. */
		store_checkpoint(db);
	}
	ret = n;
	goto out_pragma;

out_rollback:
	store_rollback(db);
out_pragma:
	if (secure_was == 0) {
		store_exec(db, "PRAGMA secure_delete = OFF");
	}
	return ret;
}

/* ---- contact tags ----------------------------------------------------- */

int pii_contact_tag(const char *phone, uint8_t out[PII_TAG_BYTES])
{
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
	char masked[PII_PHONE_MAX], digits[PII_PHONE_MAX];
	uint8_t tag_key[PII_TAG_BYTES];
	size_t nd = 0, start = 0;
	int ret;

	if (phone == NULL || out == NULL || phone[0] == '\0' ||
	    pii_mask_phone(phone, masked, sizeof(masked)) < 0) {
		return -EINVAL;
	}
	if (!key_loaded) {
		return -ENOKEY;
	}
	for (const char *c = phone; *c != '\0' && nd < sizeof(digits); c++) {
		if (is_digit(*c)) {
			digits[nd++] = *c;
		}
	}
	/* +86 and 0086 are China's country code: the same number without it. */
	if (phone[0] == '+' && nd > 2 && digits[0] == '8' && digits[1] == '6') {
		start = 2;
	} else if (nd > 4 && memcmp(digits, "0086", 4) == 0) {
		start = 4;
	}
	ret = md == NULL ? -1
			 : mbedtls_md_hmac(md, data_key, sizeof(data_key),
					   (const unsigned char *)TAG_LABEL, strlen(TAG_LABEL),
					   tag_key);
	if (ret == 0) {
		ret = mbedtls_md_hmac(md, tag_key, sizeof(tag_key),
				      (const unsigned char *)digits + start, nd - start, out);
	}
	mbedtls_platform_zeroize(tag_key, sizeof(tag_key));
	mbedtls_platform_zeroize(digits, sizeof(digits));
	mbedtls_platform_zeroize(masked, sizeof(masked));
	if (ret != 0) {
		log_err(MOD, "HMAC-SHA256 of a contact tag failed (mbedTLS -0x%04x)",
			(unsigned)-ret);
		return -EIO;
	}
	return 0;
}
