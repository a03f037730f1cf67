#include "replication/failover_route.h"

#include <charconv>

#include <fmt/format.h>
#include <simdjson.h>

#include "engine/common/json_writer.h"
#include "engine/runtime/smp.h"
#include "replication/cluster_agent.h"

namespace shoal::repl {
namespace {

using http::status;

using parsed = boost::system::result<failover_request, std::string>;

/// An error (spelled out: a C++20 aggregate is constructible from its first member's type).
parsed bad(std::string message) {
  return parsed(boost::system::in_place_error, std::move(message));
}

parsed parse(const http::request_context& req) {
  failover_request out;
  if (auto t = req.query("timeout")) {
    uint64_t seconds = 0;
    auto [end, ec] = std::from_chars(t->data(), t->data() + t->size(), seconds);
    if (ec != std::errc() || end != t->data() + t->size() || seconds == 0 ||
        std::chrono::seconds(seconds) > kMaxHandoffWait) {
      return bad(
          fmt::format("`timeout` must be a whole number of seconds from 1 to {}",
                      std::chrono::duration_cast<std::chrono::seconds>(kMaxHandoffWait).count()));
    }
    out.timeout = std::chrono::seconds(seconds);
  }
  simdjson::dom::parser parser;
  simdjson::padded_string body(req.body());
  simdjson::dom::object doc;
  if (parser.parse(body).get(doc) != simdjson::SUCCESS) {
    return bad(R"(the body must be a JSON object: {"collection": NAME, "to": NODE})");
  }
  for (auto [key, value] : doc) {
    std::string_view text;
    if (key != "collection" && key != "to") {
      return bad(
          fmt::format("unknown field `{}` (expected `collection` and optionally `to`)", key));
    }
    if (value.get(text) != simdjson::SUCCESS) return bad(fmt::format("`{}` must be a string", key));
    (key == "collection" ? out.collection : out.to) = text;
  }
  if (out.collection.empty()) return bad("`collection` is required");
  return out;
}

status status_of(failover_refusal::kind k) {
  switch (k) {
    case failover_refusal::kind::bad_request:
      return status::bad_request;
    case failover_refusal::kind::not_found:
      return status::not_found;
    case failover_refusal::kind::conflict:
      return status::conflict;
    case failover_refusal::kind::timeout:
      return status::gateway_timeout;
    case failover_refusal::kind::unavailable:
      break;
  }
  return status::service_unavailable;
}

}  // namespace

http::handler failover_route(std::shared_ptr<cluster_agent> agent) {
  return [agent](http::request_context& req) -> awaitable<http::response> {
    auto request = parse(req);
    if (!request) {
      co_return http::error_json(status::bad_request, "Bad request: " + request.error(),
                                 req.elapsed_seconds());
    }
    const std::string collection = request->collection;
    auto done = co_await rt::submit_to(
        core_id(0), [agent, r = std::move(*request)]() -> awaitable<failover_result> {
          return agent->fail_over(r);
        });
    if (!done) {
      co_return http::error_json(status_of(done.error().why), done.error().message,
                                 req.elapsed_seconds());
    }
    std::string result;
    json_writer w(result);
    w.begin_object()
        .field("collection", collection)
        .field("from", done->from)
        .field("to", done->to)
        .field("term", done->term)
        .field("seconds", done->seconds)
        .end_object();
    co_return http::ok_json(result, req.elapsed_seconds());
  };
}

}  // namespace shoal::repl
