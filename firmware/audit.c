/*
 * Audit log: a SHA-256 hash chain in the audit table.
 *
 * Each row stores prev (the previous row's hash; for the first row a
 * genesis hash made from the database's db_epoch, so two databases' chains
 * never match) and hash = SHA-256(prev || canonical encoding of id, wall_ms,
 * mono_ms, actor, role, action, target, outcome, detail). The encoding is a
 * fixed label, integers as 8 bytes big-endian and every string as a 4-byte
 * big-endian length followed by its bytes (detail is preceded by a byte
 * saying whether it is NULL), so no two different rows encode alike.
 *
 * The key decision: the previous hash is read and the new row written in one
 * transaction that holds SQLite's write lock (the caller's, or our own BEGIN
 * IMMEDIATE), and the id is chosen explicitly as one past the highest id ever
 * used. Writers on other connections or in other processes are serialised
 * by that lock, so the chain can never fork, and an append after deleted
 * tail rows leaves a gap that audit_verify reports instead of hiding it.
 * An append costs one indexed lookup of the last row, one of sqlite_sequence
 * and one insert.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <mbedtls/sha256.h>

#include "fw/admin.h"
#include "fw/audit.h"
#include "fw/exitcodes.h"
#include "fw/log.h"
#include "fw/store.h"

#define MOD "audit"

/* Part of every row's hash: changing the encoding means a new label. */
static const char row_label[] = "hotline-edge audit row v1";
static const char genesis_label[] = "hotline-edge audit genesis v1";

static struct hal_clock *audit_clock;

void audit_set_clock(struct hal_clock *clock)
{
	audit_clock = clock;
}

/* he_fw depends on hal interfaces only, so without a clock the OS's own. */
static int64_t now_ms(clockid_t id)
{
	struct timespec ts;

	if (audit_clock != NULL) {
		return id == CLOCK_REALTIME ? hal_clock_wall_ms(audit_clock)
					    : hal_clock_mono_ms(audit_clock);
	}
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void audit_hex(const uint8_t hash[AUDIT_HASH_LEN], char out[2 * AUDIT_HASH_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < AUDIT_HASH_LEN; i++) {
		out[2 * i] = digits[hash[i] >> 4];
		out[2 * i + 1] = digits[hash[i] & 0xf];
	}
	out[2 * AUDIT_HASH_LEN] = '\0';
}

/* ---- validation ---- */

/* Well-formed UTF-8 (RFC 3629) without C0 controls or DEL, except those
 * in `allowed`. */
static bool text_valid(const unsigned char *s, size_t len, const char *allowed)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		unsigned char lo = 0x80, hi = 0xbf;
		size_t need;

		if (c < 0x80) {
			if ((c < 0x20 || c == 0x7f) && strchr(allowed, c) == NULL) {
				return false;
			}
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			lo = c == 0xe0 ? 0xa0 : 0x80;
			hi = c == 0xed ? 0x9f : 0xbf;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			lo = c == 0xf0 ? 0x90 : 0x80;
			hi = c == 0xf4 ? 0x8f : 0xbf;
		} else {
			return false;
		}
		if (len - i <= need || s[i + 1] < lo || s[i + 1] > hi) {
			return false;
		}
		for (size_t k = 2; k <= need; k++) {
			if (s[i + k] < 0x80 || s[i + k] > 0xbf) {
				return false;
			}
		}
		i += need + 1;
	}
	return true;
}

bool audit_word_valid(const char *s)
{
	size_t n = 0;

	if (s == NULL) {
		return false;
	}

	for (; s[n] != '\0'; n++) {
		char c = s[n];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-')) {
			return false;
		}
	}
	return n > 0 && n <= AUDIT_FIELD_MAX;
}

static bool field_valid(const char *s, bool may_be_empty)
{
	size_t n;

	if (s == NULL) {
		return false;
	}
	n = strnlen(s, AUDIT_FIELD_MAX + 1);
	return n <= AUDIT_FIELD_MAX && (n > 0 || may_be_empty) &&
	       text_valid((const unsigned char *)s, n, "");
}

