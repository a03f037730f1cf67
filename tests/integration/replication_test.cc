// Log shipping between shoald processes of a static cluster (issue #7, replication/README.md):
// a follower catches up from empty and from far behind, serves reads, refuses writes by naming
// the leader; durability=replicated acknowledges only what a follower holds durably (so after
// the leader is SIGKILLed under such writes, every acknowledged point is on the follower) and
// fails with a clear error when no follower answers; a follower restarts into the stream.
// GET /cluster, the shoal_replication_* metrics and `shoalctl cluster status` report it.
#include <atomic>
#include <optional>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "net/rpc/client.h"
#include "tests/integration/points_support.h"
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

using test::converges;
using test::count;
using test::ids;
using test::points_body;

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

/// The sample of `series` (name and labels exactly as rendered) in a /metrics text.
std::optional<double> metric(const std::string& text, const std::string& series) {
  auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return std::nullopt;
  return std::stod(text.substr(at + series.size() + 2));
}

std::string get_body(uint16_t port, const std::string& path) {
  test::http_client c(port);
  auto r = c.request(verb::get, path, "");
  if (r.status != 200) throw std::runtime_error(path + ": " + std::to_string(r.status) + r.body);
  return r.body;
}

/// Polls GET /cluster on `port` until pred(result) holds; the last answer's body either way.
template <typename Pred>
std::pair<bool, std::string> cluster_until(uint16_t port, Pred pred,
                                           std::chrono::milliseconds within = 20s) {
  auto deadline = std::chrono::steady_clock::now() + within;
  std::string body;
  while (std::chrono::steady_clock::now() < deadline) {
    body = get_body(port, "/cluster");
    simdjson::dom::parser p;
    if (pred(p.parse(body)["result"].value())) return {true, body};
    std::this_thread::sleep_for(50ms);
  }
  return {false, body};
}

/// Every follower of every shard of `name` in a leader's /cluster result has acknowledged all.
bool caught_up(simdjson::dom::element result, const std::string& name) {
  simdjson::dom::array shards = result["collections"][name]["shards"];
  if (shards.size() == 0) return false;
  for (auto s : shards) {
    simdjson::dom::array followers = s["followers"];
    if (followers.size() == 0) return false;
    for (auto f : followers) {
      if (!bool(f["connected"]) || uint64_t(f["lag_lsn"]) != 0 || double(f["lag_ms"]) != 0 ||
          uint64_t(f["acked_lsn"]) != uint64_t(s["last_lsn"])) {
        return false;
      }
    }
  }
  return true;
}

