#include "engine/runtime/errc.h"

namespace shoal::rt {

std::string_view error_message(errc e) {
  switch (e) {
    case errc::timeout:
      return "timed out waiting";
    case errc::shutting_down:
      return "shutting down";
    case errc::too_many_waiters:
      return "too many waiters";
    case errc::broken:
      return "broken: its owner is stopping";
    case errc::gate_closed:
      return "gate closed";
  }
  return "unknown runtime error";
}

}  // namespace shoal::rt
