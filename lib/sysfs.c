/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

static _Thread_local char load_error[512];

int sysfs_fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(load_error, sizeof(load_error), fmt, ap);
	va_end(ap);
	return err;
}

IOMMUFD_EXPORT const char *iommufd_topo_load_error(void)
{
	return load_error;
}

void recorder_free(struct recorder *rec)
{
	if (!rec)
		return;
	str_set_free(&rec->paths);
	free(rec);
}

void sysfs_note(struct sysfs *fs, const char *path)
{
	/* A failed note only makes a snapshot less complete; loading goes on. */
	if (fs->rec)
		(void)str_set_add(&fs->rec->paths, path, NULL);
}

/* ---- reading ---- */

int sysfs_open(struct sysfs *fs, const char *root, bool record)
{
	memset(fs, 0, sizeof(*fs));
	fs->rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fs->rootfd < 0)
		return -errno;
	fs->root = strdup(root);
	if (record)
		fs->rec = calloc(1, sizeof(*fs->rec));
	if (!fs->root || (record && !fs->rec)) {
		sysfs_close(fs);
		return -ENOMEM;
	}
	return 0;
}

void sysfs_close(struct sysfs *fs)
{
	if (fs->rootfd >= 0)
		close(fs->rootfd);
	fs->rootfd = -1;
	free(fs->root);
	fs->root = NULL;
	recorder_free(fs->rec);
	fs->rec = NULL;
}

int sysfs_read_file(struct sysfs *fs, const char *path, unsigned char **data, size_t *len)
{
	int fd = openat(fs->rootfd, path, O_RDONLY | O_CLOEXEC);
	size_t size = 0, cap = 4096;
	unsigned char *buf;

	if (fd < 0)
		return -errno;
	buf = malloc(cap);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t n;

		if (size == cap) {
			unsigned char *bigger = realloc(buf, cap * 2);

			if (!bigger) {
				free(buf);
				close(fd);
				return -ENOMEM;
			}
			buf = bigger;
			cap *= 2;
		}
		n = read(fd, buf + size, cap - size);
		if (n < 0) {
			int err = -errno;

			if (err == -EINTR)
				continue;
			free(buf);
			close(fd);
			return err;
		}
		if (n == 0)
			break;
		size += (size_t)n;
	}
	close(fd);
	*data = buf;
	*len = size;
	sysfs_note(fs, path);
	return 0;
}

int sysfs_read_text(struct sysfs *fs, const char *path, char *buf, size_t size)
{
	int fd = openat(fs->rootfd, path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	do
		n = read(fd, buf, size - 1);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	close(fd);
	buf[n] = '\0';
	if (memchr(buf, '\0', (size_t)n))
		return -EINVAL;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	sysfs_note(fs, path);
	return 0;
}

int sysfs_readlink(struct sysfs *fs, const char *path, char *buf, size_t size)
{
	ssize_t n = readlinkat(fs->rootfd, path, buf, size - 1);

	if (n < 0)
		return -errno;
	if ((size_t)n >= size - 1)
		return -ENAMETOOLONG;
	buf[n] = '\0';
	sysfs_note(fs, path);
	return 0;
}

int sysfs_link_name(struct sysfs *fs, const char *path, char *buf, size_t size)
{
	char target[4096];
	const char *base;
	int err = sysfs_readlink(fs, path, target, sizeof(target));

	if (err)
		return err;
	size_t len;

	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	len = strlen(base);
	if (len == 0 || len >= size)
		return -EINVAL;
	memcpy(buf, base, len + 1);
	return 0;
}

bool sysfs_exists(struct sysfs *fs, const char *path)
{
	if (faccessat(fs->rootfd, path, F_OK, 0) != 0)
		return false;
	sysfs_note(fs, path);
	return true;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int sysfs_list_dir(struct sysfs *fs, const char *path, struct ptr_vec *names)
{
	int fd = openat(fs->rootfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;
	DIR *dir;
	int err = 0;

	memset(names, 0, sizeof(*names));
	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (!dir) {
		err = -errno;
		close(fd);
		return err;
	}
	while ((de = readdir(dir))) {
		char *name;

		if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
			continue;
		name = strdup(de->d_name);
		if (!name || ptr_vec_push(names, name)) {
			free(name);
			err = -ENOMEM;
			break;
		}
	}
	closedir(dir);
	if (err) {
		sysfs_free_names(names);
		return err;
	}
	if (names->count > 1)
		qsort(names->items, names->count, sizeof(*names->items), cmp_names);
	sysfs_note(fs, path);
	/* What a listing showed is part of what was read: a snapshot keeps every entry. */
	for (size_t i = 0; fs->rec && i < names->count; i++) {
		char entry[4096];

		if ((size_t)snprintf(entry, sizeof(entry), "%s/%s", path, (char *)names->items[i]) < sizeof(entry))
			sysfs_note(fs, entry);
	}
	return 0;
}

void sysfs_free_names(struct ptr_vec *names)
{
	for (size_t i = 0; i < names->count; i++)
		free(names->items[i]);
	ptr_vec_free(names);
}
