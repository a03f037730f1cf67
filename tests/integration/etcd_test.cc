// The etcd client, watcher and lease keeper against a real etcd (Debian's etcd-server) that the
// test starts on loopback, kills and restarts.
#include <set>

#include <boost/asio/ip/tcp.hpp>
#include <gtest/gtest.h>

#include "replication/etcd/client.h"
#include "replication/etcd/lease_keeper.h"
#include "replication/etcd/watcher.h"
#include "tests/support/etcd_cluster_process.h"
#include "tests/support/etcd_process.h"
#include "tests/support/runtime_fixture.h"
#include "tests/support/tmpdir.h"

namespace shoal::etcd {
namespace {

using namespace std::chrono_literals;
using test::run_on_runtime;

class EtcdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(test::etcd_process::binary().empty())
        << "etcd is not installed (make deps installs Debian's etcd-server)";
    etcd_ = std::make_unique<test::etcd_process>(dir_ / "etcd");
  }
  std::unique_ptr<client> make_client(std::vector<std::string> endpoints = {},
                                      std::chrono::milliseconds timeout = 2s) {
    client_config cfg;
    cfg.endpoints = endpoints.empty() ? std::vector<std::string>{etcd_->endpoint()} : endpoints;
    cfg.request_timeout = timeout;
    auto c = client::create(cfg);
    EXPECT_TRUE(c.has_value());
    return c ? std::move(*c) : nullptr;
  }

  test::tmpdir dir_;
  std::unique_ptr<test::etcd_process> etcd_;
};

TEST_F(EtcdTest, RejectsEndpointsThatAreNotHttpUrls) {
  for (auto bad :
       {std::vector<std::string>{}, std::vector<std::string>{"127.0.0.1:2379"},
        std::vector<std::string>{"http://"}, std::vector<std::string>{"http://h:0"},
        std::vector<std::string>{"http://h:2379/v3"}, std::vector<std::string>{"https://h:2379"}}) {
    client_config cfg;
    cfg.endpoints = bad;
    auto c = client::create(cfg);
    ASSERT_FALSE(c.has_value());
    EXPECT_EQ(c.error(), errc::bad_config);
  }
}

