/* A program that uses libiommufd the way an outside project would: built
 * with only the installed-style headers and linked against the *shared*
 * library, so a symbol missing from the version script fails here even
 * though the tool (which links the static archive) never notices.
 *
 * It prints, for a sysroot, a line per group ("group ID VERDICT") followed
 * by a line per member ("device ADDR DRIVER"), which the test compares
 * with what `iommuctl list -j` says of the same tree.  The functions that only
 * make sense on an open device are referenced, not called, so that the
 * link itself proves they are exported. */
#include <iommufd/iommufd.h>
#include <iommufd/topology.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef void (*any_fn)(void);

/* Referenced through a volatile table so the linker must resolve each. */
static any_fn volatile device_only[] = {
	(any_fn)iommufd_device_id,
	(any_fn)iommufd_device_pt_id,
	(any_fn)iommufd_hw_info_type,
	(any_fn)iommufd_hw_info_capabilities,
	(any_fn)iommufd_hw_info_max_pasid_log2,
};

int main(int argc, char **argv)
{
	struct iommufd_topo *topo;
	char full[13];
	size_t g, d, i;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: shared-client SYSROOT\n");
		return 2;
	}
	for (i = 0; i < sizeof(device_only) / sizeof(device_only[0]); i++)
		if (!device_only[i])
			return 1;
	if (iommufd_parse_pci_address("03:00.0", full) != 0 || strcmp(full, "0000:03:00.0") != 0) {
		fprintf(stderr, "shared-client: iommufd_parse_pci_address gave %s\n", full);
		return 1;
	}
	rc = iommufd_topo_load(argv[1], 0, &topo);
	if (rc < 0) {
		fprintf(stderr, "shared-client: %s: %s (%s)\n", argv[1], strerror(-rc), iommufd_topo_load_error());
		return 1;
	}
	for (g = 0; g < iommufd_topo_group_count(topo); g++) {
		struct iommufd_group *group = iommufd_topo_group(topo, g);

		printf("group %u %s\n", iommufd_group_id(group), iommufd_group_viable(group) ? "viable" : "not-viable");
		for (d = 0; d < iommufd_group_dev_count(group); d++) {
			const struct iommufd_pci_dev *dev = iommufd_group_dev(group, d);
			const char *driver = iommufd_dev_driver(dev);

			printf("device %s %s\n", iommufd_dev_address(dev), driver ? driver : "-");
		}
	}
	iommufd_topo_free(topo);
	return 0;
}
