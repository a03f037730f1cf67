// Comparing replicas (replication/README.md, "Comparing replicas"): GET .../shards/{id}/digest
// on every host answers for its own replica, and `shoalctl cluster verify` finds every replica
// of a coordinated cluster identical after upserts, updates, deletes and every kind of payload
// change (exit 0); in a static cluster it says which host it could not reach (exit 3) and names
// the shard and host where two replicas hold different data at the same LSN (exit 1). That
// divergence is made as a split brain makes it: the follower's data directory, while the
// follower is down, is started as a node of its own and takes a write to a point the leader
// also changes meanwhile; back in the cluster, both logs end at the same LSN in the same term.
#include <filesystem>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include "tests/integration/etcd_cluster.h"
#include "tests/support/child_process.h"

namespace shoal {
namespace {

using namespace std::chrono_literals;
using boost::beast::http::verb;
using test::points_body;

std::pair<int, std::string> verify(const test::tmpdir& dir, uint16_t http,
                                   const std::string& collection,
                                   std::vector<std::string> extra = {}) {
  static int runs = 0;
  std::vector<std::string> args{"--url", "http://127.0.0.1:" + std::to_string(http)};
  args.insert(args.end(), extra.begin(), extra.end());
  args.insert(args.end(), {"cluster", "verify", collection});
  return test::run_to_completion(test::binary_dir() / "shoalctl", args,
                                 dir.path() / ("verify-" + std::to_string(runs++) + ".log"));
}

size_t occurrences(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

/// Writes through `port` and expects 200.
void write(uint16_t port, verb method, const std::string& target, const std::string& body) {
  test::http_client c(port);
  auto r = c.request(method, target, body);
  EXPECT_EQ(r.status, 200u) << target << ": " << r.body;
}

TEST(ReplicaVerify, EveryReplicaOfACoordinatedClusterIsIdenticalAfterAllKindsOfWrites) {
  ASSERT_FALSE(test::etcd_process::binary().empty()) << "make deps installs etcd-server";
  test::tmpdir dir;
  test::coordinated::cluster cl(dir, 3);
  auto* leader = cl.start_with("docs", test::coordinated::kCollection);
  ASSERT_NE(leader, nullptr);
  const std::string docs = "/collections/docs/points";
  write(leader->http, verb::put, docs + "?wait=true", points_body(0, 400));
  // Updates: other vectors and payloads for 0..59.
  std::string update = R"({"points":[)";
  for (int i = 0; i < 60; ++i) {
    update += (i ? "," : "") + fmt::format(R"({{"id":{},"vector":[2,1,{},1],"payload":{{"n":{},)"
                                           R"("v":2,"tags":["a","b"]}}}})",
                                           i, i % 5, i);
  }
  write(leader->http, verb::put, docs + "?wait=true", update + "]}");
  write(leader->http, verb::post, docs + "/delete?wait=true",
        R"({"filter":{"must":{"key":"n","range":{"gte":100,"lt":150}}}})");
  write(leader->http, verb::post, docs + "/delete?wait=true", R"({"points":[300,301,302]})");
  write(leader->http, verb::post, docs + "/payload?wait=true",
        R"({"payload":{"tag":"x","deep":{"k":1}},"points":[1,2,3,4,5,250]})");
  write(leader->http, verb::post, docs + "/payload?wait=true",
        R"({"payload":{"k2":[1,2]},"key":"deep","points":[2,3]})");
  write(leader->http, verb::put, docs + "/payload?wait=true",
        R"({"payload":{"n":7,"only":true},"points":[7]})");
  write(leader->http, verb::post, docs + "/payload/delete?wait=true",
        R"({"keys":["tag"],"points":[1,250]})");
  write(leader->http, verb::post, docs + "/payload/clear?wait=true", R"({"points":[200,201]})");
  // Deleted points written again.
  write(leader->http, verb::put, docs + "?wait=true", points_body(120, 130));

  // Asked through a follower: every shard of every host, identical (verify waits for the
  // followers' LSNs to reach the leader's).
  auto* follower = leader == &cl.hosts[0] ? &cl.hosts[1] : &cl.hosts[0];
  auto [code, out] = verify(dir, follower->http, "docs");
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("all replicas of every shard are identical"), std::string::npos) << out;
  EXPECT_NE(out.find("2 shards, 6 replicas"), std::string::npos) << out;
  for (auto& h : cl.hosts) EXPECT_EQ(occurrences(out, "  " + h.id + "  "), 2u) << h.id << out;
  EXPECT_EQ(occurrences(out, "  leader  "), 2u) << out;
  EXPECT_EQ(occurrences(out, "  follower  "), 4u) << out;

  // A follower answers for its own replica (no redirect), at the leader's LSN by now.
  simdjson::dom::parser p1, p2;
  test::http_client fc(follower->http), lc(leader->http);
  auto fd = fc.request(verb::get, "/collections/docs/shards/1/digest");
  auto ld = lc.request(verb::get, "/collections/docs/shards/1/digest");
  ASSERT_EQ(fd.status, 200u) << fd.body;
  ASSERT_EQ(ld.status, 200u) << ld.body;
  EXPECT_EQ(simdjson::to_string(p1.parse(fd.body)["result"]),
            simdjson::to_string(p2.parse(ld.body)["result"]));

  // replication_factor 2 of 3: two replicas per shard; the third host holds none and says so.
  {
    test::http_client c(cl.hosts[0].http);
    auto r = c.request(verb::put, "/collections/placed",
                       R"({"vectors":{"size":4,"distance":"Dot"},"shard_number":2,)"
                       R"("replication_factor":2})");
    ASSERT_EQ(r.status, 200u) << r.body;
  }
  auto* placed_leader = cl.wait_leader("placed");
  ASSERT_NE(placed_leader, nullptr);
  write(placed_leader->http, verb::put, "/collections/placed/points?wait=true", points_body(0, 50));
  std::tie(code, out) = verify(dir, cl.hosts[2].http, "placed");
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("2 shards, 4 replicas"), std::string::npos) << out;
  size_t holders = 0, says_none = 0;
  for (int i = 0; i < 100 && says_none == 0; ++i) {
    holders = says_none = 0;
    for (auto& h : cl.hosts) {
      test::http_client c(h.http);
      auto r = c.request(verb::get, "/collections/placed/shards/0/digest");
      if (r.status == 200) ++holders;
      if (r.status == 404 &&
          r.body.find("holds no replica of collection `placed`") != std::string::npos) {
        ++says_none;
      }
    }
    if (says_none == 0) std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(holders, 2u);
  EXPECT_EQ(says_none, 1u);

  std::tie(code, out) = verify(dir, follower->http, "nothing");
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("no host holds a replica of collection `nothing`"), std::string::npos) << out;
}

struct static_host {
  std::string id;
  uint16_t http = 0, rpc = 0;
  std::unique_ptr<test::shoald_instance> proc;
};

TEST(ReplicaVerify, StaticClusterNamesAnUnreachableHostAndADivergedReplica) {
  test::tmpdir dir;
  std::vector<static_host> hosts(2);
  std::string peers;
  for (size_t i = 0; i < hosts.size(); ++i) {
    hosts[i].id = std::string(1, static_cast<char>('a' + i));
    hosts[i].http = test::free_port();
    hosts[i].rpc = test::free_port();
    peers += (i ? "," : "") + hosts[i].id + "=127.0.0.1:" + std::to_string(hosts[i].rpc) + "/" +
             std::to_string(hosts[i].http);
  }
  for (auto& h : hosts) {
    auto logs = dir.path() / ("logs-" + h.id);
    std::filesystem::create_directories(logs);
    h.proc = std::make_unique<test::shoald_instance>(
        dir.path() / h.id, logs, std::vector<std::string>{"--node-id", h.id, "--peers", peers});
    h.proc->set_ports(h.http, h.rpc);
    ASSERT_TRUE(h.proc->start()) << h.proc->log();
  }
  const char* config = R"({"vectors":{"size":4,"distance":"Cosine"},"shard_number":2})";
  for (auto& h : hosts) write(h.http, verb::put, "/collections/docs", config);
  // The leader is the host that takes a write.
  static_host* leader = nullptr;
  for (auto& h : hosts) {
    test::http_client c(h.http);
    if (c.request(verb::put, "/collections/docs/points?wait=true", points_body(0, 200)).status ==
        200) {
      leader = &h;
    }
  }
  ASSERT_NE(leader, nullptr);
  auto& follower = leader == &hosts[0] ? hosts[1] : hosts[0];
  auto [code, out] = verify(dir, follower.http, "docs");
  EXPECT_EQ(code, 0) << out;

  // The follower down: verify cannot compare, and says who it could not reach.
  ASSERT_EQ(follower.proc->stop(), 0);
  std::tie(code, out) = verify(dir, leader->http, "docs", {"--timeout", "1s"});
  EXPECT_EQ(code, 3) << out;
  EXPECT_NE(out.find("host " + follower.id + " (127.0.0.1:" + std::to_string(follower.http) +
                     "): unreachable"),
            std::string::npos)
      << out;

  // Point 5 changes on the leader, and on the follower's data run as a node of its own.
  write(leader->http, verb::put, "/collections/docs/points?wait=true",
        R"({"points":[{"id":5,"vector":[1,1,1,1],"payload":{"n":5,"side":"leader"}}]})");
  {
    auto logs = dir.path() / "logs-alone";
    std::filesystem::create_directories(logs);
    test::shoald_instance alone(dir.path() / follower.id, logs);
    ASSERT_TRUE(alone.start()) << alone.log();
    write(alone.port(), verb::put, "/collections/docs/points?wait=true",
          R"({"points":[{"id":5,"vector":[1,1,1,1],"payload":{"n":5,"side":"follower"}}]})");
    ASSERT_EQ(alone.stop(), 0);
  }
  ASSERT_TRUE(follower.proc->start()) << follower.proc->log();
  // Both logs now end at the same LSN of term 1 with different points: the stream has nothing
  // to ship or cut, and only the digests show it.
  std::tie(code, out) = verify(dir, leader->http, "docs");
  EXPECT_EQ(code, 1) << out;
  EXPECT_EQ(occurrences(out, "DIVERGED"), 1u) << "only point 5's shard: " << out;
  EXPECT_NE(out.find(": DIVERGED: " + follower.id + " differs from " + leader->id + " at LSN "),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("1 of 2 shards: replicas differ"), std::string::npos) << out;
  for (auto& h : hosts) h.proc->kill();
}

}  // namespace
}  // namespace shoal
