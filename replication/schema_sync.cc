// Collection schemas in a coordinated cluster (cluster_agent.h; replication/README.md,
// "Schemas"): creating and dropping through etcd, and every host's copy following what etcd
// holds.
//
// A collection has an incarnation: the etcd create revision of its schema key P/collections/<name>
// (collection_config::incarnation, kept in the local copy's collection.json). Dropping and
// creating again under the same name makes a new, larger one, so hosts compare incarnations,
// not names: a copy of another incarnation is dropped here and the cluster's is created in its
// place. What belonged to the old incarnation does not carry over: its leader key (older than
// the schema, or without one) is removed by its holder, positions and placement go with the
// drop, a campaign is only won for the incarnation the candidate holds, and a follower refuses
// the log of a leader of another incarnation (wire.h, shard_ref). Terms are per name and keep
// counting, so a name's terms never go back.
#include <charconv>

#include <fmt/format.h>
#include <simdjson.h>

#include "engine/common/json_writer.h"
#include "engine/common/logger.h"
#include "engine/shard/errc.h"
#include "replication/cluster_agent.h"

namespace shoal::repl {
namespace {

spdlog::logger& log() {
  static auto& l = logging::get("cluster");
  return l;
}

/// Rendezvous hashing: each host's weight for a collection; the heaviest hold it.
uint64_t weight(std::string_view collection, std::string_view host) {
  uint64_t h = 1469598103934665603ull;
  for (char c : collection) h = (h ^ static_cast<uint8_t>(c)) * 1099511628211ull;
  h = (h ^ '/') * 1099511628211ull;
  for (char c : host) h = (h ^ static_cast<uint8_t>(c)) * 1099511628211ull;
  return h;
}

std::string encode_placement(const std::vector<std::string>& hosts) {
  std::string out;
  json_writer w(out);
  w.begin_array();
  for (auto& h : hosts) w.value(h);
  w.end_array();
  return out;
}

/// Empty when malformed (then the collection is treated as placed on every host).
std::vector<std::string> decode_placement(std::string_view json) {
  simdjson::dom::parser p;
  simdjson::padded_string padded(json);
  simdjson::dom::array hosts;
  std::vector<std::string> out;
  if (p.parse(padded).get(hosts)) return out;
  for (auto h : hosts) {
    std::string_view id;
    if (h.get(id)) return {};
    out.emplace_back(id);
  }
  return out;
}

etcd::txn_op range_of(std::string prefix) {
  auto end = etcd::prefix_end(prefix);
  return {etcd::txn_op::kind::range, std::move(prefix), {}, 0, std::move(end)};
}

etcd::txn_op erase_range(std::string prefix) {
  auto end = etcd::prefix_end(prefix);
  return {etcd::txn_op::kind::erase, std::move(prefix), {}, 0, std::move(end)};
}

uint64_t incarnation_of(const shard::collections::entry* e) {
  return e && e->config ? e->config->incarnation : 0;
}

}  // namespace

awaitable<result<void>> cluster_agent::sync_schemas() {
  // Schemas, placements and leader keys at one revision (a create writes a schema and its
  // placement in one transaction, so every schema read here comes with its placement).
  auto read = co_await etcd_->txn(
      {}, {range_of(s_.prefix + "/collections/"), range_of(s_.prefix + "/placement/"),
           range_of(s_.prefix + "/leaders/"), range_of(s_.prefix + "/positions/"),
           range_of(s_.prefix + "/dropped/")});
  if (!read) co_return read.error();
  if (read->ranges.size() != 5) co_return etcd::errc::bad_response;
  const auto& schemas = read->ranges[0].kvs;
  const auto& placements = read->ranges[1].kvs;
  const auto& leader_keys = read->ranges[2].kvs;
  const auto& positions = read->ranges[3].kvs;
  // Tombstones: the newest incarnation of each name that a client dropped.
  std::map<std::string, uint64_t> dropped;
  for (auto& kv : read->ranges[4].kvs) {
    uint64_t inc = 0;
    auto& v = kv.value;
    if (std::from_chars(v.data(), v.data() + v.size(), inc).ec == std::errc()) {
      dropped[kv.key.substr(s_.prefix.size() + 9)] = inc;
    }
  }
  // A copy a client created here after this read is newer than anything read: left for the
  // next sync.
  const auto read_at = static_cast<uint64_t>(read->revision);
  auto fresh = [&](const std::string& name, uint64_t have) {
    auto it = announced_.find(name);
    return it != announced_.end() && it->second == have && have > read_at;
  };
  placement_.clear();
  for (auto& kv : placements) {
    placement_[kv.key.substr(s_.prefix.size() + 11)] = decode_placement(kv.value);
  }
  auto& local = colls_->local();
  // Copies dropping through a client here stay as they are until the drop is done.
  std::erase_if(dropping_, [&](const auto& d) {
    return incarnation_of(local.find(d.first)) != d.second || !local.find(d.first);
  });
  auto dropping = [&](const std::string& name) {
    auto it = dropping_.find(name);
    return it != dropping_.end() && local.find(name) &&
           incarnation_of(local.find(name)) == it->second;
  };
  // The agent's state of a copy that went or was replaced (a client's drop or re-create here)
  // goes with it.
  std::vector<std::string> gone;
  for (auto& [name, inc] : tracked_) {
    if (!local.find(name) || incarnation_of(local.find(name)) != inc) gone.push_back(name);
  }
  for (auto& name : gone) co_await release(name);
  // The copies as this sync finds and leaves them: one a client replaces meanwhile is not
  // tracked as checked (its old state goes at the next sync).
  std::map<std::string, uint64_t> checked;
  for (auto& name : local.names()) checked[name] = incarnation_of(local.find(name));

  std::set<std::string> in_etcd, elsewhere;
  std::map<std::string, uint64_t> incarnations;  // in etcd
  for (auto& kv : schemas) {
    auto name = kv.key.substr(s_.prefix.size() + 13);
    const auto inc = static_cast<uint64_t>(kv.create_revision);
    in_etcd.insert(name);
    incarnations[name] = inc;
    if (dropping(name)) continue;
    auto cfg = shard::collection_config::from_json(kv.value);
    if (auto* e = local.find(name)) {
      const uint64_t have = incarnation_of(e);
      if (have == inc || fresh(name, have)) continue;
      if (have == 0 || (cfg && cfg->incarnation == have) || have > inc) {
        // The copy etcd names: made before incarnations existed, published by this host or
        // another holding the same copy ("continues" it: cfg->incarnation), or etcd went back
        // (restored or replaced: its revisions restarted). It keeps its data.
        if (have > inc && !(cfg && cfg->incarnation == have)) {
          log().warn(
              "collection {}: etcd's schema is older than this copy ({} < {}); was etcd "
              "restored? keeping this copy as the cluster's",
              name, inc, have);
        }
        if (auto r = co_await shard::collections::set_incarnation(*colls_, name, inc); !r) {
          log().error("collection {}: cannot record incarnation {}: {}", name, inc,
                      r.error().message());
        } else {
          checked[name] = inc;
        }
        continue;
      }
      // An older incarnation: dropped and created again since this copy was made.
      log().info(
          "collection {}: dropped and created again in the cluster (incarnation {} here, "
          "{} now); replacing this copy",
          name, have, inc);
      co_await release(name);
      if (auto r = co_await shard::collections::drop(*colls_, name, false); !r) {
        log().error("collection {}: cannot drop the old copy: {}", name, r.error().message());
        continue;
      }
      checked.erase(name);
    }
    if (!placed_here(name)) {
      elsewhere.insert(name);
      continue;
    }
    if (!cfg) {
      log().error("collection {} in etcd has a configuration this node cannot read: {}", name,
                  cfg.error().message());
      continue;
    }
    cfg->name = name;
    cfg->incarnation = inc;
    auto made = co_await shard::collections::create(*colls_, std::move(*cfg), false);
    if (made) {
      log().info("collection {}: created from the cluster's schema", name);
      checked[name] = inc;
    }
  }
  for (auto& name : local.names()) {
    if (in_etcd.count(name) || dropping(name)) continue;
    auto* e = local.find(name);
    if (!e || !e->config || fresh(name, incarnation_of(e))) continue;
    const uint64_t have = incarnation_of(e);
    if (auto t = dropped.find(name); t != dropped.end() && t->second >= have) {
      // Dropped through another host (while this one ran, or while it was down): a tombstone
      // covers this copy's incarnation.
      co_await release(name);
      (void)co_await shard::collections::drop(*colls_, name, false);
      checked.erase(name);
      continue;
    }
    if (known_schemas_.count(name)) {
      // Gone from etcd with no drop recorded: etcd lost it (wiped, or restored from a backup
      // older than the collection). Data is never dropped on an absence alone.
      log().error(
          "collection {}: its schema vanished from etcd without a drop; was etcd wiped "
          "or restored? offering this copy to the cluster again",
          name);
    }
    // Here before this node joined (or before etcd lost it): the cluster learns it. The value
    // names this copy's incarnation, so other hosts holding the same copy keep theirs.
    auto k = key("collections", name);
    auto r = co_await etcd_->txn({etcd::compare::absent(k)},
                                 {etcd::txn_op::put(k, e->config->to_json())});
    if (r && r->succeeded) {
      in_etcd.insert(name);
      incarnations[name] = static_cast<uint64_t>(r->revision);
      if (auto set = co_await shard::collections::set_incarnation(*colls_, name, r->revision);
          !set) {
        log().error("collection {}: cannot record incarnation {}: {}", name, r->revision,
                    set.error().message());
      } else {
        checked[name] = static_cast<uint64_t>(r->revision);
      }
    }
  }
  // A leader key older than its collection's schema, or of a collection without one, is left
  // from a dropped incarnation: its holder removes it (the key is on the holder's lease and
  // would otherwise outlive the drop), after closing the fence of whatever it led.
  for (auto& kv : leader_keys) {
    auto name = kv.key.substr(s_.prefix.size() + 9);
    auto l = decode_leadership(kv.value);
    if (!l || l->node != s_.node_id) continue;
    auto it = incarnations.find(name);
    if (it != incarnations.end() && static_cast<uint64_t>(kv.create_revision) > it->second) {
      continue;
    }
    co_await release(name);
    log().info("{}: removing this node's leader key of a dropped incarnation (term {})", name,
               l->term);
    (void)co_await etcd_->txn({etcd::compare::mod_revision_is(kv.key, kv.mod_revision)},
                              {etcd::txn_op::erase(kv.key)});
  }
  // Likewise this host's positions of a collection it does not hold (any more).
  const auto positions_prefix = s_.prefix + "/positions/";
  for (auto& kv : positions) {
    auto slash = kv.key.rfind('/');
    if (slash <= positions_prefix.size() || kv.key.substr(slash + 1) != s_.node_id) continue;
    auto name = kv.key.substr(positions_prefix.size(), slash - positions_prefix.size());
    if (in_etcd.count(name) && local.find(name)) continue;
    (void)co_await etcd_->txn({etcd::compare::mod_revision_is(kv.key, kv.mod_revision)},
                              {etcd::txn_op::erase(kv.key)});
  }
  std::erase_if(announced_, [&](const auto& a) { return a.second <= read_at; });
  std::map<std::string, uint64_t> next;
  for (auto& name : local.names()) {
    const auto inc = incarnation_of(local.find(name));
    if (auto c = checked.find(name); c != checked.end() && c->second == inc) {
      next[name] = inc;
    } else if (auto t = tracked_.find(name); t != tracked_.end()) {
      next[name] = t->second;  // replaced by a client during this sync: released by the next
    }
  }
  tracked_ = std::move(next);
  known_schemas_ = std::move(in_etcd);
  {
    std::lock_guard l(mu_);
    elsewhere_ = std::move(elsewhere);
  }
  co_return result<void>{};
}

awaitable<void> cluster_agent::release(const std::string& name) {
  {
    std::lock_guard l(mu_);
    leading_.erase(name);  // a leader's fence closes here (may_acknowledge)
    fenced_.erase(name);
    leaders_.erase(name);
    replica_notes_.erase(name);
  }
  if (auto v = views_.find(name); v != views_.end() && v->second.led_term) {
    log().info("{}: no longer leading in term {}: the collection was dropped", name,
               v->second.led_term);
  }
  views_.erase(name);
  tracked_.erase(name);
  co_return;
}

bool cluster_agent::settled(const std::string& name) const {
  auto inc = incarnation_of(colls_->local().find(name));
  auto it = tracked_.find(name);
  auto d = dropping_.find(name);
  return it != tracked_.end() && it->second == inc && (d == dropping_.end() || d->second != inc);
}

std::vector<etcd::compare> cluster_agent::schema_guard(const std::string& name) const {
  auto inc = incarnation_of(colls_->local().find(name));
  if (!inc) return {};
  return {{key("collections", name),
           etcd::compare::target::create_revision,
           etcd::compare::op::equal,
           static_cast<int64_t>(inc),
           {}}};
}

awaitable<result<bool>> cluster_agent::announce_create(shard::collection_config& c) {
  auto k = key("collections", c.name);
  auto where = key("placement", c.name);
  c.incarnation = 0;  // etcd gives it: the create revision of the schema key
  auto json = c.to_json();
  std::vector<etcd::txn_op> puts{etcd::txn_op::put(k, json)};
  std::vector<std::string> hosts;
  if (c.replication_factor_given && c.replication_factor < hosts_.size()) {
    // The heaviest hosts for this name hold it: spread over the hosts, stable for a name.
    for (auto& [id, h] : hosts_) hosts.push_back(id);
    std::sort(hosts.begin(), hosts.end(), [&](const std::string& a, const std::string& b) {
      return std::pair(weight(c.name, a), a) > std::pair(weight(c.name, b), b);
    });
    hosts.resize(c.replication_factor);
    std::sort(hosts.begin(), hosts.end());
    puts.push_back(etcd::txn_op::put(where, encode_placement(hosts)));
  } else {
    puts.push_back(etcd::txn_op::erase(where));  // on every host (a stale one goes)
  }
  auto r = co_await etcd_->txn({etcd::compare::absent(k)}, puts,
                               {etcd::txn_op::get(k), etcd::txn_op::get(where)});
  if (!r) co_return error_result<bool>(r.error());
  if (r->succeeded) {
    c.incarnation = static_cast<uint64_t>(r->revision);
    announced_[c.name] = c.incarnation;
    known_schemas_.insert(c.name);
    if (hosts.empty()) {
      placement_.erase(c.name);
    } else {
      placement_[c.name] = hosts;
      log().info("collection {}: placed on {} of {} hosts: {}", c.name, hosts.size(), hosts_.size(),
                 fmt::join(hosts, ", "));
    }
    if (!placed_here(c.name)) {
      std::lock_guard l(mu_);
      elsewhere_.insert(c.name);
    }
    co_return result<bool>(placed_here(c.name));
  }
  // Someone created it first: the same configuration is fine (idempotent) on a host that is to
  // hold it and has not created it yet; anywhere else it exists.
  bool same = !r->ranges.empty() && !r->ranges[0].kvs.empty() && r->ranges[0].kvs[0].value == json;
  bool here = r->ranges.size() < 2 || r->ranges[1].kvs.empty() ||
              std::ranges::count(decode_placement(r->ranges[1].kvs[0].value), s_.node_id) > 0;
  if (same && here) {
    c.incarnation = static_cast<uint64_t>(r->ranges[0].kvs[0].create_revision);
    announced_[c.name] = c.incarnation;
    co_return result<bool>(true);
  }
  co_return error_result<bool>(make_error_code(shard::errc::collection_exists));
}

awaitable<result<void>> cluster_agent::announce_drop(const std::string& name) {
  const auto* here = colls_->local().find(name);
  const bool held = here != nullptr;
  const uint64_t inc = incarnation_of(here);
  uint64_t led = 0;
  {
    std::lock_guard l(mu_);
    if (auto it = leading_.find(name); it != leading_.end()) led = it->second;
  }
  // One transaction: the schema, its placement and positions, and the leader key when this
  // node holds it (the key is on the holder's lease: nobody else may remove it safely).
  election elect(*etcd_, s_.prefix, name, s_.node_id, *lease_);
  std::vector<etcd::txn_op> ops{etcd::txn_op::erase(key("collections", name)),
                                etcd::txn_op::erase(key("placement", name)),
                                erase_range(key("positions", name + "/"))};
  // A tombstone (never deleted; a later incarnation is newer than it) tells the other hosts,
  // and one that is down now, to drop their copies: a schema missing from etcd alone is not
  // a drop (etcd may have lost it).
  auto schema = co_await etcd_->get(key("collections", name));
  if (!schema) co_return schema.error();
  const uint64_t tombstone = std::max(
      inc, schema->kvs.empty() ? 0 : static_cast<uint64_t>(schema->kvs[0].create_revision));
  if (tombstone) ops.push_back(etcd::txn_op::put(key("dropped", name), std::to_string(tombstone)));
  std::vector<etcd::compare> mine;
  auto with_key = ops;
  if (led) {
    mine.push_back(
        etcd::compare::value_is(elect.leader_key(), encode_leadership({s_.node_id, led})));
    with_key.push_back(etcd::txn_op::erase(elect.leader_key()));
  }
  auto r = co_await etcd_->txn(std::move(mine), led ? with_key : ops, ops);
  if (!r) co_return r.error();
  if (held) dropping_[name] = inc;  // until the copy is gone here (sync_schemas leaves it alone)
  known_schemas_.erase(name);
  placement_.erase(name);
  {
    std::lock_guard l(mu_);
    leading_.erase(name);  // no write to the dropped copy is acknowledged from here on
    elsewhere_.erase(name);
    leaders_.erase(name);
  }
  // Another host that leads it must stop acknowledging writes before this drop returns (a
  // create that follows must not find the old leader still taking writes): it removes its key
  // once its fence is closed, at its next poll; a dead one's key expires with its lease.
  auto deadline = std::chrono::steady_clock::now() + s_.lease_ttl + 4 * s_.poll;
  asio::steady_timer pause(co_await asio::this_coro::executor);
  for (;;) {
    auto now = co_await elect.current();
    if (now && now->node.empty()) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      log().warn("collection {} dropped, but its leader {} has not let go of it yet", name,
                 now ? now->node : std::string("(unknown: etcd did not answer)"));
      break;
    }
    pause.expires_after(s_.poll / 2);
    co_await pause.async_wait(use_nothrow_awaitable);
  }
  co_return result<void>{};
}

}  // namespace shoal::repl
