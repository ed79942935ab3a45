#!/usr/bin/env bash
# otap flags on a real state store (SQLite): the manifest's defaults, a
# change with no deploy (enable, disable, rollout) in the store and the
# ledger with before and after, a protected environment refused without the
# hard lock's confirmation, evaluation with reasons and a stable split, and
# lint of expired flags.
set -euo pipefail
. "$SRC/tests/harness/lib.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
run() { set +e; "$@" >"$work/out" 2>"$work/err"; rc=$?; set -e; }
cd "$work"
cat >otap.yaml <<'EOF2'
project: flags
environments:
  - { name: development, marker: dev }
  - { name: staging, marker: dev }
  - { name: production, marker: prod, protected: true }
flags:
  new-importer:
    owner: ops
    expires: 2999-12-31
    on: [staging]
  half-banner:
    owner: web
    expires: 2999-12-31
    kind: kill-switch
    on: [development]
    rollout: 50
  checkout-theme:
    owner: web
    expires: 2999-12-31
    kind: operational
    on: [production]
    variants: { on: "dark", off: "classic" }
    rules:
      - { attr: email, ends_with: "@databiz.nl", variant: on }
      - { attr: app, semver_lt: "2.0.0", variant: off }
    rollout: 0
EOF2
export OTAP_ACTOR="flag tester <t@example.invalid>"

# ---- the manifest's defaults -------------------------------------------------------------------
run "$OTAP" --json flags list
expect_eq 0 "$rc" "list: $(cat "$work/err")"
jq -e '.flags[0].environments | map({(.env): .enabled}) | add == {"development": false, "staging": true, "production": false}' \
  "$work/out" >/dev/null || fail "defaults: $(cat "$work/out")"
"$OTAP" --json flags eval checkout-theme --env production --context '{"targetingKey":"u","email":"a@databiz.nl"}' >"$work/out"
jq -e '.value == "dark" and .reason == "TARGETING_MATCH"' "$work/out" >/dev/null || fail "a string rule: $(cat "$work/out")"
"$OTAP" --json flags eval checkout-theme --env production --context '{"targetingKey":"u","email":"a@example.com"}' >"$work/out"
jq -e '.value == "classic" and .reason == "SPLIT"' "$work/out" >/dev/null || fail "no rule, a 0 % split: $(cat "$work/out")"
"$OTAP" --json flags eval checkout-theme --env staging >"$work/out"
jq -e '.value == "classic" and .reason == "DISABLED"' "$work/out" >/dev/null || fail "$(cat "$work/out")"
run "$OTAP" --json flags eval new-importer --env staging
jq -e '.value == true and .reason == "STATIC"' "$work/out" >/dev/null || fail "$(cat "$work/out")"
run "$OTAP" --json flags eval new-importer --env production
jq -e '.value == false and .reason == "DISABLED" and .variant == "off"' "$work/out" >/dev/null || fail "$(cat "$work/out")"
run "$OTAP" --json flags eval half-banner --env development
jq -e '.reason == "ERROR" and .errorCode == "TARGETING_KEY_MISSING"' "$work/out" >/dev/null || fail "$(cat "$work/out")"

# a split is stable per user and near its share
on=0
for i in $(seq 1 200); do
  v=$("$OTAP" --json flags eval half-banner --env development --context "{\"targetingKey\":\"user-$i\"}" | jq -r .variant)
  again=$("$OTAP" --json flags eval half-banner --env development --context "{\"targetingKey\":\"user-$i\"}" | jq -r .variant)
  expect_eq "$v" "$again" "user-$i stays in its bucket"
  [ "$v" = on ] && on=$((on + 1))
done
[ "$on" -ge 70 ] && [ "$on" -le 130 ] || fail "a 50 % split gave $on of 200"

# ---- changes: store, ledger, protection ------------------------------------------------------------
run "$OTAP" flags enable new-importer --env production
expect_eq 4 "$rc" "a protected environment without the confirmation"
grep -q "CONFIRM_PROD_MIGRATE=YES" "$work/err" || fail "$(cat "$work/err")"
run env CONFIRM_PROD_MIGRATE=YES "$OTAP" flags rollout new-importer --env production --weights on=10,off=90
expect_eq 0 "$rc" "a rollout in production: $(cat "$work/err")"
run "$OTAP" --json flags show new-importer
jq -e '.flags[0].environments[] | select(.env == "production") | .enabled and .source == "store" and .weights == [["on",10],["off",90]] and .changed_by == "flag tester <t@example.invalid>"' \
  "$work/out" >/dev/null || fail "show: $(cat "$work/out")"
run "$OTAP" flags disable new-importer --env staging
expect_eq 0 "$rc" "disable"
run "$OTAP" --json flags eval new-importer --env staging
jq -e '.value == false and .reason == "DISABLED"' "$work/out" >/dev/null || fail "$(cat "$work/out")"
run "$OTAP" --json ledger show
jq -e '[.entries[] | select(.action == "flag.changed")] | length == 2' "$work/out" >/dev/null || fail "$(cat "$work/out")"
jq -e '[.entries[] | select(.action == "flag.changed" and .env == "production")][0].details | .before.enabled == false and .after.enabled == true and .after.weights == [["on",10],["off",90]]' \
  "$work/out" >/dev/null || fail "before and after: $(cat "$work/out")"
