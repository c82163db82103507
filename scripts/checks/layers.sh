#!/usr/bin/env bash
# Checks the dependency rule of ARCHITECTURE.md "Inside a daemon" on every
# service: domain includes nothing of core/infrastructure/api; core nothing
# of infrastructure/api; api nothing of infrastructure. The build already
# keeps I/O libraries out of inner layers (no include path); this catches
# relative includes between layers, which the compiler cannot.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
fail=0
check() { # layer, forbidden-regex
	local dir=$1 forbidden=$2 hits
	[ -d "$dir" ] || return 0
	hits=$(grep -rnE "#include[[:space:]]*\"[^\"]*($forbidden)/" "$dir" || true)
	if [ -n "$hits" ]; then
		echo "layering violation in ${dir#"$root"/}:"
		echo "$hits"
		fail=1
	fi
}
for svc in "$root"/services/*/; do
	src="${svc}src"
	check "$src/domain" 'core|infrastructure|api'
	check "$src/core" 'infrastructure|api'
	check "$src/api" 'infrastructure'
	# libpq, hiredis, rabbitmq, curl stay in infrastructure.
	hits=$(grep -rnE '#include[[:space:]]*<(libpq-fe|hiredis/hiredis|amqp|curl/curl)\.h>' \
		"$src/domain" "$src/core" "$src/api" 2>/dev/null || true)
	if [ -n "$hits" ]; then
		echo "I/O library outside infrastructure in ${svc#"$root"/}:"
		echo "$hits"
		fail=1
	fi
done
if [ $fail -eq 0 ]; then
	echo "layers ok"
fi
exit $fail
