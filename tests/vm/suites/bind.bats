#!/usr/bin/env bats
# shellcheck disable=SC2154 # status, output, stderr come from capture (lib.bash)
# iommuctl bind / unbind / restore on the guest kernel (topology "basic").
#   tests/vm/run-vm.sh basic bats --tap tests/vm/suites/bind.bats
# Expectations are read from sysfs here (lib.bash), never from iommuctl.
# Every test leaves the devices as it found them: teardown replays the
# journal (restore --all) and puts the network of the topology back.

bats_require_minimum_version 1.5.0
load lib

EDU=0000:00:03.0        # alone in group 1
BR_EDU=0000:01:01.0     # group 2, behind the pcie-pci-bridge 00:04.0
BR_NET=0000:01:02.0     # group 2, virtio-net with the address and default route
BRIDGE=0000:00:04.0
E1000E=0000:00:05.0
NVME=0000:00:06.0
JOURNAL=/run/iommuctl/devices

# The edus start driver-less here whatever an earlier suite of the same boot
# left (one leaves them on vfio-pci); teardown_file puts that back.
setup_file() {
	[ -x "$IOMMUCTL" ] || { echo "no binary at IOMMUCTL=$IOMMUCTL" >&2; return 1; }
	free_devices "$BATS_FILE_TMPDIR/found" $EDU $BR_EDU
}

teardown_file() {
	give_back_devices "$BATS_FILE_TMPDIR/found"
}

setup() {
	case ${VM_TOPOLOGY:-basic} in basic | basic-session) ;; *) skip "written for the basic machine" ;; esac
	[ -e "$SYS/bus/pci/devices/$EDU" ] || skip "no edu at $EDU"
}

teardown() {
	if [ -n "${HOLDER:-}" ]; then kill "$HOLDER" 2>/dev/null; wait "$HOLDER" 2>/dev/null; fi
	"$IOMMUCTL" restore --all >/dev/null 2>&1 || true
	if [ -n "${UNDO_EDU:-}" ]; then unbind_to_default "$BR_EDU"; fi
	if [ -n "${udevd:-}" ]; then udevadm control --exit 2>/dev/null || true; fi
	rm -f /etc/udev/rules.d/99-iommuctl-*.rules
	if [ -n "${MNT:-}" ]; then umount "$MNT" 2>/dev/null || true; fi
	if [ -n "${UNDO_NET:-}" ] && [ -n "${VM_TOPOLOGY_FILE:-}" ]; then "$BATS_TEST_DIRNAME/../guest-init.sh" net || true; fi
}

override() {
	local o
	read -r o <"$SYS/bus/pci/devices/$1/driver_override"
	[ "$o" = "(null)" ] && o=
	echo "$o"
}

# "driver override" of each device named, one line each ("-" for none).
state() {
	local b
	for b in "$@"; do echo "$b $(dev_driver "$b") $(override "$b")"; done
}

# The interface of the virtio-net, down, so that nothing uses it.
net_down() {
	local ifc
	UNDO_NET=1
	for ifc in "$SYS/bus/pci/devices/$BR_NET"/virtio*/net/*; do ip link set "${ifc##*/}" down; done
}

@test "bind a lone edu: vfio-pci, its cdev, a journal entry; unbind gives it back driver-less" {
	[ -z "$(dev_driver $EDU)" ] || skip "$EDU is not driver-less"
	capture "$IOMMUCTL" bind -j "$EDU"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ "$(dev_driver $EDU)" = vfio-pci ]
	node=$(echo "$SYS/bus/pci/devices/$EDU"/vfio-dev/vfio*)
	[ -c "/dev/vfio/devices/${node##*/}" ]
	[ "$(jq -r '.devices[0] | "\(.result) \(.vfio_cdev)"' <<<"$output")" = "bound /dev/vfio/devices/${node##*/}" ]
	grep -qx 'original_driver=' "$JOURNAL/$EDU"
	grep -qx 'driver=vfio-pci' "$JOURNAL/$EDU"

	# Bound again: nothing to do, still success.
	capture "$IOMMUCTL" bind -j "$EDU"
	[ "$status" -eq 0 ]
	[ "$(jq -r '.devices[0].result' <<<"$output")" = already-bound ]

	capture "$IOMMUCTL" unbind "$EDU"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ -z "$(dev_driver $EDU)" ]
	[ -z "$(override $EDU)" ]
	[ ! -e "$JOURNAL/$EDU" ]
}

