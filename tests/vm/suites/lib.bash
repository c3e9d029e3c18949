# shellcheck shell=bash disable=SC2034 # sets variables for the tests (status, output, ...)
# Helpers shared by the guest suites (load them with `load lib`).
#
# The expected answers are computed here from the guest kernel's sysfs with
# nothing but shell and jq, independently of iommuctl, and compared with
# what iommuctl prints.

: "${IOMMUCTL:?IOMMUCTL must name the binary under test}"
SYS=${SYS:-/sys}

# The two 9p devices of the lab itself (run-vm.sh): never touch them.
LAB_DEVICES="0000:00:1d.0 0000:00:1e.0"

# Under TCG every fork+exec costs ~50-100 ms, so the sysfs walk below uses
# shell builtins only (globs, read, -ef) and a single jq at the end.

# Verdicts (which devices keep a group viable) are NOT computed here: a
# shell copy of our own rule would pass with the rule wrong.  The kernel
# answers them instead (topology.bats: VFIO_GROUP_GET_STATUS and a cdev
# BIND, through tests/vfio-verdict.c); sysfs_groups gives the facts only.

# The name of the driver device $1 is bound to (empty if none): the
# drivers/NAME directory its "driver" link points at, found with -ef.
dev_driver() {
	local d
	[ -e "$SYS/bus/pci/devices/$1/driver" ] || return 0
	for d in "$SYS"/bus/pci/drivers/*; do
		[ "$SYS/bus/pci/devices/$1/driver" -ef "$d" ] && { echo "${d##*/}"; return 0; }
	done
}

# DRIVER_OF[bdf]=driver name for every bound device, without forking.
declare -gA DRIVER_OF
scan_drivers() {
	local dev d
	DRIVER_OF=()
	for dev in "$SYS"/bus/pci/devices/*; do
		[ -e "$dev/driver" ] || continue
		for d in "$SYS"/bus/pci/drivers/*; do
			[ "$dev/driver" -ef "$d" ] && { DRIVER_OF[${dev##*/}]=${d##*/}; break; }
		done
	done
}

# bats runs tests under a DEBUG trap (for its stack traces) that costs on
# every simple command: a sysfs walk of "many" took 10 s in a test and 1 s
# outside.  untraced runs a function in a subshell without the trap.
untraced() {
	(
		trap - DEBUG
		set +T
		"$@"
	)
}

# {"groups": [...]} as list -j must show it, facts only (no verdicts;
# normalise it before comparing).
sysfs_groups() { untraced sysfs_groups_; }
sysfs_groups_() {
	local gdir g type link bdf dir drv cdev c v d cl
	scan_drivers
	for gdir in "$SYS"/kernel/iommu_groups/*; do
		[ -d "$gdir" ] || continue
		g=${gdir##*/}
		type=
		[ -r "$gdir/type" ] && read -r type <"$gdir/type"
		printf 'G\t%s\t%s\n' "$g" "$type"
		for link in "$gdir"/devices/*; do
			[ -e "$link" ] || continue
			bdf=${link##*/}
			dir=$SYS/bus/pci/devices/$bdf
			drv=${DRIVER_OF[$bdf]:-}
			cdev=
			for c in "$dir"/vfio-dev/vfio*; do [ -e "$c" ] && cdev=/dev/vfio/devices/${c##*/}; done
			read -r v <"$dir/vendor"
			read -r d <"$dir/device"
			read -r cl <"$dir/class"
			printf 'D\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$g" "$bdf" "$v" "$d" "$cl" "$drv" "$cdev"
		done
	done | jq -R -s '
		def nul: if . == "" then null else . end;
		split("\n") | map(select(length > 0) | split("\t")) as $rows
		| {groups: [$rows[] | select(.[0] == "G") | (.[1] | tonumber) as $id
			| {id: $id, type: (.[2] | nul),
			   devices: [$rows[] | select(.[0] == "D" and (.[1] | tonumber) == $id)
				| {address: .[2], vendor_id: .[3], device_id: .[4], class: .[5],
				   driver: (.[6] | nul), iommu_group: $id,
				   vfio_cdev: (.[7] | nul)}]}]
		  | sort_by(.id)}'
}

