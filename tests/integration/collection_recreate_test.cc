// A collection dropped and created again under the same name in a coordinated cluster
// (replication/README.md, "Schemas"): what Qdrant clients' `recreate_collection` does, a DELETE
// and a PUT back to back. Every host must end up with the new collection (its configuration,
// none of the old points), a leader must take writes, and every replica must hold exactly what
// was written to the new one; a replication request naming another incarnation changes nothing.
// Three shoald processes and a real etcd (etcd_cluster.h).
#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "net/rpc/client.h"
#include "replication/wire.h"
#include "tests/integration/etcd_cluster.h"

namespace shoal {
namespace {

using namespace std::chrono_literals;
using namespace test::coordinated;
using boost::beast::http::verb;
using test::count;
using test::ids;

const char* kSize8 = R"({"vectors":{"size":8,"distance":"Cosine"},"shard_number":2})";

/// Upsert body for ids [from, to) with `dim`-d vectors and {"n": id} (ids() checks it).
std::string points(uint64_t from, uint64_t to, size_t dim) {
  std::string s = R"({"points":[)";
  for (uint64_t i = from; i < to; ++i) {
    s += (i > from ? ",{\"id\":" : "{\"id\":") + std::to_string(i) + ",\"vector\":[";
    for (size_t d = 0; d < dim; ++d) s += (d ? "," : "") + std::to_string(1 + (i + d) % 5);
    s += "],\"payload\":{\"n\":" + std::to_string(i) + "}}";
  }
  return s + "]}";
}

std::set<uint64_t> range(uint64_t from, uint64_t to) {
  std::set<uint64_t> out;
  for (uint64_t i = from; i < to; ++i) out.insert(i);
  return out;
}

/// A request to the host at `port`, sent again to the leader it names: a 307 (a host that does
/// not hold the collection) or a 421 (a follower; "... its leader: node ID at URL ...").
test::http_reply send(uint16_t port, verb method, const std::string& target,
                      const std::string& body) {
  try {
    test::http_client c(port, 5s);
    auto r = c.request(method, target, body);
    std::string url;
    if (r.status == 307) {
      url = r.header("location");
    } else if (r.status == 421) {
      auto at = r.body.find(" at http://");
      if (at == std::string::npos) return r;
      url = r.body.substr(at + 4, r.body.find(' ', at + 4) - at - 4) + target;
    } else {
      return r;
    }
    auto colon = url.rfind(':');
    auto slash = url.find('/', colon);
    if (colon == std::string::npos || slash == std::string::npos) return r;
    auto to = static_cast<uint16_t>(std::stoul(url.substr(colon + 1, slash - colon - 1)));
    test::http_client leader(to, 5s);
    return leader.request(method, url.substr(slash), body);
  } catch (const std::exception& e) {
    test::http_reply failed;
    failed.body = e.what();
    return failed;
  }
}

test::http_reply write(uint16_t port, const std::string& body) {
  return send(port, verb::put, "/collections/docs/points?wait=true", body);
}

/// DELETE and PUT back to back through the host at `port` (qdrant-client's recreate).
void recreate(uint16_t port, const char* config) {
  test::http_client c(port, 30s);
  auto dropped = c.request(verb::delete_, "/collections/docs");
  ASSERT_EQ(dropped.status, 200u) << dropped.body;
  auto made = c.request(verb::put, "/collections/docs", config);
  ASSERT_EQ(made.status, 200u) << made.body;
}

/// The vector size GET /collections/docs reports on the host at `port` (0 if it does not).
uint64_t vector_size(uint16_t port) {
  try {
    test::http_client c(port, 2s);
    auto r = c.request(verb::get, "/collections/docs");
    simdjson::dom::parser p;
    uint64_t size = 0;
    if (r.status != 200 ||
        p.parse(r.body)["result"]["config"]["params"]["vectors"]["size"].get(size)) {
      return 0;
    }
    return size;
  } catch (const std::exception&) {
    return 0;
  }
}

/// Waits until every host reports vectors of `size` and no point.
void expect_new_and_empty(cluster& cl, uint64_t size) {
  for (auto& h : cl.hosts) {
    uint64_t seen_size = 0, seen_count = 0;
    auto deadline = std::chrono::steady_clock::now() + 5s;
    do {
      seen_size = vector_size(h.http);
      seen_count = count(h.http, "docs");
      if (seen_size == size && seen_count == 0) break;
      std::this_thread::sleep_for(50ms);
    } while (std::chrono::steady_clock::now() < deadline);
    EXPECT_EQ(seen_size, size) << h.id << " reports the old configuration";
    EXPECT_EQ(seen_count, 0u) << h.id << " holds points of the dropped collection";
  }
}

/// Writes [from, to) through `via` until it is acknowledged (a leader is elected meanwhile).
bool write_until_acknowledged(uint16_t via, uint64_t from, uint64_t to, size_t dim) {
  auto deadline = std::chrono::steady_clock::now() + 10s;
  test::http_reply last;
  while (std::chrono::steady_clock::now() < deadline) {
    last = write(via, points(from, to, dim));
    if (last.status == 200) return true;
    std::this_thread::sleep_for(50ms);
  }
  ADD_FAILURE() << "the last answer: " << last.status << " " << last.body;
  return false;
}

/// Waits until every host holds exactly `want`, and says which do not.
void expect_exactly(cluster& cl, const std::set<uint64_t>& want) {
  for (auto& h : cl.hosts) {
    std::set<uint64_t> have;
    for (int i = 0; i < 100; ++i) {
      have = ids(h.http, "docs");
      if (have == want) break;
      std::this_thread::sleep_for(50ms);
    }
    EXPECT_EQ(have, want) << h.id << " holds " << have.size() << " points, " << want.size()
                          << " written to the new collection";
  }
}

host* follower_of(cluster& cl, const host* leader) {
  for (auto& h : cl.hosts) {
    if (&h != leader) return &h;
  }
  return nullptr;
}

TEST(CollectionRecreate, OnTheLeaderTheNewCollectionTakesWritesAndHoldsNothingOld) {
  ASSERT_FALSE(test::etcd_process::binary().empty()) << "make deps installs etcd-server";
  test::tmpdir dir;
  cluster cl(dir, 3);
  host* x = cl.start_with("docs", kCollection);
  ASSERT_NE(x, nullptr);
  ASSERT_EQ(write(x->http, points(1, 101, 4)).status, 200u);
  for (auto& h : cl.hosts) ASSERT_TRUE(same_points(h.http, x->http, "docs")) << h.id;

  recreate(x->http, kCollection);
  expect_new_and_empty(cl, 4);
  // Writes through every host (a follower names the leader) are taken within seconds.
  std::set<uint64_t> want;
  for (uint64_t i = 0; i < cl.hosts.size(); ++i) {
    uint64_t from = 1000 + 100 * i;
    EXPECT_TRUE(write_until_acknowledged(cl.hosts[i].http, from, from + 10, 4))
        << "a write through " << cl.hosts[i].id << " after the re-create";
    auto more = range(from, from + 10);
    want.insert(more.begin(), more.end());
  }
  expect_exactly(cl, want);
}

TEST(CollectionRecreate, ThroughAFollowerEveryHostTakesTheNewConfigurationAndOnlyNewPoints) {
  ASSERT_FALSE(test::etcd_process::binary().empty()) << "make deps installs etcd-server";
  test::tmpdir dir;
  cluster cl(dir, 3);
  host* x = cl.start_with("docs", kCollection);
  ASSERT_NE(x, nullptr);
  host* f = follower_of(cl, x);
  ASSERT_EQ(write(x->http, points(1, 101, 4)).status, 200u);
  for (auto& h : cl.hosts) ASSERT_TRUE(same_points(h.http, x->http, "docs")) << h.id;

  // Another vector size, then the first configuration again.
  recreate(f->http, kSize8);
  expect_new_and_empty(cl, 8);
  ASSERT_TRUE(write_until_acknowledged(f->http, 5000, 5050, 8));
  expect_exactly(cl, range(5000, 5050));

  recreate(f->http, kCollection);
  expect_new_and_empty(cl, 4);
  ASSERT_TRUE(write_until_acknowledged(f->http, 7000, 7050, 4));
  expect_exactly(cl, range(7000, 7050));
}

TEST(CollectionRecreate, RepeatedQuicklyUnderAWriterLeavesNoStalePoint) {
  ASSERT_FALSE(test::etcd_process::binary().empty()) << "make deps installs etcd-server";
  test::tmpdir dir;
  cluster cl(dir, 3);
  ASSERT_NE(cl.start_with("docs", kCollection), nullptr);

  // One writer goes round the hosts; each id is written once, in increasing order, and the
  // next write starts after the answer to the last.
  std::mutex mu;
  std::set<uint64_t> acked;
  std::atomic<uint64_t> next{1};
  std::atomic<uint64_t> answered_below{1};  // every write of a lower id has been answered
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (size_t turn = 0; !stop; ++turn) {
      uint64_t from = next.fetch_add(5);
      if (write(cl.hosts[turn % cl.hosts.size()].http, points(from, from + 5, 4)).status == 200) {
        std::lock_guard l(mu);
        for (uint64_t i = from; i < from + 5; ++i) acked.insert(i);
      }
      answered_below = from + 5;
    }
  });
  uint64_t stale_below = 0;  // written before the last drop was sent: must be gone everywhere
  for (int round = 0; round < 5; ++round) {
    std::this_thread::sleep_for(300ms);
    stale_below = answered_below.load();
    recreate(cl.hosts[round % cl.hosts.size()].http, kCollection);
  }
  const uint64_t fresh_from = next.load();  // written after the last re-create returned
  auto fresh_acked = [&] {
    std::lock_guard l(mu);
    return std::count_if(acked.begin(), acked.end(), [&](uint64_t id) { return id >= fresh_from; });
  };
  auto until = std::chrono::steady_clock::now() + 10s;
  while (fresh_acked() < 50 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(20ms);
  }
  stop = true;
  writer.join();
  std::set<uint64_t> fresh;
  for (auto id : acked) {
    if (id >= fresh_from) fresh.insert(id);
  }
  ASSERT_GE(fresh.size(), 50u) << "the last collection took writes";
  for (auto& h : cl.hosts) {
    ASSERT_TRUE(same_points(h.http, cl.hosts[0].http, "docs")) << h.id << " did not converge";
    auto have = ids(h.http, "docs");
    for (auto id : fresh) EXPECT_TRUE(have.count(id)) << h.id << " lacks acknowledged " << id;
    size_t stale =
        std::count_if(have.begin(), have.end(), [&](uint64_t id) { return id < stale_below; });
    EXPECT_EQ(stale, 0u) << h.id << " holds points written before the last drop";
  }
}

