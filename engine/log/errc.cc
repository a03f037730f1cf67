#include "engine/log/errc.h"

namespace shoal::wal {

std::string_view error_message(errc e) {
  switch (e) {
    case errc::corrupt_segment:
      return "mutation log segment is corrupt";
    case errc::unsupported_version:
      return "mutation log segment has an unsupported format version";
    case errc::lsn_gap:
      return "mutation log has a gap in its sequence numbers";
    case errc::log_failed:
      return "mutation log failed to sync to disk and takes no more writes";
    case errc::log_full:
      return "mutation log backlog is full";
    case errc::record_too_large:
      return "mutation log record is too large";
    case errc::lsn_out_of_range:
      return "sequence number outside the mutation log";
    case errc::closed:
      return "mutation log is closed";
  }
  return "unknown mutation log error";
}

}  // namespace shoal::wal
