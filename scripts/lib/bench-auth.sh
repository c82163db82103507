# shellcheck shell=bash
# scripts/lib/bench-auth.sh: the authentication rows of scripts/bench.sh
# (--suite auth or all), sourced by it after the proxy rows; uses its
# helpers (free_port, wait_http, cpu_ticks, to_us, PIDS, STATE, OUT, ...).
#
#   jwt      shop-bench-jwt: one verification with the shared verifier,
#            uncached (ECDSA + claims) and cached (the same token again)
#   e  gateway public route -> ceiling    GET /api/products/{id}, no token
#   f  gateway protected route -> ceiling GET /api/users/me with a valid
#            token: the gateway verifies it and looks its jti up among the
#            revoked; f - e is what token verification adds per request
#   g  gateway -> the fleet's user service  GET /api/users/me (real token)
#   h  gateway -> the fleet's user service  POST /api/auth/login (Argon2id)
#   mem  the user daemon's peak RSS during a burst of 50 concurrent logins
#
# Every row goes through a gateway started here on the dev fleet's public
# key and Redis, with rate limits on but far above what wrk sends (the
# fleet's own gateway would refuse a benchmark from one address); e and f
# proxy to the ceiling daemon, g and h to the dev fleet's user service.

bench_auth() {
	local fleet_env=$ROOT/.state/dev/fleet.env pub redis_url user_url gw_url
	local token jwt_bin=$BUILD_DIR/tools/bench/shop-bench-jwt user_pid
	[[ -f $fleet_env ]] || die "--suite auth needs the dev fleet (scripts/dev-up.sh): no $fleet_env"
	# shellcheck disable=SC1090
	pub=$(. "$fleet_env" && echo "$SHOP_JWT_PUBLIC_KEY")
	# shellcheck disable=SC1090
	redis_url=$(. "$fleet_env" && echo "$SHOP_REDIS_URL")
	# shellcheck disable=SC1090
	user_url=$(. "$fleet_env" && echo "${SHOP_USER_URL:-}")
	# shellcheck disable=SC1090
	gw_url=$(. "$fleet_env" && echo "$SHOP_GATEWAY_URL")
	curl -fs -o /dev/null --max-time 2 "$user_url/health" ||
		die "the dev fleet's user service does not answer at $user_url/health"
	if [[ ! -x $jwt_bin ]]; then
		cmake --build "$BUILD_DIR" -j"$NCPU" --target shop-bench-jwt >"$STATE/logs/build-jwt.log" 2>&1 ||
			die "build failed: ${STATE#"$ROOT"/}/logs/build-jwt.log"
	fi

	# A real token of the seed customer, from the fleet.
	local login_body='{"email":"paintest@example.com","password":"password123"}'
	token=$(curl -fs --max-time 10 -H 'Content-Type: application/json' \
		-d "$login_body" "$gw_url/api/auth/login" | jq -r .access_token) ||
		die "cannot log in as paintest@example.com through $gw_url"
	[[ -n $token && $token != null ]] || die "login answered no access_token"

	printf '\nauthentication\n'
	local jwt_line
	jwt_line=$("$jwt_bin" "$pub" "$token" 2000) || die "shop-bench-jwt failed"
	printf '  %-22s %s\n' "jwt verify" "$jwt_line"

	# e / f: a gateway of our own with auth on, both routes to the ceiling.
	free_port
	local agw_port=$PORT agw_pid
	env -i PATH="$PATH" HTTP_ADDRESS=127.0.0.1 HTTP_PORT="$agw_port" \
		GATEWAY_THREADS="${GATEWAY_THREADS:-0}" LOG_LEVEL=warn \
		PRODUCT_UPSTREAMS="127.0.0.1:$CEILING_PORT" USER_UPSTREAMS="127.0.0.1:$CEILING_PORT" \
		STATIC_DIR="$STATE/no-storefront" JWT_PUBLIC_KEY_FILE="$pub" \
		JWT_ISSUER=shop-user JWT_AUDIENCE=shop REDIS_URL="$redis_url" \
		RATE_LIMIT_PER_ADDRESS=1000000000 RATE_LIMIT_PER_USER=1000000000 \
		"$GATEWAY_BIN" >"$STATE/logs/gateway-auth.log" 2>&1 &
	PIDS+=($!)
	agw_pid=$!
	wait_http "http://127.0.0.1:$agw_port/health"
	# and one in front of the fleet's user service
	free_port
	local ugw_port=$PORT ugw_pid
	env -i PATH="$PATH" HTTP_ADDRESS=127.0.0.1 HTTP_PORT="$ugw_port" \
		GATEWAY_THREADS="${GATEWAY_THREADS:-0}" LOG_LEVEL=warn \
		USER_UPSTREAMS="${user_url#http://}" \
		STATIC_DIR="$STATE/no-storefront" JWT_PUBLIC_KEY_FILE="$pub" \
		JWT_ISSUER=shop-user JWT_AUDIENCE=shop REDIS_URL="$redis_url" \
		RATE_LIMIT_PER_ADDRESS=1000000000 RATE_LIMIT_PER_USER=1000000000 \
		"$GATEWAY_BIN" >"$STATE/logs/gateway-user.log" 2>&1 &
	PIDS+=($!)
	ugw_pid=$!
	wait_http "http://127.0.0.1:$ugw_port/health"

	user_pid=$(cat "$ROOT/.state/dev/pids/user.pid" 2>/dev/null || true)
	[[ -n $user_pid && -r /proc/$user_pid/stat ]] || user_pid=''

	# shellcheck disable=SC2153 # CONNS: set by scripts/bench.sh, which sources this file
	auth_row e "e gateway public" "$agw_pid" "http://127.0.0.1:$agw_port/api/products/6f1c2a9e-8d3b-4c57-9a0e-2b7d4f8c1e35" "$CONNS"
	auth_row f "f gateway + token" "$agw_pid" "http://127.0.0.1:$agw_port/api/users/me" "$CONNS" \
		-H "Authorization: Bearer $token"
	auth_row g "g users/me (fleet)" "$ugw_pid $user_pid" "http://127.0.0.1:$ugw_port/api/users/me" "$CONNS" \
		-H "Authorization: Bearer $token"
	# Login rotates over 50 accounts: the per-email throttle counts the
	# attempts in flight, so 16 connections on one account would get 429s.
	bench_accounts "http://127.0.0.1:$ugw_port" "$user_url"
	local lua=$STATE/login.lua
	cat >"$lua" <<-'LUA'
		local n = 0
		request = function()
			n = n % 50 + 1
			local body = string.format('{"email":"bench-%d@example.com","password":"bench-password-%d"}', n, n)
			return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, body)
		end
	LUA
	auth_row h "h login (fleet)" "$ugw_pid $user_pid" "http://127.0.0.1:$ugw_port/api/auth/login" 16 -s "$lua"

	local mem_line='-'
	if [[ -n $user_pid ]]; then
		mem_line=$(login_burst_memory "$user_pid" "http://127.0.0.1:$ugw_port")
		printf '  %-22s %s\n' "login burst memory" "$mem_line"
	fi

	{
		printf '\n# authentication (%s)\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
		printf '# jwt verify (tools/bench/bench_jwt.c): %s\n' "$jwt_line"
		printf '| %-22s | %9s | %9s | %9s | %11s |\n' setup 'req/s' 'p50 (us)' 'p99 (us)' 'CPU us/req'
		printf '|%s|%s|%s|%s|%s|\n' ------------------------ ----------- ----------- ----------- -------------
		local row name rps p50 p99 cpu
		while read -r row rps p50 p99 cpu name; do
			printf '| %-22s | %9.0f | %9.0f | %9.0f | %11s |\n' "$name" "$rps" "$p50" "$p99" "$cpu"
			eval "ARPS_$row=$rps ACPU_$row=$cpu AP50_$row=$p50"
		done <"$STATE/auth-$STAMP.txt"
		# shellcheck disable=SC2154 # set by eval above
		awk -v ce="$ACPU_e" -v cf="$ACPU_f" -v pe="$AP50_e" -v pf="$AP50_f" 'BEGIN {
			printf "token verification at the gateway (f - e): %+.1f CPU us/req, %+.0f us p50\n", cf - ce, pf - pe }'
		printf '# login burst (50 concurrent logins): %s\n' "$mem_line"
		printf '# rows h and g: wrk -c16 for login (Argon2id bounds it by design), -c%s otherwise\n' "$CONNS"
	} | tee -a "$OUT"
}

