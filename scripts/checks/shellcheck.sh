#!/usr/bin/env bash
# Runs shellcheck on every shell script of the project (scripts/, the CI entry
# point, the gateway's smoke test, the container images' scripts): any
# finding, down to "info", fails the check. A deliberate exception is a
# `# shellcheck disable=SCxxxx # why` on the line before.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
command -v shellcheck >/dev/null 2>&1 || {
	echo "shellcheck is not installed (scripts/lib/fleet.sh installs Debian's shellcheck package)" >&2
	exit 1
}
files=()
while IFS= read -r -d '' f; do
	files+=("$f")
done < <(find scripts gateway/tests infrastructure -name '*.sh' -type f -print0 | sort -z)
files+=(.ci/run)
if ((${#files[@]} < 10)); then
	echo "found only ${#files[@]} shell scripts: is this the project root?" >&2
	exit 1
fi
if ! shellcheck -x -P SCRIPTDIR -P "$root" "${files[@]}"; then
	echo "shellcheck: findings above (${#files[@]} scripts checked)" >&2
	exit 1
fi
echo "shellcheck ok (${#files[@]} scripts)"
