#!/usr/bin/env bash
# otap plan on seed 003's table (a golden CSV), its errors with lines; scope
# fences on a real git repository (a path outside the slice, a new
# environment read, committed, staged and untracked changes, the registry's
# status line allowed); 'slice done' refused while the fence fails, then
# changing the status and no other byte; worktrees named as seed 000 §11 says
# and their refusals; the pre-push hook; the built-in gate 'scope'.
set -euo pipefail
. "$SRC/tests/harness/lib.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
run() { set +e; "$@" >"$work/out" 2>"$work/err"; rc=$?; set -e; }
cd "$work"

# ---- plan ------------------------------------------------------------------------------------------
fx=$SRC/tests/fixtures/plan
run "$OTAP" plan "$fx/seed003.csv" --format csv
expect_eq 0 "$rc" "plan: $(cat "$work/err")"
diff -u "$fx/seed003.golden" "$work/out" || fail "the seed 003 plan differs from its golden file"
grep -q "seed003.csv:10: warning: task 'Y1-A.9' is 420 lines, over the budget of 400" "$work/err" || fail "the oversize warning: $(cat "$work/err")"
run "$OTAP" --json plan "$fx/seed003.csv"
jq -e '.critical_path.tasks == ["Y1-A.6","Y1-A.7","Y1-A.8","Y1-A.9","Y1-A.12","Y1-A.15"] and .critical_path.loc == 1820 and .tasks == 27' \
  "$work/out" >/dev/null || fail "$(jq -c .critical_path "$work/out")"
run "$OTAP" plan "$fx/seed003.csv" --budget 0
grep -c "^batch " "$work/out" | grep -qx 1 || fail "--budget 0 is one batch"
run "$OTAP" plan "$fx/seed003.csv" --format markdown
grep -q "^| 1 | Y1-A.11 | Orchestrator router | H | H | - | 200 |$" "$work/out" || fail "markdown: $(head -5 "$work/out")"
cat >tasks.yaml <<'EOF'
tasks:
  - { id: a, title: first, loc: 100 }
  - { id: b, depends: [a, ghost], loc: 50 }
  - { id: c, depends: [d] }
  - { id: d, depends: [c], risk: extreme }
  - { id: a }
EOF
run "$OTAP" plan
expect_eq 3 "$rc" "a task list with problems"
grep -q "tasks.yaml:3: task 'b' depends on 'ghost', which no task is" "$work/err" || fail "$(cat "$work/err")"
grep -q "tasks.yaml:5: risk 'extreme' is not H, M or L" "$work/err" || fail "$(cat "$work/err")"
grep -q "tasks.yaml:6: duplicate id 'a' (first on line 2)" "$work/err" || fail "$(cat "$work/err")"
grep -Eq "tasks.yaml:[45]: a cycle of dependencies: (c -> d -> c|d -> c -> d)" "$work/err" || fail "$(cat "$work/err")"
grep -q "4 problems in tasks.yaml; nothing was planned" "$work/err" || fail "$(cat "$work/err")"
[ ! -s "$work/out" ] || fail "a plan was printed anyway"
run "$OTAP" plan nosuch.csv
expect_eq 2 "$rc" "a missing file"

# ---- a repository with a slice ---------------------------------------------------------------------
mkdir repo && cd repo
git init -q -b main
git config user.email t@example.invalid && git config user.name tester
cat >otap.yaml <<'EOF'
project: databiz-next
environments:
  - { name: development, marker: dev }
config:
  DATABASE_URL: { type: url, schemes: [postgresql] }
gates:
  - { name: lint, run: "test ! -e LINT_FAILS" }
slices: .ai/project/DOMAIN_REGISTRY.yaml
EOF
mkdir -p .ai/project backend/src/domains/imports backend/src/domains/billing backend/tests
cat >.ai/project/DOMAIN_REGISTRY.yaml <<'EOF'
# the slices of the imports domain
slices:
  IMP-FILE-001:
    domain: imports
    feature: file-intake
    objective: "Accept supplier files and store them for processing"
    allowed: ["backend/src/domains/imports/**", "backend/tests/"]
    non_goals: ["no changes to billing", "no refactors outside imports"]
    done: ["unit and integration tests green", "CI (T) green"]
    gates: [lint]
    status: in-progress   # planned | in-progress | done
  BIL-INV-002:
    objective: "Invoices"
    allowed: ["backend/src/domains/billing/**"]
    status: planned
