// SPDX-License-Identifier: LGPL-2.1-or-later
/* libiommufd, objects half: VFIO devices bound to an iommufd, hardware info. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "internal.h"
#include "iommufd/iommufd.h"
#include "iommufd-priv.h"

struct iommufd_device {
	struct iommufd_ctx *ctx;
	int fd;
	uint32_t dev_id;
	uint32_t pt_id;
	bool bound;
	char address[IOMMUFD_PCI_ADDRESS_SIZE];
	char cdev[64];
};

/* Find the cdev name ("vfio3") and its device number under sysfs. */
static int find_cdev(struct sysfs *fs, const char *address, char *name, size_t size, dev_t *devt)
{
	char path[128], text[32];
	struct ptr_vec names;
	unsigned int major, minor;
	int err;

	snprintf(path, sizeof(path), "sys/bus/pci/devices/%s", address);
	if (!sysfs_exists(fs, path))
		return -ENOENT;
	snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/vfio-dev", address);
	err = sysfs_list_dir(fs, path, &names);
	if (err)
		return err == -ENOENT ? -ENODEV : err;
	err = -ENODEV;
	for (size_t i = 0; i < names.count; i++) {
		const char *n = names.items[i];

		if (strncmp(n, "vfio", 4) != 0 || strlen(n) >= size)
			continue;
		snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/vfio-dev/%s/dev", address, n);
		err = sysfs_read_text(fs, path, text, sizeof(text));
		if (err == 0 && parse_devt(text, &major, &minor) != 0)
			err = -EINVAL;
		if (err == 0) {
			snprintf(name, size, "%s", n);
			*devt = makedev(major, minor);
		}
		break;
	}
	sysfs_free_names(&names);
	return err;
}

static int bind(struct iommufd_device *dev, const unsigned char *token)
{
	struct iommufd_bind_token_arg arg = {
		.argsz = sizeof(struct vfio_device_bind_iommufd),
		.iommufd = dev->ctx->fd,
	};
	int err;

	if (token) {
		arg.argsz = sizeof(arg);
		arg.flags = VFIO_DEVICE_BIND_FLAG_TOKEN;
		arg.token_uuid_ptr = (uintptr_t)token;
	}
	err = iommufd_xioctl(dev->fd, VFIO_DEVICE_BIND_IOMMUFD, &arg);
	if (!err) {
		dev->dev_id = arg.out_devid;
		dev->bound = true;
	}
	return err;
}

/* Open the cdev of @address, checked against sysfs; bind it unless @no_bind. */
static int device_open(struct iommufd_ctx *ctx, const char *address, const char *sysroot,
		       const unsigned char *token, bool no_bind, struct iommufd_device **out)

{
	struct iommufd_device *dev;
	struct sysfs fs;
	struct stat st;
	char full[IOMMUFD_PCI_ADDRESS_SIZE], name[32];
	dev_t devt = 0;
	int err, rootfd;

	*out = NULL;
	if (!address || parse_pci_address(address, full) != 0)
		return -EINVAL;
	err = sysfs_open(&fs, sysroot ? sysroot : "/", false);
	if (err)
		return err;
	err = find_cdev(&fs, full, name, sizeof(name), &devt);
	rootfd = fs.rootfd;
	if (err) {
		sysfs_close(&fs);
		return err;
	}
	dev = calloc(1, sizeof(*dev));
	if (!dev) {
		sysfs_close(&fs);
		return -ENOMEM;
	}
	dev->ctx = ctx;
	memcpy(dev->address, full, sizeof(full));
	snprintf(dev->cdev, sizeof(dev->cdev), "/dev/vfio/devices/%s", name);
	dev->fd = openat(rootfd, dev->cdev + 1, O_RDWR | O_CLOEXEC);
	err = dev->fd < 0 ? -errno : 0;
	sysfs_close(&fs);
	if (!err && fstat(dev->fd, &st) != 0)
		err = -errno;
	/* The node must be the character device sysfs names, not a leftover. */
	if (!err && (!S_ISCHR(st.st_mode) || st.st_rdev != devt))
		err = -ENXIO;
	if (!err && !no_bind)
		err = bind(dev, token);
	if (err) {
		if (dev->fd >= 0)
			close(dev->fd);
		free(dev);
		return err;
	}
	*out = dev;
	return 0;
}

