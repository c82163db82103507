# shellcheck shell=bash
# scripts/lib/bench-checkout.sh: the checkout rows of scripts/bench.sh
# (--suite checkout or all), sourced by it after the other rows; uses its
# helpers and state (free_port, wait_http, die, PIDS, STATE, OUT, STAMP,
# ROUNDS, CONNS, CLK_TCK, GATEWAY_BIN, BENCH_CMD, BENCH_STATUS, ...).
#
#   l  checkout        POST /api/orders {"payment_token":"tok_visa",...}
#                      through the gateway: BENCH_CHECKOUT_CLIENTS clients
#                      (--connections, 64), each with its own user and cart,
#                      each in a loop: DELETE /api/cart and POST
#                      /api/cart/items (1 of a product; neither timed), then
#                      POST /api/orders, timed from the send to the end of the
#                      201; orders/s and p50 / p99. (The cart service drops an
#                      order's lines when it consumes order.created, after the
#                      201, so without the DELETE a fast client's next order
#                      could hold the previous line again.)
#   m  order-to-email  from the 201 to the confirmation mail at the SMTP sink
#                      (the file's mtime in the Maildir): p50 / p99, and the
#                      complete orders per second (orders of the window whose
#                      mail came, / the window)
#   mem / cpu          every daemon's peak RSS during the run (VmHWM after
#                      clear_refs 5 at the start of the window, read when the
#                      mail is in) and CPU µs per order over the window; the
#                      same CPU for PostgreSQL, RabbitMQ, Redis, the SMTP sink
#                      and the load generator, for context; and the backlogs
#                      (every 500 ms: the order and payment outboxes, the
#                      email daemon's queue, the broker's queues)
# With BENCH_CHECKOUT_RATE=R (orders/s, > 0) the load is open-loop instead:
# each client starts an iteration every clients / R seconds whether or not
# the previous answers were fast (iterations that could not start on time
# are counted as late), so the latencies are those of R orders/s offered,
# not of a queue of 64 kept full.
# Targets (the issue): checkout p99 < 25 ms, order-to-email p99 < 250 ms, at
# least 300 complete orders/s on the 2-core machine with every daemon on it.
#
# The load comes from tools/bench/checkout.mjs (node, no dependencies; one
# keep-alive connection per client) through a gateway started here in front
# of the dev fleet's product, cart and order services (the fleet's key and
# Redis, rate limits on but far above the load: the fleet's gateway allows one
# user 1000 requests / 10 s), LOG_LEVEL=warn; the daemons behind it are the
# fleet's, as they run (the payment service's simulated latency is the
# fleet's, 0 by default: the run prints it). A round is a warm-up of
# BENCH_CHECKOUT_WARMUP seconds (5), then a window of BENCH_CHECKOUT_SECONDS
# (20); an answer counts when it ends inside the window. After it the
# Maildir is watched for up to BENCH_CHECKOUT_MAIL_WAIT seconds (30) until
# every order of the window has its mail (the full order id is in the body;
# services/email/src/domain/render.c). Each round starts once the saga's
# queues are empty (up to 60 s). With --rounds the median of each column is
# reported.
#
# The bench users need no account: their tokens are minted by
# scripts/mint-token.sh with the fleet's key, subs bec4<n>-0003-4000-8000-<n>
# (fixed, so the same users every run), email claim dev-bec4<n>@example.com,
# which the order service takes as the confirmation's address. The products,
# BENCH_CHECKOUT_PRODUCTS of them (16, USD 19.99, stock 1,000,000, sku
# BENCH-CHECKOUT-<time>-<n>), are created for the run as admin (a minted
# admin token) and deleted at the end, once the queues have drained; client
# i takes products i, i+1, ... in turn. The carts are emptied before and
# after.
#
# INVALID (exit status 1): more than 0.1% of the window's requests (clears,
# adds and checkouts) answered other than 204 / 200 / 201, an order that is
# not 1 of one product, more than 0.1% of its orders
# without their mail after the wait, no order at all, or an order of the run
# not confirmed. When the email service does not answer /health, row m is
# skipped with a line saying so (the rest is measured).

