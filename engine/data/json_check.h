#pragma once
// Checks of a parsed JSON document that simdjson does not make, run on what clients send before
// it is decoded: repeated object keys (anywhere in a document) and the limits of one point's
// payload (keys, key length, bytes). Both walk the document once, iterating, without allocating
// by anything the document claims.
//
// Repeated keys are refused: Qdrant refuses a repeated field of its request structures
// (serde's "duplicate field"), and a JSON reader that keeps the first value (simdjson's
// at_key) or the last (most payload readers) would silently take half of what was sent.

#include <optional>
#include <string>

#include <simdjson.h>

#include "engine/data/input_error.h"
#include "engine/data/input_limits.h"

namespace shoal::data {

/// The first key that appears twice in one object, as `duplicate key "k" at where`, or nullopt.
/// `where` names the document's root ("JSON body", "filter", "points[3].payload").
std::optional<std::string> find_duplicate_key(simdjson::dom::element e, std::string_view where);

/// The bytes of `v` as compact JSON, as json_writer writes it (what a stored payload takes).
/// Stops counting once past `stop_after` (the result is then some value above it).
size_t compact_json_size(simdjson::dom::element v, size_t stop_after = SIZE_MAX);

/// A payload against the limits: keys over the whole tree (max_payload_keys), each key's length
/// (max_key_length) and its size as compact JSON (max_payload_bytes); validation errors naming
/// the limit. `where` is the field ("points[3].payload").
std::optional<input_error> check_payload(simdjson::dom::element payload, const input_limits& limits,
                                         const std::string& where);

/// The message for simdjson's DEPTH_ERROR with the parser's limit.
std::string depth_error_message(size_t max_depth);

}  // namespace shoal::data
