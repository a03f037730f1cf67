#pragma once
// Measurement helpers shared by the subcommands: a monotonic clock, the "best full pass"
// throughput rule the hnswlib anchor uses (so numbers are comparable), recall@k, and
// argument-parsing glue.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <unordered_set>

#include "perf/shoal_perf/args.h"
#include "perf/shoal_perf/subcommands.h"

namespace shoal::perf {

inline double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/// Runs `pass` at least 3 times and until min_seconds have passed (at most 50 times) and
/// returns the fastest pass in seconds: the rule of ../shared/bench/hnswlib_bench.cpp.
inline double best_pass_seconds(const std::function<void()>& pass, double min_seconds) {
  const double start = now_seconds();
  double best = 1e300;
  for (size_t passes = 1;; ++passes) {
    const double t = now_seconds();
    pass();
    best = std::min(best, now_seconds() - t);
    if (passes >= 50 || (passes >= 3 && now_seconds() - start >= min_seconds)) break;
  }
  return best;
}

/// Parses args into `parser`, reporting problems as `shoal-perf <name>: message` + usage.
/// Returns -1 to continue, or the exit code to return (0 after --help, 2 on bad input).
inline int parse_or_exit(arg_parser& parser, const char* name, const args_t& args) {
  try {
    return parser.parse(args) ? -1 : 0;
  } catch (const usage_error& e) {
    std::fprintf(stderr, "shoal-perf %s: %s\n\n%s", name, e.what(), parser.usage().c_str());
    return 2;
  }
}

}  // namespace shoal::perf
