#pragma once
// The DOM of a body whose number arrays were read by a fast path (search_body.h,
// vector_list_body.h):
// the body parsed with `[]` in place of each of those arrays.
//
// Each replaced range is a valid JSON value (an array of numbers) and `[]` is another, so the
// text parsed is valid exactly when the body is, with the same keys at every level: the fast
// path's DOM has the same shape, and the same errors, as the body's.

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <utility>

#include <simdjson.h>

namespace shoal::rest {

/// [begin, end) offsets in the body, in order, not overlapping.
using text_range = std::pair<size_t, size_t>;

/// The DOM of `text` with each range replaced by `[]`, parsed by this core's parser into a copy
/// of this core's (valid until the next parse on this core, like parse_body's); nullopt if it
/// does not parse (the ordinary path then names the error).
std::optional<simdjson::dom::element> parse_with_arrays_emptied(std::string_view text,
                                                                std::span<const text_range> ranges);

/// Gives back the memory of this core's copy past `keep_bytes` of capacity (after every handler,
/// with release_parser_memory).
void release_emptied_arrays_memory(size_t keep_bytes);

}  // namespace shoal::rest
