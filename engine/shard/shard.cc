#include "engine/shard/shard.h"

#include <algorithm>

#include "engine/common/logger.h"
#include "engine/runtime/blocking_pool.h"
#include "engine/shard/errc.h"
#include "index/flat/flat_index.h"
#include "index/hnsw/hnsw_index.h"

namespace shoal::shard {
namespace {

spdlog::logger& log() {
  static auto& l = logging::get("shard");
  return l;
}

rt::blocking_pool& pool() {
  return rt::runtime::current().blocking();
}

result<std::unique_ptr<index::vector_index>> make_index(const vector_params& p) {
  if (p.kind == index::index_kind::flat) {
    index::flat_config c;
    c.dim = p.size;
    c.metric = p.metric;
    auto idx = index::flat_index::create(c);
    if (!idx) return idx.error();
    return std::unique_ptr<index::vector_index>(std::move(*idx));
  }
  index::hnsw_config c;
  c.dim = p.size;
  c.metric = p.metric;
  c.m = p.m;
  c.ef_construction = p.ef_construct;
  c.ef_search = std::max<size_t>(p.ef_construct, 64);
  c.quantization = p.quantization;
  auto idx = index::hnsw_index::create(c);
  if (!idx) return idx.error();
  return std::unique_ptr<index::vector_index>(std::move(*idx));
}

awaitable<void> yield_now() {
  co_await asio::post(co_await asio::this_coro::executor, use_awaitable);
}

}  // namespace

shard::shard(shard_options opts)
    : opts_(std::move(opts)),
      config_(opts_.config),
      writes_(metrics::local().make_counter("shoal_shard_writes_total", "Mutations applied")),
      write_errors_(metrics::local().make_counter("shoal_shard_write_errors_total",
                                                  "Writes refused or failed")),
      snapshot_seconds_(metrics::local().make_histogram("shoal_shard_snapshot_seconds",
                                                        "Time to write one shard snapshot")) {
  upsert_chunk_ = opts_.upsert_chunk_points;
  writable_.set();
}

shard::~shard() = default;

void shard::set_config(std::shared_ptr<const collection_config> c) {
  config_ = std::move(c);
}

uint64_t shard::incarnation() const {
  return config_ ? config_->incarnation : 0;
}

awaitable<result<std::unique_ptr<shard>>> shard::open(shard_options opts, recovery_info* info) {
  auto s = co_await open_state(std::move(opts), info);
  if (s) (*s)->start_ticker();
  co_return s;
}

awaitable<result<std::unique_ptr<shard>>> shard::open_state(shard_options opts,
                                                            recovery_info* info) {
  std::unique_ptr<shard> s(new shard(std::move(opts)));
  recovery_info local;
  auto t0 = std::chrono::steady_clock::now();
  auto r = co_await s->load(local);
  if (!r) co_return r.error();
  local.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (info) *info = local;
  co_return std::move(s);
}

void shard::start_ticker() {
  // Time-based snapshots must happen even when writes stop.
  auto hold = gate_.enter();
  if (!hold) return;
  ticker_ = std::make_unique<asio::steady_timer>(rt::runtime::current().local().executor());
  auto period = std::min<std::chrono::steady_clock::duration>(opts_.snapshot_interval / 4,
                                                              std::chrono::seconds(30));
  asio::co_spawn(
      ticker_->get_executor(),
      [this, period, h = std::move(*hold)]() mutable -> awaitable<void> {
        while (!closed_) {
          ticker_->expires_after(period);
          auto [ec] = co_await ticker_->async_wait(use_nothrow_awaitable);
          if (ec || closed_) break;
          maybe_snapshot();
        }
      },
      asio::detached);
}

awaitable<result<void>> shard::load(recovery_info& info) {
  indexes_.clear();
  for (auto& [name, params] : config_->vectors) {
    auto idx = make_index(params);
    if (!idx) co_return idx.error();
    indexes_.push_back(std::move(*idx));
  }
  auto dir = opts_.dir;
  auto newest = co_await pool().run(
      rt::blocking_reason::open, [dir]() -> result<std::optional<std::filesystem::path>> {
        if (auto r = fileio::create_dirs(dir); !r) return r.error();
        auto names = fileio::list_files(dir);
        if (!names) return names.error();
        std::optional<std::pair<uint64_t, std::string>> best;
        for (auto& n : *names) {
          if (n.ends_with(".tmp")) {
            (void)fileio::remove_file(dir / n);  // unfinished
            continue;
          }
          auto lsn = parse_snapshot_file_name(n);
          if (lsn && (!best || *lsn > best->first)) best.emplace(*lsn, n);
        }
        if (!best) return std::optional<std::filesystem::path>{};
        return std::optional<std::filesystem::path>(dir / best->second);
      });
  if (!newest) co_return newest.error();
  if (*newest) {
    auto path = **newest;
    auto loaded = co_await pool().run(rt::blocking_reason::read,
                                      [this, path] { return load_snapshot(*this, path); });
    if (!loaded) co_return loaded.error();
    snapshot_lsn_ = *loaded;
    info.snapshot_lsn = *loaded;
  }
  for (auto& [field, def] : config_->payload_indexes) {
    if (!data::indexable(def.type)) continue;
    auto path = data::key_path::parse(field);
    if (!path) continue;
    auto idx = std::make_unique<data::payload_index>(*path, def.type);
    for (auto& [id, slot] : store_) {
      if (auto& p = store_.at(slot).payload) idx->add(slot, *p);
    }
    payload_indexes_[field] = std::move(idx);
  }

  auto terms =
      co_await pool().run(rt::blocking_reason::read, [dir] { return term_history::load(dir); });
  if (!terms) co_return terms.error();
  terms_ = std::move(*terms);

  wal::log_config lc;
  lc.dir = opts_.dir / "log";
  lc.segment_bytes = opts_.log_segment_bytes;
  wal::replay_options replay;
  replay.from = snapshot_lsn_ + 1;
  replay.min_next_lsn = snapshot_lsn_ + 1;
  uint64_t replayed = 0;
  replay.apply = [this, &replayed](std::vector<wal::log_record>& batch) -> awaitable<result<void>> {
    auto since_yield = std::chrono::steady_clock::now();
    for (auto& rec : batch) {
      auto m = decode_mutation(rec.type, rec.body);
      if (!m) {
        log().error("{}: log record LSN {} does not decode", opts_.dir.string(), rec.lsn);
        co_return errc::bad_record;
      }
      apply(std::move(*m), rec.lsn);
      ++replayed;
      // A long replay must not starve the core: other shards recover on it too.
      if (std::chrono::steady_clock::now() - since_yield > opts_.chunk_budget) {
        co_await yield_now();
        since_yield = std::chrono::steady_clock::now();
      }
    }
    co_return result<void>{};
  };
  wal::recovery_report report;
  auto opened = co_await wal::mutation_log::open(lc, std::move(replay), &report);
  if (!opened) co_return opened.error();
  log_ = std::move(*opened);
  watch_log();
  // A term begun after the log's end (its start was saved, its records never written) is kept:
  // it is where that term's writes would have started.
  terms_.truncate_after(log_->next_lsn());
  known_term_ = terms_.current_term();
  info.replayed = replayed;
  info.torn_bytes_cut = report.torn_bytes_cut;
  log_bytes_at_snapshot_ = log_->disk_bytes();
  last_snapshot_ = std::chrono::steady_clock::now();
  co_return result<void>{};
}

size_t shard::memory_usage() const {
  size_t n = store_.memory_usage();
  for (auto& idx : indexes_) n += idx->memory_usage();
  for (auto& [f, idx] : payload_indexes_) n += idx->memory_usage();
  if (log_) n += log_->backlog_bytes();
  return n;
}

awaitable<void> shard::wait_writable() {
  while (!writable_.is_set()) co_await writable_.wait();
}

awaitable<result<write_ack>> shard::write(mutation m, write_options o) {
  auto hold = gate_.enter();
  if (!hold) co_return errc::closed;
  co_await wait_writable();
  if (closed_) co_return errc::closed;
  if (reloading_) co_return errc::recovering;
  // A closed fence (lease in doubt, leadership being handed over) refuses at the door, so the
  // log stops growing while a successor catches up.
  if (!leader_ || (fence_ && !fence_())) co_return errc::not_leader;
  const uint64_t term_at_start = known_term_;
  if (o.level == durability::replicated) {
    if (!replicator_) co_return errc::replication_unavailable;
    if (replicator_->followers() < std::max<size_t>(1, replicator_->required_acks())) {
      co_return errc::replicas_missing;
    }
  }
  if (opts_.memory_limit && memory_usage() > opts_.memory_limit) {
    write_errors_.inc();
    co_return errc::memory_limit;
  }
  uint64_t last = 0;
  // Big mutations go in chunks, each its own log record, with the event loop served between
  // them (PRACTICES P4). Upsert chunks are sized by time: what the last chunks cost per point
  // decides how many points fit in the chunk budget, because one HNSW insert into a large graph
  // costs a thousand times what a flat insert costs.
  auto next_chunk = [&](size_t at, size_t total) -> size_t {
    return std::min(total - at, at == 0 && total <= upsert_chunk_ ? total : upsert_chunk_);
  };
  auto run_chunk = [&](mutation chunk, size_t points) -> result<uint64_t> {
    if (points == 0) return append_and_apply(std::move(chunk));  // deletes, payloads
    // One-point chunks are measured too: after one slow chunk (a preempted core, a page fault)
    // the size may drop to one point, and only measuring those lets it grow back.
    auto t0 = std::chrono::steady_clock::now();
    auto r = append_and_apply(std::move(chunk));
    if (!r) return r.error();
    {
      auto spent = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0);
      double per_point = std::max(spent.count() / static_cast<double>(points), 0.05);
      double fit = static_cast<double>(opts_.chunk_budget.count()) / per_point;
      upsert_chunk_ =
          static_cast<size_t>(std::clamp(fit, 1.0, static_cast<double>(opts_.upsert_chunk_points)));
    }
    return r;
  };
  auto between_chunks = [&]() -> awaitable<bool> {
    co_await yield_now();
    co_await wait_writable();
    co_return !(closed_ || reloading_);
  };
  if (auto* u = std::get_if<upsert_mutation>(&m)) {
    auto& points = u->points;
    for (size_t at = 0; at < points.size();) {
      if (at > 0 && !co_await between_chunks()) co_return errc::recovering;
      size_t n = next_chunk(at, points.size());
      upsert_mutation chunk;
      chunk.points.assign(std::make_move_iterator(points.begin() + static_cast<ptrdiff_t>(at)),
                          std::make_move_iterator(points.begin() + static_cast<ptrdiff_t>(at + n)));
      auto r = run_chunk(std::move(chunk), n);
      if (!r) co_return r.error();
      last = *r;
      at += n;
    }
  } else {
    auto& ids = std::holds_alternative<delete_mutation>(m) ? std::get<delete_mutation>(m).ids
                                                           : std::get<payload_mutation>(m).ids;
    constexpr size_t kIdsPerChunk = 4096;
    if (ids.size() <= kIdsPerChunk) {
      auto r = run_chunk(std::move(m), 0);
      if (!r) co_return r.error();
      last = *r;
    } else {
      for (size_t at = 0; at < ids.size(); at += kIdsPerChunk) {
        if (at > 0 && !co_await between_chunks()) co_return errc::recovering;
        mutation chunk = m;  // the same change (payload, keys) for the next ids
        auto& chunk_ids = std::holds_alternative<delete_mutation>(chunk)
                              ? std::get<delete_mutation>(chunk).ids
                              : std::get<payload_mutation>(chunk).ids;
        auto end = std::min(ids.size(), at + kIdsPerChunk);
        chunk_ids.assign(ids.begin() + static_cast<ptrdiff_t>(at),
                         ids.begin() + static_cast<ptrdiff_t>(end));
        auto r = run_chunk(std::move(chunk), 0);
        if (!r) co_return r.error();
        last = *r;
      }
    }
  }
  if (o.level == durability::local || o.level == durability::replicated) {
    auto s = co_await log_->sync(last);
    if (!s) {
      write_errors_.inc();
      co_return s.error();
    }
  } else {
    log_->request_flush();
  }
  maybe_snapshot();
  if (o.level == durability::replicated) {
    // Durable here; now on enough followers too (their logs are fsynced before they answer).
    for (;;) {
      if (!replicator_) co_return errc::replication_unavailable;
      const replicator* waited_on = replicator_.get();
      auto r = co_await replicator_->wait_replicated(last);
      if (r) break;
      // The replicator was replaced while this write waited (the cluster's host list changed)
      // and this shard still leads in the same term: its successor streams the same log, so
      // wait on it. Only the pointers are compared; the old one may be gone.
      if (r.error() == errc::closed && replicator_ && replicator_.get() != waited_on && leader_ &&
          known_term_ == term_at_start && !closed_) {
        continue;
      }
      write_errors_.inc();
      co_return r.error();
    }
  }
  if (!leader_ || known_term_ != term_at_start || (fence_ && !fence_())) {
    // Leadership may have passed to another host while this write waited (for the disk, for
    // followers): never acknowledge then. The records stay in this log until the new leader's
    // stream cuts what it does not have.
    write_errors_.inc();
    co_return errc::not_leader;
  }
  co_return write_ack{last, terms_.term_at(last)};
}

