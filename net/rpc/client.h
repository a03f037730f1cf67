#pragma once
// The RPC client library (target shoal_rpc_client): one TCP connection to a Shoal RPC server
// with many requests in flight on it.
//
//   asio::io_context ioc;                      // or a reactor's executor
//   rpc::client c(ioc.get_executor(), {.host = "127.0.0.1", .port = 6335});
//   auto r = co_await c.search({.collection = "docs", .k = 10, .dim = 768, .queries = q});
//   if (!r) log(r.error().describe());          // status + message (status.h)
//
// Contract:
//  * Lives on one executor (an io_context run by one thread, or a Shoal reactor); every call
//    and the destructor run there. Not thread-safe.
//  * In-flight window: at most max_in_flight calls have been sent and not answered; further
//    calls wait for a slot (within their timeout).
//  * Every call has a deadline (request_timeout unless given): past it the call returns
//    status::timeout; a late answer is dropped. The deadline also travels in the frame so the
//    server stops waiting at the same time.
//  * Connection: made by the first call; when it breaks, the calls in flight on it return
//    status::disconnected (a write may have been applied: upserts and deletes by id are safe to
//    retry) and the next call reconnects. Failed connection attempts are spaced by an
//    exponential backoff (backoff_initial, doubling up to backoff_max, reset by a success);
//    calls wait through it until their deadline (then status::connect_failed).
//  * Requests of at least compress_threshold bytes are sent LZ4-compressed when that saves an
//    eighth; a method whose payloads do not compress (float vectors) is not tried again for its
//    next 63 requests.
//  * Host names are resolved with asio's resolver (its own thread); give an IP address when the
//    client runs on a reactor.
//
// sync_client wraps a client and a private io_context for tools and tests: each call runs the
// io_context on the calling thread until it completes.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "engine/runtime/asio.h"
#include "net/rpc/buffer.h"
#include "net/rpc/messages.h"
#include "net/rpc/status.h"
#include "net/tls/context.h"

namespace shoal::rpc {

/// How a client's connections are secured (net/tls, net/auth); node-to-node clients use the
/// node's own settings (tls-ca, api-key).
struct client_security {
  /// TLS: the server's certificate is checked against this context's trust store and must
  /// name the host dialled. Null: plain TCP.
  std::shared_ptr<boost::asio::ssl::context> tls;
  /// Sent first on every connection when not empty (servers with API keys require it).
  std::string api_key;
};

struct client_options {
  std::string host = "127.0.0.1";
  uint16_t port = 6335;
  size_t max_in_flight = 64;
  std::chrono::milliseconds request_timeout{30'000};
  std::chrono::milliseconds connect_timeout{5'000};  // one connection attempt
  std::chrono::milliseconds backoff_initial{50};
  std::chrono::milliseconds backoff_max{2'000};
  std::chrono::milliseconds write_timeout{30'000};  // one write of queued requests
  size_t max_frame_size = 256u << 20;               // larger responses break the connection
  size_t compress_threshold = 64u << 10;            // 0: never compress requests
  /// Calls refused with not_leader are sent again to the leader the error names, and the client
  /// stays connected there (calls in flight on the old connection end with
  /// status::disconnected): writes (upsert, delete) sent to a follower, and any call about a
  /// collection the host does not hold (placed on other hosts).
  bool follow_leader = true;
  client_security security;
};

class client {
 public:
  client(asio::any_io_executor ex, client_options o);
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  /// Sends `payload` as a request of `method`; the answer's payload, or its error.
  awaitable<outcome<buffer>> call(uint16_t method, bytes payload,
                                  std::optional<std::chrono::milliseconds> timeout = {});

  awaitable<outcome<ping_response>> ping();
  /// True if created; false if it existed and `if_missing` was set.
  awaitable<outcome<bool>> create_collection(create_collection_request r);
  /// True if it existed.
  awaitable<outcome<bool>> drop_collection(std::string name);
  awaitable<outcome<collection_info>> get_collection(std::string name);
  awaitable<outcome<write_result>> upsert(upsert_request r);
  awaitable<outcome<write_result>> delete_points(delete_request r);
  awaitable<outcome<search_results>> search(search_request r);

  /// The server this client talks to now ("HOST:PORT"; changes when it follows a leader).
  std::string target() const;

  /// Closes the connection; calls in flight return status::disconnected, later calls
  /// status::unavailable.
  void close();

  const client_options& options() const;
  /// Connections made so far (1 + reconnects).
  uint64_t connects() const;
  /// Calls sent and not yet answered.
  size_t in_flight() const;

 private:
  /// Sent again to the leader when refused with not_leader (follow_leader).
  awaitable<outcome<buffer>> call_following(uint16_t method, std::function<bytes()> make);
  bool retarget(std::string_view not_leader_message);

  struct state;
  std::shared_ptr<state> st_;
};

class sync_client {
 public:
  explicit sync_client(client_options o);
  ~sync_client();

  outcome<ping_response> ping() { return run(c_->ping()); }
  outcome<bool> create_collection(create_collection_request r) {
    return run(c_->create_collection(r));
  }
  outcome<bool> drop_collection(std::string name) { return run(c_->drop_collection(name)); }
  outcome<collection_info> get_collection(std::string name) {
    return run(c_->get_collection(name));
  }
  outcome<write_result> upsert(upsert_request r) { return run(c_->upsert(r)); }
  outcome<write_result> delete_points(delete_request r) { return run(c_->delete_points(r)); }
  outcome<search_results> search(search_request r) { return run(c_->search(r)); }
  outcome<buffer> call(uint16_t method, bytes payload,
                       std::optional<std::chrono::milliseconds> timeout = {}) {
    return run(c_->call(method, std::move(payload), timeout));
  }

  client& async() { return *c_; }
  asio::io_context& context() { return ioc_; }

  /// Runs `a` to completion on the calling thread.
  template <typename T>
  outcome<T> run(awaitable<outcome<T>> a) {
    std::optional<outcome<T>> out;
    asio::co_spawn(ioc_, std::move(a), [&out](std::exception_ptr e, outcome<T> r) {
      if (e) {
        out.emplace(error{status::internal, "the call threw"});
      } else {
        out.emplace(std::move(r));
      }
    });
    while (!out) {
      if (ioc_.stopped()) ioc_.restart();
      ioc_.run_one();
    }
    return std::move(*out);
  }

 private:
  asio::io_context ioc_{1};
  std::unique_ptr<client> c_;
};

}  // namespace shoal::rpc
