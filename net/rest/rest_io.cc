#include "net/rest/rest_io.h"

#include <charconv>

#include <fmt/format.h>

#include "engine/log/errc.h"
#include "engine/runtime/errc.h"
#include "engine/shard/errc.h"

namespace shoal::rest {

using data::input_error;
using http::status;

data::decoded<simdjson::dom::element> parse_body(const http::request_context& ctx) {
  thread_local simdjson::dom::parser parser;
  const auto& body = ctx.body();
  std::string_view text = body;
  size_t start = text.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos) text = "{}";
  simdjson::dom::element root;
  auto err = parser.parse(text.data(), text.size(), /*realloc_if_needed=*/true).get(root);
  if (err) return input_error::format(simdjson::error_message(err));
  return root;
}

http::response input_error_response(const input_error& e, double seconds) {
  switch (e.k) {
    case input_error::kind::format:
      return http::error_json(status::bad_request, "Format error in JSON body: " + e.message,
                              seconds);
    case input_error::kind::validation:
      return http::error_json(status::unprocessable_entity,
                              "Validation error in JSON body: [" + e.message + "]", seconds);
    case input_error::kind::wrong_input:
      return http::error_json(status::bad_request, "Wrong input: " + e.message, seconds);
    case input_error::kind::not_found:
      return http::error_json(status::not_found, "Not found: " + e.message, seconds);
  }
  return http::error_json(status::bad_request, e.message, seconds);
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

std::optional<input_error> check_timeout(const http::request_context& ctx) {
  auto t = ctx.query("timeout");
  if (!t) return std::nullopt;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(t->data(), t->data() + t->size(), v);
  if (ec != std::errc{} || p != t->data() + t->size() || v < 0) {
    return input_error{
        input_error::kind::format,
        fmt::format("Deserialize error in query parameters: invalid timeout `{}`", *t)};
  }
  if (v == 0) {
    return input_error{input_error::kind::validation,
                       "timeout: value 0 invalid, must be 1 or larger"};
  }
  return std::nullopt;
}

data::decoded<write_params> read_write_params(const http::request_context& ctx) {
  write_params p;
  if (auto w = ctx.query("wait")) {
    if (*w == "true" || w->empty()) {
      p.wait = true;
    } else if (*w == "false") {
      p.wait = false;
    } else {
      return input_error::format(fmt::format("wait: expected true or false, got `{}`", *w));
    }
  }
  if (auto e = check_timeout(ctx)) return *e;
  if (auto o = ctx.query("ordering")) {
    if (*o != "weak" && *o != "medium" && *o != "strong") {
      return input_error::format(fmt::format("ordering: unknown variant `{}`", *o));
    }
  }
  if (auto d = ctx.query("durability")) {
    auto level = shard::parse_durability(*d);
    if (!level) {
      return input_error::format(
          fmt::format("durability: expected memory, local or replicated, got `{}`", *d));
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

}  // namespace shoal::rest
