/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include "iommuctl.h"

static int check_option(const char *name, const char *arg, void *data)
{
	(void)arg;
	if (strcmp(name, "assume-vfio") == 0)
		*(bool *)data = true;
	return EXIT_OK;
}

static void render_check(json_object *out)
{
	static const struct column cols[] = {
		{ "GROUP", "group", true },     { "VIABLE", "viable", false }, { "DEVICE", "address", false },
		{ "VERDICT", "verdict", false }, { "REASON", "reason", false }, { NULL, NULL, false },
	};
	json_object *groups, *rows = json_object_new_array();
	size_t bad = 0, n;

	json_object_object_get_ex(out, "groups", &groups);
	n = json_object_array_length(groups);
	for (size_t i = 0; i < n; i++) {
		json_object *group = json_object_array_get_idx(groups, i), *devs, *viable;

		json_object_object_get_ex(group, "devices", &devs);
		json_object_object_get_ex(group, "viable", &viable);
		bad += !json_object_get_boolean(viable);
		for (size_t j = 0; j < json_object_array_length(devs); j++) {
			json_object *dev = json_object_array_get_idx(devs, j), *row = json_object_new_object();

			if (j == 0) {
				copy_key(row, "group", group, "id");
				viable_cell(row, group);
			}
			copy_key(row, "address", dev, "address");
			copy_key(row, "verdict", dev, "verdict");
			copy_key(row, "reason", dev, "reason");
			json_object_array_add(rows, row);
		}
	}
	render_table(cols, rows);
	json_object_put(rows);
	for (size_t i = 0; i < n; i++) {
		json_object *group = json_object_array_get_idx(groups, i), *id, *owners, *identity;

		json_object_object_get_ex(group, "id", &id);
		json_object_object_get_ex(group, "identity", &identity);
		if (json_object_get_boolean(identity))
			printf("warning: group %d uses an identity domain: no DMA translation until a device is opened\n",
			       json_object_get_int(id));
		json_object_object_get_ex(group, "owners", &owners);
		for (size_t j = 0; j < json_object_array_length(owners); j++) {
			json_object *h = json_object_array_get_idx(owners, j), *pid, *comm, *path, *dev;

			json_object_object_get_ex(h, "pid", &pid);
			json_object_object_get_ex(h, "command", &comm);
			json_object_object_get_ex(h, "path", &path);
			json_object_object_get_ex(h, "device", &dev);
			if (dev)
				printf("note: group %d is owned by pid %d (%s): it holds the cdev %s of %s\n",
				       json_object_get_int(id), json_object_get_int(pid), comm ? json_object_get_string(comm) : "?",
				       json_object_get_string(path), json_object_get_string(dev));
			else
				printf("note: group %d is owned by pid %d (%s): it holds the group node %s\n",
				       json_object_get_int(id), json_object_get_int(pid), comm ? json_object_get_string(comm) : "?",
				       json_object_get_string(path));
		}
	}
	if (bad)
		printf("%zu of %zu group%s not viable\n", bad, n, n == 1 ? "" : "s");
	else
		printf("%s%zu group%s viable\n", n > 1 ? "all " : "", n, n == 1 ? "" : "s");
}

int cmd_check(const struct command *cmd, struct global_opts *g, int argc, char **argv)
{
	struct iommufd_topo *topo;
	bool assume = false, viable = true;
	json_object *out, *groups, *assumed;
	struct iommufd_group **chosen;
	size_t nchosen = 0;
	int status, first = parse_command_options(cmd, g, argc, argv, check_option, &assume, &status);

	if (first < 0)
		return status;
	if (assume && first == argc)
		return usage_error(cmd, "check: --assume-vfio needs the devices to assume bound");
	topo = load_topology(g, IOMMUFD_TOPO_NAMES | IOMMUFD_TOPO_HOLDERS, &status);
	if (!topo)
		return status;
	/* Bad names are reported before a missing IOMMU: the typo is the first thing to fix. */
	chosen = calloc(iommufd_topo_group_count(topo) + 1, sizeof(void *));
	if (!chosen) {
		iommufd_topo_free(topo);
		return fail(EXIT_FAILURE_IO, "out of memory");
	}
	assumed = json_object_new_array();
	for (int i = first; i < argc; i++) {
		struct iommufd_pci_dev *dev;
		struct iommufd_group *group;
		bool seen = false;

		status = resolve_target(cmd, topo, argv[i], !assume, &dev, &group);
		if (status != EXIT_OK)
			break;
		if (dev) {
			group = iommufd_dev_group(dev);
			if (!group) {
				status = iommufd_topo_iommu_enabled(topo)
						 ? fail(EXIT_NOT_FOUND, "%s: not in any IOMMU group", iommufd_dev_address(dev))
						 : EXIT_UNSUPPORTED;
				break;
			}
			if (assume) {
				iommufd_topo_assume_vfio(dev);
				json_object_array_add(assumed, json_object_new_string(iommufd_dev_address(dev)));
			}
		}
		for (size_t j = 0; j < nchosen; j++)
			seen |= chosen[j] == group;
		if (!seen)
			chosen[nchosen++] = group;
	}
	if (status == EXIT_UNSUPPORTED || (status == EXIT_OK && !iommufd_topo_iommu_enabled(topo))) {
		if (g->json) {
			out = json_object_new_object();
			json_object_object_add(out, "viable", json_object_new_boolean(false));
			json_object_object_add(out, "assumed_vfio", json_object_new_array());
			json_object_object_add(out, "groups", json_object_new_array());
			emit_json(out);
		}
		status = no_iommu();
	}
	if (status != EXIT_OK) {
		json_object_put(assumed);
		free(chosen);
		iommufd_topo_free(topo);
		return status;
	}
	if (first == argc)
		for (size_t i = 0; i < iommufd_topo_group_count(topo); i++)
			chosen[nchosen++] = iommufd_topo_group(topo, i);
	/* Report in group order whatever order they were named in. */
	for (size_t i = 1; i < nchosen; i++)
		for (size_t j = i; j > 0 && iommufd_group_id(chosen[j - 1]) > iommufd_group_id(chosen[j]); j--) {
			struct iommufd_group *t = chosen[j];

			chosen[j] = chosen[j - 1];
			chosen[j - 1] = t;
		}
	out = json_object_new_object();
	groups = json_object_new_array();
	for (size_t i = 0; i < nchosen; i++) {
		viable &= iommufd_group_viable(chosen[i]);
		json_object_array_add(groups, json_group(chosen[i], DETAIL_LIST));
	}
	json_object_object_add(out, "viable", json_object_new_boolean(viable));
	json_object_object_add(out, "assumed_vfio", assumed);
	json_object_object_add(out, "groups", groups);
	if (g->json) {
		status = emit_json(out) ? EXIT_FAILURE_IO : EXIT_OK;
	} else {
		render_check(out);
		json_object_put(out);
	}
	free(chosen);
	iommufd_topo_free(topo);
	return status != EXIT_OK ? status : viable ? EXIT_OK : EXIT_NO;
}
