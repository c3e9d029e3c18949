#!/usr/bin/env bats
# libiommufd objects half against the real kernel, topology "basic"
# (intel-iommu with interrupt remapping).  Runs as root in the guest:
#   tests/vm/run-vm.sh basic bats tests/vm/suites/objects.bats
# The driver tests/vm/objects-test.c is compiled here (the guest sees the
# host's compiler through the root share) against build/libiommufd.a, or
# taken from $OBJECTS_TEST.  It prints "step=result" lines; results are 0,
# a value, or the errno name the library returned.

LONE=0000:00:03.0       # edu alone in its group
BR_EDU=0000:01:01.0     # edu behind the pcie-pci-bridge ...
BR_NET=0000:01:02.0     # ... grouped with virtio-net on its kernel driver

vfio_bind() {
	echo vfio-pci >"/sys/bus/pci/devices/$1/driver_override"
	if [ -e "/sys/bus/pci/devices/$1/driver" ]; then
		echo "$1" >"/sys/bus/pci/devices/$1/driver/unbind"
	fi
	echo "$1" >/sys/bus/pci/drivers_probe
	[ -d "/sys/bus/pci/devices/$1/vfio-dev" ]
}

kernel_bind() {
	echo >"/sys/bus/pci/devices/$1/driver_override"
	if [ -e "/sys/bus/pci/devices/$1/driver" ]; then
		echo "$1" >"/sys/bus/pci/devices/$1/driver/unbind"
	fi
	echo "$1" >/sys/bus/pci/drivers_probe
}

setup_file() {
	cd "$BATS_TEST_DIRNAME/../../.." || return 1
	if [ -n "${OBJECTS_TEST:-}" ]; then
		export OT=$OBJECTS_TEST
	else
		export OT=$BATS_FILE_TMPDIR/objects-test
		cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iinclude tests/vm/objects-test.c \
			build/libiommufd.a -lpci -ljson-c -o "$OT"
	fi
	[ -e /dev/iommu ] || { echo "no /dev/iommu in the guest" >&2; return 1; }
	vfio_bind $LONE
	vfio_bind $BR_EDU
}

# "key=value" from the last run's output.
val() {
	local line
	for line in "${lines[@]}"; do
		[ "${line%%=*}" = "$1" ] && { printf '%s\n' "${line#*=}"; return 0; }
	done
	echo "no $1 in output" >&2
	return 1
}

expect() {
	local got
	got=$(val "$1") || return 1
	[ "$got" = "$2" ] || { echo "$1: expected $2, got $got" >&2; return 1; }
}

@test "open binds the cdev to the iommufd and leaves the device blocked" {
	run "$OT" lifecycle $LONE
	echo "$output"
	[ "$status" -eq 0 ]
	expect open 0
	[ "$(val dev_id)" -gt 0 ]
	[[ $(val cdev) == /dev/vfio/devices/vfio* ]]
	expect state_after_open blocked
}

@test "IOAS: alloc, ranges (two calls), allow, fixed and kernel-chosen maps, copy" {
	run "$OT" lifecycle $LONE
	[ "$status" -eq 0 ]
	# An empty IOAS offers the whole space, the MSI window included.
	expect ranges_empty_first_call EMSGSIZE
	expect ranges_empty_has_0xfee00000 1
	expect allow_iovas 0
	expect map_fixed 0
	expect map_fixed_iova 0x100000
	expect map_fixed_again EEXIST
	expect map_no_access EINVAL
	expect map_auto 0
	expect map_auto_in_allowed 1
	expect copy 0
	expect copy_unmapped_src ENOENT
}

@test "attach returns a HWPT; the device's reserved MSI window leaves the IOAS" {
	run "$OT" lifecycle $LONE
	[ "$status" -eq 0 ]
	expect attach 0
	[ "$(val attach_hwpt)" -gt 0 ]
	expect state_after_attach attached
	expect attach_twice EBUSY
	expect ranges_attached_has_0xfee00000 0
}

