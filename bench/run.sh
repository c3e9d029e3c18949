#!/bin/bash
# make bench: how fast `iommuctl list -j` and `check -j` are on a large fake
# host, next to the floor (bench/walker.c, a minimal C program that reads the
# same files and prints the same bytes) and to the operators' bash loop
# (bench/bash-loop.sh, lspci per device); then, in a guest, the iommufd
# lifecycle and `iommuctl probe` next to raw ioctls (bench/vm/run.sh); then,
# in another guest, binding 32 devices to vfio-pci and back next to
# driverctl, dpdk-devbind and a raw sysfs loop (bench/vm/bind.sh).
# See bench/README.md.
#
# Usage: bench/run.sh
#
# Environment:
#   BENCH_IOMMUCTL   binary to measure (default build/iommuctl, the optimised
#                    build; the Makefile exports IOMMUCTL for the sanitizer
#                    build, so that name is deliberately not used here)
#   BENCH_DEVICES, BENCH_GROUPS   host size (default 4096 and 1024)
#   BENCH_RUNS       interleaved rounds of the fast commands (default 30, after 3 warm-ups)
#   BENCH_BASH_RUNS  runs of the bash loop (default 1: about a minute each)
#   BENCH_STRACE=0   skip the strace comparison of the files touched
#   CC               compiler for the walker (default cc)
#   BENCH_VM=0       skip the VM half (bench/vm/run.sh: boots the "basic"
#                    guest, about four minutes; its own knobs are listed there)
#   BENCH_BIND=0     skip the binding benchmark (bench/vm/bind.sh: boots the
#                    "bench-bind" guest, about four minutes; knobs listed there)
#   TMPDIR           where the tree goes when /dev/shm is not usable
#
# It is a measurement, not a test: it exits 0 whatever the verdicts, and 2
# only when it could not measure (no binary, no compiler, the fixture
# generator failed, a command failed), or when the binding benchmark could
# not (a tool that did not bind or restore every device makes its times
# meaningless).
set -u

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
top="$(cd "$here/.." && pwd)"

ndev=${BENCH_DEVICES:-4096}
ngroups=${BENCH_GROUPS:-1024}
runs=${BENCH_RUNS:-30}
bash_runs=${BENCH_BASH_RUNS:-1}
iommuctl=${BENCH_IOMMUCTL:-$top/build/iommuctl}
case "$iommuctl" in /*) ;; *) iommuctl="$top/$iommuctl" ;; esac

say() { printf 'bench: %s\n' "$*"; }
broke() {
	say "ERROR: $*"
	exit 2
}

[ -x "$iommuctl" ] || broke "no binary at $iommuctl (run make)"
for tool in python3 lspci pkg-config "${CC:-cc}"; do
	command -v "$tool" >/dev/null || broke "$tool is not installed"
done

base="${TMPDIR:-/tmp}"
fs=disk
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	base=/dev/shm
	fs=tmpfs
fi
work="$(mktemp -d "$base/iommuctl-bench.XXXXXX")" || broke "cannot make a temporary directory in $base"
trap 'rm -rf "$work"' EXIT
root="$work/host"
read -r load0 _ </proc/loadavg

# ---- the host, the walker ----

t0=$EPOCHREALTIME
"$top/tests/fixtures/mkbig" "$ndev" "$ngroups" "$root" >"$work/mkbig.log" 2>&1 ||
	{ cat "$work/mkbig.log" >&2; broke "tests/fixtures/mkbig $ndev $ngroups failed"; }
say "host with $ndev devices in $ngroups groups generated on $fs in" \
	"$(python3 -c 'import sys; print("%.1f s" % (float(sys.argv[2]) - float(sys.argv[1])))' "$t0" "$EPOCHREALTIME")"

# The Makefile's optimisation and warnings (no sanitizers), and libpci as the tool links it.
read -ra pci_cflags <<<"$(pkg-config --cflags libpci)"
read -ra pci_libs <<<"$(pkg-config --libs libpci)"
"${CC:-cc}" -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -Wshadow -Wformat=2 \
	-Wstrict-prototypes -Wmissing-prototypes -Wvla "${pci_cflags[@]}" \
	-o "$work/walker" "$here/walker.c" "${pci_libs[@]}" || broke "the walker does not build"

list=("$iommuctl" --sysroot "$root" list -j)
check=("$iommuctl" --sysroot "$root" check -j)
walker=("$work/walker" "$root")

# ---- do they do the same job? ----

"${list[@]}" >"$work/list.json" || broke "iommuctl list -j failed (exit $?)"
"${check[@]}" >/dev/null
rc=$?
# check exits 1 when a group is not viable, as a quarter of mkbig's are.
[ $rc -le 1 ] || broke "iommuctl check -j failed (exit $rc)"
"${walker[@]}" >"$work/walker.json" || broke "the walker failed (exit $?)"
if cmp -s "$work/list.json" "$work/walker.json"; then
	same_output="yes, the same $(wc -c <"$work/list.json") bytes"
else
	same_output="NO: its time is not a floor until bench/walker.c follows what list -j prints"
	diff "$work/list.json" "$work/walker.json" | head -20
fi
say "walker prints what list -j prints: $same_output"

# The files each one opens, stats, reads as a link or tests (strace's %file
# class), folded so that a line is a kind of file: BDF for PCI addresses, N
# for group numbers, vfioM, ethK.  Under the tree: ./path.
fold() {
	sed -nE 's/^[0-9]+ +([a-z0-9_]+)\((AT_FDCWD, |[0-9]+, )?"([^"]+)".*= (-1 ([A-Z]+)|[0-9]+).*/\1 \3 \5/p' "$1" |
		grep -v '^execve ' |
		sed -E "s#^([a-z0-9_]+) $root/?#\1 ./#; s#^([a-z0-9_]+) ([^/.][^ ]*)#\1 ./\2#;
			s#[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]#BDF#g; s#iommu_groups/[0-9]+#iommu_groups/N#;
			s#vfio[0-9]+#vfioM#g; s#/eth[0-9]+#/ethK#; s#/proc/[0-9]+#/proc/PID#; s#/fd/[0-9]+#/fd/N#; s# +\$##" |
		sort | uniq -c
}
distinct() {
	sed -nE 's/^[0-9]+ +[a-z0-9_]+\((AT_FDCWD, |[0-9]+, )?"([^"]+)".*/\2/p' "$1" |
		grep -v "^$work/walker\$\|^$iommuctl\$" | sed "s#^$root/\?#./#" | sort -u
}
if [ "${BENCH_STRACE:-1}" != 0 ] && command -v strace >/dev/null; then
	strace -f -qq -e trace=%file -o "$work/list.strace" "${list[@]}" >/dev/null || broke "strace of list -j failed"
	strace -f -qq -e trace=%file -o "$work/walker.strace" "${walker[@]}" >/dev/null || broke "strace of the walker failed"
	fold "$work/list.strace" >"$work/list.kinds"
	fold "$work/walker.strace" >"$work/walker.kinds"
	distinct "$work/list.strace" >"$work/list.paths"
	distinct "$work/walker.strace" >"$work/walker.paths"
	echo
	echo "Files touched, by kind (strace -e trace=%file; calls per kind):"
	python3 - "$work/list.kinds" "$work/walker.kinds" <<'EOF'
