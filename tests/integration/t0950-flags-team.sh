#!/usr/bin/env bash
# Flags in team mode: two otap serve sharing one PostgreSQL state store. A
# change made through one server's API, or with the CLI, is served by the
# other within a second (LISTEN/NOTIFY; the servers' own refresh is 30 s,
# so only the notification can explain it). The API's flag writes and the
# tokens' roles and environment scopes; targeting rules set with
# 'otap flags set'; the lint of flag reads in source code.
set -euo pipefail
. "$SRC/tests/harness/lib.sh"
. "$SRC/tests/harness/pg.sh"

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  pg_destroy
  rm -rf "$work"
}
trap cleanup EXIT
pg_start
psql() { command psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U otap "$@"; }
psql -d otap -c "CREATE DATABASE state"
export OTAP_STATE_URL="postgresql://otap@127.0.0.1:$PG_PORT/state"
export OTAP_ACTOR="flag tester"
run() { set +e; "$@" >"$work/out" 2>"$work/err"; rc=$?; set -e; }
# the project apart from the test's own files, which lint would read
mkdir "$work/p"
cd "$work/p"
cat >otap.yaml <<'EOF'
project: team
environments:
  - { name: development, marker: dev }
  - { name: staging, marker: dev }
  - { name: production, marker: prod, protected: true }
flags:
  new-importer:
    owner: ops
    expires: 2999-12-31
    kind: operational
    on: [staging]
  beta-banner:
    owner: web
    expires: 2999-12-31
    kind: permission
    rules:
      - { attr: email, ends_with: "@databiz.nl", variant: on }
EOF

# ---- targeting rules set per environment -------------------------------------------------------
run "$OTAP" flags set beta-banner --env staging --rule 'tenant in acme, globex -> on; email ends_with @databiz.nl -> off'
expect_eq 0 "$rc" "set rules: $(cat "$work/err")"
"$OTAP" flags enable beta-banner --env staging >/dev/null
"$OTAP" --json flags eval beta-banner --env staging --context '{"tenant":"globex"}' | jq -e '.value == true and .reason == "TARGETING_MATCH"' >/dev/null ||
  fail "a stored 'in' rule"
"$OTAP" --json flags eval beta-banner --env staging --context '{"email":"a@databiz.nl"}' | jq -e '.value == false and .reason == "TARGETING_MATCH"' >/dev/null ||
  fail "stored rules replace the manifest's"
"$OTAP" --json flags eval beta-banner --env development --context '{"email":"a@databiz.nl"}' | jq -e '.reason == "DISABLED"' >/dev/null ||
  fail "another environment keeps the manifest's"
"$OTAP" --json flags show beta-banner | jq -e '.flags[0].environments[] | select(.env == "staging") | .rules_source == "store" and (.rules | length) == 2 and .rules[0].values == ["acme","globex"]' >/dev/null ||
  fail "show: the stored rules"
run "$OTAP" flags set beta-banner --env staging --rule 'tenant like acme -> on'
expect_eq 2 "$rc" "an unknown operator"
grep -q "rule 1 'tenant like acme -> on' has an unknown operator" "$work/err" || fail "$(cat "$work/err")"
run "$OTAP" flags set beta-banner --env staging --rule 'version semver_gte two -> on'
expect_eq 2 "$rc" "a SemVer rule without a version"
run "$OTAP" flags set beta-banner --env staging --rule 'tenant equals acme'
expect_eq 2 "$rc" "a rule without a variant"
"$OTAP" --json flags show beta-banner | jq -e '.flags[0].environments[] | select(.env == "staging") | (.rules | length) == 2' >/dev/null ||
  fail "a refused rule changed the stored ones"
run "$OTAP" flags set beta-banner --env staging --manifest-rules
expect_eq 0 "$rc" "back to the manifest's rules"
"$OTAP" --json flags eval beta-banner --env staging --context '{"email":"a@databiz.nl"}' | jq -e '.value == true' >/dev/null ||
  fail "the manifest's rules again"
