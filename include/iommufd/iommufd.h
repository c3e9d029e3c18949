/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef IOMMUFD_IOMMUFD_H
#define IOMMUFD_IOMMUFD_H

/*
 * libiommufd, objects half: one iommufd (a "session"), the VFIO devices bound
 * to it, and the objects the kernel keeps in it: I/O address spaces (IOAS)
 * and hardware page tables (HWPT).
 *
 * Lifecycle of a device (see the design notes):
 *   iommufd_device_open()   the cdev is opened and bound: state "blocked",
 *                           the group sits in a blocking domain, no DMA;
 *   iommufd_device_attach() DMA reaches only what the IOAS/HWPT maps;
 *   iommufd_device_detach() blocked again;
 *   iommufd_device_close()  the binding ends; when the last device of the
 *                           group is closed the group returns to the kernel.
 *
 * Conventions: every call that can fail returns 0 or a negative errno and
 * never prints or exits.  Kernel errors are passed through unchanged, with
 * one translation: an ioctl the kernel does not know (ENOTTY) is reported as
 * -EOPNOTSUPP, so that "this kernel cannot do that" is one value whether the
 * kernel lacks the ioctl or the IOMMU lacks the feature.  Object ids are the
 * kernel's (uint32_t, never 0).  Memory given to a map call stays the
 * caller's: the library neither allocates nor frees it (see
 * iommufd_mem_alloc() for a helper).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct iommufd_ctx;
struct iommufd_device;
struct iommufd_hw_info;

/* ---- the context (one iommufd) ---- */

/**
 * iommufd_ctx_open() - open an iommufd.
 * @path: the iommufd node, or NULL for "/dev/iommu".
 * @out: receives the context; free it with iommufd_ctx_free().
 *
 * When @path is NULL or "/dev/iommu" and the node does not exist, the
 * iommufd module is loaded (modprobe iommufd) and the open retried.
 *
 * Return: 0; -ENOENT when the node does not exist (kernel without
 * CONFIG_IOMMUFD, or a module that could not be loaded), -EACCES, -ENOTTY
 * when @path is not an iommufd, -ENOMEM.
 */
int iommufd_ctx_open(const char *path, struct iommufd_ctx **out);

/**
 * iommufd_ctx_adopt() - wrap an iommufd descriptor received from elsewhere
 * (inherited, passed over a socket).
 * @fd: the descriptor; on success the context owns it and closes it in
 * iommufd_ctx_free(); on failure it is left open.
 * @out: receives the context.
 *
 * Return: 0; -EBADF when @fd is not open, -ENOTTY when it is not an iommufd,
 * -ENOMEM.
 */
int iommufd_ctx_adopt(int fd, struct iommufd_ctx **out);

/** iommufd_ctx_fd() - the iommufd descriptor (owned by the context). Return: the fd. */
int iommufd_ctx_fd(const struct iommufd_ctx *ctx);

/**
 * iommufd_ctx_free() - close the iommufd (NULL is fine).  Devices opened on
 * the context must be closed first; objects left in the iommufd die with it.
 */
void iommufd_ctx_free(struct iommufd_ctx *ctx);

/* Optional kernel features, for iommufd_ctx_supports(). */
enum iommufd_feature {
	IOMMUFD_FEATURE_IOAS = 0,        /* IOAS alloc/map/unmap/copy (6.2) */
	IOMMUFD_FEATURE_HWPT_ALLOC,      /* IOMMU_HWPT_ALLOC (6.6) */
	IOMMUFD_FEATURE_HW_INFO,         /* IOMMU_GET_HW_INFO (6.6) */
	IOMMUFD_FEATURE_DIRTY_TRACKING,  /* IOMMU_HWPT_SET_DIRTY_TRACKING (6.7) */
	IOMMUFD_FEATURE_MAP_FILE,        /* IOMMU_IOAS_MAP_FILE (6.13) */
};

/**
 * iommufd_ctx_supports() - whether the kernel behind @ctx has the ioctl of
 * @feature.  Found by asking, not by version: the ioctl is issued with an
 * invalid size, which a kernel that knows it refuses with EINVAL and one
 * that does not with ENOTTY.  Nothing changes in the iommufd.  Whether the
 * IOMMU hardware can do it (dirty tracking) is a separate question: see
 * iommufd_hw_info_capabilities().
 *
 * Return: 1 supported, 0 not, -EINVAL for an unknown @feature, or another
 * -errno when the kernel's answer was neither.
 */
