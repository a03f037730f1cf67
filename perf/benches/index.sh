#!/usr/bin/env bash
# Index benchmarks (issue 3), every reference measured in this same run:
#   * HNSW: shoal-perf index (float32 and int8) beside ../shared/bench/hnswlib-anchor.sh
#     (hnswlib 0.6.2, M=16, ef_construction=200, one thread) on MNIST 784-d (l2), USE-512
#     (cosine) and a generated 200k x 128 clustered set (l2);
#   * exact search: shoal-perf flat (single-query scan rate, batch of 1,000) beside a STREAM
#     triad (perf/index/triad.cc) and FAISS IndexFlat (python3-faiss, one thread);
#   * filtered search on the synthetic set at selectivities 0.1%, 1%, 10%, 50%.
# Then perf/index/summarize.py prints the ratios and writes summary.json.
#
#   perf/benches/index.sh BUILD_DIR      (make bench runs it; SHOAL_BENCH_ONLY=index make bench)
# JSON goes to $SHOAL_BENCH_OUT/index (default BUILD_DIR/bench-results/index). The synthetic set
# is generated once into BUILD_DIR/bench-data. SHOAL_BENCH_QUICK=1: a 50k-point synthetic set
# and fewer ef values, for a smoke run (the ratios then are not the issue's targets).
# SHOAL_BENCH_INDEX_PARTS="hnsw flat filtered" (the default) picks the parts to run.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
build="$(cd "${1:-build}" && pwd)"
shared="${SHOAL_SHARED_DIR:-$repo/../shared}"
out="${SHOAL_BENCH_OUT:-$build/bench-results}/index"
perf="$build/bin/shoal-perf"
anchor="$shared/bench/hnswlib-anchor.sh"
data="$shared/data"
py=/usr/bin/python3; [ -x "$py" ] || py=python3
mkdir -p "$out"
for tool in "$perf" "$build/bin/shoal-triad" "$build/bin/shoal-triad-native"; do
  [ -x "$tool" ] || { echo "index bench: $tool is missing; build first (make build)" >&2; exit 1; }
done
[ -x "$anchor" ] || { echo "index bench: $anchor not found (set SHOAL_SHARED_DIR)" >&2; exit 1; }

efs=10,20,40,80,160,320
n_synth=200000
if [ "${SHOAL_BENCH_QUICK:-0}" = 1 ]; then efs=10,20,40,80; n_synth=50000; fi
synth="$build/bench-data/synth-${n_synth}x128"
if [ ! -f "$synth/groundtruth.ivecs" ]; then
  "$perf" gen --out "$synth" --n "$n_synth" --queries 1000 --dim 128 --clusters 256 \
    --intrinsic 16 --seed 42
fi

# Each set runs `rounds` times, the three contenders taking turns, and summarize.py keeps each
# contender's best QPS per ef: on a shared machine one unlucky pass otherwise decides a ratio.
run_set() {  # name metric base query gt rounds
  local name=$1 metric=$2 base=$3 query=$4 gt=$5 rounds=$6
  local common=(--base "$base" --query "$query" --gt "$gt" --metric "$metric" --m 16
                --ef-construction 200 --ef "$efs")
  rm -f "$out/$name"-hnswlib*.json "$out/$name"-shoal-*.json
  for round in $(seq 1 "$rounds"); do
    local tag=""; [ "$round" = 1 ] || tag=".$round"
    echo "--- $name: hnswlib (round $round)"
    "$anchor" "${common[@]}" --json "$out/$name-hnswlib$tag.json"
    echo "--- $name: shoal float32 (round $round)"
    "$perf" index "${common[@]}" --quantization none --json "$out/$name-shoal-f32$tag.json"
    echo "--- $name: shoal int8 (round $round)"
    "$perf" index "${common[@]}" --quantization int8 --json "$out/$name-shoal-int8$tag.json"
  done
}

parts=" ${SHOAL_BENCH_INDEX_PARTS:-hnsw flat filtered} "

if [[ "$parts" == *" hnsw "* ]]; then
m=$data/mnist-10000x1000
run_set mnist l2 "$m/mnist-10000x1000_base.fvecs" "$m/mnist-10000x1000_query.fvecs" \
  "$m/mnist-10000x1000_groundtruth.ivecs" 3
u=$data/use512-sotu-moby
run_set use512 cosine "$u/use512_base.fvecs" "$u/use512_query.fvecs" "$u/use512_groundtruth.ivecs" 3
run_set synth l2 "$synth/base.fvecs" "$synth/query.fvecs" "$synth/groundtruth.ivecs" 1
fi

if [[ "$parts" == *" flat "* ]]; then
# Three rounds, taking turns, as for the graphs: summarize.py keeps each one's best.
rm -f "$out"/triad*.json "$out"/flat-synth*.json "$out"/faiss-synth*.json
have_faiss=1
"$py" -c 'import faiss, numpy' 2>/dev/null || {
  have_faiss=0
  echo "index bench: python3-faiss missing (tools/deps.sh bench); no FAISS reference" >&2
}
for round in 1 2 3; do
  tag=""; [ "$round" = 1 ] || tag=".$round"
  echo "--- exact search (round $round): triad, shoal flat, FAISS IndexFlat"
  "$build/bin/shoal-triad" > "$out/triad$tag.json"
  "$build/bin/shoal-triad-native" > "$out/triad-native$tag.json"
  "$perf" flat --base "$synth/base.fvecs" --query "$synth/query.fvecs" --metric l2 --k 10 \
    --batch 1000 --json "$out/flat-synth$tag.json"
  if [ "$have_faiss" = 1 ]; then
    "$py" "$repo/perf/index/faiss_flat.py" "$synth/base.fvecs" "$synth/query.fvecs" l2 10 1000 1 \
      > "$out/faiss-synth$tag.json"
  fi
done
fi

if [[ "$parts" == *" filtered "* ]]; then
echo "--- filtered search"
"$perf" index --base "$synth/base.fvecs" --query "$synth/query.fvecs" --metric l2 --m 16 \
  --ef-construction 200 --ef 10,20,40,80,160 --filter-selectivity 0.001,0.01,0.1,0.5 \
  --json "$out/synth-filtered.json"
fi

"$py" "$repo/perf/index/summarize.py" "$out"