run "$OTAP" flags set beta-banner --env production --rule 'tenant equals acme -> on'
expect_eq 4 "$rc" "rules in a protected environment without the confirmation"

# ---- two servers, one store -----------------------------------------------------------------------
viewer=$("$OTAP" serve token add viewer --role viewer 2>/dev/null)
deployer=$("$OTAP" serve token add deployer --role deployer 2>/dev/null)
admin=$("$OTAP" serve token add admin --role admin 2>/dev/null)
scoped=$("$OTAP" serve token add staging-bot --role deployer --env staging 2>/dev/null)
prodsdk=$("$OTAP" serve token add prod-sdk --role viewer --env production 2>/dev/null)
run "$OTAP" serve token add bad --role viewer --env nowhere
expect_eq 2 "$rc" "a scope that is no environment"
"$OTAP" --json serve token list | jq -e '[.tokens[] | select(.name == "staging-bot")][0].env == "staging"' >/dev/null ||
  fail "token list: the scope"
pa=$(free_port 27950 27974)
pb=$(free_port 27975 27999)
"$OTAP" serve --listen "127.0.0.1:$pa" --env staging >"$work/a.log" 2>&1 &
pids+=($!)
"$OTAP" serve --listen "127.0.0.1:$pb" --env staging >"$work/b.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$pa/health" 200 50
wait_http "http://127.0.0.1:$pb/health" 200 50

value() { # value PORT TOKEN FLAG: the value the server gives for targetingKey u1
  curl -s -X POST -H "Authorization: Bearer $2" -H 'Content-Type: application/json' \
    -d '{"context":{"targetingKey":"u1"}}' "http://127.0.0.1:$1/ofrep/v1/evaluate/flags/$3" | jq -c .value
}
api() { # api PORT TOKEN METHOD PATH [BODY]: status in $work/code, body in $work/body
  local port=$1 tok=$2 method=$3 path=$4 body=${5:-}
  curl -s -o "$work/body" -w '%{http_code}' -X "$method" -H "Authorization: Bearer $tok" \
    -H 'Content-Type: application/json' ${body:+-d "$body"} "http://127.0.0.1:$port$path" >"$work/code"
}
# seen PORT TOKEN FLAG WANT: wait for the value, at most 1 s; prints the milliseconds it took
seen() {
  local start now
  start=$(date +%s%3N)
  while :; do
    [ "$(value "$1" "$2" "$3")" = "$4" ] && break
    now=$(date +%s%3N)
    [ $((now - start)) -lt 1000 ] || { echo "never"; return; }
    sleep 0.02
  done
  echo $(($(date +%s%3N) - start))
}

# both servers have the flag cached as on
expect_eq true "$(value "$pa" "$viewer" new-importer)" "server A before"
expect_eq true "$(value "$pb" "$viewer" new-importer)" "server B before"
# wait until server B listens (its first snapshot may predate the LISTEN)
for _ in $(seq 1 50); do grep -q . "$work/b.log" && break; sleep 0.1; done
sleep 0.5

# a change through server A's API reaches server B within a second
api "$pa" "$deployer" POST /api/v2/flags/new-importer '{"env":"staging","action":"disable"}'
expect_eq 200 "$(cat "$work/code")" "disable through the API: $(cat "$work/body")"
jq -e '.after.enabled == false and .ledger_seq > 0' "$work/body" >/dev/null || fail "$(cat "$work/body")"
ms=$(seen "$pb" "$viewer" new-importer false)
[ "$ms" != never ] || fail "server B still serves the old value a second after server A's change"
echo "server B saw server A's change after ${ms} ms"
expect_eq false "$(value "$pa" "$viewer" new-importer)" "server A serves its own change at once"

