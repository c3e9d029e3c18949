# shellcheck shell=bash disable=SC2034,SC2054,SC2206,SC2207 # sourced by run-vm.sh and the guest; QEMU options use commas
# basic: Intel VT-d (with interrupt remapping) and a mix of groups.
#
#   00:03.0        edu, alone in its group: the easy case
#   00:04.0        pcie-pci-bridge, and behind it (conventional PCI, so one
#   01:01.0        group for all: the bridge takes the DMA of its children)
#   01:02.0          an edu and a virtio-net on virtio-pci: the classic
#                    non-viable group (a sibling on a kernel driver)
#   00:05.0        e1000e on e1000e
#   00:06.0        NVMe (64 MiB scratch file made per run) on nvme
#   00:07.0-07.3   four pcie-root-ports (pcieport), each with an edu at
#   02-05:00.0       bus:00.0 in a group of its own (root ports have ACS)
#
# The guest loads vfio-pci and iommufd, and gives the virtio-net an address
# and a default route (so "the interface carrying a route" exists).
#
# Groups the guest shows (kernel 6.12.117, QEMU 7.2), types all DMA-FQ:
#    0: 00:00.0 host bridge        8: 00:07.3 root port
#    1: 00:03.0 edu                9: 00:1d.0 9p root share (lab)
#    2: 00:04.0 01:01.0 01:02.0   10: 00:1e.0 9p results share (lab)
#    3: 00:05.0 e1000e            11: 00:1f.0 00:1f.2 00:1f.3 (ICH9 LPC,
#    4: 00:06.0 nvme                  SATA, SMBus: multi-function, no ACS)
#    5: 00:07.0 root port         12-15: 02:00.0 .. 05:00.0 edus
#    6: 00:07.1 root port
#    7: 00:07.2 root port
# Viable: all but 2 (virtio-net on virtio-pci), 3, 4, 9 and 10.
TOPO_DESC="intel-iommu: lone edu, bridge group, kernel-driver devices, edus on root ports"
TOPO_CMDLINE="intel_iommu=on"
TOPO_MODULES="vfio-pci iommufd"
TOPO_NET=("0000:01:02.0 10.0.2.15/24 10.0.2.2")
TOPO_SUITES="topology dma objects doctor"
TOPO_HOST_SUITES="snapshot"
TOPO_GROUP_TYPE=DMA-FQ
TOPO_GROUPS=(
	"0: 0000:00:00.0"
	"1: 0000:00:03.0"
	"2: 0000:00:04.0 0000:01:01.0 0000:01:02.0"
	"3: 0000:00:05.0"
	"4: 0000:00:06.0"
	"5: 0000:00:07.0"
	"6: 0000:00:07.1"
	"7: 0000:00:07.2"
	"8: 0000:00:07.3"
	"9: 0000:00:1d.0"
	"10: 0000:00:1e.0"
	"11: 0000:00:1f.0 0000:00:1f.2 0000:00:1f.3"
	"12: 0000:02:00.0"
	"13: 0000:03:00.0"
	"14: 0000:04:00.0"
	"15: 0000:05:00.0"
)

# The devices, shared by the topologies that differ only in the IOMMU.
basic_devices() {
	local work=$1 i
	truncate -s 64M "$work/nvme0.img"
	QEMU_ARGS+=(
		-device edu,addr=03.0
		-device pcie-pci-bridge,id=br0,addr=04.0
		-device edu,bus=br0,addr=01.0
		-netdev user,id=net0,restrict=on
		-device virtio-net-pci,netdev=net0,bus=br0,addr=02.0,romfile=
		-netdev user,id=net1,restrict=on
		-device e1000e,netdev=net1,addr=05.0,romfile=
		-drive file="$work/nvme0.img",if=none,id=nvme0,format=raw
		-device nvme,drive=nvme0,serial=iommuctl-nvme0,addr=06.0
	)
	for i in 0 1 2 3; do
		QEMU_ARGS+=(
			-device pcie-root-port,id=rp$i,chassis=$((i + 1)),addr=07.$i,multifunction=$([ $i = 0 ] && echo on || echo off),io-reserve=0
			-device edu,bus=rp$i
		)
	done
}

topo_qemu_args() {
	QEMU_ARGS+=(-device intel-iommu,intremap=on)
	basic_devices "$1"
}
