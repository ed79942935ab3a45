# every command and verb has help, generated from the command tables;
# a new command or verb shows up here by itself once its line is added
otap artifact --help
otap artifact register --help
otap artifact list --help
otap branch --help
otap branch check --help
otap changelog --help
otap check --help
otap ci --help
otap ci run --help
otap commit --help
otap commit lint --help
otap commit hook install --help
otap db --help
otap db new --help
otap db migrate --help
otap db rollback --help
otap db status --help
otap db verify --help
otap db dump-schema --help
otap db marker --help
otap db marker init --help
otap db marker check --help
otap db lint --help
otap down --help
otap env --help
otap env check --help
otap env show --help
otap env example --help
otap env sync --help
otap env parity --help
otap env lint --help
otap env leaks --help
otap explain --help
otap flags --help
otap flags list --help
otap flags rollout --help
otap flags eval --help
otap flags set --help
otap backup --help
otap plan --help
otap slice --help
otap scope check --help
otap worktree add --help
otap backup create --help
otap backup prune --help
otap backup restore --help
otap backup drill --help
otap flags lint --help
otap gate --help
otap gate record --help
otap gen --help
otap gen github --help
otap gen railway --help
otap gen compose --help
otap help --help
otap logs --help
otap history --help
otap init --help
otap ledger --help
otap ledger show --help
otap ledger verify --help
otap ledger export --help
otap policy --help
otap policy check --help
otap ports --help
otap ps --help
otap ports list --help
otap ports check --help
otap ports free --help
otap probe --help
otap promote --help
otap release --help
otap release plan --help
otap release create --help
otap release notes --help
otap restart --help
otap rollback --help
otap run --help
otap secrets --help
otap secrets scan --help
otap secrets baseline --help
otap secrets rules --help
otap secrets hook --help
otap secrets hook install --help
otap serve --help
otap serve token --help
otap serve token add --help
otap serve token list --help
otap serve token remove --help
otap signoff --help
otap status --help
otap version --help
otap wait --help
otap up --help
