# the state commands without a server: usage, bad input, refusals, the ledger
cp "$EXAMPLE" otap.yaml && otap artifact
otap artifact frob
otap artifact register
otap artifact register nowhere.bin --version 1.0.0
printf 'build one\n' >app.bin && otap artifact register app.bin --version 01.0.0
printf 'build one\n' >app.bin && otap artifact register app.bin --version 1.0.0 --commit xyz
printf 'build one\n' >app.bin && otap artifact register app.bin --version 1.0.0 && otap artifact register app.bin --version 1.0.0
printf 'build one\n' >app.bin && otap artifact register app.bin --version 1.0.0 >/dev/null && otap artifact register app.bin --version 2.0.0
otap artifact register --digest sha256:abc
mkdir -p d/bin && printf 'x' >d/bin/a && printf 'y' >d/b && otap --json artifact register d | jq -r .artifact.kind
otap gate record
otap gate record lint --artifact 1.0.0 --result maybe
otap gate record nope --artifact 1.0.0 --result pass
otap gate record lint --artifact 9.9.9 --result pass
otap signoff --env staging
otap promote
otap promote 1.0.0
otap promote 1.0.0 --to nowhere
printf 'build one\n' >app.bin && otap artifact register app.bin --version 1.0.0 >/dev/null && otap promote 1.0.0 --to production
printf 'build one\n' >app.bin && otap artifact register app.bin --version 1.0.0 >/dev/null && otap promote 1.0.0 --to development
otap rollback
otap rollback --env development
otap history
otap status --no-probe | sed 's/^/|/'
otap ledger
otap ledger frob
otap ledger verify --env development
printf 'build one\n' >app.bin && otap artifact register app.bin --version 1.0.0 >/dev/null && otap gate record lint --artifact 1.0.0 --result pass | sed 's/#[0-9]*/#N/' && otap ledger verify | sed 's/(sqlite:.*)/(STORE)/'
printf '{"seq": 1}\n' >bad.jsonl && otap ledger verify --file bad.jsonl
printf 'not json\n' >bad.jsonl && otap ledger verify --file bad.jsonl
otap ledger verify --file missing.jsonl
printf 'build one\n' >app.bin && otap artifact register app.bin --version 1.0.0 >/dev/null && otap ledger show | sed 's/20[0-9-]*T[0-9:.]*Z/TIME/; s/by .*/by ACTOR/'
