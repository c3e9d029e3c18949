# virtio-iommu: the basic devices behind a paravirtual virtio-iommu.
. "${BASH_SOURCE[0]%/*}/basic.sh"
TOPO_DESC="virtio-iommu-pci with the basic devices"
TOPO_CMDLINE=""
topo_qemu_args() {
	QEMU_ARGS+=(-device virtio-iommu-pci,addr=02.0)
	basic_devices "$1"
}
