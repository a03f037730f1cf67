#include "engine/data/errc.h"

namespace shoal::data {

std::string_view error_message(errc e) {
  switch (e) {
    case errc::invalid_json:
      return "invalid JSON";
    case errc::json_too_deep:
      return "JSON nested too deeply";
    case errc::invalid_path:
      return "invalid payload key path";
    case errc::invalid_filter:
      return "invalid filter";
  }
  return "unknown data error";
}

}  // namespace shoal::data
