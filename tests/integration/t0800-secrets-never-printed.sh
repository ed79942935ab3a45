#!/usr/bin/env bash
# A property, not an example: passwords drawn from every printable ASCII
# character (space and each character a URL reserves included) and some
# UTF-8, planted four to a project in DATABASE_URL (unencoded, as users
# paste them), POSTGRES_PASSWORD, SECRET_KEY and MINIO_ROOT_PASSWORD, never
# reach any output of any command that prints config or connects: env
# show/check/parity (text and JSON), run's refusal, db status and migrate
# against a refused connection, a promotion's refusal and explain's
# verdict, probe, and otap serve's answers and log. No output may hold a
# password or any 6-byte piece of one (tests/tools/leakcheck.c checks).
#
# LEAK_PROJECTS sets how many projects (4 passwords each); the default
# plants 1,000 passwords. LEAK_SEED replays a run.
set -euo pipefail
. "$SRC/tests/harness/lib.sh"

projects=${LEAK_PROJECTS:-250}
seed=${LEAK_SEED:-20261130}
work=$(mktemp -d)
srv=
cleanup() {
  [ -n "$srv" ] && kill -9 "$srv" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$LEAKCHECK" gen "$work" "$projects" "$seed" || fail "leakcheck gen failed"

# every command that prints config or connects, in one project; outputs as out.NAME
one_project() {
  local p=$1
  cd "$p"
  cp "$SRC/examples/databiz/otap.yaml" otap.yaml
  printf 'build %s\n' "$p" >app.bin
  run_one() { # NAME CMD...: stdout and stderr both kept
    local name=$1
    shift
    "$@" >"out.$name.stdout" 2>"out.$name.stderr" </dev/null || true
  }
  run_one show "$OTAP" env show --env development
  run_one show-json "$OTAP" --json env show --env development
  run_one check "$OTAP" env check --env development
  run_one check-json "$OTAP" --json env check --env production
  run_one parity "$OTAP" env parity development production
  run_one parity-json "$OTAP" --json env parity development test
  run_one run "$OTAP" run --env development -- true
  run_one status "$OTAP" db status --env development
  run_one migrate "$OTAP" db migrate --env development
  run_one migrate-json "$OTAP" --json db migrate --env development
  run_one register "$OTAP" artifact register app.bin --version 1.0.0
  run_one promote "$OTAP" promote 1.0.0 --to development
  run_one promote-json "$OTAP" --json promote 1.0.0 --to development
  run_one explain "$OTAP" explain --env development --artifact 1.0.0
  run_one probe "$OTAP" probe --env development --timeout 1s --retries 0
  run_one ledger "$OTAP" --json ledger show
}
export -f one_project
export OTAP SRC
dirs=("$work"/p*)
[ ${#dirs[@]} -eq "$projects" ] || fail "leakcheck made ${#dirs[@]} projects, not $projects"
printf '%s\n' "${dirs[@]}" | xargs -P "$(nproc)" -I{} bash -c 'one_project "$1"' _ {} ||
  fail "a project's commands could not be run"

# otap serve in the first projects: its answers (a promotion refused for config) and its log
for p in "${dirs[@]:0:3}"; do
  cd "$p"
  port=$(free_port 25000 25999)
  token=$("$OTAP" serve token add ci --role deployer 2>/dev/null) || fail "no token in $p"
  "$OTAP" serve --listen "127.0.0.1:$port" --env development 2>"out.serve-log" &
  srv=$!
  wait_http "http://127.0.0.1:$port/health" 200 || fail "otap serve did not start"
  for path in /api/v2/environments /api/v2/environments/development /api/v2/ledger /metrics; do
    curl -s -H "Authorization: Bearer $token" "http://127.0.0.1:$port$path" >>"out.serve-get"
  done
  curl -s -H "Authorization: Bearer $token" -X POST -d '{"artifact":"1.0.0","env":"development"}' \
    "http://127.0.0.1:$port/api/v2/promotions" >"out.serve-promote"
  grep -q '"refused"' out.serve-promote || fail "the API did not refuse: $(cat out.serve-promote)"
  kill -TERM "$srv"
  wait "$srv" || true
  srv=
done

# the outputs did say something: the test would pass on silence otherwise
first=${dirs[0]}
grep -q "percent-encode\|config contract" "$first"/out.check.stderr "$first"/out.check.stdout ||
  fail "env check said nothing about the planted config: $(cat "$first"/out.check.*)"
grep -q "DATABASE_URL" "$first/out.show.stdout" || fail "env show printed no DATABASE_URL"

"$LEAKCHECK" check "$work"
