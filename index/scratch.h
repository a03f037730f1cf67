#pragma once
// Per-core search scratch (PRACTICES A13, P12): the heaps, visited set and buffers one search
// needs, allocated once and reused, so the search hot path does not allocate. A core keeps one
// search_scratch and passes it to every index it searches (any kind, any size: buffers grow on
// demand and stay grown). Not thread-safe; never used by two searches at once.

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "index/hnsw/visited_set.h"
#include "index/topk.h"
#include "index/types.h"

namespace shoal::index {

/// A (distance, slot) pair as the graph search orders it.
struct scored_slot {
  float distance;
  slot_t slot;
};

class search_scratch {
 public:
  search_scratch() = default;
  search_scratch(const search_scratch&) = delete;
  search_scratch& operator=(const search_scratch&) = delete;
  search_scratch(search_scratch&&) = default;
  search_scratch& operator=(search_scratch&&) = default;

  visited_set visited;
  std::vector<scored_slot> candidates;  // graph search frontier (min-heap)
  std::vector<scored_slot> results;     // graph search beam (max-heap, at most ef)
  std::vector<float> query;             // the prepared query (normalised for cosine)
  std::vector<int8_t> query_codes;      // the quantized query (int8 indexes)
  std::vector<float> distances;         // block of distances for scans
  std::vector<slot_t> slots;            // slot lists (neighbour batches, candidate sets)
  std::vector<uint64_t> bits;           // slot bitmaps (exact scans over long candidate lists)
  topk_collector topk;

  /// Counters of the last search call, for benchmarks and tuning.
  struct counters {
    uint64_t distance_computations = 0;
    uint64_t filter_checks = 0;
    bool exact_path = false;  // the search scanned instead of walking the graph
  } last;

  size_t memory_usage() const;
};

}  // namespace shoal::index