@test "reserved region: the MSI window cannot be mapped, allowed, or mapped before attach" {
	run "$OT" lifecycle $LONE
	[ "$status" -eq 0 ]
	# A fixed map over a reserved region: EINVAL (iopt_check_iova in 6.12).
	expect map_msi_window EINVAL
	expect allow_msi_window EADDRINUSE
	# Mapped while no device is attached, then attach: EADDRINUSE.
	expect map_msi_unattached 0
	expect attach_over_msi_map EADDRINUSE
	expect state_after_failed_attach blocked
}

@test "destroy of an attached IOAS or HWPT is EBUSY" {
	run "$OT" lifecycle $LONE
	[ "$status" -eq 0 ]
	expect destroy_attached_ioas EBUSY
	expect destroy_attached_hwpt EBUSY
}

@test "HWPT alloc, replace to it and back, detach to blocked" {
	run "$OT" lifecycle $LONE
	[ "$status" -eq 0 ]
	expect hwpt_alloc 0
	[ "$(val replace_hwpt)" = "$(val hwpt_alloc_id)" ]
	expect replace_to_ioas 0
	expect detach 0
	expect state_after_detach blocked
	expect detach_twice EINVAL
	expect replace_blocked EINVAL
}

@test "unmap a range, unmap all, destroy everything" {
	run "$OT" lifecycle $LONE
	[ "$status" -eq 0 ]
	expect unmap_range 0
	expect unmap_range_bytes 8192
	expect unmap_range_again ENOENT
	expect unmap_all 0
	expect unmap_all_bytes 8192	# the kernel-chosen map
	expect destroy_hwpt 0
	expect destroy_a 0
	expect destroy_a_again ENOENT
	expect destroy_b_with_copy 0
}

@test "hw_info on intel-iommu decodes VT-d capability bits" {
	run "$OT" hwinfo $LONE
	echo "$output"
	[ "$status" -eq 0 ]
	expect hw_info 0
	expect type intel-vtd
	[[ $(val vtd_regs) == cap=0x* ]]
	expect interrupt_remapping 1
	expect queued_invalidation 1
	[ "$(val mgaw)" -ge 39 ]
	# Dirty tracking: the HWPT flag agrees with the capability bit.
	if [ "$(val dirty_tracking)" = 1 ]; then expect hwpt_alloc_dirty 0; else expect hwpt_alloc_dirty EOPNOTSUPP; fi
	expect supports_ioas 1
	expect supports_hwpt_alloc 1
	expect supports_hw_info 1
	expect supports_dirty_tracking 1
}

@test "options: RLIMIT mode and per-IOAS huge pages; MAP_FILE by feature detection; adopt" {
	run "$OT" options $LONE
	echo "$output"
	[ "$status" -eq 0 ]
	expect rlimit_mode user
	expect rlimit_set_process 0
	expect rlimit_mode2 process
	expect huge_pages 1
	expect huge_set_off 0
	expect huge_pages2 0
	expect huge_unknown_ioas ENOENT
	if [ "$(val supports_map_file)" = 1 ]; then expect map_file 0; else expect map_file EOPNOTSUPP; fi
	expect adopt 0
	expect adopted_sees_ioas 0
}

@test "huge pages from the helper map and attach" {
	echo 4 >/proc/sys/vm/nr_hugepages
	run "$OT" huge $LONE
	echo "$output"
	[ "$status" -eq 0 ]
	expect unmap_all_bytes $((4 << 20))
}

@test "BIND of a device whose group has a sibling on a kernel driver fails" {
	[ -e /sys/bus/pci/devices/$BR_NET/driver ]
	run "$OT" open $BR_EDU
	echo "$output"
	expect open EPERM
}

@test "two devices of one group cannot attach to different IOAS" {
	vfio_bind $BR_NET
	run "$OT" split $BR_EDU $BR_NET
	echo "$output"
	kernel_bind $BR_NET
	[ "$status" -eq 0 ]
	expect attach_second_b EINVAL
	expect attach_second_a 0
	expect same_hwpt 1
}

@test "the sibling is back on its kernel driver" {
	[ "$(basename "$(readlink /sys/bus/pci/devices/$BR_NET/driver)")" = virtio-pci ]
}
