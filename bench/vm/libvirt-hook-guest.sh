#!/bin/bash
# Guest half of bench/vm/libvirt-hook.sh: start Debian's libvirtd with the
# optimised hook installed, start and destroy a diskless domain given a lone
# edu (managed='yes') ROUNDS times under policy check and ROUNDS times under
# policy bind, and read every hook run's time from libvirtd's own debug log
# (util.command: "About to run ... iommuctl DOMAIN OP SUB -" to the "Result"
# line of the same thread).  Prints one line per policy and operation.
set -u
cd "$(dirname "$0")/../.." || exit 2
# shellcheck source=tests/vm/suites/lib.bash
. tests/vm/suites/lib.bash
rounds=${BENCH_HOOK_ROUNDS:-3}
log=/var/log/libvirt/libvirtd.log
export LIBVIRT_DEFAULT_URI=qemu:///system
broke() { echo "libvirt-hook-bench: ERROR: $*" >&2; exit 2; }

edu=$(find_lone_edu)
[ -n "$edu" ] || broke "no lone edu"
LIBVIRT_HOOK_SANITIZE=0 libvirtd_start "$log" /tmp/install.log || broke "libvirtd did not start"
IFS=':.' read -r _ b s f <<<"$edu"
ms() { echo $(($(date +%s%N) / 1000000)); }
for policy in check bind; do
	cat >/tmp/bench.xml <<XML
<domain type='qemu'>
  <name>bench-$policy</name>
  <metadata><iommuctl:hook xmlns:iommuctl='urn:iommuctl:libvirt-hook:1' policy='$policy'/></metadata>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
    <hostdev mode='subsystem' type='pci' managed='yes'>
      <source><address domain='0x0000' bus='0x$b' slot='0x$s' function='0x$f'/></source>
    </hostdev>
  </devices>
</domain>
XML
	virsh -q define /tmp/bench.xml >/dev/null || broke "define failed"
	for _ in $(seq "$rounds"); do
		t0=$(ms)
		virsh -q start "bench-$policy" >/dev/null || broke "virsh start bench-$policy failed"
		echo "start-wall $policy $(($(ms) - t0))"
		[ "$(dev_driver "$edu")" = vfio-pci ] || broke "$edu not on vfio-pci while bench-$policy runs"
		virsh -q destroy "bench-$policy" >/dev/null || broke "destroy failed"
		[ -z "$(dev_driver "$edu")" ] || broke "$edu not given back after bench-$policy"
	done
done
# One line per hook run: POLICY OP SUB MS STATUS, from the log.
awk '
function t(s,  a) { split(substr(s, 12, 12), a, ":"); return (a[1] * 3600 + a[2] * 60 + a[3]) * 1000 }
/About to run .*hooks\/qemu.d\/iommuctl bench-/ {
	tid = $3; n = split($0, w, " "); run[tid] = t($0); what[tid] = w[n-3] " " w[n-2] " " w[n-1]; next }
/virCommandRun:.* Result / && ($3 in run) {
	st = $0; sub(/.*Result (exit )?status /, "", st); sub(/,.*/, "", st)
	split(what[$3], p, " "); sub(/bench-/, "", p[1])
	printf "hook %s %s-%s %.0f %s\n", p[1], p[2], p[3], t($0) - run[$3], st
	delete run[$3] }' "$log" >/tmp/runs
grep -q . /tmp/runs || broke "no hook run in $log"
awk '$5 != 0 { bad = 1 } END { exit bad }' /tmp/runs || broke "a hook run failed: $(cat /tmp/runs)"
grep -c "libvirt-hook: bench-bind: bound $edu to vfio-pci" "$log" | grep -qx "$rounds" || broke "policy bind did not bind $rounds times"
cat /tmp/runs
