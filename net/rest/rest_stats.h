#pragma once
// Response statistics of the REST API per route and status code (and per collection), kept the
// way Qdrant reports them: /telemetry `requests.rest.responses` and the `rest_responses_*` lines
// of /metrics (REST_API.md §2).
//
// Every core records into its own slot (cores never share a counter); readers gather a copy of
// each core's slot with map_reduce. Routes are numbered once, while the router is built and before
// any server runs; after that the route table is only read.
//
// Per-collection counts are kept only for collections that exist when the request is answered, and
// for at most kMaxCollections names per core, so a client cannot grow the table by inventing
// names.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/runtime/asio.h"

namespace shoal::rest {

struct response_stats {
  uint64_t count = 0;
  double sum_seconds = 0;
  double min_seconds = 0;
  double max_seconds = 0;
  int64_t last_unix_ms = 0;  // wall clock of the last response

  void add(double seconds, int64_t now_ms);
  void merge(const response_stats& o);
};

/// status code -> stats
using status_stats = std::map<unsigned, response_stats>;

struct stats_copy {
  std::vector<status_stats> by_route;                                    // by route number
  std::map<std::pair<size_t, std::string>, status_stats> by_collection;  // (route, collection)
  void merge(stats_copy&& o);
};

class rest_stats {
 public:
  static constexpr size_t kMaxCollections = 256;

  struct route_info {
    std::string method;    // "PUT"
    std::string endpoint;  // "/collections/{collection_name}/points"
  };

  explicit rest_stats(unsigned cores);

  /// At startup only. `pattern` is the router's ("/collections/{name}/points"); the endpoint
  /// keeps Qdrant's parameter names.
  size_t add_route(std::string_view method, std::string_view pattern);
  const std::vector<route_info>& routes() const { return routes_; }

  /// On a reactor: counts one response of this core. `collection` is empty when the route has
  /// none or it does not exist.
  void record(size_t route, std::string_view collection, unsigned status, double seconds);

  /// Every core's counts, merged (call on a reactor).
  awaitable<stats_copy> gather() const;

  /// Wall clock at startup, and a random id for this process (telemetry).
  std::chrono::system_clock::time_point startup() const { return startup_; }
  const std::string& id() const { return id_; }

 private:
  struct alignas(64) core_slot {
    stats_copy counts;
    std::set<std::string, std::less<>> names;  // collections counted on this core
  };

  std::vector<route_info> routes_;
  std::vector<core_slot> cores_;
  std::chrono::system_clock::time_point startup_;
  std::string id_;
};

/// Qdrant's name for a route pattern: "{name}" -> "{collection_name}", "{field}" ->
/// "{field_name}", "{snap}" -> "{snapshot_name}".
std::string qdrant_endpoint(std::string_view pattern);

}  // namespace shoal::rest
