#!/usr/bin/env bash
# Run every C unit test binary in DIR; their TAP goes to stdout.
set -u
dir=${1:?usage: run.sh DIR}
status=0
for t in "$dir"/test-*; do
	[ -x "$t" ] || continue
	echo "# $(basename "$t")"
	"$t" || status=1
done
exit $status
