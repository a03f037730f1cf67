#pragma once
// Where a write goes when this node does not lead a collection: a text naming the leader
// ("node b at http://10.0.0.2:6333 (rpc 10.0.0.2:6335)"), for the errors that refuse such
// writes (REST 421, RPC not_leader). The cluster layer sets it once at startup, before any
// server starts, and never again, so every core reads it without locks; a single node leaves
// it unset.

#include <functional>
#include <string>
#include <string_view>

namespace shoal::shard {

void set_leader_hint(std::function<std::string(std::string_view collection)> fn);
/// "" when unknown.
std::string leader_hint(std::string_view collection);

}  // namespace shoal::shard
