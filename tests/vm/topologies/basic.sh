# basic: Intel VT-d with interrupt remapping and a mix of groups.
TOPO_DESC="intel-iommu: lone edu, bridge group, kernel-driver devices, edus on root ports"
TOPO_CMDLINE="intel_iommu=on"
TOPO_MODULES="vfio-pci iommufd"
TOPO_NET=("0000:01:02.0 10.0.2.15/24 10.0.2.2")

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