import sys
def load(path):
    kinds = {}
    for line in open(path):
        n, kind = line.strip().split(' ', 1)
        kinds[kind] = int(n)
    return kinds
a, b = load(sys.argv[1]), load(sys.argv[2])
kinds = sorted(set(a) | set(b), key=lambda k: (-max(a.get(k, 0), b.get(k, 0)), k))
host_same = [k for k in kinds if k.split(' ')[1].startswith('/') and a.get(k) == b.get(k)]
shown = [k for k in kinds if k not in host_same]
width = max(len(k) for k in shown + ['syscall path [error]'])
print('  %-*s %9s %9s' % (width, 'syscall path [error]', 'iommuctl', 'walker'))
for k in shown:
    x, y = a.get(k, 0), b.get(k, 0)
    print('  %-*s %9d %9d%s' % (width, k, x, y, '' if x == y else '  <-'))
n = sum(a[k] for k in host_same)
print('  %-*s %9d %9d' % (width, 'host files alike (loader, libc, libpci, pci.ids...)', n, n))
print('  %-*s %9d %9d' % (width, 'total', sum(a.values()), sum(b.values())))
EOF
	echo "  distinct paths: iommuctl $(wc -l <"$work/list.paths"), walker $(wc -l <"$work/walker.paths"):" \
		"$(comm -23 "$work/list.paths" "$work/walker.paths" | wc -l) only in iommuctl," \
		"$(comm -13 "$work/list.paths" "$work/walker.paths" | wc -l) only in the walker"
	comm -3 "$work/list.paths" "$work/walker.paths" | head -10 |
		sed 's/^\t/    only in the walker: /; t; s/^/    only in iommuctl:   /'
	echo
fi

# ---- timing ----

# Interleaved rounds (bench/timeit.py) rather than hyperfine, which runs one
# command's repetitions back to back: on a shared machine a busy spell would
# then land on one side of a ratio only.
say "timing list -j, the walker and check -j: $runs interleaved rounds after 3 warm-ups"
python3 "$here/timeit.py" --runs "$runs" --warmup 3 --out "$work/fast.json" \
	list "$(printf '%q ' "${list[@]}")" \
	walker "$(printf '%q ' "${walker[@]}")" \
	check "$(printf '%q ' "${check[@]}")" || broke "timing failed"

