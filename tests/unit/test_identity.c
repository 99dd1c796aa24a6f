/*
 * Device identity: the key made once (0600 in a 0700 directory) and never
 * replaced, a damaged key kept and reported, the CSR's subject, key and
 * signature, every certificate check with its own refusal, the CA checks,
 * the status states against a fake clock, the admin commands and their
 * audit entries, and garbage input. The certificates are made here with
 * mbedTLS (a test CA and leaves for chosen keys, dates and usages).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/ecp.h>
#include <mbedtls/oid.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509_csr.h>
#include <mbedtls/x509_crt.h>

#include "fake_clock.h"
#include "fw/audit.h"
#include "fw/identity.h"
#include "fw/rng.h"
#include "fw/store.h"
#include "test_util.h"

#define DAY_MS (24LL * 3600 * 1000)
/* 2030-01-01 00:00:00 UTC: the fake "now" of every test. */
#define NOW_MS 1893456000000LL

struct fx {
	char dir[PATH_MAX];
	struct fake_clock clk;
	sqlite3 *db;
	mbedtls_pk_context ca_key;
	mbedtls_pk_context other_key; /* some other device's key */
};

static void gen_key(mbedtls_pk_context *pk, mbedtls_ecp_group_id curve)
{
	mbedtls_pk_init(pk);
	assert_int_equal(mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)), 0);
	assert_int_equal(mbedtls_ecp_gen_key(curve, mbedtls_pk_ec(*pk), rng_mbedtls, NULL), 0);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL) {
		return -1;
	}
	if (test_tmpdir(f->dir, sizeof(f->dir), "test_identity") != 0 ||
	    store_init(f->dir, NULL) != 0 || store_open(f->dir, &f->db) != 0) {
		return -1;
	}
	fake_clock_init(&f->clk, NOW_MS, 1000);
	identity_set_clock(&f->clk.clock);
	audit_set_clock(&f->clk.clock);
	gen_key(&f->ca_key, MBEDTLS_ECP_DP_SECP256R1);
	gen_key(&f->other_key, MBEDTLS_ECP_DP_SECP256R1);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	int ret;

	store_close(f->db);
	identity_set_clock(NULL);
	audit_set_clock(NULL);
	mbedtls_pk_free(&f->ca_key);
	mbedtls_pk_free(&f->other_key);
	ret = test_rmtree(f->dir);
	free(f);
	return ret;
}

static void path_of(struct fx *f, const char *rel, char *out, size_t len)
{
	int n = snprintf(out, len, "%s/%s", f->dir, rel);

	assert_true(n > 0 && (size_t)n < len);
}

