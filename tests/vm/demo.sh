#!/usr/bin/env bash
# make demo: boot the "basic" topology with the plain build of iommuctl.
# On a terminal: "iommuctl shell" on the guest's console (a root bash if
# this build has no shell command yet); Ctrl-D or "exit" powers the guest
# off, Ctrl-A X kills it.  Otherwise: a scripted tour of list, show and
# check, printed as it runs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
: "${IOMMUCTL:=$top/build/iommuctl}"
export IOMMUCTL

if [ "${1:-}" = --in-guest-tour ]; then
	# The tour, run inside the guest.
	step() {
		printf '\n# %s\n$ iommuctl %s\n' "$1" "${*:2}"
		"$IOMMUCTL" "${@:2}" || echo "(exit status $?)"
	}
	step "Every IOMMU group and what is in it" list
	step "Can user space own them? (exit 1: not all can)" check
	step "The bridge group: the edu is fine, the virtio-net on virtio-pci blocks it" check 2
	step "One device in detail" show 0000:01:02.0
	step "Only network devices" list --class 02
	echo "vfio-pci" >/sys/bus/pci/devices/0000:00:03.0/driver_override
	echo 0000:00:03.0 >/sys/bus/pci/drivers_probe
	step "After binding the lone edu to vfio-pci (driver_override + drivers_probe)" list -d 0000:00:03.0
	step "The same as JSON" list -j -d 0000:00:03.0
	exit 0
fi

if [ -t 0 ] && [ -t 1 ]; then
	if "$IOMMUCTL" help shell >/dev/null 2>&1; then
		exec "$here/run-vm.sh" -i basic "$IOMMUCTL" shell
	fi
	echo "demo: this iommuctl has no shell command yet; starting a root bash in the guest ($IOMMUCTL)" >&2
	exec "$here/run-vm.sh" -i basic bash -l
fi
exec "$here/run-vm.sh" basic "$here/demo.sh" --in-guest-tour
