#!/usr/bin/env bats
# shellcheck disable=SC2154,SC2016 # capture sets stderr; sh -c scripts expand in the child
# Sessions against the real kernel: iommuctl run and exec drive a device
# through open (blocked), attach (translated), detach (blocked) and close
# (back to vfio), with the edu's DMA engine (build/dma-probe, given the
# session's fds) checking each state; and every failure is explained, with
# its exit status.  Runs as root in a guest:
#   tests/vm/run-vm.sh basic bats --tap tests/vm/suites/session.bats

bats_require_minimum_version 1.5.0
load lib

setup_file() {
	setup_probe_edu
}

teardown_file() {
	release_edu
}

# Tests that rebind more name the devices in UNDO (and UNDO_NET for the NIC).
teardown() {
	local bdf
	# A holder first: unbinding a device whose fd is open blocks.
	if [ -n "${HOLDER:-}" ]; then kill "$HOLDER" 2>/dev/null; wait "$HOLDER" 2>/dev/null; fi
	for bdf in ${UNDO:-}; do unbind_to_default "$bdf"; done
	if [ -n "${UNDO_NET:-}" ] && [ -n "${VM_TOPOLOGY_FILE:-}" ]; then "$BATS_TEST_DIRNAME/../guest-init.sh" net || true; fi
}

script() {
	printf '%s\n' "$@" >"$BATS_TEST_TMPDIR/script"
	echo "$BATS_TEST_TMPDIR/script"
}

@test "run: blocked after open, translated after attach (only at the mapped IOVA), blocked after detach, vfio after close" {
	need_fault_reports
	f=$(script "# the lifecycle" \
		"open $EDU" \
		"exec -- $PROBE --iommufd-fd {iommufd} --device-fd {device:0} --expect blocked" \
		"ioas alloc vm0" \
		"" \
		"attach $EDU vm0" \
		"exec -- $PROBE --iommufd-fd {iommufd} --device-fd {device:0} --ioas {ioas} --expect translated" \
		"detach $EDU" \
		"exec -- $PROBE --iommufd-fd {iommufd} --device-fd {device:0} --ioas {ioas} --expect blocked" \
		"attach $EDU vm0" \
		"exec -- $PROBE --iommufd-fd {iommufd} --device-fd {device:0} --ioas {ioas} --unmapped-iova 0x200000 --expect blocked" \
		"close $EDU" \
		"state")
	capture "$IOMMUCTL" run "$f"
	echo "$output"; echo "$stderr"
	[ "$status" -eq 0 ]
	[ "$(grep -c 'passed device fd: result: blocked (expected blocked): ok' <<<"$output")" -eq 3 ]
	[ "$(grep -c 'passed device fd: result: translated (expected translated): ok' <<<"$output")" -eq 1 ]
	# Blocked is the IOMMU's own report: after open and after detach both
	# transfers faulted, attached only the write to the unmapped IOVA did,
	# and the translated run faulted nowhere.  (The unmapped write comes
	# last: right after it, intel-iommu under QEMU 7.2 was seen to report
	# no fault for the detached device at all, not even after 5 s.)
	[ "$(grep -c 'nothing landed; iommu fault reported: read yes, write yes' <<<"$output")" -eq 2 ]
	[[ $output == *"(unmapped)"*"nothing landed; iommu fault reported: read no, write yes"* ]]
	[[ $output == *"pattern landed at the mapped iova; iommu fault reported: read no, write no"* ]]
	# The final state table: the device is back on vfio, not held by anyone.
	[[ $(grep "^$EDU" <<<"$output" | tail -n 1) =~ ^$EDU\ +vfio\ +vfio-pci ]]
}

