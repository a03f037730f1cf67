#pragma once
// Expected failures of talking to etcd, as values (engine/common/result.h).

#include <string_view>

#include "engine/common/result.h"

namespace shoal::etcd {

enum class errc {
  unavailable = 1,    // no endpoint answered (connection refused, reset, unreachable)
  timeout,            // the request's deadline passed
  bad_response,       // an answer that is not what etcd's gateway sends (not JSON, fields missing)
  lease_not_found,    // the lease expired or was revoked
  compacted,          // a watch asked for a revision etcd has compacted away
  request_too_large,  // etcd refused the request's size
  rejected,           // etcd answered with an error this client does not map (message logged)
  canceled,           // a watch was canceled by etcd or closed by its owner
  bad_config,         // an endpoint that is not http://host:port
};

std::string_view error_message(errc e);
constexpr const char* error_category_name(errc) {
  return "shoal.etcd";
}
SHOAL_DECLARE_ERRC(errc)

}  // namespace shoal::etcd

SHOAL_REGISTER_ERRC(shoal::etcd::errc)
