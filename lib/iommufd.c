// SPDX-License-Identifier: LGPL-2.1-or-later
/* libiommufd, objects half: the iommufd context, IOAS, HWPT, options, memory. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"
#include "iommufd/iommufd.h"
#include "iommufd-priv.h"

int iommufd_xioctl(int fd, unsigned long request, void *arg)
{
	if (ioctl(fd, request, arg) == 0)
		return 0;
	return errno == ENOTTY ? -EOPNOTSUPP : -errno;
}

/* Ask whether @fd knows iommufd ioctl @request: a size of 0 is below every
 * command's minimum, so a kernel that has the command says EINVAL and one
 * that lacks it ENOTTY.  Nothing is changed either way. */
static int probe_ioctl(int fd, unsigned long request)
{
	uint32_t zero[16] = { 0 };

	if (ioctl(fd, request, zero) == 0)
		return -EIO; /* cannot happen with size 0 */
	if (errno == EINVAL)
		return 1;
	if (errno == ENOTTY)
		return 0;
	return -errno;
}

static int check_iommufd(int fd)
{
	int r;

	if (fcntl(fd, F_GETFD) < 0)
		return -EBADF;
	r = probe_ioctl(fd, IOMMU_IOAS_ALLOC);
	if (r == 0)
		return -ENOTTY;
	return r < 0 ? r : 0;
}

IOMMUFD_EXPORT int iommufd_ctx_adopt(int fd, struct iommufd_ctx **out)
{
	struct iommufd_ctx *ctx;
	int err;

	*out = NULL;
	err = check_iommufd(fd);
	if (err)
		return err;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->fd = fd;
	*out = ctx;
	return 0;
}

IOMMUFD_EXPORT int iommufd_ctx_open(const char *path, struct iommufd_ctx **out)
{
	int fd, err;

	*out = NULL;
	fd = open(path ? path : "/dev/iommu", O_RDWR | O_CLOEXEC);
	/* A distribution kernel builds iommufd as a module that nothing has
	 * loaded yet: load it, as bind loads vfio-pci, rather than fail. */
	if (fd < 0 && errno == ENOENT && (!path || strcmp(path, "/dev/iommu") == 0) && run_modprobe("iommufd") == 0)
		fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = iommufd_ctx_adopt(fd, out);
	if (err)
		close(fd);
	return err;
}

IOMMUFD_EXPORT int iommufd_ctx_fd(const struct iommufd_ctx *ctx)
{
	return ctx->fd;
}

IOMMUFD_EXPORT void iommufd_ctx_free(struct iommufd_ctx *ctx)
{
	if (!ctx)
		return;
	close(ctx->fd);
	free(ctx);
}

static const struct {
	const char *name;
	unsigned long request;
} features[] = {
	[IOMMUFD_FEATURE_IOAS] = { "ioas", IOMMU_IOAS_ALLOC },
	[IOMMUFD_FEATURE_HWPT_ALLOC] = { "hwpt_alloc", IOMMU_HWPT_ALLOC },
	[IOMMUFD_FEATURE_HW_INFO] = { "hw_info", IOMMU_GET_HW_INFO },
	[IOMMUFD_FEATURE_DIRTY_TRACKING] = { "dirty_tracking", IOMMU_HWPT_SET_DIRTY_TRACKING },
	[IOMMUFD_FEATURE_MAP_FILE] = { "map_file", IOMMU_IOAS_MAP_FILE },
};

IOMMUFD_EXPORT const char *iommufd_feature_name(enum iommufd_feature feature)
{
	if ((unsigned int)feature >= sizeof(features) / sizeof(*features))
		return NULL;
	return features[feature].name;
}

IOMMUFD_EXPORT int iommufd_ctx_supports(struct iommufd_ctx *ctx, enum iommufd_feature feature)
{
	if ((unsigned int)feature >= sizeof(features) / sizeof(*features))
		return -EINVAL;
	return probe_ioctl(ctx->fd, features[feature].request);
}

