#pragma once
// The Qdrant-compatible REST API (REST_API.md): collections, payload indexes, points and
// searches. Each handler decodes and validates its request on the core that received it,
// hands owned values to the coordinator, and encodes the answer.

#include "net/http/router.h"
#include "net/rest/rest_context.h"

namespace shoal::rest {

void add_collection_routes(http::router& r, rest_context ctx);
void add_point_routes(http::router& r, rest_context ctx);
void add_search_routes(http::router& r, rest_context ctx);
void add_snapshot_routes(http::router& r, rest_context ctx);

inline void add_rest_routes(http::router& r, rest_context ctx) {
  add_collection_routes(r, ctx);
  add_point_routes(r, ctx);
  add_search_routes(r, ctx);
  add_snapshot_routes(r, ctx);
}

}  // namespace shoal::rest