bool audit_text_valid(const char *s)
{
	return field_valid(s, true);
}

static const char *entry_problem(const struct audit_entry *e)
{
	size_t n;

	if (!field_valid(e->actor, false)) {
		return "actor";
	}
	if (!audit_word_valid(e->role)) {
		return "role";
	}
	if (!audit_word_valid(e->action)) {
		return "action";
	}
	if (!field_valid(e->target, true)) {
		return "target";
	}
	if (!audit_word_valid(e->outcome)) {
		return "outcome";
	}
	if (e->detail != NULL) {
		n = strnlen(e->detail, AUDIT_DETAIL_MAX + 1);
		if (n > AUDIT_DETAIL_MAX ||
		    !text_valid((const unsigned char *)e->detail, n, "\t\n")) {
			return "detail";
		}
	}
	return NULL;
}

/* ---- hashing ---- */

struct row {
	int64_t id, wall_ms, mono_ms;
	const char *text[5]; /* actor, role, action, target, outcome */
	size_t len[5];
	const char *detail; /* NULL: none */
	size_t detail_len;
};

static void put_u64(mbedtls_sha256_context *c, int64_t v)
{
	uint8_t b[8];

	for (int i = 0; i < 8; i++) {
		b[i] = (uint8_t)((uint64_t)v >> (56 - 8 * i));
	}
	mbedtls_sha256_update_ret(c, b, sizeof(b));
}

static void put_str(mbedtls_sha256_context *c, const char *s, size_t len)
{
	uint8_t b[4] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
			 (uint8_t)len };

	mbedtls_sha256_update_ret(c, b, sizeof(b));
	mbedtls_sha256_update_ret(c, (const unsigned char *)s, len);
}

static void row_hash(const uint8_t prev[AUDIT_HASH_LEN], const struct row *r,
		     uint8_t out[AUDIT_HASH_LEN])
{
	mbedtls_sha256_context c;
	uint8_t has_detail = r->detail != NULL;

	mbedtls_sha256_init(&c);
	mbedtls_sha256_starts_ret(&c, 0);
	mbedtls_sha256_update_ret(&c, prev, AUDIT_HASH_LEN);
	put_str(&c, row_label, sizeof(row_label) - 1);
	put_u64(&c, r->id);
	put_u64(&c, r->wall_ms);
	put_u64(&c, r->mono_ms);
	for (int i = 0; i < 5; i++) {
		put_str(&c, r->text[i], r->len[i]);
	}
	mbedtls_sha256_update_ret(&c, &has_detail, 1);
	if (has_detail) {
		put_str(&c, r->detail, r->detail_len);
	}
	mbedtls_sha256_finish_ret(&c, out);
	mbedtls_sha256_free(&c);
}

static int genesis(sqlite3 *db, uint8_t out[AUDIT_HASH_LEN])
{
	char epoch[STORE_META_VALUE_MAX];
	mbedtls_sha256_context c;
	int n;

	n = store_meta_get(db, "db_epoch", epoch, sizeof(epoch));
	if (n < 0) {
		log_err(MOD, "the database has no db_epoch; the audit log cannot be anchored");
		return n == -ENOBUFS ? -EIO : n;
	}
	mbedtls_sha256_init(&c);
	mbedtls_sha256_starts_ret(&c, 0);
	put_str(&c, genesis_label, sizeof(genesis_label) - 1);
	put_str(&c, epoch, (size_t)n);
	mbedtls_sha256_finish_ret(&c, out);
	mbedtls_sha256_free(&c);
	return 0;
}

/* ---- reading ---- */

/* The last row's id and hash (id 0, hash untouched when the log is empty),
 * and the highest id ever used. */