# jq costs ~0.35 s per call under TCG (it compiles its builtins at every
# start), so comparisons normalise and compare both sides in one call.
#
# NORM keeps the keys both sides compute and orders groups by id and
# devices by address, so output order does not matter.
NORM='def norm: {groups: (.groups | map({id, type,
		devices: (.devices | map({address, vendor_id, device_id, class, driver, iommu_group,
					  vfio_cdev}) | sort_by(.address))}) | sort_by(.id))};'

normalise() {
	jq -S "$NORM norm"
}

# Succeeds when the two JSON documents agree after normalisation; otherwise
# shows the difference (expected first).
# (Through files: on "many" a document is bigger than one argv string may be.)
json_same() {
	local d=${BATS_TEST_TMPDIR:-${TMPDIR:-/tmp}}
	printf '%s\n' "$1" >"$d/json_same.a"
	printf '%s\n' "$2" >"$d/json_same.b"
	jq -e -n --slurpfile a "$d/json_same.a" --slurpfile b "$d/json_same.b" \
		"$NORM (\$a[0] | norm) == (\$b[0] | norm)" >/dev/null && return 0
	diff -u <(normalise <"$d/json_same.a") <(normalise <"$d/json_same.b") | head -n 60
	return 1
}

# Like bats' run --separate-stderr, minus the split of the output into
# $lines: bash splits line by line, and on "many" (5000 lines of JSON) that
# alone took 10 s a call under TCG.  Sets status, output, stderr.
capture() {
	local err=${BATS_TEST_TMPDIR:-${TMPDIR:-/tmp}}/capture.err
	status=0
	output=$("$@" 2>"$err") || status=$?
	stderr=$(<"$err")
}

# Bind $1 to driver $2 the way an operator would: driver_override, unbind
# from the current driver, drivers_probe.
bind_to() {
	local bdf=$1 drv=$2 dir=$SYS/bus/pci/devices/$1
	echo "$drv" >"$dir/driver_override"
	[ -e "$dir/driver" ] && echo "$bdf" >"$dir/driver/unbind"
	echo "$bdf" >"$SYS/bus/pci/drivers_probe"
	[ "$(dev_driver "$bdf")" = "$drv" ]
}

# Undo bind_to: clear the override, unbind, let the kernel pick (or not).
unbind_to_default() {
	local bdf=$1 dir=$SYS/bus/pci/devices/$1
	echo >"$dir/driver_override"
	[ -e "$dir/driver" ] && echo "$bdf" >"$dir/driver/unbind"
	echo "$bdf" >"$SYS/bus/pci/drivers_probe" 2>/dev/null || true
}

