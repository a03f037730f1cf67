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

// The least time an attempt on one endpoint is given (unless less is left): enough for a
// healthy member to answer through an fsync.
constexpr std::chrono::milliseconds kMinAttempt{200};

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

void client::use(size_t endpoint) {
  if (endpoint == preferred_) return;
  log().info("etcd: now using {}", endpoints_[endpoint].authority);
  preferred_ = endpoint;
}

void client::avoid(size_t endpoint) {
  // Idle connections to it would only be tried again (and would fill the pool).
  std::erase_if(idle_, [&](const auto& c) {
    return c->address().authority == endpoints_[endpoint].authority;
  });
  if (endpoint == preferred_ && endpoints_.size() > 1) use((endpoint + 1) % endpoints_.size());
}

awaitable<result<std::string>> client::call(std::string_view path, std::string body,
                                            bool idempotent) {
  const auto deadline = clock_type::now() + config_.request_timeout;
  auto slot = co_await slots_.acquire(1, config_.request_timeout);
  if (!slot) co_return slot.error() == rt::errc::timeout ? errc::timeout : errc::unavailable;
  const std::string target = "/v3/" + std::string(path);
  const size_t n = endpoints_.size();
  error_code last = make_error_code(errc::unavailable);
  bool retried_stale = false;
  // Each endpoint once, starting with the preferred one; a stale keep-alive connection earns
  // one extra attempt on the same endpoint.
  for (size_t tried = 0, endpoint = preferred_; tried < n;) {
    const auto now = clock_type::now();
    if (now >= deadline) co_return errc::timeout;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    // An idempotent request gives each endpoint still to try a share of what is left, so one
    // silent member cannot take the whole deadline: the first two thirds (a member that is
    // merely slow, as every member is when etcd's disk or network is, still answers within
    // them), the others an equal share of the rest. One that must not be sent twice gets all
    // of it: once sent, it cannot move on anyway.
    auto budget = left;
    if (idempotent) {
      auto share = tried == 0 && n > 1 ? left * 2 / 3 : left / static_cast<int64_t>(n - tried);
      budget = std::min(left, std::max(share, kMinAttempt));
    }
    // A request that must not be sent twice gets a fresh connection: on a kept-alive one, a
    // failure could be the server having closed it idle, and that could not be told apart from
    // a failure after etcd applied the request.
    auto conn = take_connection(endpoint, idempotent);
    auto r = co_await conn->request(bhttp::verb::post, target, body, "application/json", budget,
                                    config_.max_response_bytes);
    if (r && r->status == 200) {
      use(endpoint);
      give_back(std::move(conn));
      co_return std::move(r->body);
    }
    if (r) {
      auto err = codec::parse_error(r->status, r->body);
      // Any other refusal is etcd's answer, whichever member gave it.
      if (err.code != errc::unavailable && err.code != errc::timeout) {
        use(endpoint);
        give_back(std::move(conn));
        if (err.code == errc::rejected)
          log().warn("etcd {} refused {}: {}", endpoints_[endpoint].authority, path, err.message);
        co_return err.code;
      }
      // A member without a leader (cut off from the quorum), stopping, or whose own proposal
      // timed out: not applied for certain only in the first case, so a non-idempotent request
      // ends here; either way the next request starts on another member.
      log().warn("etcd {} on {}: {}", endpoints_[endpoint].authority, path, err.message);
      last = make_error_code(err.code);
      avoid(endpoint);
      if (!idempotent) co_return err.code;
    } else {
      const errc code = transport_errc(r.error());
      // The server may have closed an idle kept-alive connection: once more, freshly.
      if (conn->last_was_reused() && code != errc::timeout && !retried_stale) {
        retried_stale = true;
        close_idle();
        continue;
      }
      log().warn("etcd {} on {}: {}", endpoints_[endpoint].authority, path, r.error().message());
      last = make_error_code(code);
      avoid(endpoint);
      if (conn->last_was_sent() && !idempotent) co_return errc::unavailable;  // maybe applied
    }
    ++tried;
    endpoint = (endpoint + 1) % n;
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
