#!/usr/bin/env bats
# Real QEMU takes the device (nested QEMU inside the guest, TCG in TCG), in
# the four ways an operator hands it over, one root-port edu each, all four
# started at once in setup_file and waited for together:
#   a  QEMU 10, the README's line: iommuctl exec --open DEV -- qemu ...
#      -object iommufd,id=i0,fd={iommufd} -device vfio-pci,iommufd=i0,fd={device:0}
#   b  QEMU 10, exec with only {iommufd}: -device vfio-pci,host=DEV,iommufd=i0
#   c  QEMU 10 alone, opening /dev/iommu and the cdev itself
#   d  QEMU 7.2 (the system's), legacy: group node /dev/vfio/N and container
# Proof that QEMU realized the device: QMP query-pci lists 1234:11e8; proof
# that the nested guest saw it: SeaBIOS's debug port prints
# "PCI: init bdf=... id=1234:11e8".  While QEMU holds the device, list,
# show, check and a second open name QEMU's pid and the node it holds;
# after it exits the device is free and DMA through it works again.
# Needs the qemu-client topology (3 GiB, QEMU10_ROOT from the host).

bats_require_minimum_version 1.5.0
load lib

CASES="a b c d"
declare -gA DEV=([a]=0000:02:00.0 [b]=0000:03:00.0 [c]=0000:04:00.0 [d]=0000:05:00.0)
declare -gA NODE=([a]=cdev [b]=cdev [c]=cdev [d]=group)

nested_args() {
	local w=$BATS_FILE_TMPDIR/$1
	echo -machine q35,accel=tcg -m 128 -nodefaults -vga none -display none -nic none -serial none \
		-monitor none -no-user-config -chardev "file,id=d,path=$w.debug" \
		-device isa-debugcon,iobase=0x402,chardev=d -qmp "unix:$w.qmp,server=on,wait=off"
}

start_nested() {
	local c=$1
	shift
	# exec: bats' traps would otherwise keep a bash between $! and QEMU.
	(exec "$@") >"$BATS_FILE_TMPDIR/$c.log" 2>&1 &
	echo $! >"$BATS_FILE_TMPDIR/$c.pid"
}

setup_file() {
	cd "$BATS_TEST_DIRNAME/../../.." || return 1
	export PROBE=${DMA_PROBE:-$PWD/build/dma-probe}
	{ [ -x "$PROBE" ] && [ -e /dev/iommu ]; } || { echo "no probe or no /dev/iommu" >&2; return 1; }
	[ -n "${QEMU10_ROOT:-}" ] || { echo "QEMU10_ROOT is not set (the qemu-client topology sets it)" >&2; return 1; }
	local c q10=$PWD/tests/vm/qemu10.sh
	for c in $CASES; do bind_to "${DEV[$c]}" vfio-pci || return 1; done
	date +%s >"$BATS_FILE_TMPDIR/t0"
	# shellcheck disable=SC2046
	start_nested a "$IOMMUCTL" exec --open "${DEV[a]}" -- "$q10" $(nested_args a) \
		-object 'iommufd,id=i0,fd={iommufd}' -device 'vfio-pci,iommufd=i0,fd={device:0}'
	# shellcheck disable=SC2046
	start_nested b "$IOMMUCTL" exec -- "$q10" $(nested_args b) \
		-object 'iommufd,id=i0,fd={iommufd}' -device "vfio-pci,host=${DEV[b]},iommufd=i0"
	# shellcheck disable=SC2046
	start_nested c "$q10" $(nested_args c) -object iommufd,id=i0 -device "vfio-pci,host=${DEV[c]},iommufd=i0"
	# shellcheck disable=SC2046
	start_nested d qemu-system-x86_64 $(nested_args d) -device "vfio-pci,host=${DEV[d]}"
}

teardown_file() {
	local c p
	for c in $CASES; do
		p=$(cat "$BATS_FILE_TMPDIR/$c.pid" 2>/dev/null) && kill "$p" 2>/dev/null
	done
	sleep 1
	for c in $CASES; do unbind_to_default "${DEV[$c]}"; done
}

# query-pci over QMP, as one JSON document.
qmp_query_pci() {
	python3 - "$1" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(60)
s.connect(sys.argv[1])
f = s.makefile("rw")
json.loads(f.readline())
for cmd in ({"execute": "qmp_capabilities"}, {"execute": "query-pci"}):
    f.write(json.dumps(cmd) + "\n")
    f.flush()
    while True:
        r = json.loads(f.readline())
        if "return" in r or "error" in r:
            break
print(json.dumps(r))
PY
}

