/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef IOMMUFD_BIND_H
#define IOMMUFD_BIND_H

/*
 * libiommufd, binding half: move a PCI device to another kernel driver and
 * back, with a journal that says how to undo every change, and find what
 * would break if a device left its driver (in-use detection).
 *
 * A binder holds the sysfs root (as in iommufd_topo_load()), the journal
 * directory and a timeout.  Binding goes through driver_override and
 * drivers_probe, the way the kernel documents it, and waits until the
 * device is bound and, for VFIO drivers, until its cdev node exists.  The
 * wait listens to kernel uevents through a libudev monitor on the "kernel"
 * netlink source (it works without udevd, which the VM guest does not
 * run); when the monitor cannot be created (no netlink socket in a
 * sandbox) it falls back to polling sysfs every 5 ms.
 *
 * The journal holds one file per device, "<journal>/devices/<address>",
 * written and fsync'd BEFORE the change it describes, and removed when
 * the device has been restored.  A crash therefore leaves an entry that
 * iommufd_binder_restore() can replay.  Locks are flock()s on
 * "<journal>/locks/<name>"; a caller that locks a group before changing
 * its devices serialises with every other caller that does the same.
 *
 * Conventions: every call returns 0 or a negative errno, never prints,
 * never exits.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The journal directory when none is given. */
#define IOMMUFD_JOURNAL_DIR "/run/iommuctl"

struct iommufd_binder;

/**
 * iommufd_binder_new() - a binder for the system under @sysroot.
 * @sysroot: directory standing for "/" (sysfs, /dev and /proc are read and
 *           written under it), or NULL for the live system.
 * @journal_dir: the journal, or NULL for IOMMUFD_JOURNAL_DIR (created on
 *           first write, mode 0700).
 * @out: receives the binder; free it with iommufd_binder_free().
 * Return: 0 or -ENOMEM.
 */
int iommufd_binder_new(const char *sysroot, const char *journal_dir, struct iommufd_binder **out);
void iommufd_binder_free(struct iommufd_binder *b);
/** iommufd_binder_set_timeout() - how long a bind or restore waits (default 5000 ms). */
void iommufd_binder_set_timeout(struct iommufd_binder *b, unsigned int timeout_ms);
/**
 * iommufd_binder_set_owner() - record @owner in the journal entries that
 * later binds create, so that whoever made a change can find and undo
 * just its own (the libvirt hook uses "libvirt:DOMAIN").  An entry that
 * already exists keeps its owner, as it keeps its original driver.
 * @owner: at most 63 bytes, no newline; NULL or "" for none.
 * Return: 0 or -EINVAL.
 */
int iommufd_binder_set_owner(struct iommufd_binder *b, const char *owner);
/** iommufd_binder_journal_dir() - the journal directory in use. */
const char *iommufd_binder_journal_dir(const struct iommufd_binder *b);
/**
 * iommufd_binder_wait_method() - how the last wait was done: "udev" (a
 * libudev monitor on kernel uevents), "poll" (sysfs polled: no monitor),
 * or "none" (nothing waited for yet, or the state was already reached).
 */
const char *iommufd_binder_wait_method(const struct iommufd_binder *b);

/**
 * iommufd_binder_lock() - take the exclusive lock @name ("group-12"),
 * waiting for another holder to release it.
 * @fd: receives the lock's descriptor; release with iommufd_binder_unlock().
 * Return: 0, or -errno of creating or locking the file (-EACCES: not root).
 */
int iommufd_binder_lock(struct iommufd_binder *b, const char *name, int *fd);
void iommufd_binder_unlock(int fd);

/**
 * iommufd_binder_driver_load() - make sure PCI driver @driver exists,
 * running "modprobe -q DRIVER" when it does not and the binder is on the
 * live system.
 * Return: 0, -ENOENT when there is no such driver after that, -EINVAL for
 * a name that cannot be a driver ('/', whitespace, too long).
 */
int iommufd_binder_driver_load(struct iommufd_binder *b, const char *driver);

/**
 * iommufd_binder_driver_is_vfio() - whether @driver is vfio-pci or a
 * vfio-pci variant (its module holds vfio_pci_core).
 */
bool iommufd_binder_driver_is_vfio(struct iommufd_binder *b, const char *driver);

/**
 * iommufd_binder_state() - the device's driver ("" when none) and
 * driver_override ("" when unset), read now.
 * Return: 0, -ENODEV when there is no such device.
 */
int iommufd_binder_state(struct iommufd_binder *b, const char *address, char driver[64], char override[64]);

