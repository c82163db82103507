# shellcheck shell=bash
# scripts/lib/bench-cart.sh: the cart rows of scripts/bench.sh (--suite cart
# or all), sourced by it after the other rows; uses its helpers and state
# (free_port, wait_http, cpu_ticks, to_us, die, PIDS, STATE, OUT, STAMP,
# WRK_CMD, ROUNDS, WARMUP, CONNS, THREADS, GATEWAY_BIN, ...).
#
#   i  gateway -> product  GET /api/products/{id}, no token: the floor of one
#                          proxied request, measured in the same run
#   j  gateway -> cart     GET /api/cart, one reader per connection (CONNS
#                          of them), each cart holding 3 lines
#   k  gateway -> cart     POST /api/cart/items {"product_id","quantity":1}:
#                          BENCH_CART_USERS adders (256) in turn, each over
#                          its own BENCH_CART_LINES products (4) of the pool;
#                          the target: p99 under 10 ms at 64 connections
#   mem  the cart daemon's RSS (VmRSS) before and after, and its peak
#        (VmHWM, reset with clear_refs when allowed) during the suite
#
# Every row goes through a gateway started here in front of the dev fleet's
# product and cart services, on the fleet's public key and Redis, rate limits
# on but far above what wrk sends (the fleet's own gateway limits one address
# to 2000 requests / 10 s), LOG_LEVEL=warn. CPU per request is the gateway's,
# the product daemon's and (j, k) the cart daemon's; PostgreSQL's and Redis'
# are not counted. The rows run round-robin for --rounds; the median of each
# column is reported.
#
# The bench users need no account: any token whose sub is a UUID has its own
# cart. Their subs are fixed (bec4a700-000{1,2}-4000-8000-<n>: readers,
# adders) and their tokens minted by scripts/mint-token.sh with the fleet's
# key. The pool is the catalog's products with the most stock (up to 16, in
# one currency, stock >= BENCH_CART_MIN_STOCK, 20; not the integration
# tests' own, sku ITEST-..., which change while they run). A line holds at most
# min(99, stock), so before each warm-up and each measured run of k the
# adders' carts are emptied (DELETE /api/cart); a measured run then puts
# about requests / (adders x lines) into each line, which must stay under
# that limit: the script checks the carts after each run. Non-2xx answers are
# counted (by status, from wrk's lua response()) and printed; a row with more
# than 0.1% of them makes the run INVALID (exit status 1). At the end every
# bench user's cart is emptied.

