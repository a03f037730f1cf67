#include "engine/log/mutation_log.h"

#include <algorithm>
#include <fcntl.h>

#include "engine/common/logger.h"
#include "engine/log/errc.h"
#include "engine/log/segment_reader.h"
#include "engine/runtime/blocking_pool.h"

namespace shoal::wal {
namespace {

spdlog::logger& log() {
  static auto& l = logging::get("wal");
  return l;
}

rt::blocking_pool& pool() {
  return rt::runtime::current().blocking();
}

// The state a write job takes to a pool thread and brings back; the reactor touches none of it
// while the job runs.
struct write_job {
  // in
  std::filesystem::path dir;
  fileio::file active;       // the last segment, open for writing (may be closed: no segment)
  uint64_t active_size = 0;  // its durable size
  // out: one entry per segment the job wrote to, in order; the first may be the existing one
  struct touched {
    bool created = false;
    std::filesystem::path path;
    uint64_t base_lsn = 0, term = 0, size_before = 0, size_after = 0, last_lsn = 0;
    std::vector<std::pair<uint64_t, uint64_t>> index;
  };
  std::vector<touched> segments;
  error_code write_error;
  error_code sync_error;
};

}  // namespace

mutation_log::mutation_log(log_config cfg)
    : cfg_(std::move(cfg)),
      bytes_written_(metrics::local().make_counter("shoal_log_bytes_written_total",
                                                   "Bytes written to mutation logs")),
      fsyncs_(metrics::local().make_counter("shoal_log_fsyncs_total",
                                            "Group-commit flushes of mutation logs")),
      fsync_seconds_(metrics::local().make_histogram(
          "shoal_log_flush_seconds", "Duration of one mutation-log flush (write + fdatasync)")),
      write_errors_(metrics::local().make_counter("shoal_log_write_errors_total",
                                                  "Mutation-log flushes that failed")) {}

mutation_log::~mutation_log() = default;

uint64_t mutation_log::first_lsn() const {
  if (!segments_.empty()) return segments_.front().base_lsn;
  if (!backlog_.empty()) return backlog_.front().first_lsn;
  return next_lsn_;
}

uint64_t mutation_log::disk_bytes() const {
  uint64_t total = 0;
  for (auto& s : segments_) total += s.size;
  return total;
}

awaitable<result<std::unique_ptr<mutation_log>>> mutation_log::open(log_config cfg,
                                                                    replay_options replay,
                                                                    recovery_report* report_out) {
  std::unique_ptr<mutation_log> wal(new mutation_log(std::move(cfg)));
  recovery_report report;
  auto r = co_await wal->recover(replay, report);
  if (!r) co_return r.error();
  if (report_out) *report_out = report;
  co_return std::move(wal);
}

awaitable<result<void>> mutation_log::recover(replay_options& replay, recovery_report& report) {
  auto dir = cfg_.dir;
  auto names =
      co_await pool().run(rt::blocking_reason::open, [dir]() -> result<std::vector<std::string>> {
        if (auto r = fileio::create_dirs(dir); !r) return r.error();
        return fileio::list_files(dir);
      });
  if (!names) co_return names.error();
  std::vector<std::pair<segment_header, std::string>> found;
  for (auto& n : *names) {
    if (auto h = parse_segment_file_name(n)) found.emplace_back(*h, n);
  }
  std::sort(found.begin(), found.end(),
            [](auto& a, auto& b) { return a.first.base_lsn < b.first.base_lsn; });

  for (size_t i = 0; i < found.size(); ++i) {
    bool last = i + 1 == found.size();
    auto path = cfg_.dir / found[i].second;
    auto opened = co_await pool().run(rt::blocking_reason::open,
                                      [path]() -> result<std::shared_ptr<segment_reader>> {
                                        auto r = segment_reader::open(path);
                                        if (!r) return r.error();
                                        return std::make_shared<segment_reader>(std::move(*r));
                                      });
    if (!opened) {
      // A crash while a segment was being created can leave it without a whole header.
      auto size = std::filesystem::file_size(path);
      if (last && size < kSegmentHeaderSize) {
        log().warn("removing {}: {} bytes, a segment whose creation never finished", path.string(),
                   size);
        co_await pool().run(rt::blocking_reason::unlink,
                            [path] { return fileio::remove_file(path); });
        report.torn_bytes_cut += size;
        continue;
      }
      log().error("{}: {}", path.string(), opened.error().message());
      co_return opened.error();
    }
    auto reader = *opened;
    if (reader->header().base_lsn != found[i].first.base_lsn) {
      log().error("{}: header says base LSN {}, the name says {}", path.string(),
                  reader->header().base_lsn, found[i].first.base_lsn);
      co_return errc::corrupt_segment;
    }
    if (!segments_.empty() && reader->header().base_lsn != segments_.back().last_lsn + 1) {
      log().error("{}: starts at LSN {} but the previous segment ends at {}", path.string(),
                  reader->header().base_lsn, segments_.back().last_lsn);
      co_return errc::lsn_gap;
    }
    for (;;) {
      auto batch = co_await pool().run(rt::blocking_reason::read, [reader, &replay] {
        return reader->next(replay.batch_bytes, replay.from);
      });
      if (!batch) co_return batch.error();
      report.records_scanned = reader->next_lsn() - reader->header().base_lsn;
      if (!batch->empty() && replay.apply) {
        report.records_replayed += batch->size();
        if (auto r = co_await replay.apply(*batch); !r) co_return r.error();
      }
      if (reader->at_end() || reader->stop()) break;
    }
    if (auto& stop = reader->stop()) {
      bool corrupt = !last;
      if (last) {
        auto follows = co_await pool().run(rt::blocking_reason::read,
                                           [reader] { return reader->valid_record_follows(); });
        if (!follows) co_return follows.error();
        corrupt = *follows;
      }
      if (corrupt) {
        log().error("{}: corrupt at offset {}: {}", path.string(), stop->offset, stop->reason);
        co_return errc::corrupt_segment;
      }
      uint64_t cut = reader->file_size() - stop->offset;
      log().warn("{}: cutting a torn tail of {} bytes at offset {} ({})", path.string(), cut,
                 stop->offset, stop->reason);
      auto offset = stop->offset;
      auto r = co_await pool().run(rt::blocking_reason::truncate, [path, offset]() -> result<void> {
        auto f = fileio::open_file(path, O_WRONLY);
        if (!f) return f.error();
        if (auto t = fileio::truncate(*f, static_cast<off_t>(offset)); !t) return t;
        return fileio::datasync(*f);
      });
      if (!r) co_return r.error();
      report.torn_bytes_cut += cut;
    }
    segment_info info;
    info.path = path;
    info.base_lsn = reader->header().base_lsn;
    info.term = reader->header().term;
    info.last_lsn = reader->next_lsn() - 1;
    info.size = reader->offset();
    info.index = reader->take_index_entries();
    segments_.push_back(std::move(info));
  }
  report.segments = segments_.size();

  uint64_t first = segments_.empty() ? 0 : segments_.front().base_lsn;
  uint64_t last = segments_.empty() ? 0 : segments_.back().last_lsn;
  bool has_records = !segments_.empty() && last >= first;
  if (has_records && last >= replay.from && first > replay.from) {
    log().error("{}: the log starts at LSN {} but recovery needs records from {}",
                cfg_.dir.string(), first, replay.from);
    co_return errc::lsn_gap;
  }
  if (!segments_.empty() && last + 1 < replay.min_next_lsn) {
    // Everything here is older than the snapshot: start a fresh log after it.
    log().info("{}: log ends at LSN {}, before the snapshot's {}; clearing it", cfg_.dir.string(),
               last, replay.min_next_lsn - 1);
    std::vector<std::filesystem::path> paths;
    for (auto& s : segments_) paths.push_back(s.path);
    auto d = cfg_.dir;
    auto r = co_await pool().run(rt::blocking_reason::unlink, [paths, d]() -> result<void> {
      for (auto& p : paths) {
        if (auto x = fileio::remove_file(p); !x) return x;
      }
      return fileio::sync_dir(d);
    });
    if (!r) co_return r.error();
    segments_.clear();
    has_records = false;
  }
  next_lsn_ = std::max(segments_.empty() ? uint64_t{1} : last + 1, replay.min_next_lsn);
  durable_lsn_ = next_lsn_ - 1;
  report.first_lsn = has_records ? first : 0;
  report.last_lsn = has_records ? last : 0;

  if (!segments_.empty()) {
    // What was read back may be only in the page cache (a crash of this process, not of the
    // machine, before its fdatasync): it is durable only once synced. Replication reports
    // durable_lsn to the leader as a copy that survives a power loss, so sync before saying so.
    std::vector<std::filesystem::path> paths;
    for (auto& seg : segments_) paths.push_back(seg.path);
    auto f = co_await pool().run(rt::blocking_reason::fsync, [paths]() -> result<fileio::file> {
      for (size_t i = 0; i + 1 < paths.size(); ++i) {
        auto older = fileio::open_file(paths[i], O_RDONLY);
        if (!older) return older.error();
        if (auto r = fileio::datasync(*older); !r) return r.error();
      }
      auto active = fileio::open_file(paths.back(), O_WRONLY);
      if (!active) return active.error();
      if (auto r = fileio::datasync(*active); !r) return r.error();
      return active;
    });
    if (!f) co_return f.error();
    active_ = std::move(*f);
  }
  co_return result<void>{};
}

uint64_t mutation_log::active_size_projected() const {
  if (!backlog_.empty()) {
    // The tail chunk's segment: its durable size (if it exists) plus what is pending for it.
    uint64_t size = 0;
    for (auto it = backlog_.rbegin(); it != backlog_.rend(); ++it) {
      size += it->bytes.size();
      if (it->new_segment) return size + kSegmentHeaderSize;
    }
    return size + (segments_.empty() ? kSegmentHeaderSize : segments_.back().size);
  }
  return segments_.empty() ? 0 : segments_.back().size;
}

result<mutation_log::chunk*> mutation_log::chunk_for_record(size_t body_bytes) {
  if (closed_) return errc::closed;
  if (failed_) return errc::log_failed;
  if (body_bytes > kMaxRecordBody) return errc::record_too_large;
  size_t estimate = kRecordHeaderSize + body_bytes;
  if (backlog_bytes_ > 0 && backlog_bytes_ + estimate > cfg_.max_backlog_bytes) {
    return errc::log_full;
  }
  uint64_t lsn = next_lsn_;
  bool no_segment = segments_.empty() && backlog_.empty();
  uint64_t projected = active_size_projected();
  bool roll = projected > kSegmentHeaderSize && projected + estimate > cfg_.segment_bytes;
  if (no_segment || roll || backlog_.empty()) {
    chunk c;
    c.new_segment = no_segment || roll;
    c.base_lsn = lsn;
    c.term = cfg_.term;
    c.first_lsn = lsn;
    backlog_.push_back(std::move(c));
  }
  return &backlog_.back();
}

uint64_t mutation_log::add_record(chunk& c, std::span<const std::byte, kRecordHeaderSize> header,
                                  std::span<const std::byte> stored) {
  size_t offset = c.bytes.size();
  c.bytes.put(header);
  c.bytes.put(stored);
  return record_added(c, offset);
}

uint64_t mutation_log::record_added(chunk& c, size_t offset) {
  uint64_t lsn = next_lsn_++;
  if (c.index.empty() || offset - c.index.back().second >= 64 * 1024) {
    c.index.emplace_back(lsn, offset);
  }
  c.last_lsn = lsn;
  backlog_bytes_ += c.bytes.size() - offset;
  return lsn;
}

result<uint64_t> mutation_log::append(uint64_t term, uint8_t type, std::span<const std::byte> body,
                                      bool compressible) {
  auto c = chunk_for_record(body.size());
  if (!c) return c.error();
  std::vector<std::byte> packed;
  bool lz4 = compressible && compress_body(body, cfg_.compress_threshold, packed);
  std::span<const std::byte> stored = lz4 ? std::span<const std::byte>(packed) : body;
  auto header = encode_record_header(next_lsn_, term, type, lz4 ? kFlagLz4 : 0,
                                     static_cast<uint32_t>(body.size()), stored);
  return add_record(**c, header, stored);
}

result<uint64_t> mutation_log::append(uint64_t term, uint8_t type, std::vector<std::byte>&& body,
                                      bool compressible) {
  // Small bodies are cheaper to copy into a shared piece than to write as a piece of their own.
  constexpr size_t kAdoptFrom = 16 << 10;
  if (body.size() < kAdoptFrom)
    return append(term, type, std::span<const std::byte>(body), compressible);
  auto c = chunk_for_record(body.size());
  if (!c) return c.error();
  std::vector<std::byte> packed;
  if (compressible && compress_body(body, cfg_.compress_threshold, packed)) {
    auto header = encode_record_header(next_lsn_, term, type, kFlagLz4,
                                       static_cast<uint32_t>(body.size()), packed);
    return add_record(**c, header, packed);
  }
  auto header =
      encode_record_header(next_lsn_, term, type, 0, static_cast<uint32_t>(body.size()), body);
  size_t offset = (*c)->bytes.size();
  (*c)->bytes.put(header);
  (*c)->bytes.adopt(std::move(body));
  return record_added(**c, offset);
}

void mutation_log::request_flush() {
  if (backlog_.empty() || failed_) return;
  flush_requested_ = true;
  kick_flush();
}

awaitable<result<void>> mutation_log::sync(uint64_t lsn) {
  if (lsn <= durable_lsn_) co_return result<void>{};
  if (failed_) co_return errc::log_failed;
  if (lsn >= next_lsn_) co_return errc::lsn_out_of_range;
  waiter w;
  auto it = waiters_.emplace(lsn, &w);
  struct unlink_on_exit {
    mutation_log* self;
    std::multimap<uint64_t, waiter*>::iterator it;
    waiter* w;
    ~unlink_on_exit() {
      if (!w->done.is_set()) self->waiters_.erase(it);
    }
  } guard{this, it, &w};
  kick_flush();
  co_await w.done.wait();
  if (w.status) co_return w.status;
  co_return result<void>{};
}

void mutation_log::kick_flush() {
  if (flushing_) return;
  flushing_ = true;
  asio::co_spawn(rt::runtime::current().local().executor(), flush_loop(), asio::detached);
}

void mutation_log::fail_waiters(error_code ec, bool all) {
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    if (all || it->first > durable_lsn_) {
      it->second->status = ec;
      it->second->done.set();
      it = waiters_.erase(it);
    } else {
      ++it;
    }
  }
}

