# The promotion suite, run once per state-store backend (sourced by
# t0600 with the embedded SQLite store and t0610 with PostgreSQL as
# OTAP_STATE_URL): the same build through O -> T -> A -> P with the local
# driver and the example service against a real PostgreSQL, every refusal
# the issue names, an automatic rollback, two promotions racing for one
# environment, kill -9 in the middle of a promotion, and each kind of
# ledger tampering done with the backend's own SQL client.
#
# The caller sets STORE (sqlite or pg) and PORT_LO (a block of 1000 ports
# below 32768), then sources this file.
set -euo pipefail
. "$SRC/tests/harness/lib.sh"
. "$SRC/tests/harness/pg.sh"

work=$(mktemp -d)
bg=()
cleanup() {
  cd /
  for p in "${bg[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  # the local driver's supervisors lead their own process groups
  for f in "$work"/.otap/run/*.pid; do
    [ -f "$f" ] && kill -9 -- "-$(cut -d' ' -f1 "$f")" 2>/dev/null || true
  done
  pg_destroy
  rm -rf "$work"
}
trap cleanup EXIT

pg_start
psql() { command psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U otap "$@"; }
psql -d otap -c "CREATE DATABASE app_dev" -c "CREATE DATABASE app_prod" -c "CREATE DATABASE state"
if [ "$STORE" = pg ]; then
  export OTAP_STATE_URL="postgresql://otap@127.0.0.1:$PG_PORT/state"
  sql() { psql -d state -At -c "$1"; }
else
  unset OTAP_STATE_URL
  sql() { sqlite3 "$work/.otap/state.db" "$1"; }
fi

p0=$(free_port "$PORT_LO" $((PORT_LO + 249)))
p1=$(free_port $((PORT_LO + 250)) $((PORT_LO + 499)))
p2=$(free_port $((PORT_LO + 500)) $((PORT_LO + 749)))
p3=$(free_port $((PORT_LO + 750)) $((PORT_LO + 999)))

cd "$work"
cat >otap.yaml <<EOF
project: promo
environments:
  - { name: development, marker: dev, deploy: { driver: local, service: backend } }
  - { name: test, marker: dev, requires: [ci], deploy: { driver: local } }
  - { name: staging, marker: dev, requires: [ci], deploy: { driver: local } }
  - { name: production, marker: prod, protected: true, requires: [ci, signoff], deploy: { driver: local } }
gates:
  - { name: ci, run: "make check" }
services:
  backend:
    port: $p0
    run: "./app"
    health: { liveness: /health, health: /api/v2/health, readiness: /api/v2/ready }
    urls:
      development: http://127.0.0.1:$p0
      test: http://127.0.0.1:$p1
      staging: http://127.0.0.1:$p2
      production: http://127.0.0.1:$p3
config:
  ENVIRONMENT: { type: enum, values: [development, test, staging, production], required: true }
  DATABASE_URL: { type: url, schemes: [postgresql], required: true }
database: { url: DATABASE_URL, migrations: db/migrations }
slo: { p95_ms: 1000, error_rate: 0.01 }
flags:
  new-checkout: { owner: web, expires: 2999-12-31, kind: operational, enable_on_promote: [development] }
EOF
mkdir -p db/migrations builds
cat >db/migrations/20260101000000_items.sql <<'EOF'
-- migrate:up
CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL);
-- migrate:down
DROP TABLE items;
EOF
dev_url="postgresql://otap@127.0.0.1:$PG_PORT/app_dev"
prod_url="postgresql://otap@127.0.0.1:$PG_PORT/app_prod"
for e in development test staging; do echo "DATABASE_URL=$dev_url" >".env.$e"; done
printf 'DATABASE_URL=%s\nENVIRONMENT=production\n' "$prod_url" >.env.production
# production's database is marked before anything may touch it
CONFIRM_PROD_MIGRATE=YES "$OTAP" db marker init --env production >/dev/null

# builds: the example service itself, and wrappers around it with their own digests
cp "$EXAMPLE_APP" builds/app-1.0.0
printf '#!/bin/sh\n# 1.1.0\nexec %s "$@"\n' "$EXAMPLE_APP" >builds/app-1.1.0
printf '#!/bin/sh\n# slow to start\nsleep 3\nexec %s "$@"\n' "$EXAMPLE_APP" >builds/app-slow
printf '#!/bin/sh\n# broken: its database is gone\nDATABASE_URL=postgresql://otap@127.0.0.1:1/none exec %s "$@"\n' \
  "$EXAMPLE_APP" >builds/app-broken
chmod +x builds/*

export OTAP_ACTOR="ci-bot"
rc() { set +e; "$@" >"$work/out" 2>"$work/err"; echo $? >"$work/rc"; set -e; cat "$work/rc"; }
json() { "$OTAP" --json "$@" 2>/dev/null || true; }
live() { json status --no-probe | jq -r --arg e "$1" '.environments[] | select(.name == $e) | .live.version // "none"'; }
ledger_len() { json ledger show | jq '.entries | length'; }

# ---- builds ---------------------------------------------------------------
"$OTAP" artifact register builds/app-1.0.0 --version 1.0.0 --commit abcdef1 >/dev/null
n=$(ledger_len)
out=$("$OTAP" artifact register builds/app-1.0.0 --version 1.0.0)
echo "$out" | grep -q "already registered" || fail "a second register was not a no-op: $out"
expect_eq "$n" "$(ledger_len)" "ledger entries after registering the same build again"
expect_eq 4 "$(rc "$OTAP" artifact register builds/app-1.0.0 --version 1.0.1)" "one build, two versions"
expect_eq 4 "$(rc "$OTAP" artifact register builds/app-1.1.0 --version 1.0.0)" "one version, two builds"
expect_eq 2 "$(rc "$OTAP" artifact register builds/app-1.1.0 --version 1.1)" "a version that is not SemVer"
expect_eq "sha256:$(sha256sum builds/app-1.0.0 | cut -d' ' -f1)" \
  "$(json artifact list | jq -r '.artifacts[] | select(.version == "1.0.0") | .digest')" "a file's digest is its sha256sum"
"$OTAP" artifact register builds/app-1.1.0 --version 1.1.0 >/dev/null
"$OTAP" artifact register builds/app-slow --version 1.2.0-slow >/dev/null
"$OTAP" artifact register builds/app-broken --version 2.0.0 >/dev/null
"$OTAP" artifact register --digest "sha256:$(printf '%064d' 7)" --version 0.0.7 >/dev/null

# ---- skipping a stage is refused, with every unmet condition -------------
expect_eq 4 "$(rc "$OTAP" --json promote 1.0.0 --to test)" "promoting to test before development"
jq -e '.refusals | length == 2' "$work/out" >/dev/null || fail "want two refusals: $(cat "$work/out")"
jq -e '.refusals[0] | test("not live in development")' "$work/out" >/dev/null || fail "stage: $(cat "$work/out")"
jq -e '.refusals[1] | test("gate .ci. has no result")' "$work/out" >/dev/null || fail "gate: $(cat "$work/out")"
expect_eq 4 "$(rc "$OTAP" promote 0.0.7 --to development)" "a build registered by digest on the local driver"
grep -q "registered by its digest alone" "$work/err" || fail "local driver without files: $(cat "$work/err")"

# ---- development: any registered build enters ----------------------------
expect_eq 0 "$(rc "$OTAP" promote 1.0.0 --to development)" "promote to development"
expect_eq 1.0.0 "$(live development)" "live in development"
# enable_on_promote: the flag is on once the build is live, and the ledger says why
grep -q "development: flag new-checkout turned on (enable_on_promote)" "$work/out" "$work/err" ||
  fail "enable_on_promote was not reported: $(cat "$work/out" "$work/err")"
json flags eval new-checkout --env development | jq -e '.value == true and .reason == "STATIC"' >/dev/null ||
  fail "enable_on_promote: the flag is not on after the promotion"
json ledger show --env development | jq -e '[.entries[] | select(.action == "flag.changed" and .details.cause == "enable_on_promote" and .details.before.enabled == false and .details.after.enabled == true)] | length == 1' >/dev/null ||
  fail "enable_on_promote is not in the ledger"
curl -sf "http://127.0.0.1:$p0/api/v2/health" | jq -e '.environment == "development"' >/dev/null \
  || fail "the service does not run in development"
psql -d app_dev -Atc "SELECT count(*) FROM otap_schema_migrations" | grep -qx 1 || fail "the migration did not run"
for s in migrate deploy ready smoke; do
  json ledger show --env development | jq -e --arg s "$s" '[.entries[] | select(.action == "deploy.step" and .details.step == $s and .details.ok)] | length == 1' >/dev/null \
    || fail "step $s is not in the ledger"
done
expect_eq 0 "$(rc "$OTAP" promote 1.0.0 --to development)" "promoting the live build again"
grep -q "live in development already" "$work/out" || fail "not a no-op: $(cat "$work/out")"

# ---- a gate passed by another build does not count -----------------------
"$OTAP" gate record ci --artifact 1.1.0 --result pass --url https://ci.example/run/1 >/dev/null
expect_eq 4 "$(rc "$OTAP" promote 1.0.0 --to test)" "a pass for another build"
grep -q "the pass recorded for 1.1.0 .* is another build's and does not count" "$work/err" \
  || fail "the other build's pass was not named: $(cat "$work/err")"
"$OTAP" gate record ci --artifact 1.0.0 --result fail >/dev/null
expect_eq 4 "$(rc "$OTAP" promote 1.0.0 --to test)" "a failed gate"
grep -q "gate 'ci' failed for 1.0.0" "$work/err" || fail "failed gate: $(cat "$work/err")"
"$OTAP" gate record ci --artifact 1.0.0 --result pass >/dev/null
expect_eq 0 "$(rc "$OTAP" promote 1.0.0 --to test)" "promote to test"
# explain gives the same judgement live, changing nothing
expect_eq 0 "$(rc "$OTAP" explain --env staging --artifact 1.0.0)" "explain: safe to promote"
grep -q "safe to promote 1.0.0 .* to staging" "$work/out" || fail "explain: $(cat "$work/out")"
expect_eq 1 "$(rc "$OTAP" --json explain --env production --artifact 1.0.0)" "explain: not safe"
jq -e '.promotion.safe == false and (.promotion.unmet | length) >= 2' "$work/out" >/dev/null || fail "explain --json: $(cat "$work/out")"
expect_eq 0 "$(rc "$OTAP" promote 1.0.0 --to staging)" "promote to staging"

# ---- production: sign-off and the hard lock ------------------------------
expect_eq 4 "$(rc "$OTAP" --json promote 1.0.0 --to production)" "production without sign-off and confirmation"
jq -e '[.refusals[] | select(test("no sign-off in staging"))] | length == 1' "$work/out" >/dev/null \
  || fail "missing sign-off not listed: $(cat "$work/out")"
jq -e '[.refusals[] | select(test("CONFIRM_PROD_MIGRATE"))] | length == 1' "$work/out" >/dev/null \
  || fail "hard lock not listed: $(cat "$work/out")"
expect_eq 4 "$(rc "$OTAP" signoff --env production --artifact 1.0.0 --by qa)" "sign-off where the build is not live"
"$OTAP" signoff --env staging --artifact 1.0.0 --by "QA Lead" --note "checked" >/dev/null
expect_eq 4 "$(rc "$OTAP" promote 1.0.0 --to production)" "production without confirmation"
grep -q "no sign-off" "$work/err" && fail "the sign-off was not counted: $(cat "$work/err")"
expect_eq 0 "$(CONFIRM_PROD_MIGRATE=YES rc "$OTAP" promote 1.0.0 --to production)" "promote to production"
expect_eq 1.0.0 "$(live production)" "live in production"
curl -sf "http://127.0.0.1:$p3/api/v2/ready" >/dev/null || fail "production is not ready"

# ---- a readiness failure after deploy rolls back by itself ----------------
"$OTAP" gate record ci --artifact 2.0.0 --result pass >/dev/null
expect_eq 1 "$(rc "$OTAP" --json promote 2.0.0 --to development --ready-timeout 3s)" "a broken build"
jq -e '.failure.step == "ready" and .failure.rolled_back and .failure.rollback_ok' "$work/out" >/dev/null \
  || fail "no automatic rollback: $(cat "$work/out")"
expect_eq 1.0.0 "$(live development)" "live after the rollback"
curl -sf "http://127.0.0.1:$p0/api/v2/ready" >/dev/null || fail "1.0.0 does not serve again after the rollback"
json history --env development | jq -e '.deployments[0].state == "rolled_back" and .deployments[0].version == "2.0.0"' >/dev/null \
  || fail "history does not show the rolled-back deployment"
json ledger show --env development | jq -e '[.entries[] | select(.action == "promote.failed")] | length == 1' >/dev/null || fail "failure not in the ledger"
json ledger show --env development | jq -e '[.entries[] | select(.action == "rollback.auto" and .details.ok)] | length == 1' >/dev/null || fail "rollback not in the ledger"

# ---- two promotions to one environment never overlap ----------------------
"$OTAP" promote 1.2.0-slow --to development >"$work/a.out" 2>&1 &
a=$!; bg+=("$a")
for i in $(seq 1 100); do
  json status --no-probe | jq -e '.environments[0].promoting' >/dev/null && break
  sleep 0.1
done
expect_eq 4 "$(rc "$OTAP" promote 1.1.0 --to development)" "a second promotion while one runs"
grep -q "development is being deployed by ci-bot" "$work/err" || fail "the holder was not named: $(cat "$work/err")"
expect_eq 0 "$(rc "$OTAP" promote 1.1.0 --to development --wait 60s)" "a second promotion that waits its turn"
wait "$a" || fail "the first promotion failed: $(cat "$work/a.out")"
expect_eq 1.1.0 "$(live development)" "the waiting promotion ran after the first"
# in the ledger, the second promotion starts only after the first ended
json ledger show --env development | jq -e '
  [.entries[] | select(.action | test("^promote\\.(start|live|failed)$"))] | .[-4:] | map(.action) ==
  ["promote.start", "promote.live", "promote.start", "promote.live"]' >/dev/null \
  || fail "the promotions overlapped: $(json ledger show --env development | jq -c '[.entries[] | .action]')"

# ---- kill -9 in the middle of a promotion ---------------------------------
"$OTAP" promote 1.2.0-slow --to development >/dev/null 2>&1 &
k=$!; bg+=("$k")
for i in $(seq 1 100); do
  json history --env development | jq -e '.deployments[0].state == "running"' >/dev/null && break
  sleep 0.1
done
sleep 0.5
kill -9 "$k"; wait "$k" 2>/dev/null || true
"$OTAP" status --no-probe >/dev/null 2>"$work/err"
grep -q "stopped midway" "$work/err" || fail "the interrupted promotion was not reported: $(cat "$work/err")"
json history --env development | jq -e '.deployments[0].state == "interrupted"' >/dev/null || fail "not marked interrupted"
json ledger show --env development | jq -e '[.entries[] | select(.action == "deploy.interrupted")] | length == 1' >/dev/null \
  || fail "the interruption is not in the ledger"
"$OTAP" ledger verify >/dev/null || fail "the ledger does not verify after kill -9"
expect_eq 1.1.0 "$(live development)" "development after the interrupted promotion"
expect_eq 0 "$(rc "$OTAP" promote 1.0.0 --to development)" "the next promotion after the interruption"

# ---- rollback ---------------------------------------------------------------
expect_eq 0 "$(rc "$OTAP" rollback --env development)" "rollback of development"
expect_eq 1.1.0 "$(live development)" "rollback goes to the live build before"
# the rollback puts the promotion's flag back as it was (the manifest's: off)
json flags eval new-checkout --env development | jq -e '.value == false and .reason == "DISABLED"' >/dev/null ||
  fail "the rollback left the promotion's flag on"
json flags show new-checkout | jq -e '.flags[0].environments[] | select(.env == "development") | .source == "manifest"' >/dev/null ||
  fail "the rollback did not give the flag back to the manifest"
json ledger show --env development | jq -e '[.entries[] | select(.action == "flag.changed" and .details.cause == "rollback" and .details.after.enabled == false)] | length == 1' >/dev/null ||
  fail "the rollback's flag change is not in the ledger"
expect_eq 0 "$(rc "$OTAP" rollback --env development --to 1.0.0)" "rollback to a named version"
expect_eq 1.0.0 "$(live development)" "rollback --to"
expect_eq 4 "$(rc "$OTAP" rollback --env development --to 2.0.0)" "rollback to a build that was never live"
grep -q "never live in development" "$work/err" || fail "rollback refusal: $(cat "$work/err")"

# ---- the API in otap serve: reads, writes, and the role matrix on every write -------
sport=$(free_port $((PORT_LO + 900)) $((PORT_LO + 999)))
tok() { "$OTAP" serve token add "$1" --role "$2" 2>/dev/null; }
viewer=$(tok dash viewer); deployer=$(tok deploy-bot deployer); admin=$(tok release-mgr admin)
"$OTAP" serve --listen "127.0.0.1:$sport" --env development 2>>"$work/serve.log" &
srv=$!; bg+=("$srv")
wait_http "http://127.0.0.1:$sport/api/v2/ready" 200 20
api() { # METHOD PATH TOKEN [BODY] -> status; body in $work/body
  local auth=()
  [ -n "$3" ] && auth=(-H "Authorization: Bearer $3")
  curl -s -o "$work/body" -w '%{http_code}' -X "$1" "${auth[@]}" ${4:+--data-binary "$4"} \
    "http://127.0.0.1:$sport$2" || true
}
curl -s "http://127.0.0.1:$sport/api/v2/ready" | jq -e '.checks.state_store == "ok"' >/dev/null || fail "ready does not check the store"
expect_eq 200 "$(api GET /api/v2/environments "$viewer")" "environments"
jq -e '.environments[] | select(.name == "production") | .live.version == "1.0.0"' "$work/body" >/dev/null \
  || fail "environments do not say what is live: $(cat "$work/body")"
for p in builds gates signoffs deployments ledger; do
  expect_eq 200 "$(api GET "/api/v2/$p" "$viewer")" "GET /api/v2/$p"
  expect_eq 401 "$(api GET "/api/v2/$p" "")" "GET /api/v2/$p without a token"
done
expect_eq 200 "$(api GET '/api/v2/ledger?after=2&limit=3' "$viewer")" "a ledger page"
jq -e '[.entries[].seq] == [3, 4, 5] and .next_after == 5' "$work/body" >/dev/null || fail "ledger paging: $(cat "$work/body")"
expect_eq 400 "$(api GET '/api/v2/ledger?limit=x' "$viewer")" "a malformed page"
# the role matrix: none, viewer, deployer, admin; a non-protected environment, then production
matrix() { # METHOD PATH BODY WANT-NONE WANT-VIEWER WANT-DEPLOYER WANT-ADMIN
  local m=$1 p=$2 b=$3 i=0 t; shift 3
  for t in "" "$viewer" "$deployer" "$admin"; do
    local have; have=$(api "$m" "$p" "$t" "$b")
    [ "$have" = "$1" ] || fail "$m $p $b as caller $i: want $1, have $have: $(cat "$work/body")"
    shift; i=$((i + 1))
  done
}
matrix POST /api/v2/gates '{"gate":"ci","artifact":"1.1.0","result":"pass"}' 401 403 201 201
jq -e '.by == "release-mgr"' "$work/body" >/dev/null || fail "the token's name is not the actor"
json ledger show | jq -e '.entries[-1] | .action == "gate.record" and .actor == "release-mgr"' >/dev/null \
  || fail "the API's gate is not in the ledger with its actor"
matrix POST /api/v2/signoffs '{"env":"staging","artifact":"1.0.0","by":"QA"}' 401 403 201 201
matrix POST /api/v2/signoffs '{"env":"staging","artifact":"1.1.0","by":"QA"}' 401 403 409 409
matrix POST /api/v2/promotions '{"artifact":"1.1.0","env":"development","ready_timeout_s":20}' 401 403 200 200
jq -e '.ok and .already_live' "$work/body" >/dev/null || fail "the admin's second promotion: $(cat "$work/body")"
expect_eq 1.1.0 "$(live development)" "promoted through the API"
json ledger show --env development | jq -e '[.entries[] | select(.action == "promote.live")] | .[-1].actor == "deploy-bot"' >/dev/null \
  || fail "the API's promotion is not in the ledger with its actor"
matrix POST /api/v2/rollbacks '{"env":"development"}' 401 403 200 200
expect_eq 1.1.0 "$(live development)" "the deployer's rollback, then the admin's back again"
matrix POST /api/v2/promotions '{"artifact":"1.1.0","env":"production"}' 401 403 403 409
jq -e '.error.code == "refused" and (.refusals | length) >= 2' "$work/body" >/dev/null || fail "production refusal over the API: $(cat "$work/body")"
matrix POST /api/v2/rollbacks '{"env":"production"}' 401 403 403 409
expect_eq 400 "$(api POST /api/v2/promotions "$deployer" '{"env":"test"}')" "a promotion without a build"
expect_eq 404 "$(api POST /api/v2/promotions "$deployer" '{"artifact":"9.9.9","env":"test"}')" "an unknown build"
curl -s -H "Authorization: Bearer $viewer" "http://127.0.0.1:$sport/metrics" >"$work/metrics"
grep -q '^otap_ledger_verified 1$' "$work/metrics" || fail "otap_ledger_verified: $(grep ledger "$work/metrics")"
grep -q "^otap_ledger_entries $(sql 'SELECT max(seq) FROM otap_ledger')$" "$work/metrics" || fail "otap_ledger_entries"
grep -q '^otap_promotions{environment="development",kind="promote",result="rolled_back"} 1$' "$work/metrics" \
  || fail "otap_promotions: $(grep promotions "$work/metrics")"
grep -q '^otap_last_deploy_timestamp_seconds{environment="production"} ' "$work/metrics" || fail "last deploy time"
kill "$srv"; wait "$srv" 2>/dev/null || true
grep -q '"chain":"verified"' "$work/serve.log" || fail "serve did not verify the ledger at start-up"

# ---- the ledger: verify, export, and each kind of tampering ---------------
"$OTAP" ledger verify | grep -q "chain intact" || fail "ledger verify"
"$OTAP" ledger export >ledger.jsonl
"$OTAP" ledger verify --file ledger.jsonl >/dev/null || fail "the export does not verify on its own"
sed '3s/"actor":"ci-bot"/"actor":"mallory"/' ledger.jsonl >tampered.jsonl
expect_eq 1 "$(rc "$OTAP" ledger verify --file tampered.jsonl)" "an edited export"
grep -q "entry 3 was altered" "$work/out" || fail "edited export: $(cat "$work/out")"

tamper() { # WHAT WANT-SEQ WANT-KIND SQL...
  local what=$1 seq=$2 kind=$3; shift 3
  for q in "$@"; do sql "$q" >/dev/null; done
  expect_eq 1 "$(rc "$OTAP" --json ledger verify)" "verify after $what"
  jq -e --argjson s "$seq" --arg k "$kind" '.problem.seq == $s and .problem.kind == $k' "$work/out" >/dev/null \
    || fail "$what: want entry $seq $kind, have $(cat "$work/out")"
}
sql "CREATE TABLE ledger_backup AS SELECT * FROM otap_ledger"
restore() { sql "DELETE FROM otap_ledger"; sql "INSERT INTO otap_ledger SELECT * FROM ledger_backup"; "$OTAP" ledger verify >/dev/null || fail "restored ledger"; }
tamper "an edit" 5 altered "UPDATE otap_ledger SET details = '{\"version\":\"6.6.6\"}' WHERE seq = 5"
restore
tamper "a delete" 7 removed "DELETE FROM otap_ledger WHERE seq = 7"
restore
last=$(sql "SELECT max(seq) FROM otap_ledger")
tamper "deleting the last entry" "$last" removed "DELETE FROM otap_ledger WHERE seq = $last"
restore
tamper "an insert" 4 inserted \
  "UPDATE otap_ledger SET seq = -seq WHERE seq >= 4" "UPDATE otap_ledger SET seq = 1 - seq WHERE seq < 0" \
  "INSERT INTO otap_ledger SELECT 4, at, 'mallory', 'signoff', 'production', subject, details, hash, hash FROM otap_ledger WHERE seq = 3"
restore
tamper "a reorder" 3 reordered \
  "UPDATE otap_ledger SET seq = -3 WHERE seq = 3" "UPDATE otap_ledger SET seq = 3 WHERE seq = 4" "UPDATE otap_ledger SET seq = 4 WHERE seq = -3"
restore
echo "ok: promotion suite on the $STORE store"
