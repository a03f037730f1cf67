#pragma once
// Metrics of the runtime itself, read from counters that any thread may read (atomics in the
// reactors, the blocking pool and the stall detector), for /metrics.

#include "engine/common/metrics.h"
#include "engine/runtime/runtime.h"

namespace shoal::rt {

metrics::snapshot runtime_metrics(runtime& rt);

}  // namespace shoal::rt
