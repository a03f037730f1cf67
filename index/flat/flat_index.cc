#include "index/flat/flat_index.h"

#include <algorithm>
#include <cstring>

#include "engine/common/assert.h"
#include "index/errc.h"
#include "index/vector_ops.h"

namespace shoal::index {
namespace {

constexpr uint32_t kLabelsSection = 1;
constexpr uint32_t kVectorsSection = 2;
// Rows per kernel call in a scan: the distance block stays in L1.
constexpr size_t kScanBlock = 256;

float squared_norm(const float* v, size_t d) {
  return sum_of_squares(v, d);
}

}  // namespace

result<void> flat_config::validate() const {
  if (dim == 0 || dim > io::kMaxDim) return errc::bad_parameter;
  if (blas.query_block == 0 || blas.base_block == 0) return errc::bad_parameter;
  return {};
}

flat_index::flat_index(const flat_config& config)
    : config_(config), distance_(config.metric, distance::kernels()) {}

result<std::unique_ptr<flat_index>> flat_index::create(const flat_config& config) {
  if (auto r = config.validate(); !r) return r.error();
  return std::unique_ptr<flat_index>(new flat_index(config));
}

void flat_index::reserve(size_t points) {
  vectors_.reserve(points * config_.dim);
  norms_.reserve(points);
  labels_.reserve(points);
  slots_.reserve(points);
}

void flat_index::store(label_t label, const float* vector) {
  const size_t d = config_.dim;
  slot_t slot = slots_.find(label);
  if (slot == invalid_slot) {
    SHOAL_ASSERT(labels_.size() < invalid_slot, "flat index slot space exhausted");
    vectors_.extend(d);  // first: it is the allocation that may fail
    slot = static_cast<slot_t>(labels_.size());
    slots_.assign(label, slot);
    labels_.push_back(label);
    norms_.push_back(0);
  }
  // Prepared straight into its row: no copy through a scratch vector.
  float* row = vectors_.data() + size_t{slot} * d;
  prepare_vector(vector, d, config_.metric, row);
  norms_[slot] = squared_norm(row, d);
}

result<void> flat_index::add(label_t label, std::span<const float> vector) {
  return add_batch(std::span<const label_t>(&label, 1), vector);
}

result<void> flat_index::add_batch(std::span<const label_t> labels,
                                   std::span<const float> vectors) {
  if (auto r = check_batch(labels, vectors, config_.dim, config_.metric); !r) return r;
  if (labels_.size() + labels.size() >= invalid_slot) return errc::capacity_exceeded;
  for (size_t i = 0; i < labels.size(); ++i) store(labels[i], vectors.data() + i * config_.dim);
  return {};
}

result<void> flat_index::remove(label_t label) {
  const slot_t hole = slots_.find(label);
  if (hole == invalid_slot) return errc::label_not_found;
  const slot_t last = static_cast<slot_t>(labels_.size() - 1);
  const size_t d = config_.dim;
  slots_.erase(label);
  if (hole != last) {
    std::memcpy(vectors_.data() + size_t{hole} * d, vectors_.data() + size_t{last} * d,
                d * sizeof(float));
    norms_[hole] = norms_[last];
    labels_[hole] = labels_[last];
    slots_.assign(labels_[hole], hole);
  }
  labels_.pop_back();
  norms_.pop_back();
  vectors_.pop_back(d);
  return {};
}

size_t flat_index::scan(const float* query, size_t k, const label_filter* filter,
                        std::span<neighbor> out, search_scratch& scratch) const {
  const size_t d = config_.dim;
  topk_collector& top = scratch.topk;
  top.reset(k);
  scratch.last = {};
  std::optional<std::span<const label_t>> candidates;
  if (filter != nullptr) candidates = filter->candidate_labels();
  // A short candidate list is cheaper to look up than to filter a full scan.
  if (candidates && candidates->size() * 4 < labels_.size()) {
    const size_t n = candidates->size();
    for (size_t i = 0; i < n; ++i) {
      if (i + 8 < n) slots_.prefetch((*candidates)[i + 8]);
      const label_t label = (*candidates)[i];
      const slot_t slot = slots_.find(label);
      if (slot == invalid_slot) continue;
      top.push(distance_(query, vectors_.data() + size_t{slot} * d, d), label);
    }
    scratch.last.distance_computations = candidates->size();
    return top.extract_sorted(out);
  }
  scratch.distances.resize(kScanBlock);
  float* dist = scratch.distances.data();
  const size_t n = labels_.size();
  uint64_t checks = 0;
  for (size_t b0 = 0; b0 < n; b0 += kScanBlock) {
    const size_t m = std::min(kScanBlock, n - b0);
    distance_.many(query, vectors_.data() + b0 * d, m, d, dist);
    float threshold = top.threshold();
    for (size_t j = 0; j < m; ++j) {
      if (dist[j] > threshold) continue;
      // The filter runs only for rows that would enter the top-k: usually a small fraction.
      if (filter != nullptr) {
        ++checks;
        if (!filter->matches(labels_[b0 + j])) continue;
      }
      top.push(dist[j], labels_[b0 + j]);
      threshold = top.threshold();
    }
  }
  scratch.last.distance_computations = n;
  scratch.last.filter_checks = checks;
  scratch.last.exact_path = true;
  return top.extract_sorted(out);
}

result<size_t> flat_index::search(std::span<const float> query, size_t k, std::span<neighbor> out,
                                  const search_params& params, search_scratch& scratch) const {
  if (out.size() < k) return errc::bad_parameter;
  if (auto r = check_vector(query, config_.dim, config_.metric); !r) return r.error();
  scratch.query.resize(config_.dim);
  prepare_vector(query.data(), config_.dim, config_.metric, scratch.query.data());
  size_t found = scan(scratch.query.data(), k, params.filter, out, scratch);
  std::fill(out.begin() + static_cast<ptrdiff_t>(found), out.begin() + static_cast<ptrdiff_t>(k),
            neighbor{});
  return found;
}

result<void> flat_index::search_batch(std::span<const float> queries, size_t k,
                                      std::span<neighbor> out, std::span<size_t> counts,
                                      const search_params& params, search_scratch& scratch) const {
  const size_t d = config_.dim;
  if (queries.size() % d != 0) return errc::dimension_mismatch;
  const size_t nq = queries.size() / d;
  if (out.size() < nq * k || counts.size() < nq) return errc::bad_parameter;
  for (size_t i = 0; i < nq; ++i) {
    if (auto r = check_vector(queries.subspan(i * d, d), d, config_.metric); !r) return r;
  }
  const bool short_candidate_list = params.filter != nullptr && params.filter->candidate_labels() &&
                                    params.filter->candidate_labels()->size() * 4 < size();
  if (nq < config_.blas_threshold || !distance::blas_supports(config_.metric) ||
      short_candidate_list || k == 0 || labels_.empty()) {
    for (size_t i = 0; i < nq; ++i) {
      auto r = search(queries.subspan(i * d, d), k, out.subspan(i * k, k), params, scratch);
      if (!r) return r.error();
      counts[i] = *r;
    }
    return {};
  }
  std::vector<float> prepared(queries.size());
  for (size_t i = 0; i < nq; ++i) {
    prepare_vector(queries.data() + i * d, d, config_.metric, prepared.data() + i * d);
  }
  distance::blas_knn_input in;
  in.metric = config_.metric;
  in.queries = prepared.data();
  in.nq = nq;
  in.base = vectors_.data();
  in.base_norms = norms_.data();
  in.labels = labels_.data();
  in.n = labels_.size();
  in.dim = d;
  in.k = k;
  in.filter = params.filter;
  distance::blas_knn(in, config_.blas, out, counts);
  return {};
}

void flat_index::for_each_label(const std::function<void(label_t)>& fn) const {
  for (label_t l : labels_) fn(l);
}

result<void> flat_index::get_vector(label_t label, std::span<float> out) const {
  if (out.size() != config_.dim) return errc::dimension_mismatch;
  const slot_t slot = slots_.find(label);
  if (slot == invalid_slot) return errc::label_not_found;
  std::memcpy(out.data(), vectors_.data() + size_t{slot} * config_.dim,
              config_.dim * sizeof(float));
  return {};
}

size_t flat_index::memory_usage() const {
  // unordered_map: one node (key, value, next pointer, malloc overhead) plus one bucket each.
  const size_t map_bytes = slots_.memory_usage();
  return sizeof(*this) + vectors_.capacity() * sizeof(float) + norms_.capacity() * sizeof(float) +
         labels_.capacity() * sizeof(label_t) + map_bytes + own_scratch().memory_usage();
}

result<void> flat_index::save(byte_sink& sink) const {
  io::file_header h;
  h.kind = index_kind::flat;
  h.metric = config_.metric;
  h.dim = static_cast<uint32_t>(config_.dim);
  h.section_count = 2;
  h.params[0] = labels_.size();
  if (auto r = io::write_header(sink, h); !r) return r;
  std::span<const std::byte> labels[] = {io::bytes_of(labels_)};
  if (auto r = io::write_section(sink, kLabelsSection, labels); !r) return r;
  std::span<const std::byte> vectors[] = {
      io::bytes_of(std::span<const float>(vectors_.data(), vectors_.size()))};
  return io::write_section(sink, kVectorsSection, vectors);
}

result<std::unique_ptr<flat_index>> flat_index::load_body(const io::file_header& header,
                                                          byte_source& source) {
  if (header.kind != index_kind::flat) return errc::wrong_index_kind;
  if (header.section_count != 2 || header.quantization != quantization_kind::none) {
    return errc::corrupt_file;
  }
  const uint64_t n = header.params[0];
  if (n >= invalid_slot) return errc::corrupt_file;
  flat_config config;
  config.dim = header.dim;
  config.metric = header.metric;
  auto index = create(config);
  if (!index) return index.error();
  flat_index& f = **index;
  if (auto r = io::read_section(source, kLabelsSection, n, f.labels_); !r) return r.error();
  if (auto r = io::read_section(source, kVectorsSection, n * header.dim, f.vectors_); !r) {
    return r.error();
  }
  f.slots_.reserve(n);
  f.norms_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    if (f.labels_[i] == invalid_label) return errc::corrupt_file;
    if (!f.slots_.insert(f.labels_[i], static_cast<slot_t>(i))) return errc::corrupt_file;
    const float* row = f.vectors_.data() + i * header.dim;
    if (!check_vector({row, header.dim}, header.dim, header.metric)) return errc::corrupt_file;
    f.norms_[i] = squared_norm(row, header.dim);
  }
  return index;
}

}  // namespace shoal::index
