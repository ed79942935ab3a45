#!/usr/bin/env bash
# otap secrets against a real git repository made here:
#  - --git finds a secret added and removed in a later commit, with the
#    commit that introduced it (id, author, date) and its path; it reads
#    every branch; --since takes a revision's history as scanned
#  - a working tree honours .gitignore (and --no-ignore), skips binary and
#    large files and counts them, honours an otap:allow comment
#  - --staged sees what is staged, not the working tree; the hook installed
#    by 'secrets hook install' stops a commit that adds a secret
#  - a baseline silences exactly the findings it accepted
#  - otap.yaml's custom rules, allowlists and a bad rule (exit 3)
#  - --stdin, --json and SARIF 2.1.0 as code scanning reads it
#  - gitleaks' own fixtures, and the gitleaks rule ids otap's rules name
#  - no output of any mode holds a planted secret whole
set -euo pipefail
. "$SRC/tests/harness/lib.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OTAP_CACHE_DIR="$work/cache"
out="$work/all-output" # everything otap printed, grepped for secrets at the end
: >"$out"

# otap ARGS...: runs otap here, keeps its stdout in $work/stdout, its exit in $rc
run() {
  set +e
  "$OTAP" "$@" >"$work/stdout" 2>"$work/stderr"
  rc=$?
  set -e
  cat "$work/stdout" "$work/stderr" >>"$out"
}
json() { jq -r "$1" "$work/stdout"; }
show() { cat "$work/stdout" "$work/stderr" >&2; }

# Secrets planted in this test: random strings in each format, made here.
gh=ghp_Q7wE9rT1yU3iO5pA7sD9fG1hJ3kL5zX7cV9b
aws=AKIAQ3RS7TUV2WXY4Z5A
glpat=glpat-Xy7Qm2Rt9Lk4Vb8Nc3Zp
stripe=sk_live_9f8E7d6C5b4A3z2Y1x0WvUtS
slack=xoxb-583920417265-6029384751620-Ab3De5Gh7Jk9Mn1Pq3St5Vw7
dbpw=q9X-2mVr-8LpT-4hZw
sg=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
npm=npm_Zx9Cv8Bn7Mq6Wl5Ek4Rj3Th2Yg1Uf0Id9Os8
planted=("$gh" "$aws" "$glpat" "$stripe" "$slack" "$dbpw" "$sg" "$npm")

repo="$work/repo"
mkdir -p "$repo"
cd "$repo"
git init -q -b main
git config user.email alice@example.invalid
git config user.name "Alice Example"
git config commit.gpgsign false

# ---- history -----------------------------------------------------------------
echo "# app" >README.md
git add README.md
GIT_AUTHOR_DATE="2026-01-02T03:04:05+01:00" git commit -qm "start"
mkdir app
printf 'import os\n\nGITHUB_TOKEN = "%s"\n' "$gh" >app/settings.py
git add app/settings.py
GIT_AUTHOR_DATE="2026-02-03T04:05:06+01:00" git commit -qm "settings"
introduced=$(git rev-parse HEAD)
printf 'import os\n\nGITHUB_TOKEN = os.environ["GITHUB_TOKEN"]\n' >app/settings.py
git commit -qam "read the token from the environment"
removed=$(git rev-parse HEAD)
git checkout -q -b feature
printf 'aws_access_key_id = %s\n' "$aws" >deploy.cfg
git add deploy.cfg
git commit -qm "deploy config"
git checkout -q main

run secrets scan --json
[ "$rc" = 0 ] || { show; fail "the working tree no longer holds the secret"; }

run secrets scan --git --json
expect_eq 1 "$rc" "--git exit"
expect_eq 2 "$(json '.findings | length')" "--git findings (main and the feature branch)"
expect_eq github-pat "$(json '.findings[] | select(.file == "app/settings.py") | .rule')" "rule"
expect_eq 3 "$(json '.findings[] | select(.file == "app/settings.py") | .line')" "line"
expect_eq 17 "$(json '.findings[] | select(.file == "app/settings.py") | .column')" "column"
expect_eq "$introduced" "$(json '.findings[] | select(.file == "app/settings.py") | .commit.id')" \
  "the commit that introduced the secret"
expect_eq "Alice Example" "$(json '.findings[0].commit.author')" "author"
expect_eq "2026-02-03T04:05:06+01:00" \
  "$(json '.findings[] | select(.file == "app/settings.py") | .commit.date')" "author date"
expect_eq aws-access-key-id "$(json '.findings[] | select(.file == "deploy.cfg") | .rule')" \
  "the feature branch is read too"
