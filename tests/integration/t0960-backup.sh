#!/usr/bin/env bash
# otap backup against the harness PostgreSQL and a real S3 server (s3rver,
# from npm, standing in for R2): create to a directory and to S3 (a large
# dump as a multipart upload, encrypted), list, verify (a changed byte named),
# prune by age and by count (the newest verified kept), drills passing and
# failing (a truncated object, a catalog whose row count disagrees), kill -9
# mid-backup, wrong markers refused, restore with the hard lock, and planted
# credentials, key and password in no output, file or ledger entry.
set -euo pipefail
. "$SRC/tests/harness/lib.sh"
. "$SRC/tests/harness/pg.sh"

work=$(mktemp -d)
s3pid=
cleanup() {
  [ -n "$s3pid" ] && kill "$s3pid" 2>/dev/null || true
  pg_destroy
  rm -rf "$work"
}
trap cleanup EXIT
pg_start
psql() { command psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U otap "$@"; }
run() { set +e; "$@" >"$work/out" 2>"$work/err"; rc=$?; set -e; cat "$work/out" "$work/err" >>"$work/all-output"; }

s3rver=$SRC/.cache/tools/node_modules/.bin/s3rver
[ -x "$s3rver" ] || fail "s3rver is not installed: run scripts/bootstrap"
s3port=$(free_port 27600 27649)
mkdir -p "$work/s3"
"$s3rver" -d "$work/s3" -a 127.0.0.1 -p "$s3port" --configure-bucket backups >"$work/s3.log" 2>&1 &
s3pid=$!
for _ in $(seq 1 100); do curl -s "http://127.0.0.1:$s3port/" >/dev/null 2>&1 && break; sleep 0.1; done

# the planted values: none may ever be seen
S3SECRET="planted-s3-secret-$RANDOM-b1f7e0"
KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d " \n")
PGPASS="planted-pg-pass-$RANDOM-77ac"
mkdir "$work/p"
cd "$work/p"
cat >otap.yaml <<'EOF'
project: bk
environments:
  - { name: development, marker: dev }
  - { name: staging, marker: staging }
  - { name: production, marker: prod, protected: true, requires: [drill] }
config:
  ENVIRONMENT: { type: enum, values: [development, staging, production], required: true }
  DATABASE_URL: { type: url, schemes: [postgresql], required: true }
  S3_ENDPOINT: { type: url, schemes: [http, https] }
  S3_ACCESS_KEY: { type: string }
  S3_SECRET_KEY: { type: secret }
  BACKUP_KEY: { type: secret }
database: { url: DATABASE_URL, migrations: db/migrations }
backups:
  development: { target: "dir:.otap/backups", keep_days: 7, keep_last: 3 }
  staging: { target: "dir:.otap/staging-backups", keep_days: 0, keep_last: 1, zstd_level: 1 }
  production:
    target: "s3://backups/databiz/production"
    endpoint: S3_ENDPOINT
    region: auto
    access_key: S3_ACCESS_KEY
    secret_key: S3_SECRET_KEY
    keep_days: 90
    keep_last: 30
    encrypt_with: BACKUP_KEY
    drill_every: 90d
EOF
mkdir -p db/migrations
cat >db/migrations/20260101000000_items.sql <<'EOF'
-- migrate:up
CREATE TABLE items (id bigserial PRIMARY KEY, name text NOT NULL, note text);
CREATE INDEX items_name ON items (name);
-- migrate:down
DROP TABLE items;
EOF
for db in app_dev app_staging app_prod; do psql -d otap -c "CREATE DATABASE $db"; done
# trust authentication: the password is sent and ignored, so it can be planted
url() { echo "postgresql://otap:$PGPASS@127.0.0.1:$PG_PORT/$1"; }
printf 'ENVIRONMENT=development\nDATABASE_URL=%s\n' "$(url app_dev)" >.env.development
printf 'ENVIRONMENT=staging\nDATABASE_URL=%s\n' "$(url app_staging)" >.env.staging
printf 'ENVIRONMENT=production\nDATABASE_URL=%s\nS3_ENDPOINT=http://127.0.0.1:%s\nS3_ACCESS_KEY=S3RVER\nS3_SECRET_KEY=%s\nBACKUP_KEY=%s\n' \
  "$(url app_prod)" "$s3port" "$S3SECRET" "$KEY" >.env.production
