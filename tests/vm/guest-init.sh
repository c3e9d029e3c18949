#!/bin/bash
# PID 1 of a VM-lab guest (see README.md).  Started by the kernel from the
# host's root, shared read-only over 9p; never run it on the host.
#
# Stage 1 puts a tmpfs-backed overlay over that read-only root and chroots
# into it, so the guest can create /results, /lib/modules, ... without any
# write reaching the host.  Stage 2 mounts the kernel filesystems, reads the
# run description the host left in the results share (vm.conf), makes the
# guest kernel's modules visible, loads the modules and configures what the
# topology asks for, runs the payload, records its exit status in the
# results share and powers off (a reset, see poweroff_now).
#
# Files in the results share: vm.conf (host -> guest), stdout, stderr,
# status (the payload's exit status), init-error (why the guest could not
# run the payload).  Anything else belongs to the payload.

PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH

log() {
	local up=
	[ -r /proc/uptime ] && read -r up _ </proc/uptime
	echo "guest-init: [${up}] $*" >/dev/console
}

# Leave at once.  sysrq "b" resets without the device-shutdown pass (QEMU
# exits on it because of -no-reboot): a clean power-off ("o") can hang for a
# minute (the NVMe shutdown times out under virtio-iommu) and buys nothing,
# since everything the host needs is already written (the results share is
# uncached 9p, so a completed write is on the host).
poweroff_now() {
	sync
	echo b >/proc/sysrq-trigger
	# PID 1 must not exit meanwhile (that is a panic).  Wait with builtins
	# only: the root may already be gone.
	while :; do
		read -r -t 5 _ <>/run/pid1.wait 2>/dev/null || read -r -t 5 _ </dev/console
	done
}

# Setup failure: tell the host why, then power off.  Without a status file
# the host reports the run as failed and prints this reason.
fail() {
	log "ERROR: $*"
	[ -d /results ] && [ -w /results ] && echo "$*" >>/results/init-error
	poweroff_now
}

stage1() {
	mount -t proc proc /proc || { echo "guest-init: cannot mount /proc" >/dev/console; exit 1; }
	mount -t tmpfs -o mode=0755 ovl /run || fail "cannot mount tmpfs on /run"
	mkdir -p /run/ovl/upper /run/ovl/work /run/ovl/root
	mount -t overlay overlay \
		-o lowerdir=/,upperdir=/run/ovl/upper,workdir=/run/ovl/work /run/ovl/root ||
		fail "cannot mount the overlay root"
	cd /run/ovl/root || fail "cannot enter the overlay root"
	exec chroot . "$0" stage2
}

mount_kernel_fs() {
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mount -t devtmpfs devtmpfs /dev 2>/dev/null || true	# DEVTMPFS_MOUNT may have done it
	mkdir -p /dev/pts /dev/shm /dev/hugepages
	mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
	mount -t tmpfs -o mode=1777 shm /dev/shm
	mount -t hugetlbfs hugetlbfs /dev/hugepages 2>/dev/null || true
	# What udev would create; bash process substitution and bats need them.
	ln -sfn /proc/self/fd /dev/fd
	ln -sfn /proc/self/fd/0 /dev/stdin
	ln -sfn /proc/self/fd/1 /dev/stdout
	ln -sfn /proc/self/fd/2 /dev/stderr
	ln -sfn /proc/kcore /dev/core
	mkdir -p /results
	mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 results /results ||
		fail "cannot mount the results share"
}

