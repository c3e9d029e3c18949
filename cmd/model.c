/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "iommuctl.h"

static json_object *hex_string(unsigned int value, int digits)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "0x%0*x", digits, value);
	return json_object_new_string(buf);
}

static json_object *string_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

const char *device_reason(const struct iommufd_pci_dev *dev, char *buf, size_t size)
{
	const char *driver = iommufd_dev_driver(dev);

	switch (iommufd_dev_verdict(dev)) {
	case IOMMUFD_VERDICT_DRIVERLESS:
		snprintf(buf, size, "no driver bound");
		break;
	case IOMMUFD_VERDICT_VFIO:
		if (iommufd_dev_assumed_vfio(dev))
			snprintf(buf, size, "assumed bound to vfio-pci (now %s%s)", driver ? "bound to " : "",
				 driver ? driver : "without a driver");
		else if (strcmp(driver, "vfio-pci") == 0)
			snprintf(buf, size, "bound to VFIO driver vfio-pci");
		else
			snprintf(buf, size, "bound to vfio-pci variant driver %s", driver);
		break;
	case IOMMUFD_VERDICT_PCI_STUB:
		snprintf(buf, size, "bound to pci-stub, which does no DMA");
		break;
	case IOMMUFD_VERDICT_BRIDGE:
		snprintf(buf, size, "port driven by %s, which does no DMA of its own", driver);
		break;
	case IOMMUFD_VERDICT_BLOCKING:
		snprintf(buf, size, "bound to kernel driver %s", driver);
		break;
	}
	return buf;
}

static const struct iommufd_holder *group_owner(const void *group, size_t i);

static json_object *json_holders(size_t count, const struct iommufd_holder *(*get)(const void *, size_t),
				 const void *owner)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; i < count; i++) {
		const struct iommufd_holder *h = get(owner, i);
		json_object *o = json_object_new_object();

		json_object_object_add(o, "pid", json_object_new_int(h->pid));
		json_object_object_add(o, "command", h->command[0] ? json_object_new_string(h->command) : NULL);
		json_object_object_add(o, "path", json_object_new_string(h->path));
		json_object_object_add(o, "node", json_object_new_string(h->node));
		if (get == group_owner)
			json_object_object_add(o, "device", h->device[0] ? json_object_new_string(h->device) : NULL);
		json_object_array_add(arr, o);
	}
	return arr;
}

static const struct iommufd_holder *dev_holder(const void *dev, size_t i)
{
	return iommufd_dev_holder(dev, i);
}

static const struct iommufd_holder *group_holder(const void *group, size_t i)
{
	return iommufd_group_holder(group, i);
}

static const struct iommufd_holder *group_owner(const void *group, size_t i)
{
	return iommufd_group_owner(group, i);
}

/* ACS bits as the PCIe spec names them; the order is the bit order. */
static const char *const acs_bits[] = {
	"source_validation", "translation_blocking", "request_redirect", "completion_redirect",
	"upstream_forwarding", "egress_control", "direct_translated",
};

static json_object *json_ext_cap(const struct iommufd_ext_cap *cap, const char *error, bool acs)
{
	json_object *o;

	if (error)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "present", json_object_new_boolean(cap->present));
	if (!cap->present)
		return o;
	json_object_object_add(o, "offset", hex_string(cap->offset, 3));
	json_object_object_add(o, "capability", hex_string(cap->capability, 4));
	json_object_object_add(o, "control", hex_string(cap->control, 4));
	if (acs)
		for (unsigned int bit = 0; bit < sizeof(acs_bits) / sizeof(*acs_bits); bit++) {
			json_object *b = json_object_new_object();

			json_object_object_add(b, "capable", json_object_new_boolean(cap->capability >> bit & 1));
			json_object_object_add(b, "enabled", json_object_new_boolean(cap->control >> bit & 1));
			json_object_object_add(o, acs_bits[bit], b);
		}
	return o;
}

static void add_caps(json_object *o, const struct iommufd_pci_dev *dev)
{
	const char *error = iommufd_dev_caps_error(dev);

	json_object_object_add(o, "pcie_type",
			       error ? NULL : json_object_new_string(iommufd_pcie_type_name(iommufd_dev_pcie_type(dev))));
	json_object_object_add(o, "acs", json_ext_cap(iommufd_dev_acs(dev), error, true));
	json_object_object_add(o, "pasid", json_ext_cap(iommufd_dev_pasid(dev), error, false));
	json_object_object_add(o, "ats", json_ext_cap(iommufd_dev_ats(dev), error, false));
	json_object_object_add(o, "pri", json_ext_cap(iommufd_dev_pri(dev), error, false));
	json_object_object_add(o, "capabilities_error", string_or_null(error));
}

