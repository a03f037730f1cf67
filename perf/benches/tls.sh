#!/usr/bin/env bash
# TLS benchmark (issue #8): search throughput over TLS against the same without TLS, measured in
# this run. Two shoald processes on loopback (SHOAL_BENCH_CORES cores each, default 2) hold the
# same MNIST collection (HNSW m 16, ef_construct 100; ../shared/data): one plain, one with
# --tls-cert/--tls-key (a CA and certificate made here with openssl) and both with an API key,
# so the key check is paid on both sides. Only one of them is loaded at a time.
#   * search, ef 64, k 10, closed loop, concurrency 8, keep-alive connections: https:// against
#     http:// and rpcs:// against rpc://, SHOAL_BENCH_ROUNDS rounds (default 3), alternating
#     which goes first. Target: TLS >= 0.7x plain.
#
#   perf/benches/tls.sh BUILD_DIR        (make bench runs it; SHOAL_BENCH_ONLY=tls make bench)
# JSON goes to $SHOAL_BENCH_OUT/tls (default BUILD_DIR/bench-results/tls).
# SHOAL_BENCH_QUICK=1: shorter runs and one round (a smoke test).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
build="$(cd "${1:-build}" && pwd)"
shared="${SHOAL_SHARED_DIR:-$repo/../shared}"
out="${SHOAL_BENCH_OUT:-$build/bench-results}/tls"
perf="$build/bin/shoal-perf"
shoald="$build/bin/shoald"
cores="${SHOAL_BENCH_CORES:-2}"
rounds="${SHOAL_BENCH_ROUNDS:-3}"
seconds=8; warmup=1
if [ "${SHOAL_BENCH_QUICK:-0}" = 1 ]; then seconds=2; warmup=0; rounds=1; fi
mnist="$shared/data/mnist-10000x1000"
if [ ! -f "$mnist/mnist-10000x1000_base.fvecs" ]; then
  echo "tls bench: $mnist not found (set SHOAL_SHARED_DIR); skipped" >&2; exit 0
fi
mkdir -p "$out"
rm -f "$out"/*.json

tmp="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# A throwaway CA and a certificate for 127.0.0.1.
(
  cd "$tmp"
  key="-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
  openssl req -x509 $key -keyout ca.key -out ca.pem -days 2 -subj /CN=bench-ca
  openssl req $key -keyout server.key -out server.csr -subj /CN=localhost
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >san.cnf
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem \
    -days 2 -extfile san.cnf
) >/dev/null 2>&1
export SHOAL_API_KEY="bench-key-0123456789abcdef"

start() {  # name extra-args...
  local name=$1; shift
  "$shoald" --http-addr 127.0.0.1:0 --rpc-addr 127.0.0.1:0 --cores "$cores" \
    --data-dir "$tmp/data-$name" --storage.snapshot-on-shutdown false "$@" \
    >"$tmp/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 1200); do
    grep -q "shoald ready" "$tmp/$name.log" 2>/dev/null && break
    sleep 0.05
  done
  grep -q "shoald ready" "$tmp/$name.log" || { cat "$tmp/$name.log" >&2; exit 1; }
}
port_of() {  # name HTTP|RPC
  sed -n "s/.*$2 listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p" "$tmp/$1.log" | head -1
}
start plain
start tls --tls-cert "$tmp/server.pem" --tls-key "$tmp/server.key"
declare -A target
target[http]="http://127.0.0.1:$(port_of plain HTTP)"
target[rpc]="rpc://127.0.0.1:$(port_of plain RPC)"
target[https]="https://127.0.0.1:$(port_of tls HTTP)"
target[rpcs]="rpcs://127.0.0.1:$(port_of tls RPC)"

for t in rpc rpcs; do
  "$perf" ingest --target "${target[$t]}" --tls-ca "$tmp/ca.pem" --collection mnist \
    --base "$mnist/mnist-10000x1000_base.fvecs" --index hnsw --m 16 --ef-construct 100 \
    --durability memory --json "$tmp/x.json" 2>&1 | grep "shoal-perf ingest" || true
done

echo "--- search MNIST 784-d, ef 64, k 10, closed loop, concurrency 8, ${seconds} s per run"
for r in $(seq 1 "$rounds"); do
  order="http https rpc rpcs"; [ $((r % 2)) = 0 ] && order="https http rpcs rpc"
  for t in $order; do
    "$perf" search --target "${target[$t]}" --tls-ca "$tmp/ca.pem" --collection mnist \
      --query "$mnist/mnist-10000x1000_query.fvecs" \
      --gt "$mnist/mnist-10000x1000_groundtruth.ivecs" --k 10 --ef 64 --concurrency 8 \
      --duration "$seconds" --warmup "$warmup" --json "$out/search-$t-$r.json" 2>&1 |
      grep "shoal-perf search" || true
  done
done

/usr/bin/python3 - "$out" <<'PY'
import glob, json, os, statistics, sys
out = sys.argv[1]
def load(t):
    runs = {}
    for f in glob.glob(os.path.join(out, f"search-{t}-*.json")):
        runs[int(f.rsplit("-", 1)[1].split(".")[0])] = json.load(open(f))
    return runs
summary = {}
print("\n=== tls bench summary (median of rounds, min-max in parentheses)")
for secure, plain in (("https", "http"), ("rpcs", "rpc")):
    s, p = load(secure), load(plain)
    common = sorted(set(s) & set(p))
    if not common:
        print(f"{secure}: missing runs"); continue
    sq = [s[r]["qps"] for r in common]; pq = [p[r]["qps"] for r in common]
    ratios = [s[r]["qps"] / p[r]["qps"] for r in common]
    med = statistics.median(ratios)
    print(f"{secure} {statistics.median(sq):,.0f} ({min(sq):,.0f}-{max(sq):,.0f}) qps, "
          f"{plain} {statistics.median(pq):,.0f} ({min(pq):,.0f}-{max(pq):,.0f}) qps; "
          f"recall@10 {statistics.median(s[r]['recall_at_10'] for r in common):.4f} / "
          f"{statistics.median(p[r]['recall_at_10'] for r in common):.4f}; p99 "
          f"{statistics.median(s[r]['latency_ms']['p99'] for r in common):.2f} / "
          f"{statistics.median(p[r]['latency_ms']['p99'] for r in common):.2f} ms")
    print(f"  ratio per round: {', '.join(f'{x:.2f}' for x in ratios)}; median {med:.2f} "
          f"(target >= 0.7: {'met' if med >= 0.7 else 'NOT met'})")
    summary[secure] = {"ratios": ratios, "median": med, "target": 0.7}
json.dump(summary, open(os.path.join(out, "summary.json"), "w"), indent=1)
print(f"results in {out}")
PY
