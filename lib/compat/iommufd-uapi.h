/* SPDX-License-Identifier: MIT */
/*
 * iommufd user-space ABI, for building on systems whose kernel headers
 * predate <linux/iommufd.h> (Debian 12 ships 6.1 headers; iommufd appeared
 * in 6.2, HWPT/hardware info in 6.6, dirty tracking in 6.7).
 *
 * The ioctl numbers and structure layouts are a stable kernel ABI; they are
 * written out here from the kernel's documentation of that ABI and checked
 * field by field against the kernel source by tests/vm/check-uapi.sh.
 *
 * System headers win: <linux/iommufd.h> is included when it exists, and each
 * block below is only compiled when the system header lacks the ioctl that
 * block introduces.  With an intermediate header (e.g. 6.6) the older layout
 * of a structure is the one in effect; all structures are extensible by
 * their leading size field, so the kernel accepts either.
 *
 * Only the parts iommuctl uses are here (no nesting, invalidation or fault
 * queues).
 */
#ifndef IOMMUCTL_COMPAT_IOMMUFD_UAPI_H
#define IOMMUCTL_COMPAT_IOMMUFD_UAPI_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* cppcheck 2.10 cannot evaluate __has_include(); it checks the fallback. */
#if defined(__has_include) && !defined(__CPPCHECK__)
#if __has_include(<linux/iommufd.h>)
#include <linux/iommufd.h>
#endif
#endif

/* Every iommufd ioctl is _IO(';', command) and takes a structure whose first
 * __u32 is its size. */
#define IOMMUCTL_IOMMUFD_IO(nr) _IO(';', (nr))

/* ---- Linux 6.2: IOAS objects and mappings ------------------------------ */
#ifndef IOMMU_IOAS_ALLOC

struct iommu_destroy {
	__u32 size;
	__u32 id;		/* any object id: IOAS, HWPT, ... */
};
#define IOMMU_DESTROY IOMMUCTL_IOMMUFD_IO(0x80)

struct iommu_ioas_alloc {
	__u32 size;
	__u32 flags;		/* 0 */
	__u32 out_ioas_id;
};
#define IOMMU_IOAS_ALLOC IOMMUCTL_IOMMUFD_IO(0x81)

struct iommu_iova_range {
	__aligned_u64 start;
	__aligned_u64 last;	/* inclusive */
};

struct iommu_ioas_allow_iovas {
	__u32 size;
	__u32 ioas_id;
	__u32 num_iovas;
	__u32 __reserved;
	__aligned_u64 allowed_iovas;	/* struct iommu_iova_range * */
};
#define IOMMU_IOAS_ALLOW_IOVAS IOMMUCTL_IOMMUFD_IO(0x82)

enum iommufd_ioas_map_flags {
	IOMMU_IOAS_MAP_FIXED_IOVA = 1 << 0,
	IOMMU_IOAS_MAP_WRITEABLE = 1 << 1,
	IOMMU_IOAS_MAP_READABLE = 1 << 2,
};

struct iommu_ioas_copy {
	__u32 size;
	__u32 flags;		/* iommufd_ioas_map_flags */
	__u32 dst_ioas_id;
	__u32 src_ioas_id;
	__aligned_u64 length;
	__aligned_u64 dst_iova;
	__aligned_u64 src_iova;
};
#define IOMMU_IOAS_COPY IOMMUCTL_IOMMUFD_IO(0x83)

/* num_iovas is in/out; EMSGSIZE with the needed count when the array is
 * too small. */
struct iommu_ioas_iova_ranges {
	__u32 size;
	__u32 ioas_id;
	__u32 num_iovas;
	__u32 __reserved;
	__aligned_u64 allowed_iovas;	/* struct iommu_iova_range * */
	__aligned_u64 out_iova_alignment;
};
#define IOMMU_IOAS_IOVA_RANGES IOMMUCTL_IOMMUFD_IO(0x84)

struct iommu_ioas_map {
	__u32 size;
	__u32 flags;		/* iommufd_ioas_map_flags */
	__u32 ioas_id;
	__u32 __reserved;
	__aligned_u64 user_va;
	__aligned_u64 length;
	__aligned_u64 iova;	/* in with FIXED_IOVA, else out */
};
#define IOMMU_IOAS_MAP IOMMUCTL_IOMMUFD_IO(0x85)

/* iova 0 + length UINT64_MAX unmaps everything; length is out too. */
struct iommu_ioas_unmap {
	__u32 size;
	__u32 ioas_id;
	__aligned_u64 iova;
	__aligned_u64 length;
};
#define IOMMU_IOAS_UNMAP IOMMUCTL_IOMMUFD_IO(0x86)

enum iommufd_option {
	IOMMU_OPTION_RLIMIT_MODE = 0,
	IOMMU_OPTION_HUGE_PAGES = 1,
};

enum iommufd_option_ops {
	IOMMU_OPTION_OP_SET = 0,
	IOMMU_OPTION_OP_GET = 1,
};

struct iommu_option {
	__u32 size;
	__u32 option_id;	/* enum iommufd_option */
	__u16 op;		/* enum iommufd_option_ops */
	__u16 __reserved;
	__u32 object_id;	/* 0 for iommufd-wide options */
	__aligned_u64 val64;
};
#define IOMMU_OPTION IOMMUCTL_IOMMUFD_IO(0x87)

