#include "net/http/server.h"

#include <boost/asio/socket_base.hpp>

#include "engine/common/logger.h"
#include "engine/runtime/listener.h"
#include "engine/runtime/runtime.h"
#include "net/http/session.h"

namespace shoal::http {
namespace {

spdlog::logger& log() {
  static auto& l = logging::get("http");
  return l;
}

}  // namespace

http_server::http_server(std::shared_ptr<const router> routes, http_config cfg)
    : routes_(std::move(routes)), cfg_(cfg), route_metrics_(routes_->size() + 1) {
  auto core = std::to_string(rt::this_core().value());
  auto& reg = metrics::local();
  accepted_ = &reg.make_counter("shoal_http_connections_accepted_total",
                                "HTTP connections accepted", {{"core", core}});
  rejected_ =
      &reg.make_counter("shoal_http_connections_rejected_total",
                        "HTTP connections refused over max_connections_per_core", {{"core", core}});
  reg.make_gauge_fn("shoal_http_connections", "Open HTTP connections", {{"core", core}},
                    [this] { return static_cast<double>(sessions_.size()); });
}

http_server::~http_server() {
  // The gauge callback points at this object.
  metrics::local().remove("shoal_http_connections",
                          {{"core", std::to_string(rt::this_core().value())}});
}

result<uint16_t> http_server::listen(const asio::ip::tcp::endpoint& ep) {
  auto acceptor = rt::listen_on_this_core(ep);
  if (!acceptor) return acceptor.error();
  boost::system::error_code ec;
  auto port = (*acceptor)->local_endpoint(ec).port();
  if (ec) return ec;
  acceptor_ = std::move(*acceptor);
  return port;
}

void http_server::start() {
  auto hold = accept_gate_.enter();
  SHOAL_ASSERT(hold.has_value() && acceptor_,
               "http_server::start() without listen() or after stop()");
  asio::co_spawn(
      acceptor_->get_executor(),
      [this, h = std::move(*hold)]() mutable -> awaitable<void> { co_await accept_loop(); },
      asio::detached);
}

awaitable<void> http_server::accept_loop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_->async_accept(use_nothrow_awaitable);
    if (stopping_) co_return;
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      // EMFILE and friends: log, back off a little, keep serving the connections we have.
      log().warn("accept failed: {}", ec.message());
      asio::steady_timer pause(acceptor_->get_executor(), std::chrono::milliseconds(50));
      co_await pause.async_wait(use_nothrow_awaitable);
      continue;
    }
    accepted_->inc();
    boost::system::error_code ignored;
    socket.set_option(asio::ip::tcp::no_delay(true), ignored);
    if (sessions_.size() >= cfg_.max_connections_per_core) {
      // Refuse politely without a session: one non-blocking write of a fixed reply, then close.
      rejected_->inc();
      static constexpr std::string_view kBusy =
          "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
          "Connection: close\r\nContent-Length: 75\r\n\r\n"
          "{\"status\":{\"error\":\"Service unavailable: too many connections\"},\"time\":0.0}";
      if (!cfg_.tls) {  // over TLS plain text would be noise before the handshake: just close
        socket.non_blocking(true, ignored);
        socket.write_some(asio::buffer(kBusy.data(), kBusy.size()), ignored);
      }
      socket.close(ignored);
      continue;
    }
    auto hold = gate_.enter();
    if (!hold) co_return;
    auto s = std::make_shared<session>(std::move(socket), *this, std::move(*hold));
    asio::co_spawn(
        acceptor_->get_executor(), [s]() -> awaitable<void> { co_await s->run(); }, asio::detached);
  }
}

awaitable<void> http_server::stop() {
  stopping_ = true;
  if (acceptor_) {
    boost::system::error_code ec;
    acceptor_->close(ec);
  }
  co_await accept_gate_.close();
  for (auto* s : sessions_) s->request_stop();
  auto drained = co_await gate_.close(cfg_.drain_timeout);
  if (!drained) {
    log().warn("{} HTTP connections still busy after {} ms; closing them", sessions_.size(),
               cfg_.drain_timeout.count());
    for (auto* s : sessions_) s->force_close();
    co_await gate_.close();
  }
}

std::list<session*>::iterator http_server::add_session(session* s) {
  return sessions_.insert(sessions_.end(), s);
}

void http_server::remove_session(std::list<session*>::iterator it) {
  sessions_.erase(it);
}

http_server::route_metrics& http_server::metrics_for(const route* r) {
  size_t slot = r ? r->index : route_metrics_.size() - 1;
  auto& m = route_metrics_[slot];
  if (!m.latency) {
    m.latency = &metrics::local().make_histogram(
        "shoal_http_request_duration_seconds",
        "HTTP request latency from the end of its header to the end of its response",
        {{"route", r ? r->label : "unmatched"}});
  }
  return m;
}

void http_server::record(const route* r, unsigned status_code, double seconds) {
  auto& m = metrics_for(r);
  m.latency->observe(seconds);
  auto& c = m.by_status[status_code];
  if (!c) {
    c = &metrics::local().make_counter("shoal_http_requests_total", "HTTP requests answered",
                                       {{"core", std::to_string(rt::this_core().value())},
                                        {"route", r ? r->label : "unmatched"},
                                        {"status", std::to_string(status_code)}});
  }
  c->inc();
}

void http_server::count_error(const char* kind) {
  auto& c = errors_[kind];
  if (!c) {
    c = &metrics::local().make_counter(
        "shoal_http_errors_total", "HTTP connections ended by a framing error or timeout",
        {{"core", std::to_string(rt::this_core().value())}, {"kind", kind}});
  }
  c->inc();
}

}  // namespace shoal::http
