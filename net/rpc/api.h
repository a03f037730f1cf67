#pragma once
// The client API over the binary protocol (target shoal_rpc_api): create/drop/describe
// collections, bulk upsert, delete, batch search and ping, served by the coordinator of this
// node's collections (engine/shard/coordinator.h) on the core that read the request.
//
// Input is validated as the REST API validates it (net/rest/decode.cc): vector name and
// dimension against the collection, finite floats, no zero vector with Cosine, payloads are JSON
// objects, a repeated id keeps its last point, the same limits; and a request is validated whole
// before anything is applied. Errors map to a status in api_status.cc.

#include <functional>

#include "engine/data/input_limits.h"
#include "engine/shard/coordinator.h"
#include "net/rpc/dispatcher.h"

namespace shoal::rpc {

/// The REST API's limits (rest.* settings), applied the same way: those of data::input_limits
/// (JSON depth of configs, filters and payloads; filter conditions and depth; payload keys and
/// bytes; key length; vector size and count at creation) and these.
struct api_limits : data::input_limits {
  size_t max_points_per_request = 100'000;  // points in one upsert, ids in one delete
  size_t max_batch_searches = 1'000;        // queries in one search request
  size_t max_limit = 100'000;               // k (larger is capped)
  size_t max_ef = 100'000;                  // ef (larger is capped)
};

struct api_context {
  shard::coordinator* coordinator = nullptr;
  api_limits limits;
  /// False while the node starts or stops: requests get status::unavailable.
  std::function<bool()> ready = [] { return true; };
};

void add_api_methods(dispatcher& d, api_context ctx);

}  // namespace shoal::rpc
