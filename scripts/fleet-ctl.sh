#!/usr/bin/env bash
# scripts/fleet-ctl.sh STATE_DIR COMMAND [NAME]: act on one part of a running
# fleet (the dev fleet's .state/dev, or a test fleet's .state/test/<pass>),
# for fault tests and operators:
#   kill NAME       SIGKILL the daemon NAME (a crash: no shutdown at all)
#   stop NAME       SIGTERM it and wait (its clean shutdown)
#   start NAME      start it again as the fleet started it, wait for /health
#   restart-postgres  stop PostgreSQL (fast: connections are cut) and start it
# NAME is a daemon of SHOP_DAEMONS (scripts/lib/fleet.sh). The fleet's
# ports and knobs come from STATE_DIR/fleet.vars, written by dev-up.sh and
# test-all.sh. Only processes of that fleet are touched, by recorded PID.
set -euo pipefail

# shellcheck source=scripts/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=scripts/lib/fleet.sh
. "$SHOP_ROOT/scripts/lib/fleet.sh"

(($# >= 2)) || die "usage: scripts/fleet-ctl.sh STATE_DIR kill|stop|start NAME | restart-postgres"
vars=$1/fleet.vars
[[ -f $vars ]] || die "no $vars: is a fleet up there (dev-up.sh or test-all.sh writes it)?"
# shellcheck disable=SC1090
. "$vars"
fleet_init
cd "$SHOP_ROOT"

find_daemon() {
	local line
	for line in "${SHOP_DAEMONS[@]}"; do
		daemon_fields "$line"
		[[ $D_NAME == "$1" ]] && return 0
	done
	die "no daemon '$1' in SHOP_DAEMONS"
}

case $2 in
kill)
	find_daemon "${3:?NAME}"
	pid=$(read_pid "$D_NAME") || die "$D_NAME has no recorded PID"
	is_running "$D_NAME" || die "$D_NAME (pid $pid) is not running"
	kill -KILL "$pid"
	while pid_alive "$pid"; do sleep 0.05; done
	clear_pid "$D_NAME"
	say "killed $D_NAME (pid $pid) with SIGKILL"
	;;
stop)
	find_daemon "${3:?NAME}"
	stop_pid "$D_NAME" 10
	;;
start)
	find_daemon "${3:?NAME}"
	is_running "$D_NAME" && die "$D_NAME already runs (pid $(read_pid "$D_NAME"))"
	daemon_start
	wait_http "http://127.0.0.1:$D_PORT/health" "$DAEMON_START_TIMEOUT" "$D_NAME" ||
		die "$D_NAME did not answer /health (log: $STATE/logs/$D_NAME.log)"
	say "$D_NAME answers on http://127.0.0.1:$D_PORT/health"
	;;
restart-postgres)
	pg_running || die "PostgreSQL of $STATE is not running"
	as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 stop
	as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_SERVER_LOG" -w -t 60 start >/dev/null
	say "PostgreSQL of $STATE restarted"
	;;
*) die "unknown command '$2'" ;;
esac
