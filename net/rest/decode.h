#pragma once
// Request decoders for the points and search endpoints (REST_API.md §5, §6): JSON in, owned and
// validated values out, checked against the collection's schema so nothing invalid reaches a
// shard. Every error names the field.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <simdjson.h>

#include "engine/data/filter.h"
#include "engine/data/input_error.h"
#include "engine/shard/collection_config.h"
#include "engine/shard/shard_types.h"
#include "net/rest/rest_context.h"

namespace shoal::rest {

using data::decoded;
using simdjson::dom::element;

/// A present, non-null member, or nullopt.
std::optional<element> member(element obj, std::string_view key);

/// One point's "vector" field: a dense array (unnamed vector) or a map of named dense and
/// sparse vectors. Sparse vectors are kept as JSON in `sparse_json`. `given`: a dense array's
/// values, already read from the text as finite floats (`v` is then the `[]` left in its place:
/// vector_list_body.h); taken when set.
decoded<std::vector<shard::named_vector>> decode_vectors(element v,
                                                         const shard::collection_config& cfg,
                                                         const std::string& where,
                                                         std::string& sparse_json,
                                                         std::vector<float>* given = nullptr);

/// The size of the collection's largest dense vector: the most numbers a fast path reads into
/// one vector (search_body.h, vector_list_body.h).
size_t largest_vector_size(const shard::collection_config& cfg);

/// Vectors read from the text by vector_list_body.h: one entry per element of the list (or of
/// the column, batch.vectors).
using given_vectors = std::vector<std::optional<std::vector<float>>>;

/// Which of an upsert's forms the given vectors were read from.
enum class upsert_form { points, batch };

/// PUT /points: {"points": [...]} or {"batch": {...}}. `given`: see given_vectors, read from
/// `form`; taken when set.
decoded<std::vector<shard::point_write>> decode_upsert(element body,
                                                       const shard::collection_config& cfg,
                                                       const rest_limits& limits,
                                                       given_vectors* given = nullptr,
                                                       upsert_form form = upsert_form::points);

decoded<std::vector<data::point_id>> decode_ids(element arr, const std::string& where, size_t max);

/// Key paths longer than limits.max_key_length are refused (422).
decoded<shard::payload_selector> decode_with_payload(std::optional<element> e,
                                                     shard::payload_selector fallback,
                                                     const data::input_limits& limits);
decoded<shard::vector_selector> decode_with_vector(std::optional<element> e,
                                                   const shard::collection_config& cfg);
/// with_vector / with_vectors, whichever is present.
decoded<shard::vector_selector> decode_with_vector_field(element body,
                                                         const shard::collection_config& cfg);

/// The "filter" member, or null when absent or null; checked against the filter limits.
decoded<std::shared_ptr<const data::filter>> decode_filter_field(element body,
                                                                 const std::string& where,
                                                                 const data::input_limits& limits);

/// A point's payload: a JSON object within the payload limits (keys, key length, bytes).
decoded<data::json_value> decode_payload_object(element p, const data::input_limits& limits,
                                                const std::string& where);

/// A key path (payload key, index field) at most limits.max_key_length bytes long.
decoded<data::key_path> decode_key_path(std::string_view text, const data::input_limits& limits,
                                        const std::string& where);

/// A query vector for `using` (checked against its size).
decoded<std::vector<float>> decode_dense(element v, uint32_t dim, const std::string& where,
                                         index::metric_kind metric);
/// The checks of a dense vector that need the schema, on values already read as finite floats:
/// `count` elements were given for `dim` (the dimension error reports it), and Cosine refuses a
/// zero vector. decode_dense ends with it; the search route's fast path (search_body.h) too.
decoded<std::vector<float>> check_dense(std::vector<float> values, size_t count, uint32_t dim,
                                        const std::string& where, index::metric_kind metric);

/// A non-negative integer field with a maximum (limit, offset); absent -> fallback.
decoded<size_t> decode_count(element obj, const char* key, size_t fallback, size_t min, size_t max,
                             const std::string& where);

}  // namespace shoal::rest
