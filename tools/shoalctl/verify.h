#pragma once
// shoalctl cluster verify COLLECTION [--wait SECONDS]: compares every replica of every shard of
// a collection by their digests (GET /collections/{name}/shards/{id}/digest, engine/shard/
// replica_digest.h), at the same LSN.

#include <string>
#include <vector>

#include "tools/shoalctl/client.h"

namespace shoal::ctl {

/// Finds the hosts from GET /cluster on `seed`, which of them hold the collection (their own
/// GET /cluster lists it with shard rows), and asks each for each shard's digest, again while
/// the replicas of a shard report different LSNs (records may still be shipping), for up to
/// --wait seconds (default 10). Prints one row per shard and host. Exit 0: every shard's
/// replicas are identical; 1: a shard's replicas differ at the same LSN, or their LSNs never
/// met, or a host answered with an error (each named); 3: a host could not be reached (and
/// nothing else was wrong); 2: usage.
int cluster_verify(const target& seed, std::vector<std::string> args);

}  // namespace shoal::ctl
