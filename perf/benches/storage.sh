#!/usr/bin/env bash
# Issue #4 storage targets: log append with group commit, small upserts per core with local
# durability, restart of an HNSW collection from its snapshot against rebuilding it, and memory
# per vector against hnswlib (same points, dimension and M), all in this run.
set -euo pipefail
build="$1"
out="$SHOAL_BENCH_OUT"
dir="${SHOAL_BENCH_DIR:-$build/bench-data/storage}"
points="${SHOAL_BENCH_RESTART_POINTS:-1000000}"
mkdir -p "$dir"
echo "--- mutation log append (group commit)"
"$build/bin/storage-bench" log --dir "$dir" --seconds "${SHOAL_BENCH_SECONDS:-3}" --json "$out/storage-log.json"
echo "--- 1-point upserts, local durability, flat index, one core"
"$build/bin/storage-bench" upserts --dir "$dir" --seconds "${SHOAL_BENCH_SECONDS:-3}" --json "$out/storage-upserts.json"
echo "--- restart of ${points} x 128 HNSW from its snapshot"
"$build/bin/storage-bench" restart --dir "$dir" --points "$points" --dim 128 --json "$out/storage-restart.json"
if [ -x "$build/bin/hnswlib-memory" ]; then
  echo "--- hnswlib reference memory (same points, dim 128, M 16)"
  "$build/bin/hnswlib-memory" --points "$points" --dim 128 --m 16 | tee "$out/storage-hnswlib-memory.json"
  /usr/bin/python3 - "$out/storage-restart.json" "$out/storage-hnswlib-memory.json" <<'PY'
import json, sys
ours = json.load(open(sys.argv[1]))
ref = json.load(open(sys.argv[2]))
# Both measured the same way: heap bytes allocated (mallinfo2) while building, per vector.
ratio = ours["heap_overhead_bytes_per_vector"] / ref["overhead_bytes_per_vector"]
print(f"heap beyond the raw floats: shoal {ours['heap_overhead_bytes_per_vector']:.0f} B/vector "
      f"(index + point table + ids), hnswlib {ref['overhead_bytes_per_vector']:.0f} B/vector, "
      f"ratio {ratio:.2f} (target <= 1.5)")
PY
fi
