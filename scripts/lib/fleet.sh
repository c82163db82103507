# shellcheck shell=bash
# scripts/lib/fleet.sh: bring up and stop one fleet (PostgreSQL, RabbitMQ,
# Redis, an SMTP sink and the C daemons) under one state folder and one port
# set. Used by dev-up.sh / dev-down.sh (.state/dev) and test-all.sh
# (.state/test/...). Source common.sh first, then this file, set the
# variables below, then call fleet_init.
#
# Inputs (the caller sets them before fleet_init):
#   STATE             state folder (absolute)
#   FLEET_NAME        dev | test (RabbitMQ node shop-$FLEET_NAME@localhost)
#   BUILD_DIR         CMake build folder (absolute)
#   GATEWAY_PORT PRODUCT_PORT USER_PORT CART_PORT ORDER_PORT PAYMENT_PORT EMAIL_PORT PG_PORT RABBIT_PORT RABBIT_MGMT_PORT
#   RABBIT_DIST_PORT EPMD_PORT REDIS_PORT SMTP_PORT
# Optional:
#   PG_FAST=1         fsync/synchronous_commit off (throw-away test clusters)
#   DAEMON_START_TIMEOUT  seconds to wait for a daemon's /health (30)
#   LOG_LEVEL         daemons' LOG_LEVEL (info)
#   RATE_LIMIT_PER_ADDRESS / RATE_LIMIT_PER_USER  the gateway's limits per
#                     10 s window (its defaults: 2000 / 1000)
#   RESERVATION_SWEEP_INTERVAL_S  how often product releases expired stock
#                     holds (30; the tests use 1)
#
# Every function is meant to run as (part of) a step: it writes its progress
# to stdout (the step log) and fails on the first error.

# ---------------------------------------------------------------- the daemons
#
# One line per daemon, in start order (stop order is the reverse):
#   name | port variable | binary under $BUILD_DIR | database role (- = none) | extra environment
# Every daemon also gets HTTP_ADDRESS=127.0.0.1, HTTP_PORT=<port>,
# LOG_LEVEL and, when it has a role, DATABASE_URL for <role>_db.
# In the extra environment, {VAR} expands to the fleet's value of VAR
# (REDIS_URL, AMQP_URL, JWT_PUBLIC_KEY_FILE, JWT_PRIVATE_KEY_FILE,
# INTERNAL_TOKEN_FILE, JWT_ISSUER, JWT_AUDIENCE, SMTP_PORT, any *_PORT ...).
# Values must not contain spaces or '|'.
SHOP_DAEMONS=(
	'product | PRODUCT_PORT | services/product/shop-product | product | MIGRATIONS_DIR=services/product/migrations INTERNAL_TOKEN_FILE={INTERNAL_TOKEN_FILE} REDIS_URL={REDIS_URL} AMQP_URL={AMQP_URL} RESERVATION_SWEEP_INTERVAL_S={RESERVATION_SWEEP_INTERVAL_S} JWT_PUBLIC_KEY_FILE={JWT_PUBLIC_KEY_FILE} JWT_ISSUER={JWT_ISSUER} JWT_AUDIENCE={JWT_AUDIENCE}'
	'user    | USER_PORT    | services/user/shop-user       | user    | MIGRATIONS_DIR=services/user/migrations REDIS_URL={REDIS_URL} AMQP_URL={AMQP_URL} JWT_PRIVATE_KEY_FILE={JWT_PRIVATE_KEY_FILE} JWT_PUBLIC_KEY_FILE={JWT_PUBLIC_KEY_FILE} JWT_ISSUER={JWT_ISSUER} JWT_AUDIENCE={JWT_AUDIENCE}'
	'cart    | CART_PORT    | services/cart/shop-cart       | cart    | MIGRATIONS_DIR=services/cart/migrations PRODUCT_URL=http://127.0.0.1:{PRODUCT_PORT} INTERNAL_TOKEN_FILE={INTERNAL_TOKEN_FILE} REDIS_URL={REDIS_URL} AMQP_URL={AMQP_URL} JWT_PUBLIC_KEY_FILE={JWT_PUBLIC_KEY_FILE} JWT_ISSUER={JWT_ISSUER} JWT_AUDIENCE={JWT_AUDIENCE}'
	'order   | ORDER_PORT   | services/order/shop-order     | order   | MIGRATIONS_DIR=services/order/migrations CART_URL=http://127.0.0.1:{CART_PORT} PRODUCT_URL=http://127.0.0.1:{PRODUCT_PORT} INTERNAL_TOKEN_FILE={INTERNAL_TOKEN_FILE} REDIS_URL={REDIS_URL} AMQP_URL={AMQP_URL} JWT_PUBLIC_KEY_FILE={JWT_PUBLIC_KEY_FILE} JWT_ISSUER={JWT_ISSUER} JWT_AUDIENCE={JWT_AUDIENCE}'
	'payment | PAYMENT_PORT | services/payment/shop-payment | payment | MIGRATIONS_DIR=services/payment/migrations REDIS_URL={REDIS_URL} AMQP_URL={AMQP_URL} JWT_PUBLIC_KEY_FILE={JWT_PUBLIC_KEY_FILE} JWT_ISSUER={JWT_ISSUER} JWT_AUDIENCE={JWT_AUDIENCE}'
	'email   | EMAIL_PORT   | services/email/shop-email     | email   | MIGRATIONS_DIR=services/email/migrations REDIS_URL={REDIS_URL} AMQP_URL={AMQP_URL} SMTP_URL=smtp://127.0.0.1:{SMTP_PORT} JWT_PUBLIC_KEY_FILE={JWT_PUBLIC_KEY_FILE} JWT_ISSUER={JWT_ISSUER} JWT_AUDIENCE={JWT_AUDIENCE}'
	'gateway | GATEWAY_PORT | gateway/shop-gateway          | -       | PRODUCT_UPSTREAMS=127.0.0.1:{PRODUCT_PORT} USER_UPSTREAMS=127.0.0.1:{USER_PORT} CART_UPSTREAMS=127.0.0.1:{CART_PORT} ORDER_UPSTREAMS=127.0.0.1:{ORDER_PORT} PAYMENT_UPSTREAMS=127.0.0.1:{PAYMENT_PORT} EMAIL_UPSTREAMS=127.0.0.1:{EMAIL_PORT} STATIC_DIR=frontend/dist REDIS_URL={REDIS_URL} JWT_PUBLIC_KEY_FILE={JWT_PUBLIC_KEY_FILE} JWT_ISSUER={JWT_ISSUER} JWT_AUDIENCE={JWT_AUDIENCE} RATE_LIMIT_PER_ADDRESS={RATE_LIMIT_PER_ADDRESS} RATE_LIMIT_PER_USER={RATE_LIMIT_PER_USER}'
)
# A new daemon gets its line here and its port variable (ARCHITECTURE.md
# ports; test fleet 2xxxx) in dev-up.sh, dev-down.sh and test-all.sh.