json_object *json_device(const struct iommufd_pci_dev *dev, enum detail detail)
{
	json_object *o = json_object_new_object(), *netdevs = json_object_new_array();
	const struct iommufd_group *group = iommufd_dev_group(dev);
	char reason[160];
	int numa = iommufd_dev_numa_node(dev);

	json_object_object_add(o, "address", json_object_new_string(iommufd_dev_address(dev)));
	json_object_object_add(o, "vendor_id", hex_string(iommufd_dev_vendor_id(dev), 4));
	json_object_object_add(o, "device_id", hex_string(iommufd_dev_device_id(dev), 4));
	json_object_object_add(o, "class", hex_string(iommufd_dev_class(dev), 6));
	json_object_object_add(o, "vendor_name", string_or_null(iommufd_dev_vendor_name(dev)));
	json_object_object_add(o, "device_name", string_or_null(iommufd_dev_device_name(dev)));
	json_object_object_add(o, "driver", string_or_null(iommufd_dev_driver(dev)));
	json_object_object_add(o, "driver_override", string_or_null(iommufd_dev_driver_override(dev)));
	json_object_object_add(o, "iommu_group", group ? json_object_new_int((int)iommufd_group_id(group)) : NULL);
	json_object_object_add(o, "verdict", json_object_new_string(iommufd_verdict_name(iommufd_dev_verdict(dev))));
	json_object_object_add(o, "reason", json_object_new_string(device_reason(dev, reason, sizeof(reason))));
	json_object_object_add(o, "bridge", json_object_new_boolean(iommufd_dev_is_bridge(dev)));
	json_object_object_add(o, "numa_node", numa >= 0 ? json_object_new_int(numa) : NULL);
	json_object_object_add(o, "vfio_cdev", string_or_null(iommufd_dev_vfio_cdev(dev)));
	for (size_t i = 0; i < iommufd_dev_netdev_count(dev); i++)
		json_object_array_add(netdevs, json_object_new_string(iommufd_dev_netdev(dev, i)));
	json_object_object_add(o, "netdevs", netdevs);
	json_object_object_add(o, "holders", json_holders(iommufd_dev_holder_count(dev), dev_holder, dev));
	json_object_object_add(o, "journal", json_device_journal(dev));
	if (detail == DETAIL_LIST)
		return o;

	int32_t sv = iommufd_dev_subsystem_vendor_id(dev), sd = iommufd_dev_subsystem_device_id(dev);
	json_object_object_add(o, "subsystem_vendor_id", sv >= 0 ? hex_string((unsigned int)sv, 4) : NULL);
	json_object_object_add(o, "subsystem_device_id", sd >= 0 ? hex_string((unsigned int)sd, 4) : NULL);
	json_object_object_add(o, "vfio_driver", json_object_new_boolean(iommufd_dev_driver_is_vfio(dev)));
	json_object_object_add(o, "vfio_cdev_devt", string_or_null(iommufd_dev_vfio_cdev_devt(dev)));
	add_caps(o, dev);

	/* Isolation depends on every port between the device and the root. */
	json_object *path = json_object_new_array();
	for (const struct iommufd_pci_dev *up = iommufd_dev_parent(dev); up; up = iommufd_dev_parent(up)) {
		json_object *hop = json_object_new_object();

		json_object_object_add(hop, "address", json_object_new_string(iommufd_dev_address(up)));
		json_object_object_add(hop, "driver", string_or_null(iommufd_dev_driver(up)));
		json_object_object_add(hop, "bridge", json_object_new_boolean(iommufd_dev_is_bridge(up)));
		add_caps(hop, up);
		json_object_array_add(path, hop);
	}
	json_object_object_add(o, "upstream_path", path);
	return o;
}

json_object *json_group(const struct iommufd_group *group, enum detail detail)
{
	json_object *o = json_object_new_object(), *devs = json_object_new_array();
	json_object *blocking = json_object_new_array();
	size_t ndev = iommufd_group_dev_count(group);

	json_object_object_add(o, "id", json_object_new_int((int)iommufd_group_id(group)));
	json_object_object_add(o, "type", string_or_null(iommufd_group_type(group)));
	json_object_object_add(o, "viable", json_object_new_boolean(iommufd_group_viable(group)));
	json_object_object_add(o, "singleton", json_object_new_boolean(ndev == 1));
	json_object_object_add(o, "identity", json_object_new_boolean(iommufd_group_is_identity(group)));
	json_object_object_add(o, "iommu", string_or_null(iommufd_group_iommu(group)));
	for (size_t i = 0; i < ndev; i++) {
		const struct iommufd_pci_dev *dev = iommufd_group_dev(group, i);

		if (iommufd_dev_verdict(dev) == IOMMUFD_VERDICT_BLOCKING)
			json_object_array_add(blocking, json_object_new_string(iommufd_dev_address(dev)));
	}
	json_object_object_add(o, "blocking", blocking);

	json_object *resv = json_object_new_array();
	for (size_t i = 0; i < iommufd_group_resv_count(group); i++) {
		const struct iommufd_resv_region *r = iommufd_group_resv(group, i);
		json_object *ro = json_object_new_object();
		char buf[24];

		snprintf(buf, sizeof(buf), "0x%016llx", (unsigned long long)r->start);
		json_object_object_add(ro, "start", json_object_new_string(buf));
		snprintf(buf, sizeof(buf), "0x%016llx", (unsigned long long)r->end);
		json_object_object_add(ro, "end", json_object_new_string(buf));
		json_object_object_add(ro, "type", json_object_new_string(r->type));
		json_object_array_add(resv, ro);
	}
	json_object_object_add(o, "reserved_regions", resv);
	json_object_object_add(o, "holders",
			       json_holders(iommufd_group_holder_count(group), group_holder, group));
	json_object_object_add(o, "owned", json_object_new_boolean(iommufd_group_owner_count(group) > 0));
	json_object_object_add(o, "owners", json_holders(iommufd_group_owner_count(group), group_owner, group));
	for (size_t i = 0; i < ndev; i++)
		json_object_array_add(devs, json_device(iommufd_group_dev(group, i), detail));
	json_object_object_add(o, "devices", devs);
	return o;
}

