#!/usr/bin/env bash
# otap db guard: a team's own migration tool (Alembic and sqitch from
# Debian, dbmate from npm: the real ones) behind otap's checks, on a real
# PostgreSQL 15.
#  - a database whose marker says another environment: exit 4, every
#    problem listed, the tool never started (no alembic_version table)
#  - a new database: marked, then 'alembic upgrade head' runs with the URL
#    in the manifest's tool_scheme (postgresql+psycopg2) and otap's lock
#    held; the ledger records migrate.external (tool, status, duration)
#  - otap exits with the tool's status; a failing tool is recorded too
#  - production: the whole hard lock, each unmet condition listed, nothing run
#  - while the tool runs, 'otap db migrate' waits for the lock
#  - sqitch deploy with tool_scheme db:pg, dbmate up with postgres://, and a
#    baseline of what dbmate applied
#  - db baseline on PostgreSQL: types, sequences, quoted tables, indexes,
#    materialized views, added and renamed columns, drops and renames
#  - the URL's password, printed by the tool, never leaves otap whole
set -euo pipefail
. "$SRC/tests/harness/lib.sh"
. "$SRC/tests/harness/pg.sh"
command -v alembic >/dev/null || fail "alembic is not installed (scripts/bootstrap installs it)"
command -v sqitch >/dev/null || fail "sqitch is not installed (scripts/bootstrap installs it)"

work=$(mktemp -d)
bg_pids=()
cleanup() {
  cd /
  for p in "${bg_pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  pg_destroy
  rm -rf "$work"
}
trap cleanup EXIT; [ -n "${KEEP:-}" ] && trap - EXIT
pg_start

base=${PG_URL%/otap}
q() { psql "$1" -XAtqc "$2"; }
mkdb() { q "$PG_URL" "CREATE DATABASE $1" >/dev/null; echo "$base/$1"; }
# runs a command line (otap, under env), keeps stdout and stderr apart, sets $rc
run() { set +e; "$@" >"$work/out" 2>"$work/err"; rc=$?; set -e; }
err() { cat "$work/err"; }

proj=$work/proj
mkdir -p "$proj/migrations/versions"
cd "$proj"
cat >otap.yaml <<'YAML'
project: guarded
environments:
  - name: development
    marker: dev
  - name: test
    marker: test
  - name: production
    marker: prod
    protected: true
config:
  ENVIRONMENT: { type: enum, values: [development, test, production] }
  DATABASE_URL: { type: url, schemes: [postgresql, postgres], required: true }
database: { url: DATABASE_URL, migrations: db/migrations, tool_scheme: postgresql+psycopg2 }
YAML
mkdir -p db/migrations
export OTAP_ACTOR=ci-bot

# ---- a small Alembic project of our own ---------------------------------------
cat >alembic.ini <<'INI'
[alembic]
script_location = migrations
[loggers]
keys = root
[handlers]
keys = console
[formatters]
keys = generic
[logger_root]
level = INFO
handlers = console
[handler_console]
class = StreamHandler
args = (sys.stderr,)
formatter = generic
[formatter_generic]
format = %(levelname)s %(message)s
INI
cat >migrations/env.py <<'PY'
import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine

fileConfig(context.config.config_file_name, disable_existing_loggers=False)

url = os.environ["DATABASE_URL"]
# what the tool was given: the scheme, for the test to check
with open(os.environ["GUARD_PROBE"], "w") as f:
    f.write(url.split("://")[0] + "\n" + os.environ.get("ENVIRONMENT", "") + "\n")
engine = create_engine(url)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
PY
cat >migrations/script.py.mako <<'MAKO'
MAKO
cat >migrations/versions/0001_items.py <<'PY'
from alembic import op

revision = "0001"
down_revision = None


def upgrade():
    op.execute("CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL)")


def downgrade():
    op.execute("DROP TABLE items")
PY
export GUARD_PROBE=$work/probe

# ---- a database that is another environment's: refused, never started ----------
other=$(mkdb other)
DATABASE_URL=$other "$OTAP" -q db marker init --env test >/dev/null
run env DATABASE_URL="$other" "$OTAP" db guard --env development -- alembic upgrade head
expect_eq 4 "$rc" "wrong marker: $(err)"
grep -q "says 'test', but development expects 'dev'" "$work/err" || fail "no marker problem named: $(err)"
[ ! -e "$work/probe" ] || fail "alembic started although the marker was wrong"
expect_eq 0 "$(q "$other" "SELECT count(*) FROM pg_tables WHERE tablename = 'alembic_version'")" "alembic wrote"

