# shellcheck shell=bash disable=SC2034,SC2054,SC2206,SC2207 # sourced by run-vm.sh and the guest; QEMU options use commas
# no-intremap: the basic machine with VT-d but without interrupt remapping
# (intel-iommu,intremap=off), and without iommufd.allow_unsafe_interrupts:
# iommufd refuses to BIND there, which doctor must say before anyone tries.
#
# Groups the guest shows: those of basic.sh.
. "${BASH_SOURCE[0]%/*}/basic.sh"
TOPO_DESC="intel-iommu without interrupt remapping"
TOPO_SUITES="doctor-broken"
TOPO_HOST_SUITES=
topo_qemu_args() {
	QEMU_ARGS+=(-device intel-iommu,intremap=off)
	basic_devices "$1"
}
