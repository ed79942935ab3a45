#!/usr/bin/env bash
# Fails when clang-format (the committed .clang-format, Debian's
# clang-format) would change any C file git tracks; 'make format' fixes it.
set -euo pipefail
cd "$SRC"
command -v clang-format >/dev/null || { echo "clang-format is missing (scripts/bootstrap installs it)" >&2; exit 1; }
mapfile -t files < <(git ls-files -co --exclude-standard -- '*.c' '*.h' ':!tests/fixtures')
[ ${#files[@]} -gt 0 ] || { echo "no C files found under $SRC" >&2; exit 1; }
bad=()
for f in "${files[@]}"; do
    [ -f "$f" ] || continue
    if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
        bad+=("$f")
    fi
done
if [ ${#bad[@]} -gt 0 ]; then
    echo "clang-format would change ${#bad[@]} file(s); run 'make format':" >&2
    printf '  %s\n' "${bad[@]}" >&2
    exit 1
fi
echo "clang-format: ${#files[@]} files formatted"