export OTAP_ACTOR="backup tester"
"$OTAP" db migrate --env development >/dev/null
"$OTAP" db migrate --env staging >/dev/null
CONFIRM_PROD_MIGRATE=YES "$OTAP" db marker init --env production >/dev/null
CONFIRM_PROD_MIGRATE=YES "$OTAP" db migrate --env production >/dev/null
psql -d app_dev -c "INSERT INTO items (name, note) SELECT 'item ' || g, md5(g::text) FROM generate_series(1, 5000) g"
psql -d app_staging -c "INSERT INTO items (name) SELECT 'x' || g FROM generate_series(1, 100) g"
# production: a dump over 8 MiB after compression, so it goes up in parts
psql -d app_prod -c "INSERT INTO items (name, note) SELECT md5(g::text), md5((g * 7)::text) || md5((g * 13)::text) || md5((g * 17)::text) FROM generate_series(1, 400000) g"

# ---- create, list, verify: a directory -----------------------------------------------------------
run "$OTAP" --json backup create --env development
expect_eq 0 "$rc" "create to a directory: $(cat "$work/err")"
dev1=$(jq -r .backup.id "$work/out")
jq -e '.backup | .tables["public.items"] == 5000 and .marker == "dev" and .migrations == ["20260101000000"] and (.schema_hash | length) == 64 and .encrypted == false' \
  "$work/out" >/dev/null || fail "the catalog entry: $(cat "$work/out")"
[ -f ".otap/backups/$dev1.json" ] && [ -f ".otap/backups/$dev1.dump.zst" ] || fail "the objects: $(ls .otap/backups)"
[ ! -e ".otap/backups/$dev1.running" ] || fail "the running marker stayed"
expect_eq 600 "$(stat -c %a ".otap/backups/$dev1.dump.zst")" "a dump is readable by its owner alone"
run "$OTAP" backup verify --env development
expect_eq 0 "$rc" "verify: $(cat "$work/out" "$work/err")"
# a changed byte: verify fails and names the backup
cp ".otap/backups/$dev1.dump.zst" "$work/orig"
printf '\x55' | dd of=".otap/backups/$dev1.dump.zst" bs=1 seek=3000 conv=notrunc 2>/dev/null
run "$OTAP" backup verify --env development --id "$dev1"
expect_eq 1 "$rc" "a changed byte"
grep -q "backup $dev1: the object's SHA-256 is" "$work/out" || fail "the checksum: $(cat "$work/out")"
cp "$work/orig" ".otap/backups/$dev1.dump.zst"

# ---- S3: encrypted, multipart ----------------------------------------------------------------------
run "$OTAP" --json backup create --env production
expect_eq 0 "$rc" "create to S3: $(cat "$work/err")"
prod1=$(jq -r .backup.id "$work/out")
jq -e '.backup | .encrypted and .size > 8388608 and .tables["public.items"] == 400000 and .marker == "prod"' "$work/out" >/dev/null ||
  fail "the S3 entry (over one part): $(cat "$work/out")"
# s3rver keeps each object as KEY._S3rver_object
obj="$work/s3/backups/databiz/production/$prod1.dump.zst.enc._S3rver_object"
[ -f "$obj" ] || fail "no object in the bucket: $(find "$work/s3" -type f | head)"
expect_eq OTAPENC1 "$(head -c 8 "$obj")" "the object is encrypted"
run "$OTAP" --json backup list --env production
jq -e --arg id "$prod1" '.backups[0].id == $id and (.partial | length) == 0' "$work/out" >/dev/null || fail "list: $(cat "$work/out")"
run "$OTAP" backup verify --env production
expect_eq 0 "$rc" "verify over S3: $(cat "$work/out" "$work/err")"

# ---- drills ----------------------------------------------------------------------------------------
# production requires a recent drill: none yet
"$OTAP" artifact register --digest "sha256:$(printf '%064d' 1)" --version 1.0.0 >/dev/null
run "$OTAP" --json explain --env production --artifact 1.0.0
jq -e '[.. | strings | select(test("gate .drill.: no restore drill of production.s backups has passed"))] | length >= 1' "$work/out" >/dev/null ||
  fail "the drill gate before a drill: $(cat "$work/out")"