IOMMUFD_EXPORT int iommufd_device_open_vf(struct iommufd_ctx *ctx, const char *address,
					  const char *sysroot, const unsigned char vf_token[16],
					  struct iommufd_device **out)
{
	return device_open(ctx, address, sysroot, vf_token, false, out);
}

IOMMUFD_EXPORT int iommufd_device_open(struct iommufd_ctx *ctx, const char *address,
				       const char *sysroot, struct iommufd_device **out)
{
	return device_open(ctx, address, sysroot, NULL, false, out);
}

IOMMUFD_EXPORT int iommufd_device_open_unbound(struct iommufd_ctx *ctx, const char *address,
					       const char *sysroot, struct iommufd_device **out)
{
	return device_open(ctx, address, sysroot, NULL, true, out);
}

IOMMUFD_EXPORT bool iommufd_device_bound(const struct iommufd_device *dev)
{
	return dev->bound;
}

IOMMUFD_EXPORT void iommufd_device_close(struct iommufd_device *dev)
{
	if (!dev)
		return;
	if (dev->pt_id)
		(void)iommufd_device_detach(dev);
	close(dev->fd);
	free(dev);
}

IOMMUFD_EXPORT const char *iommufd_device_address(const struct iommufd_device *dev)
{
	return dev->address;
}

IOMMUFD_EXPORT const char *iommufd_device_cdev(const struct iommufd_device *dev)
{
	return dev->cdev;
}

IOMMUFD_EXPORT int iommufd_device_fd(const struct iommufd_device *dev)
{
	return dev->fd;
}

IOMMUFD_EXPORT uint32_t iommufd_device_id(const struct iommufd_device *dev)
{
	return dev->dev_id;
}

IOMMUFD_EXPORT uint32_t iommufd_device_pt_id(const struct iommufd_device *dev)
{
	return dev->pt_id;
}

static int attach(struct iommufd_device *dev, uint32_t pt_id, uint32_t *hwpt_id)
{
	struct vfio_device_attach_iommufd_pt arg = { .argsz = sizeof(arg), .pt_id = pt_id };
	int err = iommufd_xioctl(dev->fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &arg);

	if (err)
		return err;
	dev->pt_id = arg.pt_id;
	if (hwpt_id)
		*hwpt_id = arg.pt_id;
	return 0;
}

IOMMUFD_EXPORT int iommufd_device_attach(struct iommufd_device *dev, uint32_t pt_id,
					 uint32_t *hwpt_id)
{
	if (!dev->bound)
		return -EINVAL;
	if (dev->pt_id)
		return -EBUSY;
	return attach(dev, pt_id, hwpt_id);
}

IOMMUFD_EXPORT int iommufd_device_replace(struct iommufd_device *dev, uint32_t pt_id,
					  uint32_t *hwpt_id)
{
	if (!dev->pt_id)
		return -EINVAL;
	/* ATTACH on an attached cdev is a replace in the kernel. */
	return attach(dev, pt_id, hwpt_id);
}

IOMMUFD_EXPORT int iommufd_device_detach(struct iommufd_device *dev)
{
	struct vfio_device_detach_iommufd_pt arg = { .argsz = sizeof(arg) };
	int err;

	if (!dev->pt_id)
		return -EINVAL;
	err = iommufd_xioctl(dev->fd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &arg);
	if (!err)
		dev->pt_id = 0;
	return err;
}

/* ---- hardware info ---- */

#define HW_MAX_FEATURES 48

