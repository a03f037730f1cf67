#!/usr/bin/env bash
# Cross-core round trips: submit_to vs a plain asio::post ping-pong, in one run.
set -euo pipefail
build="$1"
"$build/bin/smp-bench" --seconds "${SHOAL_BENCH_SECONDS:-3}" --window 64 \
  --json "$SHOAL_BENCH_OUT/smp.json"
