// The fault-injection suite (issue #17, Deliver 3; tests/chaos/README.md): three shoald hosts
// on a 3-member etcd, each host reaching each member through a proxy the test controls. Every
// round runs writers (durability=replicated and local) and a token reader while one fault,
// drawn from a seeded schedule, hits the cluster; then the round heals the cluster and checks:
// every acknowledged `replicated` write (and every `local` one whose promise held) is on every
// replica at its version or a newer one, no id holds a version never written, every replica of
// every shard is identical by digest (`shoalctl cluster verify`), and no read after a token
// answered 200 without the written version.
//
//   SHOAL_CHAOS_SEED=N      the schedule's seed (default 17; printed at the start)
//   SHOAL_CHAOS_ROUNDS=N    rounds (default 16, about 1-2 minutes)
//   SHOAL_CHAOS_FAULTS=a,b  only these fault kinds (names as printed)
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <sstream>
#include <variant>

#include <gtest/gtest.h>

#include "tests/chaos/chaos_cluster.h"
#include "tests/chaos/chaos_load.h"

namespace shoal {
namespace {

using namespace std::chrono_literals;
using namespace test::chaos;
using test::coordinated::host;
using clock_type = std::chrono::steady_clock;

enum class fault {
  kill_leader,
  kill_follower,
  stop_leader_short,
  stop_leader_long,
  stop_follower_short,
  stop_follower_long,
  stop_etcd_member,
  etcd_delay_all,
  etcd_delay_leader,
  drop_leader_txn,
  drop_txns_kill_leader,
  sigterm_leader,
  sigterm_follower,
};
constexpr fault kAll[] = {
    fault::kill_leader,      fault::kill_follower,         fault::stop_leader_short,
    fault::stop_leader_long, fault::stop_follower_short,   fault::stop_follower_long,
    fault::stop_etcd_member, fault::etcd_delay_all,        fault::etcd_delay_leader,
    fault::drop_leader_txn,  fault::drop_txns_kill_leader, fault::sigterm_leader,
    fault::sigterm_follower};

const char* name(fault f) {
  switch (f) {
    case fault::kill_leader:
      return "kill_leader";
    case fault::kill_follower:
      return "kill_follower";
    case fault::stop_leader_short:
      return "stop_leader_short";
    case fault::stop_leader_long:
      return "stop_leader_long";
    case fault::stop_follower_short:
      return "stop_follower_short";
    case fault::stop_follower_long:
      return "stop_follower_long";
    case fault::stop_etcd_member:
      return "stop_etcd_member";
    case fault::etcd_delay_all:
      return "etcd_delay_all";
    case fault::etcd_delay_leader:
      return "etcd_delay_leader";
    case fault::drop_leader_txn:
      return "drop_leader_txn";
    case fault::drop_txns_kill_leader:
      return "drop_txns_kill_leader";
    case fault::sigterm_leader:
      return "sigterm_leader";
    case fault::sigterm_follower:
      return "sigterm_follower";
  }
  return "?";
}
bool graceful(fault f) {
  return f == fault::sigterm_leader || f == fault::sigterm_follower;
}

uint64_t env_or(const char* var, uint64_t fallback) {
  const char* v = std::getenv(var);
  return v && *v ? std::strtoull(v, nullptr, 10) : fallback;
}

std::vector<fault> enabled_faults() {
  const char* v = std::getenv("SHOAL_CHAOS_FAULTS");
  if (!v || !*v) return {std::begin(kAll), std::end(kAll)};
  std::vector<fault> out;
  std::stringstream in(v);
  for (std::string item; std::getline(in, item, ',');) {
    bool known = false;
    for (auto f : kAll) {
      if (item == name(f)) {
        out.push_back(f);
        known = true;
      }
    }
    if (!known) ADD_FAILURE() << "SHOAL_CHAOS_FAULTS: unknown fault kind " << item;
  }
  return out;
}

/// Every point a host holds: id -> payload v (0 for a point without one, such as the probe),
/// or why not (the last answer).
std::variant<std::map<uint64_t, uint64_t>, std::string> scroll_once(const host& h) {
  std::map<uint64_t, uint64_t> out;
  try {
    test::http_client c(h.http, 10s);
    std::string offset = "null";
    for (;;) {
      auto r = c.request(verb::post, "/collections/docs/points/scroll",
                         R"({"limit":2000,"with_payload":true,"offset":)" + offset + "}");
      if (r.status != 200) return std::to_string(r.status) + " " + r.body.substr(0, 300);
      simdjson::dom::parser p;
      auto doc = p.parse(r.body);
      simdjson::dom::array pts = doc["result"]["points"];
      for (auto pt : pts) {
        uint64_t v = 0;
        (void)pt["payload"]["v"].get(v);
        out[uint64_t(pt["id"])] = v;
      }
      auto next = doc["result"]["next_page_offset"];
      if (next.is_null()) return out;
      offset = std::to_string(uint64_t(next));
    }
  } catch (const std::exception& e) {
    return std::string(e.what());
  }
}
/// The same, asking again for up to 20 s while the host does not answer 200 (a host just
/// woken or restarted may still be loading or rebuilding a shard).
std::variant<std::map<uint64_t, uint64_t>, std::string> versions_on(const host& h) {
  const auto deadline = clock_type::now() + 20s;
  for (;;) {
    auto v = scroll_once(h);
    if (v.index() == 0 || clock_type::now() > deadline) return v;
    std::this_thread::sleep_for(200ms);
  }
}

/// The host that takes a write now (probing with a point outside the writers' ids), or null.
host* wait_writable(test::chaos::chaos_cluster& cl, std::chrono::milliseconds within) {
  const auto deadline = clock_type::now() + within;
  while (clock_type::now() < deadline) {
    for (auto& h : cl.hosts) {
      try {
        test::http_client c(h.http, 2s);
        auto r = c.request(verb::put, "/collections/docs/points?wait=true",
                           point_body(test::coordinated::kProbeId, 0));
        if (r.status == 200) return &h;
      } catch (const std::exception&) {
      }
    }
    std::this_thread::sleep_for(50ms);
  }
  return nullptr;
}

/// The highest term each shard has on any host.
std::vector<uint64_t> terms(test::chaos::chaos_cluster& cl) {
  std::vector<uint64_t> out;
  for (auto& h : cl.hosts) {
    auto t = test::chaos::chaos_cluster::shard_terms(h, "docs");
    out.resize(std::max(out.size(), t.size()));
    for (size_t i = 0; i < t.size(); ++i) out[i] = std::max(out[i], t[i]);
  }
  return out;
}

std::string tail(const std::string& s, size_t n) {
  return s.substr(s.size() - std::min(s.size(), n));
}

class chaos_run {
 public:
  chaos_run(const test::tmpdir& dir, uint64_t seed)
      : dir_(dir), cl_(dir, 3, {"--replication.ack-timeout", "2s"}), rng_(seed), seed_(seed) {}

