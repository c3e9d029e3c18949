#!/usr/bin/env bats
# The iommufd security story measured with a real DMA engine (QEMU's edu):
# a device bound to an iommufd is blocked, attached it reaches exactly what
# its IOAS maps, detached it is blocked again.  Runs as root in a guest with
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

@test "bound to an iommufd but not attached, the device is blocked" {
	run "$PROBE" --device "$EDU" --until bind --expect blocked
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"nothing landed"* ]]
}

@test "attached to an IOAS, the data lands at the mapped IOVA and only there" {
	run "$PROBE" --device "$EDU" --until attach --expect translated
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"attached to ioas"*"through hwpt"* ]]
	[[ $output == *"source page intact, pattern landed at the mapped iova"* ]]
}

@test "detached again, the device is blocked again" {
	run "$PROBE" --device "$EDU" --until detach --expect blocked
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"detached"* ]]
	[[ $output == *"nothing landed"* ]]
}

@test "attached, a DMA write to an unmapped IOVA faults and lands nothing" {
	run "$PROBE" --device "$EDU" --until attach --unmapped-iova 0x200000 --expect blocked
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"(unmapped)"*"nothing landed"* ]]
}

@test "the probe fails (exit 1) when the outcome is not the expected one" {
	run "$PROBE" --device "$EDU" --until bind --expect translated
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"result: blocked (expected translated): FAILED"* ]]
}

@test "fds passed to another process keep their state: attached translates, bound blocks" {
	# shellcheck disable=SC2016 # expanded by the child shell
	child='exec "$PROBE" --iommufd-fd "$DMA_PROBE_IOMMUFD" --device-fd "$DMA_PROBE_DEVICE_FD" --ioas "$DMA_PROBE_IOAS" --iova 0x400000 --expect "$WANT"'
	export WANT=translated
	run "$PROBE" --device "$EDU" --until attach --exec sh -c "$child"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"passed device fd: result: translated (expected translated): ok"* ]]
	export WANT=blocked
	run "$PROBE" --device "$EDU" --until bind --exec sh -c "$child"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"passed device fd: result: blocked (expected blocked): ok"* ]]
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
