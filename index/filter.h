#pragma once
// The filter hook (PRACTICES A15): a shard implements label_filter over its payload indexes and
// passes it in search_params. The index calls matches() from inside its traversal, so only
// accepted points are returned while rejected ones still serve as stepping stones.
//
// When the caller already knows the matching set (e.g. a keyword index lookup) it also returns
// it from candidate_labels(); the index then knows the selectivity exactly and, when the set is
// small, scans just those points. Without a list the index estimates selectivity by sampling
// matches() (hnsw_config::filter_sample_size).
//
// Contract: matches() must be a pure function of the label for the duration of one search call
// and cheap (it runs once per visited point). Labels in candidate_labels() must be unique; they
// may include labels the index does not hold.

#include <functional>
#include <optional>
#include <span>
#include <unordered_set>
#include <utility>
#include <vector>

#include "index/types.h"

namespace shoal::index {

class label_filter {
 public:
  virtual ~label_filter() = default;
  virtual bool matches(label_t label) const = 0;
  virtual std::optional<std::span<const label_t>> candidate_labels() const { return std::nullopt; }
};

/// Accepts an explicit set of labels, and offers it as the candidate list.
class allow_list_filter final : public label_filter {
 public:
  explicit allow_list_filter(std::vector<label_t> labels);
  bool matches(label_t label) const override { return set_.count(label) != 0; }
  std::optional<std::span<const label_t>> candidate_labels() const override { return labels_; }

 private:
  std::vector<label_t> labels_;  // unique
  std::unordered_set<label_t> set_;
};

/// Wraps any callable bool(label_t); offers no candidate list.
template <typename Predicate>
class predicate_filter final : public label_filter {
 public:
  explicit predicate_filter(Predicate p) : predicate_(std::move(p)) {}
  bool matches(label_t label) const override { return predicate_(label); }

 private:
  Predicate predicate_;
};

}  // namespace shoal::index
