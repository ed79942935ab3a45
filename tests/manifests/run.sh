#!/usr/bin/env bash
# The manifest fixtures. Each file under bad/ and registry/ starts with
#   # expect: LINE:COL: message
# and 'otap check' must print exactly FILE:LINE:COL: message, exit 3 for
# bad/ (invalid manifest) and 1 for registry/ (the registry breaks a
# rule), and say the same in --json. Every file under good/ must pass.
set -uo pipefail
cd "$(dirname "$0")"
: "${OTAP:?OTAP must name the otap binary}"
fail=0 pass=0

check_one() { # file expected-exit stream
  local f=$1 want_rc=$2 stream=$3
  local expect out rc json line col msg
  expect=$(sed -n '1s/^# expect: //p' "$f")
  if [ -z "$expect" ]; then echo "FAIL $f: no '# expect:' line"; return 1; fi
  if [ "$stream" = stderr ]; then
    out=$("$OTAP" --manifest "$f" check 2>&1 >/dev/null); rc=$?
  else
    out=$("$OTAP" --manifest "$f" check 2>/dev/null); rc=$?
  fi
  if [ "$rc" -ne "$want_rc" ]; then echo "FAIL $f: exit $rc, want $want_rc"; echo "$out"; return 1; fi
  if ! grep -qxF -- "$f:$expect" <<<"$out"; then
    echo "FAIL $f: missing line"; echo "  want: $f:$expect"; echo "$out" | sed 's/^/  have: /'; return 1
  fi
  json=$("$OTAP" --manifest "$f" --json check 2>/dev/null); rc=$?
  [ "$rc" -eq "$want_rc" ] || { echo "FAIL $f: --json exit $rc, want $want_rc"; return 1; }
  line=${expect%%:*}; col=${expect#*:}; col=${col%%:*}; msg=${expect#*:*: }
  if ! jq -e --argjson l "$line" --argjson c "$col" --arg m "$msg" \
      '.ok == false and any(.diagnostics[]; .line == $l and .column == $c and .message == $m)' \
      <<<"$json" >/dev/null; then
    echo "FAIL $f: --json lacks the diagnostic"; echo "$json"; return 1
  fi
}

for f in bad/*.yaml; do
  if check_one "$f" 3 stderr; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
done
for f in registry/*.yaml; do
  if check_one "$f" 1 stdout; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
done
for f in good/*.yaml ../../examples/*/otap.yaml; do
  if json=$("$OTAP" --manifest "$f" --json check) && jq -e '.ok == true' <<<"$json" >/dev/null; then
    pass=$((pass + 1))
  else
    echo "FAIL $f: should pass 'otap check'"; "$OTAP" --manifest "$f" check; fail=$((fail + 1))
  fi
done
echo "manifests: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
