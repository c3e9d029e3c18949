/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Snapshots: the recorded paths as a POSIX tar archive.  sysfs attributes
 * claim a size of 4096 whatever they hold, so general-purpose tar programs
 * pad them with zeros; here every file is read first and stored at its real
 * length.  Symlinks are kept as links, so the extracted tree has the same
 * shape as sysfs and the same code reads it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

enum entry_kind { ENTRY_DIR = '5', ENTRY_FILE = '0', ENTRY_LINK = '2' };

struct entry {
	char kind;
	char *path;
	char *target; /* links */
};

struct entries {
	struct ptr_vec list;
	struct str_set seen;
};

static int add_entry(struct entries *e, char kind, const char *path, const char *target)
{
	struct entry *ent;
	bool added;
	int err = str_set_add(&e->seen, path, &added);

	if (err || !added)
		return err;
	ent = calloc(1, sizeof(*ent));
	if (!ent)
		return -ENOMEM;
	ent->kind = kind;
	ent->path = strdup(path);
	ent->target = target ? strdup(target) : NULL;
	if (!ent->path || (target && !ent->target) || ptr_vec_push(&e->list, ent)) {
		free(ent->path);
		free(ent->target);
		free(ent);
		return -ENOMEM;
	}
	return 0;
}

/* Resolve @target relative to the directory of @link; -EXDEV if it leaves the root. */
static int resolve_link(const char *link, const char *target, char *out, size_t size)
{
	char buf[8192];
	char *parts[512];
	size_t n = 0;
	const char *slash = strrchr(link, '/');

	if (target[0] == '/')
		return -EXDEV;
	if (slash)
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)(slash - link), link, target);
	else
		snprintf(buf, sizeof(buf), "%s", target);
	for (char *save = NULL, *tok = strtok_r(buf, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		if (strcmp(tok, ".") == 0)
			continue;
		if (strcmp(tok, "..") == 0) {
			if (n == 0)
				return -EXDEV;
			n--;
			continue;
		}
		if (n == 512)
			return -ENAMETOOLONG;
		parts[n++] = tok;
	}
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int len = snprintf(out + used, size - used, "%s%s", i ? "/" : "", parts[i]);

		if (len < 0 || (size_t)len >= size - used)
			return -ENAMETOOLONG;
		used += (size_t)len;
	}
	return n ? 0 : -EXDEV;
}

/*
 * Add every directory, link and file that reading @path went through;
 * @depth counts the links followed at the end of a path, which stop, as
 * the kernel's do, at 40 (a link to itself in a hand-edited tree).
 */
