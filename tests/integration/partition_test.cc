// Network partitions (issue #7): three shoald hosts, each in its own Linux network namespace,
// and etcd in the root namespace on the bridge that joins them (tests/support/netns.h). A host
// is cut off from etcd and from its peers by taking its link to the bridge down, while this test
// still reaches it over a separate control link. Unlike failover_test's SIGSTOP, a partitioned
// leader keeps running and keeps being sent writes the whole time, so these tests see exactly
// when it stops acknowledging them compared with when its successor exists.
//
// - An isolated leader acknowledges nothing sent after its leader key left etcd (or after its
//   successor acknowledged a write, whichever is seen first); every replicated write either
//   leader acknowledged survives; healed, it follows the new leader and holds exactly its points,
//   none of what it was sent while cut off.
// - An isolated follower does not disturb the leader (same term, every write acknowledged with
//   min-acks 1 of 2 followers), takes no write itself, and converges once healed.
//
// Skipped with the reason when not run as root or without iproute2 (CI runs as root).
#include <atomic>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "engine/common/base64.h"
#include "tests/integration/points_support.h"
#include "tests/integration/shoald_fixture.h"
#include "tests/support/etcd_process.h"
#include "tests/support/netns.h"

namespace shoal {
namespace {

using namespace std::chrono_literals;
using boost::beast::http::verb;
using clock_type = std::chrono::steady_clock;
using test::points_body;

const char* kCollection = R"({"vectors":{"size":4,"distance":"Cosine"},"shard_number":2})";
const std::string kName = "docs";
constexpr uint64_t kIdsPerWrite = 4;  // a few ids, so that most writes reach both shards

double seconds_between(clock_type::time_point from, clock_type::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

struct host {
  std::string id;
  size_t index = 0;
  std::string address;  // its control address: how this test reaches it, partitioned or not
  uint16_t http = 0;
  std::unique_ptr<test::shoald_instance> proc;
};

/// One write and what became of it. `status` is 0 when no answer came (connection failure or
/// the client's timeout): its outcome is unknown. `refusal` is the body of a non-200 answer.
struct write_record {
  uint64_t first_id = 0;
  uint64_t count = 0;
  clock_type::time_point sent, answered;
  unsigned status = 0;
  std::string refusal;
  bool acknowledged() const { return status == 200; }
};

/// A single write of ids [first_id, first_id + count) to `h`.
write_record write_points(const host& h, uint64_t first_id, uint64_t count,
                          const std::string& durability, std::chrono::milliseconds timeout = 3s) {
  write_record w;
  w.first_id = first_id;
  w.count = count;
  w.sent = clock_type::now();
  try {
    test::http_client c(h.http, timeout, h.address);
    w.sent = clock_type::now();  // after connecting: from here the write is in shoald's hands
    auto r =
        c.request(verb::put, "/collections/" + kName + "/points?wait=true&durability=" + durability,
                  points_body(first_id, first_id + count));
    w.status = r.status;
    if (r.status != 200) w.refusal = r.body;
  } catch (const std::exception&) {
    w.status = 0;
  }
  w.answered = clock_type::now();
  return w;
}

/// Every id `h` holds (points_support.h's ids() for a host that is not on loopback): scrolls
/// and checks each point is whole (payload n == id).
std::set<uint64_t> ids(const host& h) {
  std::set<uint64_t> out;
  test::http_client c(h.http, 10s, h.address);
  std::string offset = "null";
  for (;;) {
    auto r = c.request(verb::post, "/collections/" + kName + "/points/scroll",
                       R"({"limit":2000,"with_payload":true,"offset":)" + offset + "}");
    if (r.status != 200) throw std::runtime_error(h.id + " scroll: " + r.body);
    simdjson::dom::parser p;
    auto doc = p.parse(r.body);
    for (auto pt : simdjson::dom::array(doc["result"]["points"])) {
      uint64_t id = pt["id"];
      EXPECT_EQ(uint64_t(pt["payload"]["n"]), id) << "point " << id << " on " << h.id;
      out.insert(id);
    }
    auto next = doc["result"]["next_page_offset"];
    if (next.is_null()) return out;
    offset = std::to_string(uint64_t(next));
  }
}

/// Writes to `h` from a thread, one after another, until stopped; each write gets ids of its
/// own (from `first_id` on), so where each one ended up can be checked afterwards.
class writer {
 public:
  writer(const host& h, std::string durability, uint64_t first_id)
      : thread_([this, &h, durability = std::move(durability), first_id] {
          for (uint64_t id = first_id; !stop_; id += kIdsPerWrite) {
            auto w = write_points(h, id, kIdsPerWrite, durability);
            std::lock_guard l(mu_);
            records_.push_back(w);
            // A short pause leaves the two cores (three hosts, etcd, the test) room to breathe.
            std::this_thread::sleep_for(5ms);
          }
        }) {}
  ~writer() { stop(); }
  std::vector<write_record> stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    return records_;
  }

 private:
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<write_record> records_;
  std::thread thread_;  // last: it starts once the members above exist
};

/// etcd's leader key for kName (replication/election.h): {"node": ID, "term": N} on the
/// leader's lease, so it vanishes when that lease expires in etcd.
struct leader_key {
  std::string node;
  uint64_t term = 0;
};

std::optional<leader_key> read_leader_key(const test::etcd_process& etcd) {
  test::http_client c(etcd.port(), 2s, etcd.host());
  auto r = c.request(verb::post, "/v3/kv/range",
                     R"({"key":")" + base64_encode("/shoal/leaders/" + kName) + R"("})");
  if (r.status != 200) throw std::runtime_error("etcd range: " + r.body);
  simdjson::dom::parser p;
  auto doc = p.parse(r.body);
  simdjson::dom::array kvs;
  if (doc["kvs"].get_array().get(kvs) != simdjson::SUCCESS || kvs.size() == 0) {
    return std::nullopt;
  }
  auto value = base64_decode(std::string_view(kvs.at(0)["value"]));
  if (!value) throw std::runtime_error("etcd value is not base64: " + r.body);
  simdjson::dom::parser vp;
  auto v = vp.parse(*value);
  return leader_key{std::string(std::string_view(v["node"])), uint64_t(v["term"])};
}

/// Reads the leader key every 10 ms from a thread and notes the first moment it no longer
/// names `holder` in `term`. That moment bounds when the holder's lease certainly ended in etcd
/// (the key is on it): the holder must acknowledge nothing sent after it.
class leader_key_watch {
 public:
  leader_key_watch(const test::etcd_process& etcd, leader_key holder)
      : thread_([this, &etcd, holder = std::move(holder)] {
          while (!stop_) {
            try {
              auto now_key = read_leader_key(etcd);
              auto seen = clock_type::now();
              std::lock_guard l(mu_);
              if (!changed_at_ &&
                  (!now_key || now_key->node != holder.node || now_key->term != holder.term)) {
                changed_at_ = seen;
              }
              if (now_key && now_key->term != holder.term && !successor_) successor_ = now_key;
            } catch (const std::exception&) {
              // etcd busy: read again
            }
            std::this_thread::sleep_for(10ms);
          }
        }) {}
  ~leader_key_watch() {
    stop_ = true;
    thread_.join();
  }
  std::optional<clock_type::time_point> changed_at() {
    std::lock_guard l(mu_);
    return changed_at_;
  }
  std::optional<leader_key> successor() {
    std::lock_guard l(mu_);
    return successor_;
  }

