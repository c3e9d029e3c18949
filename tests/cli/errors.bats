#!/usr/bin/env bats
# Every error path: exact exit status (doc/contracts.md) and exact stderr,
# nothing on stdout. @SYSROOT@ in a message stands for the host's tree.
# Usage errors (status 2) add the line "Try 'iommuctl [COMMAND] --help'."
# (shared/style.md).

load helpers

setup_file() {
	fixtures_setup
}

setup() {
	HOST=qemu-q35
}

TRY="Try 'iommuctl --help'."
TRY_LIST="Try 'iommuctl list --help'."
TRY_SHOW="Try 'iommuctl show --help'."
TRY_CHECK="Try 'iommuctl check --help'."
TRY_SNAPSHOT="Try 'iommuctl snapshot --help'."
MALFORMED="malformed PCI address (expected DDDD:BB:DD.F or BB:DD.F)"

# ---- devices and groups that do not exist ----------------------------------

@test "unknown device: exit 3" {
	run --separate-stderr ictl qemu-q35 show 0000:00:09.0
	assert_error 3 "iommuctl: 0000:00:09.0: no such PCI device"
	run --separate-stderr ictl qemu-q35 show 00:09.0 -j
	assert_error 3 "iommuctl: 0000:00:09.0: no such PCI device"
	run --separate-stderr ictl qemu-q35 check 0000:00:09.0
	assert_error 3 "iommuctl: 0000:00:09.0: no such PCI device"
	run --separate-stderr ictl qemu-q35 list --device 0000:00:09.0
	assert_error 3 "iommuctl: 0000:00:09.0: no such PCI device"
}

@test "unknown device among known ones fails the whole command" {
	run --separate-stderr ictl qemu-q35 show 00:03.0 00:09.0 -j
	assert_error 3 "iommuctl: 0000:00:09.0: no such PCI device"
}

@test "unknown name (not an address, group or interface): exit 3" {
	run --separate-stderr ictl qemu-q35 show eth9
	assert_error 3 "iommuctl: eth9: no such PCI device, group or network interface"
	run --separate-stderr ictl qemu-q35 show abc
	assert_error 3 "iommuctl: abc: no such PCI device, group or network interface"
}

@test "unknown group: exit 3" {
	run --separate-stderr ictl qemu-q35 show 99
	assert_error 3 "iommuctl: group 99: no such IOMMU group"
	run --separate-stderr ictl qemu-q35 check 99 -j
	assert_error 3 "iommuctl: group 99: no such IOMMU group"
	run --separate-stderr ictl qemu-q35 list --group 99 -j
	assert_error 3 "iommuctl: group 99: no such IOMMU group"
}

@test "a device in no group: show works, check and list --device say why" {
	run --separate-stderr ictl amd-domains show 0000:00:00.2 -j
	assert_status 0
	jq_eq '.devices[0].iommu_group' 'null'
	run --separate-stderr ictl amd-domains check 0000:00:00.2
	assert_error 3 "iommuctl: 0000:00:00.2: not in any IOMMU group"
	run --separate-stderr ictl amd-domains list --device 00:00.2 -j
	assert_error 3 "iommuctl: 0000:00:00.2: not in any IOMMU group"
}

# ---- malformed names ---------------------------------------------------------

@test "malformed address 00:1g.0: exit 2" {
	run --separate-stderr ictl qemu-q35 show 00:1g.0
	assert_error 2 "iommuctl: 00:1g.0: $MALFORMED" "$TRY_SHOW"
	run --separate-stderr ictl qemu-q35 check 00:1g.0
	assert_error 2 "iommuctl: 00:1g.0: $MALFORMED" "$TRY_CHECK"
	run --separate-stderr ictl qemu-q35 list --device 00:1g.0
	assert_error 2 "iommuctl: 00:1g.0: $MALFORMED" "$TRY_LIST"
}

@test "malformed address 0000:00:03 (no function): exit 2" {
	run --separate-stderr ictl qemu-q35 show 0000:00:03
	assert_error 2 "iommuctl: 0000:00:03: $MALFORMED" "$TRY_SHOW"
}

@test "malformed addresses: slot 0x20, function 8, domain of 9 digits or a 5-digit one with a leading zero, trailing junk" {
	local a
	for a in 00:20.0 00:1f.8 100000000:00:1f.0 010000:00:1f.0 0000:00:03.0x 0:1f.0; do
		run --separate-stderr ictl qemu-q35 show "$a"
		assert_error 2 "iommuctl: $a: $MALFORMED" "$TRY_SHOW" || fail_with "address $a"
	done
}