@test "run -j: one JSON object per command, with the device's state after each" {
	f=$(script "open $EDU" "ioas alloc vm0" "ioas map vm0 --iova 0x100000 --length 8K" "attach $EDU vm0" \
		"exec -- $PROBE --iommufd-fd {iommufd} --device-fd {device:0} --ioas {ioas} --iova 0x400000 --expect translated" \
		"detach $EDU" "close $EDU")
	capture "$IOMMUCTL" -j run "$f"
	echo "$output"; echo "$stderr"
	[ "$status" -eq 0 ]
	# The probe's own lines went to stderr: stdout is pure JSON Lines.
	[[ $stderr == *"result: translated (expected translated): ok"* ]]
	got=$(jq -s -c --arg a "$EDU" '[.[] | [.line, .ok, .error, (.state.devices[] | select(.address == $a) | .state)]]' <<<"$output")
	[ "$got" = '[[1,true,null,"blocked"],[2,true,null,"blocked"],[3,true,null,"blocked"],[4,true,null,"attached"],[5,true,null,"attached"],[6,true,null,"blocked"],[7,true,null,"vfio"]]' ] || { echo "$got"; false; }
	# Shape: keys and types of every line; objects carry names and mappings.
	jq -s -e 'all(.[]; (.line | type) == "number" and (.command | type) == "string" and (.ok | type) == "boolean"
		and has("error") and (.state.devices | type) == "array" and (.state.objects | type) == "array"
		and all(.state.devices[]; (.address | type) == "string" and (.state | type) == "string"))' <<<"$output"
	jq -s -e '.[3].state.objects == [{"id": .[1].result.id, "type": "ioas", "name": "vm0", "ioas": null, "device": null,
		"dirty_tracking": false, "mappings": [{"iova": "0x100000", "length": 8192, "readonly": false,
		"memory": "anonymous", "file": null}], "devices": [.[3].state.devices[0].address]}]' <<<"$output"
	jq -s -e '.[3].result.hwpt > 0 and .[4].result.exit_status == 0' <<<"$output"
}

@test "run: the first failing line is named, nothing after it runs; --keep-going goes on" {
	f=$(script "open $EDU" "# a comment" "attach $EDU nosuch" "ioas alloc never")
	capture "$IOMMUCTL" run "$f"
	[ "$status" -eq 3 ]
	[ "$stderr" = "iommuctl: $f:3: attach $EDU nosuch: nosuch: no object of that name in this session" ] || { echo "$stderr"; false; }
	capture "$IOMMUCTL" -j run "$f"
	[ "$status" -eq 3 ]
	[ "$(jq -s -c '[.[] | [.line, .ok]]' <<<"$output")" = '[[1,true],[3,false]]' ]
	jq -s -e '.[1].error == {"message": "nosuch: no object of that name in this session", "errno": 2,
		"errno_name": "ENOENT", "exit_status": 3}' <<<"$output"
	capture "$IOMMUCTL" -j run --keep-going "$f"
	[ "$status" -eq 3 ]
	[ "$(jq -s -c '[.[] | [.line, .ok]]' <<<"$output")" = '[[1,true],[3,false],[4,true]]' ]
	# A syntax error is a usage error (2) of its line.
	f=$(script "open $EDU" "exec -- sh -c 'unterminated")
	capture "$IOMMUCTL" run "$f"
	[ "$status" -eq 2 ]
	[[ $stderr == *"$f:2: "*"syntax error: unterminated ' quote" ]]
	# A command that fails makes its line fail with status 1.
	capture "$IOMMUCTL" run "$(script "open $EDU" "exec -- sh -c 'exit 3'" "state")"
	[ "$status" -eq 1 ]
	[[ $stderr == *":2: exec -- sh -c 'exit 3': sh: exited with status 3" ]] || { echo "$stderr"; false; }
}

