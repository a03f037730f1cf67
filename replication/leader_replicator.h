#pragma once
// The leader side of one shard's replication: a log_shipper per follower, and the write path's
// wait for durability=replicated (engine/shard/shard.h, `replicator`). Owned by its shard, on
// the shard's core.
//
// wait_replicated(lsn) resolves when at least `min_acks` followers report `lsn` durable (their
// log fsynced), or fails with replication_timeout after `ack_timeout` — the write is then
// durable here but not known to be on a follower, and the client is told so. With fewer
// followers than `min_acks` it fails at once with replicas_missing: min-acks never shrinks to
// the followers that happen to be registered. Waiters are
// bounded by the shard's own write admission (one waiter per write in flight).

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "engine/runtime/event.h"
#include "engine/shard/shard.h"
#include "replication/log_shipper.h"

namespace shoal::repl {

struct follower_address {
  std::string id;
  std::string host;
  uint16_t port = 0;
};

struct replicator_options {
  size_t min_acks = 1;  // followers that must hold a `replicated` write durably
  std::chrono::milliseconds ack_timeout{10'000};
  shipper_options shipping;  // host, port and follower_id are set per follower
};

class leader_replicator final : public shard::replicator {
 public:
  leader_replicator(shard::shard& s, std::string collection, uint32_t shard_id, uint64_t term,
                    std::vector<follower_address> followers, replicator_options o,
                    std::function<void(uint64_t newer_term)> on_deposed = {});
  ~leader_replicator() override;

  void start();
  awaitable<result<void>> wait_replicated(uint64_t lsn) override;
  size_t followers() const override { return shippers_.size(); }
  size_t required_acks() const override { return o_.min_acks; }
  uint64_t retention_floor() const override;
  /// Ends every wait_replicated (they answer `closed`) and the shippers; returns once none of
  /// them runs, so the replicator may be destroyed right after.
  awaitable<void> stop() override;

  /// Per follower, in the order given.
  std::vector<shipper_status> statuses() const;
  /// Per follower, in the order given: how far behind it is now.
  std::vector<shipper_lag> lags() const;
  const std::vector<follower_address>& addresses() const { return addresses_; }
  uint64_t term() const { return term_; }

 private:
  void on_ack();
  size_t acks_at(uint64_t lsn) const;

  uint64_t term_;
  std::vector<follower_address> addresses_;
  replicator_options o_;
  std::vector<std::unique_ptr<log_shipper>> shippers_;
  rt::event acked_;  // pulsed when a follower's durable LSN advances
  bool stopped_ = false;
  size_t waiting_ = 0;  // wait_replicated calls under way
  rt::event drained_;   // set once stopped and the last of them has left
};

}  // namespace shoal::repl
