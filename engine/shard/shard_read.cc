// Reads of a shard: search, retrieve, scroll, count. All synchronous, all on the shard's core.

#include <algorithm>

#include "engine/shard/errc.h"
#include "engine/shard/shard.h"
#include "index/filter.h"

namespace shoal::shard {
namespace {

/// Copies into `out` the part of `in` that `path` selects, keeping the nesting.
void copy_path(const data::json_value& in, const data::key_path& path, size_t step,
               data::json_value& out) {
  if (step == path.steps().size()) {
    out = in;
    return;
  }
  auto& s = path.steps()[step];
  using kind = data::key_path::step::kind;
  if (s.k == kind::key) {
    auto* child = in.find(s.key);
    if (!child) return;
    if (!out.is_object()) out = data::json_value(data::json_value::object{});
    auto* existing = out.find(s.key);
    data::json_value& dst = existing ? *existing : out.set(s.key, data::json_value());
    copy_path(*child, path, step + 1, dst);
  } else if (in.is_array()) {
    auto& arr = in.as_array();
    if (!out.is_array()) out = data::json_value(data::json_value::array{});
    auto& dst = out.as_array();
    if (s.k == kind::every) {
      dst.resize(arr.size());
      for (size_t i = 0; i < arr.size(); ++i) copy_path(arr[i], path, step + 1, dst[i]);
    } else if (s.index < arr.size()) {
      dst.resize(1);
      copy_path(arr[s.index], path, step + 1, dst[0]);
    }
  }
}

void erase_path(data::json_value& v, const data::key_path& path, size_t step) {
  auto& s = path.steps()[step];
  using kind = data::key_path::step::kind;
  bool last = step + 1 == path.steps().size();
  if (s.k == kind::key) {
    if (!v.is_object()) return;
    if (last) {
      v.erase(s.key);
    } else if (auto* child = v.find(s.key)) {
      erase_path(*child, path, step + 1);
    }
  } else if (v.is_array()) {
    auto& arr = v.as_array();
    if (s.k == kind::every) {
      if (last) {
        arr.clear();
      } else {
        for (auto& e : arr) erase_path(e, path, step + 1);
      }
    } else if (s.index < arr.size()) {
      if (last) {
        arr.erase(arr.begin() + static_cast<ptrdiff_t>(s.index));
      } else {
        erase_path(arr[s.index], path, step + 1);
      }
    }
  }
}

data::json_value project(const data::json_value* payload, const payload_selector& sel) {
  data::json_value empty{data::json_value::object{}};
  if (!payload) return empty;
  switch (sel.m) {
    case payload_selector::mode::all:
      return *payload;
    case payload_selector::mode::include: {
      data::json_value out{data::json_value::object{}};
      for (auto& p : sel.paths) copy_path(*payload, p, 0, out);
      return out;
    }
    case payload_selector::mode::exclude: {
      data::json_value out = *payload;
      for (auto& p : sel.paths) erase_path(out, p, 0);
      return out;
    }
    case payload_selector::mode::none:
      break;
  }
  return empty;
}

/// The filter the index consults while it walks: exact matches known in advance (sorted
/// labels), or evaluation of the whole filter per point.
class shard_filter final : public index::label_filter {
 public:
  shard_filter(const point_store& store, const data::filter& f,
               std::optional<std::vector<index::label_t>> exact)
      : store_(store), filter_(f), exact_(std::move(exact)) {}
  bool matches(index::label_t label) const override {
    if (exact_) return std::binary_search(exact_->begin(), exact_->end(), label);
    auto slot = static_cast<uint32_t>(label);
    if (!store_.live(slot)) return false;
    auto& rec = store_.at(slot);
    return data::evaluate(filter_, rec.id(), rec.payload.get());
  }
  std::optional<std::span<const index::label_t>> candidate_labels() const override {
    if (!exact_) return std::nullopt;
    return std::span<const index::label_t>(*exact_);
  }

