#!/bin/sh
# shop-seed: the `seed` one-shot service of docker-compose.yml (image target
# `seed` of infrastructure/docker/Dockerfile), what scripts/lib/fleet.sh
# fleet_seed does for the native fleets: the catalog as role `product`, then
# (unless SEED_ACCOUNTS is false) the two development accounts as role
# `user` (paintest@example.com / password123, admin@example.com /
# admin12345). Both files are idempotent (ON CONFLICT DO NOTHING), so this
# runs at every `docker compose up`. It must run after the product and user
# services have applied their migrations (compose: depends_on
# service_healthy).
#
#   PRODUCT_DATABASE_URL   postgresql://product:...@postgres-product:5432/product_db
#   USER_DATABASE_URL      postgresql://user:...@postgres-user:5432/user_db
#   SEED_ACCOUNTS          true (default) or false
set -eu

: "${PRODUCT_DATABASE_URL:?PRODUCT_DATABASE_URL is not set}"
: "${USER_DATABASE_URL:?USER_DATABASE_URL is not set}"
share=/usr/share/shop

apply() { # URL FILE ROLE
	PGCONNECT_TIMEOUT=10 psql -X -q -v ON_ERROR_STOP=1 "$1" -f "$2"
	printf 'shop-seed: applied %s as role %s\n' "$2" "$3"
}

apply "$PRODUCT_DATABASE_URL" "$share/product/seed/seed.sql" product
case ${SEED_ACCOUNTS:-true} in
true | 1 | yes | on)
	apply "$USER_DATABASE_URL" "$share/user/seed/seed.sql" user
	;;
false | 0 | no | off)
	printf 'shop-seed: SEED_ACCOUNTS=%s: no development accounts\n' "$SEED_ACCOUNTS"
	;;
*)
	printf 'shop-seed: SEED_ACCOUNTS must be true or false (got %s)\n' "$SEED_ACCOUNTS" >&2
	exit 2
	;;
esac
