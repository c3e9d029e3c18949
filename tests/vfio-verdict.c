// SPDX-License-Identifier: MIT
/*
 * vfio-verdict: ask the kernel whether user space may own a device's group.
 *
 *   vfio-verdict BDF
 *
 * BDF must be bound to vfio-pci.  Two questions, both to the kernel:
 *   - the legacy group node /dev/vfio/GROUP: VFIO_GROUP_GET_STATUS and its
 *     VFIO_GROUP_FLAGS_VIABLE flag;
 *   - the device cdev: VFIO_DEVICE_BIND_IOMMUFD to a fresh iommufd, which
 *     claims DMA ownership of the whole group and fails with EPERM while a
 *     sibling is on a kernel driver that does DMA.
 * Prints one line, "group G viable V bind R" (V: yes|no; R: ok or the
 * errno name), and exits 0; 2 usage, 3 not found, 4 a step that should
 * not fail did.  Nothing is kept: the fds are closed at exit.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lib/compat/iommufd-uapi.h"
#include "lib/compat/vfio-uapi.h"

static const char *errno_name(int e)
{
	switch (e) {
	case EPERM: return "EPERM";
	case EBUSY: return "EBUSY";
	case EINVAL: return "EINVAL";
	case ENODEV: return "ENODEV";
	case ENXIO: return "ENXIO";
	default: return strerror(e);
	}
}

int main(int argc, char **argv)
{
	char path[PATH_MAX], link[PATH_MAX], node[PATH_MAX] = "";
	struct vfio_group_status st = { .argsz = sizeof(st) };
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	const char *group, *bind_res = "ok";
	struct dirent *de;
	ssize_t n;
	DIR *dir;
	int gfd, dfd, ifd;

	if (argc != 2 || strlen(argv[1]) != 12 || strchr(argv[1], '/')) {
		fprintf(stderr, "usage: vfio-verdict BDF\n");
		return 2;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", argv[1]);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		fprintf(stderr, "vfio-verdict: %s: no IOMMU group\n", argv[1]);
		return 3;
	}
	link[n] = 0;
	group = strrchr(link, '/') + 1;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev", argv[1]);
	dir = opendir(path);
	while (dir && (de = readdir(dir)))
		if (!strncmp(de->d_name, "vfio", 4))
			snprintf(node, sizeof(node), "/dev/vfio/devices/%s", de->d_name);
	if (dir)
		closedir(dir);
	if (!node[0]) {
		fprintf(stderr, "vfio-verdict: %s: no VFIO cdev (bind it to vfio-pci)\n", argv[1]);
		return 3;
	}

	snprintf(path, sizeof(path), "/dev/vfio/%s", group);
	gfd = open(path, O_RDWR | O_CLOEXEC);
	if (gfd < 0 || ioctl(gfd, VFIO_GROUP_GET_STATUS, &st)) {
		fprintf(stderr, "vfio-verdict: %s: %s\n", path, strerror(errno));
		return 4;
	}
	/* The group fd is only asked, never given a container: close it
	 * before the cdev claims the group. */
	close(gfd);

	dfd = open(node, O_RDWR | O_CLOEXEC);
	ifd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (dfd < 0 || ifd < 0) {
		fprintf(stderr, "vfio-verdict: open %s: %s\n", dfd < 0 ? node : "/dev/iommu", strerror(errno));
		return 4;
	}
	bind.iommufd = ifd;
	if (ioctl(dfd, VFIO_DEVICE_BIND_IOMMUFD, &bind))
		bind_res = errno_name(errno);
	printf("group %s viable %s bind %s\n", group, st.flags & VFIO_GROUP_FLAGS_VIABLE ? "yes" : "no", bind_res);
	return 0;
}
