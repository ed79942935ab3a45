#!/usr/bin/env bash
# otap commit lint on a real git repository:
#  - a range (--from, --to) names each failing commit by its short id and rule;
#    merge commits and fixups pass
#  - a message file, stdin, and git's comment lines and scissors
#  - release.commit_types in otap.yaml replaces the allowed types
#  - the commit-msg hook: installed, refuses a bad message (the commit is not
#    made), lets a good one through; someone else's hook is kept without --force
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
c() { git commit -q --allow-empty -m "$1"; }
c "chore: start"
base=$(git rev-parse HEAD)
c "feat(api): add a login page"
c "Fixed the thing."
bad1=$(git rev-parse --short=7 HEAD)
c "fix: handle an empty body"
git checkout -q -b topic
c "feat: Add a banner."
bad2=$(git rev-parse --short=7 HEAD)
git checkout -q main
git merge -q --no-ff topic -m "Merge branch 'topic'"
c "fixup! fix: handle an empty body"

run "$OTAP" commit lint --from "$base"
expect_eq 1 "$rc" "a range with bad messages: $(cat "$work/err")"
grep -q "^$bad1 error: type-empty" "$work/out" || fail "$(cat "$work/out")"
grep -q "^$bad2 error: subject-full-stop" "$work/out" || fail "$(cat "$work/out")"
grep -q "^$bad2 error: subject-case" "$work/out" || fail "$(cat "$work/out")"
grep -q "problems in 6 messages" "$work/out" || fail "$(cat "$work/out")"
"$OTAP" --json commit lint --from "$base" >"$work/lint.json" || true
jq -e '[.commits[] | select(.kind == "merge" or .kind == "fixup") | .problems | length] == [0, 0]' \
  "$work/lint.json" >/dev/null || fail "merge and fixup: $(cat "$work/lint.json")"
jq -e '.checked == 6 and .errors == 4' "$work/lint.json" >/dev/null || fail "$(jq -c '{checked, errors}' "$work/lint.json")"
run "$OTAP" commit lint --from "$bad1" --to "$bad1"
expect_eq 0 "$rc" "an empty range"
run "$OTAP" commit lint --from no-such-rev
expect_eq 2 "$rc" "an unknown revision"
grep -q "'no-such-rev' names no commit" "$work/err" || fail "$(cat "$work/err")"

# ---- a file, stdin, git's comments ------------------------------------------------------
printf 'feat!: drop v1\n\nBREAKING CHANGE: clients move to v2\n# Please enter the commit message\n# ------------------------ >8 ------------------------\nFixed. Diff below.\n' >"$work/msg"
run "$OTAP" --json commit lint "$work/msg"
expect_eq 0 "$rc" "a breaking change: $(cat "$work/out")"
jq -e '.commits[0].breaking == true and .commits[0].type == "feat"' "$work/out" >/dev/null || fail "$(cat "$work/out")"
printf 'wip\n' >"$work/in"
run "$OTAP" commit lint - <"$work/in"
expect_eq 1 "$rc" "stdin"
run "$OTAP" commit lint "$work/msg" --from HEAD
expect_eq 2 "$rc" "a file and a range"

# ---- release.commit_types ------------------------------------------------------------------
"$OTAP" init --template --project commits >/dev/null
printf '  commit_types: [feat, fix, ops]\n' >>otap.yaml
"$OTAP" check >/dev/null || fail "the manifest with commit_types: $("$OTAP" check 2>&1)"
printf 'ops: rotate the keys\n' >"$work/in"
run "$OTAP" commit lint - <"$work/in"
expect_eq 0 "$rc" "a type the manifest allows: $(cat "$work/out")"
printf 'docs: a\n' >"$work/in"
run "$OTAP" commit lint - <"$work/in"
expect_eq 1 "$rc" "a type the manifest leaves out"
grep -q "the type 'docs' is not one of feat, fix, ops" "$work/out" || fail "$(cat "$work/out")"
rm otap.yaml

# ---- the commit-msg hook ------------------------------------------------------------------------
printf '#!/bin/sh\nexit 0\n' >.git/hooks/commit-msg
chmod +x .git/hooks/commit-msg
run "$OTAP" commit hook install
expect_eq 4 "$rc" "someone else's hook"
grep -q "exit 0" .git/hooks/commit-msg || fail "the foreign hook was replaced"
run "$OTAP" commit hook install --force
expect_eq 0 "$rc" "hook install --force: $(cat "$work/err")"
before=$(git rev-parse HEAD)
set +e
git commit -q --allow-empty -m "Updated stuff." 2>"$work/hook.err"
hook_rc=$?
set -e
[ "$hook_rc" -ne 0 ] || fail "the hook let a bad message through"
expect_eq "$before" "$(git rev-parse HEAD)" "a refused commit was made"
grep -q "type-empty" "$work/hook.err" || fail "the hook's output: $(cat "$work/hook.err")"
git commit -q --allow-empty -m "docs: explain the release flow" || fail "the hook refused a good message"
run "$OTAP" commit hook install
expect_eq 0 "$rc" "installing otap's own hook again"
echo "commit lint: ranges, files, stdin, types from otap.yaml, the commit-msg hook"
