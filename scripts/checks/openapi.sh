#!/usr/bin/env bash
# Lints the API and event documents and checks them against the code:
#   1. Redocly CLI (tools/openapi, offline, telemetry off) lints every
#      docs/api/*.yaml (OpenAPI 3.1) and docs/events/asyncapi.yaml (AsyncAPI
#      3.0) with tools/openapi/redocly.yaml: "recommended-strict" (every
#      warning is an error) plus problem+json, X-Request-ID, media-type and
#      example rules. What is deliberately let through is in
#      tools/openapi/redocly.yaml (rules off) and
#      tools/openapi/.redocly.lint-ignore.yaml (single places), each with why.
#   2. tools/openapi/check-docs.mjs: the documents against the daemons' route
#      tables, the gateway's routing and token tables, shared/events/ and
#      infrastructure/rabbitmq/definitions.json.
# Needs `npm ci` in tools/openapi (scripts/test-all.sh's packages step runs
# it); without it this check fails, it does not pass.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tools=$root/tools/openapi
redocly=$tools/node_modules/.bin/redocly

if [[ ! -x $redocly || ! -d $tools/node_modules/yaml || ! -d $tools/node_modules/ajv ]]; then
	echo "openapi: tools/openapi/node_modules is missing or incomplete: run (cd tools/openapi && npm ci)"
	exit 1
fi
if ! command -v node >/dev/null; then
	echo "openapi: node is needed"
	exit 1
fi

shopt -s nullglob
docs=("$root"/docs/api/*.yaml)
shopt -u nullglob
if ((${#docs[@]} == 0)); then
	echo "openapi: no docs/api/*.yaml to lint"
	exit 1
fi
if [[ ! -f $root/docs/events/asyncapi.yaml ]]; then
	echo "openapi: docs/events/asyncapi.yaml is missing"
	exit 1
fi

fail=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# Offline: no telemetry, no update check. Relative paths keep the ignore
# file's entries (relative to tools/openapi) stable wherever we run from.
cd "$root"
if ! REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true NO_COLOR=1 \
	"$redocly" lint --config tools/openapi/redocly.yaml --format stylish \
	"${docs[@]#"$root"/}" docs/events/asyncapi.yaml >"$log" 2>&1; then
	echo "openapi: redocly lint found problems:"
	# (the deprecation banner of Node 20 is noise)
	grep -v -e '║' -e '╔' -e '╚' "$log" | sed '/^[[:space:]]*$/d' | head -n 200
	fail=1
elif grep -q -i -E '^\[?warning|unused rules' "$log"; then
	# A misspelt rule in redocly.yaml would silently check nothing.
	echo "openapi: redocly lint warned:"
	grep -i -E -A2 '^\[?warning|unused rules' "$log"
	fail=1
fi

if ! node "$tools/check-docs.mjs"; then
	fail=1
fi

if ((fail == 0)); then
	echo "openapi ok: ${#docs[@]} OpenAPI documents and docs/events/asyncapi.yaml lint clean and match the code"
fi
exit "$fail"
