#!/usr/bin/env bash
# The example service against a real PostgreSQL: live, healthy with its
# environment and a fresh timestamp, ready while the database answers,
# 503 with the reason once it is stopped, ready again when it is back.
# Then otap ports sees who holds its port and frees it.
set -euo pipefail
. "$SRC/tests/harness/lib.sh"
. "$SRC/tests/harness/pg.sh"

work=$(mktemp -d)
app_pid=
cleanup() {
  [ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null || true
  pg_destroy
  rm -rf "$work"
}
trap cleanup EXIT

pg_start
port=$(free_port 20000 20999)
base="http://127.0.0.1:$port"

# refuses to start half-configured
set +e
ENVIRONMENT=qa PORT=$port "$EXAMPLE_APP" 2>"$work/err"; rc=$?
set -e
expect_eq 3 "$rc" "example-app without a valid ENVIRONMENT exits"
grep -q "ENVIRONMENT must be one of" "$work/err" || fail "no reason given: $(cat "$work/err")"

ENVIRONMENT=test PORT=$port DATABASE_URL="$PG_URL" "$EXAMPLE_APP" 2>"$work/app.log" &
app_pid=$!
wait_http "$base/health" 200 20

body=$(curl -sf "$base/api/v2/health")
expect_eq test "$(jq -r .environment <<<"$body")" "health environment"
expect_eq healthy "$(jq -r .status <<<"$body")" "health status"
ts=$(jq -r .timestamp <<<"$body")
age=$(( $(date -u +%s) - $(date -u -d "$ts" +%s) ))
[ "$age" -ge -5 ] && [ "$age" -le 30 ] || fail "timestamp '$ts' is not recent"

code=$(curl -s -o "$work/ready" -w '%{http_code}' "$base/api/v2/ready")
expect_eq 200 "$code" "ready with the database up"
expect_eq connected "$(jq -r .database "$work/ready")" "ready database"

pg_stop
code=$(curl -s -o "$work/ready" -w '%{http_code}' "$base/api/v2/ready")
expect_eq 503 "$code" "ready with the database stopped"
expect_eq degraded "$(jq -r .status "$work/ready")" "ready status"
jq -r .database "$work/ready" | grep -q '^error: ' || fail "no reason: $(cat "$work/ready")"

pg_start_again
wait_http "$base/api/v2/ready" 200 20

# otap ports: the registry around the service's port
cat >"$work/otap.yaml" <<YAML
project: t0100
environments: [{ name: development }]
services:
  backend: { port: $port }
ports:
  range: 20000-20999
  blocks: { core: 20000-20999 }
YAML
out=$("$OTAP" -C "$work" --json ports check)
expect_eq "$app_pid" "$(jq -r '.ports[0].holders[0].pid' <<<"$out")" "ports check holder pid"
jq -r '.ports[0].holders[0].command' <<<"$out" | grep -q example-app || fail "holder command: $out"

set +e
"$OTAP" -C "$work" ports check --require-free >/dev/null; rc=$?
"$OTAP" -C "$work" ports free 8080 >/dev/null 2>&1; rc_out=$?
set -e
expect_eq 1 "$rc" "ports check --require-free with the port held"
expect_eq 4 "$rc_out" "ports free outside the registry"
kill -0 "$app_pid" || fail "a refused 'ports free' stopped the service"

out=$("$OTAP" -C "$work" --json ports free --dry-run "$port")
expect_eq "would stop" "$(jq -r '.processes[0].result' <<<"$out")" "dry run"
kill -0 "$app_pid" || fail "--dry-run stopped the service"

out=$("$OTAP" -C "$work" --json ports free "$port")
expect_eq terminated "$(jq -r '.processes[0].result' <<<"$out")" "ports free result"
wait "$app_pid" || true
app_pid=
grep -q "stopping on signal 15" "$work/app.log" || fail "the service did not stop cleanly"
out=$("$OTAP" -C "$work" --json ports check --require-free)
expect_eq 0 "$(jq '.ports[0].holders | length' <<<"$out")" "port free afterwards"
echo "ok: example service readiness follows the database; ports check and free work"
