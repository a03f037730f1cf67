#pragma once
// recall@k of a search result against exact ground truth, as ann-benchmarks and hnswlib's anchor
// compute it: the fraction of the true k nearest ids that the result's first k ids contain.

#include <cstddef>
#include <cstdint>
#include <span>

namespace shoal::perf {

/// Hits among the first `k` of `found` that are in the first `k` of `truth` (ids; negative ids
/// in the truth mean "none" and are not wanted). Returns {hits, wanted}.
struct recall_count {
  size_t hits = 0;
  size_t wanted = 0;
};
recall_count count_recall(std::span<const int64_t> found, std::span<const int32_t> truth, size_t k);

}  // namespace shoal::perf
