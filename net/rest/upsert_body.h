#pragma once
// The body of an upsert in the list form (PUT /points: {"points": [{"id", "vector", ...}, ...]})
// with the points' vectors read straight from the text.
//
// Why: the vectors are nearly all of an upsert's JSON. Read once into floats (number_array.h)
// instead of through simdjson's tape, the duplicate-key walk and a decode, they cost about half
// (net/README.md); only the rest of the body, with `[]` in each vector's place, is parsed as a
// DOM for decode_upsert (emptied_arrays.h).
//
// Only the plain case takes this path: an object whose "points" is an array, where at least one
// point has a "vector" that is an array of numbers number_array.h reads as the DOM would, and
// whose rest parses. Points whose "vector" is anything else (a named-vector object, absent...)
// are decoded from the DOM as usual. Any other body takes the ordinary path (parse_body), so
// every error is the same error as without this path; the request fuzzer checks that both paths
// agree.

#include <optional>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "engine/data/input_error.h"
#include "net/http/request.h"

namespace shoal::rest {

struct upsert_body {
  /// The body, or on the fast path the body with the lifted vectors as `[]`. Valid until the
  /// next parse on this core, like parse_body's.
  simdjson::dom::element doc;
  /// On the fast path, one entry per element of "points", in order: its "vector" when it was read
  /// here. Empty on the ordinary path.
  std::vector<std::optional<std::vector<float>>> vectors;
};

/// A vector of more than `max_dimensions` numbers (the collection's largest), or more than
/// `max_points` points, take the ordinary path, which reports them.
data::decoded<upsert_body> parse_upsert_body(const http::request_context& ctx,
                                             size_t max_dimensions, size_t max_points);

/// The fast path alone, on any text: nullopt where parse_upsert_body falls back to the ordinary
/// parse. For tests and the fuzzer.
std::optional<upsert_body> parse_upsert_body_fast(std::string_view text, size_t max_dimensions,
                                                  size_t max_points);

}  // namespace shoal::rest