say "timing the bash loop: $bash_runs run(s), about 12 ms per device"
python3 "$here/timeit.py" --runs "$bash_runs" --stdout "$work/bash.out" --out "$work/bash.json" \
	bash "$(printf '%q ' "$here/bash-loop.sh" "$root")" || broke "bench/bash-loop.sh failed"

# lspci must have read the fake tree: what it printed is the tree's group
# members, one line each, in the loop's order (lspci drops a 0000: domain
# when every device it sees is in domain 0).
(cd "$root/sys/kernel/iommu_groups" && for g in *; do echo "group $g"; ls "$g/devices"; done) >"$work/bash.expect"
sed -E 's/^([0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) /0000:\1 /; s/^([0-9a-f:.]+) .*/\1/' "$work/bash.out" >"$work/bash.got"
if cmp -s "$work/bash.expect" "$work/bash.got"; then
	bash_ok="yes, all $(grep -vc '^group' "$work/bash.got") devices, e.g. \"$(grep -m1 -v '^group' "$work/bash.out")\""
else
	bash_ok="NO: its output does not list the tree's devices, so its time says nothing"
	diff "$work/bash.expect" "$work/bash.got" | head -10
fi

# ---- report ----

read -r load1 _ </proc/loadavg
SAME_OUTPUT=$same_output BASH_OK=$bash_ok python3 - "$work/fast.json" "$work/bash.json" \
	"$ndev" "$ngroups" "$fs" "$(nproc)" "$load0" "$load1" <<'EOF' || broke "the report failed"
import json, os, statistics, sys
fast, slow, ndev, ngroups, fs, ncpu, load0, load1 = sys.argv[1:]
res = json.load(open(fast))
res.update(json.load(open(slow)))
wall = {k: statistics.median(v['wall']) for k, v in res.items()}
cpu = {k: statistics.median([u + s for u, s in zip(v['user'], v['sys'])]) for k, v in res.items()}
def t(x):
    return '%8.1f ms' % (x * 1e3) if x < 10 else '%8.2f s ' % x
print()
print('iommuctl bench: %s devices in %s groups, tree on %s; %s CPUs, load average %s before, %s after'
      % (ndev, ngroups, fs, ncpu, load0, load1))
print()
print('  %-34s %11s %11s %11s %4s' % ('', 'median wall', 'min wall', 'median cpu', 'runs'))
for key, label in (('list', 'iommuctl list -j'), ('check', 'iommuctl check -j'),
                   ('walker', 'walker (the floor)'), ('bash', 'bash loop (lspci -nns per device)')):
    r = res[key]
    print('  %-34s %11s %11s %11s %4d' % (label, t(wall[key]), t(min(r['wall'])), t(cpu[key]), len(r['wall'])))
lw, cw, bl = wall['list'] / wall['walker'], wall['check'] / wall['walker'], wall['bash'] / wall['list']
print()
print('  list/walker  %6.2f   (cpu time: %.2f)   goal <= 1.5' % (lw, cpu['list'] / cpu['walker']))
print('  check/walker %6.2f   (cpu time: %.2f)' % (cw, cpu['check'] / cpu['walker']))
print('  bash/list    %6.0f   (cpu time: %.0f)    goal >= 100' % (bl, cpu['bash'] / cpu['list']))
print()
print('  walker prints what list -j prints: ' + os.environ['SAME_OUTPUT'])
print('  bash loop read the fake tree: ' + os.environ['BASH_OK'])
print()
# A ratio against a run that did not do the same job says nothing: its
# fairness check failed, so the goal is "not comparable", neither PASS nor FAIL.
def goal(fair, met):
    if not fair.startswith('yes'):
        return 'not comparable'
    return 'PASS' if met else 'FAIL'
print('GOAL list -j within 1.5x of the C walker floor: %s (%.2fx)'
      % (goal(os.environ['SAME_OUTPUT'], lw <= 1.5), lw))
print('GOAL list -j at least 100x faster than the bash loop: %s (%.0fx)'
      % (goal(os.environ['BASH_OK'], bl >= 100), bl))
EOF

# ---- the VM half: the iommufd lifecycle in a guest (bench/vm/run.sh) ----

# Each half that could not measure makes the whole exit 2, as the header says.
status=0
if [ "${BENCH_VM:-1}" != 0 ]; then
	BENCH_IOMMUCTL=$iommuctl "$here/vm/run.sh" ||
		{ status=2; say "the VM benchmark could not measure (BENCH_VM=0 skips it)"; }
fi

# ---- binding 32 devices against driverctl, dpdk-devbind, raw sysfs (bench/vm/bind.sh) ----

if [ "${BENCH_BIND:-1}" != 0 ]; then
	BENCH_IOMMUCTL=$iommuctl "$here/vm/bind.sh" ||
		{ status=2; say "the binding benchmark could not measure (BENCH_BIND=0 skips it)"; }
fi
exit $status