# A driver-less edu alone in its group; failing that (virtio-iommu gives a
# device a group only when a driver probes it), a driver-less edu without a
# group.  Nothing when there is neither.
find_lone_edu() { untraced find_lone_edu_; }
find_lone_edu_() {
	local dir bdf g n v d m spare=
	for dir in "$SYS"/bus/pci/devices/*; do
		bdf=${dir##*/}
		read -r v <"$dir/vendor"
		read -r d <"$dir/device"
		[ "$v:$d" = 0x1234:0x11e8 ] || continue
		[ -e "$dir/driver" ] && continue
		if [ ! -e "$dir/iommu_group" ]; then
			: "${spare:=$bdf}"
			continue
		fi
		n=0
		for m in "$dir"/iommu_group/devices/*; do n=$((n + 1)); done
		[ "$n" = 1 ] && { echo "$bdf"; return 0; }
	done
	[ -z "$spare" ] || echo "$spare"
}

# A "blocked" test needs the IOMMU's own fault report (the DMA probe
# requires it); where the topology's IOMMU logs none, its file says why in
# TOPO_NO_FAULT_REPORTS and the test skips with that reason: an untouched
# page alone cannot tell a block from a missed address.
need_fault_reports() {
	local why
	[ -n "${VM_TOPOLOGY_FILE:-}" ] || return 0
	# shellcheck source=/dev/null
	why=$(. "$VM_TOPOLOGY_FILE" >/dev/null 2>&1 && echo "${TOPO_NO_FAULT_REPORTS:-}")
	[ -z "$why" ] || skip "$VM_TOPOLOGY: no IOMMU fault report can prove the block: $why"
}

# For the suites that drive the lone edu with the DMA probe (setup_file):
# go to the checkout, find the probe (build/dma-probe, or $DMA_PROBE), and
# bind a lone edu to vfio-pci.  Exports PROBE and EDU; release_edu undoes it.
setup_probe_edu() {
	cd "$BATS_TEST_DIRNAME/../../.." || return 1
	export PROBE=${DMA_PROBE:-$PWD/build/dma-probe}
	[ -x "$PROBE" ] || { echo "no DMA probe at $PROBE (make probe)" >&2; return 1; }
	[ -e /dev/iommu ] || { echo "no /dev/iommu: iommufd not loaded?" >&2; return 1; }
	EDU=$(find_lone_edu)
	[ -n "$EDU" ] || { echo "no driver-less edu alone in a group" >&2; return 1; }
	export EDU
	bind_to "$EDU" vfio-pci || { echo "cannot bind $EDU to vfio-pci" >&2; return 1; }
}

release_edu() {
	[ -n "${EDU:-}" ] && unbind_to_default "$EDU"
}

# free_devices FILE BDF...: unbind each BDF that has a driver (an earlier
# suite of the same boot may have left it on vfio-pci), noting "BDF DRIVER"
# in FILE; give_back_devices FILE binds them back (teardown_file).
free_devices() {
	local file=$1 b
	shift
	: >"$file"
	for b in "$@"; do
		[ -e "$SYS/bus/pci/devices/$b/driver" ] || continue
		echo "$b $(dev_driver "$b")" >>"$file"
		unbind_to_default "$b"
	done
}
give_back_devices() {
	local b d
	while read -r b d; do bind_to "$b" "$d" || true; done <"$1"
}

# libvirtd_start LOG INSTALL-LOG: install the hook as an operator does
# (`make install SANITIZE=1` into the guest's overlay root), configure
# Debian's libvirtd for what the lab kernel can serve (no security driver,
# cgroups, seccomp or namespaces; QEMU as root; its stdio to files), and
# start it with the hook, PCI and process debug log in LOG; wait until it
# answers.  The libvirt suite and bench/vm/libvirt-hook.sh use it.
libvirtd_start() {
	local log=$1 ilog=$2
	make -s install SANITIZE="${LIBVIRT_HOOK_SANITIZE-1}" PREFIX=/usr/local >"$ilog" 2>&1 ||
		{ cat "$ilog" >&2; return 1; }
	cat >/etc/libvirt/qemu.conf <<'Q'
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
namespaces = []
cgroup_controllers = []
seccomp_sandbox = 0
stdio_handler = "file"
Q
	cat >>/etc/libvirt/libvirtd.conf <<Q
log_filters = "1:util.hook 1:util.pci 1:util.hostdev 1:util.command 1:qemu.qemu_process 3:*"
log_outputs = "1:file:$log"
Q
	rm -f /etc/libvirt/qemu/networks/autostart/*.xml
	mkdir -p "${log%/*}" /etc/iommuctl
	libvirtd -d 3>&- </dev/null >/dev/null 2>&1
	for _ in $(seq 120); do virsh -q -c qemu:///system version >/dev/null 2>&1 && return 0; sleep 1; done
	echo "libvirtd did not come up" >&2
	tail -20 "$log" >&2
	return 1
}
