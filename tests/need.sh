#!/usr/bin/env bash
# tests/need.sh TIER TOOL=PACKAGE...: stop TIER with one message naming the
# Debian package when a tool it runs is missing (exit 1: a tier that cannot
# do its work fails, it does not print ok).  `make deps` installs them all.
set -u
tier=$1
shift
rc=0
for pair in "$@"; do
	tool=${pair%%=*} pkg=${pair#*=}
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "$tier: $tool is not installed: apt-get install $pkg (or make deps, as root)" >&2
		rc=1
	fi
done
exit $rc
