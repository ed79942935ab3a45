#!/usr/bin/env bash
# The promotion suite (tests/harness/promote_suite.sh) on the embedded
# SQLite state store, .otap/state.db.
STORE=sqlite
PORT_LO=26000
. "$SRC/tests/harness/promote_suite.sh"
