#!/usr/bin/env bash
# scripts/dev-down.sh: stop the development fleet started by dev-up.sh, by the
# PIDs it recorded under .state/dev/pids (and PostgreSQL by its data folder).
# Data (databases, queues, keys) stays; `rm -rf .state/dev` forgets it.
set -euo pipefail

# shellcheck source=scripts/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=scripts/lib/fleet.sh
. "$SHOP_ROOT/scripts/lib/fleet.sh"

cd "$SHOP_ROOT"

STATE=${SHOP_DEV_STATE:-$SHOP_ROOT/.state/dev}
FLEET_NAME=dev
BUILD_DIR=${BUILD_DIR:-$SHOP_ROOT/build}
# Ports only matter for the PostgreSQL socket path and rabbitmqctl.
GATEWAY_PORT=${GATEWAY_PORT:-9000}
PRODUCT_PORT=${PRODUCT_PORT:-8004}
USER_PORT=${USER_PORT:-8005}
CART_PORT=${CART_PORT:-8006}
ORDER_PORT=${ORDER_PORT:-8001}
PAYMENT_PORT=${PAYMENT_PORT:-8002}
EMAIL_PORT=${EMAIL_PORT:-8003}
PG_PORT=${PG_PORT:-5432}
RABBIT_PORT=${RABBIT_PORT:-5672}
RABBIT_MGMT_PORT=${RABBIT_MGMT_PORT:-15672}
RABBIT_DIST_PORT=${RABBIT_DIST_PORT:-25672}
EPMD_PORT=${EPMD_PORT:-4369}
REDIS_PORT=${REDIS_PORT:-6379}
SMTP_PORT=${SMTP_PORT:-1025}

if [[ ! -d $STATE ]]; then
	echo "nothing to stop: no ${STATE#"$SHOP_ROOT"/}"
	exit 0
fi
fleet_init

stop_daemons() {
	local i
	for ((i = ${#SHOP_DAEMONS[@]} - 1; i >= 0; i--)); do
		daemon_fields "${SHOP_DAEMONS[i]}"
		stop_service "$D_NAME" 10
	done
}

# stop_service NAME TIMEOUT: like stop_pid, but a SIGKILL is not a failure.
stop_service() {
	local rc=0
	stop_pid "$@" || rc=$?
	((rc == 0 || rc == 2))
}

STEP_TOTAL=6
step stop-daemons stop_daemons
step stop-smtp stop_service smtp 5
step stop-redis stop_service redis 10
step stop-rabbitmq rabbit_stop
step stop-postgres pg_stop
step check fleet_leftovers
echo "dev fleet stopped; nothing of it runs (state kept in ${STATE#"$SHOP_ROOT"/})."
