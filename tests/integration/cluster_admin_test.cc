// Administering a coordinated cluster (replication/README.md): a leader moved by hand
// (POST /cluster/failover, `shoalctl cluster failover`) loses no acknowledged write even at
// durability=local, refuses bad requests and describes itself in GET /cluster; a collection
// created with replication_factor lives on that many hosts, and the others redirect every
// request about it (REST 307 followed by the real Qdrant JS client, RPC not_leader followed by
// the C++ client). Three shoald processes and a real etcd on loopback (etcd_cluster.h).
#include <atomic>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "net/rpc/client.h"
#include "tests/integration/etcd_cluster.h"
#include "tests/support/child_process.h"

namespace shoal {
namespace {

using namespace std::chrono_literals;
using namespace test::coordinated;
using boost::beast::http::verb;
using test::ids;
using test::points_body;

TEST(ClusterAdmin, ALeaderMovedByHandLosesNoAcknowledgedWrite) {
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

// replication_factor 2 of 3 hosts: two hosts hold the collection (its data, its elections),
// the third knows it exists and sends every request about it to the leader — REST with a 307
// that HTTP clients follow, RPC with not_leader that the C++ client follows.
TEST(ClusterAdmin, ACollectionLivesOnReplicationFactorHosts) {
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
