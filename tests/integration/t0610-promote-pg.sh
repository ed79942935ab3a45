#!/usr/bin/env bash
# The promotion suite (tests/harness/promote_suite.sh) with the state store
# in PostgreSQL (OTAP_STATE_URL), as a team shares it.
STORE=pg
PORT_LO=27000
. "$SRC/tests/harness/promote_suite.sh"
