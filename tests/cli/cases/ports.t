# the registry as a table and as JSON; free refuses what is not ours
cp "$EXAMPLE" otap.yaml && otap ports list
otap ports list --json | jq -c '.blocks[] | {name, from, to, within, services: [.services[].name]}'
otap ports
otap ports frob
otap ports free 22 80 9000
otap ports free notaport
otap ports free --grace forever 9000
