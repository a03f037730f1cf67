#pragma once
// Live reporting for the load subcommands: a progress line on a terminal (rewritten in place
// twice a second; nothing when stderr is not a terminal), the time series behind --plot, and the
// SVG it is drawn into (written by hand: percentiles and throughput over time).

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "perf/shoal_perf/histogram.h"

namespace shoal::perf {

class progress_line {
 public:
  /// Active only when stderr is a terminal (or `force`).
  explicit progress_line(bool force = false);
  ~progress_line();
  bool active() const { return active_; }
  /// Replaces the line.
  void show(const std::string& text);
  /// Ends the line (a newline) so later output starts clean.
  void finish();

 private:
  bool active_;
  bool shown_ = false;
};

/// "12.3k", "1.20M": a count for the progress line.
std::string human_count(double v);
/// "3s", "2m05s", "-": an ETA.
std::string human_eta(double seconds);

/// One interval of a run: requests finished in it and their latency percentiles (ms).
struct window_stats {
  double start_seconds = 0;  // since the start of the run
  double seconds = 0;
  uint64_t requests = 0;
  uint64_t errors = 0;
  double p50_ms = 0, p90_ms = 0, p99_ms = 0, max_ms = 0;
};

/// Collects per-interval statistics: record into the current window; roll() closes it.
class time_series {
 public:
  void record(uint64_t latency_ns, bool ok);
  /// Closes the current window at `now_seconds` (since the start).
  void roll(double now_seconds);
  const std::vector<window_stats>& windows() const { return windows_; }

 private:
  latency_histogram current_;
  uint64_t errors_ = 0;
  double started_ = 0;
  std::vector<window_stats> windows_;
};

/// Writes an SVG with latency percentiles (log scale) and throughput over time. False if the
/// file cannot be written.
bool write_svg_plot(const std::string& path, const std::string& title,
                    const std::vector<window_stats>& windows, std::string& error);

}  // namespace shoal::perf