bench_checkout() {
	local fleet_env=$ROOT/.state/dev/fleet.env pub key iss aud redis_url
	local product_url cart_url order_url payment_url email_url user_url mail_dir mgmt_url amqp_url
	[[ -f $fleet_env ]] || die "--suite checkout needs the dev fleet (scripts/dev-up.sh): no $fleet_env"
	command -v jq >/dev/null || die "'jq' is missing (apt-get install jq)"
	command -v node >/dev/null || die "'node' is missing (scripts/dev-up.sh installs it)"
	# shellcheck disable=SC1090
	{
		pub=$(. "$fleet_env" && echo "$SHOP_JWT_PUBLIC_KEY")
		key=$(. "$fleet_env" && echo "$SHOP_JWT_PRIVATE_KEY")
		iss=$(. "$fleet_env" && echo "${SHOP_JWT_ISSUER:-shop-user}")
		aud=$(. "$fleet_env" && echo "${SHOP_JWT_AUDIENCE:-shop}")
		redis_url=$(. "$fleet_env" && echo "$SHOP_REDIS_URL")
		product_url=$(. "$fleet_env" && echo "${SHOP_PRODUCT_URL:-}")
		cart_url=$(. "$fleet_env" && echo "${SHOP_CART_URL:-}")
		order_url=$(. "$fleet_env" && echo "${SHOP_ORDER_URL:-}")
		payment_url=$(. "$fleet_env" && echo "${SHOP_PAYMENT_URL:-}")
		user_url=$(. "$fleet_env" && echo "${SHOP_USER_URL:-}")
		email_url=$(. "$fleet_env" && echo "${SHOP_EMAIL_URL:-http://127.0.0.1:8003}")
		mail_dir=$(. "$fleet_env" && echo "${SHOP_MAIL_DIR:-}")
		mgmt_url=$(. "$fleet_env" && echo "${SHOP_RABBITMQ_MGMT_URL:-}")
		amqp_url=$(. "$fleet_env" && echo "${SHOP_AMQP_URL:-}")
	}
	local u
	for u in "$product_url" "$cart_url" "$order_url" "$payment_url"; do
		curl -fs -o /dev/null --max-time 2 "$u/health" ||
			die "the dev fleet does not answer at $u/health"
	done
	local email_on=1
	if ! curl -fs -o /dev/null --max-time 2 "$email_url/health"; then
		email_on=0
	elif [[ -z $mail_dir || ! -d $mail_dir/new ]]; then
		die "no Maildir at ${mail_dir:-?}/new (SHOP_MAIL_DIR): is the SMTP sink running?"
	fi

	local clients=${BENCH_CHECKOUT_CLIENTS:-$CONNS} nproducts=${BENCH_CHECKOUT_PRODUCTS:-16}
	local seconds=${BENCH_CHECKOUT_SECONDS:-20} warmup=${BENCH_CHECKOUT_WARMUP:-5}
	local mail_wait=${BENCH_CHECKOUT_MAIL_WAIT:-30} rate=${BENCH_CHECKOUT_RATE:-0}
	local v
	for v in "$clients" "$nproducts" "$seconds" "$warmup" "$mail_wait" "$rate"; do
		[[ $v =~ ^[0-9]+$ ]] || die "BENCH_CHECKOUT_*: '$v' is not a whole number"
	done
	((clients >= 1 && clients <= 4096 && nproducts >= 1 && seconds >= 1)) ||
		die "checkout: clients 1..4096, products and seconds at least 1"

	# The gateway: product, cart and order (user and payment too, harmless).
	free_port
	local ogw_port=$PORT ogw_pid gw
	env -i PATH="$PATH" HTTP_ADDRESS=127.0.0.1 HTTP_PORT="$ogw_port" \
		GATEWAY_THREADS="${GATEWAY_THREADS:-0}" LOG_LEVEL=warn \
		PRODUCT_UPSTREAMS="${product_url#http://}" CART_UPSTREAMS="${cart_url#http://}" \
		ORDER_UPSTREAMS="${order_url#http://}" PAYMENT_UPSTREAMS="${payment_url#http://}" \
		USER_UPSTREAMS="${user_url#http://}" \
		STATIC_DIR="$STATE/no-storefront" JWT_PUBLIC_KEY_FILE="$pub" \
		JWT_ISSUER="$iss" JWT_AUDIENCE="$aud" REDIS_URL="$redis_url" \
		RATE_LIMIT_PER_ADDRESS=1000000000 RATE_LIMIT_PER_USER=1000000000 \
		"$GATEWAY_BIN" >"$STATE/logs/gateway-checkout.log" 2>&1 &
	PIDS+=($!)
	ogw_pid=$!
	gw=http://127.0.0.1:$ogw_port
	wait_http "$gw/health"

	# The tokens: an admin, and one customer per client (one node start).
	local subs=() tokens=() admin i
	for ((i = 1; i <= clients; i++)); do subs+=("$(printf 'bec4%04x-0003-4000-8000-%012d' "$i" "$i")"); done
	mapfile -t tokens < <(SHOP_JWT_PRIVATE_KEY=$key SHOP_JWT_ISSUER=$iss SHOP_JWT_AUDIENCE=$aud \
		TOKEN_TTL_S=7200 "$ROOT/scripts/mint-token.sh" customer "${subs[@]}")
	((${#tokens[@]} == clients)) || die "scripts/mint-token.sh gave ${#tokens[@]} tokens of $clients"
	admin=$(SHOP_JWT_PRIVATE_KEY=$key SHOP_JWT_ISSUER=$iss SHOP_JWT_AUDIENCE=$aud \
		TOKEN_TTL_S=7200 "$ROOT/scripts/mint-token.sh" admin) || die "cannot mint an admin token"

	local d=$STATE/checkout
	mkdir -p "$d"
	chmod 700 "$d"
	CO_DIR=$d
	: >"$d/clear.curl"
	for ((i = 0; i < clients; i++)); do
		co_curl_entry "$d/clear.curl" DELETE "$gw/api/cart" "${tokens[i]}"
	done

	# The products of the run.
	local products=() body id sku
	for ((i = 1; i <= nproducts; i++)); do
		sku=$(printf 'BENCH-CHECKOUT-%s-%02d' "$STAMP" "$i")
		body=$(jq -nc --arg sku "$sku" --arg n "Bench checkout $i" \
			'{sku: $sku, name: $n, description: "throw-away product of scripts/bench.sh --suite checkout",
			  category: "books", price_cents: 1999, currency: "USD", stock: 1000000}')
		id=$(curl -fs --max-time 10 -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
			-d "$body" "$gw/api/products" | jq -r .id) || die "cannot create the product $sku as admin through $gw"
		[[ $id =~ ^[0-9a-f-]{36}$ ]] || die "creating $sku answered no id"
		products+=("$id")
	done
	co_batch "$d/clear.curl" 204 "emptying the bench users' carts"

	# The processes: the fleet's daemons (their pid files; for one without,
	# such as an email daemon started by hand, the listener of its port) and
	# the gateway of this run; PostgreSQL, RabbitMQ, Redis and the SMTP sink
	# for context.
	local daemons_json infra_json name pid
	daemons_json=$(jq -nc --argjson gw "$ogw_pid" '{gateway: $gw}')
	for name in product user cart order payment email; do
		pid=$(co_daemon_pid "$name")
		[[ -n $pid ]] && daemons_json=$(jq -c --arg n "$name" --argjson p "$pid" '. + {($n): $p}' <<<"$daemons_json")
	done
	infra_json='{}'
	for name in postgres rabbitmq redis smtp; do
		pid=$(cat "$ROOT/.state/dev/pids/$name.pid" 2>/dev/null || true)
		# a PostgreSQL restarted by other means: its own pid file
		[[ $name == postgres && ! -r /proc/${pid:-0}/stat ]] &&
			pid=$(head -n1 "$ROOT/.state/dev/pg/data/postmaster.pid" 2>/dev/null || true)
		[[ -n $pid && -r /proc/$pid/stat ]] &&
			infra_json=$(jq -c --arg n "$name" --argjson p "$pid" '. + {($n): [$p]}' <<<"$infra_json")
	done

	local latency
	latency=$(grep -h '"msg":"payment ready"' "$ROOT/.state/dev/logs/payment.log" 2>/dev/null | tail -n1 |
		jq -r '.latency_ms // "?"' 2>/dev/null || echo '?')

	jq -n --arg gw "$gw" --argjson products "$(printf '%s\n' "${products[@]}" | jq -R . | jq -sc .)" \
		--argjson tokens "$(printf '%s\n' "${tokens[@]}" | jq -R . | jq -sc .)" \
		--argjson warmup "$warmup" --argjson seconds "$seconds" --argjson wait "$mail_wait" \
		--argjson rate "$rate" \
		--arg mail "$([[ $email_on == 1 ]] && echo "$mail_dir")" --arg email "$email_url" \
		--arg order "$order_url" --arg payment "$payment_url" --arg mgmt "$mgmt_url" \
		--arg rauth "$(co_rabbit_auth "$amqp_url")" \
		--argjson daemons "$daemons_json" --argjson infra "$infra_json" --argjson hz "$CLK_TCK" \
		'{gateway: $gw, tokens: $tokens, products: $products, warmupS: $warmup, durationS: $seconds, rate: $rate,
		  mailDir: (if $mail == "" then null else $mail end), mailWaitS: $wait, daemons: $daemons,
		  gauges: [{name: "order outbox", url: $order, metric: "outbox_backlog"},
		           {name: "payment outbox", url: $payment, metric: "outbox_backlog"},
		           (if $mail == "" then empty else {name: "email queue", url: $email, metric: "email_queue_depth"} end)],
		  rabbit: (if $mgmt == "" then null else {url: $mgmt, auth: $rauth} end),
		  infra: $infra, clkTck: $hz, sampleUsers: ($tokens | length)}' >"$d/config.json"

	CO_LOAD=$(co_load "$rate")
	printf '\ncheckout (gateway :%s -> order %s, cart %s, product %s; %d clients, %s, %d products; warm-up %d s, window %d s; payment latency %s ms; load average %s)\n' \
		"$ogw_port" "${order_url#http://}" "${cart_url#http://}" "${product_url#http://}" "$clients" "$CO_LOAD" \
		"$nproducts" "$warmup" "$seconds" "$latency" "$(cut -d' ' -f1-3 /proc/loadavg)"
	((email_on)) || printf '  email service not running (%s/health): order-to-email not measured\n' "$email_url"

	local q0 r res
	q0=$(co_queues "$mgmt_url" "$amqp_url")
	CO_RAW=$STATE/checkout-$STAMP.txt
	: >"$CO_RAW"
	CO_BAD=''
	for ((r = 1; r <= ROUNDS; r++)); do
		((ROUNDS > 1)) && printf 'round %d\n' "$r"
		co_drain "$mgmt_url" "$amqp_url" 60 ||
			printf '  the saga queues did not drain in 60 s: %s\n' "$(co_queues "$mgmt_url" "$amqp_url")"
		res=$d/result-$r.json
		node "$ROOT/tools/bench/checkout.mjs" "$d/config.json" >"$res" ||
			die "tools/bench/checkout.mjs failed (config ${d#"$ROOT"/}/config.json)"
		co_round "$r" "$res" "$email_on"
	done

	# The queues, once drained (up to 15 s), against the start: the saga's
	# queues should be empty and their dead letters unchanged.
	local q1 qline
	co_drain "$mgmt_url" "$amqp_url" 15 || true
	q1=$(co_queues "$mgmt_url" "$amqp_url")
	if [[ $q0 == - || $q1 == - ]]; then
		qline='RabbitMQ management API not reachable: queue depths unknown'
	else
		qline=$(jq -rn --argjson a "$q0" --argjson b "$q1" '
			"queues at the end: " + ([$b | to_entries[] | select(.key | endswith(".dlq") | not) | "\(.key) \(.value)"] | join(", "))
			+ "; dead letters added during the suite: "
			+ ([$b | to_entries[] | select(.key | endswith(".dlq")) | "\(.key) \(.value - ($a[.key] // 0))"] | join(", "))')
	fi
	printf '  %s\n' "$qline"

	# Clean up: carts, then the products (the saga is over for them).
	co_batch "$d/clear.curl" 204 "emptying the bench users' carts" warn
	local gone=0
	for id in "${products[@]}"; do
		[[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X DELETE \
			-H "Authorization: Bearer $admin" "$gw/api/products/$id") == 204 ]] && gone=$((gone + 1))
	done
	((gone == ${#products[@]})) || printf '  deleted %d of the %d BENCH-CHECKOUT-%s-* products\n' "$gone" "${#products[@]}" "$STAMP"

	co_report "$clients" "$nproducts" "$warmup" "$seconds" "$latency" "$email_on" "$qline" | tee -a "$OUT"
	# shellcheck disable=SC2034 # bench.sh's exit status
	[[ -z $CO_BAD ]] || BENCH_STATUS=1
}

# co_load RATE: how the clients load the fleet, for the report
co_load() {
	if (($1 > 0)); then
		printf 'open loop at %d orders/s offered' "$1"
	else
		printf 'closed loop (each client as fast as it can)'
	fi
}

# co_daemon_pid NAME: the pid of the fleet's daemon NAME (shop-NAME): its pid
# file, else the process listening on its port (ARCHITECTURE.md: 800x).
co_daemon_pid() {
	local pid lport
	pid=$(cat "$ROOT/.state/dev/pids/$1.pid" 2>/dev/null || true)
	if [[ -n $pid && $(readlink "/proc/$pid/exe" 2>/dev/null) == */shop-$1 ]]; then
		echo "$pid"
		return
	fi
	case $1 in
	order) lport=8001 ;; payment) lport=8002 ;; email) lport=8003 ;;
	product) lport=8004 ;; user) lport=8005 ;; cart) lport=8006 ;; *) return ;;
	esac
	pid=$(ss -ltnpH "sport = :$lport" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n1 | cut -d= -f2)
	[[ -n $pid && $(readlink "/proc/$pid/exe" 2>/dev/null) == */shop-$1 ]] && echo "$pid"
	return 0
}