# Fresh tmpfs on /tmp and /run, as a booted system has; but host
# directories the run needs (VM_KEEP: the checkout, the binary under test,
# ...) that live there, a CI clone in /tmp say, stay visible at the same
# path: they are moved aside and back over the new tmpfs.
mount_tmp_run() {
	local p n=0 kept=()
	for p in ${VM_KEEP:-}; do
		case $p in
		/tmp/?* | /run/?*) ;;
		*) continue ;;
		esac
		[ -d "$p" ] || continue
		mkdir -p "/.vmlab-keep/$n"
		mount --bind "$p" "/.vmlab-keep/$n" || fail "cannot keep $p visible"
		kept+=("$p")
		n=$((n + 1))
	done
	mount -t tmpfs -o mode=1777 tmp /tmp
	mount -t tmpfs -o mode=0755 run /run
	mkfifo /run/pid1.wait	# see poweroff_now
	for ((n = 0; n < ${#kept[@]}; n++)); do
		mkdir -p "${kept[$n]}"
		mount --move "/.vmlab-keep/$n" "${kept[$n]}" || fail "cannot keep ${kept[$n]} visible"
		log "kept ${kept[$n]} visible over the fresh tmpfs"
	done
}

# The host has no /lib/modules for our kernel: link the build cache's
# module tree in, so a plain "modprobe vfio-pci" works.
setup_modules() {
	local rel
	rel=$(uname -r)
	[ -n "${VM_MODULES:-}" ] || return 0
	[ -d "$VM_MODULES" ] || fail "module tree $VM_MODULES not visible in the guest"
	mkdir -p /lib/modules
	rm -rf "/lib/modules/$rel"
	ln -s "$VM_MODULES" "/lib/modules/$rel"
}

load_modules() {
	local m
	for m in ${TOPO_MODULES:-}; do
		modprobe "$m" || fail "modprobe $m failed"
	done
}

# TOPO_NET entries: "BDF ADDRESS/PREFIX [GATEWAY]".  The interface is found
# through sysfs, so the topology does not depend on interface naming.
# Returns non-zero with a message on stderr; also run by "guest-init.sh
# net" (see the end of this file) to redo it after a test rebound a NIC.
setup_net() {
	local entry bdf addr gw ifdir ifname
	ip link set lo up
	for entry in "${TOPO_NET[@]}"; do
		read -r bdf addr gw <<<"$entry"
		ifdir=$(ls -d /sys/bus/pci/devices/"$bdf"/net/* /sys/bus/pci/devices/"$bdf"/virtio*/net/* 2>/dev/null | head -n1)
		[ -n "$ifdir" ] || { echo "no network interface on $bdf" >&2; return 1; }
		ifname=${ifdir##*/}
		ip link set "$ifname" up || { echo "cannot bring $ifname ($bdf) up" >&2; return 1; }
		ip addr replace "$addr" dev "$ifname" || { echo "cannot add $addr to $ifname" >&2; return 1; }
		if [ -n "$gw" ]; then
			ip route replace default via "$gw" dev "$ifname" || { echo "cannot route via $gw" >&2; return 1; }
		fi
		log "$bdf: $ifname $addr${gw:+ via $gw}"
	done
}

run_payload() {
	local status
	cd "$VM_CWD" || fail "cannot cd to $VM_CWD"
	log "running: ${VM_PAYLOAD[*]}"
	if [ "${VM_INTERACTIVE:-0}" = 1 ]; then
		# A controlling terminal on the serial line, so job control and
		# readline work; output goes to the console, not to the share.
		if [ -n "${VM_TTY_SIZE:-}" ]; then
			stty -F /dev/ttyS0 rows "${VM_TTY_SIZE% *}" cols "${VM_TTY_SIZE#* }" 2>/dev/null
		fi
		setsid -c -w "${VM_PAYLOAD[@]}" <>/dev/ttyS0 >&0 2>&0
		status=$?
	else
		"${VM_PAYLOAD[@]}" </dev/null >>/results/stdout 2>>/results/stderr
		status=$?
	fi
	echo "$status" >/results/status
	log "payload exited with $status"
}

stage2() {
	mount_kernel_fs
	log "stage 2"
	[ -r /results/vm.conf ] || fail "no vm.conf in the results share"
	# shellcheck source=/dev/null
	. /results/vm.conf
	mount_tmp_run
	hostname "vm-${VM_TOPOLOGY:-guest}"
	if [ -n "${VM_TOPOLOGY_FILE:-}" ]; then
		# shellcheck source=/dev/null
		. "$VM_TOPOLOGY_FILE" || fail "cannot read $VM_TOPOLOGY_FILE"
	fi
	setup_modules
	log "loading modules: ${TOPO_MODULES:-none}"
	load_modules
	log "network"
	setup_net 2>>/results/init-error || fail "network setup failed"
	if declare -F topo_guest_setup >/dev/null; then
		topo_guest_setup || fail "topology setup of $VM_TOPOLOGY failed"
	fi
	export HOME=/root TERM=${TERM:-vt100}
	run_payload
	poweroff_now
}

case "${1:-}" in
stage2) stage2 ;;
net)
	# Not PID 1: a suite redoing the topology's network after rebinding a
	# NIC (the interface comes back without its address and route).
	[ $$ != 1 ] || exit 1
	# shellcheck source=/dev/null
	. /results/vm.conf && . "$VM_TOPOLOGY_FILE" && setup_net
	exit
	;;
*) stage1 ;;
esac
poweroff_now
