/* SPDX-License-Identifier: MIT */
/*
 * VFIO user-space ABI additions that older kernel headers lack: the device
 * cdev (/dev/vfio/devices/vfioN) ioctls of Linux 6.6 that tie a device to an
 * iommufd, and the dev-id form of the PCI hot-reset info.
 *
 * The base VFIO ABI comes from the system's <linux/vfio.h> (present since
 * 3.6); only what it lacks is added, each block guarded by the macro that
 * block introduces so that a newer system header always wins.  Layouts and
 * numbers are checked against the kernel source by tests/vm/check-uapi.sh.
 */
#ifndef IOMMUCTL_COMPAT_VFIO_UAPI_H
#define IOMMUCTL_COMPAT_VFIO_UAPI_H

#include <linux/ioctl.h>
#include <linux/types.h>
#include <linux/vfio.h>

/* ---- Linux 6.6: device cdev bound to an iommufd ------------------------ */
#ifndef VFIO_DEVICE_BIND_IOMMUFD

/* Only valid on a cdev fd.  Until it succeeds the device fd allows nothing
 * else; closing the fd undoes it.  After it the device is in a blocking
 * DMA domain. */
struct vfio_device_bind_iommufd {
	__u32 argsz;
	__u32 flags;		/* 0 */
	__s32 iommufd;
	__u32 out_devid;	/* the device's id inside that iommufd */
};
#define VFIO_DEVICE_BIND_IOMMUFD _IO(VFIO_TYPE, VFIO_BASE + 18)

/* pt_id in: an IOAS or HWPT id; out: the HWPT actually attached (made by
 * the kernel when an IOAS was given).  Attaching while attached replaces. */
struct vfio_device_attach_iommufd_pt {
	__u32 argsz;
	__u32 flags;		/* 0 */
	__u32 pt_id;
};
#define VFIO_DEVICE_ATTACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 19)

/* Back to the blocking domain. */
struct vfio_device_detach_iommufd_pt {
	__u32 argsz;
	__u32 flags;		/* 0 */
};
#define VFIO_DEVICE_DETACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 20)

#endif /* VFIO_DEVICE_BIND_IOMMUFD */

/* ---- Linux 6.6: hot-reset info by iommufd dev-id ------------------------
 * With this flag, vfio_pci_dependent_device's first member (group_id in old
 * headers) carries a dev-id, or one of the two values below. */
#ifndef VFIO_PCI_HOT_RESET_FLAG_DEV_ID
#define VFIO_PCI_HOT_RESET_FLAG_DEV_ID (1 << 0)
#define VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED (1 << 1)
#endif
#ifndef VFIO_PCI_DEVID_OWNED
#define VFIO_PCI_DEVID_OWNED 0
#define VFIO_PCI_DEVID_NOT_OWNED -1
#endif

#endif /* IOMMUCTL_COMPAT_VFIO_UAPI_H */
