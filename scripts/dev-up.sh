#!/usr/bin/env bash
# scripts/dev-up.sh: install what is missing, build, and start the development
# fleet (PostgreSQL, RabbitMQ, Redis, SMTP sink, the daemons) under .state/dev.
# Running it again is a no-op for what already runs; a daemon whose binary was
# rebuilt is restarted. scripts/dev-down.sh stops everything.
#
# Ports (each overridable from the environment):
#   GATEWAY_PORT=9000 PRODUCT_PORT=8004 USER_PORT=8005 CART_PORT=8006 ORDER_PORT=8001
#   PAYMENT_PORT=8002 EMAIL_PORT=8003 PG_PORT=5432 RABBIT_PORT=5672
#   RABBIT_MGMT_PORT=15672 RABBIT_DIST_PORT=25672 EPMD_PORT=4369
#   REDIS_PORT=6379 SMTP_PORT=1025
# Other knobs: BUILD_DIR (build), SHOP_DEV_STATE (.state/dev),
#   CMAKE_FLAGS (extra cmake -D flags), SHOP_SKIP_PACKAGES=1, LOG_LEVEL.
set -euo pipefail

# shellcheck source=scripts/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=scripts/lib/fleet.sh
. "$SHOP_ROOT/scripts/lib/fleet.sh"

cd "$SHOP_ROOT"

STATE=${SHOP_DEV_STATE:-$SHOP_ROOT/.state/dev}
FLEET_NAME=dev
BUILD_DIR=${BUILD_DIR:-$SHOP_ROOT/build}
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
fleet_init

# shellcheck disable=SC2206 # CMAKE_FLAGS is a list of words on purpose
cmake_flags=(${CMAKE_FLAGS:-})

STEP_TOTAL=10
printf 'shop dev fleet: state %s, build %s\n' "${STATE#"$SHOP_ROOT"/}" "${BUILD_DIR#"$SHOP_ROOT"/}"
if [[ ${SHOP_SKIP_PACKAGES:-0} == 1 ]]; then
	step packages say "skipped (SHOP_SKIP_PACKAGES=1)"
else
	step packages fleet_packages
fi
step build fleet_build "${cmake_flags[@]}"
step storefront fleet_storefront
step keys fleet_keys
step postgres fleet_postgres
step rabbitmq fleet_rabbitmq
step redis fleet_redis
step smtp fleet_smtp
step daemons fleet_daemons
step seed fleet_seed
fleet_write_env

cat <<EOF

The shop runs.
  storefront and API   http://localhost:$GATEWAY_PORT/
  catalog              curl -s 'http://localhost:$GATEWAY_PORT/api/products?page_size=5' | jq
  product (direct)     http://localhost:$PRODUCT_PORT/health
  user (direct)        http://localhost:$USER_PORT/health
  cart (direct)        http://localhost:$CART_PORT/health   (the cart itself: /api/cart through the gateway, with a token)
  order (direct)       http://localhost:$ORDER_PORT/health  (orders: /api/orders through the gateway, with a token)
  payment (direct)     http://localhost:$PAYMENT_PORT/health  (payments: /api/payments through the gateway, with a token)
  email (direct)       http://localhost:$EMAIL_PORT/health  (sent mail: /api/emails through the gateway, with a token)
  log in               curl -s -X POST http://localhost:$GATEWAY_PORT/api/auth/login -H 'Content-Type: application/json' \\
                         -d '{"email":"paintest@example.com","password":"password123"}' | jq
                       (dev accounts: paintest@example.com / password123, admin@example.com / admin12345)
  RabbitMQ UI          http://localhost:$RABBIT_MGMT_PORT/  (guest / guest)
  rabbitmqctl          scripts/rabbitmqctl.sh list_queues name type messages
  PostgreSQL           127.0.0.1:$PG_PORT, role <svc> / database <svc>_db,
                       passwords in ${SECRETS#"$SHOP_ROOT"/}/db_<svc>.password
  Redis                redis-cli -p $REDIS_PORT
  sent emails          SMTP 127.0.0.1:$SMTP_PORT -> Maildir ${MAIL_DIR#"$SHOP_ROOT"/}/new/ (one file per mail)
  logs                 ${STATE#"$SHOP_ROOT"/}/logs/  (daemons: <name>.log, steps: <step>.log)
  addresses for tools  ${STATE#"$SHOP_ROOT"/}/fleet.env
Stop it all with scripts/dev-down.sh.
EOF
