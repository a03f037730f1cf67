#include "net/rpc/api_status.h"

#include <cerrno>

#include <fmt/format.h>

#include "engine/log/errc.h"
#include "engine/runtime/errc.h"
#include "engine/shard/errc.h"
#include "engine/shard/leader_hint.h"
#include "net/rpc/errc.h"

namespace shoal::rpc {

error error_of(const error_code& ec, std::string_view collection) {
  if (ec.category() == category_of<shard::errc>()) {
    switch (static_cast<shard::errc>(ec.value())) {
      case shard::errc::collection_not_found:
        // Placed on other hosts: not_leader names its leader, which the C++ client follows.
        if (auto leader = shard::leader_of(collection); leader && !leader->rpc_address.empty()) {
          return {status::not_leader, leader->rpc_address + " " + leader->description};
        }
        return {status::not_found,
                fmt::format("Not found: Collection `{}` doesn't exist!", collection)};
      case shard::errc::collection_exists:
        return {status::already_exists,
                fmt::format("Wrong input: Collection `{}` already exists!", collection)};
      case shard::errc::unknown_vector:
        return {status::wrong_input, "Wrong input: " + ec.message()};
      case shard::errc::memory_limit:
      case shard::errc::recovering:
      case shard::errc::closed:
        return {status::unavailable, "Service unavailable: " + ec.message()};
      case shard::errc::replication_unavailable:
        return {status::wrong_input, "Bad request: " + ec.message()};
      case shard::errc::not_leader: {
        // The message starts with the leader's RPC address, which clients follow (client.h).
        auto leader = shard::leader_of(collection);
        if (!leader) return {status::not_leader, "? this node does not lead the collection"};
        return {status::not_leader, leader->rpc_address + " " + leader->description};
      }
      case shard::errc::replication_timeout:
        return {status::unavailable, "Service unavailable: " + ec.message()};
      case shard::errc::replicas_missing: {
        auto replicas = shard::replicas_of(collection);
        return {status::unavailable,
                fmt::format("Service unavailable: {} (collection `{}`{}{})", ec.message(),
                            collection, replicas.empty() ? "" : ": ", replicas)};
      }
      case shard::errc::collection_failed:
        return {status::internal,
                fmt::format("Service internal error: collection `{}` failed to load; see the "
                            "server log for the reason",
                            collection)};
      default:
        break;
    }
  }
  if (ec.category() == boost::system::system_category() && ec.value() == ENOSPC) {
    return {status::insufficient_storage,
            "Service internal error: no space left on device; the write was not applied"};
  }
  if (ec.category() == category_of<wal::errc>() &&
      static_cast<wal::errc>(ec.value()) == wal::errc::log_full) {
    return {status::overloaded, "Service unavailable: too many writes in flight; retry"};
  }
  if (ec == rt::errc::timeout) return {status::timeout, "Timeout: " + ec.message()};
  if (ec == rt::errc::shutting_down || ec == rt::errc::broken || ec == rt::errc::gate_closed) {
    return {status::unavailable, "Service unavailable: " + ec.message()};
  }
  if (ec.category() == category_of<errc>()) return {status_of(ec), ec.message()};
  return {status::internal, "Service internal error: " + ec.message()};
}

error error_of(const data::input_error& e) {
  switch (e.k) {
    case data::input_error::kind::format:
      return {status::format_error, "Format error in request: " + e.message};
    case data::input_error::kind::validation:
      return {status::validation_error, "Validation error in request: [" + e.message + "]"};
    case data::input_error::kind::wrong_input:
      return {status::wrong_input, "Wrong input: " + e.message};
    case data::input_error::kind::not_found:
      return {status::not_found, "Not found: " + e.message};
  }
  return {status::format_error, e.message};
}

}  // namespace shoal::rpc
