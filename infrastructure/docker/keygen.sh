#!/bin/sh
# shop-keygen: the fleet's secrets for docker compose (the `keygen` one-shot
# service, image target `keygen` of infrastructure/docker/Dockerfile), the
# same ones scripts/lib/fleet.sh fleet_keys makes for the native fleets:
#
#   $JWT_PRIVATE_DIR/jwt_private.pem   ES256 signing key (P-256, PKCS#8 PEM):
#                                      mounted into the user service only
#   $JWT_PUBLIC_DIR/jwt_public.pem     its public key (SPKI PEM): every daemon
#   $INTERNAL_TOKEN_DIR/internal_token the fleet's internal service token
#                                      (64 hex characters): product, cart, order
#
# Each folder is a named volume of its own, so that a service mounts only
# the secrets it needs. Made on the first start, kept afterwards: running
# this again changes nothing, except that a public key that does not match
# the private key is written anew from it, and a missing file is made
# (a new private key also gets a new public key). `docker compose down -v`
# deletes the volumes, and with them the keys (issued tokens stop verifying).
# Never prints a secret.
set -eu
umask 077

PUB_DIR=${JWT_PUBLIC_DIR:-/run/shop/jwt-public}
PRIV_DIR=${JWT_PRIVATE_DIR:-/run/shop/jwt-private}
TOKEN_DIR=${INTERNAL_TOKEN_DIR:-/run/shop/internal}
priv=$PRIV_DIR/jwt_private.pem
pub=$PUB_DIR/jwt_public.pem
token=$TOKEN_DIR/internal_token

say() { printf 'shop-keygen: %s\n' "$*"; }

for d in "$PUB_DIR" "$PRIV_DIR" "$TOKEN_DIR"; do
	if [ ! -d "$d" ] || [ ! -w "$d" ]; then
		say "$d is not a folder this user (uid $(id -u)) can write: is its volume mounted (read-write)?" >&2
		exit 1
	fi
done

if [ ! -s "$priv" ]; then
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$priv.tmp"
	chmod 0400 "$priv.tmp"
	mv -f "$priv.tmp" "$priv"
	say "generated the ES256 (P-256) signing key $priv"
else
	say "signing key $priv exists"
fi

# The public key always follows the private one.
openssl pkey -in "$priv" -pubout -out "$pub.tmp"
if [ -s "$pub" ] && cmp -s "$pub.tmp" "$pub"; then
	rm -f "$pub.tmp"
	say "public key $pub matches it"
else
	chmod 0444 "$pub.tmp"
	mv -f "$pub.tmp" "$pub"
	say "wrote the public key $pub"
fi

if [ ! -s "$token" ]; then
	openssl rand -hex 32 >"$token.tmp"
	chmod 0400 "$token.tmp"
	mv -f "$token.tmp" "$token"
	say "generated the internal service token $token"
else
	say "internal service token $token exists"
fi