int iommufd_ctx_supports(struct iommufd_ctx *ctx, enum iommufd_feature feature);

/** iommufd_feature_name() - "map_file", ... Return: a static string, NULL if unknown. */
const char *iommufd_feature_name(enum iommufd_feature feature);

/**
 * iommufd_destroy() - IOMMU_DESTROY: free an IOAS or HWPT by id.
 * Return: 0; -EBUSY while a device is attached to it (or to a HWPT built on
 * it), -ENOENT when no such object exists.
 */
int iommufd_destroy(struct iommufd_ctx *ctx, uint32_t id);

/* ---- I/O address spaces ---- */

/** iommufd_ioas_alloc() - a new, empty IOAS. Return: 0 with *@ioas_id set, or -errno. */
int iommufd_ioas_alloc(struct iommufd_ctx *ctx, uint32_t *ioas_id);

/* Flags of the map and copy calls. */
enum iommufd_map_flags {
	IOMMUFD_MAP_READ = 1u << 0,       /* the device may read */
	IOMMUFD_MAP_WRITE = 1u << 1,      /* the device may write */
	IOMMUFD_MAP_FIXED_IOVA = 1u << 2, /* at *iova, else the kernel chooses */
};

/**
 * iommufd_ioas_map() - IOMMU_IOAS_MAP: map @length bytes of user memory at
 * @va into @ioas_id.  The pages are pinned (charged to RLIMIT_MEMLOCK) while
 * a device is attached.
 * @flags: enum iommufd_map_flags; with neither READ nor WRITE the call fails.
 * @iova: in with IOMMUFD_MAP_FIXED_IOVA, the address to map at; always out,
 * the address used.
 *
 * Return: 0; -EINVAL (no access flag, misaligned, or a fixed IOVA range that
 * covers a reserved region of an attached device, such as the MSI window),
 * -EEXIST when the range is already mapped, -ENOSPC when the kernel found
 * no free IOVA, -ENOMEM (RLIMIT_MEMLOCK),
 * -EFAULT for a bad @va.
 */
int iommufd_ioas_map(struct iommufd_ctx *ctx, uint32_t ioas_id, void *va, uint64_t length,
		     unsigned int flags, uint64_t *iova);

/**
 * iommufd_ioas_map_file() - IOMMU_IOAS_MAP_FILE: map @length bytes of the
 * file @fd (a memfd, or a file on hugetlbfs) from offset @start, without a
 * user mapping.  Arguments as for iommufd_ioas_map().
 *
 * Return: 0; -EOPNOTSUPP when the kernel lacks IOMMU_IOAS_MAP_FILE (before
 * 6.13) or the file type is not supported; otherwise as iommufd_ioas_map().
 */
int iommufd_ioas_map_file(struct iommufd_ctx *ctx, uint32_t ioas_id, int fd, uint64_t start,
			  uint64_t length, unsigned int flags, uint64_t *iova);

/**
 * iommufd_ioas_unmap() - IOMMU_IOAS_UNMAP of [@iova, @iova + @length).  The
 * range must cover whole mappings.
 * @unmapped: receives the number of bytes unmapped (may be NULL).
 *
 * Return: 0; -ENOENT when nothing is mapped there, -EINVAL when the range
 * splits a mapping, -EBUSY when the kernel cannot unmap it now.
 */
int iommufd_ioas_unmap(struct iommufd_ctx *ctx, uint32_t ioas_id, uint64_t iova, uint64_t length,
		       uint64_t *unmapped);

/**
 * iommufd_ioas_unmap_all() - remove every mapping of @ioas_id.
 * @unmapped: receives the number of bytes unmapped (may be NULL).
 * Return: 0 (also when the IOAS was empty), or -errno.
 */
int iommufd_ioas_unmap_all(struct iommufd_ctx *ctx, uint32_t ioas_id, uint64_t *unmapped);

/**
 * iommufd_ioas_copy() - IOMMU_IOAS_COPY: map into @dst_ioas the pages that
 * [@src_iova, @src_iova + @length) of @src_ioas maps, without pinning them
 * again.
 * @flags: enum iommufd_map_flags, for the new mapping.
 * @dst_iova: as @iova of iommufd_ioas_map().
 *
 * Return: 0; -ENOENT when the source range is not fully mapped; otherwise
 * as iommufd_ioas_map().
 */
