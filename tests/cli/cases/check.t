# no manifest anywhere up the tree (this runs before one is copied in)
mkdir empty && otap -C empty check
otap -C /nonexistent check
# otap check on the example project, text and JSON
cp "$EXAMPLE" otap.yaml && otap check
otap check --json
otap --quiet check
otap check extra
# warnings do not fail the check; --quiet hides them
printf 'project: x\nenvironments:\n  - name: production\n    protected: false\n' > warn.yaml && otap --manifest warn.yaml check
otap --manifest warn.yaml --json check | jq -c '.diagnostics'
otap --manifest warn.yaml --quiet check
# a directory, a missing file and an empty manifest
otap --manifest empty check
otap --manifest missing.yaml check
: > blank.yaml && otap --manifest blank.yaml check
# colour only on a terminal, and never with NO_COLOR
cp "$EXAMPLE" otap.yaml && env -u NO_COLOR script -qec "otap check" /dev/null | tr -d '\r' | cat -v
script -qec "otap check" /dev/null | tr -d '\r' | cat -v
env -u NO_COLOR otap check | cat -v
