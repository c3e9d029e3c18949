#!/usr/bin/env bats
# iommuctl doctor on machines that are NOT ready, and the kernel agreeing
# with it: iommu-off (firmware has VT-d, the kernel was told not to use
# it) and no-intremap (VT-d without interrupt remapping).

bats_require_minimum_version 1.5.0
load lib

setup_file() {
	[ -x "$IOMMUCTL" ] || { echo "no binary at IOMMUCTL=$IOMMUCTL" >&2; return 1; }
	: "${VM_TOPOLOGY:?VM_TOPOLOGY names the topology}"
	local status=0
	"$IOMMUCTL" doctor -j >"$BATS_FILE_TMPDIR/doctor.json" || status=$?
	echo "$status" >"$BATS_FILE_TMPDIR/doctor.status"
}

verdict() { jq -r --arg id "$1" '.checks[] | select(.id == $id) | .verdict' "$BATS_FILE_TMPDIR/doctor.json"; }
observed() { jq -r --arg id "$1" '.checks[] | select(.id == $id) | .observed' "$BATS_FILE_TMPDIR/doctor.json"; }

@test "doctor fails the machine: exit 1" {
	[ "$(cat "$BATS_FILE_TMPDIR/doctor.status")" -eq 1 ]
}

@test "iommu-off: hardware described but unused, no groups, and the command line named" {
	[ "$VM_TOPOLOGY" = iommu-off ] || skip "for iommu-off"
	[ "$(verdict iommu_hardware)" = fail ] && [[ "$(observed iommu_hardware)" == *DMAR* ]]
	[ "$(verdict iommu_enabled)" = fail ]
	[ "$(verdict kernel_cmdline)" = fail ] && [[ "$(observed kernel_cmdline)" == *intel_iommu=off* ]]
	# The kernel agrees: no groups, and iommuctl says there is no IOMMU.
	[ -z "$(ls /sys/kernel/iommu_groups)" ]
	run --separate-stderr "$IOMMUCTL" list
	[ "$status" -eq 7 ]
}

@test "no-intremap: only interrupt remapping fails, and the kernel refuses to open a device for it" {
	[ "$VM_TOPOLOGY" = no-intremap ] || skip "for no-intremap"
	[ "$(verdict interrupt_remapping)" = fail ]
	[ "$(verdict iommu_hardware)" = pass ] && [ "$(verdict iommu_enabled)" = pass ]
	local edu
	edu=$(find_lone_edu)
	[ -n "$edu" ] || { echo "no lone edu" >&2; return 1; }
	bind_to "$edu" vfio-pci
	run --separate-stderr "$IOMMUCTL" run - <<<"open $edu"
	unbind_to_default "$edu"
	echo "status $status: $stderr"
	[ "$status" -eq 7 ]
	[[ "$stderr" == *"interrupt remapping"* ]]
}

@test "doctor's fail agrees with probe: probe cannot get the lone edu ready either" {
	local edu
	edu=$(find_lone_edu) && [ -n "$edu" ] || skip "no lone edu in this topology"
	capture "$IOMMUCTL" probe -j "$edu"
	echo "probe exit $status: $stderr"
	[ "$(jq .ready <<<"$output")" = false ]
	[ "$status" -ne 0 ]
}
