#!/usr/bin/env bats
# shellcheck disable=SC2154 # status, output, stderr come from capture (lib.bash)
# A real libvirtd (Debian 12's libvirt 9.0, from the host's root) starts
# diskless domains in the guest and runs the hook that `make install` put in
# /etc/libvirt/hooks/qemu.d/ (topology "libvirt", the basic machine):
#   tests/vm/run-vm.sh libvirt bats --tap tests/vm/suites/libvirt.bats
# The tests are one sequence on one libvirtd, because what is under test is
# the daemon's memory of earlier domains: after every managed='no' case a
# plain managed='yes' domain must still be bound and given back by libvirt.
# Each `virsh start` costs 10-20 s under TCG: only four domains really start.

bats_require_minimum_version 1.5.0
load lib

EDU=0000:00:03.0    # alone in group 1
BR_EDU=0000:01:01.0 # group 2, beside the virtio-net (no address in this topology)
BR_NET=0000:01:02.0
JOURNAL=/run/iommuctl/devices
CONF=/etc/iommuctl/libvirt-hook.conf
LOG=/var/log/libvirt/libvirtd.log
export LIBVIRT_DEFAULT_URI=qemu:///system

setup_file() {
	[ "${VM_TOPOLOGY:-}" = libvirt ] || skip "written for the libvirt topology"
	command -v libvirtd >/dev/null && command -v virsh >/dev/null ||
		skip "libvirt-daemon-system and libvirt-clients are not installed (.ci/run installs them)"
	free_devices "$BATS_FILE_TMPDIR/found" $EDU $BR_EDU
	libvirtd_start "$LOG" "$BATS_FILE_TMPDIR/install.log"
	rm -f "$CONF"
}

teardown_file() {
	local d
	for d in $(virsh -q list --name 2>/dev/null); do virsh -q destroy "$d" >/dev/null 2>&1; done
	[ -s /run/libvirtd.pid ] && kill "$(cat /run/libvirtd.pid)" 2>/dev/null
	"$IOMMUCTL" restore --all >/dev/null 2>&1 || true
	for d in $EDU $BR_EDU; do unbind_to_default $d; done
	[ -f "$BATS_FILE_TMPDIR/found" ] && give_back_devices "$BATS_FILE_TMPDIR/found"
	true
}

# assert_qemu_holds_edu PID: check names libvirt's QEMU as the owner of the
# edu's group through its group node, and show names it as the edu's holder.
assert_qemu_holds_edu() {
	local pid=$1
	capture "$IOMMUCTL" check 1
	[ "$status" -eq 0 ]
	[[ $output == *"note: group 1 is owned by pid $pid (qemu-system-x86): it holds the group node /dev/vfio/1"* ]] ||
		{ echo "$output"; false; }
	capture "$IOMMUCTL" -j show $EDU
	[ "$(jq -r --argjson p "$pid" '.devices[0].holders[] | select(.pid == $p) | .node' <<<"$output")" = group ] ||
		{ echo "$output"; false; }
}

# define NAME MANAGED ADDRESS [XML...]: a diskless q35 domain given one PCI
# device; the firmware finds no boot device and sits there.
define() {
	local name=$1 managed=$2 a=$3 b s f
	shift 3
	IFS=':.' read -r _ b s f <<<"$a"
	cat >"$BATS_FILE_TMPDIR/$name.xml" <<XML
<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>$name</name>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
    <hostdev mode='subsystem' type='pci' managed='$managed'>
      <source><address domain='0x0000' bus='0x$b' slot='0x$s' function='0x$f'/></source>
    </hostdev>
  </devices>
  $*
</domain>
XML
	virsh -q define "$BATS_FILE_TMPDIR/$name.xml" >/dev/null
}

qemu_of() { pgrep -f "qemu-system-x86_64 -name guest=$1," || true; }
journal_empty() { [ -z "$(ls -A $JOURNAL 2>/dev/null)" ] || { ls -l $JOURNAL; false; }; }

@test "libvirtd found the hook that make install put in qemu.d" {
	[ -x /etc/libvirt/hooks/qemu.d/iommuctl ]
	grep -q "Found hook script /etc/libvirt/hooks/qemu.d/iommuctl" "$LOG"
}

@test "a non-viable group: virsh start fails with the hook's reason, and nothing was touched" {
	before="$(dev_driver $BR_EDU)/$(dev_driver $BR_NET)"
	define nv yes $BR_EDU
	capture virsh start nv
	[ "$status" -eq 1 ]
	[[ $stderr == *"iommuctl: group 2 would not be viable: $BR_NET on virtio-pci would stay on its driver; give the domain it too, or let the hook bind the whole group (policy bind-group)"* ]] ||
		{ echo "$stderr"; false; }
	[[ $stderr == *"iommuctl: libvirt-hook: nv: the domain must not start (policy check)"* ]] || { echo "$stderr"; false; }
	[ "$(dev_driver $BR_EDU)/$(dev_driver $BR_NET)" = "$before" ]
	journal_empty
	[ -z "$(qemu_of nv)" ]
	# libvirt did not get to its own detach.
	! grep -q "Adding PCI device $BR_EDU to inactive list" "$LOG"
}