void mutation_log::discard_backlog(error_code ec) {
  if (next_lsn_ == durable_lsn_ + 1) return;
  uint64_t first = durable_lsn_ + 1, last = next_lsn_ - 1;
  backlog_.clear();
  backlog_bytes_ = 0;
  next_lsn_ = durable_lsn_ + 1;
  log().warn("{}: dropped LSNs {}..{} that were not yet durable: {}", cfg_.dir.string(), first,
             last, ec.message());
  if (on_discard_) on_discard_(first, last, ec);
}

awaitable<void> mutation_log::flush_loop() {
  auto hold = gate_.enter();
  auto lock = co_await io_lock_.acquire(1);
  while (hold && lock && !backlog_.empty() && !failed_ && (!waiters_.empty() || flush_requested_)) {
    flush_requested_ = false;
    std::vector<chunk> work(std::make_move_iterator(backlog_.begin()),
                            std::make_move_iterator(backlog_.end()));
    backlog_.clear();
    size_t work_bytes = 0;
    for (auto& c : work) work_bytes += c.bytes.size();

    auto job = std::make_shared<write_job>();
    job->dir = cfg_.dir;
    job->active = std::move(active_);
    job->active_size = segments_.empty() ? 0 : segments_.back().size;
    auto chunks = std::make_shared<std::vector<chunk>>(std::move(work));
    auto t0 = std::chrono::steady_clock::now();
    co_await pool().run(rt::blocking_reason::fsync, [job, chunks] {
      fileio::file original = std::move(job->active);
      fileio::file current;  // a segment created by this job
      bool wrote_original = false;
      auto rollback = [&] {
        for (auto& t : job->segments) {
          if (t.created) (void)fileio::remove_file(t.path);
        }
        if (wrote_original) (void)fileio::truncate(original, static_cast<off_t>(job->active_size));
        (void)fileio::sync_dir(job->dir);
      };
      for (auto& c : *chunks) {
        if (c.new_segment) {
          write_job::touched t;
          t.created = true;
          t.path = job->dir / segment_file_name(c.base_lsn, c.term);
          t.base_lsn = c.base_lsn;
          t.term = c.term;
          t.size_before = 0;
          t.size_after = kSegmentHeaderSize;
          t.last_lsn = c.base_lsn - 1;
          auto f = fileio::open_file(t.path, O_WRONLY | O_CREAT | O_EXCL);
          if (!f) {
            job->write_error = f.error();
            rollback();
            job->active = std::move(original);
            return;
          }
          job->segments.push_back(t);  // recorded first, so rollback removes it
          if (current.is_open()) {
            if (auto s = fileio::datasync(current); !s) {
              job->sync_error = s.error();
              return;
            }
          }
          current = std::move(*f);
          auto header = encode_segment_header({c.base_lsn, c.term});
          if (auto w = fileio::pwrite_all(current, header, 0); !w) {
            job->write_error = w.error();
            rollback();
            job->active = std::move(original);
            return;
          }
        } else if (job->segments.empty()) {
          write_job::touched t;
          t.size_before = t.size_after = job->active_size;
          job->segments.push_back(t);
        }
        auto& t = job->segments.back();
        auto& target = t.created ? current : original;
        if (!t.created) wrote_original = true;
        if (auto w =
                fileio::pwritev_all(target, c.bytes.pieces(), static_cast<off_t>(t.size_after));
            !w) {
          job->write_error = w.error();
          rollback();
          job->active = std::move(original);
          return;
        }
        for (auto [lsn, off] : c.index) t.index.emplace_back(lsn, t.size_after + off);
        t.size_after += c.bytes.size();
        t.last_lsn = c.last_lsn;
      }
      // Durable: every file written, then the directory when segments were created.
      if (wrote_original) {
        if (auto s = fileio::datasync(original); !s) {
          job->sync_error = s.error();
          return;
        }
      }
      if (current.is_open()) {
        if (auto s = fileio::datasync(current); !s) {
          job->sync_error = s.error();
          return;
        }
        if (auto s = fileio::sync_dir(job->dir); !s) {
          job->sync_error = s.error();
          return;
        }
        job->active = std::move(current);
      } else {
        job->active = std::move(original);
      }
    });
    fsync_seconds_.observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    fsyncs_.inc();
    backlog_bytes_ -= std::min(backlog_bytes_, work_bytes);

    if (job->sync_error) {
      failed_ = true;
      write_errors_.inc();
      log().critical("{}: fdatasync failed ({}); the log takes no more writes until restart",
                     cfg_.dir.string(), job->sync_error.message());
      discard_backlog(job->sync_error);
      fail_waiters(job->sync_error, true);
      break;
    }
    active_ = std::move(job->active);
    if (job->write_error) {
      write_errors_.inc();
      log().warn("{}: write failed: {}", cfg_.dir.string(), job->write_error.message());
      discard_backlog(job->write_error);
      fail_waiters(job->write_error, true);
      continue;
    }
    for (auto& t : job->segments) {
      if (!t.created) {
        auto& s = segments_.back();
        s.size = t.size_after;
        s.last_lsn = t.last_lsn;
        s.index.insert(s.index.end(), t.index.begin(), t.index.end());
      } else {
        segments_.push_back(
            segment_info{t.path, t.base_lsn, t.term, t.last_lsn, t.size_after, std::move(t.index)});
      }
      bytes_written_.inc(t.size_after - t.size_before);
    }
    durable_lsn_ = chunks->back().last_lsn;
    for (auto it = waiters_.begin(); it != waiters_.end() && it->first <= durable_lsn_;) {
      it->second->done.set();
      it = waiters_.erase(it);
    }
    if (on_durable_) on_durable_(durable_lsn_);
  }
  flushing_ = false;
}