TEST(Replication, ClusterStatusMetricsAndShoalctl) {
  test::tmpdir dir;
  cluster cl(dir, 2);
  ASSERT_TRUE(cl.start(cl.nodes[0]));
  ASSERT_TRUE(cl.start(cl.nodes[1]));
  cl.create("docs", kCollection);
  auto& leader = cl.leader_of("docs");
  auto& follower = &leader == &cl.nodes[0] ? cl.nodes[1] : cl.nodes[0];
  test::http_client lc(leader.http);
  for (uint64_t b = 0; b < 2; ++b) {
    ASSERT_EQ(lc.request(verb::put, "/collections/docs/points?wait=true",
                         points_body(b * 300, b * 300 + 300))
                  .status,
              200u);
  }
  ASSERT_TRUE(converges(follower.http, "docs", 600));

  // The leader's view: hosts, and every shard led here with its follower caught up.
  auto [ok, body] = cluster_until(leader.http, [](auto r) { return caught_up(r, "docs"); });
  ASSERT_TRUE(ok) << body;
  simdjson::dom::parser p;
  auto doc = p.parse(body);
  EXPECT_EQ(std::string_view(doc["status"]), "ok");
  EXPECT_TRUE(doc["time"].is_number());
  auto result = doc["result"];
  EXPECT_EQ(std::string_view(result["status"]), "enabled");
  EXPECT_EQ(std::string_view(result["peer_id"]), leader.id);
  for (auto& n : cl.nodes) {
    auto peer = result["peers"][n.id];
    EXPECT_EQ(std::string_view(peer["rpc"]), "127.0.0.1:" + std::to_string(n.rpc)) << body;
    EXPECT_EQ(std::string_view(peer["http"]), "127.0.0.1:" + std::to_string(n.http)) << body;
  }
  auto docs = result["collections"]["docs"];
  EXPECT_EQ(std::string_view(docs["leader"]), leader.id);
  EXPECT_EQ(std::string_view(docs["status"]), "ready");
  simdjson::dom::array shards = docs["shards"];
  ASSERT_EQ(shards.size(), 3u) << body;
  std::vector<uint64_t> leader_lsns;
  uint64_t i = 0;
  for (auto s : shards) {
    EXPECT_EQ(uint64_t(s["id"]), i++);
    EXPECT_EQ(std::string_view(s["role"]), "leader");
    EXPECT_EQ(std::string_view(s["leader"]), leader.id);
    EXPECT_EQ(uint64_t(s["term"]), 1u);
    EXPECT_GT(uint64_t(s["last_lsn"]), 0u);
    EXPECT_EQ(uint64_t(s["durable_lsn"]), uint64_t(s["last_lsn"]));
    leader_lsns.push_back(uint64_t(s["last_lsn"]));
    simdjson::dom::array followers = s["followers"];
    ASSERT_EQ(followers.size(), 1u);
    auto f = followers.at(0);
    EXPECT_EQ(std::string_view(f["id"]), follower.id);
    EXPECT_GT(uint64_t(f["records_shipped"]), 0u);
    EXPECT_GE(uint64_t(f["alignments"]), 1u);
  }

  // The follower's view: same leader and term, its role, the same LSNs, no streams of its own.
  auto fbody = get_body(follower.http, "/cluster");
  simdjson::dom::parser fp;
  auto fresult = fp.parse(fbody)["result"];
  EXPECT_EQ(std::string_view(fresult["peer_id"]), follower.id);
  simdjson::dom::array fshards = fresult["collections"]["docs"]["shards"];
  ASSERT_EQ(fshards.size(), 3u) << fbody;
  i = 0;
  for (auto s : fshards) {
    EXPECT_EQ(std::string_view(s["role"]), "follower");
    EXPECT_EQ(std::string_view(s["leader"]), leader.id);
    EXPECT_EQ(uint64_t(s["term"]), 1u);
    EXPECT_EQ(uint64_t(s["durable_lsn"]), leader_lsns[i++]);
    EXPECT_TRUE(s["followers"].error()) << "a follower ships to nobody";
  }

  // /metrics: lag, streams and shipping on the leader; records applied on the follower.
  auto lm = get_body(leader.http, "/metrics");
  auto fm = get_body(follower.http, "/metrics");
  uint64_t applied = 0;
  for (int sh = 0; sh < 3; ++sh) {
    auto labels = "{collection=\"docs\",follower=\"" + follower.id + "\",shard=\"" +
                  std::to_string(sh) + "\"}";
    EXPECT_EQ(metric(lm, "shoal_replication_lag_lsn" + labels), 0.0) << lm;
    EXPECT_EQ(metric(lm, "shoal_replication_lag_milliseconds" + labels), 0.0);
    EXPECT_EQ(metric(lm, "shoal_replication_follower_connected" + labels), 1.0);
    EXPECT_EQ(metric(lm, "shoal_replication_acked_lsn" + labels), double(leader_lsns[sh]));
    EXPECT_GT(metric(lm, "shoal_replication_shipped_records_total" + labels).value_or(0), 0.0);
    EXPECT_GT(metric(lm, "shoal_replication_shipped_bytes_total" + labels).value_or(0), 0.0);
    EXPECT_GE(metric(lm, "shoal_replication_alignments_total" + labels).value_or(0), 1.0);
    EXPECT_TRUE(metric(lm, "shoal_replication_truncations_total" + labels).has_value());
    applied += static_cast<uint64_t>(
        metric(fm, "shoal_replication_records_applied_total{collection=\"docs\",shard=\"" +
                       std::to_string(sh) + "\"}")
            .value_or(0));
  }
  EXPECT_EQ(applied, leader_lsns[0] + leader_lsns[1] + leader_lsns[2]) << fm;

  // shoalctl renders it as a table.
  auto ctl = test::binary_dir() / "shoalctl";
  auto [code, out] = test::run_to_completion(
      ctl, {"--url", "http://127.0.0.1:" + std::to_string(leader.http), "cluster", "status"},
      dir.path() / "ctl.log");
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("this is node " + leader.id), std::string::npos) << out;
  EXPECT_NE(out.find("127.0.0.1:" + std::to_string(follower.rpc)), std::string::npos) << out;
  EXPECT_NE(out.find("LAG_MS"), std::string::npos) << out;
  size_t rows = 0;
  for (size_t at = out.find("\ndocs "); at != std::string::npos; at = out.find("\ndocs ", at + 1)) {
    ++rows;
  }
  EXPECT_EQ(rows, 3u) << out;

  // A follower that is down falls behind in LSNs and in time, then catches up again.
  follower.proc->stop();
  ASSERT_EQ(
      lc.request(verb::put, "/collections/docs/points?wait=true", points_body(1000, 1300)).status,
      200u);
  std::this_thread::sleep_for(500ms);
  auto [behind, bbody] = cluster_until(leader.http, [](simdjson::dom::element r) {
    simdjson::dom::array shards = r["collections"]["docs"]["shards"];
    for (auto s : shards) {
      auto f = s["followers"].at(0);
      if (bool(f["connected"]) || uint64_t(f["lag_lsn"]) == 0 || double(f["lag_ms"]) < 300) {
        return false;
      }
    }
    return true;
  });
  EXPECT_TRUE(behind) << bbody;
  lm = get_body(leader.http, "/metrics");
  auto labels0 = "{collection=\"docs\",follower=\"" + follower.id + "\",shard=\"0\"}";
  EXPECT_GT(metric(lm, "shoal_replication_lag_lsn" + labels0).value_or(0), 0.0) << lm;
  EXPECT_GT(metric(lm, "shoal_replication_lag_milliseconds" + labels0).value_or(0), 300.0);
  EXPECT_EQ(metric(lm, "shoal_replication_follower_connected" + labels0), 0.0);
  ASSERT_TRUE(cl.start(follower));
  std::tie(ok, body) = cluster_until(leader.http, [](auto r) { return caught_up(r, "docs"); });
  EXPECT_TRUE(ok) << body;
  lm = get_body(leader.http, "/metrics");
  EXPECT_EQ(metric(lm, "shoal_replication_lag_lsn" + labels0), 0.0) << lm;
  EXPECT_EQ(metric(lm, "shoal_replication_lag_milliseconds" + labels0), 0.0);
  EXPECT_GE(metric(lm, "shoal_replication_alignments_total" + labels0).value_or(0), 2.0);
}

