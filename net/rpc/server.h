#pragma once
// The RPC server of one core (used as sharded<rpc_server>), shaped like the HTTP server: every
// core binds its own listening socket on the same address with SO_REUSEPORT, so the kernel
// spreads connections over the cores and a connection stays on the core that accepted it.
//
// Memory: each core has a semaphore of `max_memory_per_core` bytes. A session reserves a
// request's bytes (payload as sent + decompressed payload) from it *before* it reads the body,
// and holds them until the answer is written; when none are free it stops reading that
// connection (TCP backpressure) until the request's deadline.
//
// Lifecycle (each step on the server's own core): listen() -> start() -> ... -> stop().
// stop() closes the listener, lets every session answer the requests it has read (reading no
// more), waits up to drain_timeout, then closes what is left and waits for handlers to end.

#include <list>
#include <map>
#include <memory>
#include <string>

#include <boost/asio/ip/tcp.hpp>

#include "engine/common/metrics.h"
#include "engine/common/result.h"
#include "engine/runtime/asio.h"
#include "engine/runtime/gate.h"
#include "engine/runtime/semaphore.h"
#include "net/rpc/dispatcher.h"
#include "net/rpc/server_config.h"

namespace shoal::rpc {

class session;

class rpc_server {
 public:
  rpc_server(std::shared_ptr<const dispatcher> methods, server_config cfg);
  ~rpc_server();

  /// Binds this core's listener; port 0 binds an ephemeral port. Returns the bound port.
  result<uint16_t> listen(const asio::ip::tcp::endpoint& ep);
  void start();
  awaitable<void> stop();

  size_t connections() const { return sessions_.size(); }
  const server_config& config() const { return cfg_; }
  const dispatcher& methods() const { return *methods_; }
  rt::semaphore& memory() { return memory_; }
  bool stopping() const { return stopping_; }

  // Used by sessions.
  void record(uint16_t method, status s, double seconds);
  void count_error(const char* kind);
  std::list<session*>::iterator add_session(session* s);
  void remove_session(std::list<session*>::iterator it);

 private:
  awaitable<void> accept_loop();
  void refuse(asio::ip::tcp::socket& socket);

  struct method_metrics {
    metrics::histogram* latency = nullptr;
    std::map<status, metrics::counter*> by_status;
  };

  std::shared_ptr<const dispatcher> methods_;
  server_config cfg_;
  rt::semaphore memory_;
  std::unique_ptr<asio::ip::tcp::acceptor> acceptor_;
  std::list<session*> sessions_;
  rt::gate gate_{"rpc sessions"};
  rt::gate accept_gate_{"rpc accept"};
  bool stopping_ = false;
  std::map<uint16_t, method_metrics> method_metrics_;
  metrics::counter* accepted_ = nullptr;
  metrics::counter* rejected_ = nullptr;
  std::map<std::string, metrics::counter*> errors_;
};

}  // namespace shoal::rpc