 private:
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::optional<clock_type::time_point> changed_at_;
  std::optional<leader_key> successor_;
  std::thread thread_;  // last: it starts once the members above exist
};

class Partition : public ::testing::Test {
 protected:
  /// Creates the network and starts etcd and three hosts with `extra` flags; skips the test when
  /// this machine cannot create network namespaces.
  void start_cluster(const std::vector<std::string>& extra) {
    ASSERT_FALSE(test::etcd_process::binary().empty()) << "make deps installs etcd-server";
    if (auto why = test::netns_network::unavailable_reason()) GTEST_SKIP() << *why;
    try {
      net_ = std::make_unique<test::netns_network>(dir_.path() / "net", 3);
    } catch (const std::exception& e) {
      GTEST_SKIP() << "cannot create network namespaces here: " << e.what();
    }
    etcd_ = std::make_unique<test::etcd_process>(dir_.path() / "etcd", net_->etcd_address());
    for (size_t i = 0; i < net_->hosts(); ++i) {
      host h;
      h.id = "n" + std::to_string(i);
      h.index = i;
      h.address = net_->control_address(i);
      // Every host has a namespace to itself, so any fixed ports will do.
      h.http = 6333;
      const uint16_t rpc = 6335;
      auto logs = dir_.path() / ("logs-" + h.id);
      std::filesystem::create_directories(logs);
      std::vector<std::string> args{"--node-id",
                                    h.id,
                                    "--etcd",
                                    etcd_->endpoint(),
                                    "--advertise",
                                    net_->data_address(i) + ":" + std::to_string(rpc),
                                    "--replication.lease-ttl",
                                    "1s"};
      args.insert(args.end(), extra.begin(), extra.end());
      h.proc = std::make_unique<test::shoald_instance>(dir_.path() / h.id, logs, args);
      h.proc->set_ports(h.http, rpc);
      h.proc->set_listen_host("0.0.0.0");  // the data link for peers, the control link for us
      h.proc->set_launcher(net_->exec_prefix(i));
      hosts_.push_back(std::move(h));
    }
    for (auto& h : hosts_) {
      ASSERT_TRUE(h.proc->start()) << h.id << " did not start:\n" << h.proc->log();
    }
    test::http_client c(hosts_[0].http, 10s, hosts_[0].address);
    auto r = c.request(verb::put, "/collections/" + kName, kCollection);
    ASSERT_EQ(r.status, 200u) << r.body;
    for (auto& h : hosts_) {  // the schema reaches every host through etcd
      bool seen = false;
      for (int i = 0; i < 200 && !seen; ++i) {
        test::http_client hc(h.http, 10s, h.address);
        seen = hc.request(verb::get, "/collections/" + kName).status == 200;
        if (!seen) std::this_thread::sleep_for(50ms);
      }
      ASSERT_TRUE(seen) << "the collection did not reach " << h.id;
    }
  }

