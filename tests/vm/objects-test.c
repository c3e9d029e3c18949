// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Guest driver for tests/vm/suites/objects.bats: runs one scenario against
 * the real kernel through libiommufd and prints one "step=result" line per
 * step, result being 0, a value, or the errno name the library returned.
 * The suite asserts on those lines; the exit status is 0 unless the driver
 * itself could not run (bad usage, a step that must work did not).
 *
 * Built by the suite (setup_file) against build/libiommufd.a:
 *   cc -std=c11 -D_GNU_SOURCE -Iinclude tests/vm/objects-test.c \
 *      build/libiommufd.a -lpci -ljson-c -o objects-test
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "iommufd/iommufd.h"

static const char *ename(int err)
{
	const char *n;

	if (err == 0)
		return "0";
	n = strerrorname_np(-err);
	return n ? n : "E?";
}

#define SAY(step, ...)                        \
	do {                                  \
		printf("%s=", step);          \
		printf(__VA_ARGS__);          \
		printf("\n");                 \
		fflush(stdout);               \
	} while (0)

/* Report a step; die when a step that the scenario needs failed. */
static int step(const char *name, int err, int must)
{
	SAY(name, "%s", ename(err));
	if (err && must) {
		fprintf(stderr, "objects-test: %s failed: %s\n", name, strerror(-err));
		exit(1);
	}
	return err;
}

static struct iommufd_ctx *ctx_open(void)
{
	struct iommufd_ctx *ctx;

	step("ctx_open", iommufd_ctx_open(NULL, &ctx), 1);
	return ctx;
}

static struct iommufd_device *dev_open(struct iommufd_ctx *ctx, const char *bdf)
{
	struct iommufd_device *dev = NULL;

	step("open", iommufd_device_open(ctx, bdf, NULL, &dev), 1);
	SAY("dev_id", "%" PRIu32, iommufd_device_id(dev));
	SAY("cdev", "%s", iommufd_device_cdev(dev));
	return dev;
}

static const char *state(const struct iommufd_device *dev)
{
	return iommufd_device_pt_id(dev) ? "attached" : "blocked";
}

static int in_ranges(const struct iommufd_iova_range *r, size_t n, uint64_t iova)
{
	for (size_t i = 0; i < n; i++)
		if (iova >= r[i].start && iova <= r[i].last)
			return 1;
	return 0;
}

static void print_ranges(struct iommufd_ctx *ctx, uint32_t ioas, const char *tag, uint64_t probe)
{
	struct iommufd_iova_range *r;
	size_t n = 0;
	uint64_t align = 0;
	char key[64];
	int err = iommufd_ioas_iova_ranges(ctx, ioas, NULL, &n, &align);

	snprintf(key, sizeof(key), "%s_first_call", tag);
	step(key, err, 0);
	r = calloc(n ? n : 1, sizeof(*r));
	step("ranges", iommufd_ioas_iova_ranges(ctx, ioas, r, &n, &align), 1);
	snprintf(key, sizeof(key), "%s_count", tag);
	SAY(key, "%zu", n);
	for (size_t i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "%s_%zu", tag, i);
		SAY(key, "0x%" PRIx64 "-0x%" PRIx64, r[i].start, r[i].last);
	}
	snprintf(key, sizeof(key), "%s_has_0x%" PRIx64, tag, probe);
	SAY(key, "%d", in_ranges(r, n, probe));
	free(r);
}

