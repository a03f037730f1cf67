#pragma once
// A collection's schema: its vectors (one unnamed or several named), their distance and index
// settings, shard count, the default write durability and the payload indexes. The same
// structure is decoded from Qdrant's CreateCollection body (REST_API.md §3), persisted as
// `collection.json` in the collection's directory, and replicated read-only to every core.
//
// Shoal extensions (ignored by Qdrant clients, which never send them): "durability" at the top
// ("memory" | "local" | "replicated"), and per vector "index": "hnsw" | "flat" (Qdrant's
// hnsw_config.m = 0 also selects flat).
//
// collection.json: {"format": 1, "name": ..., "vectors": {name: {"size", "distance", "index",
// "m", "ef_construct", "quantization", "on_disk"}}, "named_vectors": bool, "sparse_vectors":
// [names], "shard_number", "replication_factor", "write_consistency_factor", "on_disk_payload",
// "durability", "hnsw": {"m", "ef_construct", "full_scan_threshold"},
// "payload_indexes": {field: {"type", "params"?}}, "created_ms", "incarnation"?}

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <simdjson.h>

#include "engine/common/json_writer.h"
#include "engine/common/result.h"
#include "engine/data/input_error.h"
#include "engine/data/input_limits.h"
#include "engine/data/payload_index.h"
#include "index/types.h"

namespace shoal::shard {

enum class durability { memory, local, replicated };
std::optional<durability> parse_durability(std::string_view text);
std::string_view to_string(durability d);

struct vector_params {
  uint32_t size = 0;
  index::metric_kind metric = index::metric_kind::cosine;
  index::index_kind kind = index::index_kind::hnsw;
  uint32_t m = 16;
  uint32_t ef_construct = 100;
  index::quantization_kind quantization = index::quantization_kind::none;
  bool on_disk = false;  // accepted and reported; vectors live in memory
};

/// "Cosine" | "Dot" | "Euclid" | "Manhattan" <-> metric.
std::optional<index::metric_kind> parse_distance(std::string_view qdrant_name);
std::string_view distance_name(index::metric_kind m);

struct payload_index_def {
  data::payload_type type = data::payload_type::keyword;
  std::string params_json;  // the params object exactly as given, or empty for a bare type
};

struct collection_config {
  std::string name;
  std::vector<std::pair<std::string, vector_params>> vectors;  // sorted by name; "" = unnamed
  bool named_vectors = false;
  std::vector<std::string> sparse_vectors;
  uint32_t shard_number = 1;
  uint32_t replication_factor = 1;
  /// The create request named replication_factor (a cluster then places the collection on
  /// that many hosts; without it, on every host). Not stored: placement is decided once.
  bool replication_factor_given = false;
  uint32_t write_consistency_factor = 1;
  bool on_disk_payload = false;
  durability default_durability = durability::local;
  uint32_t hnsw_m = 16;
  uint32_t hnsw_ef_construct = 100;
  uint32_t full_scan_threshold = 10000;
  std::map<std::string, payload_index_def> payload_indexes;
  uint64_t created_ms = 0;
  /// Which incarnation of the name this is, in a coordinated cluster: the etcd create revision
  /// of its schema, so a collection dropped and created again under its name is told from the
  /// old one (replication/README.md, "Schemas"). 0: not in a cluster, or made before
  /// incarnations existed. In collection.json when not 0.
  uint64_t incarnation = 0;

  const vector_params* find_vector(std::string_view name) const;
  /// The persisted form (collection.json).
  std::string to_json() const;
  static result<collection_config> from_json(std::string_view text);
  /// Qdrant's CreateCollection body; `default_shards` when shard_number is absent. Vector sizes
  /// and the number of vectors (dense and sparse) are checked against `limits` (422).
  static data::decoded<collection_config> decode_create(std::string name,
                                                        simdjson::dom::element body,
                                                        uint32_t default_shards,
                                                        const data::input_limits& limits = {});
  /// `params.vectors` of CollectionInfo (a single object for the unnamed vector, else a map).
  void write_vectors_info(json_writer& w) const;
};

/// 1..255 bytes of valid UTF-8, no '/', NUL or control characters, not "." or "..".
std::optional<std::string> validate_collection_name(std::string_view name);
/// The longest directory name of a collection: room under the file system's 255 bytes for what
/// is added to it (".arc" in full snapshots).
inline constexpr size_t kMaxDirName = 240;
/// The directory name for a collection: the name with unsafe bytes percent-encoded; beyond
/// kMaxDirName bytes, a prefix of that and a hash of the name.
std::string collection_dir_name(std::string_view name);

}  // namespace shoal::shard
