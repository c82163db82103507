#!/usr/bin/env bash
# gateway/tests/smoke.sh GATEWAY_BINARY
#
# The gateway end to end against a scripted upstream (fake_upstream.py): the
# proxy (headers, bodies, chunked and close-delimited answers, limits,
# timeouts, refused and missing upstreams), the storefront, /health, /ready,
# /metrics, request ids on every answer, a bad variable (exit 2), the
# bearer token check of protected routes (tokens signed here with a key
# pair from the openssl command), revoked tokens (a logout carried, and,
# when redis-server is installed, a Redis of its own: keys loaded at start,
# pub/sub messages, Redis going away), CORS (preflights, listed and
# unlisted origins), a SIGTERM with a request in flight (it completes, exit
# 0), then the rate limits with gateways of their own: per address and per
# user, the budget shared through Redis, Redis going away, and a gateway
# whose Redis never answers (fail open). Starts only its own processes, on free
# ports, and stops them by PID. Prints one line per failed check and ends
# with "N passed, N failed"; exits non-zero on a failure.
set -uo pipefail

GW=${1:?usage: smoke.sh path/to/shop-gateway}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TMP=$(mktemp -d /tmp/gw-smoke-XXXXXX)
PIDS=()
PASS=0
FAIL=0

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

ok() { PASS=$((PASS + 1)); }
bad() {
	FAIL=$((FAIL + 1))
	printf 'FAIL: %s\n' "$*"
}
check() { # description, then a command that must succeed
	local what=$1
	shift
	if "$@"; then ok; else bad "$what"; fi
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# Below the kernel's ephemeral range (32768 and up by default): a port
# picked there can be taken by any outgoing connection (the fleet's
# daemons hold many) between the check and the bind.
free_port() {
	local p
	for _ in $(seq 200); do
		p=$((20000 + RANDOM % 12000))
		port_free "$p" && { echo "$p"; return; }
	done
	echo "no free port" >&2
	exit 1
}

wait_http() {
	for _ in $(seq 300); do
		curl -fs -o /dev/null --max-time 1 "$1" && return 0
		sleep 0.05
	done
	echo "nothing answers $1" >&2
	return 1
}

UP_PORT=$(free_port)
UP2_PORT=$(free_port)
GW_PORT=$(free_port)
DEAD_PORT=$(free_port)

python3 "$HERE/fake_upstream.py" "$UP_PORT" &
PIDS+=($!)
python3 "$HERE/fake_upstream.py" "$UP2_PORT" &
UP2_PID=$!
PIDS+=("$UP2_PID")
wait_http "http://127.0.0.1:$UP_PORT/health" || exit 1
wait_http "http://127.0.0.1:$UP2_PORT/health" || exit 1

# ---- an ES256 key pair, and tokens signed with it
if ! openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	-out "$TMP/jwt_private.pem" 2>/dev/null ||
	! openssl pkey -in "$TMP/jwt_private.pem" -pubout -out "$TMP/jwt_public.pem" 2>/dev/null; then
	echo "cannot generate a key pair with openssl" >&2
	exit 1
fi
SUB=7c1f7d2e-5b7a-4d55-9d55-0b6e1a6f0c11
mint() { # jti [ttl_s [sub]]: an access token as the user service signs them
	python3 - "$TMP/jwt_private.pem" "$1" "${2:-900}" "${3:-$SUB}" <<'PY'
import base64, json, subprocess, sys, time
key, jti, ttl, sub = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
now = int(time.time())
head = b64(json.dumps({"alg": "ES256", "typ": "JWT"}).encode())
body = b64(json.dumps({"sub": sub,
    "email": "smoke@example.com", "role": "customer", "iat": now - 5,
    "exp": now + ttl, "iss": "shop-user", "aud": "shop", "jti": jti}).encode())
der = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key],
    input=f"{head}.{body}".encode(), capture_output=True, check=True).stdout
ints, i = [], 2  # DER SEQUENCE { INTEGER r, INTEGER s } -> r || s
while i < len(der):
    n = der[i + 1]
    ints.append(int.from_bytes(der[i + 2:i + 2 + n], "big"))
    i += 2 + n
sig = b"".join(v.to_bytes(32, "big") for v in ints)
print(f"{head}.{body}.{b64(sig)}")
PY
}
TOKEN=$(mint smoke-1)
[[ -n $TOKEN ]] || { echo "cannot sign a token" >&2; exit 1; }

