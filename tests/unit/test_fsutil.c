/* Durable file writes: content, mode, no-replace, no leftovers, moves. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fw/fsutil.h"
#include "test_util.h"

static char dir[PATH_MAX];

static int setup(void **state)
{
	return test_tmpdir(dir, sizeof(dir), "test_fsutil");
}

static int teardown(void **state)
{
	return test_rmtree(dir);
}

static void path_of(char *out, const char *name)
{
	assert_true(snprintf(out, PATH_MAX, "%s/%s", dir, name) < PATH_MAX);
}

static void assert_content(const char *path, const char *want)
{
	char buf[256];
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

/* Only the named files are in the directory: no temporary file was left. */
static int entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			n++;
		}
	}
	closedir(d);
	return n;
}

static void test_write_replace_and_mode(void **state)
{
	char p[PATH_MAX];
	struct stat sb;

	path_of(p, "a.txt");
	assert_int_equal(fs_write_atomic(p, "first", 5, 0600, 0), 0);
	assert_content(p, "first");
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(fs_write_atomic(p, "second!", 7, 0644, 0), 0);
	assert_content(p, "second!");
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0644);
	/* Empty content is a valid file. */
	assert_int_equal(fs_write_atomic(p, "", 0, 0600, 0), 0);
	assert_content(p, "");
	assert_int_equal(entries(), 1);
}

static void test_noreplace_keeps_existing(void **state)
{
	char p[PATH_MAX];

	path_of(p, "key");
	assert_int_equal(fs_write_atomic(p, "original", 8, 0600, FS_NOREPLACE), 0);
	assert_int_equal(fs_write_atomic(p, "intruder", 8, 0600, FS_NOREPLACE), -EEXIST);
	assert_content(p, "original");
	assert_int_equal(entries(), 2); /* a.txt from before, and key */
}

static void test_failure_leaves_nothing(void **state)
{
	char p[PATH_MAX];

	/* The directory does not exist: the temporary file cannot be made. */
	path_of(p, "missing/x");
	assert_int_equal(fs_write_atomic(p, "x", 1, 0600, 0), -ENOENT);
	/* Too long a name. */
	memset(p, 'a', sizeof(p) - 1);
	p[sizeof(p) - 1] = '\0';
	assert_int_equal(fs_write_atomic(p, "x", 1, 0600, 0), -ENAMETOOLONG);
	/* A directory in the way of a replacing rename. */
	path_of(p, "sub");
	assert_int_equal(mkdir(p, 0700), 0);
	assert_true(fs_write_atomic(p, "x", 1, 0600, 0) < 0);
	assert_int_equal(entries(), 3); /* a.txt, key, sub */
	assert_int_equal(rmdir(p), 0);
}

static void test_move_noreplace(void **state)
{
	char from[PATH_MAX], to[PATH_MAX];

	path_of(from, "m1");
	path_of(to, "m2");
	assert_int_equal(fs_write_atomic(from, "one", 3, 0600, 0), 0);
	assert_int_equal(fs_move_noreplace(from, to), 0);
	assert_int_equal(access(from, F_OK), -1);
	assert_content(to, "one");
	assert_int_equal(fs_write_atomic(from, "two", 3, 0600, 0), 0);
	assert_int_equal(fs_move_noreplace(from, to), -EEXIST);
	assert_content(to, "one");
	assert_content(from, "two");
	assert_int_equal(fs_fsync_dir_of(to), 0);
	assert_int_equal(fs_fsync_dir(dir), 0);
	assert_int_equal(fs_fsync_dir_of("relative-name"), 0);
	assert_true(fs_fsync_dir("/nonexistent-dir-for-test") < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_replace_and_mode),
		cmocka_unit_test(test_noreplace_keeps_existing),
		cmocka_unit_test(test_failure_leaves_nothing),
		cmocka_unit_test(test_move_noreplace),
	};
	return cmocka_run_group_tests_name("fsutil", tests, setup, teardown);
}
