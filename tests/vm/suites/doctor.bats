#!/usr/bin/env bats
# iommuctl doctor against a real kernel: the verdicts each topology must get.
#   tests/vm/run-vm.sh passthrough bats --tap tests/vm/suites/doctor.bats
# One doctor run per topology (process starts are slow under TCG); the
# expectations come from what the topology file sets up, not from iommuctl.

bats_require_minimum_version 1.5.0
load lib

setup_file() {
	[ -x "$IOMMUCTL" ] || { echo "no binary at IOMMUCTL=$IOMMUCTL" >&2; return 1; }
	: "${VM_TOPOLOGY:?VM_TOPOLOGY names the topology}"
	local status=0
	"$IOMMUCTL" doctor -j >"$BATS_FILE_TMPDIR/doctor.json" 2>"$BATS_FILE_TMPDIR/doctor.err" || status=$?
	echo "$status" >"$BATS_FILE_TMPDIR/doctor.status"
	# "id verdict" lines, read by every test.
	jq -r '.checks[] | "\(.id) \(.verdict)"' "$BATS_FILE_TMPDIR/doctor.json" >"$BATS_FILE_TMPDIR/verdicts"
}

# expect ID VERDICT...
expect() {
	local id got want
	declare -A have
	while read -r id got; do have[$id]=$got; done <"$BATS_FILE_TMPDIR/verdicts"
	while [ $# -gt 0 ]; do
		id=$1 want=$2
		shift 2
		[ "${have[$id]:-missing}" = "$want" ] ||
			{ echo "$VM_TOPOLOGY: $id: want $want, got ${have[$id]:-missing}" >&2
			  jq ".checks[] | select(.id == \"$id\")" "$BATS_FILE_TMPDIR/doctor.json" >&2; return 1; }
	done
}

@test "doctor: valid JSON, nothing on stderr" {
	jq -e '.checks | length == 11' "$BATS_FILE_TMPDIR/doctor.json" >/dev/null
	[ ! -s "$BATS_FILE_TMPDIR/doctor.err" ] || { cat "$BATS_FILE_TMPDIR/doctor.err" >&2; false; }
	jq -e --arg r "$(uname -r)" '.kernel == $r' "$BATS_FILE_TMPDIR/doctor.json" >/dev/null
}

@test "doctor: the IOMMU is there and enabled" {
	expect iommu_hardware pass iommu_enabled pass
	case $VM_TOPOLOGY in
	virtio-iommu) jq -e '.checks[0].observed | test("VIOT")' "$BATS_FILE_TMPDIR/doctor.json" >/dev/null ;;
	amd-iommu) jq -e '.checks[0].observed | test("IVRS")' "$BATS_FILE_TMPDIR/doctor.json" >/dev/null ;;
	*) jq -e '.checks[0].observed | test("DMAR")' "$BATS_FILE_TMPDIR/doctor.json" >/dev/null ;;
	esac
}

@test "doctor: default domains warn on identity (passthrough) only" {
	if [ "$VM_TOPOLOGY" = passthrough ]; then expect default_domains warn; else expect default_domains pass; fi
}

@test "doctor: interrupt remapping and command line per topology" {
	case $VM_TOPOLOGY in
	virtio-iommu) expect interrupt_remapping warn kernel_cmdline warn ;;
	passthrough) expect interrupt_remapping pass kernel_cmdline warn ;;
	*) expect interrupt_remapping pass kernel_cmdline pass ;;
	esac
}

@test "doctor: iommufd, VFIO cdevs and vfio-pci (modules not loaded yet are loaded on first use)" {
	if [ "$VM_TOPOLOGY" = nomodules ]; then
		# The guest has no kernel config in /boot for doctor to read, so
		# whether vfio will have cdevs is unknown until it is loaded: warn.
		expect iommufd pass vfio_cdev warn vfio_pci pass
		jq -e '[.checks[] | select(.id == "iommufd" or .id == "vfio_pci") | .observed | test("loaded on first use")] == [true, true]' \
			"$BATS_FILE_TMPDIR/doctor.json" >/dev/null
	else
		expect iommufd pass vfio_cdev pass vfio_pci pass
		# Probed through /dev/iommu: IOAS is there on any iommufd kernel.
		jq -e '.features.ioas == true and .features.vfio_device_cdev == true' "$BATS_FILE_TMPDIR/doctor.json" >/dev/null
	fi
}

@test "doctor: its verdict agrees with what probe achieves on the lone edu" {
	local edu ok ready
	edu=$(find_lone_edu) && [ -n "$edu" ] || skip "no lone edu in this topology"
	ok=$(jq .summary.ok "$BATS_FILE_TMPDIR/doctor.json")
	local before=loaded m
	[ -d /sys/module/iommufd ] || before=absent
	capture "$IOMMUCTL" probe -j "$edu"
	ready=$(jq .ready <<<"$output")
	# Leave the modules as the topology had them, for the suites after this one.
	if [ "$before" = absent ]; then
		for m in vfio_pci vfio_pci_core vfio_iommu_type1 vfio iommufd; do
			[ -d "/sys/module/$m" ] && rmmod "$m"
		done
	fi
	echo "doctor ok: $ok; probe ready: $ready (exit $status) $stderr"
	[ "$ok" = "$ready" ]
}

@test "doctor: root holds CAP_IPC_LOCK, so locked memory passes" {
	expect memlock pass
}

@test "doctor: exit status 1 exactly when a check failed" {
	local status
	status=$(cat "$BATS_FILE_TMPDIR/doctor.status")
	[ "$status" = 0 ]
	jq -e --argjson s "$status" '(.summary.fail > 0) == ($s == 1)' "$BATS_FILE_TMPDIR/doctor.json" >/dev/null
}
