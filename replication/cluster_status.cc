#include "replication/cluster_status.h"

#include <algorithm>
#include <tuple>

#include <fmt/format.h>

#include "engine/common/json_writer.h"
#include "engine/runtime/smp.h"
#include "replication/leader_replicator.h"

namespace shoal::repl {
namespace {

/// On the shard's core.
shard_report report_of(const std::string& name, const shard::shard& s) {
  shard_report r;
  r.collection = name;
  r.shard = s.id();
  auto p = s.position();
  r.term = p.term;
  r.leader = p.leader;
  r.last_lsn = p.last_lsn;
  r.durable_lsn = p.durable_lsn;
  r.first_lsn = p.first_lsn;
  r.snapshot_lsn = p.snapshot_lsn;
  if (auto* rep = dynamic_cast<const leader_replicator*>(s.get_replicator())) {
    auto statuses = rep->statuses();
    auto lags = rep->lags();
    auto& addresses = rep->addresses();
    for (size_t i = 0; i < statuses.size() && i < lags.size() && i < addresses.size(); ++i) {
      follower_report f;
      f.id = addresses[i].id;
      f.acked_lsn = statuses[i].acked_durable_lsn;
      f.lag_lsn = lags[i].lsn;
      f.lag_ms = lags[i].ms;
      f.connected = statuses[i].connected;
      f.needs_snapshot = statuses[i].needs_snapshot;
      f.bytes_shipped = statuses[i].bytes_shipped;
      f.records_shipped = statuses[i].records_shipped;
      f.alignments = statuses[i].alignments;
      r.followers.push_back(std::move(f));
    }
  }
  return r;
}

const char* state_name(shard::collections::entry::state st) {
  switch (st) {
    case shard::collections::entry::state::loading:
      return "loading";
    case shard::collections::entry::state::ready:
      return "ready";
    case shard::collections::entry::state::failed:
      return "failed";
  }
  return "unknown";
}

}  // namespace

awaitable<std::vector<shard_report>> gather_shards(rt::sharded<shard::collections>& all) {
  auto* colls = &all;
  auto out = co_await rt::map_reduce(
      [colls] {
        std::vector<shard_report> here;
        auto& local = colls->local();
        for (auto& name : local.names()) {
          auto* e = local.find(name);
          if (!e) continue;
          for (auto& s : e->shards) {
            if (s) here.push_back(report_of(name, *s));
          }
        }
        return here;
      },
      std::vector<shard_report>{},
      [](std::vector<shard_report> acc, std::vector<shard_report> core) {
        for (auto& r : core) acc.push_back(std::move(r));
        return acc;
      });
  std::sort(out.begin(), out.end(), [](const shard_report& a, const shard_report& b) {
    return std::tie(a.collection, a.shard) < std::tie(b.collection, b.shard);
  });
  co_return out;
}

cluster_view view_of(const static_cluster& cluster, const shard::collections& local) {
  auto& settings = cluster.settings();
  cluster_view v;
  v.mode = "static";
  v.node_id = settings.node_id;
  for (auto& p : settings.peers) {
    v.hosts.push_back({p.id,
                       p.http_port
                           ? fmt::format("{}://{}:{}", settings.security.tls ? "https" : "http",
                                         p.host, p.http_port)
                           : std::string(),
                       fmt::format("{}:{}", p.host, p.rpc_port)});
  }
  for (auto& name : local.names()) v.leaders[name] = cluster.leader_of(name).id;
  return v;
}

awaitable<std::string> cluster_status_json(cluster_view view,
                                           rt::sharded<shard::collections>& all) {
  auto shards = co_await gather_shards(all);
  auto& local = all.local();  // this core's view of the collections (configs are on every core)

  std::string out;
  json_writer w(out);
  // "status" and "peer_id" as in Qdrant's answer; the rest is Shoal's.
  w.begin_object().field("status", "enabled").field("mode", view.mode);
  w.field("peer_id", view.node_id);
  w.key("peers").begin_object();
  for (auto& h : view.hosts) {
    w.key(h.id).begin_object();
    if (!h.http_url.empty()) {
      auto scheme_end = h.http_url.find("://");
      w.field("uri", h.http_url + "/");
      w.field("http",
              scheme_end == std::string::npos ? h.http_url : h.http_url.substr(scheme_end + 3));
    } else {
      w.key("uri").null();
      w.key("http").null();
    }
    w.field("rpc", h.rpc);
    w.end_object();
  }
  w.end_object();

  w.key("collections").begin_object();
  auto names = local.names();
  std::sort(names.begin(), names.end());
  auto next = shards.begin();
  for (auto& name : names) {
    auto* e = local.find(name);
    auto known = view.leaders.find(name);
    const std::string leader = known == view.leaders.end() ? std::string() : known->second;
    w.key(name).begin_object();
    if (leader.empty()) {
      w.key("leader").null();  // an election is under way
    } else {
      w.field("leader", leader);
    }
    w.field("status", e ? state_name(e->st) : "unknown");
    if (e && e->config) w.field("shard_number", e->config->shard_number);
    w.key("shards").begin_array();
    while (next != shards.end() && next->collection < name) ++next;
    for (; next != shards.end() && next->collection == name; ++next) {
      auto& s = *next;
      w.begin_object().field("id", s.shard);
      if (leader.empty()) {
        w.key("leader").null();
      } else {
        w.field("leader", leader);
      }
      w.field("term", s.term);
      w.field("role", s.leader ? "leader" : "follower");
      w.field("last_lsn", s.last_lsn).field("durable_lsn", s.durable_lsn);
      w.field("first_lsn", s.first_lsn).field("snapshot_lsn", s.snapshot_lsn);
      if (s.leader) {
        w.key("followers").begin_array();
        for (auto& f : s.followers) {
          w.begin_object().field("id", f.id).field("acked_lsn", f.acked_lsn);
          w.field("lag_lsn", f.lag_lsn).field("lag_ms", f.lag_ms);
          w.field("connected", f.connected).field("needs_snapshot", f.needs_snapshot);
          w.field("bytes_shipped", f.bytes_shipped).field("records_shipped", f.records_shipped);
          w.field("alignments", f.alignments);
          w.end_object();
        }
        w.end_array();
      }
      w.end_object();
    }
    w.end_array().end_object();
  }
  w.end_object();
  w.end_object();
  co_return out;
}

}  // namespace shoal::repl
