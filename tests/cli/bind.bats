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

@test "bind --persist: under umask 000 the rule is still 0644, and a link planted at its place is not followed" {
	local rule=$HOST_DIR/etc/udev/rules.d/99-iommuctl-0000:00:03.0.rules
	(umask 000 && "$IOMMUCTL" --sysroot "$HOST_DIR" bind --persist 00:03.0)
	[ "$(stat -c %a "$rule")" = 644 ] || fail_with "mode $(stat -c %a "$rule")"
	rm "$rule"
	# A link at the temporary name: O_EXCL | O_NOFOLLOW never writes through it.
	: >"$BATS_TEST_TMPDIR/victim"
	ln -s "$BATS_TEST_TMPDIR/victim" "$rule.tmp"
	ln -s "$BATS_TEST_TMPDIR/victim" "$rule"
	b bind --persist 00:03.0
	assert_status 0
	[ ! -s "$BATS_TEST_TMPDIR/victim" ] || fail_with "$(cat "$BATS_TEST_TMPDIR/victim")"
	[ -f "$rule" ] && [ ! -L "$rule" ] && [ ! -e "$rule.tmp" ]
	rm -r "$HOST_DIR/run" "$HOST_DIR/etc"
}

@test "bind --persist: a quote in --driver is refused (2), not written into the rule" {
	b bind --persist --driver 'vfio-pci" RUN+="x' 00:03.0
	assert_status 2
	[[ $stderr == *'vfio-pci" RUN+="x: not a driver name for a --persist rule (letters, digits, '"'_', '.' and '-'"' only)'* ]] ||
		fail_with "$stderr"
	[ ! -e "$HOST_DIR/etc" ]
}

@test "unbind --persist: the rule goes before the journal entry, so a give-back that fails keeps the entry and drops the rule (8)" {
	local rules=$HOST_DIR/etc/udev/rules.d
	mkdir -p "$HOST_DIR/run/iommuctl/devices" "$rules"
	printf 'address=0000:00:03.0\noriginal_driver=\noriginal_driver_override=\ndriver=vfio-pci\ntime=0\npid=7\ngroup=3\n' \
		>"$HOST_DIR/run/iommuctl/devices/0000:00:03.0"
	echo '# rule' >"$rules/99-iommuctl-0000:00:03.0.rules"
	# A fixture tree is not sysfs: the device never leaves vfio-pci, so the give-back fails
	# (--force: the fixture has a process holding it).
	IOMMUCTL_BIND_TIMEOUT_MS=50 run --separate-stderr "$IOMMUCTL" --sysroot "$HOST_DIR" unbind --force -j 00:03.0
	local kept=no dropped=no
	[ -e "$HOST_DIR/run/iommuctl/devices/0000:00:03.0" ] && kept=yes
	[ ! -e "$rules/99-iommuctl-0000:00:03.0.rules" ] && dropped=yes
	rm -r "$HOST_DIR/run" "$HOST_DIR/etc"
	assert_status 8
	[ "$kept $dropped" = "yes yes" ] || fail_with "entry kept: $kept, rule dropped: $dropped"
	jq -e '.devices[0] | .result == "failed" and .persist_rule_removed' <<<"$output"
}

@test "restore --all: a rule with no journal entry is removed and reported (unpersisted)" {
	local rules=$HOST_DIR/etc/udev/rules.d
	mkdir -p "$rules"
	echo '# rule' >"$rules/99-iommuctl-0000:00:03.0.rules"
	echo '# not ours' >"$rules/70-other.rules"
	b restore --all -j
	assert_status 0
	[ ! -e "$rules/99-iommuctl-0000:00:03.0.rules" ] && [ -e "$rules/70-other.rules" ]
	rm -rf "$HOST_DIR/run" "$HOST_DIR/etc"
	[ "$stderr" = "iommuctl: 0000:00:03.0: removed its udev rule, which had no journal entry; the device stays where it is until the next boot" ] ||
		fail_with "$stderr"
	jq -e '.devices == [{"address": "0000:00:03.0", "iommu_group": null, "from_driver": null, "driver": null,
		"driver_override": null, "result": "unpersisted", "persist_rule_removed": true}]' <<<"$output"
}

@test "restore --all: files that are not entries (empty, README, x~) are named and skipped, the rest restored (8); list shows the rest" {
	local j=$HOST_DIR/run/iommuctl/devices
	mkdir -p "$j"
	# 00:03.0 is on vfio-pci, and its entry says it was: giving it back changes nothing and succeeds.
	printf 'address=0000:00:03.0\noriginal_driver=vfio-pci\noriginal_driver_override=\ndriver=vfio-pci\ntime=0\npid=7\ngroup=3\n' >"$j/0000:00:03.0"
	: >"$j/0000:00:04.0"
	echo 'notes' >"$j/README"
	cp "$j/0000:00:03.0" "$j/x~"
	run --separate-stderr "$IOMMUCTL" --sysroot "$HOST_DIR" list -j
	assert_status 0
	[[ $stderr == *"iommuctl: warning: $HOST_DIR/run/iommuctl/devices/README: not a journal entry, skipped"* ]] || fail_with "$stderr"
	jq -e '[.. | objects | select(.address? == "0000:00:03.0") | .journal | objects] | length > 0' <<<"$output" ||
		fail_with "$output"
	b restore --all -j
	local left
	left=$(cd "$j" && ls -A | sort | tr '\n' ' ')
	rm -r "$HOST_DIR/run"
	assert_status 8
	for f in 0000:00:04.0 README 'x~'; do
		[[ $stderr == *"iommuctl: $HOST_DIR/run/iommuctl/devices/$f: not a journal entry (not a small regular file, or unparsable), skipped; the other devices were restored"* ]] ||
			fail_with "$f: $stderr"
	done
	[ "$left" = "0000:00:04.0 README x~ " ] || fail_with "left: $left"
	jq -e '.devices | length == 1 and .[0].address == "0000:00:03.0" and .[0].result == "restored"' <<<"$output"
}

@test "restore --all, list: a FIFO in the journal is skipped, not waited on" {
	local j=$HOST_DIR/run/iommuctl/devices
	mkdir -p "$j"
	mkfifo "$j/0000:00:05.0"
	run --separate-stderr timeout 10 "$IOMMUCTL" --sysroot "$HOST_DIR" list
	local list_status=$status list_err=$stderr
	run --separate-stderr timeout 10 "$IOMMUCTL" --sysroot "$HOST_DIR" restore --all
	rm -r "$HOST_DIR/run"
	[ "$list_status" = 0 ] || fail_with "list: $list_status $list_err"
	[[ $list_err == *"devices/0000:00:05.0: not a journal entry, skipped"* ]] || fail_with "$list_err"
	assert_status 8
	[[ $stderr == *"devices/0000:00:05.0: not a journal entry (not a small regular file, or unparsable), skipped"* ]] ||
		fail_with "$stderr"
}

@test "bind --persist --dry-run writes no rule" {
	b bind -n --persist 00:03.0
	assert_status 0
	[ ! -e "$HOST_DIR/etc/udev/rules.d" ]
}