/** One journal entry: how to put a device back. */
struct iommufd_journal_entry {
	char address[16];           /* "0000:01:00.0"; domains up to 0xfffffff */
	char original_driver[64];   /* "" when it had none */
	char original_override[64]; /* "" when unset */
	char driver[64];            /* the driver iommuctl bound it to */
	int64_t time;               /* when the entry was written (seconds since the epoch) */
	pid_t pid;                  /* the process that wrote it */
	int group;                  /* IOMMU group, -1 when none */
	char owner[64];             /* who asked for the change ("" for a person; "libvirt:DOMAIN"
	                               for the libvirt hook): iommufd_binder_set_owner() */
};

/**
 * iommufd_binder_bind() - bind @address to @driver.
 * @group: the device's IOMMU group (recorded; -1 when none).
 *
 * Writes the journal entry first (keeping the original of an entry that
 * already exists), then driver_override, unbind from the current driver,
 * drivers_probe, and waits.  On failure the device is left as it was
 * found only by iommufd_binder_restore(): the journal entry stays so the
 * caller decides.
 *
 * Return: 0; -ENODEV when the device disappeared; -ENXIO when the driver
 * did not take the device (its probe failed: see dmesg); -ETIMEDOUT when
 * the device was not bound, or the VFIO cdev did not appear, in time;
 * -EACCES/-EPERM; -errno of writing the journal (nothing changed then).
 */
int iommufd_binder_bind(struct iommufd_binder *b, const char *address, const char *driver, int group);

/**
 * iommufd_binder_restore() - put @address back as its journal entry
 * says (original driver_override, then the original driver or none), and
 * remove the entry once the device is back.  A device that no longer
 * exists has nothing to restore: its entry is removed and -ENODEV returned.
 * Return: 0, -ENOENT when there is no entry, -ENODEV, -ETIMEDOUT or
 * -EIO (the original driver did not take the device back; entry kept).
 */
int iommufd_binder_restore(struct iommufd_binder *b, const char *address);

/**
 * iommufd_binder_journal() - the entry of @address; -ENOENT when there is none.
 * Only a regular file under 1 KiB is read, without following a link or
 * blocking; anything else, or an entry that does not parse or names another
 * address, is -EIO.
 */
int iommufd_binder_journal(struct iommufd_binder *b, const char *address, struct iommufd_journal_entry *entry);

/**
 * iommufd_binder_journal_list() - every entry, sorted by address.
 * @entries: receives a malloc'd array (free() it), NULL when empty.
 * A file of the journal directory that is not an entry (not a small regular
 * file, unparsable, or naming another address) is skipped, and named by
 * iommufd_binder_journal_skipped() until the next list.
 * Return: 0 (an absent journal is empty), -ENOMEM, or -errno reading the directory.
 */
int iommufd_binder_journal_list(struct iommufd_binder *b, struct iommufd_journal_entry **entries, size_t *count);

/**
 * iommufd_binder_journal_skipped() - the @i-th file the last
 * iommufd_binder_journal_list() skipped (its name in the devices directory;
 * at most 16 are kept).
 * Return: the name, or NULL past the last one.
 */
const char *iommufd_binder_journal_skipped(const struct iommufd_binder *b, size_t i);

/* ---- in-use detection ---- */

/** What uses a device: unbinding it would take this away. */
struct iommufd_dev_user {
	char kind[8];     /* "net", "block", "display" */
	char name[32];    /* "eth0", "nvme0n1p1", "fb0" */
	char what[160];   /* "carries the default route (via 10.0.2.2)", "is mounted on /mnt" */
};

/**
 * iommufd_dev_users() - the users of PCI device @address under @sysroot
 * (NULL: the live system):
 *  - a network interface of the device that is up and has an address or a
 *    route (proc/net/route, proc/net/if_inet6, and on the live system the
 *    IPv4 addresses from netlink via getifaddrs()), or that is enslaved to
 *    a bond or bridge (sys/class/net/IF/master);
 *  - a block device of the device, its partitions and what is stacked on
 *    them (sys/block/X/holders: dm, md), mounted (proc/self/mountinfo),
 *    holding "/", or used as swap (proc/swaps);
 *  - a framebuffer of the device (sys/class/graphics/fbN/device), and the
 *    text console when a framebuffer console is bound (sys/class/vtconsole).
 * @users: receives a malloc'd array (free() it), NULL when none.
 * Return: 0, -ENODEV (no such device), -ENOMEM.
 */
int iommufd_dev_users(const char *sysroot, const char *address, struct iommufd_dev_user **users, size_t *count);

#ifdef __cplusplus
}
#endif
#endif