static int last_row(sqlite3 *db, int64_t *id, uint8_t hash[AUDIT_HASH_LEN], int64_t *seq)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*id = 0;
	*seq = 0;
	rc = sqlite3_prepare_v2(db, "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1", -1, &st,
				NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
	}
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		if (sqlite3_column_bytes(st, 1) == AUDIT_HASH_LEN) {
			memcpy(hash, sqlite3_column_blob(st, 1), AUDIT_HASH_LEN);
		} else {
			memset(hash, 0, AUDIT_HASH_LEN);
		}
		rc = SQLITE_DONE;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc == SQLITE_DONE) {
		rc = sqlite3_prepare_v2(db, "SELECT seq FROM sqlite_sequence WHERE name = 'audit'",
					-1, &st, NULL);
	}
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
	}
	if (rc == SQLITE_ROW) {
		*seq = sqlite3_column_int64(st, 0);
		rc = SQLITE_DONE;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : store_err(db, rc, "reading the end of the audit log");
}

int audit_head(sqlite3 *db, int64_t *id, uint8_t hash[AUDIT_HASH_LEN])
{
	int64_t seq;
	int ret;

	if (db == NULL || id == NULL || hash == NULL) {
		return -EINVAL;
	}
	ret = last_row(db, id, hash, &seq);
	if (ret == 0 && *id == 0) {
		ret = genesis(db, hash);
	}
	return ret;
}

/* ---- appending ---- */

static int insert_row(sqlite3 *db, const struct row *r, const uint8_t prev[AUDIT_HASH_LEN],
		      const uint8_t hash[AUDIT_HASH_LEN])
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(db,
				"INSERT INTO audit (id, wall_ms, mono_ms, actor, role, action, "
				"target, outcome, detail, prev, hash) "
				"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
				-1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_bind_int64(st, 1, r->id);
	}
	if (rc == SQLITE_OK) {
		rc = sqlite3_bind_int64(st, 2, r->wall_ms);
	}
	if (rc == SQLITE_OK) {
		rc = sqlite3_bind_int64(st, 3, r->mono_ms);
	}
	for (int i = 0; i < 5 && rc == SQLITE_OK; i++) {
		rc = sqlite3_bind_text(st, 4 + i, r->text[i], (int)r->len[i], SQLITE_STATIC);
	}
	if (rc == SQLITE_OK) {
		rc = r->detail != NULL ? sqlite3_bind_text(st, 9, r->detail, (int)r->detail_len,
							   SQLITE_STATIC)
				       : sqlite3_bind_null(st, 9);
	}
	if (rc == SQLITE_OK) {
		rc = sqlite3_bind_blob(st, 10, prev, AUDIT_HASH_LEN, SQLITE_STATIC);
	}
	if (rc == SQLITE_OK) {
		rc = sqlite3_bind_blob(st, 11, hash, AUDIT_HASH_LEN, SQLITE_STATIC);
	}
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : store_err(db, rc, "appending to the audit log");
}

int audit_append(sqlite3 *db, const struct audit_entry *e)
{
	uint8_t prev[AUDIT_HASH_LEN], hash[AUDIT_HASH_LEN];
	const char *bad = e != NULL ? entry_problem(e) : NULL;
	int64_t last_id, seq;
	struct row r;
	bool own;
	int ret;

	if (db == NULL || e == NULL) {
		return -EINVAL;
	}
	if (bad != NULL) {
		log_err(MOD,
			"refused an audit entry (action '%.40s'): its %s is missing, too long "
			"or holds characters it may not",
			e->action != NULL ? e->action : "", bad);
		return -EINVAL;
	}
	r = (struct row){
		.text = { e->actor, e->role, e->action, e->target, e->outcome },
		.detail = e->detail,
		.detail_len = e->detail != NULL ? strlen(e->detail) : 0,
	};
	for (int i = 0; i < 5; i++) {
		r.len[i] = strlen(r.text[i]);
	}
	own = sqlite3_get_autocommit(db) != 0;
	if (own) {
		ret = store_begin(db);
		if (ret < 0) {
			return ret;
		}
	}
	ret = last_row(db, &last_id, prev, &seq);
	if (ret == 0 && last_id == 0) {
		ret = genesis(db, prev);
	}
	if (ret < 0) {
		goto out;
	}
	if (seq > last_id) {
		log_err(MOD,
			"audit entries %" PRId64 " to %" PRId64 " were removed from the log; "
			"`hotline-edge admin audit-verify` reports it; keep the database as "
			"evidence",
			last_id + 1, seq);
	}
	r.id = (seq > last_id ? seq : last_id) + 1;
	r.wall_ms = now_ms(CLOCK_REALTIME);
	r.mono_ms = now_ms(CLOCK_MONOTONIC);
	row_hash(prev, &r, hash);
	ret = insert_row(db, &r, prev, hash);
out:
	if (own) {
		if (ret == 0) {
			ret = store_commit(db);
		} else {
			store_rollback(db);
		}
	}
	return ret;
}

