#!/usr/bin/env bats
# iommuctl doctor on the doctor-* fixture hosts: the verdict of every check,
# the exit status (1 when a check failed, 0 with warnings alone) and whole
# outputs against golden files.

load helpers

setup_file() {
	fixtures_setup
}

# verdicts HOST STATUS: run doctor -j on HOST, expect STATUS, leave the JSON in $output.
doctor_json() {
	run --separate-stderr ictl "$1" doctor -j
	assert_status "$2" || return 1
	[ -z "$stderr" ] || fail_with "unexpected stderr: $stderr"
}

# verdict ID VERDICT: the check ID has VERDICT in $output.
verdict() {
	jq_eq ".checks[] | select(.id == \"$1\") | .verdict" "\"$2\""
}

@test "doctor: JSON shape is the same on every host" {
	for host in doctor-ready doctor-disabled noiommu-bare; do
		run --separate-stderr ictl "$host" doctor -j
		jq_eq '[keys, (.checks | map(.id)), (.checks[0] | keys), (.summary | keys)]' \
			'[["checks","features","kernel","summary"],["iommu_hardware","iommu_enabled","default_domains","interrupt_remapping","kernel_cmdline","iommufd","vfio_cdev","vfio_pci","memlock","hugepages","kernel_features"],["id","observed","remedy","title","verdict"],["fail","ok","pass","warn"]]'
	done
}

@test "doctor-ready: everything passes, exit 0" {
	doctor_json doctor-ready 0
	jq_eq '[.checks[] | select(.verdict != "pass") | .id]' '["kernel_features"]'
	jq_eq '.summary' '{"pass":10,"warn":1,"fail":0,"ok":true}'
	jq_eq '.kernel' '"6.12.117"'
	jq_eq '[.checks[] | select(.verdict == "pass") | .remedy] | unique' '[null]'
}

@test "doctor-ready: text and JSON" {
	assert_golden doctor-ready doctor.txt 0 doctor
	assert_golden doctor-ready doctor.json 0 doctor -j
}

@test "doctor-passthrough: identity, iommu=pt, ACS override, memlock and huge pages warn; exit 0" {
	doctor_json doctor-passthrough 0
	verdict default_domains warn
	verdict kernel_cmdline warn
	verdict memlock warn
	verdict hugepages warn
	verdict interrupt_remapping pass
	verdict iommufd pass
	jq_ok '.checks[] | select(.id == "kernel_cmdline") | .observed | test("iommu=pt") and test("pcie_acs_override")'
	jq_eq '.summary.fail' 0
}

@test "doctor-nomodules: modules in modules.dep are loaded on first use, not failures; exit 0" {
	doctor_json doctor-nomodules 0
	verdict iommufd pass
	verdict vfio_pci pass
	# vfio is not loaded and no kernel config is readable: cdevs unknown.
	verdict vfio_cdev warn
	verdict memlock pass
	verdict hugepages pass
	jq_ok '.checks[] | select(.id == "iommufd") | .observed | test("loaded on first use")'
	jq_ok '.checks[] | select(.id == "vfio_pci") | .observed | test("loaded on first use")'
	jq_ok '.checks[] | select(.id == "vfio_cdev") | .observed | test("CONFIG_VFIO_DEVICE_CDEV")'
	jq_eq '.summary.fail' 0
	jq_eq '.features' '{"vfio_device_cdev":false,"ioas":false,"hwpt_alloc":false,"hw_info":false,"dirty_tracking":false,"map_file":false}'
}

@test "doctor-nomodules-config: the kernel's config tells that vfio will have cdevs; every module check passes" {
	doctor_json doctor-nomodules-config 0
	verdict iommufd pass
	verdict vfio_cdev pass
	verdict vfio_pci pass
	jq_ok '.checks[] | select(.id == "vfio_cdev") | .observed | test("CONFIG_VFIO_DEVICE_CDEV=y")'
	jq_eq '.summary.fail' 0
}

@test "doctor: a kernel config without CONFIG_VFIO_DEVICE_CDEV fails vfio_cdev; exit 1" {
	local root="$BATS_TEST_TMPDIR/nocdev"
	cp -a "$IOMMUCTL_FIXTURES/doctor-nomodules-config" "$root"
	printf 'CONFIG_VFIO=m\n# CONFIG_VFIO_DEVICE_CDEV is not set\n' >"$root/boot/config-6.12.117"
	run -1 "$IOMMUCTL" --sysroot "$root" doctor -j
	jq -e '.checks[] | select(.id == "vfio_cdev") | .verdict == "fail" and (.observed | test("no CONFIG_VFIO_DEVICE_CDEV"))' <<<"$output"
}

@test "doctor-disabled: firmware IOMMU turned off on the command line; exit 1" {
	doctor_json doctor-disabled 1
	verdict iommu_hardware fail
	verdict iommu_enabled fail
	verdict interrupt_remapping fail
	verdict kernel_cmdline fail
	jq_ok '.checks[] | select(.id == "kernel_cmdline") | .observed | test("intel_iommu=off") and test("iommu=bogus \\(not a valid value\\)")'
	assert_golden doctor-disabled doctor.json 1 doctor -j
}

@test "doctor-virtio: VIOT, no interrupt remapping but allow_unsafe_interrupts: warnings; exit 0" {
	doctor_json doctor-virtio 0
	verdict iommu_hardware pass
	verdict interrupt_remapping warn
	verdict kernel_cmdline warn
	jq_ok '.checks[] | select(.id == "iommu_hardware") | .observed | test("VIOT")'
}

@test "doctor: a host without IOMMU fails, a tree without proc warns instead of erroring" {
	doctor_json noiommu-bare 1
	verdict iommu_hardware fail
	verdict iommu_enabled fail
	verdict kernel_cmdline warn
	jq_eq '.kernel' null
}

@test "doctor: takes no arguments" {
	run --separate-stderr ictl doctor-ready doctor extra
	assert_error 2 "iommuctl: doctor: takes no arguments" "Try 'iommuctl doctor --help'."
}
