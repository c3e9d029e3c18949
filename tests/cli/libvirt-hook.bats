#!/usr/bin/env bats
# iommuctl libvirt-hook on fixture trees: what libvirt passes (arguments, the
# domain XML on stdin), the policy's three sources, and the decisions at
# prepare that need no real binding: viable, not viable (sibling named), in
# use (the NIC with the default route), unknown device, managed='no' off
# vfio-pci.  Binding and giving back for real is in the VM
# (tests/vm/suites/libvirt-hook.bats).

load helpers

setup_file() {
	fixtures_setup
	HOST_DIR="$BATS_FILE_TMPDIR/q35"
	busy_q35 "$HOST_DIR"
	export HOST_DIR
	# No configuration file of the host running the tests may leak in.
	export IOMMUCTL_HOOK_CONFIG="$BATS_FILE_TMPDIR/no-such.conf"
}

# domain NAME [HOSTDEV-XML...]: a domain document as libvirt sends it.
domain() {
	local name=$1 h
	shift
	printf "<domain type='kvm'>\n  <name>%s</name>\n  <devices>\n" "$name"
	for h in "$@"; do printf '    %s\n' "$h"; done
	printf "  </devices>\n</domain>\n"
}

# hostdev BUS SLOT FUNCTION [MANAGED]
hostdev() {
	printf "<hostdev mode='subsystem' type='pci' managed='%s'><source><address domain='0x0000' bus='%s' slot='%s' function='%s'/></source></hostdev>" \
		"${4:-yes}" "$1" "$2" "$3"
}

# hook XML-FILE ARGS...: the hook with FILE on stdin.
hook() {
	local xml=$1
	shift
	run --separate-stderr "$IOMMUCTL" --sysroot "$HOST_DIR" libvirt-hook "$@" <"$xml"
}

@test "libvirt-hook: a domain whose group would be viable may start (0), and stdout stays empty" {
	domain vm1 "$(hostdev 0x00 0x03 0x0)" >"$BATS_TEST_TMPDIR/d.xml"
	hook "$BATS_TEST_TMPDIR/d.xml" vm1 prepare begin -
	assert_status 0
	[ -z "$output" ] || fail_with "stdout: $output"
	[ -z "$stderr" ] || fail_with "stderr: $stderr"
}

@test "libvirt-hook: a hostdev whose sibling stays on its driver stops the start (4), sibling named" {
	domain vm1 "$(hostdev 0x01 0x01 0x0)" >"$BATS_TEST_TMPDIR/d.xml"
	hook "$BATS_TEST_TMPDIR/d.xml" vm1 prepare begin -
	assert_status 4
	[ -z "$output" ] || fail_with "stdout: $output"
	[[ $stderr == *"iommuctl: group 4 would not be viable: 0000:01:02.0 on virtio-pci would stay on its driver; give the domain it too, or let the hook bind the whole group (policy bind-group)"* ]] ||
		fail_with "$stderr"
	[[ $stderr == *"iommuctl: libvirt-hook: vm1: the domain must not start (policy check)" ]] || fail_with "$stderr"
}

@test "libvirt-hook: giving a domain the NIC with the default route stops the start (4)" {
	domain vm1 "$(hostdev 0x01 0x01 0x0)" "$(hostdev 0x01 0x02 0x0)" >"$BATS_TEST_TMPDIR/d.xml"
	hook "$BATS_TEST_TMPDIR/d.xml" -j vm1 prepare begin -
	assert_status 4
	[[ $stderr == *"0000:01:02.0: refusing to unbind virtio-pci: eth1 carries the default route (via 10.0.2.2)"* ]] ||
		fail_with "$stderr"
	[[ $stderr != *"--force"* ]] || fail_with "the hook has no --force: $stderr"
	jq -e '.action == "check" and .exit_status == 4 and .bind.dry_run and
		([.bind.devices[] | .result] == ["already-bound", "refused"])' <<<"$output"
}

@test "libvirt-hook: an SR-IOV <interface type='hostdev'> counts as a PCI device of the domain" {
	domain vm1 "<interface type='hostdev' managed='yes'><source><address type='pci' domain='0x0000' bus='0x01' slot='0x02' function='0x0'/></source></interface>" \
		"<hostdev mode='subsystem' type='usb'><source><vendor id='0x1234'/></source></hostdev>" >"$BATS_TEST_TMPDIR/d.xml"
	hook "$BATS_TEST_TMPDIR/d.xml" -j vm1 prepare begin -
	assert_status 4
	jq -e '.hostdevs == [{"address": "0000:01:02.0", "managed": true}]' <<<"$output"
}