# ---- usage -------------------------------------------------------------------------
run "$OTAP" db guard --env development alembic upgrade head
expect_eq 2 "$rc" "no '--'"
grep -q "put '--' before the command" "$work/err" || fail "$(err)"
run "$OTAP" db guard --env development --
expect_eq 2 "$rc" "nothing to run"

# ---- the right database: marked, migrated by alembic, recorded ----------------------
dev=$(mkdb dev)
run env DATABASE_URL="$dev" "$OTAP" db guard --env development -- alembic upgrade head
expect_eq 0 "$rc" "guarded alembic: $(err)"
grep -q "Running upgrade  -> 0001" "$work/err" || fail "alembic's own output not relayed: $(err) // $(cat "$work/out")"
grep -q "development: alembic finished in" "$work/out" || fail "$(cat "$work/out")"
expect_eq "postgresql+psycopg2" "$(sed -n 1p "$work/probe")" "the URL in the tool's scheme"
expect_eq "development" "$(sed -n 2p "$work/probe")" "ENVIRONMENT given to the tool"
expect_eq 0001 "$(q "$dev" "SELECT version_num FROM alembic_version")" "alembic's own record"
expect_eq 1 "$(q "$dev" "SELECT count(*) FROM pg_tables WHERE tablename = 'items'")" "items created"
DATABASE_URL=$dev "$OTAP" db marker check --env development >/dev/null || fail "the new database was not marked"
"$OTAP" --json ledger show >"$work/ledger.json"
jq -e '[.entries[] | select(.action == "migrate.external")] | length == 1' "$work/ledger.json" >/dev/null ||
  fail "ledger: $(cat "$work/ledger.json")"
jq -e '.entries[] | select(.action == "migrate.external") |
  .actor == "ci-bot" and .env == "development" and .details.tool == "alembic" and
  .details.exit_status == 0 and (.details.duration_ms | type) == "number" and
  .details.args == ["upgrade", "head"]' "$work/ledger.json" >/dev/null || fail "ledger entry: $(cat "$work/ledger.json")"
"$OTAP" ledger verify >/dev/null || fail "the ledger's chain"

# ---- the tool's status is otap's; a failure is recorded too --------------------------
run env DATABASE_URL="$dev" "$OTAP" db guard --env development -- sh -c 'echo half done; exit 7'
expect_eq 7 "$rc" "the tool's exit status"
grep -q "half done" "$work/out" || fail "the tool's stdout: $(cat "$work/out")"
grep -q "failed with exit status 7" "$work/out" || fail "$(cat "$work/out")"
run env DATABASE_URL="$dev" "$OTAP" --json db guard --env development -- sh -c 'echo to stdout; exit 3'
expect_eq 3 "$rc" "json: the tool's exit status"
jq -e '.ok == false and .exit_status == 3 and .tool == "sh"' "$work/out" >/dev/null || fail "json: $(cat "$work/out")"
grep -q "to stdout" "$work/err" || fail "with --json the tool's stdout goes to stderr"
expect_eq 3 "$("$OTAP" --json ledger show | jq '[.entries[] | select(.action == "migrate.external")] | length')" "entries"
run env DATABASE_URL="$dev" "$OTAP" db guard --env development -- no-such-tool-here
expect_eq 5 "$rc" "a tool that cannot be executed"

# ---- the lock is held while the tool runs -------------------------------------------
(env DATABASE_URL="$dev" "$OTAP" -q db guard --env development -- sleep 4 >/dev/null 2>&1) &
bg_pids+=($!)
for _ in $(seq 1 100); do
  [ "$(q "$dev" "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")" = 1 ] && break
  sleep 0.1
done
run env DATABASE_URL="$dev" "$OTAP" db migrate --env development --lock-wait 1s
expect_eq 5 "$rc" "db migrate during a guarded run"
grep -q "another otap run holds the migration lock" "$work/err" || fail "$(err)"
wait