TEST(Replication, ClusterStatusOfASingleNode) {
  test::tmpdir dir;
  test::shoald_instance single(dir.path() / "data", dir.path());
  ASSERT_TRUE(single.start()) << single.log();
  auto body = get_body(single.port(), "/cluster");
  simdjson::dom::parser p;
  auto doc = p.parse(body);
  EXPECT_EQ(std::string_view(doc["result"]["status"]), "disabled") << body;
  EXPECT_EQ(std::string_view(doc["status"]), "ok");
  auto [code, out] = test::run_to_completion(
      test::binary_dir() / "shoalctl",
      {"--addr", "127.0.0.1:" + std::to_string(single.port()), "cluster", "status"},
      dir.path() / "ctl.log");
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("is not in a cluster"), std::string::npos) << out;
  // Leaders do not move here: the failover command says why.
  std::tie(code, out) = test::run_to_completion(
      test::binary_dir() / "shoalctl",
      {"--addr", "127.0.0.1:" + std::to_string(single.port()), "cluster", "failover", "docs"},
      dir.path() / "ctl-failover.log");
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("leaders move only in a cluster coordinated through etcd"), std::string::npos)
      << out;
  EXPECT_EQ(metric(get_body(single.port(), "/metrics"), "shoal_replication_lag_lsn"), std::nullopt);
}

/// 500 points both hold, then the follower stops and 6,000 more points reach the leader alone
/// (with small segments and snapshot thresholds, several snapshots happen meanwhile).
bool write_while_away(test::http_client& lc, node& follower) {
  auto put = [&](uint64_t from, uint64_t to) {
    auto r = lc.request(verb::put, "/collections/docs/points?wait=true", points_body(from, to));
    EXPECT_EQ(r.status, 200u) << r.body;
    return r.status == 200;
  };
  if (!put(0, 500) || !converges(follower.http, "docs", 500)) return false;
  follower.proc->stop();
  for (uint64_t b = 0; b < 30; ++b) {
    if (!put(1000 + b * 200, 1200 + b * 200)) return false;
  }
  return true;
}

