#pragma once
// Exact (brute-force) search: every live vector is compared with the query. Single queries run
// the SIMD one-to-many kernels over contiguous rows; batches of at least
// flat_config::blas_threshold queries go through sgemm (distance/blas_knn.h) for l2, ip and
// cosine. Owned by one core (vector_index.h contract).
//
// Storage: rows are dense (n x dim floats, normalised for cosine) with a parallel label array;
// remove() moves the last row into the hole, so there are no tombstones. The rows live in a
// mapped_array: growth remaps pages instead of copying every row on the owning core.
//
// Snapshot (io/format.h container, kind flat): header params[0] = number of points;
// sections: 1 labels (u64 x n), 2 vectors (f32 x n x dim).

#include <memory>
#include <vector>

#include "index/distance/blas_knn.h"
#include "index/distance/dispatch.h"
#include "index/io/format.h"
#include "index/label_map.h"
#include "index/mapped_array.h"
#include "index/vector_index.h"

namespace shoal::index {

struct flat_config {
  size_t dim = 0;
  metric_kind metric = metric_kind::l2;
  /// Batches of at least this many queries use sgemm. A scan reads every vector once per
  /// query; sgemm reads them once per block of queries, so on sets larger than the caches it
  /// wins from a handful of queries (shoal-perf flat shows both paths on a data set).
  size_t blas_threshold = 8;
  distance::blas_knn_config blas;

  /// bad_parameter when dim is 0 or above 65,536, or a block size is 0.
  result<void> validate() const;
};

class flat_index final : public vector_index {
 public:
  static result<std::unique_ptr<flat_index>> create(const flat_config& config);
  /// Reads what save() wrote (the header already consumed by load_index).
  static result<std::unique_ptr<flat_index>> load_body(const io::file_header& header,
                                                       byte_source& source);

  index_kind kind() const override { return index_kind::flat; }
  size_t dim() const override { return config_.dim; }
  metric_kind metric() const override { return config_.metric; }
  size_t size() const override { return labels_.size(); }
  bool contains(label_t label) const override { return slots_.contains(label); }
  const flat_config& config() const { return config_; }

  result<void> add(label_t label, std::span<const float> vector) override;
  result<void> add_batch(std::span<const label_t> labels, std::span<const float> vectors) override;
  result<void> remove(label_t label) override;

  using vector_index::search;
  using vector_index::search_batch;
  result<size_t> search(std::span<const float> query, size_t k, std::span<neighbor> out,
                        const search_params& params, search_scratch& scratch) const override;
  result<void> search_batch(std::span<const float> queries, size_t k, std::span<neighbor> out,
                            std::span<size_t> counts, const search_params& params,
                            search_scratch& scratch) const override;

  void for_each_label(const std::function<void(label_t)>& fn) const override;
  result<void> get_vector(label_t label, std::span<float> out) const override;
  size_t memory_usage() const override;
  result<void> save(byte_sink& sink) const override;
  using vector_index::save;

  /// Reserves room for `points` vectors (avoids regrowth during a bulk load).
  void reserve(size_t points);

 private:
  explicit flat_index(const flat_config& config);
  /// Stores one checked vector under label: in place when the label exists, else as a new row.
  void store(label_t label, const float* vector);
  /// Scans every row (or the filter's candidate list) for one prepared query.
  size_t scan(const float* query, size_t k, const label_filter* filter, std::span<neighbor> out,
              search_scratch& scratch) const;

  flat_config config_;
  distance::f32_metric distance_;
  mapped_array<float> vectors_;  // size() x dim
  std::vector<float> norms_;     // squared norms (l2: the sgemm path needs them)
  std::vector<label_t> labels_;
  label_map slots_;
};

}  // namespace shoal::index