struct iommufd_topo *load_topology(struct global_opts *g, unsigned int flags, int *status)
{
	struct iommufd_topo *topo = NULL;
	struct stat st;
	int err;

	if (g->sysroot && !*g->sysroot) {
		*status = usage_error(NULL, "--sysroot: empty directory name");
		return NULL;
	}
	if (g->sysroot && (stat(g->sysroot, &st) != 0 || !S_ISDIR(st.st_mode))) {
		*status = usage_error(NULL, "%s: --sysroot: %s", g->sysroot,
				      errno == 0 || S_ISDIR(st.st_mode) ? "not a directory" : strerror(errno));
		return NULL;
	}
	bind_model_sysroot(g->sysroot);
	err = iommufd_topo_load(g->sysroot, flags, &topo);
	if (err) {
		*status = load_failure(err, g->sysroot);
		return NULL;
	}
	for (size_t i = 0; i < iommufd_topo_skipped_count(topo); i++) {
		const char *why, *name = iommufd_topo_skipped(topo, i, &why);

		fprintf(stderr, "iommuctl: warning: skipping PCI device %s, which cannot be read: %s/%s\n", name,
			g->sysroot && strcmp(g->sysroot, "/") != 0 ? g->sysroot : "", why);
	}
	*status = EXIT_OK;
	return topo;
}

int no_iommu(void)
{
	return fail(EXIT_UNSUPPORTED, "no IOMMU groups: the IOMMU is absent or disabled "
				      "(enable VT-d/AMD-Vi in firmware, and intel_iommu=on on Intel; "
				      "iommuctl doctor checks the host, make demo tries iommuctl in a guest)");
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

long long parse_group_arg(const char *text)
{
	unsigned long long v;

	if (!all_digits(text) || strlen(text) > 18)
		return all_digits(text) ? 0x7fffffffffffffffLL : -1;
	v = strtoull(text, NULL, 10);
	return (long long)v;
}

int resolve_target(const struct command *cmd, struct iommufd_topo *topo, const char *name, bool groups,
		   struct iommufd_pci_dev **dev, struct iommufd_group **group)
{
	char full[IOMMUFD_PCI_ADDRESS_SIZE];

	*dev = NULL;
	if (group)
		*group = NULL;
	if (!*name)
		return usage_error(cmd, "empty device name");
	if (strlen(name) > 64)
		return usage_error(cmd, "%.32s...: name too long for a PCI address, group or interface", name);
	if (iommufd_pci_address_parse(name, full, sizeof(full)) == 0) {
		*dev = iommufd_topo_find_dev(topo, full);
		if (!*dev)
			return fail(EXIT_NOT_FOUND, "%s: no such PCI device", full);
		return EXIT_OK;
	}
	if (all_digits(name)) {
		long long id = parse_group_arg(name);

		if (!groups || !group)
			return usage_error(cmd, "%s: not a PCI address (expected DDDD:BB:DD.F or BB:DD.F)", name);
		if (!iommufd_topo_iommu_enabled(topo))
			return no_iommu();
		if (id > 0x7fffffff || !(*group = iommufd_topo_find_group(topo, (unsigned int)id)))
			return fail(EXIT_NOT_FOUND, "group %s: no such IOMMU group", name);
		return EXIT_OK;
	}
	*dev = iommufd_topo_find_netdev(topo, name);
	if (*dev)
		return EXIT_OK;
	/* Interface names never contain ':'; something with one was meant as an address. */
	if (strchr(name, ':'))
		return usage_error(cmd, "%s: malformed PCI address (expected DDDD:BB:DD.F or BB:DD.F)", name);
	return fail(EXIT_NOT_FOUND, "%s: no such PCI device, group or network interface", name);
}