@test "empty name: exit 2" {
	run --separate-stderr ictl qemu-q35 show ''
	assert_error 2 "iommuctl: empty device name" "$TRY_SHOW"
}

@test "very long name: exit 2, echoed cut short" {
	local long
	long="$(printf 'a%.0s' {1..5000})"
	run --separate-stderr ictl qemu-q35 show "$long"
	assert_error 2 "iommuctl: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...: name too long for a PCI address, group or interface" "$TRY_SHOW"
	long="0000:00:03.0$(printf '0%.0s' {1..5000})"
	run --separate-stderr ictl qemu-q35 show "$long"
	assert_error 2 "iommuctl: 0000:00:03.000000000000000000000...: name too long for a PCI address, group or interface" "$TRY_SHOW"
}

@test "non-numeric group for --group: exit 2" {
	local g
	for g in abc -1 4x 0x4 ''; do
		run --separate-stderr ictl qemu-q35 list --group "$g"
		assert_error 2 "iommuctl: $g: --group: not a group number" "$TRY_LIST" || fail_with "--group '$g'"
	done
}

@test "--assume-vfio takes devices, not groups: exit 2" {
	run --separate-stderr ictl qemu-q35 check --assume-vfio 4
	assert_error 2 "iommuctl: 4: not a PCI address (expected DDDD:BB:DD.F or BB:DD.F)" "$TRY_CHECK"
}

@test "--class must be 2, 4 or 6 hex digits: exit 2" {
	local c
	for c in zz 1234567 0x 2; do
		run --separate-stderr ictl qemu-q35 list --class "$c"
		assert_error 2 "iommuctl: $c: --class: expected 2, 4 or 6 hex digits (02, 0200, 0x020000)" "$TRY_LIST" ||
			fail_with "--class '$c'"
	done
}

# ---- commands and options ------------------------------------------------------

@test "unknown command, and no prefix matching: exit 2" {
	local c
	for c in lis l sho chec List; do
		run --separate-stderr ictl qemu-q35 "$c"
		assert_error 2 "iommuctl: $c: unknown command" "$TRY" || fail_with "command $c"
	done
	run --separate-stderr ictl qemu-q35 help lis
	assert_error 2 "iommuctl: lis: unknown command" "Try 'iommuctl help --help'."
}

@test "no command: exit 2" {
	run --separate-stderr ictl qemu-q35
	assert_error 2 "iommuctl: no command given" "$TRY"
}

@test "unknown option: exit 2" {
	run --separate-stderr ictl qemu-q35 list --bogus
	assert_error 2 "iommuctl: list: unknown option --bogus" "$TRY_LIST"
	run --separate-stderr ictl qemu-q35 list -x
	assert_error 2 "iommuctl: list: unknown option -x" "$TRY_LIST"
	run --separate-stderr ictl qemu-q35 show 00:03.0 -j --bogus
	assert_error 2 "iommuctl: show: unknown option --bogus" "$TRY_SHOW"
	run --separate-stderr "$IOMMUCTL" --bogus list
	assert_error 2 "iommuctl: unknown option --bogus" "$TRY"
	# Command options are not global options.
	run --separate-stderr ictl qemu-q35 --group 3 list
	assert_error 2 "iommuctl: unknown option --group" "$TRY"
	run --separate-stderr ictl qemu-q35 show --assume-vfio 00:03.0
	assert_error 2 "iommuctl: show: unknown option --assume-vfio" "$TRY_SHOW"
}

@test "missing option argument: exit 2" {
	run --separate-stderr ictl qemu-q35 list --group
	assert_error 2 "iommuctl: list: option --group needs an argument" "$TRY_LIST"
	run --separate-stderr ictl qemu-q35 list --driver
	assert_error 2 "iommuctl: list: option --driver needs an argument" "$TRY_LIST"
	run --separate-stderr ictl qemu-q35 list -g
	assert_error 2 "iommuctl: list: option -g needs an argument" "$TRY_LIST"
	run --separate-stderr "$IOMMUCTL" --sysroot
	assert_error 2 "iommuctl: option --sysroot needs an argument" "$TRY"
}

