/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bind, unbind, restore: move devices between kernel drivers safely.
 *
 * Order of a bind: resolve the names; lock every group involved (sorted, so
 * two runs never deadlock); read the topology again under the locks (the
 * other run may have changed it); plan; refuse what is unsafe (a group
 * left non-viable, a device in use); then bind device by device, each
 * change journaled first; on the first failure put back every device this
 * run touched, newest first.
 *
 * Environment: IOMMUCTL_JOURNAL_DIR (default /run/iommuctl, or
 * SYSROOT/run/iommuctl under --sysroot); IOMMUCTL_BIND_TIMEOUT_MS (5000);
 * IOMMUCTL_TEST_BIND_DELAY_MS, for the VM tests only: sleep that long
 * after each device is bound, so that a test can kill a group bind in the
 * middle.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "iommuctl.h"
#include "iommufd/bind.h"

struct bind_opts {
	struct bind_request req;
	bool all;
};

static int on_bind_option(const char *name, const char *arg, void *data)
{
	struct bind_opts *o = data;

	if (strcmp(name, "driver") == 0)
		o->req.driver = arg;
	else if (strcmp(name, "group") == 0)
		o->req.group = true;
	else if (strcmp(name, "dry-run") == 0)
		o->req.dry_run = true;
	else if (strcmp(name, "force") == 0)
		o->req.force = true;
	else if (strcmp(name, "persist") == 0)
		o->req.persist = true;
	else if (strcmp(name, "all") == 0)
		o->all = true;
	return EXIT_OK;
}

/* ---- persistence: a udev rule per device ---- */

/*
 * "bind --persist" leaves /etc/udev/rules.d/99-iommuctl-ADDR.rules, which
 * runs this same binary's bind when the device is added at boot.  A rule
 * that sets driver_override alone is not enough: a driver built into the
 * kernel, or loaded in the initramfs, has taken the device before udev
 * runs, and vfio-pci (whose module alias matches no device) is never
 * loaded for it.  The rule sorts after 80-drivers.rules, whose module
 * load runs first, so the journal at boot records the device's own
 * driver and unbind gives the device back to it.  The bind at boot is
 * --force: the siblings of a group come up one add event at a time, so
 * the group is briefly not viable.
 */
static void persist_path(const char *sysroot, const char *address, char *buf, size_t size)
{
	snprintf(buf, size, "%s/etc/udev/rules.d/99-iommuctl-%s.rules",
		 sysroot && strcmp(sysroot, "/") != 0 ? sysroot : "", address);
}

/* A name that may go into a rule: udev ends a value at a quote, and a comment at a newline. */
static bool rule_safe(const char *name)
{
	return *name && strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == strlen(name);
}

static bool persisted(const char *sysroot, const char *address)
{
	char path[PATH_MAX];

	persist_path(sysroot, address, path, sizeof(path));
	return access(path, F_OK) == 0;
}

static int mkdir_p(const char *dir)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s", dir);
	for (char *p = path + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(path, 0755) != 0 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	return mkdir(path, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/*
 * Write the rule atomically: a temporary file made with O_EXCL | O_NOFOLLOW
 * (never through a planted link), fchmod 0644 whatever the umask, fsync,
 * rename.  -errno on failure.
 */
static int persist_write(const char *sysroot, const char *address, const char *driver, const char *from)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8], dir[PATH_MAX], self[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	FILE *f;
	int fd, err = 0;

	if (len <= 0)
		return -errno;
	self[len] = '\0';
	/* udev splits RUN at spaces and ends it at a quote. */
	if (strpbrk(self, " \t\n\"'\\") || !rule_safe(driver))
		return -EINVAL;
	if (from && *from && !rule_safe(from))
		from = "a driver whose name cannot go into a rule";
	persist_path(sysroot, address, path, sizeof(path));
	snprintf(dir, sizeof(dir), "%.*s", (int)(strrchr(path, '/') - path), path);
	if (mkdir_p(dir) != 0)
		return -errno;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	(void)unlink(tmp); /* left by a crash: O_EXCL would refuse it */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, 0644) != 0 || !(f = fdopen(fd, "w"))) {
		err = -errno;
		close(fd);
		unlink(tmp);
		return err;
	}
	fprintf(f,
		"# Written by 'iommuctl bind --persist': at boot, bind %s to %s (it was on %s).\n"
		"# 'iommuctl unbind %s' removes this file.\n"
		"ACTION==\"add\", SUBSYSTEM==\"pci\", KERNEL==\"%s\", RUN+=\"%s bind --force --driver %s %s\"\n",
		address, driver, from && *from ? from : "no driver", address, address, self, driver, address);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		err = -errno;
	if (fclose(f) != 0 && !err)
		err = -errno;
	if (!err && rename(tmp, path) != 0)
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

static int persist_remove(const char *sysroot, const char *address)
{
	char path[PATH_MAX];

	persist_path(sysroot, address, path, sizeof(path));
	return unlink(path) == 0 || errno == ENOENT ? 0 : -errno;
}

/* ---- the journal as commands see it ---- */

static void journal_dir(const char *sysroot, char *buf, size_t size)
{
	const char *env = getenv("IOMMUCTL_JOURNAL_DIR");

	if (env && *env)
		snprintf(buf, size, "%s", env);
	else if (sysroot && strcmp(sysroot, "/") != 0)
		snprintf(buf, size, "%s%s", sysroot, IOMMUFD_JOURNAL_DIR);
	else
		snprintf(buf, size, "%s", IOMMUFD_JOURNAL_DIR);
}

static int new_binder(const char *sysroot, struct iommufd_binder **b)
{
	char dir[PATH_MAX];
	const char *t = getenv("IOMMUCTL_BIND_TIMEOUT_MS");

	journal_dir(sysroot, dir, sizeof(dir));
	if (iommufd_binder_new(sysroot, dir, b) != 0)
		return fail(EXIT_FAILURE_IO, "out of memory");
	if (t && *t)
		iommufd_binder_set_timeout(*b, (unsigned int)strtoul(t, NULL, 10));
	return EXIT_OK;
}

