#!/usr/bin/env bash
# otap serve's dashboard: the page's files and headers, the ledger's event
# stream (ids are sequence numbers; Last-Event-ID resumes with nothing
# missed or repeated), the read cache following the ledger, and the page in
# a real browser (Debian's Chromium driven by playwright-core) against a
# real promotion flow: the board as otap status says, a CLI promotion shown
# live, planted markup shown as text, a viewer without buttons, a
# deployer's promotion from the page in the ledger. A screenshot is kept in
# the build directory (dashboard.png).
set -euo pipefail
. "$SRC/tests/harness/lib.sh"
. "$SRC/tests/harness/pg.sh"

work=$(mktemp -d)
serve_pid=
cleanup() {
  [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null || true
  [ -d "$work/p" ] && (cd "$work/p" && "$OTAP" down >/dev/null 2>&1 || true)
  pkill -f "$work/p/builds/" 2>/dev/null || true
  pg_destroy
  rm -rf "$work"
}
trap cleanup EXIT
pg_start
psql() { command psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U otap "$@"; }
PORT_LO=28000
p0=$(free_port "$PORT_LO" $((PORT_LO + 99)))
p1=$(free_port $((PORT_LO + 100)) $((PORT_LO + 199)))
p2=$(free_port $((PORT_LO + 200)) $((PORT_LO + 299)))
p3=$(free_port $((PORT_LO + 300)) $((PORT_LO + 399)))
ps=$(free_port $((PORT_LO + 400)) $((PORT_LO + 499)))

mkdir "$work/p"
cd "$work/p"
cat >otap.yaml <<EOF
project: board
environments:
  - { name: development, marker: dev, deploy: { driver: local, service: backend } }
  - { name: test, marker: dev, requires: [ci], deploy: { driver: local } }
  - { name: staging, marker: dev, requires: [ci], deploy: { driver: local } }
  - { name: production, marker: prod, protected: true, requires: [ci, signoff], deploy: { driver: local } }
gates:
  - { name: ci, run: "true" }
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
flags:
  new-board: { owner: web, expires: 2999-12-31, kind: operational, on: [development] }
EOF
mkdir -p db/migrations builds
cat >db/migrations/20260101000000_items.sql <<'EOF'
-- migrate:up
CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL);
-- migrate:down
DROP TABLE items;
EOF
psql -d otap -c "CREATE DATABASE app_dev"
for e in development test staging; do echo "DATABASE_URL=postgresql://otap@127.0.0.1:$PG_PORT/app_dev" >".env.$e"; done
cp "$EXAMPLE_APP" builds/app-1.0.0
export OTAP_ACTOR="<b>ci-bot</b>"
"$OTAP" artifact register builds/app-1.0.0 --version 1.0.0 >/dev/null
"$OTAP" gate record ci --artifact 1.0.0 --result pass --url https://ci.example/run/7 >/dev/null
"$OTAP" promote 1.0.0 --to development >/dev/null
"$OTAP" signoff --env development --artifact 1.0.0 --by "QA" --note '<img src=x onerror=alert(1)>' >/dev/null
export OTAP_ACTOR="ci-bot"
# enough entries for a second page of the ledger (25 a page)
for i in $(seq 1 20); do "$OTAP" gate record ci --artifact 1.0.0 --result pass --url "https://ci.example/run/$i" >/dev/null; done

viewer=$("$OTAP" serve token add viewer --role viewer 2>/dev/null)
deployer=$("$OTAP" serve token add deployer --role deployer 2>/dev/null)
"$OTAP" serve --listen "127.0.0.1:$ps" --env development >"$work/serve.log" 2>&1 &
serve_pid=$!
wait_http "http://127.0.0.1:$ps/health" 200 50
base="http://127.0.0.1:$ps"

# ---- the page's files and headers --------------------------------------------------------------------
total=0
for f in / /app.js /app.css; do
  code=$(curl -s -o "$work/f" -D "$work/h" -w '%{http_code}' "$base$f")
  expect_eq 200 "$code" "$f"
  total=$((total + $(stat -c %s "$work/f")))
  grep -qi "^Content-Security-Policy: default-src 'self'" "$work/h" || fail "$f: no CSP: $(cat "$work/h")"
  grep -qi "^X-Content-Type-Options: nosniff" "$work/h" || fail "$f: no nosniff"
  grep -qi "^Referrer-Policy: no-referrer" "$work/h" || fail "$f: no Referrer-Policy"
