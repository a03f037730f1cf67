#pragma once
// Shared pieces of the REST handlers: parsing a JSON body with this core's simdjson parser,
// query parameters, and turning errors into Qdrant's error envelope and status codes
// (REST_API.md §1.2).

#include <optional>
#include <string>

#include <simdjson.h>

#include "engine/data/input_error.h"
#include "engine/shard/shard_types.h"
#include "net/http/request.h"
#include "net/http/response.h"

namespace shoal::rest {

/// The body as a JSON document. An empty body is an empty object. The element is valid until the
/// next parse on this core: decode it into owned values before any co_await (PRACTICES P13).
data::decoded<simdjson::dom::element> parse_body(const http::request_context& ctx);

/// 400 / 422 / 404 from a decoder's complaint.
http::response input_error_response(const data::input_error& e, double seconds);
/// The status and message for an engine error (collection missing, disk full, ...).
http::response error_response(const error_code& ec, std::string_view collection, double seconds);

/// ?wait, ?timeout, ?ordering, ?durability. `timeout` must be >= 1; durability names a level.
struct write_params {
  bool wait = true;
  std::optional<shard::durability> durability;
};
data::decoded<write_params> read_write_params(const http::request_context& ctx);
/// Validates ?timeout on read routes (>= 1 when given).
std::optional<data::input_error> check_timeout(const http::request_context& ctx);

/// {"result": {"operation_id": n, "status": "completed" | "acknowledged"}, ...}
http::response update_result(uint64_t operation_id, bool waited, double seconds);
/// {"result": <raw>, "status": "ok", "time": t}
inline http::response ok(std::string_view raw_result, double seconds) {
  return http::ok_json(raw_result, seconds);
}

}  // namespace shoal::rest
