// Replication safety (issue #17): each test builds one of the fault sequences that used to lose
// or fork acknowledged writes, with real shoald processes and a real etcd on loopback, and
// checks the outcome the safety argument in replication/README.md promises.
//
//   * min-acks never shrinks to the followers that happen to be registered (503 naming them);
//   * a position left in etcd from an earlier vacancy never wins an election;
//   * a winner that cannot take what another holder published steps aside instead of leading;
//   * a graceful stop (SIGTERM) of a leader loses no write it acknowledged at `local`;
//   * read=leader on a leader that can no longer prove its lease is refused, not stale;
//   * a winner whose shard cannot lead (disk full) gives the leadership up;
//   * a slow etcd (300 ms an answer) does not close a healthy leader's fence;
//   * a handoff whose answer is lost keeps the old leader's fence closed until etcd answers.
#include <atomic>
#include <fstream>
#include <sys/mount.h>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include "engine/common/base64.h"
#include "tests/integration/etcd_cluster.h"

namespace shoal {
namespace {

using namespace std::chrono_literals;
using namespace test::coordinated;
using boost::beast::http::verb;
using test::ids;
using test::points_body;

const char* kOneShard = R"({"vectors":{"size":4,"distance":"Cosine"},"shard_number":1})";

host& by_id(cluster& cl, const std::string& id) {
  for (auto& h : cl.hosts) {
    if (h.id == id) return h;
  }
  throw std::runtime_error("no host " + id);
}

/// Moves the leadership of docs to `to` by hand (a handoff: no vacancy, nothing lost).
bool lead_on(cluster& cl, host& to) {
  auto* now = cl.wait_leader("docs");
  if (now == &to) return true;
  test::http_client c(to.http, 20s);
  auto r = c.request(verb::post, "/cluster/failover?timeout=10",
                     R"({"collection":"docs","to":")" + to.id + R"("})");
  if (r.status != 200) {
    ADD_FAILURE() << "failover to " << to.id << ": " << r.status << " " << r.body;
    return false;
  }
  return cl.wait_leader("docs") == &to;
}

int put(uint16_t port, uint64_t from, uint64_t to, const char* durability) {
  try {
    test::http_client c(port, 15s);
    return static_cast<int>(
        c.request(verb::put,
                  std::string("/collections/docs/points?wait=true&durability=") + durability,
                  points_body(from, to))
            .status);
  } catch (const std::exception&) {
    return 0;
  }
}

bool leader_key_present(cluster& cl) {
  return etcd_keys(cl.etcd, "/shoal/leaders/").count("/shoal/leaders/docs") > 0;
}

bool wait_vacant(cluster& cl, std::chrono::milliseconds within = 10s) {
  auto deadline = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!leader_key_present(cl)) return true;
    std::this_thread::sleep_for(2ms);
  }
  return false;
}

/// The end of every host's log, for a failure message.
std::string logs(cluster& cl) {
  std::string out;
  for (auto& h : cl.hosts) {
    auto log = h.proc->log();
    out += "\n--- " + h.id + " ---\n" + log.substr(log.size() > 6000 ? log.size() - 6000 : 0);
  }
  return out;
}

/// Counts the ids of [from, to) that the host at `port` lacks.
size_t lacking(uint16_t port, uint64_t from, uint64_t to) {
  auto have = ids(port, "docs");
  size_t n = 0;
  for (uint64_t i = from; i < to; ++i) n += have.count(i) ? 0 : 1;
  return n;
}

