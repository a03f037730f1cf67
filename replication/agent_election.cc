// Elections of the cluster agent (cluster_agent.h, "Elections" in README.md): publishing this
// host's position for a vacancy, deciding when to campaign, and leading only with what the other
// holders published.
//
// The invariant kept: a host leads a term only holding every record that any live holder of the
// collection published for the vacancy before that term. Every record acknowledged as
// `replicated` is durable on min-acks followers before the old leader's fence closes, which is
// before its key vanishes; each such follower publishes a position that covers it after the
// vacancy began, and a candidate campaigns only once every registered holder has published for
// this vacancy (positions are tagged with it, so one left from an earlier vacancy never counts).
// The winner takes the records from whoever holds more, and steps aside if it cannot.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "engine/common/logger.h"
#include "engine/runtime/smp.h"
#include "replication/cluster_agent.h"

namespace shoal::repl {
namespace {

spdlog::logger& log() {
  static auto& l = logging::get("cluster");
  return l;
}

}  // namespace

awaitable<result<void>> cluster_agent::publish_position(const std::string& name, view& v,
                                                        uint64_t vacancy) {
  using row = std::tuple<uint32_t, uint64_t, uint64_t, uint64_t>;  // shard, last term, LSN, term
  auto positions = co_await colls_->map_reduce(
      [name](shard::collections& c) {
        std::vector<row> out;
        auto* e = c.find(name);
        if (!e) return out;
        for (uint32_t id = 0; id < e->shards.size(); ++id) {
          if (auto* s = c.local_shard(name, id)) {
            auto p = s->position();
            out.emplace_back(id, p.last_term, p.durable_lsn, p.term);
          }
        }
        return out;
      },
      std::vector<row>{},
      [](auto acc, auto part) {
        acc.insert(acc.end(), part.begin(), part.end());
        return acc;
      });
  std::sort(positions.begin(), positions.end());
  position_vector mine;
  v.known_term = 0;
  for (auto& [id, t, l, known] : positions) {
    mine.emplace_back(t, l);
    v.known_term = std::max(v.known_term, known);
  }
  if (mine == v.position && v.position_vacancy == vacancy && v.position_lease == lease_->id()) {
    co_return result<void>{};
  }
  auto r = co_await etcd_->put(key("positions", name + "/" + s_.node_id),
                               encode_positions({vacancy, mine}), lease_->id());
  if (!r) co_return r.error();
  v.position = std::move(mine);
  v.position_vacancy = vacancy;
  v.position_lease = lease_->id();
  co_return result<void>{};
}

awaitable<result<bool>> cluster_agent::elect(const std::string& name, view& v,
                                             std::chrono::steady_clock::time_point now) {
  // The leader key and the term counter at one revision: the counter names this vacancy.
  election e(*etcd_, s_.prefix, name, s_.node_id, *lease_);
  auto cur = co_await e.current();
  if (!cur) co_return error_result<bool>(cur.error());
  if (!cur->node.empty()) co_return false;  // someone won meanwhile: the next tick follows it
  const uint64_t vacancy = cur->term;
  // With no leader nothing ships, so positions are final: publish them for the candidates
  // (only now: while a leader serves they would change on every write).
  if (auto r = co_await publish_position(name, v, vacancy); !r) {
    co_return error_result<bool>(r.error());
  }
  if (now - v.vacant_since < s_.candidate_delay || now < v.campaign_after) co_return false;

  auto published = co_await etcd_->get_prefix(key("positions", name + "/"));
  if (!published) co_return error_result<bool>(published.error());
  std::map<std::string, position_vector> fresh;  // this vacancy's, by host
  for (auto& kv : published->kvs) {
    auto id = kv.key.substr(kv.key.rfind('/') + 1);
    if (id == s_.node_id) continue;
    if (auto p = decode_positions(kv.value); p && p->vacancy == vacancy) fresh[id] = p->shards;
  }
  // Every live holder must have spoken for this vacancy: one that has not may hold a write
  // acknowledged by nobody else. A holder that died loses its registration with its lease and
  // is not waited for; one that is slow is (safety over a faster election).
  std::vector<std::string> waiting;
  for (auto& [id, h] : hosts_) {
    if (id != s_.node_id && holds(name, id) && !fresh.count(id)) waiting.push_back(id);
  }
  if (!waiting.empty()) {
    auto who = fmt::format("{}", fmt::join(waiting, ", "));
    if (who != v.waiting_for) {
      log().info("{}: waits for the positions of {} before campaigning (vacancy after term {})",
                 name, who, vacancy);
      v.waiting_for = std::move(who);
    }
    co_return false;
  }
  v.waiting_for.clear();
  // Campaign unless another holder holds at least as much of the log on every shard and more on
  // one: that host should win, having least to fetch. When the positions are split, anyone may
  // win, and takes what it lacks from the others before it leads (lead_after_win).
  bool dominated = false;
  uint64_t newest = std::max(v.known_term, vacancy);
  for (auto& p : v.position) newest = std::max(newest, p.first);
  for (auto& [id, theirs] : fresh) {
    for (auto& p : theirs) newest = std::max(newest, p.first);
    if (theirs.size() != v.position.size() || theirs == v.position) continue;
    bool covers = true;
    for (size_t i = 0; i < theirs.size(); ++i) covers &= theirs[i] >= v.position[i];
    dominated |= covers;
  }
  // Liveness: a better-placed host that does not take over in time is not waited for.
  if (dominated && now - v.vacant_since < 4 * s_.candidate_delay) co_return false;
  // Never a term a replica here (or a published record) has seen: an etcd restored from an old
  // backup would grant old terms again.
  v.campaign_vacancy = vacancy;
  v.campaign_term = std::max(vacancy, newest) + 1;
  auto won = co_await e.campaign_in(vacancy, v.campaign_term, schema_guard(name));
  // A lost answer is an error here; if the campaign did win, the next tick finds the key on
  // this node's lease and goes through lead_after_win all the same.
  if (!won) co_return error_result<bool>(won.error());
  if (!*won) co_return false;
  log().info("{}: won term {} (vacancy after term {})", name, **won, vacancy);
  co_await lead_after_win(name, v, **won);
  co_return true;
}

awaitable<void> cluster_agent::lead_after_win(const std::string& name, view& v, uint64_t term) {
  if (v.campaign_term == term) {
    // Elected: the vacancy's positions say what others hold beyond this log.
    auto missing = co_await catch_up_from_peers(name, v, term);
    if (!missing.empty()) {
      co_await step_aside(name, v, term, std::move(missing));
      co_return;
    }
  }
  if (!co_await take_lead(name, v, term)) {
    co_await step_aside(name, v, term, "a shard of it could not lead (see above)");
  }
}

awaitable<void> cluster_agent::step_aside(const std::string& name, view& v, uint64_t term,
                                          std::string why) {
  log().warn("{}: gives up term {} without leading: {}", name, term, why);
  {
    std::lock_guard l(mu_);
    leading_.erase(name);
  }
  (void)co_await apply_role(name, false, term);
  v.led_term = 0;
  v.leader = {};
  v.vacant_since = {};
  // Another host (the one holding what this one could not take) should win the next vacancy.
  v.campaign_after = std::chrono::steady_clock::now() + 8 * s_.candidate_delay;
  election e(*etcd_, s_.prefix, name, s_.node_id, *lease_);
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (auto r = co_await e.resign(term); r) co_return;
  }
  // The key stays on this node's lease until etcd answers again or the lease lapses; the
  // shards follow meanwhile, so the collection takes no writes rather than wrong ones.
  log().error("{}: could not give up term {} in etcd; it lapses with this node's lease", name,
              term);
}

}  // namespace shoal::repl
