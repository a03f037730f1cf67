// hnsw_index: configuration, bookkeeping and the small public methods. The walks, inserts,
// removals and snapshots live in hnsw_search.cc, hnsw_insert.cc, hnsw_delete.cc and
// hnsw_serialize.cc.
#include "index/hnsw/hnsw_index.h"

#include <cmath>
#include <cstring>

#include "index/errc.h"
#include "index/vector_ops.h"

namespace shoal::index {

result<void> hnsw_config::validate() const {
  if (dim == 0 || dim > io::kMaxDim) return errc::bad_parameter;
  if (m < 2 || m > 128) return errc::bad_parameter;
  if (ef_construction == 0 || ef_construction > 100000) return errc::bad_parameter;
  if (ef_search == 0 || ef_search > 100000) return errc::bad_parameter;
  if (quantization_train_size == 0) return errc::bad_parameter;
  if (!(quantization_quantile > 0.5f && quantization_quantile <= 1.0f)) {
    return errc::bad_parameter;
  }
  if (prefetch_lines > 64 || filter_sample_size == 0) return errc::bad_parameter;
  if (!(filter_exact_bias > 0) || !std::isfinite(filter_exact_bias)) return errc::bad_parameter;
  if (static_cast<uint8_t>(metric) > static_cast<uint8_t>(metric_kind::manhattan)) {
    return errc::bad_parameter;
  }
  if (static_cast<uint8_t>(quantization) > static_cast<uint8_t>(quantization_kind::int8)) {
    return errc::bad_parameter;
  }
  return {};
}

namespace {

size_t payload_bytes(const hnsw_config& c) {
  return c.quantization == quantization_kind::int8 ? c.dim : c.dim * sizeof(float);
}

}  // namespace

hnsw_index::hnsw_index(const hnsw_config& config)
    : config_(config),
      kernels_(distance::kernels()),
      distance_(config.metric, kernels_),
      graph_(config.m, payload_bytes(config)),
      quantizer_(config.dim),
      level_rng_(config.seed),
      level_mult_(1.0 / std::log(static_cast<double>(config.m))) {
  if (config_.prefetch_lines == 0) {
    // The whole vector for short ones; for long ones the first lines are enough for the
    // hardware prefetcher to pick up the stream.
    config_.prefetch_lines = std::min<size_t>(8, (payload_bytes(config) + 63) / 64);
  }
}

hnsw_index::~hnsw_index() = default;

result<std::unique_ptr<hnsw_index>> hnsw_index::create(const hnsw_config& config) {
  if (auto r = config.validate(); !r) return r.error();
  return std::unique_ptr<hnsw_index>(new hnsw_index(config));
}

void hnsw_index::reserve(size_t points) {
  graph_.reserve(points);
  labels_.reserve(points);
  slots_.reserve(points);
  if (config_.quantization == quantization_kind::int8) vectors_.reserve(points * config_.dim);
}

const float* hnsw_index::float_vector(slot_t s) const {
  if (config_.quantization == quantization_kind::int8) return vectors_.data() + size_t{s} * dim();
  return reinterpret_cast<const float*>(graph_.payload(s));
}

void hnsw_index::write_payload(slot_t slot, const float* vector) {
  const size_t d = config_.dim;
  if (config_.quantization == quantization_kind::none) {
    std::memcpy(graph_.payload(slot), vector, d * sizeof(float));
    return;
  }
  std::memcpy(vectors_.data() + size_t{slot} * d, vector, d * sizeof(float));
  if (quantizer_.trained()) {
    auto* codes = reinterpret_cast<int8_t*>(graph_.payload(slot));
    quantizer_.encode(vector, codes);
    graph_.set_correction(slot, quantizer_.correction(config_.metric, codes));
  }
}

void hnsw_index::train_quantizer() {
  if (config_.quantization != quantization_kind::int8 || quantizer_.trained()) return;
  if (slots_.empty()) return;
  const size_t d = config_.dim;
  std::vector<float> rows;
  rows.reserve(slots_.size() * d);
  for (size_t s = 0; s < labels_.size(); ++s) {
    if (labels_[s] == invalid_label) continue;
    const float* v = float_vector(static_cast<slot_t>(s));
    rows.insert(rows.end(), v, v + d);
  }
  quantizer_.train(rows.data(), rows.size() / d, config_.quantization_quantile);
  for (size_t s = 0; s < labels_.size(); ++s) {
    if (labels_[s] != invalid_label) {
      write_payload(static_cast<slot_t>(s), float_vector(static_cast<slot_t>(s)));
    }
  }
}

result<void> hnsw_index::add(label_t label, std::span<const float> vector) {
  return add_batch(std::span<const label_t>(&label, 1), vector);
}

result<void> hnsw_index::add_batch(std::span<const label_t> labels,
                                   std::span<const float> vectors) {
  const size_t d = config_.dim;
  if (auto r = check_batch(labels, vectors, d, config_.metric); !r) return r;
  size_t new_points = 0;
  for (label_t l : labels) new_points += slots_.contains(l) ? 0 : 1;
  if (graph_.slot_count() - free_.size() + new_points >= invalid_slot - 1) {
    return errc::capacity_exceeded;
  }
  std::vector<float> prepared(d);
  for (size_t i = 0; i < labels.size(); ++i) {
    prepare_vector(vectors.data() + i * d, d, config_.metric, prepared.data());
    if (const slot_t old = slots_.find(labels[i]); old != invalid_slot) {
      // Upsert: the old node leaves the graph (neighbours repaired), the new one takes a slot.
      unlink(old);
      labels_[old] = invalid_label;
      slots_.erase(labels[i]);
      free_.push_back(old);
    }
    insert_prepared(labels[i], prepared.data());
    if (config_.quantization == quantization_kind::int8 && !quantizer_.trained() &&
        slots_.size() >= config_.quantization_train_size) {
      train_quantizer();
    }
  }
  return {};
}

result<void> hnsw_index::remove(label_t label) {
  const slot_t slot = slots_.find(label);
  if (slot == invalid_slot) return errc::label_not_found;
  unlink(slot);
  labels_[slot] = invalid_label;
  slots_.erase(label);
  free_.push_back(slot);
  return {};
}

void hnsw_index::for_each_label(const std::function<void(label_t)>& fn) const {
  for (label_t l : labels_) {
    if (l != invalid_label) fn(l);
  }
}

result<void> hnsw_index::get_vector(label_t label, std::span<float> out) const {
  if (out.size() != config_.dim) return errc::dimension_mismatch;
  const slot_t slot = slots_.find(label);
  if (slot == invalid_slot) return errc::label_not_found;
  std::memcpy(out.data(), float_vector(slot), config_.dim * sizeof(float));
  return {};
}

size_t hnsw_index::memory_usage() const {
  const size_t map_bytes = slots_.memory_usage();
  return sizeof(*this) + graph_.memory_usage() + vectors_.capacity() * sizeof(float) +
         labels_.capacity() * sizeof(label_t) + map_bytes + free_.capacity() * sizeof(slot_t) +
         quantizer_.offsets().size() * sizeof(float) + build_scratch_.memory_usage() +
         own_scratch().memory_usage() +
         (build_candidates_.capacity() + build_selected_.capacity()) * sizeof(scored_slot);
}

}  // namespace shoal::index