TEST_F(EtcdTest, KeysPrefixesAndTransactions) {
  run_on_runtime(1, [&]() -> awaitable<void> {
    auto c = make_client();
    const std::string binary_key("bin\0\xff", 5);
    auto r1 = co_await c->put("shoal/a", "1");
    CO_ASSERT_TRUE(r1.has_value());
    auto r2 = co_await c->put("shoal/b", "2");
    CO_ASSERT_TRUE(r2.has_value());
    EXPECT_GT(*r2, *r1);
    CO_ASSERT_TRUE((co_await c->put(binary_key, std::string("\0v", 2))).has_value());
    CO_ASSERT_TRUE((co_await c->put("shoalx", "not in the prefix")).has_value());

    auto a = co_await c->get("shoal/a");
    CO_ASSERT_TRUE(a.has_value());
    CO_ASSERT_EQ(a->kvs.size(), 1u);
    EXPECT_EQ(a->kvs[0].value, "1");
    EXPECT_EQ(a->kvs[0].mod_revision, *r1);
    auto bin = co_await c->get(binary_key);
    CO_ASSERT_TRUE(bin.has_value() && bin->kvs.size() == 1);
    EXPECT_EQ(bin->kvs[0].value, std::string("\0v", 2));

    auto all = co_await c->get_prefix("shoal/");
    CO_ASSERT_TRUE(all.has_value());
    CO_ASSERT_EQ(all->kvs.size(), 2u);
    EXPECT_EQ(all->kvs[0].key, "shoal/a");
    EXPECT_EQ(all->kvs[1].key, "shoal/b");
    auto missing = co_await c->get("shoal/none");
    CO_ASSERT_TRUE(missing.has_value());
    EXPECT_TRUE(missing->kvs.empty());

    // Create-if-absent: the first wins, the second fails and reads the winner's value.
    auto first =
        co_await c->txn({compare::absent("shoal/leader")}, {txn_op::put("shoal/leader", "node-1")},
                        {txn_op::get("shoal/leader")});
    CO_ASSERT_TRUE(first.has_value());
    EXPECT_TRUE(first->succeeded);
    auto second =
        co_await c->txn({compare::absent("shoal/leader")}, {txn_op::put("shoal/leader", "node-2")},
                        {txn_op::get("shoal/leader")});
    CO_ASSERT_TRUE(second.has_value());
    EXPECT_FALSE(second->succeeded);
    CO_ASSERT_EQ(second->ranges.size(), 1u);
    CO_ASSERT_EQ(second->ranges[0].kvs.size(), 1u);
    EXPECT_EQ(second->ranges[0].kvs[0].value, "node-1");
    // Compare-and-swap on the revision: a stale revision loses.
    const int64_t rev = second->ranges[0].kvs[0].mod_revision;
    auto swap = co_await c->txn({compare::mod_revision_is("shoal/leader", rev)},
                                {txn_op::put("shoal/leader", "node-3")});
    CO_ASSERT_TRUE(swap.has_value());
    EXPECT_TRUE(swap->succeeded);
    auto stale = co_await c->txn({compare::mod_revision_is("shoal/leader", rev)},
                                 {txn_op::put("shoal/leader", "node-4")});
    CO_ASSERT_TRUE(stale.has_value());
    EXPECT_FALSE(stale->succeeded);

    CO_ASSERT_TRUE((co_await c->erase_prefix("shoal/")).has_value());
    auto after = co_await c->get_prefix("shoal/");
    CO_ASSERT_TRUE(after.has_value());
    EXPECT_TRUE(after->kvs.empty());
    auto other = co_await c->get("shoalx");
    CO_ASSERT_TRUE(other.has_value());
    EXPECT_EQ(other->kvs.size(), 1u);

    // etcd's own refusals come back as errors, not as answers.
    auto empty_key = co_await c->put("", "x");
    CO_ASSERT_TRUE(!empty_key.has_value());
    EXPECT_EQ(empty_key.error(), errc::rejected);
  });
}

TEST_F(EtcdTest, LeasesHoldWhileRefreshedAndTakeTheirKeysWhenRevoked) {
  run_on_runtime(1, [&]() -> awaitable<void> {
    auto c = make_client();
    auto keeper = co_await lease_keeper::start(*c, 2s);
    CO_ASSERT_TRUE(keeper.has_value());
    auto& k = **keeper;
    CO_ASSERT_TRUE((co_await c->put("leased", "x", k.id())).has_value());
    co_await test::sleep_for(5s);  // well past the TTL: only the refreshes keep it
    EXPECT_TRUE(k.holds());
    EXPECT_GE(k.refreshes(), 3u);
    EXPECT_LE(k.valid_until(), lease_keeper::clock::now() + 2s);
    auto kept = co_await c->get("leased");
    CO_ASSERT_TRUE(kept.has_value());
    EXPECT_EQ(kept->kvs.size(), 1u);
    co_await k.stop(/*revoke=*/true);
    EXPECT_FALSE(k.holds());
    auto gone = co_await c->get("leased");
    CO_ASSERT_TRUE(gone.has_value());
    EXPECT_TRUE(gone->kvs.empty());
    auto refresh = co_await c->keep_alive(k.id());
    CO_ASSERT_TRUE(!refresh.has_value());
    EXPECT_EQ(refresh.error(), errc::lease_not_found);

    // A lease nobody refreshes expires, and its key with it.
    auto g = co_await c->grant_lease(2s);
    CO_ASSERT_TRUE(g.has_value());
    CO_ASSERT_TRUE((co_await c->put("short", "x", g->id)).has_value());
    co_await test::sleep_for(3500ms);
    auto expired = co_await c->get("short");
    CO_ASSERT_TRUE(expired.has_value());
    EXPECT_TRUE(expired->kvs.empty());
  });
}