  bool start() {
    for (auto& h : cl_.hosts) {
      if (!cl_.start(h)) {
        ADD_FAILURE() << h.id << " did not start:\n" << h.proc->log();
        return false;
      }
    }
    test::http_client c(cl_.hosts[0].http);
    auto r = c.request(verb::put, "/collections/docs",
                       R"({"vectors":{"size":4,"distance":"Cosine"},"shard_number":2})");
    if (r.status != 200) {
      ADD_FAILURE() << "creating docs: " << r.status << " " << r.body;
      return false;
    }
    std::vector<uint16_t> ports;
    for (auto& h : cl_.hosts) ports.push_back(h.http);
    load_ = std::make_unique<load>(ports, book_, seed_);
    return wait_writable(cl_, 30s) != nullptr;
  }

  /// One round: load, the fault, healing, the checks. False when the run cannot go on.
  bool round(int r, fault f) {
    const auto began = clock_type::now();
    const auto terms_before = terms(cl_);
    host* leader = cl_.believed_leader("docs");
    if (!leader) leader = wait_writable(cl_, 20s);
    if (!leader) {
      ADD_FAILURE() << "round " << r << ": no leader before the fault";
      return false;
    }
    host* follower = pick_other(*leader);
    load_->start(r);
    std::this_thread::sleep_for(std::chrono::milliseconds(400 + rng_() % 600));
    const std::string what = inject(f, *leader, *follower);
    std::printf("[chaos] round %d: %s — %s\n", r, name(f), what.c_str());
    std::fflush(stdout);
    std::this_thread::sleep_for(500ms);  // load on the healed cluster too
    load_->stop();
    if (!heal()) {
      ADD_FAILURE() << "round " << r << " (" << name(f) << "): could not heal the cluster";
      dump_logs();
      return false;
    }
    host* now = wait_writable(cl_, 30s);
    if (!now) {
      ADD_FAILURE() << "round " << r << " (" << name(f) << "): no leader 30 s after healing";
      dump_logs();
      return false;
    }
    const auto terms_after = terms(cl_);
    const bool promised = graceful(f) || (terms_before == terms_after && !terms_after.empty());
    const size_t locals = book_.settle_local(promised);
    const bool ok = check(r, f, *now);
    auto [repl, local] = book_.acks();
    std::printf(
        "[chaos] round %d: %s, leader now %s, terms %s -> %s; %zu replicated and %zu local "
        "acknowledged so far (%zu local of this round kept%s), token reads %zu ok / %zu "
        "refused; %.1f s%s\n",
        r, name(f), now->id.c_str(), join(terms_before).c_str(), join(terms_after).c_str(), repl,
        local, locals, promised ? "" : ": failover, not promised", load_->reads_ok(),
        load_->reads_refused(), std::chrono::duration<double>(clock_type::now() - began).count(),
        ok ? "" : " — FAILED");
    std::fflush(stdout);
    if (!ok) dump_logs();
    return ok;
  }