@test "libvirt-hook: a managed='no' hostdev off vfio-pci stops the start under every policy (4)" {
	domain vm1 "$(hostdev 0x00 0x1f 0x0 no)" >"$BATS_TEST_TMPDIR/d.xml"
	for policy in check bind bind-group; do
		hook "$BATS_TEST_TMPDIR/d.xml" --policy $policy vm1 prepare begin -
		assert_status 4
		[[ $stderr == *"iommuctl: libvirt-hook: vm1: hostdev 0000:00:1f.0 is on no driver and managed='no', so libvirt will not bind it, and the hook does not bind managed='no' devices; detach it through libvirt first (virsh nodedev-detach pci_0000_00_1f_0), or make it managed='yes'"* ]] ||
			fail_with "$stderr"
	done
	# managed='no' on vfio-pci already is what libvirt expects.
	domain vm1 "$(hostdev 0x00 0x03 0x0 no)" >"$BATS_TEST_TMPDIR/d.xml"
	hook "$BATS_TEST_TMPDIR/d.xml" vm1 prepare begin -
	assert_status 0
}

@test "libvirt-hook: a hostdev this host does not have is not found (3)" {
	domain vm1 "$(hostdev 0x09 0x00 0x0)" >"$BATS_TEST_TMPDIR/d.xml"
	hook "$BATS_TEST_TMPDIR/d.xml" vm1 prepare begin -
	assert_status 3
	[ "$stderr" = "iommuctl: libvirt-hook: vm1: hostdev 0000:09:00.0: no such PCI device on this host" ]
}

@test "libvirt-hook: a domain without PCI hostdevs starts even on a host without an IOMMU (0)" {
	domain vm1 >"$BATS_TEST_TMPDIR/d.xml"
	run --separate-stderr "$IOMMUCTL" --sysroot "$(sysroot noiommu)" libvirt-hook vm1 prepare begin - <"$BATS_TEST_TMPDIR/d.xml"
	assert_status 0
	[ -z "$output$stderr" ]
	domain vm1 "$(hostdev 0x00 0x03 0x0)" >"$BATS_TEST_TMPDIR/d.xml"
	run --separate-stderr "$IOMMUCTL" --sysroot "$(sysroot noiommu)" libvirt-hook vm1 prepare begin - <"$BATS_TEST_TMPDIR/d.xml"
	assert_status 7
}

@test "libvirt-hook: XML that is not well-formed, not a <domain>, or a bad address is a usage error (2)" {
	printf '<domain><devices>' >"$BATS_TEST_TMPDIR/d.xml"
	hook "$BATS_TEST_TMPDIR/d.xml" vm1 prepare begin -
	assert_status 2
	[[ $stderr == "iommuctl: libvirt-hook: the domain XML on stdin is not well-formed: line 1: "* ]] || fail_with "$stderr"
	printf '<network/>' >"$BATS_TEST_TMPDIR/d.xml"
	hook "$BATS_TEST_TMPDIR/d.xml" vm1 prepare begin -
	assert_status 2
	[[ $stderr == *"stdin holds <network>, not a libvirt <domain>"* ]] || fail_with "$stderr"
	domain vm1 "$(hostdev 0x100 0x00 0x0)" >"$BATS_TEST_TMPDIR/d.xml"
	hook "$BATS_TEST_TMPDIR/d.xml" vm1 prepare begin -
	assert_status 2
	[[ $stderr == *"hostdev <address bus='0x100' slot='0x00' function='0x0'/>: not a PCI address"* ]] || fail_with "$stderr"
	domain vm1 "<hostdev mode='subsystem' type='pci'><source/></hostdev>" >"$BATS_TEST_TMPDIR/d.xml"
	hook "$BATS_TEST_TMPDIR/d.xml" vm1 prepare begin -
	assert_status 2
	[[ $stderr == *"a PCI <hostdev> without <source><address .../></source>"* ]] || fail_with "$stderr"
	: >"$BATS_TEST_TMPDIR/d.xml"
	hook "$BATS_TEST_TMPDIR/d.xml" vm1 prepare begin -
	assert_status 2
	[[ $stderr == *"prepare needs the domain XML on stdin"* ]] || fail_with "$stderr"
}

