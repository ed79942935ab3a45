# otap secrets: usage, bad input and the text report (timings masked)
otap secrets
otap secrets frob
otap secrets scan --since HEAD
otap secrets scan --git --staged
otap secrets scan --stdin-name x.env
otap secrets scan --max-size 0
otap secrets scan --threads many
otap secrets scan --json --sarif
otap secrets scan nowhere
otap secrets scan --git
otap secrets hook install
otap secrets hook remove
otap secrets baseline --sarif
otap secrets rules extra
otap secrets rules | tail -n 1
printf 'nothing to see\n' >a.txt && otap secrets scan | sed -E 's/in [0-9.]+ s \([0-9]+ MB\/s\)/in T/'
printf 'k = "glpat-Xy7Qm2Rt9Lk4Vb8Nc3Zp"\n' >a.txt && otap secrets scan | sed -E 's/in [0-9.]+ s \([0-9]+ MB\/s\)/in T/'
printf 'k = "glpat-Xy7Qm2Rt9Lk4Vb8Nc3Zp"\n' | otap secrets scan --stdin --quiet
printf '{"version": 1, "findings": [{"rule": "x"}]}' >b.json && otap secrets scan --baseline b.json
printf 'not json' >b.json && otap secrets scan --baseline b.json
printf 'project: x\nenvironments:\n  - name: dev\n    stage: O\nsecrets:\n  disable: [no-such-rule]\n  rules:\n    - id: bad\n' >otap.yaml && otap secrets scan
