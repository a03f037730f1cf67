#pragma once
// A coordinated cluster (`shoald --node-id ID --advertise HOST:PORT --etcd URL[,URL...]`):
// membership, collection schemas and leadership live in etcd (ARCHITECTURE.md §8), so a leader
// that dies is replaced.
//
//   P/hosts/<id>         {"rpc": "HOST:PORT", "http": "http://HOST:PORT"}   on this node's lease
//   P/collections/<name> the collection's configuration (collection.json's form)
//   P/leaders/<name>, P/terms/<name>                                         election.h
//
// A collection created with `replication_factor` R is placed on R of the registered hosts
// (P/placement/<name>, decided once at creation by rendezvous hashing); without it, on every
// host. Its holders keep a replica of every shard; one of them leads the collection (all its
// shards) in a term. Other hosts send its requests there (REST 307, RPC not_leader). The agent
// (core 0) keeps the node's lease alive and, every `poll`:
//  * registers the host and reads the host list (the leader ships to every other host);
//  * applies schema changes (schema_sync.cc): a collection that appears in etcd is created
//    here, one that disappears is dropped here, a copy of another incarnation (the name was
//    dropped and created again) is replaced; a client's create/drop goes to etcd first
//    (announce_*);
//  * for each collection: with no leader, publishes its position for the vacancy and campaigns
//    once every live holder has published its own for the same vacancy and none holds more
//    (agent_election.cc); on winning term T it takes what the others published beyond its log,
//    or steps aside, and every local shard leads in T with a replicator to the other hosts; when
//    another host leads, every local shard follows it.
// Fencing: a leader acknowledges a write only while its lease is certainly alive, with
// `fence_margin` to spare (shard::set_fence). A new leader needs the old key to expire in etcd,
// which happens after that: two leaders never both acknowledge.
//
// Moving a leader by hand (`shoalctl cluster failover`, leader_handoff.h): the leader stops
// taking writes, waits until the chosen follower holds its whole log, and hands the leader key
// over in one transaction, in the next term, onto the follower's lease.
//
// Polling (not watches) keeps the agent simple; a failover takes the lease TTL plus up to one
// poll. Lives on core 0; leader_of() and describe() are read from any core (under a mutex).

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/runtime/asio.h"
#include "engine/runtime/event.h"
#include "engine/runtime/sharded.h"
#include "engine/shard/collections.h"
#include "engine/shard/leader_hint.h"
#include "replication/cluster_status.h"
#include "replication/election.h"
#include "replication/etcd/client.h"
#include "replication/etcd/lease_keeper.h"
#include "replication/leader_handoff.h"
#include "replication/leader_replicator.h"