EOF
echo 'url = os.environ["DATABASE_URL"]' >backend/src/domains/imports/intake.py
echo 'rate = 1' >backend/src/domains/billing/rates.py
git add -A && git commit -qm "feat: the domains"
git checkout -qb feature/IMP-FILE-001-intake
echo 'def accept(): pass' >>backend/src/domains/imports/intake.py
git commit -qam "feat(imports): accept files"
run "$OTAP" --json scope check
expect_eq 0 "$rc" "inside the fence: $(cat "$work/out" "$work/err")"
jq -e '.slice == "IMP-FILE-001" and .changed == 1 and .violations == []' "$work/out" >/dev/null || fail "$(cat "$work/out")"
# a committed change outside, a staged one with a new environment read, an untracked file outside
echo 'rate = 2' >backend/src/domains/billing/rates.py
git commit -qam "fix(billing): a rate"
printf 'import os\ntoken = os.getenv("SUPPLIER_TOKEN")\nurl = os.getenv("DATABASE_URL")\n' >backend/src/domains/imports/fetch.py
git add backend/src/domains/imports/fetch.py
echo 'notes' >TODO.txt
run "$OTAP" scope check
expect_eq 1 "$rc" "outside the fence"
grep -q "backend/src/domains/billing/rates.py: error: changed outside the allowed paths" "$work/out" || fail "$(cat "$work/out")"
grep -q "TODO.txt: error: added outside the allowed paths" "$work/out" || fail "untracked: $(cat "$work/out")"
grep -q "backend/src/domains/imports/fetch.py:2: error: reads 'SUPPLIER_TOKEN', which the config contract does not name" "$work/out" || fail "$(cat "$work/out")"
grep -q "DATABASE_URL" "$work/out" && fail "a read the contract names was flagged"
run "$OTAP" scope check --allow 'backend/**,TODO.txt'
expect_eq 1 "$rc" "the env read stays a violation with wider globs"
expect_eq 1 "$(grep -c error "$work/out")" "only the env read"
run "$OTAP" scope check --slice BIL-INV-002
grep -q "backend/src/domains/imports/fetch.py: error: added outside" "$work/out" || fail "another slice's fence: $(cat "$work/out")"
run "$OTAP" scope check --slice NOPE
expect_eq 2 "$rc" "an unknown slice"
run "$OTAP" scope check --base nosuchbranch
expect_eq 2 "$rc" "a base that names nothing"

# ---- slice show and done ---------------------------------------------------------------------------
run "$OTAP" slice show IMP-FILE-001
grep -q "^- Implement slice IMP-FILE-001: Accept supplier files" "$work/out" || fail "$(cat "$work/out")"
grep -q "^- backend/src/domains/imports/\*\*$" "$work/out" || fail "allowed paths: $(cat "$work/out")"
grep -q "^- no changes to billing$" "$work/out" || fail "non-goals: $(cat "$work/out")"
grep -q "^- otap scope check --slice IMP-FILE-001$" "$work/out" || fail "quality gate: $(cat "$work/out")"
cp .ai/project/DOMAIN_REGISTRY.yaml "$work/registry.before"
run "$OTAP" slice done IMP-FILE-001
expect_eq 4 "$rc" "done while the fence fails"
grep -q "the scope check of IMP-FILE-001 fails" "$work/err" || fail "$(cat "$work/err")"
cmp -s "$work/registry.before" .ai/project/DOMAIN_REGISTRY.yaml || fail "a refused done changed the registry"
# back inside the fence; a failing gate still refuses
git reset -q --hard HEAD~1
rm -f TODO.txt backend/src/domains/imports/fetch.py
touch LINT_FAILS
run "$OTAP" slice done IMP-FILE-001
expect_eq 4 "$rc" "done while a gate fails"
grep -q "a gate of IMP-FILE-001 fails" "$work/err" || fail "$(cat "$work/err")"
rm LINT_FAILS
run "$OTAP" slice done IMP-FILE-001
expect_eq 0 "$rc" "done: $(cat "$work/out" "$work/err")"
diff "$work/registry.before" .ai/project/DOMAIN_REGISTRY.yaml >"$work/diff" || true
expect_eq "11c11
<     status: in-progress   # planned | in-progress | done
---
>     status: done   # planned | in-progress | done" "$(cat "$work/diff")" "only the status changed"
# the registry's status line is inside any slice's fence
run "$OTAP" scope check
expect_eq 0 "$rc" "the status change is allowed: $(cat "$work/out")"
run "$OTAP" --json slice list
jq -e '[.slices[] | {(.id): .status}] | add == {"IMP-FILE-001": "done", "BIL-INV-002": "planned"}' "$work/out" >/dev/null || fail "$(cat "$work/out")"

