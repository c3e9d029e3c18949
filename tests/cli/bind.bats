#!/usr/bin/env bats
# bind / unbind / restore on fixture trees: argument errors, and the in-use
# parsers (proc/net/route, if_inet6, bond/bridge master, sys/block holders,
# mountinfo, swaps, framebuffer console) through `bind --dry-run`, which runs
# every check and changes nothing.  The real binding is tested in the VM
# (tests/vm/suites/bind.bats).

load helpers

setup_file() {
	fixtures_setup
	HOST_DIR="$BATS_FILE_TMPDIR/q35"
	cp -a "$(sysroot qemu-q35)" "$HOST_DIR"
	export HOST_DIR
	local dev=$HOST_DIR/sys/devices/pci0000:00
	# eth1 (virtio-net 01:02.0) up, with the default route and a global IPv6 address.
	echo 0x1003 >"$HOST_DIR/sys/class/net/eth1/flags"
	echo up >"$HOST_DIR/sys/class/net/eth1/operstate"
	mkdir -p "$HOST_DIR/proc/net" "$HOST_DIR/proc/self"
	printf 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n' >"$HOST_DIR/proc/net/route"
	printf 'eth1\t00000000\t0202000A\t0003\t0\t0\t0\t00000000\t0\t0\t0\n' >>"$HOST_DIR/proc/net/route"
	printf 'eth1\t0002000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n' >>"$HOST_DIR/proc/net/route"
	printf 'fec0000000000000505400fffe123456 02 40 40 80     eth1\n' >"$HOST_DIR/proc/net/if_inet6"
	printf 'fe80000000000000505400fffe123456 02 40 20 80     eth1\n' >>"$HOST_DIR/proc/net/if_inet6"
	# A disk on the SATA controller 00:1f.2: sda1 holds /, dm-0 on sda2 is swap.
	local sda=$dev/0000:00:1f.2/ata1/host0/block/sda
	mkdir -p "$sda/sda1" "$sda/sda2/holders" "$HOST_DIR/sys/block" "$HOST_DIR/sys/class/block" \
		"$HOST_DIR/sys/devices/virtual/block/dm-0/dm"
	echo 8:0 >"$sda/dev"
	echo 8:1 >"$sda/sda1/dev"
	echo 1 >"$sda/sda1/partition"
	echo 8:2 >"$sda/sda2/dev"
	echo 2 >"$sda/sda2/partition"
	echo 253:0 >"$HOST_DIR/sys/devices/virtual/block/dm-0/dev"
	echo vg-swap >"$HOST_DIR/sys/devices/virtual/block/dm-0/dm/name"
	ln -s ../../../../../../../../virtual/block/dm-0 "$sda/sda2/holders/dm-0"
	ln -s ../devices/pci0000:00/0000:00:1f.2/ata1/host0/block/sda "$HOST_DIR/sys/block/sda"
	ln -s ../../devices/pci0000:00/0000:00:1f.2/ata1/host0/block/sda "$HOST_DIR/sys/class/block/sda"
	ln -s ../../devices/pci0000:00/0000:00:1f.2/ata1/host0/block/sda/sda1 "$HOST_DIR/sys/class/block/sda1"
	ln -s ../../devices/pci0000:00/0000:00:1f.2/ata1/host0/block/sda/sda2 "$HOST_DIR/sys/class/block/sda2"
	ln -s ../../devices/virtual/block/dm-0 "$HOST_DIR/sys/class/block/dm-0"
	printf '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n' >"$HOST_DIR/proc/self/mountinfo"
	printf '23 22 0:5 / /dev rw shared:2 - devtmpfs udev rw\n' >>"$HOST_DIR/proc/self/mountinfo"
	printf 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/dev/mapper/vg-swap                     partition\t2097148\t\t0\t\t-2\n' \
		>"$HOST_DIR/proc/swaps"
	# A framebuffer console on the SMBus function 00:1f.3 (a stand-in for a GPU).
	mkdir -p "$dev/0000:00:1f.3/graphics/fb0" "$HOST_DIR/sys/class/graphics" "$HOST_DIR/sys/class/vtconsole/vtcon1"
	ln -s ../../../0000:00:1f.3 "$dev/0000:00:1f.3/graphics/fb0/device"
	ln -s ../../devices/pci0000:00/0000:00:1f.3/graphics/fb0 "$HOST_DIR/sys/class/graphics/fb0"
	echo "(M) frame buffer device" >"$HOST_DIR/sys/class/vtconsole/vtcon1/name"
	echo 1 >"$HOST_DIR/sys/class/vtconsole/vtcon1/bind"
}

b() {
	run --separate-stderr "$IOMMUCTL" --sysroot "$HOST_DIR" "$@"
}

@test "bind: no device named is a usage error (2)" {
	b bind
	assert_status 2
	[[ $stderr == *"bind: name a device"*"Try 'iommuctl bind --help'."* ]]
}

@test "bind: an unknown device is not found (3), a malformed address a usage error (2)" {
	b bind 0000:09:00.0
	assert_status 3
	[ "$stderr" = "iommuctl: 0000:09:00.0: no such PCI device" ]
	b bind 0000:zz:00.0
	assert_status 2
	b bind --driver 'a/b' 00:1f.0
	assert_status 2
	[[ $stderr == *"a/b: not a driver name"* ]]
}

