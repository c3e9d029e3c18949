#!/usr/bin/env bash
# Build (once) the guest kernel for the VM lab and print the directory that
# holds it: bzImage, config, and modules/lib/modules/<release>/.
#
# The result is cached outside the work tree, keyed by the Debian source
# package version and a hash of kernel.config, so a second run costs a
# second.  Set IOMMUCTL_VM_CACHE to move the cache.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
fragment=$here/kernel.config
pkg=linux-source-6.12
cache=${IOMMUCTL_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/iommuctl}
jobs=${JOBS:-$(nproc)}

say() { printf 'build-kernel: %s\n' "$*" >&2; }

need_pkgs=()
dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || need_pkgs+=("$pkg")
for tool in flex:flex bison:bison bc:bc xz:xz-utils cpio:cpio make:make gcc:gcc; do
	command -v "${tool%%:*}" >/dev/null || need_pkgs+=("${tool#*:}")
done
[ -e /usr/include/libelf.h ] || need_pkgs+=(libelf-dev)
if [ ${#need_pkgs[@]} -gt 0 ]; then
	say "installing ${need_pkgs[*]}"
	if [ "$(id -u)" != 0 ]; then
		say "not root: install them with: apt-get install ${need_pkgs[*]}"
		exit 1
	fi
	apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >&2
fi

version=$(dpkg-query -W -f='${Version}' "$pkg")
hash=$(sha256sum "$fragment" | cut -c1-12)
key="kernel-${version}-${hash}"
out=$cache/$key

if [ -f "$out/bzImage" ] && [ -f "$out/.complete" ]; then
	echo "$out"
	exit 0
fi

src=$cache/src/$pkg-$version
if [ ! -f "$src/Makefile" ]; then
	say "unpacking /usr/src/$pkg.tar.xz"
	rm -rf "$src.tmp"
	mkdir -p "$src.tmp"
	tar -C "$src.tmp" -xf "/usr/src/$pkg.tar.xz"
	mv "$src.tmp/$pkg" "$src"
	rm -rf "$src.tmp"
fi

build=$out/build
mkdir -p "$build"
say "configuring in $build"
make -s -C "$src" O="$build" allnoconfig >&2
"$src/scripts/kconfig/merge_config.sh" -m -O "$build" "$build/.config" "$fragment" >/dev/null
make -s -C "$src" O="$build" olddefconfig >&2

# A fragment line the kernel silently dropped is a broken lab: say so now,
# not as a puzzling failure inside a guest.
missing=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*)
		grep -qx "$line" "$build/.config" || { say "not honoured: $line"; missing=1; }
		;;
	esac
done <"$fragment"
[ "$missing" = 0 ] || { say "kernel.config asks for options the kernel did not take"; exit 1; }

say "building bzImage and modules with -j$jobs (about 8 minutes on 2 cores; log: $out/build.log)"
start=$(date +%s)
# Progress: one line per 500 compiled objects, so CI shows it is alive.
make -C "$src" O="$build" -j"$jobs" bzImage modules 2>&1 | tee "$out/build.log" |
	awk '/^ *CC/ { n++; if (n % 500 == 0) { printf "build-kernel: %d objects compiled\n", n > "/dev/stderr"; fflush("/dev/stderr") } }
	     /error:/ { print > "/dev/stderr" }'
[ "${PIPESTATUS[0]}" = 0 ] || { say "build failed; tail of $out/build.log:"; tail -n 30 "$out/build.log" >&2; exit 1; }

rm -rf "$out/modules"
make -s -C "$src" O="$build" INSTALL_MOD_PATH="$out/modules" modules_install >&2
cp "$build/arch/x86/boot/bzImage" "$out/bzImage"
cp "$build/.config" "$out/config"
make -s -C "$src" O="$build" kernelrelease >"$out/release"
say "built $(cat "$out/release") in $(( $(date +%s) - start ))s"
# The object tree is only needed to rebuild; keep the cache small.
rm -rf "$build"
touch "$out/.complete"
echo "$out"
