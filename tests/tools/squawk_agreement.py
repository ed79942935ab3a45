#!/usr/bin/env python3
"""How often otap's db lint agrees with squawk on squawk's own test cases.

Usage: squawk_agreement.py OTAP RULES_DIR WORK_DIR

RULES_DIR holds squawk's rule files (crates/squawk_linter/src/rules/*.rs);
each #[test] with one SQL literal and lint_ok or lint_errors is a case:
squawk finds its rule there, or it does not. The case's SQL is written to
a file and 'otap db lint --json' runs on it as plain SQL (outside a
transaction unless the SQL says BEGIN, as squawk assumes). Agreement:
otap's corresponding rule finds something exactly when squawk's does.
Left out: cases for PostgreSQL before 12 (otap assumes 12 or later), cases
under squawk's assume_in_transaction setting (otap's counterpart is the
migration section's transaction, which plain SQL files do not have), and
tests without SQL (fixes, lock tables).
Prints one line per disagreement, per-rule figures and AGREEMENT=N.NN.
"""
import json
import os
import re
import subprocess
import sys

# squawk rule file -> the otap rule that stands for it
RULES = {
    "adding_field_with_default": "add-column-rewrite",
    "adding_foreign_key_constraint": "constraint-not-valid",
    "adding_not_null_field": "set-not-null",
    "adding_required_field": "add-column-not-null",
    "ban_concurrent_index_creation_in_transaction": "concurrently-in-transaction",
    "ban_drop_column": "drop-column",
    "ban_drop_table": "drop-table",
    "changing_column_type": "alter-column-type",
    "constraint_missing_not_valid": "constraint-not-valid",
    "disallow_unique_constraint": "index-not-concurrent",
    "renaming_column": "rename-column",
    "renaming_table": "rename-table",
    "require_concurrent_index_creation": "index-not-concurrent",
    "require_concurrent_index_deletion": "index-not-concurrent",
}

STRING = re.compile(r'r(#*)"(.*?)"\1|"((?:[^"\\]|\\.)*)"', re.S)


def cases(path):
    src = open(path, encoding="utf-8").read()
    test = src[src.find("mod test"):]
    for m in re.finditer(r"#\[test\]\s*fn\s+(\w+)\s*\(\)\s*\{", test):
        start = m.end()
        depth, i = 1, start
        while i < len(test) and depth:
            depth += {"{": 1, "}": -1}.get(test[i], 0)
            i += 1
        body = test[start:i]
        if "lint_errors" in body:
            expect = True
        elif "lint_ok" in body:
            expect = False
        else:
            continue
        ver = re.search(r'pg_version:\s*"(\d+)', body)
        if ver and int(ver.group(1)) < 12:
            continue
        lit = STRING.search(body)
        if not lit:
            continue
        sql = lit.group(2) if lit.group(2) is not None else bytes(lit.group(3), "utf-8").decode("unicode_escape")
        if "assume_in_transaction" in body:
            continue  # a squawk setting otap has no counterpart for (a section's transaction is)
        yield m.group(1), expect, sql


def main():
    otap, rules_dir, work = sys.argv[1:4]
    os.makedirs(work, exist_ok=True)
    total = agree = 0
    per = {}
    for name in sorted(os.listdir(rules_dir)):
        squawk_rule = name[:-3]
        if squawk_rule not in RULES:
            continue
        ours = RULES[squawk_rule]
        for fn, expect, sql in cases(os.path.join(rules_dir, name)):
            f = os.path.join(work, "%s__%s.sql" % (squawk_rule, fn))
            with open(f, "w", encoding="utf-8") as out:
                out.write(sql)
            r = subprocess.run([otap, "--json", "db", "lint", f], capture_output=True, text=True)
            try:
                doc = json.loads(r.stdout)
            except ValueError:
                doc = {}
            parsed = r.returncode in (0, 1)
            found = parsed and any(x.get("rule") == ours for x in doc.get("findings", []))
            ok = parsed and found == expect
            total += 1
            agree += ok
            s = per.setdefault(squawk_rule, [0, 0])
            s[0] += ok
            s[1] += 1
            if not ok:
                print("disagree\t%s\t%s\tsquawk:%s\totap:%s%s" % (
                    squawk_rule, fn, "error" if expect else "ok", "found" if found else "none",
                    "" if parsed else " (not parsed: exit %d)" % r.returncode))
    for rule, (a, n) in sorted(per.items()):
        print("  %-46s %3d/%-3d -> %s" % (rule, a, n, RULES[rule]))
    pct = 100.0 * agree / total if total else 0.0
    print("squawk agreement: %d of %d cases (%.1f%%)" % (agree, total, pct))
    print("AGREEMENT=%.2f" % pct)


if __name__ == "__main__":
    main()
