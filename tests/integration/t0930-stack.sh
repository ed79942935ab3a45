#!/usr/bin/env bash
# otap up / ps / logs / restart / down, and gen compose, on real processes:
#  - depends_on order and conditions (completed, healthy by http, tcp and a
#    log line, started), each service with the environment's config and PORT
#  - the contract refusal starts nothing; a port held by a stranger refuses up
#    and names the holder
#  - a crashing service is restarted with backoff and given up at its limit:
#    up fails, names it, and stops what was started
#  - a service that never becomes ready fails up at its start_timeout
#  - SIGINT on a foreground up leaves nothing listening
#  - kill -9 of a detached supervisor, then down, cleans up
#  - restart of one service; logs with each service's name
#  - a built-in PostgreSQL (kind: postgres) migrated before its dependents,
#    keeping its data across down and up
#  - gen compose and --check
set -euo pipefail
. "$SRC/tests/harness/lib.sh"

work=$(mktemp -d)
chmod 755 "$work" # as root, the built-in PostgreSQL runs as 'postgres' and must reach it
cleanup() {
  cd /
  [ -f "$work/app/otap.yaml" ] && (cd "$work/app" && "$OTAP" down >/dev/null 2>&1) || true
  [ -n "${stranger:-}" ] && kill "$stranger" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
run() { set +e; "$@" >"$work/out" 2>"$work/err"; rc=$?; set -e; }
answers() { curl -fsS -o /dev/null "http://127.0.0.1:$1/" 2>/dev/null; }
nothing_listens() {
  for p in "$@"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then fail "port $p still answers"; fi
  done
}

p_api=$(free_port 27600 27649)
p_web=$(free_port 27650 27699)
p_db=$(free_port 27700 27749)
p_slow=$(free_port 27750 27799)
mkdir -p "$work/app/db/migrations"
cd "$work/app"
cat >otap.yaml <<EOF
project: stack
environments:
  - { name: development, marker: dev }
config:
  ENVIRONMENT: { type: enum, values: [development], required: true }
  GREETING: { type: string, required: true }
services:
  seed:
    run: "echo seed >>order; sleep 0.2; echo seeded"
  api:
    port: $p_api
    run: "echo api >>order; echo \"api on \$PORT as \$ENVIRONMENT\"; exec python3 -m http.server \$PORT --bind 127.0.0.1"
    ready: { http: / }
    depends_on: { seed: completed }
  web:
    port: $p_web
    run: "echo web >>order; exec python3 -m http.server \$PORT --bind 127.0.0.1"
    ready: { tcp: $p_web }
    depends_on: [api]
  worker:
    run: "echo worker >>order; echo worker ready; exec sleep 300"
    ready: { log: "^worker ready" }
    depends_on: { web: started }
EOF

# ---- the contract refusal starts nothing ------------------------------------------------------
run "$OTAP" up --detach
expect_eq 4 "$rc" "a contract that does not hold"
grep -q "'GREETING' is required in development" "$work/err" || fail "$(cat "$work/err")"
[ -e order ] && fail "something started: $(cat order)"
nothing_listens "$p_api" "$p_web"
echo "GREETING=hello" >.env.development

# ---- a port held by a stranger ---------------------------------------------------------------
python3 -m http.server "$p_web" --bind 127.0.0.1 >/dev/null 2>&1 &
stranger=$!
wait_http "http://127.0.0.1:$p_web/" 200 20
run "$OTAP" up --detach
expect_eq 4 "$rc" "a port held by another program"
grep -q "port $p_web of web is held by pid $stranger" "$work/err" || fail "$(cat "$work/err")"
[ -e order ] && fail "something started: $(cat order)"
kill "$stranger"
wait "$stranger" 2>/dev/null || true
stranger=

# ---- up: order and conditions; ps, logs, restart; down -----------------------------------------
run "$OTAP" up --detach
expect_eq 0 "$rc" "up: $(cat "$work/out" "$work/err"; cat .otap/logs/stack.log 2>/dev/null)"
expect_eq "seed api web worker" "$(tr '\n' ' ' <order | sed 's/ $//')" "the start order"
answers "$p_api" || fail "api does not answer"
run "$OTAP" --json ps
jq -e '[.stack.services[] | {(.name): .state}] | add == {"seed": "completed", "api": "healthy", "web": "healthy", "worker": "healthy"}' \
  "$work/out" >/dev/null || fail "ps: $(cat "$work/out")"
run "$OTAP" logs api
grep -q "^api *| api on $p_api as development" "$work/out" || fail "logs: $(cat "$work/out")"
before=$(jq -r '.stack.services[] | select(.name == "web") | .pid' <("$OTAP" --json ps))
run "$OTAP" restart web
expect_eq 0 "$rc" "restart"
for _ in $(seq 1 100); do
  now=$(jq -r '.stack.services[] | select(.name == "web") | "\(.pid) \(.state)"' <("$OTAP" --json ps))
  [ "${now%% *}" != "$before" ] && [ "${now#* }" = healthy ] && break
  sleep 0.05
done
[ "${now%% *}" != "$before" ] || fail "web was not restarted ($before, now $now)"
run "$OTAP" restart nosuch
expect_eq 2 "$rc" "restart of an unknown service"
run "$OTAP" up --detach
expect_eq 4 "$rc" "a second up"
grep -q "a stack is up already" "$work/err" || fail "$(cat "$work/err")"
run "$OTAP" down
expect_eq 0 "$rc" "down"
nothing_listens "$p_api" "$p_web"
pgrep -f "sleep 300" >/dev/null && fail "the worker outlived down"
rm order

# ---- kill -9 of the supervisor, then down -------------------------------------------------------
"$OTAP" up --detach >/dev/null
sup=$(jq -r .stack.supervisor <("$OTAP" --json ps))
kill -9 "$sup"
sleep 0.2
answers "$p_api" || fail "the services died with their supervisor"
run "$OTAP" ps
grep -q "supervisor (pid $sup) is gone" "$work/out" || fail "ps after kill -9: $(cat "$work/out")"
run "$OTAP" down
expect_eq 0 "$rc" "down after kill -9"
nothing_listens "$p_api" "$p_web"
rm -f order

# ---- SIGINT on a foreground up ------------------------------------------------------------------
"$OTAP" up >"$work/fg.out" 2>"$work/fg.err" &
fg=$!
for _ in $(seq 1 200); do grep -q "the stack is up" "$work/fg.err" && break; sleep 0.05; done
grep -q "the stack is up" "$work/fg.err" || fail "the foreground up: $(cat "$work/fg.err")"
grep -q "^api *| api on $p_api" "$work/fg.out" || fail "prefixed output: $(cat "$work/fg.out")"
kill -INT "$fg"
wait "$fg" || true
nothing_listens "$p_api" "$p_web"
run "$OTAP" ps
grep -q "no stack is up" "$work/out" || fail "$(cat "$work/out")"
rm -f order

# ---- a crashing service, and one that is never ready ---------------------------------------------
cat >>otap.yaml <<EOF
  crasher:
    run: "echo crash >>crashes; exit 3"
    max_restarts: 2
    depends_on: [api]
EOF
run "$OTAP" up --detach
expect_eq 1 "$rc" "a service that keeps crashing"
grep -q "crasher: exited 3; gave up after 2 restarts" "$work/err" || fail "$(cat "$work/err")"
expect_eq 3 "$(wc -l <crashes)" "started three times"
nothing_listens "$p_api" "$p_web"
sed -i '/^  crasher:/,$d' otap.yaml
cat >>otap.yaml <<EOF
  slow:
    port: $p_slow
    run: "exec python3 -m http.server \$PORT --bind 127.0.0.1"
    ready: { http: /never-there }
    start_timeout: 1s
EOF
run "$OTAP" up --detach
expect_eq 1 "$rc" "a service that is never ready"
grep -q "slow: not ready within 1 s" "$work/err" || fail "$(cat "$work/err")"
nothing_listens "$p_api" "$p_web" "$p_slow"
sed -i '/^  slow:/,$d' otap.yaml

# ---- gen compose -----------------------------------------------------------------------------------
run "$OTAP" gen compose --check
expect_eq 1 "$rc" "no compose file yet"
"$OTAP" gen compose >/dev/null
run "$OTAP" gen compose --check
expect_eq 0 "$rc" "compose up to date"
grep -q 'condition: service_completed_successfully' docker-compose.yml || fail "$(cat docker-compose.yml)"
grep -q 'GREETING: "${GREETING:-}"' docker-compose.yml || fail "$(cat docker-compose.yml)"
sed -i 's/max_restarts: 2/max_restarts: 5/' otap.yaml
printf '  extra:\n    run: "true"\n' >>otap.yaml
run "$OTAP" gen compose --check
expect_eq 1 "$rc" "compose after a manifest change"
sed -i '/^  extra:/,$d' otap.yaml

# ---- the built-in PostgreSQL ----------------------------------------------------------------------
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  cat >db/migrations/20260101000000_items.sql <<'EOF'
-- migrate:up
CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL);
-- migrate:down
DROP TABLE items;
EOF
  python3 - "$p_db" <<'PY'