TEST(Replication, FollowerBehindTheLeadersLogStartGetsASnapshot) {
  test::tmpdir dir;
  // Small segments, frequent snapshots and no log retained for followers: the leader's log soon
  // starts past what the stopped follower has, so only a snapshot transfer can bring it back.
  cluster cl(dir, 2,
             {"--storage.snapshot-log-bytes", "8KiB", "--storage.log-segment-bytes", "4KiB",
              "--storage.log-retention-bytes", "0"});
  ASSERT_TRUE(cl.start(cl.nodes[0]));
  ASSERT_TRUE(cl.start(cl.nodes[1]));
  cl.create("docs", kCollection);
  auto& leader = cl.leader_of("docs");
  auto& follower = &leader == &cl.nodes[0] ? cl.nodes[1] : cl.nodes[0];
  test::http_client lc(leader.http);
  ASSERT_TRUE(write_while_away(lc, follower));
  ASSERT_EQ(lc.request(verb::post, "/collections/docs/points/delete?wait=true",
                       R"({"filter":{"must":{"key":"n","range":{"lt":250}}}})")
                .status,
            200u);
  ASSERT_TRUE(cl.start(follower));
  ASSERT_TRUE(converges(follower.http, "docs", 250 + 6000, 60s)) << follower.proc->log();
  EXPECT_EQ(ids(follower.http, "docs"), ids(leader.http, "docs"));
  EXPECT_NE(leader.proc->log().find("sending the snapshot"), std::string::npos);
  EXPECT_NE(follower.proc->log().find("installed the leader's snapshot"), std::string::npos);
  // Then it tails as usual, and a restart keeps what it installed.
  ASSERT_EQ(
      lc.request(verb::put, "/collections/docs/points?wait=true", points_body(50000, 50100)).status,
      200u);
  ASSERT_TRUE(converges(follower.http, "docs", 6350));
  follower.proc->stop();
  ASSERT_TRUE(cl.start(follower));
  EXPECT_EQ(count(follower.http, "docs"), 6350u);
  EXPECT_EQ(ids(follower.http, "docs"), ids(leader.http, "docs"));
}

// The same, with the log retained for followers (issue #17): snapshots do not cut the records
// the stopped follower lacks, so it is tailed from the log when it returns, not sent a snapshot.
TEST(Replication, AFollowerAwayIsTailedFromTheRetainedLogNotSentASnapshot) {
  test::tmpdir dir;
  cluster cl(dir, 2,
             {"--storage.snapshot-log-bytes", "8KiB", "--storage.log-segment-bytes", "4KiB"});
  ASSERT_TRUE(cl.start(cl.nodes[0]));
  ASSERT_TRUE(cl.start(cl.nodes[1]));
  cl.create("docs", kCollection);
  auto& leader = cl.leader_of("docs");
  auto& follower = &leader == &cl.nodes[0] ? cl.nodes[1] : cl.nodes[0];
  test::http_client lc(leader.http);
  ASSERT_TRUE(write_while_away(lc, follower));
  EXPECT_NE(leader.proc->log().find("snapshot at LSN"), std::string::npos) << "it snapshotted";
  ASSERT_TRUE(cl.start(follower));
  ASSERT_TRUE(converges(follower.http, "docs", 500 + 6000, 60s)) << follower.proc->log();
  EXPECT_EQ(ids(follower.http, "docs"), ids(leader.http, "docs"));
  EXPECT_EQ(leader.proc->log().find("sending the snapshot"), std::string::npos)
      << "the follower was sent a snapshot: the log it lacked was cut";
}

