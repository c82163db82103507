#!/usr/bin/env bash
# scripts/test-all.sh: build, run the unit tests, start a throw-away fleet on
# its own ports under .state/test (wiped at every start, never touching a
# running dev fleet), run the integration tests against it, stop it; then the
# same again with an AddressSanitizer + UndefinedBehaviorSanitizer build.
# The last line is always `N passed, N failed`; the exit status is 0 only when
# nothing failed.
#
#   scripts/test-all.sh           both passes (release build/, sanitizers build-asan/)
#   scripts/test-all.sh --quick   release pass only (or SHOP_TEST_QUICK=1)
#
# What counts: each check in scripts/checks/, each ctest test, each
# storefront unit test (vitest), each browser test (frontend/e2e/, headless
# Chromium against the fleet) and each node integration test (pass /
# fail+cancelled), plus one failure for each step that could not
# run its tests (build, fleet start-up), each daemon that died during the
# tests, each daemon log with a sanitizer report, and each daemon that had to
# be SIGKILLed because it did not exit within 10 s of SIGTERM.
#
# Ports (overridable with TEST_<NAME>, e.g. TEST_PG_PORT=35432):
#   GATEWAY_PORT=29000 PRODUCT_PORT=28004 USER_PORT=28005 CART_PORT=28006 ORDER_PORT=28001
#   PAYMENT_PORT=28002 EMAIL_PORT=28003 PG_PORT=25432 RABBIT_PORT=25682
#   RABBIT_MGMT_PORT=25683 RABBIT_DIST_PORT=25684 EPMD_PORT=24369
#   REDIS_PORT=26379 SMTP_PORT=21025
set -euo pipefail

# shellcheck source=scripts/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=scripts/lib/fleet.sh
. "$SHOP_ROOT/scripts/lib/fleet.sh"

cd "$SHOP_ROOT"

QUICK=${SHOP_TEST_QUICK:-0}
for arg in "$@"; do
	case $arg in
	--quick) QUICK=1 ;;
	-h | --help)
		sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	*) die "unknown argument: $arg (try --help)" ;;
	esac
done

STATE_ROOT=${SHOP_TEST_STATE_ROOT:-$SHOP_ROOT/.state/test}
FLEET_NAME='test'
GATEWAY_PORT=${TEST_GATEWAY_PORT:-29000}
PRODUCT_PORT=${TEST_PRODUCT_PORT:-28004}
USER_PORT=${TEST_USER_PORT:-28005}
CART_PORT=${TEST_CART_PORT:-28006}
ORDER_PORT=${TEST_ORDER_PORT:-28001}
PAYMENT_PORT=${TEST_PAYMENT_PORT:-28002}
EMAIL_PORT=${TEST_EMAIL_PORT:-28003}
PG_PORT=${TEST_PG_PORT:-25432}
RABBIT_PORT=${TEST_RABBIT_PORT:-25682}
RABBIT_MGMT_PORT=${TEST_RABBIT_MGMT_PORT:-25683}
RABBIT_DIST_PORT=${TEST_RABBIT_DIST_PORT:-25684}
EPMD_PORT=${TEST_EPMD_PORT:-24369}
REDIS_PORT=${TEST_REDIS_PORT:-26379}
SMTP_PORT=${TEST_SMTP_PORT:-21025}
PG_FAST=1
# The integration tests send thousands of requests from 127.0.0.1 in
# parallel; the limits themselves are tested by gateway/tests/smoke.sh.
RATE_LIMIT_PER_ADDRESS=${TEST_RATE_LIMIT_PER_ADDRESS:-100000}
RATE_LIMIT_PER_USER=${TEST_RATE_LIMIT_PER_USER:-100000}
RESERVATION_SWEEP_INTERVAL_S=1
PORT_VAR_PREFIX=TEST_ # port conflicts name TEST_PG_PORT etc.
DAEMON_START_TIMEOUT=${DAEMON_START_TIMEOUT:-60}
INTEGRATION_TIMEOUT=${INTEGRATION_TIMEOUT:-900}

