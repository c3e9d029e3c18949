# VM-lab targets, included by the top Makefile.  See tests/vm/README.md.

VM_TOPOLOGIES ?= basic virtio-iommu

.PHONY: check-vm vm-kernel demo

vm-kernel:
	tests/vm/build-kernel.sh

# Builds the plain and sanitizer binaries first: the guest runs build-san/.
check-vm: all san
	@tests/vm/check-vm.sh $(VM_TOPOLOGIES)

# A guest with the basic topology: an interactive shell on a terminal, else
# a scripted tour of list, check and show.
demo: all
	@if [ -t 0 ]; then \
		IOMMUCTL=$(CURDIR)/build/iommuctl tests/vm/run-vm.sh -i basic bash; \
	else \
		IOMMUCTL=$(CURDIR)/build/iommuctl tests/vm/run-vm.sh basic bash -c \
		'set -x; build/iommuctl list; build/iommuctl check; build/iommuctl show 01:02.0'; \
	fi