namespace shoal::repl {

struct agent_settings {
  std::vector<std::string> etcd_endpoints;
  std::string prefix = "/shoal";
  std::string node_id;
  std::string advertise_host;  // how other hosts reach this one
  uint16_t rpc_port = 0;
  uint16_t http_port = 0;
  std::chrono::seconds lease_ttl{2};
  std::chrono::milliseconds poll{100};
  std::chrono::milliseconds fence_margin{100};
  std::chrono::milliseconds candidate_delay{300};
  size_t min_acks = 1;
  std::chrono::milliseconds ack_timeout{10'000};
  std::chrono::milliseconds heartbeat{250};
  /// On a graceful stop, how long a leader waits for a follower to hold its whole log before
  /// it gives the leadership up (so writes it acknowledged at `local` survive a rolling restart).
  std::chrono::milliseconds stop_wait{5'000};
  rpc::client_security security;  // this node's connections to its peers (tls-ca, api-key)
};

class cluster_agent {
 public:
  explicit cluster_agent(agent_settings s);
  ~cluster_agent();

  /// On core 0, before the collections load: connects to etcd and takes the node's lease.
  awaitable<result<void>> connect();
  /// On core 0, once the collections are loaded and the servers listen: registers, syncs
  /// schemas, and starts the loop.
  void start(rt::sharded<shard::collections>& colls, uint16_t http_port);
  awaitable<void> stop();

  // Hooks (collections.h node_options and leader_hint.h).
  awaitable<result<void>> on_shard_open(const shard::collection_config& c, shard::shard& s);
  /// Sets c.incarnation (the create revision of its schema in etcd).
  awaitable<result<bool>> announce_create(shard::collection_config& c);
  /// Returns once no host leads `name` any more (or after a lease TTL and some polls).
  awaitable<result<void>> announce_drop(const std::string& name);
  std::optional<shard::leader_info> leader_of(std::string_view collection) const;
  /// The hosts and who leads what, for GET /cluster. Any core.
  cluster_view describe() const;
  /// Collections of the cluster this host does not hold (placed on other hosts). Any core.
  std::vector<std::string> held_elsewhere() const;
  /// Where this host leads `collection`: the followers it ships to and the replicas missing
  /// (leader_hint.h, replicas_of). Any core.
  std::string replicas_of(std::string_view collection) const;

  /// On core 0: moves the leadership of a collection to another host (leader_handoff.h).
  /// Returns once the new leader holds the key, or with why it did not happen.
  awaitable<failover_result> fail_over(failover_request request);

 private:
  struct host {
    std::string rpc;   // HOST:PORT
    std::string http;  // http://HOST:PORT
    int64_t lease = 0;
  };
  struct view {  // per collection, as last read from etcd
    leadership leader;
    std::chrono::steady_clock::time_point vacant_since{};
    uint64_t led_term = 0;  // the term this node leads it in (0: it does not)
    std::vector<std::pair<uint64_t, uint64_t>> position;  // as last published
    uint64_t position_vacancy = 0;                        // ... for this vacancy
    int64_t position_lease = 0;
    uint64_t known_term = 0;  // the newest term this host's shards of it know
    uint64_t campaign_term = 0, campaign_vacancy = 0;        // the last campaign this node sent
    std::chrono::steady_clock::time_point campaign_after{};  // after stepping aside
    std::string waiting_for;  // the holders whose positions a campaign waits for (logged once)
  };

  awaitable<void> run();
  /// On stop: closes the fences of the collections this node leads, waits (up to stop_wait)
  /// until some follower holds each shard's whole log, then resigns them.
  awaitable<void> step_down_for_stop();
  /// Points the fences' lease validity (lease_valid_until_ns_) at the current lease keeper.
  void follow_lease();
  awaitable<result<void>> tick();
  awaitable<result<void>> sync_hosts();
  awaitable<result<void>> sync_schemas();
  awaitable<result<void>> sync_leaders();
  /// Forgets what this node knew and did about `name` (a dropped or replaced copy): a leader
  /// stops acknowledging at once. The copy itself is dropped by the caller.
  awaitable<void> release(const std::string& name);
  /// The local copy of `name` is the one sync_schemas last checked against etcd (and not being
  /// dropped): sync_leaders gives it a role only then.
  bool settled(const std::string& name) const;
  /// A campaign's condition: etcd still holds the incarnation of `name` this node has.
  std::vector<etcd::compare> schema_guard(const std::string& name) const;
  /// `name` has no leader (agent_election.cc): publishes this host's position for the vacancy,
  /// and campaigns once every live holder has published its own for the same vacancy and none
  /// holds more of the log. True when this node now leads.
  awaitable<result<bool>> elect(const std::string& name, view& v,
                                std::chrono::steady_clock::time_point now);
  /// While `name` has no leader: publishes this host's (term, durable LSN) per shard, tagged with
  /// `vacancy` (the last term granted), when either changed; candidates compare them, so the
  /// host holding the most of the log takes over.
  awaitable<result<void>> publish_position(const std::string& name, view& v, uint64_t vacancy);
  /// Gives every local shard of `name` its role: leader in `term`, or follower of `term`. False
  /// when a shard could not take it (the reason is logged).
  awaitable<bool> apply_role(std::string name, bool lead, uint64_t term);
  /// This node holds the leader key of `name` in `term` (elected, or handed the key): takes
  /// what the other holders published for the vacancy before `term` and leads; when it cannot
  /// (a holder unreachable, a snapshot needed, a shard that cannot lead), it resigns instead,
  /// because leading without those records would cut acknowledged writes from every replica.
  awaitable<void> lead_after_win(const std::string& name, view& v, uint64_t term);
  /// Just elected in `term`: takes from other hosts the records they published beyond this log
  /// for the vacancy `term - 1` (successor_catch_up.cc), so a write acknowledged by min-acks
  /// followers survives whichever of them wins. "" when it holds all of it, else why not.
  awaitable<std::string> catch_up_from_peers(const std::string& name, const view& v, uint64_t term);
  /// This node leads `name` in `term` now. False when a shard could not lead.
  awaitable<bool> take_lead(const std::string& name, view& v, uint64_t term);
  /// Gives up the leader key of `name` in `term` after winning it and follows; this node does
  /// not campaign for `name` again for a while, so a better-placed host can win.
  awaitable<void> step_aside(const std::string& name, view& v, uint64_t term, std::string why);
  /// On the leader: starts a hand_over for each handoff request naming a collection it leads.
  awaitable<result<void>> serve_handoffs();
  awaitable<void> hand_over(std::string name, handoff request, int64_t request_revision,
                            int64_t request_lease);
  /// Ends a handoff that did not happen: the reason goes to the requester, writes resume.
  awaitable<void> abandon_handoff(const std::string& name, const handoff& request,
                                  int64_t request_revision, int64_t request_lease, std::string why);
  bool may_acknowledge(const std::string& name, uint64_t term) const;
  std::string key(std::string_view kind, std::string_view name) const;
  /// This host holds `name` (its placement names it, or it is placed on every host).
  bool placed_here(const std::string& name) const;
  /// Whether host `id` holds `name`.
  bool holds(const std::string& name, const std::string& id) const;

  agent_settings s_;
  rt::sharded<shard::collections>* colls_ = nullptr;
  std::unique_ptr<etcd::client> etcd_;
  std::unique_ptr<etcd::lease_keeper> lease_;
  std::map<std::string, host> hosts_;          // by id, this one included
  std::set<std::string> known_schemas_;        // names seen in etcd at the last sync
  std::map<std::string, uint64_t> tracked_;    // local copies' incarnations at the last sync
  std::map<std::string, uint64_t> dropping_;   // copies a client is dropping through this host
  std::map<std::string, uint64_t> announced_;  // created through this host, maybe after a read
  std::map<std::string, std::vector<std::string>> placement_;  // absent: on every host
  std::map<std::string, view> views_;
  std::set<std::string> handing_over_;  // collections in hand_over now
  bool stopping_ = false;
  rt::event done_;
  std::unique_ptr<asio::steady_timer> timer_;

  // Read from every core.
  mutable std::mutex mu_;
  std::map<std::string, std::pair<leadership, host>, std::less<>> leaders_;  // guarded by mu_
  std::map<std::string, uint64_t, std::less<>> leading_;  // name -> term; guarded by mu_
  std::set<std::string, std::less<>> fenced_;  // leading, but taking no writes; guarded by mu_
  std::vector<host_view> host_views_;          // hosts_ for describe(); guarded by mu_
  std::set<std::string> elsewhere_;            // held by other hosts only; guarded by mu_
  std::map<std::string, std::string, std::less<>> replica_notes_;  // replicas_of; guarded by mu_
  std::set<std::string> seen_hosts_;  // every host registered since this one started (core 0)
  std::atomic<int64_t> lease_valid_until_ns_{0};
};

}  // namespace shoal::repl
