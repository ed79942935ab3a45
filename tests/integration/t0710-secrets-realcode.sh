#!/usr/bin/env bash
# The secret scanner's precision on real code (tests/fixtures/realcode: five
# public repositories in Python, TypeScript, Go, Java, PHP and Ruby, pared
# down to the files that mention passwords, tokens, secrets or keys).
#  - the findings are exactly those in EXPECTED.tsv, each justified there
#  - every one is a literal credential or a key-shaped value: never an
#    identifier, a call, a type, a member access or a reference
#  - at most one finding per 10 MB is neither (the goal of issue 14)
#  - the template that reported 105 false findings (password =
#    random_lower_string(), ${FIRST_SUPERUSER_PASSWORD:?...}, changethis)
#    now reports none
set -euo pipefail
. "$SRC/tests/harness/lib.sh"

corpus="$SRC/tests/fixtures/realcode"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OTAP_CACHE_DIR="$work/cache"
cd "$corpus"

set +e
"$OTAP" secrets scan --no-baseline --json . >"$work/scan.json" 2>"$work/err"
rc=$?
set -e
expect_eq 1 "$rc" "the corpus holds findings: $(cat "$work/err")"

jq -r '.findings[] | "\(.rule)\t\(.file):\(.line)"' "$work/scan.json" | sed 's|\t\./|\t|' |
  sort | uniq -c | awk '{print $2 "\t" $3 "\t" $1}' >"$work/have"
grep -v '^#' EXPECTED.tsv | cut -f1-3 | sort >"$work/want"
if ! diff -u "$work/want" "$work/have" >"$work/diff"; then
  cat "$work/diff" >&2
  fail "the findings on real code are not those EXPECTED.tsv justifies (- expected, + found)"
fi

# every expected finding is justified as fair, none as a name or an expression
bad=$(grep -v '^#' EXPECTED.tsv | awk -F'\t' '$4 != "literal-credential" && $4 != "key-shaped"' | wc -l)
expect_eq 0 "$bad" "findings classed as neither a literal credential nor key-shaped"
for row in $(grep -v '^#' EXPECTED.tsv | awk -F'\t' '$5 == "" {print NR}'); do
  fail "EXPECTED.tsv row $row has no justification"
done

bytes=$(jq '.summary.bytes' "$work/scan.json")
[ "$bytes" -gt 3000000 ] || fail "the corpus shrank to $bytes bytes"
echo "realcode: $(wc -l <"$work/have") findings on $(jq '.summary.files' "$work/scan.json") files, $bytes bytes, 0 on names or expressions"

# the template of the issue: nothing left of its 105 false findings
set +e
"$OTAP" secrets scan --no-baseline --json fastapi-full-stack-template >"$work/fastapi.json" 2>&1
rc=$?
set -e
expect_eq 0 "$rc" "the fastapi template: $(jq -c '[.findings[] | .file + ":" + (.line|tostring)]' "$work/fastapi.json")"
