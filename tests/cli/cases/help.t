# the front door: help, version, unknown commands
otap --help
otap
otap help
otap help explain
otap check --help
otap chekc
otap help nope
otap --version
otap version --json
otap init --json --bogus
otap --manifest
