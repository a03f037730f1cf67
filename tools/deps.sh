#!/usr/bin/env bash
# Installs what Shoal needs from Debian's apt, and only what is missing, so a second run is fast.
#   tools/deps.sh build   compilers, libraries and test frameworks (make build, make test)
#   tools/deps.sh bench   plus the reference libraries the benchmarks compare against (make bench)
# etcd-server is there for the tests, which start their own etcd on free loopback ports.
# `build` also installs the pinned npm clients of the REST compatibility test (tests/clients) into
# tests/clients/node_modules (git-ignored), again only when package-lock.json changed.
set -euo pipefail
want=build
[ $# -gt 0 ] && want=$1

build_pkgs=(
  g++ clang-16 lld-16 libclang-rt-16-dev cmake ninja-build ccache pkg-config make git python3
  libboost1.81-dev libboost-program-options1.81-dev
  libsimdjson-dev liblz4-dev libssl-dev libspdlog-dev libfmt-dev
  libopenblas-serial-dev libabsl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  etcd-server
)
bench_pkgs=(libhnswlib-dev python3-numpy python3-faiss wrk)

pkgs=("${build_pkgs[@]}")
[ "$want" = bench ] && pkgs+=("${bench_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
# Node.js and npm run the client compatibility test; any install that provides both will do (a
# NodeSource nodejs bundles npm and conflicts with Debian's npm package).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then missing+=(nodejs npm); fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  SUDO=
  [ "$(id -u)" = 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q >/dev/null
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

# The npm clients, exactly as package-lock.json pins them; skipped when already installed.
clients="$(cd "$(dirname "$0")/.." && pwd)/tests/clients"
if [ -f "$clients/package-lock.json" ]; then
  stamp="$clients/node_modules/.shoal-lock.sha256"
  lock_sum=$(sha256sum "$clients/package-lock.json" | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null || true)" != "$lock_sum" ]; then
    echo "deps: installing the npm clients of tests/clients"
    (cd "$clients" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null)
    echo "$lock_sum" >"$stamp"
  fi
fi
