// SPDX-License-Identifier: MIT
/*
 * raw-lifecycle: the floor of the VM benchmark.  The same sequence of
 * system calls iommuctl and libiommufd make, with nothing around them: raw
 * ioctls from lib/compat/{iommufd,vfio}-uapi.h, no library, no model, no output beyond
 * the numbers.
 *
 *   raw-lifecycle cycle DEV LENGTH PAGE REPS
 *       /dev/iommu, the device's cdev, BIND and IOAS alloc once; memory of
 *       LENGTH bytes in PAGE-sized pages (4096: MADV_NOHUGEPAGE; 2097152:
 *       MAP_HUGETLB), faulted in once; then REPS times, timed: IOMMU_IOAS_MAP
 *       (kernel-chosen IOVA), ATTACH, DETACH, IOMMU_IOAS_UNMAP.  Prints one
 *       line per repetition: nanoseconds.  DEV must be on vfio-pci.
 *   raw-lifecycle probe DEV LENGTH
 *       what `iommuctl probe DEV --length LENGTH` does to a device that is
 *       not on vfio-pci: driver_override + drivers_probe to vfio-pci, wait
 *       for the cdev, /dev/iommu, open + BIND, IOAS alloc, map LENGTH bytes
 *       (MAP_POPULATE, as the library allocates them), attach, detach, unmap, close, then unbind and
 *       restore the original driver_override (and driver).  Silent; exit 0
 *       when every step worked.
 *
 * bench/vm/lib-lifecycle.c is the same "cycle" through libiommufd.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "lib/compat/iommufd-uapi.h"
#include "lib/compat/vfio-uapi.h"

static void die(const char *what)
{
	fprintf(stderr, "raw-lifecycle: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ok;

	if (fd < 0)
		return -1;
	ok = write(fd, s, strlen(s)) == (ssize_t)strlen(s);
	close(fd);
	return ok ? 0 : -1;
}

/* /dev/vfio/devices/vfioN of @dev when sysfs and devtmpfs both have it. */
static int find_cdev(const char *dev, char *node, size_t size)
{
	char path[256], text[32];
	struct dirent *e;
	unsigned int major, minor;
	struct stat st;
	DIR *d;
	int fd, n, found = -1;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev", dev);
	d = opendir(path);
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "vfio", 4) != 0)
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev/%.32s/dev", dev, e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			break;
		n = (int)read(fd, text, sizeof(text) - 1);
		close(fd);
		if (n <= 0)
			break;
		text[n] = '\0';
		if (sscanf(text, "%u:%u", &major, &minor) != 2)
			break;
		snprintf(node, size, "/dev/vfio/devices/%.32s", e->d_name);
		if (stat(node, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(major, minor))
			found = 0;
		break;
	}
	closedir(d);
	return found;
}

struct session {
	int iommufd, dev;
	uint32_t ioas;
};

static void open_session(const char *dev, struct session *s)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	char node[64];

	s->iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (s->iommufd < 0)
		die("/dev/iommu");
	if (find_cdev(dev, node, sizeof(node)) != 0) {
		errno = ENODEV;
		die(dev);
	}
	s->dev = open(node, O_RDWR | O_CLOEXEC);
	if (s->dev < 0)
		die(node);
	bind.iommufd = s->iommufd;
	if (ioctl(s->dev, VFIO_DEVICE_BIND_IOMMUFD, &bind))
		die("VFIO_DEVICE_BIND_IOMMUFD");
	alloc.size = sizeof(alloc);
	if (ioctl(s->iommufd, IOMMU_IOAS_ALLOC, &alloc))
		die("IOMMU_IOAS_ALLOC");
	s->ioas = alloc.out_ioas_id;
}

static void *memory(uint64_t length, uint64_t page)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | (page == 2u << 20 ? MAP_HUGETLB : 0);
	void *mem = mmap(NULL, length, PROT_READ | PROT_WRITE, flags, -1, 0);

	if (mem == MAP_FAILED)
		die("mmap");
	if (page == 4096)
		(void)madvise(mem, length, MADV_NOHUGEPAGE);
	for (uint64_t off = 0; off < length; off += page)
		((volatile char *)mem)[off] = 1;
	return mem;
}

