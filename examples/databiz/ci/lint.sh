#!/bin/sh
# lint: the shell scripts parse, and no file otap reads carries trailing white space
set -eu
status=0
for f in ci/*.sh; do sh -n "$f" || status=1; done
if grep -n '[[:space:]]$' otap.yaml db/migrations/*.sql; then
  echo "trailing white space (above)" >&2
  status=1
fi
[ "$status" -eq 0 ] && echo "lint: ci scripts parse, no trailing white space"
exit "$status"
