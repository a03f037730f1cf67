#include "perf/shoal_perf/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace shoal::perf {

namespace {
constexpr uint64_t kSub = uint64_t{1} << latency_histogram::kSubBits;
constexpr uint64_t kLargest = (uint64_t{1} << latency_histogram::kMaxBits) - 1;
}  // namespace

size_t latency_histogram::bucket_count() {
  // Values below kSub get a bucket each; every power of two from kSubBits to kMaxBits-1 gets kSub.
  return kSub + (kMaxBits - kSubBits) * kSub;
}

size_t latency_histogram::index_of(uint64_t v) {
  v = std::min(v, kLargest);
  if (v < kSub) return static_cast<size_t>(v);
  unsigned e = static_cast<unsigned>(std::bit_width(v)) - 1;  // v in [2^e, 2^(e+1))
  unsigned shift = e - kSubBits;
  uint64_t sub = (v >> shift) - kSub;  // 0 .. kSub-1
  return static_cast<size_t>(kSub + (e - kSubBits) * kSub + sub);
}

uint64_t latency_histogram::lowest_in(size_t index) {
  if (index < kSub) return index;
  size_t block = (index - kSub) / kSub;  // e - kSubBits
  uint64_t sub = (index - kSub) % kSub;
  return (kSub + sub) << block;
}

uint64_t latency_histogram::highest_in(size_t index) {
  if (index < kSub) return index;
  size_t block = (index - kSub) / kSub;
  return lowest_in(index) + (uint64_t{1} << block) - 1;
}

latency_histogram::latency_histogram() : counts_(bucket_count(), 0) {}

void latency_histogram::record(uint64_t ns) {
  ++counts_[index_of(ns)];
  ++count_;
  min_ = std::min(min_, ns);
  max_ = std::max(max_, ns);
  sum_ += ns;
}

void latency_histogram::merge(const latency_histogram& o) {
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += o.counts_[i];
  count_ += o.count_;
  min_ = std::min(min_, o.min_);
  max_ = std::max(max_, o.max_);
  sum_ += o.sum_;
}

void latency_histogram::reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = 0;
  min_ = UINT64_MAX;
  max_ = 0;
  sum_ = 0;
}

uint64_t latency_histogram::value_at(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  // The rank of the q-th value (1-based), at least 1.
  auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(highest_in(i), max_);
  }
  return max_;
}

}  // namespace shoal::perf
