#!/usr/bin/env bash
# The ABI tier: check-abi.sh, then a program built against the public
# headers and linked against the shared library (not the archive the tool
# uses), run on every fixture host and compared with `iommuctl list -j` of
# the same tree.  Prints TAP.
#
#   tests/abi/run.sh BUILD_DIR
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:?usage: run.sh BUILD_DIR}
case "$build" in /*) ;; *) build=$top/$build ;; esac
cd "$top" || exit 1
for tool in jq gcc nm; do
	command -v "$tool" >/dev/null || { echo "abi: $tool is missing (apt-get install ${tool/nm/binutils})" >&2; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

tests/abi/check-abi.sh "$build" >"$tmp/abi.tap"
abi_rc=$?
grep -v '^1\.\.' "$tmp/abi.tap"
n=$(grep -cE '^(not )?ok ' "$tmp/abi.tap")
fail=$abi_rc
ok() { n=$((n + 1)); echo "ok $n - abi: $1"; }
notok() { n=$((n + 1)); fail=1; echo "not ok $n - abi: $1"; [ -s "$tmp/why" ] && sed 's/^/# /' "$tmp/why"; }

# -Wl,--no-undefined and -Wl,-z,now: an unexported symbol fails the link or
# the start, not some later call.
if gcc -std=c11 -Wall -Wextra -Werror -Iinclude -o "$tmp/shared-client" tests/abi/shared-client.c \
	-L"$build" -liommufd -Wl,--no-undefined -Wl,-z,now 2>"$tmp/why"; then
	ok "a program links against the shared library with the public headers alone"
else
	notok "a program links against the shared library with the public headers alone"
	echo "1..$n"
	exit 1
fi
# Into a file first: grep -q closing the pipe early would fail ldd under pipefail.
LD_LIBRARY_PATH=$build ldd "$tmp/shared-client" >"$tmp/ldd" 2>&1
if grep -q "libiommufd.so.0 => $build/" "$tmp/ldd"; then
	ok "it loads libiommufd.so.0 from the build, not an archive"
else
	cp "$tmp/ldd" "$tmp/why"
	notok "it loads libiommufd.so.0 from the build, not an archive"
fi

"$top/tests/fixtures/mkfixture" --all "$top/tests/fixtures/hosts" "$tmp/hosts" >/dev/null ||
	{ echo "not ok $((n + 1)) - abi: fixtures"; echo "1..$((n + 1))"; exit 1; }
for host in "$tmp"/hosts/*/; do
	host=${host%/}
	name=${host##*/}
	# Only the hosts the tool itself can load are a comparison.
	"$build/iommuctl" --sysroot "$host" list -j >"$tmp/list.json" 2>/dev/null || continue
	jq -r '.groups[] | "group \(.id) \(if .viable then "viable" else "not-viable" end)",
		(.devices[] | "device \(.address) \(.driver // "-")")' "$tmp/list.json" >"$tmp/want"
	if LD_LIBRARY_PATH=$build "$tmp/shared-client" "$host" >"$tmp/got" 2>"$tmp/why" &&
		diff -u "$tmp/want" "$tmp/got" >"$tmp/why"; then
		ok "$name: the shared-library program sees what list -j shows ($(grep -c '^group' "$tmp/got") groups)"
	else
		notok "$name: the shared-library program sees what list -j shows"
	fi
done
echo "1..$n"
exit "$fail"
