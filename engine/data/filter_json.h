#pragma once
// Decodes a filter from JSON (REST_API.md §7). Each of must / should / must_not takes one
// condition or an array of them; null means absent. Unsupported conditions (geo, full text,
// values_count, nested arrays) are a format error naming them, not silently ignored.

#include <simdjson.h>

#include "engine/data/filter.h"
#include "engine/data/input_error.h"
#include "engine/data/input_limits.h"

namespace shoal::data {

/// `where` names the field for messages ("filter", "searches[2].filter"). Conditions are counted
/// over the whole tree (limits.max_filter_conditions, 422), filters nest at most
/// limits.max_filter_depth levels (400), key paths are at most limits.max_key_length bytes (422).
decoded<filter> decode_filter(simdjson::dom::element e, const std::string& where = "filter",
                              const input_limits& limits = {});

/// A point id from JSON: a non-negative integer or a UUID string.
decoded<point_id> decode_point_id(simdjson::dom::element e, const std::string& where);

}  // namespace shoal::data
