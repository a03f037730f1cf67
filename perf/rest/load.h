#pragma once
// A small HTTP/1.1 load generator for the REST benchmarks (perf/rest): keep-alive connections on
// one client thread, each with one request in flight, sending pre-rendered requests.
//
//   closed loop (rate = 0): every connection sends its next request as soon as the previous
//     answer arrived; throughput = answers / measured seconds.
//   open loop (rate > 0): request i is due at start + i / rate whatever happened before; its
//     latency is counted from when it was due, not when a connection got free, so queueing
//     shows up in the percentiles (no coordinated omission).
//
// Requests answered during the warm-up are not counted. Any status but 200 counts as an error.

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace shoal::perf {

struct load_options {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  size_t connections = 16;
  double warmup_seconds = 2;
  double seconds = 10;
  double rate = 0;        // requests per second; 0 = closed loop
  int client_nice = -10;  // the load thread's nice value while it runs (ignored without rights)
};

struct load_result {
  uint64_t requests = 0;  // answered in the measured window
  uint64_t errors = 0;
  double seconds = 0;
  double qps = 0;
  std::vector<double> latency_us;  // sorted
  uint64_t answered_all = 0;       // answers in the whole run, warm-up included
  uint64_t client_cpu_ns = 0;      // the load thread's CPU time over the whole run
  /// When each measured request was due (seconds from the start), in the order answered, and its
  /// latency: where in time the slow answers were.
  std::vector<std::pair<float, float>> due_and_latency_us;
  double start_s = 0;  // steady_clock (CLOCK_MONOTONIC) seconds when the first request was due
  double percentile(double p) const;
  double mean() const;
  /// Answers slower than `over_us`, grouped into episodes: slow answers due within `gap_s` of
  /// each other belong to one. A few long episodes point at stalls of the machine or the server;
  /// many short ones at queueing.
  struct episodes {
    size_t slow = 0, count = 0;
    double longest_s = 0;  // span of due times of the longest episode
  };
  episodes slow_episodes(double over_us, double gap_s = 0.02) const;
};

/// Runs the load; `requests` are complete HTTP requests (start line, headers, body), used
/// round-robin.
load_result run_load(const load_options& o, const std::vector<std::string>& requests);

/// "POST <target> HTTP/1.1" with a JSON body, ready for run_load.
std::string render_request(const std::string& method, const std::string& target,
                           const std::string& body);

/// One blocking request on a fresh connection (setup steps): status and body.
struct simple_reply {
  unsigned status = 0;
  std::string body;
};
simple_reply http_call(const std::string& host, uint16_t port, const std::string& method,
                       const std::string& target, const std::string& body = {});

}  // namespace shoal::perf
