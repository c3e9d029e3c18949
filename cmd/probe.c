/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * iommuctl probe DEV...: is each device ready for iommufd assignment?
 *
 * Each device is taken through the whole lifecycle once, in its own iommufd:
 *
 *   group      the group is viable with the device on vfio-pci (from sysfs)
 *   iommufd    /dev/iommu opens
 *   bind       the device is bound to vfio-pci (unless on a VFIO driver
 *              already) and its cdev appears
 *   open       the cdev opens and binds to the iommufd (VFIO_DEVICE_BIND_IOMMUFD)
 *   ioas_alloc, map, attach, detach, unmap, close
 *   restore    the original driver and driver_override are put back
 *
 * Safety rules (also in iommuctl-probe(8)):
 *   - a device in a group that stays non-viable is not touched: BIND would
 *     fail anyway, and the siblings to fix are named;
 *   - a device on a kernel driver (anything but a VFIO driver or pci-stub)
 *     is not unbound without --force: it may be the NIC or disk in use;
 *   - whatever happens after the bind, the original binding is restored, with
 *     SIGINT, SIGTERM, SIGHUP and SIGQUIT held until it is.
 *
 * One model: a json-c object per device with every step, its result
 * ("ok", "failed", "not_needed", "not_run"), its duration and its error; -j
 * prints it, the text is rendered from it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "iommuctl.h"
#include "iommufd/bind.h"
#include "iommufd/iommufd.h"

#include "diagnose.h"

#define DEFAULT_LENGTH (2ull << 20)
#define DEFAULT_TIMEOUT_MS 5000

enum step {
	STEP_GROUP,
	STEP_IOMMUFD,
	STEP_BIND,
	STEP_OPEN,
	STEP_IOAS_ALLOC,
	STEP_MAP,
	STEP_ATTACH,
	STEP_DETACH,
	STEP_UNMAP,
	STEP_CLOSE,
	STEP_RESTORE,
	STEP_COUNT,
};

static const char *const step_names[STEP_COUNT] = {
	"group", "iommufd", "bind", "open", "ioas_alloc", "map", "attach", "detach", "unmap", "close", "restore",
};

struct probe_opts {
	bool force;
	bool hugepages;
	uint64_t length;
	long timeout_ms;
};

