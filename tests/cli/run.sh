#!/usr/bin/env bash
# Golden transcripts of the command line, in the manner of zstd's
# cli-tests and cram: tests/cli/cases/NAME.t holds one shell command per
# line (lines starting with '#' are comments); each runs in a fresh
# directory with 'otap' on PATH and $EXAMPLE naming the example manifest.
# The transcript (command, stdout, stderr, exit status) must equal
# NAME.out byte for byte. 'run.sh --update' rewrites the .out files.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${OTAP:?OTAP must name the otap binary}"
: "${SRC:=$(cd "$here/../.." && pwd)}"
update=0
[ "${1:-}" = "--update" ] && { update=1; shift; }

bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
ln -s "$OTAP" "$bin/otap"
export PATH="$bin:$PATH" NO_COLOR=1 EXAMPLE="$SRC/examples/databiz/otap.yaml"

transcript() { # case-file workdir
  local line out err rc
  while IFS= read -r line || [ -n "$line" ]; do
    if [ -z "$line" ] || [ "${line:0:1}" = "#" ]; then
      printf '%s\n' "$line"; continue
    fi
    printf '$ %s\n' "$line"
    out=$(cd "$2" && bash -c "$line" </dev/null 2>"$bin/stderr"; echo "[exit $?]")
    rc=${out##*\[exit }; rc=${rc%]}
    out=${out%\[exit *}
    [ -n "$out" ] && printf '%s' "$out"
    if [ -s "$bin/stderr" ]; then printf '[stderr]\n'; cat "$bin/stderr"; fi
    [ "$rc" != 0 ] && printf '[exit %s]\n' "$rc"
  done <"$1"
}

pass=0 fail=0
for t in "$here"/cases/*.t; do
  name=$(basename "$t" .t)
  work=$(mktemp -d)
  got=$(transcript "$t" "$work" | sed -e "s|$work|\$TMP|g" -e "s|$SRC|\$SRC|g" \
        -e 's/(\([0-9a-f]\{12\}\)\(-dirty\)\{0,1\})/(<commit>)/g' \
        -e 's/"commit": "[0-9a-f]\{12\}\(-dirty\)\{0,1\}"/"commit": "<commit>"/')
  rm -rf "$work"
  if [ "$update" = 1 ]; then
    printf '%s\n' "$got" >"$here/cases/$name.out"
    echo "updated $name"
    continue
  fi
  if [ "$got" = "$(cat "$here/cases/$name.out" 2>/dev/null)" ]; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "FAIL $name"
    diff -u "$here/cases/$name.out" <(printf '%s\n' "$got") | head -60
  fi
done
[ "$update" = 1 ] && exit 0
echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
