#!/usr/bin/env bash
# scripts/mint-token.sh [ROLE] [SUB...]: print a development ES256 JWT signed
# with the dev fleet's key (.state/dev/secrets/jwt_private.pem), valid for an
# hour: iss shop-user, aud shop, role ROLE (customer), sub SUB (a new UUID).
# With several SUBs, one token per SUB, one a line, in their order (one node
# start for all: scripts/bench.sh mints its bench users' tokens so).
#   TOKEN=$(scripts/mint-token.sh admin)
# Environment: SHOP_JWT_PRIVATE_KEY (the key), SHOP_STATE_DIR (.state/dev),
# SHOP_JWT_ISSUER, SHOP_JWT_AUDIENCE, TOKEN_TTL_S (3600).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
state=${SHOP_STATE_DIR:-$root/.state/dev}
key=${SHOP_JWT_PRIVATE_KEY:-$state/secrets/jwt_private.pem}
role=${1:-customer}
subs=${*:2}
[[ -r $key ]] || {
	echo "cannot read the JWT private key $key: run scripts/dev-up.sh first (or set SHOP_JWT_PRIVATE_KEY)" >&2
	exit 1
}
command -v node >/dev/null || {
	echo "node is needed (scripts/dev-up.sh installs it)" >&2
	exit 1
}

# shellcheck disable=SC2016 # JavaScript template literals, not shell
KEY=$key ROLE=$role SUBS=$subs ISS=${SHOP_JWT_ISSUER:-shop-user} AUD=${SHOP_JWT_AUDIENCE:-shop} \
	TTL=${TOKEN_TTL_S:-3600} node -e '
const crypto = require("node:crypto");
const fs = require("node:fs");
const e = process.env;
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
const now = Math.floor(Date.now() / 1000);
const key = crypto.createPrivateKey(fs.readFileSync(e.KEY));
const subs = e.SUBS.split(" ").filter(Boolean);
const out = [];
for (const sub of subs.length ? subs : [crypto.randomUUID()]) {
	const payload = { sub, email: `dev-${sub.slice(0, 8)}@example.com`, role: e.ROLE,
		iat: now, exp: now + Number(e.TTL), iss: e.ISS, aud: e.AUD, jti: crypto.randomUUID() };
	const input = `${b64({ alg: "ES256", typ: "JWT" })}.${b64(payload)}`;
	const sig = crypto.sign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" });
	out.push(`${input}.${sig.toString("base64url")}\n`);
}
process.stdout.write(out.join(""));
'