result<uint64_t> shard::append_and_apply(mutation m) {
  auto body = encode_mutation(m);
  // Vectors are raw floats that LZ4 cannot shrink: try compression only when most of the body
  // is something else (payload JSON).
  bool compressible = true;
  if (auto* u = std::get_if<upsert_mutation>(&m)) {
    size_t vector_bytes = 0;
    for (auto& p : u->points) {
      for (auto& v : p.vectors) vector_bytes += v.values.size() * sizeof(float);
    }
    compressible = vector_bytes * 2 < body.size();
  }
  // The log takes the body: the vectors are not copied again on their way to the file.
  auto lsn =
      log_->append(known_term_, static_cast<uint8_t>(type_of(m)), std::move(body), compressible);
  if (!lsn) {
    write_errors_.inc();
    return lsn.error();
  }
  apply(std::move(m), *lsn);
  writes_.inc();
  return *lsn;
}

awaitable<result<write_ack>> shard::delete_matching(std::shared_ptr<const data::filter> f,
                                                    write_options o) {
  co_await wait_writable();
  delete_mutation d;
  d.ids = matching_ids(*f);
  if (d.ids.empty()) co_return write_ack{};  // nothing written
  co_return co_await write(std::move(d), o);
}

awaitable<result<write_ack>> shard::payload_matching(payload_mutation m,
                                                     std::shared_ptr<const data::filter> f,
                                                     write_options o) {
  co_await wait_writable();
  m.ids = matching_ids(*f);
  if (m.ids.empty()) co_return write_ack{};  // nothing written
  co_return co_await write(std::move(m), o);
}