run "$OTAP" ledger verify
expect_eq 0 "$rc" "the ledger holds"

# ---- bad input ------------------------------------------------------------------------------------
run "$OTAP" flags rollout new-importer --env staging --weights on=10,maybe=90
expect_eq 2 "$rc" "an unknown variant"
run "$OTAP" flags rollout new-importer --env staging --percent 101
expect_eq 2 "$rc" "a percent above 100"
run "$OTAP" flags eval new-importer --env staging --context '[1]'
expect_eq 2 "$rc" "a context that is not an object"
run "$OTAP" flags eval nosuch --env staging
expect_eq 2 "$rc" "an unknown flag"

# ---- OFREP in otap serve ------------------------------------------------------------------------
tok=$("$OTAP" serve token add sdk --role viewer 2>/dev/null)
port=$(free_port 27850 27899)
"$OTAP" serve --listen "127.0.0.1:$port" --env production >"$work/serve.log" 2>&1 &
serve_pid=$!
trap 'kill $serve_pid 2>/dev/null || true; rm -rf "$work"' EXIT
wait_http "http://127.0.0.1:$port/health" 200 50
ofrep() { # ofrep PATH BODY [HEADER...]: status in $work/code, body in $work/body, headers in $work/hdr
  local path=$1 body=$2
  shift 2
  rm -f "$work/body" # curl writes no file for a 304
  curl -s -o "$work/body" -D "$work/hdr" -w '%{http_code}' -X POST -H "Authorization: Bearer $tok"     -H 'Content-Type: application/json' "$@" -d "$body" "http://127.0.0.1:$port$path" >"$work/code"
}
ofrep /ofrep/v1/evaluate/flags/new-importer '{"context":{"targetingKey":"user-1"}}'
expect_eq 200 "$(cat "$work/code")" "one flag"
jq -e '.key == "new-importer" and .reason == "SPLIT" and (.value | type) == "boolean" and .metadata.environment == "production"'   "$work/body" >/dev/null || fail "$(cat "$work/body")"
ofrep /ofrep/v1/evaluate/flags/new-importer '{"context":{}}'
expect_eq 400 "$(cat "$work/code")" "a split without a targeting key"
jq -e '.errorCode == "TARGETING_KEY_MISSING"' "$work/body" >/dev/null || fail "$(cat "$work/body")"
ofrep /ofrep/v1/evaluate/flags/nosuch '{"context":{}}'
expect_eq 404 "$(cat "$work/code")" "an unknown flag"
jq -e '.errorCode == "FLAG_NOT_FOUND" and .key == "nosuch"' "$work/body" >/dev/null || fail "$(cat "$work/body")"
ofrep /ofrep/v1/evaluate/flags/new-importer '{"context":'
expect_eq 400 "$(cat "$work/code")" "a body that is not JSON"
jq -e '.errorCode == "PARSE_ERROR"' "$work/body" >/dev/null || fail "$(cat "$work/body")"
ofrep /ofrep/v1/evaluate/flags/new-importer '{"context":[1]}'
jq -e '.errorCode == "INVALID_CONTEXT"' "$work/body" >/dev/null || fail "$(cat "$work/body")"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -d '{"context":{}}' "http://127.0.0.1:$port/ofrep/v1/evaluate/flags")
expect_eq 401 "$code" "no token"
# bulk, ETag and If-None-Match
ofrep /ofrep/v1/evaluate/flags '{"context":{"targetingKey":"user-1"}}'
expect_eq 200 "$(cat "$work/code")" "bulk"
jq -e '[.flags[].key] == ["new-importer", "half-banner", "checkout-theme"]' "$work/body" >/dev/null || fail "$(cat "$work/body")"
etag=$(grep -i '^etag:' "$work/hdr" | cut -d' ' -f2 | tr -d '\r')
[ -n "$etag" ] || fail "no ETag: $(cat "$work/hdr")"
ofrep /ofrep/v1/evaluate/flags '{"context":{"targetingKey":"user-1"}}' -H "If-None-Match: $etag"
expect_eq 304 "$(cat "$work/code")" "an unchanged bulk answer"
[ -s "$work/body" ] && fail "a 304 with a body"
ofrep /ofrep/v1/evaluate/flags '{"context":{"targetingKey":"user-1"}}' -H "If-None-Match: \"x\", W/$etag"
expect_eq 304 "$(cat "$work/code")" "a list of tags, one of them weak"
ofrep /ofrep/v1/evaluate/flags '{"context":{"targetingKey":"user-2"}}' -H "If-None-Match: $etag"
expect_eq 200 "$(cat "$work/code")" "another context never gets a stale 304"
run env CONFIRM_PROD_MIGRATE=YES "$OTAP" flags rollout new-importer --env production --percent 100
sleep 0.3 # the server reads the flags' state at most every 250 ms
ofrep /ofrep/v1/evaluate/flags '{"context":{"targetingKey":"user-1"}}' -H "If-None-Match: $etag"
expect_eq 200 "$(cat "$work/code")" "a flag change invalidates the ETag"
jq -e '.flags[0].value == true' "$work/body" >/dev/null || fail "the rollout is seen without a restart: $(cat "$work/body")"
# a real client: OpenFeature's JavaScript server SDK with its OFREP provider
sdk=$SRC/.cache/tools/node_modules
[ -d "$sdk/@openfeature/ofrep-provider" ] || fail "the OpenFeature SDK is not installed (scripts/bootstrap installs it)"
client() { NODE_PATH=$sdk OFREP_URL="http://127.0.0.1:$port" OFREP_TOKEN=$tok node "$SRC/tests/tools/ofrep_client.cjs" "$@"; }
out=$(client new-importer:user-1 half-banner:user-1 nosuch:user-1)
echo "$out" | jq -e '."new-importer:user-1" == {"value": true, "reason": "SPLIT", "variant": "on"}' >/dev/null ||
  fail "the SDK, a 100 % split: $out"