static json_object *str_or_null(const char *s)
{
	return s && *s ? json_object_new_string(s) : NULL;
}

static json_object *json_time(int64_t t)
{
	char buf[32];
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_object_new_string(buf);
}

static json_object *journal_object(const struct iommufd_journal_entry *e, const char *sysroot)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "original_driver", str_or_null(e->original_driver));
	json_object_object_add(o, "original_driver_override", str_or_null(e->original_override));
	json_object_object_add(o, "driver", json_object_new_string(e->driver));
	json_object_object_add(o, "bound_at", json_time(e->time));
	json_object_object_add(o, "pid", json_object_new_int(e->pid));
	json_object_object_add(o, "owner", str_or_null(e->owner));
	json_object_object_add(o, "persistent", json_object_new_boolean(persisted(sysroot, e->address)));
	return o;
}

/* For list/show (cmd/model.c): set by bind_model_sysroot(), read once. */
static struct {
	bool loaded;
	const char *sysroot;
	struct iommufd_journal_entry *entries;
	size_t count;
} model_journal;

void bind_model_sysroot(const char *sysroot)
{
	model_journal.sysroot = sysroot;
}

json_object *json_device_journal(const struct iommufd_pci_dev *dev)
{
	const char *addr = iommufd_dev_address(dev);

	if (!model_journal.loaded) {
		struct iommufd_binder *b;

		model_journal.loaded = true;
		if (new_binder(model_journal.sysroot, &b) == EXIT_OK) {
			/* An unreadable journal shows as none here; unbind and restore report it. */
			if (iommufd_binder_journal_list(b, &model_journal.entries, &model_journal.count) != 0)
				model_journal.count = 0;
			for (size_t i = 0; iommufd_binder_journal_skipped(b, i); i++)
				fprintf(stderr, "iommuctl: warning: %s/devices/%s: not a journal entry, skipped\n",
					iommufd_binder_journal_dir(b), iommufd_binder_journal_skipped(b, i));
			iommufd_binder_free(b);
		}
	}
	for (size_t i = 0; i < model_journal.count; i++)
		if (strcmp(model_journal.entries[i].address, addr) == 0)
			return journal_object(&model_journal.entries[i], model_journal.sysroot);
	return NULL;
}

/* ---- locking ---- */

struct locks {
	int fds[64];
	size_t count;
};

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* Lock the groups in @ids (sorted, deduplicated here); -1 entries are skipped. */
static int lock_groups(struct iommufd_binder *b, int *ids, size_t n, struct locks *l)
{
	qsort(ids, n, sizeof(*ids), cmp_int);
	for (size_t i = 0; i < n; i++) {
		char name[32];
		int err;

		if (ids[i] < 0 || (i && ids[i] == ids[i - 1]) || l->count == 64)
			continue;
		snprintf(name, sizeof(name), "group-%d", ids[i]);
		err = iommufd_binder_lock(b, name, &l->fds[l->count]);
		if (err)
			return fail(err == -EACCES || err == -EPERM || err == -EROFS ? EXIT_PERMISSION : EXIT_FAILURE_IO,
				    "%s: cannot lock the journal: %s%s", iommufd_binder_journal_dir(b), strerror(-err),
				    err == -EACCES || err == -EPERM ? " (run as root)" : "");
		l->count++;
	}
	return EXIT_OK;
}

static void unlock_all(struct locks *l)
{
	for (size_t i = 0; i < l->count; i++)
		iommufd_binder_unlock(l->fds[i]);
	l->count = 0;
}

static int group_of(const struct iommufd_pci_dev *dev)
{
	const struct iommufd_group *g = iommufd_dev_group(dev);

	return g ? (int)iommufd_group_id(g) : -1;
}

/* ---- output ---- */

static const struct column result_cols[] = {
	{ "DEVICE", "address", false },   { "GROUP", "iommu_group", true }, { "FROM", "from_driver", false },
	{ "DRIVER", "driver", false },    { "RESULT", "result", false },    { "CDEV", "vfio_cdev", false },
	{ NULL, NULL, false },
};

/* Print {"devices": [...]} as JSON, or its rows as a table of @cols; release it. */
static int emit_devices(struct global_opts *g, const struct column *cols, json_object *out, int status)
{
	json_object *devs;

	if (g->json)
		return emit_json(out) && status == EXIT_OK ? EXIT_FAILURE_IO : status;
	json_object_object_get_ex(out, "devices", &devs);
	if (json_object_array_length(devs))
		render_table(cols, devs);
	json_object_put(out);
	return status;
}

/* Print @out, or hand it to the caller when @result is set. */
static int finish(struct global_opts *g, json_object *out, int status, json_object **result)
{
	if (!result)
		return emit_devices(g, result_cols, out, status);
	*result = out;
	return status;
}

static void set_result(json_object *row, const char *result)
{
	json_object_object_add(row, "result", json_object_new_string(result));
}

static const char *errno_text(int err)
{
	switch (err) {
	case -ENODEV:
		return "the device disappeared";
	case -ENXIO:
		return "the driver did not take the device (its probe failed; see dmesg)";
	case -ETIMEDOUT:
		return "timed out waiting for the device (and its VFIO cdev) to appear";
	case -EIO:
		return "the original driver did not take the device back (see dmesg)";
	default:
		return strerror(-err);
	}
}

/*
 * Why a kernel driver did not take @address, when the reason is that user
 * space owns its group: the kernel refuses (EBUSY) the probe of any kernel
 * driver on a device whose group is claimed for user-space DMA.  Fills
 * @buf with "group N is owned by pid P (COMM) through NODE (device D)..."
 * and returns true; false (and @buf empty) when nobody holds the group.
 */
