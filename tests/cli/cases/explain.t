# the agent playbook: where, which config, safe to promote, healthy
cp "$EXAMPLE" otap.yaml && otap explain --branch feature/login
otap explain --branch staging
otap explain --branch release/9
otap explain --env prod
otap explain --env prd
otap --json explain --env nope
otap explain --branch main --json | jq -c '{branch, env: .environments[0].name, requires: .environments[0].promotion.requires, endpoints: [.environments[0].endpoints[].path]}'
otap explain | grep -c '^[a-z]* ([OTAP])'
otap explain stray
