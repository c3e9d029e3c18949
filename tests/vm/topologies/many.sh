# shellcheck shell=bash disable=SC2034,SC2054,SC2206,SC2207 # sourced by run-vm.sh and the guest; QEMU options use commas
# many: a big machine for benchmarks and for scale: 80 edus under VT-d.
#
#   00:08.0-0f.7   64 pcie-root-ports (8 multi-function slots), each with an
#                  edu at 01:00.0 .. 40:00.0, each port and each edu in a
#                  group of its own
#   00:10.0        pcie-pci-bridge with 8 edus at 41:01.0 .. 41:08.0: one
#                  group of 9
#   00:11.0        pcie-pci-bridge with 8 edus at 42:01.0 .. 42:08.0: another
#
# That is 147 PCI functions in 135 groups (with the host bridge, ICH9 and
# the lab's two 9p devices).  The root ports reserve no I/O space
# (io-reserve=0): 64 ports x 4 KiB would not fit in the 64 KiB I/O space.
#
# Groups the guest shows (kernel 6.12.117, QEMU 7.2), all DMA-FQ (TOPO_GROUPS
# below generates the exact list):
#    0: 00:00.0            1-64: 00:08.0 .. 00:0f.7 root ports
#   65: 00:10.0 + 41:01.0 .. 41:08.0      66: 00:11.0 + 42:01.0 .. 42:08.0
#   67: 00:1d.0  68: 00:1e.0 (lab)       69: 00:1f.0 00:1f.2 00:1f.3
#   70-133: 01:00.0 .. 40:00.0 edus behind the root ports
# Viable: all but 67 and 68.
TOPO_DESC="intel-iommu, 64 root ports with an edu each, 2 bridges with 8 edus each"
TOPO_CMDLINE="intel_iommu=on"
TOPO_MODULES="vfio-pci iommufd"
TOPO_SUITES="topology doctor"
TOPO_HOST_SUITES="snapshot"
TOPO_GROUP_TYPE=DMA-FQ
TOPO_MEM=1536

many_groups() {
	local s f n=1 b i m
	TOPO_GROUPS=("0: 0000:00:00.0")
	for s in 8 9 a b c d e f; do
		for f in 0 1 2 3 4 5 6 7; do
			TOPO_GROUPS+=("$n: 0000:00:0$s.$f")
			n=$((n + 1))
		done
	done
	for b in 0 1; do
		m="$n: 0000:00:1$b.0"
		for i in 1 2 3 4 5 6 7 8; do m+=" 0000:4$((b + 1)):0$i.0"; done
		TOPO_GROUPS+=("$m")
		n=$((n + 1))
	done
	TOPO_GROUPS+=("67: 0000:00:1d.0" "68: 0000:00:1e.0" "69: 0000:00:1f.0 0000:00:1f.2 0000:00:1f.3")
	for ((i = 1; i <= 64; i++)); do
		TOPO_GROUPS+=("$((69 + i)): $(printf '0000:%02x:00.0' "$i")")
	done
}
many_groups

topo_qemu_args() {
	local s f n=0 b i
	QEMU_ARGS+=(-device intel-iommu,intremap=on)
	for s in 8 9 a b c d e f; do
		for f in 0 1 2 3 4 5 6 7; do
			QEMU_ARGS+=(
				-device pcie-root-port,id=rp$n,chassis=$((n + 1)),addr=0$s.$f,multifunction=$([ $f = 0 ] && echo on || echo off),io-reserve=0
				-device edu,bus=rp$n
			)
			n=$((n + 1))
		done
	done
	for b in 0 1; do
		QEMU_ARGS+=(-device pcie-pci-bridge,id=mbr$b,addr=1$b.0)
		for i in 1 2 3 4 5 6 7 8; do
			QEMU_ARGS+=(-device edu,bus=mbr$b,addr=0$i.0)
		done
	done
}