/* ---- verifying ---- */

/* Record the first broken row and why, in English and Chinese. */
#define SAY(res, id, en, zh, ...)                                                      \
	do {                                                                           \
		(res)->first_bad = (id);                                               \
		snprintf((res)->reason, sizeof((res)->reason), en, __VA_ARGS__);       \
		snprintf((res)->reason_zh, sizeof((res)->reason_zh), zh, __VA_ARGS__); \
	} while (0)

static void column_text(sqlite3_stmt *st, int col, const char **s, size_t *len)
{
	*s = (const char *)sqlite3_column_text(st, col);
	*len = (size_t)sqlite3_column_bytes(st, col);
	if (*s == NULL) {
		*s = "";
	}
}

/* Check one row against the previous row's stored hash; false and r filled
 * if its link or its contents are broken. */
static bool check_row(sqlite3_stmt *st, const uint8_t prev[AUDIT_HASH_LEN], int64_t expect_id,
		      struct audit_verify_result *res)
{
	uint8_t want[AUDIT_HASH_LEN];
	struct row r = { 0 };

	r.id = sqlite3_column_int64(st, 0);
	if (r.id != expect_id) {
		/* ids only grow by one (AUTOINCREMENT, explicit next id), so a
		 * gap is a deletion. */
		if (r.id - 1 == expect_id) {
			SAY(res, r.id,
			    "a row before %" PRId64 " is missing: row %" PRId64 " was deleted",
			    "第 %" PRId64 " 条之前有记录缺失：第 %" PRId64 " 条被删除", r.id,
			    expect_id);
		} else {
			SAY(res, r.id,
			    "a row before %" PRId64 " is missing: rows %" PRId64 " to %" PRId64
			    " were deleted",
			    "第 %" PRId64 " 条之前有记录缺失：第 %" PRId64 " 至 %" PRId64
			    " 条被删除",
			    r.id, expect_id, r.id - 1);
		}
		return false;
	}
	if (sqlite3_column_bytes(st, 9) != AUDIT_HASH_LEN ||
	    memcmp(sqlite3_column_blob(st, 9), prev, AUDIT_HASH_LEN) != 0) {
		SAY(res, r.id,
		    "row %" PRId64 " does not follow row %" PRId64
		    ": a row before it is missing, was replaced or the rows were reordered",
		    "第 %" PRId64 " 条与第 %" PRId64
		    " 条接不上：之前的记录缺失、被替换或顺序被调换",
		    r.id, r.id - 1);
		return false;
	}
	r.wall_ms = sqlite3_column_int64(st, 1);
	r.mono_ms = sqlite3_column_int64(st, 2);
	for (int i = 0; i < 5; i++) {
		column_text(st, 3 + i, &r.text[i], &r.len[i]);
	}
	if (sqlite3_column_type(st, 8) != SQLITE_NULL) {
		column_text(st, 8, &r.detail, &r.detail_len);
	}
	row_hash(prev, &r, want);
	if (sqlite3_column_bytes(st, 10) != AUDIT_HASH_LEN ||
	    memcmp(sqlite3_column_blob(st, 10), want, AUDIT_HASH_LEN) != 0) {
		SAY(res, r.id, "row %" PRId64 " was changed: its contents do not match its hash",
		    "第 %" PRId64 " 条被修改：内容与其哈希不符", r.id);
		return false;
	}
	return true;
}

