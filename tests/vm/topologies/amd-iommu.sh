# amd-iommu: the basic devices behind an emulated AMD-Vi.
. "${BASH_SOURCE[0]%/*}/basic.sh"
TOPO_DESC="amd-iommu with the basic devices"
TOPO_CMDLINE=""
topo_qemu_args() {
	QEMU_ARGS+=(-device amd-iommu,intremap=on)
	basic_devices "$1"
}