@test "bind the whole bridge group (interface down) and give it back: the edu driver-less, the NIC on virtio-pci" {
	net_down
	before=$(state $BR_EDU $BR_NET $BRIDGE)
	capture "$IOMMUCTL" bind -j 2
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ "$(state $BR_EDU $BR_NET)" = "$BR_EDU vfio-pci vfio-pci
$BR_NET vfio-pci vfio-pci" ]
	# The bridge stays where it was, and the group is now viable.
	[ "$(jq -r '[.devices[].address] | join(" ")' <<<"$output")" = "$BR_EDU $BR_NET" ]
	capture "$IOMMUCTL" check -j 2
	[ "$status" -eq 0 ]

	capture "$IOMMUCTL" unbind 2
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ "$(state $BR_EDU $BR_NET $BRIDGE)" = "$before" ]
	[ -z "$(ls -A $JOURNAL)" ]
}

@test "the virtio-net with an address and the default route is refused (4), the interface and route named" {
	before=$(state $BR_NET)
	capture "$IOMMUCTL" bind --group "$BR_NET"
	[ "$status" -eq 4 ]
	[[ $stderr == *"eth0 carries the default route (via 10.0.2.2)"* ]] || { echo "$stderr"; false; }
	[ "$(state $BR_NET)" = "$before" ]
	[ ! -e "$JOURNAL/$BR_NET" ]
}

@test "a mounted NVMe namespace is refused (4), the mount named" {
	command -v mkfs.ext4 >/dev/null || skip "no mkfs.ext4 (e2fsprogs) on the host root"
	[ "$(dev_driver $NVME)" = nvme ] || skip "$NVME is not on nvme"
	disk=$(basename "$(echo "$SYS/bus/pci/devices/$NVME"/nvme/nvme*/nvme*n1)")
	[ -b "/dev/$disk" ] || skip "no namespace block device"
	mkfs.ext4 -q -F "/dev/$disk"
	MNT=$BATS_TEST_TMPDIR/mnt
	mkdir -p "$MNT"
	mount "/dev/$disk" "$MNT"
	capture "$IOMMUCTL" bind "$NVME"
	[ "$status" -eq 4 ]
	[[ $stderr == *"$disk is mounted on $MNT"* ]] || { echo "$stderr"; false; }
	[ "$(dev_driver $NVME)" = nvme ]
	umount "$MNT"
	MNT=
	# Unmounted, a dry run says it would go.
	capture "$IOMMUCTL" bind --dry-run "$NVME"
	[ "$status" -eq 0 ]
	[[ $output == *"would bind $NVME to vfio-pci (now nvme)"* ]]
	[ "$(dev_driver $NVME)" = nvme ]
}

@test "an edu in a non-viable group is refused without --group (4), the blocking sibling named" {
	before=$(state $BR_EDU $BR_NET)
	capture "$IOMMUCTL" bind "$BR_EDU"
	[ "$status" -eq 4 ]
	[[ $stderr == *"group 2 would not be viable: $BR_NET on virtio-pci"*"--group"* ]] || { echo "$stderr"; false; }
	[ "$(state $BR_EDU $BR_NET)" = "$before" ]
	[ -z "$(ls -A $JOURNAL 2>/dev/null)" ]
}

@test "a failing bind rolls back every device it touched (6): vfio-pci refuses the bridge" {
	# vfio-pci's probe returns -EINVAL for a device whose header is not
	# type 0 (vfio_pci_core_register_device): a real kernel refusal.  The
	# edu is bound first, then put back.
	before=$(state $EDU $BRIDGE)
	capture "$IOMMUCTL" bind -j --force "$EDU" "$BRIDGE"
	[ "$status" -eq 6 ] || { echo "$status $stderr"; false; }
	[[ $stderr == *"$BRIDGE: binding to vfio-pci failed: the driver did not take the device"*"rolled back"*"$EDU"* ]] || { echo "$stderr"; false; }
	[ "$(jq -r '[.devices[].result] | join(" ")' <<<"$output") $(jq .rolled_back <<<"$output")" = "rolled-back failed true" ]
	[ "$(state $EDU $BRIDGE)" = "$before" ]
	[ -z "$(ls -A $JOURNAL)" ]
}