static bool group_owner_text(const char *sysroot, const char *address, char *buf, size_t size)
{
	struct iommufd_topo *topo = NULL;
	struct iommufd_pci_dev *dev;
	struct iommufd_group *grp;
	const struct iommufd_holder *h = NULL;
	const char *via = NULL;

	buf[0] = '\0';
	if (iommufd_topo_load(sysroot, IOMMUFD_TOPO_HOLDERS, &topo))
		return false;
	dev = iommufd_topo_find_dev(topo, address);
	grp = dev ? iommufd_dev_group(dev) : NULL;
	if (grp && iommufd_group_holder_count(grp)) {
		h = iommufd_group_holder(grp, 0);
	} else if (grp) {
		for (size_t i = 0; i < iommufd_group_dev_count(grp) && !h; i++) {
			struct iommufd_pci_dev *d = iommufd_group_dev(grp, i);

			/* The device itself held open is another story (it cannot
			 * even leave its VFIO driver): siblings only. */
			if (d != dev && iommufd_dev_holder_count(d)) {
				h = iommufd_dev_holder(d, 0);
				via = iommufd_dev_address(d);
			}
		}
	}
	if (h)
		snprintf(buf, size,
			 "the kernel refuses kernel drivers on group %u while user space owns it: pid %d (%s) holds %s%s%s%s; "
			 "stop it (or close the device) first",
			 iommufd_group_id(grp), (int)h->pid, h->command[0] ? h->command : "?", h->path,
			 via ? " (device " : " (the group node", via ? via : "", ")");
	iommufd_topo_free(topo);
	return h != NULL;
}

/* errno_text(), unless the failure is kernel driver @driver refused on an
 * owned group (a VFIO driver, or none, is never refused for that). */
static const char *failure_text(const char *sysroot, struct iommufd_binder *b, const char *address, const char *driver,
				int err, char *buf, size_t size)
{
	if ((err == -ENXIO || err == -EIO || err == -ETIMEDOUT || err == -EBUSY) && driver && *driver &&
	    !iommufd_binder_driver_is_vfio(b, driver) && group_owner_text(sysroot, address, buf, size))
		return buf;
	return errno_text(err);
}

static int errno_status(int err)
{
	return err == -EACCES || err == -EPERM || err == -EROFS ? EXIT_PERMISSION : EXIT_FAILURE_IO;
}

/* ---- bind ---- */

/* "/dev/vfio/devices/vfioN" of a device on a VFIO driver, "" when it has none. */
static void cdev_name(const char *sysroot, const char *address, char *buf, size_t size)
{
	char path[PATH_MAX];
	struct dirent *d;
	DIR *dp;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/%s/vfio-dev",
		 sysroot && strcmp(sysroot, "/") != 0 ? sysroot : "", address);
	dp = opendir(path);
	if (!dp)
		return;
	while ((d = readdir(dp)))
		if (strncmp(d->d_name, "vfio", 4) == 0) {
			snprintf(buf, size, "/dev/vfio/devices/%.32s", d->d_name);
			break;
		}
	closedir(dp);
}

struct plan_dev {
	struct iommufd_pci_dev *dev;
	json_object *row;
	bool change;  /* not on the target yet */
	bool touched; /* this run changed it */
	bool had_rule; /* a --persist rule existed before this run */
};

static bool planned(struct plan_dev *plan, size_t n, const struct iommufd_pci_dev *dev)
{
	for (size_t i = 0; i < n; i++)
		if (plan[i].dev == dev)
			return true;
	return false;
}

static size_t plan_add(struct plan_dev *plan, size_t n, size_t cap, struct iommufd_pci_dev *dev)
{
	if (n < cap && !planned(plan, n, dev))
		plan[n++] = (struct plan_dev){ .dev = dev };
	return n;
}

/* Resolve the names into devices to bind, in command-line order, then siblings. */
static int make_plan(const struct command *cmd, struct iommufd_topo *topo, char **names, int count, bool group,
		     struct plan_dev *plan, size_t cap, size_t *n)
{
	size_t named;

	*n = 0;
	for (int i = 0; i < count; i++) {
		struct iommufd_pci_dev *dev;
		struct iommufd_group *grp;
		int status = resolve_target(cmd, topo, names[i], true, &dev, &grp);

		if (status != EXIT_OK)
			return status;
		if (dev) {
			*n = plan_add(plan, *n, cap, dev);
			continue;
		}
		/* A group named: every endpoint of it; bridges stay where they are. */
		for (size_t j = 0; j < iommufd_group_dev_count(grp); j++)
			if (!iommufd_dev_is_bridge(iommufd_group_dev(grp, j)))
				*n = plan_add(plan, *n, cap, iommufd_group_dev(grp, j));
	}
	if (!group)
		return EXIT_OK;
	/* --group: the siblings that would keep the group non-viable. */
	named = *n;
	for (size_t i = 0; i < named; i++) {
		struct iommufd_group *grp = iommufd_dev_group(plan[i].dev);

		for (size_t j = 0; grp && j < iommufd_group_dev_count(grp); j++) {
			struct iommufd_pci_dev *s = iommufd_group_dev(grp, j);

			if (!iommufd_dev_is_bridge(s) && iommufd_dev_verdict(s) == IOMMUFD_VERDICT_BLOCKING)
				*n = plan_add(plan, *n, cap, s);
		}
	}
	return EXIT_OK;
}

