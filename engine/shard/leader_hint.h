#pragma once
// Where requests for a collection go when another host leads it: for the errors that refuse
// writes on a follower (REST 421 naming the leader, RPC not_leader carrying its address, which
// the C++ client follows), for reads sent to the leader (REST read=leader, a 307 there), and
// for every request about a collection this host does not hold (placed on other hosts: a 307
// to its leader).
// The cluster layer sets the lookup once at startup, before any server starts, and never again,
// so every core reads it without locks; a single node leaves it unset.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace shoal::shard {

struct leader_info {
  std::string description;  // "node b at http://10.0.0.2:6333 (rpc 10.0.0.2:6335)"
  std::string http_url;     // "http://10.0.0.2:6333"; "" when its HTTP port is not known
  std::string rpc_address;  // "10.0.0.2:6335"
};

/// fn(collection): the leader when another host leads it; nullopt when this host does.
void set_leader_lookup(std::function<std::optional<leader_info>(std::string_view)> fn);
/// nullopt when this host leads `collection`, or in a single node.
std::optional<leader_info> leader_of(std::string_view collection);

/// fn(collection): which replicas of `collection` this leader ships to and which are missing
/// ("live followers: b; missing: c (not registered)"), for the refusal of a durability=replicated
/// write that cannot reach min-acks copies. Set once at startup like the leader lookup.
void set_replica_lookup(std::function<std::string(std::string_view)> fn);
/// "" in a single node.
std::string replicas_of(std::string_view collection);

/// The cluster's collections that this host does not hold (set once at startup, like the
/// leader lookup; unset: none).
void set_remote_collections(std::function<std::vector<std::string>()> fn);
std::vector<std::string> remote_collections();

}  // namespace shoal::shard
