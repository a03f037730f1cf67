#pragma once
// The body of a single search (POST /points/query, /points/search) with its query vector read
// straight from the text.
//
// Why: a query vector is most of a search body (768 numbers are ~9 KB of JSON). Parsed as a DOM
// and then decoded, every number is parsed into simdjson's tape, walked by the duplicate-key
// check and read back: per query, about twice the instructions of the HNSW search itself on a
// small collection (callgrind, perf/README.md). Here simdjson's On-Demand API reads the vector's
// numbers once, straight into floats, and only the rest of the body (the vector replaced by `[]`)
// is parsed as a DOM for decode_search.
//
// Only the plain case takes this path: a JSON object without repeated top-level keys, whose
// vector field ("query", or "vector" for the legacy API) is an array of finite numbers, and whose
// other fields parse. Anything else (a malformed body, a named vector object, a non-number, a
// duplicate key...) is parsed the ordinary way (parse_body), so every error is the same error,
// with the same message, as without this path.

#include <optional>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "engine/data/input_error.h"
#include "net/http/request.h"

namespace shoal::rest {

struct search_body {
  /// The body, or on the fast path the body with the vector replaced by an empty array. Valid
  /// until the next parse on this core, like parse_body's.
  simdjson::dom::element doc;
  /// The vector's values, when they were read on the fast path (for decode_search).
  std::optional<std::vector<float>> vector;
};

/// `vector_field`: "query" or "vector".
data::decoded<search_body> parse_search_body(const http::request_context& ctx,
                                             std::string_view vector_field);

/// The fast path alone, on any text with `spare` readable bytes after it: nullopt where
/// parse_search_body falls back to the ordinary parse. For tests and the fuzzer.
std::optional<search_body> parse_search_body_fast(std::string_view text, size_t spare,
                                                  std::string_view vector_field);

/// Gives back the memory of this core's On-Demand parser past `keep_bytes` of capacity (with
/// release_parser_memory, after every handler).
void release_search_parser_memory(size_t keep_bytes);

}  // namespace shoal::rest
