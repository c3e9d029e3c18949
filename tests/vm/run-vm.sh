#!/usr/bin/env bash
# Boot a VM-lab guest with one topology and run one payload in it.
#
#   tests/vm/run-vm.sh [options] TOPOLOGY PAYLOAD [ARGS...]
#
# TOPOLOGY is a name from tests/vm/topologies/ (or a path to such a file).
# PAYLOAD runs in the guest as root, with the repository checkout as its
# working directory (relative paths are relative to it), stdin /dev/null,
# and IOMMUCTL plus the variables named by -e in its environment.  Its
# stdout and stderr are streamed back to ours.
#
# Exit status: the payload's; 125 when the guest failed instead (panic,
# timeout, setup error, no report: the reason and the last console lines are
# printed and the console log is kept); 2 on a usage error.
#
# Options:
#   -i            interactive: the payload (e.g. bash, "iommuctl shell") gets
#                 the serial console as its terminal; Ctrl-A X kills the VM
#   -r DIR        use DIR as the results share and keep it (the payload sees
#                 it as /results; e.g. for snapshots read back on the host)
#   -e VAR        pass VAR from our environment to the payload (repeatable)
#   -t SECONDS    outer timeout (default: VM_TIMEOUT, the topology's TOPO_TIMEOUT, or 300)
#   -k            keep the work directory (console log, results) on success
#   -v            also copy the guest console to our stderr as it runs
#
# Environment: VM_ACCEL (tcg, kvm or auto; default tcg, see README.md),
# VM_CPUS (2), VM_MEM (MiB, 1024), VM_KERNEL (a build-kernel.sh output
# directory; default: ask build-kernel.sh, which builds once and caches),
# VM_QEMU (qemu-system-x86_64), IOMMUCTL (binary under test; default
# build-san/iommuctl if built, else build/iommuctl), VM_APPEND (more kernel
# arguments), VM_APPEND_FIRST (kernel arguments for the first boot only: how
# tests/vm/host/harness.bats makes a boot panic to check the retry).
#
# A guest kernel that panics before the payload starts (under host load a
# TCG boot can still trip over a timer check) is booted once more; that is
# said on stderr and recorded in the results share as boot-retried (the
# panic line), which check-vm.sh reports in its TAP output.  A second panic,
# or a panic once the payload runs, is a failure (125).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)

usage() {
	sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
}
say() { printf 'run-vm: %s\n' "$*" >&2; }

interactive=0 results='' keep=0 verbose=0 envs=()
timeout_s=${VM_TIMEOUT:-300} timeout_given=${VM_TIMEOUT:+1}
while getopts ':ir:e:t:kvh' opt; do
	case $opt in
	i) interactive=1 ;;
	r) results=$OPTARG ;;
	e) envs+=("$OPTARG") ;;
	t) timeout_s=$OPTARG timeout_given=1 ;;
	k) keep=1 ;;
	v) verbose=1 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 2 ] || usage
topology=$1
shift

case $topology in
*/*) topo_file=$(cd "$(dirname "$topology")" && pwd)/$(basename "$topology") ;;
*) topo_file=$here/topologies/$topology.sh ;;
esac
[ -f "$topo_file" ] || { say "no topology $topology (have: $(cd "$here/topologies" && ls | sed 's/\.sh$//' | tr '\n' ' '))"; exit 2; }
topo_name=$(basename "$topo_file" .sh)

# The binary under test, as an absolute path the guest sees through the
# root share.
if [ -z "${IOMMUCTL:-}" ]; then
	if [ -x "$top/build-san/iommuctl" ]; then IOMMUCTL=$top/build-san/iommuctl; else IOMMUCTL=$top/build/iommuctl; fi
fi
case $IOMMUCTL in /*) ;; */*) IOMMUCTL=$PWD/$IOMMUCTL ;; esac
export IOMMUCTL

kdir=${VM_KERNEL:-}
if [ -z "$kdir" ]; then
	kdir=$("$here/build-kernel.sh") || { say "no guest kernel"; exit 125; }