static int lifecycle(const char *bdf)
{
	struct iommufd_ctx *ctx = ctx_open();
	struct iommufd_device *dev = dev_open(ctx, bdf);
	uint32_t a, b, hwpt = 0, hwpt2 = 0;
	uint64_t iova, auto_iova, copy_iova, bytes = 0;
	size_t len = 2 * 4096;
	void *mem;

	SAY("state_after_open", "%s", state(dev));
	step("ioas_alloc_a", iommufd_ioas_alloc(ctx, &a), 1);
	step("ioas_alloc_b", iommufd_ioas_alloc(ctx, &b), 1);
	SAY("ioas_a", "%" PRIu32, a);
	print_ranges(ctx, a, "ranges_empty", 0xfee00000);

	struct iommufd_iova_range allow = { 0x100000, 0xfffffff };
	step("allow_iovas", iommufd_ioas_allow_iovas(ctx, a, &allow, 1), 1);

	step("mem_alloc", iommufd_mem_alloc(len, 0, &mem), 1);
	memset(mem, 0x5a, len);
	iova = 0x100000;
	step("map_fixed", iommufd_ioas_map(ctx, a, mem, len,
					   IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE | IOMMUFD_MAP_FIXED_IOVA,
					   &iova), 1);
	SAY("map_fixed_iova", "0x%" PRIx64, iova);
	step("map_fixed_again", iommufd_ioas_map(ctx, a, mem, len,
						 IOMMUFD_MAP_READ | IOMMUFD_MAP_FIXED_IOVA, &iova), 0);
	step("map_no_access", iommufd_ioas_map(ctx, a, mem, len, 0, &auto_iova), 0);
	step("map_auto", iommufd_ioas_map(ctx, a, mem, len, IOMMUFD_MAP_READ, &auto_iova), 1);
	SAY("map_auto_in_allowed", "%d", auto_iova >= allow.start && auto_iova + len - 1 <= allow.last);
	step("copy", iommufd_ioas_copy(ctx, b, a, 0x100000, len, IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE,
				       &copy_iova), 1);
	step("copy_unmapped_src", iommufd_ioas_copy(ctx, b, a, 0x4000000, len, IOMMUFD_MAP_READ,
						    &copy_iova), 0);

	step("attach", iommufd_device_attach(dev, a, &hwpt), 1);
	SAY("attach_hwpt", "%" PRIu32, hwpt);
	SAY("state_after_attach", "%s", state(dev));
	step("attach_twice", iommufd_device_attach(dev, a, NULL), 0);
	print_ranges(ctx, a, "ranges_attached", 0xfee00000);

	/* The MSI window of VT-d is a reserved region of every device. */
	iova = 0xfee00000;
	step("map_msi_window", iommufd_ioas_map(ctx, a, mem, len,
						IOMMUFD_MAP_READ | IOMMUFD_MAP_FIXED_IOVA, &iova), 0);
	struct iommufd_iova_range msi = { 0xfee00000, 0xfeefffff };
	step("allow_msi_window", iommufd_ioas_allow_iovas(ctx, a, &msi, 1), 0);
	step("destroy_attached_ioas", iommufd_destroy(ctx, a), 0);

	step("hwpt_alloc", iommufd_hwpt_alloc(ctx, iommufd_device_id(dev), b, 0, &hwpt2), 1);
	SAY("hwpt_alloc_id", "%" PRIu32, hwpt2);
	step("replace_to_hwpt", iommufd_device_replace(dev, hwpt2, &hwpt), 1);
	SAY("replace_hwpt", "%" PRIu32, hwpt);
	step("destroy_attached_hwpt", iommufd_destroy(ctx, hwpt2), 0);
	step("replace_to_ioas", iommufd_device_replace(dev, a, &hwpt), 1);
	SAY("replace_ioas_hwpt", "%" PRIu32, hwpt);

	step("detach", iommufd_device_detach(dev), 1);
	SAY("state_after_detach", "%s", state(dev));
	step("detach_twice", iommufd_device_detach(dev), 0);
	step("replace_blocked", iommufd_device_replace(dev, a, NULL), 0);

	/* The other order: a mapping over the MSI window makes attach fail. */
	iova = 0xfee00000;
	step("map_msi_unattached", iommufd_ioas_map(ctx, b, mem, len,
						    IOMMUFD_MAP_READ | IOMMUFD_MAP_FIXED_IOVA, &iova), 0);
	step("attach_over_msi_map", iommufd_device_attach(dev, b, NULL), 0);
	SAY("state_after_failed_attach", "%s", state(dev));

	step("unmap_range", iommufd_ioas_unmap(ctx, a, 0x100000, len, &bytes), 1);
	SAY("unmap_range_bytes", "%" PRIu64, bytes);
	step("unmap_range_again", iommufd_ioas_unmap(ctx, a, 0x100000, len, NULL), 0);
	step("unmap_all", iommufd_ioas_unmap_all(ctx, a, &bytes), 1);
	SAY("unmap_all_bytes", "%" PRIu64, bytes);
	step("destroy_hwpt", iommufd_destroy(ctx, hwpt2), 0);
	step("destroy_a", iommufd_destroy(ctx, a), 0);
	step("destroy_a_again", iommufd_destroy(ctx, a), 0);
	step("destroy_b_with_copy", iommufd_destroy(ctx, b), 0);
	iommufd_device_close(dev);
	iommufd_mem_free(mem, len, 0);
	iommufd_ctx_free(ctx);
	return 0;
}

