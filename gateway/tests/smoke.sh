#!/usr/bin/env bash
# gateway/tests/smoke.sh GATEWAY_BINARY
#
# The gateway end to end against a scripted upstream (fake_upstream.py): the
# proxy (headers, bodies, chunked and close-delimited answers, limits,
# timeouts, refused and missing upstreams), the storefront, /health, /ready,
# /metrics, request ids on every answer, a bad variable (exit 2), and a
# SIGTERM with a request in flight (it completes, exit 0). Starts only its
# own processes, on free ports, and stops them by PID. Prints one line per
# failed check and ends with "N passed, N failed"; exits non-zero on a
# failure.
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
free_port() {
	local p
	for _ in $(seq 200); do
		p=$((20000 + RANDOM % 20000))
		port_free "$p" && { echo "$p"; return; }
	done
	echo "no free port" >&2
	exit 1
}

wait_http() {
	for _ in $(seq 100); do
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

env -i PATH="$PATH" HTTP_ADDRESS=127.0.0.1 HTTP_PORT="$GW_PORT" \
	GATEWAY_THREADS=2 LOG_LEVEL=info STATIC_DIR="$TMP/dist" \
	PRODUCT_UPSTREAMS="127.0.0.1:$UP_PORT" CART_UPSTREAMS="127.0.0.1:$DEAD_PORT" \
	ORDER_UPSTREAMS="127.0.0.1:$UP2_PORT" \
	GATEWAY_RESPONSE_TIMEOUT_MS=2000 GATEWAY_MAX_BODY_BYTES=1000 \
	GATEWAY_MAX_RESPONSE_BYTES=2000000 GATEWAY_HEALTH_INTERVAL_MS=200 \
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
	-H 'Authorization: Bearer t0k' -H 'Content-Type: application/json' \
	-H 'Idempotency-Key: k-1' -H 'X-Forwarded-For: 6.6.6.6' \
	-H 'Proxy-Authorization: no' -H 'Keep-Alive: 5' --data '{"x":1}'
check "echo 200 (got $CODE)" test "$CODE" = 200
check "method passed" test "$(json method)" = POST
check "path and query passed raw" test "$(json path)" = '/api/products/echo?a=1&b=%20x'
check "body passed" test "$(json body)" = '{"x":1}'
check "content-length upstream" test "$(json headers.content-length)" = 7
check "authorization passed" test "$(json headers.authorization)" = 'Bearer t0k'
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
req POST /api/products/echo --data "$(head -c 1001 /dev/zero | tr '\0' x)"
check "a body over the limit is 413 (got $CODE)" is_problem 413
req POST /api/products/echo -H 'Transfer-Encoding: chunked' --data "$(head -c 5000 /dev/zero | tr '\0' x)"
check "a chunked body over the limit is 413 (got $CODE)" is_problem 413

# ---- routing
req GET /internal/reservations
check "/internal is 404 (got $CODE)" is_problem 404
req GET /api/nothing
check "an unknown /api route is 404 (got $CODE)" is_problem 404
req GET /api/users/me
check "a service without upstream is 503 (got $CODE)" is_problem 503
check "  and says so" grep -q "no upstream is configured for 'user'" <<<"$BODY"
req GET /api/cart
check "a dead upstream is 502/503 (got $CODE)" test "$CODE" = 502 -o "$CODE" = 503
req GET '/api/products/..%2f..%2finternal/x'
check "an encoded dot segment is 400 (got $CODE)" is_problem 400
req GET '/api/products/%zz'
check "a bad escape is 400 (got $CODE)" is_problem 400

kill "$UP2_PID" && wait "$UP2_PID" 2>/dev/null
t0=$(date +%s%N)
req GET /api/orders
t1=$(date +%s%N)
check "an upstream that went away is 502 or 503 (got $CODE)" test "$CODE" = 502 -o "$CODE" = 503
check "  at once ($(((t1 - t0) / 1000000)) ms)" test $(((t1 - t0) / 1000000)) -lt 500
sleep 0.5
req GET /api/orders
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

printf '%d passed, %d failed\n' "$PASS" "$FAIL"
((FAIL == 0))