TEST(Replication, ReadYourWritesOnAFollowerAndReadsSentToTheLeader) {
  test::tmpdir dir;
  cluster cl(dir, 2);
  ASSERT_TRUE(cl.start(cl.nodes[0]));
  ASSERT_TRUE(cl.start(cl.nodes[1]));
  cl.create("docs", kCollection);
  auto& leader = cl.leader_of("docs");
  auto& follower = &leader == &cl.nodes[0] ? cl.nodes[1] : cl.nodes[0];
  test::http_client lc(leader.http), fc(follower.http);
  // Every write's answer carries a token; a read with it on the follower sees the write.
  for (uint64_t i = 0; i < 200; ++i) {
    auto w = lc.request(verb::put, "/collections/docs/points?wait=true", points_body(i, i + 1));
    ASSERT_EQ(w.status, 200u) << w.body;
    auto token = w.header("shoal-token");
    ASSERT_FALSE(token.empty());
    auto r = fc.request(verb::post, "/collections/docs/points",
                        R"({"ids":[)" + std::to_string(i) + "]}", {{"shoal-read-after", token}});
    ASSERT_EQ(r.status, 200u) << r.body;
    ASSERT_NE(r.body.find("\"id\":" + std::to_string(i)), std::string::npos)
        << "write " << i << " not visible on the follower with its token: " << r.body;
  }
  auto batch = lc.request(verb::post, "/collections/docs/points/batch?wait=true",
                          R"({"operations":[{"upsert":)" + points_body(500, 510) +
                              R"(},{"delete":{"points":[500]}}]})");
  ASSERT_EQ(batch.status, 200u) << batch.body;
  auto after = fc.request(verb::post, "/collections/docs/points/count", R"({"exact":true})",
                          {{"shoal-read-after", batch.header("shoal-token")}});
  EXPECT_NE(after.body.find("\"count\":209"), std::string::npos) << after.body;

  // Tokens this host cannot satisfy fail clearly.
  auto future = fc.request(verb::post, "/collections/docs/points/count?timeout=1", "{}",
                           {{"shoal-read-after", "0:1:999999"}});
  EXPECT_EQ(future.status, 504u) << future.body;
  auto lost = fc.request(verb::post, "/collections/docs/points/count", "{}",
                         {{"shoal-read-after", "0:0:1"}});
  EXPECT_EQ(lost.status, 409u) << lost.body;
  auto bad =
      fc.request(verb::post, "/collections/docs/points/count", "{}", {{"shoal-read-after", "0:1"}});
  EXPECT_EQ(bad.status, 400u) << bad.body;
  auto no_shard = fc.request(verb::post, "/collections/docs/points/count", "{}",
                             {{"shoal-read-after", "99:1:1"}});
  EXPECT_EQ(no_shard.status, 400u) << no_shard.body;

  // read=leader: the follower redirects; the leader answers.
  auto redirect = fc.request(verb::post, "/collections/docs/points/count?read=leader", "{}");
  EXPECT_EQ(redirect.status, 307u);
  EXPECT_EQ(redirect.header("location"), "http://127.0.0.1:" + std::to_string(leader.http) +
                                             "/collections/docs/points/count?read=leader");
  EXPECT_EQ(lc.request(verb::post, "/collections/docs/points/count?read=leader", "{}").status,
            200u);
}

TEST(Replication, TheCppClientFollowsTheLeader) {
  test::tmpdir dir;
  cluster cl(dir, 2);
  ASSERT_TRUE(cl.start(cl.nodes[0]));
  ASSERT_TRUE(cl.start(cl.nodes[1]));
  cl.create("docs", kCollection);
  auto& leader = cl.leader_of("docs");
  auto& follower = &leader == &cl.nodes[0] ? cl.nodes[1] : cl.nodes[0];
  rpc::client_options o;
  o.host = "127.0.0.1";
  o.port = follower.rpc;
  o.request_timeout = 10s;
  rpc::sync_client c(o);
  std::vector<data::point_id> ids = {data::point_id::number(7), data::point_id::number(8)};
  std::vector<float> vectors = {1, 2, 3, 4, 4, 3, 2, 1};
  auto w = c.upsert({.collection = "docs", .dim = 4, .ids = ids, .vectors = vectors});
  ASSERT_TRUE(w) << w.error().describe();
  EXPECT_EQ(w->points, 2u);
  EXPECT_EQ(c.async().target(), "127.0.0.1:" + std::to_string(leader.rpc));
  EXPECT_TRUE(converges(follower.http, "docs", 2));

  // Without following, the refusal names the leader's RPC address.
  o.follow_leader = false;
  rpc::sync_client plain(o);
  auto refused = plain.upsert({.collection = "docs", .dim = 4, .ids = ids, .vectors = vectors});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, rpc::status::not_leader);
  EXPECT_EQ(refused.error().message.rfind("127.0.0.1:" + std::to_string(leader.rpc) + " ", 0), 0u)
      << refused.error().message;
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
