#pragma once
// The body of a single search (POST /points/query, /points/search) with its query vector read
// straight from the text.
//
// Why: a query vector is most of a search body (768 numbers are ~9 KB of JSON). Parsed as a DOM
// and then decoded, every number is parsed into simdjson's tape, walked by the duplicate-key
// check and read back: on a small collection, about half the instructions of the HNSW search
// itself (callgrind, perf/README.md). Here the vector's numbers are read once, straight into
// floats (number_array.h), and only the rest of the body (the vector replaced by `[]`) is parsed
// as a DOM for decode_search.
//
// Only the plain case takes this path: a JSON object whose vector field ("query", or "vector"
// for the legacy API) is a top-level array of numbers that number_array.h reads as the DOM would,
// and whose rest parses. Anything else (a malformed body, a named vector object, a non-number, a
// repeated key...) is parsed the ordinary way (parse_body), so every error is the same error,
// with the same message, as without this path. The request fuzzer checks that both paths agree.

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

/// `vector_field`: "query" or "vector". A vector of more than `max_dimensions` numbers (the
/// collection's largest) takes the ordinary path, which reports its dimension.
data::decoded<search_body> parse_search_body(const http::request_context& ctx,
                                             std::string_view vector_field, size_t max_dimensions);

/// The fast path alone, on any text: nullopt where parse_search_body falls back to the ordinary
/// parse. For tests and the fuzzer.
std::optional<search_body> parse_search_body_fast(std::string_view text,
                                                  std::string_view vector_field,
                                                  size_t max_dimensions);

}  // namespace shoal::rest
