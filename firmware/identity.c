/*
 * Device identity: the appliance's own ECDSA P-256 key, the certificate
 * the city's CA issued for it, and the city's CA certificate(s), kept as
 * PEM files under DATA_DIR/keys/ (a 0700 directory; the key 0600).
 *
 * The one rule a reader needs: the key is made once and never replaced by
 * this code. A key file that cannot be read is reported and left where it
 * is, because a silent new key would be a new identity the city does not
 * know, and the old one might still be recoverable. Every file is written
 * through a temporary file, fsync, rename and an fsync of the directory,
 * so a power cut leaves either the old file or the new one. Dates are
 * checked against the identity clock (the device's hal_clock), not
 * mbedTLS's, whose time checks read the system clock directly.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <mbedtls/ecp.h>
#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/pem.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_csr.h>

#include "fw/audit.h"
#include "fw/config.h"
#include "fw/exitcodes.h"
#include "fw/identity.h"
#include "fw/fsutil.h"
#include "fw/log.h"
#include "fw/rng.h"
#include "fw/store.h"

#define MOD	      "identity"
#define DAY_MS	      (24LL * 3600 * 1000)
#define ADMIN_FAILED  1
#define PEM_BEGIN_CRT "-----BEGIN CERTIFICATE-----\n"
#define PEM_END_CRT   "-----END CERTIFICATE-----\n"

static struct hal_clock *id_clock;

void identity_set_clock(struct hal_clock *clock)
{
	id_clock = clock;
}

static int64_t now_ms(void)
{
	return hal_clock_wall_ms(id_clock ? id_clock : &hal_clock_system);
}

/* Cut a UTF-8 sequence left incomplete at the end of s (by a truncation). */
static void utf8_trim(char *s)
{
	size_t len = strlen(s), i = len, need;
	unsigned char c;

	while (i > 0 && len - i < 4 && ((unsigned char)s[i - 1] & 0xc0) == 0x80) {
		i--;
	}
	if (i == 0) {
		return;
	}
	c = (unsigned char)s[i - 1];
	need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
	if (len - (i - 1) < need) {
		s[i - 1] = '\0';
	}
}

static void set_msg(char *msg, size_t msglen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_msg(char *msg, size_t msglen, const char *fmt, ...)
{
	va_list ap;

	if (msg == NULL || msglen == 0) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, msglen, fmt, ap);
	va_end(ap);
	utf8_trim(msg);
}

static const char *mbed_err(int ret, char *buf, size_t len)
{
	mbedtls_strerror(ret, buf, len);
	return buf;
}

static int join(char *out, size_t len, const char *data_dir, const char *rel)
{
	int n = snprintf(out, len, "%s/%s", data_dir, rel);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* ---- files ---- */

/* DATA_DIR/keys, made 0700; an existing one with looser rights is tightened. */
static int ensure_keys_dir(const char *data_dir)
{
	char dir[PATH_MAX];
	struct stat sb;
	int ret = join(dir, sizeof(dir), data_dir, IDENTITY_KEYS_DIR);

	if (ret < 0) {
		return ret;
	}
	if (mkdir(dir, 0700) == 0) {
		return fs_fsync_dir_of(dir);
	}
	if (errno != EEXIST) {
		ret = -errno;
		log_err(MOD, "cannot create the key directory %s: %s", dir, strerror(errno));
		return ret;
	}
	if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		log_err(MOD, "%s is not a directory; move it away so the keys can be kept there",
			dir);
		return -ENOTDIR;
	}
	if ((sb.st_mode & 077) != 0) {
		log_warn(MOD, "the key directory %s was readable by others; made it 0700", dir);
		if (chmod(dir, 0700) != 0) {
			return -errno;
		}
	}
	return 0;
}

/*
 * Read a whole file of at most IDENTITY_FILE_MAX bytes into a new buffer
 * with a NUL after the last byte (PEM parsers want one).
 * @retval 0, -ENOENT, -EFBIG, -EIO, -EACCES, -ENOMEM
 */
