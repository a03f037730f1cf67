#!/usr/bin/env bash
# REST API benchmarks (issue #5), every reference measured in this same run:
#   * parse:  simdjson parsing request bodies in place (padded, as the session keeps them)
#             against parsing them with a copy;
#   * search: a shoald on 2 cores (SHOAL_BENCH_CORES) serving POST /points/query (k=10, the same
#             ef) over loopback, closed loop, against the same shards searched in process by one
#             pinned thread per shard; then open loop at half of that peak for p50/p99; on MNIST
#             784-d (l2) and USE-512 (cosine) from ../shared/data, with recall against the exact
#             ground truth;
#   * ingest: PUT /points?wait=true of generated 768-d vectors into a flat collection, against
#             the JSON decode rate of the same bodies in process.
#
#   perf/benches/rest.sh BUILD_DIR      (make bench runs it; SHOAL_BENCH_ONLY=rest make bench)
# JSON goes to $SHOAL_BENCH_OUT/rest (default BUILD_DIR/bench-results/rest).
# SHOAL_BENCH_QUICK=1: shorter runs (a smoke test; the numbers are then noisier).
# SHOAL_BENCH_SHOALD_ARGS: extra shoald flags, e.g. "--runtime.idle-poll 0us".
# SHOAL_BENCH_SERVER_CPUS / SHOAL_BENCH_CLIENT_CPUS (taskset lists, e.g. "1" and "0"): keep the
#   server and the load client on CPUs of their own; shoald then gets one core per server CPU
#   (unless SHOAL_BENCH_CORES says otherwise) and the in-process reference runs on the server's.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
build="$(cd "${1:-build}" && pwd)"
shared="${SHOAL_SHARED_DIR:-$repo/../shared}"
out="${SHOAL_BENCH_OUT:-$build/bench-results}/rest"
bench="$build/bin/shoal-rest-bench"
shoald="$build/bin/shoald"
server_cpus="${SHOAL_BENCH_SERVER_CPUS:-}"
client_cpus="${SHOAL_BENCH_CLIENT_CPUS:-}"
server_pin=(); client_pin=(); reference_cpus=()
if [ -n "$server_cpus" ]; then
  server_pin=(taskset -c "$server_cpus")
  reference_cpus=(--reference-cpus "$server_cpus")
  default_cores=$(echo "$server_cpus" | tr ',' '\n' | grep -c .)
fi
[ -n "$client_cpus" ] && client_pin=(taskset -c "$client_cpus")
cores="${SHOAL_BENCH_CORES:-${default_cores:-2}}"
data="$shared/data"
mkdir -p "$out"
for tool in "$bench" "$shoald"; do
  [ -x "$tool" ] || { echo "rest bench: $tool is missing; build first (make build)" >&2; exit 1; }
done
seconds=10; warmup=2; ingest_seconds=8
if [ "${SHOAL_BENCH_QUICK:-0}" = 1 ]; then seconds=3; warmup=1; ingest_seconds=3; fi

tmp="$(mktemp -d)"
pid=
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

start_shoald() {
  # shellcheck disable=SC2086 # SHOAL_BENCH_SHOALD_ARGS: more shoald flags, split on spaces
  "${server_pin[@]}" "$shoald" --http-addr 127.0.0.1:0 --cores "$cores" --data-dir "$tmp/data" \
    --log-level info ${SHOAL_BENCH_SHOALD_ARGS:-} >"$tmp/shoald.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 200); do
    grep -q "shoald ready" "$tmp/shoald.log" 2>/dev/null && break
    sleep 0.05
  done
  port=$(sed -n 's/.*HTTP listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/shoald.log" | head -1)
  [ -n "$port" ] || { cat "$tmp/shoald.log" >&2; echo "rest bench: shoald did not start" >&2; exit 1; }
}

echo "--- parse: in place vs copy"
"$bench" parse --json "$out/parse.json"

start_shoald
common=(--port "$port" --server-pid "$pid" "${reference_cpus[@]}" --k 10 --ef 64
  --seconds "$seconds" --warmup "$warmup")
if [ -f "$data/mnist-10000x1000/mnist-10000x1000_base.fvecs" ]; then
  echo "--- search: MNIST 784-d, l2"
  d="$data/mnist-10000x1000"
  "${client_pin[@]}" "$bench" search "${common[@]}" --metric l2 \
    --base "$d/mnist-10000x1000_base.fvecs" --queries "$d/mnist-10000x1000_query.fvecs" \
    --gt "$d/mnist-10000x1000_groundtruth.ivecs" \
    --json "$out/search-mnist.json"
else
  echo "rest bench: $data/mnist-10000x1000 not found (set SHOAL_SHARED_DIR); search skipped" >&2
fi
if [ -f "$data/use512-sotu-moby/use512_base.fvecs" ]; then
  echo "--- search: USE-512, cosine"
  d="$data/use512-sotu-moby"
  "${client_pin[@]}" "$bench" search "${common[@]}" --metric cosine --base "$d/use512_base.fvecs" \
    --queries "$d/use512_query.fvecs" --gt "$d/use512_groundtruth.ivecs" \
    --json "$out/search-use512.json"
fi
echo "--- ingest: 768-d into a flat collection"
"${client_pin[@]}" "$bench" ingest --port "$port" --dim 768 --batch 256 --connections 4 \
  --seconds "$ingest_seconds" --json "$out/ingest.json"
kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
pid=
echo "rest bench: results in $out"
