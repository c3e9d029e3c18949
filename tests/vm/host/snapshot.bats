#!/usr/bin/env bats
# Host half of the snapshot round trip: a snapshot taken inside a guest
# (tests/vm/suites/topology.bats, last test) must read back on the host with
# --sysroot exactly as the guest read its live sysfs: byte-identical list,
# check and show output.
#
# VM_RESULTS names the guest's results directory (check-vm.sh passes it).
# Without it, this file boots "basic" itself to take one (about 20 s).

bats_require_minimum_version 1.5.0

setup_file() {
	cd "$BATS_TEST_DIRNAME/../../.." || return 1
	: "${IOMMUCTL:=$PWD/build-san/iommuctl}"
	[ -x "$IOMMUCTL" ] || IOMMUCTL=$PWD/build/iommuctl
	export IOMMUCTL
	if [ -z "${VM_RESULTS:-}" ]; then
		VM_RESULTS=$BATS_FILE_TMPDIR/results
		tests/vm/run-vm.sh -r "$VM_RESULTS" basic bats --tap -f snapshot tests/vm/suites/topology.bats \
			>"$BATS_FILE_TMPDIR/guest.log" 2>&1 ||
			{ echo "the guest half failed:" >&2; cat "$BATS_FILE_TMPDIR/guest.log" >&2; return 1; }
	fi
	export VM_RESULTS
	[ -s "$VM_RESULTS/snap.tar" ] || { echo "no snap.tar in $VM_RESULTS" >&2; return 1; }
	export ROOT=$BATS_FILE_TMPDIR/root
	mkdir -p "$ROOT"
	tar -xf "$VM_RESULTS/snap.tar" -C "$ROOT"
}

same_as_guest() {
	local want=$VM_RESULTS/$1
	shift
	run --separate-stderr "$IOMMUCTL" --sysroot "$ROOT" "$@"
	[ -z "$stderr" ] || echo "stderr: $stderr"
	if [ "$output" != "$(cat "$want")" ]; then
		diff -u "$want" <(echo "$output") | head -n 40
		return 1
	fi
}

@test "list -j of the guest's snapshot on the host is byte-identical to the guest's" {
	same_as_guest snap-list.json list -j
	[ "$status" -eq 0 ]
}

@test "check -j of the guest's snapshot on the host is byte-identical, exit status included" {
	same_as_guest snap-check.json check -j
	[ "$status" -eq 1 ]	# the lab's own 9p devices are on virtio-pci
}

@test "show -j of every device of the snapshot on the host is byte-identical" {
	devs=("$ROOT"/sys/bus/pci/devices/*)
	same_as_guest snap-show.json show -j "${devs[@]##*/}"
	[ "$status" -eq 0 ]
}
