/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "internal.h"

struct iommufd_group {
	unsigned int id;
	char *type;
	char *iommu;
	struct ptr_vec devs;
	struct iommufd_resv_region *resv;
	size_t resv_count;
	struct iommufd_holder *holders;
	size_t holder_count;
	struct iommufd_holder *owners; /* holders of the group node and of every member's cdev */
	size_t owner_count;
	bool incomplete; /* a member was skipped: it could not be read */
};

struct iommufd_pci_dev {
	char address[IOMMUFD_PCI_ADDRESS_SIZE];
	uint16_t vendor, device;
	uint32_t class;
	int32_t subsys_vendor, subsys_device;
	int numa_node;
	char *vendor_name, *device_name;
	char *driver, *driver_override;
	bool driver_vfio, assumed_vfio;
	char *vfio_cdev, *vfio_devt;
	struct iommufd_group *group;
	struct iommufd_pci_dev *parent;
	char parent_address[IOMMUFD_PCI_ADDRESS_SIZE];
	struct ptr_vec netdevs;
	struct iommufd_holder *holders;
	size_t holder_count;
	struct dev_caps caps;
	bool caps_read;
};

struct iommufd_topo {
	char *sysroot;
	struct ptr_vec groups, devs, iommus;
	struct ptr_vec skipped; /* "ADDRESS\0why", devices that could not be read */
	struct sysfs fs; /* kept open only when recording */
	bool recording;
};

#define PATH_BUF 512

IOMMUFD_EXPORT const char *iommufd_verdict_name(enum iommufd_verdict verdict)
{
	switch (verdict) {
	case IOMMUFD_VERDICT_DRIVERLESS:
		return "driver-less";
	case IOMMUFD_VERDICT_VFIO:
		return "vfio";
	case IOMMUFD_VERDICT_PCI_STUB:
		return "pci-stub";
	case IOMMUFD_VERDICT_BRIDGE:
		return "bridge";
	case IOMMUFD_VERDICT_BLOCKING:
		return "blocking";
	}
	return "unknown";
}

IOMMUFD_EXPORT const char *iommufd_pcie_type_name(enum iommufd_pcie_type type)
{
	switch (type) {
	case IOMMUFD_PCIE_NONE:
		return "pci";
	case IOMMUFD_PCIE_ENDPOINT:
		return "endpoint";
	case IOMMUFD_PCIE_LEGACY_ENDPOINT:
		return "legacy-endpoint";
	case IOMMUFD_PCIE_ROOT_PORT:
		return "root-port";
	case IOMMUFD_PCIE_UPSTREAM_PORT:
		return "upstream-port";
	case IOMMUFD_PCIE_DOWNSTREAM_PORT:
		return "downstream-port";
	case IOMMUFD_PCIE_PCI_BRIDGE:
		return "pcie-to-pci-bridge";
	case IOMMUFD_PCIE_PCIE_BRIDGE:
		return "pci-to-pcie-bridge";
	case IOMMUFD_PCIE_RC_ENDPOINT:
		return "rc-integrated-endpoint";
	case IOMMUFD_PCIE_RC_EVENT_COLLECTOR:
		return "rc-event-collector";
	}
	return "unknown";
}

/* ---- freeing ---- */

static void free_dev(struct iommufd_pci_dev *dev)
{
	free(dev->vendor_name);
	free(dev->device_name);
	free(dev->driver);
	free(dev->driver_override);
	free(dev->vfio_cdev);
	free(dev->vfio_devt);
	for (size_t i = 0; i < dev->netdevs.count; i++)
		free(dev->netdevs.items[i]);
	ptr_vec_free(&dev->netdevs);
	free(dev->holders);
	free(dev);
}

static void free_group(struct iommufd_group *group)
{
	free(group->type);
	free(group->iommu);
	ptr_vec_free(&group->devs);
	free(group->resv);
	free(group->holders);
	free(group->owners);
	free(group);
}

IOMMUFD_EXPORT void iommufd_topo_free(struct iommufd_topo *topo)
{
	if (!topo)
		return;
	for (size_t i = 0; i < topo->devs.count; i++)
		free_dev(topo->devs.items[i]);
	for (size_t i = 0; i < topo->groups.count; i++)
		free_group(topo->groups.items[i]);
	for (size_t i = 0; i < topo->iommus.count; i++)
		free(topo->iommus.items[i]);
	ptr_vec_free(&topo->devs);
	ptr_vec_free(&topo->groups);
	ptr_vec_free(&topo->iommus);
	for (size_t i = 0; i < topo->skipped.count; i++)
		free(topo->skipped.items[i]);
	ptr_vec_free(&topo->skipped);
	if (topo->recording)
		sysfs_close(&topo->fs);
	free(topo->sysroot);
	free(topo);
}

/* ---- reading one device ---- */

/* "dir/name" into @out; the hot path of loading, so no printf machinery. */
static int join_path(char *out, size_t size, const char *dir, const char *name)
{
	size_t dlen = strlen(dir), nlen = strlen(name);

	if (dlen + 1 + nlen + 1 > size)
		return -ENAMETOOLONG;
	memcpy(out, dir, dlen + 1);
	out[dlen] = '/';
	memcpy(out + dlen + 1, name, nlen + 1);
	return 0;
}

