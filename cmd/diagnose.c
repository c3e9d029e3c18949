/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Diagnosis of failed iommufd/VFIO steps: look at sysfs, /proc and the
 * process's limits, and say what is wrong in the operator's terms.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diagnose.h"
#include "iommuctl.h"

/* Append to buf; the text is cut at the buffer's end. */
struct text {
	char *buf;
	size_t size, used;
};

__attribute__((format(printf, 2, 3))) static void add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->used + 1 >= t->size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->used, t->size - t->used, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->used = t->used + (size_t)n < t->size ? t->used + (size_t)n : t->size - 1;
}

static void path_in(char *out, size_t size, const char *sysroot, const char *path)
{
	if (sysroot && *sysroot && strcmp(sysroot, "/") != 0)
		snprintf(out, size, "%s/%s", sysroot, path);
	else
		snprintf(out, size, "/%s", path);
}

/* The first line of a small file under the sysroot; false when unreadable. */
static bool read_line(const char *sysroot, const char *path, char *out, size_t size)
{
	char full[512];
	FILE *f;
	bool ok;

	path_in(full, sizeof(full), sysroot, path);
	f = fopen(full, "re");
	if (!f)
		return false;
	ok = fgets(out, (int)size, f) != NULL;
	fclose(f);
	if (ok)
		out[strcspn(out, "\n")] = '\0';
	return ok;
}

static bool exists_in(const char *sysroot, const char *path)
{
	char full[512];
	struct stat st;

	path_in(full, sizeof(full), sysroot, path);
	return stat(full, &st) == 0;
}

int diag_errno_status(int err)
{
	switch (err < 0 ? -err : err) {
	case 0:
		return EXIT_OK;
	case EPERM:
	case EACCES:
		return EXIT_PERMISSION;
	case ENOENT:
	case ENODEV:
	case ENXIO:
		return EXIT_NOT_FOUND;
	case EBUSY:
	case EADDRINUSE:
	case EEXIST:
		return EXIT_UNSAFE;
	case EOPNOTSUPP:
	case ENOTTY:
		return EXIT_UNSUPPORTED;
	case EINVAL:
	case ERANGE:
		return EXIT_USAGE;
	default:
		return EXIT_FAILURE_IO;
	}
}

static const char *human(uint64_t bytes, char *buf, size_t size)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	unsigned int u = 0;
	uint64_t v = bytes;

	while (u < 4 && v >= 1024 && v % 1024 == 0) {
		v /= 1024;
		u++;
	}
	snprintf(buf, size, "%" PRIu64 " %s", v, units[u]);
	return buf;
}

/* "kB" value of a /proc/self/status line such as "VmPin:", or -1. */
static long long proc_status_kb(const char *key)
{
	char line[256];
	long long kb = -1;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, strlen(key)) == 0) {
			kb = strtoll(line + strlen(key), NULL, 10);
			break;
		}
	fclose(f);
	return kb;
}

static void explain_memlock(const struct diag_input *in, struct text *t)
{
	struct rlimit rl;
	char a[32], c[32], d[32];
	long long pin = proc_status_kb("VmPin:"), lck = proc_status_kb("VmLck:");

	if (getrlimit(RLIMIT_MEMLOCK, &rl) != 0) {
		add(t, "out of memory");
		return;
	}
	add(t, "RLIMIT_MEMLOCK exceeded: the limit is %s",
	    rl.rlim_cur == RLIM_INFINITY ? "unlimited" : human((uint64_t)rl.rlim_cur, a, sizeof(a)));
	if (rl.rlim_max != rl.rlim_cur) {
		char b[32];

		add(t, " (hard %s)", rl.rlim_max == RLIM_INFINITY ? "unlimited" : human((uint64_t)rl.rlim_max, b, sizeof(b)));
	}
	add(t, ", this session already pins %s", human(in->pinned, c, sizeof(c)));
	if (pin >= 0)
		add(t, " (VmPin %lld kB, VmLck %lld kB)", pin, lck);
	add(t, " and this step needs %s more; iommufd charges pinned pages to the user (all its processes) "
	       "by default; raise the limit (ulimit -l, limits.conf, LimitMEMLOCK=) or run with CAP_IPC_LOCK",
	    human(in->requested, d, sizeof(d)));
}

