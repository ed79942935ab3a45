#!/bin/sh
# unit: the gate runs with the canonical config of its environment (test), as the service would
set -eu
[ "${ENVIRONMENT:-}" = test ] || { echo "ENVIRONMENT is '${ENVIRONMENT:-}', not test" >&2; exit 1; }
case "${DATABASE_URL:-}" in
  postgresql://* | postgres://*) ;;
  *) echo "DATABASE_URL is not a PostgreSQL URL" >&2; exit 1 ;;
esac
[ "${ACCESS_TOKEN_EXPIRE_MINUTES:-}" -ge 1 ] || { echo "ACCESS_TOKEN_EXPIRE_MINUTES has no default" >&2; exit 1; }
echo "unit: the test config is complete (ENVIRONMENT, DATABASE_URL, defaults)"