PASSED=0
FAILED=0
FLEET_UP=0
PASSES=(release)
((QUICK)) || PASSES+=(asan)
FLEET_STEPS=(keys postgres rabbitmq redis smtp daemons seed)
# cleanup, packages, checks, storefront build and unit tests, then per pass:
# build, unit tests, the fleet steps, browser tests, integration tests, stop.
STEP_TOTAL=$((5 + ${#PASSES[@]} * (${#FLEET_STEPS[@]} + 5)))

note() { # an indented line under the current step
	printf '        %s\n' "$*"
}

step_skip() {
	_step_header "$1"
	printf 'skipped (%s)\n' "$2"
}

# show_section LOG REGEX MAX: print up to MAX lines of LOG from the first line
# matching REGEX.
show_section() {
	local log=$1 re=$2 max=$3 n
	n=$(grep -n -m 1 -E -- "$re" "$log" 2>/dev/null | cut -d: -f1) || true
	[[ -n $n ]] || return 0
	sed -n "${n},$((n + max - 1))p" "$log" | sed 's/^/    /'
	echo
}

# ---------------------------------------------------------------- steps

# Stop what an earlier, interrupted run left behind, then wipe .state/test.
cleanup_previous() {
	local d
	for d in "$STATE_ROOT"/*/; do
		[[ -d $d/pids ]] || continue
		say "stopping what is left of $d"
		# (a step runs in a subshell: changing STATE here stays here)
		STATE=${d%/}
		BUILD_DIR=$SHOP_ROOT/build # unused by fleet_stop
		fleet_init
		fleet_stop || true
	done
	if [[ -e $STATE_ROOT ]]; then
		say "removing $STATE_ROOT"
		as_root rm -rf "$STATE_ROOT"
	fi
	mkdir -p "$STATE_ROOT/logs"
}

# Every executable in scripts/checks/ (static checks of the source tree, e.g.
# the layering rule) counts as one test.
run_checks() {
	local c rc=0
	for c in "$SHOP_ROOT"/scripts/checks/*; do
		[[ -f $c && -x $c ]] || continue
		if "$c"; then
			printf 'CHECK ok     %s\n' "${c#"$SHOP_ROOT"/}"
		else
			printf 'CHECK FAILED %s\n' "${c#"$SHOP_ROOT"/}"
			rc=1
		fi
	done
	return "$rc"
}

count_checks() {
	local log=$1 ok failed
	ok=$(grep -c '^CHECK ok ' "$log") || true
	failed=$(grep -c '^CHECK FAILED ' "$log") || true
	PASSED=$((PASSED + ok))
	FAILED=$((FAILED + failed))
	note "checks: $ok passed, $failed failed"
	if ((failed > 0)); then
		sed 's/^/    /' "$log"
	fi
}

# Unit tests run once the fleet's PostgreSQL and Redis are up: the pool,
# migration and Redis client tests talk to them (their own schema, keys
# under a prefix, Redis database 2), and would only skip without them.
run_ctest() {
	SHOP_TEST_DATABASE_URL=$(db_url product) \
		SHOP_TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/2 \
		SHOP_TEST_AMQP_URL=$AMQP_URL \
		ctest --test-dir "$BUILD_DIR" --output-on-failure
}

run_integration() {
	[[ -d $SHOP_ROOT/tests/integration ]] || die "no tests/integration folder"
	set -a
	# shellcheck source=/dev/null
	. "$STATE/fleet.env"
	set +a
	node --version
	# (no --test-force-exit: with it, node 20 exits before the TAP reporter
	# has written its summary)
	timeout "$INTEGRATION_TIMEOUT" node --test \
		--test-reporter=spec --test-reporter-destination=stdout \
		--test-reporter=tap --test-reporter-destination="$STATE/logs/integration.tap" \
		tests/integration/
}

# The storefront's unit tests (vitest, jsdom: no fleet needed).
run_storefront_unit() {
	rm -f "$STATE_ROOT/logs/vitest.json"
	(cd "$SHOP_ROOT/frontend" && npx vitest run --reporter=default \
		--reporter=json --outputFile="$STATE_ROOT/logs/vitest.json")
}

# The storefront in headless Chromium against this pass's fleet. The
# sanitizer fleet is slower: the tests' waits scale with SHOP_E2E_SLOWDOWN.
run_e2e() {
	set -a
	# shellcheck source=/dev/null
	. "$STATE/fleet.env"
	set +a
	local slow=1
	[[ ${ASAN_OPTIONS:-} ]] && slow=3
	SHOP_E2E_OUTPUT=$SHOP_ROOT/test-output/e2e/${STATE##*/} SHOP_E2E_SLOWDOWN=$slow \
		timeout "$INTEGRATION_TIMEOUT" node --test \
		--test-reporter=spec --test-reporter-destination=stdout \
		--test-reporter=tap --test-reporter-destination="$STATE/logs/e2e.tap" \
		frontend/e2e/
}

# ---------------------------------------------------------------- counting

# count_vitest LOG JSON RC
count_vitest() {
	local log=$1 json=$2 rc=$3 pass fail
	if [[ -s $json ]]; then
		pass=$(jq -r '.numPassedTests' "$json" 2>/dev/null) || pass=
		fail=$(jq -r '.numFailedTests' "$json" 2>/dev/null) || fail=
	fi
	if ! [[ ${pass:-} =~ ^[0-9]+$ && ${fail:-} =~ ^[0-9]+$ ]]; then
		FAILED=$((FAILED + 1))
		note "storefront unit tests: no summary (exit $rc; counted as 1 failure); last lines of $log:"
		tail -n 20 "$log" | sed 's/^/    /'
		return
	fi
	PASSED=$((PASSED + pass))
	FAILED=$((FAILED + fail))
	note "storefront unit tests: $pass passed, $fail failed"
	if ((fail > 0)); then
		grep -E '(FAIL|×|✗) ' "$log" | head -n 40 | sed 's/^/    /'
	elif ((rc != 0)); then
		FAILED=$((FAILED + 1))
		note "storefront unit tests: vitest exited $rc with no failed test (counted as 1 failure)"
	elif ((pass == 0)); then
		FAILED=$((FAILED + 1))
		note "storefront unit tests: none ran (counted as 1 failure)"
	fi
}

# count_ctest LOG RC
count_ctest() {
	local log=$1 rc=$2 line failed total
	line=$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1) || true
	if [[ $line =~ ([0-9]+)\ tests?\ failed\ out\ of\ ([0-9]+) ]]; then
		failed=${BASH_REMATCH[1]}
		total=${BASH_REMATCH[2]}
		PASSED=$((PASSED + total - failed))
		FAILED=$((FAILED + failed))
		note "unit tests: $((total - failed)) passed, $failed failed"
		if ((failed > 0)); then
			show_section "$log" 'The following tests FAILED' 40
		fi
	elif grep -q 'No tests were found' "$log"; then
		note "unit tests: none found in $BUILD_DIR"
		((rc == 0)) || FAILED=$((FAILED + 1))
	else
		FAILED=$((FAILED + 1))
		note "unit tests: ctest gave no summary (counted as 1 failure); last lines of $log:"
		tail -n 20 "$log" | sed 's/^/    /'
	fi
}

# count_node LOG TAP RC [WHAT]
count_node() {
	local log=$1 tap=$2 rc=$3 what=${4:-integration tests} pass fail cancelled
	# The TAP file's closing summary; the spec reporter's (ℹ pass N) otherwise.
	pass=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$tap" 2>/dev/null | tail -n 1)
	fail=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$tap" 2>/dev/null | tail -n 1)
	cancelled=$(sed -n 's/^# cancelled \([0-9]*\)$/\1/p' "$tap" 2>/dev/null | tail -n 1)
	if [[ -z $pass || -z $fail ]]; then
		pass=$(sed -n 's/^ℹ pass \([0-9]*\)$/\1/p' "$log" | tail -n 1)
		fail=$(sed -n 's/^ℹ fail \([0-9]*\)$/\1/p' "$log" | tail -n 1)
		cancelled=$(sed -n 's/^ℹ cancelled \([0-9]*\)$/\1/p' "$log" | tail -n 1)
	fi
	if [[ -z $pass || -z $fail ]]; then
		FAILED=$((FAILED + 1))
		note "$what: no summary (exit $rc; counted as 1 failure); last lines of $log:"
		tail -n 20 "$log" | sed 's/^/    /'
		return
	fi
	fail=$((fail + ${cancelled:-0}))
	PASSED=$((PASSED + pass))
	FAILED=$((FAILED + fail))
	note "$what: $pass passed, $fail failed"
	if ((fail > 0)); then
		show_section "$log" '^✖ failing tests:' 80
	elif ((rc != 0)); then
		FAILED=$((FAILED + 1))
		note "$what: node exited $rc with no failed test (counted as 1 failure)"
	elif ((pass == 0)); then
		note "$what: none found (files must be named *.test.js / *.test.mjs)"
	fi
}

# A daemon that died while the tests ran (a crash the tests did not notice).
count_dead_daemons() {
	local line
	for line in "${SHOP_DAEMONS[@]}"; do
		daemon_fields "$line"
		if ! is_running "$D_NAME"; then
			FAILED=$((FAILED + 1))
			note "$D_NAME is no longer running after the integration tests; last lines of its log:"
			tail -n 20 "$STATE/logs/$D_NAME.log" | sed 's/^/    /'
		fi
	done
}

# Sanitizer reports and SIGKILLed daemons, after the fleet has stopped (leak
# reports are written at exit).
count_daemon_problems() {
	local line log n
	for line in "${SHOP_DAEMONS[@]}"; do
		daemon_fields "$line"
		log=$STATE/logs/$D_NAME.log
		[[ -f $log ]] || continue
		n=$(grep -c -E 'ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:' "$log") || true
		if ((n > 0)); then
			FAILED=$((FAILED + 1))
			note "sanitizer report in $log:"
			show_section "$log" 'ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:' 40
		fi
	done
	if [[ -s $STATE/killed ]]; then
		while IFS= read -r line; do
			FAILED=$((FAILED + 1))
			note "$line"
		done <"$STATE/killed"
	fi
}

# ---------------------------------------------------------------- one pass

# run_pass NAME BUILD_FOLDER [cmake flags...]
run_pass() {
	local pass=$1 build=$2 s log ok=1
	shift 2
	STATE=$STATE_ROOT/$pass
	BUILD_DIR=$SHOP_ROOT/$build
	fleet_init
	printf '\n== %s pass: %s, state %s\n' "$pass" "$build/" "${STATE#"$SHOP_ROOT"/}"
	if [[ $pass == asan ]]; then
		export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
		export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
	else
		unset ASAN_OPTIONS UBSAN_OPTIONS
	fi

	step_soft "$pass: build" fleet_build "$@"
	if ((STEP_RC != 0)); then
		FAILED=$((FAILED + 1))
		step_skip "$pass: unit tests" "no build"
		for s in "${FLEET_STEPS[@]}"; do step_skip "$pass: $s" "no build"; done
		step_skip "$pass: browser tests" "no build"
		step_skip "$pass: integration tests" "no build"
		step_skip "$pass: stop" "nothing started"
		return 0
	fi

	FLEET_UP=1
	for s in "${FLEET_STEPS[@]}"; do
		if ((ok)); then
			step_soft "$pass: $s" "fleet_$s"
			if ((STEP_RC != 0)); then
				ok=0
				FAILED=$((FAILED + 1))
			fi
		else
			step_skip "$pass: $s" "an earlier step failed"
		fi
	done

	STEP_TAIL=0 step_soft "$pass: unit tests" run_ctest
	count_ctest "$(step_log "$pass: unit tests")" "$STEP_RC"

	if ((ok)); then
		fleet_write_env
		# before the integration tests, on the freshly seeded catalog (the
		# screenshots show it as a shopper would)
		STEP_TAIL=0 step_soft "$pass: browser tests" run_e2e
		count_node "$(step_log "$pass: browser tests")" "$STATE/logs/e2e.tap" "$STEP_RC" "browser tests"
		STEP_TAIL=0 step_soft "$pass: integration tests" run_integration
		log=$(step_log "$pass: integration tests")
		count_node "$log" "$STATE/logs/integration.tap" "$STEP_RC"
		count_dead_daemons
	else
		step_skip "$pass: browser tests" "the fleet did not start"
		step_skip "$pass: integration tests" "the fleet did not start"
	fi

	step_soft "$pass: stop" fleet_stop
	FLEET_UP=0
	((STEP_RC == 0)) || FAILED=$((FAILED + 1))
	count_daemon_problems
}

# ---------------------------------------------------------------- main

finish() {
	local rc=$?
	trap - EXIT INT TERM
	if ((FLEET_UP)); then
		echo
		echo "stopping the test fleet"
		(fleet_stop >>"$STATE/logs/stop-on-exit.log" 2>&1) || true
	fi
	if ((rc != 0 && FAILED == 0)); then
		FAILED=1 # interrupted or an internal error: never report success
	fi
	echo
	printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
	if ((FAILED > 0 || STEP_FAILED > 0 || rc != 0)); then
		exit 1
	fi
	exit 0
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if ((QUICK)); then
	what="quick: release pass only"
else
	what="release + sanitizer passes"
fi
printf 'shop test-all (%s), state %s\n' "$what" "${STATE_ROOT#"$SHOP_ROOT"/}"
# The cleanup step wipes .state/test: its log lives in a temporary folder
# until .state/test exists again.
STATE=$(mktemp -d "${TMPDIR:-/tmp}/shop-test-cleanup.XXXXXX")
step_soft cleanup cleanup_previous
if mv "$STATE/logs/cleanup.log" "$STATE_ROOT/logs/cleanup.log" 2>/dev/null; then
	rm -rf "$STATE"
fi
STATE=$STATE_ROOT
if ((STEP_RC != 0)); then
	FAILED=$((FAILED + 1))
	exit 1
fi

if [[ ${SHOP_SKIP_PACKAGES:-0} == 1 ]]; then
	step_skip packages "SHOP_SKIP_PACKAGES=1"
else
	step_soft packages fleet_packages
	if ((STEP_RC != 0)); then
		FAILED=$((FAILED + 1))
		exit 1
	fi
fi

STEP_TAIL=0 step_soft checks run_checks
count_checks "$(step_log checks)"

# What the gateway serves (frontend/dist), then its unit tests. A failed
# build counts once; the browser tests then fail on their own.
step_soft storefront fleet_storefront
((STEP_RC == 0)) || FAILED=$((FAILED + 1))
STEP_TAIL=0 step_soft "storefront: unit tests" run_storefront_unit
count_vitest "$(step_log "storefront: unit tests")" "$STATE_ROOT/logs/vitest.json" "$STEP_RC"

run_pass release build
if ((!QUICK)); then
	run_pass asan build-asan -DSHOP_ASAN=ON -DSHOP_UBSAN=ON
fi
