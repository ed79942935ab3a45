#!/usr/bin/env bash
# otap probe and otap wait against real HTTP servers: the example service
# with a real PostgreSQL (every check passes; readiness fails once the
# database is stopped; the wrong environment), and a fixture server for
# the answers a healthy service never gives (stale timestamp, malformed
# JSON, a slow reply cut off by the timeout, connection refused). Then
# hundreds of endpoints at once, and otap wait before and after the
# service comes up.
set -euo pipefail
. "$SRC/tests/harness/lib.sh"
. "$SRC/tests/harness/pg.sh"

work=$(mktemp -d)
pids=()
cleanup() {
  cd /
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  pg_destroy
  rm -rf "$work"
}
trap cleanup EXIT
pg_start
app_port=$(free_port 22000 22499)
fix_port=$(free_port 22500 22999)
dead_port=$(free_port 23000 23499)

cd "$work"
cat >otap.yaml <<EOF
project: probes
environments:
  - { name: development, marker: dev }
  - { name: test, marker: dev }
  - { name: staging, marker: dev }
  - { name: production, marker: prod, protected: true }
services:
  backend:
    port: $app_port
    health: { liveness: /health, health: /api/v2/health, readiness: /api/v2/ready }
  fixture:
    port: $fix_port
    health: { liveness: /live, health: /health, readiness: /ready }
    urls: { staging: "http://127.0.0.1:$fix_port" }
  gone:
    port: $dead_port
    health: { liveness: /health }
  db: { port: $PG_PORT }
EOF
run() { set +e; "$OTAP" "$@" >"$work/out" 2>"$work/err"; rc=$?; set -e; }
reason() { jq -r --arg s "$1" --arg c "$2" '.probes[] | select(.service == $s and .check == $c) | .reason // "ok"' "$work/out"; }

# ---- wait: not yet live, then live as soon as the service is up ----------
run wait --env development --timeout 1s backend
expect_eq 1 "$rc" "wait before the service exists"
grep -q "connection refused" "$work/out" || fail "wait: $(cat "$work/out")"
grep -q "not live after" "$work/out" || fail "wait: $(cat "$work/out")"

(sleep 1; exec env ENVIRONMENT=development PORT=$app_port DATABASE_URL="$PG_URL" "$EXAMPLE_APP") 2>"$work/app.log" &
pids+=($!)
run wait --env development --ready --timeout 30s backend
expect_eq 0 "$rc" "wait --ready: $(cat "$work/out"); the service said: $(cat "$work/app.log")"
grep -q "development: every service is ready" "$work/out" || fail "$(cat "$work/out")"

# ---- the example service: every check passes -----------------------------
run --json probe --env development backend
expect_eq 0 "$rc" "probe a healthy service: $(cat "$work/out")"
expect_eq 3 "$(jq '[.probes[] | select(.ok)] | length' "$work/out")" "three checks passed"
jq -e '.probes[] | select(.latency_ms <= 0)' "$work/out" >/dev/null && fail "latency not measured"

# the wrong environment: the service says development, we asked about test
run --json probe --env test backend
expect_eq 1 "$rc" "probe with the wrong environment"
expect_eq "environment is 'development', want 'test'" "$(reason backend health)" "wrong environment"
expect_eq ok "$(reason backend liveness)" "liveness still passes"

# the database goes down: readiness says so, with the service's own reason
pg_stop
run --json probe --env development --retries 0 backend
expect_eq 1 "$rc" "probe with the database down"
reason backend readiness | grep -q "^status 503, want 200 (database: error: " || fail "readiness: $(reason backend readiness)"
expect_eq ok "$(reason backend health)" "health passes without the database"
pg_start_again
run wait --env development --ready --timeout 30s backend
expect_eq 0 "$rc" "ready again once the database is back"

# ---- the fixture: answers a healthy service never gives --------------------
fx=$work/fx
mkdir -p "$fx"
echo ok >"$fx/live.body"
echo '{"status":"healthy","environment":"development","timestamp":"@AGO:3600@"}' >"$fx/health.body"
echo '{"status":"ready","database": ' >"$fx/ready.body"
"$HTTP_FIXTURE" "$fx" "$fix_port" &
pids+=($!)
wait_http "http://127.0.0.1:$fix_port/live" 200 20
run --json probe --env development --retries 0 fixture
expect_eq 1 "$rc" "fixture probe"
reason fixture health | grep -q "is 3600 s old (at most 120 s)" || fail "stale: $(reason fixture health)"
reason fixture readiness | grep -q "^body is not JSON" || fail "malformed: $(reason fixture readiness)"

# a slow reply is cut off by the timeout
echo 3000 >"$fx/live.delay"
run --json probe --env development --retries 0 --timeout 1s fixture
reason fixture liveness | grep -q "timed out after 1000 ms" || fail "timeout: $(reason fixture liveness)"
rm "$fx/live.delay"

# retries: a failure that heals within the retries passes
echo '{"status":"healthy","environment":"development","timestamp":"@NOW@"}' >"$fx/health.body"
echo '{"status":"ready","database":"connected"}' >"$fx/ready.body"
echo 503 >"$fx/live.status"
( sleep 0.5; rm -f "$fx/live.status" ) &
run --json probe --env development --retries 5 fixture
expect_eq 0 "$rc" "a failure healed by a retry: $(cat "$work/out")"
[ "$(jq '.probes[] | select(.check == "liveness") | .attempts' "$work/out")" -gt 1 ] || fail "no retry happened"

# connection refused, and an environment whose services have no URL
run --json probe --env development --retries 0 gone
expect_eq "connection refused" "$(reason gone liveness)" "refused"
run --json probe --env production fixture
expect_eq 1 "$rc" "no URL for production"
reason fixture liveness | grep -q "no URL for production" || fail "$(reason fixture liveness)"
# staging has one: the fixture answers about development, so health names it
run --json probe --env staging --retries 0 fixture
expect_eq "environment is 'development', want 'staging'" "$(reason fixture health)" "staging URL used"

# ---- many endpoints at once, one process ----------------------------------
urls=()
for i in $(seq 1 300); do urls+=("http://127.0.0.1:$fix_port/live?n=$i"); done
run --json probe "${urls[@]}"
expect_eq 0 "$rc" "300 URLs: $(jq -c '[.probes[] | select(.ok | not)][0]' "$work/out")"
expect_eq 300 "$(jq '[.probes[] | select(.ok)] | length' "$work/out")" "300 passed"

# usage
run probe backend
expect_eq 2 "$rc" "probe without --env"
run probe --env development nosuch
expect_eq 2 "$rc" "unknown service"
grep -q "no service 'nosuch'" "$work/err" || fail "$(cat "$work/err")"
run probe --env development db
expect_eq 2 "$rc" "a service without health endpoints"
echo "t0400: ok"
