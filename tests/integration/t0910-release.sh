#!/usr/bin/env bash
# Releases on a real git repository made here, with fixed dates and names so
# that commit ids, and so the golden changelogs, are the same on every
# machine:
#  - otap release plan: next-version vectors for a first release, 0.x (both
#    pre-major policies), pre-releases and their promotion, and 1.x
#  - otap release create: package.json and CHANGELOG.md written, the
#    "chore(release)" commit, an annotated tag with the notes and the
#    ledger's head, release.created in the ledger; the changelog fresh and
#    inserted into a file with hand-written entries (golden files)
#  - every refusal of release create leaves HEAD, the tags, the status and
#    the files exactly as they were
#  - otap changelog (--unreleased, --since, --release, --write) and otap
#    release notes
#  - otap branch check: names, a branch older than max_branch_age, no trunk
#  - the tag gate: production refused without the release tag, accepted with it
set -euo pipefail
. "$SRC/tests/harness/lib.sh"

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
run() { set +e; "$@" >"$work/out" 2>"$work/err"; rc=$?; set -e; }
golden() { # golden FILE NAME: FILE equals tests/fixtures/release/NAME (GOLDEN_UPDATE=1 rewrites it)
  [ -z "${GOLDEN_UPDATE:-}" ] || cp "$1" "$SRC/tests/fixtures/release/$2"
  diff -u "$SRC/tests/fixtures/release/$2" "$1" >"$work/diff" || fail "$2 differs: $(cat "$work/diff")"
}

export GIT_AUTHOR_NAME=Ada GIT_AUTHOR_EMAIL=ada@example.invalid
export GIT_COMMITTER_NAME=Ada GIT_COMMITTER_EMAIL=ada@example.invalid
export OTAP_ACTOR="Ada <ada@example.invalid>"
n=0
stamp() {
  n=$((n + 1))
  export GIT_AUTHOR_DATE="@$((1767261600 + n * 3600)) +0000" GIT_COMMITTER_DATE="@$((1767261600 + n * 3600)) +0000"
}
c() { stamp; git commit -q --allow-empty -m "$1"; }
release() { stamp; SOURCE_DATE_EPOCH=$((1767261600 + n * 3600)) run "$OTAP" release create "$@"; }
plan_next() { "$OTAP" --json release plan "$@" | jq -r '.next // "none"'; }

repo=$work/repo
mkdir -p "$repo"
cd "$repo"
git init -q -b main
git config user.email ada@example.invalid
git config user.name Ada
git config commit.gpgsign false
git config tag.gpgsign false
git remote add origin git@github.com:acme/shop.git
printf '%s\n' 'project: shop' 'environments:' \
  '  - { name: development, marker: dev, branches: ["feature/*"] }' \
  '  - { name: production, marker: prod, branches: [main] }' \
  'release:' '  version_file: package.json' '  changelog: CHANGELOG.md' >otap.yaml
cp otap.yaml "$work/otap.yaml"
printf '{\n  "name": "shop",\n  "version": "0.0.0",\n  "private": true\n}\n' >package.json
printf '.otap/\n' >.gitignore
git add -A
stamp
git commit -q -m "chore: start the shop"
c "feat(api): add the export endpoint"
c "fix: handle an empty cart"
c "docs: explain the export"

# ---- a first release --------------------------------------------------------------------
run "$OTAP" --json release plan
expect_eq 0 "$rc" "plan: $(cat "$work/err")"
jq -e '.last == null and .next == "0.1.0" and ([.commits[].bump] == ["none", "minor", "patch", "none"])' \
  "$work/out" >/dev/null || fail "first plan: $(cat "$work/out")"