int iommufd_ioas_copy(struct iommufd_ctx *ctx, uint32_t dst_ioas, uint32_t src_ioas,
		      uint64_t src_iova, uint64_t length, unsigned int flags, uint64_t *dst_iova);

/* An inclusive range of IOVAs. */
struct iommufd_iova_range {
	uint64_t start;
	uint64_t last;
};

/**
 * iommufd_ioas_iova_ranges() - IOMMU_IOAS_IOVA_RANGES: the IOVAs that can be
 * mapped in @ioas_id now (reserved regions of attached devices and the
 * IOMMU's aperture removed).
 * @ranges: array of *@count entries, may be NULL when *@count is 0.
 * @count: in, the array's size; out, the number of ranges the kernel has.
 * @alignment: receives the required IOVA alignment (may be NULL).
 *
 * Two-call pattern: call with *@count == 0 to learn the number.
 *
 * Return: 0 when all ranges fitted; -EMSGSIZE when the array was too small
 * (*@count says how many there are, the array holds the first ones).
 */
int iommufd_ioas_iova_ranges(struct iommufd_ctx *ctx, uint32_t ioas_id,
			     struct iommufd_iova_range *ranges, size_t *count, uint64_t *alignment);

/**
 * iommufd_ioas_allow_iovas() - IOMMU_IOAS_ALLOW_IOVAS: restrict the IOVAs
 * the kernel may choose for non-fixed maps to @ranges (@count 0: no
 * restriction).  Devices whose reserved regions intersect them then fail to
 * attach.
 *
 * Return: 0; -EADDRINUSE when a range intersects a reserved region of an
 * attached device, -EINVAL for a malformed range.
 */
int iommufd_ioas_allow_iovas(struct iommufd_ctx *ctx, uint32_t ioas_id,
			     const struct iommufd_iova_range *ranges, size_t count);

/**
 * iommufd_ioas_get_huge_pages() / _set_huge_pages() - IOMMU_OPTION_HUGE_PAGES
 * of @ioas_id: whether contiguous pages may be combined into large IOMMU
 * pages (the default); switching it off is for benchmarks.  Setting is only
 * accepted while the IOAS has no mapping and no device attached.
 *
 * Return: 0, -EBUSY (set on a busy IOAS), or -errno.
 */
int iommufd_ioas_get_huge_pages(struct iommufd_ctx *ctx, uint32_t ioas_id, bool *enabled);
int iommufd_ioas_set_huge_pages(struct iommufd_ctx *ctx, uint32_t ioas_id, bool enabled);

/* How pinned pages are charged against RLIMIT_MEMLOCK (IOMMU_OPTION_RLIMIT_MODE). */
enum iommufd_rlimit_mode {
	IOMMUFD_RLIMIT_USER = 0,    /* per user (the kernel default) */
	IOMMUFD_RLIMIT_PROCESS = 1, /* per process, like VFIO type1 */
};

/**
 * iommufd_ctx_get_rlimit_mode() / _set_rlimit_mode() - the accounting mode of
 * the whole iommufd.  Setting needs CAP_SYS_RESOURCE and an iommufd without
 * objects.
 *
 * Return: 0; -EPERM without the capability, -EBUSY when objects exist,
 * -EINVAL for an unknown mode.
 */
int iommufd_ctx_get_rlimit_mode(struct iommufd_ctx *ctx, enum iommufd_rlimit_mode *mode);
int iommufd_ctx_set_rlimit_mode(struct iommufd_ctx *ctx, enum iommufd_rlimit_mode mode);

/* ---- hardware page tables ---- */

/* Flags of iommufd_hwpt_alloc(). */
enum iommufd_hwpt_flags {
	IOMMUFD_HWPT_DIRTY_TRACKING = 1u << 0, /* IOMMU_HWPT_ALLOC_DIRTY_TRACKING */
};

/**
 * iommufd_hwpt_alloc() - IOMMU_HWPT_ALLOC: a paging HWPT for device @dev_id
 * that translates through IOAS @ioas_id.  Unlike the HWPT an attach to an
 * IOAS makes, this one stays until destroyed.
 * @flags: enum iommufd_hwpt_flags.
 *
 * Return: 0 with *@hwpt_id set; -EOPNOTSUPP when the kernel lacks the ioctl
 * or the IOMMU cannot track dirty pages, or -errno.
 */