 private:
  host* pick_other(const host& h) {
    std::vector<host*> others;
    for (auto& o : cl_.hosts)
      if (&o != &h) others.push_back(&o);
    return others[rng_() % others.size()];
  }
  static std::string join(const std::vector<uint64_t>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
    return s + "]";
  }

  void freeze(host& h, std::chrono::milliseconds d) {
    h.proc->process()->signal(SIGSTOP);
    std::this_thread::sleep_for(d);
    h.proc->process()->signal(SIGCONT);
  }
  void kill_restart(host& h, std::chrono::milliseconds down) {
    h.proc->kill();
    h.up = false;
    std::this_thread::sleep_for(down);
    cl_.start(h);
  }
  void drop_next_txn(size_t host_index) {
    // One answer lost per host: the first txn it sends through any of its proxies.
    auto left = std::make_shared<std::atomic<int>>(1);
    for (auto& p : cl_.proxies[host_index]) {
      p->drop_answer_when([left](const test::etcd_proxy::request& req) {
        return req.path == "/v3/kv/txn" && left->fetch_sub(1) > 0;
      });
    }
  }
  size_t index_of(const host& h) const { return size_t(&h - cl_.hosts.data()); }

  /// Applies the fault and clears it (processes may still be down: heal() restarts them).
  std::string inject(fault f, host& leader, host& follower) {
    const auto ms = [](auto d) {
      return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) +
             " ms";
    };
    switch (f) {
      case fault::kill_leader:
      case fault::kill_follower: {
        host& h = f == fault::kill_leader ? leader : follower;
        auto down = std::chrono::milliseconds(500 + rng_() % 1500);
        kill_restart(h, down);
        return "SIGKILL " + h.id + ", restarted after " + ms(down);
      }
      case fault::stop_leader_short:
      case fault::stop_follower_short:
      case fault::stop_leader_long:
      case fault::stop_follower_long: {
        host& h = f == fault::stop_leader_short || f == fault::stop_leader_long ? leader : follower;
        const bool longer = f == fault::stop_leader_long || f == fault::stop_follower_long;
        // The lease is 1 s, which etcd grants as 2 s: shorter, or well past it.
        auto d = longer ? std::chrono::milliseconds(3500 + rng_() % 1500)
                        : std::chrono::milliseconds(300 + rng_() % 500);
        freeze(h, d);
        return "SIGSTOP " + h.id + " for " + ms(d);
      }
      case fault::stop_etcd_member: {
        size_t m = rng_() % cl_.etcd.size();
        auto d = std::chrono::milliseconds(2000 + rng_() % 2000);
        cl_.etcd.signal(m, SIGSTOP);
        std::this_thread::sleep_for(d);
        cl_.etcd.signal(m, SIGCONT);
        return "SIGSTOP etcd member " + std::to_string(m) + " for " + ms(d);
      }
      case fault::etcd_delay_all:
      case fault::etcd_delay_leader: {
        auto delay = std::chrono::milliseconds(200 + rng_() % 300);
        auto d = std::chrono::milliseconds(2000 + rng_() % 2000);
        for (size_t i = 0; i < cl_.hosts.size(); ++i) {
          if (f == fault::etcd_delay_leader && &cl_.hosts[i] != &leader) continue;
          for (auto& p : cl_.proxies[i]) p->set_delay(delay);
        }
        std::this_thread::sleep_for(d);
        cl_.pass_all();
        return "etcd answers to " + (f == fault::etcd_delay_all ? "every host" : leader.id) +
               " delayed by " + ms(delay) + " for " + ms(d);
      }
      case fault::drop_leader_txn: {
        drop_next_txn(index_of(leader));
        std::this_thread::sleep_for(3s);
        const size_t lost = [&] {
          size_t n = 0;
          for (auto& p : cl_.proxies[index_of(leader)]) n += p->answers_dropped();
          return n;
        }();
        cl_.pass_all();
        return "the answer to " + leader.id + "'s next etcd txn dropped (" + std::to_string(lost) +
               " lost so far)";
      }
      case fault::drop_txns_kill_leader: {
        for (size_t i = 0; i < cl_.hosts.size(); ++i) drop_next_txn(i);
        auto down = std::chrono::milliseconds(1000 + rng_() % 2000);
        kill_restart(leader, down);
        std::this_thread::sleep_for(1s);
        cl_.pass_all();
        return "every host's next etcd txn answer dropped, SIGKILL " + leader.id +
               ", restarted after " + ms(down);
      }
      case fault::sigterm_leader:
      case fault::sigterm_follower: {
        host& h = f == fault::sigterm_leader ? leader : follower;
        auto code = h.proc->stop();
        h.up = false;
        cl_.start(h);
        return "SIGTERM " + h.id + " (exit " + (code ? std::to_string(*code) : "none") +
               "), restarted";
      }
    }
    return "?";
  }

