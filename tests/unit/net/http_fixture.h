#pragma once
// An HTTP server running on a real multi-core runtime in a background thread, for tests that act
// as clients from the test thread. The routes are whatever the test adds.

#include <functional>
#include <future>
#include <memory>
#include <thread>

#include "engine/runtime/event.h"
#include "engine/runtime/sharded.h"
#include "net/http/server.h"
#include "net/http/service_routes.h"
#include "tests/support/runtime_fixture.h"

namespace shoal::test {

class http_fixture {
 public:
  http_fixture(unsigned cores, http::http_config cfg, std::function<void(http::router&)> add_routes)
      : cfg_(cfg) {
    auto routes = std::make_shared<http::router>();
    add_routes(*routes);
    std::promise<uint16_t> bound;
    auto bound_future = bound.get_future();
    runner_ = std::thread([this, cores, routes, bound = std::move(bound)]() mutable {
      run_on_runtime(cores, [&]() -> awaitable<void> {
        rt::sharded<http::http_server> servers;
        co_await servers.start(std::shared_ptr<const http::router>(routes), cfg_);
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
        stop_started_ = true;
        co_await servers.stop();
        stopped_at_ = std::chrono::steady_clock::now();
      });
    });
    port_ = bound_future.get();
  }

  ~http_fixture() { stop(); }

  uint16_t port() const { return port_; }

  /// Starts a graceful stop without waiting for it.
  void begin_stop() {
    if (stop_begun_.exchange(true)) return;
    rt::runtime::current().post_to(core_id(0), [this] { stop_requested_->set(); });
  }
  /// Graceful stop; returns when every core has stopped.
  void stop() {
    begin_stop();
    if (runner_.joinable()) runner_.join();
  }
  bool stop_started() const { return stop_started_.load(); }

  /// The Prometheus text, as /metrics would serve it (call while running).
  std::string metrics() {
    std::promise<std::string> text;
    auto f = text.get_future();
    rt::runtime::current().post_to(core_id(0), [&text] {
      asio::co_spawn(rt::runtime::current().local().executor(), http::collect_metrics_text(),
                     [&text](std::exception_ptr, std::string s) { text.set_value(std::move(s)); });
    });
    return f.get();
  }

 private:
  http::http_config cfg_;
  std::thread runner_;
  uint16_t port_ = 0;
  std::unique_ptr<rt::event> stop_requested_;
  std::atomic<bool> stop_begun_{false};
  std::atomic<bool> stop_started_{false};
  std::chrono::steady_clock::time_point stopped_at_;
};

}  // namespace shoal::test