/* Read an attribute that must be there and be well formed. */
static int read_required_hex(struct sysfs *fs, const char *dir, const char *attr, unsigned int digits,
			     uint32_t *value)
{
	char path[PATH_BUF], text[64];
	int err;

	if (join_path(path, sizeof(path), dir, attr))
		return -ENAMETOOLONG;
	err = sysfs_read_text(fs, path, text, sizeof(text));
	if (err)
		return sysfs_fail(err, "%s: cannot read: %s", path, strerror(-err));
	if (parse_hex_attr(text, digits, value))
		return sysfs_fail(-EINVAL, "%s: malformed value \"%.32s\"", path, text);
	return 0;
}

/* Optional attribute: absent leaves it unknown; present but unreadable fails. */
static int read_optional_text(struct sysfs *fs, const char *dir, const char *attr, char *text, size_t size,
			      bool *present)
{
	char path[PATH_BUF];
	int err;

	if (join_path(path, sizeof(path), dir, attr))
		return -ENAMETOOLONG;
	err = sysfs_read_text(fs, path, text, size);
	*present = err == 0;
	if (err == -ENOENT)
		return 0;
	if (err)
		return sysfs_fail(err, "%s: cannot read: %s", path, strerror(-err));
	return 0;
}

static int read_optional_link(struct sysfs *fs, const char *dir, const char *attr, char **out)
{
	char path[PATH_BUF], name[256];
	int err;

	if (join_path(path, sizeof(path), dir, attr))
		return -ENAMETOOLONG;
	err = sysfs_link_name(fs, path, name, sizeof(name));
	if (err == -ENOENT)
		return 0;
	if (err)
		return sysfs_fail(err, "%s: %s", path, err == -EINVAL ? "not a symlink" : strerror(-err));
	*out = strdup(name);
	return *out ? 0 : -ENOMEM;
}

/*
 * The kernel's own form, "0000:01:00.0" or "10000:e1:00.0" (a domain of 4
 * hex digits, or 5 to 8 without a leading zero), lower case: checked by
 * shape, for every sysfs entry.
 */
static bool is_pci_address(const char *s)
{
	static const char shape[] = ":xx:xx.f";
	size_t digits = 0;

	while (digits < 9 && ((s[digits] >= '0' && s[digits] <= '9') || (s[digits] >= 'a' && s[digits] <= 'f')))
		digits++;
	if (digits < 4 || digits > 8 || (digits > 4 && s[0] == '0'))
		return false;
	s += digits;
	for (size_t i = 0; i < 8; i++) {
		char c = s[i];

		if (shape[i] == 'x' ? !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))
		    : shape[i] == 'f' ? !(c >= '0' && c <= '7')
				      : c != shape[i])
			return false;
	}
	/* Slot is 5 bits: 00-1f. */
	return s[8] == '\0' && (s[4] == '0' || s[4] == '1');
}

static bool was_skipped(const struct iommufd_topo *topo, const char *name);

/* The nearest PCI device above @address in the link "../../../devices/pci0000:00/.../ADDR". */
static int read_parent(struct sysfs *fs, struct iommufd_pci_dev *dev)
{
	char path[PATH_BUF], target[4096];
	char *last, *prev;
	int err;

	snprintf(path, sizeof(path), "sys/bus/pci/devices/%s", dev->address);
	err = sysfs_readlink(fs, path, target, sizeof(target));
	if (err == -EINVAL)
		return 0; /* a plain directory (some fixtures): no path to the root */
	if (err)
		return sysfs_fail(err, "%s: %s", path, strerror(-err));
	last = strrchr(target, '/');
	if (!last)
		return 0;
	*last = '\0';
	prev = strrchr(target, '/');
	prev = prev ? prev + 1 : target;
	if (is_pci_address(prev))
		memcpy(dev->parent_address, prev, strlen(prev) + 1); /* is_pci_address: at most 16 */
	return 0;
}

static int read_names_list(struct sysfs *fs, const char *path, struct ptr_vec *out)
{
	int err = sysfs_list_dir(fs, path, out);

	if (err == -ENOENT || err == -ENOTDIR) {
		memset(out, 0, sizeof(*out));
		return 0;
	}
	if (err)
		return sysfs_fail(err, "%s: %s", path, strerror(-err));
	return 0;
}

static int read_vfio_cdev(struct sysfs *fs, const char dir[64], struct iommufd_pci_dev *dev)
{
	char path[PATH_BUF], devt[32];
	struct ptr_vec names;
	unsigned int major, minor;
	int err;

	snprintf(path, sizeof(path), "%s/vfio-dev", dir);
	err = read_names_list(fs, path, &names);
	if (err)
		return err;
	for (size_t i = 0; i < names.count && !dev->vfio_cdev; i++) {
		const char *name = names.items[i];

		if (strncmp(name, "vfio", 4) != 0 || !isdigit((unsigned char)name[4]))
			continue;
		snprintf(path, sizeof(path), "%s/vfio-dev/%s/dev", dir, name);
		err = sysfs_read_text(fs, path, devt, sizeof(devt));
		if (err == 0 && parse_devt(devt, &major, &minor) != 0)
			err = sysfs_fail(-EINVAL, "%s: malformed device number \"%.16s\"", path, devt);
		else if (err && err != -ENOENT)
			err = sysfs_fail(err, "%s: %s", path, strerror(-err));
		if (err && err != -ENOENT)
			break;
		err = 0;
		if (asprintf(&dev->vfio_cdev, "/dev/vfio/devices/%s", name) < 0) {
			dev->vfio_cdev = NULL;
			err = -ENOMEM;
			break;
		}
		dev->vfio_devt = strdup(devt);
	}
	sysfs_free_names(&names);
	return err;
}

