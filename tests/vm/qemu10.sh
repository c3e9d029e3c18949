#!/usr/bin/env bash
# Run QEMU 10 (Debian's bookworm-backports build, unpacked into the lab
# cache by fetch-debs.sh) beside the system's QEMU 7.2, on the host or in
# a guest (the guest sees the host's cache over the 9p root).
#
#   tests/vm/qemu10.sh --prefix          print the unpacked tree and exit
#   tests/vm/qemu10.sh QEMU-ARGS...      run qemu-system-x86_64 10.x
#
# QEMU loads its accelerator and device modules from a directory compiled
# in, which is the system's; 7.2's modules abort QEMU 10.  So QEMU runs in
# a private mount namespace with its own module directory bound over the
# system's, and with -L pointing at its own firmware and option ROMs.
# QEMU10_ROOT names an already unpacked tree (for a read-only guest,
# which cannot run apt).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=${QEMU10_ROOT:-}
if [ -z "$root" ]; then
	root=$("$here/fetch-debs.sh" bookworm-backports qemu-system-x86 qemu-system-data qemu-system-common)
fi
if [ "${1:-}" = --prefix ]; then
	echo "$root"
	exit 0
fi
bin=$root/usr/bin/qemu-system-x86_64
moddir=/usr/lib/x86_64-linux-gnu/qemu
[ -x "$bin" ] || { echo "qemu10: no $bin" >&2; exit 1; }
export QEMU_MODULE_DIR=$root$moddir
if [ -d "$moddir" ]; then
	exec unshare -m --propagation private -- /bin/sh -c \
		'mount --bind "$1" "$2" && shift 2 && exec "$@"' qemu10 \
		"$root$moddir" "$moddir" "$bin" -L "$root/usr/share/qemu" "$@"
fi
exec "$bin" -L "$root/usr/share/qemu" "$@"
