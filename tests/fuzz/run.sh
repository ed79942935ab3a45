#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time over its seed corpus.
# Seeds: tests/fuzz/<target>/ plus, for the manifest fuzzer, every manifest
# fixture and example. New inputs go to a scratch copy, never the tree.
# Any crash, leak or sanitizer report fails the test (libFuzzer exits non-zero).
set -euo pipefail
bin=$1
seconds=${2:-30}
name=$(basename "$bin")
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/corpus" "$scratch/artifacts"
[ -d "$SRC/tests/fuzz/$name" ] && cp "$SRC/tests/fuzz/$name"/* "$scratch/corpus/" 2>/dev/null || true
if [ "$name" = fuzz_manifest ]; then
  i=0
  for f in "$SRC"/tests/manifests/*/*.yaml "$SRC"/examples/*/otap.yaml; do
    [ -f "$f" ] && cp "$f" "$scratch/corpus/seed-$((i++)).yaml"
  done
fi
"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
  -artifact_prefix="$scratch/artifacts/" -print_final_stats=1 "$scratch/corpus" 2>"$scratch/log" || {
  tail -n 60 "$scratch/log"
  for a in "$scratch"/artifacts/*; do
    [ -f "$a" ] && { echo "--- crashing input ($a), base64:"; base64 "$a" | head -c 4000; echo; }
  done
  exit 1
}
grep -E '^stat::number_of_executed_units|^Done' "$scratch/log" || tail -n 3 "$scratch/log"