@test "exec: QEMU-style placeholders and environment; with --bind and --ioas the device is attached" {
	# shellcheck disable=SC2016 # expanded by the child shell
	capture "$IOMMUCTL" exec --bind "$EDU" --ioas -- sh -c \
		'echo "$IOMMUFD_FD $VFIO_DEVICE_FDS $IOMMUFD_IOAS_ID $1 $2 $3"; readlink /proc/self/fd/$IOMMUFD_FD /proc/self/fd/$VFIO_DEVICE_FDS' \
		sh '{iommufd}' '{device:0}' '{ioas}'
	echo "$output"; echo "$stderr"
	[ "$status" -eq 0 ]
	read -r ifd dfd ioas a1 a2 a3 <<<"$(sed -n 1p <<<"$output")"
	[ "$ifd" = "$a1" ] && [ "$dfd" = "$a2" ] && [ "$ioas" = "$a3" ] && [ "$ioas" -gt 0 ]
	node=$(echo /sys/bus/pci/devices/"$EDU"/vfio-dev/vfio*)
	[ "$(sed -n 2,3p <<<"$output" | tr '\n' ' ')" = "/dev/iommu /dev/vfio/devices/${node##*/} " ]
	# The fds are the session's: attached translates, bound alone blocks.
	run "$IOMMUCTL" exec --bind "$EDU" --ioas -- "$PROBE" --iommufd-fd '{iommufd}' --device-fd '{device:0}' --ioas '{ioas}' --expect translated
	echo "$output"
	[ "$status" -eq 0 ]
	need_fault_reports
	run "$IOMMUCTL" exec --bind "$EDU" -- "$PROBE" --iommufd-fd '{iommufd}' --device-fd '{device:0}' --expect blocked
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"nothing landed; iommu fault reported: read yes, write yes"* ]]
	# exec replaces iommuctl: the status is the command's.
	run "$IOMMUCTL" exec --open "$EDU" -- sh -c 'exit 42'
	[ "$status" -eq 42 ]
	run --separate-stderr "$IOMMUCTL" exec --open "$EDU" -- echo '{device:1}'
	[ "$status" -eq 2 ]
	[ "$stderr" = "iommuctl: exec: {device:1}: the session has 1 open device (counting from 0)" ]
}

@test "exec --open hands an opened, unbound cdev: it owns nothing until the child binds it" {
	# {device:0} is the cdev, opened and not bound: a BIND in the child (here a
	# fresh session's) is the first and succeeds. QEMU binds the inherited fd itself.
	# shellcheck disable=SC2016 # expanded by the child shell
	capture "$IOMMUCTL" exec --open "$EDU" -- sh -c 'readlink /proc/self/fd/$2 && printf "open %s\nstate\n" "$1" | "$0" -j run -' \
		"$IOMMUCTL" "$EDU" '{device:0}'
	[ "$status" -eq 0 ] || { echo "$output$stderr"; false; }
	node=$(echo /sys/bus/pci/devices/"$EDU"/vfio-dev/vfio*)
	[ "$(sed -n 1p <<<"$output")" = "/dev/vfio/devices/${node##*/}" ]
	sed 1d <<<"$output" | jq -s -e --arg e "$EDU" '.[-1].state.devices[] | select(.address == $e) | .state == "blocked"'
	capture "$IOMMUCTL" exec --open "$EDU" --ioas -- true
	[ "$status" -eq 2 ]
	[[ $stderr == *"--ioas attaches the devices given with --bind"* ]]
	capture "$IOMMUCTL" -j run --keep-going "$(script "open --unbound $EDU" "state" "attach $EDU 1")"
	[ "$status" -eq 2 ]
	[[ "$output$stderr" == *"$EDU: opened with --unbound: not bound to this session's iommufd"* ]]
	jq -s -e --arg e "$EDU" '.[1].state.devices[] | select(.address == $e) | .state == "opened" and .dev_id == null' <<<"$output"
}

@test "a second process cannot open a device the first holds: the holder is named" {
	"$IOMMUCTL" exec --bind "$EDU" -- sleep 60 &
	HOLDER=$!
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		[ "$(cat /proc/$HOLDER/comm 2>/dev/null)" = sleep ] && break
		sleep 0.5
	done
	capture "$IOMMUCTL" run "$(script "open $EDU")"
	echo "$stderr"
	[ "$status" -eq 4 ]
	[[ $stderr == *": open $EDU: $EDU: open: $EDU is already open in pid $HOLDER (sleep), through /dev/vfio/devices/vfio"* ]]
	kill "$HOLDER"
	wait "$HOLDER" || true
	HOLDER=
}