int iommufd_hwpt_alloc(struct iommufd_ctx *ctx, uint32_t dev_id, uint32_t ioas_id,
		       unsigned int flags, uint32_t *hwpt_id);

/**
 * iommufd_hwpt_set_dirty_tracking() - IOMMU_HWPT_SET_DIRTY_TRACKING on a
 * HWPT allocated with IOMMUFD_HWPT_DIRTY_TRACKING.
 * Return: 0; -EOPNOTSUPP (kernel or HWPT cannot), or -errno.
 */
int iommufd_hwpt_set_dirty_tracking(struct iommufd_ctx *ctx, uint32_t hwpt_id, bool enable);

/* ---- devices ---- */

/**
 * iommufd_device_open() - open the VFIO cdev of the PCI device @address and
 * bind it to @ctx (VFIO_DEVICE_BIND_IOMMUFD).  The device is then "blocked":
 * its group is in a blocking DMA domain until an attach.
 * @address: "0000:00:03.0" (the domain may be omitted).
 * @sysroot: where sys/ and dev/ are found, NULL for "/".
 * @out: receives the device; close it with iommufd_device_close().
 *
 * The cdev is found as sys/bus/pci/devices/ADDRESS/vfio-dev/vfioN and opened
 * as dev/vfio/devices/vfioN; the node's device number must match the one
 * sysfs gives, so a stale or forged node is never bound.
 *
 * Return: 0; -EINVAL for a malformed address, -ENOENT when there is no such
 * device, -ENODEV when it is not bound to a VFIO driver with a cdev
 * (CONFIG_VFIO_DEVICE_CDEV), -ENXIO when the node is not that cdev, -EBUSY
 * when the cdev is open elsewhere in exclusive use, -EPERM when the group
 * cannot be owned (a sibling on a kernel driver or owned by another
 * process, or no interrupt remapping), -EOPNOTSUPP when the kernel lacks
 * the cdev ioctls, or another -errno of open() or the ioctl.
 */
int iommufd_device_open(struct iommufd_ctx *ctx, const char *address, const char *sysroot,
			struct iommufd_device **out);

/**
 * iommufd_device_open_vf() - iommufd_device_open() for an SR-IOV VF whose PF
 * is bound to vfio-pci with a VF token: the 16-byte UUID @vf_token is passed
 * with VFIO_DEVICE_BIND_FLAG_TOKEN (NULL: no token, same as
 * iommufd_device_open()).
 *
 * Return: as iommufd_device_open(); -EINVAL also when the kernel predates
 * token passing on the cdev (before 6.17, it rejects the flag) or the token
 * is wrong, -EACCES when the PF requires a token and none was given.
 */
int iommufd_device_open_vf(struct iommufd_ctx *ctx, const char *address, const char *sysroot,
			   const unsigned char vf_token[16], struct iommufd_device **out);

/**
 * iommufd_device_open_unbound() - open and check the VFIO cdev of @address
 * as iommufd_device_open() does, but do not bind it: state "opened", no
 * DMA ownership is claimed and no device access is granted yet.  This is
 * the descriptor a consumer that binds by itself takes (QEMU's
 * -device vfio-pci,iommufd=ID,fd=N issues VFIO_DEVICE_BIND_IOMMUFD on it,
 * and the kernel binds a cdev descriptor only once).  @ctx is recorded
 * only; attach, HWPT and hardware-info calls on @dev return -EINVAL.
 *
 * Return: as iommufd_device_open(), less the errors of BIND (-EPERM,
 * -EBUSY and -EOPNOTSUPP come when the consumer binds).
 */
int iommufd_device_open_unbound(struct iommufd_ctx *ctx, const char *address, const char *sysroot,
				struct iommufd_device **out);

/** iommufd_device_bound() - whether @dev was bound to its iommufd. Return: true once bound. */
bool iommufd_device_bound(const struct iommufd_device *dev);

/**
 * iommufd_device_close() - close the cdev (unbinding it from the iommufd;
 * detaching first if attached) and free @dev (NULL is fine).
 */
void iommufd_device_close(struct iommufd_device *dev);

