#!/usr/bin/env bash
# Build the Debian packages from the tracked tree, check them with lintian,
# install them, use them, and remove them again.  TAP on stdout.  Needs root
# (dpkg -i) and debhelper, lintian, fakeroot, man-db.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/iommuctl-pkg.XXXXXX")
n=0 failed=0
installed=()
cleanup() {
	[ ${#installed[@]} -eq 0 ] || dpkg -P "${installed[@]}" >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT

tap() { # tap OK DESCRIPTION [DETAIL FILE]
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		failed=$((failed + 1))
		echo "not ok $n - $2"
		[ -z "${3:-}" ] || sed 's/^/# /' "$3" | tail -n 30
	fi
}

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # skip package tier needs root (dpkg -i)"
	exit 0
fi

src=$work/iommuctl-0.1.0
mkdir -p "$src"
(cd "$top" && git checkout-index -a --prefix="$src/") # the index: committed and staged, not stray edits
(cd "$src" && dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1
tap $? "dpkg-buildpackage builds the packages" "$work/build.log"

debs=("$work"/iommuctl_*.deb "$work"/libiommufd0_*.deb "$work"/libiommufd-dev_*.deb) # not the -dbgsym ones
[ -e "${debs[0]}" ] && [ -e "${debs[1]}" ] && [ -e "${debs[2]}" ]
tap $? "three packages: ${debs[*]##*/}"

lintian --fail-on error,warning "$work"/*.changes >"$work/lintian.log" 2>&1
tap $? "lintian has no errors or warnings" "$work/lintian.log"

dpkg -i "${debs[@]}" >"$work/install.log" 2>&1
status=$?
tap $status "dpkg -i installs them" "$work/install.log"
[ $status -ne 0 ] || installed=(iommuctl libiommufd-dev libiommufd0)

[ "$(iommuctl --version 2>&1)" = "iommuctl 0.1.0" ]
tap $? "the installed iommuctl --version says 0.1.0"

MANPAGER=cat man iommuctl 2>/dev/null | grep -q "inspect IOMMU groups"
tap $? "man iommuctl shows the installed page"

MANPAGER=cat man 7 iommuctl-json 2>/dev/null | grep -q "viable"
tap $? "man 7 iommuctl-json shows the JSON reference"

hook=/etc/libvirt/hooks/qemu.d/iommuctl
[ -x "$hook" ] && grep -q '^exec /usr/bin/iommuctl libvirt-hook "\$@"$' "$hook" &&
	echo '<domain><name>vm1</name></domain>' | "$hook" vm1 prepare begin - >"$work/hook.log" 2>&1 &&
	[ ! -s "$work/hook.log" ]
tap $? "libvirt's hook is installed and lets a domain without hostdevs start, silently" "$work/hook.log"

printf '#include <iommufd/topology.h>\nint main(void) { char f[13]; return iommufd_parse_pci_address("01:00.0", f); }\n' >"$work/use.c"
cc "$work/use.c" $(pkg-config --cflags --libs libiommufd) -o "$work/use" >"$work/cc.log" 2>&1 && "$work/use"
tap $? "a program builds with pkg-config libiommufd and runs against libiommufd0" "$work/cc.log"

# make install beside the package, into /usr/local: ldconfig is run, so a
# program linked through pkg-config starts; the package's conffile (the hook)
# is neither overwritten by install nor deleted by uninstall.
make -C "$src" install PREFIX=/usr/local >"$work/make-install.log" 2>&1 &&
	grep -q "install: ran ldconfig" "$work/make-install.log" &&
	grep -q "qemu.d/iommuctl belongs to a package; left as it is" "$work/make-install.log"
tap $? "make install runs ldconfig and leaves the package's hook alone" "$work/make-install.log"

cc "$work/use.c" $(PKG_CONFIG_PATH=/usr/local/lib/pkgconfig pkg-config --cflags --libs libiommufd) \
	-o "$work/use-local" >"$work/cc-local.log" 2>&1 && "$work/use-local" &&
	[ -e /usr/local/lib/libiommufd.so.0 ]
tap $? "a program built with pkg-config against the make-installed library starts" "$work/cc-local.log"

make -C "$src" uninstall PREFIX=/usr/local >"$work/make-uninstall.log" 2>&1 &&
	[ ! -e /usr/local/bin/iommuctl ] && [ -x "$hook" ] && ldconfig
tap $? "make uninstall removes its files and keeps the package's conffile" "$work/make-uninstall.log"

echo "1..$n"
[ "$failed" -eq 0 ]