# ---- a Redis of our own, when there is one to run (a port taken meanwhile
# by someone else's connection: another port)
start_redis() { # -> REDIS_PORT REDIS_PID, or 1 when none could start
	local up=0
	command -v redis-server >/dev/null && command -v redis-cli >/dev/null || return 1
	for _ in 1 2 3; do
		REDIS_PORT=$(free_port)
		[[ $REDIS_PORT == "$GW_PORT" || $REDIS_PORT == "$DEAD_PORT" ]] && continue
		redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' \
			--appendonly no >>"$TMP/redis.log" 2>&1 &
		REDIS_PID=$!
		for _ in $(seq 100); do
			kill -0 "$REDIS_PID" 2>/dev/null || break
			redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && { up=1; break; }
			sleep 0.05
		done
		if ((up)); then
			PIDS+=("$REDIS_PID")
			return 0
		fi
		kill "$REDIS_PID" 2>/dev/null && wait "$REDIS_PID" 2>/dev/null
	done
	return 1
}
HAVE_REDIS=0
REDIS_PORT=$DEAD_PORT
if start_redis; then HAVE_REDIS=1; else REDIS_PORT=$DEAD_PORT; fi
rcli() { redis-cli -p "$REDIS_PORT" "$@" >/dev/null; }
if ((HAVE_REDIS)); then
	# revoked before the gateway starts: it must load it
	rcli SET revoked:preloaded 1 EX 300
else
	echo "no redis-server could start: skipping the Redis revocation checks"
fi

mkdir -p "$TMP/dist/assets" "$TMP/outside"
printf '<!doctype html><title>shop</title>\n' >"$TMP/dist/index.html"
printf 'console.log(1)\n' >"$TMP/dist/assets/app-0123abcd.js"
printf 'User-agent: *\n' >"$TMP/dist/robots.txt"
printf 'secret\n' >"$TMP/outside/secret.txt"
ln -s "$TMP/outside/secret.txt" "$TMP/dist/leak.txt"

# ---- a bad variable: exit 2, one line naming it
out=$(env -i PATH="$PATH" GATEWAY_THREADS=abc HTTP_PORT="$GW_PORT" "$GW" 2>&1)
rc=$?
check "a bad GATEWAY_THREADS exits 2 (got $rc)" test "$rc" = 2
check "the error names GATEWAY_THREADS" grep -q '"variable":"GATEWAY_THREADS"' <<<"$out"
out=$(env -i PATH="$PATH" PRODUCT_UPSTREAMS=nohostport "$GW" 2>&1)
rc=$?
check "a bad PRODUCT_UPSTREAMS exits 2 (got $rc)" test "$rc" = 2
out=$(env -i PATH="$PATH" JWT_PUBLIC_KEY_FILE="$TMP/none.pem" "$GW" 2>&1)
rc=$?
check "a missing key file exits 2 (got $rc)" test "$rc" = 2
check "  in one line naming JWT_PUBLIC_KEY_FILE" test "$(grep -c JWT_PUBLIC_KEY_FILE <<<"$out")" = 1
out=$(env -i PATH="$PATH" JWT_PUBLIC_KEY_FILE="$TMP/dist/index.html" "$GW" 2>&1)
rc=$?
check "a key file holding no P-256 key exits 2 (got $rc)" test "$rc" = 2
for bad in RATE_LIMIT_WINDOW_S=0 RATE_LIMIT_PER_ADDRESS=-1 RATE_LIMIT_PER_USER=x \
	RATE_LIMIT_SYNC_MS=1 'CORS_ORIGINS=*' CORS_ORIGINS=https://shop.example.com/; do
	out=$(env -i PATH="$PATH" JWT_PUBLIC_KEY_FILE="$TMP/jwt_public.pem" "$bad" "$GW" 2>&1)
	rc=$?
	check "a bad $bad exits 2 (got $rc)" test "$rc" = 2
	check "  in one line naming ${bad%%=*}" test "$(grep -c "\"variable\":\"${bad%%=*}\"" <<<"$out")" = 1
done

env -i PATH="$PATH" HTTP_ADDRESS=127.0.0.1 HTTP_PORT="$GW_PORT" \
	GATEWAY_THREADS=2 LOG_LEVEL=info STATIC_DIR="$TMP/dist" \
	PRODUCT_UPSTREAMS="127.0.0.1:$UP_PORT" CART_UPSTREAMS="127.0.0.1:$DEAD_PORT" \
	ORDER_UPSTREAMS="127.0.0.1:$UP2_PORT" USER_UPSTREAMS="127.0.0.1:$UP_PORT" \
	JWT_PUBLIC_KEY_FILE="$TMP/jwt_public.pem" \
	REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" \
	GATEWAY_RESPONSE_TIMEOUT_MS=2000 GATEWAY_MAX_BODY_BYTES=1000 \
	GATEWAY_MAX_RESPONSE_BYTES=2000000 GATEWAY_HEALTH_INTERVAL_MS=200 \
	CORS_ORIGINS='http://localhost:5173, https://shop.example.com' \
	"$GW" >"$TMP/gateway.log" 2>&1 &
GW_PID=$!
PIDS+=("$GW_PID")
BASE=http://127.0.0.1:$GW_PORT
wait_http "$BASE/health" || exit 1