# Wait until case $1's nested SeaBIOS enumerated the edu (or QEMU died).
wait_nested() {
	local c=$1 pid deadline=$(($(date +%s) + ${NESTED_TIMEOUT:-420}))
	pid=$(cat "$BATS_FILE_TMPDIR/$c.pid")
	while ! grep -q 'PCI: init bdf=.* id=1234:11e8' "$BATS_FILE_TMPDIR/$c.debug" 2>/dev/null; do
		if ! kill -0 "$pid" 2>/dev/null || [ "$(date +%s)" -ge $deadline ]; then
			echo "case $c: QEMU $pid gone or too slow; its log:"; cat "$BATS_FILE_TMPDIR/$c.log"
			return 1
		fi
		sleep 2
	done
	echo "case $c: SeaBIOS enumerated the edu $(($(date +%s) - $(cat "$BATS_FILE_TMPDIR/t0"))) s after start"
}

# Everything a case shows while QEMU holds its device, then after it exits.
held_then_free() {
	local c=$1 dev=${DEV[$1]} node=${NODE[$1]} pid group
	pid=$(cat "$BATS_FILE_TMPDIR/$c.pid")
	wait_nested "$c"
	grep 'PCI: init bdf=.* id=1234:11e8' "$BATS_FILE_TMPDIR/$c.debug"
	qmp_query_pci "$BATS_FILE_TMPDIR/$c.qmp" >"$BATS_FILE_TMPDIR/$c.pci"
	jq -e '[.return[].devices[] | select(.id.vendor == 4660 and .id.device == 4584)] | length == 1' \
		"$BATS_FILE_TMPDIR/$c.pci" || { cat "$BATS_FILE_TMPDIR/$c.pci"; false; }
	echo "case $c: pid $pid, comm $(cat /proc/"$pid"/comm)"
	[ "$(cat /proc/"$pid"/comm)" = qemu-system-x86 ]
	group=$(readlink "/sys/bus/pci/devices/$dev/iommu_group"); group=${group##*/}

	# list: the device's holders name QEMU and the node; the group is owned by it.
	capture "$IOMMUCTL" list -j -d "$dev"
	[ "$status" -eq 0 ]
	jq -e --arg d "$dev" --argjson p "$pid" --arg n "$node" '.groups[0] | .owned and
		(.owners | map(.pid) | index($p) != null) and
		(.devices[] | select(.address == $d) | .holders | any(.pid == $p and .command == "qemu-system-x86" and .node == $n))' <<<"$output" ||
		{ echo "$output"; false; }
	capture "$IOMMUCTL" list -d "$dev"
	echo "$output"
	[[ $output == *"owned: $pid qemu-system-x86"* ]]
	# show DEV: the holder, with the node it holds.
	capture "$IOMMUCTL" show "$dev"
	[[ $output == *"pid: $pid"* && $output == *"command: qemu-system-x86"* && $output == *"node: $node"* ]] ||
		{ echo "$output"; false; }
	# check: viable, and owned by QEMU.
	capture "$IOMMUCTL" check "$dev"
	echo "$output"
	[ "$status" -eq 0 ]
	if [ "$node" = cdev ]; then
		[[ $output == *"note: group $group is owned by pid $pid (qemu-system-x86): it holds the cdev /dev/vfio/devices/vfio"*" of $dev"* ]]
	else
		[[ $output == *"note: group $group is owned by pid $pid (qemu-system-x86): it holds the group node /dev/vfio/$group"* ]]
	fi
	# A second open is refused by the kernel, and iommuctl names QEMU.
	capture "$IOMMUCTL" run "$(printf 'open %s\n' "$dev" >"$BATS_TEST_TMPDIR/s" && echo "$BATS_TEST_TMPDIR/s")"
	echo "$stderr"
	[ "$status" -eq 4 ]
	[[ $stderr == *"pid $pid (qemu-system-x86)"* ]]
	if [ "$node" = group ]; then
		[[ $stderr == *"held through the legacy group node /dev/vfio/$group by pid $pid"* ]]
	else
		[[ $stderr == *"through /dev/vfio/devices/vfio"* ]]
	fi

	# QEMU exits: nothing holds the device, the group is free, DMA works.
	kill "$pid"
	for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
	! kill -0 "$pid" 2>/dev/null
	capture "$IOMMUCTL" list -j -d "$dev"
	jq -e '.groups[0] | .owned == false and .owners == [] and (.devices[0].holders == [])' <<<"$output" ||
		{ echo "$output"; false; }
	run "$PROBE" --device "$dev" --until attach --expect translated
	echo "$output"
	[ "$status" -eq 0 ]
	run "$PROBE" --device "$dev" --until bind --expect blocked
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "a: the README's exec line with QEMU 10: an unbound cdev fd that QEMU binds and realizes" {
	held_then_free a
}

@test "b: exec with only {iommufd}: QEMU 10 opens the cdev itself (host=DEV)" {
	held_then_free b
}

@test "c: QEMU 10 alone opens /dev/iommu and the cdev" {
	held_then_free c
}

@test "d: QEMU 7.2 legacy (group node and container): the device names it as holder through the group node" {
	held_then_free d
}
