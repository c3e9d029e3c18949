# VM-lab targets, included by the top Makefile (which defines BUILD and
# IOMMUCTL).  See tests/vm/README.md.
#
#   make check-vm                  every topology with suites, in parallel
#   make check-vm VM_TOPOLOGIES="basic virtio-iommu"
#   make vm-kernel                 build (once; cached) the guest kernel
#   make probe                     build $(BUILD)/dma-probe
#   make demo                      boot "basic": a shell on a terminal, else a tour
#   make vm-shell [VM_TOPOLOGY=x]  boot a topology with a root shell on this terminal

VM_TOPOLOGIES ?=
VM_TOPOLOGY   ?= basic
VM_PROBE_CFLAGS := -std=c11 -Wall -Wextra -Werror -O2 -g

.PHONY: check-vm vm-kernel probe demo vm-shell check-uapi

vm-kernel:
	tests/vm/build-kernel.sh

# The DMA probe is a test tool, not part of the library: plain build, no
# sanitizers (it runs in the guest next to the binary under test).
$(BUILD)/dma-probe: tests/dma-probe.c lib/compat/iommufd-uapi.h lib/compat/vfio-uapi.h
	@mkdir -p $(@D)
	$(CC) $(VM_PROBE_CFLAGS) -I. -o $@ $<

# The kernel's verdict on a group (VFIO_GROUP_GET_STATUS, cdev BIND).
$(BUILD)/vfio-verdict: tests/vfio-verdict.c lib/compat/iommufd-uapi.h lib/compat/vfio-uapi.h
	@mkdir -p $(@D)
	$(CC) $(VM_PROBE_CFLAGS) -I. -o $@ $<

probe: $(BUILD)/dma-probe $(BUILD)/vfio-verdict

# Our compat uapi headers against the kernel source build-kernel.sh unpacked.
check-uapi:
	tests/vm/check-uapi.sh

# The guest runs build-san/iommuctl (IOMMUCTL), so build both.
check-vm: all san $(BUILD)/dma-probe $(BUILD)/vfio-verdict
	@tests/need.sh vm qemu-system-x86_64=qemu-system-x86 bats=bats jq=jq cpio=cpio
	@DMA_PROBE=$(CURDIR)/$(BUILD)/dma-probe tests/vm/check-vm.sh $(VM_TOPOLOGIES)
	@# The launcher must turn a panicking, hung or failing guest into a failure.
	@bats --tap tests/vm/host/harness.bats

demo: all
	@IOMMUCTL=$(CURDIR)/$(BUILD)/iommuctl tests/vm/demo.sh

vm-shell: all $(BUILD)/dma-probe
	@IOMMUCTL=$(CURDIR)/$(BUILD)/iommuctl DMA_PROBE=$(CURDIR)/$(BUILD)/dma-probe \
		tests/vm/run-vm.sh -i -e DMA_PROBE $(VM_TOPOLOGY) bash -l
