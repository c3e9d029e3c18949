#!/usr/bin/env bash
# Run every read-only command on every fixture host under valgrind; one TAP
# line per run.  A leak or memory error fails, whatever the command's own
# exit status (bad input is expected to fail cleanly, not to leak).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${IOMMUCTL_PLAIN:-$top/build/iommuctl}
work=$(mktemp -d "${TMPDIR:-/tmp}/iommuctl-vg.XXXXXX")
trap 'rm -rf "$work"' EXIT

[ -x "$bin" ] || { echo "valgrind: $bin is not built (make)" >&2; exit 1; }
"$top/tests/fixtures/mkfixture" --all "$top/tests/fixtures/hosts" "$work/hosts" >/dev/null || exit 1

commands=("list -j" "list" "check -j" "check" "check --assume-vfio 00:03.0" "show -j 00:03.0"
	"show 00:03.0" "show 1" "list --class 02 --driver none" "show 00:1g.0" "doctor -j" "doctor")
n=0 failed=0
for host in "$work"/hosts/*/; do
	host=${host%/}
	for c in "${commands[@]}"; do
		n=$((n + 1))
		# shellcheck disable=SC2086 # the command is a word list on purpose
		if valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect,possible \
			--log-file="$work/vg.log" "$bin" --sysroot "$host" $c >/dev/null 2>&1 ||
			[ $? -ne 99 ]; then
			echo "ok $n - valgrind clean: ${host##*/}: $c"
		else
			failed=$((failed + 1))
			echo "not ok $n - valgrind errors: ${host##*/}: $c"
			sed 's/^/# /' "$work/vg.log" | head -40
		fi
	done
done
out=$work/snap.tar
n=$((n + 1))
if valgrind -q --error-exitcode=99 --leak-check=full --log-file="$work/vg.log" "$bin" \
	--sysroot "$work/hosts/qemu-q35" snapshot "$out" >/dev/null 2>&1; then
	echo "ok $n - valgrind clean: snapshot"
else
	failed=$((failed + 1))
	echo "not ok $n - valgrind errors: snapshot"
	sed 's/^/# /' "$work/vg.log" | head -40
fi
echo "1..$n"
[ "$failed" -eq 0 ]
