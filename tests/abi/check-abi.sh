#!/usr/bin/env bash
# The library's ABI, four ways, must agree:
#   1. the functions the public headers declare (gcc -aux-info),
#   2. the definitions marked IOMMUFD_EXPORT in lib/,
#   3. the version script lib/libiommufd.sym,
#   4. what the built shared library exports (nm -D).
# A symbol missing from 3 or 4 is a function that a program linked against
# the shared library cannot call, though the static archive hides it.
# Also: the one version string (Makefile) is the one the tool and the
# Debian package report.  Prints TAP.
#
#   tests/abi/check-abi.sh BUILD_DIR
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:?usage: check-abi.sh BUILD_DIR}
cd "$top" || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - abi: $1"; }
notok() {
	n=$((n + 1)); fail=1; echo "not ok $n - abi: $1"
	[ -s "$tmp/why" ] && sed 's/^/# /' "$tmp/why"
	: >"$tmp/why"
}
: >"$tmp/why"

for h in include/iommufd/*.h; do printf '#include "%s"\n' "${h#include/}"; done >"$tmp/all.c"
gcc -std=c11 -Iinclude -fsyntax-only -aux-info "$tmp/aux" "$tmp/all.c"
grep '^/\* include/iommufd/' "$tmp/aux" | grep -o 'iommufd_[a-z0-9_]* (' | tr -d ' (' | sort -u >"$tmp/headers"
grep -ho '^IOMMUFD_EXPORT[^(]*(' lib/*.c | grep -o '[a-z0-9_]*($' | tr -d '(' | sort -u >"$tmp/defs"
# Symbols of the version script's global: sections.
awk '/global:/ { g = 1; next } /local:|}/ { g = 0 } g && /;/ { gsub(/[ \t;]/, ""); print }' \
	lib/libiommufd.sym | sort -u >"$tmp/script"
so=$(ls "$build"/libiommufd.so.*.*.* 2>/dev/null | head -n 1)
if [ -z "$so" ]; then
	echo "not ok 1 - abi: no shared library in $build (make first)"
	echo "1..1"
	exit 1
fi
nm -D --defined-only "$so" | awk '$2 == "T" || $2 == "D" || $2 == "B" || $2 == "R" { sub(/@.*/, "", $3); print $3 }' |
	grep '^iommufd_' | sort -u >"$tmp/nm"

compare() { # NAME A B: every symbol of A is in B
	comm -23 "$tmp/$2" "$tmp/$3" >"$tmp/why"
	if [ -s "$tmp/why" ]; then notok "$1"; else ok "$1 ($(wc -l <"$tmp/$2") symbols)"; fi
}
compare "every declared function is defined with IOMMUFD_EXPORT" headers defs
compare "every exported definition is declared in a public header" defs headers
compare "every exported definition is in the version script" defs script
compare "every version-script symbol is defined" script defs
compare "the shared library exports every version-script symbol" script nm
compare "the shared library exports nothing beyond the version script" nm script

# Old nodes never change: the 0.1 node is what the Debian symbols file and
# any program built against 0.1.0 rely on.  Each node appears once.
dups=$(grep -oE '^LIBIOMMUFD_[0-9.]+' lib/libiommufd.sym | sort | uniq -d)
if [ -z "$dups" ]; then ok "each version node is defined once"; else echo "$dups" >"$tmp/why"; notok "each version node is defined once"; fi
nodes=$(grep -oE '^LIBIOMMUFD_[0-9.]+' lib/libiommufd.sym | sort -u)
for node in $nodes; do
	grep -q "(symver)$node " debian/libiommufd0.symbols || echo "$node" >>"$tmp/why"
done
if [ -s "$tmp/why" ]; then notok "debian/libiommufd0.symbols names every version node"; else ok "debian/libiommufd0.symbols names every version node"; fi

version=$(sed -n 's/^VERSION *:= *//p' Makefile)
deb=$(sed -n '1s/^[^(]*(\([^)-]*\).*/\1/p' debian/changelog)
tool=$("$build/iommuctl" --version 2>&1)
if [ "$deb" = "$version" ] && [ "$tool" = "iommuctl $version" ]; then
	ok "one version: Makefile, debian/changelog and --version say $version"
else
	echo "Makefile: $version; debian/changelog: $deb; iommuctl --version: $tool" >"$tmp/why"
	notok "one version: Makefile, debian/changelog and --version agree"
fi
echo "1..$n"
exit "$fail"