# The six services that own a database (role <svc>, database <svc>_db).
SHOP_DB_SERVICES=(product user cart order payment email)

# Debian packages the fleet needs (node is handled apart: see fleet_packages).
SHOP_PACKAGES=(
	cmake pkg-config gcc make
	libmicrohttpd-dev libpq-dev librabbitmq-dev libjansson-dev libjwt-dev
	libcurl4-openssl-dev libhiredis-dev libsodium-dev libcmocka-dev libssl-dev
	openssl postgresql postgresql-contrib rabbitmq-server redis-server
	python3-aiosmtpd nginx-light wrk curl jq clang-format
	chromium docker-compose shellcheck
)

PG_BIN=/usr/lib/postgresql/15/bin
RABBIT_BIN=/usr/lib/rabbitmq/bin
SYSTEM_PYTHON=/usr/bin/python3

# ---------------------------------------------------------------- init

# fleet_init: derive every path and URL from STATE and the ports.
fleet_init() {
	: "${STATE:?}" "${FLEET_NAME:?}" "${BUILD_DIR:?}"
	local v
	for v in GATEWAY_PORT PRODUCT_PORT USER_PORT CART_PORT ORDER_PORT PAYMENT_PORT EMAIL_PORT PG_PORT RABBIT_PORT RABBIT_MGMT_PORT \
		RABBIT_DIST_PORT EPMD_PORT REDIS_PORT SMTP_PORT; do
		[[ ${!v:-} =~ ^[0-9]+$ ]] || die "$v must be a TCP port number (got '${!v:-}')"
	done
	SECRETS=$STATE/secrets
	PG_DATA=$STATE/pg/data
	PG_SOCKET_DIR=$STATE/run/pg
	PG_SERVER_LOG=$STATE/logs/postgresql-server.log
	RABBIT_NODE=shop-$FLEET_NAME@localhost
	RABBIT_DIR=$STATE/rabbitmq
	REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0
	AMQP_URL=amqp://guest:guest@127.0.0.1:$RABBIT_PORT/%2F
	RABBIT_MGMT_URL=http://127.0.0.1:$RABBIT_MGMT_PORT
	MAIL_DIR=$STATE/mail
	JWT_PRIVATE_KEY_FILE=$SECRETS/jwt_private.pem
	JWT_PUBLIC_KEY_FILE=$SECRETS/jwt_public.pem
	INTERNAL_TOKEN_FILE=$SECRETS/internal_token
	JWT_ISSUER=shop-user
	JWT_AUDIENCE=shop
	DAEMON_START_TIMEOUT=${DAEMON_START_TIMEOUT:-30}
	LOG_LEVEL=${LOG_LEVEL:-info}
	RATE_LIMIT_PER_ADDRESS=${RATE_LIMIT_PER_ADDRESS:-2000}
	RATE_LIMIT_PER_USER=${RATE_LIMIT_PER_USER:-1000}
	RESERVATION_SWEEP_INTERVAL_S=${RESERVATION_SWEEP_INTERVAL_S:-30}
	mkdir -p "$STATE/logs" "$STATE/pids" "$STATE/run"
}

# ---------------------------------------------------------------- packages

pkg_installed() {
	[[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) == installed ]]
}

# Services whose Debian packages start a system-wide instance on the default
# ports at install time (on systemd machines); see fleet_packages.
SHOP_SYSTEM_SERVICES=(postgresql:postgresql rabbitmq-server:rabbitmq-server
	redis-server:redis-server nginx-light:nginx)

