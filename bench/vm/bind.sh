#!/bin/bash
# The binding part of `make bench`: bind 32 devices to vfio-pci and give
# them back, with iommuctl (every safety check on), with a loop of driverctl,
# with dpdk-devbind and with a raw sysfs loop (the floor), in one boot of the
# "bench-bind" guest (32 virtio-net NICs, each alone in its group).
# See bench/README.md; the guest half is bench/vm/bind-guest.py.
#
# Usage: bench/vm/bind.sh            (after make; bench/run.sh calls it)
#
# Environment:
#   BENCH_IOMMUCTL          binary to measure (default build/iommuctl, optimised)
#   BENCH_BIND_DEVICES      devices per cycle (default 32, the topology's NICs)
#   BENCH_BIND_ROUNDS       interleaved rounds (default 8)
#   BENCH_BIND_SLOW_ROUNDS  of those, the rounds driverctl runs in (default 4:
#                           it takes about 17 s a cycle under TCG; 0 skips it)
#   VM_CPUS                 guest vCPUs (default 2)
#
# A measurement, not a test: exit 0 whatever the ratios; 2 when it could not
# measure (no binary, no guest), or when a tool did not bind or restore
# every device (its time would mean nothing).
set -u

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bench_name=bench-bind
# shellcheck source=bench/vm/lib.sh
. "$here/lib.sh"
export BENCH_BIND_DEVICES=${BENCH_BIND_DEVICES:-32}
export BENCH_BIND_ROUNDS=${BENCH_BIND_ROUNDS:-8}
export BENCH_BIND_SLOW_ROUNDS=${BENCH_BIND_SLOW_ROUNDS:-4}
export VM_CPUS=${VM_CPUS:-2}
version() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null || echo unknown; }

results=$(mktemp -d "${TMPDIR:-/tmp}/iommuctl-bench-bind.XXXXXX") || broke "no temporary directory"
trap 'rm -rf "$results"' EXIT
export BENCH_IOMMUCTL=$iommuctl
read -r load0 _ </proc/loadavg
say "booting bench-bind (${VM_CPUS} vCPUs, ${VM_ACCEL:-tcg}); $BENCH_BIND_DEVICES devices," \
	"$BENCH_BIND_ROUNDS rounds (driverctl in $BENCH_BIND_SLOW_ROUNDS); about 4 minutes, more on a busy host"
t0=$(date +%s)
"$top/tests/vm/run-vm.sh" -t 1200 -r "$results" -e BENCH_IOMMUCTL -e BENCH_BIND_DEVICES \
	-e BENCH_BIND_ROUNDS -e BENCH_BIND_SLOW_ROUNDS bench-bind bench/vm/bind-guest.py ||
	broke "the guest run failed (exit $?)"
[ -s "$results/bind.json" ] || broke "the guest wrote no results"
mkdir -p "$top/build/bench-vm"
cp "$results/bind.json" "$top/build/bench-vm/last-bind.json" # the raw numbers, for a second look
read -r load1 _ </proc/loadavg

python3 - "$results/bind.json" "$iommuctl" "$(($(date +%s) - t0))" "$VM_CPUS" "$(nproc)" "$load0" "$load1" \
	"$(version driverctl)" "$(version dpdk)" <<'EOF' || broke "the report failed"
import json, statistics, sys
path, binary, secs, vcpus, ncpu, load0, load1, v_driverctl, v_dpdk = sys.argv[1:]
r = json.load(open(path))
info, sides = r['info'], r['sides']
med = statistics.median
cycle = {k: [b + x for b, x in zip(v['bind']['wall'], v['restore']['wall'])] for k, v in sides.items()}
cpu = {k: [sum(v[p][c][i] for p in ('bind', 'restore') for c in ('user', 'sys'))
           for i in range(len(cycle[k]))] for k, v in sides.items()}
def s(x):
    return '%8.2f s' % x
print()
print('iommuctl binding bench: %d %s devices to vfio-pci and back, bench-bind guest (intel-iommu, TCG, %s vCPUs),'
      % (len(info['devices']), info['original_driver'], vcpus))
print('  kernel %s; %s s in all (%.0f s of rounds); host: %s CPUs, load average %s before, %s after'
      % (info['kernel'], secs, info['guest_seconds'], ncpu, load0, load1))
print('  binary %s; driverctl %s, dpdk %s' % (binary, v_driverctl, v_dpdk))
print()
labels = (('iommuctl', 'iommuctl bind / unbind'), ('raw', 'raw sysfs loop (the floor)'),
          ('driverctl', 'driverctl --nosave loop'), ('dpdk-devbind', 'dpdk-devbind.py -b'))
print('  %-28s %11s %11s %11s %11s %11s %4s' % ('one cycle (bind + restore)', 'median', 'min', 'bind med',
      'restore med', 'cpu med', 'runs'))
for key, label in labels:
    if key not in sides:
        print('  %-28s skipped: %s' % (label, r['skipped'].get(key, 'no runs')))
        continue
    v = sides[key]
    print('  %-28s %11s %11s %11s %11s %11s %4d' % (label, s(med(cycle[key])), s(min(cycle[key])),
          s(med(v['bind']['wall'])), s(med(v['restore']['wall'])), s(med(cpu[key])), len(cycle[key])))
m = {k: med(v) for k, v in cycle.items()}
lo = {k: min(v) for k, v in cycle.items()}
print()
goals = []
def ratio(a, b, label, goal, verdict):
    if a not in m or b not in m:
        print('  %-22s not measured' % label)
        goals.append((verdict, None, None))
        return
    x = m[a] / m[b]
    ok = x <= 3 if a == 'iommuctl' else x >= 20
    print('  %-22s %7.2f   (min: %.2f)   %s' % (label, x, lo[a] / lo[b], goal))
    goals.append((verdict, x, ok))
ratio('iommuctl', 'raw', 'iommuctl/raw', 'goal <= 3', 'iommuctl within 3x of the raw floor')
ratio('driverctl', 'iommuctl', 'driverctl/iommuctl', 'goal >= 20', 'iommuctl at least 20x faster than driverctl')
ratio('dpdk-devbind', 'iommuctl', 'dpdk-devbind/iommuctl', 'goal >= 20',
      'iommuctl at least 20x faster than dpdk-devbind')
# The floor (the kernel's work) is in every side: what a tool costing
# nothing over it would score.
best = ['%s/raw %.1f' % (k, m[k] / m['raw']) for k in ('driverctl', 'dpdk-devbind') if k in m and 'raw' in m]
if best:
    print('  (the best any tool can score, the floor itself: %s)' % ', '.join(best))
if 'raw' in m:
    print('  time over the floor, median cycle: ' +
          ', '.join('%s %+.2f s' % (k, m[k] - m['raw']) for k, _ in labels if k in m and k != 'raw'))
print()
print('  every phase was checked: all devices on vfio-pci after the bind; on %s, driver_override'
      % info['original_driver'])
print("  cleared, after the restore (and iommuctl's journal empty). Medians decide.")
print()
for verdict, x, ok in goals:
    if x is None:
        print('GOAL %s: NOT MEASURED' % verdict)
    else:
        print('GOAL %s: %s (%.2fx)' % (verdict, 'PASS' if ok else 'FAIL', x))
EOF
exit 0