fi
kdir=$(cd "$kdir" && pwd)
[ -f "$kdir/bzImage" ] || { say "no bzImage in $kdir"; exit 125; }
release=$(cat "$kdir/release")
qemu=${VM_QEMU:-qemu-system-x86_64}

work=$(mktemp -d "${TMPDIR:-/tmp}/iommuctl-vm.XXXXXX")
console=$work/console.log
if [ -n "$results" ]; then
	mkdir -p "$results" && results=$(cd "$results" && pwd)
	rm -f "$results"/{vm.conf,stdout,stderr,status,init-error,boot-retried}
else
	results=$work/results
	mkdir -p "$results"
fi
: >"$results/stdout"
: >"$results/stderr"
: >"$console"

# ---- the topology: QEMU devices, kernel arguments, guest settings -------
# shellcheck disable=SC2034 # read by the topology file's functions and the guest
TOPO_CMDLINE='' TOPO_MODULES='' TOPO_NET=() TOPO_MEM='' TOPO_CPUS='' TOPO_TIMEOUT='' TOPO_QEMU=''
QEMU_ARGS=()
# shellcheck source=/dev/null
. "$topo_file"
declare -F topo_qemu_args >/dev/null || { say "$topo_file defines no topo_qemu_args"; exit 2; }
# A topology whose suites are slow may need more than 300 s; -t and VM_TIMEOUT still win.
[ -n "$timeout_given" ] || [ -z "$TOPO_TIMEOUT" ] || timeout_s=$TOPO_TIMEOUT
topo_qemu_args "$work" || { say "$topo_name: topo_qemu_args failed"; exit 125; }
# Variables the topology computed on the host for the guest (TOPO_ENV names them).
for v in ${TOPO_ENV:-}; do envs+=("$v"); done

# ---- the emulator -------------------------------------------------------------
# TOPO_QEMU=10: the topology needs QEMU 10 (igb, ...), run by qemu10.sh beside
# the system's 7.2.  Its qboot.rom replaces SeaBIOS (a direct kernel boot
# needs no BIOS services), which saves about 30 s per boot under TCG.
# VM_QEMU still wins when set.
bios=()
if [ "${TOPO_QEMU:-}" = 10 ] && [ -z "${VM_QEMU:-}" ]; then
	q10root=$("$here/qemu10.sh" --prefix) || { say "$topo_name: no QEMU 10 (tests/vm/fetch-debs.sh)"; exit 125; }
	export QEMU10_ROOT=$q10root
	qemu="$here/qemu10.sh"
	[ -f "$q10root/usr/share/qemu/qboot.rom" ] && bios=(-bios qboot.rom)
elif [ -n "${TOPO_QEMU:-}" ] && [ "${TOPO_QEMU}" != 7 ]; then
	say "$topo_file: TOPO_QEMU must be 7 or 10"; exit 2
fi

# ---- accelerator ------------------------------------------------------------
# TCG unless asked otherwise.  "auto" uses KVM only if a short probe boot
# with KVM completed on this machine (result cached next to the kernel).
accel=${VM_ACCEL:-tcg}
if [ "$accel" = auto ]; then
	accel=tcg
	if [ -w /dev/kvm ]; then
		probe=$kdir/accel-probe-qemu$($qemu --version | awk 'NR==1 {print $4}')-host$(uname -r)
		if [ ! -f "$probe" ]; then
			say "probing KVM with a short boot (once per machine)"
			if VM_KEEP_FAILED=0 VM_ACCEL=kvm VM_KERNEL=$kdir IOMMUCTL=/bin/true "$0" -t 15 "$here/topologies/probe.sh" true >/dev/null 2>&1; then
				echo kvm >"$probe"
			else
				echo tcg >"$probe"
			fi
		fi
		accel=$(cat "$probe")
	fi
fi
case $accel in
kvm) machine=q35,accel=kvm; cpu=host ;;
tcg) machine=q35,accel=tcg; cpu=${VM_CPU:-max} ;;
*) say "VM_ACCEL must be tcg, kvm or auto"; exit 2 ;;
esac

