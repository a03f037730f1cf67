#!/usr/bin/env bash
# Replication lag (issue #7): a static 2-host cluster on loopback (each host SHOAL_BENCH_CORES
# cores, default 1, so the two hosts do not share a CPU more than the machine forces), 128-d
# generated vectors ingested into the leader over RPC at a fixed rate (default 10,000 vectors/s,
# batches of 100, durability local) while the leader's /metrics is sampled every 50 ms:
# shoal_replication_lag_milliseconds (age of the oldest record a follower has not acknowledged)
# and shoal_replication_lag_lsn, worst shard per sample. Prints p50/p99/max of the samples for a
# flat and an HNSW collection.
#
#   perf/benches/replication.sh BUILD_DIR     (SHOAL_BENCH_ONLY=replication make bench)
# SHOAL_REPL_RATE (vectors/s), SHOAL_REPL_SECONDS (default 20). JSON to $SHOAL_BENCH_OUT/replication.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$(cd "${1:-build}" && pwd)"
out="${SHOAL_BENCH_OUT:-$build/bench-results}/replication"
data="$build/bench-data/replication"
perf="$build/bin/shoal-perf"
shoald="$build/bin/shoald"
cores="${SHOAL_BENCH_CORES:-1}"
rate="${SHOAL_REPL_RATE:-10000}"
seconds="${SHOAL_REPL_SECONDS:-20}"
n=$((rate * seconds))
mkdir -p "$out" "$data"
tmp="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]:-}"; do [ -n "$p" ] && kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

gen="$data/gen128-$n"
if [ ! -f "$gen/base.fvecs" ]; then
  "$perf" gen --out "$gen" --n "$n" --queries 100 --dim 128 --clusters 64 --gt-k 10 >/dev/null
fi
port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

run_one() {  # index
  local index=$1
  local ha hb ra rb
  ha=$(port); hb=$(port); ra=$(port); rb=$(port)
  local peers="a=127.0.0.1:$ra/$ha,b=127.0.0.1:$rb/$hb"
  rm -rf "$tmp/a" "$tmp/b"
  "$shoald" --node-id a --peers "$peers" --http-addr "127.0.0.1:$ha" --rpc-addr "127.0.0.1:$ra" \
    --cores "$cores" --data-dir "$tmp/a" --storage.snapshot-on-shutdown false >"$tmp/a.log" 2>&1 &
  pids+=($!)
  "$shoald" --node-id b --peers "$peers" --http-addr "127.0.0.1:$hb" --rpc-addr "127.0.0.1:$rb" \
    --cores "$cores" --data-dir "$tmp/b" --storage.snapshot-on-shutdown false >"$tmp/b.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 200); do
    grep -q "shoald ready" "$tmp/a.log" && grep -q "shoald ready" "$tmp/b.log" && break
    sleep 0.05
  done
  local body='{"vectors":{"size":128,"distance":"Euclid","index":"'"$index"'"}}'
  curl -s -X PUT "127.0.0.1:$ha/collections/lag" -H 'content-type: application/json' -d "$body" >/dev/null
  curl -s -X PUT "127.0.0.1:$hb/collections/lag" -H 'content-type: application/json' -d "$body" >/dev/null
  # Which host leads: the one that takes a write.
  local leader_http=$ha leader_rpc=$ra follower_http=$hb
  if ! curl -s -X PUT "127.0.0.1:$ha/collections/lag/points?wait=true" -H 'content-type: application/json' \
      -d '{"points":[{"id":999999999,"vector":['"$(printf '0,%.0s' $(seq 1 127))"'0]}]}' | grep -q completed; then
    leader_http=$hb; leader_rpc=$rb; follower_http=$ha
  fi
  /usr/bin/python3 - "$leader_http" "$tmp/samples-$index.txt" <<'PY' &
import re, sys, time, urllib.request
port, path = sys.argv[1], sys.argv[2]
with open(path, "w") as f:
    while True:
        try:
            text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
        except Exception:
            break
        ms = [float(v) for v in re.findall(r'^shoal_replication_lag_milliseconds\{[^}]*\} (\S+)', text, re.M)]
        lsn = [float(v) for v in re.findall(r'^shoal_replication_lag_lsn\{[^}]*\} (\S+)', text, re.M)]
        f.write(f"{max(ms) if ms else 0} {max(lsn) if lsn else 0}\n")
        f.flush()
        time.sleep(0.05)
PY
  local sampler=$!
  "$perf" ingest --target "rpc://127.0.0.1:$leader_rpc" --collection lag --base "$gen/base.fvecs" \
    --batch 100 --concurrency 4 --rate "$rate" --durability local \
    --json "$out/ingest-$index.json" 2>&1 | grep "shoal-perf ingest" || true
  sleep 1
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  local fcount
  fcount=$(curl -s -X POST "127.0.0.1:$follower_http/collections/lag/points/count" -d '{"exact":true}')
  /usr/bin/python3 - "$tmp/samples-$index.txt" "$out/lag-$index.json" "$index" "$rate" "$fcount" <<'PY'
import json, sys
rows = [tuple(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
ms = sorted(r[0] for r in rows); lsn = sorted(r[1] for r in rows)
def q(v, p): return v[min(len(v) - 1, int(p * len(v)))] if v else float("nan")
res = {"index": sys.argv[3], "rate": float(sys.argv[4]), "samples": len(rows),
       "lag_ms": {"p50": q(ms, .5), "p99": q(ms, .99), "max": ms[-1] if ms else None},
       "lag_lsn": {"p50": q(lsn, .5), "p99": q(lsn, .99), "max": lsn[-1] if lsn else None},
       "follower_count": json.loads(sys.argv[5])["result"]["count"]}
json.dump(res, open(sys.argv[2], "w"), indent=1)
print(f"{res['index']}: {len(rows)} samples at {res['rate']:.0f} vectors/s: lag p50 {res['lag_ms']['p50']:.1f} ms, "
      f"p99 {res['lag_ms']['p99']:.1f} ms, max {res['lag_ms']['max']:.1f} ms (target p99 <= 50 ms); "
      f"LSNs behind p99 {res['lag_lsn']['p99']:.0f}; follower holds {res['follower_count']} points")
PY
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait "${pids[@]}" 2>/dev/null || true
  pids=()
}

echo "--- replication lag, 2 hosts x $cores core(s), $rate vectors/s of 128-d for ${seconds} s"
run_one flat
run_one hnsw
echo "results in $out"