static int read_file(const char *path, unsigned char **out, size_t *len)
{
	unsigned char *buf = NULL;
	size_t n = 0;
	FILE *f = fopen(path, "rbe");
	int ret = 0;

	*out = NULL;
	*len = 0;
	if (f == NULL) {
		return -errno;
	}
	buf = malloc(IDENTITY_FILE_MAX + 2);
	if (buf == NULL) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(buf, 1, IDENTITY_FILE_MAX + 1, f);
	if (ferror(f)) {
		ret = -EIO;
	} else if (n > IDENTITY_FILE_MAX) {
		ret = -EFBIG;
	}
	fclose(f);
	if (ret < 0) {
		mbedtls_platform_zeroize(buf, IDENTITY_FILE_MAX + 2);
		free(buf);
		return ret;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

static void free_secret(unsigned char *buf, size_t len)
{
	if (buf != NULL) {
		mbedtls_platform_zeroize(buf, len);
		free(buf);
	}
}

/* ---- the key ---- */

static bool is_p256(const mbedtls_pk_context *pk)
{
	mbedtls_pk_type_t t = mbedtls_pk_get_type(pk);

	if (t != MBEDTLS_PK_ECKEY && t != MBEDTLS_PK_ECKEY_DH && t != MBEDTLS_PK_ECDSA) {
		return false;
	}
	return mbedtls_pk_ec(*pk)->grp.id == MBEDTLS_ECP_DP_SECP256R1;
}

/*
 * Load the device key. msg says what is wrong and what to do.
 * @retval 0, -ENOENT no key file, -EBADMSG damaged or wrong type, -EACCES, -EIO
 */
static int load_key(const char *data_dir, mbedtls_pk_context *pk, char *msg, size_t msglen)
{
	char path[PATH_MAX];
	char why[128];
	unsigned char *buf = NULL;
	size_t len = 0;
	struct stat sb;
	int ret = join(path, sizeof(path), data_dir, IDENTITY_KEY_FILE);

	if (ret < 0) {
		return ret;
	}
	if (stat(path, &sb) != 0) {
		ret = -errno;
		if (ret == -ENOENT) {
			set_msg(msg, msglen,
				"this device has no key yet (%s): start the appliance once, or run "
				"`hotline-edge admin csr`, which makes it",
				path);
		} else {
			set_msg(msg, msglen, "the device key %s cannot be read: %s", path,
				strerror(errno));
		}
		return ret;
	}
	if ((sb.st_mode & 077) != 0 && S_ISREG(sb.st_mode)) {
		log_warn(MOD, "the device key %s was readable by others; made it 0600", path);
		chmod(path, 0600);
	}
	ret = read_file(path, &buf, &len);
	if (ret == -EFBIG || (ret == 0 && len == 0)) {
		ret = -EBADMSG;
		snprintf(why, sizeof(why), "%s", len == 0 ? "the file is empty" : "too large");
	} else if (ret < 0) {
		set_msg(msg, msglen, "the device key %s cannot be read: %s", path, strerror(-ret));
		return ret;
	} else {
		int mret = mbedtls_pk_parse_key(pk, buf, len + 1, NULL, 0);

		if (mret != 0) {
			ret = -EBADMSG;
			mbed_err(mret, why, sizeof(why));
		} else if (!is_p256(pk)) {
			ret = -EBADMSG;
			snprintf(why, sizeof(why), "it is not an ECDSA P-256 key");
		}
	}
	free_secret(buf, len + 1);
	if (ret == -EBADMSG) {
		mbedtls_pk_free(pk);
		mbedtls_pk_init(pk);
		set_msg(msg, msglen,
			"the device key %s is damaged (%s). It was left in place and no new key "
			"is made: restore the file from the device's backup; only if the city "
			"must issue a new identity, move the file aside by hand, restart, and "
			"send a new CSR",
			path, why);
	}
	return ret;
}

int identity_ensure_key(const char *data_dir)
{
	char path[PATH_MAX];
	char msg[IDENTITY_MSG_MAX];
	unsigned char *pem = NULL;
	mbedtls_pk_context pk;
	const size_t pem_len = 1024;
	int ret, mret;

	if (data_dir == NULL) {
		return -EINVAL;
	}
	ret = ensure_keys_dir(data_dir);
	if (ret < 0) {
		return ret;
	}
	mbedtls_pk_init(&pk);
	ret = load_key(data_dir, &pk, msg, sizeof(msg));
	if (ret != -ENOENT) {
		if (ret < 0) {
			log_err(MOD, "%s", msg);
		}
		goto out;
	}
	ret = join(path, sizeof(path), data_dir, IDENTITY_KEY_FILE);
	if (ret < 0) {
		goto out;
	}
	pem = calloc(1, pem_len);
	if (pem == NULL) {
		ret = -ENOMEM;
		goto out;
	}
	mret = mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
	if (mret == 0) {
		mret = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(pk), rng_mbedtls,
					   NULL);
	}
	if (mret == 0) {
		mret = mbedtls_pk_write_key_pem(&pk, pem, pem_len);
	}
	if (mret != 0) {
		log_err(MOD, "making the device key failed (%s)", mbed_err(mret, msg, sizeof(msg)));
		ret = -EIO;
		goto out;
	}
	ret = fs_write_atomic(path, pem, strlen((char *)pem), 0600, FS_NOREPLACE);
	if (ret == -EEXIST) {
		/* Another process made it a moment ago: use that one. */
		mbedtls_pk_free(&pk);
		mbedtls_pk_init(&pk);
		ret = load_key(data_dir, &pk, msg, sizeof(msg));
		goto out;
	}
	if (ret < 0) {
		log_err(MOD, "the device key could not be stored in %s: %s", path, strerror(-ret));
		goto out;
	}
	log_info(MOD, "made this device's key %s; next: `hotline-edge admin csr` for the city's CA",
		 path);
	ret = 1;
out:
	free_secret(pem, pem_len);
	mbedtls_pk_free(&pk);
	return ret;
}

/* ---- names ---- */

/* Strict UTF-8 (no overlong forms, surrogates or values past U+10FFFF). */
static bool utf8_count(const char *s, size_t len, size_t *chars)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n = 0;

	while (i < len) {
		unsigned c = p[i];
		unsigned cp, need;

		if (c < 0x80) {
			i++;
			n++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (i + need >= len) {
			return false;
		}
		for (unsigned k = 1; k <= need; k++) {
			if ((p[i + k] & 0xc0) != 0x80) {
				return false;
			}
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((need == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (need == 3 && (cp < 0x10000 || cp > 0x10ffff))) {
			return false;
		}
		i += need + 1;
		n++;
	}
	*chars = n;
	return true;
}

static int check_field(const char *what, const char *v, char *msg, size_t msglen)
{
	size_t len = strlen(v), chars = 0;

	if (!utf8_count(v, len, &chars)) {
		set_msg(msg, msglen, "the %s is not valid UTF-8 text", what);
		return -EINVAL;
	}
	if (chars == 0 || chars > IDENTITY_FIELD_MAX) {
		set_msg(msg, msglen, "the %s must be 1 to %d characters long (it has %zu)", what,
			IDENTITY_FIELD_MAX, chars);
		return -EINVAL;
	}
	if (v[0] == ' ' || v[len - 1] == ' ') {
		set_msg(msg, msglen, "the %s must not begin or end with a space", what);
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c < 0x20 || c == 0x7f) {
			set_msg(msg, msglen, "the %s contains a control character", what);
			return -EINVAL;
		}
		if (strchr("=+;<>\"#\\", c) != NULL) {
			set_msg(msg, msglen,
				"the %s contains '%c', which a certificate name cannot carry here; "
				"leave it out",
				what, c);
			return -EINVAL;
		}
	}
	return 0;
}

/* Append "KEY=value" with commas escaped. */
static int append_rdn(char *dn, size_t len, size_t *pos, const char *key, const char *v)
{
	size_t p = *pos;

	if (p > 0) {
		if (p + 1 >= len) {
			return -ENOBUFS;
		}
		dn[p++] = ',';
	}
	for (const char *k = key; *k; k++) {
		if (p + 1 >= len) {
			return -ENOBUFS;
		}
		dn[p++] = *k;
	}
	dn[p++] = '=';
	for (const char *c = v; *c; c++) {
		if (p + 2 >= len) {
			return -ENOBUFS;
		}
		if (*c == ',') {
			dn[p++] = '\\';
		}
		dn[p++] = *c;
	}
	dn[p] = '\0';
	*pos = p;
	return 0;
}

int identity_make_dn(const struct identity_name *n, char *dn, size_t len, char *msg, size_t msglen)
{
	const struct {
		const char *key, *what, *v;
	} f[] = {
		{ "CN", "common name (--cn)", n ? n->cn : NULL },
		{ "O", "organisation (--o)", n ? n->o : NULL },
		{ "OU", "unit (--ou)", n ? n->ou : NULL },
	};
	size_t pos = 0;
	int ret;

	if (n == NULL || dn == NULL || len == 0) {
		return -EINVAL;
	}
	dn[0] = '\0';
	if (n->cn == NULL || n->cn[0] == '\0') {
		set_msg(msg, msglen, "a common name (--cn) is required");
		return -EINVAL;
	}
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (f[i].v == NULL || f[i].v[0] == '\0') {
			continue;
		}
		ret = check_field(f[i].what, f[i].v, msg, msglen);
		if (ret == 0) {
			ret = append_rdn(dn, len, &pos, f[i].key, f[i].v);
			if (ret < 0) {
				set_msg(msg, msglen, "the name is too long");
			}
		}
		if (ret < 0) {
			dn[0] = '\0';
			return ret;
		}
	}
	return 0;
}

/*
 * A DN as text, "CN=..., O=...". mbedtls_x509_dn_gets() turns the bytes of
 * Chinese UTF-8 into '?', so the values are copied here when they are valid
 * UTF-8 and shown as '?' only when they are not.
 */
static void dn_text(const mbedtls_x509_name *name, char *out, size_t len)
{
	size_t p = 0;
	bool merged = false;

	out[0] = '\0';
	for (const mbedtls_x509_name *n = name; n != NULL && n->oid.p != NULL; n = n->next) {
		const char *key = NULL;
		size_t chars;
		int w;

		if (mbedtls_oid_get_attr_short_name(&n->oid, &key) != 0) {
			key = "?";
		}
		w = snprintf(out + p, len - p, "%s%s=", p == 0 ? "" : merged ? "+" : ", ", key);
		if (w < 0 || (size_t)w >= len - p) {
			break;
		}
		p += (size_t)w;
		if (utf8_count((const char *)n->val.p, n->val.len, &chars)) {
			for (size_t i = 0; i < n->val.len && p + 1 < len; i++) {
				unsigned char c = n->val.p[i];

				out[p++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
			}
		} else {
			for (size_t i = 0; i < n->val.len && p + 1 < len; i++) {
				unsigned char c = n->val.p[i];

				out[p++] = c < 0x20 || c >= 0x7f ? '?' : (char)c;
			}
		}
		out[p] = '\0';
		merged = n->next_merged != 0;
	}
	utf8_trim(out);
}

/* ---- certificates ---- */

static int64_t x509_time_ms(const mbedtls_x509_time *t)
{
	struct tm tm = {
		.tm_year = t->year - 1900,
		.tm_mon = t->mon - 1,
		.tm_mday = t->day,
		.tm_hour = t->hour,
		.tm_min = t->min,
		.tm_sec = t->sec,
	};

	return (int64_t)timegm(&tm) * 1000;
}

static const char *utc_text(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, len, "%Y-%m-%d %H:%M UTC", &tm) == 0) {
		snprintf(buf, len, "?");
	}
	return buf;
}