/* Refuse a bind that leaves a group non-viable; names the devices that keep it so. */
static int check_viability(struct plan_dev *plan, size_t n, bool vfio_target, bool force, bool hook)
{
	char msg[1024];
	int status = EXIT_OK;

	if (!vfio_target)
		return EXIT_OK;
	for (size_t i = 0; i < n; i++)
		iommufd_topo_assume_vfio(plan[i].dev);
	for (size_t i = 0; i < n; i++) {
		const struct iommufd_group *grp = iommufd_dev_group(plan[i].dev);
		size_t used = 0;
		bool seen = false;

		if (!grp || iommufd_group_viable(grp))
			continue;
		for (size_t k = 0; k < i; k++)
			seen = seen || iommufd_dev_group(plan[k].dev) == grp;
		if (seen)
			continue;
		msg[0] = '\0';
		for (size_t j = 0; j < iommufd_group_dev_count(grp); j++) {
			const struct iommufd_pci_dev *s = iommufd_group_dev(grp, j);

			if (iommufd_dev_verdict(s) == IOMMUFD_VERDICT_BLOCKING && used < sizeof(msg))
				used += (size_t)snprintf(msg + used, sizeof(msg) - used, "%s%s on %s", used ? ", " : "",
							 iommufd_dev_address(s), iommufd_dev_driver(s));
		}
		if (force) {
			fprintf(stderr, "iommuctl: warning: group %u stays non-viable (%s): --force given\n",
				iommufd_group_id(grp), msg);
			continue;
		}
		if (hook)
			status = fail(EXIT_UNSAFE,
				      "group %u would not be viable: %s would stay on %s; give the domain %s too, or let "
				      "the hook bind the whole group (policy bind-group)",
				      iommufd_group_id(grp), msg, strchr(msg, ',') ? "their drivers" : "its driver",
				      strchr(msg, ',') ? "them" : "it");
		else
			status = fail(EXIT_UNSAFE,
				      "group %u would not be viable: %s would stay on %s; bind the whole group with --group, "
				      "or name %s too (--force binds anyway)",
				      iommufd_group_id(grp), msg, strchr(msg, ',') ? "their drivers" : "its driver",
				      strchr(msg, ',') ? "them" : "it");
	}
	return status;
}

/* Refuse to unbind a device something uses; names the user. */
static int check_in_use(const char *sysroot, struct plan_dev *plan, size_t n, bool force, bool hook)
{
	int status = EXIT_OK;

	for (size_t i = 0; i < n; i++) {
		const char *drv = iommufd_dev_driver(plan[i].dev);
		struct iommufd_dev_user *users;
		size_t count;
		char msg[1024];
		size_t used = 0;
		json_object *arr;

		if (!plan[i].change || !drv)
			continue;
		if (iommufd_dev_users(sysroot, iommufd_dev_address(plan[i].dev), &users, &count) != 0 || !count)
			continue;
		arr = json_object_new_array();
		for (size_t k = 0; k < count; k++) {
			json_object *u = json_object_new_object();

			json_object_object_add(u, "kind", json_object_new_string(users[k].kind));
			json_object_object_add(u, "name", json_object_new_string(users[k].name));
			json_object_object_add(u, "what", json_object_new_string(users[k].what));
			json_object_array_add(arr, u);
			if (used < sizeof(msg))
				used += (size_t)snprintf(msg + used, sizeof(msg) - used, "%s%s %s", k ? "; " : "",
							 users[k].name, users[k].what);
		}
		json_object_object_add(plan[i].row, "in_use", arr);
		free(users);
		if (force) {
			fprintf(stderr, "iommuctl: warning: %s: unbinding %s although %s: --force given\n",
				iommufd_dev_address(plan[i].dev), drv, msg);
			continue;
		}
		status = fail(EXIT_UNSAFE, "%s: refusing to unbind %s: %s%s", iommufd_dev_address(plan[i].dev), drv, msg,
			      hook ? "" : " (--force unbinds anyway)");
		set_result(plan[i].row, "refused");
	}
	return status;
}

/* Put back every device this run touched, newest first; false when one could not be. */
static bool roll_back(const char *sysroot, struct iommufd_binder *b, struct plan_dev *plan, size_t n, char *names, size_t size)
{
	bool ok = true;
	size_t used = 0;

	names[0] = '\0';
	for (size_t i = n; i-- > 0;) {
		int err;

		if (!plan[i].touched)
			continue;
		struct iommufd_journal_entry je = { 0 };

		(void)iommufd_binder_journal(b, iommufd_dev_address(plan[i].dev), &je);
		err = iommufd_binder_restore(b, iommufd_dev_address(plan[i].dev));
		/* -ENOENT: no journal entry, the bind failed before changing anything; -ENODEV: gone. */
		if (err && err != -ENODEV && err != -ENOENT) {
			char why[512];

			fail(EXIT_FAILURE_IO, "%s: could not put the device back: %s; run 'iommuctl restore --all'",
			     iommufd_dev_address(plan[i].dev),
			     failure_text(sysroot, b, iommufd_dev_address(plan[i].dev), je.original_driver, err, why,
					  sizeof(why)));
			set_result(plan[i].row, "restore-failed");
			ok = false;
			continue;
		}
		if (plan[i].row) {
			json_object *r;

			if (!json_object_object_get_ex(plan[i].row, "result", &r) ||
			    strcmp(json_object_get_string(r), "failed") != 0)
				set_result(plan[i].row, "rolled-back");
		}
		if (!err && used < size) /* only what this run changed and put back */
			used += (size_t)snprintf(names + used, size - used, "%s%s", used ? ", " : "",
						 iommufd_dev_address(plan[i].dev));
	}
	return ok;
}

/*
 * After every device is bound: a rule for each, the already-bound ones too.
 * A rule that cannot be written undoes the whole run (rules and binds): the
 * operator asked for a binding that survives reboot and must not be left
 * believing they have one.
 */
