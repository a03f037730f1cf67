#pragma once
// Expected failures of the data model (payloads, paths, filters, ids).

#include <string_view>

#include "engine/common/result.h"

namespace shoal::data {

enum class errc {
  invalid_json = 1,  // not JSON at all
  json_too_deep,     // nesting beyond json_value::kMaxDepth
  invalid_path,      // a payload key path that does not parse
  invalid_filter,    // a filter of the wrong shape (details in the decoder's message)
  duplicate_key,     // an object with the same key twice
};

std::string_view error_message(errc e);
constexpr const char* error_category_name(errc) {
  return "shoal.data";
}
SHOAL_DECLARE_ERRC(errc)

}  // namespace shoal::data

SHOAL_REGISTER_ERRC(shoal::data::errc)