# ---- what the guest init reads ---------------------------------------------
{
	printf 'VM_TOPOLOGY=%q\n' "$topo_name"
	printf 'VM_TOPOLOGY_FILE=%q\n' "$topo_file"
	printf 'VM_CWD=%q\n' "$top"
	printf 'VM_MODULES=%q\n' "$kdir/modules/lib/modules/$release"
	printf 'VM_INTERACTIVE=%q\n' "$interactive"
	if [ "$interactive" = 1 ]; then
		# The serial line cannot tell the guest our window size or terminal.
		printf 'VM_TTY_SIZE=%q\n' "$(stty size 2>/dev/null)"
		printf 'export TERM=%q\n' "${TERM:-vt100}"
	fi
	# Host directories the guest must see where it mounts fresh tmpfs
	# (/tmp, /run): the checkout, the binaries, the payload's directory.
	keepdirs="$top $(dirname "$IOMMUCTL")"
	[ -n "${DMA_PROBE:-}" ] && keepdirs+=" $(dirname "$DMA_PROBE")"
	case $1 in /*) keepdirs+=" $(dirname "$1")" ;; esac
	printf 'VM_KEEP=%q\n' "$keepdirs${VM_KEEP:+ $VM_KEEP}"
	printf 'VM_PAYLOAD=('
	printf '%q ' "$@"
	printf ')\n'
	printf 'export IOMMUCTL=%q\n' "$IOMMUCTL"
	printf 'export VM_TOPOLOGY=%q VM_TOPOLOGY_FILE=%q\n' "$topo_name" "$topo_file"
	for v in "${envs[@]}"; do
		[ -n "${!v+x}" ] && printf 'export %s=%q\n' "$v" "${!v}"
	done
} >"$results/vm.conf"

cmdline="console=ttyS0,115200 root=/dev/root rootfstype=9p"
cmdline+=" rootflags=trans=virtio,version=9p2000.L,cache=loose,msize=262144 ro"
# no_timer_check: under host load a TCG guest's boot-time check of the
# timer through the interrupt-remapped IO-APIC can fail and panic the boot.
cmdline+=" init=$here/guest-init.sh panic=-1 oops=panic loglevel=${VM_LOGLEVEL:-5} tsc=reliable no_timer_check"
cmdline+=" ${TOPO_CMDLINE}${VM_APPEND:+ $VM_APPEND}"

args=(
	-machine "$machine" -cpu "$cpu"
	-smp "${VM_CPUS:-${TOPO_CPUS:-2}}" -m "${VM_MEM:-${TOPO_MEM:-1024}}"
	-nodefaults -no-user-config -display none -vga none -no-reboot
	"${bios[@]}"
	-kernel "$kdir/bzImage" -append CMDLINE
	# The IOMMU and the topology's devices come first: QEMU wants an IOMMU
	# created before the PCI devices it translates.
	"${QEMU_ARGS[@]}"
	# Root = the host's / read-only; results = a writable directory.  At
	# fixed slots 1d/1e, so every topology shows them at the same place
	# (each alone in a group, on virtio-pci: tests must leave them alone).
	# They cannot sit on a pxb-pcie with bypass_iommu=on: with intel-iommu
	# interrupt remapping on, the guest never gets their interrupts.
	-fsdev "local,id=vmroot,path=/,security_model=none,readonly=on,multidevs=remap"
	-device "virtio-9p-pci,fsdev=vmroot,mount_tag=/dev/root,addr=1d.0"
	-fsdev "local,id=vmresults,path=$results,security_model=none,multidevs=remap"
	-device "virtio-9p-pci,fsdev=vmresults,mount_tag=results,addr=1e.0"
)
if [ "$interactive" = 1 ]; then
	# shellcheck disable=SC2054 # commas are QEMU option syntax
	args+=(-chardev "stdio,id=con0,mux=on,logfile=$console" -serial chardev:con0 -mon chardev=con0,mode=readline)
else
	args+=(-chardev "file,id=con0,path=$console" -serial chardev:con0 -monitor none)
fi

# Killed ourselves (Ctrl-C, an outer timeout, a CI cancel): take the VM and
# the log followers down with us, keep the evidence.
qpid='' tails=()
on_signal() {
	trap - INT TERM HUP
	[ -n "$qpid" ] && kill -TERM "$qpid" 2>/dev/null
	[ ${#tails[@]} -gt 0 ] && kill "${tails[@]}" 2>/dev/null
	say "$topo_name: interrupted; kept $work"
	exit 130
}
trap on_signal INT TERM HUP

# One boot.  Sets qrc and why (empty: the guest reported a status).
boot() {	# boot CMDLINE
	local i
	for i in "${!args[@]}"; do [ "${args[$i]}" = -append ] && args[i + 1]=$1; done
	: >"$console"
	if [ "$interactive" = 1 ]; then
		timeout -k 5 --foreground "$timeout_s" "$qemu" "${args[@]}"
		qrc=$?
	else
		timeout -k 5 "$timeout_s" "$qemu" "${args[@]}" </dev/null >"$work/qemu.out" 2>&1 &
		qpid=$!
		tail -s 0.2 -n +1 -f --pid=$qpid "$results/stdout" &
		tails+=($!)
		tail -s 0.2 -n +1 -f --pid=$qpid "$results/stderr" >&2 &
		tails+=($!)
		if [ "$verbose" = 1 ]; then
			tail -s 0.2 -n +1 -f --pid=$qpid "$console" >&2 &
			tails+=($!)
		fi
		wait $qpid
		qrc=$?
		wait "${tails[@]}"
		qpid='' tails=()
	fi
	why=
	if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
		why="timed out after ${timeout_s}s"
	elif grep -q 'Kernel panic' "$console"; then
		why="guest kernel panicked"
	elif [ -s "$results/init-error" ]; then
		why="guest setup failed: $(tr '\n' ' ' <"$results/init-error")"
	elif [ ! -s "$results/status" ]; then
		why="guest never reported a status (qemu exit $qrc)"
	fi
}

start=$(date +%s.%N)
boot "$cmdline${VM_APPEND_FIRST:+ $VM_APPEND_FIRST}"
# A panic before guest-init started the payload: nothing of the payload
# ran, so booting again repeats nothing.  Once, and never silently.
if [ "$why" = "guest kernel panicked" ] && [ "$interactive" = 0 ] &&
	! grep -q '^guest-init: \[[0-9. ]*\] running: ' "$console"; then
	panic=$(grep -m 1 'Kernel panic' "$console" | sed 's/^\[[ 0-9.]*\] //')
	mv "$console" "$work/console.first-boot.log"
	say "$topo_name: the guest kernel panicked at boot, before the payload started ($panic); booting once more (first console: $work/console.first-boot.log)"
	rm -f "$results"/{stdout,stderr,status,init-error}
	: >"$results/stdout"
	: >"$results/stderr"
	echo "$panic" >"$results/boot-retried"
	keep=1
	boot "$cmdline"
	[ "$why" = "guest kernel panicked" ] && why="guest kernel panicked again after a retried boot"
fi
elapsed=$(echo "$(date +%s.%N) - $start" | bc)

# ---- verdict -------------------------------------------------------------------
if [ -n "$why" ]; then
	say "$topo_name: $why"
	[ -s "$work/qemu.out" ] && { say "qemu said ($work/qemu.out):"; head -n 5 "$work/qemu.out" | sed 's/^/  /' >&2; }
	say "last console lines ($console):"
	tail -n 40 "$console" | sed 's/^/  | /' >&2
	if [ "${VM_KEEP_FAILED:-1}" = 1 ]; then say "kept $work"; else rm -rf "$work"; fi
	exit 125
fi

status=$(cat "$results/status")
printf 'run-vm: %s: payload exited %s after %.1fs (%s)\n' "$topo_name" "$status" "$elapsed" "$accel" >&2
if [ "$keep" = 1 ] || [ "$status" != 0 ]; then
	say "kept $work"
else
	rm -rf "$work"
fi
exit "$status"