@test "missing or extra positional arguments: exit 2" {
	run --separate-stderr ictl qemu-q35 show
	assert_error 2 "iommuctl: show: name a device (0000:01:00.0, 01:00.0, eth0) or a group number" "$TRY_SHOW"
	run --separate-stderr ictl qemu-q35 check --assume-vfio
	assert_error 2 "iommuctl: check: --assume-vfio needs the devices to assume bound" "$TRY_CHECK"
	run --separate-stderr ictl qemu-q35 list extra
	assert_error 2 "iommuctl: list: unexpected argument extra" "$TRY_LIST"
	run --separate-stderr ictl qemu-q35 snapshot
	assert_error 2 "iommuctl: snapshot: name one output file (FILE.tar, or - for standard output)" "$TRY_SNAPSHOT"
}

# ---- --sysroot -----------------------------------------------------------------

@test "--sysroot pointing to a missing directory: exit 2" {
	run --separate-stderr "$IOMMUCTL" --sysroot "$BATS_TEST_TMPDIR/missing" list
	HOST='' assert_error 2 "iommuctl: $BATS_TEST_TMPDIR/missing: --sysroot: No such file or directory" "$TRY"
	# Also when given after the command.
	run --separate-stderr "$IOMMUCTL" list --sysroot "$BATS_TEST_TMPDIR/missing"
	HOST='' assert_error 2 "iommuctl: $BATS_TEST_TMPDIR/missing: --sysroot: No such file or directory" "$TRY"
}

@test "--sysroot pointing to a file: exit 2" {
	: >"$BATS_TEST_TMPDIR/file"
	run --separate-stderr "$IOMMUCTL" --sysroot "$BATS_TEST_TMPDIR/file" list
	HOST='' assert_error 2 "iommuctl: $BATS_TEST_TMPDIR/file: --sysroot: not a directory" "$TRY"
}

# ---- hosts without an IOMMU ----------------------------------------------------

NO_IOMMU="iommuctl: no IOMMU groups: the IOMMU is absent or disabled (enable VT-d/AMD-Vi in firmware, and intel_iommu=on on Intel; iommuctl doctor checks the host, make demo tries iommuctl in a guest)"

@test "no IOMMU (empty directories): list, check, show GROUP exit 7" {
	HOST=noiommu
	run --separate-stderr ictl noiommu list
	assert_error 7 "$NO_IOMMU"
	run --separate-stderr ictl noiommu check
	assert_error 7 "$NO_IOMMU"
	run --separate-stderr ictl noiommu check 00:02.0
	assert_error 7 "$NO_IOMMU"
	run --separate-stderr ictl noiommu show 3
	assert_error 7 "$NO_IOMMU"
}

@test "no IOMMU (no directories at all): list, check exit 7" {
	HOST=noiommu-bare
	run --separate-stderr ictl noiommu-bare list
	assert_error 7 "$NO_IOMMU"
	run --separate-stderr ictl noiommu-bare check
	assert_error 7 "$NO_IOMMU"
}

@test "no IOMMU: -j keeps the JSON shape on stdout, with exit 7" {
	local h
	for h in noiommu noiommu-bare; do
		run --separate-stderr ictl "$h" list -j
		assert_status 7
		jq_eq . '{"groups":[]}'
		[ "$stderr" = "$NO_IOMMU" ]
		run --separate-stderr ictl "$h" check -j
		assert_status 7
		jq_ok '.viable == false and .groups == []'
		[ "$stderr" = "$NO_IOMMU" ]
	done
}

@test "no IOMMU: a device can still be shown, with no group" {
	run --separate-stderr ictl noiommu show eth0 -j
	assert_status 0
	jq_eq '.devices[0] | [.address, .iommu_group, .verdict]' '["0000:00:02.0",null,"blocking"]'
}

# ---- damaged sysfs -------------------------------------------------------------

