#pragma once
// Expected failures of shards and collections.

#include <string_view>

#include "engine/common/result.h"

namespace shoal::shard {

enum class errc {
  memory_limit = 1,  // the shard is over its memory budget: writes refused, reads go on
  closed,            // the shard is closing or closed
  recovering,        // the shard is reloading after a failed write; retry shortly
  corrupt_snapshot,  // a snapshot file fails validation
  unknown_vector,    // a vector name the collection does not have
  bad_record,        // a log record that does not decode (corruption)
  collection_exists,
  collection_not_found,
  collection_failed,        // the collection could not be loaded (see the log for why)
  replication_unavailable,  // durability=replicated on a collection without followers
  corrupt_terms,            // the shard's term history file fails its checks
  not_leader,               // a write sent to a replica that is not the shard's leader
  stale_term,               // a message from a leader of an older term than this replica's
  log_mismatch,             // replicated records that do not continue this replica's log
  needs_snapshot,
  replication_timeout,  // durability=replicated: too few followers acknowledged in time
  bad_token,            // a consistency token that does not fit the collection
  read_after_timeout,   // a read-after token's records did not arrive here in time
  write_lost,           // a read-after token names records a failover replaced  // the
                        // replica must be rebuilt from a snapshot (its log cannot be cut there)
  replicas_missing,     // durability=replicated: fewer live followers than min-acks; refused
};

std::string_view error_message(errc e);
constexpr const char* error_category_name(errc) {
  return "shoal.shard";
}
SHOAL_DECLARE_ERRC(errc)

}  // namespace shoal::shard

SHOAL_REGISTER_ERRC(shoal::shard::errc)