# auth_row ROW NAME "PIDS" URL CONNECTIONS [wrk args...]
auth_row() {
	local row=$1 name=$2 pids=$3 url=$4 conns=$5 t0 t1 out rps p50 p99 reqs cpu
	shift 5
	if [[ $WARMUP != 0 && $WARMUP != 0s ]]; then
		wrk -t"$THREADS" -c"$conns" -d"$WARMUP" "$@" "$url" >/dev/null 2>&1 || true
	fi
	# shellcheck disable=SC2086 # pids is a list
	t0=$(cpu_ticks $pids)
	out=$(wrk -t"$THREADS" -c"$conns" -d"$DURATION" --latency "$@" "$url" 2>&1) ||
		die "wrk failed on $url: $out"
	# shellcheck disable=SC2086
	t1=$(cpu_ticks $pids)
	printf '%s\n' "$out" >"$STATE/logs/wrk-$row.log"
	if grep -q 'Non-2xx' <<<"$out"; then
		die "$name: non-2xx answers ($STATE/logs/wrk-$row.log)"
	fi
	rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
	reqs=$(awk '/requests in/ {print $1}' <<<"$out")
	p50=$(to_us "$(awk '$1 == "50%" {print $2}' <<<"$out")")
	p99=$(to_us "$(awk '$1 == "99%" {print $2}' <<<"$out")")
	cpu=$(awk -v t=$((t1 - t0)) -v hz="$CLK_TCK" -v n="$reqs" -v known="${pids// /}" \
		'BEGIN { if (n > 0 && known != "") printf "%.1f", t / hz * 1e6 / n; else print "-" }')
	printf '%s %s %s %s %s %s\n' "$row" "$rps" "$p50" "$p99" "$cpu" "$name" >>"$STATE/auth-$STAMP.txt"
	printf '  %-22s %10.1f req/s  p50 %8.0f us  p99 %8.0f us  cpu %6s us/req\n' \
		"$name" "$rps" "$p50" "$p99" "$cpu"
}

