#pragma once
// An etcd v3 client over its JSON gateway (HTTP/1.1 + Beast; no gRPC dependency): key-value
// reads and writes, transactions, leases. Lives on the core that created it and is used only
// there (the cluster agent's core).
//
// Requests share a bounded pool of keep-alive connections to the endpoint that answered last.
// When an endpoint cannot be reached the request moves on to the next one, within the request's
// deadline. A request that may already have been applied is not re-sent after a connection fails
// mid-way unless it is idempotent (reads, puts, deletes, keepalives, revokes); a transaction or a
// lease grant then fails with errc::unavailable and the caller decides (re-read and retry).

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "engine/common/result.h"
#include "engine/runtime/asio.h"
#include "engine/runtime/semaphore.h"
#include "net/http/client.h"
#include "replication/etcd/errc.h"
#include "replication/etcd/types.h"

namespace shoal::etcd {

struct client_config {
  std::vector<std::string> endpoints;  // "http://host:port", tried in order, then the last good
  std::chrono::milliseconds request_timeout{2000};
  size_t max_connections = 4;  // concurrent requests; more wait (bounded by max_waiters)
  size_t max_waiters = 256;
  size_t max_response_bytes = size_t{64} << 20;
};

class client {
 public:
  /// Fails with errc::bad_config when there is no endpoint or one is not http://host:port.
  static result<std::unique_ptr<client>> create(client_config config);
  ~client();

  awaitable<result<range_result>> get(std::string key);
  awaitable<result<range_result>> get_prefix(std::string prefix, int64_t revision = 0);
  /// Keys in [key, range_end) at `revision` (0: the latest), at most `limit` (0: all).
  awaitable<result<range_result>> range(std::string key, std::string range_end, int64_t revision,
                                        int64_t limit);
  /// Returns the revision of the write.
  awaitable<result<int64_t>> put(std::string key, std::string value, int64_t lease = 0);
  awaitable<result<int64_t>> erase(std::string key);
  awaitable<result<int64_t>> erase_prefix(std::string prefix);
  awaitable<result<txn_result>> txn(std::vector<compare> compares, std::vector<txn_op> success,
                                    std::vector<txn_op> failure = {});

  awaitable<result<lease_grant>> grant_lease(std::chrono::seconds ttl);
  /// Refreshes a lease; returns its TTL. errc::lease_not_found once it has expired.
  awaitable<result<std::chrono::seconds>> keep_alive(int64_t lease);
  awaitable<result<void>> revoke_lease(int64_t lease);

  const client_config& config() const { return config_; }
  /// The endpoint requests go to first (the one that answered last).
  const http::http_url& current_endpoint() const { return endpoints_[preferred_]; }

  /// One POST to the gateway: the body of the 200 answer, or the error mapped onto errc.
  /// Public for the watcher and for tests; `idempotent` as described above.
  awaitable<result<std::string>> call(std::string_view path, std::string body, bool idempotent);

  /// Closes the idle connections (requests in flight finish).
  void close_idle();

 private:
  client(client_config config, std::vector<http::http_url> endpoints);
  std::unique_ptr<http::client_connection> take_connection(size_t endpoint, bool reuse);
  void give_back(std::unique_ptr<http::client_connection> c);

  client_config config_;
  std::vector<http::http_url> endpoints_;
  size_t preferred_ = 0;
  rt::semaphore slots_;
  std::vector<std::unique_ptr<http::client_connection>> idle_;
};

}  // namespace shoal::etcd