release
expect_eq 0 "$rc" "first release: $(cat "$work/err")"
expect_eq 0.1.0 "$(jq -r .version package.json)" "package.json"
expect_eq '"private": true' "$(grep -o '"private": true' package.json)" "the rest of package.json kept"
golden CHANGELOG.md changelog-fresh.md
expect_eq "chore(release): v0.1.0" "$(git log -1 --format=%s)" "the release commit"
expect_eq tag "$(git cat-file -t v0.1.0)" "an annotated tag"
git cat-file -p v0.1.0 | grep -q '^Ledger-Head: 0 ' || fail "the tag names the ledger head: $(git cat-file -p v0.1.0)"
git cat-file -p v0.1.0 | grep -q -- '- \*\*api:\*\* add the export endpoint' || fail "notes in the tag"
expect_eq "" "$(git status --porcelain)" "a clean tree after the release"
run "$OTAP" --json ledger show
jq -e '[.entries[] | select(.action == "release.created" and .subject == "v0.1.0")] | length == 1' \
  "$work/out" >/dev/null || fail "release.created: $(cat "$work/out")"
run "$OTAP" release notes 0.1.0
expect_eq 0 "$rc" "notes"
grep -q -- '- handle an empty cart' "$work/out" || fail "notes: $(cat "$work/out")"
run "$OTAP" release notes v9.9.9
expect_eq 2 "$rc" "notes of a tag that does not exist"

# ---- 0.x: a breaking change bumps the minor unless told otherwise ------------------------
c "feat!: drop the v1 API

BREAKING CHANGE: clients move to /v2"
expect_eq 0.2.0 "$(plan_next)" "0.x breaking, bump_minor_pre_major (default)"
printf '  bump_minor_pre_major: false\n' >>otap.yaml
expect_eq 1.0.0 "$(plan_next)" "0.x breaking without bump_minor_pre_major"
cp "$work/otap.yaml" otap.yaml
expect_eq 0.2.0-rc.1 "$(plan_next --pre rc)" "a first pre-release"

# ---- the refusals: nothing changes ---------------------------------------------------------
snapshot() {
  { git rev-parse HEAD; git tag -l; git status --porcelain; sha256sum package.json CHANGELOG.md; } >"$work/$1"
}
refused() { # refused WHY ARGS...: exit 4, WHY in the message, nothing changed
  local why=$1
  shift
  snapshot before
  release "$@"
  expect_eq 4 "$rc" "refusal '$why': $(cat "$work/out" "$work/err")"
  grep -qF -- "$why" "$work/err" || fail "refusal '$why' says: $(cat "$work/err")"
  snapshot after
  diff -u "$work/before" "$work/after" || fail "refusal '$why' changed the repository"
}
refused "tag 'v0.1.0' exists already" --version 0.1.0
refused "0.0.9 is not above the last release v0.1.0" --version 0.0.9
git checkout -q -b feature/pay
refused "on branch 'feature/pay': releases are cut on the trunk 'main'"
git checkout -q main
echo "dirt" >>package.json
refused "uncommitted changes: 'package.json'"
git checkout -q package.json
run "$OTAP" release create --version 1.x
expect_eq 2 "$rc" "a version that is not SemVer"

# ---- a pre-release, then its final release with a hand-written entry ---------------------
release --pre rc
expect_eq 0 "$rc" "pre-release: $(cat "$work/err")"
expect_eq 0.2.0-rc.1 "$(jq -r .version package.json)" "package.json at the pre-release"
golden CHANGELOG.md changelog-fresh.md # a pre-release leaves the changelog alone
c "fix(security): escape the search box"
expect_eq 0.2.0-rc.2 "$(plan_next --pre rc)" "the second pre-release"
expect_eq 0.2.0 "$(plan_next)" "the final release after pre-releases"
sed -i 's|^## \[Unreleased\]$|## [Unreleased]\n\n### Deprecated\n\n- The /v1 export format (written by hand)|' CHANGELOG.md
stamp
git commit -q -am "docs: deprecate the v1 export format"
release
expect_eq 0 "$rc" "the final 0.2.0: $(cat "$work/err")"
golden CHANGELOG.md changelog-inserted.md

