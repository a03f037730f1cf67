#pragma once
// Sequential, validating reads of one segment file. Blocking: use from the blocking pool.
//
// next() returns the records that follow, each checked (sane header, record inside the file,
// checksum, LSN exactly one more than the previous, body decodes), and stops at the first one
// that fails; stop() then says where and why, and whether the damage could be a torn write (a
// record cut short by the end of the file, or unchecksummed bytes at the tail) or is real
// corruption. Whether a torn tail may be cut is the caller's decision: only in the last segment.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "engine/common/file_io.h"
#include "engine/log/format.h"

namespace shoal::wal {

struct read_stop {
  uint64_t offset = 0;  // where the bad record starts (= end of the good data)
  std::string reason;
  bool incomplete = false;  // the record runs past the end of the file: a write that never finished
};

class segment_reader {
 public:
  /// Opens and validates the header. `limit` bounds the bytes considered (0: the file size).
  static result<segment_reader> open(const std::filesystem::path& path, uint64_t limit = 0);

  const segment_header& header() const { return header_; }
  /// Continues at `offset`, expecting the record there to carry `lsn` (from a sparse index).
  void seek(uint64_t offset, uint64_t lsn);
  /// Records until `max_bytes` of bodies are collected (at least one record when any is left),
  /// or the end, or a bad record, or the record `stop_before` (not read). Records below
  /// `skip_below` are validated but not returned.
  result<std::vector<log_record>> next(size_t max_bytes, uint64_t skip_below = 0,
                                       uint64_t stop_before = UINT64_MAX);

  /// After a stop: true if a well-formed record (plausible header, good checksum, a later LSN)
  /// lies anywhere after the bad one, which makes the damage corruption rather than a torn tail.
  result<bool> valid_record_follows();

  bool at_end() const { return at_end_; }
  const std::optional<read_stop>& stop() const { return stop_; }
  uint64_t offset() const { return offset_; }      // end of the last good record
  uint64_t next_lsn() const { return next_lsn_; }  // LSN the next record must carry
  uint64_t file_size() const { return file_size_; }
  /// (lsn, offset) of every record read so far at least `every` bytes after the previous entry.
  std::vector<std::pair<uint64_t, uint64_t>> take_index_entries();
  void set_index_every(uint64_t bytes) { index_every_ = bytes; }

 private:
  segment_reader() = default;
  bool fill(size_t need);  // makes buffer_ hold >= need bytes from offset_ when the file has them

  fileio::file file_;
  segment_header header_;
  uint64_t file_size_ = 0;
  uint64_t offset_ = 0;
  uint64_t next_lsn_ = 0;
  bool at_end_ = false;
  std::optional<read_stop> stop_;
  std::vector<std::byte> buffer_;  // bytes from buffer_offset_
  uint64_t buffer_offset_ = 0;
  std::vector<std::pair<uint64_t, uint64_t>> index_;
  uint64_t index_every_ = 64 * 1024;
  uint64_t last_indexed_ = 0;
  error_code io_error_;
};

}  // namespace shoal::wal
