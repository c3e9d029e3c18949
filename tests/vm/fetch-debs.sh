#!/usr/bin/env bash
# Fetch Debian packages from a suite the system does not use (for the VM
# lab only: QEMU 10 from bookworm-backports, kernel source from
# trixie-backports) and unpack them beside each other, never installing
# them.  Prints the directory they were unpacked into.
#
#   tests/vm/fetch-debs.sh SUITE PACKAGE[=VERSION]...
#
# The suite is read through an apt configuration of the lab's own, in the
# cache: the system's sources, lists and package cache are never touched.
# The archive address is the system's own (from its sources), so a mirror
# set up for the host serves the lab too.  The unpacked tree is keyed by the
# suite and the exact versions, and reused while they stay the same; the
# package lists are refreshed once a day at most.
set -euo pipefail

[ $# -ge 2 ] || { echo "usage: fetch-debs.sh SUITE PACKAGE..." >&2; exit 2; }
suite=$1
shift
cache=${IOMMUCTL_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/iommuctl}
apt_dir=$cache/apt/$suite
say() { printf 'fetch-debs: %s\n' "$*" >&2; }

# The first http(s) archive of the system's sources that serves "debian".
archive_uri() {
	local f uri
	for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		uri=$(grep -hoE 'https?://[^ ]+/debian/?( |$)' "$f" | head -n 1 | tr -d ' ')
		[ -n "$uri" ] && { echo "${uri%/}"; return 0; }
	done
	return 1
}

mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial" "$apt_dir/debs"
if [ ! -f "$apt_dir/sources.list" ]; then
	uri=$(archive_uri) || { say "no Debian archive found in the system's apt sources"; exit 1; }
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $suite main" >"$apt_dir/sources.list"
fi
apt_opts=(
	-o "Dir::Etc::SourceList=$apt_dir/sources.list"
	-o Dir::Etc::SourceParts=/dev/null
	-o "Dir::State::Lists=$apt_dir/lists"
	-o "Dir::Cache=$apt_dir"
	-o "Dir::Cache::archives=$apt_dir/archives"
	-o Debug::NoLocking=1
	-o APT::Sandbox::User=root
	-o APT::Get::AllowUnauthenticated=false
)
stamp=$apt_dir/lists/.updated
if [ ! -f "$stamp" ] || [ -n "$(find "$stamp" -mmin +1440 2>/dev/null)" ]; then
	say "updating the package list of $suite"
	apt-get "${apt_opts[@]}" update -qq >&2 || { say "apt-get update of $suite failed"; exit 1; }
	touch "$stamp"
fi

# Resolve every name to the suite's candidate version, so the key is exact.
pins=()
for p in "$@"; do
	if [[ $p == *=* ]]; then
		pins+=("$p")
		continue
	fi
	v=$(apt-cache "${apt_opts[@]}" policy "$p" 2>/dev/null | awk '/Candidate:/ { print $2 }')
	[ -n "$v" ] && [ "$v" != "(none)" ] || { say "$suite has no package $p"; exit 1; }
	pins+=("$p=$v")
done
key=$(printf '%s\n' "$suite" "${pins[@]}" | sha256sum | cut -c1-12)
root=$cache/root/$suite-$key
if [ -f "$root/.complete" ]; then
	echo "$root"
	exit 0
fi

say "downloading ${pins[*]}"
(cd "$apt_dir/debs" && apt-get "${apt_opts[@]}" download -qq "${pins[@]}" >&2) ||
	{ say "apt-get download from $suite failed"; exit 1; }
rm -rf "$root.tmp"
mkdir -p "$root.tmp"
for pin in "${pins[@]}"; do
	name=${pin%%=*}
	ver=${pin#*=}
	deb=$(ls "$apt_dir/debs/${name}_${ver//:/%3a}_"*.deb 2>/dev/null | head -n 1)
	[ -n "$deb" ] || { say "downloaded no .deb for $pin"; exit 1; }
	dpkg-deb -x "$deb" "$root.tmp"
	printf '%s\n' "$pin" >>"$root.tmp/.packages"
done
rm -rf "$root"
mv "$root.tmp" "$root"
touch "$root/.complete"
echo "$root"
