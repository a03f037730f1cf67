#pragma once
// The shoal_replication_* series of /metrics (replication/README.md, "Observing replication").
// Metrics are per core (engine/common/metrics.h): a stream's series live in the registry of its
// shard's core, its gauges are computed there when /metrics takes that core's snapshot, so no
// state is read across cores.
//
// Leader, per {collection, shard, follower}:
//   shoal_replication_lag_lsn              leader's last LSN - follower's acknowledged durable LSN
//   shoal_replication_lag_milliseconds     age of the oldest record the follower has not
//                                          acknowledged (0 when caught up)
//   shoal_replication_acked_lsn            the follower's durable LSN, as last reported
//   shoal_replication_follower_connected   1 while the stream is aligned and tailing
//   shoal_replication_shipped_bytes_total, shoal_replication_shipped_records_total
//   shoal_replication_alignments_total     stream (re)connections that aligned the follower
//   shoal_replication_truncations_total    diverged suffixes the follower was asked to cut
// Follower, per {collection, shard}:
//   shoal_replication_records_applied_total  records appended and applied from the leader

#include <cstdint>
#include <functional>
#include <string>

#include "engine/common/metrics.h"

namespace shoal::repl {

/// What a stream reports when /metrics is scraped.
struct stream_gauges {
  uint64_t lag_lsn = 0;
  double lag_ms = 0;
  uint64_t acked_lsn = 0;
  bool connected = false;
};

/// The series of one leader->follower stream. Made and destroyed on the shard's core. Two
/// streams with the same labels may be alive at once (a replicator replaced by a newer one): the
/// newest answers the gauges, the counters are shared, and the series go with the last of them.
class stream_metrics {
 public:
  stream_metrics(const std::string& collection, uint32_t shard, const std::string& follower,
                 std::function<stream_gauges()> read);
  ~stream_metrics();
  stream_metrics(const stream_metrics&) = delete;
  stream_metrics& operator=(const stream_metrics&) = delete;

 private:
  metrics::registry& reg_;
  metrics::labels labels_;
  std::string key_;
  std::function<stream_gauges()> read_;

 public:
  metrics::counter& bytes_shipped;
  metrics::counter& records_shipped;
  metrics::counter& alignments;
  metrics::counter& truncations;
};

/// Follower side, on the shard's core: `records` of collection/shard applied from the leader (0
/// still makes the series appear).
void count_applied(const std::string& collection, uint32_t shard, uint64_t records);

}  // namespace shoal::repl