static size_t read_all(const char *path, char *buf, size_t len)
{
	FILE *fp = fopen(path, "rb");
	size_t n;

	assert_non_null(fp);
	n = fread(buf, 1, len - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return n;
}

/* The device's key as the test sees it (read straight from the file). */
static void device_key(struct fx *f, mbedtls_pk_context *pk)
{
	char path[PATH_MAX];

	path_of(f, IDENTITY_KEY_FILE, path, sizeof(path));
	mbedtls_pk_init(pk);
	assert_int_equal(mbedtls_pk_parse_keyfile(pk, path, NULL), 0);
}

enum eku { EKU_NONE, EKU_CLIENT, EKU_SERVER_ONLY };

struct certspec {
	mbedtls_pk_context *subject_key;
	mbedtls_pk_context *issuer_key;
	const char *subject;
	const char *issuer;
	const char *from, *to; /* YYYYMMDDhhmmss */
	bool ca;
	unsigned char ku; /* 0: no key usage extension */
	enum eku eku;
	int serial;
};

/* A certificate as PEM, or as DER at the start of buf when der is set. */
static size_t make_cert(const struct certspec *s, unsigned char *buf, size_t len, bool der)
{
	/* SEQUENCE { OID id-kp-serverAuth } / SEQUENCE { serverAuth, clientAuth } */
	static const unsigned char eku_server[] = { 0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06,
						    0x01, 0x05, 0x05, 0x07, 0x03, 0x01 };
	static const unsigned char eku_client[] = { 0x30, 0x14, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05,
						    0x05, 0x07, 0x03, 0x01, 0x06, 0x08, 0x2b, 0x06,
						    0x01, 0x05, 0x05, 0x07, 0x03, 0x02 };
	mbedtls_x509write_cert w;
	mbedtls_mpi serial;
	size_t n;
	int ret;

	mbedtls_x509write_crt_init(&w);
	mbedtls_mpi_init(&serial);
	mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
	assert_int_equal(mbedtls_mpi_lset(&serial, s->serial ? s->serial : 7), 0);
	assert_int_equal(mbedtls_x509write_crt_set_serial(&w, &serial), 0);
	assert_int_equal(mbedtls_x509write_crt_set_validity(&w, s->from, s->to), 0);
	assert_int_equal(mbedtls_x509write_crt_set_issuer_name(&w, s->issuer), 0);
	assert_int_equal(mbedtls_x509write_crt_set_subject_name(&w, s->subject), 0);
	mbedtls_x509write_crt_set_subject_key(&w, s->subject_key);
	mbedtls_x509write_crt_set_issuer_key(&w, s->issuer_key);
	mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
	assert_int_equal(mbedtls_x509write_crt_set_basic_constraints(&w, s->ca, -1), 0);
	if (s->ku != 0) {
		assert_int_equal(mbedtls_x509write_crt_set_key_usage(&w, s->ku), 0);
	}
	if (s->eku != EKU_NONE) {
		const unsigned char *v = s->eku == EKU_CLIENT ? eku_client : eku_server;
		size_t vl = s->eku == EKU_CLIENT ? sizeof(eku_client) : sizeof(eku_server);

		assert_int_equal(mbedtls_x509write_crt_set_extension(
					 &w, MBEDTLS_OID_EXTENDED_KEY_USAGE,
					 MBEDTLS_OID_SIZE(MBEDTLS_OID_EXTENDED_KEY_USAGE), 0, v,
					 vl),
				 0);
	}
	if (der) {
		ret = mbedtls_x509write_crt_der(&w, buf, len, rng_mbedtls, NULL);
		assert_true(ret > 0);
		/* mbedTLS writes DER at the end of the buffer. */
		memmove(buf, buf + len - (size_t)ret, (size_t)ret);
		n = (size_t)ret;
	} else {
		assert_int_equal(mbedtls_x509write_crt_pem(&w, buf, len, rng_mbedtls, NULL), 0);
		n = strlen((char *)buf);
	}
	mbedtls_mpi_free(&serial);
	mbedtls_x509write_crt_free(&w);
	return n;
}

#define CA_NAME "CN=Test City CA,O=Test City 12345"

static size_t make_ca(struct fx *f, mbedtls_pk_context *key, const char *name, unsigned char *buf,
		      size_t len)
{
	struct certspec s = {
		.subject_key = key,
		.issuer_key = key,
		.subject = name,
		.issuer = name,
		.from = "20250101000000",
		.to = "20400101000000",
		.ca = true,
		.ku = MBEDTLS_X509_KU_KEY_CERT_SIGN,
		.serial = 1,
	};

	return make_cert(&s, buf, len, false);
}

/* A good device certificate from the test CA; the caller changes fields. */
static struct certspec leaf_spec(struct fx *f, mbedtls_pk_context *devkey)
{
	return (struct certspec){
		.subject_key = devkey,
		.issuer_key = &f->ca_key,
		.subject = "CN=HE-0001,O=Test County",
		.issuer = CA_NAME,
		.from = "20290101000000",
		.to = "20310101000000",
		.ku = MBEDTLS_X509_KU_DIGITAL_SIGNATURE,
		.eku = EKU_CLIENT,
		.serial = 42,
	};
}

static void key_ready(struct fx *f, mbedtls_pk_context *devkey)
{
	assert_true(identity_ensure_key(f->dir) >= 0);
	device_key(f, devkey);
}

/* ---- the key ---- */

static void test_key_made_once_private(void **state)
{
	struct fx *f = *state;
	char path[PATH_MAX], dir[PATH_MAX];
	char first[2048], second[2048];
	struct stat sb;

	path_of(f, IDENTITY_KEY_FILE, path, sizeof(path));
	path_of(f, IDENTITY_KEYS_DIR, dir, sizeof(dir));
	assert_int_equal(identity_ensure_key(f->dir), 1);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(stat(dir, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	read_all(path, first, sizeof(first));
	assert_non_null(strstr(first, "-----BEGIN EC PRIVATE KEY-----"));

	/* The next start keeps it, byte for byte; no temporary file stays. */
	assert_int_equal(identity_ensure_key(f->dir), 0);
	read_all(path, second, sizeof(second));
	assert_string_equal(first, second);

	mbedtls_pk_context pk;

	device_key(f, &pk);
	assert_int_equal(mbedtls_pk_ec(pk)->grp.id, MBEDTLS_ECP_DP_SECP256R1);
	mbedtls_pk_free(&pk);

	/* A key made readable by others is tightened back. */
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(identity_ensure_key(f->dir), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
}

static void test_damaged_key_kept(void **state)
{
	struct fx *f = *state;
	static const char junk[] = "-----BEGIN EC PRIVATE KEY-----\nnot base64 at all\n";
	char path[PATH_MAX], buf[256];
	struct identity_status st;

	assert_int_equal(identity_ensure_key(f->dir), 1);
	path_of(f, IDENTITY_KEY_FILE, path, sizeof(path));
	test_file_write(path, junk, sizeof(junk) - 1);

	assert_int_equal(identity_ensure_key(f->dir), -EBADMSG);
	read_all(path, buf, sizeof(buf));
	assert_string_equal(buf, junk);

	identity_status(f->dir, &st);
	assert_int_equal(st.state, IDENTITY_KEY_DAMAGED);
	assert_false(st.key_present);
	assert_non_null(strstr(st.problem, "damaged"));
	assert_non_null(strstr(st.problem, "left in place"));

	/* No CSR from a damaged key. */
	char pem[IDENTITY_CSR_MAX], msg[IDENTITY_MSG_MAX];

	assert_int_equal(identity_csr_pem(f->dir, "CN=x", pem, sizeof(pem), msg, sizeof(msg)),
			 -ENOKEY);

	/* An empty file is damaged too, and kept. */
	test_file_write(path, "", 0);
	assert_int_equal(identity_ensure_key(f->dir), -EBADMSG);
	assert_int_equal(read_all(path, buf, sizeof(buf)), 0);
}

static void test_wrong_type_key_kept(void **state)
{
	struct fx *f = *state;
	mbedtls_pk_context p384;
	unsigned char pem[1024];
	char path[PATH_MAX], buf[1024];
	struct identity_status st;

	gen_key(&p384, MBEDTLS_ECP_DP_SECP384R1);
	assert_int_equal(mbedtls_pk_write_key_pem(&p384, pem, sizeof(pem)), 0);
	mbedtls_pk_free(&p384);
	assert_int_equal(identity_ensure_key(f->dir), 1);
	path_of(f, IDENTITY_KEY_FILE, path, sizeof(path));
	test_file_write(path, pem, strlen((char *)pem));

	assert_int_equal(identity_ensure_key(f->dir), -EBADMSG);
	read_all(path, buf, sizeof(buf));
	assert_string_equal(buf, (char *)pem);
	identity_status(f->dir, &st);
	assert_int_equal(st.state, IDENTITY_KEY_DAMAGED);
	assert_non_null(strstr(st.problem, "not an ECDSA P-256 key"));
}

/* ---- names and the CSR ---- */

static void test_dn_checks(void **state)
{
	char dn[IDENTITY_DN_MAX], msg[IDENTITY_MSG_MAX], long_cn[300];
	struct identity_name n = { .cn = "HE-0001",
				   .o = "12345热线转办中心",
				   .ou = "信息科, 二组" };

	assert_int_equal(identity_make_dn(&n, dn, sizeof(dn), msg, sizeof(msg)), 0);
	assert_string_equal(dn, "CN=HE-0001,O=12345热线转办中心,OU=信息科\\, 二组");

	n = (struct identity_name){ .cn = "a=b" };
	assert_int_equal(identity_make_dn(&n, dn, sizeof(dn), msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "'='"));
	n = (struct identity_name){ .cn = "x", .o = "a\\b" };
	assert_int_equal(identity_make_dn(&n, dn, sizeof(dn), msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "organisation"));
	n = (struct identity_name){ .cn = "tab\there" };
	assert_int_equal(identity_make_dn(&n, dn, sizeof(dn), msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "control character"));
	n = (struct identity_name){ .cn = "bad \xc3\x28 utf8" };
	assert_int_equal(identity_make_dn(&n, dn, sizeof(dn), msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "UTF-8"));
	n = (struct identity_name){ .cn = "overlong \xc0\xaf" };
	assert_int_equal(identity_make_dn(&n, dn, sizeof(dn), msg, sizeof(msg)), -EINVAL);
	n = (struct identity_name){ .cn = "cut \xe4\xb8" };
	assert_int_equal(identity_make_dn(&n, dn, sizeof(dn), msg, sizeof(msg)), -EINVAL);
	n = (struct identity_name){ .cn = "" };
	assert_int_equal(identity_make_dn(&n, dn, sizeof(dn), msg, sizeof(msg)), -EINVAL);
	n = (struct identity_name){ .cn = " padded" };
	assert_int_equal(identity_make_dn(&n, dn, sizeof(dn), msg, sizeof(msg)), -EINVAL);

	/* 64 characters pass (192 bytes of Chinese), 65 do not. */
	long_cn[0] = '\0';
	for (int i = 0; i < 64; i++) {
		strcat(long_cn, "汉");
	}
	n = (struct identity_name){ .cn = long_cn };
	assert_int_equal(identity_make_dn(&n, dn, sizeof(dn), msg, sizeof(msg)), 0);
	strcat(long_cn, "x");
	assert_int_equal(identity_make_dn(&n, dn, sizeof(dn), msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "1 to 64 characters"));
}

/* The value of the attribute with this OID in a parsed name, or NULL. */
static const mbedtls_x509_name *find_attr(const mbedtls_x509_name *n, const char *oid,
					  size_t oid_len)
{
	for (; n != NULL; n = n->next) {
		if (n->oid.len == oid_len && memcmp(n->oid.p, oid, oid_len) == 0) {
			return n;
		}
	}
	return NULL;
}

static void assert_attr(const mbedtls_x509_name *n, const char *oid, size_t oid_len,
			const char *want)
{
	const mbedtls_x509_name *a = find_attr(n, oid, oid_len);

	assert_non_null(a);
	assert_int_equal(a->val.len, strlen(want));
	assert_memory_equal(a->val.p, want, strlen(want));
}

static void test_csr_subject_key_signature(void **state)
{
	struct fx *f = *state;
	struct identity_name n = { .cn = "HE-0001",
				   .o = "12345热线转办中心",
				   .ou = "信息科, 二组" };
	char dn[IDENTITY_DN_MAX], msg[IDENTITY_MSG_MAX], pem[IDENTITY_CSR_MAX];
	unsigned char hash[32];
	mbedtls_x509_csr csr;
	mbedtls_pk_context dev;

	key_ready(f, &dev);
	assert_int_equal(identity_make_dn(&n, dn, sizeof(dn), msg, sizeof(msg)), 0);
	assert_int_equal(identity_csr_pem(f->dir, dn, pem, sizeof(pem), msg, sizeof(msg)), 0);
	assert_non_null(strstr(pem, "-----BEGIN CERTIFICATE REQUEST-----"));
	assert_null(strstr(pem, "PRIVATE KEY"));

	mbedtls_x509_csr_init(&csr);
	assert_int_equal(mbedtls_x509_csr_parse(&csr, (unsigned char *)pem, strlen(pem) + 1), 0);
	assert_attr(&csr.subject, MBEDTLS_OID_AT_CN, MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_CN),
		    "HE-0001");
	assert_attr(&csr.subject, MBEDTLS_OID_AT_ORGANIZATION,
		    MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_ORGANIZATION), "12345热线转办中心");
	assert_attr(&csr.subject, MBEDTLS_OID_AT_ORG_UNIT,
		    MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_ORG_UNIT), "信息科, 二组");
	/* The request carries the device's public key ... */
	assert_int_equal(mbedtls_ecp_point_cmp(&mbedtls_pk_ec(csr.pk)->Q, &mbedtls_pk_ec(dev)->Q),
			 0);
	/* ... and a valid ECDSA-SHA256 signature by it. */
	assert_int_equal(csr.sig_md, MBEDTLS_MD_SHA256);
	assert_int_equal(mbedtls_sha256_ret(csr.cri.p, csr.cri.len, hash, 0), 0);
	assert_int_equal(mbedtls_pk_verify(&csr.pk, MBEDTLS_MD_SHA256, hash, sizeof(hash),
					   csr.sig.p, csr.sig.len),
			 0);
	/* A flipped byte in the signed part breaks it. */
	csr.cri.p[csr.cri.len - 1] ^= 1;
	assert_int_equal(mbedtls_sha256_ret(csr.cri.p, csr.cri.len, hash, 0), 0);
	assert_int_not_equal(mbedtls_pk_verify(&csr.pk, MBEDTLS_MD_SHA256, hash, sizeof(hash),
					       csr.sig.p, csr.sig.len),
			     0);
	mbedtls_x509_csr_free(&csr);
	mbedtls_pk_free(&dev);

	/* Too small a buffer is an error, not a cut request. */
	assert_int_equal(identity_csr_pem(f->dir, dn, pem, 100, msg, sizeof(msg)), -ENOBUFS);
}

/* ---- install-cert ---- */

/* Every multi-byte sequence complete (enough to catch a cut one). */
static bool utf8_complete(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t need = *p >= 0xf0 ? 3 : *p >= 0xe0 ? 2 : *p >= 0xc0 ? 1 : 0;

		if (*p >= 0x80 && *p < 0xc0) {
			return false;
		}
		p++;
		for (size_t i = 0; i < need; i++, p++) {
			if ((*p & 0xc0) != 0x80) {
				return false;
			}
		}
	}
	return true;
}

