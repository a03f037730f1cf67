#pragma once
// The write-ahead log of one shard (ARCHITECTURE.md §5; format in format.h).
//
// Contract:
//  * Lives on the shard's core; every method is called there. All file I/O runs in the
//    blocking pool, never on the reactor.
//  * append() encodes a record into memory and returns its LSN at once; it is durable when
//    sync(lsn) completes. Group commit: while one flush (write + fdatasync) runs, later appends
//    accumulate, and the next flush covers all of them, so one fdatasync serves many writers.
//  * request_flush() starts a flush without waiting for it (writes with `memory` durability).
//  * Bounded memory: the encoded backlog not yet written is capped (max_backlog_bytes); beyond
//    it append() fails with errc::log_full and the caller sheds load.
//  * A failed write (ENOSPC, EIO from write) fails every waiter with that error, drops every
//    record not yet durable (the LSNs are reused), cuts the file back to its durable end, and
//    the log goes on: writes succeed again once the cause is gone. on_discard tells the owner
//    which LSNs were dropped. A failed fdatasync is not retried (the kernel may have dropped the
//    dirty pages, PostgreSQL's "fsyncgate"): the log fails for good (errc::log_failed) and only
//    a restart, which re-reads what is really on disk, recovers.
//  * Recovery (open): every segment is read and checked. Damage at the end of the last segment
//    with nothing valid after it is a torn write from a crash and is cut off (logged with the
//    bytes dropped); any other damage fails open() with errc::corrupt_segment naming the file
//    and offset, rather than serving wrong data.

#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "engine/common/file_io.h"
#include "engine/common/metrics.h"
#include "engine/common/result.h"
#include "engine/log/byte_chain.h"
#include "engine/log/format.h"
#include "engine/runtime/asio.h"
#include "engine/runtime/event.h"
#include "engine/runtime/gate.h"
#include "engine/runtime/semaphore.h"

namespace shoal::wal {

struct log_config {
  std::filesystem::path dir;              // the log's own directory (created if missing)
  size_t segment_bytes = 64u << 20;       // roll to a new segment beyond this size
  size_t compress_threshold = 512;        // LZ4 for bodies at least this large (0: never)
  size_t max_backlog_bytes = 128u << 20;  // encoded bytes appended but not yet written
  uint64_t term = 0;                      // term for new segments' names
};

struct replay_options {
  /// Records with lsn >= from are handed to `apply`, in order, in batches.
  uint64_t from = 1;
  /// LSNs continue from at least here (the snapshot's LSN + 1). A log that ends before it is
  /// wholly covered by the snapshot and is cleared.
  uint64_t min_next_lsn = 1;
  size_t batch_bytes = 8u << 20;
  std::function<awaitable<result<void>>(std::vector<log_record>&)> apply;
};

struct recovery_report {
  size_t segments = 0;
  uint64_t records_scanned = 0;
  uint64_t records_replayed = 0;
  uint64_t torn_bytes_cut = 0;
  uint64_t first_lsn = 0;  // 0 when empty
  uint64_t last_lsn = 0;
};

class mutation_log {
 public:
  static awaitable<result<std::unique_ptr<mutation_log>>> open(log_config cfg,
                                                               replay_options replay,
                                                               recovery_report* report = nullptr);
  ~mutation_log();
  mutation_log(const mutation_log&) = delete;
  mutation_log& operator=(const mutation_log&) = delete;

  /// `compressible`: false when the caller knows the body will not compress (raw floats), so
  /// no time is spent trying.
  result<uint64_t> append(uint64_t term, uint8_t type, std::span<const std::byte> body,
                          bool compressible = true);
  /// The same, taking the body: a large one is written from this very buffer, never copied on
  /// its way to the file (unless it compresses).
  result<uint64_t> append(uint64_t term, uint8_t type, std::vector<std::byte>&& body,
                          bool compressible = true);
  /// Waits until every record up to `lsn` is on disk. Fails with the write's error.
  awaitable<result<void>> sync(uint64_t lsn);
  /// Starts writing the backlog now, without waiting.
  void request_flush();
  /// Records with lsn in [from, durable_lsn], at least one and about max_bytes of bodies.
  awaitable<result<std::vector<log_record>>> read(uint64_t from, size_t max_bytes);
  /// Removes segments whose records all have lsn < upto (the active segment stays).
  awaitable<result<void>> truncate_prefix(uint64_t upto);
  /// Removes every record with lsn >= from; appends continue at `from`. On success every record
  /// before `from` is durable.
  awaitable<result<void>> truncate_suffix(uint64_t from);
  /// Flushes and closes; later calls fail with errc::closed.
  awaitable<void> close();
  /// Tests: behave like a process that died after its last completed write. Waits for the write
  /// in flight, then closes without writing the backlog.
  awaitable<void> abandon();

