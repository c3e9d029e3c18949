#!/usr/bin/env bats
# iommuctl probe against a real kernel: the whole lifecycle (bind to
# vfio-pci, open, IOAS, map, attach, detach, unmap, close, restore) on the
# devices of the topology, and the answer when a device is not ready.
#   tests/vm/run-vm.sh basic bats --tap tests/vm/suites/probe.bats
# Runs on basic, virtio-iommu (where a driver-less edu has no group until a
# driver probes it) and nomodules (no /dev/iommu: only the test for that).

bats_require_minimum_version 1.5.0
load lib

BRIDGE_EDU=0000:01:01.0
BRIDGE_NET=0000:01:02.0
E1000E=0000:00:05.0

setup_file() {
	cd "$BATS_TEST_DIRNAME/../../.." || return 1
	# a binary built before the command was in its table
	"$IOMMUCTL" help probe >/dev/null 2>&1 || export NO_PROBE=1
	EDU=$(find_lone_edu)
	[ -n "$EDU" ] || { echo "no driver-less edu" >&2; return 1; }
	export EDU
}

setup() {
	[ -z "${NO_PROBE:-}" ] || skip "$IOMMUCTL has no probe command"
}

# Every test leaves the devices as it found them, even when it fails.
teardown() {
	[ -n "${REBOUND:-}" ] && unbind_to_default "$REBOUND"
	true
}

needs_iommufd() {
	[ -e /dev/iommu ] || skip "no /dev/iommu in this topology"
}

override_of() {
	local o
	read -r o <"$SYS/bus/pci/devices/$1/driver_override"
	[ "$o" = "(null)" ] && o=
	echo "$o"
}

@test "a lone edu probes ready, and is driver-less again afterwards" {
	needs_iommufd
	capture "$IOMMUCTL" probe -j "$EDU"
	[ "$status" -eq 0 ] || { echo "$output$stderr"; false; }
	[ -z "$stderr" ] || { echo "$stderr"; false; }
	# every step ran and passed; the device went to vfio-pci and came back
	got=$(jq -c '[.ready, .devices[0].ready, .devices[0].failed_step, .devices[0].driver.changed,
		([.devices[0].steps[] | .result] | unique)]' <<<"$output")
	[ "$got" = '[true,true,null,true,["ok"]]' ] || { echo "$got"; echo "$output"; false; }
	[ -z "$(dev_driver "$EDU")" ] || { echo "left on $(dev_driver "$EDU")"; false; }
	[ -z "$(override_of "$EDU")" ] || { echo "driver_override left: $(override_of "$EDU")"; false; }
	# the binding was journaled (bind step) and the entry removed by the restore
	[[ $(jq -r '.devices[0].steps[2].detail' <<<"$output") == *"journal in /run/iommuctl"* ]]
	[ ! -e "/run/iommuctl/devices/$EDU" ] || { echo "journal entry left"; false; }
}

@test "an edu already on vfio-pci is probed in place and stays on vfio-pci" {
	needs_iommufd
	REBOUND=$EDU
	bind_to "$EDU" vfio-pci
	capture "$IOMMUCTL" probe -j "$EDU"
	[ "$status" -eq 0 ] || { echo "$output$stderr"; false; }
	got=$(jq -c '.devices[0] | [.ready, .driver.before, .driver.changed,
		(.steps[] | select(.step == "bind" or .step == "restore") | .result)]' <<<"$output")
	[ "$got" = '[true,"vfio-pci",false,"not_needed","not_run"]' ] || { echo "$got"; false; }
	[ "$(dev_driver "$EDU")" = vfio-pci ]
	[ "$(override_of "$EDU")" = vfio-pci ]
}

@test "the edu beside virtio-net in the bridge group is not ready, and the sibling is named" {
	needs_iommufd
	[ -e "$SYS/bus/pci/devices/$BRIDGE_NET/iommu_group" ] || skip "virtio-net is in no group here"
	[ "$(dev_driver "$BRIDGE_NET")" = virtio-pci ] || skip "virtio-net is not on virtio-pci"
	# (an earlier suite of the same boot may have left it on vfio-pci)
	before="$(dev_driver "$BRIDGE_EDU")/$(override_of "$BRIDGE_EDU")"
	capture "$IOMMUCTL" probe "$BRIDGE_EDU"
	[ "$status" -eq 1 ] || { echo "status $status: $output$stderr"; false; }
	[[ $stderr == "iommuctl: $BRIDGE_EDU: group: "*"not viable"*"sibling $BRIDGE_NET on virtio-pci (a kernel driver)"* ]] || { echo "$stderr"; false; }
	[[ $output == *"$BRIDGE_EDU: NOT ready"* ]] || { echo "$output"; false; }
	# nothing was touched
	[ "$(dev_driver "$BRIDGE_EDU")/$(override_of "$BRIDGE_EDU")" = "$before" ]
}

