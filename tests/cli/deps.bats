#!/usr/bin/env bats
# tests/deps.sh (make deps, the first step of make check) and tests/need.sh
# (a tier's missing tool): the messages a newcomer sees, and their exit codes.

top() { cd "$BATS_TEST_DIRNAME/../.." && pwd; }

bats_require_minimum_version 1.5.0

setup() {
	TOP=$(top)
	# Readable by nobody, whose uid cannot enter bats' own 0700 scratch space
	# (or a checkout in /root): the list and a copy of the script.
	pub=$(mktemp -d /tmp/iommuctl-deps.XXXXXX)
	chmod 0755 "$pub"
	list=$pub/deps.txt
	printf '# a comment\nbash\n\n  iommuctl-no-such-package  # trailing\nno-such-package-2\n' >"$list"
	install -m 0755 "$TOP/tests/deps.sh" "$pub/deps.sh"
	chmod 0644 "$list"
}

teardown() {
	rm -rf "$pub"
}

# As a user who is not root (nobody when the tests run as root).
as_user() {
	if [ "$(id -u)" -eq 0 ]; then
		command -v setpriv >/dev/null || skip "no setpriv to drop root"
		run --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups env DEPS_LIST="$list" "$@"
	else
		run --separate-stderr env DEPS_LIST="$list" "$@"
	fi
}

@test "deps: the list is one package a line; comments and blanks are not packages" {
	run env DEPS_LIST="$list" "$TOP/tests/deps.sh" --list
	[ "$status" -eq 0 ]
	[ "$output" = $'bash\niommuctl-no-such-package\nno-such-package-2' ]
}

@test "deps: --missing names only the packages that are not installed" {
	run env DEPS_LIST="$list" "$TOP/tests/deps.sh" --missing
	[ "$status" -eq 0 ]
	[ "$output" = $'iommuctl-no-such-package\nno-such-package-2' ]
}

@test "deps: not root, missing packages: the exact apt-get line, exit 1, nothing installed" {
	as_user "$pub/deps.sh"
	[ "$status" -eq 1 ] || { echo "$stderr"; false; }
	[ "$stderr" = $'deps: the tests need 2 more packages; as root, run:\n  apt-get install -y --no-install-recommends iommuctl-no-such-package no-such-package-2' ]
}

@test "deps: nothing missing says so and succeeds, root or not" {
	printf 'bash\n' >"$list"
	as_user "$pub/deps.sh"
	[ "$status" -eq 0 ]
	[ "$output" = "deps: all 1 packages of tests/deps.txt are installed" ]
}

@test "deps: a bad argument is a usage error (2)" {
	run "$TOP/tests/deps.sh" --bogus
	[ "$status" -eq 2 ]
	[[ $output == "usage: tests/deps.sh"* ]]
}

@test "need: a missing tool stops the tier with one line naming the package (exit 1)" {
	run --separate-stderr "$TOP/tests/need.sh" valgrind bash=bash iommuctl-no-such-tool=valgrind
	[ "$status" -eq 1 ]
	[ "$stderr" = "valgrind: iommuctl-no-such-tool is not installed: apt-get install valgrind (or make deps, as root)" ]
	run --separate-stderr "$TOP/tests/need.sh" lint bash=bash
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
}

@test "deps: .ci/run and make check install from the same list" {
	grep -q 'tests/deps.sh' "$TOP/.ci/run"
	# The list is no longer spelt out in .ci/run.
	! grep -q 'qemu-system-x86' "$TOP/.ci/run"
	run make -C "$TOP" -n check
	[[ $output == *"tests/deps.sh"* ]]
	# Every package .ci/run used to name is in the list.
	for p in bats jq valgrind cppcheck clang-tidy qemu-system-x86 git iproute2 debhelper man-db; do
		grep -qx "$p" "$TOP/tests/deps.txt" || { echo "missing $p"; false; }
	done
}