echo "$out" | jq -e '."half-banner:user-1" | .value == false and .reason == "DISABLED"' >/dev/null || fail "$out"
echo "$out" | jq -e '."nosuch:user-1" | .value == false and .errorCode == "FLAG_NOT_FOUND"' >/dev/null || fail "$out"
out=$(client s:checkout-theme:ana)
echo "$out" | jq -e '."s:checkout-theme:ana" == {"value": "dark", "reason": "TARGETING_MATCH", "variant": "on"}' >/dev/null ||
  fail "the SDK, a string flag with a rule: $out"
run env CONFIRM_PROD_MIGRATE=YES "$OTAP" flags rollout new-importer --env production --percent 50
sleep 0.3
users=$(for i in $(seq 1 40); do printf 'new-importer:u%d ' "$i"; done)
# shellcheck disable=SC2086
out=$(client $users)
echo "$out" | jq -e '[.[] | .value] | (index(true) != null) and (index(false) != null)' >/dev/null ||
  fail "a 50 % split through the SDK gave one value only: $out"
for i in 1 7 23; do
  want=$("$OTAP" --json flags eval new-importer --env production --context "{\"targetingKey\":\"u$i\"}" | jq .value)
  expect_eq "$want" "$(echo "$out" | jq ".\"new-importer:u$i\".value")" "the SDK and the CLI agree on u$i"
done
kill "$serve_pid"
wait "$serve_pid" 2>/dev/null || true

# ---- lint -----------------------------------------------------------------------------------------
# the code reads every flag (t0950 tests the search itself)
mkdir -p src
printf 'flags.getBooleanValue("new-importer", false)\nflags.getBooleanValue("half-banner", false)\nflags.getStringValue("checkout-theme", "classic")\n' >src/app.js
run "$OTAP" flags lint
expect_eq 1 "$rc" "a release flag set to live past 30 days"
grep -q "release flag 'new-importer' expires in .* days: a release flag lives at most 30 days" "$work/out" || fail "$(cat "$work/out")"
grep -q "half-banner" "$work/out" && fail "a kill-switch has no lifetime: $(cat "$work/out")"
# real code no one here wrote: the OpenFeature playground's flag reads (tests/fixtures/flags)
pg=$work/playground
cp -r "$SRC/tests/fixtures/flags/openfeature-playground" "$pg"
keys=$(jq -r '.flags | keys[]' "$pg/config/flagd/flags.json")
{
  printf 'project: playground\nenvironments:\n  - { name: development, marker: dev }\nflags:\n'
  for k in $keys; do printf '  %s: { owner: demo, expires: 2999-12-31, kind: operational }\n' "$k"; done
} >"$pg/otap.yaml"
run "$OTAP" -C "$pg" --json flags lint
expect_eq 0 "$rc" "the playground's reads all defined, its flags all read: $(cat "$work/out")"
# one flag left out of otap.yaml: its read is named with file and line
sed -i '/^  hex-color:/d' "$pg/otap.yaml"
run "$OTAP" -C "$pg" flags lint
expect_eq 1 "$rc" "a read of an undefined flag in real code"
grep -q "packages/ui/src/app/demos/fib3r/fib3r-demo.tsx:160: error: reads flag 'hex-color'" "$work/out" || fail "$(cat "$work/out")"
expect_eq 1 "$(grep -c error "$work/out")" "only that read"

sed -i 's/expires: 2999-12-31/expires: 2020-01-01/' otap.yaml
run "$OTAP" flags lint
expect_eq 1 "$rc" "expired flags"
grep -q "otap.yaml:7: error: flag 'new-importer' expired on 2020-01-01" "$work/out" || fail "$(cat "$work/out")"
echo ok
