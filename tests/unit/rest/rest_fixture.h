#pragma once
// The REST API served in process, as shoald wires it (engine/app/application.cc): collections in a
// temporary data directory, the coordinator, the service and REST routes, an HTTP server per
// core, all on a real multi-core runtime in a background thread. Tests talk to it over loopback
// with test::http_client and read the JSON with simdjson.

#include <future>
#include <memory>
#include <thread>

#include <simdjson.h>

#include "engine/runtime/event.h"
#include "engine/runtime/sharded.h"
#include "engine/shard/collections.h"
#include "engine/shard/coordinator.h"
#include "net/http/server.h"
#include "net/http/service_routes.h"
#include "net/rest/rest_api.h"
#include "tests/support/http_client.h"
#include "tests/support/runtime_fixture.h"
#include "tests/support/tmpdir.h"

namespace shoal::test {

struct rest_reply {
  unsigned status = 0;
  std::string body;
  std::string content_type;
  simdjson::dom::element json;  // valid until the next request of the same rest_server
};

class rest_server {
 public:
  explicit rest_server(rest::rest_limits limits = {}, http::http_config http_cfg = {},
                       unsigned cores = 2)
      : http_cfg_(http_cfg) {
    std::promise<uint16_t> bound;
    auto bound_future = bound.get_future();
    runner_ = std::thread([this, cores, limits, bound = std::move(bound)]() mutable {
      run_on_runtime(cores, [&]() -> awaitable<void> {
        shard::node_options storage;
        storage.data_dir = dir_.path() / "data";
        storage.snapshot_on_close = false;
        rt::sharded<shard::collections> colls;
        co_await colls.start(storage);
        shard::coordinator coord(colls);
        co_await shard::collections::load_all(colls);

        auto routes = std::make_shared<http::router>();
        rest::rest_context ctx{.coordinator = &coord, .limits = limits};
        rest::ensure_stats(ctx);
        http::add_service_routes(*routes,
                                 {.not_ready_reason = [] { return std::optional<std::string>(); },
                                  .extra_metrics =
                                      [ctx](const http::request_context& req) {
                                        return rest::qdrant_metrics_text(ctx, req);
                                      }});
        rest::add_rest_routes(*routes, ctx);

        rt::sharded<http::http_server> servers;
        co_await servers.start(std::shared_ptr<const http::router>(routes), http_cfg_);
        auto ep = asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0);
        auto port = co_await servers.invoke_on(core_id(0),
                                               [ep](http::http_server& s) { return s.listen(ep); });
        ep.port(port.value());
        co_await servers.invoke_on_all([ep](http::http_server& s) {
          if (rt::this_core() != core_id(0)) (void)s.listen(ep).value();
          s.start();
        });
        stop_requested_ = std::make_unique<rt::event>();
        bound.set_value(ep.port());
        co_await stop_requested_->wait();
        co_await servers.stop();
        co_await colls.stop();
      });
    });
    port_ = bound_future.get();
    client_ = std::make_unique<http_client>(port_, std::chrono::seconds(30));
  }

  ~rest_server() {
    client_.reset();
    rt::runtime::current().post_to(core_id(0), [this] { stop_requested_->set(); });
    runner_.join();
  }

  uint16_t port() const { return port_; }
  const std::filesystem::path& dir() const { return dir_.path(); }

  rest_reply call(boost::beast::http::verb method, const std::string& target,
                  const std::string& body = {}) {
    std::map<std::string, std::string> headers;
    if (!body.empty()) headers["Content-Type"] = "application/json";
    auto r = client_->request(method, target, body, headers);
    // The server closes after some errors (413): the next call gets a new connection.
    if (!r.keep_alive) client_ = std::make_unique<http_client>(port_, std::chrono::seconds(30));
    rest_reply out;
    out.status = r.status;
    out.body = std::move(r.body);
    out.content_type = r.header("content-type");
    if (out.content_type.starts_with("application/json")) {
      if (parser_.parse(out.body).get(out.json) != simdjson::SUCCESS) {
        ADD_FAILURE() << "not JSON: " << out.body;
      }
    }
    return out;
  }
  rest_reply get(const std::string& target) { return call(boost::beast::http::verb::get, target); }
  rest_reply put(const std::string& target, const std::string& body) {
    return call(boost::beast::http::verb::put, target, body);
  }
  rest_reply post(const std::string& target, const std::string& body) {
    return call(boost::beast::http::verb::post, target, body);
  }
  rest_reply del(const std::string& target) {
    return call(boost::beast::http::verb::delete_, target);
  }

 private:
  tmpdir dir_;
  http::http_config http_cfg_;
  std::thread runner_;
  uint16_t port_ = 0;
  std::unique_ptr<rt::event> stop_requested_;
  std::unique_ptr<http_client> client_;
  simdjson::dom::parser parser_;
};

}  // namespace shoal::test