run "$OTAP" --json backup drill --due
expect_eq 1 "$rc" "a drill is due before any"
run "$OTAP" --json backup drill --env production
expect_eq 0 "$rc" "a drill: $(cat "$work/out" "$work/err")"
jq -e '.drill | .ok and .rto_ms >= 0 and .rpo_s >= 0 and .differences == []' "$work/out" >/dev/null || fail "$(cat "$work/out")"
scratch=$(jq -r .drill.database "$work/out")
run "$OTAP" --json explain --env production --artifact 1.0.0
jq -e '[.. | strings | select(test("gate .drill."))] | length == 0' "$work/out" >/dev/null ||
  fail "the drill gate after a drill: $(cat "$work/out")"
psql -d otap -Atc "SELECT count(*) FROM pg_database WHERE datname = '$scratch'" | grep -qx 0 || fail "the scratch database stayed"
# into a database given: its marker is 'drill', never the production marker
psql -d otap -c "CREATE DATABASE drillcopy"
run "$OTAP" backup drill --env production --into "postgresql://otap@127.0.0.1:$PG_PORT/drillcopy"
expect_eq 0 "$rc" "a drill into a given database: $(cat "$work/out" "$work/err")"
expect_eq drill "$(psql -d drillcopy -Atc 'SELECT env FROM bk_env_marker')" "the restored copy's marker"
expect_eq 400000 "$(psql -d drillcopy -Atc 'SELECT count(*) FROM items')" "the restored rows"
# a catalog whose row count disagrees
cp ".otap/backups/$dev1.json" "$work/entry"
jq '.tables["public.items"] = 4999' "$work/entry" >".otap/backups/$dev1.json"
run "$OTAP" backup drill --env development --from "$dev1"
expect_eq 1 "$rc" "a drill against a catalog that disagrees"
grep -q "table public.items has 5000 rows restored, 4999 in the catalog" "$work/out" || fail "$(cat "$work/out")"
cp "$work/entry" ".otap/backups/$dev1.json"
# a truncated object
head -c 2000 "$work/orig" >".otap/backups/$dev1.dump.zst"
run "$OTAP" backup drill --env development --from "$dev1"
expect_eq 1 "$rc" "a drill of a truncated backup"
grep -q "FAILED" "$work/out" || fail "$(cat "$work/out")"
cp "$work/orig" ".otap/backups/$dev1.dump.zst"
run "$OTAP" --json ledger show
jq -e '[.entries[] | select(.action == "backup.drill")] | (map(select(.details.ok)) | length) == 2 and (map(select(.details.ok | not)) | length) == 2' \
  "$work/out" >/dev/null || fail "drill receipts: $(jq -c '[.entries[] | select(.action == "backup.drill") | .details.ok]' "$work/out")"
jq -e '[.entries[] | select(.action == "backup.drill" and .details.ok)][0].details | has("rto_ms") and has("rpo_s")' "$work/out" >/dev/null || fail "RTO and RPO"
run "$OTAP" --json backup drill --due
expect_eq 0 "$rc" "no drill is due after one passed: $(cat "$work/out")"

# ---- wrong markers ----------------------------------------------------------------------------------
printf 'ENVIRONMENT=development\nDATABASE_URL=%s\n' "$(url app_prod)" >.env.development
run "$OTAP" backup create --env development
expect_eq 4 "$rc" "backing up production's database as development"
grep -q "prod" "$work/err" || fail "the marker is not named: $(cat "$work/err")"
run "$OTAP" backup restore --env development --from "$dev1"
expect_eq 4 "$rc" "restoring development's backup into production's database"
expect_eq 400000 "$(psql -d app_prod -Atc 'SELECT count(*) FROM items')" "production untouched"
printf 'ENVIRONMENT=development\nDATABASE_URL=%s\n' "$(url app_dev)" >.env.development

# ---- restore ---------------------------------------------------------------------------------------
psql -d app_dev -c "DELETE FROM items WHERE id > 10"
run "$OTAP" backup restore --env development --from "$dev1"
expect_eq 0 "$rc" "restore: $(cat "$work/out" "$work/err")"
expect_eq 5000 "$(psql -d app_dev -Atc 'SELECT count(*) FROM items')" "the rows are back"
expect_eq dev "$(psql -d app_dev -Atc 'SELECT env FROM bk_env_marker')" "the marker is development's"
run "$OTAP" backup restore --env production --from "$prod1"
expect_eq 4 "$rc" "production without the hard lock"
grep -q "CONFIRM_PROD_MIGRATE" "$work/err" || fail "$(cat "$work/err")"

