// SPDX-License-Identifier: MIT
/*
 * dma-probe: prove what an IOMMU lets a device do, with QEMU's "edu" device.
 *
 * The edu device has a small DMA engine (BAR0: 0x80 source, 0x88
 * destination, 0x90 count, 0x98 command; a 4 KiB buffer at device address
 * 0x40000; 28-bit DMA addresses; the transfer completes ~100 ms later).  We
 * map two pages of our memory into an iommufd IOAS at IOVA B (default
 * 0x100000): page 0 holds a fresh random pattern, page 1 a marker.  Then we
 * ask the device to copy page 0 into its buffer (B -> device) and its
 * buffer back into page 1 (device -> B + 4096).
 *
 *   translated: page 1 now holds the pattern and the IOMMU reported no
 *               fault: it translated both transfers to exactly our pages.
 *   blocked:    page 1 still holds the marker, page 0 is untouched, AND the
 *               IOMMU reported a fault for this device at the address the
 *               device wrote to, in the kernel log (/dev/kmsg), after the
 *               transfer started.  An untouched page alone proves nothing:
 *               a device left in an identity or default domain also misses
 *               page 1, because IOVA B is not its physical address.
 *   untouched:  page 1 holds the marker but no fault was reported: not a
 *               proof of anything, and never "blocked".
 *   leaked:     (--physical only) the data reached our pages through their
 *               physical addresses: the device is not isolated.
 *
 * The fault lines recognised, for device 0000:BB:DD.F and an address in the
 * page the device wrote to (printed as they were found):
 *   intel-iommu:  DMAR: [DMA Write NO_PASID] Request device [BB:DD.F] fault addr 0x...
 *   amd-iommu:    pci 0000:BB:DD.F: AMD-Vi: Event logged [IO_PAGE_FAULT ... address=0x...
 *   virtio-iommu: virtio_iommu virtio0: ... fault from EP <requester id> at 0x...
 *
 * With --physical the two transfers use the physical addresses of two of
 * our pages (from /proc/self/pagemap, below the edu's 256 MiB limit)
 * instead of IOVAs: what an identity domain would let through.
 *
 * With --unmapped-iova U the second transfer goes to U instead (not mapped
 * in the IOAS): "blocked" then shows a DMA to an unmapped IOVA lands
 * nothing.  A fresh pattern per run means a stale device buffer from an
 * earlier run cannot fake a "translated".
 *
 * Two ways to get there:
 *   --device BDF      open everything ourselves: find the device's VFIO
 *                     cdev, open /dev/iommu, BIND, allocate an IOAS, map,
 *                     then ATTACH (and DETACH) as far as --until says.
 *   --iommufd-fd N --device-fd M [--ioas ID]
 *                     use fds a parent process passed us: the device is
 *                     already bound (and maybe attached) by the parent; with
 *                     --ioas we map our pages into that IOAS (and unmap them
 *                     before exiting) but never change the attachment.
 * --exec CMD...       after our own setup, run CMD with the iommufd and
 *                     device fds inherited (DMA_PROBE_IOMMUFD,
 *                     DMA_PROBE_DEVICE_FD, DMA_PROBE_IOAS in its
 *                     environment) instead of probing ourselves; the exit
 *                     status is CMD's.  This exercises the fd-passing mode.
 *
 * Exit: 0 the --expect'ed outcome (or, without --expect, a clean outcome)
 * was seen; 1 it was not; 2 usage; 3 device not found or not on a VFIO
 * driver; 4 an iommufd/VFIO setup step failed; 5 the DMA engine did not
 * respond (not an edu, bus mastering off, timeout).  One line on stderr
 * says which.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/compat/iommufd-uapi.h"
#include "lib/compat/vfio-uapi.h"

enum {
	EXIT_HOLDS = 0,
	EXIT_DIFFERS = 1,
	EXIT_USAGE = 2,
	EXIT_NOTFOUND = 3,
	EXIT_SETUP = 4,
	EXIT_DEVICE = 5,
};

/* edu registers (BAR0) and DMA engine facts */
#define EDU_ID 0x00
#define EDU_ID_MAGIC_MASK 0xffu
#define EDU_ID_MAGIC 0xedu
#define EDU_DMA_SRC 0x80
#define EDU_DMA_DST 0x88
#define EDU_DMA_CNT 0x90
#define EDU_DMA_CMD 0x98
#define EDU_CMD_START 0x1u
#define EDU_CMD_TO_RAM 0x2u	/* direction: device buffer -> RAM */
#define EDU_BUF_ADDR 0x40000u
#define EDU_BUF_SIZE 4096u
/* QEMU up to 7.2 rejects a transfer that ends exactly at the end of the
 * buffer, and rejects with hw_error(), which kills the whole VM. */
