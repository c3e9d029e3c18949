# shellcheck shell=bash disable=SC2034,SC2054,SC2206,SC2207 # sourced by run-vm.sh and the guest; QEMU options use commas
# amd-iommu: the basic devices (see basic.sh) behind QEMU's emulated AMD-Vi
# with interrupt remapping.  Under TCG QEMU 7.2 needs nothing more (no
# kernel-irqchip=split, which only matters with KVM; the guest kernel
# enables AMD-Vi from the IVRS table by itself, no amd_iommu=on, and does not
# mind the CPU not being an AMD one).  The amd-iommu device adds its own PCI
# function (AMDVI-PCI, 1022:0008) at the first free slot, 00:01.0.
#
# Groups the guest shows (kernel 6.12.117, QEMU 7.2): the same as basic,
# numbers included, but of type DMA (strict invalidation) instead of DMA-FQ:
#    0: 00:00.0   1: 00:03.0   2: 00:04.0 01:01.0 01:02.0   3: 00:05.0
#    4: 00:06.0   5-8: 00:07.0 .. 00:07.3   9: 00:1d.0   10: 00:1e.0
#   11: 00:1f.0 00:1f.2 00:1f.3   12-15: 02:00.0 .. 05:00.0
# The AMDVI-PCI function (00:01.0) itself is in no group.
. "${BASH_SOURCE[0]%/*}/basic.sh"
TOPO_DESC="amd-iommu with the basic devices"
TOPO_CMDLINE=""
TOPO_SUITES="topology dma doctor"
TOPO_GROUP_TYPE=DMA
# Checked with tests/dma-probe.c (kernel 6.12, QEMU 7.2): a blocked, a
# detached, a physical-address and an unmapped-IOVA transfer all land
# nothing, yet the guest log shows no IO_PAGE_FAULT event (nor any AMD-Vi
# line) for any of them; QEMU 10's amd-iommu lets no DMA through at all.
TOPO_NO_FAULT_REPORTS="QEMU 7.2's amd-iommu logs no IO_PAGE_FAULT event for a refused DMA (nothing lands, nothing is reported)"
topo_qemu_args() {
	QEMU_ARGS+=(-device amd-iommu,intremap=on)
	basic_devices "$1"
}