@test "bind --dry-run: the interface with the default route, its route and IPv6 address are named (4)" {
	b bind --dry-run -j 01:02.0
	assert_status 4
	[[ $stderr == *"0000:01:02.0: refusing to unbind virtio-pci: eth1 carries the default route (via 10.0.2.2); eth1 has address fec0::5054:ff:fe12:3456/64 (--force unbinds anyway)"* ]] ||
		fail_with "$stderr"
	jq -e '.dry_run and (.devices[0] | .result == "refused" and ([.in_use[].what] ==
		["carries the default route (via 10.0.2.2)", "has address fec0::5054:ff:fe12:3456/64"]))' <<<"$output"
}

@test "bind --dry-run: a bond or bridge member is named even without addresses" {
	rm "$HOST_DIR/proc/net/route" "$HOST_DIR/proc/net/if_inet6"
	mkdir -p "$HOST_DIR/sys/devices/virtual/net/br0"
	ln -s ../../../../../virtual/net/br0 "$HOST_DIR/sys/class/net/eth1/master"
	b bind --dry-run 01:02.0
	rm "$HOST_DIR/sys/class/net/eth1/master"
	assert_status 4
	[[ $stderr == *"eth1 is a member of br0"* ]] || fail_with "$stderr"
}

@test "bind --dry-run: a disk holding / and a dm swap stacked on it are named (4)" {
	ln -s ../../../bus/pci/drivers/ahci "$HOST_DIR/sys/devices/pci0000:00/0000:00:1f.2/driver"
	b bind --dry-run --group 00:1f.2
	rm "$HOST_DIR/sys/devices/pci0000:00/0000:00:1f.2/driver"
	assert_status 4
	[[ $stderr == *"0000:00:1f.2"*"sda1 holds the root file system /; dm-0 is used as swap (/dev/mapper/vg-swap)"* ]] ||
		fail_with "$stderr"
}

@test "bind --dry-run: the framebuffer console is named (4); --force says what it would do (0)" {
	# 00:1f.3 has no driver in the fixture: give it one to unbind.
	ln -s ../../../bus/pci/drivers/i801_smbus "$HOST_DIR/sys/devices/pci0000:00/0000:00:1f.3/driver"
	mkdir -p "$HOST_DIR/sys/bus/pci/drivers/i801_smbus"
	b bind --dry-run --group 00:1f.3
	assert_status 4
	[[ $stderr == *"fb0 drives the framebuffer console"* ]] || fail_with "$stderr"
	b bind --dry-run --force 00:1f.3
	rm "$HOST_DIR/sys/devices/pci0000:00/0000:00:1f.3/driver"
	assert_status 0
	[[ $output == *"would bind 0000:00:1f.3 to vfio-pci (now i801_smbus)"* ]] || fail_with "$output"
}

@test "bind --dry-run: a device leaving its group non-viable is refused (4) with the siblings named" {
	b bind --dry-run 00:1f.0
	assert_status 0 # every function of group 5 is driver-less
	ln -s ../../../bus/pci/drivers/ahci "$HOST_DIR/sys/devices/pci0000:00/0000:00:1f.2/driver"
	b bind --dry-run 00:1f.0
	rm "$HOST_DIR/sys/devices/pci0000:00/0000:00:1f.2/driver"
	assert_status 4
	[[ $stderr == *"group 5 would not be viable: 0000:00:1f.2 on ahci would stay on its driver; bind the whole group with --group"* ]] ||
		fail_with "$stderr"
}

@test "bind: a device already on the driver is a success that changes nothing" {
	b bind -j --dry-run 00:03.0
	assert_status 0
	jq -e '.devices[0].result == "already-bound"' <<<"$output"
}

@test "unbind: a device iommuctl did not bind is not found (3), and says so" {
	b unbind 00:1f.0
	assert_status 3
	[[ $stderr == *"0000:00:1f.0: iommuctl did not bind this device (no entry in $HOST_DIR/run/iommuctl/devices); it stays on no driver"* ]] ||
		fail_with "$stderr"
	b unbind
	assert_status 2
}

@test "restore: --all is required and takes no arguments (2); an empty journal restores nothing (0)" {
	b restore
	assert_status 2
	[[ $stderr == *"say --all"* ]]
	b restore --all 00:03.0
	assert_status 2
	b restore --all -j
	assert_status 0
	[ "$(jq -c . <<<"$output")" = '{"devices":[]}' ]
}

@test "restore --all: a device that does not come back keeps its journal entry (8)" {
	mkdir -p "$HOST_DIR/run/iommuctl/devices"
	printf 'address=0000:00:03.0\noriginal_driver=\noriginal_driver_override=\ndriver=vfio-pci\ntime=0\npid=7\ngroup=3\n' \
		>"$HOST_DIR/run/iommuctl/devices/0000:00:03.0"
	# A fixture tree is not sysfs: unbinding does nothing, so the device stays on vfio-pci.
	IOMMUCTL_BIND_TIMEOUT_MS=50 run --separate-stderr "$IOMMUCTL" --sysroot "$HOST_DIR" restore --all -j
	[ -e "$HOST_DIR/run/iommuctl/devices/0000:00:03.0" ]
	rm -r "$HOST_DIR/run"
	assert_status 8
	[[ $stderr == *"0000:00:03.0: could not put it back on no driver: the original driver did not take the device back"* ]] ||
		fail_with "$stderr"
	jq -e '.devices[0] | .address == "0000:00:03.0" and .result == "failed" and .from_driver == "vfio-pci"' <<<"$output"
}
