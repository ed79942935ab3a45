#!/usr/bin/env bash
# otap db against a real PostgreSQL 15: migrations with their record rows
# and checksums, failures with file and line, the drift gate, the marker
# (a mismatch changes nothing: the schema is compared before and after),
# every hard-lock condition refused on its own, rollback, --dry-run and
# --to, a non-transactional migration, dump-schema, the advisory lock
# (two runners at once, a bounded wait), kill -9 in the middle of a
# migration, and an unreachable database that never shows its password.
set -euo pipefail
. "$SRC/tests/harness/lib.sh"
. "$SRC/tests/harness/pg.sh"

work=$(mktemp -d)
bg_pids=()
cleanup() {
  cd /
  for p in "${bg_pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  pg_destroy
  rm -rf "$work"
}
trap cleanup EXIT
pg_start

base=${PG_URL%/otap}
q() { psql "$1" -XAtqc "$2"; }
mkdb() { q "$PG_URL" "CREATE DATABASE $1" >/dev/null; echo "$base/$1"; }
# the schema without otap's own rows: what a refusal must leave untouched
schema() { pg_dump --schema-only "$1" | grep -v '^--' | grep -v '^\\' ; q "$1" "SELECT count(*) FROM otap_schema_migrations" 2>/dev/null || true; }

proj=$work/proj
mkdir -p "$proj/db/migrations"
cat >"$proj/otap.yaml" <<'EOF'
project: dbtest
environments:
  - name: development
    marker: dev
  - name: test
    marker: test
  - name: production
    marker: prod
    protected: true
config:
  ENVIRONMENT: { type: enum, values: [development, test, production], aliases: [APP_ENV] }
  DATABASE_URL: { type: url, schemes: [postgresql, postgres], required: true }
database: { url: DATABASE_URL, migrations: db/migrations, schema: db/schema.sql }
EOF
cd "$proj"
export OTAP_ACTOR="ci-bot"
otap() { "$OTAP" "$@"; }
# runs otap, keeps stdout and stderr apart, and sets $rc
run() { set +e; "$OTAP" "$@" >"$work/out" 2>"$work/err"; rc=$?; set -e; }
out() { cat "$work/out"; }
err() { cat "$work/err"; }
mig() { printf '%s' "$2" >"db/migrations/$1.sql"; }

dev=$(mkdb dev)
export DATABASE_URL=$dev

# ---- new, status on a fresh database ----------------------------------
run db new "Create users"
expect_eq 0 "$rc" "db new"
f=$(out)
[[ "$f" =~ ^db/migrations/[0-9]{14}_create_users\.sql$ ]] || fail "db new printed '$f'"
grep -q '^-- migrate:up$' "$f" && grep -q '^-- migrate:down$' "$f" || fail "template: $(cat "$f")"
rm "$f"

