#!/usr/bin/env bash
# The VM tier of `make check`: build (once) the guest kernel, then boot each
# topology once and run all its guest suites in that boot, then its host
# suites on what the guest left in its results directory.  Prints one TAP
# stream (tests renumbered, "topology: " in front of each description, the
# plan at the end) and a summary; exit 0 only if every test passed.
#
#   tests/vm/check-vm.sh [TOPOLOGY...]
#
# Default: every topology whose file sets TOPO_SUITES.  A topology's file
# names its guest suites (TOPO_SUITES, from tests/vm/suites/) and host
# suites (TOPO_HOST_SUITES, from tests/vm/host/).
#
# Several guests run at once (VM_JOBS, default: the number of CPUs), each
# with one vCPU unless VM_CPUS says otherwise: the suites are sequential, so
# two one-vCPU guests on two cores finish sooner than two two-vCPU guests
# one after the other.  Results are printed in topology order as they
# complete.  A guest that panics, hangs or never reports is a failing test
# of its own, with run-vm.sh's diagnosis (console tail) as TAP comments;
# so are tests a guest announced in its plan but never reported.
# KEEP=1 keeps the work directory (TAP, stderr, results) even on success.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cd "$top" || exit 1

# Longest first, so that parallel guests finish together.
default_order="qemu-client libvirt basic basic-session many virtio-iommu passthrough amd-iommu nomodules"

# A boot with many suites takes minutes under TCG, more on a loaded machine;
# a guest that is merely slow must not be taken for a hung one.
export VM_TIMEOUT=${VM_TIMEOUT:-600}