# ---- production: the whole hard lock, every condition listed, nothing run --------------
prod=$(mkdb prod)
env CONFIRM_PROD_MIGRATE=YES ENVIRONMENT=production DATABASE_URL="$prod" "$OTAP" -q db marker init --env production >/dev/null
rm -f "$work/ran"
# the contract first, as for 'db migrate': a database is not touched with the wrong config
run env -u CONFIRM_PROD_MIGRATE DATABASE_URL="$prod" ENVIRONMENT=development "$OTAP" db guard --env production -- touch "$work/ran"
expect_eq 4 "$rc" "production with development's config"
grep -q "config contract for production has 1 problem" "$work/err" || fail "$(err)"
# then every hard-lock condition at once
run env -u CONFIRM_PROD_MIGRATE DATABASE_URL="$prod" ENVIRONMENT=production NODE_ENV=development "$OTAP" db guard --env production -- touch "$work/ran"
expect_eq 4 "$rc" "unguarded production"
grep -q "CONFIRM_PROD_MIGRATE is not set" "$work/err" || fail "$(err)"
grep -q "NODE_ENV is 'development', not production" "$work/err" || fail "not every condition listed: $(err)"
[ ! -e "$work/ran" ] || fail "the tool ran on production without the hard lock"
run env CONFIRM_PROD_MIGRATE=YES ENVIRONMENT=production DATABASE_URL="$prod" "$OTAP" db guard --env production -- touch "$work/ran"
expect_eq 0 "$rc" "production with the hard lock: $(err)"
[ -e "$work/ran" ] || fail "the tool did not run"

# ---- sqitch, with its own URI scheme ------------------------------------------------
sq=$(mkdb sq)
sed -i 's/tool_scheme: postgresql+psycopg2/tool_scheme: db:pg/' otap.yaml
mkdir -p "$work/sqitch" && cd "$work/sqitch"
cp "$proj/otap.yaml" .
mkdir -p db/migrations
sqitch init guarded --engine pg >/dev/null
sqitch config --user user.name ci >/dev/null 2>&1 || true
sqitch config --user user.email ci@example.invalid >/dev/null 2>&1 || true
sqitch add widgets -n 'widgets table' >/dev/null
echo 'CREATE TABLE widgets (id int);' >>deploy/widgets.sql
run env DATABASE_URL="$sq" "$OTAP" db guard --env development -- sh -c 'exec sqitch deploy "$DATABASE_URL"'
expect_eq 0 "$rc" "guarded sqitch: $(err) $(cat "$work/out")"
expect_eq 1 "$(q "$sq" "SELECT count(*) FROM pg_tables WHERE tablename = 'widgets'")" "sqitch deployed"
grep -q "widgets" "$work/out" || fail "sqitch's output: $(cat "$work/out")"

# ---- dbmate (npm), with the postgres:// scheme it wants ---------------------------------
dbmate=$SRC/.cache/tools/node_modules/@dbmate/linux-x64/bin/dbmate
[ -x "$dbmate" ] || fail "dbmate is not installed (scripts/bootstrap installs it into .cache/tools)"
dm=$(mkdb dm)
mkdir -p "$work/dbmate/db/migrations"
cd "$work/dbmate"
sed 's/tool_scheme: db:pg/tool_scheme: postgres/' "$proj/otap.yaml" >otap.yaml
printf -- '-- migrate:up\nCREATE TABLE gadgets (id int);\n-- migrate:down\nDROP TABLE gadgets;\n' \
  >db/migrations/20260101000000_gadgets.sql
run env DATABASE_URL="$dm?sslmode=disable" "$OTAP" db guard --env development -- \
  sh -c 'case "$DATABASE_URL" in postgres://*) ;; *) echo "not postgres://" >&2; exit 9;; esac;
         exec "$0" --no-dump-schema up' "$dbmate"
expect_eq 0 "$rc" "guarded dbmate: $(err) $(cat "$work/out")"
grep -q "Applying: 20260101000000_gadgets.sql" "$work/out" || fail "dbmate's output: $(cat "$work/out")"
expect_eq 1 "$(q "$dm" "SELECT count(*) FROM pg_tables WHERE tablename = 'gadgets'")" "dbmate migrated"
expect_eq 20260101000000 "$(q "$dm" "SELECT version FROM schema_migrations")" "dbmate's own record"
# and otap takes over what dbmate applied
run env DATABASE_URL="$dm?sslmode=disable" "$OTAP" db baseline --env development
expect_eq 0 "$rc" "baseline after dbmate: $(err)"
grep -q "1 migration recorded as applied .*the versions dbmate's schema_migrations holds" "$work/out" || fail "$(cat "$work/out")"

