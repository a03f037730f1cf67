#include "replication/cluster_agent.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <simdjson.h>

#include "engine/common/json_writer.h"
#include "engine/common/logger.h"
#include "engine/runtime/runtime.h"
#include "engine/runtime/smp.h"
#include "engine/shard/errc.h"

namespace shoal::repl {
namespace {

spdlog::logger& log() {
  static auto& l = logging::get("cluster");
  return l;
}

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

cluster_agent::cluster_agent(agent_settings s) : s_(std::move(s)) {}

cluster_agent::~cluster_agent() = default;

std::string cluster_agent::key(std::string_view kind, std::string_view name) const {
  return fmt::format("{}/{}/{}", s_.prefix, kind, name);
}

bool cluster_agent::holds(const std::string& name, const std::string& id) const {
  auto it = placement_.find(name);
  return it == placement_.end() || it->second.empty() ||
         std::find(it->second.begin(), it->second.end(), id) != it->second.end();
}

bool cluster_agent::placed_here(const std::string& name) const {
  return holds(name, s_.node_id);
}

awaitable<result<void>> cluster_agent::connect() {
  etcd::client_config cfg;
  cfg.endpoints = s_.etcd_endpoints;
  cfg.request_timeout = std::chrono::milliseconds(std::max<int64_t>(
      500, std::chrono::duration_cast<std::chrono::milliseconds>(s_.lease_ttl).count() / 2));
  auto c = etcd::client::create(cfg);
  if (!c) co_return c.error();
  etcd_ = std::move(*c);
  auto lease = co_await etcd::lease_keeper::start(*etcd_, s_.lease_ttl);
  if (!lease) co_return lease.error();
  lease_ = std::move(*lease);
  follow_lease();
  timer_ = std::make_unique<asio::steady_timer>(rt::runtime::current().local().executor());
  log().info("node {}: connected to etcd, lease {:x} ({} s)", s_.node_id, lease_->id(),
             s_.lease_ttl.count());
  co_return result<void>{};
}

void cluster_agent::start(rt::sharded<shard::collections>& colls, uint16_t http_port) {
  colls_ = &colls;
  s_.http_port = http_port;
  asio::co_spawn(timer_->get_executor(), run(), asio::detached);
}

void cluster_agent::follow_lease() {
  // The fences read this on every write; it moves with each refresh the keeper gets
  // acknowledged, whatever the agent's loop is doing (a tick waiting on a slow etcd must not
  // let a healthy lease look expired).
  lease_->on_validity([this](etcd::lease_keeper::clock::time_point until) {
    lease_valid_until_ns_ = until.time_since_epoch().count();
  });
}

awaitable<void> cluster_agent::stop() {
  if (!timer_) co_return;
  stopping_ = true;
  timer_->cancel();
  if (colls_) {
    while (!done_.is_set()) co_await done_.wait();
  }
  co_await step_down_for_stop();
  if (lease_) co_await lease_->stop(true);
}

awaitable<void> cluster_agent::step_down_for_stop() {
  std::vector<std::string> led;
  for (auto& [name, v] : views_) {
    if (v.led_term) led.push_back(name);
  }
  if (led.empty()) co_return;
  // No write is acknowledged from here on; those already acknowledged (at `local` too) must
  // reach a follower before the key goes, or the successor would not have them.
  {
    std::lock_guard l(mu_);
    for (auto& name : led) fenced_.insert(name);
  }
  const auto deadline = std::chrono::steady_clock::now() + s_.stop_wait;
  asio::steady_timer pause(co_await asio::this_coro::executor);
  for (;;) {
    auto reports = co_await gather_shards(*colls_);
    std::vector<std::string> behind;
    for (auto& r : reports) {
      if (!r.leader || std::find(led.begin(), led.end(), r.collection) == led.end()) continue;
      uint64_t best = 0;
      for (auto& f : r.followers) best = std::max(best, f.acked_lsn);
      if (best < r.last_lsn) behind.push_back(fmt::format("{}/{}", r.collection, r.shard));
    }
    if (behind.empty()) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      log().error(
          "stopping: no follower holds the whole log of {} after {} ms; records "
          "acknowledged at durability=local may be cut by the next leader",
          fmt::join(behind, ", "), s_.stop_wait.count());
      break;
    }
    pause.expires_after(std::chrono::milliseconds(10));
    co_await pause.async_wait(use_nothrow_awaitable);
  }
  // Hand leadership over at once rather than after the lease's TTL.
  for (auto& name : led) {
    auto& v = views_[name];
    election e(*etcd_, s_.prefix, name, s_.node_id, *lease_);
    (void)co_await e.resign(v.led_term);
    {
      std::lock_guard l(mu_);
      leading_.erase(name);
    }
    (void)co_await apply_role(name, false, v.led_term);
    v.led_term = 0;
  }
}

awaitable<void> cluster_agent::run() {
  std::string last_error;
  while (!stopping_) {
    auto t = co_await tick();
    if (!t && t.error().message() != last_error) {
      last_error = t.error().message();
      log().warn("node {}: cluster sync: {}", s_.node_id, last_error);
    } else if (t) {
      last_error.clear();
    }
    timer_->expires_after(s_.poll);
    co_await timer_->async_wait(use_nothrow_awaitable);
  }
  done_.set();
}

awaitable<result<void>> cluster_agent::tick() {
  if (lease_->lost().is_set()) {
    // Everything this node led went with the lease; followers of it elect a successor.
    lease_valid_until_ns_ = 0;
    for (auto& [name, v] : views_) {
      if (!v.led_term) continue;
      log().warn("{}: lost the lease; no longer leading in term {}", name, v.led_term);
      {
        std::lock_guard l(mu_);
        leading_.erase(name);
      }
      co_await apply_role(name, false, v.led_term);
      v.led_term = 0;
    }
    auto lease = co_await etcd::lease_keeper::start(*etcd_, s_.lease_ttl);
    if (!lease) co_return lease.error();
    co_await lease_->stop(false);
    lease_ = std::move(*lease);
    follow_lease();
    hosts_.erase(s_.node_id);  // registered again below, on the new lease
  }
  if (auto r = co_await sync_hosts(); !r) co_return r;
  if (auto r = co_await sync_schemas(); !r) co_return r;
  if (auto r = co_await sync_leaders(); !r) co_return r;
  co_return co_await serve_handoffs();
}

awaitable<result<void>> cluster_agent::sync_hosts() {
  if (!hosts_.count(s_.node_id)) {
    std::string value;
    json_writer w(value);
    w.begin_object()
        .field("rpc", fmt::format("{}:{}", s_.advertise_host, s_.rpc_port))
        .field("http", fmt::format("{}://{}:{}", s_.security.tls ? "https" : "http",
                                   s_.advertise_host, s_.http_port))
        .end_object();
    if (auto r = co_await etcd_->put(key("hosts", s_.node_id), value, lease_->id()); !r) {
      co_return r.error();
    }
  }
  auto all = co_await etcd_->get_prefix(s_.prefix + "/hosts/");
  if (!all) co_return all.error();
  std::map<std::string, host> next;
  simdjson::dom::parser p;
  for (auto& kv : all->kvs) {
    auto id = kv.key.substr(s_.prefix.size() + 7);
    simdjson::padded_string padded(kv.value);
    simdjson::dom::element doc;
    std::string_view rpc, http;
    if (p.parse(padded).get(doc) || doc["rpc"].get(rpc) || doc["http"].get(http)) continue;
    next[id] = {std::string(rpc), std::string(http), kv.lease};
  }
  bool changed = next.size() != hosts_.size() ||
                 !std::equal(next.begin(), next.end(), hosts_.begin(), [](auto& a, auto& b) {
                   return a.first == b.first && a.second.rpc == b.second.rpc;
                 });
  hosts_ = std::move(next);
  for (auto& [id, h] : hosts_) seen_hosts_.insert(id);
  {
    std::lock_guard l(mu_);
    host_views_.clear();
    for (auto& [id, h] : hosts_) host_views_.push_back({id, h.http, h.rpc});
  }
  if (changed) {
    log().info("node {}: {} hosts in the cluster", s_.node_id, hosts_.size());
    // Leaders ship to every other host: give the replicators the new list.
    for (auto& [name, v] : views_) {
      if (v.led_term) co_await apply_role(name, true, v.led_term);
    }
  }
  co_return result<void>{};
}

awaitable<result<void>> cluster_agent::sync_leaders() {
  auto leaders = co_await etcd_->get_prefix(s_.prefix + "/leaders/");
  if (!leaders) co_return leaders.error();
  std::map<std::string, leadership> current;
  for (auto& kv : leaders->kvs) {
    if (auto l = decode_leadership(kv.value)) {
      l->revision = kv.mod_revision;
      l->lease = kv.lease;
      current[kv.key.substr(s_.prefix.size() + 9)] = *l;
    }
  }
  {
    // Collections held by other hosts: where to send their requests.
    auto local = colls_->local().names();
    std::lock_guard l(mu_);
    std::erase_if(leaders_, [&](const auto& entry) {  // dropped meanwhile
      return !elsewhere_.count(entry.first) &&
             std::find(local.begin(), local.end(), entry.first) == local.end();
    });
    for (auto& name : elsewhere_) {
      auto it = current.find(name);
      auto h = it == current.end() ? hosts_.end() : hosts_.find(it->second.node);
      if (h == hosts_.end()) {
        leaders_.erase(name);
      } else {
        leaders_[name] = {it->second, h->second};
      }
    }
  }
  auto now = std::chrono::steady_clock::now();
  for (auto& name : colls_->local().names()) {
    if (handing_over_.count(name)) continue;  // hand_over decides what this node does next
    if (!settled(name)) continue;  // a copy sync_schemas has not checked against etcd yet
    auto& v = views_[name];
    auto it = current.find(name);
    leadership cur = it == current.end() ? leadership{} : it->second;
    if (cur.node == s_.node_id && cur.term > v.led_term && cur.lease == lease_->id() &&
        lease_->holds(s_.fence_margin)) {
      // The key names this node in a newer term, on its lease: handed over by the previous
      // leader (leader_handoff.h), or a campaign of this node whose answer was lost. Either way
      // it leads only with what the other holders published for the vacancy before that term
      // (after a handoff there was no vacancy, and nothing is fetched).
      log().info("{}: holds the leadership in term {}", name, cur.term);
      co_await lead_after_win(name, v, cur.term);
      continue;
    }
    if (v.led_term) {
      bool still =
          cur.node == s_.node_id && cur.term == v.led_term && lease_->holds(s_.fence_margin);
      if (still) continue;
      log().warn("{}: no longer leading in term {} (etcd: {} in term {})", name, v.led_term,
                 cur.node.empty() ? "nobody" : cur.node, cur.term);
      {
        std::lock_guard l(mu_);
        leading_.erase(name);
      }
      co_await apply_role(name, false, std::max(v.led_term, cur.term));
      v.led_term = 0;
    }
    if (cur.node.empty() || (cur.node == s_.node_id && cur.term != v.led_term)) {
      // Vacant (or a key of this node's previous life, left to expire).
      if (v.vacant_since == std::chrono::steady_clock::time_point{}) v.vacant_since = now;
      if (cur.node.empty()) {
        auto led = co_await elect(name, v, now);
        if (!led) co_return led.error();
        if (*led) continue;
      }
    } else {
      v.vacant_since = {};
    }
    if (!cur.node.empty() && cur.node != s_.node_id && !(cur == v.leader)) {
      log().info("{}: follows {} in term {}", name, cur.node, cur.term);
      v.leader = cur;
      {
        std::lock_guard l(mu_);
        auto h = hosts_.find(cur.node);
        leaders_[name] = {cur, h == hosts_.end() ? host{} : h->second};
      }
      co_await apply_role(name, false, cur.term);
    }
  }
  co_return result<void>{};
}

awaitable<bool> cluster_agent::take_lead(const std::string& name, view& v, uint64_t term) {
  v.led_term = term;
  v.vacant_since = {};
  v.leader = {s_.node_id, term, 0, lease_->id()};
  {
    std::lock_guard l(mu_);
    leading_[name] = term;
    leaders_.erase(name);
    fenced_.erase(name);  // left closed by a handoff whose outcome was unknown
  }
  co_return co_await apply_role(name, true, term);
}

awaitable<bool> cluster_agent::apply_role(std::string name, bool lead, uint64_t term) {
  std::vector<follower_address> followers;
  for (auto& [id, h] : hosts_) {
    if (id == s_.node_id || !holds(name, id)) continue;
    auto colon = h.rpc.rfind(':');
    if (colon == std::string::npos) continue;
    follower_address f;
    f.id = id;
    f.host = h.rpc.substr(0, colon);
    f.port = static_cast<uint16_t>(std::stoul(h.rpc.substr(colon + 1)));
    followers.push_back(std::move(f));
  }
  if (lead) {
    // Which replicas a `replicated` write can reach, for its refusal when they are too few: the
    // holders by placement (or every host seen so far) that are not registered now are missing.
    std::vector<std::string> live, missing;
    for (auto& f : followers) live.push_back(f.id);
    auto placed = placement_.find(name);
    std::set<std::string> expected(seen_hosts_);
    if (placed != placement_.end() && !placed->second.empty()) {
      expected = {placed->second.begin(), placed->second.end()};
    }
    for (auto& id : expected) {
      if (id != s_.node_id && !hosts_.count(id)) missing.push_back(id);
    }
    auto note = fmt::format(
        "leader {} needs {} of its followers to hold each write; live "
        "followers: {}; missing: {}",
        s_.node_id, s_.min_acks, live.empty() ? "none" : fmt::format("{}", fmt::join(live, ", ")),
        missing.empty()
            ? "none known"
            : fmt::format("{} (not registered in the cluster)", fmt::join(missing, ", ")));
    std::lock_guard l(mu_);
    replica_notes_[name] = std::move(note);
  }
  replicator_options o;
  o.min_acks = s_.min_acks;
  o.ack_timeout = s_.ack_timeout;
  o.shipping.heartbeat = s_.heartbeat;
  o.shipping.security = s_.security;
  auto* self = this;
  // Per core, the shards that could not take the role (why, for the log).
  auto failed = co_await colls_->map_reduce(
      [self, name, lead, term, followers, o](shard::collections& c) -> awaitable<size_t> {
        size_t failures = 0;
        auto* e = c.find(name);
        if (!e) co_return failures;
        for (uint32_t id = 0; id < e->shards.size(); ++id) {
          auto* s = c.local_shard(name, id);
          if (!s) continue;
          if (!lead) {
            // Closed before anything suspends: a write waiting for its disk or its followers
            // must not be acknowledged once this node stops leading (a null fence would let it).
            s->set_fence([] { return false; });
            co_await s->set_replicator(nullptr);
            if (auto r = co_await s->become_follower(term); !r) {
              log().warn("{}/{}: cannot follow term {}: {}", name, id, term, r.error().message());
            }
            continue;
          }
          s->set_fence([self, name, term] { return self->may_acknowledge(name, term); });
          if (auto r = co_await s->become_leader(term); !r) {
            log().error("{}/{}: cannot lead in term {}: {}", name, id, term, r.error().message());
            ++failures;
            continue;
          }
          auto rep = std::make_unique<leader_replicator>(*s, name, id, term, followers, o);
          rep->start();
          co_await s->set_replicator(std::move(rep));
        }
        co_return failures;
      },
      size_t{0}, [](size_t a, size_t b) { return a + b; });
  co_return failed == 0;
}

bool cluster_agent::may_acknowledge(const std::string& name, uint64_t term) const {
  auto until = lease_valid_until_ns_.load();
  auto margin = std::chrono::duration_cast<std::chrono::nanoseconds>(s_.fence_margin).count();
  if (now_ns() + margin >= until) return false;
  std::lock_guard l(mu_);
  auto it = leading_.find(name);
  return it != leading_.end() && it->second == term && !fenced_.count(name);
}

awaitable<result<void>> cluster_agent::on_shard_open(const shard::collection_config& c,
                                                     shard::shard& s) {
  // A shard opens as a follower of the newest term it knows; the agent's loop gives it its
  // role (it may lead only once this node wins an election).
  (void)c;
  co_return co_await s.become_follower(s.position().term);
}

std::string cluster_agent::replicas_of(std::string_view collection) const {
  std::lock_guard l(mu_);
  auto it = replica_notes_.find(collection);
  return it == replica_notes_.end() ? std::string() : it->second;
}

std::vector<std::string> cluster_agent::held_elsewhere() const {
  std::lock_guard l(mu_);
  return {elsewhere_.begin(), elsewhere_.end()};
}

cluster_view cluster_agent::describe() const {
  cluster_view out;
  out.mode = "etcd";
  out.node_id = s_.node_id;
  std::lock_guard l(mu_);
  out.hosts = host_views_;
  for (auto& [name, entry] : leaders_) out.leaders[name] = entry.first.node;
  for (auto& [name, term] : leading_) out.leaders[name] = s_.node_id;
  return out;
}

std::optional<shard::leader_info> cluster_agent::leader_of(std::string_view collection) const {
  std::lock_guard l(mu_);
  auto it = leaders_.find(collection);
  if (it == leaders_.end()) return std::nullopt;
  auto& [lead, h] = it->second;
  shard::leader_info info;
  info.description =
      fmt::format("node {} at {} (rpc {}), term {}", lead.node, h.http, h.rpc, lead.term);
  info.http_url = h.http;
  info.rpc_address = h.rpc;
  return info;
}

}  // namespace shoal::repl
