#!/usr/bin/env bats
# iommuctl shell on fixture hosts: piped input, exit status, and completion
# typed through a pseudo-terminal (tests/pty-drive.py).  Completion of the
# session's own objects needs /dev/iommu and is in tests/vm/suites/shell.bats.

load helpers

setup_file() {
	fixtures_setup
}

drive() { # drive HOST KEYS...: type KEYS into the shell on HOST's tree
	local host=$1
	shift
	# Ctrl-U clears the line, so the Ctrl-D after it leaves the shell.
	"$REPO_ROOT/tests/pty-drive.py" --delay 0.3 "$@" '\x15' '\x04' -- "$IOMMUCTL" --sysroot "$(sysroot "$host")" shell
}

@test "piped: commands run like their top-level twins, without a prompt or echo" {
	run --separate-stderr bash -c "printf 'list --group 3\n' | '$IOMMUCTL' --sysroot '$(sysroot qemu-q35)' shell"
	assert_status 0
	[ "$output" = "$(ictl qemu-q35 list --group 3)" ] || fail_with "got: $output"
}

@test "piped: an unknown command is named, and the status is the last command's" {
	run --separate-stderr bash -c "printf 'bogus\n' | '$IOMMUCTL' --sysroot '$(sysroot qemu-q35)' shell"
	[ "$status" -eq 2 ] || fail_with "status $status"
	[[ "$stderr" == "iommuctl: bogus: unknown command"* ]] || fail_with "stderr: $stderr"
	run --separate-stderr bash -c "printf 'bogus\nlist --group 3\n' | '$IOMMUCTL' --sysroot '$(sysroot qemu-q35)' shell"
	assert_status 0
}

@test "piped with -j: one JSON document per command" {
	run --separate-stderr bash -c "printf 'check 3\n' | '$IOMMUCTL' -j --sysroot '$(sysroot qemu-q35)' shell"
	assert_status 0
	echo "$output" | jq -e '.viable == true and (.groups | length) == 1' >/dev/null || fail_with "got: $output"
}

@test "a stray argument is a usage error that points at run" {
	run --separate-stderr ictl qemu-q35 shell script.txt
	assert_status 2
	[[ "$stderr" == *"for a script, use 'iommuctl run FILE'"* ]] || fail_with "stderr: $stderr"
}

@test "Tab completes command words, then sub-commands" {
	run drive qemu-q35 'io\t' 'm\t'
	[[ "$output" == *"iommuctl> ioas map "* ]] || fail_with "screen: $output"
}

@test "Tab completes the PCI address of a VFIO-bound device, and only those" {
	# 00:03.0 is on vfio-pci; 00:00.0 and the ICH9 functions are not.
	run drive qemu-q35 'open 0000:00:0\t'
	[[ "$output" == *"open 0000:00:03.0 "* ]] || fail_with "screen: $output"
	run drive qemu-q35 'open 0000:01:0\t\t'
	[[ "$output" == *"open 0000:01:01.0 "* ]] || fail_with "screen: $output"
	[[ "$output" != *"0000:01:02.0"* ]] || fail_with "offered the virtio-net on its kernel driver: $output"
}

@test "Tab completes a command's options" {
	run drive qemu-q35 'ioas map x --le\t'
	[[ "$output" == *"ioas map x --length "* ]] || fail_with "screen: $output"
}

@test "a completed command runs on Enter; Ctrl-D leaves with status 0" {
	run drive qemu-q35 'li\t--group 3\n'
	assert_status 0
	[[ "$output" == *"0000:00:03.0  1234:11e8"* ]] || fail_with "screen: $output"
}

@test "the history file is never read or written through a link (one planted in \$HOME)" {
	mkdir -p "$BATS_TEST_TMPDIR/home"
	printf 'secret\n' >"$BATS_TEST_TMPDIR/victim"
	ln -s "$BATS_TEST_TMPDIR/victim" "$BATS_TEST_TMPDIR/home/.iommuctl_history"
	HOME="$BATS_TEST_TMPDIR/home" run drive qemu-q35 'list --group 3\r'
	[ "$(cat "$BATS_TEST_TMPDIR/victim")" = secret ] || fail_with "written through the link: $(cat "$BATS_TEST_TMPDIR/victim")"
	[[ $output == *"iommuctl: $BATS_TEST_TMPDIR/home/.iommuctl_history: not a regular file of yours (a link?); history not read or saved"* ]] ||
		fail_with "$output"
}
