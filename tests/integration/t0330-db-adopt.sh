#!/usr/bin/env bash
# Adopting migrations another tool wrote (SQLite, no server needed):
#  - dbmate's own test data and its file-name variants (001_x.sql,
#    20240301_x.sql, a version with no name, dots in names) are read,
#    ordered and applied as dbmate orders them
#  - a file otap cannot parse is that file's error in status and lint,
#    listed with the rest; migrate refuses (exit 3) and writes nothing
#  - status and migrate --dry-run before the SQLite file exists: no
#    database yet, every migration pending, nothing created
#  - db baseline takes over what dbmate applied (its schema_migrations),
#    after the marker and only when the tables its files create exist
#  - db lint FILE without otap.yaml: dbmate files and plain SQL (Flyway,
#    sqitch), a skipped .py named and never "no unsafe statement" alone
set -euo pipefail
. "$SRC/tests/harness/lib.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
run() { set +e; "$@" >"$work/out" 2>"$work/err"; rc=$?; set -e; }
out() { cat "$work/out"; }
err() { cat "$work/err"; }

proj=$work/proj
mkdir -p "$proj"
cd "$proj"
cat >otap.yaml <<'YAML'
project: adopt
environments:
  - name: development
    marker: dev
config:
  DATABASE_URL: { type: url, schemes: [sqlite], required: true }
