#!/bin/bash
# What the libvirt hook adds to `virsh start`: Debian's libvirtd in a guest
# runs the installed hook (optimised build) for diskless domains given a lone
# edu, under policy check and policy bind, and each hook run is timed from
# libvirtd's own debug log.  The hook runs three times per start (prepare
# begin, start begin, started begin) and twice per stop (stopped end,
# release end).  bench/vm/libvirt-hook-guest.sh is the guest half.
#
# Usage: bench/vm/libvirt-hook.sh [TOPOLOGY...]   (default: libvirt many)
# Environment: BENCH_HOOK_ROUNDS (starts per policy, default 3), VM_CPUS (default 1).
# A measurement, not a test: exit 2 when it could not measure (no libvirt,
# a hook run failed, policy bind did not bind).
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bench_name=libvirt-hook
# shellcheck source=bench/vm/lib.sh
. "$here/lib.sh"
command -v libvirtd >/dev/null || broke "libvirt-daemon-system is not installed"
export BENCH_HOOK_ROUNDS=${BENCH_HOOK_ROUNDS:-3} VM_CPUS=${VM_CPUS:-1}
[ $# -gt 0 ] || set -- libvirt many
for topo in "$@"; do
	out=$(mktemp) || broke "no temporary file"
	"$top/tests/vm/run-vm.sh" -t 900 -e BENCH_HOOK_ROUNDS "$topo" bench/vm/libvirt-hook-guest.sh >"$out" || {
		cat "$out"
		rm -f "$out"
		broke "$topo: the guest could not measure"
	}
	say "$topo: ms per hook run (mean over $BENCH_HOOK_ROUNDS starts), and what it adds to one virsh start"
	awk -v topo="$topo" '
	$1 == "hook" { sum[$2 " " $3] += $4; n[$2 " " $3]++ }
	$1 == "start-wall" { wall[$2] += $3; nw[$2]++ }
	END {
		for (pol in nw) {
			line = ""; add = 0
			split("prepare-begin start-begin started-begin stopped-end release-end", ops, " ")
			for (i = 1; i <= 5; i++) {
				k = pol " " ops[i]; m = n[k] ? sum[k] / n[k] : 0
				line = line sprintf(" %s %.0f", ops[i], m)
				if (i <= 3) add += m
			}
			printf "  %s policy %s:%s; per start %.0f ms of a %.1f s virsh start\n", topo, pol, line, add, wall[pol] / nw[pol] / 1000
		}
	}' "$out"
	rm -f "$out"
done