@test "the group's reserved regions: map and allow inside the MSI window are refused and explained" {
	group=$(readlink "/sys/bus/pci/devices/$EDU/iommu_group")
	group=${group##*/}
	read -r start _ < <(grep msi "/sys/kernel/iommu_groups/$group/reserved_regions" | head -n 1) ||
		skip "group $group has no MSI reserved region here"
	start=0x${start#0x}
	f=$(script "open $EDU" "ioas alloc a" "attach $EDU a" "ioas map a --iova $start --length 4K")
	capture "$IOMMUCTL" run "$f"
	echo "$stderr"
	[ "$status" -eq 4 ]
	[[ $stderr == *":4: ioas map a --iova $start --length 4K: ioas: map into IOAS "*" (a): IOVA 0x"*" overlaps the msi reserved region 0x"*" of group $group ($EDU, attached to this IOAS)"* ]]
	f=$(script "open $EDU" "ioas alloc a" "attach $EDU a" "ioas allow a $start+4K")
	capture "$IOMMUCTL" run "$f"
	echo "$stderr"
	[ "$status" -eq 4 ]
	[[ $stderr == *"ioas: allow: IOVA "*"overlaps the msi reserved region 0x"*"of group $group"* ]]
	# The ranges the kernel offers leave the window out.
	capture "$IOMMUCTL" -j run "$(script "open $EDU" "ioas alloc a" "attach $EDU a" "ioas ranges a")"
	[ "$status" -eq 0 ]
	jq -e -s --arg s "$start" '.[3].result.ranges | length >= 2 and all(.[]; (.last | ltrimstr("0x")) != "")' <<<"$output"
}

@test "open of a device without a VFIO driver: says it has no driver; unknown devices are not found" {
	other=$(untraced find_lone_edu)
	[ -n "$other" ] || skip "no second driver-less edu"
	capture "$IOMMUCTL" run "$(script "open $other")"
	[ "$status" -eq 3 ]
	[[ $stderr == *"$other: open: no VFIO cdev: the device has no driver; bind it to vfio-pci first" ]] || { echo "$stderr"; false; }
	capture "$IOMMUCTL" run "$(script "open 0000:00:1c.7")"
	[ "$status" -eq 3 ]
	[[ $stderr == *"0000:00:1c.7: open: no such PCI device" ]] || { echo "$stderr"; false; }
}

@test "RLIMIT_MEMLOCK: an unprivileged user with a small limit is told the numbers" {
	command -v setpriv >/dev/null || skip "no setpriv"
	node=$(echo /sys/bus/pci/devices/"$EDU"/vfio-dev/vfio*)
	chmod 0666 /dev/iommu "/dev/vfio/devices/${node##*/}"
	f=$(script "open $EDU" "ioas alloc a" "attach $EDU a" "ioas map a --length 1M")
	export ASAN_OPTIONS=detect_leaks=0
	# uid 65534 may not be able to reach the checkout (a tree in /root is
	# mode 0700): it runs a copy of the binary from a directory it can read.
	bindir=$(mktemp -d /tmp/rlimit.XXXXXX)
	chmod 0755 "$bindir"
	cp "$IOMMUCTL" "$bindir/iommuctl"
	chmod 0755 "$bindir/iommuctl"
	IOMMUCTL=$bindir/iommuctl
	capture setpriv --reuid=65534 --regid=65534 --clear-groups -- sh -c 'ulimit -l 64 && exec "$0" run -' "$IOMMUCTL" <"$f"
	chmod 0600 /dev/iommu "/dev/vfio/devices/${node##*/}"
	echo "$stderr"
	[ "$status" -eq 5 ]
	[[ $stderr == *":4: ioas map a --length 1M: ioas: map into IOAS "*" (a): RLIMIT_MEMLOCK exceeded: the limit is 64 KiB, this session already pins 0 B"*"and this step needs 1 MiB more"* ]]
	# Mapped before the attach, the pages are pinned at the attach: the attach is refused.
	f=$(script "open $EDU" "ioas alloc a" "ioas map a --length 1M" "attach $EDU a")
	chmod 0666 /dev/iommu "/dev/vfio/devices/${node##*/}"
	capture setpriv --reuid=65534 --regid=65534 --clear-groups -- sh -c 'ulimit -l 64 && exec "$0" run -' "$IOMMUCTL" <"$f"
	chmod 0600 /dev/iommu "/dev/vfio/devices/${node##*/}"
	echo "$stderr"
	[ "$status" -eq 5 ]
	[[ $stderr == *":4: attach $EDU a: $EDU: attach to IOAS "*" (a): RLIMIT_MEMLOCK exceeded: the limit is 64 KiB"*"needs 1 MiB more"* ]]
}

# The bridge group of basic: an edu and a virtio-net behind a conventional PCI bridge.
bridge_pair() {
	local d n=
	for d in /sys/bus/pci/devices/0000:01:0[12].0; do
		[ -e "$d/iommu_group" ] || return 1
	done
	[ "$(readlink /sys/bus/pci/devices/0000:01:01.0/iommu_group)" = "$(readlink /sys/bus/pci/devices/0000:01:02.0/iommu_group)" ] || return 1
	[ "$(cat /sys/bus/pci/devices/0000:01:01.0/device)" = 0x11e8 ] || return 1
	echo "0000:01:01.0 0000:01:02.0 $n"
}

@test "a group with a sibling on a kernel driver cannot be opened: the sibling is named" {
	read -r edu net < <(bridge_pair) || skip "no edu + virtio-net group here"
	[ "$(dev_driver "$net")" = virtio-pci ] || skip "$net is not on virtio-pci"
	UNDO=$edu
	bind_to "$edu" vfio-pci
	capture "$IOMMUCTL" run "$(script "open $edu")"
	echo "$stderr"
	[ "$status" -eq 4 ]
	[[ $stderr == *"$edu: open: group "*" is not viable: its device $net is bound to kernel driver virtio-pci"* ]]
}

@test "a group with a sibling on pci-stub is viable, opens, and the device is blocked (the IOMMU reports it)" {
	read -r edu net < <(bridge_pair) || skip "no edu + virtio-net group here"
	need_fault_reports
	UNDO="$edu $net" UNDO_NET=1
	bind_to "$edu" vfio-pci
	bind_to "$net" pci-stub || skip "pci-stub does not take $net"
	capture "$IOMMUCTL" check "$edu"
	echo "$output"
	[ "$status" -eq 0 ]
	run "$IOMMUCTL" exec --bind "$edu" -- "$PROBE" --iommufd-fd '{iommufd}' --device-fd '{device:0}' --expect blocked
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"nothing landed; iommu fault reported: read yes, write yes"* ]]
}