TEST_F(EtcdTest, ALeaseIsLostWhenEtcdIsGoneForItsTtl) {
  run_on_runtime(1, [&]() -> awaitable<void> {
    auto c = make_client({}, 500ms);
    auto keeper = co_await lease_keeper::start(*c, 2s);
    CO_ASSERT_TRUE(keeper.has_value());
    auto& k = **keeper;
    const auto killed = lease_keeper::clock::now();
    etcd_->kill();
    // The keeper must stop claiming the lease no later than a TTL after etcd last heard from
    // it, which was before the kill.
    const bool lost = co_await k.lost().wait(4s);
    EXPECT_TRUE(lost);
    EXPECT_FALSE(k.holds());
    EXPECT_LE(k.valid_until(), killed + 2s);
    co_await k.stop(false);
  });
}

TEST_F(EtcdTest, WatchDeliversEveryChangeInOrderAcrossAnEtcdRestart) {
  run_on_runtime(1, [&]() -> awaitable<void> {
    auto c = make_client();
    auto start = co_await c->put("w/start", "0");
    CO_ASSERT_TRUE(start.has_value());
    auto w = co_await watcher::start(*c, "w/", prefix_end("w/"), *start + 1);
    CO_ASSERT_TRUE(w.has_value());
    auto& watch = **w;

    std::vector<std::pair<watch_event::kind, std::string>> seen;
    int64_t last_revision = *start;
    auto collect = [&](size_t want) -> awaitable<bool> {
      while (seen.size() < want) {
        auto b = co_await watch.next(10s);
        if (!b) {
          ADD_FAILURE() << "watch: " << b.error().message() << " after " << seen.size();
          co_return false;
        }
        for (auto& e : b->events) {
          EXPECT_GT(e.kv.mod_revision, last_revision);  // in order, never repeated
          last_revision = e.kv.mod_revision;
          seen.emplace_back(e.k, e.kv.key);
        }
      }
      co_return true;
    };

    for (int i = 0; i < 50; ++i)
      CO_ASSERT_TRUE((co_await c->put("w/" + std::to_string(i), "v")).has_value());
    CO_ASSERT_TRUE((co_await c->erase("w/7")).has_value());
    CO_ASSERT_TRUE((co_await c->put("elsewhere", "v")).has_value());  // not watched
    CO_ASSERT_TRUE(co_await collect(51));
    EXPECT_EQ(seen[0].second, "w/0");
    EXPECT_EQ(seen[49].second, "w/49");
    EXPECT_EQ(seen[50].first, watch_event::kind::erase);
    EXPECT_EQ(seen[50].second, "w/7");

    // etcd goes away and comes back with the same data: the watch resumes where it stopped.
    etcd_->restart();
    for (int i = 50; i < 60; ++i) {
      result<int64_t> r = make_error_code(errc::unavailable);
      for (int attempt = 0; attempt < 50 && !r; ++attempt) {
        r = co_await c->put("w/" + std::to_string(i), "v");
        if (!r) co_await test::sleep_for(100ms);
      }
      CO_ASSERT_TRUE(r.has_value());
    }
    CO_ASSERT_TRUE(co_await collect(61));
    EXPECT_EQ(seen[51].second, "w/50");
    EXPECT_EQ(seen[60].second, "w/59");
    EXPECT_GE(watch.connections(), 2u);
    EXPECT_EQ(watch.next_revision(), last_revision + 1);

    // Nothing more: next() times out and the watch goes on.
    auto quiet = co_await watch.next(300ms);
    CO_ASSERT_TRUE(!quiet.has_value());
    EXPECT_EQ(quiet.error(), errc::timeout);
    co_await watch.stop();
    auto after = co_await watch.next(100ms);
    CO_ASSERT_TRUE(!after.has_value());
    EXPECT_EQ(after.error(), errc::canceled);
  });
}