static int walk(sqlite3 *db, struct audit_verify_result *res)
{
	uint8_t prev[AUDIT_HASH_LEN];
	sqlite3_stmt *st = NULL;
	int64_t last_id, seq, expect = 1;
	bool intact = true;
	int ret, rc;

	ret = genesis(db, prev);
	if (ret < 0) {
		return ret;
	}
	memcpy(res->head_hash, prev, AUDIT_HASH_LEN);
	ret = last_row(db, &last_id, res->head_hash, &seq);
	if (ret < 0) {
		return ret;
	}
	rc = sqlite3_prepare_v2(db,
				"SELECT id, wall_ms, mono_ms, actor, role, action, target, "
				"outcome, detail, prev, hash FROM audit ORDER BY id",
				-1, &st, NULL);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		rc = SQLITE_OK;
		res->entries++;
		if (intact) {
			intact = check_row(st, prev, expect, res);
		}
		/* The next link is checked against what is stored, so one edited
		 * row is reported once, not as every row after it. */
		if (sqlite3_column_bytes(st, 10) == AUDIT_HASH_LEN) {
			memcpy(prev, sqlite3_column_blob(st, 10), AUDIT_HASH_LEN);
		} else {
			memset(prev, 0, AUDIT_HASH_LEN);
		}
		expect = sqlite3_column_int64(st, 0) + 1;
		res->head_id = expect - 1;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		return store_err(db, rc, "reading the audit log");
	}
	if (intact && seq > res->head_id) {
		SAY(res, res->head_id + 1, "the last rows %" PRId64 " to %" PRId64 " were removed",
		    "最后的第 %" PRId64 " 至 %" PRId64 " 条被删除", res->head_id + 1, seq);
		intact = false;
	} else if (intact && seq < res->head_id) {
		SAY(res, res->head_id,
		    "the log's id counter was reset (it says %" PRId64 ", the last row is %" PRId64
		    ")",
		    "日志编号计数被改动（计数为 %" PRId64 "，最后一条为 %" PRId64 "）", seq,
		    res->head_id);
		intact = false;
	}
	return intact ? 0 : 1;
}

int audit_verify(sqlite3 *db, struct audit_verify_result *res)
{
	bool own;
	int ret;

	if (db == NULL || res == NULL) {
		return -EINVAL;
	}
	memset(res, 0, sizeof(*res));
	/* One read transaction: the walk, the genesis and the id counter are
	 * the same snapshot even while others append. */
	own = sqlite3_get_autocommit(db) != 0;
	if (own) {
		ret = store_exec(db, "BEGIN");
		if (ret < 0) {
			return ret;
		}
	}
	ret = walk(db, res);
	if (own) {
		store_rollback(db);
	}
	if (ret == 1) {
		log_err(MOD, "the audit log is broken at row %" PRId64 ": %s", res->first_bad,
			res->reason);
	}
	return ret;
}

/* ---- admin command ---- */

int audit_cmd_verify(struct admin_ctx *ctx, int argc, char **argv)
{
	struct audit_verify_result r;
	char hex[2 * AUDIT_HASH_LEN + 1];
	int ret;

	(void)argv;
	if (argc != 1) {
		fprintf(ctx->err,
			"usage: hotline-edge admin audit-verify (it takes no arguments)\n");
		return EXIT_USAGE;
	}
	ret = audit_verify(ctx->db, &r);
	if (ret < 0) {
		fprintf(ctx->err,
			"the audit log could not be read (%s); check the log messages above, "
			"then try again\n",
			strerror(-ret));
		return 1;
	}
	audit_hex(r.head_hash, hex);
	if (ret == 0) {
		fprintf(ctx->out, "audit log intact: %" PRId64 " entries, head %" PRId64 " %s\n",
			r.entries, r.head_id, hex);
		return EXIT_OK;
	}
	fprintf(ctx->out,
		"audit log BROKEN at row %" PRId64 ": %s (%" PRId64 " entries, head %" PRId64
		" %s)\n",
		r.first_bad, r.reason, r.entries, r.head_id, hex);
	fprintf(ctx->err,
		"The audit log was altered outside the appliance. Do not change anything: copy "
		"the data directory as evidence and report it to the city's security contact.\n");
	return 1;
}
