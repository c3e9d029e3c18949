#!/usr/bin/env bats
# shellcheck disable=SC2154 # status, output, stderr come from capture (lib.bash)
# iommuctl libvirt-hook on the guest kernel (topology "basic"), fed domain
# XML documents shaped as `virsh dumpxml` prints them, with the arguments
# libvirt passes (DOMAIN prepare begin -, DOMAIN release end -).  libvirt
# itself does not run: the hook never talks to it.
#   tests/vm/run-vm.sh basic-session bats --tap tests/vm/suites/libvirt-hook.bats
# Expectations are read from sysfs here (lib.bash), never from iommuctl.

bats_require_minimum_version 1.5.0
load lib

EDU=0000:00:03.0    # alone in group 1: a viable assignment
BR_EDU=0000:01:01.0 # group 2, beside the virtio-net: not viable on its own
BR_NET=0000:01:02.0 # group 2, virtio-net with the address and default route
JOURNAL=/run/iommuctl/devices

setup_file() {
	[ -x "$IOMMUCTL" ] || { echo "no binary at IOMMUCTL=$IOMMUCTL" >&2; return 1; }
	free_devices "$BATS_FILE_TMPDIR/found" $EDU $BR_EDU
	# The host root's own configuration must not decide the policy.
	export IOMMUCTL_HOOK_CONFIG=$BATS_FILE_TMPDIR/libvirt-hook.conf
}

teardown_file() {
	give_back_devices "$BATS_FILE_TMPDIR/found"
}

setup() {
	case ${VM_TOPOLOGY:-basic} in basic | basic-session) ;; *) skip "written for the basic machine" ;; esac
	[ -e "$SYS/bus/pci/devices/$EDU" ] || skip "no edu at $EDU"
	rm -f "$IOMMUCTL_HOOK_CONFIG"
}

teardown() {
	"$IOMMUCTL" restore --all >/dev/null 2>&1 || true
	if [ -n "${UNDO_NET:-}" ] && [ -n "${VM_TOPOLOGY_FILE:-}" ]; then "$BATS_TEST_DIRNAME/../guest-init.sh" net || true; fi
}

net_down() {
	local ifc
	UNDO_NET=1
	for ifc in "$SYS/bus/pci/devices/$BR_NET"/virtio*/net/*; do ip link set "${ifc##*/}" down; done
}

# domain NAME POLICY|- MANAGED ADDRESS...: a domain as `virsh dumpxml` shows
# one, with a PCI hostdev per address and, unless POLICY is "-", the hook's
# policy in its metadata.
domain() {
	local name=$1 policy=$2 managed=$3 a d b s f
	shift 3
	cat <<EOF
<domain type='kvm' id='1'>
  <name>$name</name>
  <uuid>2d7b9a62-5a4c-4f83-9d3e-0c1e6a8f4b21</uuid>
EOF
	[ "$policy" = - ] || cat <<EOF
  <metadata>
    <libosinfo:libosinfo xmlns:libosinfo="http://libosinfo.org/xmlns/libvirt/domain/1.0">
      <libosinfo:os id="http://debian.org/debian/12"/>
    </libosinfo:libosinfo>
    <iommuctl:hook xmlns:iommuctl="urn:iommuctl:libvirt-hook:1" policy="$policy"/>
  </metadata>
EOF
	cat <<EOF
  <memory unit='KiB'>2097152</memory>
  <currentMemory unit='KiB'>2097152</currentMemory>
  <vcpu placement='static'>2</vcpu>
  <os>
    <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>
    <boot dev='hd'/>
  </os>
  <features><acpi/><apic/></features>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/var/lib/libvirt/images/$name.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='network'>
      <mac address='52:54:00:6b:3c:58'/>
      <source network='default'/>
      <model type='virtio'/>
    </interface>
EOF
	for a in "$@"; do
		IFS=':.' read -r d b s f <<<"$a"
		cat <<EOF
    <hostdev mode='subsystem' type='pci' managed='$managed'>
      <driver name='vfio'/>
      <source>
        <address domain='0x$d' bus='0x$b' slot='0x$s' function='0x$f'/>
      </source>
      <alias name='hostdev0'/>
    </hostdev>
EOF
	done
	cat <<EOF
    <memballoon model='virtio'/>
  </devices>
</domain>
EOF
}

# hook DOMAIN OPERATION SUB-OPERATION < XML, as libvirt runs it.
hook() {
	capture "$IOMMUCTL" libvirt-hook "$@" -
}