@test "managed='no' off vfio-pci: refused under check (configuration file) and bind (virsh metadata)" {
	echo 'policy = check' >$CONF
	define no1 no $EDU
	capture virsh start no1
	[ "$status" -eq 1 ]
	[[ $stderr == *"iommuctl: libvirt-hook: no1: hostdev $EDU is on no driver and managed='no', so libvirt will not bind it, and the hook does not bind managed='no' devices; detach it through libvirt first (virsh nodedev-detach pci_0000_00_03_0), or make it managed='yes'"* ]] ||
		{ echo "$stderr"; false; }
	[[ $stderr == *"(policy check)"* ]] || { echo "$stderr"; false; }
	rm -f $CONF
	virsh -q metadata no1 urn:iommuctl:libvirt-hook:1 --key iommuctl --set '<hook policy="bind"/>' --config
	capture virsh start no1
	[ "$status" -eq 1 ]
	[[ $stderr == *"the hook does not bind managed='no' devices"*"(policy bind)"* ]] || { echo "$stderr"; false; }
	[ -z "$(dev_driver $EDU)" ]
	journal_empty
}

@test "managed='no' detached through libvirt starts under bind, and stays detached after destroy" {
	virsh -q nodedev-detach pci_0000_00_03_0 >/dev/null
	[ "$(dev_driver $EDU)" = vfio-pci ]
	capture virsh start no1
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	pid=$(qemu_of no1)
	[ -n "$pid" ]
	assert_qemu_holds_edu "$pid"
	journal_empty # the hook bound nothing
	virsh -q destroy no1 >/dev/null
	# libvirt keeps it as detached (managed='no'), and so does the hook.
	[ "$(dev_driver $EDU)" = vfio-pci ]
	journal_empty
	grep -q "Not reattaching unmanaged PCI device $EDU" "$LOG"
}

@test "bind-group (configuration file), managed='no' edu: the hook binds and gives back its sibling, libvirt keeps the edu" {
	echo 'policy = bind-group' >$CONF
	virsh -q nodedev-detach pci_0000_01_01_0 >/dev/null
	[ "$(dev_driver $BR_EDU)" = vfio-pci ]
	net_before=$(dev_driver $BR_NET)
	[ -n "$net_before" ]
	define grp no $BR_EDU
	capture virsh start grp
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ -n "$(qemu_of grp)" ]
	[ "$(dev_driver $BR_NET)" = vfio-pci ]
	grep -qx owner=libvirt:grp "$JOURNAL/$BR_NET"
	[ ! -e "$JOURNAL/$BR_EDU" ]
	virsh -q destroy grp >/dev/null
	[ "$(dev_driver $BR_NET)" = "$net_before" ]
	[ "$(dev_driver $BR_EDU)" = vfio-pci ]
	journal_empty
	grep -q "libvirt-hook: grp: gave $BR_NET back to $net_before" "$LOG"
	rm -f $CONF
	# Given back the way libvirt knows of.
	virsh -q nodedev-reattach pci_0000_01_01_0 >/dev/null
	[ -z "$(dev_driver $BR_EDU)" ]
}

@test "a start that fails after the hook bound a managed device (policy bind) leaves nothing behind" {
	virsh -q nodedev-reattach pci_0000_00_03_0 >/dev/null
	[ -z "$(dev_driver $EDU)" ]
	define fail yes $EDU \
		"<metadata><iommuctl:hook xmlns:iommuctl='urn:iommuctl:libvirt-hook:1' policy='bind'/></metadata>" \
		"<qemu:commandline><qemu:arg value='-no-such-option'/></qemu:commandline>"
	capture virsh start fail
	[ "$status" -eq 1 ]
	[[ $stderr == *"-no-such-option: invalid option"* ]] || { echo "$stderr"; false; }
	grep -q "libvirt-hook: fail: bound $EDU to vfio-pci" "$LOG"
	grep -q "libvirt-hook: fail: gave $EDU back to no driver" "$LOG"
	[ -z "$(dev_driver $EDU)" ]
	[ -z "$(qemu_of fail)" ]
	journal_empty
}

@test "after all of it, libvirt itself still binds and gives back a plain managed='yes' device; iommuctl names QEMU" {
	[ -z "$(dev_driver $EDU)" ]
	define plain yes $EDU
	capture virsh start plain
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	pid=$(qemu_of plain)
	[ -n "$pid" ]
	[ "$(dev_driver $EDU)" = vfio-pci ]
	assert_qemu_holds_edu "$pid"
	capture "$IOMMUCTL" -j show $EDU
	[ "$status" -eq 0 ]
	[ "$(jq -r '.devices[0] | [.driver, .iommu_group] | join(" ")' <<<"$output")" = "vfio-pci 1" ] || { echo "$output"; false; }
	journal_empty # libvirt bound it, not the hook
	virsh -q destroy plain >/dev/null
	[ -z "$(dev_driver $EDU)" ]
	[ "$(grep -c "Reattaching managed PCI device $EDU" "$LOG")" -ge 2 ] # the failed start's, and this one's
	journal_empty
}
