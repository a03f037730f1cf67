#pragma once
// The service endpoints every node serves (REST_API.md §2): GET /, /healthz, /livez, /readyz,
// /metrics, /cluster and POST /cluster/failover. Health and liveness only say the process answers;
// readiness says it may take traffic (false while starting, recovering or stopping).

#include <functional>
#include <optional>
#include <string>

#include "net/http/router.h"

namespace shoal::http {

struct service_info {
  /// nullopt when ready; otherwise why not. Called from any core.
  std::function<std::optional<std::string>()> not_ready_reason;
  /// More Prometheus text appended to /metrics (the REST API's Qdrant-named metrics); may be
  /// empty. Called on the core serving the request, with that request.
  std::function<awaitable<std::string>(const request_context&)> extra_metrics;
  /// The `result` of GET /cluster (JSON; replication/cluster_status.h), called on the core
  /// serving the request. Empty: not in a cluster, answered as Qdrant does without distributed
  /// mode: {"result": {"status": "disabled"}, ...}.
  std::function<awaitable<std::string>()> cluster_status;
  /// POST /cluster/failover (replication/failover_route.h). Empty: leadership cannot be moved
  /// here (a single node or a static cluster), answered with 400.
  handler cluster_failover;
};

void add_service_routes(router& r, service_info info);

/// The Prometheus text of every core's metrics plus the runtime's own (call on a reactor).
awaitable<std::string> collect_metrics_text();

}  // namespace shoal::http
