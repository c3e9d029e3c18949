#!/bin/bash
# The loop operators paste from wikis to see their IOMMU groups: for each
# group, lspci -nns on each device.  bench/run.sh times it on the generated
# host; ROOT is the fake tree (a real host would be ROOT=, i.e. /sys).
#
# Usage: bench/bash-loop.sh ROOT
#
# -A linux-sysfs -O sysfs.path=ROOT/sys/bus/pci makes lspci read the fake
# tree instead of the machine's (the parameter names sys/bus/pci, not sys).
set -u
if [ $# -ne 1 ] || [ ! -d "$1/sys/kernel/iommu_groups" ]; then
	echo "usage: bench/bash-loop.sh ROOT   (ROOT/sys/kernel/iommu_groups must exist)" >&2
	exit 2
fi
ROOT=$1
shopt -s nullglob
for g in "$ROOT"/sys/kernel/iommu_groups/*; do
	echo "group ${g##*/}"
	for d in "$g"/devices/*; do
		lspci -A linux-sysfs -O sysfs.path="$ROOT/sys/bus/pci" -nns "${d##*/}"
	done
done
