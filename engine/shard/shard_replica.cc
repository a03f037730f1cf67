// A shard's replication surface (shard.h, "Replication"): roles and terms, the follower's append
// of records its leader wrote, truncation of a diverged suffix, and the leader's log reads.
//
// Invariants (checked in release builds too, PRACTICES A19):
//  * a follower's log is a prefix of its leader's plus nothing else: records are appended only
//    when they continue the log exactly (LSN and the term of the previous record match);
//  * terms in the log never decrease, and a record's term is never newer than its sender's;
//  * the term history is durable before any record of a new term is appended, so after a crash
//    every record on disk has its term on record.
#include <chrono>

#include "engine/common/assert.h"
#include "engine/common/file_io.h"
#include "engine/common/logger.h"
#include "engine/runtime/blocking_pool.h"
#include "engine/shard/errc.h"
#include "engine/shard/shard.h"
#include "engine/shard/shard_snapshot.h"

namespace shoal::shard {
namespace {

spdlog::logger& log() {
  static auto& l = logging::get("shard");
  return l;
}

awaitable<result<void>> save_terms(const term_history& h, const std::filesystem::path& dir) {
  co_return co_await rt::runtime::current().blocking().run(rt::blocking_reason::write,
                                                           [h, dir] { return h.save(dir); });
}

awaitable<void> yield_now() {
  co_await asio::post(co_await asio::this_coro::executor, use_awaitable);
}

}  // namespace

shard::replica_position shard::position() const {
  replica_position p;
  p.term = known_term_;
  p.leader = leader_;
  p.snapshot_lsn = snapshot_lsn_;
  if (log_) {
    p.last_lsn = log_->last_lsn();
    p.durable_lsn = log_->durable_lsn();
    p.first_lsn = log_->first_lsn();
  }
  p.last_term = terms_.term_at(p.last_lsn);
  return p;
}

result<replica_digest> shard::digest() const {
  if (closed_) return errc::closed;
  // While memory is rebuilt (a failed write, a cut suffix, an installed snapshot) the store
  // may hold records the log no longer has.
  if (reloading_ || !log_) return errc::recovering;
  replica_digest d;
  d.lsn = log_->last_lsn();  // appends are applied in the same step: memory is at last_lsn
  d.term = terms_.term_at(d.lsn);
  d.points = store_.size();
  d.checksum = store_.checksum();
  return d;
}

replica_checksum shard::checksum_from_scratch() const {
  return compute_checksum(*config_, store_, indexes_);
}

uint64_t shard::end_of_term(uint64_t term) const {
  return terms_.end_of(term, log_ ? log_->last_lsn() : 0);
}

awaitable<result<void>> shard::become_leader(uint64_t term) {
  auto hold = gate_.enter();
  if (!hold) co_return errc::closed;
  auto lock = co_await replica_lock_.acquire();
  if (!lock) co_return errc::closed;
  if (leader_ && term == known_term_) co_return result<void>{};
  if (term <= known_term_ && !(term == 0 && known_term_ == 0)) co_return errc::stale_term;
  if (!log_ || reloading_) co_return errc::recovering;
  term_history next = terms_;
  bool begun = next.begin(term, log_->next_lsn());
  SHOAL_ASSERT(begun, "term {} must start after term {}", term, terms_.current_term());
  if (auto s = co_await save_terms(next, opts_.dir); !s) co_return s.error();
  terms_ = std::move(next);
  known_term_ = term;
  aligned_term_ = term;
  leader_ = true;
  log().info("{}: leads in term {} from LSN {}", opts_.dir.string(), term, log_->next_lsn());
  co_return result<void>{};
}

awaitable<result<void>> shard::become_follower(uint64_t term) {
  auto hold = gate_.enter();
  if (!hold) co_return errc::closed;
  auto lock = co_await replica_lock_.acquire();
  if (!lock) co_return errc::closed;
  if (term < known_term_) co_return errc::stale_term;
  if (leader_) log().info("{}: follows the leader of term {}", opts_.dir.string(), term);
  known_term_ = term;
  leader_ = false;
  co_return result<void>{};
}

awaitable<result<uint64_t>> shard::append_replicated(uint64_t leader_term, uint64_t prev_lsn,
                                                     uint64_t prev_term,
                                                     std::vector<wal::log_record> records,
                                                     bool sync) {
  auto hold = gate_.enter();
  if (!hold) co_return errc::closed;
  auto lock = co_await replica_lock_.acquire();
  if (!lock) co_return errc::closed;
  co_await wait_writable();
  if (closed_) co_return errc::closed;
  if (reloading_ || !log_) co_return errc::recovering;
  if (leader_term < known_term_) co_return errc::stale_term;
  if (leader_term == known_term_ && leader_ && leader_term != 0) {
    // Two leaders of one term would mean the lease protocol failed; refuse rather than mix.
    log().error("{}: records from another leader of my own term {}", opts_.dir.string(),
                leader_term);
    co_return errc::log_mismatch;
  }
  if (leader_ || leader_term > known_term_) {
    if (leader_)
      log().info("{}: steps down for the leader of term {}", opts_.dir.string(), leader_term);
    leader_ = false;
    known_term_ = leader_term;
  }
  if (prev_lsn != log_->last_lsn() || terms_.term_at(prev_lsn) != prev_term) {
    co_return errc::log_mismatch;
  }
  if (aligned_term_ != known_term_) {
    aligned_term_ = known_term_;  // the whole log is a prefix of the sender's (log matching)
    // Read-your-writes waiters may now have a verdict (wait_applied): wake them as a durable
    // advance would.
    durable_advanced_.set();
    durable_advanced_.reset();
  }
  // Check the whole batch before changing anything, so a bad batch changes nothing.
  uint64_t expect = prev_lsn + 1, term = prev_term;
  for (auto& r : records) {
    if (r.lsn != expect || r.term < term || r.term > leader_term) co_return errc::log_mismatch;
    expect = r.lsn + 1;
    term = r.term;
  }
  if (records.empty()) co_return log_->durable_lsn();
  if (!terms_.entries().empty() && terms_.entries().back().start_lsn > prev_lsn) {
    // A term this replica began as a leader and never wrote in: the leader's records take its
    // place, whatever their term (else the history would give them that term).
    term_history next = terms_;
    next.truncate_after(prev_lsn);
    if (auto s = co_await save_terms(next, opts_.dir); !s) co_return s.error();
    terms_ = std::move(next);
    if (closed_ || reloading_) co_return errc::recovering;
  }
  auto since_yield = std::chrono::steady_clock::now();
  uint64_t last = prev_lsn;
  for (auto& r : records) {
    if (r.term > terms_.current_term()) {
      term_history next = terms_;
      bool begun = next.begin(r.term, r.lsn);
      SHOAL_ASSERT(begun, "replicated term {} at LSN {} after term {}", r.term, r.lsn,
                   terms_.current_term());
      if (auto s = co_await save_terms(next, opts_.dir); !s) co_return s.error();
      terms_ = std::move(next);
      if (closed_ || reloading_) co_return errc::recovering;
    }
    auto m = decode_mutation(r.type, r.body);
    if (!m) {
      log().error("{}: replicated record LSN {} does not decode", opts_.dir.string(), r.lsn);
      co_return errc::bad_record;
    }
    auto lsn = log_->append(r.term, r.type, std::move(r.body));  // decoded: the log takes it
    if (!lsn) {
      write_errors_.inc();
      co_return lsn.error();
    }
    SHOAL_ASSERT(*lsn == r.lsn, "replicated record LSN {} appended as {}", r.lsn, *lsn);
    apply(std::move(*m), *lsn);
    writes_.inc();
    last = *lsn;
    if (std::chrono::steady_clock::now() - since_yield > opts_.chunk_budget) {
      // Memory still follows the log: nothing else appends while replica_lock_ is held and
      // client writes are refused on a follower.
      co_await yield_now();
      since_yield = std::chrono::steady_clock::now();
      if (closed_ || reloading_) co_return errc::recovering;
    }
  }
  if (sync) {
    if (auto s = co_await log_->sync(last); !s) {
      write_errors_.inc();
      co_return s.error();
    }
  } else {
    log_->request_flush();
  }
  maybe_snapshot();
  co_return log_->durable_lsn();
}

awaitable<result<void>> shard::truncate_after(uint64_t lsn) {
  auto hold = gate_.enter();
  if (!hold) co_return errc::closed;
  auto lock = co_await replica_lock_.acquire();
  if (!lock) co_return errc::closed;
  co_await wait_writable();
  if (closed_) co_return errc::closed;
  if (reloading_ || !log_) co_return errc::recovering;
  if (lsn >= log_->last_lsn()) co_return result<void>{};
  if (lsn < snapshot_lsn_ || lsn + 1 < log_->first_lsn()) co_return errc::needs_snapshot;
  log().warn("{}: cutting LSNs {}..{} that the leader never had", opts_.dir.string(), lsn + 1,
             log_->last_lsn());
  reloading_ = true;
  writable_.reset();
  auto cut = co_await log_->truncate_suffix(lsn + 1);
  term_history next = terms_;
  next.truncate_after(lsn);
  auto saved = cut ? co_await save_terms(next, opts_.dir) : result<void>{};
  // Memory holds the cut records: rebuild it from disk either way (reload ends `reloading_`).
  co_await reload();
  if (!cut) co_return cut.error();
  if (!saved) co_return saved.error();
  co_return result<void>{};
}

awaitable<result<std::vector<wal::log_record>>> shard::read_log(uint64_t from, size_t max_bytes) {
  auto hold = gate_.enter();
  if (!hold) co_return errc::closed;
  if (reloading_ || !log_) co_return errc::recovering;
  if (from < log_->first_lsn()) co_return errc::needs_snapshot;
  co_return co_await log_->read(from, max_bytes);
}

awaitable<result<void>> shard::wait_applied(uint64_t term, uint64_t lsn,
                                            std::chrono::milliseconds timeout) {
  auto deadline = rt::clock::now() + timeout;
  for (;;) {
    if (closed_) co_return errc::closed;
    if (log_ && !reloading_) {
      bool held = log_->last_lsn() >= lsn;
      if (held && terms_.term_at(lsn) == term) co_return result<void>{};
      // Another record at lsn (or none yet) is final only where this log is known to be a prefix
      // of the log of the leader of a term not older than the token's: then that record is the
      // one this lineage keeps at lsn, or, when lsn lies in the newest term here, will be written
      // in that term. Otherwise (a follower not yet aligned, a token from a term this replica has
      // not heard of) the record may still be cut and replaced by the token's: wait.
      if (aligned_term_ == known_term_ && term <= known_term_) {
        if (held) co_return errc::write_lost;
        auto newest = terms_.start_of(known_term_);
        if (term < known_term_ && newest && *newest <= lsn) co_return errc::write_lost;
      }
    }
    auto now = rt::clock::now();
    if (now >= deadline) co_return errc::read_after_timeout;
    // Followers fsync each batch they append, so "durable advanced" follows every append.
    (void)co_await durable_advanced_.wait(deadline - now);
  }
}

awaitable<bool> shard::wait_durable_beyond(uint64_t lsn, rt::clock::duration timeout) {
  auto deadline = rt::clock::now() + timeout;
  while (!closed_ && (!log_ || log_->durable_lsn() <= lsn)) {
    auto now = rt::clock::now();
    if (now >= deadline) co_return false;
    if (!co_await durable_advanced_.wait(deadline - now)) co_return false;
  }
  co_return !closed_;
}

awaitable<result<uint64_t>> shard::export_snapshot(std::filesystem::path link) {
  auto hold = gate_.enter();
  if (!hold) co_return errc::closed;
  for (int attempt = 0; attempt < 100; ++attempt) {
    co_await wait_writable();  // a snapshot already running finishes first
    if (closed_) co_return errc::closed;
    uint64_t lsn = UINT64_MAX;
    if (auto r = co_await take_snapshot(link, &lsn); !r) co_return r.error();
    if (lsn != UINT64_MAX) co_return lsn;
  }
  co_return errc::recovering;
}

awaitable<result<void>> shard::install_snapshot(std::filesystem::path file, uint64_t lsn,
                                                term_history terms) {
  auto hold = gate_.enter();
  if (!hold) co_return errc::closed;
  auto lock = co_await replica_lock_.acquire();
  if (!lock) co_return errc::closed;
  co_await wait_writable();
  if (closed_) co_return errc::closed;
  if (reloading_ || !log_) co_return errc::recovering;
  if (leader_) co_return errc::log_mismatch;  // a leader's state is its own
  auto& pool = rt::runtime::current().blocking();
  // Check the whole file before anything of this replica's state goes.
  auto checked = co_await pool.run(rt::blocking_reason::read, [file, lsn]() -> result<void> {
    std::string problem;
    auto summary = inspect_snapshot(file, &problem);
    if (!summary || summary->lsn != lsn) return errc::corrupt_snapshot;
    return result<void>{};
  });
  if (!checked) {
    log().error("{}: snapshot transferred from the leader fails its checks", opts_.dir.string());
    co_return checked.error();
  }
  terms.truncate_after(lsn);
  log().warn(
      "{}: replacing this replica's state (log to LSN {}, snapshot LSN {}) with the "
      "leader's snapshot at LSN {}",
      opts_.dir.string(), log_->last_lsn(), snapshot_lsn_, lsn);
  reloading_ = true;
  writable_.reset();
  co_await log_->close();
  // Order for crashes: the old state goes first, then the new snapshot and terms arrive. A
  // crash in between leaves an empty replica, which its leader fills again; never a mix.
  auto dir = opts_.dir;
  auto swapped =
      co_await pool.run(rt::blocking_reason::write, [dir, file, lsn, terms]() -> result<void> {
        auto log_dir = dir / "log";
        if (auto names = fileio::list_files(log_dir)) {
          for (auto& n : *names) {
            if (auto r = fileio::remove_file(log_dir / n); !r) return r.error();
          }
          if (auto r = fileio::sync_dir(log_dir); !r) return r.error();
        }
        auto names = fileio::list_files(dir);
        if (!names) return names.error();
        for (auto& n : *names) {
          if (parse_snapshot_file_name(n) || n == "terms") {
            if (auto r = fileio::remove_file(dir / n); !r) return r.error();
          }
        }
        if (auto r = fileio::sync_dir(dir); !r) return r.error();
        if (auto r = fileio::rename_file(file, dir / snapshot_file_name(lsn)); !r) return r.error();
        if (auto r = terms.save(dir); !r) return r.error();  // syncs the directory too
        return result<void>{};
      });
  // Memory now follows whatever is on disk (reload ends `reloading_`).
  co_await reload();
  if (!swapped) {
    log().error("{}: installing the leader's snapshot failed: {}", opts_.dir.string(),
                swapped.error().message());
    co_return swapped.error();
  }
  log().info("{}: installed the leader's snapshot at LSN {}; {} points", opts_.dir.string(), lsn,
             store_.size());
  co_return result<void>{};
}

awaitable<void> shard::set_replicator(std::unique_ptr<replicator> r) {
  auto old = std::move(replicator_);
  replicator_ = std::move(r);
  if (old) co_await old->stop();
}

}  // namespace shoal::shard
