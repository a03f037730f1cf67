#pragma once
// Which core the calling code runs on. A core is one pinned thread running one io_context
// (ARCHITECTURE.md §2); reactor threads set their index when they start.

#include "engine/common/assert.h"
#include "engine/common/named_type.h"
#include "engine/common/thread_context.h"

namespace shoal::rt {

/// True on a reactor thread.
inline bool on_reactor_thread() {
  return detail::this_core_index >= 0;
}

/// The core the caller runs on. Calling it off the reactors is a bug.
inline core_id this_core() {
  SHOAL_ASSERT(on_reactor_thread(), "this_core() called off a reactor thread");
  return core_id(static_cast<unsigned>(detail::this_core_index));
}

}  // namespace shoal::rt