fleet_packages() {
	local missing=() p
	for p in "${SHOP_PACKAGES[@]}"; do
		pkg_installed "$p" || missing+=("$p")
	done
	if ! command -v node >/dev/null 2>&1; then
		missing+=(nodejs npm)
	fi
	# kubectl (for `kubectl kustomize` in scripts/checks/): any that is on
	# PATH, else Debian's.
	if ! command -v kubectl >/dev/null 2>&1; then
		missing+=(kubernetes-client)
	fi
	if ((${#missing[@]} == 0)); then
		say "all ${#SHOP_PACKAGES[@]} Debian packages are installed; node is $(command -v node)"
	else
		say "missing: ${missing[*]}"
		# A package such as postgresql or redis-server starts a system-wide
		# server on the very ports the dev fleet uses. When we install it here,
		# keep it from starting (policy-rc.d), and disable its unit afterwards:
		# this project runs its own, project-local instances.
		local new_services=() entry policy=/usr/sbin/policy-rc.d own_policy=0
		for entry in "${SHOP_SYSTEM_SERVICES[@]}"; do
			for p in "${missing[@]}"; do
				[[ $p == "${entry%%:*}" ]] && new_services+=("${entry#*:}")
			done
		done
		if ((${#new_services[@]} > 0)) && [[ ! -e $policy ]]; then
			say "installing with $policy = exit 101 (do not start system services)"
			printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
			as_root chmod 755 "$policy"
			own_policy=1
		fi
		local rc=0
		as_root env DEBIAN_FRONTEND=noninteractive apt-get update || rc=$?
		if ((rc == 0)); then
			as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" || rc=$?
		fi
		if ((own_policy)); then
			as_root rm -f "$policy"
		fi
		((rc == 0)) || return "$rc"
		if ((${#new_services[@]} > 0)) && [[ -d /run/systemd/system ]]; then
			say "disabling the system units we just installed: ${new_services[*]}"
			as_root systemctl disable --now "${new_services[@]}" || true
		fi
	fi
	# npm packages: the storefront's, and the integration tests' (ajv).
	npm_install_in frontend storefront
	npm_install_in tests/integration "integration tests'"
	npm_install_in tools/openapi "OpenAPI lint"
	npm_install_in tools/kubernetes "manifest validation"
}

# npm_install_in DIR WHAT: npm ci (or install) in $SHOP_ROOT/DIR when it has
# a package.json and node_modules is missing or older than it.
npm_install_in() {
	local d=$SHOP_ROOT/$1
	[[ -f $d/package.json ]] || return 0
	if [[ ! -d $d/node_modules || $d/package.json -nt $d/node_modules ||
		(-f $d/package-lock.json && $d/package-lock.json -nt $d/node_modules) ]]; then
		say "installing the $2 npm packages ($1)"
		if [[ -f $d/package-lock.json ]]; then
			(cd "$d" && npm ci --no-audit --no-fund)
		else
			(cd "$d" && npm install --no-audit --no-fund)
		fi
		touch "$d/node_modules"
	else
		say "$2 npm packages are installed ($1)"
	fi
}

# ---------------------------------------------------------------- build

# fleet_build [extra cmake flags...]
fleet_build() {
	say "configuring $BUILD_DIR"
	cmake -S "$SHOP_ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@"
	say "building $BUILD_DIR"
	cmake --build "$BUILD_DIR" -j "${BUILD_JOBS:-2}"
}

# ---------------------------------------------------------------- storefront

# The storefront's sources: a change to any of them makes frontend/dist stale.
STOREFRONT_INPUTS=(src public index.html package.json package-lock.json vite.config.ts tsconfig.json)

# storefront_stale: true when frontend/dist is missing, older than one of
# its sources, or built with another VITE_DEMO_LOGIN.
storefront_stale() {
	local d=$SHOP_ROOT/frontend stamp=$SHOP_ROOT/frontend/.dist-stamp i newer
	[[ -f $d/dist/index.html && -f $stamp ]] || return 0
	[[ $(cat "$stamp") == "VITE_DEMO_LOGIN=${VITE_DEMO_LOGIN:-1}" ]] || return 0
	for i in "${STOREFRONT_INPUTS[@]}"; do
		[[ -e $d/$i ]] || continue
		newer=$(find "$d/$i" -newer "$stamp" -print -quit)
		[[ -z $newer ]] || return 0
	done
	return 1
}

# fleet_storefront: build frontend/dist (what the gateway serves) when it is
# missing or stale. VITE_DEMO_LOGIN=1 (the default here) compiles in the
# "Log in as test user" shortcut for the seed account.
fleet_storefront() {
	local d=$SHOP_ROOT/frontend
	[[ -f $d/package.json ]] || die "no frontend/package.json"
	if ! storefront_stale; then
		say "frontend/dist is up to date"
		return 0
	fi
	npm_install_in frontend storefront
	say "building the storefront (frontend/dist)"
	(cd "$d" && VITE_DEMO_LOGIN=${VITE_DEMO_LOGIN:-1} npm run build)
	printf 'VITE_DEMO_LOGIN=%s\n' "${VITE_DEMO_LOGIN:-1}" >"$d/.dist-stamp"
}

# ---------------------------------------------------------------- secrets

# new_secret FILE: create FILE with 32 random bytes in hex unless it exists.
new_secret() {
	local f=$1
	if [[ -s $f ]]; then
		return 0
	fi
	(umask 077 && openssl rand -hex 32 >"$f.tmp" && mv "$f.tmp" "$f")
	say "generated $f"
}

secret() { # NAME -> contents of $SECRETS/NAME
	local v
	read -r v <"$SECRETS/$1"
	printf '%s' "$v"
}

fleet_keys() {
	mkdir -p "$SECRETS"
	chmod 700 "$SECRETS"
	if [[ ! -s $JWT_PRIVATE_KEY_FILE || ! -s $JWT_PUBLIC_KEY_FILE ]]; then
		(
			umask 077
			# genpkey writes PKCS#8 ("BEGIN PRIVATE KEY").
			openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
				-out "$JWT_PRIVATE_KEY_FILE.tmp"
			openssl pkey -in "$JWT_PRIVATE_KEY_FILE.tmp" -pubout -out "$JWT_PUBLIC_KEY_FILE"
			mv "$JWT_PRIVATE_KEY_FILE.tmp" "$JWT_PRIVATE_KEY_FILE"
		)
		say "generated the ES256 (P-256) key pair $JWT_PRIVATE_KEY_FILE, $JWT_PUBLIC_KEY_FILE"
	else
		say "JWT key pair exists"
	fi
	chmod 600 "$JWT_PRIVATE_KEY_FILE" "$JWT_PUBLIC_KEY_FILE"
	new_secret "$INTERNAL_TOKEN_FILE"
	local svc
	for svc in "${SHOP_DB_SERVICES[@]}"; do
		new_secret "$SECRETS/db_$svc.password"
	done
	chmod 600 "$SECRETS"/*
}

# ---------------------------------------------------------------- PostgreSQL

as_postgres() {
	if ((EUID == 0)); then
		runuser -u postgres -- "$@"
	else
		sudo -u postgres -- "$@"
	fi
}

# psql as the postgres superuser over the Unix socket (peer authentication),
# SQL on stdin.
pg_admin_psql() {
	as_postgres "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKET_DIR" \
		-p "$PG_PORT" -d postgres
}

# db_url SVC: postgresql://SVC:<password>@127.0.0.1:PG_PORT/SVC_db
db_url() {
	printf 'postgresql://%s:%s@127.0.0.1:%s/%s_db' "$1" "$(secret "db_$1.password")" "$PG_PORT" "$1"
}

# Make sure the postgres user can reach $STATE/pg (every ancestor needs +x).
pg_ensure_traversable() {
	local d=$STATE/pg
	while [[ $d != / && -n $d ]]; do
		if ! as_postgres test -x "$d"; then
			if command -v setfacl >/dev/null 2>&1; then
				say "granting postgres traversal of $d (setfacl u:postgres:x)"
				as_root setfacl -m u:postgres:x "$d"
			else
				say "granting traversal of $d to others (chmod o+x) so that postgres reaches its data folder"
				as_root chmod o+x "$d"
			fi
		fi
		d=$(dirname "$d")
	done
}

# pg_write_conf NAME: stdin -> $PG_DATA/NAME (as postgres); returns 1 when
# the file changed, 0 when it already had that content.
pg_write_conf() {
	local new
	new=$(cat)
	if [[ $(as_postgres cat "$PG_DATA/$1" 2>/dev/null) == "$new" ]]; then
		return 0
	fi
	printf '%s\n' "$new" | as_postgres tee "$PG_DATA/$1" >/dev/null
	return 1
}

pg_running() {
	[[ -f $PG_DATA/postmaster.pid ]] && as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1
}

fleet_postgres() {
	local sock=$PG_SOCKET_DIR/.s.PGSQL.$PG_PORT
	((${#sock} < 100)) || die "the PostgreSQL socket path $sock is too long (max 107 bytes): use a shorter checkout path"
	mkdir -p "$STATE/pg" "$PG_SOCKET_DIR"
	as_root chown postgres: "$STATE/pg" "$PG_SOCKET_DIR"
	as_root chmod 700 "$STATE/pg"
	as_root chmod 755 "$PG_SOCKET_DIR"
	pg_ensure_traversable
	touch "$PG_SERVER_LOG"
	as_root chown postgres: "$PG_SERVER_LOG"

	if [[ ! -f $PG_DATA/PG_VERSION ]]; then
		say "initdb $PG_DATA"
		as_postgres "$PG_BIN/initdb" -D "$PG_DATA" -U postgres -E UTF8 --locale=C.UTF-8 \
			--auth-local=peer --auth-host=scram-sha-256
		printf "\n# project settings (scripts/lib/fleet.sh), rewritten at every start\ninclude = 'shop.conf'\n" |
			as_postgres tee -a "$PG_DATA/postgresql.conf" >/dev/null
	fi
	# Rewritten at every start, so that the current ports and paths apply;
	# a running server reloads only when one of the two files changed.
	local conf_changed=0
	{
		printf "listen_addresses = '127.0.0.1'\n"
		printf 'port = %d\n' "$PG_PORT"
		printf "unix_socket_directories = '%s'\n" "$PG_SOCKET_DIR"
		printf "password_encryption = 'scram-sha-256'\n"
		if [[ ${PG_FAST:-0} == 1 ]]; then
			printf 'fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n'
		fi
	} | pg_write_conf shop.conf || conf_changed=1
	cat <<-'EOF' | pg_write_conf pg_hba.conf || conf_changed=1
		# TYPE  DATABASE  USER      ADDRESS        METHOD
		local   all       postgres                 peer
		local   all       all                      scram-sha-256
		host    all       all       127.0.0.1/32   scram-sha-256
	EOF

	if pg_running; then
		say "PostgreSQL already runs on $PG_DATA"
		if ((conf_changed)); then
			say "configuration changed: reloading"
			as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" reload >/dev/null
		fi
	else
		require_free_port "$PG_PORT" PG_PORT
		say "starting PostgreSQL on 127.0.0.1:$PG_PORT"
		as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_SERVER_LOG" -w -t 60 start ||
			{
				tail -n 30 "$PG_SERVER_LOG"
				return 1
			}
	fi
	local pid
	read -r pid <"$PG_DATA/postmaster.pid"
	record_pid postgres "$pid"

	pg_ensure_roles
	pg_check_isolation
}

# Create the six roles and databases that are missing; only the owner may
# connect to its database.
pg_ensure_roles() {
	local svc sql='' pw
	for svc in "${SHOP_DB_SERVICES[@]}"; do
		pw=$(secret "db_$svc.password")
		[[ $pw =~ ^[0-9a-f]+$ ]] || die "$SECRETS/db_$svc.password must be hex"
		sql+="SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', '$svc', '$pw')
			WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$svc') \\gexec
"
		sql+="SELECT format('CREATE DATABASE %I OWNER %I', '${svc}_db', '$svc')
			WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '${svc}_db') \\gexec
"
		sql+="REVOKE ALL ON DATABASE \"${svc}_db\" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE \"${svc}_db\" TO \"$svc\";
"
	done
	sql+="REVOKE CONNECT ON DATABASE postgres FROM PUBLIC;
REVOKE CONNECT ON DATABASE template1 FROM PUBLIC;
"
	pg_admin_psql <<<"$sql"
	# A regenerated password file (e.g. secrets/ deleted) must win over the
	# role's old password: check each role can log in, re-set it otherwise.
	for svc in "${SHOP_DB_SERVICES[@]}"; do
		if ! PGCONNECT_TIMEOUT=5 "$PG_BIN/psql" -X -q -At "$(db_url "$svc")" -c 'SELECT 1' >/dev/null 2>&1; then
			say "setting the password of role $svc from $SECRETS/db_$svc.password"
			pg_admin_psql <<<"ALTER ROLE \"$svc\" PASSWORD '$(secret "db_$svc.password")';"
		fi
	done
	say "roles and databases: ${SHOP_DB_SERVICES[*]} (each <svc> owns <svc>_db)"
}

# Each role opens its own database, and no other.
pg_check_isolation() {
	local svc other
	for svc in "${SHOP_DB_SERVICES[@]}"; do
		PGCONNECT_TIMEOUT=5 "$PG_BIN/psql" -X -q -At "$(db_url "$svc")" -c 'SELECT 1' >/dev/null ||
			die "role $svc cannot open ${svc}_db"
	done
	other=user
	if PGCONNECT_TIMEOUT=5 PGPASSWORD=$(secret db_product.password) "$PG_BIN/psql" -X -q -At \
		-h 127.0.0.1 -p "$PG_PORT" -U product -d "${other}_db" -c 'SELECT 1' >/dev/null 2>&1; then
		die "role product can open ${other}_db: the databases are not isolated"
	fi
	say "each role opens its own database only (checked: product cannot open user_db)"
}

pg_stop() {
	if [[ -f $PG_DATA/postmaster.pid ]] && pg_running; then
		say "stopping PostgreSQL ($PG_DATA)"
		if ! as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 stop; then
			say "fast shutdown failed: immediate shutdown"
			as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -w -t 30 stop
		fi
	fi
	clear_pid postgres
}

# ---------------------------------------------------------------- RabbitMQ

# Run a RabbitMQ command (server or CLI) with this fleet's environment.
rabbit_env() {
	env HOME="$RABBIT_DIR" \
		RABBITMQ_NODENAME="$RABBIT_NODE" \
		RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
		RABBITMQ_NODE_PORT="$RABBIT_PORT" \
		RABBITMQ_DIST_PORT="$RABBIT_DIST_PORT" \
		RABBITMQ_BASE="$RABBIT_DIR" \
		RABBITMQ_MNESIA_BASE="$RABBIT_DIR/mnesia" \
		RABBITMQ_LOG_BASE="$RABBIT_DIR/log" \
		RABBITMQ_CONFIG_FILE="$RABBIT_DIR/rabbitmq.conf" \
		RABBITMQ_ADVANCED_CONFIG_FILE="$RABBIT_DIR/advanced.config" \
		RABBITMQ_CONF_ENV_FILE="$RABBIT_DIR/rabbitmq-env.conf" \
		RABBITMQ_ENABLED_PLUGINS_FILE="$RABBIT_DIR/enabled_plugins" \
		RABBITMQ_PID_FILE="$STATE/pids/rabbitmq.pid" \
		RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
		ERL_EPMD_PORT="$EPMD_PORT" \
		ERL_EPMD_ADDRESS=127.0.0.1 \
		"$@"
}

rabbitmqctl_fleet() {
	rabbit_env "$RABBIT_BIN/rabbitmqctl" -n "$RABBIT_NODE" "$@"
}

fleet_rabbitmq() {
	local defs=$SHOP_ROOT/infrastructure/rabbitmq/definitions.json deadline
	[[ -f $defs ]] || die "missing $defs"
	mkdir -p "$RABBIT_DIR/mnesia" "$RABBIT_DIR/log"
	cat >"$RABBIT_DIR/rabbitmq.conf" <<-EOF
		# generated by scripts/lib/fleet.sh at every start
		management.tcp.ip = 127.0.0.1
		management.tcp.port = $RABBIT_MGMT_PORT
		management.load_definitions = $defs
		# guest/guest, from localhost only (the default, spelled out)
		loopback_users.guest = true
		log.file.level = info
		log.console = false
	EOF
	printf '[rabbitmq_management].\n' >"$RABBIT_DIR/enabled_plugins"
	: >"$RABBIT_DIR/rabbitmq-env.conf" # keep /etc/rabbitmq/rabbitmq-env.conf out
	[[ -f $RABBIT_DIR/advanced.config ]] || printf '[].\n' >"$RABBIT_DIR/advanced.config"

	# Our own epmd (the Erlang port mapper) on EPMD_PORT, so that the node and
	# its CLI never depend on (or leave behind) a shared one.
	if is_running epmd; then
		say "epmd already runs on $EPMD_PORT"
	else
		require_free_port "$EPMD_PORT" EPMD_PORT
		start_bg epmd "$STATE/logs/epmd-server.log" \
			env ERL_EPMD_ADDRESS=127.0.0.1 epmd -port "$EPMD_PORT"
		deadline=$((SECONDS + 10))
		until epmd -port "$EPMD_PORT" -names >/dev/null 2>&1; do
			is_running epmd || die "epmd exited: see $STATE/logs/epmd-server.log"
			((SECONDS < deadline)) || die "epmd does not answer on $EPMD_PORT"
			sleep 0.2
		done
	fi

	if is_running rabbitmq; then
		say "RabbitMQ $RABBIT_NODE already runs (pid $(read_pid rabbitmq))"
	else
		require_free_port "$RABBIT_PORT" RABBIT_PORT
		require_free_port "$RABBIT_MGMT_PORT" RABBIT_MGMT_PORT
		require_free_port "$RABBIT_DIST_PORT" RABBIT_DIST_PORT
		rm -f "$STATE/pids/rabbitmq.pid" "$STATE/pids/rabbitmq.start"
		say "starting RabbitMQ $RABBIT_NODE (AMQP $RABBIT_PORT, management $RABBIT_MGMT_PORT, dist $RABBIT_DIST_PORT)"
		rabbit_env "$RABBIT_BIN/rabbitmq-server" -detached
	fi
	local pid
	deadline=$((SECONDS + ${RABBIT_START_TIMEOUT:-90}))
	until rabbitmqctl_fleet await_startup --timeout 10 >/dev/null 2>&1; do
		if [[ -s $STATE/pids/rabbitmq.pid ]]; then
			pid=$(read_pid rabbitmq) || true
			if [[ -n $pid ]] && ! pid_alive "$pid"; then
				say "RabbitMQ (pid $pid) exited during start-up; its log:"
				tail -n 30 "$RABBIT_DIR/log/$RABBIT_NODE.log" 2>/dev/null || true
				return 1
			fi
		fi
		if ((SECONDS >= deadline)); then
			say "RabbitMQ did not start within ${RABBIT_START_TIMEOUT:-90}s; its log:"
			tail -n 30 "$RABBIT_DIR/log/$RABBIT_NODE.log" 2>/dev/null || true
			rabbitmqctl_fleet await_startup --timeout 5 || true
			return 1
		fi
		sleep 1
	done
	pid=$(read_pid rabbitmq) || die "RabbitMQ runs but wrote no pid file"
	[[ -s $STATE/pids/rabbitmq.start ]] || record_pid rabbitmq "$pid"
	wait_http "http://guest:guest@127.0.0.1:$RABBIT_MGMT_PORT/api/overview" 30 || return 1
	# The definitions are loaded at boot: check they are there.
	local queues q
	queues=$(curl -fsS -u guest:guest "$RABBIT_MGMT_URL/api/queues/%2F?columns=name" | jq -r '.[].name' | sort)
	for q in payment.order-created cart.order-created order.payment-results \
		email.notifications product.order-results; do
		grep -qx "$q" <<<"$queues" || die "queue $q is missing (definitions not loaded?)"
		grep -qx "$q.dlq" <<<"$queues" || die "queue $q.dlq is missing (definitions not loaded?)"
	done
	say "RabbitMQ $RABBIT_NODE is up (pid $pid) with the shop.events topology"
}

rabbit_stop() {
	if is_running rabbitmq; then
		say "stopping RabbitMQ $RABBIT_NODE"
		# `stop PIDFILE` waits until that process has exited.
		if ! rabbit_env timeout 90 "$RABBIT_BIN/rabbitmqctl" -n "$RABBIT_NODE" \
			stop "$STATE/pids/rabbitmq.pid"; then
			say "rabbitmqctl stop failed; signalling the recorded PID"
			stop_pid rabbitmq 30 || true
		fi
	fi
	clear_pid rabbitmq
	stop_pid epmd 5 || true
}

# ---------------------------------------------------------------- Redis

fleet_redis() {
	if is_running redis; then
		say "Redis already runs on $REDIS_PORT (pid $(read_pid redis))"
	else
		require_free_port "$REDIS_PORT" REDIS_PORT
		mkdir -p "$STATE/redis"
		start_bg redis "$STATE/logs/redis-server.log" \
			redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' \
			--appendonly no --dir "$STATE/redis" --daemonize no --logfile ''
	fi
	wait_port "$REDIS_PORT" 15 redis redis
	local pong
	pong=$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping)
	[[ $pong == PONG ]] || die "redis-cli ping answered '$pong'"
	say "Redis answers PONG on $REDIS_PORT"
}

# ---------------------------------------------------------------- SMTP sink

fleet_smtp() {
	if ! "$SYSTEM_PYTHON" -c 'import aiosmtpd' 2>/dev/null; then
		die "$SYSTEM_PYTHON cannot import aiosmtpd (Debian package python3-aiosmtpd)"
	fi
	if is_running smtp; then
		say "SMTP sink already runs on $SMTP_PORT (pid $(read_pid smtp))"
	else
		require_free_port "$SMTP_PORT" SMTP_PORT
		# A complete Maildir: the Mailbox handler only creates tmp/ new/ cur/
		# when the folder itself does not exist yet.
		mkdir -p "$MAIL_DIR/tmp" "$MAIL_DIR/new" "$MAIL_DIR/cur"
		start_bg smtp "$STATE/logs/smtp-server.log" \
			"$SYSTEM_PYTHON" -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" \
			-c aiosmtpd.handlers.Mailbox "$MAIL_DIR"
	fi
	wait_port "$SMTP_PORT" 15 smtp smtp
	say "SMTP sink on 127.0.0.1:$SMTP_PORT; mails land in the Maildir $MAIL_DIR (new/)"
}

# ---------------------------------------------------------------- daemons

trim() {
	local s=$1
	s=${s#"${s%%[![:space:]]*}"}
	s=${s%"${s##*[![:space:]]}"}
	printf '%s' "$s"
}

# expand_placeholders STRING: replace {VAR} by the value of VAR.
expand_placeholders() {
	local s=$1 out='' var
	while [[ $s =~ ^([^{]*)\{([A-Z_][A-Z0-9_]*)\}(.*)$ ]]; do
		var=${BASH_REMATCH[2]}
		[[ -n ${!var+set} ]] || die "unknown placeholder {$var} in SHOP_DAEMONS"
		out+=${BASH_REMATCH[1]}${!var}
		s=${BASH_REMATCH[3]}
	done
	printf '%s' "$out$s"
}

# daemon_fields LINE: sets D_NAME D_PORT D_PORTVAR D_BIN D_ROLE D_EXTRA
daemon_fields() {
	local name portvar bin role extra
	IFS='|' read -r name portvar bin role extra <<<"$1"
	D_NAME=$(trim "$name")
	D_PORTVAR=$(trim "$portvar")
	D_PORT=${!D_PORTVAR:?$D_PORTVAR is not set}
	D_BIN=$BUILD_DIR/$(trim "$bin")
	D_ROLE=$(trim "$role")
	D_EXTRA=$(trim "$extra")
}

# daemon_env: the environment of the daemon described by D_* (one per line).
daemon_env() {
	local kv
	printf '%s\n' "HTTP_ADDRESS=127.0.0.1" "HTTP_PORT=$D_PORT" "LOG_LEVEL=$LOG_LEVEL"
	if [[ $D_ROLE != - ]]; then
		printf 'DATABASE_URL=%s\n' "$(db_url "$D_ROLE")"
	fi
	for kv in $D_EXTRA; do
		expand_placeholders "$kv"
		printf '\n'
	done
}

binary_sum() {
	sha256sum "$1" | cut -d' ' -f1
}

# Environment passed through to the daemons (everything else is dropped, so
# that a stray DATABASE_URL in the caller's shell never leaks in).
SHOP_PASSTHROUGH_ENV=(PATH HOME LANG LC_ALL TZ ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS)

daemon_start() {
	local envs=() v line
	for v in "${SHOP_PASSTHROUGH_ENV[@]}"; do
		[[ -n ${!v+set} ]] && envs+=("$v=${!v}")
	done
	while IFS= read -r line; do
		[[ -n $line ]] && envs+=("$line")
	done < <(daemon_env)
	require_free_port "$D_PORT" "$D_PORTVAR"
	: >>"$STATE/logs/$D_NAME.log"
	printf '=== %s start %s\n' "$(date -u +%FT%TZ)" "$D_BIN" >>"$STATE/logs/$D_NAME.log"
	(cd "$SHOP_ROOT" && start_bg "$D_NAME" "$STATE/logs/$D_NAME.log" env -i "${envs[@]}" "$D_BIN")
	binary_sum "$D_BIN" >"$STATE/pids/$D_NAME.binsum"
}

fleet_daemons() {
	local line sum
	for line in "${SHOP_DAEMONS[@]}"; do
		daemon_fields "$line"
		if [[ ! -x $D_BIN ]]; then
			say "$D_NAME: binary $D_BIN not found: the build did not produce it (see the build step's log)"
			return 1
		fi
	done
	for line in "${SHOP_DAEMONS[@]}"; do
		daemon_fields "$line"
		if is_running "$D_NAME"; then
			sum=$(cat "$STATE/pids/$D_NAME.binsum" 2>/dev/null || true)
			if [[ $sum == "$(binary_sum "$D_BIN")" ]]; then
				say "$D_NAME already runs (pid $(read_pid "$D_NAME")), binary unchanged"
			else
				say "$D_NAME: binary changed since it started: restarting"
				stop_pid "$D_NAME" 10 || true
				daemon_start
			fi
		else
			daemon_start
		fi
		if ! wait_http "http://127.0.0.1:$D_PORT/health" "$DAEMON_START_TIMEOUT" "$D_NAME"; then
			say "--- last 30 lines of $STATE/logs/$D_NAME.log ---"
			tail -n 30 "$STATE/logs/$D_NAME.log"
			return 1
		fi
		say "$D_NAME answers on http://127.0.0.1:$D_PORT/health"
	done
}

# ---------------------------------------------------------------- seed

# The catalog, and the development accounts (paintest@example.com /
# password123, admin@example.com / admin12345): development and tests only.
fleet_seed() {
	local svc seed
	for svc in product user; do
		seed=$SHOP_ROOT/services/$svc/seed/seed.sql
		[[ -f $seed ]] || die "missing $seed"
		PGCONNECT_TIMEOUT=5 "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "$(db_url "$svc")" -f "$seed"
		say "applied ${seed#"$SHOP_ROOT"/} as role $svc"
	done
}

# ---------------------------------------------------------------- env file

# fleet_write_env: $STATE/fleet.env, the fleet's addresses for humans and
# tests (`set -a; . .state/dev/fleet.env`). Contains the product database
# password: mode 600.
fleet_write_env() {
	fleet_write_vars
	(
		umask 077
		cat >"$STATE/fleet.env" <<-EOF
			SHOP_GATEWAY_URL=http://127.0.0.1:$GATEWAY_PORT
			SHOP_PRODUCT_URL=http://127.0.0.1:$PRODUCT_PORT
			SHOP_USER_URL=http://127.0.0.1:$USER_PORT
			SHOP_CART_URL=http://127.0.0.1:$CART_PORT
			SHOP_ORDER_URL=http://127.0.0.1:$ORDER_PORT
			SHOP_PAYMENT_URL=http://127.0.0.1:$PAYMENT_PORT
			SHOP_EMAIL_URL=http://127.0.0.1:$EMAIL_PORT
			SHOP_JWT_PRIVATE_KEY=$JWT_PRIVATE_KEY_FILE
			SHOP_JWT_PUBLIC_KEY=$JWT_PUBLIC_KEY_FILE
			SHOP_JWT_ISSUER=$JWT_ISSUER
			SHOP_JWT_AUDIENCE=$JWT_AUDIENCE
			SHOP_INTERNAL_TOKEN_FILE=$INTERNAL_TOKEN_FILE
			SHOP_STATE_DIR=$STATE
			SHOP_REDIS_URL=$REDIS_URL
			SHOP_AMQP_URL=$AMQP_URL
			SHOP_RABBITMQ_MGMT_URL=$RABBIT_MGMT_URL
			SHOP_SMTP_PORT=$SMTP_PORT
			SHOP_MAIL_DIR=$MAIL_DIR
			SHOP_PRODUCT_DATABASE_URL=$(db_url product)
			SHOP_USER_DATABASE_URL=$(db_url user)
			SHOP_CART_DATABASE_URL=$(db_url cart)
			SHOP_ORDER_DATABASE_URL=$(db_url order)
			SHOP_PAYMENT_DATABASE_URL=$(db_url payment)
			SHOP_EMAIL_DATABASE_URL=$(db_url email)
			SHOP_BUILD_DIR=$BUILD_DIR
		EOF
	)
}

# fleet_write_vars: $STATE/fleet.vars, what fleet_init needs to find this
# fleet again (ports, state, build folder, knobs), for scripts/fleet-ctl.sh.
fleet_write_vars() {
	local v
	{
		for v in STATE FLEET_NAME BUILD_DIR GATEWAY_PORT PRODUCT_PORT USER_PORT CART_PORT \
			ORDER_PORT PAYMENT_PORT EMAIL_PORT PG_PORT RABBIT_PORT RABBIT_MGMT_PORT \
			RABBIT_DIST_PORT EPMD_PORT REDIS_PORT SMTP_PORT LOG_LEVEL RATE_LIMIT_PER_ADDRESS \
			RATE_LIMIT_PER_USER RESERVATION_SWEEP_INTERVAL_S DAEMON_START_TIMEOUT; do
			printf '%s=%q\n' "$v" "${!v}"
		done
		if [[ -n ${PG_FAST:-} ]]; then
			printf 'PG_FAST=%q\n' "$PG_FAST"
		fi
	} >"$STATE/fleet.vars"
}

# ---------------------------------------------------------------- stop

# fleet_stop: everything this fleet started, by recorded PID / own data dir,
# daemons first (reverse start order). A daemon that needed SIGKILL is listed
# in $STATE/killed (test-all counts it as a failure).
fleet_stop() {
	local i line rc
	for ((i = ${#SHOP_DAEMONS[@]} - 1; i >= 0; i--)); do
		line=${SHOP_DAEMONS[i]}
		daemon_fields "$line"
		rc=0
		stop_pid "$D_NAME" 10 || rc=$?
		if ((rc == 2)); then
			printf '%s did not exit within 10 s of SIGTERM (SIGKILL)\n' "$D_NAME" >>"$STATE/killed"
		fi
	done
	stop_pid smtp 5 || true
	stop_pid redis 10 || true
	rabbit_stop
	pg_stop
}

# fleet_leftovers: print the recorded processes still alive (none = success).
fleet_leftovers() {
	local f name left=0
	for f in "$STATE"/pids/*.pid; do
		[[ -e $f ]] || continue
		name=$(basename "$f" .pid)
		if is_running "$name"; then
			say "still running: $name (pid $(read_pid "$name"))"
			left=1
		fi
	done
	if pg_running 2>/dev/null; then
		say "still running: PostgreSQL on $PG_DATA"
		left=1
	fi
	return "$left"
}
