/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libiommufd objects half: what can be checked without /dev/iommu.
 * CHECK() evaluates its condition twice on failure: calls with side
 * effects are made before it. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "iommufd/iommufd.h"
#include "tap.h"

static char root[PATH_MAX];

static void put(const char *rel, const char *text)
{
	char path[PATH_MAX * 2], *slash;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (slash = strchr(path + strlen(root) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0755);
		*slash = '/';
	}
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void test_ctx(void)
{
	struct iommufd_ctx *ctx = (struct iommufd_ctx *)1;
	int fd = open("/dev/null", O_RDWR);

	CHECK(iommufd_ctx_open("/nonexistent/iommu", &ctx) == -ENOENT && !ctx,
	      "open of a missing node: -ENOENT, no context");
	CHECK(iommufd_ctx_open("/dev/null", &ctx) == -ENOTTY && !ctx,
	      "open of a node that is not an iommufd: -ENOTTY");
	CHECK(iommufd_ctx_adopt(-1, &ctx) == -EBADF, "adopt of a closed fd: -EBADF");
	CHECK(iommufd_ctx_adopt(fd, &ctx) == -ENOTTY, "adopt of /dev/null: -ENOTTY");
	CHECK(fcntl(fd, F_GETFD) >= 0, "a refused fd is left open");
	close(fd);
	iommufd_ctx_free(NULL);
	CHECK(iommufd_feature_name(IOMMUFD_FEATURE_MAP_FILE) &&
	      strcmp(iommufd_feature_name(IOMMUFD_FEATURE_MAP_FILE), "map_file") == 0,
	      "feature names");
	CHECK(iommufd_feature_name((enum iommufd_feature)99) == NULL, "unknown feature has no name");
}

static void test_device_open(void)
{
	struct iommufd_device *dev = (struct iommufd_device *)1;
	struct iommufd_ctx *ctx = NULL; /* never reached: every case fails before BIND */
	struct stat st;

	CHECK(iommufd_device_open(ctx, "00:1g.0", root, &dev) == -EINVAL && !dev,
	      "malformed address: -EINVAL");
	CHECK(iommufd_device_open(ctx, NULL, root, &dev) == -EINVAL, "NULL address: -EINVAL");
	CHECK(iommufd_device_open(ctx, "0000:00:09.0", root, &dev) == -ENOENT,
	      "absent device: -ENOENT");
	put("sys/bus/pci/devices/0000:00:02.0/vendor", "0x8086\n");
	CHECK(iommufd_device_open(ctx, "00:02.0", root, &dev) == -ENODEV,
	      "device without vfio-dev/: -ENODEV");
	/* A node that is a regular file, not the cdev sysfs names. */
	put("sys/bus/pci/devices/0000:00:03.0/vfio-dev/vfio0/dev", "511:0\n");
	put("dev/vfio/devices/vfio0", "");
	CHECK(iommufd_device_open(ctx, "0000:00:03.0", root, &dev) == -ENXIO && !dev,
	      "node is not a character device: -ENXIO");
	/* A character device with another number than sysfs says. */
	if (stat("/dev/null", &st) == 0) {
		char link[PATH_MAX * 2], devt[32];

		snprintf(devt, sizeof(devt), "%u:%u\n", major(st.st_rdev), minor(st.st_rdev) + 1);
		put("sys/bus/pci/devices/0000:00:04.0/vfio-dev/vfio1/dev", devt);
		snprintf(link, sizeof(link), "%s/dev/vfio/devices/vfio1", root);
		int r = symlink("/dev/null", link);

		CHECK(r == 0, "fixture: vfio1 -> /dev/null");
		CHECK(iommufd_device_open(ctx, "0000:00:04.0", root, &dev) == -ENXIO,
		      "dev_t differs from sysfs: -ENXIO");
		CHECK(iommufd_device_open(ctx, "0000:00:05.0", root, &dev) == -ENOENT,
		      "cdev node missing for an absent device: -ENOENT");
		put("sys/bus/pci/devices/0000:00:05.0/vfio-dev/vfio9/dev", "bogus\n");
		CHECK(iommufd_device_open(ctx, "0000:00:05.0", root, &dev) == -EINVAL,
		      "malformed sysfs dev: -EINVAL");
	}
	put("sys/bus/pci/devices/0000:00:06.0/vfio-dev/vfio2/dev", "511:2\n");
	CHECK(iommufd_device_open(ctx, "0000:00:06.0", root, &dev) == -ENOENT,
	      "cdev named by sysfs but absent under dev/: -ENOENT");
}

/* struct iommu_hw_info_vtd as the kernel lays it out. */
struct vtd_raw {
	uint32_t flags;    // cppcheck-suppress unusedStructMember
	uint32_t reserved; // cppcheck-suppress unusedStructMember
	uint64_t cap, ecap;
};

static void test_hw_info(void)
{
	/* QEMU 7.2 intel-iommu,intremap=on: the registers the lab guest reported. */
	struct vtd_raw vtd = { 0, 0, 0x00d2008c22260206ull, 0x0000000000f00f4aull };
	struct iommufd_hw_info *info;
	uint64_t v = 0, cap = 0, ecap = 0;
	const char *name;
	size_t len = 0;

	int r = iommufd_hw_info_from_raw(IOMMUFD_HW_INTEL_VTD, &vtd, sizeof(vtd),
					 IOMMUFD_HW_CAP_DIRTY_TRACKING, 0, &info);

	CHECK(r == 0, "decode VT-d");
	if (r)
		return;
	CHECK(strcmp(iommufd_hw_info_type_name(info), "intel-vtd") == 0, "type name");
	CHECK(iommufd_hw_info_vtd_regs(info, &cap, &ecap) == 0 && cap == vtd.cap && ecap == vtd.ecap,
	      "raw registers round-trip");
	CHECK(iommufd_hw_info_data(info, &len) && len == sizeof(vtd), "raw data length");
	CHECK(iommufd_hw_info_lookup(info, "dirty_tracking", &v) == 0 && v == 1, "generic cap bit");
	CHECK(iommufd_hw_info_lookup(info, "interrupt_remapping", &v) == 0 && v == 1, "ecap IR (bit 3)");
	CHECK(iommufd_hw_info_lookup(info, "queued_invalidation", &v) == 0 && v == 1, "ecap QI (bit 1)");
	CHECK(iommufd_hw_info_lookup(info, "pass_through", &v) == 0 && v == 1, "ecap PT (bit 6)");
	CHECK(iommufd_hw_info_lookup(info, "caching_mode", &v) == 0 && v == 0, "cap CM (bit 7) clear");
	CHECK(iommufd_hw_info_lookup(info, "mgaw", &v) == 0 && v == 39, "cap MGAW 38+1 = 39 bits");
	CHECK(iommufd_hw_info_lookup(info, "sagaw", &v) == 0 && v == 0x2, "cap SAGAW: 3-level");
	CHECK(iommufd_hw_info_lookup(info, "super_pages_2m", &v) == 0 && v == 1, "cap 2M pages (bit 34)");
	CHECK(iommufd_hw_info_lookup(info, "domains", &v) == 0 && v == 1ull << 16, "cap ND 6: 64K domains");
	CHECK(iommufd_hw_info_lookup(info, "no_such_bit", &v) == -ENOENT, "unknown name: -ENOENT");
	CHECK(iommufd_hw_info_feature(info, iommufd_hw_info_feature_count(info), &name, &v) == -ERANGE,
	      "index past the end: -ERANGE");
	iommufd_hw_info_free(info);

	r = iommufd_hw_info_from_raw(IOMMUFD_HW_INTEL_VTD, &vtd, 8, 0, 0, &info);
	CHECK(r == -EINVAL && !info, "VT-d data too short: -EINVAL");
	r = iommufd_hw_info_from_raw(IOMMUFD_HW_NONE, NULL, 0, 0, 20, &info);
	CHECK(r == 0, "generic fallback decodes");
	if (r)
		return;
	CHECK(strcmp(iommufd_hw_info_type_name(info), "none") == 0 &&
	      iommufd_hw_info_feature_count(info) == 4 &&
	      iommufd_hw_info_vtd_regs(info, &cap, &ecap) == -ENODATA,
	      "generic: four features, no VT-d registers");
	CHECK(iommufd_hw_info_lookup(info, "max_pasid_log2", &v) == 0 && v == 20, "max_pasid_log2");
	iommufd_hw_info_free(info);
	r = iommufd_hw_info_from_raw(77, NULL, 0, 0, 0, &info);
	CHECK(r == 0 && strcmp(iommufd_hw_info_type_name(info), "unknown") == 0, "unknown type kept");
	iommufd_hw_info_free(info);
}

static void test_mem(void)
{
	void *mem = NULL;

	CHECK(iommufd_mem_alloc(0, 0, &mem) == -EINVAL, "zero length: -EINVAL");
	CHECK(iommufd_mem_alloc(4096, IOMMUFD_MEM_HUGE_2M | IOMMUFD_MEM_HUGE_1G, &mem) == -EINVAL,
	      "two huge sizes: -EINVAL");
	int r = iommufd_mem_alloc(100, IOMMUFD_MEM_POPULATE, &mem);

	CHECK(r == 0 && mem && ((unsigned char *)mem)[99] == 0, "anonymous memory, zeroed");
	if (r)
		return;
	r = iommufd_mem_free(mem, 100, IOMMUFD_MEM_POPULATE);
	CHECK(r == 0, "freed");
}

int main(void)
{
	char tmpl[] = "/tmp/test-iommufd.XXXXXX";
	char cmd[PATH_MAX + 16];

	if (!mkdtemp(tmpl))
		return 1;
	snprintf(root, sizeof(root), "%s", tmpl);
	test_ctx();
	test_device_open();
	test_hw_info();
	test_mem();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", root);
	TAP_DONE();
}
