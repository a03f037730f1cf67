#include "engine/runtime/runtime_metrics.h"

#include <string>

#include "engine/common/logger.h"
#include "engine/runtime/blocking_pool.h"

namespace shoal::rt {

metrics::snapshot runtime_metrics(runtime& rt) {
  metrics::snapshot snap;
  auto add = [&](const char* name, const char* help, metrics::kind k, metrics::labels l, double v) {
    metrics::sample s;
    s.label_set = std::move(l);
    s.value = v;
    snap.add(name, help, k, std::move(s));
  };
  add("shoal_cores", "Reactor cores", metrics::kind::gauge, {}, rt.core_count());
  for (unsigned c = 0; c < rt.core_count(); ++c) {
    auto& r = rt.core(core_id(c));
    auto core = std::to_string(c);
    add("shoal_smp_messages_executed_total", "Cross-core messages executed on this core",
        metrics::kind::counter, {{"core", core}}, static_cast<double>(r.messages_executed()));
    add("shoal_smp_doorbells_total", "Wake-ups posted to this core for cross-core messages",
        metrics::kind::counter, {{"core", core}}, static_cast<double>(r.doorbells()));
    add("shoal_reactor_idle_poll_seconds_total",
        "Time this core spent polling its cross-core channels while idle (runtime.idle-poll)",
        metrics::kind::counter, {{"core", core}}, static_cast<double>(r.idle_poll_ns()) / 1e9);
  }
  add("shoal_reactor_stalls_total", "Times a core did not return to its event loop in time",
      metrics::kind::counter, {}, static_cast<double>(rt.stalls_reported()));
  auto& pool = rt.blocking();
  for (size_t i = 0; i < kBlockingReasons; ++i) {
    auto reason = static_cast<blocking_reason>(i);
    add("shoal_blocking_jobs_total", "Blocking system calls run off the reactors, by reason",
        metrics::kind::counter, {{"reason", std::string(blocking_reason_name(reason))}},
        static_cast<double>(pool.completed(reason)));
  }
  add("shoal_blocking_queue_depth", "Jobs waiting for a blocking-pool thread", metrics::kind::gauge,
      {}, static_cast<double>(pool.queued()));
  add("shoal_log_messages_dropped_total", "Log lines dropped because the async log queue was full",
      metrics::kind::counter, {}, static_cast<double>(logging::dropped_messages()));
  return snap;
}

}  // namespace shoal::rt
