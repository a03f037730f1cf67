#pragma once
// Moving a collection's leadership by hand in a coordinated cluster (`shoalctl cluster
// failover`, POST /cluster/failover; replication/README.md, "Manual failover").
//
// The host that takes the request writes a handoff request into etcd, on its own lease (it
// vanishes if the requester dies):
//
//   P/handoff/<collection>  {"from": A, "term": T, "to": B or "", "timeout_ms": N, "error": ""}
//
// The leader A sees it at its next poll and, if it still leads in T:
//   1. stops taking writes for the collection (its fence closes: writes get 421 and clients
//      retry; writes already under way may finish appending but are not acknowledged);
//   2. picks the target (B, or the connected follower holding most of the log) and waits until
//      the target's durable LSN reaches its own last LSN on every shard, so every write it ever
//      acknowledged is on the target, whatever its durability;
//   3. in one transaction — leader key still (A, T), term counter still T, the request still the
//      same revision, B still registered on lease L — writes the leader key (B, T + 1) on
//      B's lease L and the counter T + 1;
//   4. follows B. B sees the key on its own lease and leads in T + 1; the other hosts follow B.
// The key never goes vacant, so nobody campaigns. If the target does not catch up in time, or
// anything changed, A writes the reason into the request and takes writes again; the requester
// reports it and removes the request.
//
// Safety is the election's: the fence closes before the wait and stays closed until A follows,
// so A acknowledges nothing in T after the point B's log copies; B leads only in T + 1.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/system/result.hpp>

namespace shoal::repl {

struct failover_request {
  std::string collection;
  std::string to;  // "": the leader picks the follower holding most of the log
  std::chrono::milliseconds timeout{10'000};
};

struct failover_done {
  std::string from;
  std::string to;
  uint64_t term = 0;  // the new leader's
  double seconds = 0;
};

struct failover_refusal {
  enum class kind { bad_request, not_found, conflict, unavailable, timeout };
  kind why = kind::unavailable;
  std::string message;
};

using failover_result = boost::system::result<failover_done, failover_refusal>;

/// The request as stored in etcd.
struct handoff {
  std::string from;
  uint64_t term = 0;
  std::string to;
  std::chrono::milliseconds timeout{10'000};
  std::string error;  // set by the leader when it gives up
};

std::string encode_handoff(const handoff& h);
/// nullopt if malformed.
std::optional<handoff> decode_handoff(std::string_view json);

/// The longest a handoff may wait for its target (a request asking for more gets this).
inline constexpr std::chrono::milliseconds kMaxHandoffWait{120'000};

}  // namespace shoal::repl