# co_rabbit_auth AMQP_URL: user:password of the fleet's broker (guest:guest)
co_rabbit_auth() {
	if [[ $1 =~ ^amqp://([^@/]+)@ ]]; then echo "${BASH_REMATCH[1]}"; else echo guest:guest; fi
}

# co_queues MGMT_URL AMQP_URL: {"queue": messages, ...} of the vhost /, or '-'
co_queues() {
	local creds
	creds=$(co_rabbit_auth "$2")
	[[ -n $1 ]] || {
		echo -
		return
	}
	curl -fs --max-time 5 -u "$creds" "$1/api/queues/%2F" 2>/dev/null |
		jq -c 'map(select(.name | startswith("itest.") | not) | {key: .name, value: (.messages // 0)}) | from_entries' 2>/dev/null || echo -
}

# co_curl_entry FILE METHOD URL TOKEN: one transfer of a curl config (-K)
# that answers its status on a line
co_curl_entry() {
	{
		[[ -s $1 ]] && printf 'next\n'
		printf 'url = "%s"\nrequest = "%s"\nheader = "Authorization: Bearer %s"\nmax-time = 10\n' "$3" "$2" "$4"
		printf 'output = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n'
	} >>"$1"
}

# co_batch FILE STATUS WHAT [warn]: every transfer of FILE (16 at a time);
# dies (with warn: says so) unless each answered STATUS
co_batch() {
	local codes
	codes=$({ curl -s --no-progress-meter --parallel --parallel-max 16 -K "$1" || true; } | sort | uniq -c |
		awk '{ printf "%s%s x %s", sep, $2, $1; sep = ", " }')
	[[ $codes =~ ^$2\ x\ [0-9]+$ ]] && return 0
	[[ ${4:-} == warn ]] || die "$3: answers $codes (expected all $2)"
	printf '  %s: answers %s (expected all %s)\n' "$3" "$codes" "$2"
}

# co_drain MGMT_URL AMQP_URL SECONDS: waits until the saga's queues are empty
# (not the dead letters, nor the integration tests' own itest.* queues);
# false when they are not by then (true when the broker cannot be asked)
co_drain() {
	local q i
	for ((i = 0; i < $3 * 2; i++)); do
		q=$(co_queues "$1" "$2")
		[[ $q == - ]] && return 0
		jq -e '[to_entries[] | select(.key | endswith(".dlq") | not) | .value] | add // 0 | . == 0' <<<"$q" >/dev/null && return 0
		sleep 0.5
	done
	return 1
}

# co_round ROUND RESULT EMAIL_ON: prints the round, appends its line to CO_RAW:
# round orders/s p50us p99us requests non-2xx complete/s mail-p50ms mail-p99ms
# missing statuses
co_round() {
	local r=$1 res=$2 line
	line=$(jq -r --argjson r "$r" '[$r, (.orders_per_s | floor), (.latency_ms.p50 * 1000 | floor),
		(.latency_ms.p99 * 1000 | floor), .attempts, .errors_total,
		(if .mail then (.mail.complete_per_s | floor) else "-" end),
		(if .mail and .mail.delay_ms.n > 0 then (.mail.delay_ms.p50 * 10 | floor) / 10 else "-" end),
		(if .mail and .mail.delay_ms.n > 0 then (.mail.delay_ms.p99 * 10 | floor) / 10 else "-" end),
		(if .mail then .mail.missing else "-" end),
		([.errors | to_entries[] | "\(.key | gsub(" "; "_")):\(.value)"] | join(",") | if . == "" then "-" else . end)]
		| map(tostring) | join(" ")' "$res") || die "no figures in $res"
	printf '%s\n' "$line" >>"$CO_RAW"
	jq -r '"  l checkout            \(.orders_per_s | floor) orders/s  p50 \(.latency_ms.p50 * 100 | floor / 100) ms  p99 \(.latency_ms.p99 * 100 | floor / 100) ms  (\(.orders) orders, \(.attempts) requests\(if .offered_rate > 0 then ", \(.late_starts) started late" else "" end), non-2xx \(.errors_total)\(if .errors_total > 0 then " " + (.errors | tostring) else "" end))",
		(if .mail then "  m order-to-email      \(.mail.complete_per_s | floor) complete orders/s  p50 \(if .mail.delay_ms.n > 0 then .mail.delay_ms.p50 * 10 | floor / 10 else "-" end) ms  p99 \(if .mail.delay_ms.n > 0 then .mail.delay_ms.p99 * 10 | floor / 10 else "-" end) ms  max \(if .mail.delay_ms.n > 0 then .mail.delay_ms.max | floor else "-" end) ms  (\(.mail.with_mail) mails, \(.mail.missing) missing; mails landing during the window \(.mail.landed_in_window_per_s | floor)/s; median delay, first / last tenth of the window: \(.mail.delay_first_tenth_ms // "-" | if type == "number" then floor else . end) / \(.mail.delay_last_tenth_ms // "-" | if type == "number" then floor else . end) ms; \(.mail.duplicates) duplicate, \(.mail.failed_mails) order_failed; last \(.mail.drained_s_after_window // "-" | if type == "number" then (. * 100 | floor / 100) else . end) s after the window)" else empty end),
		"  backlogs              at the window'"'"'s end / at most (every 500 ms): " + ([.gauges | to_entries[] | "\(.key) \(.value.at_window_end // "-") / \(.value.max // "-")"] | join(", ")),
		"  statuses              \(.statuses.orders) orders of the run among the newest 100 of \(.statuses.users) users: \(.statuses.by_status | tostring)"' "$res"
	local bad
	bad=$(jq -r --argjson r "$r" '[
		(if .orders == 0 then "round \($r): no order in the window" else empty end),
		(if .orders_not_one_line > 0 then "round \($r): \(.orders_not_one_line) orders were not 1 of one product" else empty end),
		(if .errors_total > .attempts / 1000 then "round \($r): \(.errors_total) of \(.attempts) requests answered other than 204/200/201 (\(.errors | tostring); first: \(.first_errors[0] // "-"))" else empty end),
		(if .mail and .mail.missing > .orders / 1000 then "round \($r): \(.mail.missing) of \(.orders) orders without their mail \(.mail.wait_s) s after the window (e.g. \(.mail.missing_ids | join(" ")))" else empty end),
		(if ([.statuses.by_status | to_entries[] | select(.key != "confirmed") | .value] | add // 0) > 0 then "round \($r): orders not confirmed: \(.statuses.by_status | tostring)" else empty end)
		] | join("; ")' "$res")
	[[ -n $bad ]] && CO_BAD+="$bad; "
	return 0
}

# the median of the rounds, each column on its own (column numbers of CO_RAW)
co_median() {
	awk -v c="$1" '{ print $c }' "$CO_RAW" | sort -g |
		awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# co_report CLIENTS PRODUCTS WARMUP SECONDS LATENCY EMAIL_ON QLINE: the table
# (medians of the rounds; memory and CPU of the last round)
co_report() {
	local last=$CO_DIR/result-$ROUNDS.json rps p50 p99 bad cps mp50 mp99 miss
	rps=$(co_median 2)
	p50=$(co_median 3)
	p99=$(co_median 4)
	bad=$(awk '{ s += $6 } END { print s + 0 }' "$CO_RAW")
	printf '\n# checkout (%s)\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	printf '# %s\n' "$BENCH_CMD"
	printf '# tools/bench/checkout.mjs through a gateway of its own -> the dev fleet; %d clients (own user and cart each), %s, %d products; warm-up %d s, window %d s; %s round(s), median of each column\n' \
		"$1" "$CO_LOAD" "$2" "$3" "$4" "$ROUNDS"
	printf '# payment latency %s ms; %s (%s cores), kernel %s\n' "$5" "$(hostname)" "$NCPU" "$(uname -r)"
	printf '| %-22s | %12s | %9s | %9s | %11s | %11s |\n' setup 'per s' 'p50 (ms)' 'p99 (ms)' 'target p99' 'non-2xx'
	printf '|%s|%s|%s|%s|%s|%s|\n' ------------------------ -------------- ----------- ----------- ------------- -------------
	printf '| %-22s | %12s | %9.2f | %9.2f | %11s | %11s |\n' "l POST /api/orders" "$rps" \
		"$(awk -v v="$p50" 'BEGIN { print v / 1000 }')" "$(awk -v v="$p99" 'BEGIN { print v / 1000 }')" '< 25 ms' "$bad"
	if (($6)); then
		cps=$(co_median 7)
		mp50=$(co_median 8)
		mp99=$(co_median 9)
		miss=$(awk '{ s += $10 } END { print s + 0 }' "$CO_RAW")
		printf '| %-22s | %12s | %9s | %9s | %11s | %11s |\n' "m order-to-email" "$cps" "$mp50" "$mp99" '< 250 ms' "$miss missing"
		awk -v p99="$p99" -v mp99="$mp99" -v cps="$cps" 'BEGIN {
			printf "targets: checkout p99 %.2f ms (< 25 ms) %s; order-to-email p99 %s ms (< 250 ms) %s; %s complete orders/s (>= 300) %s\n",
				p99 / 1000, (p99 < 25000) ? "met" : "NOT MET", mp99, (mp99 != "-" && mp99 + 0 < 250) ? "met" : "NOT MET",
				cps, (cps + 0 >= 300) ? "met" : "NOT MET" }'
		jq -r '"# m (last round): mails landing during the window \(.mail.landed_in_window_per_s | floor)/s (complete orders/s counts the mails that came up to \(.mail.wait_s) s after it; the last \(.mail.drained_s_after_window // 0 | . * 10 | floor / 10) s after); median order-to-email, first / last tenth of the window \(.mail.delay_first_tenth_ms // 0 | floor) / \(.mail.delay_last_tenth_ms // 0 | floor) ms"' "$last"
	else
		printf '| %-22s | %12s | %9s | %9s | %11s | %11s |\n' "m order-to-email" - - - '< 250 ms' -
		printf 'email service not running: order-to-email not measured\n'
		awk -v p99="$p99" 'BEGIN { printf "targets: checkout p99 %.2f ms (< 25 ms) %s; order-to-email and complete orders/s not measured\n",
			p99 / 1000, (p99 < 25000) ? "met" : "NOT MET" }'
	fi
	printf '# per daemon (last round): peak RSS during the run (VmHWM after clear_refs; * = since start), RSS at the end, CPU us per order over the window\n'
	jq -r '
		(.memory | to_entries[] | "#   \(.key | . + "         " | .[0:9]) pid \(.value.pid): peak \(if .value.hwm_kib then (.value.hwm_kib / 1024 * 10 | floor / 10 | tostring) + " MiB" else "-" end)\(if .value.reset then "" else "*" end), end \(if .value.rss_kib then (.value.rss_kib / 1024 * 10 | floor / 10 | tostring) + " MiB" else "-" end), CPU \($cpu[.key] // "-" | if type == "number" then (. | floor) else . end) us/order"),
		"#   others: " + ([.cpu_us_per_order | to_entries[] | select(.key as $k | ["postgres", "rabbitmq", "redis", "smtp", "loadgen"] | index($k)) | "\(.key) \(.value // "-" | if type == "number" then floor else . end)"] | join(", ")) + " us/order (PostgreSQL with its backends; smtp = the sink)",
		"#   all: \([.cpu_us_per_order[] | numbers] | add | floor) us of CPU per order = \(([.cpu_us_per_order[] | numbers] | add) * .orders_per_s / 1e6 * 100 | floor / 100) cores at \(.orders_per_s | floor) orders/s"
		' --argjson cpu "$(jq -c .cpu_us_per_order "$last")" "$last"
	jq -r '"# backlogs (last round) at the window'"'"'s end / at most: " + ([.gauges | to_entries[] | "\(.key) \(.value.at_window_end // "-") / \(.value.max // "-")"] | join(", "))' "$last"
	printf '# %s\n' "$7"
	printf '# each round: round orders/s p50us p99us requests non-2xx complete/s mail-p50ms mail-p99ms missing statuses\n'
	sed 's/^/# /' "$CO_RAW"
	if [[ -n $CO_BAD ]]; then
		printf 'INVALID checkout run: %s\n' "${CO_BAD%; }"
	fi
}