@test "a two-device group: both must attach to the same IOAS, another process cannot open the sibling" {
	read -r edu net < <(bridge_pair) || skip "no edu + virtio-net group here"
	UNDO="$edu $net" UNDO_NET=1
	bind_to "$edu" vfio-pci
	bind_to "$net" vfio-pci
	f=$(script "open $edu" "open $net" "ioas alloc a" "ioas alloc b" "attach $edu a" "attach $net b")
	capture "$IOMMUCTL" run "$f"
	echo "$stderr"
	[ "$status" -eq 4 ]
	[[ $stderr == *":6: attach $net b: $net: attach to IOAS "*" (b): its group "*" sibling $edu is attached to "*" (a); every device of a group must use the same IOAS/HWPT"* ]]
	f=$(script "open $edu" "open $net" "ioas alloc a" "attach $edu a" "attach $net a" \
		"exec -- $PROBE --iommufd-fd {iommufd} --device-fd {device:0} --ioas {ioas} --expect translated" "state")
	capture "$IOMMUCTL" -j run "$f"
	[ "$status" -eq 0 ] || { echo "$output$stderr"; false; }
	jq -s -e --arg e "$edu" --arg n "$net" '.[-1].state.devices | map({(.address): .state}) | add
		| .[$e] == "attached" and .[$n] == "attached"' <<<"$output"
	# The first process owns the group: a second one cannot open the sibling.
	"$IOMMUCTL" exec --bind "$edu" -- sleep 60 &
	HOLDER=$!
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		[ "$(cat /proc/$HOLDER/comm 2>/dev/null)" = sleep ] && break
		sleep 0.5
	done
	capture "$IOMMUCTL" run "$(script "open $net")"
	echo "$stderr"
	[ "$status" -eq 4 ]
	[[ $stderr == *"$net: open: group "*" is owned by another process: its device $edu is open in pid $HOLDER (sleep)"* ]]
	# And state shows the holder of the sibling.
	capture "$IOMMUCTL" -j run --keep-going "$(script "open $net" "state")"
	jq -s -e --arg e "$edu" --arg n "$net" --argjson p "$HOLDER" '.[1].state.devices | map({(.address): .}) | add
		| .[$e].state == "vfio" and (.[$e].holders | length == 1 and .[0].pid == $p and .[0].command == "sleep"
			and .[0].node == "cdev" and (.[0].path | startswith("/dev/vfio/devices/vfio")))
		and .[$n].state == "vfio" and .[$n].holders == []' <<<"$output"
	kill "$HOLDER"; wait "$HOLDER" || true; HOLDER=
}

