#pragma once
// A shard: one partition of one collection, with its vector indexes (one per vector name), its
// points and payloads, its payload indexes and its mutation log (ARCHITECTURE.md §5).
//
// Contract:
//  * Lives on one core; every method runs there. Reads are synchronous and never suspend.
//  * Writes: a mutation is validated by the caller, then encoded, appended to the log and
//    applied to memory in one step (so memory always reflects the log in LSN order), then the
//    write waits for the durability it asked for (`local`: fdatasync'd) before it is
//    acknowledged. Large upserts are split into chunks, each its own record, with a yield to the
//    event loop between chunks (PRACTICES P4); a point is never half applied.
//  * A write whose log flush fails is answered with the error; the shard then reloads itself
//    from disk (snapshot + log) so memory forgets what never became durable, refusing writes
//    (errc::recovering) meanwhile.
//  * Snapshots (shard_snapshot.h) run in the blocking pool after snapshot_log_bytes of log or
//    snapshot_interval; while one is written, writes wait and reads go on. Then the log prefix
//    it covers is removed. Open = newest snapshot + replay of the log after it.
//  * Memory: over memory_limit, writes fail with errc::memory_limit; reads go on.

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/common/metrics.h"
#include "engine/data/payload_index.h"
#include "engine/log/mutation_log.h"
#include "engine/runtime/asio.h"
#include "engine/runtime/event.h"
#include "engine/runtime/gate.h"
#include "engine/runtime/semaphore.h"
#include "engine/shard/point_store.h"
#include "engine/shard/replica_digest.h"
#include "engine/shard/shard_snapshot.h"
#include "engine/shard/shard_types.h"
#include "engine/shard/term_history.h"
#include "index/scratch.h"
#include "index/vector_index.h"

namespace shoal::shard {

struct shard_options {
  std::filesystem::path dir;  // the shard's own directory
  uint32_t shard_id = 0;
  std::shared_ptr<const collection_config> config;
  uint64_t snapshot_log_bytes = 256ull << 20;
  /// A leader keeps its log back to the oldest record a follower still lacks (so a follower a
  /// little behind is tailed, not sent a snapshot) while the log is at most this large.
  uint64_t log_retention_bytes = 1ull << 30;
  std::chrono::seconds snapshot_interval{600};
  bool snapshot_on_close = true;
  size_t memory_limit = 0;  // bytes; 0 = none
  size_t log_segment_bytes = 64u << 20;
  size_t upsert_chunk_points = 256;              // most points per upsert chunk
  std::chrono::microseconds chunk_budget{2000};  // aimed-at time of one chunk on the core
};

/// The leader side of a shard's replication, installed by the replication layer (which depends
/// on this library, not the other way round). Lives on the shard's core; the shard owns it and
/// stops it before its log closes.
class replicator {
 public:
  virtual ~replicator() = default;
  /// Resolves once `lsn` is durable on enough followers (durability=replicated), or fails with
  /// errc::replication_timeout / replicas_missing.
  virtual awaitable<result<void>> wait_replicated(uint64_t lsn) = 0;
  /// Followers that ship from this shard (0: durability=replicated cannot be honoured).
  virtual size_t followers() const = 0;
  /// Followers that must hold a durability=replicated write (replication.min-acks). While
  /// followers() is below it such writes are refused before they are logged (replicas_missing),
  /// never acknowledged with fewer copies.
  virtual size_t required_acks() const = 0;
  /// The oldest LSN some follower still lacks (UINT64_MAX: none); the log keeps it after a
  /// snapshot, within shard_options::log_retention_bytes.
  virtual uint64_t retention_floor() const = 0;
  virtual awaitable<void> stop() = 0;
};

struct recovery_info {
  uint64_t snapshot_lsn = 0;
  uint64_t replayed = 0;
  uint64_t torn_bytes_cut = 0;
  double seconds = 0;
};

class shard {
 public:
  static awaitable<result<std::unique_ptr<shard>>> open(shard_options opts,
                                                        recovery_info* info = nullptr);
  ~shard();
  shard(const shard&) = delete;
  shard& operator=(const shard&) = delete;

  /// Logs and applies a validated mutation; returns after the requested durability holds.
  awaitable<result<write_ack>> write(mutation m, write_options o);
  /// Resolves the filter to ids here, then deletes them as one logged mutation.
  awaitable<result<write_ack>> delete_matching(std::shared_ptr<const data::filter> f,
                                               write_options o);
  /// The same for a payload change: `m.ids` is replaced by the points matching `f`.
  awaitable<result<write_ack>> payload_matching(payload_mutation m,
                                                std::shared_ptr<const data::filter> f,
                                                write_options o);