@test "a device on a kernel driver is refused without --force (exit 4) and left alone" {
	needs_iommufd
	[ "$(dev_driver "$E1000E")" = e1000e ] || skip "no e1000e on e1000e"
	capture "$IOMMUCTL" probe "$E1000E"
	[ "$status" -eq 4 ] || { echo "status $status: $stderr"; false; }
	[[ $stderr == *"bound to e1000e, a kernel driver"*"--force"* ]] || { echo "$stderr"; false; }
	[ "$(dev_driver "$E1000E")" = e1000e ]
}

@test "with --force the e1000e is probed on vfio-pci and given back to e1000e" {
	needs_iommufd
	[ "$(dev_driver "$E1000E")" = e1000e ] || skip "no e1000e on e1000e"
	REBOUND=
	capture "$IOMMUCTL" probe -j --force "$E1000E"
	[ "$(dev_driver "$E1000E")" = e1000e ] || { REBOUND=$E1000E; echo "left on $(dev_driver "$E1000E")"; false; }
	[ "$status" -eq 0 ] || { echo "$output$stderr"; false; }
	got=$(jq -c '.devices[0] | [.ready, .driver.before, .driver.changed, (.steps[-1] | .result)]' <<<"$output")
	[ "$got" = '[true,"e1000e",true,"ok"]' ] || { echo "$got"; false; }
	[ -z "$(override_of "$E1000E")" ]
}

@test "a device that is not there: not found (exit 3), nothing probed" {
	capture "$IOMMUCTL" probe -j 0000:00:1c.7
	[ "$status" -eq 3 ] || { echo "status $status: $stderr"; false; }
	[ "$stderr" = "iommuctl: 0000:00:1c.7: no such PCI device" ] || { echo "$stderr"; false; }
	[ -z "$output" ]
}

@test "without the modules loaded, probe loads iommufd and vfio-pci itself and gets ready" {
	[ ! -e /dev/iommu ] || skip "iommufd is loaded here"
	[ ! -d /sys/bus/pci/drivers/vfio-pci ] || skip "vfio-pci is loaded here"
	capture "$IOMMUCTL" probe -j "$EDU"
	[ "$status" -eq 0 ] || { echo "status $status: $stderr"; false; }
	[ "$(jq -c .ready <<<"$output")" = true ] || { jq -c '.devices[0].steps' <<<"$output"; false; }
	[ -e /dev/iommu ] && [ -d /sys/module/iommufd ] && [ -d /sys/bus/pci/drivers/vfio-pci ]
	# and gave the device back
	[ -z "$(dev_driver "$EDU")" ]
}

@test "JSON shape: the same keys and all eleven steps, ready or not" {
	needs_iommufd
	# the lone edu (ready) and the bridge edu (not ready on basic; ready on
	# virtio-iommu, where virtio-net is in no group)
	capture "$IOMMUCTL" probe -j "$EDU" "$BRIDGE_EDU"
	[ "$status" -le 1 ] || { echo "$stderr"; false; }
	shape=$(jq -c '[(keys), (.devices | length), (.devices[] | [(keys),
		([.steps[] | .step] | join(",")),
		([.steps[] | keys] | unique),
		([.steps[] | .result | IN("ok", "failed", "not_needed", "not_run")] | all),
		([.steps[] | select(.result == "ok" or .result == "failed") | .duration_ns | type] | unique),
		(.ready == (.error == null) and .ready == (.failed_step == null))])]' <<<"$output")
	dev='[["address","driver","duration_ns","error","failed_step","hwpt_id","ioas_id","length","page_size","ready","steps","vfio_cdev"],'
	dev+='"group,iommufd,bind,open,ioas_alloc,map,attach,detach,unmap,close,restore",'
	dev+='[["detail","duration_ns","error","result","step"]],true,["number"],true]'
	want="[[\"devices\",\"ready\"],2,$dev,$dev]"
	[ "$shape" = "$want" ] || { echo "got  $shape"; echo "want $want"; false; }
	errors=$(jq -c '[.devices[] | .error | if . == null then null else keys end]' <<<"$output")
	if [ "$status" -eq 1 ]; then
		[ "$errors" = '[null,["errno","message"]]' ] || { echo "$errors"; false; }
	else
		[ "$errors" = '[null,null]' ] || { echo "$errors"; false; }
	fi
}
