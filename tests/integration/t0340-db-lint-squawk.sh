#!/usr/bin/env bash
# otap db lint against squawk's own rule tests (tests/fixtures/squawk): on
# the rules both linters have, otap agrees with squawk on at least 95 % of
# the cases, each disagreement listed.
set -euo pipefail
. "$SRC/tests/harness/lib.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 "$SRC/tests/tools/squawk_agreement.py" "$OTAP" "$SRC/tests/fixtures/squawk/rules" "$work/cases" >"$work/score"
cat "$work/score"
pct=$(sed -n 's/^AGREEMENT=//p' "$work/score")
cases=$(sed -n 's/^squawk agreement: [0-9]* of \([0-9]*\) cases.*/\1/p' "$work/score")
[ "${cases:-0}" -ge 60 ] || fail "only ${cases:-0} squawk cases were read"
awk -v p="$pct" 'BEGIN { exit !(p >= 95.0) }' || fail "otap agrees with squawk on $pct % of its cases, under 95 %"
echo "db lint: $pct % agreement with squawk on $cases cases"
