#include "net/rest/encode.h"

#include <algorithm>
#include <optional>

#include "engine/data/json_value.h"

namespace shoal::rest {

void write_point(json_writer& w, const shard::point_view& p, const shard::collection_config& cfg,
                 bool scored, const shard::vector_selector* selected) {
  w.begin_object().key("id");
  p.id.write_json(w);
  if (scored) w.field("version", p.version).field("score", p.score);
  if (p.with_payload) {
    w.key("payload");
    p.payload.write(w);
  }
  if (p.with_vectors) {
    auto wanted = [&](std::string_view name) {
      if (!selected || selected->names.empty()) return true;
      return std::find(selected->names.begin(), selected->names.end(), name) !=
             selected->names.end();
    };
    std::optional<data::json_value> sparse;
    if (!p.sparse_json.empty()) {
      if (auto parsed = data::json_value::parse(p.sparse_json); parsed && parsed->is_object()) {
        sparse = std::move(*parsed);
        auto& members = sparse->as_object();
        std::erase_if(members, [&](auto& m) { return !wanted(m.first); });
        if (members.empty()) sparse.reset();
      }
    }
    size_t dense = 0;
    for (auto& v : p.vectors) dense += wanted(v.name);
    w.key("vector");
    // The only vector being the unnamed dense one: a plain array (REST_API.md §1.4).
    bool plain = !cfg.named_vectors && !sparse && dense == 1 && p.vectors.size() == 1 &&
                 p.vectors[0].name.empty();
    if (plain) {
      w.begin_array();
      for (float f : p.vectors[0].values) w.value(f);
      w.end_array();
    } else {
      w.begin_object();
      for (auto& v : p.vectors) {
        if (!wanted(v.name)) continue;
        w.key(v.name).begin_array();
        for (float f : v.values) w.value(f);
        w.end_array();
      }
      if (sparse) {
        for (auto& [name, value] : sparse->as_object()) {
          w.key(name);
          value.write(w);
        }
      }
      w.end_object();
    }
  }
  w.end_object();
}

void write_collection_config(json_writer& w, const shard::collection_config& cfg) {
  w.begin_object();
  w.key("params").begin_object().key("vectors");
  cfg.write_vectors_info(w);
  w.field("shard_number", cfg.shard_number)
      .field("replication_factor", cfg.replication_factor)
      .field("write_consistency_factor", cfg.write_consistency_factor)
      .field("on_disk_payload", cfg.on_disk_payload);
  if (!cfg.sparse_vectors.empty()) {
    w.key("sparse_vectors").begin_object();
    for (auto& s : cfg.sparse_vectors) w.key(s).begin_object().end_object();
    w.end_object();
  }
  w.end_object();
  w.key("hnsw_config")
      .begin_object()
      .field("m", cfg.hnsw_m)
      .field("ef_construct", cfg.hnsw_ef_construct)
      .field("full_scan_threshold", cfg.full_scan_threshold)
      .field("max_indexing_threads", 0)
      .field("on_disk", false)
      .end_object();
  w.key("optimizer_config")
      .begin_object()
      .field("deleted_threshold", 0.2)
      .field("vacuum_min_vector_number", 1000)
      .field("default_segment_number", 0)
      .field("flush_interval_sec", 5)
      .end_object();
  w.key("wal_config").begin_object().field("wal_capacity_mb", 32).field("wal_segments_ahead", 0);
  w.end_object();
  w.key("quantization_config").null();
  w.end_object();
}

void write_collection_info(json_writer& w, const shard::collection_config& cfg,
                           const shard::collection_stats& stats, bool failed) {
  w.begin_object()
      .field("status", failed ? "red" : "green")
      .field("optimizer_status", "ok")
      .field("segments_count", stats.shards)
      .field("points_count", stats.points)
      .field("indexed_vectors_count", stats.indexed_vectors)
      .field("vectors_count", stats.indexed_vectors);
  w.key("config");
  write_collection_config(w, cfg);
  w.key("payload_schema").begin_object();
  for (auto& [field, def] : cfg.payload_indexes) {
    w.key(field).begin_object().field("data_type", data::to_string(def.type));
    if (!def.params_json.empty()) w.key("params").raw(def.params_json);
    auto it = stats.payload_index_points.find(field);
    w.field("points", it == stats.payload_index_points.end() ? 0 : it->second);
    w.end_object();
  }
  w.end_object();
  w.field("durability", shard::to_string(cfg.default_durability));
  w.end_object();
}

}  // namespace shoal::rest