static int expand_path(struct entries *e, int rootfd, const char *path, unsigned int depth)
{
	char rest[4096], cur[4096] = "";
	char *save = NULL;
	int err = 0;

	snprintf(rest, sizeof(rest), "%s", path);
	for (char *comp = strtok_r(rest, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
		char cand[4096];
		struct stat st;
		bool last = save == NULL || *save == '\0';

		if (cur[0])
			snprintf(cand, sizeof(cand), "%s/%s", cur, comp);
		else
			snprintf(cand, sizeof(cand), "%s", comp);
		if (fstatat(rootfd, cand, &st, AT_SYMLINK_NOFOLLOW) != 0)
			return 0; /* vanished since it was read: leave it out */
		if (S_ISLNK(st.st_mode)) {
			char target[4096];
			ssize_t len = readlinkat(rootfd, cand, target, sizeof(target) - 1);

			if (len < 0)
				return 0;
			target[len] = '\0';
			err = add_entry(e, ENTRY_LINK, cand, target);
			if (err)
				return err;
			if (resolve_link(cand, target, cur, sizeof(cur)) != 0)
				return 0; /* absolute (proc fd links) or outside: the link is enough */
			if (last) {
				/* Keep the link's target directory so the link is not dangling. */
				return depth >= 40 ? -ELOOP : expand_path(e, rootfd, cur, depth + 1);
			}
			continue;
		}
		if (S_ISDIR(st.st_mode))
			err = add_entry(e, ENTRY_DIR, cand, NULL);
		else if (S_ISREG(st.st_mode) && last)
			err = add_entry(e, ENTRY_FILE, cand, NULL);
		else
			return 0;
		if (err)
			return err;
		snprintf(cur, sizeof(cur), "%s", cand);
	}
	return 0;
}

/* ---- tar output ---- */

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void octal(char *field, size_t width, unsigned long long value)
{
	snprintf(field, width, "%0*llo", (int)width - 1, value);
}

/* Copy a string into a fixed tar field; tar fields need no terminator when full. */
static void put_field(unsigned char *field, size_t width, const char *s)
{
	for (size_t i = 0; i < width && s[i]; i++)
		field[i] = (unsigned char)s[i];
}

static int write_header(int fd, const char *name, const char *prefix, char type, size_t size,
			const char *linkname, unsigned int mode)
{
	unsigned char block[512] = { 0 };
	unsigned int sum = 0;

	put_field(block, 100, name);
	octal((char *)block + 100, 8, mode);
	octal((char *)block + 108, 8, 0);
	octal((char *)block + 116, 8, 0);
	octal((char *)block + 124, 12, size);
	octal((char *)block + 136, 12, 0);
	block[156] = (unsigned char)type;
	if (linkname)
		put_field(block + 157, 100, linkname);
	put_field(block + 257, 6, "ustar");
	put_field(block + 263, 2, "00");
	put_field(block + 265, 32, "root");
	put_field(block + 297, 32, "root");
	if (prefix)
		put_field(block + 345, 155, prefix);
	memset(block + 148, ' ', 8);
	for (size_t i = 0; i < sizeof(block); i++)
		sum += block[i];
	snprintf((char *)block + 148, 8, "%06o", sum);
	block[155] = ' ';
	return write_all(fd, block, sizeof(block));
}

static int write_padded(int fd, const void *data, size_t len)
{
	static const unsigned char zeros[512];
	int err = write_all(fd, data, len);

	if (!err && len % 512)
		err = write_all(fd, zeros, 512 - len % 512);
	return err;
}

/* A pax record "LEN key=value\n", where LEN counts itself. */
static int pax_record(char *buf, size_t size, const char *key, const char *value)
{
	size_t body = strlen(key) + strlen(value) + 3, len = body + 1;

	while (len != body + (size_t)snprintf(NULL, 0, "%zu", len))
		len = body + (size_t)snprintf(NULL, 0, "%zu", len);
	return snprintf(buf, size, "%zu %s=%s\n", len, key, value);
}

static int write_entry(int fd, const struct entry *ent, const unsigned char *data, size_t size)
{
	char path[4200], name[101] = "", prefix[156] = "";
	const char *link = ent->target;
	bool long_path = false, long_link = link && strlen(link) > 100;
	size_t plen;

	snprintf(path, sizeof(path), "%s%s", ent->path, ent->kind == ENTRY_DIR ? "/" : "");
	plen = strlen(path);
	if (plen <= 100) {
		memcpy(name, path, plen + 1);
	} else {
		/* ustar splits at a slash into prefix (155) and name (100). */
		const char *split = NULL;

		for (const char *s = path + plen - 1; s > path; s--)
			if (*s == '/' && (size_t)(s - path) <= 155 && strlen(s + 1) <= 100 && s[1]) {
				split = s;
				break;
			}
		if (split) {
			memcpy(prefix, path, (size_t)(split - path));
			snprintf(name, sizeof(name), "%s", split + 1);
		} else {
			long_path = true;
			snprintf(name, sizeof(name), "%.100s", path);
		}
	}
	if (long_path || long_link) {
		char pax[9000];
		int n = 0;

		if (long_path)
			n += pax_record(pax + n, sizeof(pax) - (size_t)n, "path", path);
		if (long_link)
			n += pax_record(pax + n, sizeof(pax) - (size_t)n, "linkpath", link);
		int err = write_header(fd, "PaxHeader", NULL, 'x', (size_t)n, NULL, 0644);
		if (!err)
			err = write_padded(fd, pax, (size_t)n);
		if (err)
			return err;
		prefix[0] = '\0';
	}
	char short_link[101] = "";
	if (link)
		snprintf(short_link, sizeof(short_link), "%.100s", link);
	int err = write_header(fd, name, prefix[0] ? prefix : NULL, ent->kind, size,
			       link ? short_link : NULL, ent->kind == ENTRY_FILE ? 0644 : 0755);
	if (!err && ent->kind == ENTRY_FILE && size)
		err = write_padded(fd, data, size);
	return err;
}

static int cmp_entries(const void *a, const void *b)
{
	const struct entry *x = *(struct entry *const *)a, *y = *(struct entry *const *)b;

	return strcmp(x->path, y->path);
}

int recorder_write_tar(struct recorder *rec, struct sysfs *fs, int fd)
{
	static const unsigned char end[1024];
	struct entries e = { 0 };
	int err = 0;

	for (size_t i = 0; i < rec->paths.cap && !err; i++)
		if (rec->paths.slots[i])
			err = expand_path(&e, fs->rootfd, rec->paths.slots[i], 0);
	if (!err && e.list.count > 1)
		qsort(e.list.items, e.list.count, sizeof(void *), cmp_entries);
	for (size_t i = 0; i < e.list.count && !err; i++) {
		struct entry *ent = e.list.items[i];
		unsigned char *data = NULL;
		size_t size = 0;

		if (ent->kind == ENTRY_FILE) {
			/* Read past the recorder: these reads are the archive, not the model. */
			struct sysfs quiet = *fs;

			quiet.rec = NULL;
			if (sysfs_read_file(&quiet, ent->path, &data, &size) != 0)
				continue;
		}
		err = write_entry(fd, ent, data, size);
		free(data);
	}
	if (!err)
		err = write_all(fd, end, sizeof(end));
	for (size_t i = 0; i < e.list.count; i++) {
		struct entry *ent = e.list.items[i];

		free(ent->path);
		free(ent->target);
		free(ent);
	}
	ptr_vec_free(&e.list);
	str_set_free(&e.seen);
	return err;
}