enum iommufd_vfio_ioas_op {
	IOMMU_VFIO_IOAS_GET = 0,
	IOMMU_VFIO_IOAS_SET = 1,
	IOMMU_VFIO_IOAS_CLEAR = 2,
};

struct iommu_vfio_ioas {
	__u32 size;
	__u32 ioas_id;
	__u16 op;		/* enum iommufd_vfio_ioas_op */
	__u16 __reserved;
};
#define IOMMU_VFIO_IOAS IOMMUCTL_IOMMUFD_IO(0x88)

#endif /* IOMMU_IOAS_ALLOC */

/* ---- Linux 6.6/6.7: hardware page tables and hardware info ------------- */
#ifndef IOMMU_GET_HW_INFO

enum iommufd_hwpt_alloc_flags {
	IOMMU_HWPT_ALLOC_NEST_PARENT = 1 << 0,
	IOMMU_HWPT_ALLOC_DIRTY_TRACKING = 1 << 1,
	IOMMU_HWPT_FAULT_ID_VALID = 1 << 2,
};

enum iommu_hwpt_data_type {
	IOMMU_HWPT_DATA_NONE = 0,
	IOMMU_HWPT_DATA_VTD_S1 = 1,
};

/* pt_id is an IOAS (paging HWPT) or a nest-parent HWPT. */
struct iommu_hwpt_alloc {
	__u32 size;
	__u32 flags;		/* enum iommufd_hwpt_alloc_flags */
	__u32 dev_id;
	__u32 pt_id;
	__u32 out_hwpt_id;
	__u32 __reserved;
	__u32 data_type;	/* enum iommu_hwpt_data_type */
	__u32 data_len;
	__aligned_u64 data_uptr;
	__u32 fault_id;
	__u32 __reserved2;
};
#define IOMMU_HWPT_ALLOC IOMMUCTL_IOMMUFD_IO(0x89)

/* Payload of IOMMU_GET_HW_INFO for IOMMU_HW_INFO_TYPE_INTEL_VTD: the raw
 * VT-d capability registers. */
enum iommu_hw_info_vtd_flags {
	IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17 = 1 << 0,
};

struct iommu_hw_info_vtd {
	__u32 flags;
	__u32 __reserved;
	__aligned_u64 cap_reg;
	__aligned_u64 ecap_reg;
};

enum iommu_hw_info_type {
	IOMMU_HW_INFO_TYPE_NONE = 0,
	IOMMU_HW_INFO_TYPE_INTEL_VTD = 1,
};

enum iommufd_hw_capabilities {
	IOMMU_HW_CAP_DIRTY_TRACKING = 1 << 0,
	IOMMU_HW_CAP_PCI_PASID_EXEC = 1 << 1,
	IOMMU_HW_CAP_PCI_PASID_PRIV = 1 << 2,
};

struct iommu_hw_info {
	__u32 size;
	__u32 flags;		/* 0 */
	__u32 dev_id;
	__u32 data_len;		/* in: buffer size; out: size the kernel has */
	__aligned_u64 data_uptr;
	__u32 out_data_type;	/* enum iommu_hw_info_type */
	__u8 out_max_pasid_log2;	/* was reserved before PASID support */
	__u8 __reserved[3];
	__aligned_u64 out_capabilities;	/* enum iommufd_hw_capabilities */
};
#define IOMMU_GET_HW_INFO IOMMUCTL_IOMMUFD_IO(0x8a)

#endif /* IOMMU_GET_HW_INFO */

/* ---- Linux 6.7: dirty tracking ----------------------------------------- */
#ifndef IOMMU_HWPT_GET_DIRTY_BITMAP

/* A 6.6 header has the HWPT/hardware-info enums but not these members; the
 * macros are harmless when the enums above already define them. */
#define IOMMU_HWPT_ALLOC_DIRTY_TRACKING (1 << 1)
#define IOMMU_HW_CAP_DIRTY_TRACKING (1 << 0)

enum iommufd_hwpt_set_dirty_tracking_flags {
	IOMMU_HWPT_DIRTY_TRACKING_ENABLE = 1,
};

struct iommu_hwpt_set_dirty_tracking {
	__u32 size;
	__u32 flags;
	__u32 hwpt_id;
	__u32 __reserved;
};
#define IOMMU_HWPT_SET_DIRTY_TRACKING IOMMUCTL_IOMMUFD_IO(0x8b)

enum iommufd_hwpt_get_dirty_bitmap_flags {
	IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR = 1,
};

/* One bit per page_size page of [iova, iova + length), written to data. */
struct iommu_hwpt_get_dirty_bitmap {
	__u32 size;
	__u32 hwpt_id;
	__u32 flags;
	__u32 __reserved;
	__aligned_u64 iova;
	__aligned_u64 length;
	__aligned_u64 page_size;
	__aligned_u64 data;
};
#define IOMMU_HWPT_GET_DIRTY_BITMAP IOMMUCTL_IOMMUFD_IO(0x8c)

#endif /* IOMMU_HWPT_GET_DIRTY_BITMAP */

#endif /* IOMMUCTL_COMPAT_IOMMUFD_UAPI_H */