awaitable<result<void>> shard::create_payload_index(std::string field, data::payload_type type) {
  co_await wait_writable();
  auto path = data::key_path::parse(field);
  if (!path) co_return path.error();
  payload_indexes_.erase(field);
  if (!data::indexable(type)) co_return result<void>{};
  auto idx = std::make_unique<data::payload_index>(*path, type);
  size_t n = 0;
  for (auto& [id, slot] : store_) {
    if (auto& p = store_.at(slot).payload) idx->add(slot, *p);
    if (++n % 50000 == 0) co_await yield_now();  // the map is not changed meanwhile: writes
  }                                              // of this shard run on this core only
  payload_indexes_[field] = std::move(idx);
  co_return result<void>{};
}

awaitable<result<void>> shard::drop_payload_index(std::string field) {
  payload_indexes_.erase(field);
  co_return result<void>{};
}

void shard::maybe_snapshot() {
  if (snapshotting_ || closed_ || reloading_ || !log_) return;
  bool by_size = log_->disk_bytes() > log_bytes_at_snapshot_ + opts_.snapshot_log_bytes;
  bool by_time = log_->last_lsn() > snapshot_lsn_ &&
                 std::chrono::steady_clock::now() - last_snapshot_ > opts_.snapshot_interval;
  if (!by_size && !by_time) return;
  auto hold = gate_.enter();
  if (!hold) return;
  asio::co_spawn(
      rt::runtime::current().local().executor(),
      [this, h = std::move(*hold)]() mutable -> awaitable<void> { (void)co_await take_snapshot(); },
      asio::detached);
}