/* MAP, ATTACH, DETACH, UNMAP: the measured sequence. */
static void one_cycle(struct session *s, void *mem, uint64_t length)
{
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = s->ioas,
		.user_va = (uintptr_t)mem,
		.length = length,
	};
	struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at), .pt_id = s->ioas };
	struct vfio_device_detach_iommufd_pt de = { .argsz = sizeof(de) };
	struct iommu_ioas_unmap un = { .size = sizeof(un), .ioas_id = s->ioas };

	if (ioctl(s->iommufd, IOMMU_IOAS_MAP, &map))
		die("IOMMU_IOAS_MAP");
	if (ioctl(s->dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at))
		die("VFIO_DEVICE_ATTACH_IOMMUFD_PT");
	if (ioctl(s->dev, VFIO_DEVICE_DETACH_IOMMUFD_PT, &de))
		die("VFIO_DEVICE_DETACH_IOMMUFD_PT");
	un.iova = map.iova;
	un.length = length;
	if (ioctl(s->iommufd, IOMMU_IOAS_UNMAP, &un))
		die("IOMMU_IOAS_UNMAP");
}

static int cycle(const char *dev, uint64_t length, uint64_t page, int reps)
{
	struct session s;
	void *mem;

	open_session(dev, &s);
	mem = memory(length, page);
	for (int i = 0; i < reps; i++) {
		uint64_t t0 = now_ns();

		one_cycle(&s, mem, length);
		printf("%llu\n", (unsigned long long)(now_ns() - t0));
	}
	close(s.dev);
	close(s.iommufd);
	munmap(mem, length);
	return 0;
}

static void read_first_line(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");

	buf[0] = '\0';
	if (f) {
		if (!fgets(buf, (int)size, f))
			buf[0] = '\0';
		fclose(f);
	}
	buf[strcspn(buf, "\n")] = '\0';
	if (strcmp(buf, "(null)") == 0)
		buf[0] = '\0';
}

static int probe(const char *dev, uint64_t length)
{
	char path[256], override[64], driver[64] = "", link[256], node[64];
	struct session s;
	uint64_t deadline;
	ssize_t n;
	void *mem;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", dev);
	read_first_line(path, override, sizeof(override));
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", dev);
	n = readlink(path, link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = '\0';
		snprintf(driver, sizeof(driver), "%.63s", strrchr(link, '/') + 1);
	}
	/* bind to vfio-pci */
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", dev);
	if (write_str(path, "vfio-pci\n"))
		die("driver_override");
	if (driver[0]) {
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind", dev);
		if (write_str(path, dev))
			die("unbind");
	}
	if (write_str("/sys/bus/pci/drivers_probe", dev))
		die("drivers_probe");
	deadline = now_ns() + 5000000000u;
	while (find_cdev(dev, node, sizeof(node)) != 0) {
		if (now_ns() > deadline) {
			errno = ETIMEDOUT;
			die("waiting for the cdev");
		}
		usleep(1000);
	}
	/* the lifecycle */
	open_session(dev, &s);
	/* as iommufd_mem_alloc(IOMMUFD_MEM_POPULATE), which probe uses */
	mem = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap");
	one_cycle(&s, mem, length);
	close(s.dev);
	close(s.iommufd);
	munmap(mem, length);
	/* restore */
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind", dev);
	if (write_str(path, dev))
		die("unbind from vfio-pci");
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", dev);
	snprintf(link, sizeof(link), "%s\n", override);
	if (write_str(path, link))
		die("driver_override");
	if (driver[0])
		(void)write_str("/sys/bus/pci/drivers_probe", dev);
	return 0;
}

static uint64_t size_arg(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 0);

	switch (*end) {
	case 'K': return v << 10;
	case 'M': return v << 20;
	case 'G': return v << 30;
	default: return v;
	}
}

int main(int argc, char **argv)
{
	if (argc == 6 && strcmp(argv[1], "cycle") == 0)
		return cycle(argv[2], size_arg(argv[3]), size_arg(argv[4]), atoi(argv[5]));
	if (argc == 4 && strcmp(argv[1], "probe") == 0)
		return probe(argv[2], size_arg(argv[3]));
	fprintf(stderr, "usage: raw-lifecycle cycle DEV LENGTH PAGE REPS | probe DEV LENGTH\n");
	return 2;
}