static int install(struct fx *f, const unsigned char *buf, size_t len, char *msg, bool *warn)
{
	struct identity_cert_info ci;

	return identity_install_cert(f->dir, buf, len, &ci, warn, msg, IDENTITY_MSG_MAX);
}

static void test_install_cert_accepts_right_one(void **state)
{
	struct fx *f = *state;
	mbedtls_pk_context dev;
	unsigned char pem[4096], pem2[4096];
	char path[PATH_MAX], prev[PATH_MAX], msg[IDENTITY_MSG_MAX], buf[4096];
	struct identity_cert_info ci;
	struct certspec s;
	bool warn = true;
	size_t n;

	key_ready(f, &dev);
	s = leaf_spec(f, &dev);
	n = make_cert(&s, pem, sizeof(pem), false);
	assert_int_equal(identity_install_cert(f->dir, pem, n, &ci, &warn, msg, sizeof(msg)), 0);
	assert_false(warn);
	assert_string_equal(ci.subject, "CN=HE-0001, O=Test County");
	assert_string_equal(ci.issuer, "CN=Test City CA, O=Test City 12345");
	assert_string_equal(ci.serial, "2A");
	assert_int_equal(ci.not_before_ms, 1861920000000LL); /* 2029-01-01 */
	assert_int_equal(ci.not_after_ms, 1924992000000LL);  /* 2031-01-01 */
	path_of(f, IDENTITY_CERT_FILE, path, sizeof(path));
	path_of(f, IDENTITY_PREV_FILE, prev, sizeof(prev));
	read_all(path, buf, sizeof(buf));
	assert_string_equal(buf, (char *)pem);
	assert_int_not_equal(access(prev, F_OK), 0);

	/* A renewal keeps the one it replaces as .prev. */
	s.serial = 43;
	s.to = "20320101000000";
	n = make_cert(&s, pem2, sizeof(pem2), false);
	assert_int_equal(identity_install_cert(f->dir, pem2, n, &ci, &warn, msg, sizeof(msg)), 0);
	assert_string_equal(ci.serial, "2B");
	read_all(prev, buf, sizeof(buf));
	assert_string_equal(buf, (char *)pem);
	read_all(path, buf, sizeof(buf));
	assert_string_equal(buf, (char *)pem2);

	/* DER is accepted too and stored as PEM. */
	s.serial = 44;
	n = make_cert(&s, pem2, sizeof(pem2), true);
	assert_int_equal(identity_install_cert(f->dir, pem2, n, &ci, &warn, msg, sizeof(msg)), 0);
	assert_string_equal(ci.serial, "2C");
	read_all(path, buf, sizeof(buf));
	assert_non_null(strstr(buf, "-----BEGIN CERTIFICATE-----"));

	/* A subject longer than IDENTITY_DN_MAX as text is cut on a character. */
	char subj[1024] = "CN=";

	for (int i = 0; i < 60; i++) {
		strcat(subj, "县");
	}
	strcat(subj, ",O=");
	for (int i = 0; i < 60; i++) {
		strcat(subj, "热");
	}
	strcat(subj, ",OU=");
	for (int i = 0; i < 60; i++) {
		strcat(subj, "线");
	}
	s.subject = subj;
	n = make_cert(&s, pem2, sizeof(pem2), false);
	assert_int_equal(identity_install_cert(f->dir, pem2, n, &ci, &warn, msg, sizeof(msg)), 0);
	assert_true(strlen(ci.subject) > 400);
	assert_true(strlen(ci.subject) < IDENTITY_DN_MAX);
	assert_true(utf8_complete(ci.subject));
	s.subject = "CN=HE-0001,O=Test County";

	/* No key usage and no EKU at all: nothing forbids client auth. */
	s.ku = 0;
	s.eku = EKU_NONE;
	n = make_cert(&s, pem2, sizeof(pem2), false);
	assert_int_equal(identity_install_cert(f->dir, pem2, n, &ci, &warn, msg, sizeof(msg)), 0);
	mbedtls_pk_free(&dev);
}

