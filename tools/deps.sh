#!/usr/bin/env bash
# Installs what Shoal needs from Debian's apt, and only what is missing, so a second run is fast.
#   tools/deps.sh build   compilers, libraries and test frameworks (make build, make test)
#   tools/deps.sh bench   plus the reference libraries the benchmarks compare against (make bench)
set -euo pipefail
want=build
[ $# -gt 0 ] && want=$1

build_pkgs=(
  g++ clang-16 lld-16 libclang-rt-16-dev cmake ninja-build ccache pkg-config make git python3
  libboost1.81-dev libboost-program-options1.81-dev
  libsimdjson-dev liblz4-dev libssl-dev libspdlog-dev libfmt-dev
  libopenblas-serial-dev
  libgtest-dev libgmock-dev libbenchmark-dev
)
bench_pkgs=(libhnswlib-dev python3-numpy python3-faiss wrk)

pkgs=("${build_pkgs[@]}")
[ "$want" = bench ] && pkgs+=("${bench_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}"
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
