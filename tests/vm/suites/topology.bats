#!/usr/bin/env bats
# iommuctl list/check against the guest kernel's own sysfs, for any topology.
# Runs as root in a guest, e.g.
#   tests/vm/run-vm.sh basic bats --tap tests/vm/suites/topology.bats
# Every expectation is computed from sysfs here (lib.bash), never copied from
# iommuctl.  Tests that change bindings put them back in teardown.
#
# Under TCG each process start costs 0.1-0.5 s, so the tests call iommuctl
# and jq as few times as they can: don't "simplify" into one jq per field.

bats_require_minimum_version 1.5.0
load lib

setup_file() {
	[ -x "$IOMMUCTL" ] || { echo "no binary at IOMMUCTL=$IOMMUCTL" >&2; return 1; }
}

# A test that rebinds a device names it in UNDO; this puts it back on the
# driver the kernel picks (none for edu, virtio-pci for virtio-net).
teardown() {
	local bdf
	for bdf in ${UNDO:-}; do unbind_to_default "$bdf"; done
	if [ -n "${UNDO_DRV:-}" ] && [ -n "${UNDO:-}" ]; then bind_to "$UNDO" "$UNDO_DRV" || true; fi
	if [ -n "${UNDO_NET:-}" ] && [ -n "${VM_TOPOLOGY_FILE:-}" ]; then "$BATS_TEST_DIRNAME/../guest-init.sh" net || true; fi
}

# "driver vfio_cdev verdict group_viable" of device $1 in list -j output $2.
device_facts() {
	jq -r --arg a "$1" '.groups[] | .viable as $v | .devices[] | select(.address == $a)
		| "\(.driver) \(.vfio_cdev) \(.verdict) \($v)"' <<<"$2"
}

# What the topology file documents: "groups" (TOPO_GROUPS, one a line) or
# "type" (TOPO_GROUP_TYPE).
topology_says() {
	# shellcheck source=/dev/null
	. "$VM_TOPOLOGY_FILE"
	case $1 in
	groups) [ "${#TOPO_GROUPS[@]}" -eq 0 ] || printf '%s\n' "${TOPO_GROUPS[@]}" ;;
	type) echo "${TOPO_GROUP_TYPE:-}" ;;
	esac
}

# "N: BDF BDF..." per group, from sysfs.
groups_and_members() {
	local d m members
	for d in "$SYS"/kernel/iommu_groups/*; do
		[ -d "$d" ] || continue
		members=
		for m in "$d"/devices/*; do members+=" ${m##*/}"; done
		echo "${d##*/}:$members"
	done
}

# A virtio-net device with an IOMMU group (not one of the lab's devices).
find_virtio_net() {
	local d b v c
	for d in "$SYS"/bus/pci/devices/*; do
		b=${d##*/}
		[[ " $LAB_DEVICES " == *" $b "* ]] && continue
		read -r v <"$d/vendor"
		read -r c <"$d/class"
		[ "$v:$c" = 0x1af4:0x020000 ] && [ -e "$d/iommu_group" ] && { echo "$b"; return 0; }
	done
	return 0
}

