/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Private to the objects half of libiommufd (lib/iommufd*.c). */
#ifndef IOMMUFD_PRIV_H
#define IOMMUFD_PRIV_H

#include <stdint.h>

#include "compat/iommufd-uapi.h"
#include "compat/vfio-uapi.h"

/*
 * uAPI newer than the 6.12 kernel the lab runs (and than our compat
 * headers, which are checked against it): kept here, guarded, until the
 * compat headers gain them.  Layouts from the kernel's include/uapi:
 * IOMMU_IOAS_MAP_FILE appeared in 6.13 (IOMMUFD_CMD_IOAS_MAP_FILE = 0x8f),
 * the VF token on the cdev BIND in 6.17 (VFIO_DEVICE_BIND_FLAG_TOKEN and
 * token_uuid_ptr after out_devid).  A 6.12 kernel answers ENOTTY to the
 * first and EINVAL to the flag.
 */
#ifndef IOMMU_IOAS_MAP_FILE
struct iommu_ioas_map_file {
	__u32 size;
	__u32 flags;
	__u32 ioas_id;
	__s32 fd;
	__aligned_u64 start;
	__aligned_u64 length;
	__aligned_u64 iova;
};
#define IOMMU_IOAS_MAP_FILE IOMMUCTL_IOMMUFD_IO(0x8f)
#endif

#ifndef VFIO_DEVICE_BIND_FLAG_TOKEN
#define VFIO_DEVICE_BIND_FLAG_TOKEN (1 << 0)
#endif
/* The BIND argument with the 6.17 token pointer; argsz tells the kernel
 * which form it gets. */
struct iommufd_bind_token_arg {
	__u32 argsz;
	__u32 flags;
	__s32 iommufd;
	__u32 out_devid;
	__aligned_u64 token_uuid_ptr;
};

struct iommufd_ctx {
	int fd;
};

/* ioctl() as 0 or -errno, ENOTTY (unknown ioctl) reported as -EOPNOTSUPP. */
int iommufd_xioctl(int fd, unsigned long request, void *arg);

#endif
