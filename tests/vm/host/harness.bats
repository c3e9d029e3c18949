#!/usr/bin/env bats
# The launcher itself: a guest that panics, hangs or whose payload fails must
# never pass.  Each test boots the bare "probe" topology (a few seconds).

bats_require_minimum_version 1.5.0

setup_file() {
	cd "$BATS_TEST_DIRNAME/../../.." || return 1
	export IOMMUCTL=${IOMMUCTL:-$PWD/build/iommuctl}
}

@test "a payload's exit status comes back unchanged" {
	run --separate-stderr tests/vm/run-vm.sh probe sh -c 'echo from-guest; exit 3'
	[ "$status" -eq 3 ] || { echo "status $status; stderr: $stderr"; return 1; }
	[[ "$output" == *from-guest* ]]
}

@test "a guest kernel panic is a failure (125) with the console tail shown" {
	run --separate-stderr tests/vm/run-vm.sh -t 60 probe sh -c 'echo c > /proc/sysrq-trigger; sleep 30'
	echo "$stderr" | tail -n 20
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"last console lines"* ]]
	[[ "$stderr" == *"sysrq"* || "$stderr" == *"Kernel panic"* ]]
}

@test "a hung guest is killed by the timeout and is a failure (125)" {
	local start=$SECONDS
	run --separate-stderr tests/vm/run-vm.sh -t 20 probe sleep 600
	echo "$stderr" | tail -n 10
	[ "$status" -eq 125 ]
	[ $((SECONDS - start)) -lt 60 ] || { echo "took $((SECONDS - start))s"; return 1; }
	[[ "$stderr" == *"last console lines"* ]]
}

@test "a panic at boot is retried once and said so; the payload then runs once" {
	res=$BATS_TEST_TMPDIR/res
	# init= given twice: the last wins, so the first boot has no init and panics.
	VM_APPEND_FIRST=init=/no-such-init run --separate-stderr tests/vm/run-vm.sh -r "$res" -t 60 probe sh -c 'echo ran >>/results/ran; echo from-guest'
	echo "$stderr" | tail -n 20
	[ "$status" -eq 0 ]
	[[ "$output" == *from-guest* ]]
	[[ "$stderr" == *"probe: the guest kernel panicked at boot, before the payload started (Kernel panic - not syncing: Requested init /no-such-init failed"*"booting once more"* ]]
	[ "$(cat "$res/ran")" = ran ]
	[[ "$(cat "$res/boot-retried")" == "Kernel panic - not syncing: Requested init /no-such-init failed"* ]]
}

@test "a boot that panics twice is a failure (125), never a third try" {
	res=$BATS_TEST_TMPDIR/res
	VM_APPEND=init=/no-such-init run --separate-stderr tests/vm/run-vm.sh -r "$res" -t 60 probe true
	echo "$stderr" | tail -n 20
	[ "$status" -eq 125 ]
	[ "$(grep -c 'booting once more' <<<"$stderr")" -eq 1 ]
	[[ "$stderr" == *"probe: guest kernel panicked again after a retried boot"* ]]
	[[ "$stderr" == *"last console lines"* ]]
}

@test "a panic once the payload runs is not retried" {
	run --separate-stderr tests/vm/run-vm.sh -t 60 probe sh -c 'echo c > /proc/sysrq-trigger; sleep 30'
	[ "$status" -eq 125 ]
	[[ "$stderr" != *"booting once more"* ]]
	[[ "$stderr" == *"probe: guest kernel panicked"* ]]
}

@test "every guest boots with no_timer_check" {
	run --separate-stderr tests/vm/run-vm.sh probe cat /proc/cmdline
	[ "$status" -eq 0 ]
	[[ " $output " == *" no_timer_check "* ]] || { echo "$output"; false; }
}
