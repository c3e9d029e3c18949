#!/usr/bin/env bats
# PCI domains above 0xffff (Intel VMD: "10000:e1:00.0", five hex digits):
# every command reads, names and takes them, and the libvirt hook never reads
# a domain= it cannot parse as domain 0.  Host: tests/fixtures/hosts/vmd.host.

load helpers

setup_file() {
	fixtures_setup
	export IOMMUCTL_HOOK_CONFIG="$BATS_FILE_TMPDIR/no-such.conf"
}

@test "vmd: list shows the devices of domain 10000 (0), none of them fails the load" {
	run --separate-stderr ictl vmd list -j
	assert_status 0
	[ -z "$stderr" ] || fail_with "$stderr"
	jq_eq '[.groups[].devices[].address]' '["0000:00:00.0","0000:00:0e.0","10000:e0:06.0","10000:e1:00.0","10001:02:00.0"]'
	jq_eq '[.groups[].devices[] | select(.address == "10000:e1:00.0") | .verdict]' '["blocking"]'
}

@test "vmd: show and check take a 5-digit domain, in any case" {
	run --separate-stderr ictl vmd show 10000:E1:00.0 -j
	assert_status 0
	jq_eq '[.devices[].address]' '["10000:e1:00.0"]'
	jq_eq '[.devices[0].upstream_path[].address]' '["10000:e0:06.0"]'
	run --separate-stderr ictl vmd check 10001:02:00.0
	assert_status 0
	run --separate-stderr ictl vmd show 10002:02:00.0
	assert_error 3 "iommuctl: 10002:02:00.0: no such PCI device"
	run --separate-stderr ictl vmd show 010000:e1:00.0
	assert_status 2
	[[ $stderr == "iommuctl: 010000:e1:00.0: malformed PCI address (expected DDDD:BB:DD.F or BB:DD.F)"* ]] || fail_with "$stderr"
}

@test "vmd: bind --dry-run of a device in domain 10000 names it" {
	run --separate-stderr ictl vmd bind --dry-run -j 10001:02:00.0
	assert_status 0
	jq_eq '[.devices[].address]' '["10001:02:00.0"]'
}

domain_xml() {
	printf "<domain type='kvm'><name>vm1</name><devices><hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='%s' bus='%s' slot='%s' function='0x0'/></source></hostdev></devices></domain>\n" "$@"
}

@test "libvirt-hook: domain='0x10000' names domain 10000, never 0000" {
	domain_xml 0x10001 0x02 0x00 >"$BATS_TEST_TMPDIR/d.xml"
	run --separate-stderr ictl vmd libvirt-hook vm1 prepare begin - <"$BATS_TEST_TMPDIR/d.xml"
	assert_status 0
	[ -z "$stderr" ] || fail_with "$stderr"
	# qemu-q35 has 0000:00:03.0 but no domain 10000: not found, not that device.
	domain_xml 0x10000 0x00 0x03 >"$BATS_TEST_TMPDIR/d.xml"
	run --separate-stderr ictl qemu-q35 libvirt-hook vm1 prepare begin - <"$BATS_TEST_TMPDIR/d.xml"
	assert_status 3
	[[ $stderr == *"10000:00:03.0"* ]] || fail_with "$stderr"
}

@test "libvirt-hook: a domain= that is not a number in range is a usage error (2), never domain 0" {
	for bad in junk 0x100000000 -1 ''; do
		domain_xml "$bad" 0x00 0x03 >"$BATS_TEST_TMPDIR/d.xml"
		run --separate-stderr ictl qemu-q35 libvirt-hook vm1 prepare begin - <"$BATS_TEST_TMPDIR/d.xml"
		assert_status 2
		[[ $stderr == *"hostdev <address domain='$bad'/>: not a PCI domain (0 to 0xffffffff)"* ]] || fail_with "$stderr"
	done
}