/* Reserved regions of the groups of the devices attached to in->pt_id (or every peer). */
static bool explain_reserved(const struct diag_input *in, struct iommufd_topo *topo, struct text *t)
{
	uint64_t last = in->length ? in->iova + in->length - 1 : in->iova;

	for (size_t p = 0; p < in->npeers; p++) {
		struct iommufd_pci_dev *dev = iommufd_topo_find_dev(topo, in->peers[p].address);
		struct iommufd_group *group = dev ? iommufd_dev_group(dev) : NULL;

		if (!group)
			continue;
		for (size_t i = 0; i < iommufd_group_resv_count(group); i++) {
			const struct iommufd_resv_region *r = iommufd_group_resv(group, i);

			if (r->start > last || r->end < in->iova)
				continue;
			add(t, "IOVA 0x%" PRIx64 "-0x%" PRIx64 " overlaps the %s reserved region 0x%" PRIx64 "-0x%" PRIx64
			       " of group %u (%s, attached to this IOAS), which no mapping may cover; "
			       "choose IOVAs outside it (see 'ioas ranges')",
			    in->iova, last, r->type, r->start, r->end, iommufd_group_id(group), in->peers[p].address);
			return true;
		}
	}
	return false;
}

/* A sibling of @dev (or @dev itself) held by another process. */
static bool explain_holders(const struct iommufd_pci_dev *dev, struct text *t)
{
	const struct iommufd_group *group = iommufd_dev_group(dev);
	pid_t self = getpid();

	for (size_t i = 0; group && i < iommufd_group_dev_count(group); i++) {
		const struct iommufd_pci_dev *sib = iommufd_group_dev(group, i);

		for (size_t h = 0; h < iommufd_dev_holder_count(sib); h++) {
			const struct iommufd_holder *holder = iommufd_dev_holder(sib, h);

			/* Group-node holders are explained once, for the group, below. */
			if (holder->pid == self || strcmp(holder->node, "group") == 0)
				continue;
			if (sib == dev)
				add(t, "%s is already open in pid %d (%s), through %s; a VFIO device can be bound "
				       "to one iommufd at a time: stop that process or use its session",
				    iommufd_dev_address(dev), (int)holder->pid, holder->command[0] ? holder->command : "?",
				    holder->path);
			else
				add(t, "group %u is owned by another process: its device %s is open in pid %d (%s), "
				       "through %s; a group belongs to one iommufd at a time: stop that process or open "
				       "the device in its session",
				    iommufd_group_id(group), iommufd_dev_address(sib), (int)holder->pid,
				    holder->command[0] ? holder->command : "?", holder->path);
			return true;
		}
	}
	for (size_t h = 0; group && h < iommufd_group_holder_count(group); h++) {
		const struct iommufd_holder *holder = iommufd_group_holder(group, h);

		if (holder->pid == self)
			continue;
		add(t, "group %u is held through the legacy group node %s by pid %d (%s); stop that process",
		    iommufd_group_id(group), holder->path, (int)holder->pid, holder->command[0] ? holder->command : "?");
		return true;
	}
	return false;
}

static bool explain_blocking_sibling(const struct iommufd_pci_dev *dev, struct text *t)
{
	const struct iommufd_group *group = iommufd_dev_group(dev);

	for (size_t i = 0; group && i < iommufd_group_dev_count(group); i++) {
		const struct iommufd_pci_dev *sib = iommufd_group_dev(group, i);

		if (sib == dev || iommufd_dev_verdict(sib) != IOMMUFD_VERDICT_BLOCKING)
			continue;
		add(t, "group %u is not viable: its device %s is bound to kernel driver %s, which the kernel will not "
		       "share the group with; unbind it or bind it to vfio-pci too (the whole group must leave the kernel)",
		    iommufd_group_id(group), iommufd_dev_address(sib), iommufd_dev_driver(sib));
		return true;
	}
	return false;
}

