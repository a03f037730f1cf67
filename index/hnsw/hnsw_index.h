#pragma once
// HNSW approximate nearest-neighbour index (Malkov & Yashunin), built for one owning core:
// no locks, contiguous level-0 records (hnsw_graph.h), an epoch-tagged visited set and heaps in
// a per-core search_scratch, prefetching and four-at-a-time distance kernels in the walks.
//
// Contract (see vector_index.h for what every index promises):
//  * Owner: one core. Insert, remove and search never run concurrently on one instance.
//  * add()/add_batch() upsert: an existing label is removed (with repair) and re-inserted.
//  * remove() unlinks the node at once and repairs its neighbours' lists from the removed
//    node's own neighbourhood (heuristic re-selection), then frees the slot for reuse; recall
//    therefore holds up under churn and memory does not grow with it. Links from nodes that
//    were not the removed node's neighbours may still point at the freed slot; a walk passes
//    through such a slot without returning it, and its next occupant inherits the link.
//  * Filtered search: the filter runs inside the walk (rejected points are walked through, not
//    returned). When the filter is selective the index instead scans the matching points
//    exactly (cost model in hnsw_search.cc), and if a walk ends with fewer than k hits while
//    more may match, it falls back to that scan, so k results come back whenever k match.
//  * int8 quantization (per collection, hnsw_config::quantization): once
//    quantization_train_size points exist the quantizer is trained on them and the graph is
//    walked (and further built) on int8 codes; the final candidates are rescored with the
//    float32 vectors, which are kept beside the graph.
//  * Work per call is bounded by its input, except that growing the slot block copies it
//    (amortised; reserve() avoids it) and training the quantizer encodes the points so far
//    (once, at quantization_train_size points).
//
// Snapshot (io/format.h container, kind hnsw): header params = {slot count, m,
// ef_construction, ef_search}; sections 1 meta, 2 level-0 records, 3 upper-level links,
// 4 float vectors (int8 only), 5 quantizer (int8 only), 6 free slots. See hnsw_serialize.cc.

#include <memory>
#include <random>
#include <vector>

#include "index/distance/dispatch.h"
#include "index/hnsw/hnsw_graph.h"
#include "index/io/format.h"
#include "index/label_map.h"
#include "index/mapped_array.h"
#include "index/quantization/int8_quantizer.h"
#include "index/vector_index.h"

namespace shoal::index {

struct hnsw_config {
  size_t dim = 0;
  metric_kind metric = metric_kind::l2;
  /// Links per node on upper levels; level 0 allows 2 * m. 2..128.
  size_t m = 16;
  /// Beam width while inserting (>= 1). Higher: better graph, slower build.
  size_t ef_construction = 200;
  /// Default search beam width when search_params::ef is 0.
  size_t ef_search = 64;
  quantization_kind quantization = quantization_kind::none;
  /// int8: points needed before the quantizer is trained (>= 1).
  size_t quantization_train_size = 4096;
  /// int8: per-dimension range quantile in (0.5, 1].
  float quantization_quantile = 0.999f;
  /// Seed of the level generator (same seed + same inserts = same graph).
  uint64_t seed = 0x5ca1ab1e;
  /// Cache lines of each neighbour's vector to prefetch during walks (0 = automatic).
  size_t prefetch_lines = 0;
  /// Filtered search: predicate samples used to estimate selectivity without a candidate list.
  size_t filter_sample_size = 256;
  /// Filtered search: scan exactly when matching_points * this < estimated walk distance count.
  /// Larger values prefer the exact scan.
  double filter_exact_bias = 1.0;

  /// bad_parameter for values outside the ranges above.
  result<void> validate() const;
};

class hnsw_index final : public vector_index {
 public:
  static result<std::unique_ptr<hnsw_index>> create(const hnsw_config& config);
  /// Reads what save() wrote (the header already consumed by load_index).
  static result<std::unique_ptr<hnsw_index>> load_body(const io::file_header& header,
                                                       byte_source& source);
  ~hnsw_index() override;

  index_kind kind() const override { return index_kind::hnsw; }
  size_t dim() const override { return config_.dim; }
  metric_kind metric() const override { return config_.metric; }
  size_t size() const override { return slots_.size(); }
  bool contains(label_t label) const override { return slots_.contains(label); }
  const hnsw_config& config() const { return config_; }

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

  /// Reserves slots for `points` nodes, so a bulk load never copies the block.
  void reserve(size_t points);
  /// int8: trains the quantizer now on the points held (no-op if trained or empty).
  void train_quantizer();
  bool quantizer_trained() const { return quantizer_.trained(); }
  /// Graph internals, for tests (hnsw_invariants.h) and tools.
  const hnsw_graph& graph() const { return graph_; }
  slot_t entry_point() const { return entry_; }
  unsigned max_level() const { return max_level_; }
  size_t free_slots() const { return free_.size(); }

 private:
  explicit hnsw_index(const hnsw_config& config);

  // hnsw_insert.cc
  void insert_prepared(label_t label, const float* vector);
  unsigned sample_level();
  template <class Space>
  void link_new_node(const Space& space, slot_t slot, unsigned level);
  template <class Space>
  void connect_back(const Space& space, slot_t from, slot_t to, unsigned level);
  template <class Space>
  void select_neighbors(const Space& space, std::vector<scored_slot>& candidates, size_t m,
                        std::vector<scored_slot>& out) const;
  void write_payload(slot_t slot, const float* vector);

  // hnsw_delete.cc
  void unlink(slot_t slot);
  void find_in_links(slot_t removed, unsigned level, std::vector<slot_t>& out);
  template <class Space>
  void repair_after_removal(const Space& space, slot_t removed);
  void replace_entry_point(slot_t leaving);

  // hnsw_search.cc
  template <class Space>
  size_t walk(const Space& space, typename Space::query_type q, size_t ef,
              const label_filter* filter, search_scratch& scratch) const;
  size_t exact_scan(const float* query, size_t k, const label_filter* filter,
                    std::span<neighbor> out, search_scratch& scratch) const;
  bool prefer_exact(const label_filter& filter, size_t ef) const;
  size_t collect(const float* query, size_t k, size_t rescore, bool rescore_float,
                 std::span<neighbor> out, search_scratch& scratch) const;

  /// The float32 vector of a slot (graph payload or, for int8, the side array).
  const float* float_vector(slot_t s) const;
  bool int8_active() const { return quantizer_.trained(); }

  hnsw_config config_;
  const distance::kernel_table& kernels_;
  distance::f32_metric distance_;
  hnsw_graph graph_;
  int8_quantizer quantizer_;
  mapped_array<float> vectors_;  // int8 indexes: float32 copy per slot, for rescoring
  std::vector<label_t> labels_;  // slot -> label (dense, for exact scans); invalid when free
  label_map slots_;
  std::vector<slot_t> free_;
  slot_t entry_ = invalid_slot;
  unsigned max_level_ = 0;
  std::mt19937_64 level_rng_;
  double level_mult_;
  mutable uint64_t sample_cursor_ = 0;  // rotates the selectivity sample between searches
  // Reused by inserts and repairs (never by searches, which use the caller's scratch).
  search_scratch build_scratch_;
  std::vector<scored_slot> build_candidates_;
  std::vector<scored_slot> build_selected_;
};

}  // namespace shoal::index
