#pragma once
// Plumbing shared by `shoal-perf ingest` and `shoal-perf search`: running a coroutine to
// completion on an io_context on the calling thread, a clock, sleeping, and JSON output.

#include <chrono>
#include <cstdio>
#include <exception>
#include <functional>
#include <string>

#include "engine/runtime/asio.h"

namespace shoal::perf {

using steady = std::chrono::steady_clock;

inline uint64_t ns_between(steady::time_point a, steady::time_point b) {
  auto d = std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count();
  return d > 0 ? static_cast<uint64_t>(d) : 0;
}
inline double seconds_between(steady::time_point a, steady::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

inline awaitable<void> sleep_until(steady::time_point t) {
  asio::steady_timer timer(co_await asio::this_coro::executor, t);
  co_await timer.async_wait(use_nothrow_awaitable);
}

/// Runs main() on a fresh io_context on this thread until it and everything it started end.
/// Returns main's exit code; an exception becomes exit code 1 with its message.
inline int run_main(const char* name, std::function<awaitable<int>()> main) {
  asio::io_context ioc(1);
  int rc = 1;
  asio::co_spawn(ioc, main(), [&](std::exception_ptr e, int r) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        std::fprintf(stderr, "shoal-perf %s: %s\n", name, ex.what());
      }
      rc = 1;
    } else {
      rc = r;
    }
  });
  ioc.run();
  return rc;
}

/// Writes `json` (plus a newline) to `path`, or to stdout when path is empty.
inline bool write_json(const std::string& path, const std::string& json, const char* name) {
  if (path.empty()) {
    std::fputs((json + "\n").c_str(), stdout);
    return true;
  }
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr || std::fputs((json + "\n").c_str(), f) < 0 || std::fclose(f) != 0) {
    std::fprintf(stderr, "shoal-perf %s: cannot write %s\n", name, path.c_str());
    return false;
  }
  return true;
}

}  // namespace shoal::perf
