/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef IOMMUFD_TOPOLOGY_H
#define IOMMUFD_TOPOLOGY_H

/*
 * libiommufd, topology half: IOMMU groups and PCI devices as sysfs shows
 * them, and whether each group can be handed to user space ("viable").
 *
 * Everything is read once into a snapshot (struct iommufd_topo) from a
 * sysfs tree under a configurable root, so that tests run on fixture trees
 * and users can attach a captured tree to a bug report.  The snapshot owns
 * every object it hands out; pointers stay valid until iommufd_topo_free().
 *
 * Conventions: functions that can fail return 0 or a negative errno and
 * never print or exit.  Accessors of optional values return NULL (strings)
 * or a negative number when the value is unknown.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct iommufd_topo;
struct iommufd_group;
struct iommufd_pci_dev;
struct iommufd_holder;

/* Flags for iommufd_topo_load(). */
enum iommufd_topo_flags {
	/* Find processes holding VFIO cdevs or group nodes (scans proc/). */
	IOMMUFD_TOPO_HOLDERS = 1u << 0,
	/* Read config space through libpci: ACS, PCIe port type, PASID/ATS/PRI. */
	IOMMUFD_TOPO_CAPS = 1u << 1,
	/* Resolve vendor and device names from the pci.ids database. */
	IOMMUFD_TOPO_NAMES = 1u << 2,
	/* Remember every file read, for iommufd_topo_snapshot(). */
	IOMMUFD_TOPO_RECORD = 1u << 3,
};

/**
 * iommufd_topo_load() - read groups and PCI devices from sysfs.
 * @sysroot: directory that stands for "/", or NULL for the live system.
 * @flags: a mask of enum iommufd_topo_flags.
 * @out: receives the snapshot; free it with iommufd_topo_free().
 *
 * A host whose IOMMU is off still loads: it has devices but no groups
 * (see iommufd_topo_iommu_enabled()).  Files that a device may lack (numa_node,
 * driver_override, ...) leave the value unknown; a file that exists but
 * cannot be read or parsed fails the load, and iommufd_topo_last_error()
 * names it.
 *
 * Return: 0, -ENOENT when @sysroot has no sys/bus/pci/devices, -ENOMEM,
 * -EACCES, -EIO or -EINVAL (malformed file) otherwise.
 */
int iommufd_topo_load(const char *sysroot, unsigned int flags, struct iommufd_topo **out);

/**
 * iommufd_topo_load_error() - the path (relative to the sysroot) and cause
 * of the last failed iommufd_topo_load() in this thread, for messages.
 * Return: a static string, "" when nothing failed.
 */
const char *iommufd_topo_load_error(void);

/** iommufd_topo_free() - release a snapshot and everything it owns (NULL is fine). */
void iommufd_topo_free(struct iommufd_topo *topo);

/** iommufd_topo_sysroot() - the root the snapshot was read from ("/" for the live system). */
const char *iommufd_topo_sysroot(const struct iommufd_topo *topo);

/** iommufd_topo_iommu_enabled() - whether any IOMMU group exists. */
bool iommufd_topo_iommu_enabled(const struct iommufd_topo *topo);

/** iommufd_topo_iommu_count() / _iommu() - IOMMU instances (/sys/class/iommu), sorted. */
size_t iommufd_topo_iommu_count(const struct iommufd_topo *topo);
const char *iommufd_topo_iommu(const struct iommufd_topo *topo, size_t index);

/** iommufd_topo_group_count() / _group() - groups, sorted by number. */
size_t iommufd_topo_group_count(const struct iommufd_topo *topo);
struct iommufd_group *iommufd_topo_group(const struct iommufd_topo *topo, size_t index);
/** iommufd_topo_find_group() - the group numbered @id, or NULL. */
struct iommufd_group *iommufd_topo_find_group(const struct iommufd_topo *topo, unsigned int id);

/** iommufd_topo_dev_count() / _dev() - every PCI device, sorted by address. */
size_t iommufd_topo_dev_count(const struct iommufd_topo *topo);
struct iommufd_pci_dev *iommufd_topo_dev(const struct iommufd_topo *topo, size_t index);
/** iommufd_topo_find_dev() - the device at full address @address ("0000:01:00.0"), or NULL. */
struct iommufd_pci_dev *iommufd_topo_find_dev(const struct iommufd_topo *topo, const char *address);