# a change with the CLI reaches both
"$OTAP" flags enable new-importer --env staging >/dev/null
for p in "$pa" "$pb"; do
  ms=$(seen "$p" "$viewer" new-importer true)
  [ "$ms" != never ] || fail "server on $p missed the CLI's change"
  echo "server on $p saw the CLI's change after ${ms} ms"
done
# a rollout through the API, then the rules
api "$pb" "$deployer" POST /api/v2/flags/new-importer '{"env":"staging","action":"rollout","percent":0}'
expect_eq 200 "$(cat "$work/code")" "rollout through the API: $(cat "$work/body")"
[ "$(seen "$pa" "$viewer" new-importer false)" != never ] || fail "a 0 % rollout through B, seen by A"
api "$pa" "$deployer" POST /api/v2/flags/beta-banner '{"env":"staging","action":"set","rules":"tenant equals acme -> on"}'
expect_eq 200 "$(cat "$work/code")" "rules through the API: $(cat "$work/body")"
jq -e '.after.rules == [{"attr":"tenant","op":"equals","values":["acme"],"variant":"on"}]' "$work/body" >/dev/null || fail "$(cat "$work/body")"

# ---- roles and scopes -----------------------------------------------------------------------------
api "$pa" "$viewer" POST /api/v2/flags/new-importer '{"env":"staging","action":"enable"}'
expect_eq 403 "$(cat "$work/code")" "a viewer may not change a flag"
api "$pa" "$deployer" POST /api/v2/flags/new-importer '{"env":"production","action":"enable"}'
expect_eq 403 "$(cat "$work/code")" "a deployer in a protected environment"
grep -q "needs an admin token" "$work/body" || fail "$(cat "$work/body")"
api "$pa" "$scoped" POST /api/v2/flags/new-importer '{"env":"development","action":"enable"}'
expect_eq 403 "$(cat "$work/code")" "a token scoped to staging, in development"
api "$pa" "$scoped" POST /api/v2/flags/new-importer '{"action":"enable"}'
expect_eq 200 "$(cat "$work/code")" "a scoped token in its environment: $(cat "$work/body")"
jq -e '.env == "staging"' "$work/body" >/dev/null || fail "$(cat "$work/body")"
api "$pa" "$admin" POST /api/v2/flags/new-importer '{"env":"production","action":"rollout","weights":"on=100,off=0"}'
expect_eq 200 "$(cat "$work/code")" "an admin in production: $(cat "$work/body")"
for body in '{"env":"staging","action":"rollout","percent":101}' '{"env":"staging","action":"rollout"}' \
  '{"env":"staging","action":"jump"}' '{"env":"staging","action":"set","rules":"x y"}' '{"env":"nowhere","action":"enable"}' 'nope'; do
  api "$pa" "$deployer" POST /api/v2/flags/new-importer "$body"
  case "$(cat "$work/code")" in 400 | 404) ;; *) fail "bad body $body: $(cat "$work/code") $(cat "$work/body")" ;; esac
done
api "$pa" "$deployer" POST /api/v2/flags/nosuch '{"env":"staging","action":"enable"}'
expect_eq 404 "$(cat "$work/code")" "an unknown flag"
# the production SDK's token evaluates production's flags on a server started for staging
curl -s -X POST -H "Authorization: Bearer $prodsdk" -H 'Content-Type: application/json' -d '{"context":{"targetingKey":"u1"}}' \
  "http://127.0.0.1:$pa/ofrep/v1/evaluate/flags/new-importer" >"$work/body"
jq -e '.value == true and .metadata.environment == "production"' "$work/body" >/dev/null || fail "a scoped OFREP token: $(cat "$work/body")"
api "$pa" "$scoped" GET /api/v2/flags
jq -e '[.flags[].environments[].env] | unique == ["staging"]' "$work/body" >/dev/null || fail "a scoped list: $(cat "$work/body")"
api "$pa" "$viewer" GET /api/v2/flags
jq -e '.flags | length == 2 and (.[0].environments | length) == 3' "$work/body" >/dev/null || fail "the list: $(cat "$work/body")"

