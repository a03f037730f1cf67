// Manual failover (leader_handoff.h): the request side (fail_over, on the host that takes the
// HTTP request) and the leader side (serve_handoffs, hand_over) of the cluster agent.
#include "replication/leader_handoff.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <simdjson.h>

#include "engine/common/json_writer.h"
#include "engine/common/logger.h"
#include "engine/runtime/smp.h"
#include "replication/cluster_agent.h"

namespace shoal::repl {
namespace {

spdlog::logger& log() {
  static auto& l = logging::get("cluster");
  return l;
}

using clock = std::chrono::steady_clock;

double seconds_since(clock::time_point t0) {
  return std::chrono::duration<double>(clock::now() - t0).count();
}

failover_refusal refusal(failover_refusal::kind k, std::string message) {
  return {k, std::move(message)};
}

}  // namespace

std::string encode_handoff(const handoff& h) {
  std::string out;
  json_writer w(out);
  w.begin_object()
      .field("from", h.from)
      .field("term", h.term)
      .field("to", h.to)
      .field("timeout_ms", static_cast<uint64_t>(h.timeout.count()))
      .field("error", h.error)
      .end_object();
  return out;
}

std::optional<handoff> decode_handoff(std::string_view json) {
  simdjson::dom::parser p;
  simdjson::padded_string padded(json);
  simdjson::dom::element doc;
  std::string_view from, to, error;
  uint64_t term = 0, timeout_ms = 0;
  if (p.parse(padded).get(doc) || doc["from"].get(from) || doc["term"].get(term) ||
      doc["to"].get(to) || doc["timeout_ms"].get(timeout_ms) || doc["error"].get(error) ||
      from.empty() || term == 0) {
    return std::nullopt;
  }
  handoff h;
  h.from = from;
  h.term = term;
  h.to = to;
  h.timeout = std::min(std::chrono::milliseconds(timeout_ms), kMaxHandoffWait);
  h.error = error;
  return h;
}

// ---- the requester ----

awaitable<failover_result> cluster_agent::fail_over(failover_request request) {
  using k = failover_refusal::kind;
  auto t0 = clock::now();
  const auto& name = request.collection;
  if (!colls_ || stopping_) co_return refusal(k::unavailable, "this node is starting or stopping");
  // Held here, or only by other hosts (placement): any host takes the request.
  if (!colls_->local().find(name) && !known_schemas_.count(name)) {
    co_return refusal(k::not_found, fmt::format("Collection `{}` doesn't exist!", name));
  }
  if (!request.to.empty() && !hosts_.count(request.to)) {
    std::string known;
    for (auto& [id, h] : hosts_) known += (known.empty() ? "" : ", ") + id;
    co_return refusal(k::bad_request, fmt::format("node `{}` is not in the cluster (hosts: {})",
                                                  request.to, known));
  }
  if (!request.to.empty() && !holds(name, request.to)) {
    auto placed = placement_.find(name);
    co_return refusal(
        k::bad_request,
        fmt::format("node `{}` does not hold collection `{}` (held by {})", request.to, name,
                    placed == placement_.end()
                        ? std::string("every host")
                        : fmt::format("{}", fmt::join(placed->second, ", "))));
  }
  if (request.to.empty() && hosts_.size() < 2) {
    co_return refusal(k::conflict, "there is no other host to move the leadership to");
  }
  election e(*etcd_, s_.prefix, name, s_.node_id, *lease_);
  auto cur = co_await e.current();
  if (!cur) co_return refusal(k::unavailable, "etcd: " + cur.error().message());
  if (cur->node.empty()) {
    co_return refusal(k::unavailable,
                      fmt::format("collection `{}` has no leader now (an election is under way); "
                                  "retry in a few seconds",
                                  name));
  }
  if (cur->node == request.to) {
    co_return refusal(k::conflict,
                      fmt::format("node `{}` already leads collection `{}`", request.to, name));
  }
  const auto request_key = key("handoff", name);
  handoff h{cur->node, cur->term, request.to, std::min(request.timeout, kMaxHandoffWait), {}};
  auto put = co_await etcd_->txn(
      {etcd::compare::absent(request_key),
       etcd::compare::value_is(e.leader_key(), encode_leadership({cur->node, cur->term, 0}))},
      {etcd::txn_op::put(request_key, encode_handoff(h), lease_->id())},
      {etcd::txn_op::get(request_key)});
  if (!put) co_return refusal(k::unavailable, "etcd: " + put.error().message());
  if (!put->succeeded) {
    bool busy = !put->ranges.empty() && !put->ranges[0].kvs.empty();
    co_return refusal(k::conflict,
                      busy ? fmt::format("a failover of collection `{}` is already under way", name)
                           : fmt::format("the leadership of collection `{}` changed while the "
                                         "request was made; look again and retry",
                                         name));
  }
  log().info("{}: asked node {} to hand its leadership (term {}) to {}", name, h.from, h.term,
             h.to.empty() ? "its most caught-up follower" : h.to);

  // Wait for the leader key to move, or for the leader's reason, or for the deadline (plus a
  // little: the leader measures its own wait from when it saw the request).
  auto deadline = t0 + h.timeout + 2 * s_.poll + std::chrono::milliseconds(500);
  asio::steady_timer pause(co_await asio::this_coro::executor);
  std::optional<failover_refusal> outcome;
  std::optional<failover_done> done;
  while (!done && !outcome) {
    auto now = co_await e.current();
    if (now && !now->node.empty() && (now->node != h.from || now->term != h.term)) {
      done = failover_done{h.from, now->node, now->term, 0};
      break;
    }
    auto req = co_await etcd_->get(request_key);
    if (req && !req->kvs.empty()) {
      if (auto stored = decode_handoff(req->kvs[0].value); stored && !stored->error.empty()) {
        outcome = refusal(k::conflict, stored->error);
        break;
      }
    }
    if (clock::now() >= deadline) {
      outcome = refusal(
          k::timeout,
          fmt::format("node `{}` did not hand collection `{}` over within {:.1f} s; is it alive, "
                      "and is the target caught up? (shoalctl cluster status)",
                      h.from, name, std::chrono::duration<double>(h.timeout).count()));
      break;
    }
    pause.expires_after(std::chrono::milliseconds(50));
    co_await pause.async_wait(use_nothrow_awaitable);
  }
  // The request goes; the leader's transaction checks its revision, so a handoff that had not
  // happened by now cannot happen after this.
  (void)co_await etcd_->erase(request_key);
  if (outcome && outcome->why == k::timeout) {
    // It may have moved just before the erase.
    if (auto now = co_await e.current();
        now && !now->node.empty() && (now->node != h.from || now->term != h.term)) {
      done = failover_done{h.from, now->node, now->term, 0};
    }
  }
  if (!done) co_return *outcome;
  done->seconds = seconds_since(t0);
  log().info("{}: leadership moved from {} to {} (term {}) in {:.3f} s", name, done->from, done->to,
             done->term, done->seconds);
  co_return *done;
}

// ---- the leader ----

awaitable<result<void>> cluster_agent::serve_handoffs() {
  auto all = co_await etcd_->get_prefix(s_.prefix + "/handoff/");
  if (!all) co_return all.error();
  for (auto& kv : all->kvs) {
    auto name = kv.key.substr(s_.prefix.size() + 9);
    auto h = decode_handoff(kv.value);
    if (!h || !h->error.empty() || h->from != s_.node_id || handing_over_.count(name)) continue;
    auto v = views_.find(name);
    if (v == views_.end() || v->second.led_term != h->term) continue;
    handing_over_.insert(name);
    asio::co_spawn(timer_->get_executor(), hand_over(name, *h, kv.mod_revision, kv.lease),
                   asio::detached);
  }
  co_return result<void>{};
}

awaitable<void> cluster_agent::hand_over(std::string name, handoff request,
                                         int64_t request_revision, int64_t request_lease) {
  auto t0 = clock::now();
  auto deadline = t0 + request.timeout;
  const uint64_t term = request.term;
  {
    std::lock_guard l(mu_);
    fenced_.insert(name);  // no write is acknowledged from here on (may_acknowledge)
  }
  log().info("{}: handing over the leadership (term {}); writes paused", name, term);

  // Wait until the target holds every record of every shard. New writes are refused at the
  // door; those already under way stop appending soon, so the last LSN stops moving.
  std::string target = request.to;
  std::string why;
  asio::steady_timer pause(co_await asio::this_coro::executor);
  for (;;) {
    if (views_[name].led_term != term || !lease_->holds(s_.fence_margin)) {
      why = fmt::format("node `{}` stopped leading collection `{}` during the handoff", s_.node_id,
                        name);
      break;
    }
    auto reports = co_await gather_shards(*colls_);
    std::erase_if(reports, [&](const shard_report& r) { return r.collection != name; });
    if (target.empty()) {
      // The connected follower holding most of the log.
      std::map<std::string, uint64_t> held;
      for (auto& r : reports) {
        for (auto& f : r.followers) {
          if (f.connected && hosts_.count(f.id)) held[f.id] += f.acked_lsn;
        }
      }
      auto best = std::max_element(held.begin(), held.end(),
                                   [](auto& a, auto& b) { return a.second < b.second; });
      if (best != held.end()) target = best->first;
    }
    uint64_t behind = 0;
    bool known = !target.empty() && !reports.empty();
    for (auto& r : reports) {
      auto f = std::find_if(r.followers.begin(), r.followers.end(),
                            [&](const follower_report& x) { return x.id == target; });
      if (f == r.followers.end()) {
        known = false;
        break;
      }
      behind += r.last_lsn > f->acked_lsn ? r.last_lsn - f->acked_lsn : 0;
    }
    if (known && behind == 0) break;
    if (clock::now() >= deadline) {
      why = target.empty()
                ? fmt::format("no follower of collection `{}` is connected to its leader `{}`",
                              name, s_.node_id)
            : !known ? fmt::format("node `{}` does not replicate collection `{}` from `{}`", target,
                                   name, s_.node_id)
                     : fmt::format(
                           "node `{}` did not catch up with leader `{}` within {:.1f} s "
                           "({} records behind); writes to `{}` resumed",
                           target, s_.node_id,
                           std::chrono::duration<double>(request.timeout).count(), behind, name);
      break;
    }
    pause.expires_after(std::chrono::milliseconds(10));
    co_await pause.async_wait(use_nothrow_awaitable);
  }
  if (!why.empty()) {
    co_await abandon_handoff(name, request, request_revision, request_lease, std::move(why));
    co_return;
  }

  // One transaction moves the key: nothing may have changed since the request was made.
  auto host = hosts_.find(target);
  if (host == hosts_.end() || host->second.lease == 0) {
    co_await abandon_handoff(name, request, request_revision, request_lease,
                             fmt::format("node `{}` left the cluster", target));
    co_return;
  }
  election e(*etcd_, s_.prefix, name, s_.node_id, *lease_);
  const leadership next{target, term + 1, 0};
  etcd::compare target_registered{key("hosts", target),
                                  etcd::compare::target::lease,
                                  etcd::compare::op::equal,
                                  host->second.lease,
                                  {}};
  auto moved = co_await etcd_->txn(
      {etcd::compare::value_is(e.leader_key(), encode_leadership({s_.node_id, term, 0})),
       etcd::compare::value_is(e.term_key(), std::to_string(term)),
       etcd::compare::mod_revision_is(key("handoff", name), request_revision), target_registered},
      {etcd::txn_op::put(e.leader_key(), encode_leadership(next), host->second.lease),
       etcd::txn_op::put(e.term_key(), std::to_string(next.term))});
  bool succeeded = moved && moved->succeeded;
  if (!moved) {
    // Sent but unanswered: the key says whether it happened. Until etcd tells, the fence stays
    // closed: the target may already lead. While this node's lease holds, ask again; once it
    // cannot be proven, the key is gone or moved either way, and this node leads no more.
    for (;;) {
      auto now = co_await e.current();
      if (now) {
        succeeded = now->node == next.node && now->term == next.term;
        break;
      }
      if (!lease_->holds(s_.fence_margin)) {
        log().warn(
            "{}: the handoff's outcome is unknown and the lease can no longer be proven; "
            "following (the fence stays closed)",
            name);
        auto& v = views_[name];
        v.led_term = 0;
        {
          std::lock_guard l(mu_);
          leading_.erase(name);
        }
        co_await apply_role(name, false, next.term);
        {
          std::lock_guard l(mu_);
          fenced_.erase(name);
        }
        handing_over_.erase(name);
        co_return;
      }
      pause.expires_after(s_.poll);
      co_await pause.async_wait(use_nothrow_awaitable);
    }
  }
  if (!succeeded) {
    co_await abandon_handoff(
        name, request, request_revision, request_lease,
        moved ? fmt::format("the cluster changed during the handoff of `{}` (its leader, term, "
                            "the request or `{}`'s registration); nothing moved",
                            name, target)
              : fmt::format("etcd did not answer the handoff of `{}`: {}", name,
                            moved.error().message()));
    co_return;
  }
  // Follow the new leader. The fence stays closed until this node no longer leads.
  auto& v = views_[name];
  v.led_term = 0;
  v.leader = next;
  {
    std::lock_guard l(mu_);
    leading_.erase(name);
    leaders_[name] = {next, host->second};
  }
  co_await apply_role(name, false, next.term);
  {
    std::lock_guard l(mu_);
    fenced_.erase(name);
  }
  handing_over_.erase(name);
  log().info("{}: handed over to {} (term {}) in {:.3f} s", name, target, next.term,
             seconds_since(t0));
}

awaitable<void> cluster_agent::abandon_handoff(const std::string& name, const handoff& request,
                                               int64_t request_revision, int64_t request_lease,
                                               std::string why) {
  log().warn("{}: handoff abandoned: {}", name, why);
  {
    std::lock_guard l(mu_);
    fenced_.erase(name);  // writes resume
  }
  handing_over_.erase(name);
  auto told = request;
  told.error = std::move(why);
  // Only onto the same request (the requester may have given up and removed it).
  const auto request_key = key("handoff", name);
  (void)co_await etcd_->txn({etcd::compare::mod_revision_is(request_key, request_revision)},
                            {etcd::txn_op::put(request_key, encode_handoff(told), request_lease)});
}

}  // namespace shoal::repl