static void cert_info(const mbedtls_x509_crt *c, struct identity_cert_info *info)
{
	memset(info, 0, sizeof(*info));
	dn_text(&c->subject, info->subject, sizeof(info->subject));
	dn_text(&c->issuer, info->issuer, sizeof(info->issuer));
	if (mbedtls_x509_serial_gets(info->serial, sizeof(info->serial), &c->serial) < 0) {
		snprintf(info->serial, sizeof(info->serial), "?");
	}
	info->not_before_ms = x509_time_ms(&c->valid_from);
	info->not_after_ms = x509_time_ms(&c->valid_to);
}

/*
 * Parse one DER certificate or PEM text with one or more. A PEM file with
 * any certificate that does not parse is refused as a whole.
 */
static int parse_certs(mbedtls_x509_crt *chain, const unsigned char *buf, size_t len, char *msg,
		       size_t msglen)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----";
	char why[128];
	unsigned char *copy;
	int mret;

	if (buf == NULL || len == 0) {
		set_msg(msg, msglen, "the file is empty: it holds no certificate");
		return -EBADMSG;
	}
	if (len > IDENTITY_FILE_MAX) {
		set_msg(msg, msglen, "the file is larger than %d KiB: it is not a certificate",
			IDENTITY_FILE_MAX / 1024);
		return -EBADMSG;
	}
	copy = malloc(len + 1);
	if (copy == NULL) {
		return -ENOMEM;
	}
	memcpy(copy, buf, len);
	copy[len] = '\0';
	if (memmem(copy, len, begin, sizeof(begin) - 1) != NULL) {
		mret = mbedtls_x509_crt_parse(chain, copy, len + 1);
	} else {
		mret = mbedtls_x509_crt_parse_der(chain, copy, len);
	}
	free(copy);
	if (mret < 0) {
		set_msg(msg, msglen,
			"the file is not a certificate in PEM or DER form (%s); ask the city for "
			"the certificate file again",
			mbed_err(mret, why, sizeof(why)));
		return -EBADMSG;
	}
	if (mret > 0) {
		set_msg(msg, msglen,
			"%d of the certificates in the file could not be read; ask the city for "
			"the file again",
			mret);
		return -EBADMSG;
	}
	return 0;
}

