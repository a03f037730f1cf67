#pragma once
// A static cluster (`shoald --node-id ID --advertise HOST:PORT --peers ...`): a fixed set of
// hosts, each holding a replica of every shard of every collection. One host leads each
// collection (all its shards, term 1): the peers sorted by id, the one at hash(name) % hosts,
// so leadership spreads over hosts by collection. The leader ships each shard's log to every
// other host (leader_replicator); followers apply it, serve reads and refuse writes by naming
// the leader.
//
// What a static cluster does not do (etcd's part, issue #7): move leadership when a host fails,
// replicate collection schemas (create each collection on every host; creation is idempotent
// with the same config), place shards on a subset of hosts.
//
// --peers: comma-separated `ID=HOST:RPC_PORT[/HTTP_PORT]`, this host included; the HTTP port
// lets refusals name the leader's REST address.
//
// Objects: built before the runtime's servers start; read from every core (immutable).

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "engine/common/result.h"
#include "engine/runtime/asio.h"
#include "engine/shard/collection_config.h"
#include "engine/shard/shard.h"
#include "replication/leader_replicator.h"

namespace shoal::repl {

struct peer {
  std::string id;
  std::string host;
  uint16_t rpc_port = 0;
  uint16_t http_port = 0;  // 0: not given
};

struct cluster_settings {
  std::string node_id;      // empty: a single node, no replication
  std::vector<peer> peers;  // a static cluster
  // A coordinated cluster (cluster_agent.h): etcd endpoints, key prefix, this host's address.
  std::vector<std::string> etcd_endpoints;
  std::string etcd_prefix = "/shoal";
  std::string advertise_host;
  uint16_t advertise_port = 0;  // RPC
  std::chrono::seconds lease_ttl{2};
  size_t min_acks = 1;
  std::chrono::milliseconds ack_timeout{10'000};
  std::chrono::milliseconds heartbeat{250};
  std::chrono::milliseconds stop_wait{5'000};  // etcd mode: cluster_agent.h agent_settings
  rpc::client_security security;  // this node's connections to its peers (tls-ca, api-key)
};

/// Parses --peers; an error text names the bad entry.
boost::system::result<std::vector<peer>, std::string> parse_peers(std::string_view text);
/// Checks that node_id is one of the peers, ids are unique, and there are at least two.
std::optional<std::string> validate(const cluster_settings& s);

class static_cluster {
 public:
  explicit static_cluster(cluster_settings s);

  const peer& leader_of(std::string_view collection) const;
  bool leads(std::string_view collection) const { return leader_of(collection).id == s_.node_id; }
  /// "node b at http://HOST:HTTP_PORT (rpc HOST:RPC_PORT)".
  std::string describe(const peer& p) const;
  const cluster_settings& settings() const { return s_; }

  /// On the shard's core, as the shard opens: its role, and on the leader its replicator.
  awaitable<result<void>> on_shard_open(const shard::collection_config& c, shard::shard& s) const;

 private:
  cluster_settings s_;  // peers sorted by id
};

}  // namespace shoal::repl
