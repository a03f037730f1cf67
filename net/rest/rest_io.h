#pragma once
// Shared pieces of the REST handlers: parsing a JSON body with this core's simdjson parser,
// query parameters, and turning errors into Qdrant's error envelope and status codes
// (REST_API.md §1.2). Every mapping from an error to an HTTP status lives in rest_io.cc.

#include <optional>
#include <string>

#include <boost/system/result.hpp>
#include <simdjson.h>

#include "engine/data/input_error.h"
#include "engine/shard/coordinator.h"
#include "engine/shard/shard_types.h"
#include "net/http/request.h"
#include "net/http/response.h"

namespace shoal::rest {

/// The body as a JSON document, parsed in place (the session keeps SIMDJSON_PADDING spare bytes
/// after every body: net/http/padded_body.h) by this core's parser. An empty body is an empty
/// object. The element is valid until the next parse on this core: decode it into owned values
/// before any co_await (PRACTICES P13).
data::decoded<simdjson::dom::element> parse_body(const http::request_context& ctx);
/// parse_body's work on any text, with `spare` readable bytes after it (parsed in place when
/// they cover simdjson's padding, else copied). Used by parse_body and the request fuzzer.
/// Format errors: not JSON, not UTF-8, nested deeper than the core's limit
/// (set_json_depth_limit), or an object with a repeated key (data/json_check.h).
data::decoded<simdjson::dom::element> parse_json(std::string_view text, size_t spare);
/// The nesting this core's parser accepts from now on (rest.max-json-depth; the route wrapper
/// sets it before every handler). Until set: data::input_limits' default.
void set_json_depth_limit(size_t max_depth);

/// Gives back the memory of this core's parser when a large body made it grow past
/// `keep_bytes` of input capacity. Call only when no element of it is alive (the route wrapper
/// calls it after every handler).
void release_parser_memory(size_t keep_bytes);
/// Bytes of input the parser of this core can take without growing (tests, metrics).
size_t parser_capacity();

/// Where a complaint comes from; Qdrant names it in the message ("... in query parameters").
enum class error_source { body, query, path };

/// A decoder's complaint about a request, with where it was found.
struct request_error {
  data::input_error error;
  error_source source = error_source::body;
};

template <typename T>
using checked = boost::system::result<T, request_error>;

[[noreturn]] inline void throw_exception_from_error(const request_error& e,
                                                    const boost::source_location& loc) {
  data::throw_exception_from_error(e.error, loc);
}

/// 400 / 422 / 404 from a decoder's complaint.
http::response input_error_response(const data::input_error& e, double seconds,
                                    error_source source = error_source::body);
http::response input_error_response(const request_error& e, double seconds);
/// The status and message for an engine error (collection missing, disk full, ...).
http::response error_response(const error_code& ec, std::string_view collection, double seconds);

/// ?wait, ?timeout, ?ordering, ?durability. `timeout` must be >= 1; durability names a level.
struct write_params {
  bool wait = true;
  std::optional<shard::durability> durability;
};
checked<write_params> read_write_params(const http::request_context& ctx);
/// Validates ?timeout on read routes (>= 1 when given) and ?consistency.
std::optional<request_error> check_timeout(const http::request_context& ctx);

/// {"result": {"operation_id": n, "status": "completed" | "acknowledged"}, ...}
http::response update_result(uint64_t operation_id, bool waited, double seconds);
/// The same for a write the coordinator made, with its shoal-token header (consistency.h).
http::response update_result(const shard::write_summary& w, bool waited, double seconds);
/// {"result": <raw>, "status": "ok", "time": t}
inline http::response ok(std::string_view raw_result, double seconds) {
  return http::ok_json(raw_result, seconds);
}

}  // namespace shoal::rest