/**
 * iommufd_topo_find_netdev() - the PCI device behind network interface @ifname.
 * Return: the device, or NULL when there is no such interface or it is not
 * a PCI device.
 */
struct iommufd_pci_dev *iommufd_topo_find_netdev(const struct iommufd_topo *topo, const char *ifname);

#define iommufd_group_foreach(topo, group, i)                                                     \
	for ((i) = 0; (i) < iommufd_topo_group_count(topo) && ((group) = iommufd_topo_group(topo, i)); \
	     (i)++)
#define iommufd_dev_foreach(topo, dev, i)                                                     \
	for ((i) = 0; (i) < iommufd_topo_dev_count(topo) && ((dev) = iommufd_topo_dev(topo, i)); \
	     (i)++)

/* ---- groups ---- */

/** iommufd_group_id() - the group's number. */
unsigned int iommufd_group_id(const struct iommufd_group *group);
/** iommufd_group_type() - default domain type ("DMA", "DMA-FQ", "identity", ...), NULL if unknown. */
const char *iommufd_group_type(const struct iommufd_group *group);
/** iommufd_group_is_identity() - whether the default domain does no translation. */
bool iommufd_group_is_identity(const struct iommufd_group *group);
/** iommufd_group_iommu() - the IOMMU instance the group sits behind, NULL if unknown. */
const char *iommufd_group_iommu(const struct iommufd_group *group);
/** iommufd_group_dev_count() / _dev() - member devices, sorted by address. */
size_t iommufd_group_dev_count(const struct iommufd_group *group);
struct iommufd_pci_dev *iommufd_group_dev(const struct iommufd_group *group, size_t index);

/** A reserved IOVA region of a group (sys/kernel/iommu_groups/N/reserved_regions). */
struct iommufd_resv_region {
	uint64_t start;
	uint64_t end; /* inclusive */
	char type[24]; /* "direct", "direct-relaxable", "reserved", "msi" */
};
size_t iommufd_group_resv_count(const struct iommufd_group *group);
const struct iommufd_resv_region *iommufd_group_resv(const struct iommufd_group *group, size_t index);

/**
 * iommufd_group_legacy_holders() - processes holding the legacy group node
 * /dev/vfio/N (loaded with IOMMUFD_TOPO_HOLDERS).
 */
size_t iommufd_group_holder_count(const struct iommufd_group *group);
const struct iommufd_holder *iommufd_group_holder(const struct iommufd_group *group, size_t index);

/**
 * iommufd_group_owner_count() / _owner() - every process that owns the
 * group: holders of the group node /dev/vfio/N (node "group") and of the
 * cdev of any of its devices (node "cdev", device set), in /proc order
 * (loaded with IOMMUFD_TOPO_HOLDERS).  A cdev opened but not yet bound
 * cannot be told apart from a bound one through /proc, so it counts too.
 */
size_t iommufd_group_owner_count(const struct iommufd_group *group);
const struct iommufd_holder *iommufd_group_owner(const struct iommufd_group *group, size_t index);

/* ---- viability ---- */

/** Why a device does or does not stop its group from going to user space. */
enum iommufd_verdict {
	IOMMUFD_VERDICT_DRIVERLESS, /* no driver: safe */
	IOMMUFD_VERDICT_VFIO,       /* vfio-pci or a vfio-pci variant driver: safe */
	IOMMUFD_VERDICT_PCI_STUB,   /* pci-stub: safe */
	IOMMUFD_VERDICT_BRIDGE,     /* bridge or port whose driver does no DMA of its own: safe */
	IOMMUFD_VERDICT_BLOCKING,   /* a normal kernel driver: makes the group non-viable */
};

/** iommufd_verdict_name() - "driver-less", "vfio", "pci-stub", "bridge", "blocking". */
const char *iommufd_verdict_name(enum iommufd_verdict verdict);

/**
 * iommufd_topo_assume_vfio() - answer "what if": treat @dev as bound to
 * vfio-pci in every verdict and viability computed afterwards.
 */
void iommufd_topo_assume_vfio(struct iommufd_pci_dev *dev);

/** iommufd_dev_verdict() - the device's verdict (honours assume_vfio). */
enum iommufd_verdict iommufd_dev_verdict(const struct iommufd_pci_dev *dev);
/** iommufd_dev_assumed_vfio() - whether the verdict comes from a what-if. */
bool iommufd_dev_assumed_vfio(const struct iommufd_pci_dev *dev);
/**
 * iommufd_group_viable() - whether every member is safe, so the group can be
 * owned by user space.  A group's identity domain does not make it
 * non-viable; check iommufd_group_is_identity() for that warning.
 */
