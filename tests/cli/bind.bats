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
	busy_q35 "$HOST_DIR"
	export HOST_DIR
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
	# A quote would add keys to the --persist udev rule: refused before anything is written.
	b bind --persist --driver 'vfio-pci",RUN+="x' 00:03.0
	assert_status 2
	[[ $stderr == *'vfio-pci",RUN+="x: not a driver name'* ]] || fail_with "$stderr"
	[ ! -e "$HOST_DIR/etc/udev/rules.d" ] || fail_with "a rule was written: $(cat "$HOST_DIR"/etc/udev/rules.d/*)"
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

@test "bind --persist: a udev rule that binds again at boot; unbind removes it (unpersisted)" {
	local rule=$HOST_DIR/etc/udev/rules.d/99-iommuctl-0000:00:03.0.rules
	# 00:03.0 is on vfio-pci already: nothing to bind, but the rule is still wanted.
	b bind -j --persist 00:03.0
	assert_status 0
	jq -e --arg r "$rule" '.devices[0] | .result == "already-bound" and .persist_rule == $r' <<<"$output"
	[ -f "$rule" ] && [ ! -e "$rule.tmp" ]
	grep -qx '# Written by '"'"'iommuctl bind --persist'"'"': at boot, bind 0000:00:03.0 to vfio-pci (it was on vfio-pci).' "$rule"
	grep -qx "ACTION==\"add\", SUBSYSTEM==\"pci\", KERNEL==\"0000:00:03.0\", RUN+=\"$(readlink -f "$IOMMUCTL") bind --force --driver vfio-pci 0000:00:03.0\"" "$rule" ||
		fail_with "$(cat "$rule")"
	# No journal entry (nothing was bound), only the rule: unbind removes the rule, the device stays.
	b unbind -j 00:03.0
	assert_status 0
	[ ! -e "$rule" ]
	[[ $stderr == *"0000:00:03.0: removed its udev rule; with no journal entry its original driver is unknown, so it stays on vfio-pci until the next boot"* ]] ||
		fail_with "$stderr"
	jq -e '.devices[0] | .result == "unpersisted" and .persist_rule_removed and .driver == "vfio-pci"' <<<"$output"
	b unbind 00:03.0
	assert_status 3
	rm -r "$HOST_DIR/run" "$HOST_DIR/etc"
}

@test "bind --persist: a rule that cannot be written fails the bind (8) and leaves no rule behind" {
	mkdir -p "$HOST_DIR/etc/udev"
	: >"$HOST_DIR/etc/udev/rules.d" # a file where the directory should be
	b bind --persist 00:03.0
	rm -r "$HOST_DIR/etc" "$HOST_DIR/run"
	assert_status 8
	[[ $stderr == *"0000:00:03.0: cannot write $HOST_DIR/etc/udev/rules.d/99-iommuctl-0000:00:03.0.rules: Not a directory; rolled back nothing (every device was already bound)"* ]] ||
		fail_with "$stderr"
}

@test "bind --persist: the rule is 0644 under umask 000, and never written through a link at its .tmp name" {
	local rule=$HOST_DIR/etc/udev/rules.d/99-iommuctl-0000:00:03.0.rules
	mkdir -p "$HOST_DIR/etc/udev/rules.d"
	: >"$BATS_TEST_TMPDIR/victim"
	ln -s "$BATS_TEST_TMPDIR/victim" "$rule.tmp"
	(umask 000 && "$IOMMUCTL" --sysroot "$HOST_DIR" bind --persist 00:03.0 >/dev/null 2>"$BATS_TEST_TMPDIR/err")
	local st=$? mode
	mode=$(stat -c %a "$rule")
	rm -r "$HOST_DIR/etc" "$HOST_DIR/run"
	[ "$st" -eq 0 ] || fail_with "exit $st: $(cat "$BATS_TEST_TMPDIR/err")"
	[ "$mode" = 644 ] || fail_with "rule mode $mode"
	[ ! -s "$BATS_TEST_TMPDIR/victim" ] || fail_with "written through the link: $(cat "$BATS_TEST_TMPDIR/victim")"
}

@test "bind --persist --dry-run writes no rule" {
	b bind -n --persist 00:03.0
	assert_status 0
	[ ! -e "$HOST_DIR/etc/udev/rules.d" ]
}
