#!/usr/bin/env bats
# iommuctl probe on the host: what can be checked without an IOMMU or root.
# The lifecycle itself is tested in a guest: tests/vm/suites/probe.bats.

load helpers

setup() {
	"$IOMMUCTL" help probe >/dev/null 2>&1 || skip "this binary has no probe command"
}

@test "probe: no device is a usage error" {
	run --separate-stderr "$IOMMUCTL" probe
	[ "$status" -eq 2 ]
	[ "$stderr" = "iommuctl: probe: name at least one device
Try 'iommuctl probe --help'." ] || fail_with "$stderr"
}

@test "probe: malformed sizes and timeouts are usage errors" {
	local a
	for a in "--length 3x" "--length 0" "--length 1000" "--length -4K" "--timeout 0" "--timeout abc" \
		"--hugepages --length 3M"; do
		# shellcheck disable=SC2086 # the option and its value
		run --separate-stderr "$IOMMUCTL" probe $a 00:00.0
		[ "$status" -eq 2 ] || fail_with "$a: status $status: $stderr"
		[[ $stderr == *"Try 'iommuctl probe --help'." ]] || fail_with "$a: $stderr"
	done
}

@test "probe: --sysroot is refused, probe acts on the live system" {
	run --separate-stderr "$IOMMUCTL" --sysroot "$BATS_TEST_TMPDIR" probe 00:00.0
	[ "$status" -eq 2 ]
	[[ $stderr == *"probe: acts on the live system"* ]] || fail_with "$stderr"
}

@test "probe: a device that does not exist is not found, before anything is done" {
	[ -d /sys/bus/pci/devices ] || skip "no PCI sysfs on this host"
	run --separate-stderr "$IOMMUCTL" probe -j 0000:ff:1f.7
	[ "$status" -eq 3 ]
	[ "$stderr" = "iommuctl: 0000:ff:1f.7: no such PCI device" ] || fail_with "$stderr"
	[ -z "$output" ] || fail_with "$output"
}

@test "probe: on a host without IOMMU groups the answer is 7 with the JSON of the failed step" {
	[ -d /sys/bus/pci/devices ] || skip "no PCI sysfs on this host"
	[ -z "$(ls /sys/kernel/iommu_groups 2>/dev/null)" ] || skip "this host has an IOMMU"
	dev=$(cd /sys/bus/pci/devices && ls | head -n1)
	run --separate-stderr "$IOMMUCTL" probe -j "$dev"
	[ "$status" -eq 7 ]
	[[ $stderr == "iommuctl: $dev: group: no IOMMU groups"* ]] || fail_with "$stderr"
	got=$(jq -c '[.ready, .devices[0].failed_step, ([.devices[0].steps[].result] | unique)]' <<<"$output")
	[ "$got" = '[false,"group",["failed","not_run"]]' ] || fail_with "$got"
}
