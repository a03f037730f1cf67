// Failover through etcd (replication/cluster_agent.h): three shoald processes and a real etcd
// on loopback. Schemas reach every host; the leader is SIGKILLed under durability=replicated
// writes, round after round, and every acknowledged point must be on the new leader; the time
// from the kill to the first write a new leader accepts is bounded; a leader frozen (SIGSTOP,
// as a partition would) never acknowledges a write after a successor exists; a returning
// leader follows and converges; a leader moved by hand (POST /cluster/failover, `shoalctl
// cluster failover`) loses no acknowledged write even at durability=local, and GET /cluster
// describes the coordinated cluster.
//
// SHOAL_FAILOVER_ROUNDS (default 10) sets the number of kill rounds.
#include <atomic>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "engine/common/base64.h"
#include "net/rpc/client.h"
#include "tests/integration/points_support.h"
#include "tests/integration/shoald_fixture.h"
#include "tests/support/child_process.h"
#include "tests/support/etcd_process.h"

namespace shoal {
namespace {

using namespace std::chrono_literals;
using boost::beast::http::verb;

struct host {
  std::string id;
  uint16_t http = 0;
  uint16_t rpc = 0;
  std::unique_ptr<test::shoald_instance> proc;
  bool up = false;
};

constexpr uint64_t kProbeId = 999'999'999;
using test::ids;
using test::points_body;

class cluster {
 public:
  cluster(const test::tmpdir& dir, size_t n, std::vector<std::string> extra = {})
      : etcd(dir.path() / "etcd") {
    for (size_t i = 0; i < n; ++i) {
      host h;
      h.id = "n" + std::to_string(i);
      h.http = test::free_port();
      h.rpc = test::free_port();
      auto logs = dir.path() / ("logs-" + h.id);
      std::filesystem::create_directories(logs);
      std::vector<std::string> args{"--node-id",   h.id,
                                    "--etcd",      etcd.endpoint(),
                                    "--advertise", "127.0.0.1:" + std::to_string(h.rpc)};
      if (std::find(extra.begin(), extra.end(), "--replication.lease-ttl") == extra.end()) {
        args.insert(args.end(), {"--replication.lease-ttl", "1s"});
      }
      args.insert(args.end(), extra.begin(), extra.end());
      h.proc = std::make_unique<test::shoald_instance>(dir.path() / h.id, logs, args);
      h.proc->set_ports(h.http, h.rpc);
      hosts.push_back(std::move(h));
    }
  }
  ~cluster() {
    for (auto& h : hosts) {
      if (h.proc->process()) h.proc->process()->signal(SIGCONT);
      h.proc->kill();
    }
  }
  bool start(host& h) {
    h.up = h.proc->start();
    if (!h.up) ADD_FAILURE() << h.id << " did not start:\n" << h.proc->log();
    return h.up;
  }
  /// The host that takes a write to `name` now, or null.
  host* leader(const std::string& name) {
    for (auto& h : hosts) {
      if (!h.up) continue;
      try {
        test::http_client c(h.http, 2s);
        // A real point (an empty batch reaches no shard, so any host would take it).
        auto r = c.request(verb::put, "/collections/" + name + "/points?wait=true",
                           points_body(kProbeId, kProbeId + 1));
        if (r.status == 200) return &h;
      } catch (const std::exception&) {
      }
    }
    return nullptr;
  }
  host* wait_leader(const std::string& name, std::chrono::milliseconds within = 15s) {
    auto deadline = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < deadline) {
      if (auto* h = leader(name)) return h;
      std::this_thread::sleep_for(20ms);
    }
    return nullptr;
  }
  /// Starts every host, creates `name` through the first, and returns its leader (null if
  /// something failed; the test has been told why).
  host* start_with(const std::string& name, const char* config) {
    for (auto& h : hosts) {
      if (!start(h)) return nullptr;
    }
    test::http_client c(hosts[0].http);
    auto r = c.request(boost::beast::http::verb::put, "/collections/" + name, config);
    if (r.status != 200) {
      ADD_FAILURE() << "creating " << name << ": " << r.status << " " << r.body;
      return nullptr;
    }
    return wait_leader(name);
  }
  test::etcd_process etcd;
  std::vector<host> hosts;
};

/// Waits until the host at `port` holds exactly the point ids of the one at `like`.
bool same_points(uint16_t port, uint16_t like, const std::string& name) {
  for (int i = 0; i < 200; ++i) {
    if (ids(port, name) == ids(like, name)) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

const char* kCollection = R"({"vectors":{"size":4,"distance":"Cosine"},"shard_number":2})";

// With min-acks 2 of 2 followers every follower holds an acknowledged write; with min-acks 1 the
// one holding it may not win on every shard, and the winner takes what it lacks from the others
// before it leads (successor_catch_up.cc). Either way no acknowledged write may be lost.
class FailoverRounds : public testing::TestWithParam<int> {};

INSTANTIATE_TEST_SUITE_P(MinAcks, FailoverRounds, testing::Values(2, 1),
                         [](const testing::TestParamInfo<int>& p) {
                           return "min_acks_" + std::to_string(p.param);
                         });

TEST_P(FailoverRounds, SchemasReachEveryHostAndLeadersAreReplacedWithoutLosingAcknowledgedWrites) {
  ASSERT_FALSE(test::etcd_process::binary().empty()) << "make deps installs etcd-server";
  test::tmpdir dir;
  cluster cl(dir, 3, {"--replication.min-acks", std::to_string(GetParam())});
  for (auto& h : cl.hosts) ASSERT_TRUE(cl.start(h));
  {
    test::http_client c(cl.hosts[1].http);
    auto r = c.request(verb::put, "/collections/docs", kCollection);
    ASSERT_EQ(r.status, 200u) << r.body;
    // Through another host it exists already, as on a single node.
    test::http_client c2(cl.hosts[2].http);
    bool exists = false;
    for (int i = 0; i < 100 && !exists; ++i) {
      exists = c2.request(verb::put, "/collections/docs", kCollection).status == 409;
      if (!exists) std::this_thread::sleep_for(50ms);
    }
    EXPECT_TRUE(exists);
    auto other =
        c2.request(verb::put, "/collections/docs", R"({"vectors":{"size":8,"distance":"Dot"}})");
    EXPECT_EQ(other.status, 409u) << other.body;
  }
  for (auto& h : cl.hosts) {  // the schema reaches every host
    bool seen = false;
    for (int i = 0; i < 100 && !seen; ++i) {
      test::http_client c(h.http);
      seen = c.request(verb::get, "/collections/docs").status == 200;
      if (!seen) std::this_thread::sleep_for(50ms);
    }
    EXPECT_TRUE(seen) << h.id;
  }
  ASSERT_NE(cl.wait_leader("docs"), nullptr);

  int rounds = 10;
  if (const char* r = std::getenv("SHOAL_FAILOVER_ROUNDS")) rounds = std::max(1, std::atoi(r));
  // Searches run through every round the way a client with a list of hosts does: any host,
  // and on a failure once more on the next one. None may fail both times.
  std::atomic<bool> searching{true};
  std::atomic<int> searches{0}, retried{0}, failed_searches{0};
  std::vector<uint16_t> ports;
  for (auto& h : cl.hosts) ports.push_back(h.http);
  std::thread searcher([&] {
    auto search = [&](uint16_t port) {
      try {
        test::http_client c(port, 2s);
        return c.request(verb::post, "/collections/docs/points/search",
                         R"({"vector":[0.1,0.2,0.3,0.4],"limit":5})")
                   .status == 200;
      } catch (const std::exception&) {
        return false;
      }
    };
    for (size_t i = 0; searching; ++i) {
      bool ok = search(ports[i % ports.size()]);
      if (!ok) {
        retried++;
        ok = search(ports[(i + 1) % ports.size()]);
      }
      searches++;
      if (!ok) failed_searches++;
      std::this_thread::sleep_for(2ms);
    }
  });
  struct stop_on_exit {  // a failed ASSERT below returns early: stop the searcher first
    std::atomic<bool>& flag;
    std::thread& t;
    ~stop_on_exit() {
      flag = false;
      if (t.joinable()) t.join();
    }
  } stop_searcher{searching, searcher};
  std::set<uint64_t> acked;
  std::mutex mu;
  double worst_failover = 0;
  std::mt19937 rng(42);
  for (int round = 0; round < rounds; ++round) {
    host* leader = cl.wait_leader("docs");
    ASSERT_NE(leader, nullptr) << "round " << round;
    std::atomic<bool> stop{false};
    std::vector<std::thread> writers;
    for (int w = 0; w < 3; ++w) {
      writers.emplace_back([&, w, port = leader->http] {
        uint64_t base = 1'000'000ull * (round * 4 + w + 1);
        for (uint64_t i = 0; !stop; i += 10) {
          try {
            test::http_client c(port, 3s);
            auto r =
                c.request(verb::put, "/collections/docs/points?wait=true&durability=replicated",
                          points_body(base + i, base + i + 10));
            if (r.status == 200) {
              std::lock_guard l(mu);
              for (uint64_t k = base + i; k < base + i + 10; ++k) acked.insert(k);
            }
          } catch (const std::exception&) {
            return;  // the leader died mid-request: not acknowledged
          }
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200 + rng() % 400));
    leader->proc->kill();
    leader->up = false;
    auto killed = std::chrono::steady_clock::now();
    stop = true;
    for (auto& t : writers) t.join();
    // The first write a new leader accepts.
    host* next = nullptr;
    while (!next && std::chrono::steady_clock::now() - killed < 20s) {
      next = cl.leader("docs");
      if (!next) std::this_thread::sleep_for(10ms);
    }
    ASSERT_NE(next, nullptr) << "no new leader, round " << round;
    double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count();
    worst_failover = std::max(worst_failover, took);
    auto have = ids(next->http, "docs");
    size_t missing = 0;
    for (auto id : acked) missing += have.count(id) ? 0 : 1;
    EXPECT_EQ(missing, 0u) << "round " << round << ": of " << acked.size()
                           << " acknowledged points, the new leader " << next->id << " lacks "
                           << missing;
    std::printf("round %d: new leader %s after %.2f s; %zu acknowledged points checked\n", round,
                next->id.c_str(), took, acked.size());
    ASSERT_TRUE(cl.start(*leader));  // it returns as a follower
  }
  searching = false;
  searcher.join();
  std::printf("searches during the rounds: %d, retried on another host: %d, failed twice: %d\n",
              searches.load(), retried.load(), failed_searches.load());
  EXPECT_EQ(failed_searches.load(), 0) << "of " << searches.load() << " searches";
  EXPECT_GT(searches.load(), 100);
  std::printf("worst failover (kill -> first accepted write): %.2f s\n", worst_failover);
  EXPECT_LT(worst_failover, 10.0) << "failover is bounded";

  // Every host converges to the same points.
  auto* leader = cl.wait_leader("docs");
  ASSERT_NE(leader, nullptr);
  auto want = ids(leader->http, "docs");
  for (auto& h : cl.hosts) {
    bool same = false;
    for (int i = 0; i < 200 && !same; ++i) {
      same = ids(h.http, "docs") == want;
      if (!same) std::this_thread::sleep_for(50ms);
    }
    EXPECT_TRUE(same) << h.id << " did not converge";
  }
}

TEST(Failover, AFrozenLeaderNeverAcknowledgesAfterASuccessorExists) {
  ASSERT_FALSE(test::etcd_process::binary().empty()) << "make deps installs etcd-server";
  test::tmpdir dir;
  cluster cl(dir, 3);
  host* old = cl.start_with("docs", kCollection);
  ASSERT_NE(old, nullptr);
  // Freeze it: its lease lapses, another host takes over.
  old->proc->process()->signal(SIGSTOP);
  old->up = false;
  host* next = nullptr;
  auto t0 = std::chrono::steady_clock::now();
  while (!next && std::chrono::steady_clock::now() - t0 < 20s) {
    next = cl.leader("docs");
    if (!next) std::this_thread::sleep_for(20ms);
  }
  ASSERT_NE(next, nullptr);
  ASSERT_NE(next, old);
  // Wake it: writes sent to it now must all be refused, from the first one on.
  std::atomic<int> acknowledged{0}, refused{0};
  std::thread writer([&, port = old->http] {
    for (int i = 0; i < 50; ++i) {
      try {
        test::http_client c(port, 5s);
        auto r = c.request(verb::put, "/collections/docs/points?wait=true",
                           points_body(5'000'000 + i, 5'000'001 + i));
        (r.status == 200 ? acknowledged : refused)++;
        if (r.status == 200) {
          std::printf("acknowledged write %d: %s\n", i, r.body.c_str());
        }
      } catch (const std::exception&) {
        refused++;
      }
    }
  });
  std::this_thread::sleep_for(50ms);  // requests are queued on the frozen process
  old->proc->process()->signal(SIGCONT);
  writer.join();
  EXPECT_EQ(acknowledged.load(), 0)
      << "the old leader acknowledged writes after " << next->id << " took over; its log:\n"
      << old->proc->log();
  EXPECT_GT(refused.load(), 0);
  old->up = true;
  // It follows the new leader afterwards and holds none of what it refused.
  EXPECT_TRUE(same_points(old->http, next->http, "docs"));
  for (uint64_t id : ids(old->http, "docs")) {
    EXPECT_FALSE(id >= 5'000'000u && id < 5'000'050u) << "a refused write survived: " << id;
  }
}

/// The keys etcd holds under `prefix`, with their values.
std::map<std::string, std::string> etcd_keys(const test::etcd_process& etcd,
                                             const std::string& prefix) {
  std::map<std::string, std::string> out;
  std::string end = prefix;
  end.back()++;
  try {
    test::http_client c(etcd.port(), 2s);
    auto r = c.request(verb::post, "/v3/kv/range",
                       R"({"key":")" + base64_encode(prefix) + R"(","range_end":")" +
                           base64_encode(end) + R"("})");
    simdjson::dom::parser p;
    simdjson::dom::array kvs;
    if (r.status != 200 || p.parse(r.body)["kvs"].get(kvs) != simdjson::SUCCESS) return out;
    for (auto kv : kvs) {
      std::string_view k, v;
      if (kv["key"].get(k) || kv["value"].get(v)) continue;
      out[base64_decode(k).value_or("")] = base64_decode(v).value_or("");
    }
  } catch (const std::exception&) {
  }
  return out;
}

/// GET /cluster's `result` from a host.
std::string cluster_status(uint16_t port) {
  test::http_client c(port);
  auto r = c.request(verb::get, "/cluster");
  EXPECT_EQ(r.status, 200u) << r.body;
  return r.body;
}

/// The leader GET /cluster names for `name` on the host at `port` ("" while none).
std::string reported_leader(uint16_t port, const std::string& name) {
  simdjson::dom::parser p;
  std::string_view leader;
  auto body = cluster_status(port);
  if (p.parse(body)["result"]["collections"][name]["leader"].get(leader) != simdjson::SUCCESS) {
    return "";
  }
  return std::string(leader);
}

/// Waits until GET /cluster on `h` names `leader` as the leader of docs.
bool reports_leader(const host& h, const std::string& leader) {
  for (int i = 0; i < 100; ++i) {
    if (reported_leader(h.http, "docs") == leader) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

TEST(Failover, ALeaderMovedByHandLosesNoAcknowledgedWrite) {
  ASSERT_FALSE(test::etcd_process::binary().empty()) << "make deps installs etcd-server";
  test::tmpdir dir;
  cluster cl(dir, 3);
  host* from = cl.start_with("docs", kCollection);
  ASSERT_NE(from, nullptr);
  host* to = nullptr;
  host* asker = nullptr;  // a third host takes the request: it only talks to etcd
  for (auto& h : cl.hosts) {
    if (&h == from) continue;
    (to ? asker : to) = &h;
  }
  // Every host knows the leader and all three hosts.
  for (auto& h : cl.hosts) EXPECT_TRUE(reports_leader(h, from->id)) << cluster_status(h.http);
  {
    simdjson::dom::parser p;
    auto body = cluster_status(asker->http);
    auto result = p.parse(body)["result"];
    std::string_view mode, me;
    simdjson::dom::object peers;
    ASSERT_EQ(result["mode"].get(mode), simdjson::SUCCESS) << body;
    EXPECT_EQ(mode, "etcd");
    ASSERT_EQ(result["peer_id"].get(me), simdjson::SUCCESS);
    EXPECT_EQ(me, asker->id);
    ASSERT_EQ(result["peers"].get(peers), simdjson::SUCCESS);
    EXPECT_EQ(peers.size(), 3u) << body;
  }

  // Writes at durability=local (acknowledged once on the leader's disk alone) go on during
  // the move: every acknowledged one must be on the new leader.
  std::set<uint64_t> acked;
  std::mutex mu;
  std::atomic<bool> stop{false};
  std::atomic<int> refused{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 2; ++w) {
    writers.emplace_back([&, w, port = from->http] {
      uint64_t base = 1'000'000ull * (w + 1);
      for (uint64_t i = 0; !stop; i += 10) {
        try {
          test::http_client c(port, 3s);
          auto r = c.request(verb::put, "/collections/docs/points?wait=true&durability=local",
                             points_body(base + i, base + i + 10));
          if (r.status == 200) {
            std::lock_guard l(mu);
            for (uint64_t k = base + i; k < base + i + 10; ++k) acked.insert(k);
          } else {
            refused++;
          }
        } catch (const std::exception&) {
        }
      }
    });
  }
  std::this_thread::sleep_for(500ms);
  test::http_client c(asker->http, 30s);
  auto moved = c.request(verb::post, "/cluster/failover?timeout=10",
                         R"({"collection":"docs","to":")" + to->id + R"("})");
  std::this_thread::sleep_for(300ms);
  stop = true;
  for (auto& t : writers) t.join();
  ASSERT_EQ(moved.status, 200u) << moved.body;
  std::printf("moved: %s\n", moved.body.c_str());
  {
    simdjson::dom::parser p;
    auto result = p.parse(moved.body)["result"];
    std::string_view was, now;
    uint64_t term = 0;
    ASSERT_EQ(result["from"].get(was), simdjson::SUCCESS);
    ASSERT_EQ(result["to"].get(now), simdjson::SUCCESS);
    ASSERT_EQ(result["term"].get(term), simdjson::SUCCESS);
    EXPECT_EQ(was, from->id);
    EXPECT_EQ(now, to->id);
    EXPECT_GE(term, 2u);
  }
  EXPECT_GT(refused.load(), 0) << "the old leader refuses writes once it handed over";
  ASSERT_FALSE(acked.empty());
  host* now = cl.wait_leader("docs");
  ASSERT_EQ(now, to);
  auto have = ids(to->http, "docs");
  size_t missing = 0;
  for (auto id : acked) missing += have.count(id) ? 0 : 1;
  EXPECT_EQ(missing, 0u) << "of " << acked.size() << " acknowledged points, the new leader lacks "
                         << missing;
  if (missing) {
    for (auto& h : cl.hosts) std::printf("==== %s\n%s\n", h.id.c_str(), h.proc->log().c_str());
  }
  // The old leader follows and converges; every host reports the new leader.
  EXPECT_TRUE(same_points(from->http, to->http, "docs")) << from->id << " did not converge";
  for (auto& h : cl.hosts) EXPECT_TRUE(reports_leader(h, to->id)) << cluster_status(h.http);

  // Refusals name the problem and change nothing.
  auto refuse = [&](const std::string& query, const std::string& body, unsigned want_status,
                    const std::string& says) {
    auto r = c.request(verb::post, "/cluster/failover" + query, body);
    EXPECT_EQ(r.status, want_status) << body << " -> " << r.body;
    EXPECT_NE(r.body.find(says), std::string::npos) << body << " -> " << r.body;
  };
  refuse("", R"({"collection":"docs","to":")" + to->id + R"("})", 409, "already leads");
  refuse("", R"({"collection":"docs","to":"nobody"})", 400, "not in the cluster");
  refuse("", R"({"collection":"nothing"})", 404, "doesn't exist");
  refuse("", R"({"to":"n1"})", 400, "`collection` is required");
  refuse("", R"({"collection":"docs","too":"n1"})", 400, "unknown field `too`");
  refuse("", R"({"collection":7})", 400, "must be a string");
  refuse("", "[", 400, "JSON object");
  refuse("?timeout=0", R"({"collection":"docs"})", 400, "`timeout`");
  refuse("?timeout=999", R"({"collection":"docs"})", 400, "`timeout`");
  EXPECT_EQ(cl.wait_leader("docs"), to);

  // shoalctl: without --to, the most caught-up follower takes over; status shows it.
  auto ctl = test::binary_dir() / "shoalctl";
  auto addr = [](const host* h) { return "127.0.0.1:" + std::to_string(h->http); };
  auto [code, out] = test::run_to_completion(
      ctl, {"--addr", addr(from), "cluster", "failover", "docs", "--wait", "10"},
      dir.path() / "ctl-failover.log");
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("docs: leader moved from " + to->id), std::string::npos) << out;
  host* third = cl.wait_leader("docs");
  ASSERT_NE(third, nullptr);
  EXPECT_NE(third, to);
  std::tie(code, out) = test::run_to_completion(ctl, {"--addr", addr(third), "cluster", "status"},
                                                dir.path() / "ctl-status.log");
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("cluster (etcd): 3 hosts; this is node " + third->id), std::string::npos)
      << out;
  EXPECT_NE(out.find("docs"), std::string::npos) << out;
  // The CLI refuses a bad --wait before sending anything.
  std::tie(code, out) = test::run_to_completion(
      ctl, {"--addr", addr(third), "cluster", "failover", "docs", "--wait", "0"},
      dir.path() / "ctl-bad.log");
  EXPECT_EQ(code, 2) << out;
  EXPECT_EQ(cl.wait_leader("docs"), third);
}

// min-acks 1 of 2 followers: a write acknowledged through one follower only, and the other one
// wins the election (the one holding the write is frozen just after it published its
// position, so the other campaigns once the liveness wait is over). The winner must take the
// write from the frozen host before it leads (successor_catch_up.cc) — without that, the
// frozen host's copy is cut when it returns and the acknowledged write is gone.
TEST(Failover, AWinnerTakesWhatAnotherFollowerHoldsBeforeItLeads) {
  ASSERT_FALSE(test::etcd_process::binary().empty()) << "make deps installs etcd-server";
  test::tmpdir dir;
  // A 3 s lease: the frozen host's position stays in etcd while the other one campaigns.
  cluster cl(dir, 3, {"--replication.min-acks", "1", "--replication.lease-ttl", "3s"});
  host* old = cl.start_with("docs", kCollection);
  ASSERT_NE(old, nullptr);
  host* holder = nullptr;
  host* winner = nullptr;
  for (auto& h : cl.hosts) {
    if (&h != old) (holder ? winner : holder) = &h;
  }
  // Only the holder gets these: the other follower is frozen while they are written.
  winner->proc->process()->signal(SIGSTOP);
  {
    test::http_client c(old->http, 10s);
    auto r = c.request(verb::put, "/collections/docs/points?wait=true&durability=replicated",
                       points_body(7'000'000, 7'000'100));
    ASSERT_EQ(r.status, 200u) << r.body;
  }
  // Positions stay in etcd from the first election; the holder's changes once it publishes
  // what it holds now.
  const std::string positions = "/shoal/positions/docs/";
  const std::string before = etcd_keys(cl.etcd, positions)[positions + holder->id];
  old->proc->kill();
  old->up = false;
  winner->proc->process()->signal(SIGCONT);
  // Once the lease lapses both publish their positions; then the holder is frozen before it
  // can campaign (it would win: it holds more).
  auto t0 = std::chrono::steady_clock::now();
  bool both = false;
  while (!both && std::chrono::steady_clock::now() - t0 < 20s) {
    auto keys = etcd_keys(cl.etcd, positions);
    both = keys.count(positions + winner->id) && keys.count(positions + holder->id) &&
           keys[positions + holder->id] != before;
    if (!both) std::this_thread::sleep_for(5ms);
  }
  ASSERT_TRUE(both) << "no positions published";
  holder->proc->process()->signal(SIGSTOP);
  // The other host wins after the liveness wait; the holder wakes while it catches up.
  bool won = false;
  t0 = std::chrono::steady_clock::now();
  while (!won && std::chrono::steady_clock::now() - t0 < 20s) {
    auto keys = etcd_keys(cl.etcd, "/shoal/leaders/docs");
    won = keys.count("/shoal/leaders/docs") &&
          keys["/shoal/leaders/docs"].find(R"("node":")" + winner->id + '"') != std::string::npos;
    if (!won) std::this_thread::sleep_for(5ms);
  }
  holder->proc->process()->signal(SIGCONT);
  ASSERT_TRUE(won) << winner->id << " did not win;\n" << winner->proc->log();
  ASSERT_EQ(cl.wait_leader("docs"), winner);
  auto have = ids(winner->http, "docs");
  size_t missing = 0;
  for (uint64_t id = 7'000'000; id < 7'000'100; ++id) missing += have.count(id) ? 0 : 1;
  EXPECT_EQ(missing, 0u) << "the new leader lacks acknowledged points; its log:\n"
                         << winner->proc->log();
  EXPECT_NE(winner->proc->log().find("records from " + holder->id), std::string::npos)
      << winner->proc->log();
  // The holder follows and keeps them too.
  EXPECT_TRUE(same_points(holder->http, winner->http, "docs"));
}

// replication_factor 2 of 3 hosts: two hosts hold the collection (its data, its elections),
// the third knows it exists and sends every request about it to the leader — REST with a 307
// that HTTP clients follow, RPC with not_leader that the C++ client follows.
TEST(Failover, ACollectionLivesOnReplicationFactorHosts) {
  ASSERT_FALSE(test::etcd_process::binary().empty()) << "make deps installs etcd-server";
  test::tmpdir dir;
  cluster cl(dir, 3);
  for (auto& h : cl.hosts) ASSERT_TRUE(cl.start(h));
  // The host taking the create knows all three, so the placement chooses among them.
  bool all_known = false;
  for (int i = 0; i < 100 && !all_known; ++i) {
    simdjson::dom::parser p;
    simdjson::dom::object peers;
    auto body = cluster_status(cl.hosts[0].http);
    all_known =
        p.parse(body)["result"]["peers"].get(peers) == simdjson::SUCCESS && peers.size() == 3;
    if (!all_known) std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(all_known);
  {
    test::http_client c(cl.hosts[0].http);
    auto r = c.request(verb::put, "/collections/placed",
                       R"({"vectors":{"size":4,"distance":"Cosine"},"shard_number":2,)"
                       R"("replication_factor":2})");
    ASSERT_EQ(r.status, 200u) << r.body;
  }
  auto placement = etcd_keys(cl.etcd, "/shoal/placement/placed")["/shoal/placement/placed"];
  std::vector<host*> holders;
  host* other = nullptr;
  for (auto& h : cl.hosts) {
    if (placement.find('"' + h.id + '"') != std::string::npos) {
      holders.push_back(&h);
    } else {
      other = &h;
    }
  }
  ASSERT_EQ(holders.size(), 2u) << placement;
  ASSERT_NE(other, nullptr);
  host* leader = cl.wait_leader("placed");
  ASSERT_NE(leader, nullptr);
  EXPECT_TRUE(leader == holders[0] || leader == holders[1]) << leader->id;
  {
    test::http_client c(leader->http);
    ASSERT_EQ(
        c.request(verb::put, "/collections/placed/points?wait=true", points_body(0, 100)).status,
        200u);
  }
  host* follower = leader == holders[0] ? holders[1] : holders[0];
  EXPECT_TRUE(test::converges(follower->http, "placed", 101));  // with the probe point
  // Only the holders have its files.
  for (auto& h : cl.hosts) {
    bool has = std::filesystem::exists(dir.path() / h.id / "collections" / "placed");
    EXPECT_EQ(has, &h != other) << h.id;
  }

  // The third host lists it and redirects every request about it to the leader, once it has
  // seen the election (503 "retry" until then).
  test::http_client c(other->http);
  for (int i = 0; i < 100 && c.request(verb::get, "/collections/placed").status != 307; ++i) {
    std::this_thread::sleep_for(50ms);
  }
  auto list = c.request(verb::get, "/collections");
  EXPECT_NE(list.body.find(R"("name":"placed")"), std::string::npos) << list.body;
  const std::string location = "http://127.0.0.1:" + std::to_string(leader->http);
  for (auto [method, target, body] :
       {std::tuple{verb::get, std::string("/collections/placed"), std::string()},
        std::tuple{verb::post, std::string("/collections/placed/points/count"),
                   std::string(R"({"exact":true})")},
        std::tuple{verb::put, std::string("/collections/placed/points?wait=true"),
                   points_body(100, 110)}}) {
    auto r = c.request(method, target, body);
    EXPECT_EQ(r.status, 307u) << target << ": " << r.body;
    EXPECT_EQ(r.header("location"), location + target) << target;
    // Followed as a client does (same method and body), it is answered there.
    test::http_client there(leader->http);
    EXPECT_EQ(there.request(method, target, body).status, 200u) << target;
  }
  // The real Qdrant JS client through the third host follows the redirects.
  if (auto node = test::find_on_path("node"); !node.empty()) {
    auto clients = test::source_dir() / "tests/clients";
    test::child_process script(
        node,
        {(clients / "placed.mjs").string(), "--url",
         "http://127.0.0.1:" + std::to_string(other->http), "--collection", "placed"},
        dir / "placed.log", clients);
    auto code = script.wait_exit(60s);
    EXPECT_EQ(code.value_or(-1), 0) << script.log();
    EXPECT_NE(script.log().find("placed: all checks passed"), std::string::npos) << script.log();
  } else {
    ADD_FAILURE() << "node is not installed: run `make deps` (Debian: nodejs npm)";
  }

  // Creating it again through the third host: it exists.
  EXPECT_EQ(c.request(verb::put, "/collections/placed",
                      R"({"vectors":{"size":4,"distance":"Cosine"},"shard_number":2,)"
                      R"("replication_factor":2})")
                .status,
            409u);

  // RPC: the C++ client follows not_leader from the third host to the leader.
  rpc::client_options o;
  o.host = "127.0.0.1";
  o.port = other->rpc;
  o.request_timeout = 10s;
  rpc::sync_client rc(o);
  std::vector<data::point_id> ids = {data::point_id::number(500), data::point_id::number(501)};
  std::vector<float> vectors = {1, 2, 3, 4, 4, 3, 2, 1};
  auto w = rc.upsert({.collection = "placed", .dim = 4, .ids = ids, .vectors = vectors});
  ASSERT_TRUE(w) << w.error().describe();
  EXPECT_EQ(rc.async().target(), "127.0.0.1:" + std::to_string(leader->rpc));
  EXPECT_TRUE(test::converges(follower->http, "placed", 163));
  // A search through the third host follows too (reads go wherever the collection is held).
  rpc::sync_client reader(o);
  std::vector<float> query = {1, 2, 3, 4};
  auto found = reader.search({.collection = "placed", .k = 3, .dim = 4, .queries = query});
  ASSERT_TRUE(found) << found.error().describe();
  EXPECT_EQ(reader.async().target(), "127.0.0.1:" + std::to_string(leader->rpc));

  // Its leadership moves by hand through the third host too, only among its holders.
  {
    auto r = c.request(verb::post, "/cluster/failover",
                       R"({"collection":"placed","to":")" + other->id + R"("})");
    EXPECT_EQ(r.status, 400u) << r.body;
    EXPECT_NE(r.body.find("does not hold collection `placed`"), std::string::npos) << r.body;
    test::http_client slow(other->http, 30s);
    r = slow.request(verb::post, "/cluster/failover", R"({"collection":"placed"})");
    EXPECT_EQ(r.status, 200u) << r.body;
    EXPECT_NE(r.body.find(R"("to":")" + follower->id + '"'), std::string::npos) << r.body;
  }

  // Dropped through the third host, it goes from the holders.
  EXPECT_EQ(c.request(verb::delete_, "/collections/placed").status, 200u);
  for (auto* h : holders) {
    bool gone = false;
    for (int i = 0; i < 100 && !gone; ++i) {
      gone = test::http_client(h->http).request(verb::get, "/collections/placed").status == 404;
      if (!gone) std::this_thread::sleep_for(50ms);
    }
    EXPECT_TRUE(gone) << h->id;
  }
  EXPECT_EQ(c.request(verb::get, "/collections/placed").status, 404u);
}

}  // namespace
}  // namespace shoal
