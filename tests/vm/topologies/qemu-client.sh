# shellcheck shell=bash disable=SC2034,SC2054 # sourced by run-vm.sh, check-vm.sh and the guest
# qemu-client: the basic machine with room (3 GiB) for nested QEMUs (TCG in
# TCG) that take the four root-port edus (02-05:00.0, each alone in its
# group): QEMU 10 through iommuctl exec --open (the README's line), through
# exec with only {iommufd}, opening the cdev by itself, and the system's
# QEMU 7.2 through the legacy group node and container.  QEMU 10 is the
# bookworm-backports build that tests/vm/qemu10.sh unpacks into the cache;
# its tree is found on the host and passed in as QEMU10_ROOT (the guest's
# root is read-only and cannot run apt).  Groups: as basic.
. "${BASH_SOURCE[0]%/*}/basic.sh"
TOPO_DESC="basic with 3 GiB, for nested QEMU 10 and 7.2 taking the root-port edus"
TOPO_SUITES="qemu-client"
TOPO_HOST_SUITES=
TOPO_MEM=3072
TOPO_ENV="QEMU10_ROOT"

topo_qemu_args() {
	QEMU10_ROOT=$("${BASH_SOURCE[0]%/*}/../qemu10.sh" --prefix) || return 1
	export QEMU10_ROOT
	QEMU_ARGS+=(-device intel-iommu,intremap=on)
	basic_devices "$1"
}