# ---- worktrees -------------------------------------------------------------------------------------
git commit -qam "chore: IMP-FILE-001 done"
git checkout -q main
run "$OTAP" worktree add imports supplier-management --slice IMP-FILE-001
expect_eq 0 "$rc" "worktree add: $(cat "$work/err")"
[ -d "$work/databiz-next__imports__supplier-management" ] || fail "the worktree's path: $(ls "$work")"
expect_eq feature/supplier-management "$(git -C "$work/databiz-next__imports__supplier-management" rev-parse --abbrev-ref HEAD)" "its branch"
run "$OTAP" worktree add imports supplier-management
expect_eq 4 "$rc" "an existing path"
grep -q "exists already" "$work/err" || fail "$(cat "$work/err")"
run "$OTAP" worktree add billing other-name
expect_eq 0 "$rc" "a second worktree"
rm -rf "$work/databiz-next__billing__elsewhere"
git -C "$work/databiz-next__billing__other-name" checkout -q -b feature/taken
run "$OTAP" worktree add billing taken
expect_eq 4 "$rc" "a branch checked out elsewhere"
grep -q "branch feature/taken is checked out in .*databiz-next__billing__other-name already" "$work/err" || fail "$(cat "$work/err")"
run "$OTAP" worktree add Bad_Domain x
expect_eq 2 "$rc" "a name that is not lower case"
run "$OTAP" worktree add imports x --slice NOPE
expect_eq 2 "$rc" "an unknown slice"
echo 'x' >"$work/databiz-next__imports__supplier-management/outside.txt"
run "$OTAP" --json worktree list
jq -e '.worktrees | length == 3' "$work/out" >/dev/null || fail "$(cat "$work/out")"
jq -e '.worktrees[] | select(.branch == "feature/supplier-management") | .slice == "IMP-FILE-001" and .scope_ok == false' "$work/out" >/dev/null ||
  fail "the worktree's fence: $(cat "$work/out")"
# the scope check run inside the worktree finds its slice by itself
run env -C "$work/databiz-next__imports__supplier-management" "$OTAP" scope check
expect_eq 1 "$rc" "inside the worktree"
grep -q "outside.txt: error: added outside" "$work/out" || fail "$(cat "$work/out")"

# ---- the pre-push hook and the built-in gate ------------------------------------------------------
run "$OTAP" scope hook install
expect_eq 0 "$rc" "hook install: $(cat "$work/err")"
grep -q "scope check --hook" .git/hooks/pre-push || fail "the hook"
[ -x .git/hooks/pre-push ] || fail "the hook is not executable"
git checkout -q feature/IMP-FILE-001-intake
echo 'rate = 3' >backend/src/domains/billing/rates.py
git commit -qam "fix(billing): another"
run env OTAP_SLICE=IMP-FILE-001 .git/hooks/pre-push
expect_eq 1 "$rc" "the hook refuses the push"
run env OTAP_SLICE=IMP-FILE-001 "$OTAP" ci run scope
expect_eq 1 "$rc" "the built-in gate 'scope'"
grep -q "rates.py: error: changed outside" "$work/out" || fail "$(cat "$work/out" "$work/err")"
echo ok
