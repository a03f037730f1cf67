// HNSW removal: the node leaves the graph at once. Each neighbour that linked back to it loses
// that link and re-selects its list (heuristic, hnsw_insert.cc) from its remaining links plus
// the removed node's links, which bridges the hole the way the removed node did. The slot is
// then free for the next insert, so churn neither grows memory nor leaves tombstones to walk.
#include <algorithm>

#include "index/hnsw/hnsw_index.h"
#include "index/hnsw/hnsw_space.h"

namespace shoal::index {

using hnsw_detail::float_space;
using hnsw_detail::int8_space;

template <class Space>
void hnsw_index::repair_after_removal(const Space& space, slot_t removed) {
  std::vector<slot_t> around;
  std::vector<slot_t> pool;
  auto& cands = build_candidates_;
  for (unsigned l = 0; l <= graph_.level(removed); ++l) {
    const uint32_t n = graph_.link_count(removed, l);
    around.assign(graph_.links(removed, l), graph_.links(removed, l) + n);
    for (slot_t nb : around) {
      if (nb == removed || !graph_.is_live(nb) || graph_.level(nb) < l) continue;
      if (!graph_.remove_link(nb, l, removed)) continue;  // the link was one-way
      // Candidate pool: nb's remaining links and the removed node's other live links.
      visited_set& seen = build_scratch_.visited;
      seen.begin(graph_.slot_count());
      seen.insert(nb);
      seen.insert(removed);
      pool.clear();
      const uint32_t own = graph_.link_count(nb, l);
      const slot_t* own_links = graph_.links(nb, l);
      for (uint32_t i = 0; i < own; ++i) {
        if (seen.insert(own_links[i])) pool.push_back(own_links[i]);
      }
      for (slot_t c : around) {
        if (graph_.is_live(c) && graph_.level(c) >= l && seen.insert(c)) pool.push_back(c);
      }
      const size_t limit = graph_.max_links(l);
      if (pool.size() <= limit) {
        graph_.set_links(nb, l, pool.data(), pool.size());
        continue;
      }
      const auto q = space.as_query(nb);
      cands.clear();
      size_t i = 0;
      for (; i + 4 <= pool.size(); i += 4) {
        float d[4];
        space.x4(q, pool.data() + i, d);
        for (int t = 0; t < 4; ++t) cands.push_back({d[t], pool[i + t]});
      }
      for (; i < pool.size(); ++i) cands.push_back({space(q, pool[i]), pool[i]});
      std::sort(cands.begin(), cands.end(),
                [](const scored_slot& a, const scored_slot& b) { return a.distance < b.distance; });
      select_neighbors(space, cands, limit, build_selected_);
      pool.clear();
      for (const auto& s : build_selected_) pool.push_back(s.slot);
      graph_.set_links(nb, l, pool.data(), pool.size());
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