static int read_dev(struct sysfs *fs, const char *address, struct iommufd_pci_dev **out)
{
	struct iommufd_pci_dev *dev = calloc(1, sizeof(*dev));
	char dir[64], text[256];
	uint32_t value = 0;
	bool present;
	int err;

	if (!dev)
		return -ENOMEM;
	snprintf(dev->address, sizeof(dev->address), "%s", address);
	dev->numa_node = -1;
	dev->subsys_vendor = dev->subsys_device = -1;
	snprintf(dir, sizeof(dir), "sys/bus/pci/devices/%s", address);

	err = read_required_hex(fs, dir, "vendor", 4, &value);
	if (err)
		goto fail;
	dev->vendor = (uint16_t)value;
	err = read_required_hex(fs, dir, "device", 4, &value);
	if (err)
		goto fail;
	dev->device = (uint16_t)value;
	err = read_required_hex(fs, dir, "class", 6, &dev->class);
	if (err)
		goto fail;

	err = read_optional_text(fs, dir, "subsystem_vendor", text, sizeof(text), &present);
	if (!err && present && parse_hex_attr(text, 4, &value) == 0)
		dev->subsys_vendor = (int32_t)value;
	if (!err)
		err = read_optional_text(fs, dir, "subsystem_device", text, sizeof(text), &present);
	if (!err && present && parse_hex_attr(text, 4, &value) == 0)
		dev->subsys_device = (int32_t)value;
	if (!err)
		err = read_optional_text(fs, dir, "numa_node", text, sizeof(text), &present);
	if (!err && present) {
		char *end;
		long node = strtol(text, &end, 10);

		if (*end || end == text || node < -1 || node > 65535) {
			err = sysfs_fail(-EINVAL, "%s/numa_node: malformed value \"%.32s\"", dir, text);
			goto fail;
		}
		dev->numa_node = (int)node;
	}
	if (!err)
		err = read_optional_text(fs, dir, "driver_override", text, sizeof(text), &present);
	if (!err && present && strcmp(text, "(null)") != 0 && text[0]) {
		dev->driver_override = strdup(text);
		if (!dev->driver_override)
			err = -ENOMEM;
	}
	if (!err)
		err = read_optional_link(fs, dir, "driver", &dev->driver);
	if (!err)
		err = read_vfio_cdev(fs, dir, dev);
	if (!err)
		err = read_parent(fs, dev);
	if (err)
		goto fail;
	*out = dev;
	return 0;
fail:
	free_dev(dev);
	return err;
}

/* ---- drivers ---- */

/*
 * A VFIO driver is vfio-pci itself or a variant built on vfio-pci-core
 * (mlx5_vfio_pci, virtio_vfio_pci, ...).  Rather than a list of names, look
 * at what the kernel shows: a vfio-dev/ directory under the device (VFIO
 * cdev kernels), or the driver's module among vfio_pci_core's holders.
 */
static bool driver_is_vfio(struct sysfs *fs, const struct iommufd_pci_dev *dev)
{
	char path[PATH_BUF], module[256];

	if (strcmp(dev->driver, "vfio-pci") == 0 || dev->vfio_cdev)
		return true;
	snprintf(path, sizeof(path), "sys/bus/pci/drivers/%s/module", dev->driver);
	if (sysfs_link_name(fs, path, module, sizeof(module)) != 0)
		return false;
	snprintf(path, sizeof(path), "sys/module/vfio_pci_core/holders/%s", module);
	return sysfs_exists(fs, path);
}

/* ---- groups ---- */

static int cmp_dev_address(const void *key, const void *item)
{
	return strcmp(key, (*(struct iommufd_pci_dev *const *)item)->address);
}

IOMMUFD_EXPORT struct iommufd_pci_dev *iommufd_topo_find_dev(const struct iommufd_topo *topo,
							    const char *address)
{
	struct iommufd_pci_dev **found;

	if (topo->devs.count == 0)
		return NULL;
	found = bsearch(address, topo->devs.items, topo->devs.count, sizeof(void *), cmp_dev_address);

	return found ? *found : NULL;
}

static int parse_group_number(const char *name, unsigned int *id)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)name[0]))
		return -EINVAL;
	v = strtoul(name, &end, 10);
	if (*end || v > 0x7fffffff)
		return -EINVAL;
	*id = (unsigned int)v;
	return 0;
}

static int read_resv(struct sysfs *fs, const char dir[64], struct iommufd_group *group)
{
	char path[PATH_BUF];
	unsigned char *data;
	size_t len;
	int err;

	snprintf(path, sizeof(path), "%s/reserved_regions", dir);
	err = sysfs_read_file(fs, path, &data, &len);
	if (err == -ENOENT)
		return 0;
	if (err)
		return sysfs_fail(err, "%s: cannot read: %s", path, strerror(-err));
	char *text = realloc(data, len + 1);
	if (!text) {
		free(data);
		return -ENOMEM;
	}
	text[len] = '\0';
	for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct iommufd_resv_region region;
		void *grown;

		if (parse_resv_line(line, &region)) {
			err = sysfs_fail(-EINVAL, "%s: malformed line \"%.60s\"", path, line);
			break;
		}
		grown = realloc(group->resv, (group->resv_count + 1) * sizeof(region));
		if (!grown) {
			err = -ENOMEM;
			break;
		}
		group->resv = grown;
		group->resv[group->resv_count++] = region;
	}
	free(text);
	return err;
}

