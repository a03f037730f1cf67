#include "replication/etcd/client.h"

#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>

#include "engine/common/logger.h"
#include "engine/runtime/blocking_pool.h"
#include "engine/runtime/errc.h"
#include "replication/etcd/codec.h"

namespace shoal::etcd {

namespace bhttp = boost::beast::http;
using clock_type = std::chrono::steady_clock;

namespace {

spdlog::logger& log() {
  static auto& l = logging::get("etcd");
  return l;
}

errc transport_errc(const error_code& ec) {
  if (ec == boost::beast::error::timeout || ec == asio::error::timed_out) return errc::timeout;
  return errc::unavailable;
}

}  // namespace

result<std::unique_ptr<client>> client::create(client_config config) {
  if (config.endpoints.empty() || config.max_connections == 0) return errc::bad_config;
  std::vector<http::http_url> endpoints;
  for (auto& e : config.endpoints) {
    auto url = http::parse_http_url(e);
    // etcd is spoken to over plain HTTP (its own TLS is not configured here).
    if (!url || url->tls || url->target != "/") return errc::bad_config;
    endpoints.push_back(std::move(*url));
  }
  return std::unique_ptr<client>(new client(std::move(config), std::move(endpoints)));
}

client::client(client_config config, std::vector<http::http_url> endpoints)
    : config_(std::move(config)),
      endpoints_(std::move(endpoints)),
      slots_(config_.max_connections, config_.max_waiters, "etcd-requests") {}

client::~client() = default;

void client::close_idle() {
  for (auto& c : idle_) c->close();
  idle_.clear();
}

std::unique_ptr<http::client_connection> client::take_connection(size_t endpoint, bool reuse) {
  const auto& want = endpoints_[endpoint];
  for (size_t i = idle_.size(); reuse && i-- > 0;) {
    if (idle_[i]->address().authority == want.authority && idle_[i]->connected()) {
      auto c = std::move(idle_[i]);
      idle_.erase(idle_.begin() + static_cast<ptrdiff_t>(i));
      return c;
    }
  }
  return std::make_unique<http::client_connection>(want);
}

void client::give_back(std::unique_ptr<http::client_connection> c) {
  if (!c->connected()) return;
  // Connections to an endpoint we no longer prefer are not kept.
  if (c->address().authority != endpoints_[preferred_].authority) return;
  if (idle_.size() >= config_.max_connections) return;
  idle_.push_back(std::move(c));
}

awaitable<result<std::string>> client::call(std::string_view path, std::string body,
                                            bool idempotent) {
  const auto deadline = clock_type::now() + config_.request_timeout;
  auto slot = co_await slots_.acquire(1, config_.request_timeout);
  if (!slot) co_return slot.error() == rt::errc::timeout ? errc::timeout : errc::unavailable;
  const std::string target = "/v3/" + std::string(path);
  error_code last = make_error_code(errc::unavailable);
  // Each endpoint once, starting with the preferred one; a stale keep-alive connection earns
  // one extra attempt on the same endpoint.
  size_t attempts = endpoints_.size();
  for (size_t attempt = 0, endpoint = preferred_; attempt < attempts; ++attempt) {
    const auto now = clock_type::now();
    if (now >= deadline) co_return errc::timeout;
    // A request that must not be sent twice gets a fresh connection: on a kept-alive one, a
    // failure could be the server having closed it idle, and that could not be told apart from
    // a failure after etcd applied the request.
    auto conn = take_connection(endpoint, idempotent);
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    auto r = co_await conn->request(bhttp::verb::post, target, body, "application/json", left,
                                    config_.max_response_bytes);
    if (r) {
      if (endpoint != preferred_) {
        log().info("etcd: now using {}", endpoints_[endpoint].authority);
        preferred_ = endpoint;
      }
      if (r->status == 200) {
        give_back(std::move(conn));
        co_return std::move(r->body);
      }
      auto err = codec::parse_error(r->status, r->body);
      give_back(std::move(conn));
      // A member that lost its leader or is stopping: another member may serve reads and
      // idempotent writes.
      if (err.code == errc::unavailable && idempotent && attempt + 1 < attempts) {
        log().warn("etcd {}: {}", endpoints_[endpoint].authority, err.message);
        last = make_error_code(err.code);
        endpoint = (endpoint + 1) % endpoints_.size();
        continue;
      }
      if (err.code == errc::rejected || err.code == errc::unavailable)
        log().warn("etcd {} refused {}: {}", endpoints_[endpoint].authority, path, err.message);
      co_return err.code;
    }
    last = make_error_code(transport_errc(r.error()));
    if (conn->last_was_sent() && !idempotent) co_return errc::unavailable;  // maybe applied
    if (conn->last_was_reused() && attempts < endpoints_.size() + 1) {
      ++attempts;  // the server may have closed idle connections: once more, freshly
      close_idle();
      continue;
    }
    if (transport_errc(r.error()) == errc::timeout && clock_type::now() >= deadline)
      co_return errc::timeout;
    log().warn("etcd {}: {}", endpoints_[endpoint].authority, r.error().message());
    endpoint = (endpoint + 1) % endpoints_.size();
  }
  co_return last;
}

awaitable<result<range_result>> client::range(std::string key, std::string range_end,
                                              int64_t revision, int64_t limit) {
  auto body =
      co_await call("kv/range", codec::range_request(key, range_end, revision, limit), true);
  if (!body) co_return body.error();
  co_return codec::parse_range(*body);
}

awaitable<result<range_result>> client::get(std::string key) {
  co_return co_await range(std::move(key), {}, 0, 0);
}

awaitable<result<range_result>> client::get_prefix(std::string prefix, int64_t revision) {
  auto end = prefix_end(prefix);
  co_return co_await range(std::move(prefix), std::move(end), revision, 0);
}

awaitable<result<int64_t>> client::put(std::string key, std::string value, int64_t lease) {
  auto body = co_await call("kv/put", codec::put_request(key, value, lease), true);
  if (!body) co_return body.error();
  co_return codec::parse_revision(*body);
}

awaitable<result<int64_t>> client::erase(std::string key) {
  auto body = co_await call("kv/deleterange", codec::delete_request(key, {}), true);
  if (!body) co_return body.error();
  co_return codec::parse_revision(*body);
}

awaitable<result<int64_t>> client::erase_prefix(std::string prefix) {
  auto body =
      co_await call("kv/deleterange", codec::delete_request(prefix, prefix_end(prefix)), true);
  if (!body) co_return body.error();
  co_return codec::parse_revision(*body);
}

awaitable<result<txn_result>> client::txn(std::vector<compare> compares,
                                          std::vector<txn_op> success,
                                          std::vector<txn_op> failure) {
  auto body = co_await call("kv/txn", codec::txn_request(compares, success, failure), false);
  if (!body) co_return body.error();
  co_return codec::parse_txn(*body);
}

awaitable<result<lease_grant>> client::grant_lease(std::chrono::seconds ttl) {
  auto body = co_await call("lease/grant", codec::lease_grant_request(ttl), false);
  if (!body) co_return body.error();
  co_return codec::parse_lease_grant(*body);
}

awaitable<result<std::chrono::seconds>> client::keep_alive(int64_t lease) {
  auto body = co_await call("lease/keepalive", codec::lease_id_request(lease), true);
  if (!body) co_return body.error();
  co_return codec::parse_keepalive(*body);
}

awaitable<result<void>> client::revoke_lease(int64_t lease) {
  auto body = co_await call("lease/revoke", codec::lease_id_request(lease), true);
  if (!body) co_return body.error();
  co_return result<void>{};
}

}  // namespace shoal::etcd
