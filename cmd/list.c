/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "iommuctl.h"

struct list_filter {
	const char *group, *device, *driver;
	uint32_t class_value;
	unsigned int class_digits; /* 0: no class filter */
};

static int list_option(const char *name, const char *arg, void *data)
{
	struct list_filter *f = data;

	/* One value per filter: silently keeping only the last would hide devices the user asked for. */
	if ((strcmp(name, "group") == 0 && f->group) || (strcmp(name, "device") == 0 && f->device) ||
	    (strcmp(name, "driver") == 0 && f->driver) || (strcmp(name, "class") == 0 && f->class_digits))
		return usage_error(find_command("list"), "--%s: give this filter once", name);
	if (strcmp(name, "group") == 0) {
		f->group = arg;
	} else if (strcmp(name, "device") == 0) {
		f->device = arg;
	} else if (strcmp(name, "driver") == 0) {
		if (!*arg)
			return usage_error(find_command("list"), "--driver: empty driver name (use \"none\" for driver-less)");
		f->driver = arg;
	} else if (strcmp(name, "class") == 0) {
		const char *hex = strncmp(arg, "0x", 2) == 0 ? arg + 2 : arg;
		size_t len = strlen(hex);
		char *end;

		if ((len != 2 && len != 4 && len != 6) || !isxdigit((unsigned char)hex[0]) ||
		    (f->class_value = (uint32_t)strtoul(hex, &end, 16), *end))
			return usage_error(find_command("list"),
					   "%s: --class: expected 2, 4 or 6 hex digits (02, 0200, 0x020000)", arg);
		f->class_digits = (unsigned int)len;
	}
	return EXIT_OK;
}

static bool device_matches(const struct list_filter *f, const struct iommufd_pci_dev *dev,
			   const struct iommufd_pci_dev *only)
{
	const char *driver = iommufd_dev_driver(dev);

	if (only && dev != only)
		return false;
	if (f->driver && strcmp(f->driver, "none") == 0 ? driver != NULL
	    : f->driver                                  ? !driver || strcmp(driver, f->driver) != 0
							 : false)
		return false;
	if (f->class_digits && iommufd_dev_class(dev) >> (4 * (6 - f->class_digits)) != f->class_value)
		return false;
	return true;
}

/* The VIABLE cell: yes/no, or who owns the group ("owned: 4242 qemu-system-x86"). */
void viable_cell(json_object *row, json_object *group)
{
	json_object *owners, *pid, *comm;
	char buf[96];

	json_object_object_get_ex(group, "owners", &owners);
	if (!json_object_array_length(owners)) {
		copy_key(row, "viable", group, "viable");
		return;
	}
	json_object_object_get_ex(json_object_array_get_idx(owners, 0), "pid", &pid);
	json_object_object_get_ex(json_object_array_get_idx(owners, 0), "command", &comm);
	snprintf(buf, sizeof(buf), "owned: %d %s%s", json_object_get_int(pid), comm ? json_object_get_string(comm) : "?",
		 json_object_array_length(owners) > 1 ? ",..." : "");
	json_object_object_add(row, "viable", json_object_new_string(buf));
}

