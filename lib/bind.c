/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <libudev.h>

#include "internal.h"
#include "iommufd/bind.h"

extern char **environ;

struct iommufd_binder {
	char root[PATH_MAX];    /* "" for the live system, else the sysroot without trailing '/' */
	char journal[PATH_MAX];
	char owner[64];
	unsigned int timeout_ms;
	const char *wait_method;
	char skipped[16][256]; /* files of the last journal list that are not entries */
	size_t nskipped;
};

/* ---- small file helpers ---- */

static void rpath(const char *root, char *out, size_t size, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void rpath(const char *root, char *out, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(out, size, "%s", root);

	va_start(ap, fmt);
	vsnprintf(out + n, size - (size_t)n, fmt, ap);
	va_end(ap);
}

static int read_line(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	buf[0] = '\0';
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* Write @text in one write(2), as sysfs wants; the kernel's answer is the errno. */
static int write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;
	int err = 0;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	if (n < 0)
		err = -errno;
	if (close(fd) != 0 && !err && errno != EINTR)
		err = -errno;
	return err;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static bool valid_name(const char *s, size_t max)
{
	size_t len = strlen(s);

	if (len == 0 || len >= max || s[0] == '.')
		return false;
	for (; *s; s++)
		if (*s == '/' || *s <= ' ' || *s == 0x7f)
			return false;
	return true;
}

/* ---- binder ---- */

IOMMUFD_EXPORT int iommufd_binder_new(const char *sysroot, const char *journal_dir, struct iommufd_binder **out)
{
	struct iommufd_binder *b = calloc(1, sizeof(*b));

	*out = NULL;
	if (!b)
		return -ENOMEM;
	if (sysroot && strcmp(sysroot, "/") != 0) {
		snprintf(b->root, sizeof(b->root), "%s", sysroot);
		for (size_t n = strlen(b->root); n > 1 && b->root[n - 1] == '/'; n--)
			b->root[n - 1] = '\0';
	}
	snprintf(b->journal, sizeof(b->journal), "%s", journal_dir ? journal_dir : IOMMUFD_JOURNAL_DIR);
	b->timeout_ms = 5000;
	b->wait_method = "none";
	*out = b;
	return 0;
}

IOMMUFD_EXPORT void iommufd_binder_free(struct iommufd_binder *b)
{
	free(b);
}

IOMMUFD_EXPORT void iommufd_binder_set_timeout(struct iommufd_binder *b, unsigned int timeout_ms)
{
	b->timeout_ms = timeout_ms;
}

IOMMUFD_EXPORT int iommufd_binder_set_owner(struct iommufd_binder *b, const char *owner)
{
	if (!owner)
		owner = "";
	/* One line of the journal: no newline, and short enough to read back whole. */
	if (strlen(owner) >= sizeof(b->owner) || strchr(owner, '\n'))
		return -EINVAL;
	snprintf(b->owner, sizeof(b->owner), "%s", owner);
	return 0;
}

IOMMUFD_EXPORT const char *iommufd_binder_journal_dir(const struct iommufd_binder *b)
{
	return b->journal;
}

IOMMUFD_EXPORT const char *iommufd_binder_wait_method(const struct iommufd_binder *b)
{
	return b->wait_method;
}

/* mkdir -p, mode 0700 for what it creates: a sysroot or a chosen journal may lack the parents. */
static int make_dir(const char *path)
{
	char parent[PATH_MAX];
	char *slash;

	if (mkdir(path, 0700) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT || snprintf(parent, sizeof(parent), "%s", path) >= (int)sizeof(parent))
		return -errno;
	slash = strrchr(parent, '/');
	if (!slash || slash == parent)
		return -ENOENT;
	*slash = '\0';
	if (make_dir(parent) != 0)
		return -ENOENT;
	return mkdir(path, 0700) == 0 || errno == EEXIST ? 0 : -errno;
}

/* Create the journal directory and its "devices" and "locks" children. */
static int journal_dirs(struct iommufd_binder *b)
{
	char path[PATH_MAX + 16];
	int err = make_dir(b->journal);

	snprintf(path, sizeof(path), "%s/devices", b->journal);
	if (!err)
		err = make_dir(path);
	snprintf(path, sizeof(path), "%s/locks", b->journal);
	if (!err)
		err = make_dir(path);
	return err;
}

IOMMUFD_EXPORT int iommufd_binder_lock(struct iommufd_binder *b, const char *name, int *fd)
{
	char path[PATH_MAX + 80];
	int err, lfd;

	*fd = -1;
	if (!valid_name(name, 64))
		return -EINVAL;
	err = journal_dirs(b);
	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/locks/%s", b->journal, name);
	lfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lfd < 0)
		return -errno;
	while (flock(lfd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			err = -errno;
			close(lfd);
			return err;
		}
	}
	*fd = lfd;
	return 0;
}

IOMMUFD_EXPORT void iommufd_binder_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* releases the flock */
}