static int persist_plan(const char *sysroot, struct iommufd_binder *b, struct plan_dev *plan, size_t n,
			const char *driver, json_object *out)
{
	for (size_t i = 0; i < n; i++) {
		const char *addr = iommufd_dev_address(plan[i].dev);
		char path[PATH_MAX], back[1024];
		int err;

		plan[i].had_rule = persisted(sysroot, addr);
		err = persist_write(sysroot, addr, driver, iommufd_dev_driver(plan[i].dev));

		if (!err) {
			persist_path(sysroot, addr, path, sizeof(path));
			json_object_object_add(plan[i].row, "persist_rule", json_object_new_string(path));
			continue;
		}
		persist_path(sysroot, addr, path, sizeof(path));
		for (size_t k = 0; k < i; k++) {
			if (!plan[k].had_rule) /* an older rule stays: this run did not make it */
				persist_remove(sysroot, iommufd_dev_address(plan[k].dev));
			json_object_object_del(plan[k].row, "persist_rule");
		}
		if (!roll_back(sysroot, b, plan, n, back, sizeof(back)))
			return fail(EXIT_FAILURE_IO, "%s: cannot write %s: %s; NOT everything could be put back", addr, path,
				    strerror(-err));
		json_object_object_add(out, "rolled_back", json_object_new_boolean(true));
		return fail(errno_status(err), "%s: cannot write %s: %s; rolled back %s", addr, path,
			    err == -EINVAL ? "the path of this iommuctl has a space or a quote, which udev cannot run"
					   : strerror(-err),
			    back[0] ? back : "nothing (every device was already bound)");
	}
	return EXIT_OK;
}

int bind_devices(const struct command *cmd, struct global_opts *g, const struct bind_request *o, char **names, int count,
		 json_object **result)
{
	struct plan_dev plan[256];
	struct iommufd_topo *topo;
	struct iommufd_binder *b;
	struct locks locks = { .count = 0 };
	json_object *out, *devs;
	int ids[256], status, err;
	size_t n, nids = 0;
	bool vfio_target, driver_missing = false;
	const char *delay = getenv("IOMMUCTL_TEST_BIND_DELAY_MS");

	if (o->persist && !rule_safe(o->driver))
		return usage_error(cmd,
				   "%s: not a driver name for a --persist rule (letters, digits, '_', '.' and '-' only)",
				   o->driver);
	status = new_binder(g->sysroot, &b);
	if (status)
		return status;
	if (iommufd_binder_set_owner(b, o->owner) != 0) {
		iommufd_binder_free(b);
		return fail(EXIT_USAGE, "%s: not a journal owner (at most 63 bytes, one line)", o->owner);
	}
	/*
	 * Kernel driver and module names are letters, digits, '_', '-' and '.';
	 * anything else (a '"' would add keys to the udev rule) is refused.
	 */
	if (strspn(o->driver, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") != strlen(o->driver) ||
	    o->driver[0] == '.' || o->driver[0] == '-') {
		iommufd_binder_free(b);
		return usage_error(cmd, "%s: not a driver name", o->driver);
	}
	if (o->dry_run) {
		/* A dry run loads no module: it only looks whether the driver is there. */
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/sys/bus/pci/drivers/%s",
			 g->sysroot && strcmp(g->sysroot, "/") != 0 ? g->sysroot : "", o->driver);
		err = !*o->driver || strlen(o->driver) >= 64
			      ? -EINVAL
			      : access(path, F_OK) == 0 ? 0 : -ENOENT;
	} else {
		err = iommufd_binder_driver_load(b, o->driver);
	}
	if (err == -EINVAL) {
		iommufd_binder_free(b);
		return usage_error(cmd, "%s: not a driver name", o->driver);
	}
	if (err) {
		/* A dry run does not load modules; it says that it would have to. */
		if (!o->dry_run) {
			iommufd_binder_free(b);
			return fail(EXIT_NOT_FOUND,
				    "%s: no such driver (not in /sys/bus/pci/drivers, and modprobe found no module of "
				    "that name)",
				    o->driver);
		}
		driver_missing = true;
	}
	vfio_target = iommufd_binder_driver_is_vfio(b, o->driver) || strcmp(o->driver, "vfio-pci") == 0 ||
		      strcmp(o->driver, "pci-stub") == 0;

	/* Resolve once to learn the groups, lock them, then read everything again. */
	topo = load_topology(g, 0, &status);
	if (!topo)
		goto out_binder;
	status = make_plan(cmd, topo, names, count, o->group, plan, 256, &n);
	for (size_t i = 0; status == EXIT_OK && i < n && nids < 256; i++)
		ids[nids++] = group_of(plan[i].dev);
	iommufd_topo_free(topo);
	topo = NULL;
	if (status)
		goto out_binder;
	if (!o->dry_run) {
		status = lock_groups(b, ids, nids, &locks);
		if (status)
			goto out_binder;
	}
	topo = load_topology(g, IOMMUFD_TOPO_HOLDERS, &status);
	if (!topo)
		goto out_locks;
	status = make_plan(cmd, topo, names, count, o->group, plan, 256, &n);
	if (status)
		goto out_topo;

	out = json_object_new_object();
	devs = json_object_new_array();
	json_object_object_add(out, "driver", json_object_new_string(o->driver));
	json_object_object_add(out, "dry_run", json_object_new_boolean(o->dry_run));
	json_object_object_add(out, "devices", devs);
	for (size_t i = 0; i < n; i++) {
		const char *drv = iommufd_dev_driver(plan[i].dev);
		json_object *row = json_object_new_object();

		plan[i].row = row;
		plan[i].change = !drv || strcmp(drv, o->driver) != 0;
		json_object_object_add(row, "address", json_object_new_string(iommufd_dev_address(plan[i].dev)));
		json_object_object_add(row, "iommu_group",
				       group_of(plan[i].dev) >= 0 ? json_object_new_int(group_of(plan[i].dev)) : NULL);
		json_object_object_add(row, "from_driver", str_or_null(drv));
		json_object_object_add(row, "from_driver_override", str_or_null(iommufd_dev_driver_override(plan[i].dev)));
		json_object_object_add(row, "driver", json_object_new_string(o->driver));
		json_object_object_add(row, "in_use", json_object_new_array());
		json_object_object_add(row, "vfio_cdev", str_or_null(iommufd_dev_vfio_cdev(plan[i].dev)));
		set_result(row, plan[i].change ? (o->dry_run ? "would-bind" : "pending") : "already-bound");
		json_object_array_add(devs, row);
	}
	json_object_object_add(out, "rolled_back", json_object_new_boolean(false));

	status = check_viability(plan, n, vfio_target, o->force, o->from_hook);
	if (check_in_use(g->sysroot, plan, n, o->force, o->from_hook) != EXIT_OK)
		status = EXIT_UNSAFE;
	if (status == EXIT_OK && !o->dry_run)
		for (size_t i = 0; i < n; i++) {
			const struct iommufd_pci_dev *d = plan[i].dev;

			if (plan[i].change && iommufd_dev_holder_count(d)) {
				const struct iommufd_holder *h = iommufd_dev_holder(d, 0);

				status = fail(EXIT_UNSAFE, "%s: held by process %d (%s) through %s; stop it first",
					      iommufd_dev_address(d), (int)h->pid, h->command, h->path);
			}
		}
	if (status != EXIT_OK) {
		for (size_t i = 0; i < n; i++) {
			json_object *r;

			if (json_object_object_get_ex(plan[i].row, "result", &r) &&
			    (strcmp(json_object_get_string(r), "pending") == 0 ||
			     strcmp(json_object_get_string(r), "would-bind") == 0))
				set_result(plan[i].row, "not-attempted");
		}
		status = finish(g, out, status, result);
		goto out_topo;
	}
	if (o->dry_run) {
		for (size_t i = 0; i < n; i++)
			if (plan[i].change && !g->json && !result)
				printf("would bind %s to %s (now %s)%s\n", iommufd_dev_address(plan[i].dev), o->driver,
				       iommufd_dev_driver(plan[i].dev) ? iommufd_dev_driver(plan[i].dev) : "driver-less",
				       driver_missing ? ", after loading its module" : "");
		status = finish(g, out, EXIT_OK, result);
		goto out_topo;
	}

	for (size_t i = 0; i < n; i++) {
		const char *addr = iommufd_dev_address(plan[i].dev);
		char drv[64], ovr[64], cdev[64] = "";

		if (!plan[i].change)
			continue;
		plan[i].touched = true;
		err = iommufd_binder_bind(b, addr, o->driver, group_of(plan[i].dev));
		if (err) {
			char back[1024], why[512];
			const char *text = failure_text(g->sysroot, b, addr, o->driver, err, why, sizeof(why));
			bool ok;

			set_result(plan[i].row, "failed");
			json_object_object_add(plan[i].row, "error", json_object_new_string(text));
			ok = roll_back(g->sysroot, b, plan, n, back, sizeof(back));
			json_object_object_add(out, "rolled_back", json_object_new_boolean(ok));
			for (size_t k = i + 1; k < n; k++)
				if (plan[k].change)
					set_result(plan[k].row, "not-attempted");
			if (!ok)
				status = fail(EXIT_FAILURE_IO, "%s: binding to %s failed: %s; NOT everything could be put back",
					      addr, o->driver, text);
			else if (err == -EACCES || err == -EPERM || err == -EROFS)
				status = fail(EXIT_PERMISSION, "%s: cannot bind: %s (run as root)", addr, errno_text(err));
			else
				status = fail(EXIT_PARTIAL, "%s: binding to %s failed: %s; rolled back %s to where %s",
					      addr, o->driver, text, back[0] ? back : "nothing",
					      strchr(back, ',') ? "they were" : "it was");
			goto out_emit;
		}
		if (iommufd_binder_state(b, addr, drv, ovr) == 0 && iommufd_binder_driver_is_vfio(b, o->driver))
			cdev_name(g->sysroot, addr, cdev, sizeof(cdev));
		json_object_object_add(plan[i].row, "vfio_cdev", str_or_null(cdev));
		set_result(plan[i].row, "bound");
		if (delay && *delay)
			usleep((useconds_t)strtoul(delay, NULL, 10) * 1000u);
	}
	if (o->persist)
		status = persist_plan(g->sysroot, b, plan, n, o->driver, out);
out_emit:
	status = finish(g, out, status, result);
out_topo:
	iommufd_topo_free(topo);
out_locks:
	unlock_all(&locks);
out_binder:
	iommufd_binder_free(b);
	return status;
}

