#!/usr/bin/env bash
# scripts/bench.sh: the gateway against nginx as a keep-alive reverse proxy
# to the same upstream, with the HTTP ceiling of the machine for scale.
#
# Each row is `wrk -t2 -c64 -d10s --latency` (after a short warm-up):
#   a  ceiling   tools/bench's plain libmicrohttpd daemon, a fixed ~200-byte
#                JSON body (internal polling thread + epoll, pool = cores)
#   b  upstream  GET /api/products/{id} straight at the upstream
#   c  gateway   the same through shop-gateway
#   d  nginx     the same through Debian's nginx: worker_processes 2,
#                upstream keepalive 64, proxy_http_version 1.1,
#                Connection "", access_log off
# and prints requests/s, p50, p99 and CPU µs per request (the server's own
# CPU time: user+system of its process, nginx's master and workers), the
# ratios c/d and b/a, and writes the table to a results file.
#
# Upstream (--upstream):
#   product  a running fleet's product service (scripts/dev-up.sh, or
#            PRODUCT_URL / GATEWAY_URL); a product id is found through the API
#   ceiling  the ceiling daemon itself is the upstream of both proxies, which
#            isolates what each proxy costs (b is then a again)
#   auto     product when PRODUCT_URL answers /health, else ceiling (default)
#
# The gateway and nginx measured are started here, on free ports, with the
# same upstream and no access log (LOG_LEVEL=warn for the gateway, whose
# access log is at info; access_log off for nginx); the fleet's own gateway
# is only used to find a product id. Everything started here is stopped by
# its PID on exit. Traffic goes to 127.0.0.1 only.
#
# With --suite auth (or all), the authentication rows follow
# (scripts/lib/bench-auth.sh): one token verification cached and not, the
# gateway's cost of verifying a token per request, GET /api/users/me and
# POST /api/auth/login through the dev fleet, and the user daemon's peak
# memory during a burst of 50 concurrent logins. They need the dev fleet.
#
# With --suite cart (or all), the cart rows follow (scripts/lib/bench-cart.sh),
# through a gateway of their own in front of the dev fleet's cart and product
# services: GET /api/products/{id} as the floor of one proxied request,
# GET /api/cart of carts holding 3 lines, POST /api/cart/items (quantity 1,
# many users and products in turn; target p99 < 10 ms at 64 connections),
# each with its non-2xx answers, and the cart daemon's RSS before and after.
# A cart row with more than 0.1% non-2xx answers, or a line that reached its
# limit, makes the run INVALID (exit status 1). They need the dev fleet.
#
# With --suite checkout (or all), the checkout rows follow
# (scripts/lib/bench-checkout.sh, load from tools/bench/checkout.mjs), through
# a gateway of their own in front of the dev fleet: POST /api/orders at
# --connections clients (64), each with its own user and cart (an add to the
# cart, then the checkout): orders/s, p50 and p99 of the 201; the time from
# the 201 to the confirmation mail at the SMTP sink (p50, p99) and the
# complete orders per second; each daemon's peak RSS and CPU per order.
# Targets: p99 < 25 ms, order-to-email p99 < 250 ms, >= 300 complete
# orders/s. More than 0.1% non-2xx answers or orders without their mail, or
# an order not confirmed, makes the run INVALID (exit status 1). Without the
# email service the order-to-email row is skipped, saying so.
#
# Options / environment:
#   --suite proxy|auth|cart|checkout|all  (BENCH_SUITE; default proxy)
#   --upstream product|ceiling|auto   (BENCH_UPSTREAM)
#   --duration 10s                    (BENCH_DURATION)
#   --connections 64 --threads 2      (BENCH_CONNECTIONS, BENCH_THREADS)
#   --warmup 2s                       (BENCH_WARMUP; 0 to skip)
#   --rounds 1                        (BENCH_ROUNDS; rows run round-robin, the
#                                      median of each column is reported)
#   --out FILE                        (default .state/bench/results-<time>.txt)
#   BUILD_DIR (build; built here when a binary is missing), GATEWAY_THREADS,
#   PRODUCT_URL, GATEWAY_URL, BENCH_PORT_BASE (19300);
#   for the cart rows BENCH_CART_USERS (adders, 256), BENCH_CART_LINES
#   (products per adder, 4), BENCH_CART_MIN_STOCK (20);
#   for the checkout rows BENCH_CHECKOUT_SECONDS (the window, 20),
#   BENCH_CHECKOUT_WARMUP (5), BENCH_CHECKOUT_CLIENTS (--connections),
#   BENCH_CHECKOUT_PRODUCTS (16), BENCH_CHECKOUT_MAIL_WAIT (30),
#   BENCH_CHECKOUT_RATE (orders/s offered, open loop; 0: closed loop, each
#   client as fast as it can, the default)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BENCH_CMD="scripts/bench.sh${*:+ $*}" # for the results file