IOMMUFD_EXPORT int iommufd_destroy(struct iommufd_ctx *ctx, uint32_t id)
{
	struct iommu_destroy cmd = { .size = sizeof(cmd), .id = id };

	return iommufd_xioctl(ctx->fd, IOMMU_DESTROY, &cmd);
}

/* ---- IOAS ---- */

IOMMUFD_EXPORT int iommufd_ioas_alloc(struct iommufd_ctx *ctx, uint32_t *ioas_id)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };
	int err = iommufd_xioctl(ctx->fd, IOMMU_IOAS_ALLOC, &cmd);

	if (!err)
		*ioas_id = cmd.out_ioas_id;
	return err;
}

/* Our map flags to the kernel's; -EINVAL for unknown bits. */
static int map_flags(unsigned int flags, uint32_t *kflags)
{
	if (flags & ~(unsigned int)(IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE | IOMMUFD_MAP_FIXED_IOVA))
		return -EINVAL;
	*kflags = ((flags & IOMMUFD_MAP_READ) ? IOMMU_IOAS_MAP_READABLE : 0) |
		  ((flags & IOMMUFD_MAP_WRITE) ? IOMMU_IOAS_MAP_WRITEABLE : 0) |
		  ((flags & IOMMUFD_MAP_FIXED_IOVA) ? IOMMU_IOAS_MAP_FIXED_IOVA : 0);
	return 0;
}

IOMMUFD_EXPORT int iommufd_ioas_map(struct iommufd_ctx *ctx, uint32_t ioas_id, void *va,
				    uint64_t length, unsigned int flags, uint64_t *iova)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.user_va = (uintptr_t)va,
		.length = length,
	};
	int err = map_flags(flags, &cmd.flags);

	if (err)
		return err;
	if (flags & IOMMUFD_MAP_FIXED_IOVA)
		cmd.iova = *iova;
	err = iommufd_xioctl(ctx->fd, IOMMU_IOAS_MAP, &cmd);
	if (!err)
		*iova = cmd.iova;
	return err;
}

IOMMUFD_EXPORT int iommufd_ioas_map_file(struct iommufd_ctx *ctx, uint32_t ioas_id, int fd,
					 uint64_t start, uint64_t length, unsigned int flags,
					 uint64_t *iova)
{
	struct iommu_ioas_map_file cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.fd = fd,
		.start = start,
		.length = length,
	};
	int err = map_flags(flags, &cmd.flags);

	if (err)
		return err;
	if (flags & IOMMUFD_MAP_FIXED_IOVA)
		cmd.iova = *iova;
	err = iommufd_xioctl(ctx->fd, IOMMU_IOAS_MAP_FILE, &cmd);
	if (!err)
		*iova = cmd.iova;
	return err;
}

IOMMUFD_EXPORT int iommufd_ioas_unmap(struct iommufd_ctx *ctx, uint32_t ioas_id, uint64_t iova,
				      uint64_t length, uint64_t *unmapped)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.iova = iova,
		.length = length,
	};
	int err = iommufd_xioctl(ctx->fd, IOMMU_IOAS_UNMAP, &cmd);

	if (!err && unmapped)
		*unmapped = cmd.length;
	return err;
}

IOMMUFD_EXPORT int iommufd_ioas_unmap_all(struct iommufd_ctx *ctx, uint32_t ioas_id,
					  uint64_t *unmapped)
{
	return iommufd_ioas_unmap(ctx, ioas_id, 0, UINT64_MAX, unmapped);
}

IOMMUFD_EXPORT int iommufd_ioas_copy(struct iommufd_ctx *ctx, uint32_t dst_ioas, uint32_t src_ioas,
				     uint64_t src_iova, uint64_t length, unsigned int flags,
				     uint64_t *dst_iova)
{
	struct iommu_ioas_copy cmd = {
		.size = sizeof(cmd),
		.dst_ioas_id = dst_ioas,
		.src_ioas_id = src_ioas,
		.length = length,
		.src_iova = src_iova,
	};
	int err = map_flags(flags, &cmd.flags);

	if (err)
		return err;
	if (flags & IOMMUFD_MAP_FIXED_IOVA)
		cmd.dst_iova = *dst_iova;
	err = iommufd_xioctl(ctx->fd, IOMMU_IOAS_COPY, &cmd);
	if (!err)
		*dst_iova = cmd.dst_iova;
	return err;
}

