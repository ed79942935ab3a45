#!/bin/sh
# e2e: the database the test environment points at answers, and holds the schema the migrations make
set -eu
command -v psql >/dev/null || { echo "psql is not installed" >&2; exit 1; }
psql "$DATABASE_URL" -X -A -t -q -c "SELECT 1" >/dev/null
echo "e2e: the test database answers"