/* Interrupt remapping, as the IOMMU and /proc/interrupts show it. */
static void explain_msi(const struct diag_input *in, const struct iommufd_pci_dev *dev, struct text *t)
{
	const struct iommufd_group *group = iommufd_dev_group(dev);
	const char *iommu = group ? iommufd_group_iommu(group) : NULL;
	char path[256], param[8] = "?";
	bool remapped = false;
	FILE *f;

	read_line(in->sysroot, "sys/module/iommufd/parameters/allow_unsafe_interrupts", param, sizeof(param));
	path_in(path, sizeof(path), in->sysroot, "proc/interrupts");
	f = fopen(path, "re");
	if (f) {
		char line[512];

		while (!remapped && fgets(line, sizeof(line), f))
			remapped = strstr(line, "IR-") != NULL;
		fclose(f);
	}
	add(t, "the kernel refuses to let user space own the group without MSI isolation: ");
	if (iommu) {
		char value[64];

		snprintf(path, sizeof(path), "sys/class/iommu/%s/intel-iommu/ecap", iommu);
		if (read_line(in->sysroot, path, value, sizeof(value))) {
			unsigned long long ecap = strtoull(value, NULL, 16);

			if (!(ecap & (1ull << 3)))
				add(t, "IOMMU %s (Intel VT-d) has no interrupt remapping (ecap 0x%llx, IR=0)", iommu, ecap);
			else
				add(t, "IOMMU %s (Intel VT-d) can remap interrupts but %s", iommu,
				    remapped ? "this device's group is not isolated" : "remapping is off (intremap=off?)");
		} else {
			snprintf(path, sizeof(path), "sys/class/iommu/%s/amd-iommu", iommu);
			if (exists_in(in->sysroot, path))
				add(t, "IOMMU %s (AMD-Vi) %s", iommu,
				    remapped ? "remaps interrupts, but not this group's" : "has interrupt remapping off");
			else
				add(t, "IOMMU %s offers no interrupt remapping (not Intel VT-d or AMD-Vi: e.g. virtio-iommu)",
				    iommu);
		}
	} else {
		add(t, "no interrupt remapping found%s", remapped ? "" : " (/proc/interrupts shows no IR- vectors)");
	}
	add(t, ", and iommufd.allow_unsafe_interrupts is %s; enable interrupt remapping (intremap=on), or accept "
	       "the risk with 'echo 1 > /sys/module/iommufd/parameters/allow_unsafe_interrupts'",
	    param);
}

static void explain_device_open(const struct diag_input *in, struct iommufd_topo *topo, struct text *t, int *status)
{
	struct iommufd_pci_dev *dev = topo && in->device ? iommufd_topo_find_dev(topo, in->device) : NULL;
	const char *driver = dev ? iommufd_dev_driver(dev) : NULL;
	int err = -in->err;

	if (err == ENOENT && !dev) {
		add(t, "no such PCI device");
		*status = EXIT_NOT_FOUND;
		return;
	}
	if (err == EINVAL && !in->device) {
		add(t, "not a PCI address (expected DDDD:BB:DD.F or BB:DD.F)");
		*status = EXIT_USAGE;
		return;
	}
	if ((err == ENODEV || err == ENOENT) && dev) {
		*status = EXIT_NOT_FOUND;
		if (!driver)
			add(t, "no VFIO cdev: the device has no driver; bind it to vfio-pci first");
		else if (!iommufd_dev_driver_is_vfio(dev))
			add(t, "no VFIO cdev: the device is bound to kernel driver %s, not vfio-pci; bind it to "
			       "vfio-pci first",
			    driver);
		else {
			add(t, "bound to %s but without a VFIO device cdev (no vfio-dev/ in sysfs): the kernel lacks "
			       "CONFIG_VFIO_DEVICE_CDEV (6.6+); use the legacy /dev/vfio/GROUP interface",
			    driver);
			*status = EXIT_UNSUPPORTED;
		}
		return;
	}
	if (err == ENXIO) {
		add(t, "the node in /dev/vfio/devices is not the cdev sysfs names (stale /dev?); check devtmpfs");
		*status = EXIT_NOT_FOUND;
		return;
	}
	if ((err == EPERM || err == EBUSY || err == EINVAL) && dev) {
		*status = EXIT_UNSAFE;
		if (explain_holders(dev, t) || explain_blocking_sibling(dev, t))
			return;
		if (err == EPERM) {
			explain_msi(in, dev, t);
			*status = EXIT_UNSUPPORTED;
			return;
		}
	}
	if (err == EACCES) {
		add(t, "permission denied opening its cdev %s; run as root or give the user access to the node",
		    dev && iommufd_dev_vfio_cdev(dev) ? iommufd_dev_vfio_cdev(dev) : "/dev/vfio/devices/vfioN");
		*status = EXIT_PERMISSION;
		return;
	}
	if (err == EOPNOTSUPP) {
		add(t, "the kernel lacks VFIO_DEVICE_BIND_IOMMUFD (needs Linux 6.6+ with CONFIG_VFIO_DEVICE_CDEV)");
		*status = EXIT_UNSUPPORTED;
		return;
	}
	add(t, "%s", strerror(err));
	*status = diag_errno_status(in->err);
}

