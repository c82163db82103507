# shellcheck shell=bash
# scripts/lib/common.sh: the step runner and small process helpers shared by
# dev-up.sh, dev-down.sh and test-all.sh. Source it; it defines functions and
# a few variables, and runs nothing.
#
# Contract with the caller:
#   STATE       the state folder (logs/, pids/, secrets/, ... live under it)
#   STEP_TOTAL  how many steps will run (for the "[ 3/12]" counter); optional
#
# step "name" cmd args...     runs cmd with stdout+stderr to $STATE/logs/<name>.log,
#                             prints one line with the timing; on failure prints
#                             the step, the log path and the log's last 20 lines
#                             and exits non-zero.
# STEP_TAIL=0 step...          on failure, name the log but do not print its
#                             tail (the caller shows what matters itself).
# step_soft "name" cmd...     same, but does not exit: it returns 0 and leaves
#                             the command's status in STEP_RC (test-all keeps
#                             going to count results).
#
# Never call step or step_soft inside `if`, `while`, `!`, `&&` or `||`: bash
# then ignores `set -e` in everything the step runs (a failing line would not
# stop it). step_run detects that and refuses.
# The command runs in a subshell with `set -e` in force (also inside the
# functions it calls), so a step is made of shell functions that may fail at
# any line. Because it is a subshell, a step cannot set variables for the
# caller: steps communicate through files under $STATE.

# Root of the checkout (scripts/lib/.. /..).
SHOP_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export SHOP_ROOT

STEP_N=${STEP_N:-0}
STEP_TOTAL=${STEP_TOTAL:-0}
STEP_FAILED=${STEP_FAILED:-0}
STEP_WIDTH=${STEP_WIDTH:-28}

if [[ -t 1 && -z ${NO_COLOR:-} ]]; then
	C_OK=$'\e[32m' C_FAIL=$'\e[31m' C_DIM=$'\e[2m' C_OFF=$'\e[0m'
else
	C_OK='' C_FAIL='' C_DIM='' C_OFF=''
fi

# Print to stderr and exit.
die() {
	printf '%s\n' "$*" >&2
	exit 1
}

# Log a line to stdout (inside a step it goes to the step's log).
say() {
	printf '%s\n' "$*"
}