static void test_install_cert_refusals(void **state)
{
	struct fx *f = *state;
	mbedtls_pk_context dev;
	unsigned char pem[4096], good[4096];
	char path[PATH_MAX], msg[IDENTITY_MSG_MAX], buf[4096];
	struct certspec s;
	bool warn;
	size_t n, good_len;

	key_ready(f, &dev);
	s = leaf_spec(f, &dev);
	good_len = make_cert(&s, good, sizeof(good), false);
	assert_int_equal(install(f, good, good_len, msg, &warn), 0);

	s = leaf_spec(f, &dev);
	s.from = "20270101000000";
	s.to = "20291231000000";
	n = make_cert(&s, pem, sizeof(pem), false);
	assert_int_equal(install(f, pem, n, msg, &warn), -EKEYEXPIRED);
	assert_non_null(strstr(msg, "expired"));
	assert_non_null(strstr(msg, "2029-12-31 00:00 UTC"));

	s = leaf_spec(f, &dev);
	s.from = "20300201000000";
	n = make_cert(&s, pem, sizeof(pem), false);
	assert_int_equal(install(f, pem, n, msg, &warn), -ETIME);
	assert_non_null(strstr(msg, "not valid yet"));
	assert_non_null(strstr(msg, "2030-02-01 00:00 UTC"));
	assert_non_null(strstr(msg, "device clock says 2030-01-01 00:00 UTC"));

	s = leaf_spec(f, &f->other_key);
	n = make_cert(&s, pem, sizeof(pem), false);
	assert_int_equal(install(f, pem, n, msg, &warn), -EKEYREJECTED);
	assert_non_null(strstr(msg, "not issued for this device's key"));

	s = leaf_spec(f, &dev);
	s.eku = EKU_SERVER_ONLY;
	n = make_cert(&s, pem, sizeof(pem), false);
	assert_int_equal(install(f, pem, n, msg, &warn), -EPERM);
	assert_non_null(strstr(msg, "clientAuth"));

	s = leaf_spec(f, &dev);
	s.ku = MBEDTLS_X509_KU_KEY_ENCIPHERMENT;
	n = make_cert(&s, pem, sizeof(pem), false);
	assert_int_equal(install(f, pem, n, msg, &warn), -EPERM);
	assert_non_null(strstr(msg, "key usage does not allow digital signatures"));

	s = leaf_spec(f, &dev);
	s.ca = true;
	n = make_cert(&s, pem, sizeof(pem), false);
	assert_int_equal(install(f, pem, n, msg, &warn), -EPERM);
	assert_non_null(strstr(msg, "install-ca"));

	assert_int_equal(install(f, (const unsigned char *)"hello", 5, msg, &warn), -EBADMSG);
	assert_non_null(strstr(msg, "not a certificate in PEM or DER form"));
	assert_int_equal(install(f, (const unsigned char *)"", 0, msg, &warn), -EBADMSG);
	assert_non_null(strstr(msg, "empty"));
	/* A PEM cut in the middle. */
	assert_int_equal(install(f, good, good_len / 2, msg, &warn), -EBADMSG);

	/* None of them replaced the good one. */
	path_of(f, IDENTITY_CERT_FILE, path, sizeof(path));
	read_all(path, buf, sizeof(buf));
	assert_string_equal(buf, (char *)good);

	/* Without a key nothing is installed. */
	char key[PATH_MAX], aside[PATH_MAX + 8];

	path_of(f, IDENTITY_KEY_FILE, key, sizeof(key));
	snprintf(aside, sizeof(aside), "%s.aside", key);
	assert_int_equal(rename(key, aside), 0);
	assert_int_equal(install(f, good, good_len, msg, &warn), -ENOKEY);
	assert_non_null(strstr(msg, "no key yet"));
	assert_int_equal(rename(aside, key), 0);
	mbedtls_pk_free(&dev);
}

