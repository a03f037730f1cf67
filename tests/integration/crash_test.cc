// Crash safety of one node (issue #4): writers upsert and delete with `local` durability while
// shoald is SIGKILLed at random moments; after each restart every acknowledged write must be
// there (and every acknowledged delete gone), and every point present must be whole: its vector
// and its payload from one single write, never a mix.
//
// SHOAL_CRASH_ROUNDS (default 10) sets the number of kill/restart rounds.
#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "tests/integration/shoald_fixture.h"

namespace shoal {
namespace {

using namespace std::chrono_literals;
using boost::beast::http::verb;

constexpr int kDim = 8;

std::vector<float> vector_for(uint64_t id, uint64_t version) {
  std::mt19937 rng(static_cast<uint32_t>(id * 7919 + version));
  std::uniform_real_distribution<float> d(-1, 1);
  std::vector<float> v(kDim);
  for (auto& x : v) x = d(rng);
  return v;
}

std::string point_json(uint64_t id, uint64_t version) {
  std::string s = "{\"id\":" + std::to_string(id) + ",\"vector\":[";
  auto v = vector_for(id, version);
  for (int i = 0; i < kDim; ++i) s += (i ? "," : "") + std::to_string(v[i]);
  s += "],\"payload\":{\"version\":" + std::to_string(version) + ",\"text\":\"point " +
       std::to_string(id) + " version " + std::to_string(version) + "\"}}";
  return s;
}

/// What a point should be: its last acknowledged state, and whether a later write was in flight
/// when the server died (then either state is acceptable).
struct expectation {
  std::optional<uint64_t> acked;  // version; nullopt = deleted (or never acked)
  bool acked_known = false;
  std::optional<std::optional<uint64_t>> pending;  // in-flight state, if any
};

class model {
 public:
  void acked(uint64_t id, std::optional<uint64_t> version) {
    std::lock_guard l(mu_);
    auto& e = points_[id];
    e.acked = version;
    e.acked_known = true;
    e.pending.reset();
  }
  void pending(uint64_t id, std::optional<uint64_t> version) {
    std::lock_guard l(mu_);
    points_[id].pending = version;
  }
  /// After a restart, what the server says settles any pending write.
  void settle(uint64_t id, std::optional<uint64_t> observed) {
    std::lock_guard l(mu_);
    auto& e = points_[id];
    e.acked = observed;
    e.acked_known = true;
    e.pending.reset();
  }
  std::map<uint64_t, expectation> snapshot() {
    std::lock_guard l(mu_);
    return points_;
  }

