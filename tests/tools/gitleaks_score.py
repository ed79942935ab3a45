#!/usr/bin/env python3
"""Scores otap's findings on gitleaks' own rule vectors (gitleaks_vectors.py).

Usage: gitleaks_score.py VECTORS_DIR SCAN_JSON RULES_JSON GITLEAKS_TOML [--misses FILE]

- A true positive counts as found when a specific otap rule reports it: a
  rule that is not generic, or the otap rule that names this gitleaks rule
  as its counterpart (otap's Authorization-header rules for curl-auth-header,
  its generic rules for generic-api-key).
- A vector that gitleaks' own pattern (GITLEAKS_TOML) does not match is no
  true positive of gitleaks either: its generator drew it from a looser
  regex than the rule's. Those are counted apart, not scored.
- A false positive counts as flagged when the otap counterpart of its
  gitleaks rule reports it (what gitleaks' own validation checks: each
  rule alone), and is also counted when any otap rule reports it (some of
  gitleaks' false positives for one rule are another rule's secrets).
Prints recall and both false-positive rates, overall and per gitleaks rule
that falls short, and writes every miss and false alarm to --misses.
"""
import json
import os
import re
import sys
import tomllib


def go_regex(rx):
    """Go's RE2 syntax in Python's: a flag group (?i) in mid-pattern
    applies to the rest of its group, which Python spells (?i:...)."""
    rx = rx.replace(r"\z", r"\Z")
    for k, v in {"alnum": "a-zA-Z0-9", "alpha": "a-zA-Z", "digit": "0-9"}.items():
        rx = rx.replace("[:%s:]" % k, v)
    out, i, depth_stack = [], 0, []
    closers = []  # depths at which to close an inserted (?i:
    depth, in_class = 0, False
    while i < len(rx):
        c = rx[i]
        if c == "\\":
            out.append(rx[i:i + 2])
            i += 2
            continue
        if in_class:
            if c == "]":
                in_class = False
            out.append(c)
            i += 1
            continue
        if c == "[":
            in_class = True
            out.append(c)
            if rx[i + 1:i + 2] == "]":
                out.append("]")
                i += 1
            i += 1
            continue
        if rx.startswith("(?i)", i) and i > 0:
            out.append("(?i:")
            closers.append(depth)
            i += 4
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            while closers and closers[-1] == depth:
                out.append(")")
                closers.pop()
            depth -= 1
        out.append(c)
        i += 1
    out.extend(")" * len(closers))
    return "".join(out)


def gitleaks_patterns(path):
    with open(path, "rb") as f:
        rules = tomllib.load(f)["rules"]
    pats = {}
    for r in rules:
        if "regex" not in r:
            continue
        try:
            pats[r["id"]] = re.compile(go_regex(r["regex"]))
        except re.error:
            pass  # not checkable here: keep every vector of the rule
    return pats


def gitleaks_detects(pat, vec_path):
    for root, _dirs, files in os.walk(vec_path):
        for name in files:
            with open(os.path.join(root, name), encoding="utf-8", errors="replace") as f:
                if pat.search(f.read()):
                    return True
    return False


def main():
    args = sys.argv[1:]
    misses_path = None
    if "--misses" in args:
        k = args.index("--misses")
        misses_path = args[k + 1]
        del args[k:k + 2]
    if len(args) != 4:
        sys.exit(__doc__)
    vec_dir, scan_path, rules_path, toml_path = args
    with open(rules_path) as f:
        rules = json.load(f)["rules"]
    generic = {r["id"] for r in rules if r.get("generic")}
    counterpart = {}
    for r in rules:
        if r.get("gitleaks"):
            counterpart.setdefault(r["gitleaks"], set()).add(r["id"])
    gl_pats = gitleaks_patterns(toml_path)
    with open(scan_path) as f:
        scan = json.load(f)

    by_vector = {}
    for fd in scan["findings"]:
        parts = fd["file"].lstrip("./").split("/")
        by_vector.setdefault((parts[0], parts[1]), set()).add(fd["rule"])

    stats, report = {}, []
    for rid in sorted(os.listdir(vec_dir)):
        for vec in sorted(os.listdir(os.path.join(vec_dir, rid))):
            kind = vec.split("-")[0]
            found = by_vector.get((rid, vec), set())
            st = stats.setdefault(rid, {"tp": 0, "tp_found": 0, "fp": 0, "fp_flagged": 0,
                                        "fp_any": 0, "tp_unmatched": 0})
            mine = counterpart.get(rid, set())
            if kind == "tp":
                if rid in gl_pats and not gitleaks_detects(gl_pats[rid], os.path.join(vec_dir, rid, vec)):
                    st["tp_unmatched"] += 1
                    continue
                st["tp"] += 1
                if (found - generic) or (found & mine):
                    st["tp_found"] += 1
                else:
                    report.append("miss\t%s/%s\t%s" % (rid, vec, ",".join(sorted(found)) or "-"))
            else:
                st["fp"] += 1
                if found:
                    st["fp_any"] += 1
                if found & mine:
                    st["fp_flagged"] += 1
                if found:
                    report.append("false-alarm%s\t%s/%s\t%s" % ("" if found & mine else "-other-rule", rid, vec,
                                                                 ",".join(sorted(found))))

    tp = sum(s["tp"] for s in stats.values())
    tp_found = sum(s["tp_found"] for s in stats.values())
    fp = sum(s["fp"] for s in stats.values())
    fp_flagged = sum(s["fp_flagged"] for s in stats.values())
    fp_any = sum(s["fp_any"] for s in stats.values())
    unmatched = sum(s["tp_unmatched"] for s in stats.values())
    short = [(rid, s) for rid, s in sorted(stats.items())
             if s["tp_found"] < s["tp"] or s["fp_flagged"]]
    for rid, s in short:
        print("  %-45s tps %4d/%-4d fps flagged %d/%d" % (rid, s["tp_found"], s["tp"], s["fp_flagged"], s["fp"]))
    recall = 100.0 * tp_found / tp if tp else 0.0
    fp_rate = 100.0 * fp_flagged / fp if fp else 0.0
    rules_full = sum(1 for s in stats.values() if s["tp_found"] == s["tp"])
    print("gitleaks vectors: %d rules; true positives found by a specific rule %d/%d (%.2f%%), "
          "%d more that gitleaks' own pattern misses; rules with every tp found: %d"
          % (len(stats), tp_found, tp, recall, unmatched, rules_full))
    print("false positives flagged by the counterpart rule %d/%d (%.2f%%), by any otap rule %d/%d (%.2f%%)"
          % (fp_flagged, fp, fp_rate, fp_any, fp, 100.0 * fp_any / fp if fp else 0.0))
    if misses_path:
        with open(misses_path, "w") as f:
            f.write("\n".join(report) + "\n")
    print("RECALL=%.2f FP_RATE=%.2f" % (recall, fp_rate))


if __name__ == "__main__":
    main()
