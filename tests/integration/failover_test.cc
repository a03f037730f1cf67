// Failover through etcd (replication/cluster_agent.h): three shoald processes and a real etcd
// on loopback. Schemas reach every host; the leader is SIGKILLed under durability=replicated
// writes, round after round (at min-acks 2 and 1), and every acknowledged point must be on the
// new leader while searches retried once on another host never fail; the time from the kill
// to the first write a new leader accepts is bounded; a leader frozen (SIGSTOP, as a partition
// would) never acknowledges a write after a successor exists; a winner takes what another
// follower holds before it leads. Moving leaders by hand and placement: cluster_admin_test.cc.
//
// SHOAL_FAILOVER_ROUNDS (default 10) sets the number of kill rounds.
#include <atomic>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "tests/integration/etcd_cluster.h"

namespace shoal {
namespace {

using namespace std::chrono_literals;
using namespace test::coordinated;
using boost::beast::http::verb;
using test::ids;
using test::points_body;

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

}  // namespace
}  // namespace shoal
