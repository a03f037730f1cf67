#pragma once
// The follower side of log shipping: the replication methods (wire.h) served by this node's RPC
// server. Each request is carried to the core that owns the shard (collections::core_of) and
// applied there through the shard's replication surface (engine/shard/shard.h): position and
// truncate make the replica follow the sender's term (an older term is refused: the fence that
// keeps a deposed leader from changing a replica), append continues its log.
//
// Objects: a handler table built before the servers start, read by every core.

#include <functional>

#include "engine/runtime/sharded.h"
#include "engine/shard/collections.h"
#include "net/rpc/dispatcher.h"

namespace shoal::repl {

struct follower_context {
  rt::sharded<shard::collections>* collections = nullptr;
  /// False while the node starts or stops: requests get status::unavailable.
  std::function<bool()> ready = [] { return true; };
};

void add_follower_methods(rpc::dispatcher& d, follower_context ctx);

}  // namespace shoal::repl
