#pragma once
// A structural checker for HNSW graphs (PRACTICES A18): run after every randomized test, and by
// tools that inspect snapshots. Hard violations go to `problems`; properties HNSW does not
// strictly guarantee (every node reachable, links all two-way) are measured, not judged.

#include <cstddef>
#include <string>
#include <vector>

#include "index/hnsw/hnsw_index.h"

namespace shoal::index {

struct hnsw_invariant_report {
  std::vector<std::string> problems;  // empty when the graph is sound
  size_t live_nodes = 0;
  size_t reachable_from_entry = 0;  // live nodes reachable on level 0 through live nodes
  size_t links = 0;                 // level-0 links between live nodes
  size_t one_way_links = 0;         // of those, links whose target does not link back
  size_t stale_links = 0;           // links naming a free slot or a node below that level

  bool ok() const { return problems.empty(); }
  std::string summary() const;
};

hnsw_invariant_report check_invariants(const hnsw_index& index);

}  // namespace shoal::index