@test "policy bind: prepare binds a lone managed edu to vfio-pci, journaled for the domain; release gives it back" {
	[ -z "$(dev_driver $EDU)" ] || skip "$EDU is not driver-less"
	domain vm1 bind yes "$EDU" >"$BATS_TEST_TMPDIR/vm1.xml"
	hook vm1 prepare begin <"$BATS_TEST_TMPDIR/vm1.xml"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ -z "$output" ]
	[ "$stderr" = "iommuctl: libvirt-hook: vm1: bound $EDU to vfio-pci" ] || { echo "$stderr"; false; }
	[ "$(dev_driver $EDU)" = vfio-pci ]
	node=$(echo "$SYS/bus/pci/devices/$EDU"/vfio-dev/vfio*)
	[ -c "/dev/vfio/devices/${node##*/}" ]
	grep -qx owner=libvirt:vm1 "$JOURNAL/$EDU"

	# The other operations leave it alone.
	for op in "start begin" "started begin" "stopped end"; do
		# shellcheck disable=SC2086 # two words on purpose
		hook vm1 $op <"$BATS_TEST_TMPDIR/vm1.xml"
		[ "$status" -eq 0 ]
		[ "$(dev_driver $EDU)" = vfio-pci ]
	done

	hook vm1 release end <"$BATS_TEST_TMPDIR/vm1.xml"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ -z "$output" ]
	[ "$stderr" = "iommuctl: libvirt-hook: vm1: gave $EDU back to no driver" ] || { echo "$stderr"; false; }
	[ -z "$(dev_driver $EDU)" ]
	[ ! -e "$JOURNAL/$EDU" ]
}

@test "policy check: a viable managed hostdev may start and nothing changes; managed='no' off vfio-pci may not (4)" {
	[ -z "$(dev_driver $EDU)" ] || skip "$EDU is not driver-less"
	domain vm1 - yes "$EDU" >"$BATS_TEST_TMPDIR/vm1.xml"
	hook vm1 prepare begin <"$BATS_TEST_TMPDIR/vm1.xml"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ -z "$(dev_driver $EDU)" ]
	[ ! -e "$JOURNAL/$EDU" ]
	domain vm1 - no "$EDU" >"$BATS_TEST_TMPDIR/vm1.xml"
	hook vm1 prepare begin <"$BATS_TEST_TMPDIR/vm1.xml"
	[ "$status" -eq 4 ]
	[[ $stderr == *"hostdev $EDU is on no driver and managed='no', so libvirt will not bind it"* ]] || { echo "$stderr"; false; }
	[ -z "$(dev_driver $EDU)" ]
}

@test "policies bind and bind-group never bind a managed='no' hostdev (4), and leave one on vfio-pci where it is" {
	[ -z "$(dev_driver $EDU)" ] || skip "$EDU is not driver-less"
	for policy in bind bind-group; do
		domain vm1 $policy no "$EDU" >"$BATS_TEST_TMPDIR/vm1.xml"
		hook vm1 prepare begin <"$BATS_TEST_TMPDIR/vm1.xml"
		[ "$status" -eq 4 ] || { echo "$policy: $status $stderr"; false; }
		[[ $stderr == *"the hook does not bind managed='no' devices; detach it through libvirt first (virsh nodedev-detach pci_0000_00_03_0)"* ]] ||
			{ echo "$stderr"; false; }
		[ -z "$(dev_driver $EDU)" ]
		[ ! -e "$JOURNAL/$EDU" ]
	done
	# Detached by someone else, it may start, and the release leaves it bound.
	bind_to $EDU vfio-pci
	hook vm1 prepare begin <"$BATS_TEST_TMPDIR/vm1.xml"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ -z "$stderr" ]
	hook vm1 release end <"$BATS_TEST_TMPDIR/vm1.xml"
	[ "$status" -eq 0 ]
	[ "$(dev_driver $EDU)" = vfio-pci ]
	unbind_to_default $EDU
}

@test "a non-viable assignment stops the start (4) under every policy, and nothing changes" {
	before="$(dev_driver $BR_EDU)/$(dev_driver $BR_NET)"
	domain vm2 - yes "$BR_EDU" >"$BATS_TEST_TMPDIR/vm2.xml"
	hook vm2 prepare begin <"$BATS_TEST_TMPDIR/vm2.xml"
	[ "$status" -eq 4 ]
	[[ $stderr == *"group 2 would not be viable: $BR_NET on virtio-pci would stay on its driver; give the domain it too, or let the hook bind the whole group (policy bind-group)"* ]] ||
		{ echo "$stderr"; false; }
	[[ $stderr == *"vm2: the domain must not start (policy check)" ]] || { echo "$stderr"; false; }

	domain vm2 bind yes "$BR_EDU" >"$BATS_TEST_TMPDIR/vm2.xml"
	hook vm2 prepare begin <"$BATS_TEST_TMPDIR/vm2.xml"
	[ "$status" -eq 4 ]

	# bind-group would take the NIC, which carries the guest's default route.
	domain vm2 bind-group yes "$BR_EDU" >"$BATS_TEST_TMPDIR/vm2.xml"
	hook vm2 prepare begin <"$BATS_TEST_TMPDIR/vm2.xml"
	[ "$status" -eq 4 ]
	[[ $stderr == *"$BR_NET: refusing to unbind virtio-pci: eth0 carries the default route (via 10.0.2.2)"* ]] ||
		{ echo "$stderr"; false; }
	[ "$(dev_driver $BR_EDU)/$(dev_driver $BR_NET)" = "$before" ]
	[ -z "$(ls -A $JOURNAL 2>/dev/null)" ]
}