#define EDU_MAX_COUNT (EDU_BUF_SIZE - 1)
#define EDU_DMA_LIMIT (1ull << 28)

#define PAGE 4096u
#define PCI_COMMAND 0x04
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4
#define MARKER 0x5a

static const char *prog = "dma-probe";
static const char *label = "device";	/* what messages call the device */

static _Noreturn __attribute__((format(printf, 2, 3))) void die(int code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: %s: ", prog, label);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

static __attribute__((format(printf, 1, 2))) void note(const char *fmt, ...)
{
	va_list ap;

	printf("%s: %s: ", prog, label);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static _Noreturn void usage(int code)
{
	FILE *f = code ? stderr : stdout;

	fprintf(f,
		"usage: %s --device BDF [--until bind|attach|detach] [options]\n"
		"       %s --iommufd-fd N --device-fd M [--ioas ID] [options]\n"
		"options:\n"
		"  --expect blocked|translated  exit 1 unless this is what happened\n"
		"  --iova ADDR                  where our two pages are mapped (default 0x100000)\n"
		"  --unmapped-iova ADDR         send the device's write there instead\n"
		"  --physical                   DMA to two of our pages' physical addresses instead\n"
		"  --count N                    bytes per transfer, 1..4095 (default 8)\n"
		"  --timeout-ms N               wait this long for each transfer (default 5000)\n"
		"  --exec CMD [ARGS]            (with --device) run CMD on our fds instead of probing\n",
		prog, prog);
	exit(code);
}

static uint64_t parse_u64(const char *opt, const char *s, uint64_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-' || v > max) {
		fprintf(stderr, "%s: %s: bad value '%s'\n", prog, opt, s);
		exit(EXIT_USAGE);
	}
	return v;
}

/* ---- the device's VFIO cdev ------------------------------------------- */

static bool valid_bdf(const char *s)
{
	unsigned dom, bus, dev, fn;
	char tail;

	return strlen(s) == 12 &&
	       sscanf(s, "%4x:%2x:%2x.%1x%c", &dom, &bus, &dev, &fn, &tail) == 4 &&
	       dev < 32 && fn < 8;
}

static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");

	if (!f)
		return -errno;
	if (!fgets(buf, (int)len, f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

/* Find /dev/vfio/devices/vfioN for BDF through sysfs and check that the
 * node there really is that device (same major:minor). */
static int open_cdev(const char *bdf)
{
	char path[PATH_MAX], link[PATH_MAX], devnum[32], node[300], entry[256] = "";
	const char *driver;
	unsigned maj, min;
	struct dirent *de;
	struct stat st;
	ssize_t n;
	DIR *dir;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", bdf);
	if (access(path, F_OK))
		die(EXIT_NOTFOUND, "no such PCI device");
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		die(EXIT_NOTFOUND, "not bound to any driver; bind it to vfio-pci first");
	link[n] = 0;
	driver = strrchr(link, '/') ? strrchr(link, '/') + 1 : link;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev", bdf);
	dir = opendir(path);
	if (!dir)
		die(EXIT_NOTFOUND, "driver %s gives it no VFIO device cdev (not a VFIO driver?)", driver);
	while ((de = readdir(dir)))
		if (!strncmp(de->d_name, "vfio", 4)) {
			snprintf(entry, sizeof(entry), "%s", de->d_name);
			break;
		}
	closedir(dir);
	if (!entry[0])
		die(EXIT_NOTFOUND, "no vfioN entry under %s", path);
	snprintf(node, sizeof(node), "/dev/vfio/devices/%s", entry);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev/%s/dev", bdf, entry);
	if (read_line(path, devnum, sizeof(devnum)) || sscanf(devnum, "%u:%u", &maj, &min) != 2)
		die(EXIT_NOTFOUND, "cannot read %s", path);

	fd = open(node, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die(errno == ENOENT ? EXIT_NOTFOUND : EXIT_SETUP, "open %s: %s", node, strerror(errno));
	if (fstat(fd, &st) || !S_ISCHR(st.st_mode) || major(st.st_rdev) != maj || minor(st.st_rdev) != min)
		die(EXIT_SETUP, "%s is not the device's cdev (%u:%u expected)", node, maj, min);
	note("on %s, cdev %s (%u:%u)", driver, node, maj, min);
	return fd;
}

/* ---- VFIO region access ------------------------------------------------ */

struct region {
	uint64_t offset, size;
};

static struct region region_info(int dev, unsigned index, const char *what)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri), .index = index };

	if (ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &ri))
		die(EXIT_SETUP, "VFIO_DEVICE_GET_REGION_INFO(%s): %s", what, strerror(errno));
	if (!(ri.flags & VFIO_REGION_INFO_FLAG_READ) || !(ri.flags & VFIO_REGION_INFO_FLAG_WRITE))
		die(EXIT_DEVICE, "%s is not readable and writable through VFIO", what);
	return (struct region){ ri.offset, ri.size };
}