# a hand-made section for the next version is never overwritten
c "fix: round totals"
sed -i 's|^## \[Unreleased\]$|## [Unreleased]\n\n## [0.2.1] - 2026-01-01|' CHANGELOG.md
stamp
git commit -q -am "docs: a section by hand"
refused "CHANGELOG.md:10: has a section for 0.2.1 already"
stamp
git revert --no-edit HEAD >/dev/null
c "refactor: tidy"
release --version 1.0.0
expect_eq 0 "$rc" "--version 1.0.0: $(cat "$work/err")"
refused "no commit since v1.0.0: there is nothing to release"
c "docs: more words"
refused "no commit since v1.0.0 bumps the version (only none)"

# ---- 1.x vectors -------------------------------------------------------------------------
c "fix: a"
expect_eq 1.0.1 "$(plan_next)" "1.x fix"
c "feat: b"
expect_eq 1.1.0 "$(plan_next)" "1.x feat"
c "perf!: c"
expect_eq 2.0.0 "$(plan_next)" "1.x breaking"
expect_eq 2.0.0-beta.1 "$(plan_next --pre beta)" "1.x pre-release"

# ---- otap changelog ----------------------------------------------------------------------
run "$OTAP" changelog --unreleased
expect_eq 0 "$rc" "changelog --unreleased"
head -1 "$work/out" | grep -qx '## \[Unreleased\]' || fail "$(cat "$work/out")"
grep -q -- '- \*\*Breaking:\*\* c (' "$work/out" || fail "breaking called out: $(cat "$work/out")"
grep -q '^\[unreleased\]: https://github.com/acme/shop/compare/v1.0.0...HEAD$' "$work/out" || fail "$(cat "$work/out")"
run "$OTAP" changelog --release 0.1.0
grep -q '^## \[0.1.0\] - 2026-01-01' "$work/out" || fail "$(cat "$work/out")"
grep -q '^\[0.1.0\]: https://github.com/acme/shop/releases/tag/v0.1.0$' "$work/out" || fail "$(cat "$work/out")"
run "$OTAP" --json changelog --since v0.2.0
jq -e '[.releases[].version] == [null, "1.0.0"]' "$work/out" >/dev/null || fail "$(cat "$work/out")"
run "$OTAP" changelog --release 9.9.9
expect_eq 2 "$rc" "an unknown release"
run "$OTAP" --json changelog --write
jq -e '.added == 3' "$work/out" >/dev/null || fail "write: $(cat "$work/out")"
run "$OTAP" --json changelog --write
jq -e '.added == 0' "$work/out" >/dev/null || fail "write twice: $(cat "$work/out")"
grep -q 'The /v1 export format (written by hand)' CHANGELOG.md || fail "the hand-written entry is gone"
git checkout -q CHANGELOG.md

# ---- otap branch check -------------------------------------------------------------------
run "$OTAP" branch check
expect_eq 0 "$rc" "the trunk: $(cat "$work/out" "$work/err")"
unset GIT_AUTHOR_DATE GIT_COMMITTER_DATE
git checkout -q -b feature/new
git commit -q --allow-empty -m "feat: new"
run "$OTAP" --json branch check
expect_eq 0 "$rc" "a new feature branch: $(cat "$work/out")"
jq -e '.kind == "short-lived" and .commits == 1' "$work/out" >/dev/null || fail "$(cat "$work/out")"
git checkout -q main
git checkout -q -b feature/old
GIT_AUTHOR_DATE="$(date -u -d '3 days ago' +%s) +0000" git commit -q --allow-empty -m "feat: old"
git commit -q --allow-empty -m "fix: still going"
run "$OTAP" branch check
expect_eq 1 "$rc" "a branch older than 2 days"
grep -q "branch 'feature/old' has lived 3 days" "$work/out" || fail "$(cat "$work/out")"
git checkout -q -b wip/x
run "$OTAP" branch check
expect_eq 1 "$rc" "a name that is not allowed"
grep -qF "matches none of the allowed names (feat/*, feature/*, fix/*, chore/*, hotfix/*)" "$work/out" ||
  fail "$(cat "$work/out")"
