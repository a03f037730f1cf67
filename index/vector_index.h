#pragma once
// The interface every index kind implements (PRACTICES A15): batch-first, caller-owned outputs,
// a per-call params struct with a filter hook, expected failures as result values.
//
// Contract (all kinds):
//  * One core owns an instance: no method may run concurrently with another on the same
//    instance, const ones included (searches use the instance's own scratch unless the caller
//    passes one). No locks, no threads: OpenBLAS is the serial build.
//  * Points are (label, vector). add() of an existing label replaces its vector (upsert).
//  * Vectors are float32 of dim() values, finite; for the cosine metric non-zero (they are
//    normalised on insert, and queries are normalised too).
//  * Distances follow the convention in types.h (lower is better); results are ordered by
//    (distance, label) ascending.
//  * Every call does bounded work proportional to its input, except search_batch and add_batch,
//    whose work is proportional to the batch: a shard that must yield splits its batches.
//  * A failed call changes nothing (batches are validated whole before anything is applied).

#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "engine/common/result.h"
#include "index/filter.h"
#include "index/io/byte_stream.h"
#include "index/scratch.h"
#include "index/types.h"

namespace shoal::index {

class vector_index {
 public:
  virtual ~vector_index() = default;

  virtual index_kind kind() const = 0;
  virtual size_t dim() const = 0;
  virtual metric_kind metric() const = 0;
  /// Live points.
  virtual size_t size() const = 0;
  virtual bool contains(label_t label) const = 0;

  /// Inserts or replaces one point.
  virtual result<void> add(label_t label, std::span<const float> vector) = 0;
  /// Inserts or replaces labels.size() points; vectors holds labels.size() * dim() values.
  /// errc::duplicate_label if a label repeats inside the batch.
  virtual result<void> add_batch(std::span<const label_t> labels,
                                 std::span<const float> vectors) = 0;
  /// errc::label_not_found if absent.
  virtual result<void> remove(label_t label) = 0;

  /// The k nearest points to `query` (dim() values) into out[0..n), n <= k returned; out must
  /// hold at least k entries. Fewer than k only when fewer than k points (that match the
  /// filter) exist.
  virtual result<size_t> search(std::span<const float> query, size_t k, std::span<neighbor> out,
                                const search_params& params, search_scratch& scratch) const = 0;
  /// queries holds nq * dim() values; out holds nq * k entries (query i at [i*k, i*k+k)),
  /// counts holds nq found-counts. Unfilled entries are {inf, invalid_label}.
  virtual result<void> search_batch(std::span<const float> queries, size_t k,
                                    std::span<neighbor> out, std::span<size_t> counts,
                                    const search_params& params, search_scratch& scratch) const = 0;

  /// The same, with the instance's own scratch.
  result<size_t> search(std::span<const float> query, size_t k, std::span<neighbor> out,
                        const search_params& params = {}) const {
    return search(query, k, out, params, own_scratch());
  }
  result<void> search_batch(std::span<const float> queries, size_t k, std::span<neighbor> out,
                            std::span<size_t> counts, const search_params& params = {}) const {
    return search_batch(queries, k, out, counts, params, own_scratch());
  }

  /// Calls fn for every live label, in no particular order.
  virtual void for_each_label(const std::function<void(label_t)>& fn) const = 0;
  /// The stored vector of a label (normalised for cosine) into out (dim() values).
  virtual result<void> get_vector(label_t label, std::span<float> out) const = 0;
  /// Bytes held by this instance (vectors, graph, maps, own scratch), capacity included.
  virtual size_t memory_usage() const = 0;

  /// Writes the whole index (io/format.h container; each kind documents its sections).
  virtual result<void> save(byte_sink& sink) const = 0;
  result<void> save(const std::string& path) const;

 protected:
  search_scratch& own_scratch() const { return own_scratch_; }

 private:
  mutable search_scratch own_scratch_;
};

/// Loads any index kind written by vector_index::save.
result<std::unique_ptr<vector_index>> load_index(byte_source& source);
result<std::unique_ptr<vector_index>> load_index(const std::string& path);

}  // namespace shoal::index