mutation_log::segment_info* mutation_log::segment_for(uint64_t lsn) {
  for (auto it = segments_.rbegin(); it != segments_.rend(); ++it) {
    if (it->base_lsn <= lsn) return lsn <= it->last_lsn ? &*it : nullptr;
  }
  return nullptr;
}

awaitable<result<std::vector<log_record>>> mutation_log::read(uint64_t from, size_t max_bytes) {
  if (closed_) co_return errc::closed;
  if (from > durable_lsn_) co_return std::vector<log_record>{};
  auto* seg = segment_for(from);
  if (!seg) co_return errc::lsn_out_of_range;
  auto path = seg->path;
  uint64_t limit = seg->size;
  uint64_t offset = kSegmentHeaderSize, at_lsn = seg->base_lsn;
  auto pos =
      std::upper_bound(seg->index.begin(), seg->index.end(), std::make_pair(from, UINT64_MAX));
  if (pos != seg->index.begin()) {
    --pos;
    at_lsn = pos->first;
    offset = pos->second;
  }
  auto records = co_await pool().run(
      rt::blocking_reason::read,
      [path, limit, offset, at_lsn, from, max_bytes]() -> result<std::vector<log_record>> {
        auto r = segment_reader::open(path, limit);
        if (!r) return r.error();
        r->seek(offset, at_lsn);
        auto batch = r->next(max_bytes, from);
        if (!batch) return batch.error();
        if (batch->empty() && r->stop()) return errc::corrupt_segment;
        return batch;
      });
  co_return records;
}

