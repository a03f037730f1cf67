#pragma once
// The values that cross cores between a coordinator and a shard: queries in, results out.
// Nothing here points into a shard's memory (PRACTICES A5).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/data/filter.h"
#include "engine/data/json_value.h"
#include "engine/data/key_path.h"
#include "engine/data/point_id.h"
#include "engine/shard/collection_config.h"
#include "engine/shard/mutation.h"

namespace shoal::shard {

/// with_payload (REST_API.md §1.5): none, all, only some paths, all but some paths.
struct payload_selector {
  enum class mode { none, all, include, exclude } m = mode::none;
  std::vector<data::key_path> paths;
  static payload_selector all() { return {mode::all, {}}; }
  static payload_selector none() { return {mode::none, {}}; }
};

/// with_vector: none, all, or the named vectors listed.
struct vector_selector {
  bool all = false;
  std::vector<std::string> names;
  bool any() const { return all || !names.empty(); }
  static vector_selector everything() { return {true, {}}; }
};

struct write_options {
  durability level = durability::local;
  bool wait_applied = true;  // Qdrant's wait=true; applied before the ack in every case here
};

struct write_ack {
  uint64_t lsn = 0;   // the shard's last LSN of this write
  uint64_t term = 0;  // the term that wrote it
};

/// A point as reads return it.
struct point_view {
  data::point_id id;
  uint64_t version = 0;
  float score = 0;  // searches only
  bool with_payload = false;
  data::json_value payload;  // an object ({} when the point has none)
  bool with_vectors = false;
  std::vector<named_vector> vectors;
  std::string sparse_json;
};

struct search_query {
  std::string vector_name;  // "" = the unnamed vector
  std::vector<float> vector;
  size_t limit = 10;  // offset + limit: what each shard returns
  size_t ef = 0;      // 0: the index default
  bool exact = false;
  std::shared_ptr<const data::filter> filter;  // null: every point
  std::optional<float> score_threshold;
  payload_selector with_payload;
  vector_selector with_vector;
};

struct scroll_query {
  std::optional<data::point_id> from;  // inclusive
  size_t limit = 10;                   // each shard returns up to limit + 1 matches
  std::shared_ptr<const data::filter> filter;
  payload_selector with_payload = payload_selector::all();
  vector_selector with_vector;
};

struct shard_stats {
  uint64_t points = 0;
  uint64_t indexed_vectors = 0;
  uint64_t memory_bytes = 0;
  uint64_t log_bytes = 0;
  uint64_t last_lsn = 0;
  uint64_t snapshot_lsn = 0;
  std::vector<std::pair<std::string, uint64_t>> payload_index_points;  // field -> points
};

}  // namespace shoal::shard
