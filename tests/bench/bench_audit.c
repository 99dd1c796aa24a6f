/*
 * Audit log speed on this machine, on a real database in a temporary
 * directory: appends per second each in its own transaction (one fsync per
 * entry, synchronous=FULL, what a staff action costs), appends per second
 * inside a caller's transaction (the hashing and SQL alone), and the time
 * audit_verify takes to walk the whole chain. It prints figures and
 * asserts nothing.
 *
 * Usage: bench_audit [ENTRIES [OWN_TX_APPENDS]]   (default: 100000 1000)
 * Set HE_TEST_TMP to choose where the database is made (default: /tmp).
 */
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fw/audit.h"
#include "fw/log.h"
#include "fw/store.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(p);
}

int main(int argc, char **argv)
{
	long total = argc > 1 ? atol(argv[1]) : 100000;
	long own = argc > 2 ? atol(argv[2]) : 1000;
	const char *base = getenv("HE_TEST_TMP");
	struct audit_verify_result r;
	struct audit_entry e = {
		.actor = "zhang01",
		.role = "staff",
		.action = "order.reply",
		.target = "WO-2024-000123",
		.outcome = "ok",
		.detail = "{\"window\":3,\"note\":\"已答复\"}",
	};
	char dir[PATH_MAX];
	sqlite3 *db = NULL;
	double t0, t;
	long done = 0;
	int ret = 1;

	if (total < 1 || own < 0 || own > total) {
		fprintf(stderr, "usage: bench_audit [ENTRIES [OWN_TX_APPENDS]]\n");
		return 2;
	}
	log_set_level(LOG_LVL_WARN);
	snprintf(dir, sizeof(dir), "%s/bench_audit.XXXXXX", base && *base ? base : "/tmp");
	if (mkdtemp(dir) == NULL || store_init(dir, NULL) != 0 || store_open(dir, &db) != 0) {
		fprintf(stderr, "cannot make a database in %s\n", dir);
		return 1;
	}

	t0 = now_ms();
	for (; done < own; done++) {
		if (audit_append(db, &e) != 0) {
			goto out;
		}
	}
	t = now_ms() - t0;
	if (own > 0) {
		printf("append, own transaction each:  %8.0f entries/s (%.3f ms each, %ld "
		       "entries)\n",
		       own / t * 1000.0, t / own, own);
	}

	t0 = now_ms();
	while (done < total) {
		if (store_begin(db) != 0) {
			goto out;
		}
		for (int i = 0; i < 1000 && done < total; i++, done++) {
			if (audit_append(db, &e) != 0) {
				store_rollback(db);
				goto out;
			}
		}
		if (store_commit(db) != 0) {
			goto out;
		}
	}
	t = now_ms() - t0;
	if (total > own) {
		printf("append, 1000 per transaction:  %8.0f entries/s (%.3f ms each, %ld "
		       "entries)\n",
		       (total - own) / t * 1000.0, t / (total - own), total - own);
	}

	t0 = now_ms();
	if (audit_verify(db, &r) != 0) {
		goto out;
	}
	t = now_ms() - t0;
	printf("verify %lld entries:           %8.1f ms (%.2f us per entry)\n",
	       (long long)r.entries, t, t * 1000.0 / (double)r.entries);
	ret = 0;
out:
	if (ret != 0) {
		fprintf(stderr, "the benchmark failed after %ld appends\n", done);
	}
	store_close(db);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return ret;
}