  /// Called when records not yet durable are dropped after a failed write: [first, last].
  void set_on_discard(std::function<void(uint64_t first, uint64_t last, error_code)> fn) {
    on_discard_ = std::move(fn);
  }

  /// Called on the log's core each time durable_lsn() advances (replication wakes its streams).
  void set_on_durable(std::function<void(uint64_t durable_lsn)> fn) { on_durable_ = std::move(fn); }

  uint64_t next_lsn() const { return next_lsn_; }
  uint64_t last_lsn() const { return next_lsn_ - 1; }
  uint64_t durable_lsn() const { return durable_lsn_; }
  /// The first LSN still in the log (next_lsn() when empty).
  uint64_t first_lsn() const;
  uint64_t disk_bytes() const;
  size_t backlog_bytes() const { return backlog_bytes_; }
  size_t segment_count() const { return segments_.size(); }
  bool failed() const { return failed_; }
  const std::filesystem::path& dir() const { return cfg_.dir; }

 private:
  struct segment_info {
    std::filesystem::path path;
    uint64_t base_lsn = 0;
    uint64_t term = 0;
    uint64_t last_lsn = 0;                             // base_lsn - 1 when empty
    uint64_t size = 0;                                 // durable bytes, header included
    std::vector<std::pair<uint64_t, uint64_t>> index;  // sparse (lsn, offset)
  };
  struct chunk {  // encoded records bound for one segment
    bool new_segment = false;
    uint64_t base_lsn = 0;
    uint64_t term = 0;
    uint64_t first_lsn = 0;
    uint64_t last_lsn = 0;
    byte_chain bytes;
    std::vector<std::pair<uint64_t, uint64_t>> index;  // (lsn, offset within bytes)
  };
  struct waiter {
    rt::event done;
    error_code status;
  };

  explicit mutation_log(log_config cfg);
  awaitable<result<void>> recover(replay_options& replay, recovery_report& report);
  void kick_flush();
  awaitable<void> flush_loop();
  void fail_waiters(error_code ec, bool all);
  void discard_backlog(error_code ec);
  segment_info* segment_for(uint64_t lsn);
  uint64_t active_size_projected() const;
  /// Checks that a record of `body_bytes` may be appended now and returns the chunk it goes to.
  result<chunk*> chunk_for_record(size_t body_bytes);
  /// Appends one record with the header and stored body given, to the chunk from chunk_for_record.
  uint64_t add_record(chunk& c, std::span<const std::byte, kRecordHeaderSize> header,
                      std::span<const std::byte> stored);
  uint64_t record_added(chunk& c, size_t offset);

  log_config cfg_;
  std::vector<segment_info> segments_;  // by base_lsn; the last one is active
  fileio::file active_;                 // write handle of the last segment (moved into jobs)
  std::deque<chunk> backlog_;
  size_t backlog_bytes_ = 0;
  uint64_t next_lsn_ = 1;
  uint64_t durable_lsn_ = 0;
  bool flushing_ = false;
  bool flush_requested_ = false;
  bool failed_ = false;
  bool closed_ = false;
  std::multimap<uint64_t, waiter*> waiters_;
  rt::semaphore io_lock_{1};  // one file-changing job at a time (flush, truncate, close)
  rt::gate gate_{"mutation log"};
  std::function<void(uint64_t, uint64_t, error_code)> on_discard_;
  std::function<void(uint64_t)> on_durable_;

  metrics::counter& bytes_written_;
  metrics::counter& fsyncs_;
  metrics::histogram& fsync_seconds_;
  metrics::counter& write_errors_;
};

}  // namespace shoal::wal