UPSTREAM=${BENCH_UPSTREAM:-auto}
SUITE=${BENCH_SUITE:-proxy}
DURATION=${BENCH_DURATION:-10s}
CONNS=${BENCH_CONNECTIONS:-64}
THREADS=${BENCH_THREADS:-2}
WARMUP=${BENCH_WARMUP:-2s}
ROUNDS=${BENCH_ROUNDS:-1}
OUT=${BENCH_OUT:-}
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
PORT_BASE=${BENCH_PORT_BASE:-19300}
STATE=$ROOT/.state/bench
NCPU=$(nproc)

usage() {
	sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
	exit "${1:-0}"
}

while (($#)); do
	case $1 in
	--upstream) UPSTREAM=$2; shift 2 ;;
	--suite) SUITE=$2; shift 2 ;;
	--duration) DURATION=$2; shift 2 ;;
	--connections) CONNS=$2; shift 2 ;;
	--threads) THREADS=$2; shift 2 ;;
	--warmup) WARMUP=$2; shift 2 ;;
	--rounds) ROUNDS=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	-h | --help) usage 0 ;;
	*) printf 'bench.sh: unknown option %s\n' "$1" >&2; usage 2 ;;
	esac
done
case $SUITE in proxy | auth | cart | checkout | all) ;; *)
	printf 'bench.sh: --suite must be proxy, auth, cart, checkout or all\n' >&2
	exit 2
	;;
esac
case $UPSTREAM in product | ceiling | auto) ;; *)
	printf 'bench.sh: --upstream must be product, ceiling or auto\n' >&2
	exit 2
	;;
esac

die() {
	printf 'bench.sh: %s\n' "$*" >&2
	exit 1
}

for tool in wrk curl; do
	command -v "$tool" >/dev/null || die "'$tool' is missing (apt-get install $tool)"
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[[ -x $NGINX ]] || die "'nginx' is missing (apt-get install nginx-light)"

mkdir -p "$STATE/logs"
STAMP=$(date +%Y%m%d-%H%M%S)
OUT=${OUT:-$STATE/results-$STAMP.txt}

# ------------------------------------------------------------ processes

