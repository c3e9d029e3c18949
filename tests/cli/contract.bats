#!/usr/bin/env bats
# The JSON contract, checked with jq on every fixture host: key sets, types
# (numbers are numbers, booleans booleans, null where missing, [] when empty),
# value formats, and the verdicts each fixture was built to produce.

load helpers

setup_file() {
	fixtures_setup
}

IOMMU_HOSTS="qemu-q35 switch variant amd-domains held nonroot missing-optional broken-proc broken-config"

# jq definitions shared by the checks below.
JQ_DEFS='
def is_str_or_null: type == "string" or type == "null";
def is_num_or_null: type == "number" or type == "null";
def hexid(n): type == "string" and test("^0x[0-9a-f]{" + (n|tostring) + "}$");
def holder_ok:
  type == "object" and (keys == ["command", "node", "path", "pid"])
  and (.pid | type == "number") and (.command | is_str_or_null)
  and (.path | type == "string" and startswith("/dev/"))
  and (.node | IN("cdev", "group"))
  and ((.node == "group") == (.path | test("^/dev/vfio/[0-9]+$")));
def owner_ok:
  type == "object" and (keys == ["command", "device", "node", "path", "pid"])
  and (del(.device) | holder_ok)
  and ((.device == null) == (.node == "group"));
def device_ok:
  (.address | type == "string" and test("^[0-9a-f]{4}:[0-9a-f]{2}:[0-1][0-9a-f]\\.[0-7]$"))
  and (.vendor_id | hexid(4)) and (.device_id | hexid(4)) and (.class | hexid(6))
  and (.vendor_name | is_str_or_null) and (.device_name | is_str_or_null)
  and (.driver | is_str_or_null) and (.driver_override | is_str_or_null)
  and (.iommu_group | is_num_or_null)
  and (.verdict | IN("driver-less", "vfio", "pci-stub", "bridge", "blocking"))
  and (.reason | type == "string" and length > 0)
  and (.bridge | type == "boolean")
  and (.numa_node | is_num_or_null)
  and (.vfio_cdev | . == null or (type == "string" and test("^/dev/vfio/devices/vfio[0-9]+$")))
  and (.netdevs | type == "array" and all(.[]; type == "string"))
  and (.holders | type == "array" and all(.[]; holder_ok))
  and ((.driver == null) == (.verdict == "driver-less") or .verdict == "bridge");
def region_ok:
  type == "object" and (keys == ["end", "start", "type"])
  and (.start | test("^0x[0-9a-f]{16}$")) and (.end | test("^0x[0-9a-f]{16}$"))
  and (.type | IN("direct", "direct-relaxable", "reserved", "msi"));
def group_ok:
  (.id | type == "number")
  and (.type | is_str_or_null)
  and (.viable | type == "boolean") and (.singleton | type == "boolean")
  and (.identity | type == "boolean")
  and (.iommu | is_str_or_null)
  and (.reserved_regions | type == "array" and all(.[]; region_ok))
  and (.holders | type == "array" and all(.[]; holder_ok and .node == "group"))
  and (.owners | type == "array" and all(.[]; owner_ok))
  and (.owned == (.owners | length > 0))
  and (.devices | type == "array" and length > 0 and all(.[]; device_ok))
  and (.singleton == (.devices | length == 1))
  and (.identity == (.type == "identity"))
  and (.viable == all(.devices[]; .verdict != "blocking"))
  and (.id as $g | all(.devices[]; .iommu_group == $g));
LIST_GROUP_KEYS = ["devices","holders","id","identity","iommu","owned","owners","reserved_regions","singleton","type","viable"] + $extra_group_keys | sort;
LIST_DEVICE_KEYS = ["address","bridge","class","device_id","device_name","driver","driver_override","holders","iommu_group","journal","netdevs","numa_node","reason","vendor_id","vendor_name","verdict","vfio_cdev"];
'
# jq has no top-level constants; turn them into functions.
JQ_DEFS="${JQ_DEFS//LIST_GROUP_KEYS =/def list_group_keys:}"
JQ_DEFS="${JQ_DEFS//LIST_DEVICE_KEYS =/def list_device_keys:}"

# Keys the binary emits beyond the contract of the issue. Each is reported
# upstream; anything not listed here fails the key checks.
#   blocking: group, the addresses of the devices that make it not viable
EXTRA_GROUP_KEYS='["blocking"]'
#   assumed_vfio: check, the devices named with --assume-vfio
EXTRA_CHECK_KEYS='["assumed_vfio"]'