@test "no interrupt remapping: BIND is refused and the missing isolation is explained" {
	param=/sys/module/iommufd/parameters/allow_unsafe_interrupts
	[ "$(cat $param)" = Y ] || skip "interrupt remapping is present here (allow_unsafe_interrupts not needed)"
	echo N >$param || skip "cannot change allow_unsafe_interrupts"
	capture "$IOMMUCTL" run "$(script "open $EDU")"
	echo Y >$param
	echo "$stderr"
	[ "$status" -eq 7 ]
	[[ $stderr == *"$EDU: open: the kernel refuses to let user space own the group without MSI isolation: IOMMU "*"offers no interrupt remapping"*"allow_unsafe_interrupts is N"* ]]
}

@test "objects: named HWPT, copy, ranges, allow, file and huge-page memory, options, info, destroy" {
	# virtio-iommu (6.12) sizes a domain only when a device attaches: a HWPT
	# allocated before that leaves its IOAS one mappable IOVA, 0x0.
	capture "$IOMMUCTL" -j run "$(script "open $EDU" "ioas alloc t" "hwpt alloc $EDU t" "ioas ranges t")"
	[ "$status" -eq 0 ]
	if [ "$(jq -s -c '.[3].result.ranges' <<<"$output")" = '[{"start":"0x0","last":"0x0"}]' ]; then
		skip "IOMMU_HWPT_ALLOC here gives a domain with an empty aperture until attach: no usable HWPT"
	fi
	echo 4 >/proc/sys/vm/nr_hugepages
	truncate -s 64K /dev/shm/session-file
	f=$(script "open $EDU" "ioas alloc vm0" "ioas alloc src" \
		"ioas map src --iova 0x800000 --length 2M --hugepages" \
		"ioas map src --iova 0xa00000 --length 64K --file /dev/shm/session-file --readonly" \
		"ioas copy --iova 0x100000 vm0 src 0x800000 8K" \
		"ioas allow vm0 0x100000-0x7fffff" \
		"ioas map vm0 --length 4K" \
		"hwpt alloc $EDU vm0 hw0" \
		"attach $EDU hw0" \
		"exec -- $PROBE --iommufd-fd {iommufd} --device-fd {device:0} --ioas {ioas} --iova 0x200000 --expect translated" \
		"destroy hw0" \
		"info $EDU" \
		"option" \
		"ioas ranges vm0" \
		"ioas unmap vm0 0x100000 8K" \
		"ioas unmap src --all" \
		"detach $EDU" \
		"destroy hw0" \
		"destroy src" \
		"state")
	capture "$IOMMUCTL" -j run --keep-going "$f"
	rm -f /dev/shm/session-file
	echo 0 >/proc/sys/vm/nr_hugepages
	echo "$stderr"
	[ "$status" -eq 4 ] || { echo "$output"; false; }
	# Every line but the first destroy of hw0 (in use) succeeded.
	[ "$(jq -s -c '[.[] | select(.ok | not) | [.line, .error.errno_name, .error.exit_status]]' <<<"$output")" = '[[12,"EBUSY",4]]' ]
	jq -s -e '.[11].error.message | test("still in use: detach the devices")' <<<"$output"
	jq -s -e '.[3].result.memory == "hugepages" and .[4].result.memory == "file" and .[4].result.readonly
		and .[5].result == {"ioas": .[1].result.id, "iova": "0x100000", "length": 8192,
		                    "source_ioas": .[2].result.id, "source_iova": "0x800000"}
		and (.[7].result.iova | test("^0x[1-7][0-9a-f]{5}$"))
		and .[8].result.name == "hw0" and .[8].result.ioas == .[1].result.id
		and .[9].result.attached_to == .[8].result.id and .[9].result.hwpt == .[8].result.id
		and .[10].result.exit_status == 0
		and (.[12].result.iommu_type | type) == "string" and (.[12].result.capabilities | type) == "object"
		and .[12].result.kernel_features.ioas == true
		and .[13].result.rlimit_mode == "user" and (.[13].result.huge_pages | length) == 2
		and (.[14].result.ranges | length) >= 1
		and .[15].result.unmapped == 8192 and .[16].result.unmapped == 2162688
		and .[-1].state.objects == [{"id": .[1].result.id, "type": "ioas", "name": "vm0", "ioas": null, "device": null,
		    "dirty_tracking": false, "mappings": [{"iova": .[7].result.iova, "length": 4096, "readonly": false,
		    "memory": "anonymous", "file": null}], "devices": []}]' <<<"$output"
	# Dirty tracking where the IOMMU has it; refused and explained (7) where not.
	capture "$IOMMUCTL" -j run "$(script "open $EDU" "ioas alloc a" "info $EDU" "hwpt alloc $EDU a --dirty-tracking")"
	if [ "$(jq -s '.[2].result.capabilities.dirty_tracking' <<<"$output")" = 1 ]; then
		[ "$status" -eq 0 ]
	else
		[ "$status" -eq 7 ]
		jq -s -e '.[3].error.message | test("dirty tracking needs IOMMU support")' <<<"$output"
	fi
}