/* ---- install-ca and the chain warnings ---- */

static void test_install_ca(void **state)
{
	struct fx *f = *state;
	mbedtls_pk_context dev, other_ca;
	unsigned char ca[4096], ca2[4096], leaf[4096], both[8192];
	char msg[IDENTITY_MSG_MAX], path[PATH_MAX];
	struct identity_cert_info ci;
	struct certspec s;
	size_t ca_len, ca2_len, leaf_len;
	bool warn;
	int count;

	key_ready(f, &dev);
	gen_key(&other_ca, MBEDTLS_ECP_DP_SECP256R1);
	ca_len = make_ca(f, &f->ca_key, CA_NAME, ca, sizeof(ca));
	ca2_len = make_ca(f, &other_ca, "CN=Another CA", ca2, sizeof(ca2));

	/* A device certificate is not a CA. */
	s = leaf_spec(f, &dev);
	leaf_len = make_cert(&s, leaf, sizeof(leaf), false);
	assert_int_equal(
		identity_install_ca(f->dir, leaf, leaf_len, &ci, &count, &warn, msg, sizeof(msg)),
		-EPERM);
	assert_non_null(strstr(msg, "not a CA certificate"));
	path_of(f, IDENTITY_CA_FILE, path, sizeof(path));
	assert_int_not_equal(access(path, F_OK), 0);
	assert_int_equal(identity_install_ca(f->dir, (const unsigned char *)"\x30\x03\x02\x01", 4,
					     &ci, &count, &warn, msg, sizeof(msg)),
			 -EBADMSG);

	/* The right CA, with no device certificate yet: no warning. */
	assert_int_equal(
		identity_install_ca(f->dir, ca, ca_len, &ci, &count, &warn, msg, sizeof(msg)), 0);
	assert_int_equal(count, 1);
	assert_false(warn);
	assert_string_equal(ci.subject, "CN=Test City CA, O=Test City 12345");

	/* A leaf from this CA chains: no warning. */
	assert_int_equal(install(f, leaf, leaf_len, msg, &warn), 0);
	assert_false(warn);

	/* Another CA: installed, with a warning that the device cert does not chain. */
	assert_int_equal(
		identity_install_ca(f->dir, ca2, ca2_len, &ci, &count, &warn, msg, sizeof(msg)), 0);
	assert_true(warn);
	assert_non_null(strstr(msg, "does not chain"));

	/* Installing the leaf now warns in turn (installed anyway). */
	assert_int_equal(install(f, leaf, leaf_len, msg, &warn), 0);
	assert_true(warn);
	assert_non_null(strstr(msg, "does not chain"));

	/* Both CAs in one file: two counted, the leaf chains again. */
	memcpy(both, ca2, ca2_len);
	memcpy(both + ca2_len, ca, ca_len);
	assert_int_equal(identity_install_ca(f->dir, both, ca_len + ca2_len, &ci, &count, &warn,
					     msg, sizeof(msg)),
			 0);
	assert_int_equal(count, 2);
	assert_false(warn);

	struct identity_status st;

	identity_status(f->dir, &st);
	assert_int_equal(st.ca_count, 2);
	assert_string_equal(st.ca_subject, "CN=Another CA");
	mbedtls_pk_free(&other_ca);
	mbedtls_pk_free(&dev);
}