int cmd_bind(const struct command *cmd, struct global_opts *g, int argc, char **argv)
{
	struct bind_opts o = { .req = { .driver = "vfio-pci" } };
	int status, first = parse_command_options(cmd, g, argc, argv, on_bind_option, &o, &status);

	if (first < 0)
		return status;
	if (first == argc)
		return usage_error(cmd, "bind: name a device (0000:01:00.0, 01:00.0, eth0) or a group number");
	if (argc - first > 128)
		return usage_error(cmd, "bind: too many arguments (at most 128)");
	return bind_devices(cmd, g, &o.req, argv + first, argc - first, NULL);
}

/* ---- unbind and restore ---- */

static json_object *restore_row(const struct iommufd_journal_entry *e, const char *now)
{
	json_object *row = json_object_new_object();

	json_object_object_add(row, "address", json_object_new_string(e->address));
	json_object_object_add(row, "iommu_group", e->group >= 0 ? json_object_new_int(e->group) : NULL);
	json_object_object_add(row, "from_driver", str_or_null(now));
	json_object_object_add(row, "driver", str_or_null(e->original_driver));
	json_object_object_add(row, "driver_override", str_or_null(e->original_override));
	return row;
}

static const struct column restore_cols[] = {
	{ "DEVICE", "address", false }, { "GROUP", "iommu_group", true }, { "FROM", "from_driver", false },
	{ "DRIVER", "driver", false },  { "RESULT", "result", false },    { NULL, NULL, false },
};