static void region_write(int dev, struct region r, uint64_t off, const void *v, size_t len)
{
	if (off + len > r.size || pwrite(dev, v, len, (off_t)(r.offset + off)) != (ssize_t)len)
		die(EXIT_DEVICE, "write of %zu bytes at 0x%" PRIx64 " failed: %s", len, off, strerror(errno));
}

static void region_read(int dev, struct region r, uint64_t off, void *v, size_t len)
{
	if (off + len > r.size || pread(dev, v, len, (off_t)(r.offset + off)) != (ssize_t)len)
		die(EXIT_DEVICE, "read of %zu bytes at 0x%" PRIx64 " failed: %s", len, off, strerror(errno));
}

static void bar_w64(int dev, struct region bar, uint64_t off, uint64_t v)
{
	region_write(dev, bar, off, &v, sizeof(v));
}

static uint64_t bar_r64(int dev, struct region bar, uint64_t off)
{
	uint64_t v;

	region_read(dev, bar, off, &v, sizeof(v));
	return v;
}

/* ---- the DMA engine ------------------------------------------------------ */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* One transfer; returns once the engine reports completion.  Both ends are
 * checked here so the device never sees an out-of-range request. */
static void edu_transfer(int dev, struct region bar, uint64_t src, uint64_t dst, uint32_t cnt,
			 bool to_ram, unsigned timeout_ms)
{
	uint64_t ram = to_ram ? dst : src, buf = to_ram ? src : dst;
	uint64_t start;

	if (cnt == 0 || cnt > EDU_MAX_COUNT || buf < EDU_BUF_ADDR || buf + cnt >= EDU_BUF_ADDR + EDU_BUF_SIZE ||
	    ram + cnt > EDU_DMA_LIMIT)
		die(EXIT_USAGE, "transfer 0x%" PRIx64 " -> 0x%" PRIx64 " (%u bytes) is outside what edu can do",
		    src, dst, cnt);
	bar_w64(dev, bar, EDU_DMA_SRC, src);
	bar_w64(dev, bar, EDU_DMA_DST, dst);
	bar_w64(dev, bar, EDU_DMA_CNT, cnt);
	bar_w64(dev, bar, EDU_DMA_CMD, EDU_CMD_START | (to_ram ? EDU_CMD_TO_RAM : 0));
	start = now_ms();
	while (bar_r64(dev, bar, EDU_DMA_CMD) & EDU_CMD_START) {
		if (now_ms() - start > timeout_ms)
			die(EXIT_DEVICE, "DMA engine still busy after %u ms", timeout_ms);
		usleep(2000);
	}
}

static void enable_bus_master(int dev)
{
	struct region cfg = region_info(dev, VFIO_PCI_CONFIG_REGION_INDEX, "config space");
	uint16_t cmd;

	region_read(dev, cfg, PCI_COMMAND, &cmd, sizeof(cmd));
	if ((cmd & (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER)) != (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER)) {
		cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
		region_write(dev, cfg, PCI_COMMAND, &cmd, sizeof(cmd));
		region_read(dev, cfg, PCI_COMMAND, &cmd, sizeof(cmd));
		if (!(cmd & PCI_COMMAND_MASTER))
			die(EXIT_DEVICE, "bus mastering did not stick (command 0x%04x)", cmd);
	}
}

/* ---- iommufd ------------------------------------------------------------- */

