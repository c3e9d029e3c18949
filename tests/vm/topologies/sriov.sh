# shellcheck shell=bash disable=SC2034,SC2054,SC2206,SC2207 # sourced by run-vm.sh and the guest; QEMU options use commas
# sriov: an SR-IOV physical function under Intel VT-d, on QEMU 10.
#
#   00:03.0        pcie-root-port (ACS), and behind it
#   01:00.0          igb (82576, 8086:10c9) on igb: the PF, 7 VFs possible;
#                    VFs appear at 01:10.0, 01:10.2, ... (offset 128,
#                    stride 2), each in a group of its own (igbvf, =m)
#
# QEMU 7.2 has no igb, so the topology asks for QEMU 10 (TOPO_QEMU=10),
# which boots with qboot instead of SeaBIOS.
TOPO_DESC="intel-iommu on QEMU 10: igb SR-IOV PF behind a pcie-root-port"
TOPO_QEMU=10
TOPO_CMDLINE="intel_iommu=on no_timer_check"
TOPO_MODULES="vfio-pci iommufd igb"
TOPO_SUITES="sriov"

topo_qemu_args() {
	QEMU_ARGS+=(
		-device intel-iommu,intremap=on
		-device pcie-root-port,id=rp1,chassis=1,addr=03.0
		-netdev user,id=net0,restrict=on
		-device igb,netdev=net0,bus=rp1,romfile=
	)
}
