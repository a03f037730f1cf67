#pragma once
// Vocabulary of the index library: labels, metrics, results, per-call search parameters.
//
// Distance convention (everywhere inside index/): lower is better.
//   l2         squared Euclidean distance  sum (x_i - y_i)^2
//   ip         negative inner product      -(x . y)
//   cosine     1 - cos(x, y); vectors are normalised on insert and at query time, so this is
//              computed as 1 - (x . y) of unit vectors
//   manhattan  sum |x_i - y_i|
// to_qdrant_score() turns a distance into the score Qdrant reports (higher-is-better for
// Cosine and Dot, the plain distance for Euclid and Manhattan).

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>

#include "engine/common/result.h"

namespace shoal::index {

class label_filter;

/// The caller's (shard's) 64-bit point id. Any value except invalid_label.
using label_t = uint64_t;
inline constexpr label_t invalid_label = std::numeric_limits<label_t>::max();

/// An index-internal position. Never leaves the library.
using slot_t = uint32_t;
inline constexpr slot_t invalid_slot = std::numeric_limits<slot_t>::max();

enum class metric_kind : uint8_t { l2 = 0, ip = 1, cosine = 2, manhattan = 3 };
enum class quantization_kind : uint8_t { none = 0, int8 = 1 };
enum class index_kind : uint8_t { flat = 1, hnsw = 2 };

std::string_view to_string(metric_kind m);
std::string_view to_string(quantization_kind q);
std::string_view to_string(index_kind k);
/// "l2" | "euclid" | "ip" | "dot" | "cosine" | "manhattan" (case-sensitive).
result<metric_kind> parse_metric(std::string_view text);
/// "none" | "int8".
result<quantization_kind> parse_quantization(std::string_view text);

/// Qdrant's score for a distance in this library's convention.
inline float to_qdrant_score(metric_kind m, float distance) {
  switch (m) {
    case metric_kind::l2:
      return std::sqrt(std::fmax(distance, 0.0f));
    case metric_kind::ip:
      return -distance;
    case metric_kind::cosine:
      return 1.0f - distance;
    case metric_kind::manhattan:
      return distance;
  }
  return distance;
}

/// One search hit. Results are ordered by (distance, label) ascending: ties go to the lower label.
struct neighbor {
  float distance = std::numeric_limits<float>::infinity();
  label_t label = invalid_label;

  friend bool operator<(const neighbor& a, const neighbor& b) {
    return a.distance < b.distance || (a.distance == b.distance && a.label < b.label);
  }
  friend bool operator==(const neighbor&, const neighbor&) = default;
};

/// Per-call search parameters (PRACTICES A15). The defaults give the index's configured
/// behaviour; every field is optional.
struct search_params {
  /// HNSW beam width; 0 means the index default (hnsw_config::ef_search). Raised to k if lower.
  size_t ef = 0;
  /// Only points whose label the filter accepts are returned. Not owned; must outlive the call.
  const label_filter* filter = nullptr;
  /// int8 indexes: how many traversal candidates are rescored with float32 (0: max(ef, k)).
  size_t rescore = 0;
  /// Skip the graph and scan every (matching) point: the exact answer, slower.
  bool exact = false;
};

}  // namespace shoal::index