IOMMUFD_EXPORT int iommufd_ioas_iova_ranges(struct iommufd_ctx *ctx, uint32_t ioas_id,
					    struct iommufd_iova_range *ranges, size_t *count,
					    uint64_t *alignment)
{
	struct iommu_ioas_iova_ranges cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
	};
	struct iommu_iova_range *buf = NULL;
	int err;

	if (*count > UINT32_MAX)
		return -EINVAL;
	if (*count) {
		buf = calloc(*count, sizeof(*buf));
		if (!buf)
			return -ENOMEM;
	}
	cmd.num_iovas = (uint32_t)*count;
	cmd.allowed_iovas = (uintptr_t)buf;
	err = iommufd_xioctl(ctx->fd, IOMMU_IOAS_IOVA_RANGES, &cmd);
	if (err == 0 || err == -EMSGSIZE) {
		/* On EMSGSIZE the kernel has filled the first *count entries. */
		size_t filled = cmd.num_iovas < *count ? cmd.num_iovas : *count;

		for (size_t i = 0; i < filled; i++) {
			ranges[i].start = buf[i].start;
			ranges[i].last = buf[i].last;
		}
		*count = cmd.num_iovas;
		if (alignment)
			*alignment = cmd.out_iova_alignment;
	}
	free(buf);
	return err;
}

IOMMUFD_EXPORT int iommufd_ioas_allow_iovas(struct iommufd_ctx *ctx, uint32_t ioas_id,
					    const struct iommufd_iova_range *ranges, size_t count)
{
	struct iommu_ioas_allow_iovas cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
	};
	struct iommu_iova_range *buf = NULL;
	int err;

	if (count > UINT32_MAX)
		return -EINVAL;
	if (count) {
		buf = calloc(count, sizeof(*buf));
		if (!buf)
			return -ENOMEM;
		for (size_t i = 0; i < count; i++) {
			buf[i].start = ranges[i].start;
			buf[i].last = ranges[i].last;
		}
	}
	cmd.num_iovas = (uint32_t)count;
	cmd.allowed_iovas = (uintptr_t)buf;
	err = iommufd_xioctl(ctx->fd, IOMMU_IOAS_ALLOW_IOVAS, &cmd);
	free(buf);
	return err;
}

/* ---- options ---- */

static int option(struct iommufd_ctx *ctx, uint32_t option_id, uint32_t object_id, bool set,
		  uint64_t *val)
{
	struct iommu_option cmd = {
		.size = sizeof(cmd),
		.option_id = option_id,
		.op = set ? IOMMU_OPTION_OP_SET : IOMMU_OPTION_OP_GET,
		.object_id = object_id,
		.val64 = set ? *val : 0,
	};
	int err = iommufd_xioctl(ctx->fd, IOMMU_OPTION, &cmd);

	if (!err && !set)
		*val = cmd.val64;
	return err;
}

IOMMUFD_EXPORT int iommufd_ioas_get_huge_pages(struct iommufd_ctx *ctx, uint32_t ioas_id,
					       bool *enabled)
{
	uint64_t v = 0;
	int err = option(ctx, IOMMU_OPTION_HUGE_PAGES, ioas_id, false, &v);

	if (!err)
		*enabled = v != 0;
	return err;
}

IOMMUFD_EXPORT int iommufd_ioas_set_huge_pages(struct iommufd_ctx *ctx, uint32_t ioas_id,
					       bool enabled)
{
	uint64_t v = enabled;

	return option(ctx, IOMMU_OPTION_HUGE_PAGES, ioas_id, true, &v);
}

IOMMUFD_EXPORT int iommufd_ctx_get_rlimit_mode(struct iommufd_ctx *ctx,
					       enum iommufd_rlimit_mode *mode)
{
	uint64_t v = 0;
	int err = option(ctx, IOMMU_OPTION_RLIMIT_MODE, 0, false, &v);

	if (!err)
		*mode = v ? IOMMUFD_RLIMIT_PROCESS : IOMMUFD_RLIMIT_USER;
	return err;
}