TEST_F(EtcdTest, AWatchFromACompactedRevisionSaysSo) {
  run_on_runtime(1, [&]() -> awaitable<void> {
    auto c = make_client();
    auto first = co_await c->put("k", "1");
    CO_ASSERT_TRUE(first.has_value());
    auto second = co_await c->put("k", "2");
    CO_ASSERT_TRUE(second.has_value());
    auto compacted = co_await c->call("kv/compaction",
                                      "{\"revision\":\"" + std::to_string(*second) + "\"}", true);
    CO_ASSERT_TRUE(compacted.has_value());
    auto w = co_await watcher::start(*c, "k", "", *first);
    CO_ASSERT_TRUE(w.has_value());
    auto b = co_await (*w)->next(5s);
    CO_ASSERT_TRUE(!b.has_value());
    EXPECT_EQ(b.error(), errc::compacted);
    co_await (*w)->stop();
  });
}

TEST_F(EtcdTest, RequestsMoveToAnEndpointThatAnswers) {
  const auto dead = "http://127.0.0.1:" + std::to_string(test::free_port());
  run_on_runtime(1, [&]() -> awaitable<void> {
    auto c = make_client({dead, etcd_->endpoint()});
    auto r = co_await c->put("failover", "x");
    CO_ASSERT_TRUE(r.has_value());
    EXPECT_EQ("http://" + c->current_endpoint().authority, etcd_->endpoint());
    // A watch finds the live endpoint too.
    auto w = co_await watcher::start(*c, "failover", "", *r);
    CO_ASSERT_TRUE(w.has_value());
    auto b = co_await (*w)->next(5s);
    CO_ASSERT_TRUE(b.has_value());
    EXPECT_EQ(b->events.size(), 1u);
    co_await (*w)->stop();
  });
}

TEST_F(EtcdTest, ASilentEndpointTimesOut) {
  // Accepts connections (the kernel does, from the backlog) but never answers.
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor silent(
      ioc, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  const auto url = "http://127.0.0.1:" + std::to_string(silent.local_endpoint().port());
  run_on_runtime(1, [&]() -> awaitable<void> {
    auto c = make_client({url}, 300ms);
    const auto t0 = std::chrono::steady_clock::now();
    auto r = co_await c->get("x");
    const auto took = std::chrono::steady_clock::now() - t0;
    CO_ASSERT_TRUE(!r.has_value());
    EXPECT_EQ(r.error(), errc::timeout);
    EXPECT_LT(took, 2s);
    auto w = co_await watcher::start(*c, "x", "", 0);
    CO_ASSERT_TRUE(!w.has_value());
    EXPECT_EQ(w.error(), errc::timeout);
  });
}

// A 3-member etcd whose member 0 (first in the client's list, so preferred) is a follower, to be
// frozen with SIGSTOP while the other two keep the quorum.
class EtcdMemberFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(test::etcd_process::binary().empty()) << "etcd is not installed";
    etcd_ = std::make_unique<test::etcd_cluster_process>(dir_ / "etcd", 3);
    ASSERT_TRUE(etcd_->make_leader(1)) << "etcd's leadership did not move to member 1";
  }
  void TearDown() override {
    if (etcd_) etcd_->signal(0, SIGCONT);
  }
  std::unique_ptr<client> make_client(std::chrono::milliseconds timeout) {
    client_config cfg;
    cfg.endpoints = etcd_->endpoint_list();
    cfg.request_timeout = timeout;
    auto c = client::create(cfg);
    EXPECT_TRUE(c.has_value());
    return c ? std::move(*c) : nullptr;
  }
  std::string current(const client& c) { return "http://" + c.current_endpoint().authority; }

  test::tmpdir dir_;
  std::unique_ptr<test::etcd_cluster_process> etcd_;
};

