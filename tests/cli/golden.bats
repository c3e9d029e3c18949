#!/usr/bin/env bats
# Whole outputs compared with tests/fixtures/golden/<host>/<name>.
# Regenerate deliberately with tests/cli/update-golden.sh and review the diff.

load helpers

setup_file() {
	fixtures_setup
}

# ---- qemu-q35: the lab VM --------------------------------------------------

@test "qemu-q35: list" {
	assert_golden qemu-q35 list.txt 0 list
}

@test "qemu-q35: list -j" {
	assert_golden qemu-q35 list.json 0 list -j
}

@test "qemu-q35: list --group 4 -j" {
	assert_golden qemu-q35 list-group-4.json 0 list --group 4 -j
}

@test "qemu-q35: list --device 01:02.0 -j" {
	assert_golden qemu-q35 list-device-01-02-0.json 0 list --device 01:02.0 -j
}

@test "qemu-q35: list --driver vfio-pci" {
	assert_golden qemu-q35 list-driver-vfio-pci.txt 0 list --driver vfio-pci
}

@test "qemu-q35: list --driver vfio-pci -j" {
	assert_golden qemu-q35 list-driver-vfio-pci.json 0 list --driver vfio-pci -j
}

@test "qemu-q35: list --driver none -j" {
	assert_golden qemu-q35 list-driver-none.json 0 list --driver none -j
}

@test "qemu-q35: list --class 02 -j" {
	assert_golden qemu-q35 list-class-02.json 0 list --class 02 -j
}

@test "qemu-q35: show 00:03.0 (short address)" {
	assert_golden qemu-q35 show-00-03-0.txt 0 show 00:03.0
}

@test "qemu-q35: show 00:03.0 -j" {
	assert_golden qemu-q35 show-00-03-0.json 0 show 00:03.0 -j
}

@test "qemu-q35: show 4 -j (a group)" {
	assert_golden qemu-q35 show-group-4.json 0 show 4 -j
}

@test "qemu-q35: show 4 (a group)" {
	assert_golden qemu-q35 show-group-4.txt 0 show 4
}

@test "qemu-q35: show eth1 -j (virtio-net interface)" {
	assert_golden qemu-q35 show-eth1.json 0 show eth1 -j
}

@test "qemu-q35: check (group 4 is not viable)" {
	assert_golden qemu-q35 check.txt 1 check
}

@test "qemu-q35: check -j" {
	assert_golden qemu-q35 check.json 1 check -j
}

@test "qemu-q35: check 3 -j" {
	assert_golden qemu-q35 check-3.json 0 check 3 -j
}

@test "qemu-q35: check 0000:01:02.0 -j" {
	assert_golden qemu-q35 check-01-02-0.json 1 check 0000:01:02.0 -j
}

@test "qemu-q35: check --assume-vfio 01:02.0 -j" {
	assert_golden qemu-q35 check-assume-vfio-01-02-0.json 0 check --assume-vfio 01:02.0 -j
}

@test "qemu-q35: check --assume-vfio 01:02.0" {
	assert_golden qemu-q35 check-assume-vfio-01-02-0.txt 0 check --assume-vfio 01:02.0
}

# ---- switch: ACS, a PCIe switch, capabilities ------------------------------

@test "switch: list" {
	assert_golden switch list.txt 0 list
}

@test "switch: list -j" {
	assert_golden switch list.json 0 list -j
}

@test "switch: show 0000:04:00.1 -j (ACS path, ATS/PRI/PASID)" {
	assert_golden switch show-04-00-1.json 0 show 0000:04:00.1 -j
}

@test "switch: show 0000:04:00.1" {
	assert_golden switch show-04-00-1.txt 0 show 0000:04:00.1
}

@test "switch: show 05:00.0 -j (below a root port with ACS off)" {
	assert_golden switch show-05-00-0.json 0 show 05:00.0 -j
}

@test "switch: show 3 -j (the switch group)" {
	assert_golden switch show-group-3.json 0 show 3 -j
}

@test "switch: show ens6p1 -j (second interface of a device)" {
	assert_golden switch show-ens6p1.json 0 show ens6p1 -j
}

@test "switch: check -j" {
	assert_golden switch check.json 1 check -j
}

@test "switch: check 3 1 2" {
	assert_golden switch check-3-1-2.txt 0 check 3 1 2
}

# ---- variant: VFIO detection by module holders -----------------------------

@test "variant: list" {
	assert_golden variant list.txt 0 list
}

@test "variant: list -j" {
	assert_golden variant list.json 0 list -j
}

@test "variant: check -j" {
	assert_golden variant check.json 1 check -j
}

# ---- amd-domains: domain types, AMD IOMMU ----------------------------------

@test "amd-domains: list" {
	assert_golden amd-domains list.txt 0 list
}

@test "amd-domains: list -j" {
	assert_golden amd-domains list.json 0 list -j
}

@test "amd-domains: show 0000:00:00.2 -j (a device in no group)" {
	assert_golden amd-domains show-00-00-2.json 0 show 0000:00:00.2 -j
}

# ---- vmd: a PCI domain above 0xffff (five hex digits) ---------------------

@test "vmd: list" {
	assert_golden vmd list.txt 0 list
}

@test "vmd: list -j" {
	assert_golden vmd list.json 0 list -j
}

@test "vmd: show 10000:e1:00.0 -j (behind a bridge of domain 10000)" {
	assert_golden vmd show-10000-e1-00-0.json 0 show 10000:e1:00.0 -j
}

# ---- held, nonroot, missing files ------------------------------------------

@test "held: list -j" {
	assert_golden held list.json 0 list -j
}

@test "held: show 31" {
	assert_golden held show-group-31.txt 0 show 31
}

@test "nonroot: show 01:00.0 -j (64-byte config space)" {
	assert_golden nonroot show-01-00-0.json 0 show 01:00.0 -j
}

@test "nonroot: show 01:00.0" {
	assert_golden nonroot show-01-00-0.txt 0 show 01:00.0
}

@test "missing-optional: list -j" {
	assert_golden missing-optional list.json 0 list -j
}

@test "missing-optional: show 00:03.0 -j" {
	assert_golden missing-optional show-00-03-0.json 0 show 00:03.0 -j
}


# ---- the goldens themselves ------------------------------------------------

@test "goldens hold no path of this machine" {
	[ "${UPDATE_GOLDEN:-}" = 1 ] && skip "updating"
	run grep -rlE "$IOMMUCTL_FIXTURES|/dev/shm/|/tmp/|/home/|/root/|/work/|$REPO_ROOT" "$GOLDEN_DIR"
	[ "$status" -eq 1 ] || fail_with "machine paths in: $output"
}

@test "every golden file is used by a test" {
	[ "${UPDATE_GOLDEN:-}" = 1 ] && skip "updating"
	local f host name missing=""
	for f in "$GOLDEN_DIR"/*/*; do
		host="$(basename "$(dirname "$f")")"
		name="$(basename "$f")"
		# Any suite may own goldens (doctor.bats keeps its own beside its verdict checks).
		grep -q "assert_golden $host $name " "$CLI_DIR"/*.bats || missing="$missing $host/$name"
	done
	[ -z "$missing" ] || fail_with "stale golden files:$missing"
}