/* ---- drivers ---- */

static bool driver_exists(struct iommufd_binder *b, const char *driver)
{
	char path[PATH_MAX + 128];

	rpath(b->root, path, sizeof(path), "/sys/bus/pci/drivers/%s", driver);
	return access(path, F_OK) == 0;
}

IOMMUFD_EXPORT int iommufd_binder_driver_load(struct iommufd_binder *b, const char *driver)
{
	if (!valid_name(driver, 64))
		return -EINVAL;
	if (driver_exists(b, driver))
		return 0;
	if (b->root[0])
		return -ENOENT;
	/* The module of driver "vfio-pci" is vfio_pci; modprobe treats '-' and '_' alike. */
	(void)run_modprobe(driver);
	return driver_exists(b, driver) ? 0 : -ENOENT;
}

IOMMUFD_EXPORT bool iommufd_binder_driver_is_vfio(struct iommufd_binder *b, const char *driver)
{
	char path[PATH_MAX + 128], mod[PATH_MAX + 128], holder[PATH_MAX + 128];
	const char *name;

	if (strcmp(driver, "vfio-pci") == 0)
		return true;
	rpath(b->root, path, sizeof(path), "/sys/bus/pci/drivers/%s/module", driver);
	ssize_t n = readlink(path, mod, sizeof(mod) - 1);
	if (n <= 0)
		return false;
	mod[n] = '\0';
	name = strrchr(mod, '/');
	name = name ? name + 1 : mod;
	rpath(b->root, holder, sizeof(holder), "/sys/module/vfio_pci_core/holders/%s", name);
	return access(holder, F_OK) == 0;
}

IOMMUFD_EXPORT int iommufd_binder_state(struct iommufd_binder *b, const char *address, char driver[64],
					char override[64])
{
	char path[PATH_MAX + 128], link[PATH_MAX];
	ssize_t n;

	driver[0] = override[0] = '\0';
	rpath(b->root, path, sizeof(path), "/sys/bus/pci/devices/%s", address);
	if (!valid_name(address, 16) || access(path, F_OK) != 0)
		return -ENODEV;
	rpath(b->root, path, sizeof(path), "/sys/bus/pci/devices/%s/driver", address);
	n = readlink(path, link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = '\0';
		snprintf(driver, 64, "%.63s", strrchr(link, '/') ? strrchr(link, '/') + 1 : link);
	}
	rpath(b->root, path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", address);
	if (read_line(path, override, 64) != 0 || strcmp(override, "(null)") == 0)
		override[0] = '\0';
	return 0;
}

/* ---- journal ---- */

static void entry_path(struct iommufd_binder *b, const char *address, char *out, size_t size, bool tmp)
{
	snprintf(out, size, "%s/devices/%s%s", b->journal, address, tmp ? ".tmp" : "");
}

/* Parse "key=value" lines; unknown keys are ignored (newer writers). */
static int parse_entry(const char *text, struct iommufd_journal_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->group = -1;
	for (const char *line = text; *line;) {
		const char *end = strchr(line, '\n'), *eq = strchr(line, '=');
		size_t len = end ? (size_t)(end - line) : strlen(line);

		if (eq && eq < line + len) {
			char value[80];
			size_t klen = (size_t)(eq - line), vlen = len - klen - 1;

			if (vlen >= sizeof(value))
				return -EINVAL;
			memcpy(value, eq + 1, vlen);
			value[vlen] = '\0';
#define KEY(k) (klen == strlen(k) && strncmp(line, k, klen) == 0)
			if (KEY("address"))
				snprintf(e->address, sizeof(e->address), "%.15s", value);
			else if (KEY("original_driver"))
				snprintf(e->original_driver, sizeof(e->original_driver), "%.63s", value);
			else if (KEY("original_driver_override"))
				snprintf(e->original_override, sizeof(e->original_override), "%.63s", value);
			else if (KEY("driver"))
				snprintf(e->driver, sizeof(e->driver), "%.63s", value);
			else if (KEY("time"))
				e->time = strtoll(value, NULL, 10);
			else if (KEY("pid"))
				e->pid = (pid_t)strtol(value, NULL, 10);
			else if (KEY("group"))
				e->group = (int)strtol(value, NULL, 10);
			else if (KEY("owner"))
				snprintf(e->owner, sizeof(e->owner), "%.63s", value);
#undef KEY
		}
		line += len + (end ? 1 : 0);
	}
	return e->address[0] && e->driver[0] ? 0 : -EINVAL;
}

IOMMUFD_EXPORT int iommufd_binder_journal(struct iommufd_binder *b, const char *address,
					  struct iommufd_journal_entry *entry)
{
	char path[PATH_MAX + 64], text[1024];
	struct stat st;
	int fd, err;
	ssize_t n;

	if (!valid_name(address, 16))
		return -EINVAL;
	entry_path(b, address, path, sizeof(path), false);
	/* Only a small regular file: a FIFO must not block, a link not lead elsewhere. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ENOENT : -EIO;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size >= (off_t)sizeof(text)) {
		close(fd);
		return -EIO;
	}
	n = read(fd, text, sizeof(text) - 1);
	err = n < 0 ? -errno : 0;
	close(fd);
	if (err)
		return err;
	text[n] = '\0';
	if (parse_entry(text, entry) || strcmp(entry->address, address) != 0)
		return -EIO;
	return 0;
}

/* Write the entry to a temporary file, fsync it, rename it into place, fsync the directory. */
static int journal_write(struct iommufd_binder *b, const struct iommufd_journal_entry *e)
{
	char tmp[PATH_MAX + 64], path[PATH_MAX + 64], dir[PATH_MAX + 16], text[1024];
	int fd, dfd, err = journal_dirs(b);

	if (err)
		return err;
	snprintf(text, sizeof(text),
		 "address=%s\noriginal_driver=%s\noriginal_driver_override=%s\ndriver=%s\ntime=%lld\npid=%d\ngroup=%d\n"
		 "owner=%s\n",
		 e->address, e->original_driver, e->original_override, e->driver, (long long)e->time, (int)e->pid,
		 e->group, e->owner);
	entry_path(b, e->address, tmp, sizeof(tmp), true);
	entry_path(b, e->address, path, sizeof(path), false);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text) || fsync(fd) != 0)
		err = errno ? -errno : -EIO;
	if (close(fd) != 0 && !err)
		err = -errno;
	if (!err && rename(tmp, path) != 0)
		err = -errno;
	if (err) {
		unlink(tmp);
		return err;
	}
	snprintf(dir, sizeof(dir), "%s/devices", b->journal);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		if (fsync(dfd) != 0)
			err = -errno;
		close(dfd);
	}
	return err;
}

