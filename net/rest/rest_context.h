#pragma once
// What every REST handler needs: the coordinator of this node's collections, the limits, and the
// response statistics the routes record into.

#include <memory>

#include "engine/data/input_limits.h"
#include "engine/shard/coordinator.h"

namespace shoal::rest {

class rest_stats;

/// The REST API's limits (settings rest.*); those in data::input_limits (JSON depth, filters,
/// payloads, key length, vectors) are shared with the binary protocol's client API.
struct rest_limits : data::input_limits {
  size_t max_points_per_request = 100'000;  // points in one upsert / ids in one request
  size_t max_batch_searches = 1'000;        // searches (or operations) in one batch request
  size_t max_limit = 100'000;               // limit and offset of searches and scrolls
  size_t max_ef = 100'000;                  // params.hnsw_ef (larger is capped)
  size_t points_body_limit = 32u << 20;     // body limit of the upsert and batch routes
  size_t parser_keep_bytes = 4u << 20;      // the core parser shrinks back after larger bodies
};

struct rest_context {
  shard::coordinator* coordinator = nullptr;
  rest_limits limits;
  /// Made by add_rest_routes when null; share it with the /metrics source (rest_api.h).
  std::shared_ptr<rest_stats> stats;
};

}  // namespace shoal::rest