# req METHOD PATH [curl args...]: sets CODE, BODY, HDRS
req() {
	local method=$1 path=$2
	shift 2
	CODE=$(curl -s -X "$method" -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' \
		--max-time 10 "$@" "$BASE$path")
	BODY=$(cat "$TMP/body")
	HDRS=$(tr -d '\r' <"$TMP/headers")
}
header() { # name -> value of the last response
	awk -v n="$(tr '[:upper:]' '[:lower:]' <<<"$1")" -F': ' 'tolower($1) == n {print $2}' <<<"$HDRS" | tail -n1
}
has_rid() { [[ -n $(header X-Request-ID) ]]; }
is_problem() { # status
	[[ $(header Content-Type) == application/problem+json* ]] &&
		grep -q "\"status\":$1" <<<"$BODY" && grep -q '"type"' <<<"$BODY" &&
		grep -q '"title"' <<<"$BODY" && grep -q '"detail"' <<<"$BODY"
}
json() { # key: a top-level or headers.<name> value of the echo body
	python3 -c 'import json,sys; d=json.load(sys.stdin); k=sys.argv[1].split(".")
for p in k: d=d.get(p) if isinstance(d, dict) else None
print("" if d is None else d)' "$1" <<<"$BODY"
}

# ---- own routes
req GET /health
check "/health 200" test "$CODE" = 200
check "/health body" grep -q '"service":"gateway"' <<<"$BODY"
check "/health has X-Request-ID" has_rid
check "nosniff on /health" test "$(header X-Content-Type-Options)" = nosniff
check "X-Frame-Options DENY" test "$(header X-Frame-Options)" = DENY
check "Referrer-Policy" test -n "$(header Referrer-Policy)"
req GET /ready
check "/ready 503 with a dead cart upstream (got $CODE)" test "$CODE" = 503
check "/ready lists product up" grep -q '"service":"product","address":"127.0.0.1:'"$UP_PORT"'","status":"up"' <<<"$BODY"
check "/ready lists cart down" grep -q '"service":"cart","address":"127.0.0.1:'"$DEAD_PORT"'","status":"down"' <<<"$BODY"
req POST /health
check "POST /health 405" test "$CODE" = 405
check "405 Allow" test "$(header Allow)" = "GET, HEAD"

# ---- proxy: what goes up, what comes back
req POST '/api/products/echo?a=1&b=%20x' -H 'X-Request-ID: smoke-1.A_b' \
	-H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
	-H 'Idempotency-Key: k-1' -H 'X-Forwarded-For: 6.6.6.6' \
	-H 'Proxy-Authorization: no' -H 'Keep-Alive: 5' --data '{"x":1}'
check "echo 200 (got $CODE)" test "$CODE" = 200
check "method passed" test "$(json method)" = POST
check "path and query passed raw" test "$(json path)" = '/api/products/echo?a=1&b=%20x'
check "body passed" test "$(json body)" = '{"x":1}'
check "content-length upstream" test "$(json headers.content-length)" = 7
check "authorization passed" test "$(json headers.authorization)" = "Bearer $TOKEN"
check "content-type passed" test "$(json headers.content-type)" = application/json
check "idempotency-key passed" test "$(json headers.idempotency-key)" = k-1
check "request id passed up" test "$(json headers.x-request-id)" = smoke-1.A_b
check "request id echoed" test "$(header X-Request-ID)" = smoke-1.A_b
check "x-forwarded-for is the client" test "$(json headers.x-forwarded-for)" = 127.0.0.1
check "no proxy-authorization upstream" test -z "$(json headers.proxy-authorization)"
check "no keep-alive upstream" test -z "$(json headers.keep-alive)"
check "traceparent generated" grep -Eq '^00-[0-9a-f]{32}-[0-9a-f]{16}-01$' <<<"$(json headers.traceparent)"
req GET /api/products/echo -H 'X-Request-ID: not valid!' \
	-H 'traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
check "an invalid request id is replaced" grep -Eq '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' <<<"$(header X-Request-ID)"
check "the replacement goes up" test "$(json headers.x-request-id)" = "$(header X-Request-ID)"
check "a valid traceparent passes as is" test "$(json headers.traceparent)" = 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
req GET /api/products/echo -H "X-Request-ID: $(head -c 129 /dev/zero | tr '\0' a)"
check "a 129-char request id is replaced" test "$(header X-Request-ID | wc -c)" = 37
req HEAD /api/products/echo
check "HEAD 200 (got $CODE)" test "$CODE" = 200

req GET /api/products/chunked
check "chunked upstream answer (got $CODE)" test "$CODE/$BODY" = "200/hello, chunked world"
req GET /api/products/close
check "close-delimited answer (got $CODE)" test "$CODE/$BODY" = "200/until the end"
req GET '/api/products/big?n=1500000'
check "1.5 MB answer (got $CODE)" test "$CODE/$(wc -c <"$TMP/body")" = 200/1500000
req GET '/api/products/big?n=2500000'
check "an answer over the limit is 502 (got $CODE)" test "$CODE" = 502
check "  as problem+json" is_problem 502
req GET /api/products/garbage
check "garbage from upstream is 502 (got $CODE)" is_problem 502
req GET /api/products/hangup
check "an upstream hanging up is 502 (got $CODE)" is_problem 502
req GET '/api/products/slow?ms=3000'
check "a slow upstream is 504 (got $CODE)" is_problem 504
check "  with X-Request-ID" has_rid
req GET '/api/products/status?code=201&h=Location:/api/products/9'
check "201 passes (got $CODE)" test "$CODE" = 201
check "Location passes" test "$(header Location)" = /api/products/9
req GET '/api/products/status?code=503&h=Retry-After:7'
check "an upstream 503 passes with Retry-After" test "$CODE/$(header Retry-After)" = 503/7
req GET '/api/products/status?code=304&h=ETag:"v1"'
check "304 passes with ETag (got $CODE)" test "$CODE/$(header ETag)" = '304/"v1"'
req GET '/api/products/status?code=204'
check "204 passes (got $CODE)" test "$CODE" = 204
req POST /api/products/echo -H "Authorization: Bearer $TOKEN" --data "$(head -c 1001 /dev/zero | tr '\0' x)"
check "a body over the limit is 413 (got $CODE)" is_problem 413
req POST /api/products/echo -H "Authorization: Bearer $TOKEN" -H 'Transfer-Encoding: chunked' --data "$(head -c 5000 /dev/zero | tr '\0' x)"
check "a chunked body over the limit is 413 (got $CODE)" is_problem 413

# ---- protected routes: the token is checked here, nothing goes up without
calls() { curl -s "$BASE/api/products/calls" | python3 -c 'import json,sys; print(json.load(sys.stdin)["calls"])'; }
before=$(calls)
req POST /api/products/echo --data '{"x":1}'
check "a catalog write without a token is 401 (got $CODE)" is_problem 401
check "  WWW-Authenticate: Bearer" test "$(header WWW-Authenticate)" = Bearer
check "  says the token is missing" grep -q 'needs a bearer token' <<<"$BODY"
check "  with X-Request-ID" has_rid
req PATCH /api/products/echo -H 'Authorization: Bearer t0k' --data '{"x":1}'
check "a bad token is 401 (got $CODE)" is_problem 401
check "  WWW-Authenticate: invalid_token" test "$(header WWW-Authenticate)" = 'Bearer error="invalid_token"'
check "  says invalid or expired" grep -q 'invalid or expired' <<<"$BODY"
req DELETE /api/products/echo -H "Authorization: Bearer $(mint smoke-old -60)"
check "an expired token is 401 (got $CODE)" test "$CODE/$(header WWW-Authenticate)" = '401/Bearer error="invalid_token"'
req DELETE /api/products/echo -H "Authorization: Basic $TOKEN"
check "another scheme is a missing token (got $CODE)" test "$CODE/$(header WWW-Authenticate)" = 401/Bearer
req DELETE /api/products/echo -H "Authorization: Bearer  $TOKEN"
check "two spaces are an invalid header (got $CODE)" test "$CODE/$(header WWW-Authenticate)" = '401/Bearer error="invalid_token"'
req DELETE /api/products/echo -H "Authorization: Bearer $TOKEN" -H "Authorization: Bearer $TOKEN"
check "two Authorization headers are invalid (got $CODE)" is_problem 401
check "no 401 reached the upstream" test "$(calls)" = "$before"
req DELETE /api/products/echo -H "authorization: bEaReR $TOKEN"
check "the scheme in any case (got $CODE)" test "$CODE/$(json method)" = 200/DELETE
req GET /api/products/echo
check "catalog reads stay public (got $CODE)" test "$CODE" = 200
req OPTIONS /api/products/echo
check "  OPTIONS too (got $CODE)" test "$CODE" != 401
req GET /api/users/echo
check "/api/users needs a token (got $CODE)" is_problem 401
req GET /api/users/echo -H "Authorization: Bearer $TOKEN"
check "  and passes with one (got $CODE)" test "$CODE/$(json headers.authorization)" = "200/Bearer $TOKEN"
req POST /api/auth/echo --data '{}'
check "/api/auth (login, register) stays public (got $CODE)" test "$CODE" = 200
req GET /api/emails/x
check "a protected route without upstream is 401 first (got $CODE)" is_problem 401

# ---- revoked tokens: a logout carried here is refused at once
OUT_TOKEN=$(mint smoke-logout)
req GET /api/users/echo -H "Authorization: Bearer $OUT_TOKEN"
check "a token before its logout (got $CODE)" test "$CODE" = 200
req POST /api/auth/logout
check "logout needs a token (got $CODE)" is_problem 401
req POST /api/auth/logout -H "Authorization: Bearer $OUT_TOKEN"
check "logout 204 from upstream (got $CODE)" test "$CODE" = 204
req GET /api/users/echo -H "Authorization: Bearer $OUT_TOKEN"
check "the token is refused right after its logout (got $CODE)" is_problem 401
check "  WWW-Authenticate: invalid_token" test "$(header WWW-Authenticate)" = 'Bearer error="invalid_token"'
check "  says revoked" grep -q 'revoked' <<<"$BODY"
req GET /api/users/echo -H "Authorization: Bearer $TOKEN"
check "  other tokens still pass (got $CODE)" test "$CODE" = 200

metric() { # series -> its value
	curl -s "$BASE/metrics" | awk -v s="$1" '$1 == s {print $2}'
}
wait_for() { # description, command: retried for up to 3 s
	local what=$1
	shift
	for _ in $(seq 60); do
		"$@" && { ok; return; }
		sleep 0.05
	done
	bad "$what"
}
code_of() { # token path -> status
	curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $1" "$BASE$2"
}
if ((HAVE_REDIS)); then
	wait_for "revocation goes live" test "$(metric revocation_live)" = 1
	check "a key revoked before start is loaded" test "$(code_of "$(mint preloaded)" /api/users/echo)" = 401
	PUB_TOKEN=$(mint published)
	check "a token not yet revoked (got $(code_of "$PUB_TOKEN" /api/users/echo))" test "$(code_of "$PUB_TOKEN" /api/users/echo)" = 200
	rcli SET revoked:published 1 EX 300
	rcli PUBLISH auth:revoked "published $(($(date +%s) + 900))"
	wait_for "a revocation announced on auth:revoked is refused" test "$(code_of "$PUB_TOKEN" /api/users/echo)" = 401
	check "gateway_revoked_tokens counts them" test "$(metric gateway_revoked_tokens)" = 3
	kill "$REDIS_PID" && wait "$REDIS_PID" 2>/dev/null
	wait_for "revocation not live once Redis is gone" test "$(metric revocation_live)" = 0
	check "  valid tokens still pass (fail open)" test "$(code_of "$TOKEN" /api/users/echo)" = 200
	check "  revoked ones are still refused" test "$(code_of "$PUB_TOKEN" /api/users/echo)" = 401
	check "  said once in a warning" test "$(grep -c 'token revocation is not live' "$TMP/gateway.log")" = 1
else
	wait_for "no Redis: revocation not live" test "$(metric revocation_live)" = 0
	check "  valid tokens still pass (fail open)" test "$(code_of "$TOKEN" /api/users/echo)" = 200
fi
check "gateway_auth_rejections_total{reason=\"missing\"}" test "$(metric 'gateway_auth_rejections_total{reason="missing"}')" = 5
check "gateway_auth_rejections_total{reason=\"invalid\"}" test "$(metric 'gateway_auth_rejections_total{reason="invalid"}')" = 4
check "gateway_auth_rejections_total{reason=\"revoked\"}" test "$(metric 'gateway_auth_rejections_total{reason="revoked"}')" -ge 1

# ---- CORS: listed origins get the headers, preflights are answered here
LISTED=http://localhost:5173
before=$(calls)
req OPTIONS /api/users/echo -H "Origin: $LISTED" -H 'Access-Control-Request-Method: PATCH' \
	-H 'Access-Control-Request-Headers: authorization, content-type'
check "a preflight from a listed origin is 204, before the token check (got $CODE)" test "$CODE" = 204
check "  Access-Control-Allow-Origin" test "$(header Access-Control-Allow-Origin)" = "$LISTED"
check "  Allow-Methods" test "$(header Access-Control-Allow-Methods)" = 'GET, POST, PUT, PATCH, DELETE, OPTIONS'
check "  Allow-Headers" test "$(header Access-Control-Allow-Headers)" = 'Authorization, Content-Type, X-Request-ID, Idempotency-Key, traceparent'
check "  Max-Age 600" test "$(header Access-Control-Max-Age)" = 600
check "  Vary: Origin" test "$(header Vary)" = Origin
check "  with X-Request-ID" has_rid
check "  nothing went upstream" test "$(calls)" = "$before"
req GET /api/products/echo -H 'Origin: https://shop.example.com'
check "a request from a listed origin (got $CODE)" test "$CODE" = 200
check "  Access-Control-Allow-Origin is its origin" test "$(header Access-Control-Allow-Origin)" = https://shop.example.com
check "  Expose-Headers" test "$(header Access-Control-Expose-Headers)" = 'X-Request-ID, Retry-After, Location'
check "  Vary: Origin" test "$(header Vary)" = Origin
check "  Origin goes upstream" test "$(json headers.origin)" = https://shop.example.com
req GET /api/users/echo -H "Origin: $LISTED"
check "a 401 for a listed origin carries the CORS headers (got $CODE)" test "$CODE/$(header Access-Control-Allow-Origin)" = "401/$LISTED"
req GET / -H "Origin: $LISTED"
check "  so does the storefront" test "$CODE/$(header Access-Control-Allow-Origin)" = "200/$LISTED"
req GET /api/products/echo -H 'Origin: https://evil.example'
check "an unlisted origin: served (got $CODE)" test "$CODE" = 200
check "  without Access-Control-Allow-Origin" test -z "$(header Access-Control-Allow-Origin)"
check "  or Expose-Headers" test -z "$(header Access-Control-Expose-Headers)"
req GET /api/products/echo -H 'Origin: http://localhost:5173.evil.example'
check "  exact match only" test -z "$(header Access-Control-Allow-Origin)"
before=$(calls)
req OPTIONS /api/products/echo -H 'Origin: https://evil.example' -H 'Access-Control-Request-Method: DELETE'
check "  nothing went upstream" test "$(calls)" = "$before"
check "a preflight from an unlisted origin is 403 (got $CODE)" is_problem 403
check "  without CORS headers" test -z "$(header Access-Control-Allow-Origin)$(header Access-Control-Allow-Methods)"
req GET /api/products/echo
check "no Origin: no Access-Control-Allow-Origin" test -z "$(header Access-Control-Allow-Origin)"
req OPTIONS /api/products/echo -H "Origin: $LISTED"
check "OPTIONS without Access-Control-Request-Method is proxied (got $CODE)" test "$CODE" != 204
req GET '/api/products/status?code=200&h=Access-Control-Allow-Origin:*'
check "an upstream's own Access-Control-* header is dropped" test -z "$(header Access-Control-Allow-Origin)"

# ---- routing
req GET /internal/reservations
check "/internal is 404 (got $CODE)" is_problem 404
req GET /api/nothing
check "an unknown /api route is 404 (got $CODE)" is_problem 404
req GET /api/emails -H "Authorization: Bearer $TOKEN"
check "a service without upstream is 503 (got $CODE)" is_problem 503
check "  and says so" grep -q "no upstream is configured for 'email'" <<<"$BODY"
req GET /api/cart -H "Authorization: Bearer $TOKEN"
check "a dead upstream is 502/503 (got $CODE)" test "$CODE" = 502 -o "$CODE" = 503
req GET '/api/products/..%2f..%2finternal/x'
check "an encoded dot segment is 400 (got $CODE)" is_problem 400
req GET '/api/products/%zz'
check "a bad escape is 400 (got $CODE)" is_problem 400

kill "$UP2_PID" && wait "$UP2_PID" 2>/dev/null
t0=$(date +%s%N)
req GET /api/orders -H "Authorization: Bearer $TOKEN"
t1=$(date +%s%N)
check "an upstream that went away is 502 or 503 (got $CODE)" test "$CODE" = 502 -o "$CODE" = 503
check "  at once ($(((t1 - t0) / 1000000)) ms)" test $(((t1 - t0) / 1000000)) -lt 500
sleep 0.5
req GET /api/orders -H "Authorization: Bearer $TOKEN"
check "  then 503 once known down (got $CODE)" is_problem 503

# ---- storefront
req GET /
check "/ is index.html" test "$CODE/$BODY" = '200/<!doctype html><title>shop</title>'
check "  no-cache" test "$(header Cache-Control)" = no-cache
check "  text/html" test "$(header Content-Type)" = 'text/html; charset=utf-8'
check "  with X-Request-ID" has_rid
etag=$(header ETag)
req GET /products/42/reviews
check "a deep link is index.html" test "$CODE/$BODY" = '200/<!doctype html><title>shop</title>'
req GET / -H "If-None-Match: $etag"
check "a matching ETag is 304 (got $CODE)" test "$CODE" = 304
req GET /assets/app-0123abcd.js
check "an asset (got $CODE)" test "$CODE/$(header Content-Type)" = '200/text/javascript; charset=utf-8'
check "  immutable" grep -q immutable <<<"$(header Cache-Control)"
req GET /robots.txt
check "robots.txt short cache" test "$(header Cache-Control)" = 'public, max-age=300'
req GET /leak.txt
check "a symlink out of the root is 404 (got $CODE)" is_problem 404
CODE=$(curl -s --path-as-is -o /dev/null -w '%{http_code}' "$BASE/assets/../../outside/secret.txt")
check "a traversal is 400 (got $CODE)" test "$CODE" = 400
req DELETE /
check "DELETE on the storefront is 405 (got $CODE)" is_problem 405

# ---- many at once, over kept-alive connections
seq 300 | xargs -P 16 -I{} curl -s -o /dev/null -w '%{http_code}\n' \
	"$BASE/api/products/echo?i={}" >"$TMP/codes"
check "300 concurrent requests all 200" test "$(grep -c '^200$' "$TMP/codes")" = 300

req GET /metrics
check "/metrics counts requests" grep -q 'http_requests_total{route="/api/products",method="GET",status="200"}' <<<"$BODY"
check "/metrics has the histogram" grep -q 'http_request_duration_seconds_bucket{route="/api/products",le="0.005"}' <<<"$BODY"
check "/metrics counts upstream errors" grep -q 'gateway_upstream_errors_total{service="product",kind="response_timeout"} 1' <<<"$BODY"
check "access log lines" grep -q '"msg":"request","request_id":"smoke-1.A_b","method":"POST","path":"/api/products/echo","status":200' "$TMP/gateway.log"

# ---- SIGTERM with a request in flight: it completes, exit 0
curl -s -o "$TMP/inflight" -w '%{http_code}' --max-time 10 "$BASE/api/products/slow?ms=800" >"$TMP/inflight.code" &
CURL_PID=$!
sleep 0.3
t0=$(date +%s%N)
kill -TERM "$GW_PID"
wait "$GW_PID"
rc=$?
t1=$(date +%s%N)
wait "$CURL_PID"
check "exit 0 on SIGTERM (got $rc)" test "$rc" = 0
check "the request in flight completed (got $(cat "$TMP/inflight.code"))" test "$(cat "$TMP/inflight.code")" = 200
check "stopped within 10 s" test $(((t1 - t0) / 1000000)) -lt 10000

# ---- rate limits, on gateways of their own (20 per address and 5 per user
# in windows of RL_WINDOW_S: long enough that a burst of curls on a busy
# machine ends in the window it started in)
RL_WINDOW_S=5
up_calls() { curl -s "http://127.0.0.1:$UP_PORT/api/products/calls" | python3 -c 'import json,sys; print(json.load(sys.stdin)["calls"])'; }
metric_at() { # base series -> its value
	curl -s "$1/metrics" | awk -v s="$2" '$1 == s {print $2}'
}
new_window() { # sleeps into the start of the next window; WINDOW is its number
	local ms w=$((RL_WINDOW_S * 1000))
	ms=$(($(date +%s%N) / 1000000))
	sleep "$(awk -v ms="$ms" -v w="$w" 'BEGIN { printf "%.3f", (w - ms % w + 30) / 1000 }')"
	WINDOW=$(($(date +%s) / RL_WINDOW_S))
}
codes() { # n url [curl args...]: n requests one after the other, their codes
	local n=$1 url=$2
	shift 2
	for _ in $(seq "$n"); do
		curl -s -o /dev/null -w '%{http_code}\n' --max-time 5 "$@" "$url"
	done
}
# wait_for's command words are expanded once, before it runs: these look
# again on every try
live_is() { test "$(metric_at "$1" gateway_rate_limit_live)" = "$2"; }
redis_get_is() { test "$(redis-cli -p "$RL_REDIS" GET "$1")" = "$2"; }
start_gateway() { # port log env...: a gateway on port
	local port=$1 log=$2
	shift 2
	env -i PATH="$PATH" HTTP_ADDRESS=127.0.0.1 HTTP_PORT="$port" GATEWAY_THREADS=2 \
		LOG_LEVEL=info STATIC_DIR="$TMP/dist" JWT_PUBLIC_KEY_FILE="$TMP/jwt_public.pem" \
		PRODUCT_UPSTREAMS="127.0.0.1:$UP_PORT" USER_UPSTREAMS="127.0.0.1:$UP_PORT" \
		RATE_LIMIT_PER_ADDRESS=20 RATE_LIMIT_PER_USER=5 RATE_LIMIT_WINDOW_S="$RL_WINDOW_S" \
		"$@" "$GW" >"$log" 2>&1 &
	PIDS+=($!)
	LAST_GW_PID=$!
	wait_http "http://127.0.0.1:$port/health"
}

# a gateway whose Redis never answers: it serves, unlimited, and says so
FO_PORT=$(free_port)
start_gateway "$FO_PORT" "$TMP/gateway-fo.log" REDIS_URL="redis://127.0.0.1:$DEAD_PORT/0" || exit 1
FO=http://127.0.0.1:$FO_PORT
codes 30 "$FO/api/products/echo" >"$TMP/codes"
check "no Redis: 30 requests over a limit of 20 all pass (fail open)" test "$(grep -c '^200$' "$TMP/codes")" = 30
check "  gateway_rate_limit_live 0" test "$(metric_at "$FO" gateway_rate_limit_live)" = 0
check "  a warning says so, once" test "$(grep -c '"level":"warn".*rate limits are not enforced' "$TMP/gateway-fo.log")" = 1
check "  naming Redis" grep -q "\"redis\":\"127.0.0.1:$DEAD_PORT/0\"" "$TMP/gateway-fo.log"
check "  gateway_rate_limited_total 0" test "$(metric_at "$FO" 'gateway_rate_limited_total{limit="address"}')" = 0

if start_redis; then
	RL_REDIS=$REDIS_PORT
	RL_REDIS_PID=$REDIS_PID
	RL_PORT=$(free_port)
	start_gateway "$RL_PORT" "$TMP/gateway-rl.log" REDIS_URL="redis://127.0.0.1:$RL_REDIS/0" \
		CORS_ORIGINS="$LISTED" || exit 1
	RL=http://127.0.0.1:$RL_PORT
	wait_for "rate limits go live with Redis" live_is "$RL" 1
	check "  said in one line" test "$(grep -c 'rate limits are live' "$TMP/gateway-rl.log")" = 1

	# per address
	new_window
	before=$(up_calls)
	codes 24 "$RL/api/products/echo" >"$TMP/codes"
	check "per address: the first 20 pass" test "$(head -n20 "$TMP/codes" | grep -c '^200$')" = 20
	check "  the 21st and later are 429" test "$(tail -n4 "$TMP/codes" | grep -c '^429$')" = 4
	check "  nothing of them went upstream" test "$(($(up_calls) - before))" = 20
	BASE=$RL req GET /api/products/echo -H "Origin: $LISTED"
	check "  429 as problem+json" is_problem 429
	check "  says too many requests" grep -q 'too many requests from this address' <<<"$BODY"
	retry=$(header Retry-After)
	check "  Retry-After: the rest of the window ($retry)" test "$retry" -ge 1 -a "$retry" -le "$RL_WINDOW_S"
	check "  with X-Request-ID" has_rid
	check "  and CORS headers a browser can read" test "$(header Access-Control-Allow-Origin)/$(header Access-Control-Expose-Headers)" = "$LISTED/X-Request-ID, Retry-After, Location"
	BASE=$RL req POST /api/products/echo -H "Authorization: Bearer $TOKEN" --data '{"x":1}'
	check "  a request with a body too (got $CODE)" is_problem 429
	BASE=$RL req GET /
	check "  the storefront counts per address (got $CODE)" test "$CODE" = 429
	BASE=$RL req GET /health
	check "  /health is never limited (got $CODE)" test "$CODE" = 200
	BASE=$RL req GET /ready
	check "  nor /ready (got $CODE)" test "$CODE" != 429
	BASE=$RL req OPTIONS /api/products/echo -H "Origin: $LISTED" -H 'Access-Control-Request-Method: POST'
	check "  nor a preflight (got $CODE)" test "$CODE" = 204
	check "  nothing went upstream" test "$(($(up_calls) - before))" = 20
	wait_for "  the count is in Redis" redis_get_is "rl:a:127.0.0.1:$WINDOW" 20
	ttl=$(redis-cli -p "$RL_REDIS" TTL "rl:a:127.0.0.1:$WINDOW")
	check "  with a time to live ($ttl)" test "$ttl" -ge 1 -a "$ttl" -le $((2 * RL_WINDOW_S))
	sleep "$retry"
	BASE=$RL req GET /api/products/echo
	check "after Retry-After, requests pass again (got $CODE)" test "$CODE" = 200
	check "gateway_rate_limited_total{limit=\"address\"}" test "$(metric_at "$RL" 'gateway_rate_limited_total{limit="address"}')" -ge 7

	# per user: 5 per window for the token's sub; others and public
	# routes unaffected
	new_window
	codes 6 "$RL/api/users/echo" -H "Authorization: Bearer $TOKEN" >"$TMP/codes"
	check "per user: the first 5 pass" test "$(head -n5 "$TMP/codes" | grep -c '^200$')" = 5
	check "  the 6th is 429" test "$(tail -n1 "$TMP/codes")" = 429
	BASE=$RL req GET /api/users/echo -H "Authorization: Bearer $(mint rl-same)"
	check "  another token of the same user too (got $CODE)" is_problem 429
	check "  says for this user" grep -q 'too many requests for this user' <<<"$BODY"
	check "  with Retry-After" test -n "$(header Retry-After)"
	BASE=$RL req GET /api/users/echo -H "Authorization: Bearer $(mint rl-other 900 0b5e6c1a-0000-4000-8000-000000000002)"
	check "  another user passes (got $CODE)" test "$CODE" = 200
	BASE=$RL req GET /api/products/echo
	check "  public routes count per address only (got $CODE)" test "$CODE" = 200
	BASE=$RL req GET /api/users/echo
	check "  no token: 401, not 429 (got $CODE)" test "$CODE" = 401
	wait_for "  the user's count is in Redis" redis_get_is "rl:u:$SUB:$WINDOW" 5
	check "gateway_rate_limited_total{limit=\"user\"}" test "$(metric_at "$RL" 'gateway_rate_limited_total{limit="user"}')" = 2

	# the budget is shared: another gateway has spent it already
	new_window
	redis-cli -p "$RL_REDIS" SET "rl:a:127.0.0.1:$WINDOW" 20 EX $((2 * RL_WINDOW_S)) >/dev/null
	for _ in 1 2 3 4 5 6; do
		curl -s -o /dev/null -w '%{http_code}\n' "$RL/api/products/echo"
		sleep 0.15
	done >"$TMP/codes"
	check "a budget spent by another gateway: at most one passes, until the next sync ($(tr '\n' ' ' <"$TMP/codes"))" \
		test "$(grep -c '^429$' "$TMP/codes")" -ge 5

	# Redis goes away: fail open, said once
	kill "$RL_REDIS_PID" && wait "$RL_REDIS_PID" 2>/dev/null
	wait_for "Redis gone: the limits stop being live" live_is "$RL" 0
	new_window
	codes 30 "$RL/api/products/echo" >"$TMP/codes"
	check "  30 requests over a limit of 20 all pass" test "$(grep -c '^200$' "$TMP/codes")" = 30
	check "  one warning" test "$(grep -c 'rate limits are not enforced' "$TMP/gateway-rl.log")" = 1
	kill -TERM "$LAST_GW_PID" && wait "$LAST_GW_PID"
	check "  and it still stops with 0" test $? = 0
else
	echo "no redis-server could start: skipping the rate limits with Redis"
fi

printf '%d passed, %d failed\n' "$PASS" "$FAIL"
((FAIL == 0))
