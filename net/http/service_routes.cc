#include "net/http/service_routes.h"

#include "engine/common/metrics.h"
#include "engine/common/version.h"
#include "engine/runtime/runtime_metrics.h"
#include "engine/runtime/smp.h"

namespace shoal::http {

awaitable<std::string> collect_metrics_text() {
  auto snap =
      co_await rt::map_reduce([] { return metrics::local().take_snapshot(); }, metrics::snapshot{},
                              [](metrics::snapshot acc, metrics::snapshot core) {
                                acc.merge(std::move(core));
                                return acc;
                              });
  snap.merge(rt::runtime_metrics(rt::runtime::current()));
  co_return snap.to_prometheus();
}

void add_service_routes(router& r, service_info info) {
  r.add(verb::get, "/", [](request_context&) -> awaitable<response> {
    response res;
    json_writer w(res.body);
    // No envelope here (REST_API.md §2): clients read `version` to check compatibility.
    w.begin_object()
        .field("title", "shoal - vector search engine")
        .field("version", version::kQdrantApi)
        .field("shoal_version", version::kShoal)
        .field("commit", version::kCommit)
        .end_object();
    co_return res;
  });

  auto healthy = [](request_context&) -> awaitable<response> {
    co_return plain_text(status::ok, "healthz check passed");
  };
  // Probes stay open when API keys are set: orchestrators do not hold keys.
  r.add(verb::get, "/healthz", healthy, {.access = auth::access::open});
  r.add(verb::get, "/livez", healthy, {.access = auth::access::open});

  r.add(verb::get, "/readyz",
        [info](request_context&) -> awaitable<response> {
          if (auto reason = info.not_ready_reason()) {
            co_return plain_text(status::service_unavailable, "not ready: " + *reason);
          }
          co_return plain_text(status::ok, "all shards are ready");
        },
        {.access = auth::access::open});

  r.add(verb::get, "/cluster", [info](request_context& req) -> awaitable<response> {
    if (!info.cluster_status) co_return ok_json(R"({"status":"disabled"})", req.elapsed_seconds());
    auto result = co_await info.cluster_status();
    co_return ok_json(result, req.elapsed_seconds());
  });

  r.add(verb::post, "/cluster/failover", [info](request_context& req) -> awaitable<response> {
    if (info.cluster_failover) co_return co_await info.cluster_failover(req);
    co_return error_json(status::bad_request,
                         "Bad request: leaders move only in a cluster coordinated through etcd "
                         "(shoald --node-id ID --etcd URL); in a single node or a static cluster "
                         "(--peers) leadership never moves",
                         req.elapsed_seconds());
  });

  r.add(verb::get, "/metrics", [info](request_context& req) -> awaitable<response> {
    auto text = co_await collect_metrics_text();
    if (info.extra_metrics) text += co_await info.extra_metrics(req);
    auto res = plain_text(status::ok, std::move(text));
    res.content_type = "text/plain; version=0.0.4; charset=utf-8";
    co_return res;
  });
}

}  // namespace shoal::http