TEST(ReplicationSafety, MinAcksNeverShrinksToTheRegisteredFollowers) {
  ASSERT_FALSE(test::etcd_process::binary().empty()) << "make deps installs etcd-server";
  test::tmpdir dir;
  cluster cl(dir, 3, {"--replication.min-acks", "2", "--replication.ack-timeout", "3s"});
  host* leader = cl.start_with("docs", kOneShard);
  ASSERT_NE(leader, nullptr);
  ASSERT_EQ(put(leader->http, 1, 11, "replicated"), 200);
  host* dead = nullptr;
  for (auto& h : cl.hosts) {
    if (&h != leader) dead = &h;
  }
  dead->proc->kill();
  dead->up = false;
  // Once its lease lapses it is no longer registered: the leader has one follower left.
  auto deadline = std::chrono::steady_clock::now() + 15s;
  while (etcd_keys(cl.etcd, "/shoal/hosts/").count("/shoal/hosts/" + dead->id) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  std::this_thread::sleep_for(500ms);  // the leader's next poll sees the host list change
  test::http_client c(leader->http, 15s);
  auto r = c.request(verb::put, "/collections/docs/points?wait=true&durability=replicated",
                     points_body(100, 110));
  EXPECT_EQ(r.status, 503u) << r.body;
  EXPECT_NE(r.body.find(dead->id), std::string::npos) << "names the missing replica: " << r.body;
  EXPECT_EQ(lacking(leader->http, 100, 110), 10u) << "a refused write changes nothing";
  // A write that asks for less is taken.
  EXPECT_EQ(put(leader->http, 200, 210, "local"), 200);
  // With the host back, min-acks 2 is met again.
  ASSERT_TRUE(cl.start(*dead));
  bool ok = false;
  for (int i = 0; i < 100 && !ok; ++i) {
    ok = put(leader->http, 300, 310, "replicated") == 200;
    if (!ok) std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(ok);
}

// Scenario 1 of the review: min-acks 1, the only follower holding W (C) is slow to publish its
// position when the leader dies; the other follower (B) must not win on C's position from the
// previous vacancy, which does not show W.
TEST(ReplicationSafety, APositionFromAnEarlierVacancyNeverWinsTheElection) {
  ASSERT_FALSE(test::etcd_process::binary().empty()) << "make deps installs etcd-server";
  test::tmpdir dir;
  // C keeps its lease through a freeze longer than the others' TTL.
  cluster cl(dir, 3, {"--replication.min-acks", "1"}, {},
             {{"n2", {"--replication.lease-ttl", "8s"}}});
  ASSERT_NE(cl.start_with("docs", kOneShard), nullptr);
  host &a = by_id(cl, "n0"), &b = by_id(cl, "n1"), &c = by_id(cl, "n2");
  ASSERT_TRUE(lead_on(cl, a));
  // B misses W; C alone acknowledges it.
  b.proc->process()->signal(SIGSTOP);
  ASSERT_EQ(put(a.http, 1000, 1100, "replicated"), 200);
  a.proc->kill();
  a.up = false;
  c.proc->process()->signal(SIGSTOP);  // C has not seen the vacancy: its position is old
  b.proc->process()->signal(SIGCONT);
  ASSERT_TRUE(wait_vacant(cl));
  std::this_thread::sleep_for(800ms);  // B would campaign 300 ms into the vacancy
  c.proc->process()->signal(SIGCONT);
  host* next = cl.wait_leader("docs", 20s);
  ASSERT_NE(next, nullptr);
  EXPECT_EQ(lacking(next->http, 1000, 1100), 0u)
      << "the new leader " << next->id << " lacks acknowledged points";
  for (auto* h : {&b, &c}) {
    EXPECT_TRUE(same_points(h->http, next->http, "docs")) << h->id << " did not converge";
  }
  EXPECT_EQ(lacking(c.http, 1000, 1100), 0u) << "C's acknowledged records were cut";
}

// Scenario 2: the winner cannot take the records another holder published (that holder is
// frozen while its lease holds): it must step aside, and the holder leads when it wakes.
TEST(ReplicationSafety, AWinnerThatCannotTakeThePublishedRecordsStepsAside) {
  ASSERT_FALSE(test::etcd_process::binary().empty()) << "make deps installs etcd-server";
  test::tmpdir dir;
  cluster cl(dir, 3, {"--replication.min-acks", "1"}, {},
             {{"n2", {"--replication.lease-ttl", "10s"}}});
  ASSERT_NE(cl.start_with("docs", kOneShard), nullptr);
  host &a = by_id(cl, "n0"), &w = by_id(cl, "n1"), &h = by_id(cl, "n2");
  ASSERT_TRUE(lead_on(cl, a));
  w.proc->process()->signal(SIGSTOP);
  ASSERT_EQ(put(a.http, 2000, 2100, "replicated"), 200);
  const auto position_key = "/shoal/positions/docs/" + h.id;
  auto before = etcd_keys(cl.etcd, "/shoal/positions/")[position_key];
  a.proc->kill();
  a.up = false;
  w.proc->process()->signal(SIGCONT);
  ASSERT_TRUE(wait_vacant(cl));
  // H publishes its position for this vacancy, then freezes before it can campaign.
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (etcd_keys(cl.etcd, "/shoal/positions/")[position_key] == before &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  h.proc->process()->signal(SIGSTOP);
  ASSERT_NE(etcd_keys(cl.etcd, "/shoal/positions/")[position_key], before);
  // W campaigns once its wait for the better-placed H runs out, and cannot fetch from it.
  std::this_thread::sleep_for(5s);
  h.proc->process()->signal(SIGCONT);
  host* next = cl.wait_leader("docs", 20s);
  ASSERT_NE(next, nullptr);
  EXPECT_EQ(lacking(next->http, 2000, 2100), 0u)
      << "the new leader " << next->id << " lacks acknowledged points";
  EXPECT_TRUE(same_points(h.http, next->http, "docs"));
  EXPECT_EQ(lacking(h.http, 2000, 2100), 0u) << "H's acknowledged records were cut";
}

// Scenario 10: SIGTERM on a leader whose followers have not received its last `local` writes
// yet: it waits for a follower to hold them before it gives the leadership up.
TEST(ReplicationSafety, AGracefulStopOfTheLeaderLosesNoLocalWrite) {
  ASSERT_FALSE(test::etcd_process::binary().empty()) << "make deps installs etcd-server";
  test::tmpdir dir;
  cluster cl(dir, 3);
  host* leader = cl.start_with("docs", kOneShard);
  ASSERT_NE(leader, nullptr);
  std::vector<host*> followers;
  for (auto& h : cl.hosts) {
    if (&h != leader) followers.push_back(&h);
  }
  for (auto* f : followers) f->proc->process()->signal(SIGSTOP);
  ASSERT_EQ(put(leader->http, 3000, 3050, "local"), 200);
  std::optional<int> exit_code;
  std::thread stopper([&] { exit_code = leader->proc->stop(); });
  std::this_thread::sleep_for(300ms);
  for (auto* f : followers) f->proc->process()->signal(SIGCONT);
  stopper.join();
  leader->up = false;
  EXPECT_EQ(exit_code, std::optional<int>(0));
  host* next = cl.wait_leader("docs", 20s);
  ASSERT_NE(next, nullptr);
  EXPECT_EQ(lacking(next->http, 3000, 3050), 0u)
      << "the new leader " << next->id << " lacks points the stopped leader acknowledged";
}

// Scenario 11: a leader frozen past its lease wakes to find a successor; a read=leader sent to
// it must not be answered from its stale replica.
TEST(ReplicationSafety, ADeposedLeaderDoesNotServeReadLeader) {
  ASSERT_FALSE(test::etcd_process::binary().empty()) << "make deps installs etcd-server";
  test::tmpdir dir;
  cluster cl(dir, 3);
  host* old = cl.start_with("docs", kOneShard);
  ASSERT_NE(old, nullptr);
  ASSERT_EQ(put(old->http, 1, 2, "local"), 200);
  old->proc->process()->signal(SIGSTOP);
  old->up = false;
  host* next = cl.wait_leader("docs", 20s);
  ASSERT_NE(next, nullptr);
  ASSERT_EQ(put(next->http, 4000, 4010, "replicated"), 200);
  std::atomic<unsigned> status{0};
  std::string body;
  std::thread reader([&, port = old->http] {
    try {
      test::http_client c(port, 10s);
      auto r =
          c.request(verb::post, "/collections/docs/points/count?read=leader", R"({"exact":true})");
      body = r.body;
      status = r.status;
    } catch (const std::exception& e) {
      body = e.what();
    }
  });
  std::this_thread::sleep_for(100ms);  // the request waits in the frozen process's socket
  old->proc->process()->signal(SIGCONT);
  reader.join();
  old->up = true;
  // 307 to the new leader, or 503 while it cannot prove it leads: never its own stale count.
  EXPECT_TRUE(status == 307 || status == 503) << status << " " << body;
}

// Scenario 7: the winner's shard cannot take the leader role (its disk is full, so the term it
// starts cannot be recorded). It must give the key up rather than hold a collection nobody can
// write to; the other follower leads with what the first published.
TEST(ReplicationSafety, AWinnerWhoseShardCannotLeadStepsAside) {
  ASSERT_FALSE(test::etcd_process::binary().empty()) << "make deps installs etcd-server";
  test::tmpdir dir;
  cluster cl(dir, 3, {"--replication.min-acks", "1"});
  host &a = by_id(cl, "n0"), &b = by_id(cl, "n1"), &c = by_id(cl, "n2");
  auto mnt = dir.path() / c.id;
  std::filesystem::create_directories(mnt);
  if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=16m") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here (not root?)";
  }
  struct unmount {
    std::filesystem::path p;
    ~unmount() { ::umount2(p.c_str(), MNT_DETACH); }
  } guard{mnt};
  ASSERT_NE(cl.start_with("docs", kOneShard), nullptr);
  ASSERT_TRUE(lead_on(cl, a));
  // C alone holds W, so C is the host that should win.
  b.proc->process()->signal(SIGSTOP);
  ASSERT_EQ(put(a.http, 6000, 6100, "replicated"), 200);
  // C's disk fills up.
  {
    std::ofstream filler(mnt / "filler", std::ios::binary);
    std::string block(64 << 10, 'f');
    while (filler.write(block.data(), static_cast<std::streamsize>(block.size()))) {
      filler.flush();
    }
  }
  a.proc->kill();
  a.up = false;
  b.proc->process()->signal(SIGCONT);
  host* next = cl.wait_leader("docs", 20s);
  ASSERT_NE(next, nullptr) << "nobody takes writes while the winner cannot lead; " << logs(cl);
  EXPECT_EQ(next, &b);
  EXPECT_EQ(lacking(next->http, 6000, 6100), 0u)
      << "the new leader " << next->id << " lacks acknowledged points";
  std::filesystem::remove(mnt / "filler");
  EXPECT_TRUE(same_points(c.http, next->http, "docs"));
}

// Scenario 7 (terms): an etcd that lost its data grants terms from 1 again; the hosts elect a
// leader in a term newer than any their replicas have seen, and the collection stays writable.
TEST(ReplicationSafety, AnEtcdThatForgotItsTermsNeverMakesATermGoBackwards) {
  ASSERT_FALSE(test::etcd_process::binary().empty()) << "make deps installs etcd-server";
  test::tmpdir dir;
  cluster cl(dir, 3);
  host* leader = cl.start_with("docs", kOneShard);
  ASSERT_NE(leader, nullptr);
  ASSERT_EQ(put(leader->http, 5000, 5020, "replicated"), 200);
  // A few elections so the term is past 1.
  for (int i = 0; i < 2; ++i) {
    for (auto& h : cl.hosts) {
      if (&h != leader) {
        ASSERT_TRUE(lead_on(cl, h));
        leader = &h;
        break;
      }
    }
  }
  auto term_of = [&](const std::string& value) -> uint64_t {
    simdjson::dom::parser p;
    uint64_t t = 0;
    return p.parse(value)["term"].get(t) == simdjson::SUCCESS ? t : 0;
  };
  uint64_t before = term_of(etcd_keys(cl.etcd, "/shoal/leaders/")["/shoal/leaders/docs"]);
  ASSERT_GE(before, 3u);
  cl.etcd.kill(0);
  std::filesystem::remove_all(dir.path() / "etcd" / "m0" / "data");
  cl.etcd.restart(0);
  // The old leader may take writes until its lease lapses; the new etcd's leader is the one.
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!leader_key_present(cl) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  std::this_thread::sleep_for(2s);  // the old lease has lapsed by now
  host* next = cl.wait_leader("docs", 30s);
  ASSERT_NE(next, nullptr) << "no host takes writes after etcd lost its terms; " << logs(cl);
  uint64_t after = term_of(etcd_keys(cl.etcd, "/shoal/leaders/")["/shoal/leaders/docs"]);
  EXPECT_GT(after, before);
  EXPECT_EQ(lacking(next->http, 5000, 5020), 0u);
  for (auto& h : cl.hosts) {
    EXPECT_TRUE(same_points(h.http, next->http, "docs")) << h.id << " did not converge";
  }
}

// Scenario 8: every etcd answer takes 300 ms. The agent's poll is several calls in a row, so it
// takes seconds, but the lease is refreshed in time all along: a healthy leader must keep
// taking writes (its fence used to follow the lease only when a poll started, and closed).
TEST(ReplicationSafety, ASlowEtcdDoesNotCloseAHealthyLeadersFence) {
  ASSERT_FALSE(test::etcd_process::binary().empty()) << "make deps installs etcd-server";
  test::tmpdir dir;
  cluster cl(dir, 3, {}, etcd_options{.members = 3, .proxied = true});
  host* leader = cl.start_with("docs", kOneShard);
  ASSERT_NE(leader, nullptr);
  for (auto& p : cl.proxies) p->set_delay(300ms);  // every member is slow, none is silent
  std::this_thread::sleep_for(1s);
  std::map<int, int> statuses;
  auto until = std::chrono::steady_clock::now() + 6s;
  for (uint64_t id = 7000; std::chrono::steady_clock::now() < until; ++id) {
    statuses[put(leader->http, id, id + 1, "local")]++;
    std::this_thread::sleep_for(20ms);
  }
  for (auto& p : cl.proxies) p->pass();
  std::string seen;
  for (auto& [status, n] : statuses) seen += fmt::format(" {}x{}", n, status);
  EXPECT_EQ(statuses.size(), 1u) << "answers:" << seen;
  EXPECT_GT(statuses[200], 100) << "answers:" << seen;
}

// Scenario 5: the leader's handoff transaction is applied but its answer is lost, and etcd
// stays out of its reach for a second while the target takes over. (Against the old code this
// does not fail on loopback: the old leader's own streams hear of the newer term from its
// followers within a heartbeat and depose its shards; a full partition of the old leader, which
// the chaos suite's network namespaces can make, is what exposes the reopened fence.) The leader
// must not take writes again until etcd tells it what happened: the target may already lead (it
// reopened its fence and acknowledged writes the new leader never had).
TEST(ReplicationSafety, AHandoffWhoseAnswerIsLostKeepsTheFenceClosed) {
  ASSERT_FALSE(test::etcd_process::binary().empty()) << "make deps installs etcd-server";
  test::tmpdir dir;
  cluster cl(dir, 3, {"--replication.lease-ttl", "3s"},
             etcd_options{.members = 1, .proxied_per_host = true});
  host &a = by_id(cl, "n0"), &b = by_id(cl, "n1");
  // The other hosts reach A's RPC port through a proxy too: the test cuts A off from them and
  // from etcd, while they still reach etcd (the target takes over and cannot depose A at once).
  test::etcd_proxy rpc_proxy("127.0.0.1", a.rpc);
  a.proc = std::make_unique<test::shoald_instance>(
      dir.path() / a.id, dir.path() / ("logs-" + a.id),
      std::vector<std::string>{"--node-id", a.id, "--etcd", cl.host_proxies[0][0]->endpoint(),
                               "--advertise", "127.0.0.1:" + std::to_string(rpc_proxy.port()),
                               "--replication.lease-ttl", "3s"});
  a.proc->set_ports(a.http, a.rpc);
  ASSERT_NE(cl.start_with("docs", kOneShard), nullptr);
  ASSERT_TRUE(lead_on(cl, a));
  auto& proxy = *cl.host_proxies[0][0];  // only the old leader loses etcd
  const auto handoff_key = base64_encode("/shoal/handoff/docs");
  const auto term_key = base64_encode("/shoal/terms/docs");
  std::atomic<bool> dropped{false};
  proxy.drop_answer_when(
      [&](const test::etcd_proxy::request& r) {
        if (r.path != "/v3/kv/txn" || dropped) return false;
        if (r.body.find(handoff_key) == std::string::npos) return false;
        if (r.body.find(term_key) == std::string::npos)
          return false;  // the leader's move, not the ask
        dropped = true;
        rpc_proxy.set_blackhole(true);
        return true;
      },
      /*then_blackhole=*/true);  // and etcd goes silent for a while
  std::atomic<bool> writing{true};
  std::set<uint64_t> acked;
  std::mutex mu;
  std::thread writer([&] {
    for (uint64_t id = 8000; writing; ++id) {
      if (put(a.http, id, id + 1, "local") == 200) {
        std::lock_guard l(mu);
        acked.insert(id);
      }
      std::this_thread::sleep_for(5ms);
    }
  });
  std::thread asker([&] {
    try {
      test::http_client c(b.http, 30s);
      (void)c.request(verb::post, "/cluster/failover?timeout=10",
                      R"({"collection":"docs","to":")" + b.id + R"("})");
    } catch (const std::exception&) {
    }
  });
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!dropped && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  EXPECT_TRUE(dropped) << "the handoff transaction was never sent";
  // A asks etcd what happened and gets no answer (its request timeout is 1.5 s); before, it
  // then reopened its fence and took writes the new leader never saw.
  std::this_thread::sleep_for(2500ms);
  proxy.pass();
  std::this_thread::sleep_for(500ms);
  rpc_proxy.pass();
  std::this_thread::sleep_for(1500ms);
  writing = false;
  writer.join();
  asker.join();
  ASSERT_TRUE(dropped);
  host* next = cl.wait_leader("docs", 20s);
  ASSERT_NE(next, nullptr);
  std::set<uint64_t> have = ids(next->http, "docs");
  size_t lost = 0;
  for (auto id : acked) lost += have.count(id) ? 0 : 1;
  EXPECT_EQ(lost, 0u) << "of " << acked.size() << " points " << a.id << " acknowledged, the leader "
                      << next->id << " lacks " << lost;
}

}  // namespace
}  // namespace shoal