jq_c() {
	local res
	res="$(printf '%s' "$output" | jq -e --argjson extra_group_keys "$EXTRA_GROUP_KEYS" --argjson extra_check_keys "$EXTRA_CHECK_KEYS" "$JQ_DEFS $1" 2>&1)" && return 0
	fail_with "jq check failed: $1" "result: $res" "json: $(printf '%s' "$output" | jq -c . 2>/dev/null | head -c 3000)"
}

dev() { # dev ADDRESS: jq path to a device in list -j
	printf '.groups[].devices[] | select(.address == "%s")' "$1"
}

@test "list -j: exact keys and types on every host" {
	local h
	for h in $IOMMU_HOSTS; do
		run --separate-stderr ictl "$h" list -j
		assert_status 0 || fail_with "host $h"
		jq_c '(keys == ["groups"]) and (.groups | type == "array" and length > 0)' || fail_with "host $h"
		jq_c 'all(.groups[]; (keys == list_group_keys) and group_ok)' || fail_with "host $h"
		jq_c 'all(.groups[].devices[]; keys == list_device_keys)' || fail_with "host $h"
		jq_c '[.groups[].id] == ([.groups[].id] | sort)' || fail_with "host $h: groups not sorted by id"
		jq_c 'all(.groups[]; [.devices[].address] == ([.devices[].address] | sort))' ||
			fail_with "host $h: devices not sorted by address"
	done
}

@test "show -j: {devices, groups} with the list keys and more, on every host" {
	local h
	for h in $IOMMU_HOSTS; do
		local first
		first="$(ictl "$h" list -j | jq -r '.groups[0].devices[0].address')"
		local group
		group="$(ictl "$h" list -j | jq -r '.groups[0].id')"
		# A device named: it alone in devices, groups empty.
		run --separate-stderr ictl "$h" show "$first" -j
		assert_status 0 || fail_with "host $h"
		jq_c '(keys == ["devices", "groups"]) and (.devices | length == 1) and (.groups == [])' ||
			fail_with "host $h"
		jq_c '(.devices[0] | device_ok) and ((.devices[0] | keys) as $k | list_device_keys - $k == [])' ||
			fail_with "host $h"
		# A group named: it alone in groups, with its devices in full detail.
		run --separate-stderr ictl "$h" show "$group" -j
		assert_status 0 || fail_with "host $h"
		jq_c '(keys == ["devices", "groups"]) and (.devices == []) and (.groups | length == 1)' ||
			fail_with "host $h"
		jq_c '(.groups[0] | group_ok) and ((.groups[0] | keys) as $k | list_group_keys - $k == [])' ||
			fail_with "host $h"
		# Both named: both there.
		run --separate-stderr ictl "$h" show "$first" "$group" -j
		jq_c '(.devices | length == 1) and (.groups | length == 1)' || fail_with "host $h"
	done
}

@test "check -j: {viable, groups} and exit 0/1 agree" {
	local h
	for h in $IOMMU_HOSTS; do
		run --separate-stderr ictl "$h" check -j
		[ "$status" -le 1 ] || fail_with "host $h: status $status: $stderr"
		jq_c '(keys == (["groups", "viable"] + $extra_check_keys | sort)) and (.viable | type == "boolean")
			and (.groups | type == "array" and length > 0)
			and (.viable == all(.groups[]; .viable))
			and all(.groups[]; group_ok)' || fail_with "host $h"
		if [ "$status" -eq 0 ]; then jq_c '.viable == true'; else jq_c '.viable == false'; fi ||
			fail_with "host $h: exit status $status disagrees with .viable"
	done
}

@test "list -j: an empty result is {\"groups\": []}, same shape" {
	run --separate-stderr ictl qemu-q35 list -j --driver no-such-driver
	assert_status 0
	jq_eq . '{"groups":[]}'
	run --separate-stderr ictl qemu-q35 list -j --class 0c03
	assert_status 0
	jq_eq . '{"groups":[]}'
}

@test "filters keep the group shape: --driver and --class select devices" {
	run --separate-stderr ictl qemu-q35 list -j --driver vfio-pci
	assert_status 0
	jq_eq '[.groups[].devices[].address]' '["0000:00:03.0","0000:01:01.0"]'
	jq_eq '[.groups[].id]' '[3,4]'
	run --separate-stderr ictl qemu-q35 list -j --driver none
	jq_eq '[.groups[].devices[].address]' '["0000:00:00.0","0000:00:04.0","0000:00:1f.0","0000:00:1f.2","0000:00:1f.3"]'
	run --separate-stderr ictl qemu-q35 list -j --class 02
	jq_eq '[.groups[].devices[].address]' '["0000:01:02.0"]'
	# The same class in all three spellings the help promises.
	local c
	for c in 0200 0x020000 020000; do
		run --separate-stderr ictl qemu-q35 list -j --class "$c"
		assert_status 0
		jq_eq '[.groups[].devices[].address]' '["0000:01:02.0"]' || fail_with "--class $c"
	done
}