mig 20260101000001_users "-- migrate:up
SET lock_timeout = '5s';
CREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL);
-- migrate:down
DROP TABLE users;
"
mig 20260101000002_email "-- migrate:up
SET lock_timeout = '5s';
ALTER TABLE users ADD COLUMN email text;
INSERT INTO users VALUES (1, 'semi;colon', \$\$it's; fine\$\$);
-- migrate:down
ALTER TABLE users DROP COLUMN email;
"
run db status --env development --json
expect_eq 0 "$rc" "status exit"
expect_eq fresh "$(jq -r .marker.state "$work/out")" "marker state on a fresh database"
expect_eq 2 "$(jq -r .counts.pending "$work/out")" "pending before migrate"
if out | grep -q "$dev"; then :; fi

# ---- migrate: the marker is written, every row recorded -----------------
run db migrate --env development
expect_eq 0 "$rc" "migrate: $(err)"
grep -q "2 migrations applied" "$work/out" || fail "migrate output: $(out)"
expect_eq dev "$(q "$dev" "SELECT env FROM bk_env_marker WHERE id = 1")" "marker written"
expect_eq 2 "$(q "$dev" "SELECT count(*) FROM otap_schema_migrations")" "rows recorded"
want=$(sha256sum db/migrations/20260101000002_email.sql | cut -d' ' -f1)
expect_eq "$want" "$(q "$dev" "SELECT checksum FROM otap_schema_migrations WHERE version = '20260101000002'")" "checksum"
expect_eq "ci-bot|email" "$(q "$dev" "SELECT applied_by, name FROM otap_schema_migrations WHERE version = '20260101000002'")" "by whom"
expect_eq "it's; fine" "$(q "$dev" "SELECT email FROM users")" "dollar quotes and ';' in strings"
# the marker table holds one row, and the schema says so
set +e; q "$dev" "INSERT INTO bk_env_marker VALUES (2, 'prod')" 2>/dev/null; r=$?; set -e
[ "$r" -ne 0 ] || fail "the marker table accepted a second row"

run db migrate --env development
expect_eq 0 "$rc" "second migrate"
grep -q "nothing to apply" "$work/out" || fail "rerun: $(out)"

# ---- a failing migration: file and line, nothing of it applied ----------
mig 20260101000003_broken "-- migrate:up
CREATE TABLE t3 (id int);
-- a comment; with a semicolon
INSERT INTO t3 VALUES (1);
SELECT 1 FROM
  t3 WHERE nosuchcol = 1;
"
run db migrate --env development
expect_eq 5 "$rc" "failed migration exit"
grep -q "db/migrations/20260101000003_broken.sql:6:12: column \"nosuchcol\" does not exist" "$work/err" \
  || fail "failure not located: $(err)"
grep -q "was rolled back" "$work/err" || fail "no rollback note: $(err)"
expect_eq "" "$(q "$dev" "SELECT to_regclass('t3')")" "t3 must not exist after the failure"
expect_eq 2 "$(q "$dev" "SELECT count(*) FROM otap_schema_migrations")" "no row for the failure"
run --json db migrate --env development
expect_eq 5 "$rc" "failed migration exit (json)"
expect_eq "6:12" "$(jq -r '"\(.failure.line):\(.failure.column)"' "$work/out")" "json failure position"
rm db/migrations/20260101000003_broken.sql

# a deferred constraint fails at COMMIT: still that migration's failure
mig 20260101000003_deferred "-- migrate:up
CREATE TABLE p (id int PRIMARY KEY);
CREATE TABLE c (pid int REFERENCES p DEFERRABLE INITIALLY DEFERRED);
INSERT INTO c VALUES (42);
"
run db migrate --env development
expect_eq 5 "$rc" "deferred constraint"
grep -q "20260101000003_deferred.sql:1:1: insert or update on table \"c\" violates foreign key" "$work/err" \
  || fail "deferred failure: $(err)"
expect_eq "" "$(q "$dev" "SELECT to_regclass('p')")" "a failed commit left its tables"
rm db/migrations/20260101000003_deferred.sql

# ---- malformed files are refused before anything runs --------------------
mig 20260101000003_typo "-- migrate:up
SELECT 'unterminated;
"
run db migrate --env development
expect_eq 3 "$rc" "malformed migration"
grep -q "db/migrations/20260101000003_typo.sql:2:8: unterminated string" "$work/err" || fail "$(err)"
rm db/migrations/20260101000003_typo.sql

# ---- drift: changed, missing, out of order -------------------------------
run db verify --env development
expect_eq 0 "$rc" "verify clean: $(err)"
cp db/migrations/20260101000001_users.sql "$work/users.bak"
echo "-- an innocent edit" >>db/migrations/20260101000001_users.sql
run db verify --env development
expect_eq 1 "$rc" "verify after an edit"
grep -q "db/migrations/20260101000001_users.sql was changed after it was applied" "$work/out" \
  || fail "verify does not name the file: $(out)"
before=$(schema "$dev")
run db migrate --env development
expect_eq 4 "$rc" "migrate refuses drift"
grep -q "was changed after it was applied" "$work/err" || fail "$(err)"
cp "$work/users.bak" db/migrations/20260101000001_users.sql

mv db/migrations/20260101000002_email.sql "$work/email.bak"
run db verify --env development
expect_eq 1 "$rc" "verify with a file gone"
grep -q "migration 20260101000002_email was applied on .* but its file is gone" "$work/out" || fail "$(out)"
mv "$work/email.bak" db/migrations/20260101000002_email.sql

mig 20250101000000_late "-- migrate:up
CREATE TABLE late (id int);
"
run db verify --env development
expect_eq 1 "$rc" "verify out of order"
grep -q "20250101000000_late.sql is not applied but is older" "$work/out" || fail "$(out)"
run db migrate --env development
expect_eq 4 "$rc" "migrate refuses out of order"
rm db/migrations/20250101000000_late.sql
expect_eq "$before" "$(schema "$dev")" "refused runs changed the schema"

# ---- the marker: a mismatch changes nothing -----------------------------
mig 20260101000004_more "-- migrate:up
SET lock_timeout = '5s';
CREATE TABLE more (id int);
-- migrate:down
DROP TABLE more;
"
before=$(schema "$dev")
run db migrate --env test
expect_eq 4 "$rc" "dev database with --env test"
grep -q "says 'dev', but test expects 'test'" "$work/err" || fail "$(err)"
expect_eq "$before" "$(schema "$dev")" "a marker mismatch changed the schema"
expect_eq "" "$(q "$dev" "SELECT to_regclass('more')")" "the mismatch applied a migration"
run db marker check --env test
expect_eq 4 "$rc" "marker check mismatch"
run db marker check --env development
expect_eq 0 "$rc" "marker check match"
run db marker init --env test
expect_eq 4 "$rc" "marker init over another environment's marker"
expect_eq dev "$(q "$dev" "SELECT env FROM bk_env_marker")" "marker overwritten"

# a database with tables and no marker is not assumed to be anyone's
legacy=$(mkdb legacy)
q "$legacy" "CREATE TABLE customers (id int)"
before=$(schema "$legacy")
DATABASE_URL=$legacy run db migrate --env development
expect_eq 4 "$rc" "legacy database without a marker"
grep -q "has 1 table but no marker table bk_env_marker" "$work/err" || fail "$(err)"
expect_eq "$before" "$(schema "$legacy")" "refusal on a legacy database changed it"
DATABASE_URL=$legacy run db marker init --env development
expect_eq 0 "$rc" "marker init on a legacy database: $(err)"
DATABASE_URL=$legacy run db migrate --env development
expect_eq 0 "$rc" "migrate after marker init: $(err)"

# an unreadable marker refuses too
odd=$(mkdb odd)
q "$odd" "CREATE TABLE bk_env_marker (x int)"
DATABASE_URL=$odd run db migrate --env development
expect_eq 4 "$rc" "unreadable marker"
grep -q "the database marker bk_env_marker cannot be read" "$work/err" || fail "$(err)"
q "$odd" "DROP TABLE bk_env_marker; CREATE TABLE bk_env_marker (id int, env text); INSERT INTO bk_env_marker VALUES (1, 'dev'), (2, 'dev')"
DATABASE_URL=$odd run db migrate --env development
expect_eq 4 "$rc" "marker with two rows"
grep -q "must hold one row with id 1; it holds 2 rows" "$work/err" || fail "$(err)"
expect_eq "" "$(q "$odd" "SELECT to_regclass('otap_schema_migrations')")" "refusal created otap's table"

# ---- the production hard lock ---------------------------------------------
prod=$(mkdb prod)
ok_env=(CONFIRM_PROD_MIGRATE=YES ENVIRONMENT=production DATABASE_URL=$prod)
# marker init on production needs the hard lock too (the marker excepted)
env DATABASE_URL="$prod" "$OTAP" db marker init --env production >"$work/out" 2>"$work/err" && fail "unguarded prod marker init"
grep -q "CONFIRM_PROD_MIGRATE is not set" "$work/err" || fail "$(err)"
env "${ok_env[@]}" "$OTAP" db marker init --env production >/dev/null || fail "prod marker init"
expect_eq prod "$(q "$prod" "SELECT env FROM bk_env_marker")" "prod marker"

before=$(schema "$prod")
refuse_alone() { # WHY ENV... : the run is refused with exactly one condition, WHY
  local why=$1; shift
  set +e; env -u CONFIRM_PROD_MIGRATE -u ENVIRONMENT -u NODE_ENV -u VERCEL_ENV "$@" \
    "$OTAP" --json db migrate --env production >"$work/out" 2>"$work/err"; rc=$?; set -e
  expect_eq 4 "$rc" "hard lock ($why)"
  expect_eq 1 "$(jq '.refusals | length' "$work/out")" "conditions listed for '$why': $(cat "$work/out")"
  jq -r '.refusals[0]' "$work/out" | grep -q "$why" || fail "hard lock: want '$why', have $(jq -c .refusals "$work/out")"
  expect_eq "$before" "$(schema "$prod")" "refused production migrate changed the schema ($why)"
}
refuse_alone "CONFIRM_PROD_MIGRATE is not set" ENVIRONMENT=production DATABASE_URL="$prod"
refuse_alone "CONFIRM_PROD_MIGRATE must be exactly YES" CONFIRM_PROD_MIGRATE=yes ENVIRONMENT=production DATABASE_URL="$prod"
refuse_alone "ENVIRONMENT is not set" CONFIRM_PROD_MIGRATE=YES DATABASE_URL="$prod"
refuse_alone "NODE_ENV is 'development', not production" "${ok_env[@]}" NODE_ENV=development
refuse_alone "VERCEL_ENV is 'preview', not production" "${ok_env[@]}" VERCEL_ENV=preview
refuse_alone "says 'dev', but production expects 'prod'" CONFIRM_PROD_MIGRATE=YES ENVIRONMENT=production DATABASE_URL="$dev"
refuse_alone "DATABASE_URL is not set for production" CONFIRM_PROD_MIGRATE=YES ENVIRONMENT=production DATABASE_URL=
refuse_alone "config contract for production has 1 problem" CONFIRM_PROD_MIGRATE=YES ENVIRONMENT=development DATABASE_URL="$prod"
# CONFIRM in a dotenv file does not count: the file itself is refused
echo "CONFIRM_PROD_MIGRATE=YES" >.env.production
refuse_alone "config contract for production has 1 problem" ENVIRONMENT=production DATABASE_URL="$prod"
grep -q "CONFIRM_PROD_MIGRATE does not belong in a file" "$work/out" || fail "$(cat "$work/out")"
rm .env.production
# an alias counts as ENVIRONMENT
refuse_alone "CONFIRM_PROD_MIGRATE is not set" APP_ENV=production DATABASE_URL="$prod"
# every condition at once
set +e; env -u ENVIRONMENT NODE_ENV=test VERCEL_ENV=preview DATABASE_URL="$dev" "$OTAP" db migrate --env production 2>"$work/err"; rc=$?; set -e
expect_eq 4 "$rc" "hard lock, everything wrong"
expect_eq 5 "$(grep -c '^  - ' "$work/err")" "every unmet condition listed: $(err)"

# lint findings refuse on production until acknowledged
mig 20260101000005_drop "-- migrate:up
SET lock_timeout = '5s';
ALTER TABLE users DROP COLUMN email;
"
set +e; env "${ok_env[@]}" "$OTAP" db migrate --env production >"$work/out" 2>"$work/err"; rc=$?; set -e
expect_eq 4 "$rc" "unacknowledged lint finding on production"
grep -q "20260101000005_drop.sql:3:19: drop-column" "$work/err" || fail "finding not shown: $(err)"
expect_eq "$before" "$(schema "$prod")" "lint refusal changed production"
mig 20260101000005_drop "-- migrate:up
SET lock_timeout = '5s';
-- otap:allow drop-column the email column moved to contacts in 2.3
ALTER TABLE users DROP COLUMN email;
"
env "${ok_env[@]}" APP_ENV=production NODE_ENV=production VERCEL_ENV=production "$OTAP" db migrate --env production >"$work/out" 2>"$work/err" \
  || fail "production migrate with every condition met: $(err)"
expect_eq 4 "$(q "$prod" "SELECT count(*) FROM otap_schema_migrations")" "production applied"
run db lint
expect_eq 0 "$rc" "lint with the acknowledgement: $(out)"

# rollback: forward fixes only on production; elsewhere the last down section
before=$(schema "$prod")
set +e; env "${ok_env[@]}" "$OTAP" db rollback --env production 2>"$work/err"; rc=$?; set -e
expect_eq 4 "$rc" "rollback on production"
grep -q "forward fixes only" "$work/err" || fail "$(err)"
expect_eq "$before" "$(schema "$prod")" "refused rollback changed production"
rm db/migrations/20260101000005_drop.sql

# ---- rollback, dry run, --to ----------------------------------------------
run db migrate --env development --dry-run
expect_eq 0 "$rc" "dry run"
grep -q "would apply db/migrations/20260101000004_more.sql" "$work/out" || fail "$(out)"
expect_eq "" "$(q "$dev" "SELECT to_regclass('more')")" "dry run applied"
mig 20260101000006_last "-- migrate:up
CREATE TABLE last (id int);
"
run db migrate --env development --to 20260101000004
expect_eq 0 "$rc" "--to"
expect_eq "more|" "$(q "$dev" "SELECT to_regclass('more'), to_regclass('last')")" "--to stopped at its version"
run db migrate --env development --to 20261231000000
expect_eq 2 "$rc" "--to an unknown version"
run db rollback --env development
expect_eq 0 "$rc" "rollback: $(err)"
expect_eq "" "$(q "$dev" "SELECT to_regclass('more')")" "the down section ran"
expect_eq 0 "$(q "$dev" "SELECT count(*) FROM otap_schema_migrations WHERE version = '20260101000004'")" "row removed"
run db migrate --env development
expect_eq 0 "$rc" "migrate after rollback"
run db rollback --env development
expect_eq 4 "$rc" "rollback without a down section"
grep -q "20260101000006_last.sql has no '-- migrate:down' section" "$work/err" || fail "$(err)"
rm db/migrations/20260101000006_last.sql
q "$dev" "DROP TABLE last; DELETE FROM otap_schema_migrations WHERE version = '20260101000006'"

# ---- outside a transaction: CREATE INDEX CONCURRENTLY -------------------
mig 20260101000007_index "-- migrate:up transaction:false
SET lock_timeout = '5s';
CREATE INDEX CONCURRENTLY IF NOT EXISTS users_name ON users (name);
-- migrate:down transaction:false
DROP INDEX CONCURRENTLY users_name;
"
run db lint
expect_eq 0 "$rc" "a concurrent index outside a transaction is clean: $(out)"
run db migrate --env development
expect_eq 0 "$rc" "concurrent index: $(err)"
expect_eq users_name "$(q "$dev" "SELECT to_regclass('users_name')")" "index created"

# ---- dump-schema and verify --schema --------------------------------------
run db dump-schema --env development
expect_eq 0 "$rc" "dump-schema: $(err)"
grep -q "CREATE TABLE public.users" db/schema.sql || fail "schema file: $(head -c 300 db/schema.sql)"
grep -q "Dumped from" db/schema.sql && fail "the schema keeps pg_dump's version lines"
run db verify --env development --schema
expect_eq 0 "$rc" "verify --schema: $(out) $(err)"
q "$dev" "ALTER TABLE users ADD COLUMN sneaky int"
run db verify --env development --schema
expect_eq 1 "$rc" "verify --schema after a manual change"
grep -q "the live schema of development differs from db/schema.sql, first at line" "$work/out" || fail "$(out)"

# ---- the advisory lock: two runners at once, and a bounded wait ----------
conc=$(mkdb conc)
mkdir -p "$work/conc/db/migrations"
cp otap.yaml "$work/conc/"
echo "-- migrate:up
CREATE TABLE log (n int);" >"$work/conc/db/migrations/20260201000000_log.sql"
for i in $(seq 1 60); do
  printf -- '-- migrate:up\nINSERT INTO log VALUES (%d);\nSELECT pg_sleep(0.01);\n' "$i" \
    >"$work/conc/db/migrations/2026020110$(printf '%02d%02d' $((i / 60)) $((i % 60)))_m$i.sql"
done
for r in a b; do
  (cd "$work/conc" && r_rc=0 && { DATABASE_URL=$conc "$OTAP" -q db migrate --env development \
    >"$work/$r.out" 2>&1 || r_rc=$?; } && echo "$r_rc" >"$work/$r.rc") &
done
wait
expect_eq 0 "$(cat "$work/a.rc")" "first runner: $(cat "$work/a.out")"
expect_eq 0 "$(cat "$work/b.rc")" "second runner: $(cat "$work/b.out")"
expect_eq 60 "$(q "$conc" "SELECT count(*) FROM log")" "each migration applied exactly once"
expect_eq 61 "$(q "$conc" "SELECT count(*) FROM otap_schema_migrations")" "rows"

psql "$conc" -XAtq -c "SELECT pg_advisory_lock(8031151171008292722)" -c "SELECT pg_sleep(20)" >/dev/null 2>&1 &
holder=$!; bg_pids+=("$holder")
for _ in $(seq 1 100); do
  [ "$(q "$conc" "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")" = 1 ] && break
  sleep 0.1
done
(cd "$work/conc" && r_rc=0 && { DATABASE_URL=$conc "$OTAP" db migrate --env development \
  --lock-wait 1s >"$work/out" 2>"$work/err" || r_rc=$?; } && echo "$r_rc" >"$work/rc")
expect_eq 5 "$(cat "$work/rc")" "lock wait over"
grep -q "another otap run holds the migration lock" "$work/err" || fail "$(err)"
kill "$holder" 2>/dev/null || true

# ---- kill -9 during a long migration ---------------------------------------
k=$(mkdb killed)
mkdir -p "$work/kill/db/migrations"
cp otap.yaml "$work/kill/"
echo "-- migrate:up
CREATE TABLE half (id int);
INSERT INTO half VALUES (1);
SELECT pg_sleep(3);
INSERT INTO half VALUES (2);" >"$work/kill/db/migrations/20260301000000_slow.sql"
(cd "$work/kill" && exec env DATABASE_URL="$k" "$OTAP" -q db migrate --env development) >/dev/null 2>&1 &
victim=$!; bg_pids+=("$victim")
for _ in $(seq 1 100); do
  [ "$(q "$k" "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(3)%'")" = 1 ] && break
  sleep 0.05
done
kill -9 "$victim"
wait "$victim" 2>/dev/null || true
# the server notices the dead client and rolls back (client_connection_check_interval)
for _ in $(seq 1 100); do
  [ "$(q "$k" "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'otap'")" = 0 ] && break
  sleep 0.1
done
expect_eq "" "$(q "$k" "SELECT to_regclass('half')")" "a killed migration left its table"
expect_eq 0 "$(q "$k" "SELECT count(*) FROM otap_schema_migrations")" "a killed migration left its row"
(cd "$work/kill" && DATABASE_URL=$k "$OTAP" -q db migrate --env development) >/dev/null || fail "rerun after kill -9"
expect_eq 2 "$(q "$k" "SELECT count(*) FROM half")" "rerun applied the whole migration"

# ---- unreachable: exit 5, the password never shown -------------------------
dead=$(free_port 21000 21999)
DATABASE_URL="postgresql://otap:pw-s3cret-Xy9@127.0.0.1:$dead/otap" run db status --env development
expect_eq 5 "$rc" "unreachable database"
grep -q "cannot connect to 'postgresql://otap:\*\*\*@127.0.0.1:$dead/otap'" "$work/err" || fail "$(err)"
grep -q "pw-s3cret" "$work/out" "$work/err" && fail "the password leaked"
echo "t0300: ok"