  result<std::vector<point_view>> search(const search_query& q,
                                         index::search_scratch& scratch) const;
  std::vector<point_view> retrieve(const std::vector<data::point_id>& ids,
                                   const payload_selector& p, const vector_selector& v) const;
  std::vector<point_view> scroll(const scroll_query& q) const;
  uint64_t count(const data::filter* f) const;

  /// Builds (or drops) a payload index over the points held now and every later write.
  awaitable<result<void>> create_payload_index(std::string field, data::payload_type type);
  awaitable<result<void>> drop_payload_index(std::string field);
  /// Takes a snapshot now (tests, backups, shutdown). With `export_link`, the new snapshot file
  /// is also hard-linked there before writes resume, so a later snapshot cannot remove it first.
  awaitable<result<void>> snapshot_now(std::optional<std::filesystem::path> export_link = {});
  /// Writes every point as an upsert mutation to `sink`, for exports.
  shard_stats stats() const;

  // ---- Replication (shard_replica.cc). A replica either leads its shard (takes client writes,
  // which its log records under its term) or follows (takes only records its leader wrote).
  // A shard opened on its own leads in term 0, so a single node needs none of this. ----
  struct replica_position {
    uint64_t term = 0;       // the newest term this replica knows of
    bool leader = false;     // leads in `term`
    uint64_t last_lsn = 0;   // its log's last record (0: none)
    uint64_t last_term = 0;  // the term that wrote last_lsn
    uint64_t durable_lsn = 0;
    uint64_t first_lsn = 0;  // the first record still in its log (older ones are in the snapshot)
    uint64_t snapshot_lsn = 0;
  };
  replica_position position() const;
  /// What this replica holds at its last applied LSN (replica_digest.h): O(1), the checksum is
  /// kept up to date by every apply. recovering while memory is being rebuilt from disk.
  result<replica_digest> digest() const;
  /// The same checksum computed over every point (tests compare it with the kept one).
  replica_checksum checksum_from_scratch() const;
  /// Leads in `term` (newer than any it knows): later client writes carry it. The term's start
  /// is made durable in the term history before this returns.
  awaitable<result<void>> become_leader(uint64_t term);
  /// Follows the leader of `term` (not older than any it knows): client writes get not_leader.
  awaitable<result<void>> become_follower(uint64_t term);
  /// Follower: appends and applies records its leader wrote. They must continue this log
  /// (prev_lsn = its last LSN, written in prev_term) and come from a leader of a term not older
  /// than this replica knows (a newer one makes a leader step down). With `sync`, returns once
  /// they are durable. Returns the durable LSN.
  awaitable<result<uint64_t>> append_replicated(uint64_t leader_term, uint64_t prev_lsn,
                                                uint64_t prev_term,
                                                std::vector<wal::log_record> records, bool sync);
  /// Removes every record after `lsn` and rebuilds memory from disk: a replica whose log holds
  /// records its new leader never had. needs_snapshot when lsn is before the snapshot.
  awaitable<result<void>> truncate_after(uint64_t lsn);
  /// The last LSN this log holds of `term` (or of the newest term before it): where a replica
  /// whose last record has `term` stops sharing this log.
  uint64_t end_of_term(uint64_t term) const;
  /// The term that wrote `lsn` in this log (0: none).
  uint64_t term_at(uint64_t lsn) const { return terms_.term_at(lsn); }
  /// Durable records from `from`, about max_bytes of bodies; needs_snapshot when `from` is no
  /// longer in the log.
  awaitable<result<std::vector<wal::log_record>>> read_log(uint64_t from, size_t max_bytes);
  /// Read-your-writes: waits until this replica holds the record `lsn` written in `term`.
  /// read_after_timeout after `timeout`; write_lost when that record is known to be replaced:
  /// this replica is aligned with the leader of its newest term (not older than `term`), and its
  /// record at `lsn` has another term, or will have (the newest term began at or before `lsn`).
  awaitable<result<void>> wait_applied(uint64_t term, uint64_t lsn,
                                       std::chrono::milliseconds timeout);
  /// Waits until the durable LSN passes `lsn`; false on timeout or when the shard closes.
  awaitable<bool> wait_durable_beyond(uint64_t lsn, rt::clock::duration timeout);
  /// Leader: takes a snapshot now and hard-links it at `link` (a file the caller removes when
  /// done); returns its LSN. The terms that wrote it come from term_history().
  awaitable<result<uint64_t>> export_snapshot(std::filesystem::path link);
  /// Follower: replaces everything this replica holds with the snapshot file `file` (a complete,
  /// fsynced transfer from its leader, in this shard's directory) at `lsn`, with the leader's
  /// term history up to it; its log then continues at lsn + 1. corrupt_snapshot if the file
  /// fails its checks (nothing changes then).
  awaitable<result<void>> install_snapshot(std::filesystem::path file, uint64_t lsn,
                                           term_history terms);
  const term_history& terms() const { return terms_; }
  /// Installs the leader's replicator (replacing and stopping any previous one; null removes).
  awaitable<void> set_replicator(std::unique_ptr<replicator> r);
  replicator* get_replicator() const { return replicator_.get(); }
  /// A leader acknowledges a write only while `fence()` says it may still lead (its lease in
  /// etcd is certainly alive, and it is not handing the leadership over); otherwise the write
  /// gets not_leader — refused before it is logged when the fence is closed at the start, and
  /// when it closes mid-way the records stay in this replica's log and are cut if a new leader
  /// never had them. Null: no fence (a single node, a static cluster).
  void set_fence(std::function<bool()> fence) { fence_ = std::move(fence); }
  /// This replica leads now and its fence is open: what a read that promises the leader's
  /// freshness (read=leader) checks, as a write would before it is acknowledged.
  bool leads_now() const { return leader_ && (!fence_ || fence_()); }
  bool closed() const { return closed_; }

