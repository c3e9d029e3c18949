#!/usr/bin/env bash
# Install what the tests need, from tests/deps.txt (one Debian package a line).
#
#   tests/deps.sh            as root: install the missing packages; otherwise
#                            print the apt-get line to run as root, exit 1
#   tests/deps.sh --list     print the list
#   tests/deps.sh --missing  print the packages not installed (exit 0)
# DEPS_LIST=FILE reads another list (the tests of this script use it).
set -u
list=${DEPS_LIST:-"$(cd "$(dirname "$0")" && pwd)/deps.txt"}
mapfile -t packages < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' "$list")

case "${1:-}" in
--list) printf '%s\n' "${packages[@]}"; exit 0 ;;
--missing | '') ;;
*) echo "usage: tests/deps.sh [--list|--missing]" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ "${1:-}" = --missing ]; then
	[ ${#missing[@]} -eq 0 ] || printf '%s\n' "${missing[@]}"
	exit 0
fi
if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#packages[@]} packages of tests/deps.txt are installed"
	exit 0
fi
line="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: the tests need ${#missing[@]} more packages; as root, run:" >&2
	echo "  $line" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
apt-get update -qq || exit 1
DEBIAN_FRONTEND=noninteractive $line -qq >/dev/null || exit 1
echo "deps: installed ${#missing[@]} packages"
