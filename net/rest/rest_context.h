#pragma once
// What every REST handler needs: the coordinator of this node's collections and the limits.

#include "engine/shard/coordinator.h"

namespace shoal::rest {

struct rest_limits {
  size_t max_points_per_request = 100'000;  // points in one upsert / ids in one request
  size_t max_batch_searches = 1'000;        // searches in one batch request
  size_t max_limit = 100'000;               // limit and offset of searches and scrolls
  size_t max_filter_bytes = 1u << 20;
  size_t points_body_limit = 256u << 20;  // body limit of the upsert route
};

struct rest_context {
  shard::coordinator* coordinator = nullptr;
  rest_limits limits;
};

}  // namespace shoal::rest
