#!/usr/bin/env bash
# otap env leaks, lint and parity against a real git repository:
#  - a secret in a tracked .env.production is a leak, also once it is gone
#    from the working tree; an untracked one is not; .env.example may be
#    tracked with empty or placeholder secrets only; no value is printed
#  - source reads of variables the contract does not name are reported
#  - parity names what differs between staging and production
set -euo pipefail
. "$SRC/tests/harness/lib.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
git init -q
git config user.email t@example.invalid
git config user.name test
"$OTAP" init --project audit >/dev/null

planted=Pl4nted-Tracked-S3cret-0a1b2c3d4e5f
"$OTAP" env sync >/dev/null
git add otap.yaml .env.example
git commit -qm "the contract"
out=$("$OTAP" env leaks)
grep -q 'no secret in a tracked dotenv file (1 tracked dotenv file)' <<<"$out" || fail "clean repo: $out"

# an untracked secret is not a leak; tracked, it is
printf 'SECRET_KEY=%s\nPORT=9000\n' "$planted" >.env.production
"$OTAP" env leaks >/dev/null || fail "an untracked .env.production counted as a leak"
git add .env.production
set +e
out=$("$OTAP" env leaks 2>&1); rc=$?
set -e
expect_eq 1 "$rc" "leaks with a tracked secret"
grep -q "^.env.production:1: 'SECRET_KEY' holds a secret in a file git tracks" <<<"$out" || fail "leak not named: $out"
grep -qF "$planted" <<<"$out" && fail "leaks printed the secret"
# gone from the working tree, still tracked: still a leak
rm .env.production
set +e
"$OTAP" env leaks >/dev/null; rc=$?
set -e
expect_eq 1 "$rc" "leaks after rm but still in the index"
git rm -q --cached .env.production
"$OTAP" env leaks >/dev/null || fail "leak after git rm --cached"

# .env.example with a real secret value
sed -i "s/^SECRET_KEY=\$/SECRET_KEY=$planted/" .env.example
git add .env.example
set +e
out=$("$OTAP" --json env leaks); rc=$?
set -e
expect_eq 1 "$rc" "leaks with a secret in .env.example"
expect_eq SECRET_KEY "$(jq -r '.leaks[0].variable' <<<"$out")" "the leaked variable"
grep -qF "$planted" <<<"$out" && fail "leaks --json printed the secret"
git checkout -q .env.example

# not a repository: an external failure, exit 5
nogit=$(mktemp -d)
cp otap.yaml "$nogit/"
set +e
"$OTAP" -C "$nogit" env leaks 2>"$work/nogit.err"; rc=$?
set -e
rm -rf "$nogit"
expect_eq 5 "$rc" "leaks outside a repository"
grep -q "cannot open a git repository" "$work/nogit.err" || fail "no reason: $(cat "$work/nogit.err")"

# lint: reads outside the contract
mkdir -p src
printf 'import os\nurl = os.environ["DATABASE_URL"]\nflag = os.getenv("NEW_FLAG")\nk = os.getenv("JWT_SECRET")\n' >src/app.py
printf 'const home = process.env.HOME;\n' >src/web.js
set +e
out=$("$OTAP" env lint); rc=$?
set -e
expect_eq 1 "$rc" "lint with unknown reads"
grep -qx "src/app.py:3:8: reads 'NEW_FLAG', which the config contract does not name" <<<"$out" || fail "lint: $out"
grep -qx "src/app.py:4:5: reads 'JWT_SECRET', a deprecated alias; read 'SECRET_KEY'" <<<"$out" || fail "lint alias: $out"
grep -q "DATABASE_URL\|HOME" <<<"$out" && fail "lint reported a known or system variable: $out"
"$OTAP" env lint src/web.js >/dev/null || fail "lint of a clean file"

# parity
printf 'SECRET_KEY=%s\nDATABASE_URL=postgresql+asyncpg://h/db\nCORS_ORIGINS=https://a.example\n' "$planted" >.env.staging
printf 'SECRET_KEY=%s-prod\nDATABASE_URL=postgresql://h/db\n' "$planted" >.env.production
set +e
out=$("$OTAP" env parity staging production); rc=$?
set -e
expect_eq 1 "$rc" "parity with differences"
grep -qx "'DATABASE_URL' uses postgresql+asyncpg:// in staging but postgresql:// in production" <<<"$out" || fail "parity scheme: $out"
grep -qx "'CORS_ORIGINS' is set in staging (.env.staging:3) but not in production" <<<"$out" || fail "parity presence: $out"
grep -qF "$planted" <<<"$out" && fail "parity printed a secret"
printf 'SECRET_KEY=%s-prod\nDATABASE_URL=postgresql+asyncpg://h/db\nCORS_ORIGINS=https://b.example\n' "$planted" >.env.production
"$OTAP" env parity A P >/dev/null || fail "parity when only values differ"
echo "ok: leaks, lint and parity"
