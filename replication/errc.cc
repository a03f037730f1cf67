#include "replication/errc.h"

namespace shoal::repl {

std::string_view error_message(errc e) {
  switch (e) {
    case errc::unreachable:
      return "the follower did not answer";
    case errc::refused:
      return "the follower refused the request";
    case errc::log_mismatch:
      return "the records do not continue the follower's log";
    case errc::deposed:
      return "the follower follows a newer term: this replica no longer leads";
    case errc::needs_snapshot:
      return "the follower is behind the leader's log start and needs a snapshot transfer";
    case errc::stopped:
      return "the replication stream was stopped";
  }
  return "unknown replication error";
}

}  // namespace shoal::repl