bool iommufd_group_viable(const struct iommufd_group *group);

/* ---- devices ---- */

/*
 * Room for a PCI address and its NUL: "ffffffff:ff:1f.7".  Linux prints the
 * domain with "%04x", so a domain above 0xffff (Intel VMD: "10000:00:02.0")
 * takes 5 to 8 digits.
 */
#define IOMMUFD_PCI_ADDRESS_SIZE 17

/**
 * iommufd_topo_skipped_count() - devices of sys/bus/pci/devices that could
 * not be read (one vanished between readdir and read, a damaged tree) and
 * are not in the snapshot; a group holding one is never viable.
 * iommufd_topo_skipped() - the @i-th one's sysfs name, and in @why (may be
 * NULL) what failed.  Since LIBIOMMUFD_0.2.
 */
size_t iommufd_topo_skipped_count(const struct iommufd_topo *topo);
const char *iommufd_topo_skipped(const struct iommufd_topo *topo, size_t i, const char **why);

/**
 * iommufd_pci_address_parse() - normalise a PCI address.
 * @text: "0000:01:00.0", "10000:e1:00.0" or the short "01:00.0" (domain 0),
 *        any case; a domain of 4 hex digits, or 5 to 8 without a leading zero.
 * @full: receives the full lower-case form, "0000:01:00.0".
 * @size: size of @full; IOMMUFD_PCI_ADDRESS_SIZE holds every address.
 * Return: 0, -EINVAL when @text is not a PCI address, -ENOSPC when @full is
 * too small for it.  Since LIBIOMMUFD_0.2.
 */
int iommufd_pci_address_parse(const char *text, char *full, size_t size);

/**
 * iommufd_parse_pci_address() - iommufd_pci_address_parse() into 13 bytes.
 * Return: as iommufd_pci_address_parse(), and -ERANGE for a domain above
 * 0xffff, which 13 bytes cannot hold.  Use iommufd_pci_address_parse().
 */
int iommufd_parse_pci_address(const char *text, char full[13]);

/** iommufd_dev_address() - full PCI address, "0000:01:00.0". */
const char *iommufd_dev_address(const struct iommufd_pci_dev *dev);
uint16_t iommufd_dev_vendor_id(const struct iommufd_pci_dev *dev);
uint16_t iommufd_dev_device_id(const struct iommufd_pci_dev *dev);
/** iommufd_dev_class() - 24-bit class code (base, sub-class, prog-if). */
uint32_t iommufd_dev_class(const struct iommufd_pci_dev *dev);
/** Subsystem ids; negative when the device has none. */
int32_t iommufd_dev_subsystem_vendor_id(const struct iommufd_pci_dev *dev);
int32_t iommufd_dev_subsystem_device_id(const struct iommufd_pci_dev *dev);
/** Names from pci.ids (IOMMUFD_TOPO_NAMES); NULL when unknown. */
const char *iommufd_dev_vendor_name(const struct iommufd_pci_dev *dev);
const char *iommufd_dev_device_name(const struct iommufd_pci_dev *dev);
/** iommufd_dev_driver() - bound driver, NULL when none. */
const char *iommufd_dev_driver(const struct iommufd_pci_dev *dev);
/** iommufd_dev_driver_is_vfio() - bound to vfio-pci or a variant of it (not a name list). */
bool iommufd_dev_driver_is_vfio(const struct iommufd_pci_dev *dev);
/** iommufd_dev_driver_override() - driver_override, NULL when unset or absent. */
const char *iommufd_dev_driver_override(const struct iommufd_pci_dev *dev);
/** iommufd_dev_group() - the device's group, NULL when it has none. */
struct iommufd_group *iommufd_dev_group(const struct iommufd_pci_dev *dev);
/** iommufd_dev_numa_node() - NUMA node, negative when unknown or none. */
int iommufd_dev_numa_node(const struct iommufd_pci_dev *dev);
/** iommufd_dev_vfio_cdev() - "/dev/vfio/devices/vfioN" when bound to VFIO with cdevs, else NULL. */
const char *iommufd_dev_vfio_cdev(const struct iommufd_pci_dev *dev);
/** iommufd_dev_vfio_cdev_devt() - the cdev's "major:minor" as sysfs says, or NULL. */
const char *iommufd_dev_vfio_cdev_devt(const struct iommufd_pci_dev *dev);
/** iommufd_dev_is_bridge() - PCI-to-PCI bridge or PCIe port (class 0x0604/0x0609). */
bool iommufd_dev_is_bridge(const struct iommufd_pci_dev *dev);
/** iommufd_dev_parent() - upstream bridge or port, NULL at the root bus. */
struct iommufd_pci_dev *iommufd_dev_parent(const struct iommufd_pci_dev *dev);
/** iommufd_dev_netdev_count() / _netdev() - network interfaces of the device, sorted. */
size_t iommufd_dev_netdev_count(const struct iommufd_pci_dev *dev);
const char *iommufd_dev_netdev(const struct iommufd_pci_dev *dev, size_t index);

