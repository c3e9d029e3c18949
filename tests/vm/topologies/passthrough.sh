# shellcheck shell=bash disable=SC2034,SC2054,SC2206,SC2207 # sourced by run-vm.sh and the guest; QEMU options use commas
# passthrough: the basic topology with iommu.passthrough=1, so every group's
# default domain is an identity (no translation) domain.  VFIO and iommufd
# still isolate a device they own: BIND puts it in a blocking domain and
# ATTACH in a paging one.  Shown, not assumed: dma.bats here sees the
# IOMMU's fault reports ("Present bit in context entry is clear") for the
# bound and detached device, also for a DMA to our pages' physical
# addresses, which the identity default domain would have let through.
#
# Groups the guest shows: those of basic.sh, same numbers and members, all
# of type "identity".
. "${BASH_SOURCE[0]%/*}/basic.sh"
TOPO_DESC="intel-iommu with identity default domains (iommu.passthrough=1)"
TOPO_CMDLINE="intel_iommu=on iommu.passthrough=1"
TOPO_SUITES="topology dma doctor"
TOPO_GROUP_TYPE=identity
