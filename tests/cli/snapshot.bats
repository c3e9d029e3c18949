#!/usr/bin/env bats
# snapshot FILE.tar captures what iommuctl reads; extracted, it must give the
# same answers as the tree it was taken from.

load helpers

setup_file() {
	fixtures_setup
}

# roundtrip HOST ARGS...: ARGS on the host and on its extracted snapshot agree.
roundtrip() {
	local host="$1"
	shift
	local tar="$BATS_TEST_TMPDIR/$host.tar" dir="$BATS_TEST_TMPDIR/$host.x"
	run --separate-stderr ictl "$host" snapshot "$tar"
	assert_status 0 || return 1
	[ -s "$tar" ] || fail_with "no snapshot at $tar"
	mkdir -p "$dir"
	tar -xf "$tar" -C "$dir" || fail_with "tar cannot extract the snapshot"
	# check exits 1 on a non-viable host: compare the status as well as the output.
	local want got want_status=0 got_status=0
	want="$(ictl "$host" "$@")" || want_status=$?
	got="$("$IOMMUCTL" --sysroot "$dir" "$@")" || got_status=$?
	[ "$want_status" -eq "$got_status" ] ||
		fail_with "$host: '$*' exits $want_status on the tree, $got_status on its snapshot"
	diff -u <(printf '%s\n' "$want") <(printf '%s\n' "$got") >&2 ||
		fail_with "$host: '$*' differs between the tree and its snapshot"
}

@test "snapshot FILE says what it wrote; snapshot - writes only the archive" {
	run --separate-stderr ictl qemu-q35 snapshot "$BATS_TEST_TMPDIR/s.tar"
	assert_status 0
	[ -z "$stderr" ] || fail_with "stderr: $stderr"
	[[ "$output" == "wrote $BATS_TEST_TMPDIR/s.tar: 8 devices in 4 groups, "*" bytes" ]] ||
		fail_with "stdout: $output"
	ictl qemu-q35 snapshot - 2>/dev/null | tar -tf - >/dev/null || fail_with "stdout of snapshot - is not a tar"
}

@test "snapshot holds relative paths only, and no file outside sys/ and proc/" {
	ictl qemu-q35 snapshot "$BATS_TEST_TMPDIR/s.tar" >/dev/null
	run tar -tf "$BATS_TEST_TMPDIR/s.tar"
	[ "$status" -eq 0 ]
	local bad
	bad="$(printf '%s\n' "$output" | grep -vE '^(sys|proc|dev)(/|$)' || true)"
	[ -z "$bad" ] || fail_with "unexpected entries: $bad"
}

@test "snapshot to standard output (-) is the same archive" {
	ictl qemu-q35 snapshot - >"$BATS_TEST_TMPDIR/out.tar"
	ictl qemu-q35 snapshot "$BATS_TEST_TMPDIR/file.tar" >/dev/null
	cmp "$BATS_TEST_TMPDIR/out.tar" "$BATS_TEST_TMPDIR/file.tar"
}

@test "snapshot round trip: qemu-q35 list -j" {
	roundtrip qemu-q35 list -j
}

@test "snapshot round trip: qemu-q35 show 4 -j and check -j" {
	roundtrip qemu-q35 show 4 -j
	roundtrip qemu-q35 check -j
}

@test "snapshot round trip: switch list -j and show (config space, ACS path)" {
	roundtrip switch list -j
	roundtrip switch show 0000:04:00.1 -j
	roundtrip switch show eth0 -j
}

@test "snapshot round trip: variant drivers survive (module holders)" {
	roundtrip variant list -j
}

@test "snapshot round trip: held devices (proc)" {
	roundtrip held list -j
}

@test "snapshot round trip: amd-domains, nonroot, missing-optional" {
	roundtrip amd-domains list -j
	roundtrip nonroot show 01:00.0 -j
	roundtrip missing-optional list -j
}

@test "snapshot of a snapshot is identical" {
	local a="$BATS_TEST_TMPDIR/a.tar" b="$BATS_TEST_TMPDIR/b.tar" x="$BATS_TEST_TMPDIR/x"
	ictl switch snapshot "$a" >/dev/null
	mkdir "$x" && tar -xf "$a" -C "$x"
	"$IOMMUCTL" --sysroot "$x" snapshot "$b" >/dev/null
	cmp "$a" "$b"
}

@test "snapshot -j FILE describes what it wrote" {
	run --separate-stderr ictl qemu-q35 snapshot -j "$BATS_TEST_TMPDIR/s.tar"
	assert_status 0
	[ -z "$stderr" ]
	jq_ok --arg p "$BATS_TEST_TMPDIR/s.tar" \
		'(keys == ["bytes", "device_count", "group_count", "path"]) and .path == $p
		 and .device_count == 8 and .group_count == 4 and (.bytes | type == "number")'
	[ "$(stat -c %s "$BATS_TEST_TMPDIR/s.tar")" = "$(jq -r .bytes <<<"$output")" ]
}

@test "a failed snapshot leaves nothing behind" {
	HOST=broken-resv
	local dir="$BATS_TEST_TMPDIR/out"
	mkdir "$dir"
	run --separate-stderr ictl broken-resv snapshot "$dir/s.tar"
	assert_status 8
	[ -z "$(ls -A "$dir")" ] || fail_with "left behind: $(ls -A "$dir")"
}

@test "snapshot by root is 0600 whatever the umask: it holds config space only root may read" {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	local dir="$BATS_TEST_TMPDIR/out"
	mkdir "$dir"
	(umask 000 && ictl qemu-q35 snapshot "$dir/s.tar" >/dev/null)
	[ "$(stat -c %a "$dir/s.tar")" = 600 ] || fail_with "mode $(stat -c %a "$dir/s.tar")"
}

@test "snapshot: a link that points at itself is kept as a link, with no stack overflow and no .tmp left (0)" {
	local tree=$BATS_TEST_TMPDIR/loop
	cp -a "$(sysroot qemu-q35)" "$tree"
	rm "$tree/sys/devices/pci0000:00/0000:00:03.0/driver"
	ln -s driver "$tree/sys/devices/pci0000:00/0000:00:03.0/driver"
	mkdir "$BATS_TEST_TMPDIR/out"
	run --separate-stderr "$IOMMUCTL" --sysroot "$tree" snapshot "$BATS_TEST_TMPDIR/out/s.tar"
	assert_status 0
	[ "$(ls -A "$BATS_TEST_TMPDIR/out")" = s.tar ] || fail_with "left: $(ls -A "$BATS_TEST_TMPDIR/out")"
	tar -tvf "$BATS_TEST_TMPDIR/out/s.tar" | grep -q ' sys/devices/pci0000:00/0000:00:03.0/driver -> driver$' ||
		fail_with "$(tar -tvf "$BATS_TEST_TMPDIR/out/s.tar" | grep 03.0/driver)"
}