static int read_group(struct sysfs *fs, struct iommufd_topo *topo, unsigned int id)
{
	struct iommufd_group *group = calloc(1, sizeof(*group));
	char dir[64], path[PATH_BUF], text[64];
	struct ptr_vec members;
	bool present;
	int err;

	if (!group)
		return -ENOMEM;
	group->id = id;
	snprintf(dir, sizeof(dir), "sys/kernel/iommu_groups/%u", id);
	err = read_optional_text(fs, dir, "type", text, sizeof(text), &present);
	if (!err && present && !(group->type = strdup(text)))
		err = -ENOMEM;
	if (!err)
		err = read_resv(fs, dir, group);
	if (!err)
		err = ptr_vec_push(&topo->groups, group);
	if (err) {
		free_group(group);
		return err;
	}
	snprintf(path, sizeof(path), "%s/devices", dir);
	err = read_names_list(fs, path, &members);
	if (err)
		return err;
	for (size_t i = 0; i < members.count && !err; i++) {
		struct iommufd_pci_dev *dev = iommufd_topo_find_dev(topo, members.items[i]);

		/* Non-PCI members (platform devices) are outside this model; a skipped one makes the group unknown. */
		if (!dev) {
			if (was_skipped(topo, members.items[i]))
				group->incomplete = true;
			continue;
		}
		dev->group = group;
		err = ptr_vec_push(&group->devs, dev);
		if (!err && !group->iommu) {
			char devdir[PATH_BUF];

			snprintf(devdir, sizeof(devdir), "sys/bus/pci/devices/%s", dev->address);
			err = read_optional_link(fs, devdir, "iommu", &group->iommu);
		}
	}
	sysfs_free_names(&members);
	return err;
}

/* ---- holders: who has /dev/vfio nodes open ---- */

static int add_holder(struct iommufd_holder **list, size_t *count, pid_t pid, const char *comm,
		      const char *node, const char *kind, const char *device)
{
	struct iommufd_holder *grown = realloc(*list, (*count + 1) * sizeof(**list));

	if (!grown)
		return -ENOMEM;
	*list = grown;
	memset(&grown[*count], 0, sizeof(**list));
	grown[*count].pid = pid;
	snprintf(grown[*count].command, sizeof(grown->command), "%s", comm);
	snprintf(grown[*count].path, sizeof(grown->path), "%s", node);
	snprintf(grown[*count].node, sizeof(grown->node), "%s", kind);
	snprintf(grown[*count].device, sizeof(grown->device), "%s", device ? device : "");
	(*count)++;
	return 0;
}

static struct iommufd_pci_dev *dev_by_cdev(const struct iommufd_topo *topo, const char *node)
{
	for (size_t i = 0; i < topo->devs.count; i++) {
		struct iommufd_pci_dev *dev = topo->devs.items[i];

		if (dev->vfio_cdev && strcmp(dev->vfio_cdev, node) == 0)
			return dev;
	}
	return NULL;
}

/*
 * The canonical /dev/vfio name of the character device the fd @link points
 * at, matched by device number against the cdevs and group nodes.
 */
static int node_by_devt(struct sysfs *fs, const struct iommufd_topo *topo, const char *link, char *node,
			size_t size)
{
	struct stat st, gst;
	char path[64];
	unsigned int maj, min;

	if (fstatat(fs->rootfd, link, &st, 0) != 0 || !S_ISCHR(st.st_mode))
		return -ENOENT;
	for (size_t i = 0; i < topo->devs.count; i++) {
		const struct iommufd_pci_dev *dev = topo->devs.items[i];

		if (dev->vfio_devt && dev->vfio_cdev && parse_devt(dev->vfio_devt, &maj, &min) == 0 &&
		    makedev(maj, min) == st.st_rdev) {
			snprintf(node, size, "%s", dev->vfio_cdev);
			return 0;
		}
	}
	for (size_t i = 0; i < topo->groups.count; i++) {
		const struct iommufd_group *g = topo->groups.items[i];

		snprintf(path, sizeof(path), "dev/vfio/%u", g->id);
		if (fstatat(fs->rootfd, path, &gst, 0) == 0 && S_ISCHR(gst.st_mode) && gst.st_rdev == st.st_rdev) {
			snprintf(node, size, "/%s", path);
			return 0;
		}
	}
	return -ENOENT;
}

