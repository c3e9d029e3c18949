/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include "iommuctl.h"

int cmd_show(const struct command *cmd, struct global_opts *g, int argc, char **argv)
{
	struct iommufd_topo *topo;
	json_object *out, *devices, *groups;
	int status, first = parse_command_options(cmd, g, argc, argv, NULL, NULL, &status);

	if (first < 0)
		return status;
	if (first == argc)
		return usage_error(cmd, "show: name a device (0000:01:00.0, 01:00.0, eth0) or a group number");
	topo = load_topology(g, IOMMUFD_TOPO_NAMES | IOMMUFD_TOPO_HOLDERS | IOMMUFD_TOPO_CAPS, &status);
	if (!topo)
		return status;
	out = json_object_new_object();
	devices = json_object_new_array();
	groups = json_object_new_array();
	json_object_object_add(out, "devices", devices);
	json_object_object_add(out, "groups", groups);
	for (int i = first; i < argc; i++) {
		struct iommufd_pci_dev *dev;
		struct iommufd_group *group;

		status = resolve_target(cmd, topo, argv[i], true, &dev, &group);
		if (status != EXIT_OK)
			break;
		if (dev)
			json_object_array_add(devices, json_device(dev, DETAIL_SHOW));
		else
			json_object_array_add(groups, json_group(group, DETAIL_SHOW));
	}
	if (status != EXIT_OK) {
		json_object_put(out);
	} else if (g->json) {
		status = emit_json(out) ? EXIT_FAILURE_IO : EXIT_OK;
	} else {
		for (size_t i = 0; i < json_object_array_length(devices); i++) {
			json_object *dev = json_object_array_get_idx(devices, i), *addr;

			json_object_object_get_ex(dev, "address", &addr);
			printf("%sdevice %s\n", i ? "\n" : "", json_object_get_string(addr));
			render_tree(dev, 2);
		}
		for (size_t i = 0; i < json_object_array_length(groups); i++) {
			json_object *group = json_object_array_get_idx(groups, i), *id;

			json_object_object_get_ex(group, "id", &id);
			printf("%sgroup %d\n", i || json_object_array_length(devices) ? "\n" : "",
			       json_object_get_int(id));
			render_tree(group, 2);
		}
		json_object_put(out);
	}
	iommufd_topo_free(topo);
	return status;
}
