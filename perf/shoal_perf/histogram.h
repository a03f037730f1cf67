#pragma once
// A latency histogram in the manner of HdrHistogram: log-linear buckets (each power of two is
// split into 128 equal sub-buckets), so any recorded value is reported within 1/128 (0.8%) of
// itself at every magnitude, in fixed memory, with O(1) recording. Values are nanoseconds from
// 1 ns to 2^40 ns (18 minutes; larger values are clamped). Min, max, count and sum are exact.
//
// value_at(q) returns the highest value equivalent to the bucket holding the q-th quantile
// (HdrHistogram's convention), never above the largest value recorded.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace shoal::perf {

class latency_histogram {
 public:
  static constexpr unsigned kSubBits = 7;  // 128 sub-buckets per power of two
  static constexpr unsigned kMaxBits = 40;

  latency_histogram();

  void record(uint64_t ns);
  void merge(const latency_histogram& other);
  void reset();

  uint64_t count() const { return count_; }
  uint64_t min() const { return count_ ? min_ : 0; }
  uint64_t max() const { return max_; }
  double mean() const {
    return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0;
  }
  /// The value at quantile q in [0, 1] (0.5 = median, 0.999 = p99.9); 0 when empty.
  uint64_t value_at(double q) const;

  /// Bucket index of a value, and the range of values a bucket holds (tests).
  static size_t index_of(uint64_t ns);
  static uint64_t lowest_in(size_t index);
  static uint64_t highest_in(size_t index);
  static size_t bucket_count();

 private:
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
  uint64_t sum_ = 0;
};

}  // namespace shoal::perf
