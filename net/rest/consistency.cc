#include "net/rest/consistency.h"

#include <charconv>

#include <fmt/format.h>

#include "engine/shard/errc.h"
#include "engine/shard/leader_hint.h"
#include "net/rest/rest_io.h"

namespace shoal::rest {
namespace {

constexpr std::chrono::milliseconds kDefaultWait{10'000};
constexpr std::chrono::milliseconds kMaxWait{600'000};

std::chrono::milliseconds wait_of(const http::request_context& req) {
  auto t = req.query("timeout");
  if (!t) return kDefaultWait;
  unsigned seconds = 0;
  auto [p, ec] = std::from_chars(t->data(), t->data() + t->size(), seconds);
  if (ec != std::errc() || p != t->data() + t->size() || seconds == 0) return kDefaultWait;
  return std::min<std::chrono::milliseconds>(std::chrono::seconds(seconds), kMaxWait);
}

/// The answer that replaces the read, if any.
awaitable<std::optional<http::response>> check(shard::coordinator* coord,
                                               http::request_context& req) {
  auto name = std::string(req.path_param("name").value_or(""));
  if (auto read = req.query("read")) {
    if (*read != "leader" && *read != "any") {
      co_return http::error_json(
          http::status::bad_request,
          fmt::format("Bad request: read: expected `leader` or `any`, got `{}`", *read),
          req.elapsed_seconds());
    }
    if (*read == "leader") {
      if (auto leader = shard::leader_of(name); leader && !leader->http_url.empty()) {
        auto& url = leader->http_url;
        http::response r = http::error_json(
            http::status::temporary_redirect,
            fmt::format("Redirect: read=leader: the leader of `{}` is at {}", name, url),
            req.elapsed_seconds());
        r.headers.emplace_back("Location", url + std::string(req.req.target()));
        co_return r;
      }
      // This host believes it leads: it answers only while it can prove it (its lease holds and
      // no successor can exist yet), as it acknowledges writes; a deposed or cut-off leader
      // would serve stale data.
      if (auto leads = co_await coord->leads_now(name); leads && !*leads) {
        co_return http::error_json(
            http::status::service_unavailable,
            fmt::format("Service unavailable: read=leader: this host cannot prove it leads "
                        "collection `{}` now (its lease is in doubt, the leadership is moving, or "
                        "an election is under way); retry shortly",
                        name),
            req.elapsed_seconds());
      }
    }
  }
  auto header = req.req["shoal-read-after"];
  if (header.empty()) co_return std::nullopt;
  auto token = shard::parse_token(header);
  if (!token) {
    co_return http::error_json(
        http::status::bad_request,
        "Bad request: shoal-read-after: expected a token from a write's shoal-token header "
        "(SHARD:TERM:LSN,...)",
        req.elapsed_seconds());
  }
  auto wait = wait_of(req);
  auto done = co_await coord->wait_applied(name, std::move(*token), wait);
  if (done) co_return std::nullopt;
  auto ec = done.error();
  double t = req.elapsed_seconds();
  if (ec == shard::errc::read_after_timeout) {
    co_return http::error_json(
        http::status::gateway_timeout,
        fmt::format("Timeout: this host had not applied the write named by shoal-read-after "
                    "within {} s; retry, or read from the leader (read=leader)",
                    wait.count() / 1000.0),
        t);
  }
  if (ec == shard::errc::write_lost) {
    co_return http::error_json(http::status::conflict, "Conflict: " + ec.message(), t);
  }
  if (ec == shard::errc::bad_token) {
    co_return http::error_json(http::status::bad_request, "Bad request: " + ec.message(), t);
  }
  co_return error_response(ec, name, t);
}

}  // namespace

http::handler with_read_consistency(shard::coordinator* coord, http::handler h) {
  return [coord, h = std::move(h)](http::request_context& req) -> awaitable<http::response> {
    if (auto replaced = co_await check(coord, req)) co_return std::move(*replaced);
    co_return co_await h(req);
  };
}

void set_token_header(http::response& r, const std::vector<shard::token_entry>& token) {
  if (!token.empty()) r.headers.emplace_back("shoal-token", shard::encode_token(token));
}

}  // namespace shoal::rest