@test "while a process owns the group, the kernel refuses a kernel driver on a sibling (EBUSY); unbind, restore and bind name the owner" {
	net_down
	# The edu on vfio-pci by hand (no journal entry: restore --all must not
	# unbind a device whose cdev is open), the NIC through iommuctl.
	UNDO_EDU=1
	bind_to "$BR_EDU" vfio-pci
	capture "$IOMMUCTL" bind -j "$BR_NET"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	# The edu's cdev opened and bound to an iommufd (exec --bind): user space owns group 2.
	"$IOMMUCTL" exec --bind "$BR_EDU" -- sleep 120 &
	HOLDER=$!
	for _ in $(seq 20); do [ "$(cat /proc/$HOLDER/comm 2>/dev/null)" = sleep ] && break; sleep 0.5; done
	node=$(echo "$SYS/bus/pci/devices/$BR_EDU"/vfio-dev/vfio*)
	node=/dev/vfio/devices/${node##*/}
	owner="the kernel refuses kernel drivers on group 2 while user space owns it: pid $HOLDER (sleep) holds $node (device $BR_EDU)"

	# unbind gives the NIC back to virtio-pci: the kernel refuses, the owner is named.
	capture "$IOMMUCTL" unbind "$BR_NET"
	echo "$stderr"
	[ "$status" -ne 0 ]
	[[ $stderr == *"$BR_NET: could not put it back on virtio-pci: $owner"* ]]
	[ -z "$(dev_driver $BR_NET)" ]
	# The kernel's own answer, asked directly: EBUSY.
	run bash -c "echo $BR_NET >$SYS/bus/pci/drivers/virtio-pci/bind"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ $output == *"Device or resource busy"* ]]
	[ -z "$(dev_driver $BR_NET)" ]
	# restore --all: the same words.
	capture "$IOMMUCTL" restore --all
	[ "$status" -ne 0 ]
	[[ $stderr == *"$BR_NET: could not put it back on virtio-pci: $owner"* ]] || { echo "$stderr"; false; }
	# bind --driver virtio-pci: refused and named (not "its probe failed; see
	# dmesg"); the roll-back to the journal's virtio-pci is refused as well.
	capture "$IOMMUCTL" bind --force --driver virtio-pci "$BR_NET"
	echo "$stderr"
	[ "$status" -eq 6 ] || [ "$status" -eq 8 ]
	[[ $stderr == *"$BR_NET: binding to virtio-pci failed: $owner"* ]]
	[[ $stderr != *"see dmesg"* ]]

	# The owner gone (the last close), the kernel driver takes the NIC again.
	kill "$HOLDER"; wait "$HOLDER" || true; HOLDER=
	capture "$IOMMUCTL" restore --all
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ "$(dev_driver $BR_NET)" = virtio-pci ]
}

