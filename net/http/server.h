#pragma once
// The HTTP server of one core (used as sharded<http_server>). Every core binds its own listening
// socket to the same address with SO_REUSEPORT, so the kernel spreads connections over the cores
// and a connection never moves between cores (PRACTICES P14). Sessions run as coroutines on
// their core; a gate counts them so stop() can drain them.
//
// Lifecycle (each step on the server's own core): listen() -> start() -> ... -> stop().
// stop() closes the listener (no new connections), asks every session to finish the requests it
// has read (their responses carry `Connection: close`), waits up to drain_timeout, then closes
// what is left.

#include <list>
#include <map>
#include <memory>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

#include "engine/common/metrics.h"
#include "engine/common/result.h"
#include "engine/runtime/asio.h"
#include "engine/runtime/gate.h"
#include "net/http/http_config.h"
#include "net/http/router.h"

namespace shoal::http {

class session;

class http_server {
 public:
  http_server(std::shared_ptr<const router> routes, http_config cfg);
  ~http_server();

  /// Binds this core's listener; port 0 binds an ephemeral port. Returns the bound port.
  result<uint16_t> listen(const asio::ip::tcp::endpoint& ep);
  /// Starts accepting on this core.
  void start();
  awaitable<void> stop();

  size_t connections() const { return sessions_.size(); }
  const http_config& config() const { return cfg_; }
  const router& routes() const { return *routes_; }
  bool stopping() const { return stopping_; }

  // Used by sessions.
  void record(const route* r, unsigned status_code, double seconds);
  void count_error(const char* kind);
  std::list<session*>::iterator add_session(session* s);
  void remove_session(std::list<session*>::iterator it);
  result<rt::gate::holder> enter() { return gate_.enter(); }

 private:
  awaitable<void> accept_loop();

  struct route_metrics {
    metrics::histogram* latency = nullptr;
    std::map<unsigned, metrics::counter*> by_status;
  };
  route_metrics& metrics_for(const route* r);

  std::shared_ptr<const router> routes_;
  http_config cfg_;
  std::unique_ptr<asio::ip::tcp::acceptor> acceptor_;
  std::list<session*> sessions_;
  rt::gate gate_{"http sessions"};
  rt::gate accept_gate_{"http accept"};
  bool stopping_ = false;
  std::vector<route_metrics> route_metrics_;  // by route index, plus one for unmatched paths
  metrics::counter* accepted_ = nullptr;
  metrics::counter* rejected_ = nullptr;
  std::map<std::string, metrics::counter*> errors_;
};

}  // namespace shoal::http