expect_eq 4 "$(json '.summary.commits')" "commits walked"
# each blob once: README, two versions of settings.py, deploy.cfg
expect_eq 4 "$(json '.summary.files')" "unique blobs read"

run secrets scan --git
expect_eq 1 "$rc" "--git text exit"
grep -q "introduced in ${introduced:0:12} by Alice Example on 2026-02-03" "$work/stdout" ||
  fail "text output does not name the commit: $(cat "$work/stdout")"

run secrets scan --git --since "$removed" --json
expect_eq 1 "$rc" "--since exit"
expect_eq deploy.cfg "$(json '[.findings[].file] | join(",")')" \
  "--since: only what came after the revision"

run secrets scan --git --since no-such-rev
expect_eq 2 "$rc" "--since with an unknown revision"

# ---- one secret carried through ten commits: reported once, where it came in -----------
carry="$work/carry"
git init -q -b main "$carry"
(
  cd "$carry"
  git config user.email bob@example.invalid
  git config user.name "Bob Example"
  git config commit.gpgsign false
  printf 'STRIPE_KEY = "%s"\nretries = 0\n' "$stripe" >billing.py
  git add billing.py
  git commit -qm "billing"
  for i in $(seq 1 10); do # each edit makes a new blob that still holds the key
    printf 'STRIPE_KEY = "%s"\nretries = %d\n' "$stripe" "$i" >billing.py
    mkdir -p "copy$i" && cp billing.py "copy$i/billing.py"
    git add -A && git commit -qm "retry $i"
  done
)
first_commit=$(git -C "$carry" rev-list --max-parents=0 HEAD)
cd "$work"
run secrets scan --git "$carry" --json # the repository as an operand, from elsewhere
expect_eq 1 "$rc" "--git REPO exit"
expect_eq 1 "$(json '.findings | length')" "one secret through ten commits and ten copies: one finding"
expect_eq "billing.py:1:$first_commit" \
  "$(json '.findings[0] | "\(.file):\(.line):\(.commit.id)"')" "reported where it came in"
# eleven versions of billing.py; each copy is the very blob of its commit, read once
expect_eq 11 "$(json '.findings[0].occurrences')" "the blobs that carry it, counted"
run secrets scan --git "$carry" "$repo"
expect_eq 2 "$rc" "--git takes one repository"
# a fingerprint is the same wherever the scan runs from
cd "$carry"
run secrets scan --json billing.py
top=$(json '.findings[0].fingerprint')
cd copy3
run secrets scan --json ../billing.py
expect_eq "$top" "$(json '.findings[0].fingerprint')" "fingerprint from a subdirectory"
run secrets scan --git --json
expect_eq "$top" "$(json '.findings[0].fingerprint')" "fingerprint of --git and a tree scan"
cd "$repo"

# ---- working tree --------------------------------------------------------------
printf 'secrets.local\n' >.gitignore
printf 'GITLAB_TOKEN=%s\n' "$glpat" >secrets.local
printf 'PNG\0\0binary %s\n' "$stripe" >logo.png
{ head -c 3000 /dev/zero | tr '\0' '#'; printf '\nkey = "%s"\n' "$sg"; } >big.txt
printf 'SLACK_BOT_TOKEN=%s  # otap:allow: the test workspace, revoked\n' "$slack" >allowed.env
run secrets scan --json --max-size 2000
expect_eq 0 "$rc" "ignored, binary, large and allowed-inline files are not findings"
expect_eq 1 "$(json '.summary.skipped_binary')" "binary files skipped"
expect_eq 1 "$(json '.summary.skipped_large')" "large files skipped"
expect_eq 1 "$(json '.summary.allowed_inline')" "inline allow"

run secrets scan --json --no-ignore --max-size 2000
expect_eq 1 "$rc" "--no-ignore reads ignored files"
expect_eq secrets.local "$(json '[.findings[].file] | join(",")')" "the ignored file"

run secrets scan --max-size 2000 big.txt
expect_eq 0 "$rc" "a named file over the limit"
grep -q "skipped: 1 larger than 2.0 kB" "$work/stdout" || fail "no skipped count: $(cat "$work/stdout")"
run secrets scan big.txt
expect_eq 1 "$rc" "under the default limit the large file is read"
rm -f big.txt logo.png secrets.local

# ---- staged changes and the hook -------------------------------------------------
printf 'NPM_TOKEN=%s\n' "$npm" >staged.env
git add staged.env
printf 'password = "%s"\n' "$dbpw" >>README.md # tracked, changed, not staged
printf 'x = "%s"\n' "$glpat" >untracked.txt
run secrets scan --staged --json
expect_eq 1 "$rc" "--staged exit"
expect_eq staged.env "$(json '[.findings[].file] | join(",")')" "--staged sees only the staged file"
expect_eq npm-access-token "$(json '.findings[0].rule')" "--staged rule"
# the working tree copy changes; the staged content is what is scanned
printf 'NPM_TOKEN=\n' >staged.env
run secrets scan --staged --json
expect_eq 1 "$rc" "--staged reads the index, not the working tree"
git checkout -q -- README.md
rm -f untracked.txt