bench_cart() {
	local fleet_env=$ROOT/.state/dev/fleet.env pub redis_url cart_url product_url key iss aud
	[[ -f $fleet_env ]] || die "--suite cart needs the dev fleet (scripts/dev-up.sh): no $fleet_env"
	command -v jq >/dev/null || die "'jq' is missing (apt-get install jq)"
	# shellcheck disable=SC1090
	pub=$(. "$fleet_env" && echo "$SHOP_JWT_PUBLIC_KEY")
	# shellcheck disable=SC1090
	key=$(. "$fleet_env" && echo "$SHOP_JWT_PRIVATE_KEY")
	# shellcheck disable=SC1090
	iss=$(. "$fleet_env" && echo "${SHOP_JWT_ISSUER:-shop-user}")
	# shellcheck disable=SC1090
	aud=$(. "$fleet_env" && echo "${SHOP_JWT_AUDIENCE:-shop}")
	# shellcheck disable=SC1090
	redis_url=$(. "$fleet_env" && echo "$SHOP_REDIS_URL")
	# shellcheck disable=SC1090
	cart_url=$(. "$fleet_env" && echo "${SHOP_CART_URL:-}")
	# shellcheck disable=SC1090
	product_url=$(. "$fleet_env" && echo "${SHOP_PRODUCT_URL:-}")
	cart_url=${cart_url%/}
	product_url=${product_url%/}
	local u
	for u in "$cart_url" "$product_url"; do
		curl -fs -o /dev/null --max-time 2 "$u/health" ||
			die "the dev fleet does not answer at $u/health"
	done

	local users=${BENCH_CART_USERS:-256} lines=${BENCH_CART_LINES:-4}
	local readers=$CONNS read_lines=3 min_stock=${BENCH_CART_MIN_STOCK:-20}

	# The gateway: both routes, the fleet's key and Redis.
	free_port
	local cgw_port=$PORT cgw_pid gw
	env -i PATH="$PATH" HTTP_ADDRESS=127.0.0.1 HTTP_PORT="$cgw_port" \
		GATEWAY_THREADS="${GATEWAY_THREADS:-0}" LOG_LEVEL=warn \
		PRODUCT_UPSTREAMS="${product_url#http://}" CART_UPSTREAMS="${cart_url#http://}" \
		STATIC_DIR="$STATE/no-storefront" JWT_PUBLIC_KEY_FILE="$pub" \
		JWT_ISSUER="$iss" JWT_AUDIENCE="$aud" REDIS_URL="$redis_url" \
		RATE_LIMIT_PER_ADDRESS=1000000000 RATE_LIMIT_PER_USER=1000000000 \
		"$GATEWAY_BIN" >"$STATE/logs/gateway-cart.log" 2>&1 &
	PIDS+=($!)
	cgw_pid=$!
	gw=http://127.0.0.1:$cgw_port
	wait_http "$gw/health"

	local cart_pid product_pid
	cart_pid=$(cat "$ROOT/.state/dev/pids/cart.pid" 2>/dev/null || true)
	[[ -n $cart_pid && -r /proc/$cart_pid/status ]] || cart_pid=''
	product_pid=$(cat "$ROOT/.state/dev/pids/product.pid" 2>/dev/null || true)
	[[ -n $product_pid && -r /proc/$product_pid/stat ]] || product_pid=''

	# The pool: the products with the most stock, in the first one's
	# currency, leaving out the integration tests' own (sku ITEST-...), which
	# they change and delete while they run.
	local pool_json='' page pool=() limit limits
	for ((page = 1; page <= 10; page++)); do
		local body
		body=$(curl -fs --max-time 10 "$gw/api/products?page_size=100&page=$page") ||
			die "cannot list the products through $gw"
		pool_json+=$body
		[[ $(jq '.items | length' <<<"$body") == 100 ]] || break
	done
	pool_json=$(jq -s --argjson min "$min_stock" '
		[.[].items[] | select(.stock >= $min and (.sku | startswith("ITEST-") | not))]
		| sort_by(-.stock, .created_at) as $p
		| [$p[] | select(.currency == $p[0].currency)][:16]' <<<"$pool_json")
	mapfile -t pool < <(jq -r '.[].id' <<<"$pool_json")
	((${#pool[@]} >= lines && ${#pool[@]} >= read_lines)) ||
		die "the catalog has ${#pool[@]} products with stock >= $min_stock in one currency; the cart rows need $((lines > read_lines ? lines : read_lines))"
	# a line's limit: min(99, stock)
	limits=$(jq -c 'map({key: .id, value: ([.stock, 99] | min)}) | from_entries' <<<"$pool_json")
	limit=$(jq '[.[]] | min' <<<"$limits")

	# The users and their tokens (one node start for all).
	local subs=() tokens=() i k
	for ((i = 1; i <= readers; i++)); do subs+=("$(printf 'bec4a700-0001-4000-8000-%012d' "$i")"); done
	for ((i = 1; i <= users; i++)); do subs+=("$(printf 'bec4a700-0002-4000-8000-%012d' "$i")"); done
	mapfile -t tokens < <(SHOP_JWT_PRIVATE_KEY=$key SHOP_JWT_ISSUER=$iss SHOP_JWT_AUDIENCE=$aud \
		TOKEN_TTL_S=7200 "$ROOT/scripts/mint-token.sh" customer "${subs[@]}")
	((${#tokens[@]} == readers + users)) || die "scripts/mint-token.sh gave ${#tokens[@]} tokens of $((readers + users))"

	# wrk's specs (a line per user: token [product...]) and curl's batches.
	local d=$STATE/cart
	CART_DIR=$d
	mkdir -p "$d"
	chmod 700 "$d"
	: >"$d/readers.spec"
	: >"$d/adders.spec"
	: >"$d/clear-adders.curl"
	: >"$d/clear-all.curl"
	: >"$d/fill-readers.curl"
	: >"$d/get-adders.curl"
	for ((i = 0; i < readers + users; i++)); do
		cart_curl_entry "$d/clear-all.curl" DELETE "$gw/api/cart" "${tokens[i]}"
	done
	for ((i = 0; i < readers; i++)); do
		printf '%s\n' "${tokens[i]}" >>"$d/readers.spec"
		for ((k = 0; k < read_lines; k++)); do
			cart_curl_entry "$d/fill-readers.curl" POST "$gw/api/cart/items" "${tokens[i]}" \
				"{\"product_id\":\"${pool[(i + k) % ${#pool[@]}]}\",\"quantity\":1}"
		done
	done
	for ((i = 0; i < users; i++)); do
		local t=${tokens[readers + i]} line=${tokens[readers + i]}
		for ((k = 0; k < lines; k++)); do line+=" ${pool[(i + k) % ${#pool[@]}]}"; done
		printf '%s\n' "$line" >>"$d/adders.spec"
		cart_curl_entry "$d/clear-adders.curl" DELETE "$gw/api/cart" "$t"
		cart_curl_entry "$d/get-adders.curl" GET "$gw/api/cart" "$t"
	done
	cart_lua >"$d/cart.lua"

	printf '\ncart (gateway :%s -> cart %s, product %s; %d readers x %d lines, %d adders x %d products of %d, line limit %d)\n' \
		"$cgw_port" "${cart_url#http://}" "${product_url#http://}" "$readers" "$read_lines" "$users" "$lines" "${#pool[@]}" "$limit"

	local rss0=- hwm_reset=0 jwt_gw0 jwt_cart0
	if [[ -n $cart_pid ]]; then
		echo 5 2>/dev/null >"/proc/$cart_pid/clear_refs" && hwm_reset=1
		rss0=$(awk '/^VmRSS/ {print $2}' "/proc/$cart_pid/status")
	fi
	jwt_gw0=$(cart_metric "$gw" jwt_cache_misses_total)
	jwt_cart0=$(cart_metric "$cart_url" jwt_cache_misses_total)

	cart_batch "$d/clear-all.curl" 204 "emptying the bench users' carts"
	cart_batch "$d/fill-readers.curl" 200 "filling the readers' carts"

	CART_RAW=$STATE/cart-$STAMP.txt
	: >"$CART_RAW"
	CART_BAD=''
	local r maxq maxl full
	for ((r = 1; r <= ROUNDS; r++)); do
		((ROUNDS > 1)) && printf 'round %d\n' "$r"
		cart_row i "$r" : "$cgw_pid $product_pid" "$gw/api/products/${pool[0]}"
		cart_row j "$r" : "$cgw_pid $cart_pid $product_pid" "$gw/api/cart" get "$d/readers.spec"
		cart_row k "$r" cart_clear_adders "$cgw_pid $cart_pid $product_pid" "$gw/api/cart/items" \
			add "$d/adders.spec"
		# what the lines reached (the adders' carts as the run left them):
		# "quantity limit" of the fullest line, and how many are at their limit
		read -r maxq maxl full < <({ curl -s --no-progress-meter --parallel --parallel-max 16 -K "$d/get-adders.curl" || true; } |
			jq -rs --argjson lim "$limits" '[.[].items[]? | {q: .quantity, l: ($lim[.product_id] // 99)}]
				| (max_by(.q / .l) // {q: 0, l: 0}) as $m | "\($m.q) \($m.l) \(map(select(.q >= .l)) | length)"' ||
			echo '? ? ?')
		printf '  %-22s the fullest holds %s of %s; %s at their limit (%s requests / (%d x %d) = %s a line)\n' \
			"k lines" "$maxq" "$maxl" "$full" "$CART_K_REQS" "$users" "$lines" \
			"$(awk -v n="$CART_K_REQS" -v d=$((users * lines)) 'BEGIN { printf "%.1f", n / d }')"
		if [[ $full != 0 ]]; then
			CART_BAD+="round $r: $full lines of k reached their limit (min(99, stock)): more BENCH_CART_USERS or BENCH_CART_LINES; "
		fi
	done

	local mem_line='-' rss1 hwm
	if [[ -n $cart_pid && -r /proc/$cart_pid/status ]]; then
		rss1=$(awk '/^VmRSS/ {print $2}' "/proc/$cart_pid/status")
		hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$cart_pid/status")
		mem_line=$(awk -v a="$rss0" -v b="$rss1" -v h="$hwm" -v reset="$hwm_reset" -v pid="$cart_pid" 'BEGIN {
			printf "pid %s: VmRSS %.1f MiB before, %.1f MiB after; VmHWM %.1f MiB (%s)", pid,
				a / 1024, b / 1024, h / 1024, reset ? "peak during the suite" : "peak since the daemon started" }')
	fi
	printf '  %-22s %s\n' "cart daemon memory" "$mem_line"
	local jwt_line
	jwt_line=$(printf 'token cache misses during the suite: gateway %s, cart daemon %s (%d tokens)' \
		"$(cart_delta "$jwt_gw0" "$(cart_metric "$gw" jwt_cache_misses_total)")" \
		"$(cart_delta "$jwt_cart0" "$(cart_metric "$cart_url" jwt_cache_misses_total)")" "${#tokens[@]}")
	printf '  %-22s %s\n' "jwt" "$jwt_line"

	cart_batch "$d/clear-all.curl" 204 "emptying the bench users' carts"

	{
		printf '\n# cart (%s)\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
		printf '# %s through a gateway of its own -> the dev fleet'"'"'s cart and product services; %s round(s), median of each column\n' \
			"$WRK_CMD" "$ROUNDS"
		printf '# j: %d readers (one a connection), %d lines each; k: %d adders in turn, %d products each of a pool of %d, quantity 1, carts emptied before each run; line limit %d\n' \
			"$readers" "$read_lines" "$users" "$lines" "${#pool[@]}" "$limit"
		printf '| %-22s | %9s | %9s | %9s | %11s | %9s |\n' setup 'req/s' 'p50 (us)' 'p99 (us)' 'CPU us/req' 'non-2xx'
		printf '|%s|%s|%s|%s|%s|%s|\n' ------------------------ ----------- ----------- ----------- ------------- -----------
		local row rps p50 p99 cpu bad
		for row in i j k; do
			read -r rps p50 p99 cpu <<<"$(cart_median "$row")"
			bad=$(awk -v row="$row" '$1 == row { s += $8 } END { print s + 0 }' "$CART_RAW")
			printf '| %-22s | %9.0f | %9.0f | %9.0f | %11s | %9s |\n' "$(cart_name "$row")" "$rps" "$p50" "$p99" "$cpu" "$bad"
			eval "CRPS_$row=$rps CP99_$row=$p99"
		done
		# shellcheck disable=SC2154 # set by eval above
		awk -v c="$CONNS" -v i="$CRPS_i" -v j="$CRPS_j" -v k="$CRPS_k" -v pk="$CP99_k" 'BEGIN {
			printf "j/i req/s: %.2f   k/i req/s: %.2f   k p99: %.2f ms (target < 10 ms at 64 connections)%s\n",
				j / i, k / i, pk / 1000, pk < 10000 ? "" : "  OVER TARGET"
			printf "# k: %d connections at %.0f req/s wait %.1f ms a request on average (a p99 under 10 ms needs over %d req/s)\n",
				c, k, c / k * 1000, c * 100 }'
		printf '# cart daemon memory: %s\n' "$mem_line"
		printf '# %s\n' "$jwt_line"
		printf '# each round: row round req/s p50 p99 cpu requests non-2xx statuses\n'
		sed 's/^/# /' "$CART_RAW"
		if [[ -n $CART_BAD ]]; then
			printf 'INVALID cart run: %s\n' "${CART_BAD%; }"
		fi
	} | tee -a "$OUT"
	# shellcheck disable=SC2034 # bench.sh's exit status
	[[ -z $CART_BAD ]] || BENCH_STATUS=1
}

cart_name() {
	case $1 in
	i) echo "i product via gateway" ;;
	j) echo "j GET cart (3 lines)" ;;
	k) echo "k POST cart item" ;;
	esac
}

# the median of the rounds of a row, each column on its own: "rps p50 p99 cpu"
cart_median() {
	local col out=''
	for col in 3 4 5 6; do
		out+="$(awk -v row="$1" -v c="$col" '$1 == row { print $c }' "$CART_RAW" | sort -n |
			awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }') "
	done
	echo "$out"
}

# cart_curl_entry FILE METHOD URL TOKEN [BODY]: appends one transfer to a
# curl config file (-K), which answers its status on a line (its body for a
# GET).
cart_curl_entry() {
	{
		[[ -s $1 ]] && printf 'next\n'
		printf 'url = "%s"\nrequest = "%s"\nheader = "Authorization: Bearer %s"\nmax-time = 10\n' "$3" "$2" "$4"
		if [[ $2 == GET ]]; then
			printf 'write-out = "\\n"\n'
		else
			printf 'output = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n'
		fi
		if [[ -n ${5:-} ]]; then
			printf 'header = "Content-Type: application/json"\ndata = "%s"\n' "${5//\"/\\\"}"
		fi
	} >>"$1"
}

# cart_batch FILE STATUS WHAT: every transfer of FILE (16 at a time); dies
# unless each answered STATUS
cart_batch() {
	local codes
	codes=$({ curl -s --no-progress-meter --parallel --parallel-max 16 -K "$1" || true; } | sort | uniq -c |
		awk '{ printf "%s%s x %s", sep, $2, $1; sep = ", " }')
	[[ $codes =~ ^$2\ x\ [0-9]+$ ]] || die "$3: answers $codes (expected all $2)"
}

cart_clear_adders() {
	cart_batch "$CART_DIR/clear-adders.curl" 204 "emptying the adders' carts"
}

# cart_metric URL NAME: a counter of URL/metrics ('-' when it cannot be read)
cart_metric() {
	curl -fs --max-time 2 "$1/metrics" | awk -v n="$2" '$1 == n { print $2; f = 1 } END { if (!f) print "-" }' ||
		echo -
}

cart_delta() { # before after
	if [[ $1 == - || $2 == - ]]; then echo -; else echo $(($2 - $1)); fi
}

# cart_row ROW ROUND PREPARE "PIDS" URL [get|add SPEC]: PREPARE (a command,
# ':' for none) runs before the warm-up and again before the measured run;
# with get|add, the requests come from cart_lua's script over SPEC.
# Appends "row round rps p50 p99 cpu requests non2xx statuses" to CART_RAW;
# sets CART_K_REQS for row k.
cart_row() {
	local row=$1 round=$2 prepare=$3 pids=$4 url=$5 t0 t1 out rps p50 p99 reqs cpu bad codes sock log
	local args=("$url")
	[[ -n ${6:-} ]] && args=(-s "$CART_DIR/cart.lua" "$url" -- "$6" "$7" "$THREADS")
	log=$STATE/logs/wrk-cart-$row-$round.log
	$prepare
	if [[ $WARMUP != 0 && $WARMUP != 0s ]]; then
		wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" "${args[@]}" >/dev/null 2>&1 || true
		$prepare
	fi
	# shellcheck disable=SC2086 # pids is a list
	t0=$(cpu_ticks $pids)
	out=$($WRK_CMD "${args[@]}" 2>&1) || die "wrk failed on $url: $out"
	# shellcheck disable=SC2086
	t1=$(cpu_ticks $pids)
	printf '%s\n' "$out" >"$log"
	rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
	reqs=$(awk '/requests in/ {print $1}' <<<"$out")
	[[ -n $rps && -n $reqs ]] || die "$(cart_name "$row"): no figures from wrk ($log)"
	p50=$(to_us "$(awk '$1 == "50%" {print $2}' <<<"$out")")
	p99=$(to_us "$(awk '$1 == "99%" {print $2}' <<<"$out")")
	bad=$(awk '/Non-2xx or 3xx responses/ {print $NF}' <<<"$out")
	bad=${bad:-0}
	codes=$(awk '$1 == "status" { printf "%s%s:%s", sep, $2, $3; sep = "," }' <<<"$out")
	sock=$(awk '/Socket errors/ { sub(/^ *Socket errors: */, ""); print }' <<<"$out")
	cpu=$(awk -v t=$((t1 - t0)) -v hz="$CLK_TCK" -v n="$reqs" -v known="${pids// /}" \
		'BEGIN { if (n > 0 && known != "") printf "%.1f", t / hz * 1e6 / n; else print "-" }')
	printf '%s %s %s %s %s %s %s %s %s\n' "$row" "$round" "$rps" "$p50" "$p99" "$cpu" "$reqs" "$bad" "${codes:--}" >>"$CART_RAW"
	printf '  %-22s %10.0f req/s  p50 %8.0f us  p99 %8.0f us  cpu %6s us/req  non-2xx %s%s%s\n' \
		"$(cart_name "$row")" "$rps" "$p50" "$p99" "$cpu" "$bad" "${codes:+ ($codes)}" "${sock:+  socket errors: $sock}"
	[[ $row == k ]] && CART_K_REQS=$reqs
	if awk -v b="$bad" -v n="$reqs" 'BEGIN { exit !(b > n / 1000) }'; then
		CART_BAD+="round $round: $(cart_name "$row") had $bad non-2xx answers of $reqs (${codes:-?}; $log); "
	fi
	if [[ -n $sock ]]; then
		CART_BAD+="round $round: $(cart_name "$row") had socket errors ($sock); "
	fi
	return 0
}

# The wrk script of rows j and k. Arguments: get|add SPEC THREADS. SPEC has a
# line per user, "token [product...]"; thread t (1-based) takes lines t,
# t + THREADS, ... and sends its users' requests in turn (wrk's lua sees no
# connections: with as many users as connections, or more, a user seldom has
# two requests in flight; the adders are 4 per connection by default); an
# adder's products take turns the same way. Requests are formatted once, in
# init. done() prints "status CODE COUNT" for every non-2xx status.
cart_lua() {
	cat <<-'LUA'
		local threads = {}
		function setup(thread)
			table.insert(threads, thread)
			thread:set("tid", #threads)
		end
		function init(args)
			local mode, spec, nthreads = args[1], args[2], tonumber(args[3])
			local users, i = {}, 0
			for line in io.lines(spec) do
				if i % nthreads == tid - 1 then
					local f = {}
					for w in line:gmatch("%S+") do f[#f + 1] = w end
					users[#users + 1] = f
				end
				i = i + 1
			end
			reqs, nusers, nper = {}, #users, 1
			for u, f in ipairs(users) do
				local h = { ["Authorization"] = "Bearer " .. f[1] }
				if mode == "get" then
					reqs[u] = { wrk.format("GET", "/api/cart", h) }
				else
					h["Content-Type"] = "application/json"
					reqs[u] = {}
					for p = 2, #f do
						reqs[u][p - 1] = wrk.format("POST", "/api/cart/items", h,
							string.format('{"product_id":"%s","quantity":1}', f[p]))
					end
					nper = #f - 1
				end
			end
			n, codes = 0, {}
		end
		function request()
			local u = n % nusers + 1
			local p = math.floor(n / nusers) % nper + 1
			n = n + 1
			return reqs[u][p]
		end
		function response(status, headers, body)
			if status > 299 then codes[status] = (codes[status] or 0) + 1 end
		end
		function done(summary, latency, requests)
			local all = {}
			for _, t in ipairs(threads) do
				for k, v in pairs(t:get("codes")) do all[k] = (all[k] or 0) + v end
			end
			for k, v in pairs(all) do io.write(string.format("status %d %d\n", k, v)) end
		end
	LUA
}
