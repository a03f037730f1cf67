// HNSW removal: the node leaves the graph at once. Each neighbour that linked back to it loses
// that link and gains replacements from the removed node's own links (the nearest ones that
// its remaining neighbours do not already cover), which bridges the hole the way the removed
// node did. The slot is
// then free for the next insert, so churn neither grows memory nor leaves tombstones to walk.
#include <algorithm>

#include "index/hnsw/hnsw_index.h"
#include "index/hnsw/hnsw_space.h"

namespace shoal::index {

using hnsw_detail::float_space;
using hnsw_detail::int8_space;

// How many replacement links one neighbour may gain per removal: one edge was lost, a few
// more keep degrees (and so recall) up through repeated churn without densifying the graph.
constexpr size_t kMaxReplacements = 3;

// Nodes that link to `removed` on `level`: its own neighbours, and the neighbours of its
// neighbours. Links are mostly two-way, and a one-way link into a node almost always comes
// from its two-hop neighbourhood, so this finds nearly every in-link without reverse lists.
void hnsw_index::find_in_links(slot_t removed, unsigned level, std::vector<slot_t>& out) {
  out.clear();
  visited_set& seen = build_scratch_.visited;
  seen.begin(graph_.slot_count());
  seen.insert(removed);
  auto links_to_removed = [&](slot_t s) {
    if (!graph_.is_live(s) || graph_.level(s) < level) return false;
    const uint32_t n = graph_.link_count(s, level);
    const slot_t* links = graph_.links(s, level);
    return std::find(links, links + n, removed) != links + n;
  };
  const uint32_t n = graph_.link_count(removed, level);
  const slot_t* around = graph_.links(removed, level);
  for (uint32_t i = 0; i < n; ++i) {
    if (seen.insert(around[i]) && links_to_removed(around[i])) out.push_back(around[i]);
  }
  for (uint32_t i = 0; i < n; ++i) {
    const slot_t hop = around[i];
    if (!graph_.is_live(hop) || graph_.level(hop) < level) continue;
    const uint32_t m = graph_.link_count(hop, level);
    const slot_t* second = graph_.links(hop, level);
    for (uint32_t j = 0; j < m; ++j) {
      if (seen.insert(second[j]) && links_to_removed(second[j])) out.push_back(second[j]);
    }
  }
}

template <class Space>
void hnsw_index::repair_after_removal(const Space& space, slot_t removed) {
  std::vector<slot_t> around, inbound;
  auto& cands = build_candidates_;
  slot_t kept[4];
  for (unsigned l = 0; l <= graph_.level(removed); ++l) {
    const uint32_t n = graph_.link_count(removed, l);
    around.assign(graph_.links(removed, l), graph_.links(removed, l) + n);
    find_in_links(removed, l, inbound);
    const size_t limit = graph_.max_links(l);
    for (slot_t nb : inbound) {
      if (!graph_.remove_link(nb, l, removed)) continue;
      // Replacement candidates: the removed node's other live links that nb lacks, nearest
      // to nb first. nb keeps every link it has; it gains the nearest candidates that no
      // existing neighbour already covers (the insert heuristic's test), at least one.
      visited_set& seen = build_scratch_.visited;
      seen.begin(graph_.slot_count());
      seen.insert(nb);
      seen.insert(removed);
      const uint32_t own = graph_.link_count(nb, l);
      const slot_t* own_links = graph_.links(nb, l);
      for (uint32_t i = 0; i < own; ++i) seen.insert(own_links[i]);
      const auto q = space.as_query(nb);
      cands.clear();
      for (slot_t c : around) {
        if (graph_.is_live(c) && graph_.level(c) >= l && seen.insert(c)) {
          cands.push_back({space(q, c), c});
        }
      }
      std::sort(cands.begin(), cands.end(),
                [](const scored_slot& a, const scored_slot& b) { return a.distance < b.distance; });
      size_t added = 0;
      for (const scored_slot& c : cands) {
        if (added == kMaxReplacements || graph_.link_count(nb, l) >= limit) break;
        const auto cq = space.as_query(c.slot);
        const uint32_t m = graph_.link_count(nb, l);
        const slot_t* links = graph_.links(nb, l);
        bool covered = false;
        uint32_t j = 0;
        for (; !covered && j + 4 <= m; j += 4) {
          for (int t = 0; t < 4; ++t) kept[t] = links[j + t];
          float d[4];
          space.x4(cq, kept, d);
          covered =
              d[0] < c.distance || d[1] < c.distance || d[2] < c.distance || d[3] < c.distance;
        }
        for (; !covered && j < m; ++j) covered = space(cq, links[j]) < c.distance;
        if (!covered) {
          graph_.append_link(nb, l, c.slot);
          ++added;
        }
      }
      if (added == 0 && !cands.empty() && graph_.link_count(nb, l) < limit) {
        graph_.append_link(nb, l, cands.front().slot);
      }
    }
  }
}

void hnsw_index::replace_entry_point(slot_t leaving) {
  // A live neighbour on the top level is as tall as the leaving node: the height is kept.
  const unsigned top = graph_.level(leaving);
  const uint32_t n = graph_.link_count(leaving, top);
  const slot_t* links = graph_.links(leaving, top);
  for (uint32_t i = 0; i < n; ++i) {
    if (links[i] != leaving && graph_.is_live(links[i]) && graph_.level(links[i]) >= top) {
      entry_ = links[i];
      max_level_ = graph_.level(links[i]);
      return;
    }
  }
  // The entry point was alone on its top level: scan for the tallest remaining node. Rare
  // (only when the entry point itself leaves) and linear in the slot count.
  slot_t best = invalid_slot;
  unsigned best_level = 0;
  for (size_t s = 0; s < labels_.size(); ++s) {
    if (s == leaving || labels_[s] == invalid_label) continue;
    const unsigned lvl = graph_.level(static_cast<slot_t>(s));
    if (best == invalid_slot || lvl > best_level) {
      best = static_cast<slot_t>(s);
      best_level = lvl;
    }
  }
  entry_ = best;
  max_level_ = best == invalid_slot ? 0 : best_level;
}

void hnsw_index::unlink(slot_t slot) {
  if (int8_active()) {
    repair_after_removal(
        int8_space(graph_, quantizer_, config_.metric, kernels_, config_.prefetch_lines), slot);
  } else {
    float_space space{&graph_,
                      config_.quantization == quantization_kind::int8 ? vectors_.data() : nullptr,
                      dim(), config_.prefetch_lines, distance_};
    repair_after_removal(space, slot);
  }
  if (slot == entry_) replace_entry_point(slot);
  graph_.clear_node(slot);  // state free: walks pass through, never return it
}

}  // namespace shoal::index
