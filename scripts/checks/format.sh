#!/usr/bin/env bash
# Checks that every C source and header follows the checked-in .clang-format
# (STYLE.md). Fix with: clang-format -i <file> (or the whole list below).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
if ! command -v clang-format >/dev/null; then
	echo "format: clang-format is not installed (apt-get install clang-format)"
	exit 1
fi
mapfile -t files < <(git ls-files '*.c' '*.h' 2>/dev/null || find shared services gateway tools -name '*.[ch]')
bad=()
for f in "${files[@]}"; do
	[ -f "$f" ] || continue
	if ! clang-format --style=file --dry-run -Werror "$f" >/dev/null 2>&1; then
		bad+=("$f")
	fi
done
if [ ${#bad[@]} -gt 0 ]; then
	echo "format: these files differ from .clang-format:"
	printf '  %s\n' "${bad[@]}"
	echo "fix with: clang-format -i ${bad[*]}"
	exit 1
fi
echo "format ok (${#files[@]} files)"
