#!/usr/bin/env bats
# iommuctl run and exec without a kernel: script syntax, sizes, addresses,
# names and ranges are checked before anything touches /dev/iommu; the
# read-only commands run inside a session on fixture trees.  The real
# lifecycle is tests/vm/suites/session.bats.

load helpers

setup_file() {
	fixtures_setup
}

# run_script HOST LINE...: iommuctl --sysroot HOST run on a script of LINEs.
run_script() {
	local host=$1
	shift
	printf '%s\n' "$@" >"$BATS_TEST_TMPDIR/script"
	run --separate-stderr ictl "$host" run "$BATS_TEST_TMPDIR/script"
}

@test "run: comments and blank lines are skipped; state of an empty session" {
	run_script qemu-q35 "# nothing yet" "" "   " "state  # what is there"
	assert_status 0
	[ "$output" = "DEVICE  STATE  DRIVER  GROUP  ATTACHED  NAME  HWPT  HOLDERS" ]
	[ -z "$stderr" ]
}

@test "run: malformed sizes, addresses, ranges and names are usage errors naming the line" {
	local line want
	while IFS='|' read -r line want; do
		run_script qemu-q35 "# line 1" "$line"
		assert_status 2
		[ "$stderr" = "iommuctl: $BATS_TEST_TMPDIR/script:2: $line: $want" ] || fail_with "$line" "$stderr"
	done <<'EOF2'
ioas map vm0 --length 4Q|4Q: not a size (4096, 0x1000, 4K, 2M, 1G)
ioas map vm0 --length 0|0: not a size (4096, 0x1000, 4K, 2M, 1G)
ioas map vm0 --length 16777216T|16777216T: not a size (4096, 0x1000, 4K, 2M, 1G)
ioas map vm0 --iova fee00000 --length 4K|fee00000: not an address (0x100000)
ioas map vm0|ioas map: --length SIZE is required
ioas map vm0 --length 4K --length 8K|ioas map: option --length given twice
ioas map vm0 --length|ioas map: option --length needs an argument
ioas map vm0 --size 4K|ioas map: unknown option --size
ioas map vm0 --length 4K --hugepages --file /dev/null|ioas map: --hugepages and --file exclude each other
ioas unmap vm0 0x1000|ioas unmap: give either IOVA LENGTH or --all
ioas unmap vm0 0x1000 4K --all|ioas unmap: give either IOVA LENGTH or --all
ioas allow vm0 0x2000-0x1000|0x2000-0x1000: not a range (START-LAST or START+SIZE)
ioas allow vm0 0x1000|0x1000: not a range (START-LAST or START+SIZE)
ioas alloc 0vm|0vm: not a valid name (a letter or '_', then letters, digits, '_', '-', '.'; at most 31 characters)
ioas alloc vm/0|vm/0: not a valid name (a letter or '_', then letters, digits, '_', '-', '.'; at most 31 characters)
ioas alloc a b|ioas alloc: too many arguments (usage: ioas alloc [NAME])
ioas|ioas: needs a sub-command (see 'help ioas')
ioas frob|ioas frob: unknown command (see 'help ioas')
frob|frob: unknown command (see 'help')
attach 00:03.0|attach: missing argument (usage: attach DEV IOAS|HWPT)
open 00:03|00:03: malformed PCI address (expected DDDD:BB:DD.F or BB:DD.F)
destroy 0|0: not an object id (1 to 4294967295)
destroy 0x100000000|0x100000000: not an object id (1 to 4294967295)
exec -- sh -c 'oops|syntax error: unterminated ' quote
EOF2
}

@test "run: unknown names and devices not in the session are not found (3)" {
	run_script qemu-q35 "attach 0000:00:03.0 vm0"
	assert_status 3
	[[ $stderr == *":1: attach 0000:00:03.0 vm0: 0000:00:03.0: not open in this session (use 'open 0000:00:03.0' first)" ]]
	run_script qemu-q35 "destroy vm0"
	assert_status 3
	[[ $stderr == *":1: destroy vm0: vm0: no object of that name in this session" ]]
}

@test "run: without /dev/iommu the first command that needs it says which module is missing (7)" {
	run_script qemu-q35 "list" "ioas alloc vm0" "state"
	assert_status 7
	[[ $stderr == *":2: ioas alloc vm0: "*"/dev/iommu: open: /dev/iommu does not exist: the iommufd module is not loaded (modprobe iommufd) or the kernel was built without CONFIG_IOMMUFD" ]]
}

@test "run -j: JSON Lines; list inside the session is iommuctl list -j" {
	printf '%s\n' "list" "# c" "show 00:03.0" "frob" "state" >"$BATS_TEST_TMPDIR/script"
	run --separate-stderr ictl qemu-q35 -j run --keep-going "$BATS_TEST_TMPDIR/script"
	assert_status 2
	[ -z "$stderr" ]
	[ "$(wc -l <<<"$output")" -eq 4 ]
	jq -s -e 'map([.line, .command, .ok]) == [[1, "list", true], [3, "show 00:03.0", true], [4, "frob", false], [5, "state", true]]' <<<"$output"
	jq -s -e 'all(.[]; has("line") and has("command") and has("ok") and has("error") and has("result")
		and .state == {"devices": [], "objects": []})' <<<"$output"
	jq -s -e '.[2].error == {"message": "frob: unknown command (see '"'help'"')", "errno": 22, "errno_name": "EINVAL", "exit_status": 2}
		and .[0].error == null' <<<"$output"
	local top
	top=$(ictl qemu-q35 list -j | jq -c .)
	[ "$(jq -s -c '.[0].result' <<<"$output")" = "$top" ]
	[ "$(jq -s -c '.[1].result.devices[0].address' <<<"$output")" = '"0000:00:03.0"' ]
}

@test "run: reads standard input; a missing script is not found; one script at most" {
	run --separate-stderr ictl qemu-q35 run - <<<"state"
	assert_status 0
	run --separate-stderr ictl qemu-q35 run
	assert_status 0
	run --separate-stderr ictl qemu-q35 run /nonexistent/script
	assert_status 3
	[ "$stderr" = "iommuctl: /nonexistent/script: cannot read the script: No such file or directory" ]
	run --separate-stderr ictl qemu-q35 run a b
	assert_status 2
}

@test "run: the first failure stops the script; --keep-going goes on with the first failure's status" {
	run_script qemu-q35 "state" "ioas alloc 0x" "frob" "state"
	assert_status 2
	[[ $stderr == *":2: ioas alloc 0x: "* ]]
	[ "$(grep -c '^iommuctl:' <<<"$stderr")" -eq 1 ]
	run --separate-stderr ictl qemu-q35 run -k "$BATS_TEST_TMPDIR/script"
	assert_status 2
	[ "$(grep -c '^iommuctl:' <<<"$stderr")" -eq 2 ]
}

@test "exec: needs a command; without /dev/iommu it stops before running it" {
	run --separate-stderr ictl qemu-q35 exec
	assert_status 2
	[[ $stderr == "iommuctl: exec: no command given"* ]]
	run --separate-stderr ictl qemu-q35 exec -- touch "$BATS_TEST_TMPDIR/ran"
	assert_status 7
	[ ! -e "$BATS_TEST_TMPDIR/ran" ]
}

@test "exec: --ioas attaches --bind devices; with --open alone it is a usage error" {
	run --separate-stderr ictl qemu-q35 exec --open 0000:00:03.0 --ioas -- touch "$BATS_TEST_TMPDIR/ran"
	assert_status 2
	[[ $stderr == "iommuctl: exec: --ioas attaches the devices given with --bind; --open leaves binding to CMD"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/ran" ]
}
