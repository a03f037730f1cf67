#pragma once
// Response shapes (REST_API.md §3, §5, §6): records, scored points, collection info.

#include <string>

#include "engine/common/json_writer.h"
#include "engine/shard/collection_config.h"
#include "engine/shard/coordinator.h"
#include "engine/shard/shard_types.h"

namespace shoal::rest {

/// Record {"id", "payload"?, "vector"?}; with `scored`, also "version" and "score" (ScoredPoint).
/// `selected` is the with_vector selector of the request: when it names vectors, only those are
/// written (shards may return more: sparse vectors come only with all of them).
void write_point(json_writer& w, const shard::point_view& p, const shard::collection_config& cfg,
                 bool scored, const shard::vector_selector* selected = nullptr);
/// CollectionInfo.config: params, hnsw_config, optimizer_config, wal_config, quantization_config.
void write_collection_config(json_writer& w, const shard::collection_config& cfg);
void write_collection_info(json_writer& w, const shard::collection_config& cfg,
                           const shard::collection_stats& stats, bool failed);

}  // namespace shoal::rest