static int load_certs(const char *data_dir, const char *rel, mbedtls_x509_crt *chain, char *msg,
		      size_t msglen)
{
	char path[PATH_MAX];
	unsigned char *buf;
	size_t len;
	int ret = join(path, sizeof(path), data_dir, rel);

	if (ret == 0) {
		ret = read_file(path, &buf, &len);
	}
	if (ret == -ENOENT) {
		return ret;
	}
	if (ret < 0) {
		set_msg(msg, msglen, "%s cannot be read: %s", path, strerror(-ret));
		return ret == -EFBIG ? -EBADMSG : ret;
	}
	ret = parse_certs(chain, buf, len, msg, msglen);
	free(buf);
	return ret;
}

static bool same_key(const mbedtls_pk_context *a, const mbedtls_pk_context *b)
{
	const mbedtls_ecp_keypair *ka, *kb;

	if (!is_p256(a) || !is_p256(b)) {
		return false;
	}
	ka = mbedtls_pk_ec(*a);
	kb = mbedtls_pk_ec(*b);
	return mbedtls_ecp_point_cmp(&ka->Q, &kb->Q) == 0;
}

/* Does leaf (with its intermediates) chain to ca? Dates are not judged here. */
static bool chains_to(mbedtls_x509_crt *leaf, mbedtls_x509_crt *ca)
{
	const uint32_t dates = MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE;
	uint32_t flags = 0;
	int mret = mbedtls_x509_crt_verify(leaf, ca, NULL, NULL, &flags, NULL, NULL);

	if (mret != 0 && mret != MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
		return false;
	}
	return (flags & ~dates) == 0;
}

/* PEM text of every certificate in chain, NUL-terminated; free() it. */
static int chain_pem(const mbedtls_x509_crt *chain, char **out, size_t *outlen)
{
	size_t cap = 0, pos = 0;
	char *buf;

	for (const mbedtls_x509_crt *c = chain; c != NULL && c->raw.p != NULL; c = c->next) {
		cap += c->raw.len * 2 + 128;
	}
	buf = malloc(cap + 1);
	if (buf == NULL) {
		return -ENOMEM;
	}
	for (const mbedtls_x509_crt *c = chain; c != NULL && c->raw.p != NULL; c = c->next) {
		size_t olen = 0;
		int mret =
			mbedtls_pem_write_buffer(PEM_BEGIN_CRT, PEM_END_CRT, c->raw.p, c->raw.len,
						 (unsigned char *)buf + pos, cap - pos, &olen);

		if (mret != 0) {
			free(buf);
			return -ENOBUFS;
		}
		pos += olen - 1; /* olen counts the NUL */
	}
	buf[pos] = '\0';
	*out = buf;
	*outlen = pos;
	return 0;
}

/* Checks of a leaf against the device key and the clock. */
static int check_leaf(const mbedtls_x509_crt *leaf, const mbedtls_pk_context *key, char *msg,
		      size_t msglen)
{
	struct identity_cert_info info;
	char a[40], b[40], c[40];
	int64_t now = now_ms();

	cert_info(leaf, &info);
	if (leaf->ca_istrue) {
		set_msg(msg, msglen,
			"this is a CA certificate (%s), not the device's own certificate; install "
			"it with `install-ca`, and the device certificate with `install-cert`",
			info.subject);
		return -EPERM;
	}
	if (!same_key(&leaf->pk, key)) {
		set_msg(msg, msglen,
			"the certificate (%s) was not issued for this device's key: it belongs to "
			"another device or another request. Send this device's CSR "
			"(`hotline-edge admin csr`) to the city and install what they return",
			info.subject);
		return -EKEYREJECTED;
	}
	if (now < info.not_before_ms) {
		set_msg(msg, msglen,
			"the certificate is not valid yet: valid from %s to %s, and the device "
			"clock says %s. Check the device clock, or install it once it is valid",
			utc_text(info.not_before_ms, a, sizeof(a)),
			utc_text(info.not_after_ms, b, sizeof(b)), utc_text(now, c, sizeof(c)));
		return -ETIME;
	}
	if (now > info.not_after_ms) {
		set_msg(msg, msglen,
			"the certificate has expired: it was valid from %s to %s. Send a new CSR "
			"(`hotline-edge admin csr`) to the city for a new one",
			utc_text(info.not_before_ms, a, sizeof(a)),
			utc_text(info.not_after_ms, b, sizeof(b)));
		return -EKEYEXPIRED;
	}
	if (mbedtls_x509_crt_check_key_usage(leaf, MBEDTLS_X509_KU_DIGITAL_SIGNATURE) != 0) {
		set_msg(msg, msglen,
			"the certificate's key usage does not allow digital signatures, which "
			"the device needs to log in to the city; ask the city for a client "
			"certificate");
		return -EPERM;
	}
	if (mbedtls_x509_crt_check_extended_key_usage(leaf, MBEDTLS_OID_CLIENT_AUTH,
						      MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH)) !=
	    0) {
		set_msg(msg, msglen,
			"the certificate's extended key usage does not include TLS client "
			"authentication (clientAuth), so the city would not accept it from the "
			"device; ask the city for a client certificate");
		return -EPERM;
	}
	return 0;
}

