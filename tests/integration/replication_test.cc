// Log shipping between shoald processes of a static cluster (issue #7, replication/README.md):
// a follower catches up from empty and from far behind, serves reads, refuses writes by naming
// the leader; durability=replicated acknowledges only what a follower holds durably (so after
// the leader is SIGKILLed under such writes, every acknowledged point is on the follower) and
// fails with a clear error when no follower answers; a follower restarts into the stream.
#include <atomic>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "tests/integration/shoald_fixture.h"
#include "tests/support/etcd_process.h"

namespace shoal {
namespace {

using namespace std::chrono_literals;
using boost::beast::http::verb;

struct node {
  std::string id;
  uint16_t http = 0;
  uint16_t rpc = 0;
  std::unique_ptr<test::shoald_instance> proc;
};

/// Two or three hosts on loopback; the collection's leader is whichever the placement picks.
class cluster {
 public:
  cluster(const test::tmpdir& dir, size_t hosts, std::vector<std::string> extra = {}) {
    std::string peers;
    for (size_t i = 0; i < hosts; ++i) {
      node n;
      n.id = std::string(1, static_cast<char>('a' + i));
      n.http = test::free_port();
      n.rpc = test::free_port();
      peers += (i ? "," : "") + n.id + "=127.0.0.1:" + std::to_string(n.rpc) + "/" +
               std::to_string(n.http);
      nodes.push_back(std::move(n));
    }
    for (auto& n : nodes) {
      std::vector<std::string> args = {"--node-id", n.id, "--peers", peers};
      args.insert(args.end(), extra.begin(), extra.end());
      auto logs = dir.path() / ("logs-" + n.id);  // each host its own logs to wait on
      std::filesystem::create_directories(logs);
      n.proc = std::make_unique<test::shoald_instance>(dir.path() / n.id, logs, args);
      n.proc->set_ports(n.http, n.rpc);
    }
  }
  ~cluster() {
    for (auto& n : nodes) n.proc->kill();
  }
  bool start(node& n) {
    bool ok = n.proc->start();
    if (!ok) ADD_FAILURE() << n.id << " did not start:\n" << n.proc->log();
    return ok;
  }
  /// Creates the collection on every running host (a static cluster does not share schemas).
  void create(const std::string& name, const std::string& body) {
    for (auto& n : nodes) {
      if (!n.proc->process() || !n.proc->process()->running()) continue;
      test::http_client c(n.http);
      auto r = c.request(verb::put, "/collections/" + name, body);
      ASSERT_EQ(r.status, 200u) << r.body;
    }
  }
  /// The host that leads `name`: the one that takes a write.
  node& leader_of(const std::string& name) {
    for (auto& n : nodes) {
      test::http_client c(n.http);
      auto r =
          c.request(verb::put, "/collections/" + name + "/points?wait=true", R"({"points":[]})");
      if (r.status == 200) return n;
    }
    throw std::runtime_error("no leader");
  }
  std::vector<node> nodes;
};

std::string points_body(uint64_t from, uint64_t to) {
  std::string s = R"({"points":[)";
  for (uint64_t i = from; i < to; ++i) {
    s += (i > from ? "," : "") + std::string("{\"id\":") + std::to_string(i) + ",\"vector\":[" +
         std::to_string(1 + i % 7) + "," + std::to_string(i % 13) +
         ",1,0.5],\"payload\":{\"n\":" + std::to_string(i) + "}}";
  }
  return s + "]}";
}

uint64_t count(uint16_t port, const std::string& name) {
  test::http_client c(port);
  auto r = c.request(verb::post, "/collections/" + name + "/points/count", R"({"exact":true})");
  if (r.status != 200) return UINT64_MAX;
  simdjson::dom::parser p;
  return uint64_t(p.parse(r.body)["result"]["count"]);
}

std::set<uint64_t> ids(uint16_t port, const std::string& name) {
  std::set<uint64_t> out;
  test::http_client c(port);
  std::string offset = "null";
  for (;;) {
    auto r = c.request(verb::post, "/collections/" + name + "/points/scroll",
                       R"({"limit":1000,"with_payload":true,"offset":)" + offset + "}");
    if (r.status != 200) throw std::runtime_error(r.body);
    simdjson::dom::parser p;
    auto doc = p.parse(r.body);
    simdjson::dom::array pts = doc["result"]["points"];
    for (auto pt : pts) {
      uint64_t id = pt["id"];
      EXPECT_EQ(uint64_t(pt["payload"]["n"]), id) << "point " << id << " is whole";
      out.insert(id);
    }
    auto next = doc["result"]["next_page_offset"];
    if (next.is_null()) return out;
    offset = std::to_string(uint64_t(next));
  }
}

/// Waits until `port` counts `want` points.
bool converges(uint16_t port, const std::string& name, uint64_t want,
               std::chrono::milliseconds within = 20s) {
  auto deadline = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < deadline) {
    if (count(port, name) == want) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

const char* kCollection = R"({"vectors":{"size":4,"distance":"Cosine"},"shard_number":3})";

TEST(Replication, FollowerCatchesUpServesReadsAndRefusesWrites) {
  test::tmpdir dir;
  cluster cl(dir, 2);
  ASSERT_TRUE(cl.start(cl.nodes[0]));
  ASSERT_TRUE(cl.start(cl.nodes[1]));
  cl.create("docs", kCollection);
  auto& leader = cl.leader_of("docs");
  auto& follower = &leader == &cl.nodes[0] ? cl.nodes[1] : cl.nodes[0];

  // From empty, while it runs.
  test::http_client lc(leader.http);
  for (uint64_t b = 0; b < 10; ++b) {
    auto r = lc.request(verb::put, "/collections/docs/points?wait=true",
                        points_body(b * 300, b * 300 + 300));
    ASSERT_EQ(r.status, 200u) << r.body;
  }
  ASSERT_TRUE(converges(follower.http, "docs", 3000));
  EXPECT_EQ(ids(follower.http, "docs"), ids(leader.http, "docs"));

  // A search on the follower answers like the leader.
  std::string q = R"({"vector":[1,2,1,0.5],"limit":5})";
  test::http_client fc(follower.http);
  auto fr = fc.request(verb::post, "/collections/docs/points/search", q);
  auto lr = lc.request(verb::post, "/collections/docs/points/search", q);
  ASSERT_EQ(fr.status, 200u);
  simdjson::dom::parser p1, p2;
  EXPECT_EQ(simdjson::to_string(p1.parse(fr.body)["result"]),
            simdjson::to_string(p2.parse(lr.body)["result"]));

  // Writes on the follower are refused with the leader's address, and change nothing.
  auto refused =
      fc.request(verb::put, "/collections/docs/points?wait=true", points_body(9000, 9001));
  EXPECT_EQ(refused.status, 421u) << refused.body;
  EXPECT_NE(refused.body.find("http://127.0.0.1:" + std::to_string(leader.http)), std::string::npos)
      << refused.body;
  auto del =
      fc.request(verb::post, "/collections/docs/points/delete?wait=true", R"({"points":[1]})");
  EXPECT_EQ(del.status, 421u) << del.body;
  EXPECT_EQ(count(follower.http, "docs"), 3000u);

  // Deletes and payload changes ship too.
  ASSERT_EQ(lc.request(verb::post, "/collections/docs/points/delete?wait=true",
                       R"({"filter":{"must":{"key":"n","range":{"lt":100}}}})")
                .status,
            200u);
  ASSERT_TRUE(converges(follower.http, "docs", 2900));

  // Far behind: the follower is down while the leader takes 6000 more points, then returns.
  follower.proc->stop();
  for (uint64_t b = 0; b < 20; ++b) {
    ASSERT_EQ(lc.request(verb::put, "/collections/docs/points?wait=true",
                         points_body(10000 + b * 300, 10000 + b * 300 + 300))
                  .status,
              200u);
  }
  ASSERT_TRUE(cl.start(follower));
  ASSERT_TRUE(converges(follower.http, "docs", 8900));
  EXPECT_EQ(ids(follower.http, "docs"), ids(leader.http, "docs"));
}

TEST(Replication, ReplicatedWritesSurviveALeaderKilledUnderLoad) {
  test::tmpdir dir;
  cluster cl(dir, 2, {"--replication.ack-timeout", "2s"});
  ASSERT_TRUE(cl.start(cl.nodes[0]));
  ASSERT_TRUE(cl.start(cl.nodes[1]));
  cl.create("docs", kCollection);
  auto& leader = cl.leader_of("docs");
  auto& follower = &leader == &cl.nodes[0] ? cl.nodes[1] : cl.nodes[0];

  int rounds = 3;
  if (const char* r = std::getenv("SHOAL_REPLICATION_ROUNDS")) rounds = std::max(1, std::atoi(r));
  std::set<uint64_t> acked;
  for (int round = 0; round < rounds; ++round) {
    std::atomic<bool> stop{false};
    std::mutex mu;
    std::vector<std::thread> writers;
    for (int w = 0; w < 3; ++w) {
      writers.emplace_back([&, w] {
        uint64_t base = 1'000'000ull * (round * 4 + w + 1);
        for (uint64_t i = 0; !stop; i += 20) {
          try {
            test::http_client c(leader.http, 3s);
            auto r =
                c.request(verb::put, "/collections/docs/points?wait=true&durability=replicated",
                          points_body(base + i, base + i + 20));
            if (r.status == 200) {
              std::lock_guard l(mu);
              for (uint64_t k = base + i; k < base + i + 20; ++k) acked.insert(k);
            }
          } catch (const std::exception&) {
            return;  // the leader died mid-request: not acknowledged
          }
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + 200 * round));
    leader.proc->kill();
    stop = true;
    for (auto& t : writers) t.join();
    ASSERT_FALSE(acked.empty());
    // Every acknowledged point is on the follower already: nothing more can arrive from a dead
    // leader.
    auto have = ids(follower.http, "docs");
    size_t missing = 0;
    for (auto id : acked) missing += have.count(id) ? 0 : 1;
    EXPECT_EQ(missing, 0u) << "of " << acked.size() << " acknowledged points, round " << round;
    std::printf("round %d: %zu points acknowledged so far, checked on the follower\n", round,
                acked.size());
    ASSERT_TRUE(cl.start(leader));
    ASSERT_TRUE(converges(follower.http, "docs", count(leader.http, "docs")));
  }

  // No follower: replicated writes fail clearly; local ones go on.
  follower.proc->stop();
  test::http_client c(leader.http, 10s);
  auto r = c.request(verb::put, "/collections/docs/points?wait=true&durability=replicated",
                     points_body(1, 2));
  EXPECT_EQ(r.status, 503u) << r.body;
  EXPECT_NE(r.body.find("too few followers"), std::string::npos) << r.body;
  EXPECT_EQ(c.request(verb::put, "/collections/docs/points?wait=true", points_body(2, 3)).status,
            200u);
}

TEST(Replication, RefusesBadClusterSettings) {
  test::tmpdir dir;
  auto run = [&](std::vector<std::string> args) {
    test::child_process p(test::shoald_binary(), args, dir.path() / "bad.log");
    auto code = p.wait_exit(10s);
    return std::make_pair(code.value_or(-1), p.log());
  };
  auto [c1, l1] = run({"--node-id", "x", "--peers", "a=127.0.0.1:1/2,b=127.0.0.1:3"});
  EXPECT_EQ(c1, 2);
  EXPECT_NE(l1.find("--node-id \"x\" is not among --peers"), std::string::npos) << l1;
  auto [c2, l2] = run({"--node-id", "a", "--peers", "a=127.0.0.1,b=127.0.0.1:3"});
  EXPECT_EQ(c2, 2);
  EXPECT_NE(l2.find("peer \"a=127.0.0.1\""), std::string::npos) << l2;
  auto [c3, l3] = run({"--node-id", "a", "--peers", "a=127.0.0.1:1,a=127.0.0.1:3"});
  EXPECT_EQ(c3, 2);
  EXPECT_NE(l3.find("appears twice"), std::string::npos) << l3;
}

}  // namespace
}  // namespace shoal
