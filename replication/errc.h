#pragma once
// Expected failures of log shipping, as values (engine/common/result.h).

#include <string_view>

#include "engine/common/result.h"

namespace shoal::repl {

enum class errc {
  unreachable = 1,  // the follower did not answer (connection, timeout, not ready)
  refused,          // the follower answered with an error (logged with its message)
  log_mismatch,     // records did not continue the follower's log: align again
  deposed,          // the follower knows a newer term: this leader no longer leads
  needs_snapshot,   // the follower is behind our log's start: only a snapshot can catch it up
  stopped,          // the stream was stopped
};

std::string_view error_message(errc e);
constexpr const char* error_category_name(errc) {
  return "shoal.replication";
}
SHOAL_DECLARE_ERRC(errc)

}  // namespace shoal::repl

SHOAL_REGISTER_ERRC(shoal::repl::errc)
