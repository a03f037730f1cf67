#pragma once
// Metrics without atomics: every core owns its own registry (metrics::local()) and updates plain
// integers. /metrics collects a snapshot from each core (map_reduce) and merges them; samples with
// the same name and labels are summed, so a metric registered without a `core` label reads as the
// total over cores and one with a `core` label stays per core.
//
// Registration (name + labels -> object) happens on setup paths and returns a reference that
// stays valid for the registry's lifetime; hot paths only touch that reference.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace shoal::metrics {

using labels = std::vector<std::pair<std::string, std::string>>;

enum class kind { counter, gauge, histogram };

class counter {
 public:
  void inc(uint64_t n = 1) { value_ += n; }
  uint64_t value() const { return value_; }

 private:
  uint64_t value_ = 0;
};

class gauge {
 public:
  void set(double v) { value_ = v; }
  void add(double v) { value_ += v; }
  double value() const { return value_; }

 private:
  double value_ = 0;
};

/// Fixed upper bounds (Prometheus `le`), plus the implicit +Inf bucket.
class histogram {
 public:
  explicit histogram(std::span<const double> bounds);
  void observe(double v);
  std::span<const double> bounds() const { return bounds_; }
  std::span<const uint64_t> counts() const { return counts_; }  // per bucket, not cumulative
  double sum() const { return sum_; }
  uint64_t count() const { return count_; }

 private:
  std::span<const double> bounds_;
  std::vector<uint64_t> counts_;  // bounds_.size() + 1
  double sum_ = 0;
  uint64_t count_ = 0;
};

/// 50 µs .. 10 s, for request and operation latencies in seconds.
std::span<const double> latency_buckets();

struct sample {
  labels label_set;
  double value = 0;               // counter, gauge
  std::vector<double> bounds;     // histogram
  std::vector<uint64_t> buckets;  // histogram, per bucket (+Inf last)
  double sum = 0;
  uint64_t count = 0;
};

struct family {
  std::string help;
  kind type = kind::counter;
  std::map<std::string, sample> samples;  // key: rendered labels
};

/// A copy of metric values taken on one core, mergeable with other cores' copies.
class snapshot {
 public:
  void add(const std::string& name, const std::string& help, kind type, sample s);
  void merge(snapshot&& other);
  std::string to_prometheus() const;
  const std::map<std::string, family>& families() const { return families_; }
  /// Sum of all samples of a counter or gauge family matching every given label (tests, CLI).
  double total(const std::string& name, const labels& match = {}) const;

 private:
  std::map<std::string, family> families_;
};

class registry {
 public:
  counter& make_counter(const std::string& name, const std::string& help, labels l = {});
  gauge& make_gauge(const std::string& name, const std::string& help, labels l = {});
  histogram& make_histogram(const std::string& name, const std::string& help, labels l = {},
                            std::span<const double> bounds = latency_buckets());
  /// A gauge computed when a snapshot is taken (queue depths, sizes).
  void make_gauge_fn(const std::string& name, const std::string& help, labels l,
                     std::function<double()> fn);
  /// Forgets a metric (its owner is going away; gauge functions must not outlive what they read).
  void remove(const std::string& name, labels l = {});
  snapshot take_snapshot() const;

 private:
  struct entry {
    std::string name, help;
    kind type;
    labels label_set;
    std::unique_ptr<counter> c;
    std::unique_ptr<gauge> g;
    std::unique_ptr<histogram> h;
    std::function<double()> fn;
  };
  entry& find_or_add(const std::string& name, const std::string& help, kind type, labels l);
  std::map<std::string, entry> entries_;  // key: name + rendered labels
};

/// This thread's registry (one per core; non-reactor threads get their own too).
registry& local();

/// `{a="x",b="y"}` with Prometheus escaping; empty string for no labels.
std::string render_labels(const labels& l);

}  // namespace shoal::metrics
