#!/usr/bin/env bats
# The iommufd security story measured with a real DMA engine (QEMU's edu):
# a device bound to an iommufd is blocked, attached it reaches exactly what
# its IOAS maps, detached it is blocked again.  "Blocked" is the IOMMU's
# word, not ours: the probe calls a transfer blocked only when the data did
# not move AND the kernel logged the IOMMU's fault report for this device
# at the address written (see tests/dma-probe.c); where the IOMMU reports
# nothing (TOPO_NO_FAULT_REPORTS) those tests skip and say why.  Runs as root in a guest with
# an IOMMU, e.g.
#   tests/vm/run-vm.sh basic bats --tap tests/vm/suites/dma.bats
# The probe is build/dma-probe (make -C tests/vm probe, or the vm.mk rule),
# or $DMA_PROBE.

bats_require_minimum_version 1.5.0
load lib

setup_file() {
	setup_probe_edu
}

teardown_file() {
	release_edu
}

@test "bound to an iommufd but not attached, the device is blocked: the IOMMU reports the read and the write" {
	need_fault_reports
	run "$PROBE" --device "$EDU" --until bind --expect blocked
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"nothing landed; iommu fault reported: read yes, write yes"* ]]
}

@test "bound, a DMA to our pages' physical addresses is refused too: no identity or default domain lets it through" {
	need_fault_reports
	run "$PROBE" --device "$EDU" --until bind --physical --expect blocked
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"dma physical 0x"*"nothing landed; iommu fault reported: read yes, write yes"* ]]
}

@test "attached, a DMA to our pages' physical addresses (not in the IOAS) is refused" {
	need_fault_reports
	run "$PROBE" --device "$EDU" --until attach --physical --expect blocked
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"attached to ioas"*"dma physical 0x"*"nothing landed; iommu fault reported: read yes, write yes"* ]]
}

@test "attached to an IOAS, the data lands at the mapped IOVA and only there" {
	run "$PROBE" --device "$EDU" --until attach --expect translated
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"attached to ioas"*"through hwpt"* ]]
	[[ $output == *"source page intact, pattern landed at the mapped iova; iommu fault reported: read no, write no"* ]]
}

@test "detached again, the device is blocked again" {
	need_fault_reports
	run "$PROBE" --device "$EDU" --until detach --expect blocked
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"detached"* ]]
	[[ $output == *"nothing landed; iommu fault reported: read yes, write yes"* ]]
}

@test "attached, a DMA write to an unmapped IOVA faults and lands nothing" {
	need_fault_reports
	run "$PROBE" --device "$EDU" --until attach --unmapped-iova 0x200000 --expect blocked
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"(unmapped)"*"nothing landed; iommu fault reported: read no, write yes"* ]]
	[[ $output == *"iommu fault reported: "*"0x200"* ]]
}

@test "the probe fails (exit 1) when the outcome is not the expected one" {
	run "$PROBE" --device "$EDU" --until bind --expect translated
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"result: "*" (expected translated): FAILED"* ]]
	[[ $output != *"result: translated"* ]]
}

@test "fds passed to another process keep their state: attached translates, bound blocks" {
	# shellcheck disable=SC2016 # expanded by the child shell
	child='exec "$PROBE" --iommufd-fd "$DMA_PROBE_IOMMUFD" --device-fd "$DMA_PROBE_DEVICE_FD" --ioas "$DMA_PROBE_IOAS" --iova 0x400000 --expect "$WANT"'
	export WANT=translated
	run "$PROBE" --device "$EDU" --until attach --exec sh -c "$child"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"passed device fd: result: translated (expected translated): ok"* ]]
	need_fault_reports
	export WANT=blocked
	run "$PROBE" --device "$EDU" --until bind --exec sh -c "$child"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"passed device fd: result: blocked (expected blocked): ok"* ]]
	# The probe found the device behind the passed fd and matched its faults.
	[[ $output == *"passed device fd: iommu fault reported: "* ]]
}

@test "while a process holds the device, iommuctl names it as the holder" {
	# The probe keeps the cdev open (bound and attached) while iommuctl runs;
	# the child closes the inherited fds first, so only the probe holds them.
	# shellcheck disable=SC2016 # expanded by the child shell
	run --separate-stderr "$PROBE" --device "$EDU" --until attach --exec sh -c \
		'eval "exec $DMA_PROBE_DEVICE_FD<&- $DMA_PROBE_IOMMUFD<&-"; exec "$IOMMUCTL" list -j -d "$1"' sh "$EDU"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	# stdout: the probe's own lines, then iommuctl's JSON.
	holders=$(sed -n '/^{/,$p' <<<"$output" |
		jq -c --arg a "$EDU" '[.groups[].devices[] | select(.address == $a) | .holders[] | {command, path}]')
	node=$(echo /sys/bus/pci/devices/"$EDU"/vfio-dev/vfio*)
	[ "$holders" = "[{\"command\":\"dma-probe\",\"path\":\"/dev/vfio/devices/${node##*/}\"}]" ] || { echo "$holders"; false; }
}
