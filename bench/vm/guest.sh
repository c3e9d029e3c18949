#!/bin/bash
# The guest half of the VM benchmark (bench/vm/run.sh boots "basic" with this
# as the payload).  Everything is measured in this one boot, in interleaved
# rounds, so that the two sides of a ratio see the same machine:
#
#   cycle-4k   map + attach + detach + unmap of BENCH_VM_LENGTH in 4 KiB pages
#   cycle-2m   the same in 2 MiB huge pages
#              raw-lifecycle (raw ioctls) against lib-lifecycle (libiommufd,
#              which iommuctl uses); BENCH_VM_REPS timed cycles per process,
#              BENCH_VM_ROUNDS processes each, alternating which goes first
#   probe      `iommuctl probe EDU --length 2M` against `raw-lifecycle probe`,
#              spawn to exit (bench/timeit.py), BENCH_VM_PROBES rounds
#
# Writes $RESULTS/bench.json: {"cycle-4k": {"raw": [ns...], "lib": [ns...]}, ...,
# "probe": {"iommuctl": {"wall": [s...]...}, "raw": ...}, "info": {...}}.
set -euo pipefail

: "${BENCH_IOMMUCTL:?}" "${BENCH_BIN:?}"
length=${BENCH_VM_LENGTH:-1G}
reps=${BENCH_VM_REPS:-3}
rounds=${BENCH_VM_ROUNDS:-10}
probes=${BENCH_VM_PROBES:-20}
out=${RESULTS:-/results}
raw=$BENCH_BIN/raw-lifecycle
lib=$BENCH_BIN/lib-lifecycle

IOMMUCTL=$BENCH_IOMMUCTL
export IOMMUCTL
# shellcheck disable=SC1091 # the guest suites' helpers (find_lone_edu, bind_to, ...)
. tests/vm/suites/lib.bash

edu=$(find_lone_edu)
[ -n "$edu" ] || { echo "bench: no lone edu" >&2; exit 2; }
bytes=$(numfmt --from=iec "$length")
huge=$((bytes / 2097152 + 1))
echo "$huge" >/proc/sys/vm/nr_hugepages
got=$(cat /proc/sys/vm/nr_hugepages)
[ "$got" -ge $((bytes / 2097152)) ] || { echo "bench: only $got huge pages for $length (VM_MEM too small)" >&2; exit 2; }

work=$(mktemp -d)
bind_to "$edu" vfio-pci || { echo "bench: cannot bind $edu to vfio-pci" >&2; exit 2; }
echo "bench: $edu on vfio-pci; $length per cycle, $rounds x $reps cycles per side and page size" >&2

# one warm-up cycle of each, then the rounds
for page in 4K 2M; do
	"$raw" cycle "$edu" "$length" "$page" 1 >/dev/null
	"$BENCH_BIN/lib-lifecycle" "$edu" "$length" "$page" 1 >/dev/null
	: >"$work/raw-$page"
	: >"$work/lib-$page"
	for r in $(seq "$rounds"); do
		if [ $((r % 2)) = 1 ]; then
			"$raw" cycle "$edu" "$length" "$page" "$reps" >>"$work/raw-$page"
			"$lib" "$edu" "$length" "$page" "$reps" >>"$work/lib-$page"
		else
			"$lib" "$edu" "$length" "$page" "$reps" >>"$work/lib-$page"
			"$raw" cycle "$edu" "$length" "$page" "$reps" >>"$work/raw-$page"
		fi
	done
	echo "bench: cycles in $page pages done" >&2
done
unbind_to_default "$edu"

# The full probe, spawn to exit, from a driver-less edu each time (both restore it).
python3 bench/timeit.py --runs "$probes" --warmup 2 --out "$work/probe.json" \
	iommuctl "$(printf '%q ' "$BENCH_IOMMUCTL" probe --length 2M "$edu")" \
	raw "$(printf '%q ' "$raw" probe "$edu" 2M)"
[ -z "$(dev_driver "$edu")" ] || { echo "bench: $edu left on $(dev_driver "$edu")" >&2; exit 2; }
"$BENCH_IOMMUCTL" probe -j --length 2M "$edu" >"$work/probe-steps.json" || true
echo "bench: probes done" >&2

python3 - "$work" "$length" "$edu" "$reps" "$rounds" "$out/bench.json" <<'EOF'
import json, sys
work, length, edu, reps, rounds, dest = sys.argv[1:]
def ns(path):
    return [int(x) for x in open(path).read().split()]
res = {'info': {'length': length, 'device': edu, 'reps': int(reps), 'rounds': int(rounds),
                'kernel': open('/proc/sys/kernel/osrelease').read().strip()}}
for page, key in (('4K', 'cycle-4k'), ('2M', 'cycle-2m')):
    res[key] = {'raw': ns('%s/raw-%s' % (work, page)), 'lib': ns('%s/lib-%s' % (work, page))}
res['probe'] = json.load(open(work + '/probe.json'))
res['probe_steps'] = json.load(open(work + '/probe-steps.json'))
json.dump(res, open(dest, 'w'))
EOF
