# shellcheck shell=bash disable=SC2034,SC2054,SC2206,SC2207 # sourced by run-vm.sh and the guest; QEMU options use commas
# probe: no IOMMU, no extra devices.  Used by run-vm.sh to find out whether
# a KVM guest boots on this machine (VM_ACCEL=auto), and handy to check the
# launcher itself.  Groups: none (no IOMMU).
TOPO_DESC="bare q35, no IOMMU"
TOPO_MODULES=
topo_qemu_args() { :; }
