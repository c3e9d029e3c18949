#!/usr/bin/env bats
# SR-IOV in a guest with a real PF (topology sriov: igb on QEMU 10).
#   tests/vm/run-vm.sh sriov bats --tap tests/vm/suites/sriov.bats
# Expectations come from the guest kernel's sysfs (sriov_*, virtfn*,
# iommu_group), never from iommuctl.  Every test puts numvfs back to 0.

bats_require_minimum_version 1.5.0
load lib

PF=0000:01:00.0
P=/sys/bus/pci/devices/$PF

setup_file() {
	[ -x "$IOMMUCTL" ] || { echo "no binary at IOMMUCTL=$IOMMUCTL" >&2; return 1; }
	[ -e "$P/sriov_totalvfs" ] || { echo "no SR-IOV PF at $PF" >&2; return 1; }
}

teardown() {
	local v
	for v in "$P"/virtfn*; do
		[ -e "$v" ] || continue
		unbind_to_default "$(basename "$(readlink -f "$v")")" || true
	done
	echo 0 >"$P/sriov_numvfs" || true
	echo 1 >"$P/sriov_drivers_autoprobe" || true
}

@test "sriov: VFs created without autoprobe are driver-less, each in a group of its own, as iommuctl lists them" {
	echo 0 >"$P/sriov_drivers_autoprobe"
	echo 3 >"$P/sriov_numvfs"
	local v vf g out facts n=0
	out=$("$IOMMUCTL" list -j)
	for v in "$P"/virtfn*; do
		vf=$(basename "$(readlink -f "$v")")
		g=$(basename "$(readlink "$v/iommu_group")")
		[ ! -e "$v/driver" ]
		# iommuctl's group for the VF holds exactly that VF, with no driver.
		facts=$(jq -r --arg a "$vf" '.groups[] | select(any(.devices[]; .address == $a))
			| "\(.id) \(.devices | length) \(.devices[0].driver)"' <<<"$out")
		[ "$facts" = "$g 1 null" ] || { echo "VF $vf: kernel group $g, iommuctl: $facts"; return 1; }
		n=$((n + 1))
	done
	[ "$n" = 3 ]
}

@test "sriov: iommuctl binds a VF to vfio-pci and gives it back" {
	echo 0 >"$P/sriov_drivers_autoprobe"
	echo 1 >"$P/sriov_numvfs"
	local vf
	vf=$(basename "$(readlink -f "$P/virtfn0")")
	run "$IOMMUCTL" bind "$vf"
	[ "$status" -eq 0 ] || { echo "$output"; return 1; }
	[ "$(basename "$(readlink "/sys/bus/pci/devices/$vf/driver")")" = vfio-pci ]
	[ -e "/sys/bus/pci/devices/$vf/vfio-dev" ]
	run "$IOMMUCTL" unbind "$vf"
	[ "$status" -eq 0 ] || { echo "$output"; return 1; }
	[ ! -e "/sys/bus/pci/devices/$vf/driver" ] || [ "$(basename "$(readlink "/sys/bus/pci/devices/$vf/driver")")" != vfio-pci ]
}