  void TearDown() override {
    // Processes first: a namespace is only gone once nothing runs in it.
    for (auto& h : hosts_) {
      if (h.proc->process()) h.proc->kill();
    }
    hosts_.clear();
    etcd_.reset();
    net_.reset();
  }

  /// The host (other than `except`) that acknowledges a write now, or null. Each probe writes
  /// an id of its own (next_probe_id_); the acknowledged ones are kept in probe_acks_.
  host* leader(const host* except = nullptr) {
    for (auto& h : hosts_) {
      if (&h == except) continue;
      auto w = write_points(h, next_probe_id_++, 1, "local", 2s);
      if (w.acknowledged()) {
        probe_acks_.push_back(w);
        return &h;
      }
    }
    return nullptr;
  }
  host* wait_leader(const host* except = nullptr, std::chrono::milliseconds within = 20s) {
    const auto deadline = clock_type::now() + within;
    while (clock_type::now() < deadline) {
      if (auto* h = leader(except)) return h;
      std::this_thread::sleep_for(10ms);
    }
    return nullptr;
  }

  /// Waits until `h` holds exactly the points `reference` holds; false after `within`.
  bool converges(const host& h, const host& reference, std::chrono::milliseconds within = 20s) {
    const auto deadline = clock_type::now() + within;
    while (clock_type::now() < deadline) {
      try {
        if (ids(h) == ids(reference)) return true;
      } catch (const std::exception&) {
        // still loading or refusing reads: ask again
      }
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }

  std::string logs() const {
    std::string out;
    for (auto& h : hosts_) out += "---- " + h.id + " ----\n" + h.proc->log();
    return out;
  }

  test::tmpdir dir_;
  std::unique_ptr<test::netns_network> net_;
  std::unique_ptr<test::etcd_process> etcd_;
  std::vector<host> hosts_;
  uint64_t next_probe_id_ = 900'000'000;
  std::vector<write_record> probe_acks_;
};

TEST_F(Partition, AnIsolatedLeaderStopsAcknowledgingBeforeItsSuccessorAndRejoinsAsAFollower) {
  // min-acks 2 of 2 followers: every replicated write is on the successor, whichever it is
  // (replication/README.md, "Choosing min-acks"); a short ack-timeout keeps the replicated
  // writer moving while the leader cannot reach its followers.
  start_cluster({"--replication.min-acks", "2", "--replication.ack-timeout", "2s"});
  if (IsSkipped() || HasFatalFailure()) return;
  host* old = wait_leader();
  ASSERT_NE(old, nullptr) << logs();
  for (uint64_t id = 1; id < 1000; id += 100) {
    auto w = write_points(*old, id, 100, "replicated", 10s);
    ASSERT_TRUE(w.acknowledged()) << "status " << w.status << "\n" << logs();
  }
  auto old_key = read_leader_key(*etcd_);
  ASSERT_TRUE(old_key && old_key->node == old->id) << "etcd names another leader";
  leader_key_watch watch(*etcd_, *old_key);

  // Two writers to the old leader across the partition. durability=local is what fencing
  // alone must stop: a leader that kept acknowledging after losing its lease would do it there.
  // durability=replicated is what must survive the failover.
  writer local_writer(*old, "local", 10'000'000);
  writer replicated_writer(*old, "replicated", 20'000'000);
  std::this_thread::sleep_for(500ms);
  net_->isolate(old->index);
  const auto cut = clock_type::now();

  host* next = wait_leader(old, 30s);
  ASSERT_NE(next, nullptr) << "no successor after the partition\n" << logs();
  const auto successor_acknowledged = probe_acks_.back().answered;
  // Keep writing to the old leader well past the takeover: it must refuse all of it.
  std::this_thread::sleep_for(1500ms);
  auto local = local_writer.stop();
  auto replicated = replicated_writer.stop();
  const auto key_changed = watch.changed_at();
  ASSERT_TRUE(key_changed.has_value()) << "etcd still names " << old->id;
  const auto successor_key = watch.successor();
  ASSERT_TRUE(successor_key && successor_key->node == next->id) << "etcd names another leader";
  // From here on the old leader certainly had no lease (or had a successor that wrote).
  const auto deposed = std::min(*key_changed, successor_acknowledged);

  size_t acknowledged_before_cut = 0, acknowledged_after_deposed = 0, refused_after_deposed = 0;
  size_t acknowledged_after_cut[2] = {0, 0};  // local, replicated
  auto last_acknowledged = cut;
  std::string first_violation;
  for (int replicated_writes = 0; replicated_writes < 2; ++replicated_writes) {
    for (const auto& w : replicated_writes ? replicated : local) {
      if (w.acknowledged() && w.answered < cut) acknowledged_before_cut++;
      if (w.acknowledged() && w.sent > cut) {
        acknowledged_after_cut[replicated_writes]++;
        last_acknowledged = std::max(last_acknowledged, w.answered);
      }
      if (w.sent <= deposed || w.status == 0) continue;
      if (!w.acknowledged()) {
        refused_after_deposed++;
      } else if (acknowledged_after_deposed++ == 0) {
        first_violation = "ids " + std::to_string(w.first_id) + "+, sent " +
                          std::to_string(seconds_between(deposed, w.sent)) + " s after";
      }
    }
  }
  EXPECT_EQ(acknowledged_after_deposed, 0u)
      << "the isolated leader " << old->id << " acknowledged writes sent after it was deposed ("
      << first_violation << ")\n"
      << logs();
  std::printf(
      "old leader %s (term %llu) cut off; its key left etcd %.2f s later; %s acknowledged a "
      "write in term %llu %.2f s after the cut. After the cut the old leader acknowledged %zu "
      "local and %zu replicated writes, the last %.2f s after the cut, and refused %zu sent "
      "after it was deposed\n",
      old->id.c_str(), static_cast<unsigned long long>(old_key->term),
      seconds_between(cut, *key_changed), next->id.c_str(),
      static_cast<unsigned long long>(successor_key->term),
      seconds_between(cut, successor_acknowledged), acknowledged_after_cut[0],
      acknowledged_after_cut[1], seconds_between(cut, last_acknowledged), refused_after_deposed);
  EXPECT_GT(acknowledged_before_cut, 0u) << "the writers never reached the leader";
  EXPECT_GT(refused_after_deposed, 0u)
      << "the isolated leader answered no write after it was deposed: nothing was tested";

  // Healed, it follows: it refuses writes with "misdirected" (never acknowledges one) and ends
  // up with exactly the successor's points.
  net_->heal(old->index);
  const auto healed = clock_type::now();
  unsigned status = 0;
  while (status != 421 && clock_type::now() - healed < 20s) {
    status = write_points(*old, next_probe_id_++, 1, "local", 2s).status;
    ASSERT_NE(status, 200u) << "the old leader acknowledged a write after the heal\n" << logs();
    if (status != 421) std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(status, 421u) << old->id << " does not follow " << next->id << "\n" << logs();
  for (auto& h : hosts_) {
    EXPECT_TRUE(converges(h, *next)) << h.id << " did not converge to " << next->id << "\n"
                                     << logs();
  }
  std::printf("healed: %s follows %s after %.2f s\n", old->id.c_str(), next->id.c_str(),
              seconds_between(healed, clock_type::now()));

  // Every replicated write the old leader acknowledged, and every write its successor
  // acknowledged, is on every host; nothing the old leader was sent after the cut is anywhere:
  // it never reached a peer, and the old leader cut it from its own log when it rejoined.
  std::vector<write_record> must_survive = probe_acks_;
  for (const auto& w : replicated) {
    if (w.acknowledged()) must_survive.push_back(w);
  }
  for (auto& h : hosts_) {
    auto have = ids(h);
    size_t lost = 0, leaked = 0;
    for (const auto& w : must_survive) {
      for (uint64_t id = w.first_id; id < w.first_id + w.count; ++id) {
        lost += have.count(id) ? 0 : 1;
      }
    }
    for (const auto* records : {&local, &replicated}) {
      for (const auto& w : *records) {
        if (w.sent <= cut) continue;
        for (uint64_t id = w.first_id; id < w.first_id + w.count; ++id) leaked += have.count(id);
      }
    }
    EXPECT_EQ(lost, 0u) << h.id << " lacks acknowledged points";
    EXPECT_EQ(leaked, 0u) << h.id << " holds points the isolated leader was sent after the cut";
  }
}

TEST_F(Partition, AnIsolatedFollowerDoesNotDisturbTheLeaderAndCatchesUpWhenHealed) {
  // min-acks 1: the other follower is enough to acknowledge every write.
  start_cluster({"--replication.min-acks", "1", "--replication.ack-timeout", "5s"});
  if (IsSkipped() || HasFatalFailure()) return;
  host* lead = wait_leader();
  ASSERT_NE(lead, nullptr) << logs();
  host* isolated = &hosts_[(lead->index + 1) % hosts_.size()];
  auto key = read_leader_key(*etcd_);
  ASSERT_TRUE(key && key->node == lead->id);
  leader_key_watch watch(*etcd_, *key);

  writer replicated_writer(*lead, "replicated", 40'000'000);
  std::this_thread::sleep_for(500ms);
  net_->isolate(isolated->index);
  const auto cut = clock_type::now();
  // Long enough for the isolated host's lease to expire in etcd (1 s, granted as 2 s) and for
  // its peers to notice; meanwhile it is sent writes too, which it must not acknowledge.
  size_t refused_by_isolated = 0;
  while (clock_type::now() - cut < 4s) {
    auto w = write_points(*isolated, 50'000'000 + refused_by_isolated * kIdsPerWrite, kIdsPerWrite,
                          "local", 2s);
    ASSERT_FALSE(w.acknowledged()) << "the isolated follower acknowledged a write\n" << logs();
    refused_by_isolated++;
    std::this_thread::sleep_for(100ms);
  }
  net_->heal(isolated->index);
  const auto healed = clock_type::now();
  std::this_thread::sleep_for(1s);
  auto records = replicated_writer.stop();

  EXPECT_FALSE(watch.changed_at().has_value())
      << "leadership moved although only a follower was cut off\n"
      << logs();
  size_t during = 0, acknowledged_during = 0;
  std::string first_refusal;
  for (const auto& w : records) {
    if (w.sent <= cut || w.answered >= healed) continue;
    during++;
    if (w.acknowledged()) {
      acknowledged_during++;
    } else if (first_refusal.empty()) {
      first_refusal = "ids " + std::to_string(w.first_id) + "+, sent " +
                      std::to_string(seconds_between(cut, w.sent)) +
                      " s after the cut: " + std::to_string(w.status) + " " + w.refusal;
    }
  }
  std::printf("follower %s cut off for %.2f s: the leader acknowledged %zu of %zu writes\n",
              isolated->id.c_str(), seconds_between(cut, healed), acknowledged_during, during);
  EXPECT_GT(during, 0u);
  // When the isolated host's lease expires, the leader replaces its replicators with ones that
  // ship to the remaining hosts (cluster_agent.cc, apply_role); a write waiting for its
  // acknowledgement at that moment must not fail because of it: one follower still holds it.
  EXPECT_EQ(acknowledged_during, during)
      << "with one follower away the leader refused writes (" << first_refusal << ")\n"
      << logs();

  EXPECT_TRUE(converges(*isolated, *lead)) << logs();
  auto have = ids(*isolated);
  size_t lost = 0;
  for (const auto& w : records) {
    if (!w.acknowledged()) continue;
    for (uint64_t id = w.first_id; id < w.first_id + w.count; ++id) {
      lost += have.count(id) ? 0 : 1;
    }
  }
  EXPECT_EQ(lost, 0u) << isolated->id << " lacks acknowledged points after the heal";
  for (uint64_t id : have) {
    EXPECT_FALSE(id >= 50'000'000u && id < 60'000'000u) << "a refused write survived: " << id;
  }
}

}  // namespace
}  // namespace shoal
