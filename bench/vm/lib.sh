# shellcheck shell=bash disable=SC2154 # here and bench_name come from the script that sources this
# Sourced by the host halves of the VM benchmarks (run.sh, bind.sh) after
# they set $here and $bench_name: the checkout (made the working directory),
# the binary measured, and how to report and give up (exit 2: could not
# measure).
top="$(cd "$here/../.." && pwd)"
cd "$top" || exit 2

iommuctl=${BENCH_IOMMUCTL:-$top/build/iommuctl}
case "$iommuctl" in /*) ;; *) iommuctl="$top/$iommuctl" ;; esac

say() { printf '%s: %s\n' "$bench_name" "$*"; }
broke() {
	say "ERROR: $*"
	exit 2
}

[ -x "$iommuctl" ] || broke "no binary at $iommuctl (run make)"
command -v qemu-system-x86_64 >/dev/null || broke "qemu-system-x86_64 is not installed"
