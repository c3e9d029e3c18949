#!/bin/bash
# The VM half of `make bench`: the iommufd lifecycle through iommuctl's
# library and `iommuctl probe`, each against the same sequence of raw ioctls
# (bench/vm/raw-lifecycle.c, the floor), measured in one boot of the "basic"
# guest.  See bench/README.md.
#
# Usage: bench/vm/run.sh            (after make; bench/run.sh calls it)
#
# Environment:
#   BENCH_IOMMUCTL    binary to measure (default build/iommuctl, optimised)
#   BENCH_VM_LENGTH   bytes per cycle (default 1G)
#   BENCH_VM_REPS     timed cycles per process (default 3)
#   BENCH_VM_ROUNDS   processes per side and page size, alternating (default 10)
#   BENCH_VM_PROBES   interleaved rounds of the full probe (default 20)
#   VM_MEM            guest memory in MiB (default 3072: 1G of 4 KiB pages
#                     and 1G of huge pages)
#   VM_CPUS           guest vCPUs (default 2)
#   CC                compiler (default cc)
#
# A measurement, not a test: exit 0 whatever the ratios; 2 when it could not
# measure (no binary, no kernel, the guest failed).
set -u

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bench_name=bench-vm
# shellcheck source=bench/vm/lib.sh
. "$here/lib.sh"
lib=$(dirname "$iommuctl")/libiommufd.a
export BENCH_VM_LENGTH=${BENCH_VM_LENGTH:-1G}
export BENCH_VM_REPS=${BENCH_VM_REPS:-3}
export BENCH_VM_ROUNDS=${BENCH_VM_ROUNDS:-10}
export BENCH_VM_PROBES=${BENCH_VM_PROBES:-20}
export VM_MEM=${VM_MEM:-3072}
export VM_CPUS=${VM_CPUS:-2}
[ -f "$lib" ] || broke "no $lib next to the binary (run make)"

# The guest sees the host's / but not its /tmp: the programs go under build/.
bin=$top/build/bench-vm
mkdir -p "$bin"
warn=(-std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes
	-Wmissing-prototypes -Wvla)
# What the library links against (the Makefile's PKGS that exist here).
pkgs=()
for p in libpci json-c libudev; do pkg-config --exists "$p" && pkgs+=("$p"); done
read -ra dep_libs <<<"$(pkg-config --libs "${pkgs[@]}")"
"${CC:-cc}" "${warn[@]}" -I"$top" -o "$bin/raw-lifecycle" "$here/raw-lifecycle.c" ||
	broke "bench/vm/raw-lifecycle.c does not build"
"${CC:-cc}" "${warn[@]}" -I"$top/include" -o "$bin/lib-lifecycle" "$here/lib-lifecycle.c" "$lib" "${dep_libs[@]}" ||
	broke "bench/vm/lib-lifecycle.c does not build"

results=$(mktemp -d "${TMPDIR:-/tmp}/iommuctl-bench-vm.XXXXXX") || broke "no temporary directory"
trap 'rm -rf "$results"' EXIT
export BENCH_IOMMUCTL=$iommuctl BENCH_BIN=$bin
read -r load0 _ </proc/loadavg
say "booting basic (${VM_CPUS} vCPUs, ${VM_MEM} MiB, ${VM_ACCEL:-tcg}); $BENCH_VM_LENGTH per cycle," \
	"$BENCH_VM_ROUNDS x $BENCH_VM_REPS cycles per side, $BENCH_VM_PROBES probe rounds"
t0=$(date +%s)
"$top/tests/vm/run-vm.sh" -t 1500 -r "$results" -e BENCH_IOMMUCTL -e BENCH_BIN -e BENCH_VM_LENGTH \
	-e BENCH_VM_REPS -e BENCH_VM_ROUNDS -e BENCH_VM_PROBES basic bench/vm/guest.sh ||
	broke "the guest run failed (exit $?)"
[ -s "$results/bench.json" ] || broke "the guest wrote no results"
cp "$results/bench.json" "$bin/last.json" # the raw numbers, for a second look
read -r load1 _ </proc/loadavg

python3 - "$results/bench.json" "$iommuctl" "$(($(date +%s) - t0))" "$VM_CPUS" "$VM_MEM" "$(nproc)" \
	"$load0" "$load1" <<'EOF' || broke "the report failed"
import json, statistics, sys
path, binary, secs, vcpus, mem, ncpu, load0, load1 = sys.argv[1:]
r = json.load(open(path))
info = r['info']
med = statistics.median
def ms(ns):
    return '%9.2f ms' % (ns / 1e6)
print()
print('iommuctl VM bench: basic guest (intel-iommu, TCG, %s vCPUs, %s MiB), kernel %s, %s s;'
      % (vcpus, mem, info['kernel'], secs))
print('  host: %s CPUs, load average %s before, %s after; binary %s' % (ncpu, load0, load1, binary))
print()
print('  %-42s %11s %11s %6s   %11s %11s %6s %5s' % ('', 'floor med', 'iommuctl', 'ratio', 'floor min', 'iommuctl',
      'ratio', 'runs'))
rows = []
def row(label, raw, mine):
    ratio = med(mine) / med(raw)
    print('  %-42s %11s %11s %6.3f   %11s %11s %6.3f %5d' % (label, ms(med(raw)), ms(med(mine)), ratio,
          ms(min(raw)), ms(min(mine)), min(mine) / min(raw), len(mine)))
    return ratio
for key, label in (('cycle-4k', 'map+attach+detach+unmap %s, 4 KiB pages' % info['length']),
                   ('cycle-2m', 'map+attach+detach+unmap %s, 2 MiB pages' % info['length'])):
    rows.append((label + ' (libiommufd)', row(label, r[key]['raw'], r[key]['lib'])))
p = r['probe']
label = 'full probe of %s, spawn to exit' % info['device']
rows.append(('full probe of %s (iommuctl probe, spawn to exit)' % info['device'],
             row(label, [x * 1e9 for x in p['raw']['wall']], [x * 1e9 for x in p['iommuctl']['wall']])))
row('  the same, cpu time (user + sys)', [(u + s) * 1e9 for u, s in zip(p['raw']['user'], p['raw']['sys'])],
    [(u + s) * 1e9 for u, s in zip(p['iommuctl']['user'], p['iommuctl']['sys'])])
print()
print('  iommuctl probe, one run, by step (duration_ns of probe -j):')
dev = r['probe_steps']['devices'][0]
for s in dev['steps']:
    d = s['duration_ns']
    print('    %-11s %-10s %s' % (s['step'], s['result'], ms(d) if d is not None else '-'))
print()
print('  medians decide; with other load on the host (see the load average) the minimums are the steadier ratio')
print()
for label, ratio in rows:
    print('GOAL %s within 5%% of the raw floor: %s (%.3fx)' % (label, 'PASS' if ratio <= 1.05 else 'FAIL', ratio))
EOF
exit 0
