# shellcheck shell=bash disable=SC2034 # sourced by run-vm.sh, check-vm.sh and the guest
# libvirt: the basic machine, for the suite in which Debian's own libvirtd
# (the host's libvirt-daemon-system, run from the 9p root) starts diskless
# domains through the installed hook.  The virtio-net gets no address, so
# that policy bind-group may take it from its group; otherwise as basic.
# Groups: as basic.
. "${BASH_SOURCE[0]%/*}/basic.sh"
TOPO_DESC="basic, with a real libvirtd running the installed hook"
TOPO_NET=()
# A busy host makes TCG boots trip the IO-APIC timer check (shared/vm-lab.md).
TOPO_CMDLINE="intel_iommu=on no_timer_check"
TOPO_SUITES="libvirt"
TOPO_HOST_SUITES=
# libvirtd, its capability probes and a nested 32 MiB QEMU.
TOPO_MEM=1536
# 70 s on an idle host, 240 s when the host's other guests load it to 4.
TOPO_TIMEOUT=600