@test "filters: --group and --device select a whole group" {
	run --separate-stderr ictl qemu-q35 list -j --group 4
	assert_status 0
	jq_eq '[.groups[].id]' '[4]'
	jq_eq '[.groups[].devices[].address]' '["0000:00:04.0","0000:01:01.0","0000:01:02.0"]'
	run --separate-stderr ictl qemu-q35 list -j --device 0000:01:02.0
	assert_status 0
	jq_eq '[.groups[].id]' '[4]'
	# Verdicts of the whole group stay visible, or viability could not be judged.
	jq_eq '.groups[0].viable' 'false'
}

@test "qemu-q35: the lab groups and verdicts" {
	run --separate-stderr ictl qemu-q35 list -j
	jq_eq '[.groups[] | {id, viable, singleton, n: (.devices | length)}]' \
		'[{"id":0,"viable":true,"singleton":true,"n":1},{"id":3,"viable":true,"singleton":true,"n":1},{"id":4,"viable":false,"singleton":false,"n":3},{"id":5,"viable":true,"singleton":false,"n":3}]'
	jq_eq "[$(dev 0000:00:03.0) | .verdict, .reason, .driver, .vfio_cdev]" \
		'["vfio","bound to VFIO driver vfio-pci","vfio-pci","/dev/vfio/devices/vfio0"]'
	jq_eq "[$(dev 0000:01:02.0) | .verdict, .driver]" '["blocking","virtio-pci"]'
	jq_ok "$(dev 0000:01:02.0) | .reason | contains(\"virtio-pci\")"
	jq_eq "[$(dev 0000:00:04.0) | .bridge, .driver]" '[true,null]'
	jq_eq "[$(dev 0000:00:1f.2) | .verdict, .driver, .numa_node, .driver_override, .vfio_cdev]" \
		'["driver-less",null,null,null,null]'
	jq_eq '[.groups[] | select(.id == 3) | .type, .identity, .iommu, .reserved_regions]' \
		'["DMA",false,"dmar0",[{"start":"0x00000000fee00000","end":"0x00000000feefffff","type":"msi"}]]'
	jq_eq '[.groups[] | select(.id == 0) | .type]' '["DMA-FQ"]'
	jq_eq '[.groups[] | select(.id == 5) | .reserved_regions[].type]' '["direct-relaxable","msi"]'
}

@test "qemu-q35: a process holding the cdev is reported on the device" {
	run --separate-stderr ictl qemu-q35 list -j
	jq_eq "$(dev 0000:00:03.0) | .holders" \
		'[{"pid":4242,"command":"qemu-system-x86","path":"/dev/vfio/devices/vfio0","node":"cdev"}]'
	jq_eq "$(dev 0000:01:01.0) | .holders" '[]'
	# /dev/iommu alone does not hold a device or group.
	jq_eq '[.groups[].holders[]]' '[]'
}

@test "qemu-q35: the virtio-net interface is found under its virtio child device" {
	run --separate-stderr ictl qemu-q35 list -j
	jq_eq "$(dev 0000:01:02.0) | .netdevs" '["eth1"]'
}

@test "switch: a PCIe switch group on pcieport is viable, ACS off is not" {
	run --separate-stderr ictl switch list -j
	assert_status 0
	jq_eq '[.groups[] | select(.id == 3) | .viable, [.devices[] | .verdict]]' \
		'[true,["bridge","bridge","vfio","vfio","vfio"]]'
	jq_eq '[.groups[] | select(.id == 3) | .devices[] | select(.bridge) | .reason] | unique' \
		'["port driven by pcieport, which does no DMA of its own"]'
	jq_eq '[.groups[] | select(.id == 4) | .viable, [.devices[] | .verdict]]' '[false,["bridge","blocking"]]'
	jq_eq "[$(dev 0000:05:00.0) | .netdevs, .numa_node, .driver]" '[["eth0"],0,"igb"]'
	jq_eq "$(dev 0000:06:00.0) | .netdevs" '["ens6p0","ens6p1"]'
	jq_eq "$(dev 0000:06:00.0) | .numa_node" '1'
	jq_eq "$(dev 0000:03:00.0) | .driver_override" '"vfio-pci"'
	jq_eq '[.groups[] | {id, iommu}] | map(.iommu) | unique' '["dmar0","dmar1"]'
}