/* ---- status against the clock ---- */

static void test_status_states(void **state)
{
	struct fx *f = *state;
	mbedtls_pk_context dev;
	unsigned char pem[4096];
	char msg[IDENTITY_MSG_MAX], path[PATH_MAX];
	struct identity_status st;
	struct certspec s;
	bool warn;
	size_t n;
	const int64_t not_after = 1924992000000LL; /* 2031-01-01 */

	identity_status(f->dir, &st);
	assert_int_equal(st.state, IDENTITY_NO_KEY);
	assert_string_equal(identity_state_name(st.state), "no_key");

	key_ready(f, &dev);
	identity_status(f->dir, &st);
	assert_int_equal(st.state, IDENTITY_NO_CERT);
	assert_true(st.key_present);
	assert_false(st.cert_present);
	assert_non_null(strstr(st.problem, "admin csr"));

	s = leaf_spec(f, &dev);
	n = make_cert(&s, pem, sizeof(pem), false);
	assert_int_equal(install(f, pem, n, msg, &warn), 0);
	identity_status(f->dir, &st);
	assert_int_equal(st.state, IDENTITY_VALID);
	assert_int_equal(st.days_left, 365);
	assert_string_equal(st.cert.subject, "CN=HE-0001, O=Test County");
	assert_string_equal(st.problem, "");

	/* The health JSON: state, subject, dates; nothing of the key. */
	cJSON *h = cJSON_CreateObject();
	char *text;

	identity_health_json(f->dir, h);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(h, "state")), "valid");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(h, "subject")),
			    "CN=HE-0001, O=Test County");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(h, "not_after")),
			    "2031-01-01T00:00:00Z");
	assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(h, "days_left")), 365);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(h, "ca_installed")));
	text = cJSON_PrintUnformatted(h);
	assert_null(strstr(text, "PRIVATE"));
	cJSON_free(text);
	cJSON_Delete(h);

	fake_clock_set_wall(&f->clk.clock, not_after - 31 * DAY_MS);
	identity_status(f->dir, &st);
	assert_int_equal(st.state, IDENTITY_VALID);
	assert_int_equal(st.days_left, 31);

	fake_clock_set_wall(&f->clk.clock, not_after - 30 * DAY_MS);
	identity_status(f->dir, &st);
	assert_int_equal(st.state, IDENTITY_EXPIRING);

	fake_clock_set_wall(&f->clk.clock, not_after - 29 * DAY_MS);
	identity_status(f->dir, &st);
	assert_int_equal(st.state, IDENTITY_EXPIRING);
	assert_string_equal(identity_state_name(st.state), "expiring");
	assert_int_equal(st.days_left, 29);
	assert_non_null(strstr(st.problem, "2031-01-01"));
	assert_non_null(strstr(st.problem, "29 days left"));
	assert_int_equal(identity_log_status(f->dir), IDENTITY_EXPIRING);

	fake_clock_set_wall(&f->clk.clock, not_after + 1000);
	identity_status(f->dir, &st);
	assert_int_equal(st.state, IDENTITY_EXPIRED);
	assert_int_equal(st.days_left, -1);
	assert_non_null(strstr(st.problem, "expired"));

	fake_clock_set_wall(&f->clk.clock, 1861920000000LL - 1000); /* before 2029-01-01 */
	identity_status(f->dir, &st);
	assert_int_equal(st.state, IDENTITY_NOT_YET_VALID);
	assert_non_null(strstr(st.problem, "device clock"));

	/* A certificate for another key in the file (copied by hand). */
	fake_clock_set_wall(&f->clk.clock, NOW_MS);
	s = leaf_spec(f, &f->other_key);
	n = make_cert(&s, pem, sizeof(pem), false);
	path_of(f, IDENTITY_CERT_FILE, path, sizeof(path));
	test_file_write(path, pem, n);
	identity_status(f->dir, &st);
	assert_int_equal(st.state, IDENTITY_MISMATCH);

	test_file_write(path, "garbage", 7);
	identity_status(f->dir, &st);
	assert_int_equal(st.state, IDENTITY_CERT_DAMAGED);
	assert_false(st.cert_present);
	mbedtls_pk_free(&dev);
}

/* ---- for the TLS client ---- */

static void test_tls_load(void **state)
{
	struct fx *f = *state;
	mbedtls_pk_context dev;
	unsigned char pem[4096];
	char msg[IDENTITY_MSG_MAX], path[PATH_MAX];
	struct identity_tls t;
	struct certspec s;
	bool warn;
	int count;
	size_t n;

	assert_int_equal(identity_tls_load(f->dir, &t), -ENOKEY);
	identity_tls_free(&t);
	key_ready(f, &dev);
	assert_int_equal(identity_tls_load(f->dir, &t), -ENOENT);
	identity_tls_free(&t);

	s = leaf_spec(f, &dev);
	n = make_cert(&s, pem, sizeof(pem), false);
	assert_int_equal(install(f, pem, n, msg, &warn), 0);
	n = make_ca(f, &f->ca_key, CA_NAME, pem, sizeof(pem));
	assert_int_equal(identity_install_ca(f->dir, pem, n, NULL, &count, &warn, msg, sizeof(msg)),
			 0);
	assert_int_equal(identity_tls_load(f->dir, &t), 0);
	assert_true(mbedtls_pk_can_do(&t.key, MBEDTLS_PK_ECDSA));
	assert_int_equal(mbedtls_pk_check_pair(&t.cert.pk, &t.key), 0);
	assert_true(t.ca.ca_istrue);
	identity_tls_free(&t);

	s = leaf_spec(f, &f->other_key);
	n = make_cert(&s, pem, sizeof(pem), false);
	path_of(f, IDENTITY_CERT_FILE, path, sizeof(path));
	test_file_write(path, pem, n);
	assert_int_equal(identity_tls_load(f->dir, &t), -EKEYREJECTED);
	identity_tls_free(&t);
	mbedtls_pk_free(&dev);
}

