/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef IOMMUFD_INTERNAL_H
#define IOMMUFD_INTERNAL_H

#include <stdio.h>
#include "iommufd/topology.h"

#define IOMMUFD_EXPORT __attribute__((visibility("default")))

/* A growable array of pointers. */
struct ptr_vec {
	void **items;
	size_t count, cap;
};
int ptr_vec_push(struct ptr_vec *vec, void *item);
void ptr_vec_free(struct ptr_vec *vec);

/* A set of strings (open addressing). */
struct str_set {
	char **slots;
	size_t used, cap; /* cap is a power of two */
};
/* Add a copy of @s; *added says whether it was new (may be NULL). */
int str_set_add(struct str_set *set, const char *s, bool *added);
bool str_set_contains(const struct str_set *set, const char *s);
void str_set_free(struct str_set *set);

/* The paths (relative to the sysroot) read while loading, for snapshots. */
struct recorder {
	struct str_set paths;
};

/*
 * Reading under a sysroot.  Paths are relative to the root ("sys/bus/pci").
 * Each call records what it touched when a recorder is active.
 */
struct sysfs {
	int rootfd;            /* O_PATH descriptor of the root */
	char *root;            /* as given, for messages */
	struct recorder *rec;  /* NULL unless snapshotting */
};

int sysfs_open(struct sysfs *fs, const char *root, bool record);
void sysfs_close(struct sysfs *fs);
/* Read a small text attribute, trailing newline stripped.  -ENOENT if absent. */
int sysfs_read_text(struct sysfs *fs, const char *path, char *buf, size_t size);
/* Read a whole file into a malloc'd buffer.  */
int sysfs_read_file(struct sysfs *fs, const char *path, unsigned char **data, size_t *len);
/* readlink() of path; -ENOENT if absent, -EINVAL if not a link. */
int sysfs_readlink(struct sysfs *fs, const char *path, char *buf, size_t size);
/* Basename of a symlink's target ("driver" -> "vfio-pci"). */
int sysfs_link_name(struct sysfs *fs, const char *path, char *buf, size_t size);
/* Whether path exists (follows links). */
bool sysfs_exists(struct sysfs *fs, const char *path);
/* Sorted entry names of a directory (no dot entries); -ENOENT if absent. */
int sysfs_list_dir(struct sysfs *fs, const char *path, struct ptr_vec *names);
void sysfs_free_names(struct ptr_vec *names);
/* Record a path that something other than these helpers read (libpci). */
void sysfs_note(struct sysfs *fs, const char *path);
/* Remember, for iommufd_topo_load_error(), what failed and why. */
int sysfs_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Recorder: write every recorded path as a tar archive. */
int recorder_write_tar(struct recorder *rec, struct sysfs *fs, int fd);
void recorder_free(struct recorder *rec);

/* Parsing helpers, exposed for the unit tests. */
int parse_hex_attr(const char *text, unsigned int max_digits, uint32_t *value);
int parse_pci_address(const char *text, char full[IOMMUFD_PCI_ADDRESS_SIZE]);
int parse_resv_line(const char *line, struct iommufd_resv_region *region);
int parse_devt(const char *text, unsigned int *major, unsigned int *minor);

/* Run `modprobe -q -- MODULE` and wait for it; 0 when it exited 0. */
int run_modprobe(const char *module);

/* libpci glue (pciaccess.c). */
struct pci_names;
int pci_names_open(struct pci_names **names);
const char *pci_names_vendor(struct pci_names *names, uint16_t vendor);
const char *pci_names_device(struct pci_names *names, uint16_t vendor, uint16_t device);
void pci_names_close(struct pci_names *names);

struct dev_caps {
	const char *error; /* static reason when unknown */
	enum iommufd_pcie_type pcie_type;
	struct iommufd_ext_cap acs, pasid, ats, pri;
};
int pci_read_caps(struct sysfs *fs, const char *address, struct dev_caps *caps);

#endif