topologies=("$@")
if [ ${#topologies[@]} -eq 0 ]; then
	for t in $default_order $(cd "$here/topologies" && ls | sed -n 's/\.sh$//p'); do
		[[ " ${topologies[*]} " == *" $t "* ]] && continue
		suites=$(bash -c '. "$1"; echo "${TOPO_SUITES:-}"' _ "$here/topologies/$t.sh" 2>/dev/null)
		[ -n "$suites" ] && topologies+=("$t")
	done
fi

start=$(date +%s)
work=$(mktemp -d "${TMPDIR:-/tmp}/iommuctl-check-vm.XXXXXX")

# ---- what every guest needs ------------------------------------------------------
kernel=$("$here/build-kernel.sh") || { echo "not ok 1 - vm: guest kernel build failed"; echo "1..1"; exit 1; }
export VM_KERNEL=$kernel
if [ -z "${IOMMUCTL:-}" ]; then
	if [ -x build-san/iommuctl ]; then IOMMUCTL=$top/build-san/iommuctl; else IOMMUCTL=$top/build/iommuctl; fi
fi
export IOMMUCTL
[ -x "$IOMMUCTL" ] || { echo "not ok 1 - vm: no binary under test at $IOMMUCTL (make; make san)"; echo "1..1"; exit 1; }
export DMA_PROBE=${DMA_PROBE:-$top/build/dma-probe}
if [ ! -x "$DMA_PROBE" ] || [ "$DMA_PROBE" -ot tests/dma-probe.c ]; then
	mkdir -p "$(dirname "$DMA_PROBE")"
	${CC:-cc} -std=c11 -Wall -Wextra -Werror -O2 -I. -o "$DMA_PROBE" tests/dma-probe.c ||
		{ echo "not ok 1 - vm: cannot build $DMA_PROBE"; echo "1..1"; exit 1; }
fi
# The kernel's own verdict on a group (topology.bats), beside the probe.
verdict=$(dirname "$DMA_PROBE")/vfio-verdict
if [ ! -x "$verdict" ] || [ "$verdict" -ot tests/vfio-verdict.c ]; then
	${CC:-cc} -std=c11 -Wall -Wextra -Werror -O2 -I. -o "$verdict" tests/vfio-verdict.c ||
		{ echo "not ok 1 - vm: cannot build $verdict"; echo "1..1"; exit 1; }
fi

jobs=${VM_JOBS:-$(nproc)}
[ "$jobs" -ge 1 ] || jobs=1
[ "$jobs" -le ${#topologies[@]} ] || jobs=${#topologies[@]}
if [ "$jobs" -gt 1 ]; then export VM_CPUS=${VM_CPUS:-1}; fi

# ---- one topology: one boot, then the host suites ----------------------------------
run_topology() {
	local topo=$1 d=$work/$1 t0 suites=() hosts=() s rc
	mkdir -p "$d"
	t0=$(date +%s)
	# shellcheck source=/dev/null
	. "$here/topologies/$topo.sh"
	for s in ${TOPO_SUITES:-}; do
		if [ -f "tests/vm/suites/$s.bats" ]; then suites+=("tests/vm/suites/$s.bats"); else echo "suite $s is missing" >>"$d/notes"; fi
	done
	for s in ${TOPO_HOST_SUITES:-}; do
		if [ -f "tests/vm/host/$s.bats" ]; then hosts+=("tests/vm/host/$s.bats"); else echo "host suite $s is missing" >>"$d/notes"; fi
	done
	: >"$d/guest.tap"
	if [ ${#suites[@]} -gt 0 ]; then
		"$here/run-vm.sh" -r "$d/results" -e DMA_PROBE "$topo" bats --tap "${suites[@]}" >"$d/guest.tap" 2>"$d/guest.err"
		rc=$?
		echo "$rc" >"$d/guest.rc"
	fi
	: >"$d/host.tap"
	if [ ${#hosts[@]} -gt 0 ] && [ -s "$d/results/status" ]; then
		VM_RESULTS=$d/results bats --tap "${hosts[@]}" >"$d/host.tap" 2>"$d/host.err"
	fi
	echo $(($(date +%s) - t0)) >"$d/seconds"
	touch "$d/done"
}

# ---- TAP: renumber each topology's tests into one stream ------------------------
n=0 passed=0 failed=0 skipped=0 retried=
emit() {	# emit ok|not ok DESCRIPTION
	n=$((n + 1))
	echo "$1 $n $2"
	case "$1 $2" in
	"not ok"*) failed=$((failed + 1)) ;;
	*"# skip"* | *"# SKIP"*) skipped=$((skipped + 1)) ;;
	*) passed=$((passed + 1)) ;;
	esac
}
comment_file() { [ -s "$1" ] && sed 's/^/# /' "$1"; }

# One bats TAP file as part of the stream; a plan that promised more tests
# than reported is a failure.
print_tap() {
	local label=$1 file=$2 planned=0 seen=0 line
	while IFS= read -r line; do
		case $line in
		1..*) planned=${line#1..} ;;
		"ok "*) seen=$((seen + 1)); emit ok "$label: $(sed -E 's/^ok [0-9]+ //' <<<"$line")" ;;
		"not ok "*) seen=$((seen + 1)); emit "not ok" "$label: $(sed -E 's/^not ok [0-9]+ //' <<<"$line")" ;;
		"#"*) echo "$line" ;;
		*) echo "# $line" ;;
		esac
	done <"$file"
	if [ "$seen" -lt "$planned" ]; then
		emit "not ok" "$label: $((planned - seen)) of $planned tests never reported"
	fi
}

print_topology() {
	local topo=$1 d=$work/$1 rc
	echo "# vm: $topo ($(cat "$d/seconds")s)"
	# run-vm.sh booted this guest twice: the first boot panicked before
	# the payload started.  Said in the stream, and counted in the summary.
	if [ -s "$d/results/boot-retried" ]; then
		echo "# vm: $topo: the first boot panicked before the suites started and was retried once: $(head -n 1 "$d/results/boot-retried")"
		retried+=" $topo"
	fi
	[ -s "$d/notes" ] && { comment_file "$d/notes"; emit "not ok" "$topo: suites missing"; }
	if [ -f "$d/guest.rc" ]; then
		rc=$(cat "$d/guest.rc")
		print_tap "$topo" "$d/guest.tap"
		if [ "$rc" = 125 ]; then
			comment_file "$d/guest.err"
			emit "not ok" "$topo: the guest failed (panic, timeout or no report; see above)"
		elif [ "$rc" != 0 ]; then
			comment_file "$d/guest.err"
			grep -q '^not ok' "$d/guest.tap" || emit "not ok" "$topo: bats exited $rc"
		else
			grep '^run-vm:' "$d/guest.err" | sed 's/^/# /'
		fi
	fi
	# shellcheck source=/dev/null
	if [ -s "$d/host.tap" ]; then
		print_tap "$topo (host)" "$d/host.tap"
		grep -q '^not ok' "$d/host.tap" && comment_file "$d/host.err"
	elif [ -n "$(. "$here/topologies/$topo.sh"; echo "${TOPO_HOST_SUITES:-}")" ] && [ ! -s "$d/results/status" ]; then
		emit "not ok" "$topo (host): host suites not run: the guest left no results"
	fi
}

echo "# vm: kernel $(basename "$kernel"), $IOMMUCTL, ${#topologies[@]} topologies, $jobs at a time"
running=0 next_start=0 next_print=0
while [ "$next_print" -lt ${#topologies[@]} ]; do
	while [ "$running" -lt "$jobs" ] && [ "$next_start" -lt ${#topologies[@]} ]; do
		run_topology "${topologies[$next_start]}" &
		running=$((running + 1))
		next_start=$((next_start + 1))
	done
	wait -n
	running=$((running - 1))
	while [ "$next_print" -lt ${#topologies[@]} ] && [ -e "$work/${topologies[$next_print]}/done" ]; do
		print_topology "${topologies[$next_print]}"
		next_print=$((next_print + 1))
	done
done
wait

echo "1..$n"
echo "# vm: $passed passed, $failed failed, $skipped skipped in $(($(date +%s) - start))s${retried:+; boot retried after a panic:$retried}"
if [ "$failed" -gt 0 ] || [ "${KEEP:-0}" = 1 ]; then
	echo "# vm: kept $work"
else
	rm -rf "$work"
fi
[ "$failed" -eq 0 ]
