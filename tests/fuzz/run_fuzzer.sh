#!/usr/bin/env bash
# Runs one fuzz target (tests/fuzz/README.md).
#
#   run_fuzzer.sh ci     BINARY NAME  fuzz for $SHOAL_FUZZ_SECONDS (default 60) from a temporary
#                                     copy of corpus/NAME (the repository is never written)
#   run_fuzzer.sh replay BINARY NAME  run every file in regressions/NAME once
#   run_fuzzer.sh long   BINARY NAME  fuzz for $FUZZ_SECONDS (default 600); the grown corpus is
#                                     kept in $FUZZ_CORPUS_DIR/NAME (default BUILD/fuzz-corpus)
#
# Any crash, sanitizer report, leak, slow input (-timeout=10 s) or memory blow-up
# (-rss_limit_mb=2048; one allocation above it counts too) fails the run, and libFuzzer saves
# the input under BUILD/fuzz-artifacts/NAME/ (BUILD is the build tree holding BINARY).
set -euo pipefail

mode=$1 bin=$2 name=$3
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$(dirname "$bin")/.." && pwd)
artifacts=$build/fuzz-artifacts/$name
mkdir -p "$artifacts"
opts=(-timeout=10 -rss_limit_mb=2048 -artifact_prefix="$artifacts/" -print_final_stats=1)
if [[ -f $here/dict/$name.dict ]]; then
  opts+=(-dict="$here/dict/$name.dict")
fi

case $mode in
  ci)
    work=$(mktemp -d "${TMPDIR:-/tmp}/shoal-fuzz-$name-XXXXXX")
    trap 'rm -rf "$work"' EXIT
    cp -R "$here/corpus/$name/." "$work/"
    "$bin" "${opts[@]}" -max_total_time="${SHOAL_FUZZ_SECONDS:-60}" "$work"
    ;;
  replay)
    shopt -s nullglob
    files=("$here/regressions/$name"/*)
    if ((${#files[@]} == 0)); then
      echo "no regression inputs for $name"
      exit 0
    fi
    "$bin" "${opts[@]}" "${files[@]}"
    ;;
  long)
    corpus=${FUZZ_CORPUS_DIR:-$build/fuzz-corpus}/$name
    mkdir -p "$corpus"
    # New inputs go to the first directory only; the repository's seeds are read.
    "$bin" "${opts[@]}" -max_total_time="${FUZZ_SECONDS:-600}" "$corpus" "$here/corpus/$name"
    ;;
  *)
    echo "usage: $0 ci|replay|long BINARY NAME" >&2
    exit 2
    ;;
esac