static int scan_holders(struct sysfs *fs, struct iommufd_topo *topo)
{
	struct sysfs quiet = *fs;
	struct ptr_vec pids;
	int err = 0;

	/* Only matching fds go into a snapshot, not the whole process table. */
	quiet.rec = NULL;
	if (sysfs_list_dir(&quiet, "proc", &pids) != 0)
		return 0;
	for (size_t i = 0; i < pids.count && !err; i++) {
		const char *pid = pids.items[i];
		char path[PATH_BUF], comm[64] = "";
		bool comm_read = false;
		struct ptr_vec fds;

		if (!isdigit((unsigned char)pid[0]))
			continue;
		snprintf(path, sizeof(path), "proc/%s/fd", pid);
		if (sysfs_list_dir(&quiet, path, &fds) != 0)
			continue; /* gone, or another user's process */
		for (size_t j = 0; j < fds.count && !err; j++) {
			char link[PATH_BUF], node[256];
			unsigned int group_id;
			struct iommufd_pci_dev *dev;
			struct iommufd_group *group;

			snprintf(link, sizeof(link), "proc/%s/fd/%s", pid, (char *)fds.items[j]);
			if (sysfs_readlink(&quiet, link, node, sizeof(node)) != 0)
				continue;
			/* A node opened in another mount namespace reads as a path of that namespace. */
			if (strncmp(node, "/dev/vfio/", 10) != 0 && node_by_devt(fs, topo, link, node, sizeof(node)) != 0)
				continue;
			sysfs_note(fs, link);
			if (!comm_read) {
				snprintf(path, sizeof(path), "proc/%s/comm", pid);
				if (sysfs_read_text(fs, path, comm, sizeof(comm)) != 0)
					comm[0] = '\0'; /* exited, or not ours to read: unknown */
				comm_read = true;
			}
			/*
			 * A cdev holds its device; the group node (legacy container
			 * users) holds every device of the group.  Either way the
			 * group is owned by that process.
			 */
			if ((dev = dev_by_cdev(topo, node))) {
				err = add_holder(&dev->holders, &dev->holder_count, atoi(pid), comm, node, "cdev", NULL);
				if (!err && dev->group)
					err = add_holder(&dev->group->owners, &dev->group->owner_count, atoi(pid), comm,
							 node, "cdev", dev->address);
			} else if (parse_group_number(node + 10, &group_id) == 0 &&
				   (group = iommufd_topo_find_group(topo, group_id))) {
				err = add_holder(&group->holders, &group->holder_count, atoi(pid), comm, node, "group", NULL);
				if (!err)
					err = add_holder(&group->owners, &group->owner_count, atoi(pid), comm, node,
							 "group", NULL);
				for (size_t k = 0; k < group->devs.count && !err; k++) {
					struct iommufd_pci_dev *m = group->devs.items[k];

					err = add_holder(&m->holders, &m->holder_count, atoi(pid), comm, node, "group", NULL);
				}
			}
		}
		sysfs_free_names(&fds);
	}
	sysfs_free_names(&pids);
	return err;
}

/* ---- loading ---- */

static int skip_dev(struct iommufd_topo *topo, const char *name, const char *why)
{
	size_t n = strlen(name), w = strlen(why);
	char *rec = malloc(n + w + 2);

	if (!rec)
		return -ENOMEM;
	memcpy(rec, name, n + 1);
	memcpy(rec + n + 1, why, w + 1);
	if (ptr_vec_push(&topo->skipped, rec)) {
		free(rec);
		return -ENOMEM;
	}
	return 0;
}

static bool was_skipped(const struct iommufd_topo *topo, const char *name)
{
	for (size_t i = 0; i < topo->skipped.count; i++)
		if (strcmp(topo->skipped.items[i], name) == 0)
			return true;
	return false;
}

IOMMUFD_EXPORT size_t iommufd_topo_skipped_count(const struct iommufd_topo *topo)
{
	return topo->skipped.count;
}

IOMMUFD_EXPORT const char *iommufd_topo_skipped(const struct iommufd_topo *topo, size_t i, const char **why)
{
	const char *rec;

	if (i >= topo->skipped.count)
		return NULL;
	rec = topo->skipped.items[i];
	if (why)
		*why = rec + strlen(rec) + 1;
	return rec;
}

static int load_devices(struct sysfs *fs, struct iommufd_topo *topo)
{
	struct ptr_vec names;
	int err = sysfs_list_dir(fs, "sys/bus/pci/devices", &names);

	if (err)
		return sysfs_fail(err, "sys/bus/pci/devices: %s", strerror(-err));
	for (size_t i = 0; i < names.count && !err; i++) {
		struct iommufd_pci_dev *dev = NULL;

		if (!is_pci_address(names.items[i])) {
			sysfs_fail(-EINVAL, "sys/bus/pci/devices/%s: not a PCI address", (char *)names.items[i]);
			err = skip_dev(topo, names.items[i], iommufd_topo_load_error());
			continue;
		}
		err = read_dev(fs, names.items[i], &dev);
		/* A device that vanished or cannot be read is skipped (and named), not a failed load. */
		if (err && err != -ENOMEM) {
			err = skip_dev(topo, names.items[i], iommufd_topo_load_error());
			continue;
		}
		if (!err && (err = ptr_vec_push(&topo->devs, dev)))
			free_dev(dev);
	}
	sysfs_free_names(&names);
	/* Whether a driver is a VFIO variant is a property of the driver: ask once per name. */
	struct str_set vfio_drivers = { 0 }, other_drivers = { 0 };

	for (size_t i = 0; i < topo->devs.count && !err; i++) {
		struct iommufd_pci_dev *dev = topo->devs.items[i];
		bool added;

		if (dev->parent_address[0])
			dev->parent = iommufd_topo_find_dev(topo, dev->parent_address);
		if (!dev->driver)
			continue;
		/* A vfio-dev/ entry settles it, whatever the driver's name. */
		if (dev->vfio_cdev || str_set_contains(&vfio_drivers, dev->driver)) {
			dev->driver_vfio = true;
		} else if (!str_set_contains(&other_drivers, dev->driver)) {
			dev->driver_vfio = driver_is_vfio(fs, dev);
			err = str_set_add(dev->driver_vfio ? &vfio_drivers : &other_drivers, dev->driver, &added);
		}
	}
	str_set_free(&vfio_drivers);
	str_set_free(&other_drivers);
	return err;
}

