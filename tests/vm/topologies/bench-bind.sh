# shellcheck shell=bash disable=SC2034,SC2054,SC2206,SC2207 # sourced by run-vm.sh and the guest; QEMU options use commas
# bench-bind: 32 NICs, each alone in its group, for the binding benchmark
# (bench/vm/bind.sh).  NICs, because dpdk-devbind binds network devices only
# and the benchmark compares it, driverctl and a raw sysfs loop with iommuctl
# on the very same devices.
#
#   00:08.0-0b.7   32 pcie-root-ports (4 multi-function slots), each with a
#   01-20:00.0     virtio-net-pci at bus:00.0 (no netdev: nothing behind
#                  it, no option ROM), each port and each NIC in a group of
#                  its own
#
# The interfaces get no address and no route and stay down, so nothing uses
# them.  Not run by check-vm (no TOPO_SUITES).
#
# Groups the guest shows (kernel 6.12.117, QEMU 7.2), all DMA-FQ:
#    0: 00:00.0    1-32: 00:08.0 .. 00:0b.7 root ports
#   33: 00:1d.0   34: 00:1e.0 (lab)   35: 00:1f.0 00:1f.2 00:1f.3
#   36-67: 01:00.0 .. 20:00.0 virtio-net on virtio-pci
TOPO_DESC="intel-iommu, 32 root ports with a virtio-net each (binding benchmark)"
TOPO_CMDLINE="intel_iommu=on"
TOPO_MODULES="vfio-pci iommufd"
TOPO_GROUP_TYPE=DMA-FQ

bench_bind_groups() {
	local s f n=1 i
	TOPO_GROUPS=("0: 0000:00:00.0")
	for s in 8 9 a b; do
		for f in 0 1 2 3 4 5 6 7; do
			TOPO_GROUPS+=("$n: 0000:00:0$s.$f")
			n=$((n + 1))
		done
	done
	TOPO_GROUPS+=("33: 0000:00:1d.0" "34: 0000:00:1e.0" "35: 0000:00:1f.0 0000:00:1f.2 0000:00:1f.3")
	for ((i = 1; i <= 32; i++)); do
		TOPO_GROUPS+=("$((35 + i)): $(printf '0000:%02x:00.0' "$i")")
	done
}
bench_bind_groups

topo_qemu_args() {
	local s f n=0
	QEMU_ARGS+=(-device intel-iommu,intremap=on)
	for s in 8 9 a b; do
		for f in 0 1 2 3 4 5 6 7; do
			QEMU_ARGS+=(
				-device pcie-root-port,id=rp$n,chassis=$((n + 1)),addr=0$s.$f,multifunction=$([ $f = 0 ] && echo on || echo off),io-reserve=0
				-device virtio-net-pci,bus=rp$n,romfile=
			)
			n=$((n + 1))
		done
	done
}