@test "without the iommufd module a session loads it; where it cannot, the message says so" {
	param=/sys/module/iommufd/parameters/allow_unsafe_interrupts
	unsafe=$(cat $param)
	unbind_to_default "$EDU"
	# Everything that holds iommufd, users first (a suite may have loaded a variant driver).
	mods=
	for m in virtio_vfio_pci vfio_pci vfio_pci_core vfio_iommu_type1 vfio iommufd; do
		[ -d "/sys/module/$m" ] && mods+=" $m"
	done
	# shellcheck disable=SC2086 # a list of module names
	if ! why=$(rmmod $mods 2>&1) || [ -e /dev/iommu ]; then
		for m in $mods; do modprobe "$m"; done
		bind_to "$EDU" vfio-pci
		skip "cannot unload iommufd here: $why"
	fi
	# No modprobe on the PATH: the module cannot be loaded, and the message says which.
	PATH=/nonexistent capture "$IOMMUCTL" run "$(script "ioas alloc a")"
	local nomod_status=$status nomod_stderr=$stderr
	# The normal case: the session loads iommufd itself, as bind loads vfio-pci.
	capture "$IOMMUCTL" run "$(script "ioas alloc a")"
	local loaded=no
	[ -e /dev/iommu ] && [ -d /sys/module/iommufd ] && loaded=yes
	for m in $mods; do modprobe "$m"; done
	echo "$unsafe" >$param
	bind_to "$EDU" vfio-pci
	echo "without modprobe: $nomod_status $nomod_stderr"
	[ "$nomod_status" -eq 7 ]
	[[ $nomod_stderr == *":1: ioas alloc a: /dev/iommu: open: /dev/iommu does not exist: the iommufd module is not loaded (modprobe iommufd)"* ]]
	echo "with modprobe: $status $stderr"
	[ "$status" -eq 0 ]
	[ "$loaded" = yes ]
}