@test "the guest shows the groups its topology file documents" {
	[ -n "${VM_TOPOLOGY_FILE:-}" ] || skip "not started by run-vm.sh"
	want=$(untraced topology_says groups)
	[ -n "$want" ] || skip "$VM_TOPOLOGY documents no groups"
	got=$(untraced groups_and_members | sort -n)
	[ "$want" = "$got" ] || { diff -u <(echo "$want") <(echo "$got"); false; }
	type=$(untraced topology_says type)
	if [ -n "$type" ]; then
		got=$(cat "$SYS"/kernel/iommu_groups/*/type | sort -u)
		[ "$got" = "$type" ] || { echo "group types: $got; expected $type"; false; }
	fi
}

@test "list -j matches sysfs: groups, members, ids, drivers, cdevs" {
	capture "$IOMMUCTL" list -j
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	json_same "$(sysfs_groups)" "$output"
}

@test "check -j matches sysfs and exits 0 exactly when it says every group is viable" {
	# Whether each group is viable is the kernel's to say (the vfio-verdict
	# test below); here: the facts, and the overall answer agreeing with
	# the groups' and with the exit status.
	capture "$IOMMUCTL" check -j
	json_same "$(sysfs_groups)" "$output"
	overall=$(jq -r '"\(.viable) \(.groups | map(.viable) | all)"' <<<"$output")
	case $overall in
	"true true") [ "$status" -eq 0 ] ;;
	"false false") [ "$status" -eq 1 ] ;;
	*) echo "overall and per-group viability disagree: $overall"; false ;;
	esac
}

@test "check -j GROUP answers for that group alone, with its exit status" {
	capture "$IOMMUCTL" check -j
	all=$output
	# "id viable" per group, as the whole answer gives it.
	mapfile -t want < <(jq -r '.groups[] | "\(.id) \(.viable)"' <<<"$all")
	[ "${#want[@]}" -gt 0 ] || skip "no IOMMU groups"
	# At most 16 calls (0.45 s each with ASan under TCG): every group on
	# small topologies, a spread on big ones.
	step=$(( (${#want[@]} + 15) / 16 ))
	sample=()
	for ((n = 0; n < ${#want[@]}; n += step)); do sample+=("${want[$n]}"); done
	outs=$BATS_TEST_TMPDIR/outs
	: >"$outs"
	for e in "${sample[@]}"; do
		g=${e% *}
		rc=0
		"$IOMMUCTL" check -j "$g" >>"$outs" || rc=$?
		if [ "${e#* }" = true ]; then want_rc=0; else want_rc=1; fi
		[ "$rc" = "$want_rc" ] || { echo "check -j $g exited $rc, expected $want_rc"; false; }
	done
	# Each answer names exactly its group, with the expected viability.
	got=$(jq -r '"\([.groups[].id] | map(tostring) | join(",")) \(.viable)"' "$outs")
	[ "$got" = "$(printf '%s\n' "${sample[@]}")" ] || { diff -u <(printf '%s\n' "${sample[@]}") <(echo "$got"); false; }
}

# One device per group that vfio-pci can take (a type-0 header: vfio-pci
# refuses bridges), with its driver: "GROUP BDF DRIVER" a line.  The lab's
# 9p devices are left alone (the guest's root is on one).
vfio_candidates() {
	local gdir m bdf h
	scan_drivers
	for gdir in "$SYS"/kernel/iommu_groups/*; do
		[ -d "$gdir" ] || continue
		for m in "$gdir"/devices/*; do
			bdf=${m##*/}
			[[ " $LAB_DEVICES " == *" $bdf "* ]] && continue 2
		done
		for m in "$gdir"/devices/*; do
			bdf=${m##*/}
			h=$(od -An -tx1 -j14 -N1 "$SYS/bus/pci/devices/$bdf/config" | tr -d ' ')
			[ $((0x$h & 0x7f)) = 0 ] || continue
			echo "${gdir##*/} $bdf ${DRIVER_OF[$bdf]:-}"
			break
		done
	done
}