/* Restore the entries @e (under their group locks); returns the worst status. */
static int restore_entries(const char *sysroot, struct iommufd_binder *b, struct iommufd_journal_entry *e, size_t n,
			   json_object *devs)
{
	int status = EXIT_OK;

	for (size_t i = 0; i < n; i++) {
		char name[40], drv[64], ovr[64];
		json_object *row;
		int fd, err;

		if (e[i].group >= 0)
			snprintf(name, sizeof(name), "group-%d", e[i].group);
		else
			snprintf(name, sizeof(name), "device-%s", e[i].address);
		err = iommufd_binder_lock(b, name, &fd);
		if (err)
			return fail(errno_status(err), "%s: cannot lock the journal: %s", iommufd_binder_journal_dir(b),
				    strerror(-err));
		(void)iommufd_binder_state(b, e[i].address, drv, ovr);
		row = restore_row(&e[i], drv);
		/*
		 * The boot-time rule goes first: a crash after it leaves the
		 * journal entry, which restore finishes; never a rule whose
		 * entry is gone, which would bind the device again at boot.
		 */
		if (persisted(sysroot, e[i].address)) {
			int rerr = persist_remove(sysroot, e[i].address);

			json_object_object_add(row, "persist_rule_removed", json_object_new_boolean(rerr == 0));
			if (rerr) {
				iommufd_binder_unlock(fd);
				set_result(row, "failed");
				status = fail(errno_status(rerr), "%s: cannot remove its udev rule: %s; it stays on %s",
					      e[i].address, strerror(-rerr), drv[0] ? drv : "no driver");
				json_object_array_add(devs, row);
				continue;
			}
		}
		err = iommufd_binder_restore(b, e[i].address);
		iommufd_binder_unlock(fd);
		if (err == -ENOENT) {
			set_result(row, "already-restored"); /* another run did it meanwhile */
		} else if (err == -ENODEV) {
			set_result(row, "gone");
			fprintf(stderr, "iommuctl: %s: the device is gone; its journal entry was dropped\n", e[i].address);
		} else if (err) {
			char why[512];

			set_result(row, "failed");
			status = fail(errno_status(err), "%s: could not put it back on %s: %s", e[i].address,
				      e[i].original_driver[0] ? e[i].original_driver : "no driver",
				      failure_text(sysroot, b, e[i].address, e[i].original_driver, err, why, sizeof(why)));
		} else {
			set_result(row, "restored");
		}
		json_object_array_add(devs, row);
	}
	return status;
}

int cmd_unbind(const struct command *cmd, struct global_opts *g, int argc, char **argv)
{
	struct bind_opts o = { 0 };
	struct iommufd_journal_entry todo[256];
	struct iommufd_topo *topo;
	struct iommufd_binder *b;
	json_object *rule_only;
	size_t n = 0;
	int status, first = parse_command_options(cmd, g, argc, argv, on_bind_option, &o, &status);

	if (first < 0)
		return status;
	if (first == argc)
		return usage_error(cmd, "unbind: name a device (0000:01:00.0, 01:00.0, eth0) or a group number");
	topo = load_topology(g, IOMMUFD_TOPO_HOLDERS, &status);
	if (!topo)
		return status;
	rule_only = json_object_new_array();
	status = new_binder(g->sysroot, &b);
	/* Every name is checked before anything changes. */
	for (int i = first; status == EXIT_OK && i < argc; i++) {
		struct iommufd_pci_dev *dev;
		struct iommufd_group *grp;
		size_t before = n;

		status = resolve_target(cmd, topo, argv[i], true, &dev, &grp);
		if (status)
			break;
		for (size_t j = 0; j < (dev ? 1 : iommufd_group_dev_count(grp)) && n < 256; j++) {
			struct iommufd_pci_dev *d = dev ? dev : iommufd_group_dev(grp, j);
			int err = iommufd_binder_journal(b, iommufd_dev_address(d), &todo[n]);
			bool dup = false;

			for (size_t k = 0; k < n; k++)
				dup = dup || strcmp(todo[k].address, iommufd_dev_address(d)) == 0;
			if (err == 0 && !dup) {
				if (iommufd_dev_holder_count(d) && !o.req.force) {
					const struct iommufd_holder *h = iommufd_dev_holder(d, 0);

					status = fail(EXIT_UNSAFE,
						      "%s: held by process %d (%s) through %s; stop it first (--force unbinds "
						      "anyway, and waits until it lets go)",
						      iommufd_dev_address(d), (int)h->pid, h->command, h->path);
					break;
				}
				n++;
			} else if (err && err != -ENOENT) {
				status = fail(EXIT_FAILURE_IO, "%s: unreadable journal entry in %s: %s", iommufd_dev_address(d),
					      iommufd_binder_journal_dir(b), strerror(-err));
				break;
			}
		}
		if (status == EXIT_OK && n == before && dev && persisted(g->sysroot, iommufd_dev_address(dev))) {
			/* Bound at boot by a rule whose bind left no entry (or one from before a reboot's /run). */
			json_object *row = json_object_new_object();

			json_object_object_add(row, "address", json_object_new_string(iommufd_dev_address(dev)));
			json_object_object_add(row, "iommu_group",
					       group_of(dev) >= 0 ? json_object_new_int(group_of(dev)) : NULL);
			json_object_object_add(row, "from_driver", str_or_null(iommufd_dev_driver(dev)));
			json_object_object_add(row, "driver", str_or_null(iommufd_dev_driver(dev)));
			json_object_object_add(row, "driver_override", str_or_null(iommufd_dev_driver_override(dev)));
			set_result(row, "unpersisted");
			json_object_array_add(rule_only, row);
		} else if (status == EXIT_OK && n == before) {
			if (dev)
				status = fail(EXIT_NOT_FOUND,
					      "%s: iommuctl did not bind this device (no entry in %s/devices); it stays on "
					      "%s",
					      iommufd_dev_address(dev), iommufd_binder_journal_dir(b),
					      iommufd_dev_driver(dev) ? iommufd_dev_driver(dev) : "no driver");
			else
				status = fail(EXIT_NOT_FOUND, "group %u: iommuctl bound none of its devices",
					      iommufd_group_id(grp));
		}
	}
	iommufd_topo_free(topo);
	if (status == EXIT_OK) {
		json_object *devs = json_object_new_array(), *out = json_object_new_object();

		json_object_object_add(out, "devices", devs);
		status = restore_entries(g->sysroot, b, todo, n, devs);
		/* No entry, only a rule: the device stays where it is, the rule goes. */
		for (size_t i = 0; i < json_object_array_length(rule_only); i++) {
			json_object *row = json_object_array_get_idx(rule_only, i), *a;
			int err;

			json_object_object_get_ex(row, "address", &a);
			err = persist_remove(g->sysroot, json_object_get_string(a));
			json_object_object_add(row, "persist_rule_removed", json_object_new_boolean(err == 0));
			if (err)
				status = fail(errno_status(err), "%s: cannot remove its udev rule: %s",
					      json_object_get_string(a), strerror(-err));
			else
				fprintf(stderr,
					"iommuctl: %s: removed its udev rule; with no journal entry its original driver is "
					"unknown, so it stays on %s until the next boot\n",
					json_object_get_string(a),
					json_object_get_string(json_object_object_get(row, "driver"))
						? json_object_get_string(json_object_object_get(row, "driver"))
						: "no driver");
			json_object_array_add(devs, json_object_get(row));
		}
		status = emit_devices(g, restore_cols, out, status);
	}
	json_object_put(rule_only);
	if (b)
		iommufd_binder_free(b);
	return status;
}