 private:
  const point_store& store_;
  const data::filter& filter_;
  std::optional<std::vector<index::label_t>> exact_;
};

std::vector<uint32_t> intersect(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
  std::vector<uint32_t> out;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

}  // namespace

std::optional<std::vector<uint32_t>> shard::candidates(const data::condition& c) const {
  using kind = data::condition::kind;
  if (c.k == kind::has_id) {
    std::vector<uint32_t> out;
    for (auto& id : c.ids) {
      if (auto s = store_.find(id)) out.push_back(*s);
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  if (c.k == kind::nested) return c.nested ? plan(*c.nested) : std::nullopt;
  auto it = payload_indexes_.find(c.key.text());
  if (it == payload_indexes_.end()) return std::nullopt;
  return it->second->candidates(c);
}

std::optional<std::vector<uint32_t>> shard::plan(const data::filter& f) const {
  // A superset of the matching slots, from the payload indexes and has_id, or nullopt.
  std::optional<std::vector<uint32_t>> acc;
  for (auto& c : f.must) {
    auto cand = candidates(c);
    if (!cand) continue;
    acc = acc ? intersect(*acc, *cand) : std::move(cand);
    if (acc->empty()) return acc;
  }
  if (acc || f.should.empty()) return acc;
  std::vector<uint32_t> any;
  for (auto& c : f.should) {
    auto cand = candidates(c);
    if (!cand) return std::nullopt;  // one unindexed alternative: every point may match
    any.insert(any.end(), cand->begin(), cand->end());
  }
  std::sort(any.begin(), any.end());
  any.erase(std::unique(any.begin(), any.end()), any.end());
  return any;
}

point_view shard::view(uint32_t slot, const payload_selector& p, const vector_selector& v) const {
  auto& rec = store_.at(slot);
  point_view out;
  out.id = rec.id();
  out.version = rec.version;
  out.with_payload = p.m != payload_selector::mode::none;
  if (out.with_payload) out.payload = project(rec.payload.get(), p);
  out.with_vectors = v.any();
  if (out.with_vectors) {
    for (size_t i = 0; i < indexes_.size(); ++i) {
      if (!(rec.vector_mask & (1u << i))) continue;
      auto& name = config_->vectors[i].first;
      if (!v.all && std::find(v.names.begin(), v.names.end(), name) == v.names.end()) continue;
      named_vector nv;
      nv.name = name;
      nv.values.resize(indexes_[i]->dim());
      if (indexes_[i]->get_vector(slot, nv.values)) out.vectors.push_back(std::move(nv));
    }
    if (auto* sparse = store_.sparse(slot); sparse && v.all) out.sparse_json = *sparse;
  }
  return out;
}

result<std::vector<point_view>> shard::search(const search_query& q,
                                              index::search_scratch& scratch) const {
  size_t vi = config_->vectors.size();
  for (size_t i = 0; i < config_->vectors.size(); ++i) {
    if (config_->vectors[i].first == q.vector_name) vi = i;
  }
  if (vi == config_->vectors.size()) return errc::unknown_vector;
  auto& idx = *indexes_[vi];
  auto metric = config_->vectors[vi].second.metric;
  size_t k = std::min(q.limit, idx.size());
  std::vector<point_view> results;
  if (k == 0) return results;

  index::search_params params;
  params.ef = q.ef;
  params.exact = q.exact;
  std::optional<shard_filter> filter;
  if (q.filter && !q.filter->empty()) {
    std::optional<std::vector<index::label_t>> exact;
    if (auto cand = plan(*q.filter)) {
      exact.emplace();
      for (auto slot : *cand) {
        auto& rec = store_.at(slot);
        if (rec.live && data::evaluate(*q.filter, rec.id(), rec.payload.get()))
          exact->push_back(slot);
      }
      if (exact->empty()) return results;
    }
    filter.emplace(store_, *q.filter, std::move(exact));
    params.filter = &*filter;
  }
  std::vector<index::neighbor> out(k);
  auto n = idx.search(q.vector, k, out, params, scratch);
  if (!n) return n.error();
  bool higher_is_better = metric == index::metric_kind::cosine || metric == index::metric_kind::ip;
  results.reserve(*n);
  for (size_t i = 0; i < *n; ++i) {
    auto slot = static_cast<uint32_t>(out[i].label);
    if (!store_.live(slot)) continue;
    float score = index::to_qdrant_score(metric, out[i].distance);
    if (q.score_threshold) {
      if (higher_is_better ? score < *q.score_threshold : score > *q.score_threshold) continue;
    }
    auto v = view(slot, q.with_payload, q.with_vector);
    v.score = score;
    results.push_back(std::move(v));
  }
  // Ties go to the lower point id, whatever slots the points happen to have. The index answers
  // in distance order and scores follow distances, so the views are almost always in order
  // already: checking is k comparisons, where sorting would move the (large) views around.
  auto before = [&](const point_view& a, const point_view& b) {
    if (a.score != b.score) return higher_is_better ? a.score > b.score : a.score < b.score;
    return a.id < b.id;
  };
  if (!std::is_sorted(results.begin(), results.end(), before)) {
    std::stable_sort(results.begin(), results.end(), before);
  }
  return results;
}

std::vector<point_view> shard::retrieve(const std::vector<data::point_id>& ids,
                                        const payload_selector& p, const vector_selector& v) const {
  std::vector<point_view> out;
  for (auto& id : ids) {
    if (auto slot = store_.find(id)) out.push_back(view(*slot, p, v));
  }
  return out;
}

std::vector<point_view> shard::scroll(const scroll_query& q) const {
  std::vector<point_view> out;
  size_t want = q.limit + 1;  // one more, so the coordinator knows the next page's offset
  auto passes = [&](uint32_t slot) {
    auto& rec = store_.at(slot);
    return !q.filter || data::evaluate(*q.filter, rec.id(), rec.payload.get());
  };
  if (q.filter && !q.filter->empty()) {
    if (auto cand = plan(*q.filter); cand && cand->size() < store_.size() / 4) {
      std::vector<std::pair<data::point_id, uint32_t>> hits;
      for (auto slot : *cand) {
        auto& rec = store_.at(slot);
        if (rec.live && (!q.from || !(rec.id() < *q.from)) && passes(slot))
          hits.emplace_back(rec.id(), slot);
      }
      std::sort(hits.begin(), hits.end());
      for (size_t i = 0; i < hits.size() && out.size() < want; ++i) {
        out.push_back(view(hits[i].second, q.with_payload, q.with_vector));
      }
      return out;
    }
  }
  for (auto it = q.from ? store_.begin_at(*q.from) : store_.begin();
       it != store_.end() && out.size() < want; ++it) {
    if (passes(it->second)) out.push_back(view(it->second, q.with_payload, q.with_vector));
  }
  return out;
}

uint64_t shard::count(const data::filter* f) const {
  if (!f || f->empty()) return store_.size();
  uint64_t n = 0;
  if (auto cand = plan(*f)) {
    for (auto slot : *cand) {
      auto& rec = store_.at(slot);
      if (rec.live && data::evaluate(*f, rec.id(), rec.payload.get())) ++n;
    }
    return n;
  }
  for (auto& [id, slot] : store_) {
    if (data::evaluate(*f, id, store_.at(slot).payload.get())) ++n;
  }
  return n;
}

std::vector<data::point_id> shard::matching_ids(const data::filter& f) const {
  std::vector<data::point_id> ids;
  if (auto cand = plan(f)) {
    for (auto slot : *cand) {
      auto& rec = store_.at(slot);
      if (rec.live && data::evaluate(f, rec.id(), rec.payload.get())) ids.push_back(rec.id());
    }
    std::sort(ids.begin(), ids.end());
    return ids;
  }
  for (auto& [id, slot] : store_) {
    if (data::evaluate(f, id, store_.at(slot).payload.get())) ids.push_back(id);
  }
  return ids;
}

}  // namespace shoal::shard