@test "policy bind-group (NIC down): prepare binds the group, release puts the edu and the NIC back" {
	net_down
	before="$(dev_driver $BR_EDU)/$(dev_driver $BR_NET)"
	domain vm2 bind-group yes "$BR_EDU" >"$BATS_TEST_TMPDIR/vm2.xml"
	capture "$IOMMUCTL" -j libvirt-hook vm2 prepare begin - <"$BATS_TEST_TMPDIR/vm2.xml"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ "$(jq -r '"\(.policy) \(.policy_from) \([.bind.devices[].result] | join(","))"' <<<"$output")" = "bind-group metadata bound,bound" ]
	[ "$(dev_driver $BR_EDU)/$(dev_driver $BR_NET)" = vfio-pci/vfio-pci ]
	capture "$IOMMUCTL" check 2
	[ "$status" -eq 0 ]
	grep -qx owner=libvirt:vm2 "$JOURNAL/$BR_NET"

	hook vm2 release end <"$BATS_TEST_TMPDIR/vm2.xml"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ "$(dev_driver $BR_EDU)/$(dev_driver $BR_NET)" = "$before" ]
	[ -z "$(ls -A $JOURNAL)" ]
}

@test "release gives back only what the hook bound for that domain" {
	[ -z "$(dev_driver $EDU)" ] || skip "$EDU is not driver-less"
	domain vm1 bind yes "$EDU" >"$BATS_TEST_TMPDIR/vm1.xml"
	hook vm1 prepare begin <"$BATS_TEST_TMPDIR/vm1.xml"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	# Another domain's release does not touch it.
	domain vm3 - yes >"$BATS_TEST_TMPDIR/vm3.xml"
	hook vm3 release end <"$BATS_TEST_TMPDIR/vm3.xml"
	[ "$status" -eq 0 ]
	[ "$(dev_driver $EDU)" = vfio-pci ]
	hook vm1 release end <"$BATS_TEST_TMPDIR/vm1.xml"
	[ -z "$(dev_driver $EDU)" ]

	# A device the operator bound is theirs: the hook finds it bound and leaves it so.
	capture "$IOMMUCTL" bind "$EDU"
	[ "$status" -eq 0 ]
	hook vm1 prepare begin <"$BATS_TEST_TMPDIR/vm1.xml"
	[ "$status" -eq 0 ]
	hook vm1 release end <"$BATS_TEST_TMPDIR/vm1.xml"
	[ "$status" -eq 0 ]
	[ "$(dev_driver $EDU)" = vfio-pci ]
	grep -qx owner= "$JOURNAL/$EDU"
	capture "$IOMMUCTL" unbind "$EDU"
	[ -z "$(dev_driver $EDU)" ]
}

@test "the policy file applies to domains without metadata" {
	[ -z "$(dev_driver $EDU)" ] || skip "$EDU is not driver-less"
	echo 'policy = bind' >"$IOMMUCTL_HOOK_CONFIG"
	domain vm1 - yes "$EDU" >"$BATS_TEST_TMPDIR/vm1.xml"
	hook vm1 prepare begin <"$BATS_TEST_TMPDIR/vm1.xml"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ "$(dev_driver $EDU)" = vfio-pci ]
	hook vm1 release end <"$BATS_TEST_TMPDIR/vm1.xml"
	[ -z "$(dev_driver $EDU)" ]
}

@test "policy bind: a hostdev the driver refuses stops the start (6) and puts back what was bound" {
	# vfio-pci refuses a bridge (its header is not type 0): a real kernel
	# refusal.  A root port is alone in its group, so the checks let it through.
	BRIDGE=0000:00:07.3
	[ -z "$(dev_driver $EDU)" ] || skip "$EDU is not driver-less"
	before="$(dev_driver $BRIDGE)"
	domain vm4 bind yes "$EDU" "$BRIDGE" >"$BATS_TEST_TMPDIR/vm4.xml"
	capture "$IOMMUCTL" -j --force libvirt-hook vm4 prepare begin - <"$BATS_TEST_TMPDIR/vm4.xml" || true
	# The hook has no --force: a usage error, nothing done.
	[ "$status" -eq 2 ]
	hook vm4 prepare begin <"$BATS_TEST_TMPDIR/vm4.xml"
	[ "$status" -eq 6 ] || { echo "$status $stderr"; false; }
	[[ $stderr == *"$BRIDGE: binding to vfio-pci failed: the driver did not take the device"*"rolled back $BRIDGE, $EDU to where they were"* ]] ||
		{ echo "$stderr"; false; }
	[[ $stderr == *"vm4: the domain must not start (policy bind)" ]] || { echo "$stderr"; false; }
	[ -z "$(dev_driver $EDU)" ]
	[ "$(dev_driver $BRIDGE)" = "$before" ]
	[ -z "$(ls -A $JOURNAL)" ]
}
