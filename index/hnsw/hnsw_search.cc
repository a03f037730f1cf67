// HNSW search: the walk (greedy descent, then the level-0 beam with the filter applied inside
// it), int8 rescoring, and the exact scan over the matching points that selective filters and
// short walks fall back to.
#include <algorithm>
#include <cmath>

#include "index/errc.h"
#include "index/hnsw/hnsw_index.h"
#include "index/hnsw/hnsw_space.h"
#include "index/hnsw/layer_search.h"
#include "index/vector_ops.h"

namespace shoal::index {

using hnsw_detail::float_space;
using hnsw_detail::int8_space;

template <class Space>
size_t hnsw_index::walk(const Space& space, typename Space::query_type q, size_t ef,
                        const label_filter* filter, search_scratch& scratch) const {
  uint64_t distance_count = 1;
  scored_slot current{space(q, entry_), entry_};
  current = hnsw_detail::greedy_descend(graph_, space, q, current, max_level_, 0, distance_count);
  scratch.last.distance_computations += distance_count;
  if (filter == nullptr) {
    hnsw_detail::search_layer(
        graph_, space, q, current, ef, 0, [&](slot_t s) { return graph_.is_live(s); }, scratch);
  } else {
    uint64_t checks = 0;
    hnsw_detail::search_layer(
        graph_, space, q, current, ef, 0,
        [&](slot_t s) {
          if (!graph_.is_live(s)) return false;
          ++checks;
          return filter->matches(graph_.label(s));
        },
        scratch);
    scratch.last.filter_checks += checks;
  }
  return scratch.results.size();
}

// Turns the beam into the answer: the best k by (distance, label); for int8 walks the best
// `rescore` candidates by code distance are first re-measured with the float32 vectors.
size_t hnsw_index::collect(const float* query, size_t k, size_t rescore, bool rescore_float,
                           std::span<neighbor> out, search_scratch& scratch) const {
  auto& results = scratch.results;
  topk_collector& top = scratch.topk;
  top.reset(k);
  if (!rescore_float) {
    for (const scored_slot& r : results) top.push(r.distance, graph_.label(r.slot));
    return top.extract_sorted(out);
  }
  std::sort(results.begin(), results.end(),
            [](const scored_slot& a, const scored_slot& b) { return a.distance < b.distance; });
  const size_t n = std::min(results.size(), std::max(rescore, k));
  const size_t d = dim();
  // The float32 rows live apart from the graph and are cold: request them all before the
  // first is needed, so their misses overlap.
  for (size_t j = 0; j < n; ++j) {
    const char* row = reinterpret_cast<const char*>(float_vector(results[j].slot));
    for (size_t at = 0; at < d * sizeof(float); at += 64) __builtin_prefetch(row + at);
  }
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const float* rows[4];
    for (int t = 0; t < 4; ++t) rows[t] = float_vector(results[i + t].slot);
    float dist[4];
    distance_.x4(query, rows, d, dist);
    for (int t = 0; t < 4; ++t) top.push(dist[t], labels_[results[i + t].slot]);
  }
  for (; i < n; ++i)
    top.push(distance_(query, float_vector(results[i].slot), d), labels_[results[i].slot]);
  scratch.last.distance_computations += n;
  return top.extract_sorted(out);
}

size_t hnsw_index::exact_scan(const float* query, size_t k, const label_filter* filter,
                              std::span<neighbor> out, search_scratch& scratch) const {
  topk_collector& top = scratch.topk;
  top.reset(k);
  scratch.last.exact_path = true;
  const size_t d = dim();
  // First the matching slots, in ascending order, so the vectors are then read front to back
  // (with software prefetch a few rows ahead) instead of at random.
  auto& matching = scratch.slots;
  matching.clear();
  std::optional<std::span<const label_t>> list;
  if (filter != nullptr) list = filter->candidate_labels();
  if (list) {
    const size_t n = list->size();
    // A long list is put in slot order through a bitmap (linear), a short one by sorting.
    const bool dense = n * 16 > labels_.size();
    auto& bits = scratch.bits;
    if (dense) bits.assign((labels_.size() + 63) / 64, 0);
    for (size_t i = 0; i < n; ++i) {
      if (i + 8 < n) slots_.prefetch((*list)[i + 8]);
      const slot_t s = slots_.find((*list)[i]);
      if (s == invalid_slot) continue;
      if (dense) {
        bits[s / 64] |= uint64_t{1} << (s % 64);
      } else {
        matching.push_back(s);
      }
    }
    if (dense) {
      for (size_t w = 0; w < bits.size(); ++w) {
        for (uint64_t word = bits[w]; word != 0; word &= word - 1) {
          matching.push_back(
              static_cast<slot_t>(w * 64 + static_cast<size_t>(__builtin_ctzll(word))));
        }
      }
    } else {
      std::sort(matching.begin(), matching.end());
    }
  } else {
    uint64_t checks = 0;
    for (size_t s = 0; s < labels_.size(); ++s) {
      const label_t label = labels_[s];
      if (label == invalid_label) continue;
      if (filter != nullptr) {
        ++checks;
        if (!filter->matches(label)) continue;
      }
      matching.push_back(static_cast<slot_t>(s));
    }
    scratch.last.filter_checks += checks;
  }
  const size_t n = matching.size();
  const size_t row_bytes = d * sizeof(float);
  auto prefetch_row = [&](size_t i) {
    const char* row = reinterpret_cast<const char*>(float_vector(matching[i]));
    for (size_t at = 0; at < row_bytes; at += 64) __builtin_prefetch(row + at);
  };
  constexpr size_t kAhead = 8;
  for (size_t i = 0; i < std::min(n, kAhead); ++i) prefetch_row(i);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    for (size_t t = i + kAhead; t < std::min(n, i + kAhead + 4); ++t) prefetch_row(t);
    const float* rows[4];
    for (int t = 0; t < 4; ++t) rows[t] = float_vector(matching[i + t]);
    float dist[4];
    distance_.x4(query, rows, d, dist);
    for (int t = 0; t < 4; ++t) top.push(dist[t], labels_[matching[i + t]]);
  }
  for (; i < n; ++i) top.push(distance_(query, float_vector(matching[i]), d), labels_[matching[i]]);
  scratch.last.distance_computations += n;
  return top.extract_sorted(out);
}

