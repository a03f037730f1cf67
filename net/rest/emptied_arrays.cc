#include "net/rest/emptied_arrays.h"

#include <string>

#include "net/rest/rest_io.h"

namespace shoal::rest {
namespace {

/// The text parsed, with simdjson's padding after it. One per core, reused.
std::string& core_copy() {
  thread_local std::string copy;
  return copy;
}

}  // namespace

std::optional<simdjson::dom::element> parse_with_arrays_emptied(
    std::string_view text, std::span<const text_range> ranges) {
  size_t removed = 0;
  for (auto [begin, end] : ranges) removed += end - begin;
  auto& copy = core_copy();
  copy.clear();
  copy.reserve(text.size() - removed + 2 * ranges.size() + simdjson::SIMDJSON_PADDING);
  size_t at = 0;
  for (auto [begin, end] : ranges) {
    copy.append(text.substr(at, begin - at)).append("[]");
    at = end;
  }
  copy.append(text.substr(at));
  auto parsed = parse_json(copy, copy.capacity() - copy.size());
  if (!parsed) return std::nullopt;
  return *parsed;
}

void release_emptied_arrays_memory(size_t keep_bytes) {
  auto& copy = core_copy();
  if (copy.capacity() > keep_bytes) std::string().swap(copy);
}

}  // namespace shoal::rest