int identity_install_cert(const char *data_dir, const unsigned char *buf, size_t len,
			  struct identity_cert_info *info, bool *chain_warning, char *msg,
			  size_t msglen)
{
	char path[PATH_MAX], prev[PATH_MAX], prevtmp[PATH_MAX + 8];
	mbedtls_pk_context key;
	mbedtls_x509_crt chain, ca;
	char *pem = NULL;
	size_t pem_len = 0;
	int ret;

	if (chain_warning != NULL) {
		*chain_warning = false;
	}
	if (data_dir == NULL) {
		return -EINVAL;
	}
	set_msg(msg, msglen, "%s", "");
	mbedtls_pk_init(&key);
	mbedtls_x509_crt_init(&chain);
	mbedtls_x509_crt_init(&ca);
	ret = parse_certs(&chain, buf, len, msg, msglen);
	if (ret < 0) {
		goto out;
	}
	ret = load_key(data_dir, &key, msg, msglen);
	if (ret < 0) {
		ret = -ENOKEY;
		goto out;
	}
	ret = check_leaf(&chain, &key, msg, msglen);
	if (ret < 0) {
		goto out;
	}
	ret = chain_pem(&chain, &pem, &pem_len);
	if (ret == 0) {
		ret = join(path, sizeof(path), data_dir, IDENTITY_CERT_FILE);
	}
	if (ret == 0) {
		ret = join(prev, sizeof(prev), data_dir, IDENTITY_PREV_FILE);
	}
	if (ret < 0) {
		goto out;
	}
	snprintf(prevtmp, sizeof(prevtmp), "%s.tmp", prev);
	unlink(prevtmp);
	/* Keep the current one as .prev through a hard link, so device.crt
	 * itself is replaced in one rename and never missing. */
	if (link(path, prevtmp) == 0) {
		if (rename(prevtmp, prev) != 0) {
			unlink(prevtmp);
		}
	} else if (errno != ENOENT) {
		log_warn(MOD, "could not keep the previous certificate as %s: %s", prev,
			 strerror(errno));
	}
	ret = fs_write_atomic(path, pem, pem_len, 0644, 0);
	if (ret < 0) {
		set_msg(msg, msglen, "the certificate could not be stored in %s: %s", path,
			strerror(-ret));
		goto out;
	}
	if (info != NULL) {
		cert_info(&chain, info);
	}
	if (load_certs(data_dir, IDENTITY_CA_FILE, &ca, NULL, 0) == 0 && !chains_to(&chain, &ca)) {
		if (chain_warning != NULL) {
			*chain_warning = true;
		}
		set_msg(msg, msglen,
			"installed, but the certificate does not chain to the installed city CA "
			"certificate (%s): the city will refuse it unless the CA file is "
			"updated; check with the city which CA issued it",
			IDENTITY_CA_FILE);
	}
	log_info(MOD, "installed the device certificate %s", path);
out:
	free(pem);
	mbedtls_x509_crt_free(&ca);
	mbedtls_x509_crt_free(&chain);
	mbedtls_pk_free(&key);
	return ret;
}

int identity_install_ca(const char *data_dir, const unsigned char *buf, size_t len,
			struct identity_cert_info *info, int *count, bool *chain_warning, char *msg,
			size_t msglen)
{
	char path[PATH_MAX];
	mbedtls_x509_crt cas, leaf;
	char *pem = NULL;
	size_t pem_len = 0;
	int n = 0, ret;

	if (chain_warning != NULL) {
		*chain_warning = false;
	}
	if (count != NULL) {
		*count = 0;
	}
	if (data_dir == NULL) {
		return -EINVAL;
	}
	set_msg(msg, msglen, "%s", "");
	mbedtls_x509_crt_init(&cas);
	mbedtls_x509_crt_init(&leaf);
	ret = parse_certs(&cas, buf, len, msg, msglen);
	if (ret < 0) {
		goto out;
	}
	for (const mbedtls_x509_crt *c = &cas; c != NULL && c->raw.p != NULL; c = c->next) {
		n++;
		if (!c->ca_istrue) {
			struct identity_cert_info ci;

			cert_info(c, &ci);
			set_msg(msg, msglen,
				"certificate %d in the file (%s) is not a CA certificate "
				"(basicConstraints CA:TRUE is missing); the city's CA file is "
				"needed here. A device certificate is installed with "
				"`install-cert`",
				n, ci.subject);
			ret = -EPERM;
			goto out;
		}
	}
	ret = ensure_keys_dir(data_dir);
	if (ret == 0) {
		ret = chain_pem(&cas, &pem, &pem_len);
	}
	if (ret == 0) {
		ret = join(path, sizeof(path), data_dir, IDENTITY_CA_FILE);
	}
	if (ret == 0) {
		ret = fs_write_atomic(path, pem, pem_len, 0644, 0);
		if (ret < 0) {
			set_msg(msg, msglen, "the CA certificate could not be stored in %s: %s",
				path, strerror(-ret));
		}
	}
	if (ret < 0) {
		goto out;
	}
	if (info != NULL) {
		cert_info(&cas, info);
	}
	if (count != NULL) {
		*count = n;
	}
	if (load_certs(data_dir, IDENTITY_CERT_FILE, &leaf, NULL, 0) == 0 &&
	    !chains_to(&leaf, &cas)) {
		if (chain_warning != NULL) {
			*chain_warning = true;
		}
		set_msg(msg, msglen,
			"installed, but the installed device certificate does not chain to this "
			"CA: the city will refuse the device until both come from the same CA; "
			"check with the city");
	}
	log_info(MOD, "installed %d city CA certificate(s) in %s", n, path);
out:
	free(pem);
	mbedtls_x509_crt_free(&leaf);
	mbedtls_x509_crt_free(&cas);
	return ret;
}

/* ---- status ---- */

const char *identity_state_name(enum identity_state s)
{
	switch (s) {
	case IDENTITY_NO_KEY:
		return "no_key";
	case IDENTITY_KEY_DAMAGED:
		return "key_damaged";
	case IDENTITY_NO_CERT:
		return "no_cert";
	case IDENTITY_CERT_DAMAGED:
		return "cert_damaged";
	case IDENTITY_MISMATCH:
		return "mismatch";
	case IDENTITY_NOT_YET_VALID:
		return "not_yet_valid";
	case IDENTITY_EXPIRED:
		return "expired";
	case IDENTITY_EXPIRING:
		return "expiring";
	case IDENTITY_VALID:
		return "valid";
	}
	return "unknown";
}

static int64_t floor_days(int64_t ms)
{
	int64_t d = ms / DAY_MS;

	return ms < 0 && ms % DAY_MS != 0 ? d - 1 : d;
}