/* ---- admin commands ---- */

struct cap {
	char *out, *err;
	size_t out_len, err_len;
	struct admin_ctx ctx;
};

static void cap_open(struct fx *f, struct cap *c)
{
	memset(c, 0, sizeof(*c));
	c->ctx.data_dir = f->dir;
	c->ctx.db = f->db;
	c->ctx.clock = &f->clk.clock;
	c->ctx.in = stdin;
	c->ctx.out = open_memstream(&c->out, &c->out_len);
	c->ctx.err = open_memstream(&c->err, &c->err_len);
	assert_non_null(c->ctx.out);
	assert_non_null(c->ctx.err);
}

static void cap_close(struct cap *c)
{
	fclose(c->ctx.out);
	fclose(c->ctx.err);
}

static void cap_free(struct cap *c)
{
	free(c->out);
	free(c->err);
}

static int64_t audit_count(struct fx *f, const char *action, const char *outcome)
{
	sqlite3_stmt *st;
	int64_t n;

	assert_int_equal(sqlite3_prepare_v2(f->db,
					    "SELECT count(*) FROM audit WHERE action = ?1 AND "
					    "outcome = ?2 AND actor = 'technician-cli'",
					    -1, &st, NULL),
			 SQLITE_OK);
	sqlite3_bind_text(st, 1, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, outcome, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void test_admin_commands(void **state)
{
	struct fx *f = *state;
	char *csr_argv[] = { "csr", "--cn", "HE-0042", "--ou=信息科", NULL };
	char *bad_argv[] = { "csr", "--cn", "a=b", NULL };
	char *dflt_argv[] = { "csr", NULL };
	char *status_argv[] = { "identity", NULL };
	char out_file[PATH_MAX + 32], cert_file[PATH_MAX + 32], ca_file[PATH_MAX + 32];
	mbedtls_x509_csr csr;
	mbedtls_pk_context dev;
	unsigned char pem[4096];
	struct certspec s;
	struct cap c;
	size_t n;

	/* csr to stdout makes the key on the way; O comes from the configuration. */
	cap_open(f, &c);
	assert_int_equal(identity_cmd_csr(&c.ctx, 4, csr_argv), 0);
	cap_close(&c);
	mbedtls_x509_csr_init(&csr);
	assert_int_equal(mbedtls_x509_csr_parse(&csr, (unsigned char *)c.out, c.out_len + 1), 0);
	assert_attr(&csr.subject, MBEDTLS_OID_AT_CN, MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_CN),
		    "HE-0042");
	assert_attr(&csr.subject, MBEDTLS_OID_AT_ORGANIZATION,
		    MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_ORGANIZATION), "12345热线转办中心");
	assert_attr(&csr.subject, MBEDTLS_OID_AT_ORG_UNIT,
		    MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_ORG_UNIT), "信息科");
	mbedtls_x509_csr_free(&csr);
	assert_non_null(strstr(c.err, "install-cert"));
	cap_free(&c);

	/* Bad subject: usage error, message says why. */
	cap_open(f, &c);
	assert_int_equal(identity_cmd_csr(&c.ctx, 3, bad_argv), 2);
	cap_close(&c);
	assert_non_null(strstr(c.err, "'='"));
	cap_free(&c);

	/* Default CN is the device id from the database; --out writes a file. */
	assert_int_equal(store_meta_set(f->db, "device_id", "SIM-0001"), 0);
	snprintf(out_file, sizeof(out_file), "%s/device.csr", f->dir);
	char *out_argv[] = { "csr", "--out", out_file, NULL };

	cap_open(f, &c);
	assert_int_equal(identity_cmd_csr(&c.ctx, 1, dflt_argv), 0);
	cap_close(&c);
	assert_non_null(strstr(c.err, "CN=SIM-0001"));
	cap_free(&c);
	cap_open(f, &c);
	assert_int_equal(identity_cmd_csr(&c.ctx, 3, out_argv), 0);
	cap_close(&c);
	assert_int_equal(c.out_len, 0);
	cap_free(&c);
	mbedtls_x509_csr_init(&csr);
	assert_int_equal(mbedtls_x509_csr_parse_file(&csr, out_file), 0);
	mbedtls_x509_csr_free(&csr);

	/* install-cert: refused (audited as refused), then accepted (audited ok). */
	device_key(f, &dev);
	s = leaf_spec(f, &dev);
	s.to = "20291231000000";
	n = make_cert(&s, pem, sizeof(pem), false);
	snprintf(cert_file, sizeof(cert_file), "%s/issued.pem", f->dir);
	test_file_write(cert_file, pem, n);
	char *inst_argv[] = { "install-cert", cert_file, NULL };

	cap_open(f, &c);
	assert_int_equal(identity_cmd_install_cert(&c.ctx, 2, inst_argv), 1);
	cap_close(&c);
	assert_non_null(strstr(c.err, "not installed: the certificate has expired"));
	cap_free(&c);
	assert_int_equal(audit_count(f, "identity.install_cert", "refused"), 1);

	s = leaf_spec(f, &dev);
	n = make_cert(&s, pem, sizeof(pem), false);
	test_file_write(cert_file, pem, n);
	cap_open(f, &c);
	assert_int_equal(identity_cmd_install_cert(&c.ctx, 2, inst_argv), 0);
	cap_close(&c);
	assert_non_null(strstr(c.out, "subject:    CN=HE-0001, O=Test County"));
	assert_non_null(strstr(c.out, "issuer:     CN=Test City CA"));
	assert_non_null(strstr(c.out, "serial:     2A"));
	assert_non_null(strstr(c.out, "not after:  2031-01-01 00:00 UTC"));
	cap_free(&c);
	assert_int_equal(audit_count(f, "identity.install_cert", "ok"), 1);

	/* install-ca with the device certificate given: refused. */
	char *ca_argv[] = { "install-ca", cert_file, NULL };

	cap_open(f, &c);
	assert_int_equal(identity_cmd_install_ca(&c.ctx, 2, ca_argv), 1);
	cap_close(&c);
	assert_non_null(strstr(c.err, "not a CA certificate"));
	cap_free(&c);
	assert_int_equal(audit_count(f, "identity.install_ca", "refused"), 1);

	n = make_ca(f, &f->ca_key, CA_NAME, pem, sizeof(pem));
	snprintf(ca_file, sizeof(ca_file), "%s/city-ca.pem", f->dir);
	test_file_write(ca_file, pem, n);
	ca_argv[1] = ca_file;
	cap_open(f, &c);
	assert_int_equal(identity_cmd_install_ca(&c.ctx, 2, ca_argv), 0);
	cap_close(&c);
	assert_non_null(strstr(c.out, "subject:    CN=Test City CA, O=Test City 12345"));
	assert_null(strstr(c.err, "warning"));
	cap_free(&c);
	assert_int_equal(audit_count(f, "identity.install_ca", "ok"), 1);

	/* A missing file. */
	char *missing_argv[] = { "install-ca", "/nonexistent/ca.pem", NULL };

	cap_open(f, &c);
	assert_int_equal(identity_cmd_install_ca(&c.ctx, 2, missing_argv), 1);
	cap_close(&c);
	assert_non_null(strstr(c.err, "cannot be read"));
	cap_free(&c);

	/* The status command shows the state and never the key. */
	fake_clock_set_wall(&f->clk.clock, 1924992000000LL - 10 * DAY_MS);
	cap_open(f, &c);
	assert_int_equal(identity_cmd_status(&c.ctx, 1, status_argv), 0);
	cap_close(&c);
	assert_non_null(strstr(c.out, "state:        expiring"));
	assert_non_null(strstr(c.out, "days left:  10"));
	assert_non_null(strstr(c.out, "city CA:      CN=Test City CA"));
	assert_null(strstr(c.out, "PRIVATE"));
	cap_free(&c);

	struct audit_verify_result r;

	assert_int_equal(audit_verify(f->db, &r), 0);
	mbedtls_pk_free(&dev);
}