  /// Every process running, every proxy passing, every etcd member awake; false (after
  /// restarting it) when a host had exited by itself, a crash.
  bool heal() {
    cl_.pass_all();
    for (size_t m = 0; m < cl_.etcd.size(); ++m) cl_.etcd.signal(m, SIGCONT);
    bool ok = true;
    for (auto& h : cl_.hosts) {
      auto* p = h.proc->process();
      if (p) p->signal(SIGCONT);
      if (h.up && p) {
        auto code = p->wait_exit(0ms);
        if (!code) continue;
        // Only the test stops hosts (and marks them down): this one exited by itself.
        ADD_FAILURE() << h.id << " exited by itself (status " << *code << "):\n"
                      << tail(h.proc->log(), 4000);
        ok = false;
      }
      h.proc->kill();
      if (!cl_.start(h)) {
        ADD_FAILURE() << h.id << " did not start again:\n" << tail(h.proc->log(), 4000);
        return false;
      }
    }
    return ok;
  }

  bool check(int r, fault f, const host& leader) {
    bool ok = true;
    // Identical replicas by digest.
    std::vector<std::string> args{"--url",   "http://127.0.0.1:" + std::to_string(leader.http),
                                  "cluster", "verify",
                                  "docs",    "--wait",
                                  "20"};
    auto [code, out] =
        test::run_to_completion(test::binary_dir() / "shoalctl", args,
                                dir_.path() / ("verify-" + std::to_string(r) + ".log"));
    if (code != 0) {
      ADD_FAILURE() << "round " << r << " (" << name(f) << "): shoalctl cluster verify exit "
                    << code << ":\n"
                    << out;
      ok = false;
    }
    // Every acknowledged write on every replica; nothing older, nothing never written.
    auto ledger = book_.snapshot();
    std::vector<std::map<uint64_t, uint64_t>> held;
    for (auto& h : cl_.hosts) {
      auto v = versions_on(h);
      if (v.index() != 0) {
        ADD_FAILURE() << "round " << r << ": cannot scroll " << h.id << ": "
                      << std::get<std::string>(v);
        return false;
      }
      held.push_back(std::move(std::get<0>(v)));
    }
    for (size_t i = 0; i < cl_.hosts.size(); ++i) {
      size_t missing = 0, older = 0, unknown = 0;
      std::string examples;
      auto note = [&](const std::string& s) {
        if (missing + older + unknown <= 20) examples += "  " + s + "\n";
      };
      for (auto& [id, rec] : ledger) {
        auto at = held[i].find(id);
        if (at == held[i].end()) {
          if (rec.required) {
            ++missing;
            note("id " + std::to_string(id) + " missing; acknowledged version " +
                 std::to_string(rec.required) + " (" + name(rec.kind) + ")");
          }
          continue;
        }
        if (at->second < rec.required) {
          ++older;
          note("id " + std::to_string(id) + " at version " + std::to_string(at->second) +
               ", older than the acknowledged " + std::to_string(rec.required) + " (" +
               name(rec.kind) + ")");
        } else if (at->second > rec.attempted) {
          ++unknown;
          note("id " + std::to_string(id) + " at version " + std::to_string(at->second) +
               ", never written (newest sent " + std::to_string(rec.attempted) + ")");
        }
      }
      for (auto& [id, v] : held[i]) {
        if (id != test::coordinated::kProbeId && !ledger.count(id)) {
          ++unknown;
          note("id " + std::to_string(id) + " never written");
        }
      }
      if (missing + older + unknown) {
        ADD_FAILURE() << "round " << r << " (" << name(f) << "): " << cl_.hosts[i].id << " lacks "
                      << missing << " acknowledged writes, holds " << older
                      << " older versions and " << unknown << " points never written:\n"
                      << examples;
        ok = false;
      }
    }
    // Replicas against each other (verify says whether; this says which ids).
    for (size_t i = 1; i < held.size(); ++i) {
      if (held[i] == held[0]) continue;
      std::string diff;
      size_t n = 0;
      for (auto& [id, v] : held[0]) {
        auto at = held[i].find(id);
        if (at == held[i].end() || at->second != v) {
          if (++n <= 20)
            diff += "  id " + std::to_string(id) + ": " + cl_.hosts[0].id + " v" +
                    std::to_string(v) + ", " + cl_.hosts[i].id + " " +
                    (at == held[i].end() ? "missing" : "v" + std::to_string(at->second)) + "\n";
        }
      }
      for (auto& [id, v] : held[i]) {
        if (!held[0].count(id) && ++n <= 20)
          diff += "  id " + std::to_string(id) + ": " + cl_.hosts[0].id + " missing, " +
                  cl_.hosts[i].id + " v" + std::to_string(v) + "\n";
      }
      ADD_FAILURE() << "round " << r << " (" << name(f) << "): " << cl_.hosts[0].id << " and "
                    << cl_.hosts[i].id << " differ in " << n << " points:\n"
                    << diff;
      ok = false;
    }
    // Reads after a token.
    auto stale = load_->stale_reads();
    for (size_t i = reported_stale_; i < stale.size(); ++i) {
      ADD_FAILURE() << "round " << r << " (" << name(f)
                    << "): stale read after a token: " << stale[i];
      ok = false;
    }
    reported_stale_ = stale.size();
    return ok;
  }

