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
  }
  return "unknown shard error";
}

}  // namespace shoal::shard