# ---- kill -9 mid-backup, then prune --------------------------------------------------------------
psql -d app_staging -c "INSERT INTO items (name, note) SELECT md5(g::text), repeat(md5(g::text), 8) FROM generate_series(1, 1500000) g"
"$OTAP" backup create --env staging >/dev/null 2>&1 &
bpid=$!
for _ in $(seq 1 200); do
  f=$(ls .otap/staging-backups/*.dump.zst 2>/dev/null | head -n 1 || true)
  [ -n "$f" ] && [ "$(stat -c %s "$f")" -gt 100000 ] && break
  sleep 0.05
done
kill -9 "$bpid"
wait "$bpid" 2>/dev/null || true
ls .otap/staging-backups/*.json >/dev/null 2>&1 && fail "a killed backup left a catalog entry"
run "$OTAP" --json backup list --env staging
jq -e '.backups == [] and (.partial | length) == 1 and (.partial[0].in_progress | not)' "$work/out" >/dev/null || fail "the partial backup: $(cat "$work/out")"
run "$OTAP" backup prune --env staging
grep -q "would remove" "$work/out" || fail "dry run: $(cat "$work/out")"
[ -n "$(ls .otap/staging-backups/)" ] || fail "a dry run deleted"
run "$OTAP" backup prune --env staging --apply
expect_eq 0 "$rc" "prune: $(cat "$work/err")"
expect_eq "" "$(ls .otap/staging-backups/)" "the partial objects are gone"

# ---- prune by count and by age; the newest verified stays ----------------------------------------
psql -d app_staging -c "TRUNCATE items"
for _ in 1 2 3; do "$OTAP" backup create --env staging >/dev/null; sleep 0.01; done
ids=($(ls .otap/staging-backups/*.json | xargs -n1 basename | sed 's/\.json$//' | sort))
"$OTAP" backup verify --env staging --id "${ids[0]}" >/dev/null
run "$OTAP" --json backup prune --env staging --apply
expect_eq 0 "$rc" "prune by count"
jq -e --arg mid "${ids[1]}" '[.delete[].id] == [$mid]' "$work/out" >/dev/null || fail "keep_last 1 and the newest verified: $(cat "$work/out")"
[ -f ".otap/staging-backups/${ids[0]}.json" ] && [ -f ".otap/staging-backups/${ids[2]}.json" ] || fail "what was kept"
[ ! -e ".otap/staging-backups/${ids[1]}.dump.zst" ] || fail "the data of a pruned backup stayed"
# by age: development keeps 3 and 7 days; make two old ones, and two more recent
for _ in 1 2 3; do "$OTAP" backup create --env development >/dev/null; sleep 0.01; done
old=($(ls .otap/backups/*.json | xargs -n1 basename | sed 's/\.json$//' | sort | head -n 2))
for id in "${old[@]}"; do
  jq '.finished = "2026-01-01T00:00:00.000Z"' ".otap/backups/$id.json" >"$work/e" && cp "$work/e" ".otap/backups/$id.json"
done
run "$OTAP" --json backup prune --env development --apply
jq -e '(.delete | length) == 1' "$work/out" >/dev/null || fail "by age, beyond keep_last: $(cat "$work/out")"
expect_eq 3 "$(ls .otap/backups/*.json | wc -l)" "three kept"
run "$OTAP" ledger verify
expect_eq 0 "$rc" "the ledger holds"

# ---- status shows the last backup and drill --------------------------------------------------------
run "$OTAP" --json status --no-probe
jq -e '.environments[] | select(.name == "production") | .backup.last.id and .backup.drill.ok' "$work/out" >/dev/null ||
  fail "status: $(jq -c '.environments[] | select(.name == "production") | .backup' "$work/out")"

# ---- nothing planted was ever seen ------------------------------------------------------------------
"$OTAP" --json ledger show >"$work/ledger"
for secret in "$S3SECRET" "$KEY" "$PGPASS"; do
  for f in "$work/all-output" "$work/ledger" "$work/s3.log"; do
    grep -qF "$secret" "$f" && fail "a planted value in $f"
  done
  grep -rqF "$secret" .otap/backups .otap/staging-backups && fail "a planted value in a catalog"
  grep -rlF "$secret" "$work/s3" | grep -v "\.enc" | grep -q . && fail "a planted value in the bucket"
done
echo ok