void identity_status(const char *data_dir, struct identity_status *st)
{
	mbedtls_pk_context key;
	mbedtls_x509_crt crt, ca;
	char cmsg[IDENTITY_MSG_MAX];
	char a[40];
	int64_t now = now_ms();
	int kret, cret;

	memset(st, 0, sizeof(*st));
	mbedtls_pk_init(&key);
	mbedtls_x509_crt_init(&crt);
	mbedtls_x509_crt_init(&ca);
	if (data_dir == NULL) {
		st->state = IDENTITY_NO_KEY;
		goto out;
	}
	if (load_certs(data_dir, IDENTITY_CA_FILE, &ca, NULL, 0) == 0) {
		for (const mbedtls_x509_crt *c = &ca; c != NULL && c->raw.p != NULL; c = c->next) {
			st->ca_count++;
		}
		dn_text(&ca.subject, st->ca_subject, sizeof(st->ca_subject));
	}
	kret = load_key(data_dir, &key, st->problem, sizeof(st->problem));
	st->key_present = kret == 0;
	cret = load_certs(data_dir, IDENTITY_CERT_FILE, &crt, cmsg, sizeof(cmsg));
	if (cret == 0) {
		st->cert_present = true;
		cert_info(&crt, &st->cert);
		st->days_left = floor_days(st->cert.not_after_ms - now);
	}
	if (kret == -ENOENT) {
		st->state = IDENTITY_NO_KEY;
	} else if (kret < 0) {
		st->state = IDENTITY_KEY_DAMAGED;
	} else if (cret == -ENOENT) {
		st->state = IDENTITY_NO_CERT;
		set_msg(st->problem, sizeof(st->problem),
			"no device certificate yet: run `hotline-edge admin csr`, send the request "
			"to the city, then `hotline-edge admin install-cert FILE`");
	} else if (cret < 0) {
		st->state = IDENTITY_CERT_DAMAGED;
		set_msg(st->problem, sizeof(st->problem),
			"the device certificate is damaged (%s); install it again with "
			"`hotline-edge admin install-cert FILE`",
			cmsg);
	} else if (!same_key(&crt.pk, &key)) {
		st->state = IDENTITY_MISMATCH;
		set_msg(st->problem, sizeof(st->problem),
			"the installed certificate is not for this device's key; send a new CSR "
			"(`hotline-edge admin csr`) to the city and install what they return");
	} else if (now < st->cert.not_before_ms) {
		st->state = IDENTITY_NOT_YET_VALID;
		set_msg(st->problem, sizeof(st->problem),
			"the certificate is valid only from %s: check the device clock",
			utc_text(st->cert.not_before_ms, a, sizeof(a)));
	} else if (now > st->cert.not_after_ms) {
		st->state = IDENTITY_EXPIRED;
		set_msg(st->problem, sizeof(st->problem),
			"the certificate expired on %s: the city will refuse the device; send a "
			"new CSR (`hotline-edge admin csr`) to the city now",
			utc_text(st->cert.not_after_ms, a, sizeof(a)));
	} else if (st->cert.not_after_ms - now <= IDENTITY_WARN_DAYS * DAY_MS) {
		st->state = IDENTITY_EXPIRING;
		set_msg(st->problem, sizeof(st->problem),
			"the certificate expires on %s (%lld days left): send a new CSR "
			"(`hotline-edge admin csr`) to the city and install the new certificate "
			"before then",
			utc_text(st->cert.not_after_ms, a, sizeof(a)), (long long)st->days_left);
	} else {
		st->state = IDENTITY_VALID;
	}
out:
	mbedtls_x509_crt_free(&ca);
	mbedtls_x509_crt_free(&crt);
	mbedtls_pk_free(&key);
}

void identity_health_json(const char *data_dir, cJSON *obj)
{
	struct identity_status st;
	char iso[32];
	time_t t;
	struct tm tm;

	if (obj == NULL) {
		return;
	}
	identity_status(data_dir, &st);
	cJSON_AddStringToObject(obj, "state", identity_state_name(st.state));
	if (st.cert_present) {
		t = (time_t)(st.cert.not_after_ms / 1000);
		if (gmtime_r(&t, &tm) == NULL ||
		    strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
			iso[0] = '\0';
		}
		cJSON_AddStringToObject(obj, "subject", st.cert.subject);
		cJSON_AddStringToObject(obj, "not_after", iso);
		cJSON_AddNumberToObject(obj, "not_after_ms", (double)st.cert.not_after_ms);
		cJSON_AddNumberToObject(obj, "days_left", (double)st.days_left);
	}
	cJSON_AddBoolToObject(obj, "ca_installed", st.ca_count > 0);
}

enum identity_state identity_log_status(const char *data_dir)
{
	struct identity_status st;
	char a[40];

	identity_status(data_dir, &st);
	switch (st.state) {
	case IDENTITY_VALID:
		log_info(MOD, "device certificate %s valid until %s (%lld days)", st.cert.subject,
			 utc_text(st.cert.not_after_ms, a, sizeof(a)), (long long)st.days_left);
		break;
	case IDENTITY_NO_CERT:
		log_info(MOD, "%s", st.problem);
		break;
	default:
		log_warn(MOD, "device identity %s: %s", identity_state_name(st.state), st.problem);
		break;
	}
	return st.state;
}

/* ---- for the TLS client ---- */

int identity_tls_load(const char *data_dir, struct identity_tls *t)
{
	char msg[IDENTITY_MSG_MAX];
	int ret;

	mbedtls_pk_init(&t->key);
	mbedtls_x509_crt_init(&t->cert);
	mbedtls_x509_crt_init(&t->ca);
	if (data_dir == NULL) {
		return -EINVAL;
	}
	ret = load_key(data_dir, &t->key, msg, sizeof(msg));
	if (ret < 0) {
		log_err(MOD, "%s", msg);
		return -ENOKEY;
	}
	ret = load_certs(data_dir, IDENTITY_CERT_FILE, &t->cert, msg, sizeof(msg));
	if (ret == 0) {
		ret = load_certs(data_dir, IDENTITY_CA_FILE, &t->ca, msg, sizeof(msg));
	}
	if (ret == -ENOENT) {
		log_err(MOD, "the device certificate or the city CA is not installed; see "
			     "`hotline-edge admin identity`");
		return ret;
	}
	if (ret < 0) {
		log_err(MOD, "%s", msg);
		return ret;
	}
	if (!same_key(&t->cert.pk, &t->key)) {
		log_err(MOD, "the installed certificate is not for this device's key");
		return -EKEYREJECTED;
	}
	return 0;
}

