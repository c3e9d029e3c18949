# shellcheck shell=bash disable=SC2034,SC2054,SC2206,SC2207 # sourced by run-vm.sh and the guest; QEMU options use commas
# nomodules: the basic topology, but the guest loads no modules: no vfio,
# no vfio-pci, no iommufd, hence no /dev/iommu and no VFIO cdevs.  What an
# operator sees on a host where nobody ran "modprobe vfio-pci" yet.
#
# Groups the guest shows: those of basic.sh (DMA-FQ); nothing is on a VFIO
# driver.
. "${BASH_SOURCE[0]%/*}/basic.sh"
TOPO_DESC="basic with vfio-pci and iommufd not loaded"
TOPO_MODULES=
TOPO_SUITES="topology doctor probe"
