#!/usr/bin/env bash
# otap db on SQLite, the embedded default: the same guarantees as on
# PostgreSQL (record rows, failures with their line, the marker, drift,
# rollback, the run lock, the schema gate) with a file for a database.
set -euo pipefail
. "$SRC/tests/harness/lib.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
proj=$work/proj
mkdir -p "$proj/db/migrations"
cd "$proj"
cat >otap.yaml <<'YAML'
project: lite
environments:
  - name: development
    marker: dev
  - name: test
    marker: test
config:
  DATABASE_URL: { type: url, schemes: [sqlite, postgresql], required: true }
database: { url: DATABASE_URL, schema: db/schema.sql }
YAML
export DATABASE_URL=sqlite:db/dev.sqlite3 OTAP_ACTOR=lite-bot
run() { set +e; "$OTAP" "$@" >"$work/out" 2>"$work/err"; rc=$?; set -e; }
q() { sqlite3 db/dev.sqlite3 "$1"; }
mig() { printf '%s' "$2" >"db/migrations/$1.sql"; }

mig 20260101000001_users "-- migrate:up
CREATE TABLE users (id integer PRIMARY KEY, name text NOT NULL);
CREATE TRIGGER users_name AFTER INSERT ON users BEGIN
  UPDATE users SET name = trim(NEW.name) WHERE id = NEW.id;
END;
INSERT INTO users (name) VALUES ('  a;b  ');
-- migrate:down
DROP TABLE users;
"
# before the file exists: no database yet, every migration pending, nothing created
run db status --env development
expect_eq 0 "$rc" "status before the file exists: $(cat "$work/err")"
grep -q "sqlite:db/dev.sqlite3 (no database yet)" "$work/out" || fail "$(cat "$work/out")"
grep -q "0 applied, 1 pending" "$work/out" || fail "$(cat "$work/out")"
run db migrate --env development --dry-run
expect_eq 0 "$rc" "dry run before the file exists: $(cat "$work/err")"
grep -q "1 migration to apply" "$work/out" || fail "$(cat "$work/out")"
[ ! -e db/dev.sqlite3 ] || fail "status or a dry run created the database file"
run db migrate --env development
expect_eq 0 "$rc" "migrate: $(cat "$work/err")"
[ -f db/dev.sqlite3 ] || fail "the database is not in the project root"
expect_eq dev "$(q "SELECT env FROM bk_env_marker")" "marker"
expect_eq "a;b" "$(q "SELECT name FROM users")" "trigger body with ';' ran as one statement"
expect_eq "lite-bot|$(sha256sum db/migrations/20260101000001_users.sql | cut -d' ' -f1)" \
  "$(q "SELECT applied_by, checksum FROM otap_schema_migrations")" "record row"
[[ "$(q "SELECT applied_at FROM otap_schema_migrations")" =~ ^20[0-9]{2}-[0-9]{2}-[0-9]{2}T ]] || fail "applied_at"

mig 20260101000002_broken "-- migrate:up
CREATE TABLE t2 (id int);
INSERT INTO t2 VALUES (1);
SELECT nosuchcol
  FROM t2;
"
run db migrate --env development
expect_eq 5 "$rc" "failed migration"
grep -q "20260101000002_broken.sql:4:8: no such column: nosuchcol" "$work/err" || fail "$(cat "$work/err")"
expect_eq "" "$(q "SELECT name FROM sqlite_master WHERE name = 't2'")" "t2 must not exist"
rm db/migrations/20260101000002_broken.sql

mig 20260101000003_more "-- migrate:up
CREATE TABLE more (id int);
-- migrate:down
DROP TABLE more;
"
run db migrate --env test
expect_eq 4 "$rc" "marker mismatch"
expect_eq "" "$(q "SELECT name FROM sqlite_master WHERE name = 'more'")" "mismatch applied"

# two runners at once: the file lock serialises them
for r in a b; do
  (r_rc=0 && { "$OTAP" -q db migrate --env development >"$work/$r.out" 2>&1 || r_rc=$?; } && echo "$r_rc" >"$work/$r.rc") &
done
wait
expect_eq "0 0" "$(cat "$work/a.rc") $(cat "$work/b.rc")" "concurrent runners: $(cat "$work/a.out" "$work/b.out")"
expect_eq 2 "$(q "SELECT count(*) FROM otap_schema_migrations")" "applied once"

run db dump-schema --env development
expect_eq 0 "$rc" "dump-schema: $(cat "$work/err")"
grep -q "CREATE TABLE more" db/schema.sql || fail "schema: $(cat db/schema.sql)"
run db verify --env development --schema
expect_eq 0 "$rc" "verify --schema: $(cat "$work/out")"
q "CREATE TABLE sneaky (id int)"
run db verify --env development --schema
expect_eq 1 "$rc" "verify --schema after a change"

run db rollback --env development
expect_eq 0 "$rc" "rollback: $(cat "$work/err")"
expect_eq "" "$(q "SELECT name FROM sqlite_master WHERE name = 'more'")" "down section ran"
echo "-- edited" >>db/migrations/20260101000001_users.sql
run db verify --env development
expect_eq 1 "$rc" "drift on SQLite"
grep -q "20260101000001_users.sql was changed after it was applied" "$work/out" || fail "$(cat "$work/out")"
echo "t0310: ok"