void identity_tls_free(struct identity_tls *t)
{
	mbedtls_x509_crt_free(&t->ca);
	mbedtls_x509_crt_free(&t->cert);
	mbedtls_pk_free(&t->key);
}

/* ---- admin commands ---- */

/* "--name VALUE" or "--name=VALUE" at argv[*i]; advances *i. */
static bool opt_value(int argc, char **argv, int *i, const char *name, const char **val)
{
	size_t n = strlen(name);

	if (strcmp(argv[*i], name) == 0) {
		if (*i + 1 >= argc) {
			return false;
		}
		*val = argv[++*i];
		return true;
	}
	if (strncmp(argv[*i], name, n) == 0 && argv[*i][n] == '=') {
		*val = argv[*i] + n + 1;
		return true;
	}
	return false;
}

static void print_cert(FILE *out, const struct identity_cert_info *ci)
{
	char a[40], b[40];

	fprintf(out,
		"  subject:    %s\n  issuer:     %s\n  serial:     %s\n  not before: %s\n"
		"  not after:  %s\n",
		ci->subject, ci->issuer, ci->serial, utc_text(ci->not_before_ms, a, sizeof(a)),
		utc_text(ci->not_after_ms, b, sizeof(b)));
}

int identity_cmd_csr(struct admin_ctx *ctx, int argc, char **argv)
{
	struct identity_name name = { 0 };
	char cn[STORE_META_VALUE_MAX] = "";
	char dn[IDENTITY_DN_MAX], msg[IDENTITY_MSG_MAX];
	char conf[PATH_MAX], cerr[CONFIG_ERR_MAX];
	const char *out_file = NULL;
	char *pem = NULL;
	struct fw_config *cfg = NULL;
	struct stat sb;
	int ret, code = ADMIN_FAILED;

	identity_set_clock(ctx->clock);
	for (int i = 1; i < argc; i++) {
		if (!opt_value(argc, argv, &i, "--cn", &name.cn) &&
		    !opt_value(argc, argv, &i, "--o", &name.o) &&
		    !opt_value(argc, argv, &i, "--ou", &name.ou) &&
		    !opt_value(argc, argv, &i, "--out", &out_file)) {
			fprintf(ctx->err,
				"usage: hotline-edge admin csr [--cn CN] [--o ORG] [--ou UNIT] "
				"[--out FILE]\n");
			return EXIT_USAGE;
		}
	}
	if (name.cn == NULL) {
		if (ctx->db == NULL || store_meta_get(ctx->db, "device_id", cn, sizeof(cn)) <= 0) {
			fprintf(ctx->err, "this device has no id in its database: give the common "
					  "name the city expects with --cn\n");
			return EXIT_USAGE;
		}
		name.cn = cn;
	}
	if (name.o == NULL) {
		cfg = malloc(sizeof(*cfg));
		if (cfg == NULL) {
			return ADMIN_FAILED;
		}
		config_defaults(cfg);
		if (join(conf, sizeof(conf), ctx->data_dir, "hotline-edge.conf") == 0 &&
		    stat(conf, &sb) == 0 && config_load(cfg, conf, cerr) < 0) {
			fprintf(ctx->err, "the configuration could not be read (%s); give --o\n",
				cerr);
			goto out;
		}
		name.o = cfg->office_name;
	}
	if (identity_make_dn(&name, dn, sizeof(dn), msg, sizeof(msg)) < 0) {
		fprintf(ctx->err, "%s\n", msg);
		code = EXIT_USAGE;
		goto out;
	}
	ret = identity_ensure_key(ctx->data_dir);
	if (ret < 0) {
		fprintf(ctx->err, "the device key is not usable: see the message above\n");
		goto out;
	}
	pem = malloc(IDENTITY_CSR_MAX);
	if (pem == NULL) {
		goto out;
	}
	ret = identity_csr_pem(ctx->data_dir, dn, pem, IDENTITY_CSR_MAX, msg, sizeof(msg));
	if (ret < 0) {
		fprintf(ctx->err, "no CSR was made: %s\n", msg);
		goto out;
	}
	if (out_file != NULL) {
		ret = fs_write_atomic(out_file, pem, strlen(pem), 0644, 0);
		if (ret < 0) {
			fprintf(ctx->err, "%s could not be written: %s\n", out_file,
				strerror(-ret));
			goto out;
		}
		fprintf(ctx->err, "certificate request for %s written to %s\n", dn, out_file);
	} else {
		fputs(pem, ctx->out);
		fprintf(ctx->err, "certificate request for %s\n", dn);
	}
	fprintf(ctx->err, "send it to the city's CA; install what they return with "
			  "`hotline-edge admin install-cert FILE`\n");
	code = EXIT_OK;
out:
	free(pem);
	free(cfg);
	return code;
}