@test "libvirt-hook: arguments other than libvirt's are a usage error (2)" {
	domain vm1 >"$BATS_TEST_TMPDIR/d.xml"
	hook "$BATS_TEST_TMPDIR/d.xml" vm1 prepare
	assert_status 2
	[[ $stderr == *"expected DOMAIN OPERATION SUB-OPERATION [EXTRA], as libvirt passes them"*"Try 'iommuctl libvirt-hook --help'."* ]] ||
		fail_with "$stderr"
	hook "$BATS_TEST_TMPDIR/d.xml" vm1 prepare begin - extra
	assert_status 2
	hook "$BATS_TEST_TMPDIR/d.xml" --policy always vm1 prepare begin -
	assert_status 2
	[[ $stderr == *"--policy always: expected check, bind or bind-group"* ]] || fail_with "$stderr"
}

@test "libvirt-hook: operations other than prepare and release do nothing (0, silent)" {
	domain vm1 "$(hostdev 0x01 0x01 0x0)" >"$BATS_TEST_TMPDIR/d.xml"
	for op in "start begin" "started begin" "stopped end" "migrate begin" "restore begin" "reconnect begin" \
		"attach begin" "prepare end" "release begin"; do
		# shellcheck disable=SC2086 # two words on purpose
		hook "$BATS_TEST_TMPDIR/d.xml" vm1 $op -
		assert_status 0
		[ -z "$output$stderr" ] || fail_with "$op: $output$stderr"
	done
}

@test "libvirt-hook: the policy comes from --policy, then the domain's metadata, then the file, else check" {
	local meta="<metadata><iommuctl:hook xmlns:iommuctl='urn:iommuctl:libvirt-hook:1' policy='bind-group'/></metadata>"
	domain vm1 "$(hostdev 0x00 0x03 0x0)" >"$BATS_TEST_TMPDIR/plain.xml"
	sed "s|<devices>|$meta<devices>|" "$BATS_TEST_TMPDIR/plain.xml" >"$BATS_TEST_TMPDIR/meta.xml"
	printf '# the hook may bind\n\npolicy = bind   # for every domain\n' >"$BATS_TEST_TMPDIR/hook.conf"

	hook "$BATS_TEST_TMPDIR/plain.xml" -j vm1 prepare begin -
	assert_status 0
	jq -e '.policy == "check" and .policy_from == "default" and .action == "check"' <<<"$output"
	IOMMUCTL_HOOK_CONFIG="$BATS_TEST_TMPDIR/hook.conf" hook "$BATS_TEST_TMPDIR/plain.xml" -j vm1 prepare begin -
	assert_status 0
	jq -e '.policy == "bind" and .policy_from == "config" and .action == "bind" and (.bind.dry_run | not) and
		.bind.devices[0].result == "already-bound"' <<<"$output"
	hook "$BATS_TEST_TMPDIR/meta.xml" -j --config "$BATS_TEST_TMPDIR/hook.conf" vm1 prepare begin -
	assert_status 0
	jq -e '.policy == "bind-group" and .policy_from == "metadata"' <<<"$output"
	hook "$BATS_TEST_TMPDIR/meta.xml" -j --policy check vm1 prepare begin -
	assert_status 0
	jq -e '.policy == "check" and .policy_from == "option"' <<<"$output"
	# The file under --sysroot when neither --config nor the variable names one.
	mkdir -p "$HOST_DIR/etc/iommuctl"
	cp "$BATS_TEST_TMPDIR/hook.conf" "$HOST_DIR/etc/iommuctl/libvirt-hook.conf"
	IOMMUCTL_HOOK_CONFIG= hook "$BATS_TEST_TMPDIR/plain.xml" -j vm1 prepare begin -
	rm -r "$HOST_DIR/etc/iommuctl"
	assert_status 0
	jq -e '.policy == "bind" and .policy_from == "config"' <<<"$output"
}

