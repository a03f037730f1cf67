#pragma once
// Expected failures of the runtime, as values (engine/common/result.h).

#include <string_view>

#include "engine/common/result.h"

namespace shoal::rt {

enum class errc {
  timeout = 1,       // a wait (queue slot, semaphore units, gate drain) passed its deadline
  shutting_down,     // the runtime or a service is stopping and takes no new work
  too_many_waiters,  // a semaphore's bounded waiter list is full: shed load instead of queueing
  broken,            // the primitive was broken (its owner is stopping); waiters are released
  gate_closed,       // a gate no longer admits new holders
};

std::string_view error_message(errc e);
constexpr const char* error_category_name(errc) {
  return "shoal.runtime";
}
SHOAL_DECLARE_ERRC(errc)

}  // namespace shoal::rt

SHOAL_REGISTER_ERRC(shoal::rt::errc)