int identity_csr_pem(const char *data_dir, const char *dn, char *pem, size_t len, char *msg,
		     size_t msglen)
{
	mbedtls_x509write_csr csr;
	mbedtls_pk_context key;
	char why[128];
	int ret, mret;

	if (data_dir == NULL || dn == NULL || pem == NULL || len == 0) {
		return -EINVAL;
	}
	mbedtls_pk_init(&key);
	mbedtls_x509write_csr_init(&csr);
	ret = load_key(data_dir, &key, msg, msglen);
	if (ret < 0) {
		ret = -ENOKEY;
		goto out;
	}
	mbedtls_x509write_csr_set_md_alg(&csr, MBEDTLS_MD_SHA256);
	mbedtls_x509write_csr_set_key(&csr, &key);
	mret = mbedtls_x509write_csr_set_subject_name(&csr, dn);
	if (mret != 0) {
		set_msg(msg, msglen, "the subject name is not valid (%s)",
			mbed_err(mret, why, sizeof(why)));
		ret = -EINVAL;
		goto out;
	}
	mret = mbedtls_x509write_csr_set_key_usage(&csr, MBEDTLS_X509_KU_DIGITAL_SIGNATURE);
	if (mret == 0) {
		mret = mbedtls_x509write_csr_pem(&csr, (unsigned char *)pem, len, rng_mbedtls,
						 NULL);
	}
	if (mret != 0) {
		set_msg(msg, msglen, "signing the request failed (%s)",
			mbed_err(mret, why, sizeof(why)));
		ret = mret == MBEDTLS_ERR_ASN1_BUF_TOO_SMALL ? -ENOBUFS : -EIO;
		goto out;
	}
	ret = 0;
out:
	mbedtls_x509write_csr_free(&csr);
	mbedtls_pk_free(&key);
	return ret;
}

/* Audit an install; returns 0 or the audit error. */
static int audit_install(struct admin_ctx *ctx, const char *action, const char *target,
			 const char *outcome, cJSON *detail)
{
	struct audit_entry e = {
		.actor = "technician-cli",
		.role = "technician",
		.action = action,
		.target = target,
		.outcome = outcome,
	};
	char *text = detail ? cJSON_PrintUnformatted(detail) : NULL;
	int ret;

	e.detail = text;
	ret = audit_append(ctx->db, &e);
	cJSON_free(text);
	if (ret < 0) {
		fprintf(ctx->err,
			"the audit log could not record this (%s): run the command "
			"again so it is recorded\n",
			strerror(-ret));
	}
	return ret;
}

static cJSON *info_json(const struct identity_cert_info *ci)
{
	cJSON *d = cJSON_CreateObject();
	char a[40];

	cJSON_AddStringToObject(d, "subject", ci->subject);
	cJSON_AddStringToObject(d, "issuer", ci->issuer);
	cJSON_AddStringToObject(d, "serial", ci->serial);
	cJSON_AddStringToObject(d, "not_after", utc_text(ci->not_after_ms, a, sizeof(a)));
	return d;
}

/* Shared by install-cert and install-ca. */
static int cmd_install(struct admin_ctx *ctx, int argc, char **argv, bool ca)
{
	const char *action = ca ? "identity.install_ca" : "identity.install_cert";
	const char *target = ca ? "city-ca.crt" : "device.crt";
	struct identity_cert_info ci;
	char msg[IDENTITY_MSG_MAX];
	unsigned char *buf = NULL;
	size_t len = 0;
	bool warn = false;
	cJSON *detail;
	int count = 1, ret, code = ADMIN_FAILED;

	identity_set_clock(ctx->clock);
	if (argc != 2) {
		fprintf(ctx->err, "usage: hotline-edge admin %s FILE\n", argv[0]);
		return EXIT_USAGE;
	}
	ret = read_file(argv[1], &buf, &len);
	if (ret < 0) {
		fprintf(ctx->err, "%s cannot be read: %s\n", argv[1],
			ret == -EFBIG ? "it is too large to be a certificate" : strerror(-ret));
		return ADMIN_FAILED;
	}
	if (ca) {
		ret = identity_install_ca(ctx->data_dir, buf, len, &ci, &count, &warn, msg,
					  sizeof(msg));
	} else {
		ret = identity_install_cert(ctx->data_dir, buf, len, &ci, &warn, msg, sizeof(msg));
	}
	free(buf);
	if (ret < 0) {
		fprintf(ctx->err, "not installed: %s\n", msg[0] ? msg : strerror(-ret));
		detail = cJSON_CreateObject();
		cJSON_AddStringToObject(detail, "reason", msg);
		audit_install(ctx, action, target, "refused", detail);
		cJSON_Delete(detail);
		return ADMIN_FAILED;
	}
	fprintf(ctx->out, "installed %s%s:\n",
		ca ? "the city CA certificate" : "the device certificate",
		count > 1 ? "s (the first shown)" : "");
	print_cert(ctx->out, &ci);
	if (warn) {
		fprintf(ctx->err, "warning: %s\n", msg);
	}
	detail = info_json(&ci);
	cJSON_AddNumberToObject(detail, "count", count);
	cJSON_AddBoolToObject(detail, "chains", !warn);
	if (audit_install(ctx, action, target, "ok", detail) == 0) {
		code = EXIT_OK;
	}
	cJSON_Delete(detail);
	return code;
}

int identity_cmd_install_cert(struct admin_ctx *ctx, int argc, char **argv)
{
	return cmd_install(ctx, argc, argv, false);
}

int identity_cmd_install_ca(struct admin_ctx *ctx, int argc, char **argv)
{
	return cmd_install(ctx, argc, argv, true);
}

int identity_cmd_status(struct admin_ctx *ctx, int argc, char **argv)
{
	struct identity_status st;

	identity_set_clock(ctx->clock);
	if (argc != 1) {
		fprintf(ctx->err, "usage: hotline-edge admin identity\n");
		return EXIT_USAGE;
	}
	identity_status(ctx->data_dir, &st);
	fprintf(ctx->out, "state:        %s\n", identity_state_name(st.state));
	fprintf(ctx->out, "device key:   %s\n", st.key_present ? "present" : "missing or damaged");
	if (st.cert_present) {
		fprintf(ctx->out, "certificate:\n");
		print_cert(ctx->out, &st.cert);
		fprintf(ctx->out, "  days left:  %lld\n", (long long)st.days_left);
	} else {
		fprintf(ctx->out, "certificate:  none\n");
	}
	if (st.ca_count > 0) {
		fprintf(ctx->out, "city CA:      %s (%d certificate%s)\n", st.ca_subject,
			st.ca_count, st.ca_count > 1 ? "s" : "");
	} else {
		fprintf(ctx->out, "city CA:      none\n");
	}
	if (st.problem[0] != '\0') {
		fprintf(ctx->out, "to do:        %s\n", st.problem);
	}
	return EXIT_OK;
}