static int journal_remove(struct iommufd_binder *b, const char *address)
{
	char path[PATH_MAX + 64], dir[PATH_MAX + 16];
	int dfd;

	entry_path(b, address, path, sizeof(path), false);
	if (unlink(path) != 0 && errno != ENOENT)
		return -errno;
	snprintf(dir, sizeof(dir), "%s/devices", b->journal);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	return 0;
}

IOMMUFD_EXPORT const char *iommufd_binder_journal_skipped(const struct iommufd_binder *b, size_t i)
{
	return i < b->nskipped ? b->skipped[i] : NULL;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct iommufd_journal_entry *)a)->address,
		      ((const struct iommufd_journal_entry *)b)->address);
}

IOMMUFD_EXPORT int iommufd_binder_journal_list(struct iommufd_binder *b, struct iommufd_journal_entry **entries,
					       size_t *count)
{
	char dir[PATH_MAX + 16];
	struct iommufd_journal_entry *arr = NULL;
	size_t n = 0, cap = 0;
	struct dirent *d;
	DIR *dp;
	int err = 0;

	*entries = NULL;
	*count = 0;
	b->nskipped = 0;
	snprintf(dir, sizeof(dir), "%s/devices", b->journal);
	dp = opendir(dir);
	if (!dp)
		return errno == ENOENT ? 0 : -errno;
	while ((d = readdir(dp))) {
		size_t len = strlen(d->d_name);

		/* Dot files, and "*.tmp" left by a crash in the middle of a write (the change never started). */
		if (d->d_name[0] == '.' || (len > 4 && strcmp(d->d_name + len - 4, ".tmp") == 0))
			continue;
		if (n == cap) {
			struct iommufd_journal_entry *grown = realloc(arr, (cap = cap ? cap * 2 : 8) * sizeof(*arr));

			if (!grown) {
				err = -ENOMEM;
				break;
			}
			arr = grown;
		}
		err = iommufd_binder_journal(b, d->d_name, &arr[n]);
		if (err == -ENOENT) {
			err = 0; /* removed meanwhile */
			continue;
		}
		if (err) {
			/* Not an entry (empty, a README, an editor's backup, a FIFO): named, skipped. */
			if (b->nskipped < sizeof(b->skipped) / sizeof(b->skipped[0]))
				snprintf(b->skipped[b->nskipped++], sizeof(b->skipped[0]), "%s", d->d_name);
			err = 0;
			continue;
		}
		n++;
	}
	closedir(dp);
	if (err) {
		free(arr);
		return err;
	}
	if (n)
		qsort(arr, n, sizeof(*arr), cmp_entry);
	else {
		free(arr);
		arr = NULL;
	}
	*entries = arr;
	*count = n;
	return 0;
}