/* ---- garbage ---- */

static void test_garbage_input(void **state)
{
	struct fx *f = *state;
	mbedtls_pk_context dev;
	unsigned char der[2048], junk[4096];
	char msg[IDENTITY_MSG_MAX], path[PATH_MAX];
	struct certspec s;
	bool warn;
	int count;
	size_t n;

	key_ready(f, &dev);
	s = leaf_spec(f, &dev);
	n = make_cert(&s, der, sizeof(der), true);
	/* Every cut of a valid DER certificate is refused cleanly. */
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(install(f, der, i, msg, &warn), -EBADMSG);
	}
	/* Every single flipped byte: refused or (if the flip missed what is
	 * checked) installed, never a crash. */
	for (size_t i = 0; i < n; i++) {
		int ret;

		der[i] ^= 0x5a;
		ret = install(f, der, n, msg, &warn);
		assert_true(ret == 0 || ret == -EBADMSG || ret == -EKEYREJECTED || ret == -EPERM ||
			    ret == -ETIME || ret == -EKEYEXPIRED);
		der[i] ^= 0x5a;
	}
	/* Random bytes, a PEM header over random bytes, an oversized file. */
	for (int round = 0; round < 50; round++) {
		size_t len = (size_t)(round * 37 % 1500) + 1;

		assert_int_equal(rng_bytes(junk, len), 0);
		assert_int_equal(install(f, junk, len, msg, &warn), -EBADMSG);
		assert_int_equal(identity_install_ca(f->dir, junk, len, NULL, &count, &warn, msg,
						     sizeof(msg)),
				 -EBADMSG);
		memcpy(junk, "-----BEGIN CERTIFICATE-----\n", 28);
		assert_int_equal(
			install(f, junk, len + 28 > sizeof(junk) ? len : len + 28, msg, &warn),
			-EBADMSG);
	}
	unsigned char *big = calloc(1, IDENTITY_FILE_MAX + 1);

	assert_non_null(big);
	assert_int_equal(install(f, big, IDENTITY_FILE_MAX + 1, msg, &warn), -EBADMSG);
	assert_non_null(strstr(msg, "larger than"));
	free(big);

	/* A damaged stored CA file does not stop the status. */
	struct identity_status st;

	path_of(f, IDENTITY_CA_FILE, path, sizeof(path));
	test_file_write(path, "-----BEGIN CERTIFICATE-----\n@@@\n", 32);
	identity_status(f->dir, &st);
	assert_int_equal(st.ca_count, 0);
	mbedtls_pk_free(&dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_key_made_once_private, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_key_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_type_key_kept, setup, teardown),
		cmocka_unit_test(test_dn_checks),
		cmocka_unit_test_setup_teardown(test_csr_subject_key_signature, setup, teardown),
		cmocka_unit_test_setup_teardown(test_install_cert_accepts_right_one, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_install_cert_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_install_ca, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_states, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_load, setup, teardown),
		cmocka_unit_test_setup_teardown(test_admin_commands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_input, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