database: { url: DATABASE_URL, migrations: db/migrations }
YAML
export DATABASE_URL=sqlite:db/dev.sqlite3
mkdir -p db/migrations
cp "$SRC"/tests/fixtures/dbmate/db/migrations/*.sql db/migrations/
# dbmate's TestFindMigrationsFS set, and the other variants dbmate reads
printf -- '-- migrate:up\ncreate table accounts (id integer, name text);\n-- migrate:down\ndrop table accounts;\n' \
  >db/migrations/001_test_migration.sql
printf -- '-- migrate:up\ncreate table tags (id integer);\n' >db/migrations/002_test_migration.sql
printf 'not a migration\n' >db/migrations/003_not_sql.txt
printf -- '-- migrate:up\ncreate table events (id integer);\n' >db/migrations/20240301_add.events.sql
printf -- '-- migrate:up\ncreate table notes (id integer);\n' >db/migrations/20240302.sql

# ---- before the database exists ------------------------------------------------------
run "$OTAP" db status --env development
expect_eq 0 "$rc" "status before the file exists: $(err)"
grep -q "(no database yet)" "$work/out" || fail "$(out)"
expect_eq "001 002 20151129054053 20200227231541 20240301 20240302" \
  "$("$OTAP" --json db status --env development | jq -r '[.migrations[].version] | join(" ")')" "dbmate's order"
expect_eq "add.events" "$("$OTAP" --json db status --env development | jq -r '.migrations[] | select(.version == "20240301") | .name')" "a name with dots"
expect_eq "" "$("$OTAP" --json db status --env development | jq -r '.migrations[] | select(.version == "20240302") | .name')" "a version with no name"
run "$OTAP" db migrate --env development --dry-run
expect_eq 0 "$rc" "dry run before the file exists: $(err)"
grep -q "6 migrations to apply" "$work/out" || fail "$(out)"
[ ! -e db/dev.sqlite3 ] || fail "status or a dry run created the database"

# ---- one file otap cannot parse: listed with the rest, migrate refuses ---------------------
printf -- '-- migrate:up\ncreate table mv (id integer);\n' >db/migrations/missing_version.sql
printf -- 'create table nomarker (id integer);\n' >db/migrations/20240303_no_marker.sql
run "$OTAP" db status --env development
expect_eq 3 "$rc" "status with invalid files"
grep -q "^001 .*pending" "$work/out" || fail "the valid files are not listed: $(out)"
grep -q "missing_version.sql: not a migration name" "$work/out" || fail "$(out)"
grep -q "20240303_no_marker.sql:1: no '-- migrate:up' line" "$work/out" || fail "$(out)"
grep -q "6 pending, 2 invalid files" "$work/out" || fail "$(out)"
"$OTAP" --json db status --env development >"$work/status.json" || true
jq -e '.ok == false and .invalid_files == 2 and (.migrations | length) == 6 and
  (.diagnostics | length) == 2' "$work/status.json" >/dev/null || fail "status --json: $(cat "$work/status.json")"
run "$OTAP" db lint
expect_eq 3 "$rc" "lint with invalid files"
grep -q "6 files linted: no unsafe statement; 2 files could not be read or parsed" "$work/out" || fail "$(out) $(err)"
grep -q "missing_version.sql: not a migration name" "$work/err" || fail "$(err)"
run "$OTAP" db migrate --env development
expect_eq 3 "$rc" "migrate with invalid files"
grep -q "nothing was run" "$work/err" || fail "$(err)"
[ ! -e db/dev.sqlite3 ] || fail "a refused migrate created the database"
rm db/migrations/missing_version.sql db/migrations/20240303_no_marker.sql

# ---- apply in dbmate's order ----------------------------------------------------------------
run "$OTAP" db migrate --env development
expect_eq 0 "$rc" "migrate dbmate's files: $(err)"
expect_eq "001 002 20151129054053 20200227231541 20240301 20240302" \
  "$(sqlite3 db/dev.sqlite3 "SELECT group_concat(version, ' ') FROM (SELECT version FROM otap_schema_migrations ORDER BY version)")" "applied"
expect_eq alice "$(sqlite3 db/dev.sqlite3 "SELECT name FROM users")" "dbmate's own migration ran"
run "$OTAP" db status --env development
expect_eq 0 "$rc" "status after"
grep -q "6 applied, 0 pending" "$work/out" || fail "$(out)"

# ---- baseline: a database dbmate migrated, taken over ---------------------------------------
taken=$work/taken
mkdir -p "$taken"
cd "$taken"
cp "$proj/otap.yaml" .
mkdir -p db/migrations
cp "$SRC"/tests/fixtures/dbmate/db/migrations/*.sql db/migrations/
export DATABASE_URL=sqlite:db/app.sqlite3
# what 'dbmate up' left after the first of its two test migrations
sqlite3 db/app.sqlite3 "create table users (id integer, name varchar(255));
  insert into users values (1, 'alice');
  create table schema_migrations (version varchar(128) primary key);
  insert into schema_migrations values ('20151129054053');"
run "$OTAP" db baseline --env development
expect_eq 4 "$rc" "baseline without a marker"
grep -q "no marker table bk_env_marker" "$work/err" || fail "$(err)"
"$OTAP" -q db marker init --env development >/dev/null
sqlite3 db/app.sqlite3 "alter table users rename to people"
run "$OTAP" db baseline --env development
expect_eq 4 "$rc" "baseline with a missing table"
grep -q "20151129054053_test_migration.sql:2 creates table users, which the database does not have" "$work/err" || fail "$(err)"
expect_eq 0 "$(sqlite3 db/app.sqlite3 "SELECT count(*) FROM sqlite_master WHERE name = 'otap_schema_migrations'")" "a refused baseline wrote"
sqlite3 db/app.sqlite3 "alter table people rename to users"
run "$OTAP" db baseline --env development --dry-run
expect_eq 0 "$rc" "baseline dry run: $(err)"
grep -q "would record db/migrations/20151129054053_test_migration.sql" "$work/out" || fail "$(out)"
run "$OTAP" db baseline --env development
expect_eq 0 "$rc" "baseline: $(err)"
grep -q "1 migration recorded as applied .*the versions dbmate's schema_migrations holds" "$work/out" || fail "$(out)"
expect_eq "20151129054053|baseline" "$(sqlite3 db/app.sqlite3 "SELECT version, applied_by FROM otap_schema_migrations")" "recorded by baseline"
expect_eq "$(sha256sum db/migrations/20151129054053_test_migration.sql | cut -d' ' -f1)" \
  "$(sqlite3 db/app.sqlite3 "SELECT checksum FROM otap_schema_migrations")" "its checksum"
run "$OTAP" --json db status --env development
jq -e '[.migrations[] | .state] == ["applied", "pending"]' "$work/out" >/dev/null || fail "status after the baseline: $(out)"
"$OTAP" --json ledger show | jq -e '[.entries[] | select(.action == "migrate.baseline")] | length == 1' >/dev/null ||
  fail "the ledger has no migrate.baseline"
run "$OTAP" db migrate --env development
expect_eq 0 "$rc" "migrate after the baseline: $(err)"
grep -q "1 migration applied" "$work/out" || fail "$(out)"
expect_eq 1 "$(sqlite3 db/app.sqlite3 "SELECT count(*) FROM users")" "the baselined migration did not run again"
export DATABASE_URL=sqlite:db/dev.sqlite3

# ---- lint any SQL, no otap.yaml needed --------------------------------------------------------
loose=$work/loose
mkdir -p "$loose/deploy"
cd "$loose"
printf "SET lock_timeout = '2s';\nALTER TABLE t DROP COLUMN c;\n" >V2__drop_c.sql
printf 'CREATE INDEX idx_t_c ON t (c);\n' >deploy/index.sql
printf 'print("alembic")\n' >0001_initial.py
run "$OTAP" db lint "$SRC"/tests/fixtures/dbmate/db/migrations/*.sql
expect_eq 0 "$rc" "dbmate's files without otap.yaml: $(out) $(err)"
grep -q "2 files: no unsafe statement" "$work/out" || fail "$(out)"
run "$OTAP" db lint V2__drop_c.sql deploy/index.sql
expect_eq 1 "$rc" "plain SQL files"
grep -q "V2__drop_c.sql:2:.*drop-column" "$work/out" || fail "$(out)"
grep -q "deploy/index.sql:1:.*index-not-concurrent" "$work/out" || fail "$(out)"
run "$OTAP" db lint 0001_initial.py
expect_eq 4 "$rc" "only a skipped file"
grep -q "skipped 0001_initial.py: not SQL" "$work/out" || fail "$(out)"
grep -q "no unsafe statement" "$work/out" && fail "a skipped file was vouched for: $(out)"
"$OTAP" --json db lint 0001_initial.py V2__drop_c.sql >"$work/lint.json" || true
jq -e '.skipped == ["0001_initial.py"] and .files == 1' "$work/lint.json" >/dev/null ||
  fail "lint --json skipped: $(cat "$work/lint.json")"
run "$OTAP" db lint
expect_eq 3 "$rc" "lint without files or otap.yaml"
grep -q "name the files to lint" "$work/err" || fail "$(err)"
echo "db adopt: dbmate's files and names, invalid files listed, plain SQL linted"