static void explain_iommufd_open(const struct diag_input *in, struct text *t, int *status)
{
	int err = -in->err;

	if (err == ENOENT) {
		*status = EXIT_UNSUPPORTED;
		if (exists_in(in->sysroot, "sys/module/iommufd"))
			add(t, "/dev/iommu does not exist although iommufd is loaded: is devtmpfs mounted on /dev?");
		else if (exists_in(in->sysroot, "sys/class/misc/iommu"))
			add(t, "/dev/iommu does not exist although the kernel has it (sys/class/misc/iommu): "
			       "is devtmpfs mounted on /dev?");
		else
			add(t, "/dev/iommu does not exist: the iommufd module is not loaded (modprobe iommufd) or the "
			       "kernel was built without CONFIG_IOMMUFD");
	} else if (err == EACCES || err == EPERM) {
		*status = EXIT_PERMISSION;
		add(t, "permission denied opening /dev/iommu; run as root or give the user access to it");
	} else if (err == ENOTTY || err == EOPNOTSUPP) {
		*status = EXIT_UNSUPPORTED;
		add(t, "the node is not an iommufd");
	} else {
		*status = diag_errno_status(in->err);
		add(t, "%s", strerror(err));
	}
}

static void explain_attach(const struct diag_input *in, struct iommufd_topo *topo, struct text *t, int *status)
{
	struct iommufd_pci_dev *dev = topo && in->device ? iommufd_topo_find_dev(topo, in->device) : NULL;
	struct iommufd_group *group = dev ? iommufd_dev_group(dev) : NULL;
	int err = -in->err;

	if (err == EINVAL && group) {
		for (size_t p = 0; p < in->npeers; p++) {
			struct iommufd_pci_dev *sib = iommufd_topo_find_dev(topo, in->peers[p].address);

			if (!sib || sib == dev || iommufd_dev_group(sib) != group || !in->peers[p].pt_id ||
			    in->peers[p].pt_id == in->pt_id)
				continue;
			add(t, "its group %u sibling %s is attached to %u%s%s%s; every device of a group must use the "
			       "same IOAS/HWPT: attach to %u too, or detach %s first",
			    iommufd_group_id(group), in->peers[p].address, in->peers[p].pt_id,
			    in->peers[p].pt_name ? " (" : "", in->peers[p].pt_name ? in->peers[p].pt_name : "",
			    in->peers[p].pt_name ? ")" : "", in->peers[p].pt_id, in->peers[p].address);
			*status = EXIT_UNSAFE;
			return;
		}
		add(t, "the kernel refused the target: the IOMMU behind the device cannot use that page table "
		       "(a HWPT made for another device or IOMMU?)");
		*status = EXIT_UNSUPPORTED;
		return;
	}
	if (err == EADDRINUSE) {
		add(t, "the IOAS maps or allows IOVAs that fall in a reserved region of the device's group");
		for (size_t i = 0; group && i < iommufd_group_resv_count(group); i++) {
			const struct iommufd_resv_region *r = iommufd_group_resv(group, i);

			add(t, "%s %s 0x%" PRIx64 "-0x%" PRIx64, i ? "," : " (group reserves", r->type, r->start, r->end);
		}
		add(t, "%s; unmap what overlaps them first", group && iommufd_group_resv_count(group) ? ")" : "");
		*status = EXIT_UNSAFE;
		return;
	}
	if (err == EBUSY) {
		add(t, "the device is already attached; detach it first");
		*status = EXIT_UNSAFE;
		return;
	}
	if (err == ENOENT) {
		add(t, "no IOAS or HWPT %u in this iommufd", in->pt_id);
		*status = EXIT_NOT_FOUND;
		return;
	}
	if (err == ENOMEM) {
		explain_memlock(in, t);
		*status = EXIT_PERMISSION;
		return;
	}
	add(t, "%s", strerror(err));
	*status = diag_errno_status(in->err);
}

static void explain_map(const struct diag_input *in, struct iommufd_topo *topo, struct text *t, int *status)
{
	int err = -in->err;

	if (err == ENOMEM) {
		explain_memlock(in, t);
		*status = EXIT_PERMISSION;
		return;
	}
	if ((err == EINVAL || err == EADDRINUSE) && topo && explain_reserved(in, topo, t)) {
		*status = EXIT_UNSAFE;
		return;
	}
	if (err == EINVAL && in->length && ((in->fixed_iova && in->iova % 4096) || in->length % 4096)) {
		add(t, "IOVA and length must be multiples of the IOMMU page size (4 KiB here or larger)");
		*status = EXIT_USAGE;
		return;
	}
	switch (err) {
	case EEXIST:
		add(t, "part of IOVA 0x%" PRIx64 "-0x%" PRIx64 " is already mapped; unmap it first or choose another IOVA",
		    in->iova, in->iova + in->length - 1);
		*status = EXIT_UNSAFE;
		return;
	case ENOSPC:
		add(t, "no free IOVA range of that size in the IOAS (see 'ioas ranges')");
		*status = EXIT_FAILURE_IO;
		return;
	case ENOENT:
		if (in->step == DIAG_UNMAP || in->step == DIAG_COPY)
			add(t, "nothing is mapped at IOVA 0x%" PRIx64 " (length 0x%" PRIx64 ") in IOAS %u", in->iova,
			    in->length, in->pt_id);
		else
			add(t, "no IOAS %u in this iommufd", in->pt_id);
		*status = EXIT_NOT_FOUND;
		return;
	case EOPNOTSUPP:
		add(t, "the kernel cannot do that (IOMMU_IOAS_MAP_FILE needs Linux 6.13 and a memfd or hugetlbfs file)");
		*status = EXIT_UNSUPPORTED;
		return;
	case EINVAL:
		if (in->step == DIAG_UNMAP)
			add(t, "the range splits a mapping; unmap whole mappings");
		else
			add(t, "the kernel refused the range (misaligned, outside the IOMMU's aperture, or not allowed "
			       "by 'ioas allow'; see 'ioas ranges')");
		*status = EXIT_USAGE;
		return;
	case EADDRINUSE:
		add(t, "the range intersects a reserved region of an attached device (see 'ioas ranges')");
		*status = EXIT_UNSAFE;
		return;
	default:
		add(t, "%s", strerror(err));
		*status = diag_errno_status(in->err);
	}
}

