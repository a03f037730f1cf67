#include "replication/cluster_agent.h"

#include <fmt/format.h>
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
  lease_valid_until_ns_ = lease_->valid_until().time_since_epoch().count();
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

awaitable<void> cluster_agent::stop() {
  if (!timer_) co_return;
  stopping_ = true;
  timer_->cancel();
  if (colls_) {
    while (!done_.is_set()) co_await done_.wait();
  }
  // Hand leadership over at once rather than after the lease's TTL.
  for (auto& [name, v] : views_) {
    if (v.led_term) {
      election e(*etcd_, s_.prefix, name, s_.node_id, *lease_);
      (void)co_await e.resign(v.led_term);
    }
  }
  if (lease_) co_await lease_->stop(true);
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
    hosts_.erase(s_.node_id);  // registered again below, on the new lease
  }
  lease_valid_until_ns_ = lease_->valid_until().time_since_epoch().count();
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
      // Handed over by the previous leader (leader_handoff.h): the key is on this node's lease
      // in a newer term.
      log().info("{}: handed the leadership in term {}", name, cur.term);
      co_await take_lead(name, v, cur.term);
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
      // With no leader nothing ships, so positions are final: publish them for the candidates
      // (only now — while a leader serves, they would change on every write).
      if (cur.node.empty()) {
        if (auto r = co_await publish_position(name, v); !r) co_return r;
      }
      if (cur.node.empty() && now - v.vacant_since >= s_.candidate_delay) {
        // Campaign unless another live host holds at least as much of this collection's log
        // on every shard and more on one (every host publishes within a poll of the vacancy;
        // candidate_delay covers that): that host should win, having least to fetch. When the
        // positions are split, anyone may win: the winner takes what it lacks from the others
        // before it leads (successor_catch_up.cc).
        auto others = co_await etcd_->get_prefix(key("positions", name + "/"));
        bool dominated = false;
        if (others) {
          for (auto& kv : others->kvs) {
            if (kv.key.ends_with("/" + s_.node_id)) continue;
            auto theirs = decode_positions(kv.value);
            if (theirs.size() != v.position.size() || theirs == v.position) continue;
            bool covers = true;
            for (size_t i = 0; i < theirs.size(); ++i) covers &= theirs[i] >= v.position[i];
            dominated |= covers;
          }
        }
        // Liveness: a better-placed host that does not take over in time is not waited for.
        if (!dominated || now - v.vacant_since >= 4 * s_.candidate_delay) {
          election e(*etcd_, s_.prefix, name, s_.node_id, *lease_);
          auto won = co_await e.campaign(schema_guard(name));
          if (!won) co_return won.error();
          if (*won) {
            log().info("{}: leads in term {}", name, **won);
            co_await catch_up_from_peers(name, v, **won);
            co_await take_lead(name, v, **won);
            continue;
          }
        }
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

awaitable<void> cluster_agent::take_lead(const std::string& name, view& v, uint64_t term) {
  v.led_term = term;
  v.vacant_since = {};
  v.leader = {s_.node_id, term, 0, lease_->id()};
  {
    std::lock_guard l(mu_);
    leading_[name] = term;
    leaders_.erase(name);
  }
  co_await apply_role(name, true, term);
}

awaitable<result<void>> cluster_agent::publish_position(const std::string& name, view& v) {
  auto positions = co_await colls_->map_reduce(
      [name](shard::collections& c) {
        std::vector<std::tuple<uint32_t, uint64_t, uint64_t>> out;
        auto* e = c.find(name);
        if (!e) return out;
        for (uint32_t id = 0; id < e->shards.size(); ++id) {
          if (auto* s = c.local_shard(name, id)) {
            auto p = s->position();
            out.emplace_back(id, p.last_term, p.durable_lsn);
          }
        }
        return out;
      },
      std::vector<std::tuple<uint32_t, uint64_t, uint64_t>>{},
      [](auto acc, auto part) {
        acc.insert(acc.end(), part.begin(), part.end());
        return acc;
      });
  std::sort(positions.begin(), positions.end());
  std::vector<std::pair<uint64_t, uint64_t>> mine;
  for (auto& [id, t, l] : positions) mine.emplace_back(t, l);
  if (mine == v.position && v.position_lease == lease_->id()) co_return result<void>{};
  auto r = co_await etcd_->put(key("positions", name + "/" + s_.node_id), encode_positions(mine),
                               lease_->id());
  if (!r) co_return r.error();
  v.position = std::move(mine);
  v.position_lease = lease_->id();
  co_return result<void>{};
}

awaitable<void> cluster_agent::apply_role(std::string name, bool lead, uint64_t term) {
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
  replicator_options o;
  o.min_acks = s_.min_acks;
  o.ack_timeout = s_.ack_timeout;
  o.shipping.heartbeat = s_.heartbeat;
  o.shipping.security = s_.security;
  auto* self = this;
  co_await colls_->invoke_on_all(
      [self, name, lead, term, followers, o](shard::collections& c) -> awaitable<void> {
        auto* e = c.find(name);
        if (!e) co_return;
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
            continue;
          }
          auto rep = std::make_unique<leader_replicator>(*s, name, id, term, followers, o);
          rep->start();
          co_await s->set_replicator(std::move(rep));
        }
      });
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
