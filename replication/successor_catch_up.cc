// A newly elected leader takes what other hosts hold beyond its own log before it leads
// (cluster_agent.h, "Elections"; replication/README.md, "Choosing min-acks").
//
// Shards ship independently, so with min-acks below hosts - 1 the host that wins may lack, on
// some shard, records that another follower holds, and a write acknowledged with those
// records would be lost. The positions every host published while the collection had no
// leader say who holds more where; for each such shard the winner fetches the records after
// its own last one from that host (method `fetch`, wire.h) and appends them as a follower
// would — log-matching checks included — until it holds as much, or a deadline passes.
#include <fmt/format.h>

#include "engine/common/logger.h"
#include "engine/runtime/runtime.h"
#include "engine/runtime/smp.h"
#include "engine/shard/errc.h"
#include "net/rpc/client.h"
#include "replication/cluster_agent.h"
#include "replication/wire.h"

namespace shoal::repl {
namespace {

spdlog::logger& log() {
  static auto& l = logging::get("cluster");
  return l;
}

struct log_end {
  uint64_t term = 0;  // of the last record
  uint64_t lsn = 0;
};

}  // namespace

awaitable<std::string> cluster_agent::catch_up_from_peers(const std::string& name, const view& v,
                                                          uint64_t term) {
  auto published = co_await etcd_->get_prefix(key("positions", name + "/"));
  if (!published) {
    co_return fmt::format("cannot read the other hosts' positions ({})",
                          published.error().message());
  }
  // Per shard, the host holding the most (term, LSN) for this vacancy, if it is not this one.
  std::vector<std::pair<std::pair<uint64_t, uint64_t>, std::string>> best;
  for (auto& p : v.position) best.push_back({p, {}});
  for (auto& kv : published->kvs) {
    auto id = kv.key.substr(kv.key.rfind('/') + 1);
    if (id == s_.node_id) continue;
    auto theirs = decode_positions(kv.value);
    if (!theirs || theirs->vacancy != v.campaign_vacancy) continue;
    if (!hosts_.count(id)) {
      // Published, then gone (its lease lapsed since): what it holds is out of reach, and so it
      // is for any other winner; a write it alone held died with it.
      continue;
    }
    if (theirs->shards.size() != best.size()) {
      co_return fmt::format("{} published {} shards, this host holds {}", id, theirs->shards.size(),
                            best.size());
    }
    for (size_t i = 0; i < best.size(); ++i) {
      if (theirs->shards[i] > best[i].first) best[i] = {theirs->shards[i], id};
    }
  }
  auto deadline = std::chrono::steady_clock::now() + s_.lease_ttl;
  auto* colls = colls_;
  auto* here = colls->local().find(name);  // fetched only from a copy of the same incarnation
  const uint64_t incarnation = here && here->config ? here->config->incarnation : 0;
  for (uint32_t shard_id = 0; shard_id < best.size(); ++shard_id) {
    auto& [target, holder] = best[shard_id];
    if (holder.empty()) continue;
    auto& h = hosts_[holder];
    auto colon = h.rpc.rfind(':');
    if (colon == std::string::npos) continue;
    rpc::client_options co;
    co.host = h.rpc.substr(0, colon);
    co.port = static_cast<uint16_t>(std::stoul(h.rpc.substr(colon + 1)));
    co.request_timeout = std::chrono::seconds(2);
    co.connect_timeout = std::chrono::seconds(1);
    co.security = s_.security;
    rpc::client client(rt::runtime::current().local().executor(), co);
    const auto core = shard::collections::core_of(shard_id);
    uint64_t fetched = 0;
    std::string problem;
    while (std::chrono::steady_clock::now() < deadline) {
      auto mine = co_await rt::submit_to(core, [colls, name, shard_id]() -> std::optional<log_end> {
        auto* s = colls->local().local_shard(name, shard_id);
        if (!s) return std::nullopt;
        auto p = s->position();
        return log_end{p.last_term, p.last_lsn};
      });
      if (!mine) {
        problem = "the shard is gone";
        break;
      }
      if (std::pair(mine->term, mine->lsn) >= target) break;
      auto answer = co_await client.call(
          method::fetch,
          encode(
              fetch_request{{name, shard_id, term, incarnation}, mine->lsn, mine->term, 4u << 20}));
      if (!answer) {
        problem = answer.error().message;
        break;
      }
      auto batch = decode_append(answer->span());
      if (!batch) {
        problem = "the answer does not decode";
        break;
      }
      if (batch->records.empty()) {
        problem = "it sent nothing further";
        break;
      }
      size_t n = batch->records.size();
      auto appended = co_await rt::submit_to(
          core,
          [colls, name, shard_id, b = std::make_shared<append_request>(std::move(*batch))]()
              -> awaitable<result<uint64_t>> {
            auto* s = colls->local().local_shard(name, shard_id);
            if (!s) co_return shard::errc::collection_not_found;
            // As a follower of the newest term those records carry (never the won term: the
            // shard must still be able to lead in it).
            uint64_t as_of = std::max(s->position().term, b->records.back().term);
            co_return co_await s->append_replicated(as_of, b->prev_lsn, b->prev_term,
                                                    std::move(b->records), true);
          });
      if (!appended) {
        problem = appended.error().message();
        break;
      }
      fetched += n;
    }
    client.close();
    if (fetched) {
      log().info("{}/{}: took {} records from {} before leading in term {}", name, shard_id,
                 fetched, holder, term);
    }
    if (problem.empty()) {
      // Stopped without an error: it must hold what the holder published.
      auto reached = co_await rt::submit_to(core, [colls, name, shard_id] {
        auto* s = colls->local().local_shard(name, shard_id);
        return s ? std::pair(s->position().last_term, s->position().durable_lsn)
                 : std::pair<uint64_t, uint64_t>{};
      });
      if (reached < target) {
        problem = fmt::format("reached term {} LSN {} of term {} LSN {} in time", reached.first,
                              reached.second, target.first, target.second);
      }
    }
    if (!problem.empty()) {
      co_return fmt::format(
          "could not take shard {}'s records from {}, which holds more of its "
          "log ({})",
          shard_id, holder, problem);
    }
  }
  co_return std::string();
}

}  // namespace shoal::repl
