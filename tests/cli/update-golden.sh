#!/bin/bash
# Regenerate tests/fixtures/golden/ from the binary, deliberately: run this
# only when an output change is intended, then review `git diff` of the
# goldens before committing them. Paths of this machine are replaced by
# @SYSROOT@ / @FIXTURES@ (see normalize in helpers.bash).
#
# Usage: tests/cli/update-golden.sh        (IOMMUCTL as for run.sh)
set -eu
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
top="$(cd "$here/../.." && pwd)"
golden="$top/tests/fixtures/golden"

# Start from nothing so that goldens no test writes any more disappear.
rm -rf "$golden"
# Every suite that writes goldens, so that none of them loses its files.
mapfile -t writers < <(grep -l assert_golden "$here"/*.bats)
UPDATE_GOLDEN=1 "$here/run.sh" "${writers[@]}"
echo "goldens rewritten; now run tests/cli/run.sh and review: git diff --stat -- tests/fixtures/golden" >&2