awaitable<result<void>> shard::snapshot_now(std::optional<std::filesystem::path> export_link) {
  auto hold = gate_.enter();
  if (!hold) co_return errc::closed;
  co_await wait_writable();
  co_return co_await take_snapshot(std::move(export_link));
}

awaitable<result<void>> shard::take_snapshot(std::optional<std::filesystem::path> export_link,
                                             uint64_t* lsn_out) {
  if (reloading_ || !log_) co_return errc::recovering;
  if (snapshotting_) co_return result<void>{};
  snapshotting_ = true;
  writable_.reset();  // writes wait; reads go on
  struct unfreeze {
    shard* s;
    bool done = false;
    void now() {
      if (done) return;
      done = true;
      s->snapshotting_ = false;
      s->writable_.set();
    }
    ~unfreeze() { now(); }
  } guard{this};
  uint64_t lsn = log_->last_lsn();
  // Everything in the snapshot must be durable in the log first: a snapshot must never hold a
  // record the log could still drop (and then hand its LSN to another mutation).
  if (auto s = co_await log_->sync(lsn); !s) co_return s.error();
  auto t0 = std::chrono::steady_clock::now();
  auto dir = opts_.dir;
  bool unchanged = lsn == snapshot_lsn_ && lsn > 0;
  auto written = co_await pool().run(
      rt::blocking_reason::write,
      [this, dir, lsn, unchanged, export_link]() -> result<std::filesystem::path> {
        // Nothing new since the last snapshot: reuse its file rather than rewrite it.
        auto path = unchanged ? result<std::filesystem::path>(dir / snapshot_file_name(lsn))
                              : write_snapshot(*this, dir, lsn);
        if (!path || !export_link) return path;
        std::error_code ec;
        std::filesystem::create_hard_link(*path, *export_link, ec);
        if (ec) return error_code(ec.value(), boost::system::system_category());
        return path;
      });
  if (!written) {
    log().error("{}: snapshot at LSN {} failed: {}", opts_.dir.string(), lsn,
                written.error().message());
    co_return written.error();
  }
  if (lsn_out) *lsn_out = lsn;
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  snapshot_seconds_.observe(secs);
  auto old = snapshot_lsn_;
  snapshot_lsn_ = lsn;
  last_snapshot_ = std::chrono::steady_clock::now();
  guard.now();
  // Older snapshots and the log they made redundant go; a failure here only costs disk.
  if (old != lsn) {
    auto old_path = dir / snapshot_file_name(old);
    co_await pool().run(rt::blocking_reason::unlink,
                        [old_path] { (void)fileio::remove_file(old_path); });
  }
  // The log the snapshot made redundant goes too, except what a follower still lacks (a
  // retention floor, capped in bytes: past the cap the follower is sent a snapshot instead).
  uint64_t upto = lsn + 1;
  if (replicator_) {
    const uint64_t floor = replicator_->retention_floor();
    if (floor < upto && log_->disk_bytes() <= opts_.log_retention_bytes) {
      upto = floor;
    } else if (floor < upto) {
      log().warn(
          "{}: a follower still lacks LSN {}, but the log is over {} bytes "
          "(storage.log-retention-bytes): it will be sent a snapshot",
          opts_.dir.string(), floor, opts_.log_retention_bytes);
    }
  }
  if (auto t = co_await log_->truncate_prefix(upto); !t) {
    log().warn("{}: removing old log segments failed: {}", opts_.dir.string(), t.error().message());
  }
  log_bytes_at_snapshot_ = log_->disk_bytes();
  log().info("{}: snapshot at LSN {} ({} points) in {:.3f} s", opts_.dir.string(), lsn,
             store_.size(), secs);
  co_return result<void>{};
}

