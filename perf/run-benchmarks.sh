#!/usr/bin/env bash
# `make bench`: runs every perf/benches/*.sh in name order with the build directory as argument.
# Each script prints its own results beside the reference measured in the same run, and writes
# JSON under $SHOAL_BENCH_OUT (default: <build>/bench-results).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$(cd "${1:-build}" && pwd)"
export SHOAL_BENCH_OUT="${SHOAL_BENCH_OUT:-$build/bench-results}"
mkdir -p "$SHOAL_BENCH_OUT"
only="${SHOAL_BENCH_ONLY:-}"   # e.g. SHOAL_BENCH_ONLY=index make bench
for script in "$here"/benches/*.sh; do
  name="$(basename "$script" .sh)"
  if [ -n "$only" ] && [[ "$name" != *"$only"* ]]; then continue; fi
  echo "=== bench: $name"
  "$script" "$build"
done
