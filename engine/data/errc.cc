#include "engine/data/errc.h"

namespace shoal::data {

std::string_view error_message(errc e) {
  switch (e) {
    case errc::invalid_json:
      return "invalid JSON";
    case errc::json_too_deep:
      return "JSON nested deeper than 64 levels (json_value::kMaxDepth)";
    case errc::invalid_path:
      return "invalid payload key path";
    case errc::invalid_filter:
      return "invalid filter";
    case errc::duplicate_key:
      return "an object has the same key twice";
  }
  return "unknown data error";
}

}  // namespace shoal::data
