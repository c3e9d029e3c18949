#!/usr/bin/env bash
# Run every read-only command on every fixture host under valgrind; one TAP
# line per run.  A leak or memory error fails, whatever the command's own
# exit status (bad input is expected to fail cleanly, not to leak).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${IOMMUCTL_PLAIN:-$top/build/iommuctl}
work=$(mktemp -d "${TMPDIR:-/tmp}/iommuctl-vg.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Without valgrind every run below would "pass": stop instead.
"$top/tests/need.sh" valgrind valgrind=valgrind || exit 1
[ -x "$bin" ] || { echo "valgrind: $bin is not built (make)" >&2; exit 1; }
"$top/tests/fixtures/mkfixture" --all "$top/tests/fixtures/hosts" "$work/hosts" >/dev/null || exit 1

commands=("list -j" "list" "check -j" "check" "check --assume-vfio 00:03.0" "show -j 00:03.0"
	"show 00:03.0" "show 1" "list --class 02 --driver none" "show 00:1g.0" "doctor -j" "doctor")
n=0 failed=0
for host in "$work"/hosts/*/; do
	host=${host%/}
	for c in "${commands[@]}"; do
		n=$((n + 1))
		# shellcheck disable=SC2086 # the command is a word list on purpose
		if valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect,possible \
			--log-file="$work/vg.log" "$bin" --sysroot "$host" $c >/dev/null 2>&1 ||
			[ $? -ne 99 ]; then
			echo "ok $n - valgrind clean: ${host##*/}: $c"
		else
			failed=$((failed + 1))
			echo "not ok $n - valgrind errors: ${host##*/}: $c"
			sed 's/^/# /' "$work/vg.log" | head -40
		fi
	done
done
out=$work/snap.tar
n=$((n + 1))
if valgrind -q --error-exitcode=99 --leak-check=full --log-file="$work/vg.log" "$bin" \
	--sysroot "$work/hosts/qemu-q35" snapshot "$out" >/dev/null 2>&1; then
	echo "ok $n - valgrind clean: snapshot"
else
	failed=$((failed + 1))
	echo "not ok $n - valgrind errors: snapshot"
	sed 's/^/# /' "$work/vg.log" | head -40
fi
# The libvirt hook parses XML (libxml2): a viable, a refused and a malformed
# domain, and a release with a journal entry of another domain.
mkdir -p "$work/hosts/qemu-q35/run/iommuctl/devices"
printf 'address=0000:00:03.0\noriginal_driver=\noriginal_driver_override=\ndriver=vfio-pci\ntime=0\npid=1\ngroup=3\nowner=libvirt:vm2\n' \
	>"$work/hosts/qemu-q35/run/iommuctl/devices/0000:00:03.0"
hostdev="<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' bus='0x01' slot='0x01' function='0x0'/></source></hostdev>"
for doc in "<domain><name>vm1</name><devices>$hostdev</devices></domain>|prepare begin" \
	"<domain><name>vm1</name><devices></devices></domain>|prepare begin" "<domain><devices>|prepare begin" \
	"<domain><name>vm1</name></domain>|release end"; do
	n=$((n + 1))
	# shellcheck disable=SC2086 # the operation is two words on purpose
	if printf '%s' "${doc%|*}" | IOMMUCTL_HOOK_CONFIG=/nonexistent valgrind -q --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite,indirect,possible --log-file="$work/vg.log" "$bin" \
		--sysroot "$work/hosts/qemu-q35" -j libvirt-hook vm1 ${doc#*|} - >/dev/null 2>&1 || [ $? -ne 99 ]; then
		echo "ok $n - valgrind clean: libvirt-hook ${doc#*|}: ${doc%|*}"
	else
		failed=$((failed + 1))
		echo "not ok $n - valgrind errors: libvirt-hook ${doc#*|}: ${doc%|*}"
		sed 's/^/# /' "$work/vg.log" | head -40
	fi
done
echo "1..$n"
[ "$failed" -eq 0 ]