/** iommufd_device_address() - the device's full PCI address. Return: a string owned by @dev. */
const char *iommufd_device_address(const struct iommufd_device *dev);
/** iommufd_device_cdev() - "/dev/vfio/devices/vfioN" (without the sysroot). Return: owned by @dev. */
const char *iommufd_device_cdev(const struct iommufd_device *dev);
/** iommufd_device_fd() - the cdev descriptor, owned by @dev. Return: the fd. */
int iommufd_device_fd(const struct iommufd_device *dev);
/** iommufd_device_id() - the dev_id BIND returned, used by HWPT alloc and hardware info. Return: the id. */
uint32_t iommufd_device_id(const struct iommufd_device *dev);
/**
 * iommufd_device_pt_id() - what the device is attached to.
 * Return: the HWPT id the kernel reported at the last attach or replace, 0
 * while blocked.
 */
uint32_t iommufd_device_pt_id(const struct iommufd_device *dev);

/**
 * iommufd_device_attach() - VFIO_DEVICE_ATTACH_IOMMUFD_PT of a blocked device
 * to an IOAS or a HWPT.
 * @pt_id: an IOAS id (the kernel finds or makes a compatible HWPT) or a HWPT id.
 * @hwpt_id: receives the HWPT the kernel attached (may be NULL).
 *
 * Return: 0; -EBUSY when @dev is already attached (use
 * iommufd_device_replace()), -EINVAL when a sibling of the group is attached
 * to a different IOAS/HWPT or the IOMMU cannot use that HWPT, -EADDRINUSE
 * when the IOAS maps or allows IOVAs in a reserved region of the device,
 * -ENOENT for an unknown @pt_id, -ENOMEM (RLIMIT_MEMLOCK), or -errno.
 */
int iommufd_device_attach(struct iommufd_device *dev, uint32_t pt_id, uint32_t *hwpt_id);

/**
 * iommufd_device_replace() - move an attached device to another IOAS or
 * HWPT without passing through the blocking domain.
 * Return: 0; -EINVAL when @dev is not attached; otherwise as
 * iommufd_device_attach().
 */
int iommufd_device_replace(struct iommufd_device *dev, uint32_t pt_id, uint32_t *hwpt_id);

/**
 * iommufd_device_detach() - VFIO_DEVICE_DETACH_IOMMUFD_PT: back to blocked.
 * Return: 0; -EINVAL when @dev is not attached, or -errno.
 */
int iommufd_device_detach(struct iommufd_device *dev);

/* ---- hardware information ---- */

/* Kernel's IOMMU hardware types (enum iommu_hw_info_type). */
enum iommufd_hw_type {
	IOMMUFD_HW_NONE = 0,       /* the driver gives no data (virtio-iommu, amd, ...) */
	IOMMUFD_HW_INTEL_VTD = 1,
	IOMMUFD_HW_ARM_SMMUV3 = 2,
};

/* Generic capability bits (enum iommufd_hw_capabilities). */
enum iommufd_hw_caps {
	IOMMUFD_HW_CAP_DIRTY_TRACKING = 1u << 0,
	IOMMUFD_HW_CAP_PCI_PASID_EXEC = 1u << 1,
	IOMMUFD_HW_CAP_PCI_PASID_PRIV = 1u << 2,
};

/**
 * iommufd_device_hw_info() - IOMMU_GET_HW_INFO for @dev: the IOMMU behind
 * it, decoded.
 * @out: receives the information; free it with iommufd_hw_info_free().
 * Return: 0; -EOPNOTSUPP when the kernel lacks the ioctl, -ENOMEM, or -errno.
 */
int iommufd_device_hw_info(struct iommufd_device *dev, struct iommufd_hw_info **out);

/**
 * iommufd_hw_info_from_raw() - decode what IOMMU_GET_HW_INFO returned
 * elsewhere (a captured report, a test).
 * @type: enum iommufd_hw_type (other values are kept, and decoded generically).
 * @data: the type-specific data, @len bytes (may be NULL when @len is 0).
 * @capabilities: the out_capabilities bits.
 * @max_pasid_log2: out_max_pasid_log2.
 *
 * Return: 0; -EINVAL when @data is too short for @type, -ENOMEM.
 */
int iommufd_hw_info_from_raw(uint32_t type, const void *data, size_t len, uint64_t capabilities,
			     unsigned int max_pasid_log2, struct iommufd_hw_info **out);

