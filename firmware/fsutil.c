/*
 * Durable file writes (see fw/fsutil.h). The one rule: data is fsynced
 * before the name points at it, and the directory is fsynced after, so
 * the rename itself is on disk before the caller reports success.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fw/fsutil.h"

int fs_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0) {
		return -errno;
	}
	if (fsync(fd) != 0) {
		ret = -errno;
	}
	close(fd);
	return ret;
}

int fs_fsync_dir_of(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');

	if (slash == NULL) {
		return fs_fsync_dir(".");
	}
	if (slash == path) {
		return fs_fsync_dir("/");
	}
	if ((size_t)(slash - path) >= sizeof(dir)) {
		return -ENAMETOOLONG;
	}
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	return fs_fsync_dir(dir);
}

static int write_all(int fd, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t done = 0;

	while (done < len) {
		ssize_t w = write(fd, p + done, len - done);

		if (w < 0 && errno == EINTR) {
			continue;
		}
		if (w <= 0) {
			return w < 0 ? -errno : -EIO;
		}
		done += (size_t)w;
	}
	return 0;
}

int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode, unsigned flags)
{
	bool noreplace = flags & FS_NOREPLACE;
	char tmp[PATH_MAX];
	int fd, ret = 0;
	int n = snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path);

	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		return -ENAMETOOLONG;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		return -errno;
	}
	if (fchmod(fd, mode) != 0) {
		ret = -errno;
	}
	if (ret == 0) {
		ret = write_all(fd, data, len);
	}
	if (ret == 0 && fsync(fd) != 0) {
		ret = -errno;
	}
	if (close(fd) != 0 && ret == 0) {
		ret = -errno;
	}
	if (ret == 0) {
		/* link() never replaces: two writers of a key cannot overwrite each other. */
		if (noreplace) {
			ret = link(tmp, path) == 0 ? 0 : -errno;
		} else {
			ret = rename(tmp, path) == 0 ? 0 : -errno;
		}
	}
	if (ret < 0 || noreplace) {
		unlink(tmp);
	}
	if (ret == 0) {
		ret = fs_fsync_dir_of(path);
	}
	return ret;
}

int fs_move_noreplace(const char *from, const char *to)
{
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) != 0) {
		if (errno != EINVAL && errno != ENOSYS) {
			return -errno;
		}
		/* A file system without RENAME_NOREPLACE: link refuses to overwrite too. */
		if (link(from, to) != 0) {
			return -errno;
		}
		if (unlink(from) != 0) {
			return -errno;
		}
	}
	return fs_fsync_dir_of(to);
}
