#include "replication/log_shipper.h"

#include <fcntl.h>

#include "engine/common/file_io.h"
#include "engine/common/logger.h"
#include "engine/runtime/blocking_pool.h"
#include "engine/runtime/runtime.h"
#include "engine/shard/errc.h"
#include "replication/errc.h"
#include "replication/wire.h"

namespace shoal::repl {
namespace {

spdlog::logger& log() {
  static auto& l = logging::get("replication");
  return l;
}

/// An RPC failure as a replication error: the tag of the follower's message says what kind.
error_code error_of(const rpc::error& e) {
  switch (e.code) {
    case rpc::status::timeout:
    case rpc::status::overloaded:
    case rpc::status::unavailable:
    case rpc::status::disconnected:
    case rpc::status::connect_failed:
      return errc::unreachable;
    default:
      break;
  }
  auto tag = error_tag(e.message);
  if (tag == "stale_term") return errc::deposed;
  if (tag == "log_mismatch") return errc::log_mismatch;
  if (tag == "needs_snapshot") return errc::needs_snapshot;
  return errc::refused;
}

}  // namespace

log_shipper::log_shipper(shard::shard& s, std::string collection, uint32_t shard_id, uint64_t term,
                         shipper_options o, std::function<void(uint64_t)> on_ack,
                         std::function<void(uint64_t)> on_deposed)
    : shard_(s),
      collection_(std::move(collection)),
      shard_id_(shard_id),
      term_(term),
      o_(std::move(o)),
      on_ack_(std::move(on_ack)),
      on_deposed_(std::move(on_deposed)) {}

log_shipper::~log_shipper() = default;

shard_ref log_shipper::ref() const {
  return {collection_, shard_id_, term_, shard_.incarnation()};
}

void log_shipper::start() {
  auto ex = rt::runtime::current().local().executor();
  rpc::client_options co;
  co.host = o_.host;
  co.port = o_.port;
  co.max_in_flight = 4;
  co.request_timeout = o_.request_timeout;
  co.connect_timeout =
      std::min<std::chrono::milliseconds>(o_.request_timeout, std::chrono::seconds(2));
  co.backoff_max = std::chrono::milliseconds(1000);
  co.compress_threshold = o_.compress_threshold;
  co.security = o_.security;
  client_ = std::make_unique<rpc::client>(ex, co);
  metrics_ = std::make_unique<stream_metrics>(collection_, shard_id_, o_.follower_id, [this] {
    auto l = lag();
    return stream_gauges{l.lsn, l.ms, status_.acked_durable_lsn, status_.connected};
  });
  pause_timer_ = std::make_unique<asio::steady_timer>(ex);
  asio::co_spawn(ex, run(), asio::detached);
}

awaitable<void> log_shipper::stop() {
  if (!client_) co_return;
  stopping_ = true;
  client_->close();
  pause_timer_->cancel();
  while (!done_.is_set()) co_await done_.wait();
}

awaitable<void> log_shipper::pause(std::chrono::milliseconds d) {
  pause_timer_->expires_after(d);
  co_await pause_timer_->async_wait(use_nothrow_awaitable);
}

awaitable<void> log_shipper::run() {
  std::string last_error;
  while (!stopping_ && !shard_.closed()) {
    status_.connected = false;
    note_pending();
    auto prev = co_await align();
    if (prev) {
      status_.connected = true;
      ++status_.alignments;
      metrics_->alignments.inc();
      status_.needs_snapshot = false;
      if (!last_error.empty()) {
        log().info("{}/{} -> {}: shipping again from LSN {}", collection_, shard_id_,
                   o_.follower_id, *prev + 1);
        last_error.clear();
      }
      auto t = co_await tail(*prev);
      if (t) continue;
      prev = t.error();
    }
    if (stopping_ || shard_.closed()) break;
    auto ec = prev.error();
    if (ec == errc::deposed) {
      log().warn("{}/{} -> {}: the follower knows a newer term than {}; no longer leading",
                 collection_, shard_id_, o_.follower_id, term_);
      if (on_deposed_) on_deposed_(term_ + 1);
      break;
    }
    status_.needs_snapshot = ec == errc::needs_snapshot;
    if (status_.needs_snapshot) {
      log().info("{}/{} -> {}: the follower is behind this log's start; sending a snapshot",
                 collection_, shard_id_, o_.follower_id);
      auto sent = co_await transfer_snapshot();
      if (sent) {
        ++status_.snapshots_sent;
        continue;  // align again: it now ends at the snapshot's LSN
      }
      ec = sent.error();
      if (stopping_ || shard_.closed()) break;
    }
    if (ec.message() != last_error) {
      (ec == errc::unreachable
           ? log().info("{}/{} -> {}: {}", collection_, shard_id_, o_.follower_id, ec.message())
           : log().warn("{}/{} -> {}: {}", collection_, shard_id_, o_.follower_id, ec.message()));
      last_error = ec.message();
    }
    co_await pause(status_.needs_snapshot ? o_.retry_backoff * 10 : o_.retry_backoff);
  }
  status_.connected = false;
  done_.set();
}

awaitable<result<void>> log_shipper::transfer_snapshot() {
  auto& pool = rt::runtime::current().blocking();
  // A hard link of the snapshot, so a newer snapshot cannot remove the file mid-transfer;
  // ".tmp", so a restart clears it if this stream never does.
  auto link = shard_.dir() / ("transfer-" + o_.follower_id + ".tmp");
  (void)co_await pool.run(rt::blocking_reason::unlink,
                          [link] { return fileio::remove_file(link); });
  auto lsn = co_await shard_.export_snapshot(link);
  if (!lsn) co_return lsn.error();
  auto fd = std::make_shared<fileio::file>();
  auto opened = co_await pool.run(rt::blocking_reason::open, [link, fd]() -> result<uint64_t> {
    auto f = fileio::open_file(link, O_RDONLY | O_CLOEXEC);
    if (!f) return f.error();
    *fd = std::move(*f);
    auto size = fileio::size_of(*fd);
    if (!size) return size.error();
    return static_cast<uint64_t>(*size);
  });
  result<void> outcome;
  if (!opened) {
    outcome = opened.error();
  } else {
    uint64_t total = *opened;
    auto terms = shard_.terms();
    terms.truncate_after(*lsn);
    log().info("{}/{} -> {}: sending the snapshot at LSN {} ({} bytes)", collection_, shard_id_,
               o_.follower_id, *lsn, total);
    uint64_t offset = 0;
    do {
      size_t n = static_cast<size_t>(std::min<uint64_t>(o_.snapshot_chunk_bytes, total - offset));
      auto buf = std::make_shared<std::vector<std::byte>>(n);
      auto read = co_await pool.run(rt::blocking_reason::read, [fd, buf, offset] {
        return fileio::pread_full(*fd, *buf, static_cast<off_t>(offset));
      });
      if (!read || *read != n) {
        outcome = read ? error_code(errc::refused) : read.error();  // the file shrank: a bug
        break;
      }
      snapshot_chunk c;
      c.ref = ref();
      c.lsn = *lsn;
      c.total_size = total;
      c.offset = offset;
      c.last = offset + n == total;
      c.data = std::move(*buf);
      if (c.last) c.terms = terms.entries();
      // The last chunk waits for the follower to check and load the whole snapshot.
      auto answer = co_await client_->call(
          method::snapshot, encode(c),
          std::max<std::chrono::milliseconds>(o_.request_timeout, std::chrono::minutes(5)));
      if (!answer) {
        outcome = error_of(answer.error());
        break;
      }
      status_.bytes_shipped += n;
      offset += n;
    } while (offset < total && !stopping_);
    if (outcome && offset < total) outcome = errc::stopped;
  }
  (void)co_await pool.run(rt::blocking_reason::unlink, [link, fd] {
    fd->close();
    return fileio::remove_file(link);
  });
  if (outcome) {
    log().info("{}/{} -> {}: the follower installed the snapshot at LSN {}", collection_, shard_id_,
               o_.follower_id, *lsn);
  }
  co_return outcome;
}

awaitable<result<uint64_t>> log_shipper::align() {
  auto answer = co_await client_->call(method::position, encode(ref()));
  if (!answer) co_return error_of(answer.error());
  auto pos = decode_position(answer->span());
  if (!pos) co_return errc::refused;
  if (pos->term > term_) co_return errc::deposed;
  // Where the follower's log stops agreeing with ours: the last LSN where both hold a record of
  // the same term (everything before it is then the same too).
  uint64_t common = common_point_with(*pos);
  if (common < pos->last_lsn) {
    log().warn("{}/{} -> {}: follower holds LSNs {}..{} this leader never had; cutting them",
               collection_, shard_id_, o_.follower_id, common + 1, pos->last_lsn);
    ++status_.truncations;
    metrics_->truncations.inc();
    auto cut = co_await client_->call(method::truncate, encode(truncate_request{ref(), common}));
    if (!cut) co_return error_of(cut.error());
  }
  if (pos->durable_lsn >= common) {
    status_.acked_durable_lsn = common;
    if (on_ack_) on_ack_(common);
  }
  note_pending();
  auto here = shard_.position();
  if (common + 1 < here.first_lsn) co_return errc::needs_snapshot;
  if (common > here.last_lsn) co_return errc::log_mismatch;  // cannot happen after the cut
  co_return common;
}

uint64_t log_shipper::common_point_with(const position_answer& pos) const {
  const auto& mine = shard_.terms();
  shard::log_view here{mine.entries(), shard_.position().last_lsn, 0};
  if (pos.has_terms) {
    return shard::common_point(here, {pos.terms, pos.last_lsn, pos.terms_from});
  }
  // A follower of an older version sends no history, only the term of its last record. One
  // leader wrote that term, so where this log has it, the follower's run of it starts at the
  // same LSN: the logs agree up to the end of that term in both. Where this log lacks it,
  // nothing is known to agree: the follower starts over (cut to 0, or sent a snapshot).
  auto start = mine.start_of(pos.last_term);
  if (!start) return 0;
  shard::term_start theirs{pos.last_term, *start};
  return shard::common_point(here, {std::span(&theirs, 1), pos.last_lsn, *start});
}

awaitable<result<void>> log_shipper::tail(uint64_t prev) {
  uint64_t prev_term = shard_.term_at(prev);
  auto last_sent = std::chrono::steady_clock::now();
  while (!stopping_ && !shard_.closed()) {
    auto records = co_await shard_.read_log(prev + 1, o_.batch_bytes);
    if (!records) {
      if (records.error() == shard::errc::needs_snapshot) co_return errc::needs_snapshot;
      co_return records.error();
    }
    auto read_at = std::chrono::steady_clock::now();
    uint64_t durable_at_read = shard_.position().durable_lsn;
    note_pending();
    if (records->empty()) {
      auto since = std::chrono::steady_clock::now() - last_sent;
      if (since < o_.heartbeat) {
        (void)co_await shard_.wait_durable_beyond(prev, o_.heartbeat - since);
        continue;  // new records, or time for a heartbeat
      }
    }
    append_request req;
    req.ref = ref();
    req.prev_lsn = prev;
    req.prev_term = prev_term;
    req.sync = true;
    size_t bytes = 0;
    for (auto& r : *records) bytes += r.body.size();
    uint64_t next_prev = records->empty() ? prev : records->back().lsn;
    uint64_t next_term = records->empty() ? prev_term : records->back().term;
    size_t n = records->size();
    req.records = std::move(*records);
    auto answer = co_await client_->call(method::append, encode(req));
    last_sent = std::chrono::steady_clock::now();
    if (!answer) co_return error_of(answer.error());
    auto ack = decode_append_answer(answer->span());
    if (!ack) co_return errc::refused;
    prev = next_prev;
    prev_term = next_term;
    status_.bytes_shipped += bytes;
    status_.records_shipped += n;
    metrics_->bytes_shipped.inc(bytes);
    metrics_->records_shipped.inc(n);
    status_.last_ack = last_sent;
    if (ack->durable_lsn > status_.acked_durable_lsn) {
      status_.acked_durable_lsn = ack->durable_lsn;
      if (on_ack_) on_ack_(ack->durable_lsn);
    }
    settle_pending(next_prev, read_at, next_prev >= durable_at_read);
  }
  co_return errc::stopped;
}

void log_shipper::note_pending() const {
  if (status_.acked_durable_lsn >= shard_.position().durable_lsn) {
    pending_since_.reset();
  } else if (!pending_since_) {
    pending_since_ = std::chrono::steady_clock::now();
  }
}

void log_shipper::settle_pending(uint64_t sent_through,
                                 std::chrono::steady_clock::time_point read_at, bool read_all) {
  if (status_.acked_durable_lsn >= shard_.position().durable_lsn) {
    pending_since_.reset();
  } else if ((read_all && status_.acked_durable_lsn >= sent_through) || !pending_since_) {
    // What is still pending became durable after that read (or, if the read left records
    // behind, earlier: then the older start stands).
    pending_since_ = read_at;
  }
}

shipper_lag log_shipper::lag() const {
  note_pending();
  auto last = shard_.position().last_lsn;
  shipper_lag l;
  l.lsn = last > status_.acked_durable_lsn ? last - status_.acked_durable_lsn : 0;
  if (pending_since_) {
    l.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                     *pending_since_)
               .count();
  }
  return l;
}

}  // namespace shoal::repl
