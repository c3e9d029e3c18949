# virtio-iommu: the basic devices behind a paravirtual virtio-iommu.
. "${BASH_SOURCE[0]%/*}/basic.sh"
TOPO_DESC="virtio-iommu-pci with the basic devices"
# virtio-iommu offers no interrupt remapping (no MSI isolation), so iommufd
# refuses VFIO_DEVICE_BIND_IOMMUFD with EPERM unless told to accept that.
TOPO_CMDLINE="iommufd.allow_unsafe_interrupts=1"
topo_qemu_args() {
	QEMU_ARGS+=(-device virtio-iommu-pci,addr=02.0)
	basic_devices "$1"
}
