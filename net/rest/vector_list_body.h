#pragma once
// A body whose top-level list holds objects with a vector each, with those vectors read
// straight from the text: upserts in the list form (PUT /points: {"points": [{"id", "vector",
// ...}, ...]}) and batch searches ({"searches": [{"query": [...], ...}, ...]}). Upserts in the
// column form ({"batch": {"ids": [...], "vectors": [[...], ...], ...}}, what Python's
// upload_points and Batch send) too: there the vectors are the elements of one list.
//
// Why: the vectors are nearly all of such a body's JSON. Read once into floats (number_array.h)
// instead of through simdjson's tape, the duplicate-key walk and a decode, they cost about half
// (net/README.md); only the rest of the body, with `[]` in each vector's place, is parsed as a
// DOM for the decoder (emptied_arrays.h).
//
// Only the plain case takes this path: an object whose list is an array, where at least one
// element has a vector field that is an array of numbers number_array.h reads as the DOM would,
// and whose rest parses (in the column form: an object whose column is an array with at least one
// such array). Elements whose vector is anything else (a named-vector object, null, absent...)
// are decoded from the DOM as usual. A body with both forms steps aside. Any other body takes the
// ordinary path (parse_body), so every error is the same error as without this path; the request
// fuzzer checks that both paths agree.

#include <optional>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "engine/data/input_error.h"
#include "net/http/request.h"

namespace shoal::rest {

/// Which list and which field: {"points", "vector"} for upserts, {"searches", "query"} or
/// {"searches", "vector"} (legacy) for batch searches.
struct vector_list_shape {
  std::string_view list;
  std::string_view vector;
  size_t max_dimensions = 0;  // the collection's largest vector; longer ones: the ordinary path
  size_t max_items = 0;       // the request's limit; more items: the ordinary path
  /// The column form, {"<columns>": {"<column>": [[...], ...]}}: {"batch", "vectors"} for
  /// upserts; empty for none.
  std::string_view columns = {};
  std::string_view column = {};
};

struct vector_list_body {
  /// The body, or on the fast path the body with the lifted vectors as `[]`. Valid until the
  /// next parse on this core, like parse_body's.
  simdjson::dom::element doc;
  /// On the fast path, one entry per element of the list (or of the column), in order: its
  /// vector when it was read here. Empty on the ordinary path.
  std::vector<std::optional<std::vector<float>>> vectors;
  bool from_columns = false;  // the vectors are the column form's
};

data::decoded<vector_list_body> parse_vector_list_body(const http::request_context& ctx,
                                                       const vector_list_shape& shape);

/// The fast path alone, on any text: nullopt where parse_vector_list_body falls back to the
/// ordinary parse. For tests and the fuzzer.
std::optional<vector_list_body> parse_vector_list_body_fast(std::string_view text,
                                                            const vector_list_shape& shape);

}  // namespace shoal::rest
