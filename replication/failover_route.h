#pragma once
// POST /cluster/failover (replication/README.md, "Manual failover"): moves a collection's
// leadership to another host of a coordinated cluster. Body: {"collection": NAME, "to": NODE}
// ("to" optional: the most caught-up follower); query parameter `timeout` (seconds, default 10,
// at most 120) bounds how long the leader waits for the target to catch up. Answers once the
// new leader holds the key: {"collection", "from", "to", "term", "seconds"}. Errors: 400 bad
// body or unknown node, 404 unknown collection, 409 the target is the leader / another failover
// is under way / the leader gave up (the message says why), 503 no leader or etcd unavailable,
// 504 the leader did not hand over in time (it still leads).
//
// The handler runs on the core serving the request; the agent's work runs on core 0.

#include <memory>

#include "net/http/router.h"

namespace shoal::repl {

class cluster_agent;

http::handler failover_route(std::shared_ptr<cluster_agent> agent);

}  // namespace shoal::repl
