#pragma once
// Expected failures of the mutation log. I/O failures carry the system error (ENOSPC, EIO, ...)
// in the system category instead; these are the log's own conditions.

#include <string_view>

#include "engine/common/result.h"

namespace shoal::wal {

enum class errc {
  corrupt_segment = 1,  // a checksum or structure error where a torn tail is impossible
  unsupported_version,  // a segment written by a newer format
  lsn_gap,              // LSNs do not continue across records or segments, or miss the snapshot
  log_failed,           // an fdatasync failed: the log takes no more writes until restart
  log_full,             // the unwritten backlog is at its limit; retry later
  record_too_large,     // a record body over kMaxRecordBody
  lsn_out_of_range,     // read or truncate outside the log's records
  closed,               // the log is closing or closed
};

std::string_view error_message(errc e);
constexpr const char* error_category_name(errc) {
  return "shoal.log";
}
SHOAL_DECLARE_ERRC(errc)

}  // namespace shoal::wal

SHOAL_REGISTER_ERRC(shoal::wal::errc)
