#!/usr/bin/env bash
# Binary RPC benchmarks (issue #6), each against its reference measured in this same run, on a
# shoald it starts on loopback (SHOAL_BENCH_CORES cores, default 2) with a temporary data dir:
#   * ingest, flat index, 768-d generated vectors: `shoal-perf ingest` over rpc:// against the
#     same over http:// (REST JSON, batch form), same batches, concurrency and durability (memory:
#     acknowledged once applied, the log is still written);
#   * ingest into HNSW over rpc:// (default shards: one per core; and one shard) against the
#     in-process HNSW build rate of the same data and parameters (`shoal-perf index`, one thread);
#   * search, HNSW ef=64, k=10: `shoal-perf search` over rpc:// against http:// on the same
#     collection (so at the same recall), closed loop, on MNIST 784-d (../shared/data) and the
#     generated 768-d set; then open loop at half the REST peak for latency percentiles.
# Every pair runs SHOAL_BENCH_ROUNDS times (default 3), alternating which goes first; the
# summary gives the median, the spread (min-max) and the ratio per round.
#
#   perf/benches/rpc.sh BUILD_DIR        (make bench runs it; SHOAL_BENCH_ONLY=rpc make bench)
# JSON goes to $SHOAL_BENCH_OUT/rpc (default BUILD_DIR/bench-results/rpc), generated data to
# BUILD_DIR/bench-data/rpc. SHOAL_BENCH_QUICK=1: a smaller set and shorter runs (a smoke test).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
build="$(cd "${1:-build}" && pwd)"
shared="${SHOAL_SHARED_DIR:-$repo/../shared}"
out="${SHOAL_BENCH_OUT:-$build/bench-results}/rpc"
data="$build/bench-data/rpc"
perf="$build/bin/shoal-perf"
shoald="$build/bin/shoald"
cores="${SHOAL_BENCH_CORES:-2}"
rounds="${SHOAL_BENCH_ROUNDS:-3}"
n=20000; seconds=8; warmup=1
if [ "${SHOAL_BENCH_QUICK:-0}" = 1 ]; then n=4000; seconds=2; warmup=0; rounds=1; fi
mkdir -p "$out" "$data"
rm -f "$out"/*.json
for tool in "$perf" "$shoald"; do
  [ -x "$tool" ] || { echo "rpc bench: $tool is missing; build first (make build)" >&2; exit 1; }
done

tmp="$(mktemp -d)"
pid=
stop_shoald() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  fi
  pid=
}
cleanup() { stop_shoald; rm -rf "$tmp"; }
trap cleanup EXIT

# A fresh shoald (empty data directory) for each part, so parts do not share memory or logs.
starts=0
start_shoald() {
  stop_shoald
  rm -rf "$tmp/data"
  # A new log file each time: the old one still says "ready" until the new process truncates it.
  starts=$((starts + 1))
  log="$tmp/shoald-$starts.log"
  # No snapshot at shutdown: the data directory is thrown away, and stops stay quick.
  "$shoald" --http-addr 127.0.0.1:0 --rpc-addr 127.0.0.1:0 --cores "$cores" \
    --data-dir "$tmp/data" --storage.snapshot-on-shutdown false --log-level info \
    >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 1200); do
    grep -q "shoald ready" "$log" 2>/dev/null && break
    sleep 0.05
  done
  http_port=$(sed -n 's/.*HTTP listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -1)
  rpc_port=$(sed -n 's/.*RPC listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -1)
  if [ -z "$http_port" ] || [ -z "$rpc_port" ]; then
    cat "$log" >&2
    kill -0 "$pid" 2>/dev/null || { wait "$pid" || echo "rpc bench: shoald exited with $?" >&2; }
    echo "rpc bench: shoald did not start" >&2; exit 1
  fi
  rpc="rpc://127.0.0.1:$rpc_port"
  http="http://127.0.0.1:$http_port"
}

gen="$data/gen768-$n"
if [ ! -f "$gen/groundtruth.ivecs" ]; then
  echo "--- generating $n x 768 clustered vectors (shoal-perf gen) into $gen"
  "$perf" gen --out "$gen" --n "$n" --queries 500 --dim 768 --clusters 64 --gt-k 100
fi

echo "--- ingest, flat index, $n x 768, batch 1000, concurrency 4, durability memory"
start_shoald
for proto in rpc http; do  # warm-up (allocator, log files, connections), not measured
  target=$rpc; [ "$proto" = http ] && target=$http
  "$perf" ingest --target "$target" --collection "warm-$proto" --base "$gen/base.fvecs" \
    --index flat --limit 2000 --durability memory --json "$tmp/x.json" >/dev/null 2>&1
done
for r in $(seq 1 "$rounds"); do
  order="rpc http"; [ $((r % 2)) = 0 ] && order="http rpc"
  for proto in $order; do
    target=$rpc; [ "$proto" = http ] && target=$http
    "$perf" ingest --target "$target" --collection "flat-$proto-$r" --base "$gen/base.fvecs" \
      --index flat --batch 1000 --concurrency 4 --durability memory \
      --json "$out/ingest-flat-$proto-$r.json" 2>&1 | grep "shoal-perf ingest" || true
  done
done

echo "--- ingest into HNSW (m 16, ef_construct 100) over RPC vs the in-process build"
for r in $(seq 1 "$rounds"); do
  start_shoald
  "$perf" index --base "$gen/base.fvecs" --query "$gen/query.fvecs" --gt "$gen/groundtruth.ivecs" \
    --m 16 --ef-construction 100 --ef 64 --min-time 0.1 \
    --json "$out/hnsw-inprocess-$r.json" 2>&1 | grep "built in" || true
  "$perf" ingest --target "$rpc" --collection "hnsw-$r" --base "$gen/base.fvecs" --index hnsw \
    --m 16 --ef-construct 100 --batch 1000 --concurrency 4 --durability memory \
    --json "$out/hnswrpc-default-$r.json" 2>&1 | grep "shoal-perf ingest" || true
  "$perf" ingest --target "$rpc" --collection "hnsw1-$r" --base "$gen/base.fvecs" --index hnsw \
    --m 16 --ef-construct 100 --shards 1 --batch 1000 --concurrency 4 --durability memory \
    --json "$out/hnswrpc-oneshard-$r.json" 2>&1 | grep "shoal-perf ingest" || true
done

# CPU time of every shoald thread so far, in ns (schedstat: time on a CPU). The client shares
# these CPUs, so queries/s mixes its cost and the host's noise into the server's; the server's
# CPU time per query does not (perf/rest/cpu_time.h says more).
server_cpu_ns() {
  cat /proc/"$pid"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%.0f\n", s}'
}
# Of that, the reactors' polling of their channels while idle (no work done), in ns.
server_idle_poll_ns() {
  /usr/bin/python3 - "$http" <<'PY'
import sys, urllib.request
text = urllib.request.urlopen(sys.argv[1] + "/metrics").read().decode()
print(int(1e9 * sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                    if line.startswith("shoal_reactor_idle_poll_seconds_total{"))))
PY
}

search_pair() {  # name collection query gt
  local name=$1 coll=$2 query=$3 gt=$4
  for r in $(seq 1 "$rounds"); do
    order="rpc http"; [ $((r % 2)) = 0 ] && order="http rpc"
    for proto in $order; do
      target=$rpc; [ "$proto" = http ] && target=$http
      local cpu0 idle0; cpu0=$(server_cpu_ns); idle0=$(server_idle_poll_ns)
      "$perf" search --target "$target" --collection "$coll" --query "$query" --gt "$gt" \
        --k 10 --ef 64 --concurrency 8 --duration "$seconds" --warmup "$warmup" \
        --json "$out/search-$name-$proto-$r.json" 2>&1 | grep "shoal-perf search" || true
      echo $(($(server_cpu_ns) - cpu0)) $(($(server_idle_poll_ns) - idle0)) \
        >"$out/cpu-search-$name-$proto-$r.txt"
    done
  done
}

echo "--- search, HNSW ef 64, k 10, closed loop, concurrency 8, ${seconds} s per run"
start_shoald
# The generated set: the collection of the last HNSW round is rebuilt here in the new server.
"$perf" ingest --target "$rpc" --collection gen --base "$gen/base.fvecs" --index hnsw --m 16 \
  --ef-construct 100 --durability memory --json "$tmp/x.json" 2>&1 | grep "shoal-perf ingest" || true
mnist="$shared/data/mnist-10000x1000"
if [ -f "$mnist/mnist-10000x1000_base.fvecs" ]; then
  "$perf" ingest --target "$rpc" --collection mnist --base "$mnist/mnist-10000x1000_base.fvecs" \
    --index hnsw --m 16 --ef-construct 100 --durability memory --json "$tmp/x.json" 2>&1 |
    grep "shoal-perf ingest" || true
  echo "    MNIST 784-d (l2)"
  search_pair mnist mnist "$mnist/mnist-10000x1000_query.fvecs" \
    "$mnist/mnist-10000x1000_groundtruth.ivecs"
else
  echo "rpc bench: $mnist not found (set SHOAL_SHARED_DIR); MNIST search skipped" >&2
fi
echo "    generated 768-d (l2)"
search_pair gen768 gen "$gen/query.fvecs" "$gen/groundtruth.ivecs"

# Open loop at half of the REST peak (median of the rounds), for latency at a load both carry.
rate=$(/usr/bin/python3 - "$out" <<'PY'
import glob, json, statistics, sys
q = [json.load(open(f))["qps"] for f in glob.glob(sys.argv[1] + "/search-gen768-http-*.json")]
print(int(statistics.median(q) / 2) if q else 500)
PY
)
echo "--- search, open loop at $rate req/s (half the REST peak), generated 768-d"
for proto in rpc http; do
  target=$rpc; [ "$proto" = http ] && target=$http
  "$perf" search --target "$target" --collection gen --query "$gen/query.fvecs" \
    --gt "$gen/groundtruth.ivecs" --k 10 --ef 64 --concurrency 64 --rate "$rate" \
    --duration "$seconds" --json "$out/open-gen768-$proto.json" \
    --plot "$out/open-gen768-$proto.svg" 2>&1 | grep "shoal-perf search" || true
done
stop_shoald

/usr/bin/python3 - "$out" "$rounds" "$warmup" <<'PY'
import glob, json, os, statistics, sys
out, rounds, warmup = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
def server_cpu_us(name, proto, r, run):
    # The server's working CPU (idle polling left out) over the whole run, warm-up included, per
    # request answered in it (the warm-up's requests estimated at the measured rate).
    f = os.path.join(out, f"cpu-search-{name}-{proto}-{r}.txt")
    if not os.path.exists(f) or run["qps"] <= 0:
        return None
    cpu_ns, idle_poll_ns = (int(x) for x in open(f).read().split())
    return (cpu_ns - idle_poll_ns) / 1e3 / (run["qps"] * (run["seconds"] + warmup))
def load(pattern):
    runs = {}
    for f in glob.glob(os.path.join(out, pattern)):
        r = int(f.rsplit("-", 1)[1].split(".")[0])
        runs[r] = json.load(open(f))
    return runs
def spread(vals):
    return f"{statistics.median(vals):,.0f} ({min(vals):,.0f}-{max(vals):,.0f})"
def ratio_line(name, ours, ref, target):
    common = sorted(set(ours) & set(ref))
    if not common:
        print(f"{name}: missing runs"); return None
    ratios = [ours[r] / ref[r] for r in common]
    med = statistics.median(ratios)
    ok = "met" if med >= target else "NOT met"
    print(f"  ratio per round: {', '.join(f'{x:.2f}' for x in ratios)}; median {med:.2f} "
          f"(target >= {target}: {ok})")
    return {"ratios": ratios, "median": med, "target": target}
summary = {}
print("\n=== rpc bench summary (median of rounds, min-max in parentheses)")
rpc = {r: v["vectors_per_second"] for r, v in load("ingest-flat-rpc-*.json").items()}
rest = {r: v["vectors_per_second"] for r, v in load("ingest-flat-http-*.json").items()}
if rpc and rest:
    print(f"ingest flat 768-d: RPC {spread(list(rpc.values()))} vectors/s, "
          f"REST {spread(list(rest.values()))} vectors/s")
    summary["ingest_flat"] = ratio_line("ingest flat", rpc, rest, 3.0)
hn = {r: v["vectors_per_second"] for r, v in load("hnswrpc-default-*.json").items()}
hn1 = {r: v["vectors_per_second"] for r, v in load("hnswrpc-oneshard-*.json").items()}
ip = {r: v["n"] / v["build_seconds"] for r, v in load("hnsw-inprocess-*.json").items()}
if hn and ip:
    print(f"HNSW build 768-d: RPC ingest {spread(list(hn.values()))} vectors/s (one shard per "
          f"core), in-process build {spread(list(ip.values()))} vectors/s (one thread)")
    summary["ingest_hnsw"] = ratio_line("hnsw", hn, ip, 0.9)
    if hn1:
        print(f"  with one shard: RPC ingest {spread(list(hn1.values()))} vectors/s")
        summary["ingest_hnsw_one_shard"] = ratio_line("hnsw one shard", hn1, ip, 0.9)
for name in ("mnist", "gen768"):
    rs, hs = load(f"search-{name}-rpc-*.json"), load(f"search-{name}-http-*.json")
    if not rs or not hs:
        continue
    rq = {r: v["qps"] for r, v in rs.items()}
    hq = {r: v["qps"] for r, v in hs.items()}
    rr = statistics.median(v["recall_at_10"] for v in rs.values())
    hr = statistics.median(v["recall_at_10"] for v in hs.values())
    print(f"search {name} ef 64: RPC {spread(list(rq.values()))} qps (recall@10 {rr:.4f}, p99 "
          f"{statistics.median(v['latency_ms']['p99'] for v in rs.values()):.2f} ms), REST "
          f"{spread(list(hq.values()))} qps (recall@10 {hr:.4f}, p99 "
          f"{statistics.median(v['latency_ms']['p99'] for v in hs.values()):.2f} ms)")
    summary[f"search_{name}"] = ratio_line(name, rq, hq, 1.2)
    rc = {r: server_cpu_us(name, "rpc", r, v) for r, v in rs.items()}
    hc = {r: server_cpu_us(name, "http", r, v) for r, v in hs.items()}
    common = [r for r in sorted(set(rc) & set(hc)) if rc[r] and hc[r]]
    if common:
        cr = [hc[r] / rc[r] for r in common]
        print(f"  server working CPU per query: RPC {spread([rc[r] for r in common])} us, REST "
              f"{spread([hc[r] for r in common])} us; REST / RPC per round "
              f"{', '.join(f'{x:.2f}' for x in cr)}, median {statistics.median(cr):.2f}")
        summary[f"search_{name}_server_cpu"] = {"rpc_us": [rc[r] for r in common],
                                                "rest_us": [hc[r] for r in common],
                                                "rest_over_rpc": cr}
for proto in ("rpc", "http"):
    f = os.path.join(out, f"open-gen768-{proto}.json")
    if os.path.exists(f):
        v = json.load(open(f))
        l = v["latency_ms"]
        print(f"open loop {v['rate']:.0f}/s over {proto.upper()}: {v['qps']:.0f} qps, p50 "
              f"{l['p50']:.2f} ms, p99 {l['p99']:.2f} ms, p99.9 {l['p999']:.2f} ms, max "
              f"{l['max']:.2f} ms, errors {v['errors']}")
        summary[f"open_{proto}"] = v
json.dump(summary, open(os.path.join(out, "summary.json"), "w"), indent=1)
print(f"results in {out}")
PY
