/*
 * Helpers the tests share: temporary directories, a raw look into a
 * SQLite file, whole-file reads and writes. The ones marked "asserts" fail
 * the running cmocka test instead of returning an error.
 */
#ifndef FAKES_TEST_UTIL_H
#define FAKES_TEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

/*
 * Make a new directory NAME.XXXXXX under $HE_TEST_TMP (P_tmpdir when unset
 * or empty), creating $HE_TEST_TMP if needed; its path goes to out.
 * @retval 0 made
 * @retval -ENAMETOOLONG the path does not fit in cap
 * @retval -errno from mkdtemp()
 */
int test_tmpdir(char *out, size_t cap, const char *name);

/*
 * Remove path and everything below it (symbolic links are not followed).
 * @retval 0 removed
 * @retval -errno the first failure; the walk stops there
 */
int test_rmtree(const char *path);

/* Run SQL that yields one row and return its first column (asserts). */
int64_t test_sql_int(sqlite3 *db, const char *sql);

/* The rows of table whose column equals value (a bound parameter) (asserts). */
int64_t test_sql_count(sqlite3 *db, const char *table, const char *column, const char *value);

/* Run SQL that yields one row; its first column as text into out (asserts). */
void test_sql_text(sqlite3 *db, const char *sql, char *out, size_t cap);

/* Run SQL statements, failing the test with SQLite's message on error (asserts). */
void test_sql_exec(sqlite3 *db, const char *sql);

/* A loopback TCP port nobody listens on (bound, read, closed) (asserts). */
uint16_t test_free_port(void);

/* True when path exists (anything at all, not followed through a dangling link). */
bool test_file_exists(const char *path);

/*
 * Read a whole file into a new buffer with a NUL after the last byte; the
 * caller frees it. *len is the file's size (asserts the file can be read).
 */
void *test_file_read(const char *path, size_t *len);

/* Create or replace path with len bytes of data (asserts). */
void test_file_write(const char *path, const void *data, size_t len);

#endif /* FAKES_TEST_UTIL_H */