/** iommufd_hw_info_free() - free @info (NULL is fine). */
void iommufd_hw_info_free(struct iommufd_hw_info *info);
/** iommufd_hw_info_type() - Return: the enum iommufd_hw_type value the kernel gave. */
uint32_t iommufd_hw_info_type(const struct iommufd_hw_info *info);
/** iommufd_hw_info_type_name() - Return: "none", "intel-vtd", "arm-smmuv3" or "unknown". */
const char *iommufd_hw_info_type_name(const struct iommufd_hw_info *info);
/** iommufd_hw_info_capabilities() - Return: the generic enum iommufd_hw_caps bits. */
uint64_t iommufd_hw_info_capabilities(const struct iommufd_hw_info *info);
/** iommufd_hw_info_max_pasid_log2() - Return: log2 of the PASID space (0: no PASID). */
unsigned int iommufd_hw_info_max_pasid_log2(const struct iommufd_hw_info *info);
/** iommufd_hw_info_data() - the raw type-specific data. Return: a pointer owned by @info, *@len set. */
const void *iommufd_hw_info_data(const struct iommufd_hw_info *info, size_t *len);

/**
 * iommufd_hw_info_vtd_regs() - the raw VT-d capability registers.
 * Return: 0, or -ENODATA when @info is not from an Intel VT-d IOMMU.
 */
int iommufd_hw_info_vtd_regs(const struct iommufd_hw_info *info, uint64_t *cap_reg,
			     uint64_t *ecap_reg);

/**
 * iommufd_hw_info_feature_count() / _feature() - the decoded capabilities
 * as (name, value) pairs, in a fixed order: first the generic ones
 * ("dirty_tracking", "pasid_exec", "pasid_priv", "max_pasid_log2"), then for
 * VT-d named fields of cap_reg and ecap_reg ("caching_mode", "sagaw",
 * "mgaw", "super_pages_2m", "super_pages_1g", "first_level_1g",
 * "interrupt_remapping", "pass_through", "snoop_control", "device_iotlb",
 * "queued_invalidation", "page_request", "nested", "pasid",
 * "scalable_mode", "first_level", "second_level", "second_level_dirty", ...).
 * Booleans are 0 or 1; fields are numbers ("sagaw" a bit mask, "mgaw" the
 * address width in bits).
 *
 * Return: _count the number of pairs; _feature 0, or -ERANGE past the end.
 */
size_t iommufd_hw_info_feature_count(const struct iommufd_hw_info *info);
int iommufd_hw_info_feature(const struct iommufd_hw_info *info, size_t index, const char **name,
			    uint64_t *value);

/**
 * iommufd_hw_info_lookup() - the decoded value called @name.
 * Return: 0, or -ENOENT when this IOMMU type has no such feature.
 */
int iommufd_hw_info_lookup(const struct iommufd_hw_info *info, const char *name,
			   uint64_t *value);

/* ---- memory for mappings ---- */

/* Flags of iommufd_mem_alloc(). */
enum iommufd_mem_flags {
	IOMMUFD_MEM_HUGE_2M = 1u << 0, /* MAP_HUGETLB with 2 MiB pages */
	IOMMUFD_MEM_HUGE_1G = 1u << 1, /* MAP_HUGETLB with 1 GiB pages */
	IOMMUFD_MEM_POPULATE = 1u << 2, /* fault every page in now */
};

/**
 * iommufd_mem_alloc() - anonymous private memory for a map call, zeroed.
 * @length: bytes; rounded up to the page size asked for.
 * @flags: enum iommufd_mem_flags (at most one HUGE flag).
 * @out: receives the address; release it with iommufd_mem_free() and the
 * same @length and @flags.
 *
 * Return: 0; -EINVAL (both HUGE flags, @length 0), -ENOMEM (for huge pages:
 * none reserved in /proc/sys/vm/nr_hugepages), or -errno of mmap().
 */
int iommufd_mem_alloc(size_t length, unsigned int flags, void **out);

/** iommufd_mem_free() - unmap memory from iommufd_mem_alloc(). Return: 0 or -errno. */
int iommufd_mem_free(void *mem, size_t length, unsigned int flags);

#ifdef __cplusplus
}
#endif

#endif /* IOMMUFD_IOMMUFD_H */
