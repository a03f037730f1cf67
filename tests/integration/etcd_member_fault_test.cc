// One etcd member freezing must not stop the cluster (issue #17, scenario 6): three shoald hosts
// on a 3-member etcd whose member 0, first in every host's --etcd list, is frozen with SIGSTOP
// for four lease TTLs while a writer keeps writing to the collection's leader. etcd keeps its
// quorum, so the hosts' requests must move to the other members within their deadline: the
// leases hold, the leader stays the leader in the same term and writes never pause for as long
// as a TTL.
#include <atomic>
#include <cstdio>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "tests/integration/etcd_cluster.h"

namespace shoal {
namespace {

using namespace std::chrono_literals;
using namespace test::coordinated;
using boost::beast::http::verb;
using clock_type = std::chrono::steady_clock;

/// The term shard 0 of docs is in on the host at `port`, as its GET /cluster says (0: unknown).
uint64_t shard_term(uint16_t port) {
  simdjson::dom::parser p;
  simdjson::dom::array shards;
  auto body = cluster_status(port);
  if (p.parse(body)["result"]["collections"]["docs"]["shards"].get(shards) != simdjson::SUCCESS ||
      shards.size() == 0)
    return 0;
  uint64_t term = 0;
  return shards.at(0)["term"].get(term) == simdjson::SUCCESS ? term : 0;
}

TEST(EtcdMemberFault, WritesGoOnAndTheLeaderStaysWhileAnEtcdMemberIsFrozen) {
  ASSERT_FALSE(test::etcd_process::binary().empty()) << "make deps installs etcd-server";
  test::tmpdir dir;
  constexpr auto kTtl = 2s;
  cluster cl(dir, 3, {"--replication.lease-ttl", "2s"}, etcd_options{.members = 3});
  // Member 0 a follower: freezing etcd's own leader would stop etcd itself until it elects
  // another, which is not what this test is about.
  ASSERT_TRUE(cl.etcd.make_leader(1));
  host* leader = cl.start_with("docs", kCollection);
  ASSERT_NE(leader, nullptr);
  const std::string leader_id = leader->id;
  const uint64_t term = shard_term(leader->http);
  ASSERT_GT(term, 0u);

  std::mutex mu;
  std::vector<clock_type::time_point> acked;
  std::atomic<bool> writing{true};
  std::thread writer([&, port = leader->http] {
    for (uint64_t id = 1; writing; ++id) {
      try {
        test::http_client c(port, 2s);
        auto r = c.request(verb::put, "/collections/docs/points?wait=true",
                           test::points_body(id, id + 1));
        if (r.status == 200) {
          std::lock_guard l(mu);
          acked.push_back(clock_type::now());
        }
      } catch (const std::exception&) {
      }
      std::this_thread::sleep_for(20ms);
    }
  });
  struct join_on_exit {
    std::atomic<bool>& flag;
    std::thread& t;
    ~join_on_exit() {
      flag = false;
      if (t.joinable()) t.join();
    }
  } join{writing, writer};

  std::this_thread::sleep_for(kTtl);
  const auto frozen = clock_type::now();
  cl.etcd.signal(0, SIGSTOP);
  std::this_thread::sleep_for(4 * kTtl);
  const auto thawed = clock_type::now();
  // Before resuming member 0: read who leads from a host while it is still frozen.
  const std::string during = reported_leader(cl.hosts[2].http, "docs");
  cl.etcd.signal(0, SIGCONT);
  writing = false;
  writer.join();

  // The longest stretch without an acknowledged write while member 0 was frozen.
  auto last = frozen;
  clock_type::duration worst{};
  size_t during_freeze = 0;
  for (auto t : acked) {
    if (t < frozen || t > thawed) continue;
    worst = std::max(worst, t - last);
    last = t;
    ++during_freeze;
  }
  worst = std::max(worst, thawed - last);
  const auto worst_ms = std::chrono::duration_cast<std::chrono::milliseconds>(worst).count();
  std::printf("member 0 frozen for %d ms: %zu writes acknowledged, the longest pause %lld ms\n",
              static_cast<int>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(thawed - frozen).count()),
              during_freeze, static_cast<long long>(worst_ms));
  EXPECT_LT(worst, kTtl) << "writes stopped for " << worst_ms << " ms";
  EXPECT_GT(during_freeze, 20u);
  EXPECT_EQ(during, leader_id);
  for (auto& h : cl.hosts) EXPECT_EQ(reported_leader(h.http, "docs"), leader_id) << h.id;
  // Nor did it lose its lease and win again: it leads in the term it led in before.
  EXPECT_EQ(shard_term(leader->http), term);
  if (testing::Test::HasFailure()) {
    for (auto& h : cl.hosts) {
      const auto log = h.proc->log();
      ADD_FAILURE() << h.id << " (the end of its log):\n"
                    << log.substr(log.size() - std::min<size_t>(log.size(), 6000));
    }
  }
}

}  // namespace
}  // namespace shoal
