/*
 * Personal data at rest against a real database and key file: the masking
 * tables (including bad input), round trips through every view, hidden
 * identities, values moved between rows or fields, a wrong, missing or
 * badly protected key file (refused, data kept), the raw database file and
 * its WAL grepped for the plaintexts, and retention (due rows erased,
 * others untouched, the erasure audited, idempotent, no ciphertext left).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include <mbedtls/platform_util.h>

#include "fake_clock.h"
#include "fw/audit.h"
#include "fw/config.h"
#include "fw/pii.h"
#include "fw/store.h"
#include "test_util.h"

#define DAY_MS (24LL * 60 * 60 * 1000)

static char dir[PATH_MAX];
static char key_file[PATH_MAX + 32];
static struct fake_clock clk;

static const struct pii_contact sample = {
	.name = "司马相如",
	.phone = "13912345678",
	.id_number = "51010419900101123X",
	.address = "四川省成都市锦江区春熙路88号3单元",
	.contact = "微信号 sima_xiangru_88",
};

static int setup(void **state)
{
	static sqlite3 *db;

	if (test_tmpdir(dir, sizeof(dir), "test_pii") != 0 || store_init(dir, NULL) != 0 ||
	    store_open(dir, &db) != 0) {
		return -1;
	}
	snprintf(key_file, sizeof(key_file), "%s/%s", dir, PII_KEY_FILE);
	fake_clock_init(&clk, 1700000000000, 5000);
	pii_set_clock(&clk.clock);
	audit_set_clock(&clk.clock);
	if (pii_open(dir, db) != 0) {
		return -1;
	}
	*state = db;
	return 0;
}

static int teardown(void **state)
{
	pii_close();
	store_close(*state);
	pii_set_clock(NULL);
	audit_set_clock(NULL);
	return test_rmtree(dir);
}

static int64_t create1(sqlite3 *db, const struct pii_contact *c, bool hide)
{
	int64_t id = -1;

	assert_int_equal(store_begin(db), 0);
	assert_int_equal(pii_contact_create(db, c, hide, &id), 0);
	assert_int_equal(store_commit(db), 0);
	assert_true(id > 0);
	return id;
}

static bool file_contains(const char *path, const void *needle, size_t nlen)
{
	size_t len;
	uint8_t *buf;
	bool found;

	if (!test_file_exists(path)) {
		return false;
	}
	buf = test_file_read(path, &len);
	found = memmem(buf, len, needle, nlen) != NULL;
	free(buf);
	return found;
}

static bool db_files_contain(const void *needle, size_t nlen)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };
	char path[PATH_MAX + 64];

	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s%s", dir, STORE_FILE, suffix[i]);
		if (file_contains(path, needle, nlen)) {
			return true;
		}
	}
	return false;
}

/* Capture what the module logs (stderr) while fn runs. */
static char captured[8192];

static int capture_begin(void)
{
	char path[PATH_MAX + 16];
	int saved = dup(STDERR_FILENO);
	int fd;

	snprintf(path, sizeof(path), "%s/stderr.txt", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(saved >= 0 && fd >= 0);
	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	close(fd);
	return saved;
}

static const char *capture_end(int saved)
{
	char path[PATH_MAX + 16];
	size_t len;
	uint8_t *buf;

	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	snprintf(path, sizeof(path), "%s/stderr.txt", dir);
	buf = test_file_read(path, &len);
	len = len < sizeof(captured) - 1 ? len : sizeof(captured) - 1;
	if (len > 0) {
		memcpy(captured, buf, len);
	}
	captured[len] = '\0';
	free(buf);
	return captured;
}

/* ---- masking tables --------------------------------------------------- */

struct mask_case {
	const char *in;
	const char *out; /* NULL: -EINVAL */
};

static void run_table(int (*fn)(const char *, char *, size_t), const struct mask_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char out[512];
		int r = fn(c[i].in, out, sizeof(out));

		if (c[i].out == NULL) {
			if (r != -EINVAL) {
				fail_msg("case %zu '%s': expected -EINVAL, got %d '%s'", i, c[i].in,
					 r, r >= 0 ? out : "");
			}
			continue;
		}
		if (r < 0 || strcmp(out, c[i].out) != 0) {
			fail_msg("case %zu '%s': expected '%s', got %d '%s'", i, c[i].in, c[i].out,
				 r, r >= 0 ? out : "");
		}
		assert_int_equal(r, (int)strlen(c[i].out));
		/* Exactly big enough works; one byte less is -ENOBUFS. */
		assert_int_equal(fn(c[i].in, out, strlen(c[i].out) + 1), r);
		assert_int_equal(fn(c[i].in, out, strlen(c[i].out)), -ENOBUFS);
	}
}