  void dump_logs() {
    for (auto& h : cl_.hosts) {
      std::printf("---- %s (the end of its log) ----\n%s\n", h.id.c_str(),
                  tail(h.proc->log(), 6000).c_str());
    }
  }

  const test::tmpdir& dir_;
  test::chaos::chaos_cluster cl_;
  std::mt19937 rng_;
  uint64_t seed_;
  test::chaos::ledger book_;
  std::unique_ptr<test::chaos::load> load_;
  size_t reported_stale_ = 0;
};

TEST(Chaos, SeededFaultsLoseNothingAcknowledgedAndLeaveIdenticalReplicas) {
  ASSERT_FALSE(test::etcd_process::binary().empty()) << "make deps installs etcd-server";
  const uint64_t seed = env_or("SHOAL_CHAOS_SEED", 17);
  const int rounds = static_cast<int>(env_or("SHOAL_CHAOS_ROUNDS", 16));
  const auto kinds = enabled_faults();
  ASSERT_FALSE(kinds.empty());
  std::printf(
      "[chaos] seed %llu, %d rounds (replay: SHOAL_CHAOS_SEED=%llu SHOAL_CHAOS_ROUNDS=%d)\n",
      static_cast<unsigned long long>(seed), rounds, static_cast<unsigned long long>(seed), rounds);
  test::tmpdir dir;
  chaos_run run(dir, seed);
  ASSERT_TRUE(run.start());
  // The schedule: one draw per round from its own generator, so it depends on the seed alone.
  std::mt19937 schedule(static_cast<uint32_t>(seed));
  for (int r = 0; r < rounds; ++r) {
    const fault f = kinds[schedule() % kinds.size()];
    if (!run.round(r, f)) {
      ADD_FAILURE() << "stopped at round " << r << " of seed " << seed;
      return;
    }
  }
}

}  // namespace
}  // namespace shoal
