#!/usr/bin/env bats
# The completion scripts in completions/ ask the binary for commands and
# options (help --commands / --options) and read devices, groups and drivers
# under the --sysroot typed on the line.  bash is driven here the way
# readline drives it (COMP_WORDS/COMP_CWORD -> COMPREPLY); zsh and fish are
# syntax-checked and run with the same consistency test when installed.

load helpers

COMPLETIONS="$REPO_ROOT/completions"

setup_file() {
	fixtures_setup
}

# bash_complete WORD...: COMPREPLY of the last WORD, one per line, in $output.
bash_complete() {
	# shellcheck source=/dev/null
	source "$COMPLETIONS/iommuctl.bash"
	COMP_WORDS=("$IOMMUCTL" "$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_iommuctl
	output=$(printf '%s\n' "${COMPREPLY[@]}" | sort)
}

# zsh_complete WORD...: what _iommuctl passes to compadd, one per line.
zsh_complete() {
	output=$(zsh -f -c '
		compadd() { if [[ $1 == -a ]]; then print -rl -- ${(P)2}; else print -rl -- "$@"; fi }
		_call_program() { shift; eval "$@" }
		_files() { print -r -- "<files $*>" }
		source "$1" >/dev/null 2>&1
		shift
		words=("$@"); CURRENT=${#words}
		_iommuctl' zsh "$COMPLETIONS/_iommuctl" "$IOMMUCTL" "$@" | sort)
}

# fish_complete WORD...: fish's candidates for the line, one per line.
fish_complete() {
	local line="$IOMMUCTL" w
	for w in "$@"; do line+=" $w"; done
	# shellcheck disable=SC2016 # fish expands $argv itself
	output=$(fish -c 'source $argv[1]; complete -c $argv[2] -f -a "(__iommuctl_complete)"; complete -C"$argv[3]"' \
		"$COMPLETIONS/iommuctl.fish" "$IOMMUCTL" "$line" | cut -f1 | sort)
}

# The commands as the binary's own help lists them (not the machine interface).
commands() {
	"$IOMMUCTL" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF && !/^Commands:/ { print $1 }'
}

lines() { printf '%s\n' "$@" | sort; }

@test "bash: commands, then options before and after the command" {
	bash_complete ""
	[ "$output" = "$(commands | sort)" ] || fail_with "got: $output"
	bash_complete d
	[ "$output" = doctor ] || fail_with "got: $output"
	bash_complete --s
	[ "$output" = --sysroot ] || fail_with "got: $output"
	bash_complete list --d
	[ "$output" = "$(lines --device --driver)" ] || fail_with "got: $output"
}

@test "bash: PCI addresses, interfaces and groups from the --sysroot on the line" {
	local root
	root=$(sysroot qemu-q35)
	bash_complete --sysroot "$root" show 0000:01
	[ "$output" = "$(lines 0000:01:01.0 0000:01:02.0)" ] || fail_with "got: $output"
	bash_complete --sysroot "$root" show e
	[ "$output" = eth1 ] || fail_with "got: $output"
	bash_complete --sysroot "$root" list --group ""
	[ "$output" = "$(lines 0 3 4 5)" ] || fail_with "got: $output"
	# --sysroot after the command counts too.
	bash_complete list --sysroot "$root" --device 0000:00:1f
	[ "$output" = "$(lines 0000:00:1f.0 0000:00:1f.2 0000:00:1f.3)" ] || fail_with "got: $output"
}

@test "bash: driver names, and nothing for a free-form argument" {
	local root
	root=$(sysroot variant)
	bash_complete --sysroot "$root" list --driver ""
	local want
	want=$( (echo none; ls "$root/sys/bus/pci/drivers") | sort)
	[ "$output" = "$want" ] || fail_with "want: $want" "got: $output"
	bash_complete list --class ""
	[ -z "$output" ] || fail_with "got: $output"
	bash_complete doctor ""
	[ -z "$output" ] || fail_with "doctor takes no arguments, got: $output"
}

@test "bash: files for snapshot, directories for --sysroot" {
	local dir="$BATS_TEST_TMPDIR/c"
	mkdir -p "$dir/sub" && : >"$dir/file.tar"
	bash_complete snapshot "$dir/f"
	[ "$output" = "$dir/file.tar" ] || fail_with "got: $output"
	bash_complete --sysroot "$dir/"
	[ "$output" = "$dir/sub" ] || fail_with "got: $output"
}

# Every command and every long option of the table, for one shell.
consistency() {
	local complete=$1 c o missing=""
	$complete ""
	for c in $(commands); do grep -qx -- "$c" <<<"$output" || missing+=" $c"; done
	for c in $(commands); do
		$complete "$c" --
		for o in $("$IOMMUCTL" help "$c" | grep -oE -- '--[a-z][a-z-]*' | sort -u); do
			grep -qx -- "$o" <<<"$output" || missing+=" $c:$o"
		done
	done
	[ -z "$missing" ] || fail_with "$complete misses:$missing"
}

@test "bash: every command and long option of the table completes" {
	consistency bash_complete
}

@test "zsh: the script parses, and every command and long option completes" {
	command -v zsh >/dev/null || skip "zsh is not installed (apt-get install zsh)"
	zsh -n "$COMPLETIONS/_iommuctl"
	consistency zsh_complete
	zsh_complete --sysroot "$(sysroot qemu-q35)" list --group ""
	[ "$output" = "$(lines 0 3 4 5)" ] || fail_with "got: $output"
}

@test "fish: the script parses, and every command and long option completes" {
	command -v fish >/dev/null || skip "fish is not installed (apt-get install fish)"
	fish -n "$COMPLETIONS/iommuctl.fish"
	consistency fish_complete
	fish_complete --sysroot "$(sysroot qemu-q35)" show 0000:01
	[ "$output" = "$(lines 0000:01:01.0 0000:01:02.0)" ] || fail_with "got: $output"
}

@test "help --commands and --options: the machine interface" {
	run --separate-stderr "$IOMMUCTL" help --commands
	assert_status 0
	[ "$(cut -f1 <<<"$output")" = "$(commands)" ] || fail_with "got: $output"
	run --separate-stderr "$IOMMUCTL" help --options list
	assert_status 0
	grep -qx $'option\t--group\t-g\tN\tgroup' <<<"$output" || fail_with "got: $output"
	[ "$(tail -n1 <<<"$output")" = $'args\t-' ] || fail_with "got: $output"
	run --separate-stderr "$IOMMUCTL" help --options nosuch
	assert_error 2 "iommuctl: nosuch: unknown command" "Try 'iommuctl help --help'."
}