static void test_mask_phone(void **state)
{
	static const struct mask_case cases[] = {
		{ "13812345678", "138****5678" },
		{ "0571-88881234", "0571-****1234" },
		{ "057188881234", "0571****1234" },
		{ "010-12345678", "010-****5678" },
		{ "021 6123456", "021 ***3456" },
		{ "0755-2345678", "0755-***5678" },
		{ "+86 138 1234 5678", "+86 138 **** 5678" },
		{ "+8613812345678", "+86138****5678" },
		{ "88881234", "****1234" },
		{ "12345", "***45" },
		{ "110", "**0" },
		{ "", "" },
		{ "12", NULL },
		{ "+86", NULL },
		{ "138-1234-567a", NULL },
		{ "1381234567８", NULL }, /* a full-width digit */
		{ "138\n12345678", NULL },
		{ "13+812345678", NULL },
		{ "1234567890123456789012345678901", "***************************8901" },
		{ "12345678901234567890123456789012", NULL }, /* 32 bytes: too long */
	};

	run_table(pii_mask_phone, cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_mask_id_number(void **state)
{
	static const struct mask_case cases[] = {
		{ "510104199001011234", "5101**********1234" },
		{ "51010419900101123X", "5101**********123X" },
		{ "51010419900101123x", "5101**********123x" },
		{ "510104900101123", "5101*******1123" },
		{ "E12345678", "*****5678" }, /* passport */
		{ "H1234567", "****4567" },   /* Hong Kong and Macao permit */
		{ "AB12", "**12" },
		{ "", "" },
		{ "123", NULL },
		{ "5101041990010112X4", "**************12X4" }, /* not a resident card */
		{ "510104 199001011234", NULL },
		{ "５１０１０４１９９０", NULL },
		{ "1234567890123456789012345678901", "***************************8901" },
		{ "12345678901234567890123456789012", NULL },
	};

	run_table(pii_mask_id_number, cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_mask_name(void **state)
{
	static const struct mask_case cases[] = {
		{ "张三", "张*" },
		{ "欧阳娜娜", "欧***" },
		{ "李", "*" },
		{ "阿依古丽·买买提", "阿***·***" },
		{ "John Smith", "J*** *****" },
		{ "𠮷野家", "𠮷**" }, /* a 4-byte character kept whole */
		{ "", "" },
		{ "张\t三", NULL },
		{ "\xe5\xbc", NULL },	      /* truncated */
		{ "\xc0\x80", NULL },	      /* overlong NUL */
		{ "\xed\xa0\x80", NULL },     /* a surrogate */
		{ "\xf4\x90\x80\x80", NULL }, /* past U+10FFFF */
		{ "\xff", NULL },
		{ "a\xc2\x85", NULL }, /* C1 control (NEL) */
	};

	run_table(pii_mask_name, cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_mask_address(void **state)
{
	static const struct mask_case cases[] = {
		{ "四川省成都市锦江区春熙路88号", "四川省成都市***" },
		{ "浙江省杭州市西湖区", "浙江省杭***" }, /* 9 characters: keep 4 */
		{ "Room 5, 12 Main St", "Room 5***" },
		{ "西湖", "西***" },
		{ "a", "***" },
		{ "", "" },
		{ "杭州市\n西湖区", NULL },
		{ "杭州\xe8", NULL },
	};

	run_table(pii_mask_address, cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_mask_contact(void **state)
{
	static const struct mask_case cases[] = {
		{ "微信号 sima_xiangru_88", "***************u_88" },
		{ "QQ 12345678", "*******5678" },
		{ "邮箱a@b.cn", "****b.cn" },
		{ "abc", "**c" },
		{ "张", "*" },
		{ "", "" },
		{ "line\r\n", NULL },
	};

	run_table(pii_mask_contact, cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_mask_bad_input(void **state)
{
	static const char valid[] = "四川省成都市锦江区春熙路88号";
	char in[PII_ADDRESS_MAX + 8];
	char out[PII_ADDRESS_MAX + 8];

	/* Every truncation of a valid string: either valid or -EINVAL. */
	for (size_t cut = 0; cut <= strlen(valid); cut++) {
		int r;

		memcpy(in, valid, cut);
		in[cut] = '\0';
		r = pii_mask_address(in, out, sizeof(out));
		assert_true(r >= 0 || r == -EINVAL);
		/* Cutting inside a 3-byte character is always caught (12 of
		 * them, "88", then one more). */
		assert_int_equal(r < 0, (cut < 36 && cut % 3 != 0) || cut == 39 || cut == 40);
	}
	/* Too long for each field's buffer. */
	memset(in, 'a', sizeof(in));
	in[PII_NAME_MAX] = '\0';
	assert_int_equal(pii_mask_name(in, out, sizeof(out)), -EINVAL);
	in[PII_NAME_MAX - 1] = '\0';
	assert_true(pii_mask_name(in, out, sizeof(out)) > 0);
	memset(in, 'a', sizeof(in));
	in[PII_ADDRESS_MAX] = '\0';
	assert_int_equal(pii_mask_address(in, out, sizeof(out)), -EINVAL);
	in[PII_CONTACT_MAX] = '\0';
	assert_int_equal(pii_mask_contact(in, out, sizeof(out)), -EINVAL);
	/* NULLs and a bad field. */
	assert_int_equal(pii_mask_name(NULL, out, sizeof(out)), -EINVAL);
	assert_int_equal(pii_mask_phone("13812345678", NULL, 10), -EINVAL);
	assert_int_equal(pii_mask(PII_FIELDS, "x", out, sizeof(out)), -EINVAL);
	assert_int_equal(pii_mask(PII_PHONE, "13812345678", out, sizeof(out)), 11);
	assert_string_equal(out, "138****5678");
	/* A zero-length out buffer is -ENOBUFS, even for "". */
	assert_int_equal(pii_mask_name("", out, 0), -ENOBUFS);
	/* Random bytes never crash (ASan watches) and never give invalid output. */
	srand(12345);
	for (int round = 0; round < 20000; round++) {
		size_t n = (size_t)(rand() % 40);

		for (size_t i = 0; i < n; i++) {
			in[i] = (char)(rand() % 4 == 0 ? 0xe5 + rand() % 3 : rand() % 256);
		}
		in[n] = '\0';
		for (int f = 0; f < PII_FIELDS; f++) {
			int r = pii_mask(f, in, out, sizeof(out));

			assert_true(r >= 0 || r == -EINVAL);
			if (r >= 0) {
				assert_int_equal(strlen(out), (size_t)r);
			}
		}
	}
}

/* ---- storage ---------------------------------------------------------- */

static void test_key_file_created(void **state)
{
	char keys[PATH_MAX + 16];
	struct stat st;

	snprintf(keys, sizeof(keys), "%s/%s", dir, PII_KEY_DIR);
	assert_int_equal(stat(keys, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(stat(key_file, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, PII_KEY_LEN);
	assert_true(pii_ready());
	assert_int_equal(test_sql_int(*state, "SELECT count(*) FROM pii_key"), 1);
	assert_int_equal(test_sql_int(*state, "SELECT length(wrapped) FROM pii_key"), 61);
}

static void test_round_trip(void **state)
{
	sqlite3 *db = *state;
	struct pii_contact c;
	struct pii_contact partial = { .name = "张三", .phone = "0571-88881234" };
	int64_t id, id2;

	id = create1(db, &sample, false);
	assert_int_equal(pii_contact_get(db, id, PII_VIEW_FULL, &c), 0);
	assert_string_equal(c.name, sample.name);
	assert_string_equal(c.phone, sample.phone);
	assert_string_equal(c.id_number, sample.id_number);
	assert_string_equal(c.address, sample.address);
	assert_string_equal(c.contact, sample.contact);
	assert_false(c.hide_identity);
	assert_int_equal(c.anonymous, 0);
	assert_int_equal(c.unreadable, 0);
	assert_int_equal(c.created_ms, 1700000000000);
	assert_int_equal(c.closed_ms, 0);
	assert_int_equal(c.erased_ms, 0);
	pii_contact_clear(&c);
	for (size_t i = 0; i < sizeof(c); i++) {
		assert_int_equal(((uint8_t *)&c)[i], 0);
	}

	assert_int_equal(pii_contact_get(db, id, PII_VIEW_MASKED, &c), 0);
	assert_string_equal(c.name, "司***");
	assert_string_equal(c.phone, "139****5678");
	assert_string_equal(c.id_number, "5101**********123X");
	assert_string_equal(c.address, "四川省成都市***");
	assert_string_equal(c.contact, "***************u_88");
	assert_int_equal(pii_contact_get(db, id, PII_VIEW_HANDLER, &c), 0);
	assert_string_equal(c.phone, sample.phone);

	/* Empty fields are stored as NULL and come back as "". */
	fake_clock_advance(&clk.clock, 1000);
	id2 = create1(db, &partial, false);
	assert_true(id2 > id);
	assert_int_equal(test_sql_int(db,
				      "SELECT count(*) FROM citizen_contact WHERE id_number IS "
				      "NULL AND address IS NULL AND contact IS NULL AND name IS "
				      "NOT NULL"),
			 1);
	assert_int_equal(pii_contact_get(db, id2, PII_VIEW_MASKED, &c), 0);
	assert_string_equal(c.name, "张*");
	assert_string_equal(c.phone, "0571-****1234");
	assert_string_equal(c.id_number, "");
	assert_int_equal(c.created_ms, 1700000001000);

	/* Two stores of the same value never give the same blob (fresh nonce). */
	create1(db, &sample, false);
	assert_int_equal(test_sql_int(db, "SELECT count(DISTINCT phone) FROM citizen_contact WHERE "
					  "length(phone) = 40"),
			 2);
	assert_int_equal(test_sql_int(db, "SELECT length(phone) FROM citizen_contact WHERE id = 1"),
			 11 + PII_BLOB_OVERHEAD);
	assert_int_equal(pii_contact_get(db, 999, PII_VIEW_FULL, &c), -ENOENT);
	pii_contact_clear(&c);
}

static void test_hide_identity(void **state)
{
	sqlite3 *db = *state;
	struct pii_contact c;
	int64_t id = create1(db, &sample, true);

	assert_int_equal(pii_contact_get(db, id, PII_VIEW_MASKED, &c), 0);
	assert_true(c.hide_identity);
	assert_string_equal(c.name, PII_ANONYMOUS);
	assert_string_equal(c.phone, PII_ANONYMOUS);
	assert_string_equal(c.id_number, PII_ANONYMOUS);
	assert_string_equal(c.address, "四川省成都市***");
	assert_string_equal(c.contact, "***************u_88");
	assert_int_equal(c.anonymous,
			 PII_BIT(PII_NAME) | PII_BIT(PII_PHONE) | PII_BIT(PII_ID_NUMBER));

	assert_int_equal(pii_contact_get(db, id, PII_VIEW_FULL, &c), 0);
	assert_string_equal(c.name, PII_ANONYMOUS);
	assert_string_equal(c.phone, PII_ANONYMOUS);
	assert_string_equal(c.id_number, PII_ANONYMOUS);
	assert_string_equal(c.address, sample.address);

	assert_int_equal(pii_contact_get(db, id, PII_VIEW_HANDLER, &c), 0);
	assert_string_equal(c.name, sample.name);
	assert_string_equal(c.phone, sample.phone);
	assert_string_equal(c.id_number, sample.id_number);
	assert_int_equal(c.anonymous, 0);
	pii_contact_clear(&c);
	assert_int_equal(pii_contact_get(db, id, (enum pii_view)7, &c), -EINVAL);
}

static void test_create_refusals(void **state)
{
	sqlite3 *db = *state;
	struct pii_contact bad = sample;
	int64_t id = 0;

	assert_int_equal(pii_contact_create(db, &sample, false, &id), -EPERM);
	assert_int_equal(store_begin(db), 0);
	snprintf(bad.phone, sizeof(bad.phone), "%s", "call me");
	assert_int_equal(pii_contact_create(db, &bad, false, &id), -EINVAL);
	bad = sample;
	memset(bad.name, 'a', sizeof(bad.name)); /* not terminated */
	assert_int_equal(pii_contact_create(db, &bad, false, &id), -EINVAL);
	bad = sample;
	snprintf(bad.address, sizeof(bad.address), "%s", "杭州\xe8");
	assert_int_equal(pii_contact_create(db, &bad, false, &id), -EINVAL);
	assert_int_equal(pii_contact_create(db, NULL, false, &id), -EINVAL);
	store_rollback(db);
	assert_int_equal(test_sql_int(db, "SELECT count(*) FROM citizen_contact"), 0);

	/* A rolled-back create leaves nothing. */
	assert_int_equal(store_begin(db), 0);
	assert_int_equal(pii_contact_create(db, &sample, false, &id), 0);
	store_rollback(db);
	assert_int_equal(test_sql_int(db, "SELECT count(*) FROM citizen_contact"), 0);
}

static size_t get_blob(sqlite3 *db, const char *col, int64_t id, uint8_t *buf, size_t cap)
{
	char sql[128];
	sqlite3_stmt *st = NULL;
	size_t n;

	snprintf(sql, sizeof(sql), "SELECT %s FROM citizen_contact WHERE id = %lld", col,
		 (long long)id);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = (size_t)sqlite3_column_bytes(st, 0);
	assert_true(n <= cap);
	memcpy(buf, sqlite3_column_blob(st, 0), n);
	sqlite3_finalize(st);
	return n;
}

static void set_blob(sqlite3 *db, const char *col, int64_t id, const uint8_t *buf, size_t n)
{
	char sql[128];
	sqlite3_stmt *st = NULL;

	snprintf(sql, sizeof(sql), "UPDATE citizen_contact SET %s = ?1 WHERE id = %lld", col,
		 (long long)id);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_bind_blob(st, 1, buf, (int)n, SQLITE_TRANSIENT), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

/* Copy column `from` of row a into column `to` of row b, as someone with the file could. */
static void move_blob(sqlite3 *db, const char *from, int64_t a, const char *to, int64_t b)
{
	char sql[256];

	snprintf(sql, sizeof(sql),
		 "UPDATE citizen_contact SET %s = (SELECT %s FROM citizen_contact WHERE id = "
		 "%lld) WHERE id = %lld",
		 to, from, (long long)a, (long long)b);
	assert_int_equal(store_exec(db, sql), 0);
}

static void test_moved_values_fail(void **state)
{
	sqlite3 *db = *state;
	struct pii_contact other = { .name = "王五",
				     .phone = "13700001111",
				     .address = "浙江省杭州市西湖区文三路1号" };
	struct pii_contact c;
	int64_t a = create1(db, &sample, false);
	int64_t b = create1(db, &other, false);
	const char *log;
	int saved;

	/* Row a's phone into row b: authenticated with a's id, so b rejects it. */
	move_blob(db, "phone", a, "phone", b);
	saved = capture_begin();
	assert_int_equal(pii_contact_get(db, b, PII_VIEW_FULL, &c), -EBADMSG);
	log = capture_end(saved);
	assert_int_equal(c.unreadable, PII_BIT(PII_PHONE));
	assert_string_equal(c.phone, "");
	assert_string_equal(c.name, "王五"); /* the rest is still there */
	assert_string_equal(c.address, other.address);
	assert_non_null(strstr(log, "the phone field failed authentication"));
	assert_null(strstr(log, sample.phone)); /* the value is never logged */
	assert_null(strstr(log, "13700001111"));

	/* Within one row, from one field to another. */
	move_blob(db, "address", a, "contact", a);
	assert_int_equal(pii_contact_get(db, a, PII_VIEW_MASKED, &c), -EBADMSG);
	assert_int_equal(c.unreadable, PII_BIT(PII_CONTACT));
	assert_string_equal(c.address, "四川省成都市***");

	/* A flipped bit, a wrong version byte, a truncated blob, a text value. */
	uint8_t blob[PII_ADDRESS_MAX + PII_BLOB_OVERHEAD];
	size_t n = get_blob(db, "name", a, blob, sizeof(blob));

	blob[20] ^= 0x01;
	set_blob(db, "name", a, blob, n);
	n = get_blob(db, "id_number", a, blob, sizeof(blob));
	blob[0] = 2;
	set_blob(db, "id_number", a, blob, n);
	n = get_blob(db, "address", a, blob, sizeof(blob));
	set_blob(db, "address", a, blob, PII_BLOB_OVERHEAD - 1);
	assert_int_equal(store_exec(db, "UPDATE citizen_contact SET phone = '13912345678' "
					"WHERE id = 1"),
			 0);
	assert_int_equal(pii_contact_get(db, a, PII_VIEW_HANDLER, &c), -EBADMSG);
	assert_int_equal(c.unreadable, (1u << PII_FIELDS) - 1);
	pii_contact_clear(&c);
}

static void overwrite_key(const uint8_t *bytes, size_t len, mode_t mode)
{
	int fd;

	unlink(key_file);
	fd = open(key_file, O_WRONLY | O_CREAT | O_EXCL, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, bytes, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void test_wrong_key_keeps_data(void **state)
{
	sqlite3 *db = *state;
	uint8_t good[PII_KEY_LEN], wrong[PII_KEY_LEN];
	struct pii_contact c;
	size_t len;
	uint8_t *k = test_file_read(key_file, &len);
	int64_t before_sum, id = create1(db, &sample, false);
	int64_t closed_id = create1(db, &sample, false);
	const char *log;
	int saved;

	assert_int_equal(len, PII_KEY_LEN);
	memcpy(good, k, sizeof(good));
	free(k);
	before_sum = test_sql_int(db, "SELECT sum(length(name) + length(phone)) + "
				      "(SELECT length(wrapped) FROM pii_key) FROM citizen_contact");

	memcpy(wrong, good, sizeof(wrong));
	wrong[7] ^= 0x01;
	overwrite_key(wrong, sizeof(wrong), 0600);
	saved = capture_begin();
	assert_int_equal(pii_open(dir, db), -EKEYREJECTED);
	log = capture_end(saved);
	assert_non_null(strstr(log, key_file));
	assert_non_null(strstr(log, "does not open the personal-data key"));
	assert_non_null(strstr(log, "nothing was changed"));
	assert_false(pii_ready());

	/* Locked: no reads, no writes; the key row is the same one. */
	assert_int_equal(pii_contact_get(db, id, PII_VIEW_MASKED, &c), -ENOKEY);
	assert_int_equal(store_begin(db), 0);
	assert_int_equal(pii_contact_create(db, &sample, false, NULL), -ENOKEY);
	store_rollback(db);
	/* Marks and retention need no key. */
	assert_int_equal(pii_contact_mark_closed(db, closed_id), 0);
	assert_int_equal(pii_retention_purge(db, clk.wall_ms, 180), 0);
	assert_int_equal(test_sql_int(db, "SELECT count(*) FROM pii_key"), 1);
	assert_int_equal(test_sql_int(db,
				      "SELECT sum(length(name) + length(phone)) + "
				      "(SELECT length(wrapped) FROM pii_key) FROM citizen_contact"),
			 before_sum);

	/* Opening again with the wrong key changes nothing either. */
	assert_int_equal(pii_open(dir, db), -EKEYREJECTED);
	overwrite_key(good, sizeof(good), 0600);
	assert_int_equal(pii_open(dir, db), 0);
	assert_int_equal(pii_contact_get(db, id, PII_VIEW_FULL, &c), 0);
	assert_string_equal(c.name, sample.name);
	pii_contact_clear(&c);
	mbedtls_platform_zeroize(good, sizeof(good));
}

static void test_missing_key_file(void **state)
{
	sqlite3 *db = *state;
	struct pii_contact c;
	size_t len;
	uint8_t *good = test_file_read(key_file, &len);
	int64_t id = create1(db, &sample, false);
	struct stat st;
	const char *log;
	int saved;

	assert_int_equal(unlink(key_file), 0);
	saved = capture_begin();
	assert_int_equal(pii_open(dir, db), -ENOKEY);
	log = capture_end(saved);
	assert_non_null(strstr(log, "is missing"));
	/* No new key is made while the database holds data under the old one. */
	assert_int_equal(stat(key_file, &st), -1);
	assert_int_equal(test_sql_int(db, "SELECT count(*) FROM pii_key"), 1);

	overwrite_key(good, len, 0600);
	free(good);
	assert_int_equal(pii_open(dir, db), 0);
	assert_int_equal(pii_contact_get(db, id, PII_VIEW_FULL, &c), 0);
	assert_string_equal(c.phone, sample.phone);
	pii_contact_clear(&c);
}

static void test_key_file_permissions(void **state)
{
	sqlite3 *db = *state;
	char keys[PATH_MAX + 16], link_target[PATH_MAX + 32];
	size_t len;
	uint8_t *good = test_file_read(key_file, &len);
	const char *log;
	int saved;

	for (mode_t m = 0; m < 0100; m += 01) {
		mode_t mode = 0600 | m;

		if (m == 0) {
			continue;
		}
		assert_int_equal(chmod(key_file, mode), 0);
		assert_int_equal(pii_open(dir, db), -EACCES);
		assert_false(pii_ready());
	}
	assert_int_equal(chmod(key_file, 0640), 0);
	saved = capture_begin();
	assert_int_equal(pii_open(dir, db), -EACCES);
	log = capture_end(saved);
	assert_non_null(strstr(log, "mode 640"));
	assert_non_null(strstr(log, "chmod 600"));
	assert_int_equal(chmod(key_file, 0400), 0); /* read-only for the owner is fine */
	assert_int_equal(pii_open(dir, db), 0);

	/* Wrong sizes. */
	overwrite_key(good, len - 1, 0600);
	saved = capture_begin();
	assert_int_equal(pii_open(dir, db), -EINVAL);
	log = capture_end(saved);
	assert_non_null(strstr(log, "holds 31 bytes, not 32"));
	overwrite_key((const uint8_t *)"0123456789abcdef0123456789abcdef!", 33, 0600);
	assert_int_equal(pii_open(dir, db), -EINVAL);
	overwrite_key((const uint8_t *)"", 0, 0600);
	assert_int_equal(pii_open(dir, db), -EINVAL);

	/* A symbolic link to a good key is refused. */
	snprintf(link_target, sizeof(link_target), "%s/elsewhere.key", dir);
	overwrite_key(good, len, 0600);
	assert_int_equal(rename(key_file, link_target), 0);
	assert_int_equal(symlink(link_target, key_file), 0);
	assert_int_equal(pii_open(dir, db), -EINVAL);
	assert_int_equal(unlink(key_file), 0);
	assert_int_equal(rename(link_target, key_file), 0);
	assert_int_equal(pii_open(dir, db), 0);

	/* A key directory others may write to is refused. */
	snprintf(keys, sizeof(keys), "%s/%s", dir, PII_KEY_DIR);
	assert_int_equal(chmod(keys, 0770), 0);
	assert_int_equal(pii_open(dir, db), -EACCES);
	assert_int_equal(chmod(keys, 0755), 0); /* readable is tolerated */
	assert_int_equal(pii_open(dir, db), 0);
	assert_int_equal(chmod(keys, 0700), 0);
	free(good);
}

static void test_fresh_database_reuses_key_file(void **state)
{
	sqlite3 *db = *state;
	struct pii_contact c;
	size_t len1, len2;
	uint8_t *k1 = test_file_read(key_file, &len1), *k2;

	/* The database was set aside (damaged): a new data key under the same file. */
	assert_int_equal(store_exec(db, "DELETE FROM pii_key"), 0);
	assert_int_equal(pii_open(dir, db), 0);
	k2 = test_file_read(key_file, &len2);
	assert_int_equal(len1, len2);
	assert_memory_equal(k1, k2, len1);
	free(k1);
	free(k2);
	assert_int_equal(pii_contact_get(db, create1(db, &sample, false), PII_VIEW_FULL, &c), 0);
	assert_string_equal(c.id_number, sample.id_number);
	pii_contact_clear(&c);
}

static void test_raw_files_hold_no_plaintext(void **state)
{
	sqlite3 *db = *state;
	static const char marker[] = "对照-CONTROL-4711";
	const struct pii_contact more = {
		.name = "欧阳娜娜",
		.phone = "0571-88881234",
		.id_number = "510104900101123",
		.address = "浙江省杭州市西湖区文三路478号",
		.contact = "邮箱 ouyang.nana@example.cn",
	};
	const char *secrets[] = {
		sample.name,	sample.phone, sample.id_number, sample.address,
		sample.contact, more.name,    more.phone,	more.id_number,
		more.address,	more.contact, "88881234",	"sima_xiangru",
		"ouyang.nana",	"春熙路88号", "1990010112",	"司马",
	};
	char path[PATH_MAX + 64];
	size_t klen;
	uint8_t *kek = test_file_read(key_file, &klen);
	struct stat st;

	assert_int_equal(store_begin(db), 0);
	for (int i = 0; i < 20; i++) {
		assert_int_equal(pii_contact_create(db, &sample, i % 2 == 0, NULL), 0);
		assert_int_equal(pii_contact_create(db, &more, false, NULL), 0);
	}
	/* The control: a plaintext written beside them in the same commit. */
	assert_int_equal(store_meta_set(db, "pii_test_marker", marker), 0);
	assert_int_equal(store_commit(db), 0);

	snprintf(path, sizeof(path), "%s/%s-wal", dir, STORE_FILE);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size > 0);
	assert_true(file_contains(path, marker, strlen(marker)));
	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
		if (db_files_contain(secrets[i], strlen(secrets[i]))) {
			fail_msg("'%s' found in the database files", secrets[i]);
		}
	}
	assert_false(db_files_contain(kek, klen));

	/* Folded into the main file: the same. */
	assert_int_equal(store_checkpoint(db), 0);
	snprintf(path, sizeof(path), "%s/%s", dir, STORE_FILE);
	assert_true(file_contains(path, marker, strlen(marker)));
	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
		if (db_files_contain(secrets[i], strlen(secrets[i]))) {
			fail_msg("'%s' found in the database files", secrets[i]);
		}
	}
	assert_false(db_files_contain(kek, klen));
	free(kek);
}

/* ---- retention -------------------------------------------------------- */

static int64_t audit_count(sqlite3 *db)
{
	return test_sql_int(db, "SELECT count(*) FROM audit WHERE action = 'pii.retention_erase'");
}

static void test_retention(void **state)
{
	sqlite3 *db = *state;
	struct pii_contact c;
	struct audit_verify_result vr;
	int64_t old, young, unacked, open_, acked_open, now;
	sqlite3_stmt *st = NULL;

	/* Off (SQLite's own default) so the test sees it restored. */
	assert_int_equal(store_exec(db, "PRAGMA secure_delete = OFF"), 0);
	old = create1(db, &sample, false);
	young = create1(db, &sample, false);
	unacked = create1(db, &sample, false);
	open_ = create1(db, &sample, false);
	acked_open = create1(db, &sample, false);

	assert_int_equal(pii_contact_mark_closed(db, old), 0);
	assert_int_equal(pii_contact_mark_acked(db, old), 0);
	fake_clock_advance(&clk.clock, 2 * DAY_MS);
	assert_int_equal(pii_contact_mark_closed(db, young), 0);
	assert_int_equal(pii_contact_mark_acked(db, young), 0);
	assert_int_equal(pii_contact_mark_closed(db, unacked), 0);
	assert_int_equal(pii_contact_mark_acked(db, acked_open), 0);
	/* A second mark keeps the first time. */
	fake_clock_advance(&clk.clock, 1000);
	assert_int_equal(pii_contact_mark_acked(db, old), 0);
	assert_int_equal(pii_contact_get(db, old, PII_VIEW_MASKED, &c), 0);
	assert_int_equal(c.city_acked_ms, 1700000000000);
	assert_int_equal(c.closed_ms, 1700000000000);
	assert_int_equal(pii_contact_mark_closed(db, 4242), -ENOENT);
	assert_int_equal(pii_contact_mark_acked(db, 4242), -ENOENT);

	/* 180 days after old's acknowledgement, less the 2 days and a second. */
	fake_clock_advance(&clk.clock, 178 * DAY_MS - 1000 - 1);
	now = clk.wall_ms;
	assert_int_equal(pii_retention_purge(db, now, 180), 0); /* one ms early */
	assert_int_equal(audit_count(db), 0);
	now += 1;
	assert_int_equal(pii_retention_purge(db, now, 180), 1);
	assert_int_equal(audit_count(db), 1);

	assert_int_equal(pii_contact_get(db, old, PII_VIEW_FULL, &c), 0);
	assert_int_equal(c.erased_ms, now);
	assert_string_equal(c.name, "");
	assert_string_equal(c.phone, "");
	assert_string_equal(c.contact, "");
	assert_int_equal(test_sql_int(db,
				      "SELECT count(*) FROM citizen_contact WHERE name IS NULL AND "
				      "phone IS NULL AND id_number IS NULL AND address IS NULL AND "
				      "contact IS NULL"),
			 1);
	int64_t untouched[] = { young, unacked, open_, acked_open };
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(pii_contact_get(db, untouched[i], PII_VIEW_FULL, &c), 0);
		assert_string_equal(c.name, sample.name);
		assert_int_equal(c.erased_ms, 0);
	}

	/* The entry: who, what and how many; nothing personal. */
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT actor, role, target, outcome, detail, wall_ms "
					    "FROM audit WHERE action = 'pii.retention_erase'",
					    -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal(sqlite3_column_text(st, 0), "system");
	assert_string_equal(sqlite3_column_text(st, 1), "system");
	assert_string_equal(sqlite3_column_text(st, 2), "citizen_contact");
	assert_string_equal(sqlite3_column_text(st, 3), "ok");
	assert_string_equal(sqlite3_column_text(st, 4), "{\"erased\":1,\"retention_days\":180}");
	sqlite3_finalize(st);
	assert_int_equal(audit_verify(db, &vr), 0);

	/* Idempotent: nothing more is due, nothing is audited. */
	assert_int_equal(pii_retention_purge(db, now, 180), 0);
	assert_int_equal(pii_retention_purge(db, now + 1000, 180), 0);
	assert_int_equal(audit_count(db), 1);
	assert_int_equal(pii_contact_get(db, old, PII_VIEW_FULL, &c), 0);
	assert_int_equal(c.erased_ms, now);

	/* Two days later young is due; a shorter setting takes effect at once. */
	assert_int_equal(pii_retention_purge(db, now + 2 * DAY_MS, 180), 1);
	assert_int_equal(audit_count(db), 2);
	assert_int_equal(pii_retention_purge(db, now + 2 * DAY_MS, 1), 0);
	assert_int_equal(pii_contact_get(db, unacked, PII_VIEW_FULL, &c), 0);
	assert_string_equal(c.name, sample.name);
	pii_contact_clear(&c);

	/* Bad settings and an open transaction are refused. */
	assert_int_equal(pii_retention_purge(db, now, 0), -EINVAL);
	assert_int_equal(pii_retention_purge(db, now, 3651), -EINVAL);
	assert_int_equal(store_begin(db), 0);
	assert_int_equal(pii_retention_purge(db, now, 180), -EINVAL);
	store_rollback(db);
	assert_int_equal(audit_verify(db, &vr), 0);
	assert_int_equal(vr.entries, 2);
	/* secure_delete is back to what it was. */
	assert_int_equal(test_sql_int(db, "PRAGMA secure_delete"), 0);
}

static void test_retention_leaves_no_ciphertext(void **state)
{
	sqlite3 *db = *state;
	uint8_t blobs[3][64];
	int64_t id = create1(db, &sample, false);
	sqlite3_stmt *st = NULL;

	/* Off, as SQLite builds without SQLITE_SECURE_DELETE have it: the
	 * purge must switch it on itself. */
	assert_int_equal(store_exec(db, "PRAGMA secure_delete = OFF"), 0);
	assert_int_equal(store_checkpoint(db), 0);
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT name, phone, id_number FROM citizen_contact "
					    "WHERE id = ?1",
					    -1, &st, NULL),
			 SQLITE_OK);
	sqlite3_bind_int64(st, 1, id);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	for (int i = 0; i < 3; i++) {
		assert_true(sqlite3_column_bytes(st, i) >= 40);
		memcpy(blobs[i], sqlite3_column_blob(st, i), 40);
	}
	sqlite3_finalize(st);
	for (int i = 0; i < 3; i++) {
		assert_true(db_files_contain(blobs[i] + 1, 39)); /* the control */
	}
	assert_int_equal(pii_contact_mark_closed(db, id), 0);
	assert_int_equal(pii_contact_mark_acked(db, id), 0);
	assert_int_equal(pii_retention_purge(db, clk.wall_ms + 30 * DAY_MS, 30), 1);
	for (int i = 0; i < 3; i++) {
		assert_false(db_files_contain(blobs[i] + 1, 39));
	}
}

static void test_locked_module(void **state)
{
	sqlite3 *db = *state;
	struct pii_contact c;
	int64_t id = create1(db, &sample, false);

	pii_close();
	assert_false(pii_ready());
	assert_int_equal(pii_contact_get(db, id, PII_VIEW_MASKED, &c), -ENOKEY);
	assert_int_equal(pii_contact_mark_closed(db, id), 0);
	assert_int_equal(pii_contact_mark_acked(db, id), 0);
	assert_int_equal(pii_retention_purge(db, clk.wall_ms + 200 * DAY_MS, 180), 1);
	assert_int_equal(pii_open(NULL, db), -EINVAL);
	assert_int_equal(pii_open(dir, db), 0);
	assert_int_equal(pii_contact_get(db, id, PII_VIEW_FULL, &c), 0);
	assert_true(c.erased_ms > 0);
	assert_string_equal(pii_field_name(PII_ID_NUMBER), "id_number");
	assert_string_equal(pii_field_name(PII_FIELDS), "?");
}

/*
 * Contact tags: equal numbers in any spelling give one tag, different
 * numbers differ, the tag depends on this database's data key (another
 * database's key gives another tag), bad input and a locked module refuse.
 */
static void test_contact_tag(void **state)
{
	sqlite3 *db = *state;
	uint8_t a[PII_TAG_BYTES], b[PII_TAG_BYTES], c[PII_TAG_BYTES], other[PII_TAG_BYTES];
	uint8_t zero[PII_TAG_BYTES] = { 0 };
	char dir2[PATH_MAX];
	sqlite3 *db2;

	assert_int_equal(pii_contact_tag("13812345678", a), 0);
	assert_memory_not_equal(a, zero, sizeof(a));
	assert_int_equal(pii_contact_tag("+86 138 1234 5678", b), 0);
	assert_memory_equal(a, b, sizeof(a));
	assert_int_equal(pii_contact_tag("138-1234-5678", b), 0);
	assert_memory_equal(a, b, sizeof(a));
	assert_int_equal(pii_contact_tag("0086 13812345678", b), 0);
	assert_memory_equal(a, b, sizeof(a));
	assert_int_equal(pii_contact_tag("13812345679", c), 0);
	assert_memory_not_equal(a, c, sizeof(a));
	assert_int_equal(pii_contact_tag("0571-88881234", c), 0);
	assert_memory_not_equal(a, c, sizeof(a));

	assert_int_equal(pii_contact_tag("", b), -EINVAL);
	assert_int_equal(pii_contact_tag(NULL, b), -EINVAL);
	assert_int_equal(pii_contact_tag("138abc45678", b), -EINVAL);
	assert_int_equal(pii_contact_tag("12", b), -EINVAL);

	/* Another device (another key file and data key): another tag. */
	assert_int_equal(test_tmpdir(dir2, sizeof(dir2), "test_pii_tag"), 0);
	assert_int_equal(store_init(dir2, NULL), 0);
	assert_int_equal(store_open(dir2, &db2), 0);
	assert_int_equal(pii_open(dir2, db2), 0);
	assert_int_equal(pii_contact_tag("13812345678", other), 0);
	assert_memory_not_equal(a, other, sizeof(a));
	store_close(db2);
	test_rmtree(dir2);

	/* The same device again: the same tag (it is stable across restarts). */
	assert_int_equal(pii_open(dir, db), 0);
	assert_int_equal(pii_contact_tag("13812345678", b), 0);
	assert_memory_equal(a, b, sizeof(a));

	pii_close();
	assert_int_equal(pii_contact_tag("13812345678", b), -ENOKEY);
	assert_int_equal(pii_open(dir, db), 0);
}

static void test_config_retention_days(void **state)
{
	static const char *const bad[] = { "0", "3651", "-5", "180d", "" };
	struct fw_config cfg;
	char err[CONFIG_ERR_MAX];
	char text[64];

	config_defaults(&cfg);
	assert_int_equal(cfg.privacy_retention_days, 180);
	assert_int_equal(config_parse(&cfg, "[privacy]\nretention_days = 30\n", 29, "t", err), 0);
	assert_int_equal(cfg.privacy_retention_days, 30);
	assert_int_equal(config_parse(&cfg, "[privacy]\nretention_days = 3650\n", 31, "t", err), 0);
	assert_int_equal(cfg.privacy_retention_days, 3650);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int n = snprintf(text, sizeof(text), "[privacy]\nretention_days = %s\n", bad[i]);

		assert_int_equal(config_parse(&cfg, text, (size_t)n, "t", err), -EINVAL);
		assert_non_null(strstr(err, "privacy.retention_days"));
		assert_non_null(strstr(err, "from 1 to 3650"));
		assert_int_equal(cfg.privacy_retention_days, 3650);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mask_phone),
		cmocka_unit_test(test_mask_id_number),
		cmocka_unit_test(test_mask_name),
		cmocka_unit_test(test_mask_address),
		cmocka_unit_test(test_mask_contact),
		cmocka_unit_test(test_mask_bad_input),
		cmocka_unit_test(test_config_retention_days),
		cmocka_unit_test_setup_teardown(test_key_file_created, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hide_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_moved_values_fail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_key_keeps_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_key_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_file_permissions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fresh_database_reuses_key_file, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_raw_files_hold_no_plaintext, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention_leaves_no_ciphertext, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_locked_module, setup, teardown),
		cmocka_unit_test_setup_teardown(test_contact_tag, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
