#include "perf/shoal_perf/recall.h"

#include <algorithm>

namespace shoal::perf {

recall_count count_recall(std::span<const int64_t> found, std::span<const int32_t> truth,
                          size_t k) {
  recall_count r;
  size_t tk = std::min(k, truth.size());
  size_t fk = std::min(k, found.size());
  for (size_t i = 0; i < tk; ++i) {
    if (truth[i] < 0) continue;
    ++r.wanted;
    // k is small (10): a linear scan beats building a set.
    for (size_t j = 0; j < fk; ++j) {
      if (found[j] == truth[i]) {
        ++r.hits;
        break;
      }
    }
  }
  return r;
}

}  // namespace shoal::perf