 private:
  std::mutex mu_;
  std::map<uint64_t, expectation> points_;
};

void writer(uint16_t port, int w, std::atomic<bool>& stop, model& m,
            std::atomic<uint64_t>& next_version, std::atomic<int>& acks) {
  std::mt19937 rng(static_cast<uint32_t>(w * 101 + next_version.load()));
  try {
    test::http_client c(port, 10s);
    std::vector<uint64_t> mine;
    while (!stop.load()) {
      if (!mine.empty() && rng() % 5 == 0) {
        // Delete one of my points.
        uint64_t id = mine[rng() % mine.size()];
        m.pending(id, std::nullopt);
        auto r = c.request(verb::post, "/collections/crash/points/delete?wait=true",
                           "{\"points\":[" + std::to_string(id) + "]}");
        if (r.status != 200) throw std::runtime_error(r.body);
        m.acked(id, std::nullopt);
        ++acks;
        continue;
      }
      // Upsert a batch: new points and new versions of old ones.
      std::string body = "{\"points\":[";
      std::vector<std::pair<uint64_t, uint64_t>> batch;
      int n = 1 + static_cast<int>(rng() % 20);
      for (int i = 0; i < n; ++i) {
        uint64_t id = (!mine.empty() && rng() % 3 == 0) ? mine[rng() % mine.size()]
                                                        : (uint64_t(w) << 32) | (rng() % 1000000);
        uint64_t version = next_version.fetch_add(1);
        bool dup = false;
        for (auto& [bid, bv] : batch) dup |= bid == id;
        if (dup) continue;
        batch.emplace_back(id, version);
        body += (batch.size() > 1 ? "," : "") + point_json(id, version);
      }
      body += "]}";
      for (auto& [id, version] : batch) m.pending(id, version);
      auto r = c.request(verb::put, "/collections/crash/points?wait=true", body);
      if (r.status != 200) throw std::runtime_error(r.body);
      for (auto& [id, version] : batch) {
        m.acked(id, version);
        mine.push_back(id);
      }
      ++acks;
    }
  } catch (const std::exception&) {
    // The server died mid-request: whatever was pending stays pending.
  }
}

/// Checks the server against the model; settles pending writes by what the server shows.
void verify(uint16_t port, model& m) {
  auto points = m.snapshot();
  std::vector<uint64_t> ids;
  for (auto& [id, e] : points) ids.push_back(id);
  test::http_client c(port, 30s);
  simdjson::dom::parser parser;
  size_t checked = 0;
  for (size_t at = 0; at < ids.size(); at += 500) {
    std::string body = "{\"with_payload\":true,\"with_vector\":true,\"ids\":[";
    for (size_t i = at; i < std::min(ids.size(), at + 500); ++i) {
      body += (i > at ? "," : "") + std::to_string(ids[i]);
    }
    body += "]}";
    auto r = c.request(verb::post, "/collections/crash/points", body);
    ASSERT_EQ(r.status, 200u) << r.body;
    std::map<uint64_t, uint64_t> found;  // id -> version
    auto doc = parser.parse(r.body);
    ASSERT_EQ(doc.error(), simdjson::SUCCESS);
    for (auto p : doc["result"].get_array()) {
      uint64_t id = uint64_t(p["id"]);
      uint64_t version = uint64_t(p["payload"]["version"]);
      std::string text{std::string_view(p["payload"]["text"])};
      ASSERT_EQ(text, "point " + std::to_string(id) + " version " + std::to_string(version))
          << "a payload mixed from two writes";
      auto want = vector_for(id, version);
      size_t i = 0;
      for (auto x : p["vector"].get_array()) {
        ASSERT_NEAR(double(x), want[i++], 1e-5)
            << "point " << id << " has a vector from another write";
      }
      found[id] = version;
    }
    for (size_t i = at; i < std::min(ids.size(), at + 500); ++i) {
      uint64_t id = ids[i];
      auto& e = points[id];
      std::optional<uint64_t> seen;
      if (auto it = found.find(id); it != found.end()) seen = it->second;
      bool ok = (e.acked_known && seen == e.acked) || (e.pending && seen == *e.pending) ||
                (!e.acked_known && !seen);
      ASSERT_TRUE(ok) << "point " << id << ": acknowledged "
                      << (e.acked ? std::to_string(*e.acked) : std::string("absent")) << ", found "
                      << (seen ? std::to_string(*seen) : std::string("absent"));
      m.settle(id, seen);
      ++checked;
    }
  }
  EXPECT_EQ(checked, ids.size());
}

TEST(Crash, AcknowledgedWritesSurviveSigkillAndNothingIsHalfApplied) {
  int rounds = 10;
  if (const char* r = std::getenv("SHOAL_CRASH_ROUNDS")) rounds = std::atoi(r);
  test::tmpdir dir;
  // Small segments and frequent snapshots, so crashes also hit rolls and snapshots.
  test::shoald_instance server(
      dir / "data", dir.path(),
      {"--storage.log-segment-bytes", "64KiB", "--storage.snapshot-log-bytes", "256KiB"});
  ASSERT_TRUE(server.start()) << server.log();
  {
    test::http_client c(server.port());
    auto r = c.request(
        verb::put, "/collections/crash",
        R"({"vectors": {"size": 8, "distance": "Euclid", "index": "flat"}, "shard_number": 4})");
    ASSERT_EQ(r.status, 200u) << r.body;
  }
  model m;
  std::atomic<uint64_t> next_version{1};
  std::mt19937 rng(20261122);
  int total_acks = 0;
  for (int round = 0; round < rounds; ++round) {
    std::atomic<bool> stop{false};
    std::atomic<int> acks{0};
    std::vector<std::thread> writers;
    for (int w = 0; w < 4; ++w) {
      writers.emplace_back(writer, server.port(), round * 4 + w, std::ref(stop), std::ref(m),
                           std::ref(next_version), std::ref(acks));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100 + rng() % 400));
    server.kill();  // SIGKILL: no shutdown, no final snapshot
    stop = true;
    for (auto& t : writers) t.join();
    total_acks += acks.load();
    ASSERT_TRUE(server.start()) << "round " << round << ": restart failed\n" << server.log();
    verify(server.port(), m);
    if (HasFatalFailure()) {
      ADD_FAILURE() << "round " << round << "\n" << server.log();
      return;
    }
  }
  EXPECT_GT(total_acks, rounds * 5) << "the writers must actually have written";
  std::printf("%d kill/restart rounds, %d acknowledged writes, %zu points tracked\n", rounds,
              total_acks, m.snapshot().size());
  EXPECT_EQ(server.stop(), 0);
}

}  // namespace
}  // namespace shoal
