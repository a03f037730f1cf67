#include "net/rest/rest_io.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "engine/data/json_check.h"
#include "engine/log/errc.h"
#include "engine/runtime/errc.h"
#include "engine/shard/errc.h"
#include "engine/shard/leader_hint.h"
#include "net/rest/consistency.h"

namespace shoal::rest {

using data::input_error;
using http::status;

namespace {

/// One parser per core (reactor threads are the cores), reused by every request on it (P13),
/// and the nesting it accepts (rest.max-json-depth, set by the route wrapper).
struct core_json {
  simdjson::dom::parser parser;
  size_t max_depth = data::input_limits{}.max_json_depth;
};

core_json& core() {
  thread_local core_json c;
  return c;
}

simdjson::dom::parser& core_parser() {
  auto& c = core();
  // simdjson refuses deeper documents while parsing (DEPTH_ERROR); its depth is set when it
  // allocates, so on first use, after release_parser_memory and when the limit changes.
  if (c.parser.max_depth() != c.max_depth) {
    auto capacity = std::max<size_t>(c.parser.capacity(), simdjson::dom::MINIMAL_DOCUMENT_CAPACITY);
    (void)c.parser.allocate(capacity, c.max_depth);  // on failure the next parse says MEMALLOC
  }
  return c.parser;
}

}  // namespace

static_assert(http::kBodyPadding >= simdjson::SIMDJSON_PADDING,
              "the session must keep simdjson's padding after request bodies");

data::decoded<simdjson::dom::element> parse_body(const http::request_context& ctx) {
  const auto& body = ctx.body();
  return parse_json(body, body.capacity() - body.size());
}

data::decoded<simdjson::dom::element> parse_json(std::string_view text, size_t spare) {
  size_t start = text.find_first_not_of(" \t\r\n");
  auto& parser = core_parser();
  simdjson::dom::element root;
  simdjson::error_code err;
  if (start == std::string_view::npos) {
    static const simdjson::padded_string empty_object("{}", 2);
    err = parser.parse(empty_object).get(root);
  } else {
    // The body's spare capacity holds the padding: parsed where it lies, without a copy. A body
    // that somehow lacks it (not read by the session) is copied by simdjson instead.
    bool padded = spare >= simdjson::SIMDJSON_PADDING;
    err = parser.parse(text.data(), text.size(), /*realloc_if_needed=*/!padded).get(root);
  }
  if (err == simdjson::DEPTH_ERROR)
    return input_error::format(data::depth_error_message(parser.max_depth()));
  if (err) return input_error::format(simdjson::error_message(err));
  if (auto dup = data::find_duplicate_key(root, "")) return input_error::format(*dup);
  return root;
}

void set_json_depth_limit(size_t max_depth) {
  core().max_depth = max_depth;
}

void release_parser_memory(size_t keep_bytes) {
  auto& parser = core_parser();
  if (parser.capacity() > keep_bytes) parser = simdjson::dom::parser{};
}

size_t parser_capacity() {
  return core_parser().capacity();
}

http::response input_error_response(const input_error& e, double seconds, error_source source) {
  std::string_view where = source == error_source::body    ? "JSON body"
                           : source == error_source::query ? "query parameters"
                                                           : "path parameters";
  switch (e.k) {
    case input_error::kind::format:
      if (source == error_source::body) {
        return http::error_json(status::bad_request, "Format error in JSON body: " + e.message,
                                seconds);
      }
      return http::error_json(status::bad_request,
                              fmt::format("Deserialize error in {}: {}", where, e.message),
                              seconds);
    case input_error::kind::validation:
      return http::error_json(status::unprocessable_entity,
                              fmt::format("Validation error in {}: [{}]", where, e.message),
                              seconds);
    case input_error::kind::wrong_input:
      return http::error_json(status::bad_request, "Wrong input: " + e.message, seconds);
    case input_error::kind::not_found:
      return http::error_json(status::not_found, "Not found: " + e.message, seconds);
  }
  return http::error_json(status::bad_request, e.message, seconds);
}

http::response input_error_response(const request_error& e, double seconds) {
  return input_error_response(e.error, seconds, e.source);
}

http::response error_response(const error_code& ec, std::string_view collection, double seconds) {
  using shard::errc;
  if (ec.category() == category_of<shard::errc>()) {
    switch (static_cast<errc>(ec.value())) {
      case errc::collection_not_found:
        return http::error_json(
            status::not_found, fmt::format("Not found: Collection `{}` doesn't exist!", collection),
            seconds);
      case errc::collection_exists:
        return http::error_json(
            status::conflict,
            fmt::format("Wrong input: Collection `{}` already exists!", collection), seconds);
      case errc::unknown_vector:
        return http::error_json(status::bad_request, "Wrong input: " + ec.message(), seconds);
      case errc::memory_limit:
      case errc::recovering:
        return http::error_json(status::service_unavailable, "Service unavailable: " + ec.message(),
                                seconds);
      case errc::replication_unavailable:
        return http::error_json(status::bad_request, "Bad request: " + ec.message(), seconds);
      case errc::not_leader: {
        auto leader = shard::leader_of(collection);
        return http::error_json(
            status::misdirected_request,
            fmt::format("Misdirected: this node follows collection `{}` and takes no writes for "
                        "it; send them to its leader{}",
                        collection, leader ? ": " + leader->description : std::string()),
            seconds);
      }
      case errc::replication_timeout:
        return http::error_json(status::service_unavailable, "Service unavailable: " + ec.message(),
                                seconds);
      case errc::replicas_missing: {
        auto replicas = shard::replicas_of(collection);
        return http::error_json(
            status::service_unavailable,
            fmt::format("Service unavailable: {} (collection `{}`{}{})", ec.message(), collection,
                        replicas.empty() ? "" : ": ", replicas),
            seconds);
      }
      case errc::collection_failed:
        return http::error_json(
            status::internal_server_error,
            fmt::format("Service internal error: collection `{}` failed to load; see the server "
                        "log for the reason",
                        collection),
            seconds);
      default:
        break;
    }
  }
  if (ec.category() == boost::system::system_category() && ec.value() == ENOSPC) {
    return http::error_json(status::insufficient_storage,
                            "Service internal error: no space left on device; the write was not "
                            "applied",
                            seconds);
  }
  if (ec.category() == category_of<wal::errc>() &&
      static_cast<wal::errc>(ec.value()) == wal::errc::log_full) {
    return http::error_json(status::service_unavailable,
                            "Service unavailable: too many writes in flight; retry", seconds);
  }
  if (ec == rt::errc::timeout) {
    return http::error_json(status::request_timeout, "Timeout: " + ec.message(), seconds);
  }
  return http::error_json(status::internal_server_error, "Service internal error: " + ec.message(),
                          seconds);
}

namespace {

request_error query_error(input_error e) {
  return {std::move(e), error_source::query};
}

}  // namespace

std::optional<request_error> check_timeout(const http::request_context& ctx) {
  if (auto t = ctx.query("timeout")) {
    int64_t v = 0;
    auto [p, ec] = std::from_chars(t->data(), t->data() + t->size(), v);
    if (ec != std::errc{} || p != t->data() + t->size() || v < 0) {
      return query_error(
          input_error::format(fmt::format("timeout: invalid digit found in string `{}`", *t)));
    }
    if (v == 0) {
      return query_error(input_error::validation("timeout: value 0 invalid, must be 1 or larger"));
    }
  }
  if (auto c = ctx.query("consistency")) {
    // An integer (replicas to ask) or a named level; a single node answers from its own copy.
    uint64_t n = 0;
    auto [p, ec] = std::from_chars(c->data(), c->data() + c->size(), n);
    bool number = ec == std::errc{} && p == c->data() + c->size();
    if (!number && *c != "majority" && *c != "quorum" && *c != "all") {
      return query_error(input_error::format(fmt::format(
          "consistency: expected a number or one of `majority`, `quorum`, `all`, got `{}`", *c)));
    }
    if (number && n == 0) {
      return query_error(
          input_error::validation("consistency: value 0 invalid, must be 1 or larger"));
    }
  }
  return std::nullopt;
}

checked<write_params> read_write_params(const http::request_context& ctx) {
  write_params p;
  if (auto w = ctx.query("wait")) {
    if (*w == "true" || w->empty()) {
      p.wait = true;
    } else if (*w == "false") {
      p.wait = false;
    } else {
      return query_error(input_error::format("wait: provided string was not `true` or `false`"));
    }
  }
  if (auto e = check_timeout(ctx)) return *e;
  if (auto o = ctx.query("ordering")) {
    if (*o != "weak" && *o != "medium" && *o != "strong") {
      return query_error(input_error::format(fmt::format(
          "ordering: unknown variant `{}`, expected one of `weak`, `medium`, `strong`", *o)));
    }
  }
  if (auto d = ctx.query("durability")) {
    auto level = shard::parse_durability(*d);
    if (!level) {
      return query_error(input_error::format(
          fmt::format("durability: expected memory, local or replicated, got `{}`", *d)));
    }
    p.durability = *level;
  }
  return p;
}

http::response update_result(uint64_t operation_id, bool waited, double seconds) {
  std::string out;
  json_writer w(out);
  w.begin_object().field("operation_id", operation_id);
  w.field("status", waited ? "completed" : "acknowledged").end_object();
  return http::ok_json(out, seconds);
}

http::response update_result(const shard::write_summary& w, bool waited, double seconds) {
  auto r = update_result(w.operation_id, waited, seconds);
  set_token_header(r, w.token);
  return r;
}

}  // namespace shoal::rest