// The cost model behind the automatic switch. A walk with a filter of selectivity p has to see
// about 1/p times as many points as an unfiltered one before its beam holds ef matches; an
// unfiltered level-0 beam of width ef computes roughly ef * max_links0 / 2 distances. The exact
// scan computes one distance per matching point (plus one predicate call per point when there
// is no candidate list, which costs about a twentieth of a distance).
bool hnsw_index::prefer_exact(const label_filter& filter, size_t ef) const {
  const double live = static_cast<double>(slots_.size());
  double matching;
  double overhead = 0;
  if (auto list = filter.candidate_labels()) {
    matching = std::min<double>(static_cast<double>(list->size()), live);
    overhead = 0.1 * static_cast<double>(list->size());  // hash lookups
  } else {
    const size_t slots = labels_.size();
    const size_t samples = std::min(config_.filter_sample_size, slots_.size());
    size_t checked = 0, hits = 0;
    // A fixed odd stride through the slot array from a rotating start: cheap, deterministic,
    // and spread over the whole index.
    const uint64_t stride = (static_cast<uint64_t>(slots) / samples) | 1;
    uint64_t at = (sample_cursor_ += 0x9E3779B97F4A7C15ull) % slots;
    for (size_t i = 0; i < 4 * samples && checked < samples; ++i) {
      const label_t label = labels_[at];
      at = (at + stride) % slots;
      if (label == invalid_label) continue;
      ++checked;
      hits += filter.matches(label) ? 1 : 0;
    }
    if (checked == 0) return true;
    matching = live * (static_cast<double>(hits) + 0.5) / (static_cast<double>(checked) + 1.0);
    overhead = 0.05 * live;
  }
  const double p = std::max(matching / std::max(live, 1.0), 1e-9);
  const double walk_cost =
      static_cast<double>(ef) * static_cast<double>(graph_.max_links0()) * 0.5 / p;
  return (matching + overhead) * config_.filter_exact_bias < walk_cost;
}

result<size_t> hnsw_index::search(std::span<const float> query, size_t k, std::span<neighbor> out,
                                  const search_params& params, search_scratch& scratch) const {
  if (out.size() < k) return errc::bad_parameter;
  if (auto r = check_vector(query, dim(), metric()); !r) return r.error();
  scratch.last = {};
  const size_t d = dim();
  scratch.query.resize(d);
  prepare_vector(query.data(), d, metric(), scratch.query.data());
  const float* q = scratch.query.data();
  size_t found = 0;
  if (k > 0 && !slots_.empty()) {
    const size_t ef = std::max(params.ef != 0 ? params.ef : config_.ef_search, k);
    const label_filter* filter = params.filter;
    bool exact = params.exact || (filter != nullptr && prefer_exact(*filter, ef));
    if (!exact) {
      if (int8_active()) {
        scratch.query_codes.resize(d);
        quantizer_.encode(q, scratch.query_codes.data());
        int8_space space(graph_, quantizer_, metric(), kernels_, config_.prefetch_lines);
        const float correction = quantizer_.correction(metric(), scratch.query_codes.data());
        int8_space::query_type cq{scratch.query_codes.data(), space.term_for(correction)};
        walk(space, cq, ef, filter, scratch);
        found = collect(q, k, params.rescore != 0 ? params.rescore : ef, true, out, scratch);
      } else {
        float_space space{
            &graph_, config_.quantization == quantization_kind::int8 ? vectors_.data() : nullptr, d,
            config_.prefetch_lines, distance_};
        walk(space, q, ef, filter, scratch);
        found = collect(q, k, 0, false, out, scratch);
      }
      // A walk can end short when the filter's matches sit in a region it could not reach;
      // the scan then answers (it also covers a walk that started in a cut-off component).
      if (found < k && found < slots_.size()) exact = true;
    }
    if (exact) found = exact_scan(q, k, filter, out, scratch);
  }
  std::fill(out.begin() + static_cast<ptrdiff_t>(found), out.begin() + static_cast<ptrdiff_t>(k),
            neighbor{});
  return found;
}

result<void> hnsw_index::search_batch(std::span<const float> queries, size_t k,
                                      std::span<neighbor> out, std::span<size_t> counts,
                                      const search_params& params, search_scratch& scratch) const {
  const size_t d = dim();
  if (queries.size() % d != 0) return errc::dimension_mismatch;
  const size_t nq = queries.size() / d;
  if (out.size() < nq * k || counts.size() < nq) return errc::bad_parameter;
  for (size_t i = 0; i < nq; ++i) {
    if (auto r = check_vector(queries.subspan(i * d, d), d, metric()); !r) return r;
  }
  for (size_t i = 0; i < nq; ++i) {
    auto r = search(queries.subspan(i * d, d), k, out.subspan(i * k, k), params, scratch);
    if (!r) return r.error();
    counts[i] = *r;
  }
  return {};
}

}  // namespace shoal::index
