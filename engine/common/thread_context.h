#pragma once
// What the current thread is, for code below the runtime (logging, metrics, asserts).
// The runtime sets it when a reactor thread starts; every other thread stays at -1.

namespace shoal::detail {
inline thread_local int this_core_index = -1;
}
