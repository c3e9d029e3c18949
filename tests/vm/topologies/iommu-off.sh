# shellcheck shell=bash disable=SC2034,SC2054,SC2206,SC2207 # sourced by run-vm.sh and the guest; QEMU options use commas
# iommu-off: the basic machine with intel_iommu=off on the kernel command
# line: the firmware describes VT-d (ACPI DMAR) but the kernel does not use
# it.  What doctor must catch on a host where the IOMMU was never enabled.
#
# Groups the guest shows: none.
. "${BASH_SOURCE[0]%/*}/basic.sh"
TOPO_DESC="basic with intel_iommu=off: DMAR present, IOMMU unused"
TOPO_CMDLINE="intel_iommu=off"
TOPO_SUITES="doctor-broken"
TOPO_HOST_SUITES=
TOPO_GROUPS=()
