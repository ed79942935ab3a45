#!/usr/bin/env bash
# The config contract end to end with the real binary on real files:
#  - a secret planted in a dotenv file, in the process environment and in a
#    URL never appears in any output (stdout or stderr) of any command;
#  - 'otap run' with a required variable missing never starts the child:
#    no file it would write, no process it would leave;
#  - 'otap run' hands the child the canonical set and its exit status back;
#  - .env.example and the docs table are generated, and --check notices drift.
set -euo pipefail
. "$SRC/tests/harness/lib.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

planted=Pl4nted-S3cret-9f8e7d6c5b4a3928-zx
planted_pw=Pl4nted-DbPassw0rd-77aa
"$OTAP" init --project t >/dev/null
cat >>otap.yaml <<'YAML'
docs:
  config: CONFIG.md
YAML
printf '# Config\n\n<!-- otap:config:begin -->\nstale\n<!-- otap:config:end -->\n\nThe end.\n' >CONFIG.md

cat >.env.staging <<ENV
SECRET_KEY=$planted
DATABASE_URL=postgresql+asyncpg://app:${planted_pw}@db.internal:5432/app
ENVIRONMENT=staging
ENV
cat >.env.production <<ENV
SECRET_KEY=$planted
ENVIRONMENT=production
POSTGRES_USER=app
POSTGRES_PASSWORD=$planted_pw
POSTGRES_DB=app
JWT_SECRET=changeme
ENV

all="$work/all-output"
: >"$all"
# every command, every output stream, collected into one file
record() { "$@" >>"$all" 2>&1 || true; }
export JWT_ALGORITHM=HS512
for env in development test staging production; do
  record "$OTAP" env check --env "$env"
  record "$OTAP" env check --env "$env" --json
  record "$OTAP" env show --env "$env"
  record "$OTAP" env show --env "$env" --json
  record "$OTAP" env show --env "$env" --reveal   # refused: not a terminal
  record "$OTAP" run --env "$env" -- true
done
SECRET_KEY=$planted record "$OTAP" env check --env development
SECRET_KEY=$planted record "$OTAP" env show --env development --json
record "$OTAP" env example
record "$OTAP" env sync --check
record "$OTAP" explain
record "$OTAP" check --json
grep -qF -- "$planted" "$all" && fail "the planted secret appears in output: $(grep -nF -- "$planted" "$all" | head -3)"
grep -qF -- "$planted_pw" "$all" && fail "the planted password appears in output: $(grep -nF -- "$planted_pw" "$all" | head -3)"
grep -q 'postgresql://app:\*\*\*@db.internal:5432/app' "$all" || fail "the URL is not shown redacted"
grep -q "'SECRET_KEY' in production is the same as in staging" "$all" || fail "shared secret not reported"

# run refuses without a trace when a required variable is missing
set +e
"$OTAP" run --env production -- sh -c 'touch "$0/started"; sleep 30' "$work" 2>"$work/run.err"
rc=$?
set -e
expect_eq 4 "$rc" "otap run with a broken contract"
[ ! -e "$work/started" ] || fail "the child ran"
# the child's command line would hold this test's own temporary directory
pgrep -f -- "$work" >/dev/null && fail "the child left a process: $(pgrep -af -- "$work")"
grep -q "refusing to start 'sh'" "$work/run.err" || fail "no refusal message: $(cat "$work/run.err")"

# run hands over the canonical set: alias renamed, URL normalised, defaults, ENVIRONMENT
rm .env.production
set +e
DATABASE_URL="postgres://u:${planted_pw}@h/db" JWT_SECRET=$planted "$OTAP" run --env development -- \
  sh -c 'env > "$0/child.env"; exit 7' "$work"
rc=$?
set -e
expect_eq 7 "$rc" "the child's exit status"
grep -qx "SECRET_KEY=$planted" child.env || fail "SECRET_KEY not handed over under its canonical name"
grep -q '^JWT_SECRET=' child.env && fail "the alias JWT_SECRET was passed on"
grep -q '^JWT_ALGORITHM=' child.env && fail "the alias JWT_ALGORITHM was passed on"
grep -qx 'ALGORITHM=HS512' child.env || fail "the alias value did not become ALGORITHM"
grep -qx "DATABASE_URL=postgresql://u:${planted_pw}@h/db" child.env || fail "URL not normalised"
grep -qx 'ENVIRONMENT=development' child.env || fail "ENVIRONMENT not set"
grep -qx 'ACCESS_TOKEN_EXPIRE_MINUTES=30' child.env || fail "default not applied"

# .env.example and the docs table
set +e
"$OTAP" env sync --check >/dev/null; rc=$?
set -e
expect_eq 1 "$rc" "sync --check before the first sync"
"$OTAP" env sync >/dev/null
"$OTAP" env sync --check >/dev/null || fail "sync --check right after sync"
grep -q '^| `SECRET_KEY` | secret | required in staging, production |' CONFIG.md || fail "docs table: $(cat CONFIG.md)"
grep -q '^The end.$' CONFIG.md || fail "text after the markers was lost"
grep -qx 'SECRET_KEY=' .env.example || fail ".env.example holds a secret value"
# the generated example parses back to exactly the contract's names
"$OTAP" env example | grep -E '^[A-Z_]+=' | cut -d= -f1 | sort >names.got
"$OTAP" --json explain --env development | jq -r '.environments[0].config[].name' | sort >names.want
diff names.want names.got || fail ".env.example names differ from the contract"
sed -i 's/^ALGORITHM=HS256$/ALGORITHM=HS384/' .env.example
set +e
out=$("$OTAP" env sync --check); rc=$?
set -e
expect_eq 1 "$rc" "sync --check after an edit"
grep -q '.env.example: differs' <<<"$out" || fail "drift not named: $out"
echo "ok: no planted secret in any output; run refuses without a trace; sync detects drift"
