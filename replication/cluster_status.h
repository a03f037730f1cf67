#pragma once
// GET /cluster (replication/README.md, "Observing replication"): this node's view of its
// cluster, static or coordinated through etcd: its id, the hosts, and per collection and shard
// the leader, the term, this replica's role and log position, and on the leader each follower's
// acknowledged LSN, lag and stream state. Shard state is read on the core that owns each shard
// (map_reduce over the cores) and only copies travel back.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/runtime/asio.h"
#include "engine/runtime/sharded.h"
#include "engine/shard/collections.h"
#include "replication/static_cluster.h"

namespace shoal::repl {

struct follower_report {
  std::string id;
  uint64_t acked_lsn = 0;
  uint64_t lag_lsn = 0;
  double lag_ms = 0;
  bool connected = false;
  bool needs_snapshot = false;
  uint64_t bytes_shipped = 0;
  uint64_t records_shipped = 0;
  uint64_t alignments = 0;
};

struct shard_report {
  std::string collection;
  uint32_t shard = 0;
  uint64_t term = 0;
  bool leader = false;  // this replica leads the shard
  uint64_t last_lsn = 0;
  uint64_t durable_lsn = 0;
  uint64_t first_lsn = 0;
  uint64_t snapshot_lsn = 0;
  std::vector<follower_report> followers;  // on the leader
};

/// A host as other hosts and clients reach it.
struct host_view {
  std::string id;
  std::string http_url;  // "http(s)://HOST:PORT"; empty when not known
  std::string rpc;       // HOST:PORT
};

/// Who is in the cluster and who leads what, as this node knows it now (a copy).
struct cluster_view {
  std::string mode;  // "static" or "etcd"
  std::string node_id;
  std::vector<host_view> hosts;                // sorted by id
  std::map<std::string, std::string> leaders;  // collection -> leading node ("": none now)
};

/// A static cluster's view, for the collections open on this core.
cluster_view view_of(const static_cluster& cluster, const shard::collections& local);

/// Every shard open on this node, read on its own core; sorted by collection, then shard.
awaitable<std::vector<shard_report>> gather_shards(rt::sharded<shard::collections>& all);

/// The `result` of GET /cluster (call on a reactor).
awaitable<std::string> cluster_status_json(cluster_view view, rt::sharded<shard::collections>& all);

}  // namespace shoal::repl
