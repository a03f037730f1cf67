#pragma once
// An etcd v3 client over its JSON gateway (HTTP/1.1 + Beast; no gRPC dependency): key-value
// reads and writes, transactions, leases. Lives on the core that created it and is used only
// there (the cluster agent's core).
//
// Requests share a bounded pool of keep-alive connections to the preferred endpoint. A request
// tries the endpoints in turn, starting with the preferred one, all within its one deadline:
//   * An idempotent request (reads, puts, deletes, keepalives, revokes) gives each endpoint
//     still to try a share of the time left (the first two thirds, so a member that is only
//     slow still answers; the others an equal share of the rest; at least 200 ms), so one that
//     accepts connections but never answers (frozen, cut off from the quorum, overloaded) costs it
//     only that share; it then moves on, also after an answer that says the member cannot serve (no
//     leader, stopping, etcd's own timeout).
//   * A transaction or a lease grant must never be sent twice: it gets all the time left, and
//     once sent, a failure ends it with errc::unavailable (maybe applied; the caller re-reads
//     and decides). It moves on only when it certainly was not sent.
//   * An endpoint that failed or timed out stops being the preferred one (the next in the list
//     becomes it), so the NEXT request, of either kind, starts on another member. The preferred
//     endpoint changes only then, or to one that answered.
// Reads are linearizable (etcd's default for range): a member cut off from the quorum errors or
// hangs instead of answering stale data, and the request moves on.

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
  std::vector<std::string> endpoints;  // "http://host:port"; the first is preferred at the start
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
  /// The endpoint requests go to first: the last one that answered, or the one after the last
  /// that failed.
  const http::http_url& current_endpoint() const { return endpoints_[preferred_]; }
  /// Its index in config().endpoints (the watcher follows it).
  size_t current_index() const { return preferred_; }

  /// One POST to the gateway: the body of the 200 answer, or the error mapped onto errc.
  /// Public for the watcher and for tests; `idempotent` as described above.
  awaitable<result<std::string>> call(std::string_view path, std::string body, bool idempotent);

  /// Closes the idle connections (requests in flight finish).
  void close_idle();

 private:
  client(client_config config, std::vector<http::http_url> endpoints);
  std::unique_ptr<http::client_connection> take_connection(size_t endpoint, bool reuse);
  void give_back(std::unique_ptr<http::client_connection> c);
  /// Makes `endpoint` the preferred one (it answered).
  void use(size_t endpoint);
  /// After `endpoint` failed: drops its idle connections and, if it was the preferred one,
  /// prefers the next.
  void avoid(size_t endpoint);

  client_config config_;
  std::vector<http::http_url> endpoints_;
  size_t preferred_ = 0;
  rt::semaphore slots_;
  std::vector<std::unique_ptr<http::client_connection>> idle_;
};

}  // namespace shoal::etcd