now_ms() {
	local s ns
	IFS=. read -r s ns <<<"$(date +%s.%N)"
	printf '%d' $((s * 1000 + 10#${ns:0:3}))
}

fmt_duration() { # milliseconds -> "2.1s" / "1m05s"
	local ms=$1
	if ((ms < 60000)); then
		printf '%d.%ds' $((ms / 1000)) $((ms % 1000 / 100))
	else
		printf '%dm%02ds' $((ms / 60000)) $((ms % 60000 / 1000))
	fi
}

# The log file name of a step: "asan: unit tests" -> asan-unit-tests.log
step_log() {
	local slug
	slug=$(printf '%s' "$1" | tr -cs 'A-Za-z0-9_.-' '-')
	slug=${slug#-}
	slug=${slug%-}
	printf '%s/logs/%s.log' "$STATE" "$slug"
}

_step_header() {
	local name=$1 dots
	STEP_N=$((STEP_N + 1))
	dots=$(printf '%*s' $((STEP_WIDTH - ${#name} > 2 ? STEP_WIDTH - ${#name} : 2)) '' | tr ' ' '.')
	if ((STEP_TOTAL > 0)); then
		printf '[%2d/%2d] %s %s ' "$STEP_N" "$STEP_TOTAL" "$name" "$dots"
	else
		printf '[%2d] %s %s ' "$STEP_N" "$name" "$dots"
	fi
}

# step_run NAME CMD...: the common part of step and step_soft; sets STEP_RC.
step_run() {
	local name=$1 log t0 t1 rc
	shift
	log=$(step_log "$name")
	mkdir -p "$STATE/logs"
	local probe
	probe=$(
		(
			set -e
			false
			echo leaked
		)
		true
	)
	if [[ $probe == leaked ]]; then
		die "internal error: step \"$name\" called in a conditional context (set -e would be ignored)"
	fi
	_step_header "$name"
	t0=$(now_ms)
	# Run outside any `if`/`||` context so that `set -e` really applies inside
	# the subshell and the functions it calls.
	set +e
	(
		set -euo pipefail
		"$@"
	) </dev/null >"$log" 2>&1
	rc=$?
	set -e
	t1=$(now_ms)
	STEP_RC=$rc
	if ((rc == 0)); then
		printf '%sok%s %s(%s)%s\n' "$C_OK" "$C_OFF" "$C_DIM" "$(fmt_duration $((t1 - t0)))" "$C_OFF"
	else
		STEP_FAILED=$((STEP_FAILED + 1))
		printf '%sFAILED%s (%s, exit %d)\n' "$C_FAIL" "$C_OFF" "$(fmt_duration $((t1 - t0)))" "$rc"
		printf '        step "%s" failed; log: %s\n' "$name" "$log"
		if [[ ${STEP_TAIL:-1} != 0 ]]; then
			printf -- '--- last 20 lines of %s ---\n' "$log"
			tail -n 20 "$log" | sed 's/^/    /'
			printf -- '---\n\n'
		fi
	fi
}

step() {
	step_run "$@"
	if ((STEP_RC != 0)); then
		exit "$STEP_RC"
	fi
}

step_soft() {
	step_run "$@"
	return 0
}

# ---------------------------------------------------------------- privileges

# as_root CMD...: run as root (directly when root, through sudo otherwise).
as_root() {
	if ((EUID == 0)); then
		"$@"
	else
		sudo "$@"
	fi
}

# ---------------------------------------------------------------- PID files
#
# $STATE/pids/<name>.pid holds the PID. Beside it, <name>.start holds the
# process start time (field 22 of /proc/PID/stat), so that a PID recycled by
# the kernel after a reboot is never mistaken for ours (nor killed).

pid_file() { printf '%s/pids/%s.pid' "$STATE" "$1"; }

proc_start_time() { # PID -> start time in clock ticks since boot
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) } # the command may contain spaces and parentheses
	# shellcheck disable=SC2086
	set -- $stat
	printf '%s' "${20}"
}

# pid_alive PID: the process exists and is not a zombie (an exited child
# that its parent, often init, has not reaped yet).
pid_alive() {
	local stat
	kill -0 "$1" 2>/dev/null || return 1
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat:0:1} != Z ]]
}

# record_pid NAME PID
record_pid() {
	local name=$1 pid=$2
	mkdir -p "$STATE/pids"
	printf '%s\n' "$pid" >"$STATE/pids/$name.pid"
	proc_start_time "$pid" >"$STATE/pids/$name.start" || true
}

# read_pid NAME: print the recorded PID (or nothing).
read_pid() {
	local f
	f=$(pid_file "$1")
	[[ -s $f ]] || return 1
	local pid
	read -r pid <"$f" || true
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	printf '%s' "$pid"
}

# is_running NAME: the recorded process exists (kill -0) and is the one we
# recorded (same start time when known).
is_running() {
	local name=$1 pid start
	pid=$(read_pid "$name") || return 1
	pid_alive "$pid" || return 1
	if [[ -s $STATE/pids/$name.start ]]; then
		read -r start <"$STATE/pids/$name.start" || true
		[[ $(proc_start_time "$pid" 2>/dev/null) == "$start" ]] || return 1
	fi
	return 0
}

clear_pid() {
	rm -f "$STATE/pids/$1.pid" "$STATE/pids/$1.start" "$STATE/pids/$1.binsum"
}

# stop_pid NAME [TIMEOUT_S]: SIGTERM the recorded process, wait up to TIMEOUT_S
# (10) seconds, then SIGKILL. Returns 2 when SIGKILL was needed.
stop_pid() {
	local name=$1 timeout=${2:-10} pid deadline rc=0
	if ! is_running "$name"; then
		clear_pid "$name"
		return 0
	fi
	pid=$(read_pid "$name")
	say "stopping $name (pid $pid)"
	kill -TERM "$pid" 2>/dev/null || true
	deadline=$((SECONDS + timeout))
	while pid_alive "$pid" && ((SECONDS < deadline)); do
		sleep 0.1
	done
	if pid_alive "$pid"; then
		say "$name (pid $pid) still running after ${timeout}s: SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
		rc=2
		while pid_alive "$pid"; do sleep 0.1; done
	fi
	clear_pid "$name"
	return "$rc"
}

# start_bg NAME LOGFILE CMD...: start CMD in the background in its own session
# (so it outlives the script and a Ctrl-C in the terminal), stdin from
# /dev/null, stdout+stderr appended to LOGFILE, and record its PID.
start_bg() {
	local name=$1 log=$2 pid
	shift 2
	mkdir -p "$(dirname "$log")"
	# Not a process-group leader here, so setsid execs without forking and $!
	# is the PID of CMD itself.
	setsid "$@" </dev/null >>"$log" 2>&1 &
	pid=$!
	record_pid "$name" "$pid"
	say "started $name (pid $pid), log $log"
}

# ---------------------------------------------------------------- ports

# port_open PORT [HOST]: something accepts TCP connections there.
port_open() {
	local port=$1 host=${2:-127.0.0.1}
	# shellcheck disable=SC2016 # expanded by the inner bash
	timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$host" "$port" 2>/dev/null
}

# port_owner PORT: best effort description of who listens on PORT.
port_owner() {
	local port=$1 line
	if command -v ss >/dev/null 2>&1; then
		line=$(ss -Hltnp "sport = :$port" 2>/dev/null | head -n 1) || true
		if [[ $line =~ users:\(\(\"([^\"]+)\",pid=([0-9]+) ]]; then
			printf '%s (pid %s)' "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
			return 0
		fi
	fi
	printf 'another process'
}

# require_free_port PORT VARNAME: fail with a message naming the variable
# (prefixed with PORT_VAR_PREFIX, e.g. TEST_ for test-all.sh).
require_free_port() {
	local port=$1 var=${PORT_VAR_PREFIX:-}$2
	if port_open "$port"; then
		die "port $port is already in use by $(port_owner "$port"), not by this fleet (state $STATE).
Stop that process, or choose another port: $var=<free port> $(basename "$0")"
	fi
}

# wait_port PORT TIMEOUT_S [WHAT] [PIDNAME]: wait until the port accepts
# connections; give up early if the recorded process PIDNAME died.
wait_port() {
	local port=$1 timeout=$2 what=${3:-port $1} pidname=${4:-}
	local deadline=$((SECONDS + timeout))
	until port_open "$port"; do
		if [[ -n $pidname ]] && ! is_running "$pidname"; then
			say "$what: process $pidname exited before listening on $port"
			return 1
		fi
		if ((SECONDS >= deadline)); then
			say "$what: nothing listens on 127.0.0.1:$port after ${timeout}s"
			return 1
		fi
		sleep 0.2
	done
}

# wait_http URL TIMEOUT_S [PIDNAME]: wait until URL answers 2xx.
wait_http() {
	local url=$1 timeout=$2 pidname=${3:-}
	local deadline=$((SECONDS + timeout))
	until curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; do
		if [[ -n $pidname ]] && ! is_running "$pidname"; then
			say "$url: process $pidname exited before answering"
			return 1
		fi
		if ((SECONDS >= deadline)); then
			say "$url: no 2xx answer after ${timeout}s; last attempt:"
			curl -sS -i --max-time 2 "$url" 2>&1 | head -n 20 || true
			return 1
		fi
		sleep 0.2
	done
}