static int hwinfo(const char *bdf)
{
	struct iommufd_ctx *ctx = ctx_open();
	struct iommufd_device *dev = dev_open(ctx, bdf);
	struct iommufd_hw_info *info;
	uint64_t cap, ecap, v;
	const char *name;
	uint32_t ioas, hwpt = 0;

	step("hw_info", iommufd_device_hw_info(dev, &info), 1);
	SAY("type", "%s", iommufd_hw_info_type_name(info));
	if (iommufd_hw_info_vtd_regs(info, &cap, &ecap) == 0)
		SAY("vtd_regs", "cap=0x%016" PRIx64 " ecap=0x%016" PRIx64, cap, ecap);
	for (size_t i = 0; i < iommufd_hw_info_feature_count(info); i++) {
		iommufd_hw_info_feature(info, i, &name, &v);
		SAY(name, "%" PRIu64, v);
	}
	/* Dirty tracking: the HWPT flag must agree with the capability bit. */
	step("ioas_alloc", iommufd_ioas_alloc(ctx, &ioas), 1);
	step("hwpt_alloc_dirty", iommufd_hwpt_alloc(ctx, iommufd_device_id(dev), ioas,
						    IOMMUFD_HWPT_DIRTY_TRACKING, &hwpt), 0);
	for (int f = IOMMUFD_FEATURE_IOAS; f <= IOMMUFD_FEATURE_MAP_FILE; f++) {
		char key[64];

		snprintf(key, sizeof(key), "supports_%s", iommufd_feature_name(f));
		SAY(key, "%d", iommufd_ctx_supports(ctx, f));
	}
	iommufd_hw_info_free(info);
	iommufd_device_close(dev);
	iommufd_ctx_free(ctx);
	return 0;
}

static int options(const char *bdf)
{
	struct iommufd_ctx *ctx = ctx_open();
	enum iommufd_rlimit_mode mode;
	uint32_t ioas;
	bool on = false;
	int fd;

	step("rlimit_get", iommufd_ctx_get_rlimit_mode(ctx, &mode), 1);
	SAY("rlimit_mode", "%s", mode == IOMMUFD_RLIMIT_USER ? "user" : "process");
	step("rlimit_set_process", iommufd_ctx_set_rlimit_mode(ctx, IOMMUFD_RLIMIT_PROCESS), 0);
	step("rlimit_get2", iommufd_ctx_get_rlimit_mode(ctx, &mode), 1);
	SAY("rlimit_mode2", "%s", mode == IOMMUFD_RLIMIT_USER ? "user" : "process");
	step("ioas_alloc", iommufd_ioas_alloc(ctx, &ioas), 1);
	step("huge_get", iommufd_ioas_get_huge_pages(ctx, ioas, &on), 1);
	SAY("huge_pages", "%d", on);
	step("huge_set_off", iommufd_ioas_set_huge_pages(ctx, ioas, false), 0);
	step("huge_get2", iommufd_ioas_get_huge_pages(ctx, ioas, &on), 1);
	SAY("huge_pages2", "%d", on);
	step("huge_unknown_ioas", iommufd_ioas_get_huge_pages(ctx, ioas + 100, &on), 0);

	/* A memfd through IOMMU_IOAS_MAP_FILE, where the kernel has it. */
	SAY("supports_map_file", "%d", iommufd_ctx_supports(ctx, IOMMUFD_FEATURE_MAP_FILE));
	fd = memfd_create("objects-test", 0);
	if (fd >= 0 && ftruncate(fd, 1 << 20) == 0) {
		uint64_t iova = 0x200000;

		step("map_file", iommufd_ioas_map_file(ctx, ioas, fd, 0, 1 << 20,
						       IOMMUFD_MAP_READ | IOMMUFD_MAP_FIXED_IOVA, &iova), 0);
	}
	if (fd >= 0)
		close(fd);

	/* Adopting a passed descriptor: a duplicate sees the same objects. */
	struct iommufd_ctx *ctx2;
	int dupfd = dup(iommufd_ctx_fd(ctx));

	step("adopt", iommufd_ctx_adopt(dupfd, &ctx2), 1);
	step("adopted_sees_ioas", iommufd_ioas_get_huge_pages(ctx2, ioas, &on), 0);
	iommufd_ctx_free(ctx2);
	iommufd_ctx_free(ctx);
	(void)bdf;
	return 0;
}

