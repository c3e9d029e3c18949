# bash completion for iommuctl                             -*- shell-script -*-
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Lists no command and no option: it asks the binary (`iommuctl help
# --commands`, `iommuctl help --options [COMMAND]`, see iommuctl-help(8)), so
# it cannot drift from the command table.  PCI addresses, groups and drivers
# are read from sysfs under the --sysroot typed on the line (default /).

# _iommuctl_values KIND ROOT: the words an argument of KIND completes to.
_iommuctl_values()
{
	local kind=$1 root=${2%/} bin=$3 f
	case $kind in
	device)
		for f in "$root"/sys/bus/pci/devices/*; do
			[ -e "$f" ] || [ -L "$f" ] && printf '%s\n' "${f##*/}"
		done
		for f in "$root"/sys/class/net/*; do
			[ -L "$f" ] && [ "${f##*/}" != lo ] && printf '%s\n' "${f##*/}"
		done
		;;
	group)
		for f in "$root"/sys/kernel/iommu_groups/*; do
			[ -d "$f" ] && printf '%s\n' "${f##*/}"
		done
		;;
	driver)
		echo none
		for f in "$root"/sys/bus/pci/drivers/*; do
			[ -d "$f" ] && printf '%s\n' "${f##*/}"
		done
		;;
	command)
		"$bin" help --commands 2>/dev/null | cut -f1
		;;
	policy)
		printf '%s\n' check bind bind-group
		;;
	esac
}

_iommuctl()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=
	local bin=${COMP_WORDS[0]} root=/ cmd='' i w line kind hint words=''
	local -a opts=()
	[ "$COMP_CWORD" -gt 0 ] && prev=${COMP_WORDS[COMP_CWORD - 1]}
	bin=${bin/#\~/$HOME}
	command -v "$bin" >/dev/null 2>&1 || bin=iommuctl

	# The command is the first word that is neither an option nor the
	# argument of --sysroot (the only global option with an argument).
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		--sysroot)
			root=${COMP_WORDS[i + 1]:-/}
			[ -z "$cmd" ] && ((i++))
			;;
		--sysroot=*) root=${w#--sysroot=} ;;
		-*) ;;
		*) [ -z "$cmd" ] && cmd=$w ;;
		esac
	done
	root=${root/#\~/$HOME}

	# option<TAB>--long<TAB>-s<TAB>ARG<TAB>complete, then args<TAB>complete
	while IFS=$'\t' read -r kind w i line hint; do
		case $kind in
		option)
			opts+=("$w")
			[ "$i" != - ] && opts+=("$i")
			if [ "$line" != - ] && { [ "$prev" = "$w" ] || [ "$prev" = "$i" ]; }; then
				words=$hint
				[ "$hint" = - ] && words=none
			fi
			;;
		args) [ -z "$words" ] && [ "$w" != - ] && words="args $w" ;;
		esac
	done < <("$bin" help --options ${cmd:+"$cmd"} 2>/dev/null)

	COMPREPLY=()
	case $words in
	args\ *)
		if [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "${opts[*]}" -- "$cur")
			return 0
		fi
		words=${words#args }
		;;
	"")
		[[ $cur == -* ]] && mapfile -t COMPREPLY < <(compgen -W "${opts[*]}" -- "$cur")
		return 0
		;;
	esac
	for kind in $words; do
		case $kind in
		file) mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -f -- "$cur"); compopt -o filenames 2>/dev/null || : ;;
		dir) mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -d -- "$cur"); compopt -o filenames 2>/dev/null || : ;;
		none) ;;
		*) mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -W "$(_iommuctl_values "$kind" "$root" "$bin")" -- "$cur") ;;
		esac
	done
	return 0
}

complete -F _iommuctl iommuctl