import sys
port = sys.argv[1]
s = open("otap.yaml").read()
s = s.replace("services:\n", "services:\n  db:\n    port: %s\n    kind: postgres\n" % port, 1)
s = s.replace("    ready: { http: / }\n    depends_on: { seed: completed }",
              "    ready: { http: / }\n    depends_on: { seed: completed, db: healthy }")
s = s.replace("config:\n", "config:\n  DATABASE_URL: { type: url, schemes: [postgresql], required: true }\n", 1)
s += "database: { url: DATABASE_URL, migrations: db/migrations }\n"
open("otap.yaml", "w").write(s)
PY
  echo "DATABASE_URL=postgresql://app@127.0.0.1:$p_db/appdb" >>.env.development
  run "$OTAP" up --detach
  expect_eq 0 "$rc" "up with a built-in PostgreSQL: $(cat "$work/err"; tail -20 .otap/logs/db.log 2>/dev/null)"
  psql_() { psql -X -q -A -t -h 127.0.0.1 -p "$p_db" -U app -d appdb "$@"; }
  expect_eq 1 "$(psql_ -c "SELECT count(*) FROM information_schema.tables WHERE table_name = 'items'")" \
    "migrated before its dependents"
  psql_ -c "INSERT INTO items VALUES (1, 'kept')"
  "$OTAP" down >/dev/null
  nothing_listens "$p_db"
  run "$OTAP" up --detach
  expect_eq 0 "$rc" "up again: $(cat "$work/err")"
  expect_eq kept "$(psql_ -c 'SELECT name FROM items WHERE id = 1')" "the data survived down and up"
  "$OTAP" down >/dev/null
  nothing_listens "$p_db" "$p_api"
else
  fail "no PostgreSQL server installed (scripts/bootstrap installs postgresql-15)"
fi
echo "ok"
