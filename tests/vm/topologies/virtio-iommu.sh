# shellcheck shell=bash disable=SC2034,SC2054,SC2206,SC2207 # sourced by run-vm.sh and the guest; QEMU options use commas
# virtio-iommu: the basic devices (see basic.sh) behind a paravirtual
# virtio-iommu-pci (00:02.0) described to the guest by the ACPI VIOT table.
#
# Groups the guest shows at boot (kernel 6.12.117, QEMU 7.2), types DMA-FQ:
#    0: 00:06.0 nvme        3-6: 00:07.0 .. 00:07.3 root ports
#    1: 00:05.0 e1000e        7: 00:1d.0 9p root share (lab)
#    2: 00:04.0 bridge        8: 00:1e.0 9p results share (lab)
# Only devices a driver has probed have a group: with a firmware-described
# IOMMU, Linux 6.12 sets up a device's IOMMU in its driver's dma_configure,
# so the driver-less edus, the host bridge and the ICH9 functions have none
# until something binds them (binding an edu to vfio-pci creates group 9),
# and the virtio-net behind the bridge (01:02.0) has none at all.  The
# bridge's group holds only the bridge.
#
# virtio-iommu offers no interrupt remapping (no MSI isolation), so iommufd
# refuses VFIO_DEVICE_BIND_IOMMUFD with EPERM unless told to accept that.
. "${BASH_SOURCE[0]%/*}/basic.sh"
TOPO_DESC="virtio-iommu-pci with the basic devices"
TOPO_CMDLINE="iommufd.allow_unsafe_interrupts=1"
TOPO_SUITES="topology dma probe doctor session"
TOPO_GROUP_TYPE=DMA-FQ
TOPO_GROUPS=(
	"0: 0000:00:06.0"
	"1: 0000:00:05.0"
	"2: 0000:00:04.0"
	"3: 0000:00:07.0"
	"4: 0000:00:07.1"
	"5: 0000:00:07.2"
	"6: 0000:00:07.3"
	"7: 0000:00:1d.0"
	"8: 0000:00:1e.0"
)
topo_qemu_args() {
	QEMU_ARGS+=(-device virtio-iommu-pci,addr=02.0)
	basic_devices "$1"
}