const char *diagnose(const struct diag_input *in, char *buf, size_t size, int *status)
{
	struct text t = { buf, size, 0 };
	struct iommufd_topo *topo = NULL;
	int st = EXIT_FAILURE_IO;
	int err = -in->err;

	if (size)
		buf[0] = '\0';
	/* Only the cases that look at devices pay for a topology load. */
	if (in->step == DIAG_DEVICE_OPEN || in->step == DIAG_ATTACH ||
	    ((in->step == DIAG_MAP || in->step == DIAG_ALLOW || in->step == DIAG_COPY) &&
	     (err == EINVAL || err == EADDRINUSE)))
		iommufd_topo_load(in->sysroot, IOMMUFD_TOPO_HOLDERS, &topo);
	switch (in->step) {
	case DIAG_IOMMUFD_OPEN:
		explain_iommufd_open(in, &t, &st);
		break;
	case DIAG_DEVICE_OPEN:
		explain_device_open(in, topo, &t, &st);
		break;
	case DIAG_ATTACH:
		explain_attach(in, topo, &t, &st);
		break;
	case DIAG_MAP:
	case DIAG_UNMAP:
	case DIAG_COPY:
	case DIAG_ALLOW:
		explain_map(in, topo, &t, &st);
		break;
	case DIAG_HWPT_ALLOC:
		if (err == EADDRINUSE) {
			add(&t, "the IOAS already maps IOVAs the new page table cannot translate (a reserved region "
				"of the device, or outside the domain's aperture: some IOMMU drivers, such as "
				"virtio-iommu, size a domain only when a device attaches); allocate the HWPT before "
				"mapping, or attach the device to the IOAS instead");
			st = EXIT_UNSAFE;
			break;
		}
		if (err == EOPNOTSUPP) {
			add(&t, "the kernel lacks IOMMU_HWPT_ALLOC, or the IOMMU cannot do what was asked "
				"(dirty tracking needs IOMMU support: see 'info DEV')");
			st = EXIT_UNSUPPORTED;
			break;
		}
		/* fall through */
	default:
		if (err == ENOMEM) {
			explain_memlock(in, &t);
			st = EXIT_PERMISSION;
		} else if (err == EBUSY && in->step == DIAG_DESTROY) {
			add(&t, "still in use: detach the devices attached to it (and destroy HWPTs built on it) first");
			st = EXIT_UNSAFE;
		} else if (err == EBUSY && in->step == DIAG_OPTION) {
			add(&t, "the option can only change while the object has no mappings, devices or objects");
			st = EXIT_UNSAFE;
		} else if (err == EPERM && in->step == DIAG_OPTION) {
			add(&t, "changing the accounting mode needs CAP_SYS_RESOURCE");
			st = EXIT_PERMISSION;
		} else if (err == ENOENT) {
			add(&t, "no such object in this iommufd");
			st = EXIT_NOT_FOUND;
		} else if (err == EOPNOTSUPP) {
			add(&t, "not supported by this kernel or IOMMU");
			st = EXIT_UNSUPPORTED;
		} else if (err == EINVAL && in->step == DIAG_DETACH) {
			add(&t, "the device is not attached");
			st = EXIT_USAGE;
		} else {
			add(&t, "%s", strerror(err));
			st = diag_errno_status(in->err);
		}
		break;
	}
	iommufd_topo_free(topo);
	if (status)
		*status = st;
	return buf;
}