void shard::watch_log() {
  log_->set_on_discard(
      [this](uint64_t first, uint64_t last, error_code ec) { on_discard(first, last, ec); });
  log_->set_on_durable([this](uint64_t) {
    durable_advanced_.set();  // wakes every waiter; later waits block again
    durable_advanced_.reset();
  });
}

void shard::on_discard(uint64_t first, uint64_t last, error_code ec) {
  // Memory holds mutations the log just dropped: rebuild memory from what is on disk.
  if (reloading_ || closed_) return;
  log().warn("{}: LSNs {}..{} were applied but not written ({}); reloading the shard",
             opts_.dir.string(), first, last, ec.message());
  reloading_ = true;
  writable_.reset();
  auto hold = gate_.enter();
  if (!hold) return;
  asio::co_spawn(
      rt::runtime::current().local().executor(),
      [this, h = std::move(*hold)]() mutable -> awaitable<void> { co_await reload(); },
      asio::detached);
}

awaitable<void> shard::reload() {
  // Build a fresh shard from disk while reads keep using this one, then take its state.
  co_await log_->close();
  shard_options o = opts_;
  o.config = config_;
  auto fresh = co_await shard::open_state(o, nullptr);  // no ticker: we only take its state
  if (!fresh) {
    log().critical("{}: reload after a failed write failed: {}; the shard stays read-only",
                   opts_.dir.string(), fresh.error().message());
    closed_ = true;
    writable_.set();
    co_return;
  }
  auto& f = **fresh;
  indexes_ = std::move(f.indexes_);
  store_ = std::move(f.store_);
  payload_indexes_ = std::move(f.payload_indexes_);
  log_ = std::move(f.log_);
  watch_log();
  terms_ = std::move(f.terms_);
  known_term_ = std::max(known_term_, terms_.current_term());
  snapshot_lsn_ = f.snapshot_lsn_;
  log_bytes_at_snapshot_ = f.log_bytes_at_snapshot_;
  reloading_ = false;
  writable_.set();
  log().info("{}: reloaded; {} points", opts_.dir.string(), store_.size());
}

awaitable<void> shard::close() {
  if (closed_) co_return;
  co_await wait_writable();
  if (opts_.snapshot_on_close && log_ && !reloading_ && log_->last_lsn() > snapshot_lsn_) {
    (void)co_await take_snapshot();
  }
  closed_ = true;
  writable_.set();
  durable_advanced_.set();  // wakes replication streams waiting for records, which now end
  if (ticker_) ticker_->cancel();
  if (replicator_) co_await replicator_->stop();
  co_await gate_.close();
  if (log_) co_await log_->close();
}

shard_stats shard::stats() const {
  shard_stats s;
  s.points = store_.size();
  for (auto& idx : indexes_) s.indexed_vectors += idx->size();
  s.memory_bytes = memory_usage();
  s.log_bytes = log_ ? log_->disk_bytes() : 0;
  s.last_lsn = log_ ? log_->last_lsn() : 0;
  s.snapshot_lsn = snapshot_lsn_;
  for (auto& [field, idx] : payload_indexes_)
    s.payload_index_points.emplace_back(field, idx->points());
  return s;
}

}  // namespace shoal::shard
