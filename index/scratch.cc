#include "index/scratch.h"

namespace shoal::index {

size_t search_scratch::memory_usage() const {
  return visited.memory_usage() + candidates.capacity() * sizeof(scored_slot) +
         results.capacity() * sizeof(scored_slot) + query.capacity() * sizeof(float) +
         query_codes.capacity() + distances.capacity() * sizeof(float) +
         slots.capacity() * sizeof(slot_t) + bits.capacity() * sizeof(uint64_t) +
         topk.k() * sizeof(neighbor);
}

}  // namespace shoal::index