static int load_groups(struct sysfs *fs, struct iommufd_topo *topo)
{
	struct ptr_vec names;
	unsigned int *ids;
	size_t n = 0;
	int err = sysfs_list_dir(fs, "sys/kernel/iommu_groups", &names);

	if (err == -ENOENT)
		return 0;
	if (err)
		return sysfs_fail(err, "sys/kernel/iommu_groups: %s", strerror(-err));
	ids = calloc(names.count + 1, sizeof(*ids));
	if (!ids) {
		sysfs_free_names(&names);
		return -ENOMEM;
	}
	for (size_t i = 0; i < names.count; i++) {
		if (parse_group_number(names.items[i], &ids[n])) {
			err = sysfs_fail(-EINVAL, "sys/kernel/iommu_groups/%s: not a group number",
					 (char *)names.items[i]);
			break;
		}
		n++;
	}
	sysfs_free_names(&names);
	/* Directory order is by name ("10" < "9"); groups are kept by number. */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && ids[j - 1] > ids[j]; j--) {
			unsigned int t = ids[j];

			ids[j] = ids[j - 1];
			ids[j - 1] = t;
		}
	for (size_t i = 0; i < n && !err; i++)
		err = read_group(fs, topo, ids[i]);
	free(ids);
	return err;
}

/*
 * Network interfaces, from sys/class/net/IF -> ../../devices/.../BDF[/virtio0]/net/IF:
 * the last PCI address in the link is the device behind the interface, also
 * for virtio-net, whose interface hangs off a virtio child device.
 */
static int load_netdevs(struct sysfs *fs, struct iommufd_topo *topo)
{
	struct ptr_vec names;
	int err = read_names_list(fs, "sys/class/net", &names);

	for (size_t i = 0; i < names.count && !err; i++) {
		char path[PATH_BUF], target[4096], *owner = NULL;
		struct iommufd_pci_dev *dev;

		snprintf(path, sizeof(path), "sys/class/net/%s", (char *)names.items[i]);
		if (sysfs_readlink(fs, path, target, sizeof(target)) != 0)
			continue; /* not a link: a virtual interface in some trees */
		for (char *save = NULL, *part = strtok_r(target, "/", &save); part; part = strtok_r(NULL, "/", &save))
			if (is_pci_address(part))
				owner = part;
		if (!owner || !(dev = iommufd_topo_find_dev(topo, owner)))
			continue; /* lo, bridges, bonds: not PCI */
		char *name = strdup(names.items[i]);
		if (!name || ptr_vec_push(&dev->netdevs, name)) {
			free(name);
			err = -ENOMEM;
		}
	}
	sysfs_free_names(&names);
	return err;
}

static int load_iommus(struct sysfs *fs, struct iommufd_topo *topo)
{
	struct ptr_vec names;
	int err = read_names_list(fs, "sys/class/iommu", &names);

	if (err)
		return err;
	for (size_t i = 0; i < names.count; i++)
		if (ptr_vec_push(&topo->iommus, names.items[i])) {
			for (size_t j = i; j < names.count; j++)
				free(names.items[j]);
			ptr_vec_free(&names);
			return -ENOMEM;
		}
	ptr_vec_free(&names);
	return 0;
}

static int load_names(struct iommufd_topo *topo)
{
	struct pci_names *names;

	if (pci_names_open(&names) != 0)
		return 0; /* no pci.ids: names stay unknown */
	for (size_t i = 0; i < topo->devs.count; i++) {
		struct iommufd_pci_dev *dev = topo->devs.items[i];
		const char *name = pci_names_vendor(names, dev->vendor);

		if (name && !(dev->vendor_name = strdup(name)))
			break;
		name = pci_names_device(names, dev->vendor, dev->device);
		if (name && !(dev->device_name = strdup(name)))
			break;
	}
	pci_names_close(names);
	return 0;
}

IOMMUFD_EXPORT int iommufd_topo_load(const char *sysroot, unsigned int flags, struct iommufd_topo **out)
{
	struct iommufd_topo *topo;
	struct sysfs fs;
	int err;

	sysfs_fail(0, "%s", "");
	if (!sysroot || !*sysroot)
		sysroot = "/";
	err = sysfs_open(&fs, sysroot, flags & IOMMUFD_TOPO_RECORD);
	if (err)
		return sysfs_fail(err, "%s: %s", sysroot, strerror(-err));
	topo = calloc(1, sizeof(*topo));
	if (!topo || !(topo->sysroot = strdup(sysroot))) {
		free(topo);
		sysfs_close(&fs);
		return -ENOMEM;
	}
	err = load_devices(&fs, topo);
	if (!err)
		err = load_groups(&fs, topo);
	if (!err)
		err = load_iommus(&fs, topo);
	if (!err)
		err = load_netdevs(&fs, topo);
	if (!err && (flags & IOMMUFD_TOPO_HOLDERS))
		err = scan_holders(&fs, topo);
	if (!err && (flags & IOMMUFD_TOPO_NAMES))
		err = load_names(topo);
	for (size_t i = 0; i < topo->devs.count && !err && (flags & IOMMUFD_TOPO_CAPS); i++) {
		struct iommufd_pci_dev *dev = topo->devs.items[i];

		err = pci_read_caps(&fs, dev->address, &dev->caps);
		dev->caps_read = err == 0;
	}
	if (err) {
		sysfs_close(&fs);
		iommufd_topo_free(topo);
		return err;
	}
	if (flags & IOMMUFD_TOPO_RECORD) {
		topo->fs = fs;
		topo->recording = true;
	} else {
		sysfs_close(&fs);
	}
	*out = topo;
	return 0;
}

