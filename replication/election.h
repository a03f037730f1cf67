#pragma once
// Leadership of one collection through etcd (ARCHITECTURE.md §8): a leader key held with the
// candidate's lease, and a term counter that only grows. The building block of failover; the
// cluster agent (issue #7, next) runs one per collection.
//
// Keys, under the cluster's prefix P:
//   P/leaders/<collection>  {"node": ID, "term": N}   attached to the holder's lease: it vanishes
//                                                      when the holder stops refreshing it
//   P/terms/<collection>    N                          the last term ever granted; never deleted
//
// campaign() is one etcd transaction: "the leader key is absent and the term counter is still
// the value I read" -> write both (term + 1). Two candidates can never both win a term, and a
// term is never granted twice, even across etcd restarts (terms live in etcd, not in memory).
//
// Fencing: a leader may acknowledge a write only while `holds()` — while its lease is certainly
// alive with a margin (lease_keeper computes validity from when each refresh was *sent*, so it
// ends before etcd's expiry). A new leader needs the old key gone, which needs etcd's expiry:
// so an old leader has stopped acknowledging before a new one can exist.
//
// Lives on the cluster agent's core, like the etcd client it uses.

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/common/result.h"
#include "engine/runtime/asio.h"
#include "replication/etcd/client.h"
#include "replication/etcd/lease_keeper.h"

namespace shoal::repl {

struct leadership {
  std::string node;  // "" = nobody leads now
  uint64_t term = 0;
  int64_t revision = 0;  // etcd revision of the leader key (0 when absent)
  int64_t lease = 0;     // the lease the key is attached to (0 when absent)
  bool operator==(const leadership&) const = default;
};

/// {"node": ID, "term": N}; nullopt if malformed.
std::string encode_leadership(const leadership& l);
std::optional<leadership> decode_leadership(std::string_view json);

/// Per shard, the (term, LSN) of a host's log, as published in etcd while a collection has no
/// leader. Candidates compare them (the host holding most of the log wins).
using position_vector = std::vector<std::pair<uint64_t, uint64_t>>;
/// A host's positions for one vacancy: `vacancy` is the last term granted when they were
/// published (the term counter), so a position left from an earlier vacancy is never taken for
/// a current one. Text form "V|t:l,t:l,...".
struct published_position {
  uint64_t vacancy = 0;
  position_vector shards;
  bool operator==(const published_position&) const = default;
};
std::string encode_positions(const published_position& p);
/// nullopt if malformed (a value without "V|" is from before vacancies were tagged: vacancy 0).
std::optional<published_position> decode_positions(std::string_view s);

class election {
 public:
  /// `lease` is the candidate's own (one per node, shared by everything it holds).
  election(etcd::client& c, std::string prefix, std::string collection, std::string node_id,
           etcd::lease_keeper& lease);

  /// Who leads now (and the last granted term in `term` when nobody does).
  awaitable<result<leadership>> current();
  /// Tries to become the leader: the new term when won; nullopt when someone else holds the
  /// key or the counter moved (see current()). etcd errors as errors. The term granted is the
  /// counter + 1, or `at_least` when that is higher: a term this node's replicas have seen is
  /// never granted again, even by an etcd restored from an old backup.
  awaitable<result<std::optional<uint64_t>>> campaign(uint64_t at_least = 0);
  /// campaign() for the vacancy a candidate looked at: only while the counter still says
  /// `vacancy` (0: never granted); the term is max(vacancy + 1, at_least).
  /// `also`: more conditions (the collection's incarnation is still the one this node holds).
  awaitable<result<std::optional<uint64_t>>> campaign_in(uint64_t vacancy, uint64_t at_least,
                                                         std::vector<etcd::compare> also = {});
  /// Gives the leadership up now (deletes the key if this node still holds it), so a
  /// successor need not wait for the lease to expire.
  awaitable<result<void>> resign(uint64_t term);
  /// This node may act as the leader of `term`: its lease is alive with `margin` to spare.
  bool holds(std::chrono::milliseconds margin) const { return lease_.holds(margin); }

  const std::string& leader_key() const { return leader_key_; }
  const std::string& term_key() const { return term_key_; }

 private:
  /// The campaign transaction: when `when` holds, the leader key (on this node's lease) and the
  /// counter say `term`.
  awaitable<result<std::optional<uint64_t>>> grant(std::vector<etcd::compare> when, uint64_t term);

  etcd::client& client_;
  std::string node_;
  std::string leader_key_;
  std::string term_key_;
  etcd::lease_keeper& lease_;
};

}  // namespace shoal::repl
