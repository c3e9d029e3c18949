#!/usr/bin/env bash
# Check lib/compat/{iommufd,vfio}-uapi.h against the kernel's own uapi
# headers: every structure's size, every member's offset and size, every
# ioctl number and enum value must be identical.
#
# Two probes are compiled from the same list: one with the system headers +
# our compat headers (what the project builds with), one with the kernel
# source's include/uapi/linux/{iommufd,vfio}.h put in front of the system
# headers.  Their outputs must match line for line.
#
# KSRC names the kernel source tree; by default the one build-kernel.sh
# unpacked.  Exit 0 = identical, 1 = differences (printed), 77 = no source.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cc=${CC:-cc}

if [ -z "${KSRC:-}" ]; then
	cache=${IOMMUCTL_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/iommuctl}
	version=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || true)
	KSRC=$cache/src/linux-source-6.12-$version
fi
if [ ! -f "$KSRC/include/uapi/linux/iommufd.h" ]; then
	echo "check-uapi: no kernel source at $KSRC (run tests/vm/build-kernel.sh or set KSRC)" >&2
	exit 77
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# struct: members (the complete list; a member missing here is caught below)
cat >"$tmp/structs" <<'EOF'
iommu_destroy size id
iommu_ioas_alloc size flags out_ioas_id
iommu_iova_range start last
iommu_ioas_allow_iovas size ioas_id num_iovas __reserved allowed_iovas
iommu_ioas_copy size flags dst_ioas_id src_ioas_id length dst_iova src_iova
iommu_ioas_iova_ranges size ioas_id num_iovas __reserved allowed_iovas out_iova_alignment
iommu_ioas_map size flags ioas_id __reserved user_va length iova
iommu_ioas_unmap size ioas_id iova length
iommu_option size option_id op __reserved object_id val64
iommu_vfio_ioas size ioas_id op __reserved
iommu_hwpt_alloc size flags dev_id pt_id out_hwpt_id __reserved data_type data_len data_uptr fault_id __reserved2
iommu_hw_info_vtd flags __reserved cap_reg ecap_reg
iommu_hw_info size flags dev_id data_len data_uptr out_data_type out_max_pasid_log2 __reserved out_capabilities
iommu_hwpt_set_dirty_tracking size flags hwpt_id __reserved
iommu_hwpt_get_dirty_bitmap size hwpt_id flags __reserved iova length page_size data
vfio_device_bind_iommufd argsz flags iommufd out_devid
vfio_device_attach_iommufd_pt argsz flags pt_id
vfio_device_detach_iommufd_pt argsz flags
EOF

# Every struct the compat headers define must be in the list.
for s in $(grep -ho '^struct [a-z_0-9]* {' "$top"/lib/compat/*-uapi.h | awk '{print $2}'); do
	grep -q "^$s " "$tmp/structs" || { echo "check-uapi: struct $s is not in the check list" >&2; exit 1; }
done
# ... and every macro/enum constant they define (the local helper aside).
grep -hoE '^#define (IOMMU|VFIO)_[A-Z0-9_]+|^	(IOMMU|VFIO)_[A-Z0-9_]+ =' "$top"/lib/compat/*-uapi.h |
	sed -E 's/^#define //; s/^\t//; s/ =$//' | sort -u >"$tmp/consts"

{
	echo '#include <stdio.h>'
	echo '#include <stddef.h>'
	echo '#include INC1'
	echo '#include INC2'
	echo '#define M(s, m) printf("%s.%s %zu %zu\n", #s, #m, offsetof(struct s, m), sizeof(((struct s *)0)->m))'
	echo '#define S(s) printf("sizeof %s %zu\n", #s, sizeof(struct s))'
	echo '#define C(c) printf("%s %lld\n", #c, (long long)(c))'
	echo 'int main(void) {'
	while read -r s members; do
		echo "S($s);"
		for m in $members; do echo "M($s, $m);"; done
	done <"$tmp/structs"
	while read -r c; do echo "C($c);"; done <"$tmp/consts"
	echo 'return 0; }'
} >"$tmp/probe.c"

mkdir -p "$tmp/kinc/linux"
cp "$KSRC/include/uapi/linux/iommufd.h" "$KSRC/include/uapi/linux/vfio.h" "$tmp/kinc/linux/"

flags=(-std=c11 -Wall -Wextra -Werror)
"$cc" "${flags[@]}" -I"$top" -DINC1='"lib/compat/iommufd-uapi.h"' -DINC2='"lib/compat/vfio-uapi.h"' \
	-o "$tmp/ours" "$tmp/probe.c"
"$cc" "${flags[@]}" -D__user= -I"$tmp/kinc" -DINC1='<linux/iommufd.h>' -DINC2='<linux/vfio.h>' \
	-o "$tmp/kernel" "$tmp/probe.c"
"$tmp/ours" >"$tmp/ours.out"
"$tmp/kernel" >"$tmp/kernel.out"
if diff -u "$tmp/kernel.out" "$tmp/ours.out"; then
	echo "check-uapi: ok: $(grep -c '^sizeof' "$tmp/ours.out") structs, $(grep -c '\.' "$tmp/ours.out") members, $(wc -l <"$tmp/consts") constants match $(basename "$KSRC")"
else
	echo "check-uapi: compat headers differ from $KSRC (- kernel, + ours)" >&2
	exit 1
fi