/* What one device's probe found; the JSON is built from it. */
struct probe {
	const struct probe_opts *opts;
	char address[IOMMUFD_PCI_ADDRESS_SIZE];
	json_object *steps[STEP_COUNT];
	int status;         /* this device's exit status */
	int failed;         /* first failed step, -1 when none */
	char *message;      /* its explanation */
	/* the binding before, during and after */
	char orig_driver[64];   /* "" when none */
	char orig_override[64]; /* "" when none */
	bool rebound;           /* we changed the binding (the journal has an entry) */
	struct iommufd_binder *binder;
	int group;              /* IOMMU group, -1 when none yet */
	int lock_fd;            /* the binder's lock on the group, -1 when not held */
	char cdev[64];
	uint32_t ioas_id, hwpt_id;
	uint64_t iova;
	uint64_t t0;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- option parsing ---- */

/* "4096", "4K", "2M", "1G", "0x1000". */
static int parse_size(const char *text, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned int shift = 0;

	errno = 0;
	if (!*text || *text == '-')
		return -1;
	v = strtoull(text, &end, 0);
	if (errno || end == text)
		return -1;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	default: break;
	}
	if ((*end == 'i' || *end == 'I') && shift && (end[1] == 'B' || end[1] == 'b'))
		end += 2;
	if (*end || v == 0 || (shift && v > (UINT64_MAX >> shift)))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

struct option_data {
	const struct command *cmd;
	struct probe_opts *opts;
};

static int probe_option(const char *name, const char *arg, void *data)
{
	struct option_data *d = data;

	if (strcmp(name, "force") == 0) {
		d->opts->force = true;
	} else if (strcmp(name, "hugepages") == 0) {
		d->opts->hugepages = true;
	} else if (strcmp(name, "length") == 0) {
		if (parse_size(arg, &d->opts->length) != 0 || d->opts->length % 4096)
			return usage_error(d->cmd, "probe: --length %s: not a size in whole 4 KiB pages (4K, 2M, 1G)", arg);
	} else if (strcmp(name, "timeout") == 0) {
		char *end;
		double s;

		errno = 0;
		s = strtod(arg, &end);
		if (errno || end == arg || *end || !(s > 0) || s > 3600)
			return usage_error(d->cmd, "probe: --timeout %s: not a number of seconds (0 < s <= 3600)", arg);
		d->opts->timeout_ms = (long)(s * 1000 + 0.5);
		if (d->opts->timeout_ms < 1)
			d->opts->timeout_ms = 1;
	}
	return EXIT_OK;
}

/* ---- sysfs, for the binding ---- */

/* The first line of a sysfs file; -errno when it cannot be read. */
static int read_line(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	int err = 0;

	if (!f)
		return -errno;
	if (!fgets(buf, (int)size, f))
		buf[0] = '\0';
	if (ferror(f))
		err = -EIO;
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return err;
}

/* The VFIO cdev of @address as /dev/vfio/devices/vfioN, once sysfs and devtmpfs both have it. */
static bool cdev_ready(const char *address, char *cdev, size_t size)
{
	char path[128], text[32];
	struct dirent *e;
	DIR *dir;
	bool ok = false;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev", address);
	dir = opendir(path);
	if (!dir)
		return false;
	while ((e = readdir(dir))) {
		unsigned int major, minor;
		struct stat st;

		if (strncmp(e->d_name, "vfio", 4) != 0)
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev/%.32s/dev", address, e->d_name);
		if (read_line(path, text, sizeof(text)) != 0 || sscanf(text, "%u:%u", &major, &minor) != 2)
			break;
		snprintf(cdev, size, "/dev/vfio/devices/%.32s", e->d_name);
		ok = stat(cdev, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(major, minor);
		break;
	}
	closedir(dir);
	return ok;
}

/* ---- the JSON of a step ---- */

static void step_start(struct probe *p)
{
	p->t0 = now_ns();
}

static json_object *error_object(const char *message, int err)
{
	json_object *e = json_object_new_object();

	json_object_object_add(e, "message", json_object_new_string(message));
	json_object_object_add(e, "errno", err ? json_object_new_int(err < 0 ? -err : err) : NULL);
	return e;
}

static void step_done(struct probe *p, enum step s, const char *result, const char *detail)
{
	json_object *o = p->steps[s];

	json_object_object_add(o, "result", json_object_new_string(result));
	if (strcmp(result, "not_needed") != 0)
		json_object_object_add(o, "duration_ns", json_object_new_int64((int64_t)(now_ns() - p->t0)));
	json_object_object_add(o, "detail", detail ? json_object_new_string(detail) : NULL);
}

static void step_ok(struct probe *p, enum step s, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void step_ok(struct probe *p, enum step s, const char *fmt, ...)
{
	char detail[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	step_done(p, s, "ok", detail[0] ? detail : NULL);
}

/*
 * Record the failure of step @s with errno @err (0: none) and status
 * @status; the message is the explanation in the operator's terms.  Only the
 * first failure decides the device's status (restore failures excepted:
 * they always win, the host was left changed).
 */
static void step_fail(struct probe *p, enum step s, int err, int status, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void step_fail(struct probe *p, enum step s, int err, int status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	step_done(p, s, "failed", NULL);
	json_object_object_add(p->steps[s], "error", error_object(msg, err));
	if (p->failed < 0 || s == STEP_RESTORE) {
		p->failed = (int)s;
		p->status = status;
		free(p->message);
		p->message = strdup(msg);
	}
}

/* ---- explanations: what is wrong, found by looking ---- */

/* "0000:01:02.0 on virtio-pci, 0000:01:03.0 on e1000": the siblings that block the group. */
static void blocking_siblings(const struct iommufd_group *group, const char *self, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < iommufd_group_dev_count(group) && used < size; i++) {
		const struct iommufd_pci_dev *d = iommufd_group_dev(group, i);

		if (strcmp(iommufd_dev_address(d), self) == 0 || iommufd_dev_verdict(d) != IOMMUFD_VERDICT_BLOCKING)
			continue;
		used += (size_t)snprintf(buf + used, size - used, "%s%s on %s", used ? ", " : "", iommufd_dev_address(d),
					 iommufd_dev_driver(d) ? iommufd_dev_driver(d) : "?");
	}
}

/*
 * Explain the failure of @s through diagnose().  For probe a refusal is an
 * answer ("not ready", 1); permission, not found, unsupported and I/O keep
 * their own statuses.
 */
static void diagnosed(struct probe *p, enum step s, enum diag_step what, int err, uint32_t pt_id)
{
	struct diag_input in = {
		.step = what,
		.err = err,
		.device = p->address,
		.pt_id = pt_id,
		.iova = p->iova,
		.length = p->opts->length,
		.requested = p->opts->length,
	};
	char why[1024];
	int status = EXIT_NO;

	diagnose(&in, why, sizeof(why), &status);
	if (status != EXIT_PERMISSION && status != EXIT_NOT_FOUND && status != EXIT_UNSUPPORTED &&
	    status != EXIT_FAILURE_IO)
		status = EXIT_NO;
	step_fail(p, s, err, status, "%s", why);
}


/* ---- binding to vfio-pci and back (libiommufd's binder: journaled, restorable) ---- */

static void bind_vfio(struct probe *p)
{
	char drv[64] = "", override[64] = "";
	int err;

	step_start(p);
	err = iommufd_binder_new(NULL, NULL, &p->binder);
	if (err) {
		step_fail(p, STEP_BIND, err, EXIT_FAILURE_IO, "out of memory");
		return;
	}
	/* A distribution kernel has vfio-pci as a module nothing loaded yet:
	 * load it, as bind does, and refuse only when there is none. */
	if (iommufd_binder_driver_load(p->binder, "vfio-pci") < 0) {
		step_fail(p, STEP_BIND, -ENOENT, EXIT_UNSUPPORTED,
			  "the vfio-pci driver is not loaded and modprobe vfio-pci found no module (kernel option CONFIG_VFIO_PCI)");
		return;
	}
	iommufd_binder_set_timeout(p->binder, (unsigned int)p->opts->timeout_ms);
	/* The lock 'iommuctl bind' takes too: the two never change one group at once. */
	{
		char name[40];

		if (p->group >= 0)
			snprintf(name, sizeof(name), "group-%d", p->group);
		else
			snprintf(name, sizeof(name), "device-%s", p->address);
		err = iommufd_binder_lock(p->binder, name, &p->lock_fd);
	}
	if (!err)
		err = iommufd_binder_bind(p->binder, p->address, "vfio-pci", p->group);
	if (err != -EACCES && err != -EPERM && err != -EROFS)
		p->rebound = true; /* whatever happened, the journal says how to go back */
	if (!err && !cdev_ready(p->address, p->cdev, sizeof(p->cdev)))
		err = -ETIMEDOUT;
	if (!err) {
		step_ok(p, STEP_BIND, "bound to vfio-pci (was %s), %s; journal in %s",
			p->orig_driver[0] ? p->orig_driver : "driver-less", p->cdev, iommufd_binder_journal_dir(p->binder));
		return;
	}
	(void)iommufd_binder_state(p->binder, p->address, drv, override);
	switch (err) {
	case -EACCES:
	case -EPERM:
	case -EROFS:
		step_fail(p, STEP_BIND, err, EXIT_PERMISSION,
			  "cannot change the device's driver or write the journal in %s: %s (run as root)",
			  iommufd_binder_journal_dir(p->binder), strerror(-err));
		break;
	case -ENXIO:
		step_fail(p, STEP_BIND, err, EXIT_NO, "vfio-pci did not take the device (its probe failed; see dmesg)");
		break;
	case -ETIMEDOUT: {
		char path[128];

		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev", p->address);
		if (strcmp(drv, "vfio-pci") == 0 && access(path, F_OK) != 0)
			step_fail(p, STEP_BIND, -ENODEV, EXIT_UNSUPPORTED,
				  "bound to vfio-pci, but no VFIO cdev appeared: the kernel lacks CONFIG_VFIO_DEVICE_CDEV "
				  "(only the legacy /dev/vfio/N group interface)");
		else if (strcmp(drv, "vfio-pci") == 0)
			step_fail(p, STEP_BIND, err, EXIT_NO,
				  "bound to vfio-pci, but its cdev did not appear in /dev/vfio/devices within %ld ms "
				  "(devtmpfs or udev)", p->opts->timeout_ms);
		else
			step_fail(p, STEP_BIND, err, EXIT_NO, "the device was not on vfio-pci within %ld ms (it is on %s)",
				  p->opts->timeout_ms, drv[0] ? drv : "no driver");
		break;
	}
	default:
		step_fail(p, STEP_BIND, err, EXIT_FAILURE_IO, "binding to vfio-pci failed: %s", strerror(-err));
		break;
	}
}

/* Put back the driver and driver_override found at the start, from the journal. */
static void restore(struct probe *p)
{
	char drv[64] = "", override[64] = "";
	int err;

	step_start(p);
	err = iommufd_binder_restore(p->binder, p->address);
	if (err == -ENOENT)
		err = 0; /* the bind failed before its journal entry: nothing was changed */
	(void)iommufd_binder_state(p->binder, p->address, drv, override);
	if (!err && strcmp(drv, p->orig_driver) == 0 && strcmp(override, p->orig_override) == 0) {
		step_ok(p, STEP_RESTORE, "back on %s%s%s", p->orig_driver[0] ? p->orig_driver : "no driver",
			p->orig_override[0] ? ", driver_override " : "", p->orig_override);
		return;
	}
	step_fail(p, STEP_RESTORE, err, err == -EACCES ? EXIT_PERMISSION : EXIT_FAILURE_IO,
		  "could not put the device back: it is on %s with driver_override \"%s\", it was on %s with \"%s\"%s%s; "
		  "the journal keeps the entry: run 'iommuctl unbind %s'",
		  drv[0] ? drv : "no driver", override, p->orig_driver[0] ? p->orig_driver : "no driver",
		  p->orig_override, err ? ": " : "", err ? strerror(-err) : "", p->address);
}

/* ---- one device ---- */

/* The group step from a topology: false (and the step failed) when the group stays non-viable. */
static bool check_group(struct probe *p, struct iommufd_topo *topo, bool deferred)
{
	struct iommufd_pci_dev *dev = iommufd_topo_find_dev(topo, p->address);
	struct iommufd_group *group = dev ? iommufd_dev_group(dev) : NULL;
	char who[512];

	if (!group) {
		if (deferred)
			step_fail(p, STEP_GROUP, 0, EXIT_NO, "still in no IOMMU group after binding: the IOMMU does not "
				  "translate this device");
		return deferred ? false : true;
	}
	iommufd_topo_assume_vfio(dev);
	if (iommufd_group_viable(group)) {
		step_ok(p, STEP_GROUP, "group %u is viable%s%s", iommufd_group_id(group),
			iommufd_group_dev_count(group) > 1 ? " with " : "", iommufd_group_dev_count(group) > 1 ? "its siblings" : "");
		return true;
	}
	blocking_siblings(group, p->address, who, sizeof(who));
	step_fail(p, STEP_GROUP, 0, EXIT_NO,
		  "group %u is not viable: sibling%s %s (%s); bind %s to vfio-pci too or unbind %s, then "
		  "probe again (iommuctl check %u)",
		  iommufd_group_id(group), strchr(who, ',') ? "s" : "", who,
		  strchr(who, ',') ? "kernel drivers" : "a kernel driver", strchr(who, ',') ? "them" : "it",
		  strchr(who, ',') ? "them" : "it", iommufd_group_id(group));
	return false;
}

static void probe_lifecycle(struct probe *p, struct iommufd_ctx *ctx)
{
	const struct probe_opts *o = p->opts;
	unsigned int memflags = IOMMUFD_MEM_POPULATE | (o->hugepages ? IOMMUFD_MEM_HUGE_2M : 0);
	struct iommufd_device *dev = NULL;
	void *mem = NULL;
	uint64_t unmapped = 0;
	int err;

	step_start(p);
	err = iommufd_device_open(ctx, p->address, NULL, &dev);
	if (err) {
		diagnosed(p, STEP_OPEN, DIAG_DEVICE_OPEN, err, 0);
		return;
	}
	step_ok(p, STEP_OPEN, "%s bound to the iommufd as dev_id %u: blocked", iommufd_device_cdev(dev),
		iommufd_device_id(dev));

	step_start(p);
	err = iommufd_ioas_alloc(ctx, &p->ioas_id);
	if (err) {
		diagnosed(p, STEP_IOAS_ALLOC, DIAG_IOAS_ALLOC, err, 0);
		goto close;
	}
	step_ok(p, STEP_IOAS_ALLOC, "ioas %u", p->ioas_id);

	err = iommufd_mem_alloc(o->length, memflags, &mem);
	if (err) {
		step_start(p);
		if (o->hugepages && err == -ENOMEM)
			step_fail(p, STEP_MAP, err, EXIT_NO,
				  "no 2 MiB huge pages for %" PRIu64 " KiB: reserve them (echo N > /proc/sys/vm/nr_hugepages)",
				  o->length >> 10);
		else
			step_fail(p, STEP_MAP, err, EXIT_FAILURE_IO, "cannot allocate %" PRIu64 " KiB to map: %s",
				  o->length >> 10, strerror(-err));
		goto close;
	}
	step_start(p);
	err = iommufd_ioas_map(ctx, p->ioas_id, mem, o->length, IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE, &p->iova);
	if (err) {
		diagnosed(p, STEP_MAP, DIAG_MAP, err, p->ioas_id);
		goto close;
	}
	step_ok(p, STEP_MAP, "%" PRIu64 " KiB in %s pages at iova 0x%" PRIx64, o->length >> 10,
		o->hugepages ? "2 MiB" : "4 KiB", p->iova);

	step_start(p);
	err = iommufd_device_attach(dev, p->ioas_id, &p->hwpt_id);
	if (err) {
		diagnosed(p, STEP_ATTACH, DIAG_ATTACH, err, p->ioas_id);
		goto unmap;
	}
	step_ok(p, STEP_ATTACH, "attached to ioas %u through hwpt %u", p->ioas_id, p->hwpt_id);

	step_start(p);
	err = iommufd_device_detach(dev);
	if (err)
		diagnosed(p, STEP_DETACH, DIAG_DETACH, err, p->hwpt_id);
	else
		step_ok(p, STEP_DETACH, "blocked again");

unmap:
	step_start(p);
	err = iommufd_ioas_unmap(ctx, p->ioas_id, p->iova, o->length, &unmapped);
	if (err)
		diagnosed(p, STEP_UNMAP, DIAG_UNMAP, err, p->ioas_id);
	else
		step_ok(p, STEP_UNMAP, "%" PRIu64 " KiB unmapped", unmapped >> 10);
close:
	step_start(p);
	iommufd_device_close(dev);
	step_ok(p, STEP_CLOSE, "cdev closed: the group is back with the kernel");
	if (mem)
		iommufd_mem_free(mem, o->length, memflags);
}

/*
 * Probe one device.  @fresh: a topology read just before (taken over), or
 * NULL to read one now; the devices probed before this one may have changed
 * bindings.
 */
static void probe_device(struct probe *p, struct iommufd_topo *fresh)
{
	struct iommufd_ctx *ctx = NULL;
	struct iommufd_topo *topo = fresh;
	struct iommufd_pci_dev *dev;
	sigset_t hold, old;
	bool on_vfio, group_known;
	int err = 0;

	/* Group viability and the current binding, from sysfs now. */
	step_start(p);
	if (!topo)
		err = iommufd_topo_load(NULL, 0, &topo);
	if (err) {
		step_fail(p, STEP_GROUP, err, err == -EACCES ? EXIT_PERMISSION : EXIT_FAILURE_IO, "cannot read sysfs: /%s",
			  iommufd_topo_load_error());
		return;
	}
	dev = iommufd_topo_find_dev(topo, p->address);
	if (!dev) {
		step_fail(p, STEP_GROUP, -ENOENT, EXIT_NOT_FOUND, "no such PCI device");
		iommufd_topo_free(topo);
		return;
	}
	if (!iommufd_topo_iommu_enabled(topo)) {
		step_fail(p, STEP_GROUP, 0, EXIT_UNSUPPORTED,
			  "no IOMMU groups: the IOMMU is absent or disabled (enable VT-d/AMD-Vi in firmware, and "
			  "intel_iommu=on on Intel)");
		iommufd_topo_free(topo);
		return;
	}
	snprintf(p->orig_driver, sizeof(p->orig_driver), "%s", iommufd_dev_driver(dev) ? iommufd_dev_driver(dev) : "");
	snprintf(p->orig_override, sizeof(p->orig_override), "%s",
		 iommufd_dev_driver_override(dev) ? iommufd_dev_driver_override(dev) : "");
	on_vfio = iommufd_dev_driver_is_vfio(dev);
	group_known = iommufd_dev_group(dev) != NULL;
	p->group = group_known ? (int)iommufd_group_id(iommufd_dev_group(dev)) : -1;
	if (group_known && !check_group(p, topo, false)) {
		iommufd_topo_free(topo);
		return;
	}
	if (!group_known)
		step_ok(p, STEP_GROUP, "no group yet (the IOMMU sets one up when a driver probes the device): "
			"checked after binding");
	if (!on_vfio && p->orig_driver[0] && strcmp(p->orig_driver, "pci-stub") != 0 && !p->opts->force) {
		struct iommufd_dev_user *users = NULL;
		size_t nusers = 0;
		char in_use[256] = "it may be in use";

		step_start(p);
		/* Say what would stop working, when something visibly uses it. */
		if (iommufd_dev_users(NULL, p->address, &users, &nusers) == 0 && nusers)
			snprintf(in_use, sizeof(in_use), "%s %.160s%s", users[0].name, users[0].what, nusers > 1 ? ", ..." : "");
		free(users);
		step_fail(p, STEP_BIND, 0, EXIT_UNSAFE,
			  "bound to %s, a kernel driver, and probe does not take a device from its driver: %s; "
			  "use --force to unbind it for the probe and bind it back afterwards",
			  p->orig_driver, in_use);
		iommufd_topo_free(topo);
		return;
	}
	iommufd_topo_free(topo);
	topo = NULL;

	step_start(p);
	err = iommufd_ctx_open(NULL, &ctx);
	if (err) {
		diagnosed(p, STEP_IOMMUFD, DIAG_IOMMUFD_OPEN, err, 0);
		return;
	}
	step_ok(p, STEP_IOMMUFD, "/dev/iommu");

	/* From here the host changes: hold the signals that would stop us before the restore. */
	sigemptyset(&hold);
	sigaddset(&hold, SIGINT);
	sigaddset(&hold, SIGTERM);
	sigaddset(&hold, SIGHUP);
	sigaddset(&hold, SIGQUIT);
	sigprocmask(SIG_BLOCK, &hold, &old);

	if (on_vfio) {
		if (cdev_ready(p->address, p->cdev, sizeof(p->cdev))) {
			char detail[160];

			snprintf(detail, sizeof(detail), "already on %s, %s", p->orig_driver, p->cdev);
			step_done(p, STEP_BIND, "not_needed", detail);
		} else {
			step_start(p);
			step_fail(p, STEP_BIND, -ENODEV, EXIT_UNSUPPORTED,
				  "on %s but without a VFIO cdev: the kernel lacks CONFIG_VFIO_DEVICE_CDEV",
				  p->orig_driver);
		}
	} else {
		bind_vfio(p);
	}
	if (p->failed < 0 && !group_known) {
		step_start(p);
		err = iommufd_topo_load(NULL, 0, &topo);
		if (err)
			step_fail(p, STEP_GROUP, err, EXIT_FAILURE_IO, "cannot read sysfs: /%s", iommufd_topo_load_error());
		else
			(void)check_group(p, topo, true);
		iommufd_topo_free(topo);
	}
	if (p->failed < 0)
		probe_lifecycle(p, ctx);
	iommufd_ctx_free(ctx);
	if (p->rebound)
		restore(p);
	if (p->lock_fd >= 0)
		iommufd_binder_unlock(p->lock_fd);
	iommufd_binder_free(p->binder);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

/* ---- the model, and the text rendered from it ---- */

static json_object *device_json(struct probe *p)
{
	json_object *o = json_object_new_object(), *steps = json_object_new_array(), *drv = json_object_new_object();
	int64_t total = 0;

	json_object_object_add(o, "address", json_object_new_string(p->address));
	json_object_object_add(o, "ready", json_object_new_boolean(p->failed < 0));
	json_object_object_add(o, "failed_step", p->failed < 0 ? NULL : json_object_new_string(step_names[p->failed]));
	json_object_object_add(o, "error", p->failed < 0 ? NULL : error_object(p->message, 0));
	if (p->failed >= 0) {
		json_object *e, *n;

		json_object_object_get_ex(p->steps[p->failed], "error", &e);
		json_object_object_get_ex(e, "errno", &n);
		json_object_object_add(json_object_object_get(o, "error"), "errno", json_object_get(n));
	}
	json_object_object_add(drv, "before", p->orig_driver[0] ? json_object_new_string(p->orig_driver) : NULL);
	json_object_object_add(drv, "override_before", p->orig_override[0] ? json_object_new_string(p->orig_override) : NULL);
	json_object_object_add(drv, "changed", json_object_new_boolean(p->rebound));
	json_object_object_add(o, "driver", drv);
	json_object_object_add(o, "vfio_cdev", p->cdev[0] ? json_object_new_string(p->cdev) : NULL);
	json_object_object_add(o, "ioas_id", p->ioas_id ? json_object_new_int64(p->ioas_id) : NULL);
	json_object_object_add(o, "hwpt_id", p->hwpt_id ? json_object_new_int64(p->hwpt_id) : NULL);
	json_object_object_add(o, "length", json_object_new_int64((int64_t)p->opts->length));
	json_object_object_add(o, "page_size", json_object_new_int64(p->opts->hugepages ? 2 << 20 : 4096));
	for (int s = 0; s < STEP_COUNT; s++) {
		json_object *d;

		if (json_object_object_get_ex(p->steps[s], "duration_ns", &d) && d)
			total += json_object_get_int64(d);
		json_object_array_add(steps, json_object_get(p->steps[s]));
	}
	json_object_object_add(o, "duration_ns", json_object_new_int64(total));
	json_object_object_add(o, "steps", steps);
	return o;
}

static const char *get_string(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && v ? json_object_get_string(v) : NULL;
}

static void render_probe(json_object *out)
{
	static const struct column cols[] = {
		{ "STEP", "step", false }, { "RESULT", "result", false }, { "TIME", "time", true },
		{ "DETAIL", "detail", false }, { NULL, NULL, false },
	};
	json_object *devices;
	size_t n, ready = 0;

	json_object_object_get_ex(out, "devices", &devices);
	n = json_object_array_length(devices);
	for (size_t i = 0; i < n; i++) {
		json_object *dev = json_object_array_get_idx(devices, i), *steps, *v, *rows = json_object_new_array();
		bool ok;

		json_object_object_get_ex(dev, "ready", &v);
		ok = json_object_get_boolean(v);
		ready += ok;
		json_object_object_get_ex(dev, "duration_ns", &v);
		printf("%s%s: %s (%.1f ms)\n", i ? "\n" : "", get_string(dev, "address"),
		       ok ? "ready for iommufd assignment" : "NOT ready", (double)json_object_get_int64(v) / 1e6);
		json_object_object_get_ex(dev, "steps", &steps);
		for (size_t j = 0; j < json_object_array_length(steps); j++) {
			json_object *s = json_object_array_get_idx(steps, j), *row = json_object_new_object(), *d, *e;
			const char *detail = get_string(s, "detail");

			json_object_object_add(row, "step", json_object_new_string(get_string(s, "step")));
			json_object_object_add(row, "result", json_object_new_string(get_string(s, "result")));
			if (json_object_object_get_ex(s, "duration_ns", &d) && d) {
				char t[32];

				snprintf(t, sizeof(t), "%.3f ms", (double)json_object_get_int64(d) / 1e6);
				json_object_object_add(row, "time", json_object_new_string(t));
			}
			if (json_object_object_get_ex(s, "error", &e) && e)
				detail = get_string(e, "message");
			json_object_object_add(row, "detail", detail ? json_object_new_string(detail) : NULL);
			json_object_array_add(rows, row);
		}
		render_table(cols, rows);
		json_object_put(rows);
	}
	if (n > 1)
		printf("\n%zu of %zu devices ready\n", ready, n);
}

/* Which status wins for the whole run: any device that could not be probed, else 1 when one is not ready. */
static int combine(int overall, int status)
{
	if (overall > EXIT_NO)
		return overall;
	if (status > EXIT_NO)
		return status;
	return overall > status ? overall : status;
}

int cmd_probe(const struct command *cmd, struct global_opts *g, int argc, char **argv)
{
	struct probe_opts opts = { .length = DEFAULT_LENGTH, .timeout_ms = DEFAULT_TIMEOUT_MS };
	struct option_data data = { cmd, &opts };
	json_object *out, *devices;
	struct iommufd_topo *topo;
	char (*addresses)[IOMMUFD_PCI_ADDRESS_SIZE];
	int status, overall = EXIT_OK, first = parse_command_options(cmd, g, argc, argv, probe_option, &data, &status);
	bool all_ready = true;

	if (first < 0)
		return status;
	if (first == argc)
		return usage_error(cmd, "probe: name at least one device");
	if (g->sysroot && strcmp(g->sysroot, "/") != 0)
		return usage_error(cmd, "probe: acts on the live system; --sysroot is for reading a snapshot");
	if (opts.hugepages && opts.length % (2u << 20))
		return usage_error(cmd, "probe: with --hugepages, --length must be a multiple of 2M");
	addresses = calloc((size_t)(argc - first), sizeof(*addresses));
	if (!addresses)
		return fail(EXIT_FAILURE_IO, "out of memory");
	/* Every name must resolve before anything is touched; the first device is probed on this reading. */
	topo = load_topology(g, 0, &status);
	if (!topo) {
		free(addresses);
		return status;
	}
	for (int i = first; i < argc && status == EXIT_OK; i++) {
		struct iommufd_pci_dev *dev;

		status = resolve_target(cmd, topo, argv[i], false, &dev, NULL);
		if (status == EXIT_OK)
			snprintf(addresses[i - first], sizeof(addresses[0]), "%s", iommufd_dev_address(dev));
	}
	if (status != EXIT_OK) {
		iommufd_topo_free(topo);
		free(addresses);
		return status;
	}
	out = json_object_new_object();
	devices = json_object_new_array();
	for (int i = 0; i < argc - first; i++) {
		struct probe p = { .opts = &opts, .failed = -1, .group = -1, .lock_fd = -1 };

		snprintf(p.address, sizeof(p.address), "%s", addresses[i]);
		for (int s = 0; s < STEP_COUNT; s++) {
			p.steps[s] = json_object_new_object();
			json_object_object_add(p.steps[s], "step", json_object_new_string(step_names[s]));
			json_object_object_add(p.steps[s], "result", json_object_new_string("not_run"));
			json_object_object_add(p.steps[s], "duration_ns", NULL);
			json_object_object_add(p.steps[s], "detail", NULL);
			json_object_object_add(p.steps[s], "error", NULL);
		}
		probe_device(&p, topo);
		topo = NULL;
		if (p.failed >= 0) {
			all_ready = false;
			fail(EXIT_NO, "%s: %s: %s", p.address, step_names[p.failed], p.message);
		}
		overall = combine(overall, p.failed < 0 ? EXIT_OK : p.status);
		json_object_array_add(devices, device_json(&p));
		for (int s = 0; s < STEP_COUNT; s++)
			json_object_put(p.steps[s]);
		free(p.message);
	}
	free(addresses);
	json_object_object_add(out, "ready", json_object_new_boolean(all_ready));
	json_object_object_add(out, "devices", devices);
	if (g->json) {
		if (emit_json(out))
			return EXIT_FAILURE_IO;
	} else {
		render_probe(out);
		json_object_put(out);
	}
	return overall;
}
