#!/usr/bin/env bash
# make check-fresh: the README's two commands, verbatim, on a freshly
# bootstrapped Debian 12 (debootstrap --variant=minbase bookworm, from the
# archive the host's own apt sources name), in a chroot with /proc, /sys and
# /dev bound and a clean clone of this repository (its HEAD) in /root.
#
#   tests/fresh/check-fresh.sh          the full form: command 1, then make check
#   tests/fresh/check-fresh.sh --quick  command 1, make deps (the dependency step
#                                       of make check), the unit and CLI tiers
#
# One TAP line per step, with its time.  The bootstrapped root is cached as a
# tarball in ${XDG_CACHE_HOME:-~/.cache}/iommuctl (outside the tree); the
# root it is unpacked into is thrown away.  Needs root and debootstrap.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
quick=0
case "${1:-}" in
--quick) quick=1 ;;
'') ;;
*) echo "usage: tests/fresh/check-fresh.sh [--quick]" >&2; exit 2 ;;
esac
if [ "$(id -u)" -ne 0 ]; then
	echo "1..0 # skip check-fresh needs root (debootstrap, chroot)"
	exit 0
fi
"$top/tests/need.sh" check-fresh debootstrap=debootstrap git=git || exit 1

# The host's Debian archives, in either sources format: the first bookworm
# one that is not the security archive, and the security archive.
host_uris() {
	{
		sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]\+\)[[:space:]]\+bookworm[[:space:]].*/\2/p' \
			/etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null
		sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]\+\)[[:space:]]\+bookworm-security[[:space:]].*/\2/p' \
			/etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null
		for f in /etc/apt/sources.list.d/*.sources; do
			[ -e "$f" ] || continue
			grep -q '^Suites:.*\bbookworm\b' "$f" && sed -n 's/^URIs:[[:space:]]*//p' "$f" | tr ' ' '\n'
		done
	} | grep .
}
mirror=$(host_uris | grep -v -- '-security\|security\.' | head -1)
security=$(host_uris | grep -- '-security\|security\.' | head -1)
[ -n "$mirror" ] || { echo "check-fresh: no bookworm archive in the host's apt sources" >&2; exit 1; }

cache=${XDG_CACHE_HOME:-$HOME/.cache}/iommuctl
tarball=$cache/fresh-bookworm-minbase.tar
mkdir -p "$cache" || exit 1
work=$(mktemp -d "${TMPDIR:-/var/tmp}/iommuctl-fresh.XXXXXX") || exit 1
root=$work/root
mounted=()
cleanup() {
	local i
	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[i]}" 2>/dev/null; done
	rm -rf --one-file-system "$work"
}
trap cleanup EXIT

n=0 failed=0
tap() { # tap STATUS DESCRIPTION [LOG]
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		failed=$((failed + 1))
		echo "not ok $n - $2"
		[ -z "${3:-}" ] || tail -40 "$3" | sed 's/^/# /'
	fi
}

if [ ! -s "$tarball" ]; then
	echo "# check-fresh: debootstrap --variant=minbase bookworm from $mirror (cached in $tarball)"
	mkdir -p "$work/boot"
	if debootstrap --variant=minbase bookworm "$work/boot" "$mirror" >"$work/debootstrap.log" 2>&1 &&
		tar -C "$work/boot" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"; then
		rm -rf --one-file-system "${work:?}/boot"
	else
		tap 1 "debootstrap a minimal bookworm" "$work/debootstrap.log"
		echo "1..$n"
		exit 1
	fi
fi
mkdir -p "$root" && tar -C "$root" -xf "$tarball" || exit 1
for d in proc sys dev dev/pts; do
	mount --bind "/$d" "$root/$d" || { echo "check-fresh: cannot bind /$d" >&2; exit 1; }
	mounted+=("$root/$d")
done
cp /etc/resolv.conf "$root/etc/resolv.conf"
# The sources a Debian 12 install writes (main, updates, security; the kernel
# source the VM tier builds, linux-source-6.12, comes from the last two).
{
	echo "deb $mirror bookworm main"
	echo "deb $mirror bookworm-updates main"
	[ -z "$security" ] || echo "deb $security bookworm-security main"
} >"$root/etc/apt/sources.list"
# A clean clone: what is committed, nothing of this work tree.
git clone --quiet "$top" "$root/root/iommuctl" || exit 1
chmod 0700 "$root/root"

in_root() { # in_root LOG COMMAND: run COMMAND as the README says, from the checkout
	env -i HOME=/root TERM=dumb LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		chroot "$root" /bin/bash -c "cd /root/iommuctl && $2" >"$1" 2>&1
}
step() { # step DESCRIPTION COMMAND [OK_STATUS]: OK_STATUS also passes
	local log=$work/step$((n + 1)).log start rc
	start=$(date +%s)
	in_root "$log" "$2"
	rc=$?
	[ "$rc" -ne "${3:-0}" ] || rc=0
	tap $rc "$1 ($(($(date +%s) - start)) s): $2" "$log"
	return $rc
}

# A freshly installed machine has its package lists; a bootstrapped root not yet.
step "the fresh root's package lists" "apt-get update -qq" || { echo "1..$n"; exit 1; }
# The README's two commands, taken from the README itself.
cmd1=$(sed -n '/^## Quick start/,/^## /{s/^    \(apt-get install .*\)/\1/p}' "$top/README.md" | head -1)
cmd2=$(sed -n '/^## Quick start/,/^## /{s/^    \(make check\)$/\1/p}' "$top/README.md" | head -1)
[ -n "$cmd1" ] && [ -n "$cmd2" ] || { echo "check-fresh: README's quick start has no command" >&2; exit 1; }
# Its last step, `iommuctl list`, exits 7 (no IOMMU) in a chroot on a host
# without one, which is what the README says it does there.
if step "README's first command" "$cmd1" 7; then
	if [ $quick -eq 1 ]; then
		step "the dependency step of '$cmd2'" "make deps" &&
			step "the fast tiers" "make -j2 check-unit check-cli"
	else
		step "README's second command" "$cmd2"
	fi
fi
echo "1..$n"
[ "$failed" -eq 0 ]
