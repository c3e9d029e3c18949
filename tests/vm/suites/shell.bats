#!/usr/bin/env bats
# iommuctl shell against a real iommufd, typed through a pseudo-terminal:
# Tab completes the session's own objects, by name and by kernel id, and
# the prompt shows what the session holds.  (Commands, options and device
# addresses are covered on fixtures in tests/cli/shell.bats.)

load lib

setup_file() {
	[ -x "$IOMMUCTL" ] || { echo "no binary at IOMMUCTL=$IOMMUCTL" >&2; return 1; }
	[ -e /dev/iommu ] || skip "no /dev/iommu in this topology"
	EDU=$(find_lone_edu)
	[ -n "$EDU" ] || skip "no lone edu device"
	bind_to "$EDU" vfio-pci || { echo "cannot bind $EDU to vfio-pci" >&2; return 1; }
	export EDU
}

teardown_file() {
	[ -z "${EDU:-}" ] || unbind_to_default "$EDU"
}

drive() { # drive KEYS...: type KEYS into a fresh shell; Ctrl-U, Ctrl-D leave it
	IOMMUCTL_HISTORY= python3 tests/pty-drive.py --delay 1 "$@" '\x15' '\x04' -- "$IOMMUCTL" shell
}

@test "Tab completes an IOAS by the name it was given" {
	run drive "open $EDU\n" 'ioas alloc vm0\n' "attach $EDU v\t"
	[[ "$output" == *"attach $EDU vm0 "* ]] || { echo "screen: $output"; return 1; }
}

@test "Tab completes an object by its kernel id, and the prompt counts what is held" {
	run drive "open $EDU\n" 'ioas alloc\n' 'state\n' 'destroy \t\t'
	[[ "$output" == *"iommuctl[1 dev, 1 obj]>"* ]] || { echo "screen: $output"; return 1; }
	# The kernel's id of the IOAS, as state printed it, is what Tab offers.
	id=$(echo "$output" | tr -d '\r' | grep -E '^id: [0-9]+$' | grep -oE '[0-9]+' | head -n 1)
	[ -n "$id" ] || { echo "no id in: $output"; return 1; }
	[[ "$output" == *"destroy $id"* ]] || { echo "id $id not completed: $output"; return 1; }
}

@test "leaving the shell closes the device: it is back in the vfio state" {
	drive "open $EDU\n" 'ioas alloc vm0\n' "attach $EDU vm0\n" >/dev/null
	run "$IOMMUCTL" list -j --device "$EDU"
	echo "$output" | jq -e '.groups[0].devices[0].holders | length == 0' >/dev/null ||
		{ echo "still held: $output"; return 1; }
}
