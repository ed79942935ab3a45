# otap init writes a valid starter manifest and never overwrites it
otap init --project shop
otap check
otap init --project shop
otap init --project 'Bad Name'
otap --json init --manifest other.yaml --project other
otap --manifest other.yaml explain --branch hotfix/urgent --json | jq -c '.branch'
mkdir -p deep/er && cd deep/er && otap check
# a directory that does not exist: an OS failure, and nothing is left behind
otap init --manifest no/such/dir/otap.yaml --project x
ls -A
