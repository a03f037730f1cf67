#pragma once
// The Qdrant-compatible REST API (REST_API.md): collections, payload indexes, points, searches,
// snapshots and the service endpoints that need the collections (/telemetry, /issues). Each
// handler decodes and validates its request on the core that received it, hands owned values to
// the coordinator, and encodes the answer.
//
// add_rest_routes registers every route wrapped so that its responses are counted (rest_stats.h)
// and the core's JSON parser gives back memory after a large body (rest_io.h).

#include <string>

#include "net/http/router.h"
#include "net/rest/rest_context.h"

namespace shoal::rest {

void add_collection_routes(http::router& r, rest_context ctx);
void add_point_routes(http::router& r, rest_context ctx);
void add_search_routes(http::router& r, rest_context ctx);
void add_snapshot_routes(http::router& r, rest_context ctx);
/// /telemetry, /issues, PATCH /collections/{name}.
void add_service_api_routes(http::router& r, rest_context ctx);
/// GET /collections/{name}/shards/{id}/digest: this host's replica of a shard, never redirected.
void add_shard_routes(http::router& r, rest_context ctx);

/// Adds the routes of `api` to `r`, each wrapped to record its responses in ctx.stats.
void install_routes(http::router& r, const http::router& api, const rest_context& ctx);

/// Creates ctx.stats when it is null (call on a reactor: it sizes per-core tables).
void ensure_stats(rest_context& ctx);

inline void add_rest_routes(http::router& r, rest_context ctx) {
  ensure_stats(ctx);
  http::router api;
  add_collection_routes(api, ctx);
  add_point_routes(api, ctx);
  add_search_routes(api, ctx);
  add_snapshot_routes(api, ctx);
  add_service_api_routes(api, ctx);
  add_shard_routes(api, ctx);
  install_routes(r, api, ctx);
}

/// The Qdrant-named lines of /metrics (app_info, collections_total, collection_points,
/// rest_responses_*), for http::service_info::extra_metrics. `?per_collection=true` adds a
/// collection label to the rest_responses_* lines.
awaitable<std::string> qdrant_metrics_text(rest_context ctx, const http::request_context& req);

}  // namespace shoal::rest