@test "libvirt-hook: a configuration file or metadata that says something else is an error (2, 3)" {
	domain vm1 "$(hostdev 0x00 0x03 0x0)" >"$BATS_TEST_TMPDIR/d.xml"
	printf 'policy = bind\npolcy = bind-group\n' >"$BATS_TEST_TMPDIR/hook.conf"
	hook "$BATS_TEST_TMPDIR/d.xml" --config "$BATS_TEST_TMPDIR/hook.conf" vm1 prepare begin -
	assert_status 2
	[ "$stderr" = "iommuctl: $BATS_TEST_TMPDIR/hook.conf:2: expected 'policy = check|bind|bind-group'" ]
	printf 'policy = always\n' >"$BATS_TEST_TMPDIR/hook.conf"
	hook "$BATS_TEST_TMPDIR/d.xml" --config "$BATS_TEST_TMPDIR/hook.conf" vm1 prepare begin -
	assert_status 2
	[ "$stderr" = "iommuctl: $BATS_TEST_TMPDIR/hook.conf:1: unknown policy 'always' (check, bind or bind-group)" ]
	hook "$BATS_TEST_TMPDIR/d.xml" --config "$BATS_TEST_TMPDIR/none.conf" vm1 prepare begin -
	assert_status 3
	[[ $stderr == *"none.conf: No such file or directory" ]] || fail_with "$stderr"
	sed "s|<devices>|<metadata><i:hook xmlns:i='urn:iommuctl:libvirt-hook:1' policy='yes'/></metadata><devices>|" \
		"$BATS_TEST_TMPDIR/d.xml" >"$BATS_TEST_TMPDIR/meta.xml"
	hook "$BATS_TEST_TMPDIR/meta.xml" vm1 prepare begin -
	assert_status 2
	[[ $stderr == *"vm1: <iommuctl:hook policy='yes'/> in its metadata: expected check, bind or bind-group"* ]] ||
		fail_with "$stderr"
}

@test "libvirt-hook: a configuration line over 255 bytes (a long comment) is one line" {
	domain vm1 "$(hostdev 0x00 0x03 0x0)" >"$BATS_TEST_TMPDIR/d.xml"
	{ printf '# %0300d\n' 0; printf 'policy = always\n'; } >"$BATS_TEST_TMPDIR/hook.conf"
	hook "$BATS_TEST_TMPDIR/d.xml" --config "$BATS_TEST_TMPDIR/hook.conf" vm1 prepare begin -
	assert_status 2
	[ "$stderr" = "iommuctl: $BATS_TEST_TMPDIR/hook.conf:2: unknown policy 'always' (check, bind or bind-group)" ] || fail_with "$stderr"
	{ printf '# %0300d\n' 0; printf 'policy = check\n'; } >"$BATS_TEST_TMPDIR/hook.conf"
	hook "$BATS_TEST_TMPDIR/d.xml" --config "$BATS_TEST_TMPDIR/hook.conf" vm1 prepare begin -
	assert_status 0
	[ -z "$stderr" ] || fail_with "$stderr"
}

@test "libvirt-hook: release gives back only what the hook bound for that domain" {
	mkdir -p "$HOST_DIR/run/iommuctl/devices"
	printf 'address=0000:00:03.0\noriginal_driver=\noriginal_driver_override=\ndriver=vfio-pci\ntime=0\npid=7\ngroup=3\nowner=libvirt:vm1\n' \
		>"$HOST_DIR/run/iommuctl/devices/0000:00:03.0"
	domain vm2 >"$BATS_TEST_TMPDIR/d.xml"
	hook "$BATS_TEST_TMPDIR/d.xml" -j vm2 release end -
	assert_status 0
	jq -e '.action == "restore" and .restore.devices == []' <<<"$output"
	[ -e "$HOST_DIR/run/iommuctl/devices/0000:00:03.0" ]
	run --separate-stderr "$IOMMUCTL" --sysroot "$HOST_DIR" show -j 00:03.0
	jq -e '.devices[0].journal | .owner == "libvirt:vm1" and (.persistent | not)' <<<"$output"
	# vm1's entry is tried; a fixture tree is not sysfs, so the device does not come back (8).
	domain vm1 >"$BATS_TEST_TMPDIR/d.xml"
	IOMMUCTL_BIND_TIMEOUT_MS=50 hook "$BATS_TEST_TMPDIR/d.xml" -j vm1 release end -
	rm -r "$HOST_DIR/run"
	assert_status 8
	[[ $stderr == *"0000:00:03.0: could not put it back on no driver"* ]] || fail_with "$stderr"
	jq -e '.restore.devices[0] | .address == "0000:00:03.0" and .result == "failed"' <<<"$output"
}