PIDS=()
cleanup() {
	local pid i
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
		pid=${PIDS[i]}
		kill -TERM "$pid" 2>/dev/null || continue
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

NEXT_PORT=$PORT_BASE
free_port() { # -> PORT
	while ! port_free "$NEXT_PORT"; do
		NEXT_PORT=$((NEXT_PORT + 1))
	done
	PORT=$NEXT_PORT
	NEXT_PORT=$((NEXT_PORT + 1))
}

wait_http() { # url: up to 5 s
	for _ in $(seq 100); do
		curl -fs -o /dev/null --max-time 1 "$1" && return 0
		sleep 0.05
	done
	die "nothing answers $1 (logs: ${STATE#"$ROOT"/}/logs/)"
}

# ------------------------------------------------------------ the parts

GATEWAY_BIN=$BUILD_DIR/gateway/shop-gateway
CEILING_BIN=$BUILD_DIR/tools/bench/shop-bench-upstream
if [[ ! -x $GATEWAY_BIN || ! -x $CEILING_BIN ]]; then
	printf 'building shop-gateway and shop-bench-upstream in %s\n' "${BUILD_DIR#"$ROOT"/}"
	if ! { cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
		cmake --build "$BUILD_DIR" -j"$NCPU" --target shop-gateway shop-bench-upstream; } \
		>"$STATE/logs/build.log" 2>&1; then
		die "build failed: ${STATE#"$ROOT"/}/logs/build.log"
	fi
fi

# The running fleet, if any.
if [[ -f $ROOT/.state/dev/fleet.env ]]; then
	# shellcheck disable=SC1091
	FLEET_PRODUCT=$(. "$ROOT/.state/dev/fleet.env" && echo "${SHOP_PRODUCT_URL:-}")
	# shellcheck disable=SC1091
	FLEET_GATEWAY=$(. "$ROOT/.state/dev/fleet.env" && echo "${SHOP_GATEWAY_URL:-}")
fi
PRODUCT_URL=${PRODUCT_URL:-${FLEET_PRODUCT:-http://127.0.0.1:8004}}
GATEWAY_URL=${GATEWAY_URL:-${FLEET_GATEWAY:-http://127.0.0.1:9000}}
PRODUCT_URL=${PRODUCT_URL%/}
GATEWAY_URL=${GATEWAY_URL%/}

if [[ $UPSTREAM == auto ]]; then
	if curl -fs -o /dev/null --max-time 2 "$PRODUCT_URL/health"; then
		UPSTREAM=product
	else
		UPSTREAM=ceiling
	fi
fi

free_port
CEILING_PORT=$PORT
"$CEILING_BIN" "$CEILING_PORT" "$NCPU" >"$STATE/logs/ceiling.log" 2>&1 &
PIDS+=($!)
CEILING_PID=$!
wait_http "http://127.0.0.1:$CEILING_PORT/health"

if [[ $UPSTREAM == product ]]; then
	# a product id through the API (the fleet's gateway, else the service)
	id=''
	for base in "$GATEWAY_URL" "$PRODUCT_URL"; do
		id=$(curl -fs --max-time 5 "$base/api/products?page_size=1" |
			grep -o '"id" *: *"[^"]*"' | head -n1 | sed 's/.*"\([^"]*\)"$/\1/') || true
		[[ -n $id ]] && break
	done
	[[ -n $id ]] || die "no product found at $GATEWAY_URL or $PRODUCT_URL (is the catalog seeded?)"
	UP_HOSTPORT=${PRODUCT_URL#http://}
	UP_HOSTPORT=${UP_HOSTPORT%%/*}
	REQ_PATH=/api/products/$id
	# the fleet's product process, for its CPU time (when dev-up runs it)
	UP_PID=$(cat "$ROOT/.state/dev/pids/product.pid" 2>/dev/null || true)
	[[ -n $UP_PID && -r /proc/$UP_PID/stat ]] || UP_PID=''
	UP_LABEL="product service at $UP_HOSTPORT"
else
	UP_HOSTPORT=127.0.0.1:$CEILING_PORT
	REQ_PATH=/api/products/6f1c2a9e-8d3b-4c57-9a0e-2b7d4f8c1e35
	UP_PID=$CEILING_PID
	UP_LABEL="the ceiling daemon at $UP_HOSTPORT"
fi

# The gateway verifies tokens with a public key: the dev fleet's, else a
# throw-away one (the proxy rows send no token). Its rate limits are on (they
# are part of its cost) but far above what wrk sends; with no Redis at
# BENCH_REDIS_URL they fail open, which costs the same.
BENCH_PUB=$ROOT/.state/dev/secrets/jwt_public.pem
if [[ ! -r $BENCH_PUB ]]; then
	BENCH_PUB=$STATE/jwt_public.pem
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 2>/dev/null |
		openssl pkey -pubout -out "$BENCH_PUB" || die "cannot make a key with openssl"
fi

free_port
GW_PORT=$PORT
env -i PATH="$PATH" HTTP_ADDRESS=127.0.0.1 HTTP_PORT="$GW_PORT" \
	GATEWAY_THREADS="${GATEWAY_THREADS:-0}" LOG_LEVEL=warn \
	JWT_PUBLIC_KEY_FILE="$BENCH_PUB" REDIS_URL="${BENCH_REDIS_URL:-redis://127.0.0.1:6379/0}" \
	RATE_LIMIT_PER_ADDRESS=1000000000 RATE_LIMIT_PER_USER=1000000000 \
	PRODUCT_UPSTREAMS="$UP_HOSTPORT" STATIC_DIR="$STATE/no-storefront" \
	"$GATEWAY_BIN" >"$STATE/logs/gateway.log" 2>&1 &
PIDS+=($!)
GW_PID=$!
wait_http "http://127.0.0.1:$GW_PORT/health"

free_port
NGINX_PORT=$PORT
NGINX_DIR=$STATE/nginx
mkdir -p "$NGINX_DIR/tmp"
cat >"$NGINX_DIR/nginx.conf" <<EOF
# written by scripts/bench.sh: nginx as a keep-alive reverse proxy
daemon off;
worker_processes 2;
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/error.log warn;
events {
	worker_connections 4096;
}
http {
	access_log off;
	client_body_temp_path $NGINX_DIR/tmp/body;
	proxy_temp_path $NGINX_DIR/tmp/proxy;
	fastcgi_temp_path $NGINX_DIR/tmp/fastcgi;
	uwsgi_temp_path $NGINX_DIR/tmp/uwsgi;
	scgi_temp_path $NGINX_DIR/tmp/scgi;
	upstream shop_upstream {
		server $UP_HOSTPORT;
		keepalive 64;
	}
	server {
		listen 127.0.0.1:$NGINX_PORT;
		location / {
			proxy_pass http://shop_upstream;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
		}
	}
}
EOF
"$NGINX" -e "$NGINX_DIR/error.log" -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" \
	>"$STATE/logs/nginx.log" 2>&1 &
PIDS+=($!)
NGINX_PID=$!
wait_http "http://127.0.0.1:$NGINX_PORT$REQ_PATH"

# ------------------------------------------------------------ measuring

cpu_ticks() { # pid... -> user+system clock ticks of them and their children threads
	local pid sum=0 stat rest
	for pid in "$@"; do
		[[ -r /proc/$pid/stat ]] || continue
		stat=$(<"/proc/$pid/stat")
		rest=${stat##*) }
		# fields after the command: state(3) ... utime(14) stime(15)
		read -r -a f <<<"$rest"
		sum=$((sum + f[11] + f[12]))
	done
	echo "$sum"
}

pids_of() { # row -> the server processes whose CPU counts
	case $1 in
	a) echo "$CEILING_PID" ;;
	b) echo "$UP_PID" ;;
	c) echo "$GW_PID" ;;
	d) echo "$NGINX_PID $(pgrep -P "$NGINX_PID" | tr '\n' ' ')" ;;
	esac
}

url_of() {
	case $1 in
	a) echo "http://127.0.0.1:$CEILING_PORT/" ;;
	b) echo "http://$UP_HOSTPORT$REQ_PATH" ;;
	c) echo "http://127.0.0.1:$GW_PORT$REQ_PATH" ;;
	d) echo "http://127.0.0.1:$NGINX_PORT$REQ_PATH" ;;
	esac
}

name_of() {
	case $1 in
	a) echo "a ceiling (plain MHD)" ;;
	b) echo "b upstream direct" ;;
	c) echo "c shop-gateway" ;;
	d) echo "d nginx" ;;
	esac
}

to_us() { # "123.45us" / "1.20ms" / "2.00s" -> microseconds
	awk -v v="$1" 'BEGIN {
		n = v + 0
		if (v ~ /us$/) print n; else if (v ~ /ms$/) print n * 1000;
		else if (v ~ /s$/) print n * 1000000; else print n }'
}

CLK_TCK=$(getconf CLK_TCK)
WRK_CMD="wrk -t$THREADS -c$CONNS -d$DURATION --latency"

# run_row row round: one wrk run; appends "row rps p50us p99us cpuus" to RAW
RAW=$STATE/raw-$STAMP.txt
: >"$RAW"
run_row() {
	local row=$1 url pids t0 t1 out rps p50 p99 reqs cpu
	url=$(url_of "$row")
	pids=$(pids_of "$row")
	if [[ $WARMUP != 0 && $WARMUP != 0s ]]; then
		wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" "$url" >/dev/null 2>&1 || true
	fi
	# shellcheck disable=SC2086 # pids is a list
	t0=$(cpu_ticks $pids)
	out=$($WRK_CMD "$url" 2>&1) || die "wrk failed on $url: $out"
	# shellcheck disable=SC2086
	t1=$(cpu_ticks $pids)
	printf '%s\n' "$out" >"$STATE/logs/wrk-$row-$2.log"
	if grep -q 'Non-2xx' <<<"$out"; then
		die "$(name_of "$row"): non-2xx answers ($STATE/logs/wrk-$row-$2.log)"
	fi
	rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
	reqs=$(awk '/requests in/ {print $1}' <<<"$out")
	p50=$(to_us "$(awk '$1 == "50%" {print $2}' <<<"$out")")
	p99=$(to_us "$(awk '$1 == "99%" {print $2}' <<<"$out")")
	cpu=$(awk -v t=$((t1 - t0)) -v hz="$CLK_TCK" -v n="$reqs" -v known="${pids// /}" \
		'BEGIN { if (n > 0 && known != "") printf "%.1f", t / hz * 1e6 / n; else print "-" }')
	printf '%s %s %s %s %s\n' "$row" "$rps" "$p50" "$p99" "$cpu" >>"$RAW"
	printf '  %-22s %10.0f req/s  p50 %8.0f us  p99 %8.0f us  cpu %6s us/req\n' \
		"$(name_of "$row")" "$rps" "$p50" "$p99" "$cpu"
}

printf 'bench: %s, %s rounds; upstream: %s; path %s\n' "$WRK_CMD" "$ROUNDS" "$UP_LABEL" "$REQ_PATH"
printf '       gateway :%s (%s threads), nginx :%s (2 workers), ceiling :%s (%s threads); %s cores\n' \
	"$GW_PORT" "${GATEWAY_THREADS:-cores}" "$NGINX_PORT" "$CEILING_PORT" "$NCPU" "$NCPU"
ROWS=(a b c d)
PROXY_ROUNDS=$ROUNDS
[[ $SUITE == auth || $SUITE == cart || $SUITE == checkout ]] && PROXY_ROUNDS=0
for ((r = 1; r <= PROXY_ROUNDS; r++)); do
	((PROXY_ROUNDS > 1)) && printf 'round %d\n' "$r"
	for row in "${ROWS[@]}"; do
		run_row "$row" "$r"
	done
done

# the median of the rounds per row, of each column on its own
median() { # row -> "rps p50 p99 cpu"
	local col out=''
	for col in 2 3 4 5; do
		out+="$(awk -v row="$1" -v c="$col" '$1 == row { print $c }' "$RAW" | sort -n |
			awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }') "
	done
	echo "$out"
}

if ((PROXY_ROUNDS > 0)); then {
	printf '# shop bench %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	printf '# %s on %s (%s cores), kernel %s\n' "$WRK_CMD" "$(hostname)" "$NCPU" "$(uname -r)"
	printf '# upstream: %s, path %s; %s round(s), median of each column\n' "$UP_LABEL" "$REQ_PATH" "$ROUNDS"
	printf '# gateway: LOG_LEVEL=warn GATEWAY_THREADS=%s; nginx %s: worker_processes 2, keepalive 64, access_log off\n' \
		"${GATEWAY_THREADS:-0}" "$("$NGINX" -v 2>&1 | sed 's/.*nginx\///')"
	printf '| %-22s | %9s | %9s | %9s | %11s |\n' setup 'req/s' 'p50 (us)' 'p99 (us)' 'CPU us/req'
	printf '|%s|%s|%s|%s|%s|\n' ------------------------ ----------- ----------- ----------- -------------
	for row in "${ROWS[@]}"; do
		read -r rps p50 p99 cpu <<<"$(median "$row")"
		printf '| %-22s | %9.0f | %9.0f | %9.0f | %11s |\n' "$(name_of "$row")" "$rps" "$p50" "$p99" "$cpu"
		eval "RPS_$row=$rps P99_$row=$p99"
	done
	# shellcheck disable=SC2154 # set by eval above
	awk -v c="$RPS_c" -v d="$RPS_d" -v b="$RPS_b" -v a="$RPS_a" -v pc="$P99_c" -v pd="$P99_d" 'BEGIN {
		printf "c/d (gateway / nginx) req/s: %.2f   p99 c/d: %.2f\n", c / d, pc / pd
		printf "b/a (upstream / ceiling) req/s: %.2f\n", b / a }'
	printf '# each round: row req/s p50 p99 cpu\n'
	sed 's/^/# /' "$RAW"
} | tee "$OUT"; fi

if [[ $SUITE == auth || $SUITE == all ]]; then
	# shellcheck source=scripts/lib/bench-auth.sh
	. "$ROOT/scripts/lib/bench-auth.sh"
	bench_auth
fi
BENCH_STATUS=0
if [[ $SUITE == cart || $SUITE == all ]]; then
	# shellcheck source=scripts/lib/bench-cart.sh
	. "$ROOT/scripts/lib/bench-cart.sh"
	bench_cart
fi
if [[ $SUITE == checkout || $SUITE == all ]]; then
	# shellcheck source=scripts/lib/bench-checkout.sh
	. "$ROOT/scripts/lib/bench-checkout.sh"
	bench_checkout
fi
printf 'results: %s\n' "${OUT#"$ROOT"/}"
((BENCH_STATUS == 0)) # 1 when the cart or checkout rows were invalid