/* ---- waiting ---- */

/* Whether the device is on @driver ("" = none) and, when @cdev, its VFIO cdev node is there. */
static bool reached(struct iommufd_binder *b, const char *address, const char *driver, bool cdev, int *gone)
{
	char drv[64], ovr[64], path[PATH_MAX + 128], text[32];
	struct dirent *d;
	DIR *dp;
	bool ok = false;

	*gone = iommufd_binder_state(b, address, drv, ovr);
	if (*gone || strcmp(drv, driver) != 0)
		return false;
	if (!cdev)
		return true;
	rpath(b->root, path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev", address);
	dp = opendir(path);
	if (!dp)
		return false;
	while ((d = readdir(dp))) {
		unsigned int major, minor;
		struct stat st;

		if (strncmp(d->d_name, "vfio", 4) != 0)
			continue;
		rpath(b->root, path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev/%.32s/dev", address, d->d_name);
		if (read_line(path, text, sizeof(text)) != 0 || sscanf(text, "%u:%u", &major, &minor) != 2)
			break;
		rpath(b->root, path, sizeof(path), "/dev/vfio/devices/%.32s", d->d_name);
		ok = stat(path, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(major, minor);
		break;
	}
	closedir(dp);
	return ok;
}

/*
 * A monitor of kernel uevents for PCI and vfio-dev devices.  Created before
 * the change so that no event is missed between the change and the wait.
 * Without udevd the "udev" source never delivers anything; the "kernel"
 * source is the kernel's own netlink multicast group, which needs no daemon.
 */
static struct udev_monitor *monitor_open(struct iommufd_binder *b, struct udev **udev)
{
	struct udev_monitor *mon;

	*udev = NULL;
	if (b->root[0])
		return NULL; /* a sysroot is a directory tree: no events */
	*udev = udev_new();
	if (!*udev)
		return NULL;
	mon = udev_monitor_new_from_netlink(*udev, "kernel");
	if (mon && (udev_monitor_filter_add_match_subsystem_devtype(mon, "pci", NULL) < 0 ||
		    udev_monitor_filter_add_match_subsystem_devtype(mon, "vfio-dev", NULL) < 0 ||
		    udev_monitor_enable_receiving(mon) < 0)) {
		udev_monitor_unref(mon);
		mon = NULL;
	}
	if (!mon) {
		udev_unref(*udev);
		*udev = NULL;
	}
	return mon;
}

static void monitor_close(struct udev_monitor *mon, struct udev *udev)
{
	if (mon)
		udev_monitor_unref(mon);
	if (udev)
		udev_unref(udev);
}

static int wait_for(struct iommufd_binder *b, struct udev_monitor *mon, const char *address, const char *driver,
		    bool cdev)
{
	uint64_t deadline = now_ms() + b->timeout_ms;
	int gone;

	b->wait_method = "none";
	while (!reached(b, address, driver, cdev, &gone)) {
		uint64_t now = now_ms();
		struct pollfd pfd;

		if (gone)
			return -ENODEV;
		if (now >= deadline)
			return -ETIMEDOUT;
		if (!mon) {
			/* No monitor (sandbox without netlink, or a sysroot): poll sysfs. */
			b->wait_method = "poll";
			usleep(5000);
			continue;
		}
		b->wait_method = "udev";
		pfd = (struct pollfd){ .fd = udev_monitor_get_fd(mon), .events = POLLIN };
		if (poll(&pfd, 1, (int)(deadline - now)) > 0) {
			struct udev_device *ev;

			while ((ev = udev_monitor_receive_device(mon)))
				udev_device_unref(ev);
		}
	}
	return 0;
}

/* ---- bind and restore ---- */

static int write_override(struct iommufd_binder *b, const char *address, const char *driver)
{
	char path[PATH_MAX + 128], text[72];

	rpath(b->root, path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", address);
	snprintf(text, sizeof(text), "%s\n", driver); /* a lone newline clears it */
	return write_text(path, text);
}

static int unbind_current(struct iommufd_binder *b, const char *address)
{
	char path[PATH_MAX + 128];
	int err;

	rpath(b->root, path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind", address);
	if (access(path, F_OK) != 0)
		return 0;
	err = write_text(path, address);
	return err == -ENODEV || err == -ENOENT ? 0 : err; /* unbound meanwhile */
}

static int probe_device(struct iommufd_binder *b, const char *address)
{
	char path[PATH_MAX + 64];

	rpath(b->root, path, sizeof(path), "/sys/bus/pci/drivers_probe");
	return write_text(path, address);
}

/* Whether the errno of a sysfs write means the device itself is gone. */
static bool device_gone(struct iommufd_binder *b, const char *address)
{
	char drv[64], ovr[64];

	return iommufd_binder_state(b, address, drv, ovr) == -ENODEV;
}

IOMMUFD_EXPORT int iommufd_binder_bind(struct iommufd_binder *b, const char *address, const char *driver, int group)
{
	struct iommufd_journal_entry e;
	struct udev_monitor *mon;
	struct udev *udev;
	char drv[64], ovr[64];
	int err;

	if (!valid_name(driver, 64))
		return -EINVAL;
	/* The journal entry's 16 bytes hold domains up to 0xfffffff (7 digits); never truncate. */
	if (strlen(address) >= sizeof(e.address))
		return -ENAMETOOLONG;
	err = iommufd_binder_state(b, address, drv, ovr);
	if (err)
		return err;
	/* The journal keeps the state before iommuctl's first change. */
	if (iommufd_binder_journal(b, address, &e) != 0) {
		memset(&e, 0, sizeof(e));
		snprintf(e.address, sizeof(e.address), "%.15s", address);
		snprintf(e.original_driver, sizeof(e.original_driver), "%.63s", drv);
		snprintf(e.original_override, sizeof(e.original_override), "%.63s", ovr);
		snprintf(e.owner, sizeof(e.owner), "%s", b->owner);
	}
	snprintf(e.driver, sizeof(e.driver), "%.63s", driver);
	e.time = (int64_t)time(NULL);
	e.pid = getpid();
	e.group = group;
	err = journal_write(b, &e);
	if (err)
		return err;

	mon = monitor_open(b, &udev);
	err = write_override(b, address, driver);
	if (!err && strcmp(drv, driver) != 0)
		err = unbind_current(b, address);
	if (!err) {
		err = probe_device(b, address);
		/* drivers_probe reports a probe that failed only sometimes: the state below decides. */
		if (err && err != -EACCES && err != -EPERM)
			err = 0;
	}
	if (!err)
		err = wait_for(b, mon, address, driver, iommufd_binder_driver_is_vfio(b, driver));
	monitor_close(mon, udev);
	if (err && device_gone(b, address))
		return -ENODEV;
	if (err == -ETIMEDOUT) {
		/* Not bound at all means the driver refused it; bound without a cdev is a timeout. */
		if (iommufd_binder_state(b, address, drv, ovr) == 0 && strcmp(drv, driver) != 0)
			return -ENXIO;
	}
	return err;
}

IOMMUFD_EXPORT int iommufd_binder_restore(struct iommufd_binder *b, const char *address)
{
	struct iommufd_journal_entry e;
	struct udev_monitor *mon;
	struct udev *udev;
	char drv[64], ovr[64];
	int err = iommufd_binder_journal(b, address, &e);

	if (err)
		return err;
	if (iommufd_binder_state(b, address, drv, ovr) == -ENODEV) {
		journal_remove(b, address);
		return -ENODEV;
	}
	mon = monitor_open(b, &udev);
	err = write_override(b, address, e.original_override);
	if (!err && strcmp(drv, e.original_driver) != 0) {
		err = unbind_current(b, address);
		if (!err && e.original_driver[0]) {
			/* The kernel's choice first; the driver's own bind file when it picks another one. */
			(void)probe_device(b, address);
			if (iommufd_binder_state(b, address, drv, ovr) == 0 && strcmp(drv, e.original_driver) != 0) {
				char path[PATH_MAX + 128];

				if (drv[0])
					(void)unbind_current(b, address);
				rpath(b->root, path, sizeof(path), "/sys/bus/pci/drivers/%s/bind", e.original_driver);
				(void)write_text(path, address);
			}
		}
	}
	if (!err)
		err = wait_for(b, mon, address, e.original_driver, false);
	monitor_close(mon, udev);
	if (err == -ETIMEDOUT)
		err = -EIO;
	if (err == -ENODEV || device_gone(b, address)) {
		journal_remove(b, address);
		return -ENODEV;
	}
	if (!err)
		err = journal_remove(b, address);
	return err;
}