struct iommufd_hw_info {
	uint32_t type;
	uint64_t caps;
	unsigned int max_pasid_log2;
	size_t len;
	unsigned char data[256];
	size_t nfeat;
	const char *names[HW_MAX_FEATURES];
	uint64_t values[HW_MAX_FEATURES];
};

static void feat(struct iommufd_hw_info *info, const char *name, uint64_t value)
{
	if (info->nfeat < HW_MAX_FEATURES) {
		info->names[info->nfeat] = name;
		info->values[info->nfeat++] = value;
	}
}

#define BIT(reg, n) (((reg) >> (n)) & 1u)

/* Named fields of the VT-d capability registers (VT-d spec 11.4.2, 11.4.3;
 * the same bits as the kernel's cap_* and ecap_* macros). */
static void decode_vtd(struct iommufd_hw_info *info, uint64_t cap, uint64_t ecap)
{
	feat(info, "domains", 1ull << (4 + 2 * (cap & 7)));
	feat(info, "required_write_buffer_flush", BIT(cap, 4));
	feat(info, "caching_mode", BIT(cap, 7));
	feat(info, "sagaw", (cap >> 8) & 0x1f);
	feat(info, "mgaw", ((cap >> 16) & 0x3f) + 1);
	feat(info, "zero_length_read", BIT(cap, 22));
	feat(info, "super_pages_2m", BIT(cap, 34));
	feat(info, "super_pages_1g", BIT(cap, 35));
	feat(info, "page_selective_invalidation", BIT(cap, 39));
	feat(info, "write_drain", BIT(cap, 54));
	feat(info, "read_drain", BIT(cap, 55));
	feat(info, "first_level_1g", BIT(cap, 56));
	feat(info, "posted_interrupts", BIT(cap, 59));
	feat(info, "first_level_5level", BIT(cap, 60));
	feat(info, "coherent", BIT(ecap, 0));
	feat(info, "queued_invalidation", BIT(ecap, 1));
	feat(info, "device_iotlb", BIT(ecap, 2));
	feat(info, "interrupt_remapping", BIT(ecap, 3));
	feat(info, "extended_interrupt_mode", BIT(ecap, 4));
	feat(info, "pass_through", BIT(ecap, 6));
	feat(info, "snoop_control", BIT(ecap, 7));
	feat(info, "nested", BIT(ecap, 26));
	feat(info, "page_request", BIT(ecap, 29));
	feat(info, "pasid", BIT(ecap, 40));
	feat(info, "scalable_mode", BIT(ecap, 43));
	feat(info, "second_level_ad", BIT(ecap, 45));
	feat(info, "second_level", BIT(ecap, 46));
	feat(info, "first_level", BIT(ecap, 47));
	/* Dirty tracking needs scalable mode and second-level A/D bits. */
	feat(info, "second_level_dirty", BIT(ecap, 43) && BIT(ecap, 45));
}

IOMMUFD_EXPORT int iommufd_hw_info_from_raw(uint32_t type, const void *data, size_t len,
					    uint64_t capabilities, unsigned int max_pasid_log2,
					    struct iommufd_hw_info **out)
{
	struct iommufd_hw_info *info;

	*out = NULL;
	if (len > sizeof(info->data) || (len && !data))
		return -EINVAL;
	if (type == IOMMUFD_HW_INTEL_VTD && len < sizeof(struct iommu_hw_info_vtd))
		return -EINVAL;
	info = calloc(1, sizeof(*info));
	if (!info)
		return -ENOMEM;
	info->type = type;
	info->caps = capabilities;
	info->max_pasid_log2 = max_pasid_log2;
	info->len = len;
	if (len)
		memcpy(info->data, data, len);
	feat(info, "dirty_tracking", !!(capabilities & IOMMUFD_HW_CAP_DIRTY_TRACKING));
	feat(info, "pasid_exec", !!(capabilities & IOMMUFD_HW_CAP_PCI_PASID_EXEC));
	feat(info, "pasid_priv", !!(capabilities & IOMMUFD_HW_CAP_PCI_PASID_PRIV));
	feat(info, "max_pasid_log2", max_pasid_log2);
	if (type == IOMMUFD_HW_INTEL_VTD) {
		struct iommu_hw_info_vtd vtd;

		memcpy(&vtd, data, sizeof(vtd));
		decode_vtd(info, vtd.cap_reg, vtd.ecap_reg);
	}
	*out = info;
	return 0;
}