TEST_F(EtcdMemberFaultTest, RequestsGoOnWithinTheirDeadlineWhenThePreferredMemberFreezes) {
  run_on_runtime(1, [&]() -> awaitable<void> {
    const auto deadline = 1s;
    auto c = make_client(deadline);
    auto g = co_await c->grant_lease(5s);
    CO_ASSERT_TRUE(g.has_value());
    CO_ASSERT_TRUE((co_await c->put("k", "0")).has_value());
    EXPECT_EQ(current(*c), etcd_->member(0).endpoint());

    etcd_->signal(0, SIGSTOP);
    // A transaction is never sent twice: the first one after the freeze goes to member 0, gets
    // no answer and fails as "maybe applied"; but it moves the client off member 0.
    auto lost = co_await c->txn({}, {txn_op::put("t", "lost")});
    CO_ASSERT_TRUE(!lost.has_value());
    EXPECT_EQ(lost.error(), errc::unavailable);
    EXPECT_NE(current(*c), etcd_->member(0).endpoint());
    auto txn = co_await c->txn({}, {txn_op::put("t", "kept")});
    CO_ASSERT_TRUE(txn.has_value());
    EXPECT_TRUE(txn->succeeded);
    auto grant = co_await c->grant_lease(5s);
    EXPECT_TRUE(grant.has_value());

    // A new client starts on member 0 again: idempotent requests move on within their deadline
    // (each failing here would have waited on member 0 for all of it).
    c = make_client(deadline);
    for (int i = 0; i < 10; ++i) {
      auto put = co_await c->put("k", std::to_string(i));
      EXPECT_TRUE(put.has_value()) << i << ": " << put.error().message();
      auto get = co_await c->get("k");
      CO_ASSERT_TRUE(get.has_value() && get->kvs.size() == 1);
      EXPECT_EQ(get->kvs[0].value, std::to_string(i));
      auto ka = co_await c->keep_alive(g->id);
      EXPECT_TRUE(ka.has_value());
      EXPECT_NE(current(*c), etcd_->member(0).endpoint());
    }
  });
}

TEST_F(EtcdMemberFaultTest, ALeaseOutlivesAFrozenPreferredMember) {
  run_on_runtime(1, [&]() -> awaitable<void> {
    // As shoald sets it up: the request deadline is half the lease's TTL.
    auto c = make_client(1s);
    auto keeper = co_await lease_keeper::start(*c, 2s);
    CO_ASSERT_TRUE(keeper.has_value());
    auto& k = **keeper;
    CO_ASSERT_TRUE((co_await c->put("leased", "x", k.id())).has_value());
    etcd_->signal(0, SIGSTOP);
    const bool lost = co_await k.lost().wait(8s);  // four TTLs
    EXPECT_FALSE(lost);
    EXPECT_TRUE(k.holds());
    auto kept = co_await c->get("leased");
    CO_ASSERT_TRUE(kept.has_value());
    EXPECT_EQ(kept->kvs.size(), 1u);
    co_await k.stop(/*revoke=*/true);
  });
}

TEST_F(EtcdMemberFaultTest, AWatchLeavesAFrozenMemberWithItsClient) {
  run_on_runtime(1, [&]() -> awaitable<void> {
    auto c = make_client(1s);
    auto start = co_await c->put("w/start", "0");
    CO_ASSERT_TRUE(start.has_value());
    auto w = co_await watcher::start(*c, "w/", prefix_end("w/"), *start + 1);
    CO_ASSERT_TRUE(w.has_value());
    etcd_->signal(0, SIGSTOP);
    size_t put = 0;
    while (put < 5 && (co_await c->put("w/" + std::to_string(put), "v")).has_value()) ++put;
    EXPECT_EQ(put, 5u);
    // Every key, in order of revision. A put that timed out on a slow (not frozen) member is
    // sent again to the next one and may be applied twice: the same key changed twice, so keys
    // are counted, not events.
    std::set<std::string> keys;
    int64_t last_revision = 0;
    while (keys.size() < put) {
      auto b = co_await (*w)->next(5s);
      if (!b) {
        ADD_FAILURE() << "watch: " << b.error().message() << " after " << keys.size() << " keys";
        break;
      }
      for (auto& e : b->events) {
        EXPECT_GT(e.kv.mod_revision, last_revision) << "no event twice, none out of order";
        last_revision = e.kv.mod_revision;
        keys.insert(e.kv.key);
      }
    }
    EXPECT_EQ(keys.size(), put);
    EXPECT_GE((*w)->connections(), 2u);
    co_await (*w)->stop();
  });
}

}  // namespace
}  // namespace shoal::etcd