@test "two concurrent binds of one group serialise: one binds both devices, the other finds them bound" {
	net_down
	IOMMUCTL_TEST_BIND_DELAY_MS=500 "$IOMMUCTL" bind -j 2 >"$BATS_TEST_TMPDIR/a" 2>&1 &
	a=$!
	"$IOMMUCTL" bind -j 2 >"$BATS_TEST_TMPDIR/b" 2>&1 &
	b=$!
	wait $a
	wait $b
	got=$(jq -r '[.devices[].result] | join(",")' "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b" | sort | tr '\n' ' ')
	[ "$got" = "already-bound,already-bound bound,bound " ] || { echo "$got"; cat "$BATS_TEST_TMPDIR"/a "$BATS_TEST_TMPDIR"/b; false; }
	[ "$(state $BR_EDU $BR_NET)" = "$BR_EDU vfio-pci vfio-pci
$BR_NET vfio-pci vfio-pci" ]
	n=("$JOURNAL"/*)
	[ "${#n[@]}" = 2 ]
}

@test "kill -9 in the middle of a group bind, then restore --all gives everything back" {
	net_down
	before=$(state $BR_EDU $BR_NET)
	IOMMUCTL_TEST_BIND_DELAY_MS=5000 "$IOMMUCTL" bind 2 >/dev/null 2>&1 &
	pid=$!
	for _ in $(seq 100); do
		[ "$(dev_driver $BR_EDU)" = vfio-pci ] && break
		sleep 0.1
	done
	kill -9 $pid
	wait $pid || true
	# Half done: the edu moved, the NIC not yet.
	[ "$(dev_driver $BR_EDU)" = vfio-pci ]
	[ "$(dev_driver $BR_NET)" = virtio-pci ]
	[ -e "$JOURNAL/$BR_EDU" ]
	capture "$IOMMUCTL" restore --all
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[[ $output == *"$BR_EDU"*restored* ]]
	[ "$(state $BR_EDU $BR_NET)" = "$before" ]
	[ -z "$(ls -A $JOURNAL)" ]
}

@test "unbind of a device iommuctl did not bind: exit 3, says so, leaves it alone" {
	capture "$IOMMUCTL" unbind "$E1000E"
	[ "$status" -eq 3 ]
	[[ $stderr == *"$E1000E: iommuctl did not bind this device"*"it stays on e1000e"* ]] || { echo "$stderr"; false; }
	[ "$(dev_driver $E1000E)" = e1000e ]
}

@test "bad input: unknown device (3), unknown driver (3), --dry-run changes nothing" {
	capture "$IOMMUCTL" bind 0000:00:09.0
	[ "$status" -eq 3 ]
	[[ $stderr == *"0000:00:09.0: no such PCI device"* ]]
	capture "$IOMMUCTL" bind --driver no-such-driver "$EDU"
	[ "$status" -eq 3 ]
	[[ $stderr == *"no-such-driver: no such driver"* ]]
	before=$(state $EDU)
	capture "$IOMMUCTL" bind -j --dry-run "$EDU"
	[ "$status" -eq 0 ]
	[ "$(jq -r '"\(.dry_run) \(.devices[0].result)"' <<<"$output")" = "true would-bind" ]
	[ "$(state $EDU)" = "$before" ]
	[ ! -e "$JOURNAL/$EDU" ]
}

@test "a device removed in the middle: the bind stops (6), what was bound is put back, the device named" {
	RP_EDU=0000:02:00.0
	[ -e "$SYS/bus/pci/devices/$RP_EDU" ] && [ -z "$(dev_driver $RP_EDU)" ] || skip "no driver-less edu at $RP_EDU"
	IOMMUCTL_TEST_BIND_DELAY_MS=3000 "$IOMMUCTL" bind "$EDU" "$RP_EDU" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	for _ in $(seq 100); do
		[ "$(dev_driver $EDU)" = vfio-pci ] && break
		sleep 0.1
	done
	echo 1 >"$SYS/bus/pci/devices/$RP_EDU/remove"
	rc=0
	wait $pid || rc=$?
	echo 1 >"$SYS/bus/pci/devices/0000:00:07.0/rescan"
	[ "$rc" -eq 6 ] || { cat "$BATS_TEST_TMPDIR/err"; false; }
	grep -q "$RP_EDU: binding to vfio-pci failed: the device disappeared; rolled back $EDU" "$BATS_TEST_TMPDIR/err" ||
		{ cat "$BATS_TEST_TMPDIR/err"; false; }
	[ -z "$(dev_driver $EDU)" ]
	[ -z "$(ls -A $JOURNAL)" ]
	[ -e "$SYS/bus/pci/devices/$RP_EDU" ]
}

@test "bind --persist: udev's add event binds the e1000e again (as at boot); unbind gives it back and removes the rule" {
	udevd=/lib/systemd/systemd-udevd
	[ -x $udevd ] || skip "no systemd-udevd (Debian package udev) on the host root"
	[ "$(dev_driver $E1000E)" = e1000e ] || skip "$E1000E is not on e1000e"
	rule=/etc/udev/rules.d/99-iommuctl-$E1000E.rules
	capture "$IOMMUCTL" bind -j --persist "$E1000E"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ "$(jq -r '.devices[0] | "\(.result) \(.persist_rule)"' <<<"$output")" = "bound $rule" ]
	grep -q "^ACTION==\"add\", SUBSYSTEM==\"pci\", KERNEL==\"$E1000E\", RUN+=\"" "$rule"

	# A reboot, as far as the device is concerned: back on e1000e, no journal (/run is new).
	unbind_to_default "$E1000E"
	[ "$(dev_driver $E1000E)" = e1000e ]
	rm "$JOURNAL/$E1000E"
	# Coldplug: udevd with every rule of the host root plus ours, one add event.
	$udevd --daemon --resolve-names=never
	udevadm trigger --action=add "$SYS/bus/pci/devices/$E1000E"
	udevadm settle --timeout=60
	udevadm control --exit
	[ "$(dev_driver $E1000E)" = vfio-pci ]
	# The boot-time bind journaled the driver the device had: unbind knows where it goes.
	grep -qx original_driver=e1000e "$JOURNAL/$E1000E"

	capture "$IOMMUCTL" unbind -j "$E1000E"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ "$(dev_driver $E1000E)" = e1000e ]
	[ -z "$(override $E1000E)" ]
	[ ! -e "$rule" ]
	[ "$(jq -r '.devices[0] | "\(.result) \(.persist_rule_removed)"' <<<"$output")" = "restored true" ]
}