done
[ "$total" -lt 61440 ] || fail "the page weighs $total bytes (60 KB at most)"
echo "the page: $total bytes"
grep -qi "^Content-Type: text/javascript" <(curl -s -D - -o /dev/null "$base/app.js") || fail "app.js's type"
grep -qE '\.(innerHTML|outerHTML)[[:space:]]*[+]?=|insertAdjacentHTML|document\.write|eval\(' <(curl -s "$base/app.js") &&
  fail "the script writes markup from strings"
expect_eq 401 "$(curl -s -o /dev/null -w '%{http_code}' "$base/api/v2/events")" "events without a token"

# ---- events: ids are sequence numbers; Last-Event-ID resumes, nothing missed or repeated -------------
head=$("$OTAP" --json ledger show | jq '.entries | length')
curl -s -N --max-time 3 -H "Authorization: Bearer $viewer" -H "Last-Event-ID: 2" "$base/api/v2/events" >"$work/ev1" || true
ids=$(grep '^id: ' "$work/ev1" | cut -d' ' -f2 | tr '\n' ' ')
expect_eq "$(seq -s ' ' 3 "$head") " "$ids" "events after 2"
# a live client: an entry appended while it listens arrives once
curl -s -N --max-time 4 -H "Authorization: Bearer $viewer" "$base/api/v2/events" >"$work/ev2" &
cpid=$!
sleep 1
"$OTAP" gate record ci --artifact 1.0.0 --result pass >/dev/null
wait "$cpid" || true
expect_eq "$((head + 1))" "$(grep '^id: ' "$work/ev2" | cut -d' ' -f2 | tr -d '\n')" "the new entry, once"
grep -q "\"action\":\"gate.record\"" "$work/ev2" || fail "the event's entry: $(cat "$work/ev2")"
curl -s -N --max-time 2 -H "Authorization: Bearer $viewer" -H "Last-Event-ID: $((head + 1))" "$base/api/v2/events" >"$work/ev3" || true
grep -q '^id: ' "$work/ev3" && fail "resuming at the head repeated an entry: $(cat "$work/ev3")"
expect_eq 400 "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $viewer" -H 'Last-Event-ID: nope' "$base/api/v2/events")" "a bad Last-Event-ID"

# ---- the read cache follows the ledger -----------------------------------------------------------------
get() { curl -s -H "Authorization: Bearer $viewer" "$base$1"; }
get /api/v2/environments | jq -e '.environments[] | select(.name == "test") | .live == null' >/dev/null || fail "test before"
get /api/v2/environments >/dev/null
"$OTAP" gate record ci --artifact 1.0.0 --result pass --url https://ci.example/run/8 >/dev/null
get "/api/v2/gates?build=1.0.0" | jq -e '.gates[0].url == "https://ci.example/run/8"' >/dev/null || fail "a stale gate list after a CLI write"
get "/api/v2/check?env=test&artifact=1.0.0" | jq -e '.safe and (.conditions | length) > 0' >/dev/null ||
  fail "check: $(get "/api/v2/check?env=test&artifact=1.0.0")"
get "/api/v2/check?env=production&artifact=1.0.0" | jq -e '(.safe | not) and (.unmet | length) > 0' >/dev/null || fail "check production"
get "/api/v2/environments/development/health" | jq -e '.state == "healthy" and (.checks | length) == 3' >/dev/null ||
  fail "health: $(get /api/v2/environments/development/health)"
get "/api/v2/ledger?verify=1&limit=2" | jq -e '.entries[0] | has("details_text")' >/dev/null || fail "ledger verify=1"

# ---- the browser -------------------------------------------------------------------------------------
tools=$SRC/.cache/tools/node_modules
[ -d "$tools/playwright-core" ] || fail "playwright-core is not installed: run scripts/bootstrap"
[ -x /usr/bin/chromium ] || fail "chromium is not installed: run scripts/bootstrap"
shot=${BUILD_DIR:-$work}/dashboard.png
NODE_PATH=$tools VIEWER=$viewer DEPLOYER=$deployer PROJECT=$work/p SHOT=$shot \
  node "$SRC/tests/tools/dashboard.cjs" test "$base/" >"$work/browser.out" 2>&1 ||
  fail "the browser test: $(cat "$work/browser.out")"
cat "$work/browser.out"
[ -s "$shot" ] || fail "no screenshot"
echo "screenshot: $shot"
grep -qF "$viewer" "$work/serve.log" && fail "a token in the access log"
grep -qF "$deployer" "$work/serve.log" && fail "a token in the access log"
echo ok