/* Huge-page memory from the helper, mapped and used by an attached device. */
static int huge(const char *bdf)
{
	struct iommufd_ctx *ctx = ctx_open();
	struct iommufd_device *dev = dev_open(ctx, bdf);
	uint64_t iova = 0x200000, bytes = 0;
	uint32_t ioas;
	void *mem;

	step("ioas_alloc", iommufd_ioas_alloc(ctx, &ioas), 1);
	step("mem_alloc_huge", iommufd_mem_alloc(4u << 20, IOMMUFD_MEM_HUGE_2M | IOMMUFD_MEM_POPULATE,
						 &mem), 1);
	step("map_huge", iommufd_ioas_map(ctx, ioas, mem, 4u << 20,
					  IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE | IOMMUFD_MAP_FIXED_IOVA,
					  &iova), 1);
	step("attach", iommufd_device_attach(dev, ioas, NULL), 1);
	step("detach", iommufd_device_detach(dev), 1);
	step("unmap_all", iommufd_ioas_unmap_all(ctx, ioas, &bytes), 1);
	SAY("unmap_all_bytes", "%" PRIu64, bytes);
	step("mem_free", iommufd_mem_free(mem, 4u << 20, IOMMUFD_MEM_HUGE_2M), 1);
	iommufd_device_close(dev);
	iommufd_ctx_free(ctx);
	return 0;
}

static int open_only(const char *bdf)
{
	struct iommufd_ctx *ctx = ctx_open();
	struct iommufd_device *dev = NULL;

	step("open", iommufd_device_open(ctx, bdf, NULL, &dev), 0);
	iommufd_device_close(dev);
	iommufd_ctx_free(ctx);
	return 0;
}

/* Two devices of one group attached to different IOAS. */
static int split(const char *bdf1, const char *bdf2)
{
	struct iommufd_ctx *ctx = ctx_open();
	struct iommufd_device *d1 = dev_open(ctx, bdf1), *d2 = dev_open(ctx, bdf2);
	uint32_t a, b, h1 = 0, h2 = 0;

	step("ioas_alloc_a", iommufd_ioas_alloc(ctx, &a), 1);
	step("ioas_alloc_b", iommufd_ioas_alloc(ctx, &b), 1);
	step("attach_first_a", iommufd_device_attach(d1, a, &h1), 1);
	step("attach_second_b", iommufd_device_attach(d2, b, NULL), 0);
	step("attach_second_a", iommufd_device_attach(d2, a, &h2), 0);
	SAY("same_hwpt", "%d", h1 == h2);
	iommufd_device_close(d2);
	iommufd_device_close(d1);
	iommufd_ctx_free(ctx);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "lifecycle") == 0)
		return lifecycle(argv[2]);
	if (argc == 3 && strcmp(argv[1], "hwinfo") == 0)
		return hwinfo(argv[2]);
	if (argc == 3 && strcmp(argv[1], "options") == 0)
		return options(argv[2]);
	if (argc == 3 && strcmp(argv[1], "huge") == 0)
		return huge(argv[2]);
	if (argc == 3 && strcmp(argv[1], "open") == 0)
		return open_only(argv[2]);
	if (argc == 4 && strcmp(argv[1], "split") == 0)
		return split(argv[2], argv[3]);
	fprintf(stderr, "usage: objects-test lifecycle|hwinfo|options|huge|open BDF | split BDF BDF\n");
	return 2;
}