static uint32_t ioas_alloc(int iommufd)
{
	struct iommu_ioas_alloc a = { .size = sizeof(a) };

	if (ioctl(iommufd, IOMMU_IOAS_ALLOC, &a))
		die(EXIT_SETUP, "IOMMU_IOAS_ALLOC: %s", strerror(errno));
	return a.out_ioas_id;
}

static void ioas_map(int iommufd, uint32_t ioas, void *va, uint64_t len, uint64_t iova)
{
	struct iommu_ioas_map m = {
		.size = sizeof(m),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas,
		.user_va = (uintptr_t)va,
		.length = len,
		.iova = iova,
	};

	if (ioctl(iommufd, IOMMU_IOAS_MAP, &m))
		die(EXIT_SETUP, "IOMMU_IOAS_MAP of 0x%" PRIx64 " bytes at iova 0x%" PRIx64 " in ioas %u: %s", len,
		    iova, ioas, strerror(errno));
}

static void ioas_unmap(int iommufd, uint32_t ioas, uint64_t len, uint64_t iova)
{
	struct iommu_ioas_unmap u = { .size = sizeof(u), .ioas_id = ioas, .iova = iova, .length = len };

	if (ioctl(iommufd, IOMMU_IOAS_UNMAP, &u))
		die(EXIT_SETUP, "IOMMU_IOAS_UNMAP at iova 0x%" PRIx64 ": %s", iova, strerror(errno));
}

/* ---- the probe ----------------------------------------------------------- */

enum outcome { TRANSLATED, BLOCKED, INCONSISTENT, UNTOUCHED, LEAKED };
static const char *const outcome_name[] = { "translated", "blocked", "inconsistent", "untouched (no fault reported)",
					     "leaked (reached by physical address)" };

static void fill_pattern(uint8_t *p, size_t n)
{
	uint64_t x = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid() << 17 ^ now_ms();

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)x;
	}
	/* Never equal to the marker page, whatever the generator did. */
	if (p[0] == MARKER)
		p[0] ^= 0xff;
}

static bool all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

struct probe {
	int dev;
	uint64_t iova;		/* our two pages */
	uint64_t unmapped;	/* 0: write back into page 1 */
	bool physical;		/* DMA to the pages' physical addresses */
	uint32_t count;
	unsigned timeout_ms;
	char bdf[16];		/* the device, for matching fault reports */
};

/* ---- what the IOMMU said: fault reports in the kernel log --------------- */

/* /dev/kmsg positioned at its end: only records logged from now on. */
static int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		die(EXIT_SETUP, "open /dev/kmsg: %s (the fault reports are the proof)", strerror(errno));
	if (lseek(fd, 0, SEEK_END) < 0)
		die(EXIT_SETUP, "seek /dev/kmsg: %s", strerror(errno));
	return fd;
}

/* Does this log line report a fault by device bdf at an address in
 * [page, page + PAGE)?  The device as each IOMMU driver names it: intel
 * "[BB:DD.F]", amd the full address (dev_err prefix or device=), virtio
 * "EP <requester id> " (bus << 8 | devfn). */
