#pragma once
// Limits on what a client may send, shared by the REST API (net/rest) and the binary protocol's
// client API (net/rpc/api.cc): settings rest.* (engine/app/options.cc), documented in
// net/README.md. Each is checked before anything is sized by a client's number; breaking one is a
// 4xx whose message names the setting and its value. Shapes (nesting) are format errors (400),
// sizes and counts validation errors (422).

#include <cstddef>
#include <string>

#include <fmt/format.h>

namespace shoal::data {

struct input_limits {
  size_t max_json_depth = 64;            // nesting of a JSON document: body, payload, filter
  size_t max_filter_conditions = 1'024;  // conditions of one filter, over its whole tree
  size_t max_filter_depth = 32;          // filters nested in filters (the top one is 1)
  size_t max_payload_bytes = 64u << 10;  // one point's payload as compact JSON
  size_t max_payload_keys = 1'024;       // keys of one payload, nested objects included
  size_t max_key_length = 1'024;         // bytes of a payload key or a key path
  size_t max_vector_size = 65'536;       // dimensions of a dense vector (collection creation)
  size_t max_named_vectors = 64;         // dense plus sparse vectors of one collection
};

/// "the limit is 65536 bytes (rest.max-payload-bytes)": how every limit message ends.
inline std::string limit_note(size_t value, const char* setting, const char* unit = "") {
  return fmt::format("the limit is {}{}{} ({})", value, *unit ? " " : "", unit, setting);
}

}  // namespace shoal::data