@test "switch: show reports ACS, ATS, PRI and PASID from config space" {
	run --separate-stderr ictl switch show 0000:04:00.1 -j
	assert_status 0
	jq_eq '.devices[0] | [.pcie_type, .capabilities_error]' '["endpoint",null]'
	jq_eq '.devices[0] | [.ats.present, .pri.present, .pasid.present]' '[true,true,true]'
	jq_eq '.devices[0].acs | [.present, .source_validation.enabled, .egress_control.capable, .translation_blocking.capable]' \
		'[true,true,true,false]'
	run --separate-stderr ictl switch show 0000:03:00.0 -j
	jq_eq '.devices[0] | [.acs.present, .ats.present, .pri.present, .pasid.present]' '[false,false,false,false]'
	run --separate-stderr ictl switch show 0000:00:1d.0 -j
	jq_eq '.devices[0] | [.pcie_type, .acs.present, .acs.source_validation.capable, .acs.source_validation.enabled]' \
		'["root-port",true,true,false]'
}

@test "variant: VFIO variants are found through vfio_pci_core holders, not names" {
	run --separate-stderr ictl variant list -j
	assert_status 0
	jq_eq "[$(dev 0000:00:02.0) | .verdict, .driver]" '["vfio","mlx5_vfio_pci"]'
	jq_eq "[$(dev 0000:00:03.0) | .verdict, .driver]" '["vfio","acme_passthru"]'
	jq_eq "[$(dev 0000:00:04.0) | .verdict, .driver]" '["blocking","vfio_lookalike"]'
	jq_eq "[$(dev 0000:00:05.0) | .verdict, .driver, .driver_override]" '["pci-stub","pci-stub","pci-stub"]'
	jq_eq "[$(dev 0000:00:06.0) | .verdict, .driver]" '["driver-less",null]'
	jq_ok "$(dev 0000:00:02.0) | .reason | contains(\"mlx5_vfio_pci\")"
	jq_eq '[.groups[] | {id, viable}]' \
		'[{"id":10,"viable":true},{"id":11,"viable":true},{"id":12,"viable":false},{"id":13,"viable":true},{"id":14,"viable":true},{"id":15,"viable":true}]'
	jq_eq '[.groups[] | select(.id == 15) | .devices[].verdict]' '["vfio","pci-stub","driver-less","vfio"]'
}

@test "amd-domains: domain types, identity flag, AMD IOMMU, missing numa_node" {
	run --separate-stderr ictl amd-domains list -j
	assert_status 0
	jq_eq '[.groups[] | [.id, .type, .identity]]' \
		'[[20,"identity",true],[21,"blocked",false],[22,"unmanaged",false],[23,"DMA",false],[24,"DMA-FQ",false]]'
	jq_eq '[.groups[].iommu] | unique' '["ivhd0"]'
	jq_eq '[.groups[] | select(.id == 24) | .reserved_regions]' '[[]]'
	jq_eq '[.groups[] | select(.id == 20) | .reserved_regions[].end]' '["0x00000000feefffff","0x000000ffffffffff"]'
	jq_eq "$(dev 0000:41:00.0) | .numa_node" 'null'
	jq_eq "$(dev 0000:40:00.0) | .numa_node" '1'
	# The IOMMU's own PCI function is in no group, so it is not in a group list.
	jq_eq "[$(dev 0000:00:00.2)]" '[]'
}

@test "held: holders of cdevs and of the group node, exact paths only" {
	run --separate-stderr ictl held list -j
	assert_status 0
	jq_eq "$(dev 0000:00:03.0) | .holders" \
		'[{"pid":4242,"command":"qemu-system-x86","path":"/dev/vfio/devices/vfio0","node":"cdev"}]'
	jq_eq '.groups[] | select(.id == 31) | .holders' \
		'[{"pid":5150,"command":"dpdk-testpmd","path":"/dev/vfio/31","node":"group"}]'
	# The group node gives access to every device of the group: each device says so.
	jq_eq '[.groups[].devices[] | select(.address | startswith("0000:00:04.")) | .holders]' \
		'[[{"pid":5150,"command":"dpdk-testpmd","path":"/dev/vfio/31","node":"group"}],[{"pid":5150,"command":"dpdk-testpmd","path":"/dev/vfio/31","node":"group"}]]'
	jq_eq "$(dev 0000:00:05.0) | [.holders[].pid]" '[6001,6002]'
	jq_eq "$(dev 0000:00:05.0) | [.holders[].command]" '["cloud-hyperviso","vfio-helper"]'
	# pid 7000 holds /dev/vfio/devices/vfio70 and /dev/vfio/310: neither exists here.
	jq_eq '[.. | objects | select(has("pid")) | .pid] | unique' '[4242,5150,6001,6002]'
	jq_eq '[.groups[] | select(.id == 30 or .id == 32) | .holders[]]' '[]'
	# Owned groups: by a cdev holder (with its device) or by the group node's.
	jq_eq '[.groups[] | {id, owned, owners: [.owners[] | [.pid, .node, .device]]}]' \
		'[{"id":30,"owned":true,"owners":[[4242,"cdev","0000:00:03.0"]]},{"id":31,"owned":true,"owners":[[5150,"group",null]]},{"id":32,"owned":true,"owners":[[6001,"cdev","0000:00:05.0"],[6002,"cdev","0000:00:05.0"]]}]'
}

