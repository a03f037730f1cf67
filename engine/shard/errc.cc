#include "engine/shard/errc.h"

namespace shoal::shard {

std::string_view error_message(errc e) {
  switch (e) {
    case errc::memory_limit:
      return "shard memory budget exceeded; writes are refused until it drops";
    case errc::closed:
      return "shard is closed";
    case errc::recovering:
      return "shard is reloading after a failed write; retry shortly";
    case errc::corrupt_snapshot:
      return "shard snapshot is corrupt";
    case errc::unknown_vector:
      return "no such vector in this collection";
    case errc::bad_record:
      return "a mutation-log record does not decode";
    case errc::collection_exists:
      return "collection already exists";
    case errc::collection_not_found:
      return "collection not found";
    case errc::collection_failed:
      return "collection failed to load";
    case errc::replication_unavailable:
      return "durability=replicated needs a collection with followers (replication_factor > 1)";
    case errc::corrupt_terms:
      return "the shard's term history file is corrupt";
    case errc::not_leader:
      return "this replica is not the shard's leader; send writes to the leader";
    case errc::stale_term:
      return "the sender's term is older than this replica's";
    case errc::log_mismatch:
      return "replicated records do not continue this replica's log";
    case errc::replication_timeout:
      return "the write is durable on the leader but too few followers acknowledged it in time";
    case errc::bad_token:
      return "the consistency token names a shard this collection does not have";
    case errc::read_after_timeout:
      return "this replica has not applied the write named by shoal-read-after yet";
    case errc::write_lost:
      return "the write named by shoal-read-after was lost in a failover (it was not written "
             "with durability=replicated)";
    case errc::replicas_missing:
      return "durability=replicated needs more live followers than this shard has now "
             "(replication.min-acks); the write was not made";
    case errc::needs_snapshot:
      return "the replica's log cannot be cut there; it needs a snapshot transfer";
  }
  return "unknown shard error";
}

}  // namespace shoal::shard
