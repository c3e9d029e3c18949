/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libpci glue: names from pci.ids and capabilities from config space.
 * libpci's default error handler exits the process, which a library must
 * never do, so every call into libpci runs under a setjmp() and our handler
 * jumps back with the failure.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pci/pci.h>

#include "internal.h"

static _Thread_local jmp_buf *pci_escape;

static void pci_fatal(char *msg, ...) __attribute__((noreturn));

static void pci_fatal(char *msg, ...)
{
	(void)msg;
	longjmp(*pci_escape, 1);
}

static void pci_quiet(char *msg, ...)
{
	(void)msg;
}

static struct pci_access *pci_new_access(void)
{
	struct pci_access *pacc = pci_alloc();

	if (!pacc)
		return NULL;
	pacc->error = pci_fatal;
	pacc->warning = pci_quiet;
	pacc->debug = pci_quiet;
	return pacc;
}

/* ---- names ---- */

struct pci_names {
	struct pci_access *pacc;
	char buf[256];
};

int pci_names_open(struct pci_names **out)
{
	struct pci_names *names = calloc(1, sizeof(*names));

	if (!names)
		return -ENOMEM;
	/* pci.ids is opened lazily, at the first lookup, under its own setjmp. */
	names->pacc = pci_new_access();
	if (!names->pacc) {
		free(names);
		return -ENOMEM;
	}
	/*
	 * Names come from pci.ids only: libpci 3.9's udev hwdb fallback leaks a
	 * udev context per lookup, and a host-dependent database would make the
	 * same snapshot read differently on two machines.
	 */
	pci_set_param(names->pacc, "hwdb.disable", "1");
	*out = names;
	return 0;
}

static const char *lookup(struct pci_names *names, int flags, unsigned int vendor, unsigned int device)
{
	jmp_buf escape;
	const char *volatile name = NULL;

	pci_escape = &escape;
	if (setjmp(escape) == 0)
		name = pci_lookup_name(names->pacc, names->buf, sizeof(names->buf),
				       flags | PCI_LOOKUP_NO_NUMBERS, vendor, device);
	pci_escape = NULL;
	return name;
}

const char *pci_names_vendor(struct pci_names *names, uint16_t vendor)
{
	return lookup(names, PCI_LOOKUP_VENDOR, vendor, 0);
}

const char *pci_names_device(struct pci_names *names, uint16_t vendor, uint16_t device)
{
	return lookup(names, PCI_LOOKUP_DEVICE, vendor, device);
}

void pci_names_close(struct pci_names *names)
{
	if (!names)
		return;
	if (names->pacc)
		pci_cleanup(names->pacc);
	free(names);
}

/* ---- config space ---- */

static struct iommufd_ext_cap read_ext_cap(struct pci_dev *dev, unsigned int id)
{
	struct iommufd_ext_cap cap = { 0 };
	struct pci_cap *found = pci_find_cap(dev, id, PCI_CAP_EXTENDED);

	if (!found)
		return cap;
	cap.present = true;
	cap.offset = (uint16_t)found->addr;
	switch (id) {
	case PCI_EXT_CAP_ID_ACS:
	case PCI_EXT_CAP_ID_PASID:
	case PCI_EXT_CAP_ID_ATS:
		cap.capability = pci_read_word(dev, found->addr + 4);
		cap.control = pci_read_word(dev, found->addr + 6);
		break;
	case PCI_EXT_CAP_ID_PRI:
		/* PRI has no capability word: report outstanding page request capacity. */
		cap.control = pci_read_word(dev, found->addr + 4);
		cap.capability = pci_read_long(dev, found->addr + 8);
		break;
	default:
		break;
	}
	return cap;
}

int pci_read_caps(struct sysfs *fs, const char *address, struct dev_caps *caps)
{
	unsigned int domain, bus, slot, func;
	char sysfs_path[4200], config[64];
	struct pci_access *volatile pacc = NULL;
	struct pci_dev *dev;
	unsigned char probe[192];
	jmp_buf escape;
	volatile int err = 0;

	memset(caps, 0, sizeof(*caps));
	caps->pcie_type = IOMMUFD_PCIE_NONE;
	if (sscanf(address, "%x:%x:%x.%x", &domain, &bus, &slot, &func) != 4)
		return -EINVAL;
	snprintf(config, sizeof(config), "sys/bus/pci/devices/%s/config", address);
	if (!sysfs_exists(fs, config)) {
		caps->error = "the device has no config file";
		return 0;
	}
	snprintf(sysfs_path, sizeof(sysfs_path), "%s/sys/bus/pci", strcmp(fs->root, "/") ? fs->root : "");

	pci_escape = &escape;
	if (setjmp(escape)) {
		caps->error = "libpci could not read the config space";
		if (pacc)
			pci_cleanup(pacc);
		pci_escape = NULL;
		return 0;
	}
	pacc = pci_new_access();
	if (!pacc) {
		pci_escape = NULL;
		return -ENOMEM;
	}
	pacc->method = PCI_ACCESS_SYS_BUS_PCI;
	pci_set_param(pacc, "sysfs.path", sysfs_path);
	pci_init(pacc);
	dev = pci_get_dev(pacc, (int)domain, (int)bus, (int)slot, (int)func);
	if (!dev) {
		err = -ENOMEM;
		goto out;
	}
	/*
	 * Past the first 64 bytes the kernel answers only root; a short read
	 * means "unknown", which must never be shown as "absent".
	 */
	if (!pci_read_block(dev, 0, probe, 64)) {
		caps->error = "config space is shorter than its 64-byte header";
		goto out_dev;
	}
	if (!pci_read_block(dev, 64, probe, (int)sizeof(probe))) {
		caps->error = geteuid() == 0 ? "config space past 64 bytes is unreadable"
					     : "config space past 64 bytes is readable only by root";
		goto out_dev;
	}
	pci_fill_info(dev, PCI_FILL_CAPS | PCI_FILL_EXT_CAPS);
	struct pci_cap *exp = pci_find_cap(dev, PCI_CAP_ID_EXP, PCI_CAP_NORMAL);
	if (exp) {
		caps->pcie_type = (enum iommufd_pcie_type)((pci_read_word(dev, exp->addr + PCI_EXP_FLAGS) &
							    PCI_EXP_FLAGS_TYPE) >> 4);
		if (!pci_read_block(dev, 256, probe, 4)) {
			caps->error = geteuid() == 0 ? "extended config space is unreadable"
						     : "extended config space is readable only by root";
			goto out_dev;
		}
	}
	caps->acs = read_ext_cap(dev, PCI_EXT_CAP_ID_ACS);
	caps->pasid = read_ext_cap(dev, PCI_EXT_CAP_ID_PASID);
	caps->ats = read_ext_cap(dev, PCI_EXT_CAP_ID_ATS);
	caps->pri = read_ext_cap(dev, PCI_EXT_CAP_ID_PRI);
out_dev:
	pci_free_dev(dev);
out:
	pci_cleanup(pacc);
	pci_escape = NULL;
	return err;
}
