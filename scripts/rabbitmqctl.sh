#!/usr/bin/env bash
# scripts/rabbitmqctl.sh ARGS...: rabbitmqctl against the fleet's own node
# (project-local HOME/cookie, epmd port and node name), e.g.
#   scripts/rabbitmqctl.sh list_queues name type messages arguments
# FLEET=test targets the test fleet (.state/test/release); ports as in
# dev-up.sh / test-all.sh, overridable the same way.
set -euo pipefail

# shellcheck source=scripts/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=scripts/lib/fleet.sh
. "$SHOP_ROOT/scripts/lib/fleet.sh"

case ${FLEET:-dev} in
dev)
	STATE=${SHOP_DEV_STATE:-$SHOP_ROOT/.state/dev}
	FLEET_NAME=dev
	RABBIT_PORT=${RABBIT_PORT:-5672} RABBIT_MGMT_PORT=${RABBIT_MGMT_PORT:-15672}
	RABBIT_DIST_PORT=${RABBIT_DIST_PORT:-25672} EPMD_PORT=${EPMD_PORT:-4369}
	;;
test)
	STATE=${SHOP_TEST_STATE:-$SHOP_ROOT/.state/test/release}
	FLEET_NAME='test'
	RABBIT_PORT=${TEST_RABBIT_PORT:-25682} RABBIT_MGMT_PORT=${TEST_RABBIT_MGMT_PORT:-25683}
	RABBIT_DIST_PORT=${TEST_RABBIT_DIST_PORT:-25684} EPMD_PORT=${TEST_EPMD_PORT:-24369}
	;;
*) die "FLEET must be dev or test" ;;
esac
[[ -d $STATE/rabbitmq ]] || die "no RabbitMQ state in $STATE: is the fleet up?"
# Only the RabbitMQ variables matter here; the others just satisfy fleet_init.
BUILD_DIR=$SHOP_ROOT/build GATEWAY_PORT=0 PRODUCT_PORT=0 USER_PORT=0 CART_PORT=0 ORDER_PORT=0 PAYMENT_PORT=0 EMAIL_PORT=0 PG_PORT=0 REDIS_PORT=0 SMTP_PORT=0
fleet_init
rabbitmqctl_fleet "$@"