/*
 * restore --all: a rule whose journal entry is gone (a crash in an older
 * unbind, or a bind --persist of a device already bound) would bind its
 * device again at the next boot; remove it and say so.  The worst status.
 */
static int sweep_rules(const char *sysroot, struct iommufd_binder *b, json_object *devs)
{
	char dir[PATH_MAX];
	struct dirent *d;
	DIR *dp;
	int status = EXIT_OK;

	persist_path(sysroot, "", dir, sizeof(dir));
	*strrchr(dir, '/') = '\0';
	dp = opendir(dir);
	if (!dp)
		return EXIT_OK; /* no rules directory: no rules */
	while ((d = readdir(dp))) {
		static const char prefix[] = "99-iommuctl-", suffix[] = ".rules";
		size_t len = strlen(d->d_name), alen;
		struct iommufd_journal_entry e;
		char addr[32];
		json_object *row;
		int err;

		if (len <= strlen(prefix) + strlen(suffix) || strncmp(d->d_name, prefix, strlen(prefix)) != 0 ||
		    strcmp(d->d_name + len - strlen(suffix), suffix) != 0)
			continue;
		alen = len - strlen(prefix) - strlen(suffix);
		if (alen >= sizeof(addr))
			continue;
		memcpy(addr, d->d_name + strlen(prefix), alen);
		addr[alen] = '\0';
		if (strspn(addr, "0123456789abcdef:.") != alen || iommufd_binder_journal(b, addr, &e) != -ENOENT)
			continue;
		err = persist_remove(sysroot, addr);
		row = json_object_new_object();
		json_object_object_add(row, "address", json_object_new_string(addr));
		json_object_object_add(row, "iommu_group", NULL);
		json_object_object_add(row, "from_driver", NULL);
		json_object_object_add(row, "driver", NULL);
		json_object_object_add(row, "driver_override", NULL);
		set_result(row, err ? "failed" : "unpersisted");
		json_object_object_add(row, "persist_rule_removed", json_object_new_boolean(err == 0));
		json_object_array_add(devs, row);
		if (err) {
			int st = fail(errno_status(err), "%s: cannot remove its udev rule, which has no journal entry: %s",
				      addr, strerror(-err));

			if (st > status)
				status = st;
		} else {
			fprintf(stderr,
				"iommuctl: %s: removed its udev rule, which had no journal entry; the device stays where it "
				"is until the next boot\n",
				addr);
		}
	}
	closedir(dp);
	return status;
}

int restore_owned(struct global_opts *g, const char *owner, json_object **result)
{
	struct iommufd_journal_entry *e;
	struct iommufd_binder *b;
	json_object *devs;
	size_t n, mine = 0;
	int err, status = new_binder(g->sysroot, &b);

	*result = NULL;
	if (status)
		return status;
	err = iommufd_binder_journal_list(b, &e, &n);
	if (err) {
		status = fail(errno_status(err), "%s: cannot read the journal: %s", iommufd_binder_journal_dir(b),
			      strerror(-err));
		iommufd_binder_free(b);
		return status;
	}
	for (size_t i = 0; i < n; i++)
		if (!owner || strcmp(e[i].owner, owner) == 0)
			e[mine++] = e[i];
	*result = json_object_new_object();
	devs = json_object_new_array();
	json_object_object_add(*result, "devices", devs);
	status = restore_entries(g->sysroot, b, e, mine, devs);
	free(e);
	/* Whose device a file that does not parse was is unknown: named, left for the operator. */
	for (size_t i = 0; iommufd_binder_journal_skipped(b, i); i++) {
		int st = fail(EXIT_FAILURE_IO,
			      "%s/devices/%s: not a journal entry (not a small regular file, or unparsable), skipped; "
			      "the other devices were restored",
			      iommufd_binder_journal_dir(b), iommufd_binder_journal_skipped(b, i));

		if (status == EXIT_OK)
			status = st;
	}
	if (!owner) {
		int swept = sweep_rules(g->sysroot, b, devs);

		if (swept > status)
			status = swept;
	}
	iommufd_binder_free(b);
	return status;
}

int cmd_restore(const struct command *cmd, struct global_opts *g, int argc, char **argv)
{
	struct bind_opts o = { 0 };
	json_object *out;
	int status, first = parse_command_options(cmd, g, argc, argv, on_bind_option, &o, &status);

	if (first < 0)
		return status;
	if (first != argc)
		return usage_error(cmd, "restore: no arguments expected (to give back some devices: iommuctl unbind DEV)");
	if (!o.all)
		return usage_error(cmd, "restore: say --all (every device in the journal is put back)");
	status = restore_owned(g, NULL, &out);
	return out ? emit_devices(g, restore_cols, out, status) : status;
}
