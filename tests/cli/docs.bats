#!/usr/bin/env bats
# The command table is the single source: every command and long option the
# binary knows must be documented, in iommuctl(8) or in the command's own page
# iommuctl-COMMAND(8), and iommuctl(8) must not document a command the binary
# lacks.

load helpers

MAN="$REPO_ROOT/man/iommuctl.8.scd"

# The pages that may document command $1: the overview and its own page.
pages_for() {
	echo "$MAN"
	[ -f "$REPO_ROOT/man/iommuctl-$1.8.scd" ] && echo "$REPO_ROOT/man/iommuctl-$1.8.scd"
	return 0
}

# The commands as the binary's own help lists them.
commands() {
	"$IOMMUCTL" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF && !/^Commands:/ { print $1 }'
}

@test "help lists the commands, and there are some" {
	run commands
	[ "$status" -eq 0 ]
	[[ "$output" == *list* && "$output" == *check* ]] || fail_with "commands: $output"
}

@test "every command has a section in iommuctl(8)" {
	local c missing=""
	for c in $(commands); do
		grep -qE "^\*$c\*" "$MAN" || [ -f "$REPO_ROOT/man/iommuctl-$c.8.scd" ] || missing+=" $c"
	done
	[ -z "$missing" ] || fail_with "not in $MAN:$missing"
}

@test "every long option of every command appears in iommuctl(8)" {
	local c o missing=""
	for c in $(commands); do
		for o in $("$IOMMUCTL" help "$c" | grep -oE -- '--[a-z][a-z-]*' | sort -u); do
			# shellcheck disable=SC2046 # one or two page paths
			grep -qF -- "*$o*" $(pages_for "$c") || missing+=" $c:$o"
		done
	done
	[ -z "$missing" ] || fail_with "options not in $MAN:$missing"
}

@test "iommuctl(8) documents no command the binary lacks" {
	local documented c extra=""
	documented=$(sed -n '/^# COMMANDS/,/^# OPTIONS/p' "$MAN" | grep -oE '^\*[a-z-]+\*' | tr -d '*')
	for c in $documented; do
		commands | grep -qx "$c" || extra+=" $c"
	done
	[ -z "$extra" ] || fail_with "documented but unknown to the binary:$extra"
}

@test "every exit status in the header is documented in iommuctl(8)" {
	local code missing=""
	for code in $(grep -oE 'EXIT_[A-Z_]+ = [0-9]+' "$REPO_ROOT/cmd/iommuctl.h" | awk '{ print $3 }'); do
		grep -qE "^\*$code\*" "$MAN" || missing+=" $code"
	done
	[ -z "$missing" ] || fail_with "exit statuses not in $MAN:$missing"
}
