/*
 * Files that must survive a power cut whole or not at all: keys,
 * certificates, backups, the boot choice. Every writer here goes through a
 * temporary name, fsync, rename (or link, which never replaces), and an
 * fsync of the directory, so after a cut the file is either the old one,
 * the new one, or absent — never half-written.
 */
#ifndef FW_FSUTIL_H
#define FW_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

/* fs_write_atomic() flags */
#define FS_NOREPLACE 1u /* fail with -EEXIST when path already exists */

/*
 * Write data as the whole content of path with the given mode.
 * @retval 0 written and durable
 * @retval -EEXIST with FS_NOREPLACE, path exists (left untouched)
 * @retval -ENAMETOOLONG, -ENOSPC, -EIO, -EACCES ... nothing is left behind
 */
int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode, unsigned flags);

/* fsync the directory that holds path ("a/b" -> "a", "b" -> "."). */
int fs_fsync_dir_of(const char *path);

/* fsync a directory. */
int fs_fsync_dir(const char *dir);

/*
 * Rename from to to, never replacing an existing to (RENAME_NOREPLACE, or
 * link + unlink on file systems without it), then fsync the directory.
 * @retval 0, -EEXIST, -errno
 */
int fs_move_noreplace(const char *from, const char *to);

#endif /* FW_FSUTIL_H */
