// HNSW insertion: level sampling, the descent to the new node's top level, a beam search per
// level with ef_construction, the neighbour-selection heuristic, and back-links with pruning.
#include <algorithm>
#include <cmath>

#include "index/hnsw/hnsw_index.h"
#include "index/hnsw/hnsw_space.h"
#include "index/hnsw/layer_search.h"

namespace shoal::index {

using hnsw_detail::float_space;
using hnsw_detail::int8_space;

unsigned hnsw_index::sample_level() {
  // -ln(U) * mL with U uniform in (0, 1]: P(level >= l) = m^-l.
  const double u = (static_cast<double>(level_rng_() >> 11) + 1.0) * 0x1.0p-53;
  const double level = -std::log(u) * level_mult_;
  return static_cast<unsigned>(std::min<double>(level, hnsw_graph::kMaxLevel));
}

// The heuristic of the HNSW paper (algorithm 4, no extension): walk candidates nearest first
// and keep one only if it is closer to the base node than to every neighbour kept so far, so
// the kept links point in different directions instead of into one cluster.
// A candidate survives a kept neighbour unless it is closer to that neighbour than to the base,
// or is an exact duplicate of it (distance 0): duplicates would otherwise fill the whole list
// and cut a group of equal vectors off from the rest of the graph.
inline bool keeps(float to_kept, float to_base) {
  return to_kept >= to_base && to_kept != 0.0f;
}

template <class Space>
void hnsw_index::select_neighbors(const Space& space, std::vector<scored_slot>& candidates,
                                  size_t m, std::vector<scored_slot>& out) const {
  out.clear();
  if (candidates.size() <= m) {
    out.assign(candidates.begin(), candidates.end());
    return;
  }
  slot_t kept[4];
  for (const scored_slot& c : candidates) {
    if (out.size() >= m) break;
    const auto q = space.as_query(c.slot);
    bool good = true;
    size_t j = 0;
    for (; good && j + 4 <= out.size(); j += 4) {
      for (int t = 0; t < 4; ++t) kept[t] = out[j + t].slot;
      float d[4];
      space.x4(q, kept, d);
      good = keeps(d[0], c.distance) && keeps(d[1], c.distance) && keeps(d[2], c.distance) &&
             keeps(d[3], c.distance);
    }
    for (; good && j < out.size(); ++j) good = keeps(space(q, out[j].slot), c.distance);
    if (good) out.push_back(c);
  }
}

// Adds the link from -> to; when from's list is full, re-selects its neighbours from the old
// list plus the newcomer with the same heuristic.
template <class Space>
void hnsw_index::connect_back(const Space& space, slot_t from, slot_t to, unsigned level) {
  const uint32_t n = graph_.link_count(from, level);
  const slot_t* links = graph_.links(from, level);
  // `to` may be a reused slot that `from` still links to from its previous life.
  if (std::find(links, links + n, to) != links + n) return;
  if (graph_.append_link(from, level, to)) return;
  const auto q = space.as_query(from);
  auto& cands = build_scratch_.candidates;  // free while no walk runs
  cands.clear();
  uint32_t i = 0;
  // Links to slots freed since they were made drop out here.
  slot_t alive[2 * 128];
  uint32_t m = 0;
  for (uint32_t j = 0; j < n; ++j) {
    if (graph_.is_live(links[j]) && graph_.level(links[j]) >= level) alive[m++] = links[j];
  }
  for (; i + 4 <= m; i += 4) {
    float d[4];
    space.x4(q, alive + i, d);
    for (int t = 0; t < 4; ++t) cands.push_back({d[t], alive[i + t]});
  }
  for (; i < m; ++i) cands.push_back({space(q, alive[i]), alive[i]});
  cands.push_back({space(q, to), to});
  std::sort(cands.begin(), cands.end(),
            [](const scored_slot& a, const scored_slot& b) { return a.distance < b.distance; });
  auto& kept = build_scratch_.results;
  select_neighbors(space, cands, graph_.max_links(level), kept);
  slot_t ids[2 * 128];
  for (size_t k = 0; k < kept.size(); ++k) ids[k] = kept[k].slot;
  graph_.set_links(from, level, ids, kept.size());
}

template <class Space>
void hnsw_index::link_new_node(const Space& space, slot_t slot, unsigned level) {
  const auto q = space.as_query(slot);
  uint64_t distance_count = 0;
  scored_slot current{space(q, entry_), entry_};
  if (level < max_level_) {
    current =
        hnsw_detail::greedy_descend(graph_, space, q, current, max_level_, level, distance_count);
  }
  auto live_other = [&](slot_t s) { return s != slot && graph_.is_live(s); };
  for (unsigned l = std::min(level, max_level_) + 1; l-- > 0;) {
    hnsw_detail::search_layer(graph_, space, q, current, config_.ef_construction, l, live_other,
                              build_scratch_);
    build_candidates_.assign(build_scratch_.results.begin(), build_scratch_.results.end());
    std::sort(build_candidates_.begin(), build_candidates_.end(),
              [](const scored_slot& a, const scored_slot& b) { return a.distance < b.distance; });
    if (build_candidates_.empty()) continue;  // every other node is gone from this level
    select_neighbors(space, build_candidates_, config_.m, build_selected_);
    slot_t ids[128];
    for (size_t k = 0; k < build_selected_.size(); ++k) ids[k] = build_selected_[k].slot;
    graph_.set_links(slot, l, ids, build_selected_.size());
    for (size_t k = 0; k < build_selected_.size(); ++k) connect_back(space, ids[k], slot, l);
    current = build_candidates_.front();
  }
}

void hnsw_index::insert_prepared(label_t label, const float* vector) {
  slot_t slot;
  if (!free_.empty()) {
    slot = free_.back();
    free_.pop_back();
  } else {
    slot = graph_.append_slot();
    labels_.push_back(invalid_label);
    if (config_.quantization == quantization_kind::int8) vectors_.resize(vectors_.size() + dim());
  }
  const unsigned level = sample_level();
  graph_.init_node(slot, level, label);
  labels_[slot] = label;
  slots_.assign(label, slot);
  write_payload(slot, vector);
  if (entry_ == invalid_slot) {
    entry_ = slot;
    max_level_ = level;
    return;
  }
  if (int8_active()) {
    link_new_node(int8_space(graph_, quantizer_, config_.metric, kernels_, config_.prefetch_lines),
                  slot, level);
  } else {
    float_space space{&graph_,
                      config_.quantization == quantization_kind::int8 ? vectors_.data() : nullptr,
                      dim(), config_.prefetch_lines, distance_};
    link_new_node(space, slot, level);
  }
  if (level > max_level_) {
    entry_ = slot;
    max_level_ = level;
  }
}

// The delete path (hnsw_delete.cc) re-selects with the same heuristic.
template void hnsw_index::select_neighbors(const float_space&, std::vector<scored_slot>&, size_t,
                                           std::vector<scored_slot>&) const;
template void hnsw_index::select_neighbors(const int8_space&, std::vector<scored_slot>&, size_t,
                                           std::vector<scored_slot>&) const;

}  // namespace shoal::index