static bool fault_line_matches(const char *line, const char *bdf, uint64_t page)
{
	unsigned dom, bus, dev, fn;
	char tag[32], path[PATH_MAX], real[PATH_MAX], *up;
	const char *s;

	if (!strstr(line, "fault") && !strstr(line, "FAULT"))
		return false;
	if (sscanf(bdf, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4)
		return false;
	snprintf(tag, sizeof(tag), "[%02x:%02x.%u]", bus, dev, fn);
	/* Behind a PCIe-to-PCI bridge the IOMMU sees the bridge's alias for
	 * the device's requests: (secondary bus, 00.0), or the bridge itself. */
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", bdf);
	if (!strstr(line, tag) && realpath(path, real) && (up = strrchr(real, '/')) && (*up = 0, up = strrchr(real, '/')) &&
	    valid_bdf(up + 1)) {
		unsigned pd, pb, pdev, pf;

		snprintf(tag, sizeof(tag), "[%02x:00.0]", bus);
		if (strstr(line, tag))
			goto device_ok;
		if (sscanf(up + 1, "%x:%x:%x.%x", &pd, &pb, &pdev, &pf) == 4) {
			snprintf(tag, sizeof(tag), "[%02x:%02x.%u]", pb, pdev, pf);
			if (strstr(line, tag))
				goto device_ok;
		}
		snprintf(tag, sizeof(tag), "[%02x:%02x.%u]", bus, dev, fn);
	}
	if (!strstr(line, tag) && !strstr(line, bdf)) {
		snprintf(tag, sizeof(tag), "EP %u ", bus << 8 | dev << 3 | fn);
		if (!strstr(line, tag))
			return false;
	}
device_ok:
	for (s = line; (s = strstr(s, "0x")); s += 2) {
		unsigned long long a = strtoull(s, NULL, 16);

		if (a >= page && a < page + PAGE)
			return true;
	}
	return false;
}

/* Read what the log got since kmsg_open; note every fault line of ours and
 * say whether one was at src and at dst (page addresses). */
static void kmsg_scan(int fd, const char *bdf, uint64_t src, uint64_t dst, bool *src_fault, bool *dst_fault)
{
	char rec[2048];
	ssize_t n;

	for (;;) {
		char *text, *nl;

		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records: go on with the next */
		if (n <= 0)
			return;
		rec[n] = 0;
		text = strchr(rec, ';');
		if (!text)
			continue;
		text++;
		nl = strchr(text, '\n');
		if (nl)
			*nl = 0;
		bool s = fault_line_matches(text, bdf, src), d = fault_line_matches(text, bdf, dst);
		if (s || d)
			note("iommu fault reported: %s", text);
		*src_fault |= s;
		*dst_fault |= d;
	}
}

/* The BDF of the PCI device behind a VFIO device fd (cdev or group-less):
 * /sys/dev/char/MAJ:MIN is .../BDF/vfio-dev/vfioN. */
static void bdf_of_fd(int fd, char *bdf, size_t len)
{
	char path[64], link[PATH_MAX], *p;
	struct stat st;
	ssize_t n;

	if (fstat(fd, &st) || !S_ISCHR(st.st_mode))
		die(EXIT_SETUP, "the device fd is not a character device");
	snprintf(path, sizeof(path), "/sys/dev/char/%u:%u", major(st.st_rdev), minor(st.st_rdev));
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		die(EXIT_SETUP, "readlink %s: %s", path, strerror(errno));
	link[n] = 0;
	p = strstr(link, "/vfio-dev/");
	if (!p)
		die(EXIT_SETUP, "%s is not a VFIO device cdev (%s)", path, link);
	*p = 0;
	p = strrchr(link, '/');
	if (!p || !valid_bdf(p + 1))
		die(EXIT_SETUP, "no PCI address in %s", link);
	snprintf(bdf, len, "%s", p + 1);
}

/* Two of our pages whose physical addresses the edu can reach (below
 * 256 MiB, clear of the IOVA pages): from a pool, locked, looked up in
 * /proc/self/pagemap. */
static void physical_pages(uint64_t iova, uint8_t **va, uint64_t *pa)
{
	enum { POOL = 8192 };	/* 32 MiB */
	uint8_t *pool = mmap(NULL, (size_t)POOL * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int fd, found = 0;

	if (pool == MAP_FAILED)
		die(EXIT_SETUP, "mmap: %s", strerror(errno));
	if (mlock(pool, (size_t)POOL * PAGE))
		die(EXIT_SETUP, "mlock: %s", strerror(errno));
	memset(pool, 1, (size_t)POOL * PAGE);
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die(EXIT_SETUP, "open /proc/self/pagemap: %s", strerror(errno));
	for (unsigned i = 0; i < POOL && found < 2; i++) {
		uint64_t e, a;

		if (pread(fd, &e, sizeof(e), (off_t)(((uintptr_t)pool / PAGE + i) * sizeof(e))) != sizeof(e))
			die(EXIT_SETUP, "read /proc/self/pagemap: %s", strerror(errno));
		if (!(e >> 63) || !(e & ((1ull << 55) - 1)))
			continue;	/* not present, or the PFN hidden from us */
		a = (e & ((1ull << 55) - 1)) * PAGE;
		if (a + PAGE > EDU_DMA_LIMIT || (a < iova + 2 * PAGE && a + PAGE > iova))
			continue;
		va[found] = pool + (size_t)i * PAGE;
		pa[found++] = a;
	}
	close(fd);
	if (found < 2)
		die(EXIT_SETUP, "none of %u locked pages has a physical address below 256 MiB", (unsigned)POOL);
}

static enum outcome run_probe(const struct probe *p, uint8_t *pages)
{
	struct region bar = region_info(p->dev, VFIO_PCI_BAR0_REGION_INDEX, "BAR0");
	uint8_t *src = pages, *dst = pages + PAGE, saved[PAGE];
	uint64_t from = p->iova, back = p->unmapped ? p->unmapped : p->iova + PAGE;
	uint32_t id;
	bool src_intact, dst_marker, dst_pattern, src_fault = false, dst_fault = false;
	uint64_t start;
	int kmsg;

	region_read(p->dev, bar, EDU_ID, &id, sizeof(id));
	if ((id & EDU_ID_MAGIC_MASK) != EDU_ID_MAGIC)
		die(EXIT_DEVICE, "not an edu device (BAR0 id 0x%08x)", id);
	enable_bus_master(p->dev);
	if (p->physical) {
		uint8_t *va[2];
		uint64_t pa[2];

		physical_pages(p->iova, va, pa);
		src = va[0], dst = va[1], from = pa[0], back = pa[1];
		note("our pages at physical 0x%" PRIx64 " and 0x%" PRIx64 " (not mapped in any IOAS)", from, back);
	}

	/* The fault reports are rate-limited (intel-iommu: 10 fault
	 * interrupts per 5 s; virtio-iommu: 10 lines per 5 s, and it reports
	 * every 4-byte access, so a 2 KiB read alone uses them up): when the
	 * data did not move but no report for the write was seen, try once
	 * more after the window, with an 8-byte transfer whose two or four
	 * reports fit in it. */
	uint32_t count = p->count;

	for (int attempt = 0;; attempt++) {
		uint64_t t0 = now_ms();

		fill_pattern(src, PAGE);
		memcpy(saved, src, PAGE);
		memset(dst, MARKER, PAGE);
		src_fault = dst_fault = false;

		kmsg = kmsg_open();
		edu_transfer(p->dev, bar, from, EDU_BUF_ADDR, count, false, p->timeout_ms);
		edu_transfer(p->dev, bar, EDU_BUF_ADDR, back, count, true, p->timeout_ms);

		src_intact = !memcmp(src, saved, PAGE);
		dst_marker = all_bytes(dst, PAGE, MARKER);
		dst_pattern = !memcmp(dst, saved, count) && all_bytes(dst + count, PAGE - count, MARKER);
		/* The IOMMU's report comes by interrupt (virtio-iommu: an
		 * event queue): give it 2 s when the data did not move, 0.3 s
		 * to be sure nothing comes when it did. */
		start = now_ms();
		for (;;) {
			kmsg_scan(kmsg, p->bdf, from & ~(uint64_t)(PAGE - 1), back & ~(uint64_t)(PAGE - 1),
				  &src_fault, &dst_fault);
			if (dst_fault || now_ms() - start > (dst_marker ? 2000u : 300u))
				break;
			usleep(20000);
		}
		close(kmsg);
		if (attempt > 0 || !src_intact || !dst_marker || dst_fault)
			break;
		count = count < 8 ? count : 8;
		note("nothing landed but no fault report for the write was seen: trying once more with %u bytes "
		     "after the fault reports' rate-limit window (5 s)", count);
		while (now_ms() - t0 < 5500)
			usleep(100000);
	}
	note("dma %s 0x%" PRIx64 " -> device -> %s 0x%" PRIx64 "%s, %u bytes: source page %s, %s; iommu fault reported: read %s, write %s",
	     p->physical ? "physical" : "iova", from, p->physical ? "physical" : "iova", back,
	     p->unmapped ? " (unmapped)" : "", count, src_intact ? "intact" : "CHANGED",
	     dst_pattern ? (p->physical ? "pattern landed at the physical address" : "pattern landed at the mapped iova") :
	     dst_marker ? "nothing landed" : "destination page CHANGED to something else",
	     src_fault ? "yes" : "no", dst_fault ? "yes" : "no");

	if (!src_intact)
		return INCONSISTENT;
	if (dst_pattern && p->physical)
		return LEAKED;
	if (!p->unmapped && dst_pattern)
		return src_fault || dst_fault ? INCONSISTENT : TRANSLATED;
	if (dst_marker)
		return dst_fault ? BLOCKED : UNTOUCHED;
	return INCONSISTENT;
}

static void *alloc_pages(void)
{
	void *pages = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (pages == MAP_FAILED)
		die(EXIT_SETUP, "mmap: %s", strerror(errno));
	memset(pages, 0, 2 * PAGE);	/* fault them in before pinning */
	return pages;
}

static int parse_fd(const char *opt, const char *s)
{
	int fd = (int)parse_u64(opt, s, INT_MAX);

	if (fcntl(fd, F_GETFD) < 0) {
		fprintf(stderr, "%s: %s %d: not an open file descriptor\n", prog, opt, fd);
		exit(EXIT_USAGE);
	}
	return fd;
}

static int run_exec(char **cmd, int iommufd, int dev, uint32_t ioas)
{
	pid_t pid;
	int st;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die(EXIT_SETUP, "fork: %s", strerror(errno));
	if (pid == 0) {
		char buf[16];

		/* Hand the two fds on: clear close-on-exec, name them in the env. */
		if (fcntl(iommufd, F_SETFD, 0) || fcntl(dev, F_SETFD, 0))
			_exit(127);
		snprintf(buf, sizeof(buf), "%d", iommufd);
		setenv("DMA_PROBE_IOMMUFD", buf, 1);
		snprintf(buf, sizeof(buf), "%d", dev);
		setenv("DMA_PROBE_DEVICE_FD", buf, 1);
		snprintf(buf, sizeof(buf), "%u", ioas);
		setenv("DMA_PROBE_IOAS", buf, 1);
		execvp(cmd[0], cmd);
		fprintf(stderr, "%s: exec %s: %s\n", prog, cmd[0], strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0)
		die(EXIT_SETUP, "waitpid: %s", strerror(errno));
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(int argc, char **argv)
{
	const char *bdf = NULL, *until = "attach", *expect = NULL;
	int iommufd = -1, dev = -1, expect_o = -1;
	long ioas_opt = -1;
	char **exec_cmd = NULL;
	/* 8 bytes: virtio-iommu reports every 4-byte access it refuses, and a
	 * flood of reports outlives the rate limit's window (a 2 KiB transfer
	 * left 1000 events queued, which ate the next windows' reports). */
	struct probe p = { .iova = 0x100000, .count = 8, .timeout_ms = 5000 };
	enum outcome got;
	uint8_t *pages;
	uint32_t ioas;
	bool mapped_here = false;

	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(o, "-h") || !strcmp(o, "--help"))
			usage(0);
		if (!strcmp(o, "--physical")) {
			p.physical = true;
			continue;
		}
		if (!strcmp(o, "--exec")) {
			if (i + 1 >= argc)
				usage(EXIT_USAGE);
			exec_cmd = argv + i + 1;
			break;
		}
		if (!v)
			usage(EXIT_USAGE);
		i++;
		if (!strcmp(o, "--device"))
			bdf = v;
		else if (!strcmp(o, "--until"))
			until = v;
		else if (!strcmp(o, "--expect"))
			expect = v;
		else if (!strcmp(o, "--iova"))
			p.iova = parse_u64(o, v, EDU_DMA_LIMIT - 2 * PAGE);
		else if (!strcmp(o, "--unmapped-iova"))
			p.unmapped = parse_u64(o, v, EDU_DMA_LIMIT - EDU_BUF_SIZE);
		else if (!strcmp(o, "--count"))
			p.count = (uint32_t)parse_u64(o, v, EDU_MAX_COUNT);
		else if (!strcmp(o, "--timeout-ms"))
			p.timeout_ms = (unsigned)parse_u64(o, v, 600000);
		else if (!strcmp(o, "--iommufd-fd"))
			iommufd = parse_fd(o, v);
		else if (!strcmp(o, "--device-fd"))
			dev = parse_fd(o, v);
		else if (!strcmp(o, "--ioas"))
			ioas_opt = (long)parse_u64(o, v, UINT32_MAX);
		else
			usage(EXIT_USAGE);
	}

	if (expect) {
		if (!strcmp(expect, "blocked"))
			expect_o = BLOCKED;
		else if (!strcmp(expect, "translated"))
			expect_o = TRANSLATED;
		else
			usage(EXIT_USAGE);
	}
	if (strcmp(until, "bind") && strcmp(until, "attach") && strcmp(until, "detach"))
		usage(EXIT_USAGE);
	if (!!bdf == (dev >= 0 || iommufd >= 0))
		usage(EXIT_USAGE);	/* exactly one of the two modes */
	if (!bdf && (dev < 0 || iommufd < 0))
		usage(EXIT_USAGE);
	if (!bdf && exec_cmd)
		usage(EXIT_USAGE);
	if (p.count == 0 || p.iova % PAGE)
		usage(EXIT_USAGE);
	if (p.unmapped && p.unmapped < p.iova + 2 * PAGE && p.unmapped + p.count > p.iova) {
		fprintf(stderr, "%s: --unmapped-iova overlaps our pages at 0x%" PRIx64 "\n", prog, p.iova);
		return EXIT_USAGE;
	}
	if (p.physical && p.unmapped)
		usage(EXIT_USAGE);
	if ((p.unmapped || p.physical) && expect_o == TRANSLATED) {
		fprintf(stderr, "%s: a write to an unmapped iova can only be blocked\n", prog);
		return EXIT_USAGE;
	}
	if (!bdf && expect_o == TRANSLATED && ioas_opt < 0) {
		fprintf(stderr, "%s: --expect translated needs --ioas to map our pages\n", prog);
		return EXIT_USAGE;
	}

	pages = alloc_pages();
	if (bdf) {
		struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };

		if (!valid_bdf(bdf)) {
			fprintf(stderr, "%s: %s: not a PCI address (DDDD:BB:DD.F)\n", prog, bdf);
			return EXIT_USAGE;
		}
		label = bdf;
		snprintf(p.bdf, sizeof(p.bdf), "%s", bdf);
		p.dev = open_cdev(bdf);
		iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
		if (iommufd < 0)
			die(errno == ENOENT ? EXIT_NOTFOUND : EXIT_SETUP, "open /dev/iommu: %s", strerror(errno));
		bind.iommufd = iommufd;
		if (ioctl(p.dev, VFIO_DEVICE_BIND_IOMMUFD, &bind))
			die(EXIT_SETUP, "VFIO_DEVICE_BIND_IOMMUFD: %s%s", strerror(errno),
			    errno == EPERM ? " (no interrupt remapping? iommufd.allow_unsafe_interrupts=1)" : "");
		ioas = ioas_alloc(iommufd);
		ioas_map(iommufd, ioas, pages, 2 * PAGE, p.iova);
		note("bound to iommufd as dev_id %u; ioas %u maps 2 pages at iova 0x%" PRIx64, bind.out_devid, ioas,
		     p.iova);
		if (strcmp(until, "bind")) {
			struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at), .pt_id = ioas };

			if (ioctl(p.dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at))
				die(EXIT_SETUP, "VFIO_DEVICE_ATTACH_IOMMUFD_PT to ioas %u: %s", ioas, strerror(errno));
			note("attached to ioas %u through hwpt %u", ioas, at.pt_id);
		}
		if (!strcmp(until, "detach")) {
			struct vfio_device_detach_iommufd_pt de = { .argsz = sizeof(de) };

			if (ioctl(p.dev, VFIO_DEVICE_DETACH_IOMMUFD_PT, &de))
				die(EXIT_SETUP, "VFIO_DEVICE_DETACH_IOMMUFD_PT: %s", strerror(errno));
			note("detached");
		}
		if (exec_cmd)
			return run_exec(exec_cmd, iommufd, p.dev, ioas);
	} else {
		label = "passed device fd";
		p.dev = dev;
		bdf_of_fd(dev, p.bdf, sizeof(p.bdf));
		if (ioas_opt >= 0) {
			ioas = (uint32_t)ioas_opt;
			ioas_map(iommufd, ioas, pages, 2 * PAGE, p.iova);
			mapped_here = true;
			note("mapped 2 pages at iova 0x%" PRIx64 " in the passed ioas %u", p.iova, ioas);
		} else {
			note("pages not mapped anywhere (no --ioas)");
		}
	}

	got = run_probe(&p, pages);
	if (mapped_here)
		ioas_unmap(iommufd, ioas, 2 * PAGE, p.iova);

	if (expect_o < 0) {
		note("result: %s", outcome_name[got]);
		return got == INCONSISTENT || got == LEAKED ? EXIT_DIFFERS : EXIT_HOLDS;
	}
	note("result: %s (expected %s): %s", outcome_name[got], outcome_name[expect_o],
	     got == (enum outcome)expect_o ? "ok" : "FAILED");
	return got == (enum outcome)expect_o ? EXIT_HOLDS : EXIT_DIFFERS;
}
