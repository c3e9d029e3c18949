// SPDX-License-Identifier: MIT
/*
 * lib-lifecycle: the "cycle" of bench/vm/raw-lifecycle.c through libiommufd
 * (build/libiommufd.a, the library iommuctl is built on), for the VM
 * benchmark.
 *
 *   lib-lifecycle DEV LENGTH PAGE REPS
 *       iommufd_ctx_open, iommufd_device_open and iommufd_ioas_alloc once;
 *       memory allocated exactly as raw-lifecycle does (so that only the
 *       calls differ); then REPS times, timed: iommufd_ioas_map,
 *       iommufd_device_attach, iommufd_device_detach, iommufd_ioas_unmap.
 *       One line per repetition: nanoseconds.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "iommufd/iommufd.h"

static void check(int err, const char *what)
{
	if (err) {
		fprintf(stderr, "lib-lifecycle: %s: %s\n", what, strerror(-err));
		exit(1);
	}
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
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
	struct iommufd_ctx *ctx;
	struct iommufd_device *dev;
	uint64_t length, page;
	uint32_t ioas;
	void *mem;
	int reps;

	if (argc != 5) {
		fprintf(stderr, "usage: lib-lifecycle DEV LENGTH PAGE REPS\n");
		return 2;
	}
	length = size_arg(argv[2]);
	page = size_arg(argv[3]);
	reps = atoi(argv[4]);
	check(iommufd_ctx_open(NULL, &ctx), "/dev/iommu");
	check(iommufd_device_open(ctx, argv[1], NULL, &dev), argv[1]);
	check(iommufd_ioas_alloc(ctx, &ioas), "ioas alloc");
	mem = mmap(NULL, length, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | (page == 2u << 20 ? MAP_HUGETLB : 0), -1, 0);
	if (mem == MAP_FAILED)
		check(-errno, "mmap");
	if (page == 4096)
		(void)madvise(mem, length, MADV_NOHUGEPAGE);
	for (uint64_t off = 0; off < length; off += page)
		((volatile char *)mem)[off] = 1;
	for (int i = 0; i < reps; i++) {
		uint64_t t0 = now_ns(), iova = 0;

		check(iommufd_ioas_map(ctx, ioas, mem, length, IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE, &iova), "map");
		check(iommufd_device_attach(dev, ioas, NULL), "attach");
		check(iommufd_device_detach(dev), "detach");
		check(iommufd_ioas_unmap(ctx, ioas, iova, length, NULL), "unmap");
		printf("%llu\n", (unsigned long long)(now_ns() - t0));
	}
	iommufd_device_close(dev);
	iommufd_ctx_free(ctx);
	munmap(mem, length);
	return 0;
}