@test "unreadable vendor file: the device is skipped with a warning naming the file, its group is not viable" {
	HOST=broken-vendor
	local cmd
	for cmd in "list" "list -j" "check" "show 00:04.0"; do
		# shellcheck disable=SC2086
		run --separate-stderr ictl broken-vendor $cmd
		[ "$status" -le 1 ] || fail_with "$cmd: exit $status: $stderr"
		[[ "$(normalize broken-vendor <<<"$stderr")" =~ ^iommuctl:\ warning:\ skipping\ PCI\ device\ 0000:00:03\.0,\ which\ cannot\ be\ read:\ @SYSROOT@/sys/bus/pci/devices/0000:00:03\.0/vendor:\ (.*:\ )?Is\ a\ directory$ ]] ||
			fail_with "$cmd: stderr: $stderr"
	done
	run --separate-stderr ictl broken-vendor check -j
	assert_status 1
	jq_eq '[.groups[] | select(.id == 3) | .viable]' '[false]'
	run --separate-stderr ictl broken-vendor show 00:03.0
	assert_status 3
	[[ $stderr == *"iommuctl: 0000:00:03.0: no such PCI device" ]] || fail_with "$stderr"
}

@test "malformed class file: the device is skipped with a warning naming file and value" {
	HOST=broken-class
	run --separate-stderr ictl broken-class list
	assert_status 0
	[ "$(normalize broken-class <<<"$stderr")" = 'iommuctl: warning: skipping PCI device 0000:00:03.0, which cannot be read: @SYSROOT@/sys/bus/pci/devices/0000:00:03.0/class: malformed value "0xzz"' ] || fail_with "$stderr"
	[[ $output == *"0000:00:04.0"* && $output != *"0000:00:03.0"* ]] || fail_with "$output"
}

@test "an entry of sys/bus/pci/devices that is not a PCI address is skipped with a warning, not a failed load" {
	local root="$BATS_TEST_TMPDIR/q35"
	cp -a "$(sysroot qemu-q35)" "$root"
	mkdir "$root/sys/bus/pci/devices/junk"
	run --separate-stderr "$IOMMUCTL" --sysroot "$root" list
	assert_status 0
	[ "$stderr" = "iommuctl: warning: skipping PCI device junk, which cannot be read: $root/sys/bus/pci/devices/junk: not a PCI address" ] || fail_with "$stderr"
}

@test "malformed reserved_regions: exit 8 naming file and line" {
	HOST=broken-resv
	run --separate-stderr ictl broken-resv list -j
	assert_error 8 'iommuctl: @SYSROOT@/sys/kernel/iommu_groups/3/reserved_regions: malformed line "garbage"'
}

@test "unreadable group type: exit 8 naming the file" {
	HOST=broken-type
	run --separate-stderr ictl broken-type list -j
	assert_status 8
	[ -z "$output" ]
	[[ "$(normalize broken-type <<<"$stderr")" =~ ^iommuctl:\ @SYSROOT@/sys/kernel/iommu_groups/3/type:\ (.*:\ )?Is\ a\ directory$ ]] ||
		fail_with "stderr: $stderr"
}

@test "snapshot to a directory that does not exist: exit 8" {
	run --separate-stderr ictl qemu-q35 snapshot "$BATS_TEST_TMPDIR/no/such/dir/s.tar"
	HOST='' assert_error 8 "iommuctl: $BATS_TEST_TMPDIR/no/such/dir/s.tar: cannot create: No such file or directory"
}

@test "every error message is a single line" {
	# Collected from the cases above: nothing but the message (and the
	# usage hint for status 2) may reach stderr.
	local args
	while IFS= read -r args; do
		# shellcheck disable=SC2086
		run --separate-stderr ictl qemu-q35 $args
		local lines
		lines=$(printf '%s\n' "$stderr" | wc -l)
		if [ "$status" -eq 2 ]; then
			[ "$lines" -le 2 ] || fail_with "$args: $lines lines: $stderr"
			[[ "$(printf '%s\n' "$stderr" | tail -1)" == "Try 'iommuctl"*"--help'." ]] || fail_with "$args: no hint: $stderr"
		else
			[ "$lines" -eq 1 ] || fail_with "$args: $lines lines: $stderr"
		fi
		[[ "$stderr" == iommuctl:\ * ]] || fail_with "$args: not prefixed: $stderr"
	done <<-'EOF'
		show 0000:00:09.0
		show 00:1g.0
		show 99
		list --group x
		list --bogus
		lis
		check 42
		show
	EOF
}

@test "a filter given twice is refused, not half-applied" {
	run --separate-stderr ictl qemu-q35 list --group 3 --group 4
	assert_error 2 "iommuctl: --group: give this filter once" "$TRY_LIST"
	run --separate-stderr ictl qemu-q35 list --class 02 -c 0c
	assert_error 2 "iommuctl: --class: give this filter once" "$TRY_LIST"
}
