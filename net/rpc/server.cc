#include "net/rpc/server.h"

#include <boost/asio/socket_base.hpp>

#include "engine/common/logger.h"
#include "engine/runtime/listener.h"
#include "engine/runtime/runtime.h"
#include "net/rpc/frame.h"
#include "net/rpc/messages.h"
#include "net/rpc/session.h"

namespace shoal::rpc {
namespace {

spdlog::logger& log() {
  static auto& l = logging::get("rpc");
  return l;
}

std::string core_label() {
  return std::to_string(rt::this_core().value());
}

}  // namespace

rpc_server::rpc_server(std::shared_ptr<const dispatcher> methods, server_config cfg)
    : methods_(std::move(methods)),
      cfg_(cfg),
      memory_(cfg.max_memory_per_core, 1'000'000, "rpc memory") {
  auto core = core_label();
  auto& reg = metrics::local();
  accepted_ = &reg.make_counter("shoal_rpc_connections_accepted_total", "RPC connections accepted",
                                {{"core", core}});
  rejected_ = &reg.make_counter("shoal_rpc_connections_rejected_total",
                                "RPC connections refused over rpc.max-connections-per-core",
                                {{"core", core}});
  reg.make_gauge_fn("shoal_rpc_connections", "Open RPC connections", {{"core", core}},
                    [this] { return static_cast<double>(sessions_.size()); });
  reg.make_gauge_fn("shoal_rpc_memory_available_bytes",
                    "Request memory of rpc.max-memory-per-core not reserved", {{"core", core}},
                    [this] { return static_cast<double>(memory_.available()); });
  reg.make_gauge_fn("shoal_rpc_memory_waiters", "Connections waiting for request memory",
                    {{"core", core}}, [this] { return static_cast<double>(memory_.waiting()); });
}

rpc_server::~rpc_server() {
  // The gauge callbacks point at this object.
  auto core = core_label();
  auto& reg = metrics::local();
  reg.remove("shoal_rpc_connections", {{"core", core}});
  reg.remove("shoal_rpc_memory_available_bytes", {{"core", core}});
  reg.remove("shoal_rpc_memory_waiters", {{"core", core}});
}

result<uint16_t> rpc_server::listen(const asio::ip::tcp::endpoint& ep) {
  auto acceptor = rt::listen_on_this_core(ep);
  if (!acceptor) return acceptor.error();
  boost::system::error_code ec;
  auto port = (*acceptor)->local_endpoint(ec).port();
  if (ec) return ec;
  acceptor_ = std::move(*acceptor);
  return port;
}

void rpc_server::start() {
  auto hold = accept_gate_.enter();
  SHOAL_ASSERT(hold.has_value() && acceptor_,
               "rpc_server::start() without listen() or after stop()");
  asio::co_spawn(
      acceptor_->get_executor(),
      [this, h = std::move(*hold)]() mutable -> awaitable<void> { co_await accept_loop(); },
      asio::detached);
}

void rpc_server::refuse(asio::ip::tcp::socket& socket) {
  // One non-blocking write of an error frame (correlation 0: about the connection), then close.
  rejected_->inc();
  frame_header h;
  h.flags = flags::response | flags::error;
  auto f = make_frame(
      h, encode_error(status::overloaded, "too many connections (rpc.max-connections-per-core)"),
      0);
  boost::system::error_code ignored;
  // Over TLS a plain frame would be noise before the handshake: just close.
  if (!cfg_.tls) {
    socket.non_blocking(true, ignored);
    std::array<asio::const_buffer, 2> bufs = {asio::buffer(f.header),
                                              asio::buffer(f.payload.data(), f.payload.size())};
    socket.write_some(bufs, ignored);
  }
  socket.close(ignored);
}

awaitable<void> rpc_server::accept_loop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_->async_accept(use_nothrow_awaitable);
    if (stopping_) co_return;
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      log().warn("accept failed: {}", ec.message());
      asio::steady_timer pause(acceptor_->get_executor(), std::chrono::milliseconds(50));
      co_await pause.async_wait(use_nothrow_awaitable);
      continue;
    }
    accepted_->inc();
    boost::system::error_code ignored;
    socket.set_option(asio::ip::tcp::no_delay(true), ignored);
    if (sessions_.size() >= cfg_.max_connections_per_core) {
      refuse(socket);
      continue;
    }
    auto hold = gate_.enter();
    if (!hold) co_return;
    auto s = std::make_shared<session>(std::move(socket), *this, std::move(*hold));
    asio::co_spawn(
        acceptor_->get_executor(), [s]() -> awaitable<void> { co_await s->run(); }, asio::detached);
  }
}

awaitable<void> rpc_server::stop() {
  stopping_ = true;
  if (acceptor_) {
    boost::system::error_code ec;
    acceptor_->close(ec);
  }
  co_await accept_gate_.close();
  for (auto* s : sessions_) s->request_stop();
  auto drained = co_await gate_.close(cfg_.drain_timeout);
  if (!drained) {
    log().warn("{} RPC connections still busy after {} ms; closing them", sessions_.size(),
               cfg_.drain_timeout.count());
    for (auto* s : sessions_) s->force_close();
    co_await gate_.close();
  }
  // Nobody holds request memory any more; wake nobody later.
  memory_.break_all();
}

std::list<session*>::iterator rpc_server::add_session(session* s) {
  return sessions_.insert(sessions_.end(), s);
}

void rpc_server::remove_session(std::list<session*>::iterator it) {
  sessions_.erase(it);
}

void rpc_server::record(uint16_t method, status s, double seconds) {
  auto& m = method_metrics_[method];
  auto name = method_name(method);
  if (!m.latency) {
    m.latency = &metrics::local().make_histogram(
        "shoal_rpc_request_duration_seconds",
        "RPC request latency from the end of its payload to its answer being queued",
        {{"method", name}});
  }
  m.latency->observe(seconds);
  auto& c = m.by_status[s];
  if (!c) {
    c = &metrics::local().make_counter(
        "shoal_rpc_requests_total", "RPC requests answered",
        {{"core", core_label()}, {"method", name}, {"status", std::string(status_name(s))}});
  }
  c->inc();
}

void rpc_server::count_error(const char* kind) {
  auto& c = errors_[kind];
  if (!c) {
    c = &metrics::local().make_counter(
        "shoal_rpc_errors_total",
        "RPC protocol errors, timeouts and connections ended by a failure",
        {{"core", core_label()}, {"kind", kind}});
  }
  c->inc();
}

}  // namespace shoal::rpc