printf '#!/bin/sh\necho mine\n' >.git/hooks/pre-commit
run secrets hook install
expect_eq 4 "$rc" "a foreign hook is not overwritten"
grep -q "mine" .git/hooks/pre-commit || fail "the foreign hook was changed"
run secrets hook install --force
expect_eq 0 "$rc" "hook install --force"
[ -x .git/hooks/pre-commit ] || fail "the hook is not executable"
run secrets hook install
expect_eq 0 "$rc" "installing over otap's own hook"
set +e
git commit -qm "add npm token" >"$work/hook.out" 2>&1
hook_rc=$?
set -e
cat "$work/hook.out" >>"$out"
[ "$hook_rc" -ne 0 ] || fail "the hook let a secret be committed"
grep -q "npm-access-token" "$work/hook.out" || fail "the hook did not say why: $(cat "$work/hook.out")"
expect_eq "$removed" "$(git rev-parse HEAD)" "nothing was committed"
git reset -q staged.env
printf 'NPM_TOKEN=\n' >staged.env
git add staged.env
git commit -qm "an empty token" || fail "the hook refused a clean commit"

# ---- baseline ----------------------------------------------------------------------
mkdir -p legacy
printf 'STRIPE_KEY=%s\n' "$stripe" >legacy/billing.env
printf 'db:\n  password: %s\n' "$dbpw" >legacy/db.yml
run secrets baseline
expect_eq 0 "$rc" "baseline"
[ -f .otap-secrets-baseline.json ] || fail "no baseline file"
expect_eq 2 "$(jq '.findings | length' .otap-secrets-baseline.json)" "accepted findings"
run secrets scan --json
expect_eq 0 "$rc" "accepted findings do not fail"
expect_eq 2 "$(json '.summary.baselined')" "baselined"
expect_eq false "$(json '[.findings[].new] | unique | join(",")')" "baselined findings are not new"
# a new secret, and an accepted one copied to a new place: both are new
printf 'SENDGRID_API_KEY=%s\n' "$sg" >legacy/mail.env
printf 'STRIPE_KEY=%s\n' "$stripe" >copied.env
run secrets scan --json
expect_eq 1 "$rc" "a new finding fails"
expect_eq "copied.env,legacy/mail.env" \
  "$(json '[.findings[] | select(.new) | .file] | sort | join(",")')" "exactly the new findings"
expect_eq 2 "$(json '.summary.baselined')" "the accepted ones stay quiet"
run secrets scan --no-baseline --json
expect_eq 4 "$(json '.summary.new')" "--no-baseline"
printf '{"findings": 3}' >bad-baseline.json
run secrets scan --baseline bad-baseline.json
expect_eq 3 "$rc" "a malformed baseline"
run secrets scan --baseline missing.json
expect_eq 3 "$rc" "a named baseline that does not exist"
rm -f legacy/mail.env copied.env bad-baseline.json

# ---- SARIF --------------------------------------------------------------------------
printf 'SENDGRID_API_KEY=%s\n' "$sg" >legacy/mail.env
run secrets scan --sarif
expect_eq 1 "$rc" "--sarif exit"
expect_eq 2.1.0 "$(json .version)" "SARIF version"
expect_eq https://json.schemastore.org/sarif-2.1.0.json "$(json '."$schema"')" "SARIF schema"
expect_eq otap "$(json '.runs[0].tool.driver.name')" "SARIF driver"
expect_eq 3 "$(json '.runs[0].results | length')" "SARIF results"
expect_eq "new" "$(json '.runs[0].results[] | select(.ruleId == "sendgrid-api-key") | .baselineState')" \
  "SARIF baselineState"
expect_eq legacy/mail.env "$(json '.runs[0].results[] | select(.ruleId == "sendgrid-api-key") | .locations[0].physicalLocation.artifactLocation.uri')" \
  "SARIF relative URI"
# every result's rule is described at its index; regions are 1-based; fingerprints are set
expect_eq true "$(json '.runs[0] as $r | [$r.results[] | $r.tool.driver.rules[.ruleIndex].id == .ruleId
  and .locations[0].physicalLocation.region.startLine >= 1
  and .locations[0].physicalLocation.region.startColumn >= 1
  and (.partialFingerprints["otapSecret/v1"] | length) == 32] | all')" "SARIF results are consistent"