@test "held: list and check show who owns each group, whichever node it holds" {
	run --separate-stderr ictl held list
	assert_status 0
	[[ $output == *"30  DMA   owned: 4242 qemu-system-x86 "* ]] || { echo "$output"; false; }
	[[ $output == *"owned: 5150 dpdk-testpmd "* ]]
	[[ $output == *"owned: 6001 cloud-hyperviso,... "* ]]
	run --separate-stderr ictl held check
	assert_status 0
	[[ $output == *"note: group 30 is owned by pid 4242 (qemu-system-x86): it holds the cdev /dev/vfio/devices/vfio0 of 0000:00:03.0"* ]]
	[[ $output == *"note: group 31 is owned by pid 5150 (dpdk-testpmd): it holds the group node /dev/vfio/31"* ]]
	run --separate-stderr ictl held show 00:04.1
	assert_status 0
	[[ $output == *"pid: 5150"* && $output == *"node: group"* ]] || { echo "$output"; false; }
}

@test "nonroot: a 64-byte config space gives null capabilities and a reason" {
	run --separate-stderr ictl nonroot show 01:00.0 -j
	assert_status 0
	jq_eq '.devices[0] | [.pcie_type, .acs, .ats, .pri, .pasid]' '[null,null,null,null,null]'
	jq_ok '.devices[0].capabilities_error | type == "string" and length > 0'
	# The rest comes from sysfs attributes and is still there.
	jq_eq '.devices[0] | [.verdict, .vendor_id, .iommu_group]' '["vfio","0x15b3",4]'
	run --separate-stderr ictl nonroot list -j
	assert_status 0
}

@test "broken-config: a config space cut inside the header gives null capabilities" {
	run --separate-stderr ictl broken-config show 00:03.0 -j
	assert_status 0
	jq_eq '.devices[0] | [.pcie_type, .acs, .ats, .pri, .pasid]' '[null,null,null,null,null]'
	jq_ok '.devices[0].capabilities_error | type == "string" and length > 0'
	jq_eq '.devices[0] | [.verdict, .vendor_id]' '["vfio","0x1234"]'
}

@test "missing-optional: absent optional files are null, not errors" {
	run --separate-stderr ictl missing-optional list -j
	assert_status 0
	jq_eq "[$(dev 0000:00:03.0) | .numa_node, .driver_override, .verdict]" '[null,null,"vfio"]'
	jq_eq '.groups[0] | [.iommu, .reserved_regions, .type, .identity]' '[null,[],null,false]'
}

@test "broken-proc: vanished processes do not break listing" {
	run --separate-stderr ictl broken-proc list -j
	assert_status 0
	[ -z "$stderr" ]
	# pid 100 holds vfio0 but its comm cannot be read: command is null.
	jq_eq "$(dev 0000:00:03.0) | .holders" '[{"pid":100,"command":null,"path":"/dev/vfio/devices/vfio0","node":"cdev"}]'
}

@test "big: 4096 devices in 1024 groups list in a few seconds" {
	[ -d "$IOMMUCTL_FIXTURES/big" ] || skip "no big host (run.sh makes it)"
	local t0 t1
	t0=$(date +%s%N)
	run --separate-stderr ictl big list -j
	t1=$(date +%s%N)
	assert_status 0
	jq_eq '[(.groups | length), ([.groups[].devices[]] | length)]' '[1024,4096]'
	jq_eq '[.groups[] | .viable] | group_by(.) | map(length)' '[256,768]'
	local ms=$(((t1 - t0) / 1000000))
	echo "# list -j of the big host: $ms ms" >&3
	[ "$ms" -lt 10000 ] || fail_with "list -j took $ms ms"
}
