#pragma once
// One leader->follower stream of one shard's log (ARCHITECTURE.md §8). Runs on the shard's core
// as a coroutine that owns an RPC client to the follower:
//
//   align:   ask the follower's position and term history (which makes it follow this leader's
//            term); where its log leaves ours (the last LSN where both hold the same term,
//            shard::common_point) cut it; then
//   tail:    read durable records from our log after what it has, send them in batches of about
//            batch_bytes (LZ4 on the wire above rpc.compress-threshold), and take its durable
//            LSN from each answer; when there is nothing new, wait for the log to grow, and send
//            an empty append every `heartbeat` so lag is measured and a dead follower noticed.
//
// One batch is in flight at a time: the next batch grows with the backlog, so a slow follower
// gets larger batches rather than more of them (backpressure without a queue to bound).
// Any failure (connection, timeout, a mismatch after a follower restart) goes back to align
// after a backoff. A follower whose next record is older than our log's start needs a snapshot
// transfer: the leader takes a snapshot (hard-linked aside so later snapshots cannot remove it),
// streams it in chunks of snapshot_chunk_bytes, and the follower checks and installs it, then
// tails from the snapshot's LSN.
// A follower that knows a newer term means this leader was deposed: the stream stops and
// reports it (on_deposed), so the node can step down.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "engine/runtime/asio.h"
#include "engine/runtime/event.h"
#include "engine/runtime/gate.h"
#include "engine/shard/shard.h"
#include "net/rpc/client.h"
#include "replication/replication_metrics.h"
#include "replication/wire.h"

namespace shoal::repl {

struct position_answer;

struct shipper_options {
  std::string host;
  uint16_t port = 0;
  std::string follower_id;  // for logs and metrics
  size_t batch_bytes = 4u << 20;
  std::chrono::milliseconds heartbeat{250};
  std::chrono::milliseconds request_timeout{10'000};
  std::chrono::milliseconds retry_backoff{200};
  size_t compress_threshold = 16u << 10;
  size_t snapshot_chunk_bytes = 1u << 20;
  rpc::client_security security;  // TLS and the API key of this node's connections to peers
};

struct shipper_status {
  uint64_t acked_durable_lsn = 0;  // the follower's durable LSN, as last reported
  bool connected = false;          // aligned and tailing
  bool needs_snapshot = false;
  std::chrono::steady_clock::time_point last_ack{};
  uint64_t bytes_shipped = 0;
  uint64_t records_shipped = 0;
  uint64_t snapshots_sent = 0;
  uint64_t alignments = 0;   // times the stream aligned the follower and started tailing
  uint64_t truncations = 0;  // diverged suffixes the follower was asked to cut
};

/// How far a follower is behind, now.
struct shipper_lag {
  uint64_t lsn = 0;  // the leader's last LSN - the follower's acknowledged durable LSN
  /// Age of the oldest record durable here that the follower has not acknowledged (0: caught
  /// up). Tracked from what the stream sees: when records become pending (a read, a wake-up, a
  /// scrape) and when acknowledgements come; an upper bound, off by at most one batch's round
  /// trip, or by the time since the last observation while the stream is down.
  double ms = 0;
};

class log_shipper {
 public:
  /// `on_ack(follower durable LSN)` runs on the shard's core after every answer.
  log_shipper(shard::shard& s, std::string collection, uint32_t shard_id, uint64_t term,
              shipper_options o, std::function<void(uint64_t)> on_ack,
              std::function<void(uint64_t newer_term)> on_deposed);
  ~log_shipper();
  log_shipper(const log_shipper&) = delete;
  log_shipper& operator=(const log_shipper&) = delete;

  void start();
  /// Ends the stream (its RPC calls fail at once) and waits for it.
  awaitable<void> stop();
  const shipper_status& status() const { return status_; }
  const shipper_options& options() const { return o_; }
  /// On the shard's core (also computed for /metrics and GET /cluster).
  shipper_lag lag() const;

 private:
  awaitable<void> run();
  /// This stream's shard in requests: its collection's incarnation included (wire.h).
  shard_ref ref() const;
  /// Aligns the follower; the LSN after which shipping continues, or an error.
  awaitable<result<uint64_t>> align();
  /// Where the follower's log (as its position answer describes it) stops agreeing with ours.
  uint64_t common_point_with(const position_answer& pos) const;
  awaitable<result<void>> tail(uint64_t prev);
  /// Sends a fresh snapshot of the shard in chunks; the follower installs it at the end.
  awaitable<result<void>> transfer_snapshot();
  awaitable<void> pause(std::chrono::milliseconds d);
  /// Starts the lag clock if the leader holds durable records the follower has not acknowledged
  /// (and stops it when it has them all).
  void note_pending() const;
  /// After an acknowledgement of a batch read at `read_at` that ended at `sent_through`
  /// (`read_all`: nothing durable was left behind by that read).
  void settle_pending(uint64_t sent_through, std::chrono::steady_clock::time_point read_at,
                      bool read_all);

  shard::shard& shard_;
  std::string collection_;
  uint32_t shard_id_;
  uint64_t term_;
  shipper_options o_;
  std::function<void(uint64_t)> on_ack_;
  std::function<void(uint64_t)> on_deposed_;
  std::unique_ptr<rpc::client> client_;
  shipper_status status_;
  /// Since when the oldest unacknowledged record has waited (none: caught up); see lag().
  mutable std::optional<std::chrono::steady_clock::time_point> pending_since_;
  std::unique_ptr<stream_metrics> metrics_;  // made by start(), on the shard's core
  bool stopping_ = false;
  std::unique_ptr<asio::steady_timer> pause_timer_;
  rt::event done_;
};

}  // namespace shoal::repl
