#!/usr/bin/env bats
# Version, help, option placement.

load helpers

setup_file() {
	fixtures_setup
}

@test "--version and -V print the version, exit 0" {
	run --separate-stderr "$IOMMUCTL" --version
	assert_status 0
	[[ "$output" =~ ^iommuctl\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
	[ -z "$stderr" ]
	local v="$output"
	run --separate-stderr "$IOMMUCTL" -V
	[ "$output" = "$v" ]
}

@test "--version -j is JSON" {
	run --separate-stderr "$IOMMUCTL" -j --version
	assert_status 0
	jq_ok 'type == "string" or (type == "object" and (.version | type == "string"))'
}

@test "-h and --help print usage on stdout, exit 0" {
	local h
	for h in -h --help; do
		run --separate-stderr "$IOMMUCTL" "$h"
		assert_status 0
		[ -z "$stderr" ]
		[[ "${lines[0]}" == "Usage: iommuctl "* ]] || fail_with "$h: ${lines[0]}"
		local c
		for c in list show check snapshot help; do
			[[ "$output" == *"  $c "* ]] || fail_with "$h: command $c not listed"
		done
		[[ "$output" == *"--sysroot DIR"* ]]
		[[ "$output" == *"--version"* ]]
	done
	run "$IOMMUCTL" help
	[ "$status" -eq 0 ]
	[ "$output" = "$("$IOMMUCTL" --help)" ]
}

@test "COMMAND --help and help COMMAND agree and list the command's options" {
	run --separate-stderr "$IOMMUCTL" list --help
	assert_status 0
	[ "${lines[0]}" = "Usage: iommuctl list [OPTIONS]" ]
	local o
	for o in --group --device --driver --class --json --sysroot; do
		[[ "$output" == *"$o"* ]] || fail_with "list --help lacks $o"
	done
	[ "$output" = "$("$IOMMUCTL" help list)" ]
	run "$IOMMUCTL" check -h
	[[ "$output" == *"--assume-vfio"* ]]
	[ "$output" = "$("$IOMMUCTL" help check)" ]
}

@test "-j and --sysroot work before and after the command" {
	local root
	root="$(sysroot qemu-q35)"
	local a b c
	a="$("$IOMMUCTL" --sysroot "$root" -j list)"
	b="$("$IOMMUCTL" list --sysroot "$root" --json)"
	c="$("$IOMMUCTL" --sysroot "$root" list -j)"
	[ "$a" = "$b" ] && [ "$b" = "$c" ]
	printf '%s' "$a" | jq -e '.groups | length == 4' >/dev/null
}

@test "every command takes -j" {
	run --separate-stderr ictl qemu-q35 show 00:03.0 -j
	jq_ok 'type == "object"'
	run --separate-stderr ictl qemu-q35 check 3 -j
	jq_ok 'type == "object"'
	run --separate-stderr ictl qemu-q35 list -j
	jq_ok 'type == "object"'
}

@test "text and JSON list the same devices in the same order" {
	local host
	for host in qemu-q35 switch variant amd-domains held; do
		local j t
		j="$(ictl "$host" list -j | jq -r '.groups[].devices[].address')"
		# Continuation rows leave the group's cells blank: find the address by its shape.
		t="$(ictl "$host" list | tail -n +2 | grep -oE '[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]')"
		[ "$j" = "$t" ] || fail_with "$host: text and JSON disagree" "json: $j" "text: $t"
	done
}

@test "output is stable: two runs give identical bytes" {
	local a b
	a="$(ictl switch list -j)"
	b="$(ictl switch list -j)"
	[ "$a" = "$b" ]
}

@test "a closed stdout is not reported as success" {
	# Writing to /dev/full fails; iommuctl must notice at exit.
	[ -w /dev/full ] || skip "no /dev/full"
	run ictl qemu-q35 list -j >/dev/full
	ictl qemu-q35 list -j >/dev/full 2>/dev/null && fail_with "exit 0 on a full disk"
	true
}
