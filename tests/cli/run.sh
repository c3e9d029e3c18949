#!/bin/bash
# The CLI tier: generate every fixture host into a temporary directory, run
# the bats suites in tests/cli against the binary, print TAP and a closing
# "cli: N passed, N failed, N skipped" line.
#
# Usage: tests/cli/run.sh [FILE.bats...]      (default: every tests/cli/*.bats)
#
# Environment:
#   IOMMUCTL     binary under test (default build/iommuctl; relative paths are
#                taken from the top of the tree). check-cli may pass
#                IOMMUCTL=build-san/iommuctl.
#   TMPDIR       where the trees go when /dev/shm is not usable
#   KEEP_FIXTURES=1  keep the generated trees and print where they are
#
# Exit status: 0 all passed, 1 a test failed or bats, jq or python3 is missing
# (says which package), 2 bad use (no binary).
set -u

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
top="$(cd "$here/../.." && pwd)"

# A missing tool stops the tier (exit 1) with the package to install.
"$here/../need.sh" cli bats=bats jq=jq python3=python3 || exit 1

: "${IOMMUCTL:=build/iommuctl}"
case "$IOMMUCTL" in /*) ;; *) IOMMUCTL="$top/$IOMMUCTL" ;; esac
if [ ! -x "$IOMMUCTL" ]; then
	echo "cli: no binary at $IOMMUCTL: build it first (make, or make SANITIZE=1)" >&2
	exit 2
fi
export IOMMUCTL

# tmpfs when we can: creating the big host is syscall-bound (seconds on
# tmpfs, tens of seconds on a slow disk).
base="${TMPDIR:-/tmp}"
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	base=/dev/shm
fi
work="$(mktemp -d "$base/iommuctl-cli.XXXXXX")" || exit 2
cleanup() {
	if [ "${KEEP_FIXTURES:-}" = 1 ]; then
		echo "cli: fixtures kept in $work" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

export IOMMUCTL_FIXTURES="$work/hosts"
# bats' own scratch space (and $BATS_TEST_TMPDIR, where snapshots go) too.
mkdir -p "$work/tmp" && export TMPDIR="$work/tmp"
start=$(date +%s%N)
"$top/tests/fixtures/mkfixture" --all "$top/tests/fixtures/hosts" "$IOMMUCTL_FIXTURES" || exit 2
"$top/tests/fixtures/mkbig" 4096 1024 "$IOMMUCTL_FIXTURES/big" || exit 2
ms=$((($(date +%s%N) - start) / 1000000))
printf '# cli: fixtures (with a 4096-device host) generated in %d.%03d s\n' $((ms / 1000)) $((ms % 1000))

if [ $# -eq 0 ]; then
	set -- "$here"
fi
tap="$work/tap"
# Let bats write to the terminal as it goes, and keep a copy to count.
bats --tap "$@" | tee "$tap"
rc=${PIPESTATUS[0]}

passed=$(grep -c -E '^ok [0-9]+' "$tap" | head -1)
skipped=$(grep -c -E '^ok [0-9]+ .*# skip' "$tap" | head -1)
failed=$(grep -c -E '^not ok [0-9]+' "$tap" | head -1)
passed=$((passed - skipped))
echo "cli: $passed passed, $failed failed, $skipped skipped"
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
	echo "cli: bats exited $rc" >&2
fi
[ "$rc" -eq 0 ] && exit 0
exit 1
