#pragma once
// An RPC server (sharded<rpc_server>, one per core, as shoald runs it) on a real multi-core
// runtime in a background thread, with the methods a test gives it; and a blocking raw-frame
// socket for tests that must send what a well-behaved client never would.

#include <future>
#include <memory>
#include <sys/socket.h>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "engine/runtime/event.h"
#include "engine/runtime/sharded.h"
#include "net/rpc/dispatcher.h"
#include "net/rpc/frame.h"
#include "net/rpc/server.h"
#include "tests/support/runtime_fixture.h"

namespace shoal::test {

/// What a test runs beside the servers: start() on core 0 before they start (it may add
/// methods), stop() after they stopped.
struct rpc_setup {
  virtual ~rpc_setup() = default;
  virtual awaitable<void> start(rpc::dispatcher&) { co_return; }
  virtual awaitable<void> stop() { co_return; }
};

class rpc_test_server {
 public:
  rpc_test_server(rpc::server_config cfg, std::shared_ptr<rpc::dispatcher> methods,
                  uint16_t port = 0, unsigned cores = 2,
                  std::shared_ptr<rpc_setup> setup = std::make_shared<rpc_setup>()) {
    std::promise<uint16_t> bound;
    auto bound_future = bound.get_future();
    runner_ =
        std::thread([this, cfg, methods, port, cores, setup, bound = std::move(bound)]() mutable {
          run_on_runtime(cores, [&]() -> awaitable<void> {
            co_await setup->start(*methods);
            rt::sharded<rpc::rpc_server> servers;
            co_await servers.start(std::shared_ptr<const rpc::dispatcher>(methods), cfg);
            auto ep = asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port);
            for (unsigned c = 0; c < cores; ++c) {
              auto r = co_await servers.invoke_on(
                  core_id(c), [ep](rpc::rpc_server& s) { return s.listen(ep); });
              ep.port(r.value());
            }
            co_await servers.invoke_on_all([](rpc::rpc_server& s) { s.start(); });
            stop_requested_ = std::make_unique<rt::event>();
            bound.set_value(ep.port());
            co_await stop_requested_->wait();
            co_await servers.stop();
            co_await setup->stop();
          });
        });
    port_ = bound_future.get();
  }

  ~rpc_test_server() {
    rt::runtime::current().post_to(core_id(0), [this] { stop_requested_->set(); });
    runner_.join();
  }

  uint16_t port() const { return port_; }

 private:
  std::thread runner_;
  std::unique_ptr<rt::event> stop_requested_;
  uint16_t port_ = 0;
};

/// A blocking socket that speaks frames byte by byte; reads give up after `timeout`.
class raw_connection {
 public:
  explicit raw_connection(uint16_t port,
                          std::chrono::milliseconds timeout = std::chrono::seconds(5))
      : socket_(ioc_) {
    socket_.connect({asio::ip::make_address("127.0.0.1"), port});
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }

  void send(const void* data, size_t n) { asio::write(socket_, asio::buffer(data, n)); }
  void send(const rpc::outbound_frame& f) {
    send(f.header.data(), f.header.size());
    if (!f.payload.empty()) send(f.payload.data(), f.payload.size());
  }

  struct frame {
    rpc::frame_header h;
    rpc::buffer payload;
  };
  /// The next frame, or nullopt when the connection closed (or the read timed out).
  std::optional<frame> receive() {
    rpc::header_bytes raw;
    boost::system::error_code ec;
    asio::read(socket_, asio::buffer(raw), ec);
    if (ec) return std::nullopt;
    auto h = rpc::decode_header(raw);
    if (!h) throw std::runtime_error("the server sent a bad header");
    frame f{*h, rpc::buffer(h->payload_size)};
    asio::read(socket_, asio::buffer(f.payload.data(), f.payload.size()), ec);
    if (ec) return std::nullopt;
    if (!rpc::check_payload(*h, f.payload.span())) throw std::runtime_error("bad payload CRC");
    return f;
  }
  bool closed_by_peer() {
    char byte;
    boost::system::error_code ec;
    auto n = socket_.read_some(asio::buffer(&byte, 1), ec);
    return n == 0 && (ec == asio::error::eof || ec == asio::error::connection_reset);
  }

 private:
  asio::io_context ioc_;
  asio::ip::tcp::socket socket_;
};

}  // namespace shoal::test