  uint32_t id() const { return opts_.shard_id; }
  const std::filesystem::path& dir() const { return opts_.dir; }
  void set_config(std::shared_ptr<const collection_config> c);
  /// The collection's incarnation (collection_config::incarnation).
  uint64_t incarnation() const;

  awaitable<void> close();

 private:
  explicit shard(shard_options opts);
  static awaitable<result<std::unique_ptr<shard>>> open_state(shard_options opts,
                                                              recovery_info* info);
  awaitable<result<void>> load(recovery_info& info);
  /// Logs and applies one chunk; no suspension, so memory follows the log in LSN order.
  result<uint64_t> append_and_apply(mutation m);
  void apply(mutation&& m, uint64_t lsn);
  void apply_upsert(upsert_mutation&& u, uint64_t lsn);
  void apply_delete(const delete_mutation& d);
  void apply_payload(payload_mutation&& p, uint64_t lsn);
  uint64_t hash_of(uint32_t slot);  // point_hash of a live slot (replica_digest.h)
  void index_payload(uint32_t slot, const data::json_value& payload);
  void unindex_payload(uint32_t slot, const data::json_value& payload);
  std::optional<std::vector<uint32_t>> plan(const data::filter& f) const;
  std::optional<std::vector<uint32_t>> candidates(const data::condition& c) const;
  std::vector<data::point_id> matching_ids(const data::filter& f) const;
  point_view view(uint32_t slot, const payload_selector& p, const vector_selector& v) const;
  size_t memory_usage() const;
  void maybe_snapshot();
  awaitable<result<void>> take_snapshot(std::optional<std::filesystem::path> export_link = {},
                                        uint64_t* lsn_out = nullptr);
  void on_discard(uint64_t first, uint64_t last, error_code ec);
  void watch_log();
  awaitable<void> reload();
  awaitable<void> wait_writable();
  void start_ticker();

  friend result<std::filesystem::path> write_snapshot(const shard& s,
                                                      const std::filesystem::path& dir,
                                                      uint64_t lsn);
  friend result<uint64_t> load_snapshot(shard& s, const std::filesystem::path& file);

  shard_options opts_;
  std::shared_ptr<const collection_config> config_;
  std::vector<std::unique_ptr<index::vector_index>> indexes_;  // by the config's vector order
  point_store store_;
  std::vector<float> digest_scratch_;  // vectors read back for point hashes
  std::map<std::string, std::unique_ptr<data::payload_index>> payload_indexes_;
  std::unique_ptr<wal::mutation_log> log_;
  size_t upsert_chunk_;  // points per chunk, learned from what chunks cost
  uint64_t snapshot_lsn_ = 0;
  uint64_t log_bytes_at_snapshot_ = 0;
  std::chrono::steady_clock::time_point last_snapshot_;
  bool snapshotting_ = false;
  bool reloading_ = false;
  bool closed_ = false;
  rt::event writable_;  // set while writes may proceed
  term_history terms_;
  uint64_t known_term_ = 0;  // the newest term seen (>= terms_.current_term())
  // The term in which this log was last known to be a prefix of its leader's: become_leader,
  // or an append whose previous record matched the leader's. While it equals known_term_, a
  // record here is the one the leader of known_term_ holds, and no truncation will replace it.
  // In memory only: after a restart nothing is known until the leader's first append.
  uint64_t aligned_term_ = 0;
  bool leader_ = true;
  rt::event durable_advanced_;     // pulsed when the log's durable LSN advances
  rt::semaphore replica_lock_{1};  // one replication change at a time
  std::unique_ptr<replicator> replicator_;
  std::function<bool()> fence_;
  std::unique_ptr<asio::steady_timer> ticker_;
  rt::gate gate_{"shard"};

  metrics::counter& writes_;
  metrics::counter& write_errors_;
  metrics::histogram& snapshot_seconds_;
};

}  // namespace shoal::shard