/**
 * A process that has a VFIO cdev or group node open.  A device's holders
 * are the holders of its cdev and of its group's node (which gives access
 * to every device of the group).
 */
struct iommufd_holder {
	pid_t pid;
	char command[32]; /* proc/PID/comm; "" when it could not be read */
	char path[48];    /* the node it holds */
	char node[8];     /* "cdev" (path is a device cdev) or "group" (path is /dev/vfio/N) */
	char device[13];  /* in a group's owners: the device whose cdev is held; "" otherwise */
};
size_t iommufd_dev_holder_count(const struct iommufd_pci_dev *dev);
const struct iommufd_holder *iommufd_dev_holder(const struct iommufd_pci_dev *dev, size_t index);

/* ---- config space (IOMMUFD_TOPO_CAPS) ---- */

/**
 * iommufd_dev_caps_error() - why capabilities are unknown (for example
 * "config space past 64 bytes is readable only by root"), or NULL when
 * they were read.  When non-NULL, every capability below is unknown.
 */
const char *iommufd_dev_caps_error(const struct iommufd_pci_dev *dev);

/** PCIe device/port type (PCI Express capability), as the spec numbers it. */
enum iommufd_pcie_type {
	IOMMUFD_PCIE_NONE = -1, /* conventional PCI: no PCI Express capability */
	IOMMUFD_PCIE_ENDPOINT = 0,
	IOMMUFD_PCIE_LEGACY_ENDPOINT = 1,
	IOMMUFD_PCIE_ROOT_PORT = 4,
	IOMMUFD_PCIE_UPSTREAM_PORT = 5,
	IOMMUFD_PCIE_DOWNSTREAM_PORT = 6,
	IOMMUFD_PCIE_PCI_BRIDGE = 7,
	IOMMUFD_PCIE_PCIE_BRIDGE = 8,
	IOMMUFD_PCIE_RC_ENDPOINT = 9,
	IOMMUFD_PCIE_RC_EVENT_COLLECTOR = 10,
};
enum iommufd_pcie_type iommufd_dev_pcie_type(const struct iommufd_pci_dev *dev);
/** iommufd_pcie_type_name() - "endpoint", "root-port", ... ; "pci" for IOMMUFD_PCIE_NONE. */
const char *iommufd_pcie_type_name(enum iommufd_pcie_type type);

/** Extended capabilities that matter to isolation; present == false when absent. */
struct iommufd_ext_cap {
	bool present;
	uint16_t offset;
	uint32_t capability; /* the capability register */
	uint32_t control;    /* the control register */
};
/** ACS: capability/control bits, PCI_ACS_* layout (bit 0 source validation ... bit 6 direct translated). */
const struct iommufd_ext_cap *iommufd_dev_acs(const struct iommufd_pci_dev *dev);
const struct iommufd_ext_cap *iommufd_dev_pasid(const struct iommufd_pci_dev *dev);
const struct iommufd_ext_cap *iommufd_dev_ats(const struct iommufd_pci_dev *dev);
const struct iommufd_ext_cap *iommufd_dev_pri(const struct iommufd_pci_dev *dev);

/* ---- snapshot ---- */

/**
 * iommufd_topo_snapshot() - write every file, directory and symlink the
 * snapshot read, as a tar archive, to @fd.  Extracted into a directory, the
 * archive reproduces this snapshot when given as sysroot.  Needs a snapshot
 * loaded with IOMMUFD_TOPO_RECORD.
 * Return: 0, -EINVAL without IOMMUFD_TOPO_RECORD, or -errno of the I/O.
 */
int iommufd_topo_snapshot(const struct iommufd_topo *topo, int fd);

#ifdef __cplusplus
}
#endif
#endif
