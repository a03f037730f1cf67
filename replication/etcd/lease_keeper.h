#pragma once
// Holds an etcd lease: grants it, refreshes it every TTL/3, and knows, by the local monotonic
// clock, until when it certainly still holds. A leader serves writes only while its lease holds.
//
// valid_until() is the send time of the last refresh that etcd acknowledged plus the TTL. etcd
// counts the TTL from when it received the refresh, which is later, so the lease cannot have
// expired at etcd before valid_until() (up to clock-rate drift between the hosts, which callers
// cover with a margin). When a refresh fails the keeper retries quickly; once valid_until()
// passes, or etcd says the lease is gone, the lease is lost for good and lost() fires.
//
// Lives on the core of its client.

#include <chrono>
#include <functional>
#include <memory>

#include "engine/common/result.h"
#include "engine/runtime/asio.h"
#include "engine/runtime/event.h"
#include "replication/etcd/client.h"

namespace shoal::etcd {

class lease_keeper {
 public:
  using clock = std::chrono::steady_clock;

  static awaitable<result<std::unique_ptr<lease_keeper>>> start(client& c,
                                                                std::chrono::seconds ttl);
  ~lease_keeper();

  int64_t id() const { return id_; }
  std::chrono::seconds ttl() const { return ttl_; }
  clock::time_point valid_until() const { return valid_until_; }
  /// Whether the lease still holds now, with `margin` to spare.
  bool holds(clock::duration margin = clock::duration::zero()) const {
    return !lost_.is_set() && clock::now() + margin < valid_until_;
  }
  /// Set once the lease is lost (never reset).
  rt::event& lost() { return lost_; }
  size_t refreshes() const { return refreshes_; }

  /// fn(valid_until) runs on this core each time valid_until() moves (every acknowledged refresh,
  /// and once more when the lease is lost), so a fence can follow the lease between the agent's
  /// ticks rather than only when a tick starts.
  void on_validity(std::function<void(clock::time_point)> fn) {
    on_validity_ = std::move(fn);
    if (on_validity_) on_validity_(valid_until_);
  }

  /// Stops refreshing; with `revoke`, also tells etcd to drop the lease (and its keys) now.
  awaitable<void> stop(bool revoke);

 private:
  lease_keeper(client& c, lease_grant g, clock::time_point sent);
  awaitable<void> run();

  client& client_;
  int64_t id_;
  std::chrono::seconds ttl_;
  clock::time_point valid_until_;
  size_t refreshes_ = 0;
  bool stopping_ = false;
  rt::event lost_;
  rt::event wake_;
  rt::event done_;
  std::function<void(clock::time_point)> on_validity_;
};

}  // namespace shoal::etcd