awaitable<result<void>> mutation_log::truncate_prefix(uint64_t upto) {
  if (closed_) co_return errc::closed;
  auto lock = co_await io_lock_.acquire(1);
  if (!lock) co_return lock.error();
  std::vector<std::filesystem::path> doomed;
  size_t n = 0;
  while (n + 1 < segments_.size() && segments_[n].last_lsn < upto) {
    doomed.push_back(segments_[n].path);
    ++n;
  }
  if (doomed.empty()) co_return result<void>{};
  auto dir = cfg_.dir;
  auto r = co_await pool().run(rt::blocking_reason::unlink, [doomed, dir]() -> result<void> {
    for (auto& p : doomed) {
      if (auto x = fileio::remove_file(p); !x) return x;
    }
    return fileio::sync_dir(dir);
  });
  if (!r) co_return r.error();
  segments_.erase(segments_.begin(), segments_.begin() + static_cast<ptrdiff_t>(n));
  co_return result<void>{};
}

awaitable<result<void>> mutation_log::truncate_suffix(uint64_t from) {
  if (closed_) co_return errc::closed;
  if (failed_) co_return errc::log_failed;
  if (from < first_lsn() || from > next_lsn_) co_return errc::lsn_out_of_range;
  // On return every record before `from` is durable, whether or not anything was cut.
  if (auto s = co_await sync(next_lsn_ - 1); !s) co_return s.error();
  if (from == next_lsn_) co_return result<void>{};
  auto lock = co_await io_lock_.acquire(1);
  if (!lock) co_return lock.error();

  size_t k = 0;
  while (k + 1 < segments_.size() && segments_[k + 1].base_lsn <= from) ++k;
  auto& seg = segments_[k];
  // A segment that would lose all its records is removed, unless it is the first: that one is
  // cut back to its header, so the log still knows where its LSNs continue.
  bool whole = from <= seg.base_lsn && k > 0;
  std::vector<std::filesystem::path> doomed;
  for (size_t i = whole ? k : k + 1; i < segments_.size(); ++i) doomed.push_back(segments_[i].path);
  auto path = seg.path;
  uint64_t limit = seg.size;
  uint64_t seek_offset = kSegmentHeaderSize, seek_lsn = seg.base_lsn;
  for (auto& [lsn, off] : seg.index) {
    if (lsn > from) break;
    seek_lsn = lsn;
    seek_offset = off;
  }
  auto dir = cfg_.dir;
  active_.close();
  struct outcome {
    uint64_t cut_at = 0;
    fileio::file active;
  };
  std::optional<std::filesystem::path> new_active;
  if (!whole)
    new_active = path;
  else if (k > 0)
    new_active = segments_[k - 1].path;
  auto r = co_await pool().run(rt::blocking_reason::truncate, [=]() -> result<outcome> {
    outcome o;
    if (!whole) {
      // Find where record `from` starts, then cut the file there.
      auto reader = segment_reader::open(path, limit);
      if (!reader) return reader.error();
      reader->seek(seek_offset, seek_lsn);
      auto b = reader->next(SIZE_MAX, UINT64_MAX, from);  // validates and skips up to `from`
      if (!b) return b.error();
      if (reader->next_lsn() != from) return errc::corrupt_segment;
      o.cut_at = reader->offset();
      auto f = fileio::open_file(path, O_WRONLY);
      if (!f) return f.error();
      if (auto t = fileio::truncate(*f, static_cast<off_t>(o.cut_at)); !t) return t.error();
      if (auto s = fileio::datasync(*f); !s) return s.error();
    }
    for (auto& p : doomed) {
      if (auto x = fileio::remove_file(p); !x) return x.error();
    }
    if (auto s = fileio::sync_dir(dir); !s) return s.error();
    if (new_active) {
      auto f = fileio::open_file(*new_active, O_WRONLY);
      if (!f) return f.error();
      o.active = std::move(*f);
    }
    return o;
  });
  if (!r) {
    log().error("{}: truncating from LSN {} failed: {}", cfg_.dir.string(), from,
                r.error().message());
    failed_ = true;  // the files may be half changed: make a restart re-read them
    co_return r.error();
  }
  segments_.erase(segments_.begin() + static_cast<ptrdiff_t>(whole ? k : k + 1), segments_.end());
  if (!whole) {
    auto& s = segments_.back();
    s.size = r->cut_at;
    s.last_lsn = from - 1;
    std::erase_if(s.index, [from](auto& e) { return e.first >= from; });
  }
  active_ = std::move(r->active);
  next_lsn_ = from;
  durable_lsn_ = from - 1;
  co_return result<void>{};
}

awaitable<void> mutation_log::close() {
  if (closed_) co_return;
  if (!failed_ && next_lsn_ > durable_lsn_ + 1) (void)co_await sync(next_lsn_ - 1);
  closed_ = true;
  co_await gate_.close();
  auto lock = co_await io_lock_.acquire(1);
  auto f = std::make_shared<fileio::file>(std::move(active_));
  co_await pool().run(rt::blocking_reason::close, [f] { f->close(); });
}

awaitable<void> mutation_log::abandon() {
  closed_ = true;
  fail_waiters(errc::closed, true);
  co_await gate_.close();
  auto lock = co_await io_lock_.acquire(1);
  backlog_.clear();
  backlog_bytes_ = 0;
  auto f = std::make_shared<fileio::file>(std::move(active_));
  co_await pool().run(rt::blocking_reason::close, [f] { f->close(); });
}

}  // namespace shoal::wal