IOMMUFD_EXPORT int iommufd_device_hw_info(struct iommufd_device *dev, struct iommufd_hw_info **out)
{
	unsigned char data[256];
	struct iommu_hw_info cmd = {
		.size = sizeof(cmd),
		.dev_id = dev->dev_id,
		.data_len = sizeof(data),
		.data_uptr = (uintptr_t)data,
	};
	int err;

	*out = NULL;
	if (!dev->bound)
		return -EINVAL;
	memset(data, 0, sizeof(data));
	err = iommufd_xioctl(dev->ctx->fd, IOMMU_GET_HW_INFO, &cmd);
	if (err)
		return err;
	return iommufd_hw_info_from_raw(cmd.out_data_type, data,
					cmd.data_len < sizeof(data) ? cmd.data_len : sizeof(data),
					cmd.out_capabilities, cmd.out_max_pasid_log2, out);
}

IOMMUFD_EXPORT void iommufd_hw_info_free(struct iommufd_hw_info *info)
{
	free(info);
}

IOMMUFD_EXPORT uint32_t iommufd_hw_info_type(const struct iommufd_hw_info *info)
{
	return info->type;
}

IOMMUFD_EXPORT const char *iommufd_hw_info_type_name(const struct iommufd_hw_info *info)
{
	switch (info->type) {
	case IOMMUFD_HW_NONE:
		return "none";
	case IOMMUFD_HW_INTEL_VTD:
		return "intel-vtd";
	case IOMMUFD_HW_ARM_SMMUV3:
		return "arm-smmuv3";
	default:
		return "unknown";
	}
}

IOMMUFD_EXPORT uint64_t iommufd_hw_info_capabilities(const struct iommufd_hw_info *info)
{
	return info->caps;
}

IOMMUFD_EXPORT unsigned int iommufd_hw_info_max_pasid_log2(const struct iommufd_hw_info *info)
{
	return info->max_pasid_log2;
}

IOMMUFD_EXPORT const void *iommufd_hw_info_data(const struct iommufd_hw_info *info, size_t *len)
{
	*len = info->len;
	return info->data;
}

IOMMUFD_EXPORT int iommufd_hw_info_vtd_regs(const struct iommufd_hw_info *info, uint64_t *cap_reg,
					    uint64_t *ecap_reg)
{
	struct iommu_hw_info_vtd vtd;

	if (info->type != IOMMUFD_HW_INTEL_VTD || info->len < sizeof(vtd))
		return -ENODATA;
	memcpy(&vtd, info->data, sizeof(vtd));
	*cap_reg = vtd.cap_reg;
	*ecap_reg = vtd.ecap_reg;
	return 0;
}

IOMMUFD_EXPORT size_t iommufd_hw_info_feature_count(const struct iommufd_hw_info *info)
{
	return info->nfeat;
}

IOMMUFD_EXPORT int iommufd_hw_info_feature(const struct iommufd_hw_info *info, size_t index,
					   const char **name, uint64_t *value)
{
	if (index >= info->nfeat)
		return -ERANGE;
	*name = info->names[index];
	*value = info->values[index];
	return 0;
}

IOMMUFD_EXPORT int iommufd_hw_info_lookup(const struct iommufd_hw_info *info, const char *name,
					  uint64_t *value)
{
	for (size_t i = 0; i < info->nfeat; i++) {
		if (strcmp(info->names[i], name) == 0) {
			*value = info->values[i];
			return 0;
		}
	}
	return -ENOENT;
}
