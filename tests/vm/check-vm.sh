#!/usr/bin/env bash
# The VM tier of `make check`: build (once) the guest kernel, then boot each
# topology and run the guest suites in it, printing their TAP.  A guest that
# panics, hangs or never reports counts as a failure (run-vm.sh exits 125
# and shows the console tail).
#
#   tests/vm/check-vm.sh [TOPOLOGY...]      default: basic virtio-iommu
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cd "$top" || exit 1

# The guest mounts fresh tmpfs on /tmp and /run, hiding a checkout that
# lives there (a CI clone in /tmp, say).  Run from a staged copy instead.
case "$top/" in
/tmp/* | /run/*)
	stage=${IOMMUCTL_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/iommuctl}/checkout
	echo "# vm: $top is hidden inside the guest; staging a copy at $stage"
	rm -rf "$stage" && mkdir -p "$stage" && cp -a "$top/." "$stage/" || exit 1
	case "${IOMMUCTL:-}" in "$top"/*) export IOMMUCTL="$stage/${IOMMUCTL#"$top"/}" ;; esac
	exec "$stage/tests/vm/check-vm.sh" "$@"
	;;
esac

topologies=("$@")
[ ${#topologies[@]} -gt 0 ] || topologies=(basic virtio-iommu)

# Suites per topology: the topology suite everywhere; the library's object
# suite where its expectations (intel-iommu's MSI window, hw_info) hold.
suites_for() {
	case $1 in
	basic) echo tests/vm/suites/topology.bats tests/vm/suites/objects.bats ;;
	*) echo tests/vm/suites/topology.bats ;;
	esac
}

start=$(date +%s)
kernel=$("$here/build-kernel.sh") || { echo "not ok 1 - guest kernel build failed"; exit 1; }
export VM_KERNEL=$kernel
status=0
for topo in "${topologies[@]}"; do
	suites=()
	for s in $(suites_for "$topo"); do
		[ -f "$s" ] && suites+=("$s")
	done
	[ ${#suites[@]} -gt 0 ] || continue
	echo "# vm: $topo: ${suites[*]}"
	t0=$(date +%s)
	"$here/run-vm.sh" "$topo" bats --tap "${suites[@]}"
	rc=$?
	echo "# vm: $topo: exit $rc after $(($(date +%s) - t0))s"
	if [ "$rc" -ne 0 ]; then
		status=1
		# A guest that died reported no TAP for its tests: make it count.
		[ "$rc" -eq 125 ] && echo "not ok - $topo: the guest failed (see the console tail above)"
	fi
done
echo "# vm: tier took $(($(date +%s) - start))s"
exit $status