# every change is in the ledger with its actor, before and after; the chain holds
"$OTAP" --json ledger show >"$work/ledger"
jq -e '[.entries[] | select(.action == "flag.changed" and .actor == "deployer (api)")] | length >= 3' "$work/ledger" >/dev/null ||
  fail "API changes in the ledger: $(jq -c '[.entries[] | select(.action == "flag.changed") | .actor]' "$work/ledger")"
jq -e '[.entries[] | select(.action == "flag.changed" and .actor == "admin (api)" and .env == "production")][0].details | .before.enabled == false and .after.weights == [["on",100],["off",0]]' \
  "$work/ledger" >/dev/null || fail "the admin's change: before and after"
run "$OTAP" ledger verify
expect_eq 0 "$rc" "the ledger holds"

# a server that loses the store's connection hears again once it is back
pg_stop
sleep 1
pg_start_again
for _ in $(seq 1 30); do psql -d state -Atc 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.2; done
sleep 1.5
"$OTAP" flags disable new-importer --env staging >/dev/null
ms=$(seen "$pb" "$viewer" new-importer false)
[ "$ms" != never ] || fail "after a lost connection server B no longer hears changes"
echo "after the store came back, server B saw a change after ${ms} ms"

# ---- lint: flag reads in source code --------------------------------------------------------------
mkdir -p src vendored/node_modules/x
cat >src/app.ts <<'EOF'
const importer = await client.getBooleanValue('new-importer', false);
const theme = client.getStringDetails("checkout-theme", "classic");
EOF
cat >src/jobs.py <<'EOF'
if client.get_boolean_value("old-flag", False, ctx):
    pass
EOF
echo 'client.getBooleanValue("ignored-in-node-modules", false)' >vendored/node_modules/x/i.js
run "$OTAP" --json flags lint
expect_eq 1 "$rc" "lint: reads of undefined flags, a flag nothing reads"
jq -e '[.problems[].message] | map(select(test("reads flag"))) | length == 2' "$work/out" >/dev/null || fail "$(cat "$work/out")"
jq -e '.problems[] | select(.file == "src/app.ts" and .line == 2 and (.message | test("checkout-theme")))' "$work/out" >/dev/null || fail "file and line: $(cat "$work/out")"
jq -e '.problems[] | select(.file == "src/jobs.py" and .line == 1)' "$work/out" >/dev/null || fail "python: $(cat "$work/out")"
jq -e '.problems[] | select(.flag == "beta-banner" and (.message | test("no code reads it")))' "$work/out" >/dev/null || fail "unread: $(cat "$work/out")"
jq -e '[.problems[] | select(.flag == "new-importer")] | length == 0' "$work/out" >/dev/null || fail "new-importer is read: $(cat "$work/out")"
grep -q "ignored-in-node-modules" "$work/out" && fail "node_modules was searched"
run "$OTAP" flags lint --pattern 'flag\('
expect_eq 2 "$rc" "a pattern without a group"
run "$OTAP" flags lint --pattern 'isOn\("([a-z-]+)"\)' src
expect_eq 1 "$rc" "a project's own pattern"
grep -q "beta-banner' is defined but no code reads it" "$work/out" || fail "$(cat "$work/out")"
grep -q "reads flag" "$work/out" && fail "the default pattern was used: $(cat "$work/out")"
# fully on in production for too long: a flag with max_fully_on 1d, fully on since a change 3 days ago
sed -i 's/^    kind: operational$/    kind: operational\n    max_fully_on: 1d/' otap.yaml
psql -d state -c "UPDATE otap_flag_states SET updated_at = to_char(now() - interval '3 days', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') WHERE flag = 'new-importer' AND env = 'production'"
run "$OTAP" flags lint
expect_eq 1 "$rc" "fully on in production too long"
grep -q "flag 'new-importer' has been fully on in production since .* (over 1 days): remove it from the code" "$work/out" || fail "$(cat "$work/out")"
echo ok