@test "check's verdict of every group is the kernel's: VFIO_GROUP_GET_STATUS viable and a cdev BIND (ok or EPERM)" {
	[ -d "$SYS/bus/pci/drivers/vfio-pci" ] || skip "vfio-pci is not loaded in this topology"
	[ -e /dev/iommu ] || skip "no /dev/iommu"
	verdict=${DMA_PROBE:+${DMA_PROBE%/*}/vfio-verdict}
	[ -x "${verdict:-}" ] || verdict=$BATS_TEST_DIRNAME/../../../build/vfio-verdict
	[ -x "$verdict" ] || skip "no vfio-verdict helper (make probe)"
	mapfile -t cands < <(untraced vfio_candidates)
	[ "${#cands[@]}" -gt 0 ] || skip "no group with a device vfio-pci can take"
	step=$(( (${#cands[@]} + 11) / 12 ))	# at most 12 groups (each costs a rebind and 3 processes)
	mism= asked=0
	for ((n = 0; n < ${#cands[@]}; n += step)); do
		read -r g bdf drv <<<"${cands[$n]}"
		# iommuctl's verdict with bdf assumed on vfio-pci...
		rc=0
		"$IOMMUCTL" check -j --assume-vfio "$bdf" >"$BATS_TEST_TMPDIR/c.json" || rc=$?
		mine=$(jq -r '.viable' "$BATS_TEST_TMPDIR/c.json")
		# ...and the kernel's, with bdf really on vfio-pci.
		UNDO_DRV=$drv UNDO=$bdf
		[ "$drv" = vfio-pci ] || bind_to "$bdf" vfio-pci || { echo "cannot bind $bdf to vfio-pci"; false; }
		kernel=$("$verdict" "$bdf") || { echo "vfio-verdict $bdf failed"; false; }
		if [ "$drv" != vfio-pci ]; then
			unbind_to_default "$bdf"
			[ -z "$drv" ] || [ "$(dev_driver "$bdf")" = "$drv" ] || bind_to "$bdf" "$drv"
		fi
		UNDO= UNDO_DRV=
		echo "group $g ($bdf, on ${drv:-no driver}): check says viable=$mine (exit $rc); kernel: $kernel"
		case $kernel in
		"group $g viable yes bind ok") want=true ;;
		"group $g viable no bind EPERM") want=false ;;
		*) mism+=" $g(kernel disagrees with itself: $kernel)"; continue ;;
		esac
		[ "$mine" = "$want" ] || mism+=" $g"
		[ "$rc" = "$([ "$want" = true ] && echo 0 || echo 1)" ] || mism+=" $g(exit $rc)"
		asked=$((asked + 1))
	done
	[ "$asked" -gt 0 ]
	[ -z "$mism" ] || { echo "check disagrees with the kernel on:$mism"; false; }
	# The NIC may have lost its address and route in the rebind.
	[ -z "${VM_TOPOLOGY_FILE:-}" ] || "$BATS_TEST_DIRNAME/../guest-init.sh" net || true
}

@test "binding a lone edu to vfio-pci shows driver vfio-pci and its cdev; unbinding reverts" {
	[ -d "$SYS/bus/pci/drivers/vfio-pci" ] || skip "vfio-pci is not loaded in this topology"
	bdf=$(find_lone_edu)
	[ -n "$bdf" ] || skip "no driver-less edu here"
	UNDO=$bdf
	bind_to "$bdf" vfio-pci
	node=$(echo "$SYS/bus/pci/devices/$bdf"/vfio-dev/vfio*)
	node=/dev/vfio/devices/${node##*/}
	[ -c "$node" ]

	capture "$IOMMUCTL" list -j
	[ "$status" -eq 0 ]
	[ "$(device_facts "$bdf" "$output")" = "vfio-pci $node vfio true" ]
	json_same "$(sysfs_groups)" "$output"

	unbind_to_default "$bdf"
	UNDO=
	capture "$IOMMUCTL" list -j -d "$bdf"
	[ "$status" -eq 0 ]
	[ "$(device_facts "$bdf" "$output")" = "null null driver-less true" ]
}

@test "a vfio-pci variant driver (virtio_vfio_pci) counts as VFIO" {
	[ -d "$SYS/bus/pci/drivers/vfio-pci" ] || skip "vfio-pci is not loaded in this topology"
	bdf=$(untraced find_virtio_net)
	[ -n "$bdf" ] || skip "no virtio-net device with a group here"
	modprobe virtio-vfio-pci || skip "no virtio-vfio-pci module"
	old=$(dev_driver "$bdf")
	UNDO=$bdf UNDO_NET=1
	bind_to "$bdf" virtio_vfio_pci
	[ -e "$SYS/module/vfio_pci_core/holders/virtio_vfio_pci" ]

	capture "$IOMMUCTL" check -j
	facts=$(device_facts "$bdf" "$output")
	[[ $facts == "virtio_vfio_pci /dev/vfio/devices/vfio"*" vfio "* ]] || { echo "$facts"; false; }
	json_same "$(sysfs_groups)" "$output"

	unbind_to_default "$bdf"
	UNDO= UNDO_NET=
	[ "$(dev_driver "$bdf")" = "$old" ]
	# The interface is back without the topology's address and route.
	[ -z "${VM_TOPOLOGY_FILE:-}" ] || "$BATS_TEST_DIRNAME/../guest-init.sh" net
}

@test "without vfio-pci loaded no device has a cdev and nothing is on a VFIO driver" {
	[ ! -d "$SYS/bus/pci/drivers/vfio-pci" ] || skip "vfio-pci is loaded"
	[ ! -e /dev/iommu ]
	capture "$IOMMUCTL" list -j
	[ "$status" -eq 0 ]
	[ "$(jq '[.groups[].devices[] | select(.vfio_cdev != null or .verdict == "vfio")] | length' <<<"$output")" = 0 ]
}

@test "snapshot: --sysroot on the extracted tarball reads exactly what the live system shows" {
	out=$BATS_FILE_TMPDIR/snap
	"$IOMMUCTL" snapshot "$out.tar" >/dev/null
	mkdir -p "$out"
	tar -xf "$out.tar" -C "$out"
	live=$("$IOMMUCTL" list -j)
	capture "$IOMMUCTL" --sysroot "$out" list -j
	[ "$status" -eq 0 ]
	[ "$live" = "$output" ] || { diff -u <(echo "$live") <(echo "$output") | head -40; false; }

	# Hand the snapshot and the live answers to the host half
	# (tests/vm/host/snapshot.bats), which reads the snapshot back there.
	if [ -d /results ] && [ -w /results ]; then
		cp "$out.tar" /results/snap.tar
		echo "$live" >/results/snap-list.json
		"$IOMMUCTL" check -j >/results/snap-check.json || true
		devs=("$SYS"/bus/pci/devices/*)
		"$IOMMUCTL" show -j "${devs[@]##*/}" >/results/snap-show.json
	fi
}