# bench_accounts GATEWAY_URL USER_URL: the accounts bench-<n>@example.com
# (n = 1..50, password bench-password-<n>), registered when missing; then
# waits until no password hash is in flight in the user service.
bench_accounts() {
	local url=$1 user_url=$2 n i
	for ((i = 1; i <= 50; i++)); do
		printf '{"email":"bench-%d@example.com","password":"bench-password-%d","name":"Bench %d"}\n' "$i" "$i" "$i"
	done >"$STATE/burst-register.jsonl"
	xargs -P 8 -d '\n' -I{} curl -s -o /dev/null --max-time 60 -H 'Content-Type: application/json' \
		-d {} "$url/api/auth/register" <"$STATE/burst-register.jsonl"
	sed 's/,"name":"[^"]*"//' "$STATE/burst-register.jsonl" >"$STATE/burst-login.jsonl"
	for ((i = 0; i < 100; i++)); do
		n=$(curl -fs --max-time 2 "$user_url/metrics" |
			awk '/^password_hash_(in_flight|queued) / { s += $2 } END { print s + 0 }')
		[[ $n == 0 ]] && break
		sleep 0.1
	done
}

# login_burst_memory PID GATEWAY_URL: once no hash is in flight, reset the
# user daemon's peak RSS (clear_refs 5), fire 50 logins of the 50 bench
# accounts at once (one each, so the per-email throttle plays no part), and
# report the RSS before and the peak.
login_burst_memory() {
	local pid=$1 url=$2 before peak codes
	bench_accounts "$url" "$user_url"
	echo 5 >"/proc/$pid/clear_refs" 2>/dev/null || true
	before=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
	codes=$(xargs -P 50 -d '\n' -I{} curl -s -o /dev/null -w '%{http_code}\n' --max-time 60 \
		-H 'Content-Type: application/json' -d {} "$url/api/auth/login" <"$STATE/burst-login.jsonl" |
		sort | uniq -c | awk '{ printf "%s%s x %s", sep, $2, $1; sep = ", " }')
	peak=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
	printf 'RSS %d MiB before, peak %d MiB during 50 concurrent logins of 50 accounts (answers: %s)' \
		$((before / 1024)) $((peak / 1024)) "$codes"
}
