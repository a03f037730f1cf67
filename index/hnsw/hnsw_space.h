#pragma once
// Internal to index/hnsw: the two "spaces" a graph walk can run in. The walk code
// (layer_search.h, hnsw_insert.cc) is a template over them, so the distance function is fixed
// when the walk starts and inlined around the kernel call (PRACTICES A12).
//
//   float_space  float32 vectors, either in the graph records (quantization none) or in the
//                index's separate vector array (int8 indexes before their quantizer is trained)
//   int8_space   int8 codes in the graph records plus the per-vector correction term
//                (quantization/int8_quantizer.h); distances approximate the float ones
//
// Each space offers: query_type, distance to a slot (one and x4), a stored node as a query
// (for the neighbour heuristic), and payload prefetch.

#include <cstddef>
#include <cstdint>

#include "index/distance/dispatch.h"
#include "index/hnsw/hnsw_graph.h"
#include "index/quantization/int8_quantizer.h"

namespace shoal::index::hnsw_detail {

struct float_space {
  const hnsw_graph* graph = nullptr;
  const float* vectors = nullptr;  // null: vectors live in the graph payload
  size_t dim = 0;
  size_t prefetch_lines = 1;
  distance::f32_metric metric;

  using query_type = const float*;

  const float* vector(slot_t s) const {
    return vectors != nullptr ? vectors + size_t{s} * dim
                              : reinterpret_cast<const float*>(graph->payload(s));
  }
  float operator()(query_type q, slot_t s) const { return metric(q, vector(s), dim); }
  void x4(query_type q, const slot_t* s, float* out) const {
    const float* rows[4] = {vector(s[0]), vector(s[1]), vector(s[2]), vector(s[3])};
    metric.x4(q, rows, dim, out);
  }
  query_type as_query(slot_t s) const { return vector(s); }
  void prefetch(slot_t s) const {
    if (vectors == nullptr) {
      graph->prefetch_payload(s, prefetch_lines);
    } else {
      const char* p = reinterpret_cast<const char*>(vector(s));
      for (size_t i = 0; i < prefetch_lines; ++i) __builtin_prefetch(p + 64 * i);
      graph->prefetch_payload(s, 0);
    }
  }
};

struct int8_space {
  const hnsw_graph* graph = nullptr;
  size_t dim = 0;
  size_t prefetch_lines = 1;
  metric_kind metric = metric_kind::l2;
  distance::i8_forms kernel;  // dot for l2/ip/cosine, l1 for manhattan
  float scale = 1.0f;
  float scale2 = 1.0f;
  float offset_norm = 0.0f;

  struct query_type {
    const int8_t* codes;
    float term;  // l2: |c|^2; ip/cosine: sum offset^2 + correction(c); manhattan: unused
  };

  int8_space(const hnsw_graph& g, const int8_quantizer& q, metric_kind m,
             const distance::kernel_table& table, size_t lines)
      : graph(&g),
        dim(q.dim()),
        prefetch_lines(lines),
        metric(m),
        kernel(m == metric_kind::manhattan ? table.i8_l1 : table.i8_dot),
        scale(q.scale()),
        scale2(q.scale() * q.scale()),
        offset_norm(q.offset_norm()) {}

  const int8_t* codes(slot_t s) const { return reinterpret_cast<const int8_t*>(graph->payload(s)); }

  float finish(query_type q, int32_t raw, float correction) const {
    switch (metric) {
      case metric_kind::l2:
        return scale2 * (q.term + correction - 2.0f * static_cast<float>(raw));
      case metric_kind::ip:
        return -(q.term + correction + scale2 * static_cast<float>(raw));
      case metric_kind::cosine:
        return 1.0f - (q.term + correction + scale2 * static_cast<float>(raw));
      case metric_kind::manhattan:
        return scale * static_cast<float>(raw);
    }
    return 0.0f;
  }
  float operator()(query_type q, slot_t s) const {
    return finish(q, kernel.one(q.codes, codes(s), dim), graph->correction(s));
  }
  void x4(query_type q, const slot_t* s, float* out) const {
    const int8_t* rows[4] = {codes(s[0]), codes(s[1]), codes(s[2]), codes(s[3])};
    int32_t raw[4];
    kernel.x4(q.codes, rows, dim, raw);
    for (int i = 0; i < 4; ++i) out[i] = finish(q, raw[i], graph->correction(s[i]));
  }
  /// The query term of a code vector whose correction is known.
  float term_for(float correction) const {
    return metric == metric_kind::l2 ? correction : offset_norm + correction;
  }
  query_type as_query(slot_t s) const { return {codes(s), term_for(graph->correction(s))}; }
  void prefetch(slot_t s) const { graph->prefetch_payload(s, prefetch_lines); }
};

}  // namespace shoal::index::hnsw_detail
