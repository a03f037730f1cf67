#pragma once
// etcd v3 JSON gateway messages (grpc-gateway's mapping of etcd's protobufs): keys and values
// are base64, 64-bit integers are decimal strings, fields at their default value are omitted.
// Pure functions, so every shape etcd sends is tested without an etcd.

#include <string>
#include <string_view>
#include <variant>

#include "engine/common/result.h"
#include "replication/etcd/errc.h"
#include "replication/etcd/types.h"

namespace shoal::etcd::codec {

// Request bodies, for POST /v3/<path>.
std::string range_request(std::string_view key, std::string_view range_end, int64_t revision = 0,
                          int64_t limit = 0);
std::string put_request(std::string_view key, std::string_view value, int64_t lease);
std::string delete_request(std::string_view key, std::string_view range_end);
std::string txn_request(const std::vector<compare>& compares, const std::vector<txn_op>& success,
                        const std::vector<txn_op>& failure);
std::string lease_grant_request(std::chrono::seconds ttl);
std::string lease_id_request(int64_t id);  // keepalive, revoke
std::string watch_create_request(std::string_view key, std::string_view range_end,
                                 int64_t start_revision);

// Answers (the body of a 200 response).
result<range_result> parse_range(std::string_view json);
/// The header's revision (put, delete).
result<int64_t> parse_revision(std::string_view json);
result<txn_result> parse_txn(std::string_view json);
result<lease_grant> parse_lease_grant(std::string_view json);
/// Keepalive: the remaining TTL; errc::lease_not_found when etcd no longer knows the lease.
result<std::chrono::seconds> parse_keepalive(std::string_view json);

/// One message of a watch stream (one line of its body).
struct watch_created {
  int64_t revision = 0;
};
struct watch_canceled {
  int64_t compact_revision = 0;  // > 0: the start revision was compacted away
  std::string reason;
};
using watch_message = std::variant<watch_created, watch_batch, watch_canceled>;
result<watch_message> parse_watch_message(std::string_view line);

/// An error answer (status != 200): etcd's gRPC code mapped onto errc, and its message.
struct gateway_error {
  errc code = errc::rejected;
  std::string message;
};
gateway_error parse_error(unsigned status, std::string_view body);

}  // namespace shoal::etcd::codec