rm -f legacy/mail.env

# ---- otap.yaml: custom rules and allowlists --------------------------------------------
"$OTAP" init --project scan >/dev/null
cat >>otap.yaml <<'YAML'
secrets:
  rules:
    - id: acme-service-token
      description: ACME internal service token
      pattern: '\b(acme_svc_[a-z0-9]{24})\b'
      keywords: [acme_svc_]
      entropy: 3.0
  allowlist:
    paths: ['^fixtures/']
    stopwords: [notreal]
  disable: [generic-password]
YAML
run check
expect_eq 0 "$rc" "otap check accepts the secrets section"
mkdir -p fixtures
printf 'token=acme_svc_k3j5h7g9f1d3s5a7q9w1e3r5\n' >app/acme.py
printf 'token=acme_svc_k3j5h7g9f1d3s5a7q9w1e3r5\n' >fixtures/acme.py
printf 'token=acme_svc_notreal5a7q9w1e3r5t7y9u\n' >app/acme_doc.py
run secrets scan --no-baseline --json app fixtures legacy
expect_eq 1 "$rc" "custom rule exit"
expect_eq "acme-service-token:app/acme.py,stripe-secret-key:legacy/billing.env" \
  "$(json '[.findings[] | "\(.rule):\(.file)"] | join(",")')" \
  "custom rule found; allowlisted path and stop word skipped; generic-password disabled"
expect_eq 1 "$(json '.summary.skipped_allowlisted')" "allowlisted files counted"
run secrets rules --json
expect_eq true "$(json '[.rules[] | select(.id == "acme-service-token") | .custom] | .[0]')" \
  "rules lists the custom rule"
expect_eq 0 "$(json '[.rules[] | select(.id == "generic-password")] | length')" \
  "rules leaves out the disabled rule"

sed -i "s/^  rules:$/  rules:\n    - id: broken\n      pattern: 'acme_([a-z'/" otap.yaml
line=$(grep -n "id: broken" otap.yaml | cut -d: -f1)
run secrets scan app
expect_eq 3 "$rc" "a bad custom rule"
grep -q "^otap.yaml:$((line + 1)):[0-9]*: 'pattern' is not a valid regular expression" "$work/stderr" ||
  fail "the error does not name the line: $(cat "$work/stderr")"
run check
expect_eq 3 "$rc" "otap check rejects the bad rule too"
rm -f otap.yaml

# ---- stdin ------------------------------------------------------------------------------
set +e
printf 'export AWS_ACCESS_KEY_ID=%s\n' "$aws" | "$OTAP" secrets scan --stdin --json >"$work/stdout" 2>>"$out"
rc=$?
set -e
cat "$work/stdout" >>"$out"
expect_eq 1 "$rc" "--stdin exit"
expect_eq "(stdin):1:26" "$(json '.findings[0] | "\(.file):\(.line):\(.column)"')" "--stdin position"
run secrets scan --stdin --git
expect_eq 2 "$rc" "two targets at once"

# ---- gitleaks' fixtures ---------------------------------------------------------------
# gitleaks reports .env.prod line 4 (generic-api-key) and id_ed25519 line 1 (private-key).
cp "$SRC/tests/fixtures/gitleaks/.env.prod" "$SRC/tests/fixtures/gitleaks/id_ed25519" "$work/"
run secrets scan --json "$work/.env.prod" "$work/id_ed25519"
expect_eq 1 "$rc" "gitleaks fixtures exit"
expect_eq "generic-password:.env.prod:4,private-key:id_ed25519:1" \
  "$(json '[.findings[] | "\(.rule):\(.file | split("/") | last):\(.line)"] | join(",")')" \
  "gitleaks fixtures: the findings gitleaks expects"
grep -q 8ae31cacf141669ddfb5da "$work/stdout" && fail "the fixture's password was printed"
# every gitleaks rule id named by an otap rule exists in gitleaks' rule file
run secrets rules --json
mapped=$(json '[.rules[] | select(.gitleaks) | .gitleaks] | unique | .[]')
[ "$(wc -l <<<"$mapped")" -ge 60 ] || fail "fewer than 60 rules map to gitleaks rules"
for id in $mapped; do
  grep -qx "id = \"$id\"" "$SRC/tests/fixtures/gitleaks/gitleaks.toml" ||
    fail "otap names gitleaks rule '$id', which gitleaks.toml does not have"
done

# ---- no whole secret in any output ---------------------------------------------------------
[ -s "$out" ] || fail "no output was collected"
for s in "${planted[@]}"; do
  if grep -qF -- "$s" "$out"; then
    fail "a planted secret appears whole in otap's output: ${s:0:6}..."
  fi
done
echo "ok"