/* One table row per device, with the group's columns on its first row only. */
static void render_list(json_object *groups)
{
	static const struct column cols[] = {
		{ "GROUP", "group", true },   { "TYPE", "type", false },       { "VIABLE", "viable", false },
		{ "DEVICE", "address", false }, { "ID", "id", false },           { "CLASS", "class", false },
		{ "DRIVER", "driver", false }, { "VERDICT", "verdict", false }, { "NAME", "name", false },
		{ NULL, NULL, false },
	};
	json_object *rows = json_object_new_array();

	for (size_t i = 0; i < json_object_array_length(groups); i++) {
		json_object *group = json_object_array_get_idx(groups, i), *devs, *v;

		json_object_object_get_ex(group, "devices", &devs);
		for (size_t j = 0; j < json_object_array_length(devs); j++) {
			json_object *dev = json_object_array_get_idx(devs, j), *row = json_object_new_object();
			const char *vendor, *device, *vname, *dname;
			char buf[256];

			if (j == 0) {
				copy_key(row, "group", group, "id");
				copy_key(row, "type", group, "type");
				viable_cell(row, group);
			}
			copy_key(row, "address", dev, "address");
			json_object_object_get_ex(dev, "vendor_id", &v);
			vendor = json_object_get_string(v) + 2;
			json_object_object_get_ex(dev, "device_id", &v);
			device = json_object_get_string(v) + 2;
			snprintf(buf, sizeof(buf), "%s:%s", vendor, device);
			json_object_object_add(row, "id", json_object_new_string(buf));
			json_object_object_get_ex(dev, "class", &v);
			json_object_object_add(row, "class", json_object_new_string(json_object_get_string(v) + 2));
			copy_key(row, "driver", dev, "driver");
			copy_key(row, "verdict", dev, "verdict");
			json_object_object_get_ex(dev, "vendor_name", &v);
			vname = v ? json_object_get_string(v) : NULL;
			json_object_object_get_ex(dev, "device_name", &v);
			dname = v ? json_object_get_string(v) : NULL;
			snprintf(buf, sizeof(buf), "%s%s%s", vname ? vname : "", vname && dname ? " " : "",
				 dname ? dname : "");
			json_object_object_add(row, "name", json_object_new_string(buf));
			json_object_array_add(rows, row);
		}
	}
	render_table(cols, rows);
	json_object_put(rows);
}

int cmd_list(const struct command *cmd, struct global_opts *g, int argc, char **argv)
{
	struct list_filter f = { 0 };
	struct iommufd_pci_dev *only = NULL;
	struct iommufd_group *only_group = NULL;
	struct iommufd_topo *topo;
	json_object *out, *groups;
	int status, first = parse_command_options(cmd, g, argc, argv, list_option, &f, &status);

	if (first < 0)
		return status;
	if (first < argc)
		return usage_error(cmd, "list: unexpected argument %s", argv[first]);
	if (f.group && parse_group_arg(f.group) < 0)
		return usage_error(cmd, "%s: --group: not a group number", f.group);
	topo = load_topology(g, IOMMUFD_TOPO_NAMES | IOMMUFD_TOPO_HOLDERS, &status);
	if (!topo)
		return status;
	if (f.device && (status = resolve_target(cmd, topo, f.device, false, &only, NULL)) != EXIT_OK)
		goto out;
	if (f.group && iommufd_topo_iommu_enabled(topo) &&
	    (parse_group_arg(f.group) > 0x7fffffff ||
	     !(only_group = iommufd_topo_find_group(topo, (unsigned int)parse_group_arg(f.group))))) {
		status = fail(EXIT_NOT_FOUND, "group %s: no such IOMMU group", f.group);
		goto out;
	}

	out = json_object_new_object();
	groups = json_object_new_array();
	json_object_object_add(out, "groups", groups);
	for (size_t i = 0; i < iommufd_topo_group_count(topo); i++) {
		struct iommufd_group *group = iommufd_topo_group(topo, i);
		json_object *jg, *devs, *kept;

		if (only_group && group != only_group)
			continue;
		jg = json_group(group, DETAIL_LIST);
		json_object_object_get_ex(jg, "devices", &devs);
		kept = json_object_new_array();
		for (size_t j = 0; j < iommufd_group_dev_count(group); j++)
			if (device_matches(&f, iommufd_group_dev(group, j), only))
				json_object_array_add(kept, json_object_get(json_object_array_get_idx(devs, j)));
		/* A group with no PCI member still shows unless a device filter emptied it. */
		bool filtered = only || f.driver || f.class_digits;

		if (json_object_array_length(kept) == 0 && filtered) {
			json_object_put(kept);
			json_object_put(jg);
			continue;
		}
		json_object_object_add(jg, "devices", kept);
		json_object_array_add(groups, jg);
	}
	if (only && !iommufd_dev_group(only) && iommufd_topo_iommu_enabled(topo)) {
		json_object_put(out);
		status = fail(EXIT_NOT_FOUND, "%s: not in any IOMMU group", iommufd_dev_address(only));
		goto out;
	}
	if (g->json)
		status = emit_json(out) ? EXIT_FAILURE_IO : EXIT_OK;
	else {
		if (json_object_array_length(groups))
			render_list(groups);
		json_object_put(out);
	}
	if (!iommufd_topo_iommu_enabled(topo))
		status = no_iommu();
out:
	iommufd_topo_free(topo);
	return status;
}
