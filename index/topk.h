#pragma once
// Top-k selection: keeps the k best (lowest distance) hits seen so far, ties broken by the
// lower label, so results are deterministic whatever order candidates arrive in. Also the
// k-way merge a shard coordinator uses to combine per-shard result lists.

#include <cstddef>
#include <span>
#include <vector>

#include "index/types.h"

namespace shoal::index {

/// A bounded max-heap on (distance, label). Owned by one caller; reuse it across queries with
/// reset() so the hot path never allocates.
class topk_collector {
 public:
  topk_collector() = default;
  explicit topk_collector(size_t k) { reset(k); }

  /// Empties the collector and sets its bound. k may be 0 (collects nothing).
  void reset(size_t k) {
    k_ = k;
    heap_.clear();
    heap_.reserve(k);
  }

  size_t k() const { return k_; }
  size_t size() const { return heap_.size(); }
  bool full() const { return heap_.size() >= k_; }

  /// A candidate at `distance` can only enter if distance <= threshold() (ties then go by label).
  float threshold() const {
    return full() && k_ > 0 ? heap_.front().distance : std::numeric_limits<float>::infinity();
  }

  /// Offers one candidate; returns whether it was kept.
  bool push(float distance, label_t label);

  /// Writes the kept hits in ascending order to out[0..size()) (out must hold size()) and
  /// empties the collector. Returns the number written.
  size_t extract_sorted(std::span<neighbor> out);

 private:
  size_t k_ = 0;
  std::vector<neighbor> heap_;  // max-heap: the worst kept hit at the front
};

/// Merges sorted (ascending) lists into the best k, ties broken by label; returns how many were
/// written to out (at most min(k, out.size(), total)). Entries with invalid_label are skipped.
size_t merge_topk(std::span<const std::span<const neighbor>> lists, size_t k,
                  std::span<neighbor> out);

}  // namespace shoal::index