TEST(CollectionRecreate, AReplicationRequestOfAnotherIncarnationChangesNothing) {
  ASSERT_FALSE(test::etcd_process::binary().empty()) << "make deps installs etcd-server";
  test::tmpdir dir;
  cluster cl(dir, 3);
  host* x = cl.start_with("docs", kCollection);
  ASSERT_NE(x, nullptr);
  host* f = follower_of(cl, x);
  ASSERT_EQ(write(x->http, points(1, 11, 4)).status, 200u);
  // The follower's copy names its incarnation in its collection.json.
  uint64_t incarnation = 0;
  {
    simdjson::dom::parser p;
    auto json = simdjson::padded_string::load(
        (dir.path() / f->id / "collections" / "docs" / "collection.json").string());
    ASSERT_EQ(json.error(), simdjson::SUCCESS);
    ASSERT_EQ(p.parse(json.value())["incarnation"].get(incarnation), simdjson::SUCCESS);
    ASSERT_GT(incarnation, 0u);
  }
  // A leader of another incarnation, in a much later term: the follower would otherwise follow
  // that term and refuse its real leader's log.
  rpc::client_options o;
  o.host = "127.0.0.1";
  o.port = f->rpc;
  o.request_timeout = 5s;
  rpc::sync_client rc(o);
  for (uint32_t shard = 0; shard < 2; ++shard) {
    auto answer = rc.call(repl::method::position,
                          repl::encode(repl::shard_ref{"docs", shard, 1000, incarnation + 1}));
    ASSERT_FALSE(answer) << "shard " << shard << " took a request of another incarnation";
    EXPECT_EQ(answer.error().code, rpc::status::not_found);
    EXPECT_NE(answer.error().message.find("dropped and created again"), std::string::npos)
        << answer.error().message;
  }
  ASSERT_EQ(write(x->http, points(11, 21, 4)).status, 200u);
  EXPECT_TRUE(same_points(f->http, x->http, "docs"));
  EXPECT_EQ(ids(f->http, "docs").size(), 21u);  // with the probe point of start_with
}

}  // namespace
}  // namespace shoal