run "$OTAP" branch check feature/new
expect_eq 0 "$rc" "a named branch"
run "$OTAP" branch check feature/none
expect_eq 2 "$rc" "no such branch"
printf '  trunk: trunk\n' >>otap.yaml
run "$OTAP" branch check feature/new
expect_eq 4 "$rc" "no trunk to measure against"
grep -q "the trunk 'trunk' is not in this clone" "$work/err" || fail "$(cat "$work/err")"
cp "$work/otap.yaml" otap.yaml
git checkout -q main

# ---- the tag gate --------------------------------------------------------------------------
port_d=$(free_port 27100 27199)
port_p=$(free_port 27200 27299)
for e in development production; do
  mkdir -p "$work/fx-$e"
  echo ok >"$work/fx-$e/live.body"
  echo "{\"status\":\"healthy\",\"environment\":\"$e\",\"timestamp\":\"@AGO:0@\"}" >"$work/fx-$e/health.body"
  echo '{"status":"ready","database":"connected"}' >"$work/fx-$e/ready.body"
done
"$HTTP_FIXTURE" "$work/fx-development" "$port_d" &
pids+=($!)
"$HTTP_FIXTURE" "$work/fx-production" "$port_p" &
pids+=($!)
wait_http "http://127.0.0.1:$port_d/live" 200 20
wait_http "http://127.0.0.1:$port_p/live" 200 20
printf '%s\n' 'project: shop' 'environments:' \
  '  - { name: development, marker: dev, deploy: { run: "true" } }' \
  '  - { name: production, marker: prod, branches: [main], requires: [tag], deploy: { run: "true" } }' \
  'services:' '  app:' '    health: { liveness: /live, health: /health, readiness: /ready }' \
  "    urls: { development: \"http://127.0.0.1:$port_d\", production: \"http://127.0.0.1:$port_p\" }" \
  'release:' '  version_file: package.json' >otap.yaml
stamp
git commit -q -am "chore: deploy with otap"
printf 'build 2\n' >"$work/app"
"$OTAP" artifact register "$work/app" --version 2.0.0 --commit "$(git rev-parse HEAD)" >/dev/null
"$OTAP" promote 2.0.0 --to development >"$work/out" 2>&1 || fail "development: $(cat "$work/out")"
run "$OTAP" promote 2.0.0 --to production
expect_eq 4 "$rc" "production without the tag"
grep -q "gate 'tag': no tag 'v2.0.0' for 2.0.0" "$work/err" || fail "$(cat "$work/err")"
git tag -a v2.0.0 -m "v2.0.0" HEAD~1
run "$OTAP" promote 2.0.0 --to production
expect_eq 4 "$rc" "a tag on another commit"
grep -q "gate 'tag': tag 'v2.0.0' is on commit $(git rev-parse --short=7 HEAD~1), but 2.0.0" "$work/err" ||
  fail "$(cat "$work/err")"
git tag -d v2.0.0 >/dev/null
git tag -a v2.0.0 -m "v2.0.0" HEAD
run "$OTAP" promote 2.0.0 --to production
expect_eq 0 "$rc" "production with the release tag: $(cat "$work/err")"
printf 'build 3\n' >"$work/app3"
"$OTAP" artifact register "$work/app3" --commit "$(git rev-parse HEAD)" >/dev/null
run "$OTAP" promote "$("$OTAP" --json artifact list | jq -r '.artifacts[] | select(.version == null) | .digest')" --to production
expect_eq 4 "$rc" "a build without a version"
grep -q "gate 'tag': .* has no version" "$work/err" || fail "$(cat "$work/err")"
echo "ok"