IOMMUFD_EXPORT int iommufd_ctx_set_rlimit_mode(struct iommufd_ctx *ctx,
					       enum iommufd_rlimit_mode mode)
{
	uint64_t v = (uint64_t)mode;

	if (mode != IOMMUFD_RLIMIT_USER && mode != IOMMUFD_RLIMIT_PROCESS)
		return -EINVAL;
	return option(ctx, IOMMU_OPTION_RLIMIT_MODE, 0, true, &v);
}

/* ---- HWPT ---- */

IOMMUFD_EXPORT int iommufd_hwpt_alloc(struct iommufd_ctx *ctx, uint32_t dev_id, uint32_t ioas_id,
				      unsigned int flags, uint32_t *hwpt_id)
{
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.dev_id = dev_id,
		.pt_id = ioas_id,
		.data_type = IOMMU_HWPT_DATA_NONE,
	};
	int err;

	if (flags & ~(unsigned int)IOMMUFD_HWPT_DIRTY_TRACKING)
		return -EINVAL;
	if (flags & IOMMUFD_HWPT_DIRTY_TRACKING)
		cmd.flags |= IOMMU_HWPT_ALLOC_DIRTY_TRACKING;
	err = iommufd_xioctl(ctx->fd, IOMMU_HWPT_ALLOC, &cmd);
	if (!err)
		*hwpt_id = cmd.out_hwpt_id;
	return err;
}

IOMMUFD_EXPORT int iommufd_hwpt_set_dirty_tracking(struct iommufd_ctx *ctx, uint32_t hwpt_id,
						   bool enable)
{
	struct iommu_hwpt_set_dirty_tracking cmd = {
		.size = sizeof(cmd),
		.flags = enable ? IOMMU_HWPT_DIRTY_TRACKING_ENABLE : 0,
		.hwpt_id = hwpt_id,
	};

	return iommufd_xioctl(ctx->fd, IOMMU_HWPT_SET_DIRTY_TRACKING, &cmd);
}

/* ---- memory ---- */

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif

static int mem_geometry(size_t length, unsigned int flags, size_t *rounded, int *mflags)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	if (!length || (flags & ~(unsigned int)(IOMMUFD_MEM_HUGE_2M | IOMMUFD_MEM_HUGE_1G |
						IOMMUFD_MEM_POPULATE)))
		return -EINVAL;
	*mflags = MAP_PRIVATE | MAP_ANONYMOUS;
	if ((flags & IOMMUFD_MEM_HUGE_2M) && (flags & IOMMUFD_MEM_HUGE_1G))
		return -EINVAL;
	if (flags & IOMMUFD_MEM_HUGE_2M) {
		page = 2u << 20;
		*mflags |= MAP_HUGETLB | (21 << MAP_HUGE_SHIFT);
	} else if (flags & IOMMUFD_MEM_HUGE_1G) {
		page = 1u << 30;
		*mflags |= MAP_HUGETLB | (30 << MAP_HUGE_SHIFT);
	}
	if (flags & IOMMUFD_MEM_POPULATE)
		*mflags |= MAP_POPULATE;
	if (length > SIZE_MAX - page)
		return -EINVAL;
	*rounded = (length + page - 1) / page * page;
	return 0;
}

IOMMUFD_EXPORT int iommufd_mem_alloc(size_t length, unsigned int flags, void **out)
{
	size_t rounded;
	int mflags, err;
	void *mem;

	*out = NULL;
	err = mem_geometry(length, flags, &rounded, &mflags);
	if (err)
		return err;
	mem = mmap(NULL, rounded, PROT_READ | PROT_WRITE, mflags, -1, 0);
	if (mem == MAP_FAILED)
		return -errno;
	*out = mem;
	return 0;
}

IOMMUFD_EXPORT int iommufd_mem_free(void *mem, size_t length, unsigned int flags)
{
	size_t rounded;
	int mflags, err;

	err = mem_geometry(length, flags, &rounded, &mflags);
	if (err)
		return err;
	return munmap(mem, rounded) ? -errno : 0;
}
