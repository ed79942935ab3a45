# otap serve without listening: usage errors and tokens (the server itself is t0500)
cp "$EXAMPLE" otap.yaml && otap serve --threads many
otap serve --grace forever
otap serve stray
otap serve token
otap serve token frob
otap serve token add ci
otap serve token add ci --role god
otap serve token add ci --role deployer | wc -c
otap serve token list
otap --json serve token list
otap serve token remove nobody
otap serve token remove ci && otap serve token list
otap serve --listen nowhere
