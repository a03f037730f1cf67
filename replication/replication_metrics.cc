#include "replication/replication_metrics.h"

#include <algorithm>
#include <map>
#include <vector>

namespace shoal::repl {
namespace {

constexpr const char* kLagLsn = "shoal_replication_lag_lsn";
constexpr const char* kLagMs = "shoal_replication_lag_milliseconds";
constexpr const char* kAcked = "shoal_replication_acked_lsn";
constexpr const char* kConnected = "shoal_replication_follower_connected";
constexpr const char* kBytes = "shoal_replication_shipped_bytes_total";
constexpr const char* kRecords = "shoal_replication_shipped_records_total";
constexpr const char* kAlignments = "shoal_replication_alignments_total";
constexpr const char* kTruncations = "shoal_replication_truncations_total";

/// This core's live streams by series key; the newest of a key answers its gauges.
std::map<std::string, std::vector<const std::function<stream_gauges()>*>>& live() {
  static thread_local std::map<std::string, std::vector<const std::function<stream_gauges()>*>> m;
  return m;
}

metrics::labels labels_of(const std::string& collection, uint32_t shard,
                          const std::string& follower) {
  return {{"collection", collection}, {"shard", std::to_string(shard)}, {"follower", follower}};
}

}  // namespace

stream_metrics::stream_metrics(const std::string& collection, uint32_t shard,
                               const std::string& follower, std::function<stream_gauges()> read)
    : reg_(metrics::local()),
      labels_(labels_of(collection, shard, follower)),
      key_(metrics::render_labels(labels_)),
      read_(std::move(read)),
      bytes_shipped(reg_.make_counter(kBytes, "Log record bytes shipped to a follower", labels_)),
      records_shipped(reg_.make_counter(kRecords, "Log records shipped to a follower", labels_)),
      alignments(reg_.make_counter(
          kAlignments, "Times a follower's stream (re)connected and aligned its log", labels_)),
      truncations(reg_.make_counter(kTruncations,
                                    "Diverged log suffixes a follower was asked to cut", labels_)) {
  live()[key_].push_back(&read_);
  auto gauge = [this](const char* name, const char* help, double (*pick)(const stream_gauges&)) {
    reg_.make_gauge_fn(name, help, labels_, [key = key_, pick] {
      auto it = live().find(key);
      if (it == live().end() || it->second.empty()) return 0.0;
      return pick((*it->second.back())());
    });
  };
  gauge(kLagLsn, "Leader's last LSN minus the follower's acknowledged durable LSN",
        [](const stream_gauges& g) { return static_cast<double>(g.lag_lsn); });
  gauge(kLagMs, "Age of the oldest record the follower has not acknowledged (0: caught up)",
        [](const stream_gauges& g) { return g.lag_ms; });
  gauge(kAcked, "The follower's durable LSN as last acknowledged",
        [](const stream_gauges& g) { return static_cast<double>(g.acked_lsn); });
  gauge(kConnected, "1 while the stream to the follower is aligned and shipping",
        [](const stream_gauges& g) { return g.connected ? 1.0 : 0.0; });
}

stream_metrics::~stream_metrics() {
  auto it = live().find(key_);
  if (it != live().end()) {
    auto& v = it->second;
    v.erase(std::remove(v.begin(), v.end(), &read_), v.end());
    if (!v.empty()) return;
    live().erase(it);
  }
  for (auto* name :
       {kLagLsn, kLagMs, kAcked, kConnected, kBytes, kRecords, kAlignments, kTruncations}) {
    reg_.remove(name, labels_);
  }
}

void count_applied(const std::string& collection, uint32_t shard, uint64_t records) {
  metrics::local()
      .make_counter("shoal_replication_records_applied_total",
                    "Log records appended and applied from the leader (follower)",
                    {{"collection", collection}, {"shard", std::to_string(shard)}})
      .inc(records);
}

}  // namespace shoal::repl