IOMMUFD_EXPORT int iommufd_topo_snapshot(const struct iommufd_topo *topo, int fd)
{
	if (!topo->recording)
		return -EINVAL;
	return recorder_write_tar(topo->fs.rec, (struct sysfs *)&topo->fs, fd);
}

/* ---- accessors ---- */

IOMMUFD_EXPORT const char *iommufd_topo_sysroot(const struct iommufd_topo *topo) { return topo->sysroot; }
IOMMUFD_EXPORT bool iommufd_topo_iommu_enabled(const struct iommufd_topo *topo) { return topo->groups.count > 0; }
IOMMUFD_EXPORT size_t iommufd_topo_iommu_count(const struct iommufd_topo *topo) { return topo->iommus.count; }
IOMMUFD_EXPORT const char *iommufd_topo_iommu(const struct iommufd_topo *topo, size_t i)
{
	return i < topo->iommus.count ? topo->iommus.items[i] : NULL;
}
IOMMUFD_EXPORT size_t iommufd_topo_group_count(const struct iommufd_topo *topo) { return topo->groups.count; }
IOMMUFD_EXPORT struct iommufd_group *iommufd_topo_group(const struct iommufd_topo *topo, size_t i)
{
	return i < topo->groups.count ? topo->groups.items[i] : NULL;
}
IOMMUFD_EXPORT struct iommufd_group *iommufd_topo_find_group(const struct iommufd_topo *topo, unsigned int id)
{
	size_t lo = 0, hi = topo->groups.count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct iommufd_group *group = topo->groups.items[mid];

		if (group->id == id)
			return group;
		if (group->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
IOMMUFD_EXPORT size_t iommufd_topo_dev_count(const struct iommufd_topo *topo) { return topo->devs.count; }
IOMMUFD_EXPORT struct iommufd_pci_dev *iommufd_topo_dev(const struct iommufd_topo *topo, size_t i)
{
	return i < topo->devs.count ? topo->devs.items[i] : NULL;
}
IOMMUFD_EXPORT struct iommufd_pci_dev *iommufd_topo_find_netdev(const struct iommufd_topo *topo, const char *ifname)
{
	for (size_t i = 0; i < topo->devs.count; i++) {
		struct iommufd_pci_dev *dev = topo->devs.items[i];

		for (size_t j = 0; j < dev->netdevs.count; j++)
			if (strcmp(dev->netdevs.items[j], ifname) == 0)
				return dev;
	}
	return NULL;
}

IOMMUFD_EXPORT unsigned int iommufd_group_id(const struct iommufd_group *g) { return g->id; }
IOMMUFD_EXPORT const char *iommufd_group_type(const struct iommufd_group *g) { return g->type; }
IOMMUFD_EXPORT bool iommufd_group_is_identity(const struct iommufd_group *g)
{
	return g->type && strcmp(g->type, "identity") == 0;
}
IOMMUFD_EXPORT const char *iommufd_group_iommu(const struct iommufd_group *g) { return g->iommu; }
IOMMUFD_EXPORT size_t iommufd_group_dev_count(const struct iommufd_group *g) { return g->devs.count; }
IOMMUFD_EXPORT struct iommufd_pci_dev *iommufd_group_dev(const struct iommufd_group *g, size_t i)
{
	return i < g->devs.count ? g->devs.items[i] : NULL;
}
IOMMUFD_EXPORT size_t iommufd_group_resv_count(const struct iommufd_group *g) { return g->resv_count; }
IOMMUFD_EXPORT const struct iommufd_resv_region *iommufd_group_resv(const struct iommufd_group *g, size_t i)
{
	return i < g->resv_count ? &g->resv[i] : NULL;
}
IOMMUFD_EXPORT size_t iommufd_group_holder_count(const struct iommufd_group *g) { return g->holder_count; }
IOMMUFD_EXPORT const struct iommufd_holder *iommufd_group_holder(const struct iommufd_group *g, size_t i)
{
	return i < g->holder_count ? &g->holders[i] : NULL;
}

IOMMUFD_EXPORT size_t iommufd_group_owner_count(const struct iommufd_group *g) { return g->owner_count; }
IOMMUFD_EXPORT const struct iommufd_holder *iommufd_group_owner(const struct iommufd_group *g, size_t i)
{
	return i < g->owner_count ? &g->owners[i] : NULL;
}

IOMMUFD_EXPORT void iommufd_topo_assume_vfio(struct iommufd_pci_dev *dev) { dev->assumed_vfio = true; }
IOMMUFD_EXPORT bool iommufd_dev_assumed_vfio(const struct iommufd_pci_dev *dev) { return dev->assumed_vfio; }

IOMMUFD_EXPORT enum iommufd_verdict iommufd_dev_verdict(const struct iommufd_pci_dev *dev)
{
	if (dev->assumed_vfio)
		return IOMMUFD_VERDICT_VFIO;
	if (!dev->driver)
		return IOMMUFD_VERDICT_DRIVERLESS;
	if (dev->driver_vfio)
		return IOMMUFD_VERDICT_VFIO;
	if (strcmp(dev->driver, "pci-stub") == 0)
		return IOMMUFD_VERDICT_PCI_STUB;
	/* pcieport drives only the port's own services; it never owns DMA of the devices below. */
	if (strcmp(dev->driver, "pcieport") == 0)
		return IOMMUFD_VERDICT_BRIDGE;
	return IOMMUFD_VERDICT_BLOCKING;
}

IOMMUFD_EXPORT bool iommufd_group_viable(const struct iommufd_group *g)
{
	if (g->incomplete)
		return false; /* a member could not be read: never call that viable */
	for (size_t i = 0; i < g->devs.count; i++)
		if (iommufd_dev_verdict(g->devs.items[i]) == IOMMUFD_VERDICT_BLOCKING)
			return false;
	return true;
}

IOMMUFD_EXPORT const char *iommufd_dev_address(const struct iommufd_pci_dev *d) { return d->address; }
IOMMUFD_EXPORT uint16_t iommufd_dev_vendor_id(const struct iommufd_pci_dev *d) { return d->vendor; }
IOMMUFD_EXPORT uint16_t iommufd_dev_device_id(const struct iommufd_pci_dev *d) { return d->device; }
IOMMUFD_EXPORT uint32_t iommufd_dev_class(const struct iommufd_pci_dev *d) { return d->class; }
IOMMUFD_EXPORT int32_t iommufd_dev_subsystem_vendor_id(const struct iommufd_pci_dev *d) { return d->subsys_vendor; }
IOMMUFD_EXPORT int32_t iommufd_dev_subsystem_device_id(const struct iommufd_pci_dev *d) { return d->subsys_device; }
IOMMUFD_EXPORT const char *iommufd_dev_vendor_name(const struct iommufd_pci_dev *d) { return d->vendor_name; }
IOMMUFD_EXPORT const char *iommufd_dev_device_name(const struct iommufd_pci_dev *d) { return d->device_name; }
IOMMUFD_EXPORT const char *iommufd_dev_driver(const struct iommufd_pci_dev *d) { return d->driver; }
IOMMUFD_EXPORT bool iommufd_dev_driver_is_vfio(const struct iommufd_pci_dev *d) { return d->driver_vfio; }
IOMMUFD_EXPORT const char *iommufd_dev_driver_override(const struct iommufd_pci_dev *d) { return d->driver_override; }
IOMMUFD_EXPORT struct iommufd_group *iommufd_dev_group(const struct iommufd_pci_dev *d) { return d->group; }
IOMMUFD_EXPORT int iommufd_dev_numa_node(const struct iommufd_pci_dev *d) { return d->numa_node; }
IOMMUFD_EXPORT const char *iommufd_dev_vfio_cdev(const struct iommufd_pci_dev *d) { return d->vfio_cdev; }
IOMMUFD_EXPORT const char *iommufd_dev_vfio_cdev_devt(const struct iommufd_pci_dev *d) { return d->vfio_devt; }
IOMMUFD_EXPORT bool iommufd_dev_is_bridge(const struct iommufd_pci_dev *d)
{
	return (d->class >> 8) == 0x0604 || (d->class >> 8) == 0x0609;
}
IOMMUFD_EXPORT struct iommufd_pci_dev *iommufd_dev_parent(const struct iommufd_pci_dev *d) { return d->parent; }
IOMMUFD_EXPORT size_t iommufd_dev_netdev_count(const struct iommufd_pci_dev *d) { return d->netdevs.count; }
IOMMUFD_EXPORT const char *iommufd_dev_netdev(const struct iommufd_pci_dev *d, size_t i)
{
	return i < d->netdevs.count ? d->netdevs.items[i] : NULL;
}
IOMMUFD_EXPORT size_t iommufd_dev_holder_count(const struct iommufd_pci_dev *d) { return d->holder_count; }
IOMMUFD_EXPORT const struct iommufd_holder *iommufd_dev_holder(const struct iommufd_pci_dev *d, size_t i)
{
	return i < d->holder_count ? &d->holders[i] : NULL;
}

IOMMUFD_EXPORT const char *iommufd_dev_caps_error(const struct iommufd_pci_dev *d)
{
	if (!d->caps_read)
		return "capabilities were not read";
	return d->caps.error;
}
IOMMUFD_EXPORT enum iommufd_pcie_type iommufd_dev_pcie_type(const struct iommufd_pci_dev *d) { return d->caps.pcie_type; }
IOMMUFD_EXPORT const struct iommufd_ext_cap *iommufd_dev_acs(const struct iommufd_pci_dev *d) { return &d->caps.acs; }
IOMMUFD_EXPORT const struct iommufd_ext_cap *iommufd_dev_pasid(const struct iommufd_pci_dev *d) { return &d->caps.pasid; }
IOMMUFD_EXPORT const struct iommufd_ext_cap *iommufd_dev_ats(const struct iommufd_pci_dev *d) { return &d->caps.ats; }
IOMMUFD_EXPORT const struct iommufd_ext_cap *iommufd_dev_pri(const struct iommufd_pci_dev *d) { return &d->caps.pri; }