# ---- baseline on PostgreSQL: every kind of object, drops and renames followed ----------
bl=$(mkdb baseline)
mkdir -p "$work/bl/db/migrations"
cd "$work/bl"
sed 's/tool_scheme: db:pg/tool_scheme: postgres/' "$proj/otap.yaml" >otap.yaml
cat >db/migrations/001_schema.sql <<'SQL'
-- migrate:up
CREATE TYPE mood AS ENUM ('ok', 'meh');
CREATE SEQUENCE IF NOT EXISTS ticket_seq;
CREATE TABLE "Accounts" (id bigint PRIMARY KEY, name text NOT NULL);
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS accounts_name ON "Accounts" (name);
CREATE TABLE scratch (id int);
CREATE MATERIALIZED VIEW account_names AS SELECT name FROM "Accounts";
SQL
cat >db/migrations/002_more.sql <<'SQL'
-- migrate:up
ALTER TABLE "Accounts" ADD COLUMN IF NOT EXISTS Email text, ADD CONSTRAINT email_set CHECK (Email <> '');
ALTER TABLE "Accounts" RENAME COLUMN email TO mail;
DROP TABLE scratch;
CREATE TABLE old_name (id int);
ALTER TABLE old_name RENAME TO new_name;
CREATE INDEX ON new_name (id);
SQL
cat >db/migrations/003_later.sql <<'SQL'
-- migrate:up
CREATE TABLE later (id int);
SQL
# what another tool left: the first two files' objects (no scratch, new_name renamed)
psql "$bl" -XAtq -v ON_ERROR_STOP=1 <<'SQL'
CREATE TYPE mood AS ENUM ('ok', 'meh');
CREATE SEQUENCE ticket_seq;
CREATE TABLE "Accounts" (id bigint PRIMARY KEY, name text NOT NULL, mail text);
CREATE UNIQUE INDEX accounts_name ON "Accounts" (name);
CREATE MATERIALIZED VIEW account_names AS SELECT name FROM "Accounts";
CREATE TABLE new_name (id int);
SQL
DATABASE_URL=$bl "$OTAP" -q db marker init --env development >/dev/null
run env DATABASE_URL="$bl" "$OTAP" db baseline --env development --to 002
expect_eq 0 "$rc" "baseline on PostgreSQL: $(err)"
grep -q "2 migrations recorded as applied .*the files in the folder; 7 objects found" "$work/out" || fail "$(cat "$work/out")"
expect_eq "001 002" "$(q "$bl" "SELECT string_agg(version, ' ' ORDER BY version) FROM otap_schema_migrations")" "recorded"
run env DATABASE_URL="$bl" "$OTAP" --json db status --env development
jq -e '[.migrations[].state] == ["applied", "applied", "pending"]' "$work/out" >/dev/null || fail "$(cat "$work/out")"
# a database missing some of it: each missing object named, nothing recorded
bl2=$(mkdb baseline2)
psql "$bl2" -XAtq -c 'CREATE TABLE "Accounts" (id bigint PRIMARY KEY, name text NOT NULL)'
DATABASE_URL=$bl2 "$OTAP" -q db marker init --env development >/dev/null
run env DATABASE_URL="$bl2" "$OTAP" db baseline --env development --to 002
expect_eq 4 "$rc" "baseline of a database that lacks objects"
for want in "creates type mood" "creates sequence ticket_seq" "creates index accounts_name" \
  "creates view account_names" "adds column mail to \"Accounts\"" "creates table new_name"; do
  grep -qF "$want, which the database does not have" "$work/err" || fail "not named: $want: $(err)"
done
grep -q "scratch" "$work/err" && fail "a dropped table was expected: $(err)"
expect_eq 0 "$(q "$bl2" "SELECT count(*) FROM pg_tables WHERE tablename = 'otap_schema_migrations'")" "a refused baseline wrote"

# ---- the password never leaves otap whole -------------------------------------------
cd "$proj"
pw=Gu4rdPassw0rdZx9Qv
secret_url="postgresql://otap:$pw@127.0.0.1:$PG_PORT/dev"
run env DATABASE_URL="$secret_url" "$OTAP" db guard --env development -- sh -c 'echo "url: $DATABASE_URL" >&2; echo "$DATABASE_URL"'
expect_eq 0 "$rc" "password in the URL: $(err)"
grep -q "${pw:0:6}" "$work/out" "$work/err" && fail "the password was printed: $(cat "$work/out" "$work/err")"
"$OTAP" ledger show | grep -q "${pw:0:6}" && fail "the password is in the ledger"
echo "db guard: alembic, sqitch and dbmate guarded, refusals before start, ledger recorded; baselines"
