#pragma once
// Read-your-writes over REST (engine/shard/consistency_token.h):
//  * every write answers with the header `shoal-token: SHARD:TERM:LSN,...`;
//  * a read with `shoal-read-after: TOKEN` is answered once this host holds those records, or
//    fails: 504 when they do not arrive within the request's `timeout` parameter (default 10 s),
//    409 when a failover replaced them, 400 for a malformed token;
//  * a read with the query parameter `read=leader` on a host that does not lead the collection
//    is redirected there (307, Location: the leader's URL; HTTP clients follow it with the same
//    method and body).

#include <vector>

#include "engine/shard/consistency_token.h"
#include "engine/shard/coordinator.h"
#include "net/http/router.h"

namespace shoal::rest {

/// Wraps a read handler of a route with {name}.
http::handler with_read_consistency(shard::coordinator* coord, http::handler h);
/// Adds the shoal-token header to a write's answer (nothing for an empty token).
void set_token_header(http::response& r, const std::vector<shard::token_entry>& token);

}  // namespace shoal::rest
